"""Training frames packed for the loss kernels: atoms, pair lists and references, concatenated.

:func:`pack_frames` builds every frame's neighbour list once (the cutoff never
changes while fitting) through :func:`snnp_calc.evaluate.neighbour_pairs`, so
the checks of inference apply; :func:`predict_packed` evaluates a model on
all packed frames in one kernel call.

A data-parallel fit (:mod:`snnp_calc.fitting.parallel`) packs one block of
the structures per rank; the set's :class:`Block` says where it sits in the
whole training set, whose sizes normalise the loss. :func:`check_memory`
stops a fit before packing data that would not fit in memory.
"""
from dataclasses import dataclass

import numpy as np

from ..evaluate import neighbour_pairs, notice_first_compile, voigt
from ..kernels.energy import single_point
from ..kernels.layout import LossData, Neighbours


@dataclass(frozen=True)
class Block:
    """Where a packed set's structures sit in the whole training set.

    ``s0`` and ``n0`` index its first structure and first atom in the whole
    set; ``n_structures``, ``n_atoms`` and ``n_stressed`` (structures with a
    stress label) count the whole set.
    """

    s0: int
    n0: int
    n_structures: int
    n_atoms: int
    n_stressed: int


def block_of(frames, part=slice(None)):
    """The :class:`Block` of ``frames[part]`` (a contiguous slice) within ``frames``."""
    start = part.indices(len(frames))[0]
    return Block(start, sum(len(f.atoms) for f in frames[:start]), len(frames),
                 sum(len(f.atoms) for f in frames), sum(has_stress(f) for f in frames))


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
    block: Block

    @property
    def n_structures(self):
        return len(self.frames)

    def loss_data(self, wE_s, wF_s, wS_s):
        """The set as :class:`~snnp_calc.kernels.layout.LossData`, with these structure weights."""
        return LossData(*self.neighbours, self.n_off_s, self.E_ref_s, self.F_ref_nc, self.S_ref_sv,
                        self.has_stress_s, wE_s, wF_s, wS_s, self.vol_s)

    def atoms_of(self, structures):
        """Indices of the atoms of ``structures`` (sorted structure indices), in order."""
        structures = np.asarray(structures, np.int64)
        return _ranges(self.n_off_s[structures], np.diff(self.n_off_s)[structures])

    def subset(self, structures):
        """The structures ``structures`` (sorted indices) of this set, repacked without a
        neighbour-list pass: their atoms and pairs are cut out of the packed arrays.

        The subset is a set of its own (its :class:`Block` is itself, weights
        normalised on it); its arrays are copies.
        """
        structures = np.asarray(structures, np.int64)
        n_s = np.diff(self.n_off_s)[structures]
        atoms_n = self.atoms_of(structures)
        pairs_n = np.diff(self.first_n)[atoms_n]
        pairs_p = _ranges(self.first_n[atoms_n], pairs_n)
        renumber = np.full(len(self.species_n), -1, np.int64)
        renumber[atoms_n] = np.arange(len(atoms_n))
        frames = [self.frames[k] for k in structures]
        first_n = np.zeros(len(atoms_n) + 1, np.int64)
        np.cumsum(pairs_n, out=first_n[1:])
        n_off_s = np.zeros(len(structures) + 1, np.int64)
        np.cumsum(n_s, out=n_off_s[1:])
        return TrainingSet(
            frames, n_off_s, first_n, renumber[self.i_p[pairs_p]], renumber[self.j_p[pairs_p]],
            self.D_pc[pairs_p], self.species_n[atoms_n], self.E_ref_s[structures],
            self.F_ref_nc[atoms_n], self.S_ref_sv[structures], self.has_stress_s[structures],
            self.vol_s[structures], self.cutoff, block_of(frames))

    @property
    def neighbours(self):
        """The atoms and pairs as :class:`~snnp_calc.kernels.layout.Neighbours`."""
        return Neighbours(self.i_p, self.j_p, self.D_pc, self.first_n, self.species_n)


# Stages that estimate from the data rather than fit to it (the preset's ranges, input
# scales and linear start) read at most about this many atoms of it (spread_sample).
SAMPLE_ATOMS = 30000
# The memory check samples this many atoms for the pairs per atom, and leaves the rest of
# the available memory to the start, the optimiser and the reports.
ESTIMATE_ATOMS = 3000
MEMORY_FRACTION = 0.8


def _ranges(starts, lengths):
    """Concatenated ``arange(start, start + length)`` for each pair, as one index array."""
    total = int(lengths.sum())
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(total, dtype=np.int64) + offsets


def spread_sample(frames, max_atoms):
    """Indices (sorted) of at most about ``max_atoms`` atoms' worth of ``frames``, spread evenly.

    All of them when they hold no more atoms than that. Otherwise every m-th
    frame in order (m the smallest stride that fits), plus the first frame
    that holds each element the stride missed, so that every species stays
    in the sample. For stages that estimate from the data rather than fit
    to it (the linear start, the preconditioner), whose cost grows with the data.
    """
    n_atoms = np.array([len(f.atoms) for f in frames])
    if n_atoms.sum() <= max_atoms:
        return np.arange(len(frames))
    stride = int(np.ceil(n_atoms.sum() / max_atoms))
    chosen = set(range(0, len(frames), stride))
    seen = set()
    for k in sorted(chosen):
        seen.update(frames[k].atoms.numbers.tolist())
    for k, frame in enumerate(frames):
        missing = set(frame.atoms.numbers.tolist()) - seen
        if missing:
            chosen.add(k)
            seen |= missing
    return np.array(sorted(chosen), np.int64)


def pack_frames(frames, species, cutoff, block=None):
    """Concatenate frames and their neighbour lists for the loss kernels.

    ``block`` places ``frames`` in a larger training set (default: they are the whole set).

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
        np.array(stresses, float), np.array(stress_flags), np.array(vol), float(cutoff),
        block or block_of(frames))


def memory_estimate(n_atoms, n_pairs, n_structures, model):
    """Bytes a packed set of this size and its :class:`Workspace` take, for ``model``'s layout.

    Counts the arrays of :class:`~snnp_calc.fitting.training_set.TrainingSet`
    and :class:`~snnp_calc.fitting.loss.Workspace` (8-byte numbers), which grow with the pairs within
    the cutoff: about 260 bytes per pair for the ``s-nnp`` preset.
    """
    K_r, K_t, K_l = len(model.rho), len(model.f), len(model.legendre)
    K = K_r + K_t + len(model.kernel_model.a_oyg)
    # packed i, j, D; scratch r, u, f, df, drho, dphi, dE, fl, dfl; loss delta, rdot
    per_pair = 5 + (1 + 3 + 2 * K_t + K_r + 1 + 3 + 2 * K_l) + 4
    # packed first_n, species, F_ref; scratch G, dR, E; loss F
    per_atom = 5 + 2 * K + 1 + 3
    # packed n_off, E_ref, S_ref, has_stress, vol, three weights; loss E, S, loss
    per_structure = 14 + 8
    return 8 * (per_pair * n_pairs + per_atom * n_atoms + per_structure * n_structures)


def available_memory():
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return 1024 * int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_memory(frames, model, name, sharing=1):
    """Stop before packing ``frames`` if their packed set would not fit in memory.

    The pairs per atom come from a spread sample of the frames (a few thousand
    atoms), the bytes per pair and atom from :func:`memory_estimate`; ``sharing``
    processes (MPI ranks on one node) divide the available memory among them.
    """
    sample = pack_frames([frames[k] for k in spread_sample(frames, ESTIMATE_ATOMS)],
                         model.species, model.cutoff)
    n_atoms = sum(len(f.atoms) for f in frames)
    per_atom = len(sample.i_p) / len(sample.species_n)
    need = memory_estimate(n_atoms, per_atom * n_atoms, len(frames), model)
    have = available_memory()
    if have is not None:
        have /= sharing
    if have is not None and need > MEMORY_FRACTION * have:
        raise ValueError(
            f"the packed {name} set would take about {need / 1e9:.1f} GB ({n_atoms} atoms, "
            f"{per_atom:.0f} pairs per atom within the cutoff of {model.cutoff:g} Å), more than "
            f"{MEMORY_FRACTION:.0%} of the {have / 1e9:.1f} GB available"
            + (f" to each of the {sharing} ranks on this node" if sharing > 1 else "")
            + ": fit fewer or smaller "
            "structures, a shorter cutoff, or share the data over MPI ranks on more machines "
            "(mpiexec -n N snnp fit ...)")


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
