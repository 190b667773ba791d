"""Residuals and their exact Jacobian, for ``scipy.optimize.least_squares``.

The residual vector stacks, per structure, ``sqrt(wE) (E - Ê)/N``, the
force components ``sqrt(wF) (F - F̂)`` and, where the structure has a
stress, ``sqrt(wS) (σ - σ̂)`` (weights of :func:`snnp_calc.fitting.loss.structure_weights`),
then the rows of the regularisation (:mod:`snnp_calc.fitting.regularisation`),
so that ``r . r`` is the loss of :mod:`snnp_calc.fitting.loss`.

The kernels of :mod:`snnp_calc.kernels.jacobian` give each row as the
parameter gradient of one residual, by the reverse pass of the loss gradient.
Cost and memory grow as (rows x parameters): use it for small models and
data sets, L-BFGS otherwise.
"""
import numpy as np

from ..kernels.jacobian import all_rows
from .loss import ParameterMap, Workspace, loss_and_gradient, structure_weights

MAX_JACOBIAN_BYTES = 4e9


def row_offsets(data):
    """(n_s + 1,) first residual row of every structure: 1 + 3 N_s + 6 [stress] rows each."""
    rows_s = 1 + 3 * np.diff(data.n_off_s) + 6 * data.has_stress_s
    return np.concatenate([[0], np.cumsum(rows_s)])


def stress_row_offsets(data):
    """(n_s,) first stress row of every structure (its last six rows), -1 without a stress."""
    row_off = row_offsets(data)
    return np.where(data.has_stress_s, row_off[1:] - 6, -1)


def residuals(vector, template, data, weights, pmap=None, workspace=None):
    """The residual vector alone (one loss evaluation; same order as the Jacobian's rows)."""
    pmap = pmap or ParameterMap(template)
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
    parts.append(pmap.regularisation(weights).residuals(vector)[0])
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
    row_off = row_offsets(data)
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
    reg_r, reg_J = pmap.regularisation(weights).residuals(vector)
    return np.concatenate([res, reg_r]), np.vstack([J_local @ to_params, reg_J])
