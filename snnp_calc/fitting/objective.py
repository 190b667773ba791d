"""What the optimiser minimises: the loss as a function of one vector u = (z, c).

``z`` are the fitted model parameters of a
:class:`~snnp_calc.model.reparam.Reparametrisation` (the model's free vector
``x = offset + T z``: frozen, shared and constrained entries mapped out) and
``c`` the isotropic stress offsets of :mod:`snnp_calc.fitting.offsets`, one
per group of structures with stress labels (none when they are switched
off). The loss and its exact gradient come from
:func:`snnp_calc.fitting.loss.loss_and_gradient`; ``dL/dz = T^T dL/dx``.

In a data-parallel fit each rank's :class:`Objective` holds one block of the
structures and adds the partial sums of all ranks
(:class:`snnp_calc.fitting.parallel.Ranks`), so that every rank returns the
loss and gradient of the whole set.
"""
import numpy as np
from ase.units import GPa

from .jacobian import residuals, residuals_and_jacobian, stress_row_offsets
from .loss import (
    ParameterMap,
    Workspace,
    gauss_newton_diagonal,
    loss_and_gradient,
    structure_weights,
)
from .offsets import ISOTROPIC_V, StressOffsets
from .parallel import Ranks


def squared_errors(ws, data):
    """(Σ (ΔE/N)², structures, Σ ΔF², force components) of the last evaluation on ``data``."""
    n = np.diff(data.n_off_s)
    return np.array([(((ws.loss.E_s - data.E_ref_s) / n) ** 2).sum(), len(n),
                     ((ws.loss.F_nc - data.F_ref_nc) ** 2).sum(), data.F_ref_nc.size])


def rmse(ws, data, ranks=None):
    """RMSE of energy per atom (meV) and force components (eV/Å) of the last evaluation.

    With ``ranks`` (a data-parallel fit, ``data`` this rank's block): of the whole set.
    """
    e2, n_e, f2, n_f = (ranks or Ranks()).sum(squared_errors(ws, data))
    return 1000 * np.sqrt(e2 / n_e), np.sqrt(f2 / n_f)


class Objective:
    """The loss of ``data`` over u = (z, c), with scratch reused between calls.

    Parameters
    ----------
    model : Model
        The layout and the fixed parameters.
    reparam : snnp_calc.model.reparam.Reparametrisation
    data : snnp_calc.fitting.training_set.TrainingSet
    weights : snnp_calc.fitting.loss.LossWeights
        ``weights.stress_offsets`` switches the offsets c on.
    ranks : snnp_calc.fitting.parallel.Ranks, optional
        The ranks of a data-parallel fit, ``data`` this rank's block.
    preconditioner : (TrainingSet or None, Block), optional
        The structures (this rank's part of them, None if it has none) the
        preconditioner is estimated on, and their :class:`Block` in that
        sample (:func:`snnp_calc.fitting.training_set.spread_sample`); default ``data``.
    """

    def __init__(self, model, reparam, data, weights, ranks=None, preconditioner=None):
        self.model, self.reparam, self.data, self.weights = model, reparam, data, weights
        self.ranks = ranks or Ranks()
        self.preconditioner = preconditioner or (data, data.block)
        self.offsets = (StressOffsets(data, self.ranks.sum(StressOffsets.groups(data)))
                        if weights.stress_offsets else None)
        self.n_c = self.offsets.n if self.offsets else 0
        self.pmap = ParameterMap(model)
        self.ws = Workspace(data, model)
        self.last_rmse = (np.nan, np.nan)

    @property
    def n(self):
        return self.reparam.n + self.n_c

    def start(self):
        """u of the starting model, with zero offsets."""
        return np.concatenate([self.reparam.start(), np.zeros(self.n_c)])

    def bounds(self):
        """Lower and upper bounds of u (the constraints; offsets are free)."""
        free = np.full(self.n_c, np.inf)
        return (np.concatenate([self.reparam.lower, -free]),
                np.concatenate([self.reparam.upper, free]))

    def model_vector(self, u):
        """The model's free vector x of ``u``."""
        return self.reparam.full(u[:self.reparam.n])

    def stress_offsets(self, u):
        """``{group: offset in GPa}`` of ``u`` (empty without offsets)."""
        return self.offsets.as_dict(u[self.reparam.n:]) if self.offsets else {}

    def _data(self, data, u):
        return self.offsets.shifted(data, u[self.reparam.n:]) if self.offsets else data

    def loss_on(self, data, u, pmap, ws):
        """Loss of another set (validation) at ``u``, its groups' offsets those of training.

        With ranks, ``data`` is this rank's block of that set and the loss the whole set's.
        """
        loss, _ = loss_and_gradient(self.model_vector(u), self.model, self._data(data, u),
                                    self.weights, pmap, ws, regularise=self.ranks.root)
        return self.ranks.sum(loss)

    def __call__(self, u):
        """Loss and its gradient with respect to u."""
        data = self._data(self.data, u)
        loss, grad_x = loss_and_gradient(self.model_vector(u), self.model, data, self.weights,
                                         self.pmap, self.ws, regularise=self.ranks.root)
        parts = [[loss], self.reparam.reduce(grad_x)]
        if self.offsets:
            wS_s = structure_weights(data, self.weights)[2]
            parts.append(self.offsets.gradient(data, wS_s, self.ws.loss.S_sv))
        parts.append(squared_errors(self.ws, data))
        # one message per evaluation: loss, gradient and error sums of this block
        total = self.ranks.sum(np.concatenate(parts))
        e2, n_e, f2, n_f = total[-4:]
        self.last_rmse = (1000 * np.sqrt(e2 / n_e), np.sqrt(f2 / n_f))
        return float(total[0]), total[1:-4]

    def gauss_newton_diagonal(self, u, seed):
        """Estimate of ``diag(J^T J)`` over u (Hutchinson for z on the preconditioner's
        sample, exact for the offsets)."""
        sample, block = self.preconditioner
        parts = [gauss_newton_diagonal(self.model_vector(u), self.model,
                                       None if sample is None else self._data(sample, u),
                                       self.weights, seed=seed, reduce=self.reparam.reduce,
                                       total=self.ranks.sum, block=block)]
        if self.offsets:
            # exact and cheap: over all structures
            data = self._data(self.data, u)
            wS_s = structure_weights(data, self.weights)[2]
            parts.append(self.ranks.sum(self.offsets.gauss_newton_diagonal(data, wS_s)))
        return np.concatenate(parts)

    def rmse_on(self, data, ws):
        """:func:`rmse` of the last evaluation on another set (validation), over all ranks."""
        return rmse(ws, data, self.ranks)

    def residuals(self, u):
        """The residual vector (least squares) at u."""
        data = self._data(self.data, u)
        r = residuals(self.model_vector(u), self.model, data, self.weights, self.pmap, self.ws)
        self.last_rmse = rmse(self.ws, data)
        return r

    def residuals_and_jacobian(self, u):
        """Residuals and their exact Jacobian with respect to u."""
        data = self._data(self.data, u)
        r, J_x = residuals_and_jacobian(self.model_vector(u), self.model, data, self.weights)
        J = [J_x @ self.reparam.matrix()]
        if self.offsets:
            # r_sv = sqrt(wS_s) (σ_sv - σ̂_sv + c_g GPa δ_v): column g has sqrt(wS_s) GPa δ_v
            J_c = np.zeros((len(r), self.n_c))
            wS_s = structure_weights(data, self.weights)[2]
            row0_s = stress_row_offsets(data)
            g_s = self.offsets.group_of(data)
            for s in np.flatnonzero(g_s >= 0):
                rows = row0_s[s] + np.flatnonzero(ISOTROPIC_V)
                J_c[rows, g_s[s]] = np.sqrt(wS_s[s]) * GPa
            J.append(J_c)
        return r, np.hstack(J)
