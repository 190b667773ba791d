"""Reference data: DFT structures with energies, forces and stresses.

:func:`read_frames` reads an extended-XYZ file (or any format ASE reads) into
:class:`Frame` records, checking that every frame carries what is asked for
and that the numbers are finite. Units are ASE's: eV, eV/Å and eV/Å³ with
ASE's stress sign (tensile positive).
"""
from dataclasses import dataclass, fields

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


@dataclass(frozen=True)
class FrameKeys:
    """Where a file keeps the reference values: keys of ``info``, ``arrays`` or results.

    Extended-XYZ files name them in several ways: ASE's own ``energy``,
    ``forces`` and ``stress`` (read into a calculator), MACE's and nequip's
    ``REF_energy``, ``REF_forces``, ``REF_stress`` or ``REF_virial``, or a
    data set's own (``force``, ``virial``). A key is looked up among the
    calculator results, then ``atoms.info``, then ``atoms.arrays``.

    Attributes
    ----------
    energy, forces : str
        Total energy (eV) and forces (n, 3) eV/Å; both required.
    stress : str
        ASE stress (Voigt 6 or 3 x 3), eV/Å³, tensile positive; optional
        when left at the default, required when named.
    virial : str or None
        Instead of a stress: the virial W (3 x 3, 9 or Voigt 6), eV, with the
        convention of MACE, nequip and the extended-XYZ files of GAP,
        ``W = -V σ``; it becomes the stress ``σ = -W / V``.
    config_type : str
        ``info`` key of the structure's group (``"default"`` where missing).
    """

    energy: str = "energy"
    forces: str = "forces"
    stress: str = "stress"
    virial: str = None
    config_type: str = "config_type"

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if not (isinstance(value, str) and value) and not (f.name == "virial" and value is None):
                raise ValueError(f"the {f.name} key must be a non-empty string, got {value!r}")
        if self.virial is not None and self.stress != "stress":
            raise ValueError("give a stress key or a virial key, not both")


def _lookup(atoms, results, key):
    """The value stored under ``key`` (results, then info, then arrays), or None."""
    for store in (results, atoms.info, atoms.arrays):
        if key in store:
            return store[key]
    return None


def _missing(source, what, key, atoms, results, option):
    """The error of a frame without ``what`` under ``key``, naming the keys it does have."""
    have = [f"{name}: {', '.join(sorted(store)) or 'none'}"
            for name, store in (("calculator results", results), ("info", atoms.info),
                                ("arrays", {k: 0 for k in atoms.arrays
                                            if k not in ("numbers", "positions")}))]
    return ValueError(f"{source}: frame has no reference {what} under the key {key!r} "
                      f"({'; '.join(have)}); name it with {option}")


def _stress_of(atoms, results, keys, source):
    """The frame's ASE stress (6,) eV/Å³ or None (see :class:`FrameKeys`)."""
    if keys.virial is not None:
        W = _lookup(atoms, results, keys.virial)
        if W is None:
            raise _missing(source, "virial", keys.virial, atoms, results, "--virial-key")
        W = np.array(W, float)
        W = W.reshape(3, 3) if W.size == 9 else W
        if W.shape not in ((3, 3), (6,)):
            raise ValueError(f"{source}: virial {keys.virial!r} has shape {W.shape}, expected "
                             "(3, 3), (9,) or (6,)")
        volume = abs(np.linalg.det(atoms.cell.array)) if atoms.cell.rank == 3 else 0.0
        if not volume > 0:
            raise ValueError(f"{source}: a virial needs a cell with a volume to become a stress")
        return -(voigt(W) if W.shape == (3, 3) else W) / volume
    stress = _lookup(atoms, results, keys.stress)
    if stress is None:
        if keys.stress != "stress":
            raise _missing(source, "stress", keys.stress, atoms, results, "--stress-key")
        return None
    stress = np.array(stress, float)
    stress = stress.reshape(3, 3) if stress.size == 9 else stress
    return voigt(stress) if stress.shape == (3, 3) else stress


def _frame(atoms, keys, source):
    """One :class:`Frame` of an ASE Atoms with reference values (see :func:`read_frames`)."""
    if len(atoms) == 0:
        raise ValueError(f"{source}: frame has no atoms")
    results = dict(getattr(atoms.calc, "results", {}) or {}) if atoms.calc is not None else {}
    energy = _lookup(atoms, results, keys.energy)
    if energy is None:
        raise _missing(source, "energy", keys.energy, atoms, results, "--energy-key")
    forces = _lookup(atoms, results, keys.forces)
    if forces is None:
        raise _missing(source, "forces", keys.forces, atoms, results, "--forces-key")
    try:
        energy = float(np.asarray(energy, float).reshape(()))
        forces = np.array(forces, float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{source}: energy or forces are not numbers ({err})") from err
    stress = _stress_of(atoms, results, keys, source)
    if forces.shape != (len(atoms), 3):
        raise ValueError(f"{source}: forces have shape {forces.shape}, expected ({len(atoms)}, 3)")
    if stress is not None and stress.shape != (6,):
        raise ValueError(f"{source}: stress has shape {stress.shape}, expected (6,) or (3, 3)")
    for name, value in (("energy", energy), ("forces", forces),
                        ("stress", 0.0 if stress is None else stress)):
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{source}: {name} contains NaN or infinite values")
    clean = atoms.copy()
    clean.calc = None
    return Frame(clean, energy, forces, stress, str(atoms.info.get(keys.config_type, "default")),
                 source)


def read_frames(path, index=":", keys=None):
    """Read reference frames from ``path``.

    Parameters
    ----------
    path : str or path-like
    index : str
        ASE index string of the frames to read.
    keys : FrameKeys, optional
        Where the file keeps energies, forces, stresses or virials and
        config types (default: ASE's names).

    Returns
    -------
    list of Frame

    Raises
    ------
    ValueError
        Naming the file and frame index, for a frame without energy or forces
        (listing the keys it has), with non-finite values, or an empty file.
    """
    keys = keys or FrameKeys()
    images = read(path, index)
    if not isinstance(images, list):
        images = [images]
    if not images:
        raise ValueError(f"{path}: no structures")
    return [_frame(atoms, keys, f"{path}:{k}") for k, atoms in enumerate(images)]


def frames_of(source, keys=None):
    """Frames from a path, a list of paths, or a list of frames (returned as a list)."""
    if is_path(source):
        return read_frames(source, keys=keys)
    source = list(source)
    if source and all(is_path(x) for x in source):
        return [frame for path in source for frame in read_frames(path, keys=keys)]
    return source
