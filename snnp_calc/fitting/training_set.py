"""Training frames packed for the loss kernels: atoms, pair lists and references, concatenated.

:func:`pack_frames` builds every frame's neighbour list once (the cutoff never
changes while fitting) through :func:`snnp_calc.evaluate.neighbour_pairs`, so
the checks of inference apply; :func:`predict_packed` evaluates a model on
all packed frames in one kernel call.
"""
from dataclasses import dataclass

import numpy as np

from ..evaluate import neighbour_pairs, notice_first_compile, voigt
from ..kernels.energy import single_point
from ..kernels.layout import LossData, Neighbours


@dataclass(eq=False)
class TrainingSet:
    """Frames packed for the kernels (atoms of structure s: ``n_off_s[s]:n_off_s[s+1]``)."""

    frames: list
    n_off_s: np.ndarray
    first_n: np.ndarray
    i_p: np.ndarray
    j_p: np.ndarray
    D_pc: np.ndarray
    species_n: np.ndarray
    E_ref_s: np.ndarray
    F_ref_nc: np.ndarray
    S_ref_sv: np.ndarray
    has_stress_s: np.ndarray
    vol_s: np.ndarray
    cutoff: float

    @property
    def n_structures(self):
        return len(self.frames)

    def loss_data(self, wE_s, wF_s, wS_s):
        """The set as :class:`~snnp_calc.kernels.layout.LossData`, with these structure weights."""
        return LossData(*self.neighbours, self.n_off_s, self.E_ref_s, self.F_ref_nc, self.S_ref_sv,
                        self.has_stress_s, wE_s, wF_s, wS_s, self.vol_s)

    @property
    def neighbours(self):
        """The atoms and pairs as :class:`~snnp_calc.kernels.layout.Neighbours`."""
        return Neighbours(self.i_p, self.j_p, self.D_pc, self.first_n, self.species_n)


def pack_frames(frames, species, cutoff):
    """Concatenate frames and their neighbour lists for the loss kernels.

    Raises
    ------
    ValueError
        For an element not in ``species`` (naming the frame), or coincident atoms.
    """
    lookup = {sym: a for a, sym in enumerate(species)}
    n_off, i_parts, j_parts, D_parts, counts = [0], [], [], [], []
    species_n, vol, stresses, stress_flags = [], [], [], []
    if not frames:
        raise ValueError("no structures to fit")
    for frame in frames:
        atoms = frame.atoms
        if len(atoms) == 0:
            raise ValueError(f"{frame.source}: frame has no atoms")
        unknown = sorted(set(atoms.get_chemical_symbols()) - set(lookup))
        if unknown:
            raise ValueError(f"{frame.source}: element(s) {', '.join(unknown)} not in the model "
                             f"(species: {', '.join(species)})")
        try:
            i, j, _, D = neighbour_pairs(atoms.positions, atoms.cell.array, atoms.pbc, cutoff)
        except ValueError as err:
            raise ValueError(f"{frame.source}: {err}") from err
        i_parts.append(i + n_off[-1])
        j_parts.append(j + n_off[-1])
        D_parts.append(D)
        counts.append(np.bincount(i, minlength=len(atoms)))
        species_n.extend(lookup[s] for s in atoms.get_chemical_symbols())
        n_off.append(n_off[-1] + len(atoms))
        periodic = atoms.cell.rank == 3 and atoms.pbc.all()
        vol.append(atoms.get_volume() if periodic else 0.0)
        stress_flags.append(has_stress(frame))
        stresses.append(frame.stress if stress_flags[-1] else np.zeros(6))
    first_n = np.zeros(n_off[-1] + 1, np.int64)
    np.cumsum(np.concatenate(counts), out=first_n[1:])
    return TrainingSet(
        list(frames), np.array(n_off, np.int64), first_n, np.concatenate(i_parts),
        np.concatenate(j_parts), np.ascontiguousarray(np.concatenate(D_parts)),
        np.array(species_n, np.int64), np.array([f.energy for f in frames]),
        np.ascontiguousarray(np.concatenate([f.forces for f in frames])),
        np.array(stresses, float), np.array(stress_flags), np.array(vol), float(cutoff))


def predict_packed(model, data):
    """Predictions of ``model`` for every structure of a :class:`TrainingSet`, in one kernel call.

    Returns
    -------
    E_s : ndarray, shape (n_s,)
        Energies, eV.
    F_nc : ndarray, shape (n, 3)
        Forces, eV/Å.
    S_sv : ndarray, shape (n_s, 6)
        ASE stresses (Voigt), eV/Å³; zero for structures that are not 3D-periodic.
    G_nf : ndarray, shape (n, K)
        Descriptors.
    """
    notice_first_compile(single_point)
    E_n, F_nc, W_ncc, G_nf = single_point(data.i_p, data.j_p, data.D_pc, data.species_n,
                                          model.kernel_model, True)
    starts = data.n_off_s[:-1]
    W_scc = np.add.reduceat(W_ncc, starts, axis=0)
    W_sv = voigt(W_scc)
    S_sv = np.divide(W_sv, data.vol_s[:, None], out=np.zeros_like(W_sv),
                     where=data.vol_s[:, None] > 0)
    return np.add.reduceat(E_n, starts), F_nc, S_sv, G_nf


def has_stress(frame):
    """Whether a frame's stress enters the loss: a reference stress on a 3D-periodic cell."""
    return frame.stress is not None and frame.atoms.cell.rank == 3 and bool(frame.atoms.pbc.all())
