"""Energy, forces and virials of one configuration: arrays in, arrays out.

:func:`evaluate` builds the neighbour list with matscipy (pair vectors
``D_pc = r_j - r_i + S_p . cell`` carry their periodic image shift, so the
virial never uses wrapped positions) and runs the kernels of
:mod:`snnp_calc.kernels` once. Shapes: n atoms, ``_c`` Cartesian.
"""
import numpy as np
from matscipy.neighbours import neighbour_list

from . import kernels

# Below this many atoms the thread start-up costs more than it saves.
PARALLEL_MIN_ATOMS = 64

# Pairs closer than this (Å) are treated as coincident atoms.
MIN_DISTANCE = 1e-6


def evaluate(model, numbers, positions, cell, pbc, parallel=None):
    """Energy, per-atom energies, forces and virials of one configuration.

    Parameters
    ----------
    model : snnp_calc.model.Model
    numbers : array_like of int, shape (n,)
        Atomic numbers.
    positions : array_like, shape (n, 3)
        Cartesian positions, Å.
    cell : array_like, shape (3, 3)
        Cell vectors as rows, Å. Only its periodic directions matter.
    pbc : array_like of bool, shape (3,)
    parallel : bool or None
        Run the atom loop on all Numba threads; ``None`` chooses by size.

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
    positions = np.ascontiguousarray(positions, dtype=np.float64)
    n = len(positions)
    species_n = model.species_indices(numbers)
    if not np.all(np.isfinite(positions)):
        raise ValueError("positions must be finite")
    pbc = np.asarray(pbc, dtype=bool)
    cell = np.asarray(cell, dtype=np.float64)
    if n == 0:
        K = len(model.rho) + len(model.f)
        return dict(energy=0.0, energies=np.zeros(0), forces=np.zeros((0, 3)),
                    virial=np.zeros((3, 3)), virials=np.zeros((0, 3, 3)),
                    descriptors=np.zeros((0, K)))
    cell, origin = neighbour_cell(positions, cell, pbc)
    i_p, j_p, d_p, D_pc = neighbour_list("ijdD", positions=positions, cell=cell, pbc=pbc,
                                         cutoff=model.cutoff, cell_origin=origin)
    if len(d_p) and d_p.min() < MIN_DISTANCE:
        p = int(np.argmin(d_p))
        raise ValueError(f"atoms {i_p[p]} and {j_p[p]} coincide (distance {d_p[p]:.3g} Å)")
    # offsets of each atom's block of i-sorted pairs; matscipy's first_neighbours
    # would do this too, but it leaked ~5 kB per call here (matscipy 1.3.1)
    first_n = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(i_p, minlength=n), out=first_n[1:])
    i_p = np.ascontiguousarray(i_p, dtype=np.int64)
    j_p = np.ascontiguousarray(j_p, dtype=np.int64)
    D_pc = np.ascontiguousarray(D_pc, dtype=np.float64)
    arrays = model.kernel_arrays
    K_r, K_t = int(arrays[0][1]), int(arrays[0][2])
    R0_s = kernels.readout_zero(*arrays[:-1])
    ws = kernels.workspace(n, len(i_p), K_r, K_t)
    if parallel is None:
        parallel = n >= PARALLEL_MIN_ATOMS
    loop = kernels.atoms_parallel if parallel else kernels.atoms_serial
    loop(j_p, D_pc, first_n, species_n, *arrays, R0_s, *ws)
    G_nf, E_n, dE_pc = ws[6], ws[8], ws[9]
    F_nc, W_ncc = kernels.scatter(i_p, j_p, D_pc, dE_pc, n)
    return dict(energy=float(E_n.sum()), energies=E_n, forces=F_nc,
                virial=W_ncc.sum(axis=0), virials=W_ncc, descriptors=G_nf)


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


def voigt(W_cc):
    """Symmetrised Voigt form (xx, yy, zz, yz, xz, xy) of (..., 3, 3) tensors."""
    W_cc = np.asarray(W_cc)
    sym = 0.5 * (W_cc + np.swapaxes(W_cc, -1, -2))
    return sym[..., [0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]
