"""Reference data: DFT structures with energies, forces and stresses.

:func:`read_frames` reads an extended-XYZ file (or any format ASE reads) into
:class:`Frame` records, checking that every frame carries what is asked for
and that the numbers are finite. Units are ASE's: eV, eV/Å and eV/Å³ with
ASE's stress sign (tensile positive).
"""
from dataclasses import dataclass

import numpy as np
from ase.io import read

from ._files import is_path
from .evaluate import voigt


@dataclass(frozen=True, eq=False)
class Frame:
    """One reference structure.

    Attributes
    ----------
    atoms : ase.Atoms
        The structure, without a calculator.
    energy : float
        Total energy, eV.
    forces : ndarray, shape (n, 3)
        eV/Å.
    stress : ndarray, shape (6,) or None
        ASE Voigt stress, eV/Å³; None when the file has none.
    config_type : str
        ``atoms.info["config_type"]``, or ``"default"``.
    source : str
        ``file:index`` for error messages.
    """

    atoms: object
    energy: float
    forces: np.ndarray
    stress: object
    config_type: str
    source: str


def read_frames(path, index=":"):
    """Read reference frames from ``path``.

    Parameters
    ----------
    path : str or path-like
    index : str
        ASE index string of the frames to read.

    Returns
    -------
    list of Frame

    Raises
    ------
    ValueError
        Naming the file and frame index, for a frame without energy or
        forces, with non-finite values, or an empty file.
    """
    images = read(path, index)
    if not isinstance(images, list):
        images = [images]
    if not images:
        raise ValueError(f"{path}: no structures")
    frames = []
    for k, atoms in enumerate(images):
        source = f"{path}:{k}"
        if len(atoms) == 0:
            raise ValueError(f"{source}: frame has no atoms")
        calc = atoms.calc
        results = getattr(calc, "results", {}) if calc is not None else {}
        if "energy" not in results:
            raise ValueError(f"{source}: frame has no reference energy")
        if "forces" not in results:
            raise ValueError(f"{source}: frame has no reference forces")
        energy = float(results["energy"])
        forces = np.array(results["forces"], float)
        stress = results.get("stress")
        if stress is not None:
            stress = np.array(stress, float)
            if stress.shape == (3, 3):
                stress = voigt(stress)
        for name, value in (("energy", energy), ("forces", forces),
                            ("stress", 0.0 if stress is None else stress)):
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{source}: {name} contains NaN or infinite values")
        if forces.shape != (len(atoms), 3):
            raise ValueError(f"{source}: forces have shape {forces.shape}, "
                             f"expected ({len(atoms)}, 3)")
        clean = atoms.copy()
        clean.calc = None
        frames.append(Frame(clean, energy, forces, stress,
                            str(atoms.info.get("config_type", "default")), source))
    return frames


def frames_of(source):
    """Frames from a path, a list of paths, or a list of frames (returned as a list)."""
    if is_path(source):
        return read_frames(source)
    source = list(source)
    if source and all(is_path(x) for x in source):
        return [frame for path in source for frame in read_frames(path)]
    return source
