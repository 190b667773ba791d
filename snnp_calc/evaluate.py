"""Energy, forces and virials of one configuration: arrays in, arrays out.

:func:`evaluate` builds the neighbour list with matscipy
(:func:`neighbour_pairs`; pair vectors ``D_pc = r_j - r_i + S_p . cell``
carry their periodic image shift, so the virial never uses wrapped
positions) and runs the kernels once (:func:`evaluate_pairs`, through
:func:`snnp_calc.kernels.energy.single_point`). A committee's members share
one neighbour list (:func:`evaluate_committee`). Shapes: n atoms, p pairs,
``_c`` Cartesian.
"""
import logging
from pathlib import Path

import numpy as np
from matscipy.neighbours import neighbour_list

from .kernels.energy import atom_scratch, single_point, single_point_into
from .kernels.layout import VOIGT_VD
from .kernels.neighbours import largest_move, pairs_within

LOG = logging.getLogger("snnp_calc")
_COMPILED = {"told": False}

# Below this many atoms the thread start-up costs more than it saves.
PARALLEL_MIN_ATOMS = 64

# Below this many atoms the kernels make their own work arrays (KernelScratch): handing kept
# ones in costs more than new ones, whose few pages the allocator reuses.
KEEP_SCRATCH_MIN_ATOMS = 64

# Pairs closer than this (Å) are treated as coincident atoms.
MIN_DISTANCE = 1e-6


def evaluate(model, numbers, positions, cell, pbc, parallel=None, species_n=None,
             pair_list=None, scratch=None):
    """Energy, per-atom energies, forces and virials of one configuration.

    Parameters
    ----------
    model : snnp_calc.model.model.Model
    numbers : array_like of int, shape (n,)
        Atomic numbers.
    positions : array_like, shape (n, 3)
        Cartesian positions, Å.
    cell : array_like, shape (3, 3)
        Cell vectors as rows, Å. Only its periodic directions matter.
    pbc : array_like of bool, shape (3,)
    parallel : bool or None
        Run the atom loop on all Numba threads; ``None`` chooses by size.
    species_n : ndarray of int64, shape (n,), optional
        ``model.species_indices(numbers)``, if the caller already has it (the
        calculator keeps it while the numbers do not change).
    pair_list : PairList, optional
        A neighbour list with a skin to reuse between calls (MD, relaxations);
        default: a new list at the cutoff.
    scratch : KernelScratch, optional
        The kernels' work arrays to reuse between calls; default: new ones.

    Returns
    -------
    dict
        ``energy`` (eV), ``energies`` (n,) eV, ``forces`` (n, 3) eV/Å,
        ``virial`` (3, 3) eV and ``virials`` (n, 3, 3) eV, where
        ``virial = sum_p dE/dD_p ⊗ D_p = dE/d(strain)``, so that ASE's stress
        (tensile positive) is ``virial / volume``; ``descriptors`` (n, K).

    Raises
    ------
    ValueError
        For an element the model does not have, non-finite positions or
        coincident atoms.
    """
    if species_n is None:
        species_n = model.species_indices(numbers)
    if pair_list is None:
        pairs = neighbour_pairs(positions, cell, pbc, model.cutoff)
    else:
        pairs = pair_list.pairs(positions, cell, pbc, model.cutoff)
    return evaluate_pairs(model, pairs, species_n, parallel, scratch)


def notice_first_compile(kernel):
    """Say once, through ``logging``, that a kernel without an on-disk cache is about to compile.

    Numba compiles the kernels on their first call and caches the machine
    code next to the package (``kernel.stats.cache_path``); the first call
    after an installation takes about half a minute, later ones load the
    cache. ``snnp warmup`` compiles everything ahead.
    """
    if _COMPILED["told"] or kernel.signatures:
        return
    _COMPILED["told"] = True
    name = kernel.py_func.__module__.rsplit(".", 1)[-1] + "." + kernel.__name__
    if not any(Path(kernel.stats.cache_path).glob(f"{name}-*.nbi")):
        LOG.warning("snnp_calc: compiling the Numba kernels for their first use (about half a "
                    "minute, once; cached in %s). 'snnp warmup' does it ahead.",
                    kernel.stats.cache_path)


class KernelScratch:
    """The kernels' work arrays, kept between the calls of one calculator.

    The kernels keep about 190 B per pair and 16 B per atom and readout input of
    intermediate values (:func:`snnp_calc.kernels.energy.atom_scratch`).
    Arrays new in every call are first touched by the kernel, page by page:
    on rattled bcc Mo (2000 atoms, one thread) those page faults cost
    2.6 µs per atom of a 9.2 µs kernel. Kept arrays get 10 % headroom, so that
    the pair count of a skin list, which drifts in MD, does not reallocate
    them; one set per model layout (a committee's members may differ). They
    never shrink: a calculator keeps the arrays of the largest structure it saw.
    """

    HEADROOM = 1.1

    def __init__(self):
        self._by_layout = {}

    def arrays(self, km, n, n_pairs):
        """An :class:`~snnp_calc.kernels.layout.AtomScratch` for at least n atoms and
        ``n_pairs`` pairs of the kernel model ``km``."""
        layout = kernel_layout(km)
        ws = self._by_layout.get(layout)
        if ws is None or len(ws.E_n) < n or len(ws.r_p) < n_pairs:
            ws = atom_scratch(int(n * self.HEADROOM) + 1, int(n_pairs * self.HEADROOM) + 1,
                              *layout)
            self._by_layout[layout] = ws
        return ws


def kernel_layout(km):
    """The sizes that shape a kernel model's work arrays: K_rho, K_t, K_l and the readout
    inputs of the Legendre filters."""
    return km.n_rho, km.n_triplet, km.n_legendre, len(km.a_oyg)


class PairList:
    """A neighbour list with a skin, rebuilt only when it can no longer be trusted.

    Built with matscipy at ``cutoff + skin``, with every pair's image shift;
    reused (:func:`snnp_calc.kernels.neighbours.pairs_within` then keeps the
    pairs within the cutoff at the current positions) until an atom has
    moved more than half the skin since the build, or the cell, pbc, the
    number of atoms or the cutoff changed. The pairs equal those of a fresh
    list, so results agree with one to round-off.

    Parameters
    ----------
    skin : float
        Å, > 0.
    """

    def __init__(self, skin):
        if not (np.isfinite(skin) and skin > 0):
            raise ValueError(f"the neighbour-list skin must be a positive length (Å), got {skin!r}")
        self.skin = float(skin)
        self.key = None
        self.builds = 0

    def pairs(self, positions, cell, pbc, cutoff):
        """``(i_p, j_p, d_p, D_pc)`` within ``cutoff`` at ``positions`` (see :func:`neighbour_pairs`)."""
        positions = np.ascontiguousarray(positions, dtype=np.float64)
        if len(positions) == 0:
            return neighbour_pairs(positions, cell, pbc, cutoff)
        cell = np.asarray(cell, dtype=np.float64)
        pbc = np.asarray(pbc, dtype=bool)
        key = (len(positions), cell.tobytes(), pbc.tobytes(), float(cutoff))
        moved = np.inf if key != self.key else largest_move(positions, self.reference)
        if not moved <= (0.5 * self.skin) ** 2:
            # also a NaN position (moved is NaN): the fresh build names the problem
            self.i_p, self.j_p, _, _, self.S_pc = neighbour_pairs(positions, cell, pbc,
                                                                  cutoff + self.skin, True)
            self.key, self.reference, self.builds = key, positions.copy(), self.builds + 1
            # the key holds the cell and pbc, so the image vectors stay valid with it
            self.cell_cc, _ = neighbour_cell(positions, cell, pbc)
        out = pairs_within(self.i_p, self.j_p, self.S_pc, positions, self.cell_cc,
                           float(cutoff))
        _check_coincident(*out)
        return out


def _check_coincident(i_p, j_p, d_p, D_pc):
    """Raise ValueError naming two atoms closer than :data:`MIN_DISTANCE`."""
    if len(d_p) and d_p.min() < MIN_DISTANCE:
        p = int(np.argmin(d_p))
        raise ValueError(f"atoms closer than {MIN_DISTANCE} Å: atoms {i_p[p]} and {j_p[p]} "
                         f"coincide (distance {d_p[p]:.3g} Å)")


def neighbour_pairs(positions, cell, pbc, cutoff, shifts=False):
    """matscipy's neighbour list, checked, as the kernels take it.

    Returns
    -------
    i_p, j_p : ndarray of int64, shape (P,)
        Pairs (i, j) within ``cutoff`` (Å), sorted by i, then j, then image
        shift; each pair appears from both ends.
    d_p : ndarray, shape (P,)
        Distances, Å.
    D_pc : ndarray, shape (P, 3)
        ``r_j - r_i`` including the periodic image shift, Å.
    S_pc : ndarray of int64, shape (P, 3)
        With ``shifts``: the image shifts, ``D_p = r_j - r_i + S_p . cell``.

    Raises
    ------
    ValueError
        For non-finite positions or coincident atoms.
    """
    positions = np.ascontiguousarray(positions, dtype=np.float64)
    if not np.isfinite(positions).all():
        raise ValueError("positions must be finite")
    if len(positions) == 0:
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros((0, 3)))
        return empty + (np.zeros((0, 3), np.int64),) if shifts else empty
    pbc = np.asarray(pbc, dtype=bool)
    cell, origin = neighbour_cell(positions, np.asarray(cell, dtype=np.float64), pbc)
    i_p, j_p, d_p, D_pc, S_pc = neighbour_list("ijdDS", positions=positions, cell=cell, pbc=pbc,
                                               cutoff=cutoff, cell_origin=origin)
    _check_coincident(i_p, j_p, d_p, D_pc)
    # one order for a given set of pairs (matscipy's within an atom depends on its binning,
    # hence on the cutoff and the positions): a reused skin list then sums every term in
    # the order a fresh list does, and gives the same bits
    order = np.lexsort((S_pc[:, 2], S_pc[:, 1], S_pc[:, 0], j_p, i_p))
    i_p, j_p, d_p, D_pc, S_pc = i_p[order], j_p[order], d_p[order], D_pc[order], S_pc[order]
    out = (np.ascontiguousarray(i_p, dtype=np.int64), np.ascontiguousarray(j_p, dtype=np.int64),
           d_p, np.ascontiguousarray(D_pc, dtype=np.float64))
    return out + (np.ascontiguousarray(S_pc, dtype=np.int64),) if shifts else out


def evaluate_pairs(model, pairs, species_n, parallel=None, scratch=None):
    """:func:`evaluate` on a neighbour list of :func:`neighbour_pairs`.

    ``pairs`` may reach beyond ``model.cutoff`` (a committee builds one list
    for its members): the farther pairs are dropped, as a list built at the
    model's cutoff would not have them.
    """
    i_p, j_p, d_p, D_pc = pairs
    n = len(species_n)
    if n == 0:
        K = model.n_filters
        return dict(energy=0.0, energies=np.zeros(0), forces=np.zeros((0, 3)),
                    virial=np.zeros((3, 3)), virials=np.zeros((0, 3, 3)),
                    descriptors=np.zeros((0, K)))
    if len(d_p) and d_p.max() >= model.cutoff:
        keep = d_p < model.cutoff
        i_p, j_p, D_pc = i_p[keep], j_p[keep], D_pc[keep]
    if parallel is None:
        parallel = n >= PARALLEL_MIN_ATOMS
    notice_first_compile(single_point)
    # one kernel call: for a few atoms, Numba's per-call cost is much of the total
    km = model.kernel_model
    if scratch is None or n < KEEP_SCRATCH_MIN_ATOMS:
        E_n, F_nc, W_ncc, G_nf = single_point(i_p, j_p, D_pc, species_n, km, bool(parallel))
    else:
        E_n, F_nc, W_ncc, G_nf = single_point_into(i_p, j_p, D_pc, species_n, km,
                                                   bool(parallel), scratch.arrays(km, n, len(i_p)))
    energy, virial = E_n.sum(), W_ncc.sum(axis=0)
    # one sum finds any NaN or infinity among them
    if not np.isfinite(energy + F_nc.sum() + virial.sum()):
        raise ValueError("the model gives non-finite energies or forces for this structure "
                         f"(energy {energy!r}); it lies far outside what the model knows")
    return dict(energy=float(energy), energies=E_n, forces=F_nc, virial=virial,
                virials=W_ncc, descriptors=G_nf)


def evaluate_committee(committee, numbers, positions, cell, pbc, parallel=None,
                       pair_list=None, scratch=None):
    """Mean of the members' :func:`evaluate` and their spread.

    Returns
    -------
    dict
        The keys of :func:`evaluate`, averaged over
        members, plus ``energy_std`` (eV), ``energies_std`` (n,) eV and
        ``forces_std`` (n, 3) eV/Å: standard deviations over members, ddof=1.
        ``descriptors`` (n, K) are member 0's: each member has its own
        filters, so their descriptors are not averaged.
    """
    # one neighbour list at the largest cutoff; each member drops the pairs beyond its own
    pairs = (neighbour_pairs(positions, cell, pbc, committee.cutoff) if pair_list is None
             else pair_list.pairs(positions, cell, pbc, committee.cutoff))
    species_n = committee.species_indices(numbers)
    runs = [evaluate_pairs(m, pairs, species_n, parallel, scratch) for m in committee.members]
    out = {key: np.mean([r[key] for r in runs], axis=0) for key in runs[0]
           if key != "descriptors"}
    out["energy"] = float(out["energy"])
    out["descriptors"] = runs[0]["descriptors"]
    for key in ("energy", "energies", "forces"):
        out[key + "_std"] = np.std([r[key] for r in runs], axis=0, ddof=1)
    out["energy_std"] = float(out["energy_std"])
    return out


def stress_volume(cell, pbc):
    """The volume (Å³) a stress is divided by, or None where there is none.

    A cell with three non-zero vectors has a volume, which a stress needs
    (ASE's convention, for slabs and clusters in a box too); coplanar or
    missing vectors give none, so no stress, unless the cell is periodic in
    all three directions, which then is an error.

    Raises
    ------
    ValueError
        For non-finite cell entries, or a fully periodic cell without volume.
    """
    cell = np.asarray(cell, dtype=np.float64)
    if not np.isfinite(cell).all():
        raise ValueError(f"the cell {cell.tolist()} has non-finite entries")
    pbc = np.asarray(pbc, dtype=bool)
    volume = abs(np.linalg.det(cell)) if cell.any(axis=1).all() else 0.0
    if volume > 1e-9 * max(np.abs(cell).max(), 1.0) ** 3:
        return volume
    if pbc.all():
        raise ValueError(f"the cell {cell.tolist()} is periodic in all three directions but "
                         "spans no volume (a zero or a linearly dependent vector)")
    return None


def neighbour_cell(positions, cell, pbc):
    """Cell and origin to give matscipy.

    matscipy needs an invertible cell. A cluster gets the box around its atoms
    (its own shrink-wrapping fails for planar or linear clusters). Otherwise
    the zero-length vectors ASE allows in non-periodic directions are replaced
    by unit vectors orthogonal to the periodic ones: nothing crosses a
    non-periodic face, so their length does not matter.
    """
    if not pbc.any():
        return np.diag(np.ptp(positions, axis=0) + 1.0), positions.min(axis=0)
    # Fast path for an ordinary cell: a cofactor determinant this far above the
    # threshold below puts LU's above it too, so the decision is the same.
    (a, b, c), (d, e, f), (g, h, i) = cell.tolist()
    det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    if abs(det) > 1e-6 * max(1.0, abs(a), abs(b), abs(c), abs(d), abs(e), abs(f), abs(g),
                             abs(h), abs(i)) ** 3:
        return cell, None
    scale = max(np.abs(cell).max(), 1.0)
    if abs(np.linalg.det(cell)) > 1e-9 * scale ** 3:
        return cell, None
    q, _ = np.linalg.qr(cell[pbc].T, mode="complete")
    cell = cell.copy()
    for extra, c in enumerate(np.flatnonzero(~pbc)):
        cell[c] = q[:, pbc.sum() + extra]
    if abs(np.linalg.det(cell)) <= 1e-9 * scale ** 3:
        raise ValueError(f"the periodic cell vectors {cell[pbc].tolist()} are linearly dependent")
    return cell, None


# Flat (row-major) indices of the Voigt components of a 3x3 tensor, and of their transposes.
_VOIGT = 3 * VOIGT_VD[:, 0] + VOIGT_VD[:, 1]
_VOIGT_T = 3 * VOIGT_VD[:, 1] + VOIGT_VD[:, 0]


def voigt(W_cc):
    """Symmetrised Voigt form (xx, yy, zz, yz, xz, xy) of (..., 3, 3) tensors.

    Component ``ab`` is ``0.5 * (W_ab + W_ba)``.
    """
    W_cc = np.asarray(W_cc)
    W_c9 = W_cc.reshape(W_cc.shape[:-2] + (9,))
    return 0.5 * (W_c9.take(_VOIGT, axis=-1) + W_c9.take(_VOIGT_T, axis=-1))
