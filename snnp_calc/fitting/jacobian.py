"""Residuals and their exact Jacobian, for ``scipy.optimize.least_squares``.

The residual vector stacks, per structure, ``sqrt(wE) (E - Ê)/N``, the
force components ``sqrt(wF) (F - F̂)`` and, where the structure has a
stress, ``sqrt(wS) (σ - σ̂)`` (weights of :func:`snnp_calc.fitting.loss.structure_weights`),
then the regularisation terms ``sqrt(λ_smooth) Δ²y`` and ``sqrt(λ_2) W``,
so that ``r . r`` is the loss of :mod:`snnp_calc.fitting.loss`.

The kernels of :mod:`snnp_calc.kernels.jacobian` give each row as the
parameter gradient of one residual, by the reverse pass of the loss gradient.
Cost and memory grow as (rows x parameters): use it for small models and
data sets, L-BFGS otherwise.
"""
import numpy as np

from ..kernels.jacobian import all_rows
from ..model.model import MLPReadout
from .loss import ParameterMap, Workspace, loss_and_gradient, structure_weights

MAX_JACOBIAN_BYTES = 4e9


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
    out = ws.loss
    wE, wF, wS = structure_weights(data, weights)
    n_atoms = np.diff(data.n_off_s)
    parts = []
    for s in range(data.n_structures):
        n0, n1 = data.n_off_s[s], data.n_off_s[s + 1]
        parts.append([np.sqrt(wE[s]) * (out.E_s[s] - data.E_ref_s[s]) / n_atoms[s]])
        parts.append(np.sqrt(wF[s]) * (out.F_nc[n0:n1] - data.F_ref_nc[n0:n1]).ravel())
        if data.has_stress_s[s]:
            parts.append(np.sqrt(wS[s]) * (out.S_sv[s] - data.S_ref_sv[s]))
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
    # the kernels read the square roots of the weights from the weight fields
    all_rows(row_off, data.loss_data(np.sqrt(wE), np.sqrt(wF), np.sqrt(wS)), model.kernel_model,
             ws.atoms, pmap.slots, ws.loss.delta_pc, ws.loss.rdot_p, res, J_local)
    # the map from local slots to parameters is linear: apply it to the unit vectors once
    to_params = np.array([pmap.to_parameters(model, e) for e in np.eye(pmap.n_grad)])
    reg_r, reg_J = _regularisation_rows(model, weights)
    return np.concatenate([res, reg_r]), np.vstack([J_local @ to_params, reg_J])
