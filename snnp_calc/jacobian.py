"""Residuals and their exact Jacobian, for ``scipy.optimize.least_squares``.

The residual vector stacks, per structure, ``sqrt(wE) (E - Ê)/N``, the
force components ``sqrt(wF) (F - F̂)`` and, where the structure has a
stress, ``sqrt(wS) (σ - σ̂)`` (weights of :func:`snnp_calc.loss.structure_weights`),
then the regularisation terms ``sqrt(λ_smooth) Δ²y`` and ``sqrt(λ_2) W``,
so that ``r . r`` is the loss of :mod:`snnp_calc.loss`.

Each Jacobian row is the parameter gradient of one residual, computed by the
same reverse pass as the loss gradient (:func:`snnp_calc.grad_kernels.atom_gradient`):
an energy row with ``ce = sqrt(wE)/N``, the row of force component (j, c)
with pair displacements ``δ_p = -sqrt(wF) e_c ([j_p = j] - [i_p = j])``
(only atoms whose neighbourhood holds j contribute), a stress row with
``δ_p = sqrt(wS)/V U D_p``. Cost and memory grow as (rows x parameters):
use it for small models and data sets, L-BFGS otherwise.
"""
import numpy as np
from numba import njit, prange

from . import kernels
from .grad_kernels import atom_gradient, scratch
from .kernels import atom_terms
from .loss import ParameterMap, Workspace, loss_and_gradient, structure_weights
from .model import MLPReadout

MAX_JACOBIAN_BYTES = 4e9


@njit(cache=True, error_model="numpy")
def _rows_of_structure(s, row0, n_off_s, first_n, i_p, j_p, D_pc, species_n, E_ref_s, F_ref_nc,
                       S_ref_sv, has_S_s, sE_s, sF_s, sS_s, vol_s, dims, tab_sf, tab_si, y_m,
                       y2_m, yd_m, sizes, w_sw, xoff_sf, xscale_sf, e0_s, R0_s, r_p, u_pc, f_pk,
                       df_pk, drho_pr, dphi_p, G_nf, dR_nf, E_n, dE_pc, q_off_s, w_base, e0_base,
                       c0_base, delta_pc, rdot_p, res, J_rq):
    n0, n1 = n_off_s[s], n_off_s[s + 1]
    q0, q1 = first_n[n0], first_n[n1]
    g_tk, cdot_t, wv_pk, wd_pk, buf_3h, buf_6h = scratch(first_n, n0, n1, dims[2], sizes)
    for i in range(n0, n1):
        atom_terms(i, j_p, D_pc, first_n, species_n, dims, tab_sf, tab_si, y_m, y2_m, yd_m,
                   sizes, w_sw, xoff_sf, xscale_sf, e0_s, R0_s, r_p, u_pc, f_pk, df_pk, drho_pr,
                   dphi_p, G_nf, dR_nf, E_n, dE_pc, g_tk, buf_3h)
    n = n1 - n0
    F_nc = np.zeros((n, 3))
    W_cc = np.zeros((3, 3))
    energy = 0.0
    for i in range(n0, n1):
        energy += E_n[i]
    for p in range(q0, q1):
        for c in range(3):
            F_nc[i_p[p] - n0, c] += dE_pc[p, c]
            F_nc[j_p[p] - n0, c] -= dE_pc[p, c]
            for d in range(3):
                W_cc[c, d] += dE_pc[p, c] * D_pc[p, d]
    row = row0
    # energy row
    res[row] = sE_s[s] * (energy - E_ref_s[s]) / n
    delta_pc[q0:q1] = 0.0
    for i in range(n0, n1):
        atom_gradient(i, sE_s[s] / n, j_p, first_n, species_n, delta_pc, dims, tab_sf, tab_si,
                      y_m, y2_m, yd_m, sizes, w_sw, xoff_sf, xscale_sf, r_p, u_pc, f_pk, df_pk,
                      drho_pr, G_nf, q_off_s, w_base, e0_base, c0_base, rdot_p, g_tk, cdot_t,
                      wv_pk, wd_pk, buf_6h, J_rq[row])
    row += 1
    # force rows
    for j in range(n0, n1):
        for c in range(3):
            res[row] = sF_s[s] * (F_nc[j - n0, c] - F_ref_nc[j, c])
            for i in range(n0, n1):
                touched = i == j
                for p in range(first_n[i], first_n[i + 1]):
                    for d in range(3):
                        delta_pc[p, d] = 0.0
                    hit = (1 if j_p[p] == j else 0) - (1 if i == j else 0)
                    if hit != 0:
                        delta_pc[p, c] = -sF_s[s] * hit
                        touched = True
                if touched:
                    atom_gradient(i, 0.0, j_p, first_n, species_n, delta_pc, dims, tab_sf, tab_si,
                                  y_m, y2_m, yd_m, sizes, w_sw, xoff_sf, xscale_sf, r_p, u_pc,
                                  f_pk, df_pk, drho_pr, G_nf, q_off_s, w_base, e0_base, c0_base,
                                  rdot_p, g_tk, cdot_t, wv_pk, wd_pk, buf_6h, J_rq[row])
            row += 1
    # stress rows
    if has_S_s[s]:
        voigt = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))
        cs = sS_s[s] / vol_s[s]
        for v in range(6):
            c, d = voigt[v]
            res[row] = sS_s[s] * (0.5 * (W_cc[c, d] + W_cc[d, c]) / vol_s[s] - S_ref_sv[s, v])
            U = np.zeros((3, 3))
            U[c, d] += 1.0 if c == d else 0.5
            if c != d:
                U[d, c] += 0.5
            for p in range(q0, q1):
                for e in range(3):
                    delta_pc[p, e] = cs * (U[e, 0] * D_pc[p, 0] + U[e, 1] * D_pc[p, 1]
                                           + U[e, 2] * D_pc[p, 2])
            for i in range(n0, n1):
                atom_gradient(i, 0.0, j_p, first_n, species_n, delta_pc, dims, tab_sf, tab_si,
                              y_m, y2_m, yd_m, sizes, w_sw, xoff_sf, xscale_sf, r_p, u_pc, f_pk,
                              df_pk, drho_pr, G_nf, q_off_s, w_base, e0_base, c0_base, rdot_p,
                              g_tk, cdot_t, wv_pk, wd_pk, buf_6h, J_rq[row])
            row += 1


@njit(parallel=True, cache=True, error_model="numpy")
def _all_rows(row_off_s, n_off_s, first_n, i_p, j_p, D_pc, species_n, E_ref_s, F_ref_nc,
              S_ref_sv, has_S_s, sE_s, sF_s, sS_s, vol_s, dims, tab_sf, tab_si, y_m, y2_m, yd_m,
              sizes, w_sw, xoff_sf, xscale_sf, e0_s, R0_s, r_p, u_pc, f_pk, df_pk, drho_pr,
              dphi_p, G_nf, dR_nf, E_n, dE_pc, q_off_s, w_base, e0_base, c0_base, delta_pc,
              rdot_p, res, J_rq):
    """Residuals and local-coordinate Jacobian rows of every structure, threads over structures."""
    for s in prange(len(n_off_s) - 1):
        _rows_of_structure(s, row_off_s[s], n_off_s, first_n, i_p, j_p, D_pc, species_n,
                           E_ref_s, F_ref_nc, S_ref_sv, has_S_s, sE_s, sF_s, sS_s, vol_s, dims,
                           tab_sf, tab_si, y_m, y2_m, yd_m, sizes, w_sw, xoff_sf, xscale_sf,
                           e0_s, R0_s, r_p, u_pc, f_pk, df_pk, drho_pr, dphi_p, G_nf, dR_nf,
                           E_n, dE_pc, q_off_s, w_base, e0_base, c0_base, delta_pc, rdot_p, res,
                           J_rq)


def _regularisation_rows(model, weights):
    """Residuals ``sqrt(λ) Δ²y`` and ``sqrt(λ_2) W`` and their Jacobian (free parameters)."""
    n_free = len(model.to_vector())
    rows, jac = [], []
    col = 0
    for s in model.splines:
        free = ~s.fixed
        if s.n_knots >= 3 and weights.smooth > 0:
            D = np.zeros((s.n_knots - 2, s.n_knots + 2))
            for m in range(s.n_knots - 2):
                D[m, m:m + 3] = (1.0, -2.0, 1.0)
            D *= np.sqrt(weights.smooth)
            rows.append(D @ s.params)
            block = np.zeros((len(D), n_free))
            block[:, col:col + free.sum()] = D[:, free]
            jac.append(block)
        col += int(free.sum())
    if isinstance(model.readout, MLPReadout) and weights.l2 > 0:
        for layers in model.readout.weights:
            for k, w in enumerate(layers):
                if k % 2 == 0:
                    rows.append(np.sqrt(weights.l2) * w.reshape(-1))
                    block = np.zeros((w.size, n_free))
                    block[:, col:col + w.size] = np.sqrt(weights.l2) * np.eye(w.size)
                    jac.append(block)
                col += w.size
    if not rows:
        return np.zeros(0), np.zeros((0, n_free))
    return np.concatenate(rows), np.vstack(jac)


def residuals(vector, template, data, weights, pmap=None, workspace=None):
    """The residual vector alone (one loss evaluation; same order as the Jacobian's rows)."""
    ws = workspace or Workspace(data, template)
    loss_and_gradient(vector, template, data, weights, pmap, ws)
    wE, wF, wS = structure_weights(data, weights)
    n_atoms = np.diff(data.n_off_s)
    parts = []
    for s in range(data.n_structures):
        n0, n1 = data.n_off_s[s], data.n_off_s[s + 1]
        parts.append([np.sqrt(wE[s]) * (ws.E_s[s] - data.E_ref_s[s]) / n_atoms[s]])
        parts.append(np.sqrt(wF[s]) * (ws.F_nc[n0:n1] - data.F_ref_nc[n0:n1]).ravel())
        if data.has_stress_s[s]:
            parts.append(np.sqrt(wS[s]) * (ws.S_sv[s] - data.S_ref_sv[s]))
    parts.append(_regularisation_rows(template.from_vector(vector), weights)[0])
    return np.concatenate(parts)


def residuals_and_jacobian(vector, template, data, weights):
    """Residual vector and its exact Jacobian at ``vector``.

    Returns
    -------
    r : ndarray, shape (n_residuals,)
    J : ndarray, shape (n_residuals, n_free)

    Raises
    ------
    MemoryError
        If the Jacobian would take more than ``MAX_JACOBIAN_BYTES``.
    """
    model = template.from_vector(vector)
    pmap = ParameterMap(model)
    ws = Workspace(data, model)
    wE, wF, wS = structure_weights(data, weights)
    n_atoms = np.diff(data.n_off_s)
    rows_s = 1 + 3 * n_atoms + 6 * data.has_stress_s
    row_off = np.concatenate([[0], np.cumsum(rows_s)])
    n_free = len(vector)
    needed = 8.0 * row_off[-1] * (pmap.n_grad + n_free)
    if needed > MAX_JACOBIAN_BYTES:
        raise MemoryError(f"the exact Jacobian needs {needed / 1e9:.1f} GB ({row_off[-1]} rows); "
                          "use method='lbfgs'")
    res = np.zeros(row_off[-1])
    J_local = np.zeros((row_off[-1], pmap.n_grad))
    arrays = model.kernel_arrays
    R0_s = kernels.readout_zero(*arrays[:-1])
    _all_rows(row_off, data.n_off_s, data.first_n, data.i_p, data.j_p, data.D_pc, data.species_n,
              data.E_ref_s, data.F_ref_nc, data.S_ref_sv, data.has_stress_s, np.sqrt(wE),
              np.sqrt(wF), np.sqrt(wS), data.vol_s, *arrays, R0_s, *ws.atoms, pmap.q_off_s,
              pmap.w_base, pmap.e0_base, pmap.c0_base, ws.delta_pc, ws.rdot_p, res, J_local)
    # the map from local slots to parameters is linear: apply it to the unit vectors once
    to_params = np.array([pmap.to_parameters(model, e) for e in np.eye(pmap.n_grad)])
    reg_r, reg_J = _regularisation_rows(model, weights)
    return np.concatenate([res, reg_r]), np.vstack([J_local @ to_params, reg_J])
