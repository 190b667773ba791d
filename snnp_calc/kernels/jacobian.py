"""Residuals of packed structures and their exact Jacobian rows (local gradient slots).

Residuals per structure: ``sE (E - Ê)/N``, the force components
``sF (F - F̂)`` and, where the structure has a stress, ``sS (σ - σ̂)``, with
``sE, sF, sS`` the square roots of the loss weights (read from the weight
fields of :class:`~snnp_calc.kernels.layout.LossData`).

Each row is the parameter gradient of one residual, from the reverse pass of
the loss gradient (:func:`snnp_calc.kernels.gradient.atom_gradient`): an
energy row with ``ce = sE/N`` and no displacement, the row of force
component (j, c) with pair displacements ``δ_p = -sF e_c ([j_p = j] - [i_p = j])``
(only atoms whose neighbourhood holds j contribute), a stress row with
``δ_p = sS/V U D_p``.
"""
import numpy as np
from numba import njit, prange

from .energy import largest_block, triplet_scratch
from .gradient import atom_gradient, gradient_scratch, stress_of, structure_forces
from .layout import KERNEL, VOIGT_VD


@njit(**KERNEL)
def _force_row(j, c, sF, n0, n1, nb, km, ws, slots, delta_pc, rdot_p, tr, gs, J_q):
    """Jacobian row of force component (j, c), for atoms n0..n1-1 of one structure."""
    for i in range(n0, n1):
        touched = i == j
        for p in range(nb.first_n[i], nb.first_n[i + 1]):
            for d in range(3):
                delta_pc[p, d] = 0.0
            hit = (1 if nb.j_p[p] == j else 0) - (1 if i == j else 0)
            if hit != 0:
                delta_pc[p, c] = -sF * hit
                touched = True
        if touched:
            atom_gradient(i, 0.0, nb, km, ws, slots, delta_pc, rdot_p, tr, gs, J_q)


@njit(**KERNEL)
def structure_rows(s, row0, data, km, ws, slots, delta_pc, rdot_p, res_r, J_rq):
    """Residuals and Jacobian rows of structure s, from row ``row0`` on."""
    nb = data
    n0, n1 = data.n_off_s[s], data.n_off_s[s + 1]
    q0, q1 = nb.first_n[n0], nb.first_n[n1]
    n = n1 - n0
    n_max = largest_block(nb.first_n, n0, n1)
    tr = triplet_scratch(n_max, km)
    gs = gradient_scratch(n_max, km.n_triplet, km.sizes)
    F_nc = np.empty((n, 3))
    energy, W_cc = structure_forces(s, data, km, ws, tr, F_nc, n0)
    sE, sF, sS = data.wE_s[s], data.wF_s[s], data.wS_s[s]
    row = row0
    res_r[row] = sE * (energy - data.E_ref_s[s]) / n
    delta_pc[q0:q1] = 0.0
    for i in range(n0, n1):
        atom_gradient(i, sE / n, nb, km, ws, slots, delta_pc, rdot_p, tr, gs, J_rq[row])
    row += 1
    for j in range(n0, n1):
        for c in range(3):
            res_r[row] = sF * (F_nc[j - n0, c] - data.F_ref_nc[j, c])
            _force_row(j, c, sF, n0, n1, nb, km, ws, slots, delta_pc, rdot_p, tr, gs, J_rq[row])
            row += 1
    if data.has_stress_s[s]:
        S_v = np.empty(6)
        stress_of(W_cc, data.vol_s[s], S_v)
        cs = sS / data.vol_s[s]
        D_pc = nb.D_pc
        for v in range(6):
            c, d = VOIGT_VD[v, 0], VOIGT_VD[v, 1]
            res_r[row] = sS * (S_v[v] - data.S_ref_sv[s, v])
            U_cc = np.zeros((3, 3))
            U_cc[c, d] += 1.0 if c == d else 0.5
            if c != d:
                U_cc[d, c] += 0.5
            for p in range(q0, q1):
                for e in range(3):
                    delta_pc[p, e] = cs * (U_cc[e, 0] * D_pc[p, 0] + U_cc[e, 1] * D_pc[p, 1]
                                           + U_cc[e, 2] * D_pc[p, 2])
            for i in range(n0, n1):
                atom_gradient(i, 0.0, nb, km, ws, slots, delta_pc, rdot_p, tr, gs, J_rq[row])
            row += 1


@njit(parallel=True, **KERNEL)
def all_rows(row_off_s, data, km, ws, slots, delta_pc, rdot_p, res_r, J_rq):
    """Residuals and local-slot Jacobian rows of every structure, threads over structures."""
    for s in prange(len(data.n_off_s) - 1):
        structure_rows(s, row_off_s[s], data, km, ws, slots, delta_pc, rdot_p, res_r, J_rq)
