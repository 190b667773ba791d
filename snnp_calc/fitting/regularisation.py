"""The regularisation of the loss: spline curvature and network weights, one quadratic form.

For the free parameter vector x (``Model.to_vector`` order) the penalty is

    R(x) = λ_smooth Σ_x L_x³ ∫ s_x''(t)² dt  +  λ_2 Σ |W|²,

over every spline x of the model (ρ, f, g, φ and U), with L_x = x1 − x0 its
knot span, and over the weight matrices W of the network (not the biases).
The L³ makes the curvature term independent of the span for a spline of a
given shape and amplitude (for a spline s(t) = a h(t / L), ∫ s''² dt = a² L⁻³
∫ h''²), so one λ serves filters, pair terms and embeddings alike.

Both terms are quadratic in x: ``R = x^T Q x`` with ``Q = B B^T`` block
diagonal. For a cubic spline s'' is piecewise linear between the knots'
second derivatives y''_k, so (exactly)

    ∫ s''² dt = Σ_k h/3 (y''_k² + y''_k y''_{k+1} + y''_{k+1}²) = y''^T T y'',

with ``y'' = A p`` linear in the spline parameters p (the tridiagonal solve of
:func:`snnp_calc.model.splines.second_derivatives`). The loss adds ``R`` and
its gradient ``2 Q x``; least squares adds the residual rows ``B^T x``
(:func:`snnp_calc.fitting.jacobian.residuals_and_jacobian`), whose squares sum to R.
"""
import numpy as np

from ..model.model import MLPReadout
from ..model.splines import second_derivatives


def _curvature_form(spline):
    """(M+2, M+2) Q of ``L³ ∫ s''² dt = p^T Q p`` for a spline's parameters p."""
    M = spline.n_knots
    h = (spline.x1 - spline.x0) / (M - 1)
    A = np.array([second_derivatives(spline.x0, spline.x1, e[:M], e[M], e[M + 1])
                  for e in np.eye(M + 2)]).T
    T = np.diag(np.full(M, 2 * h / 3))
    T[0, 0] = T[-1, -1] = h / 3
    T[np.arange(M - 1), np.arange(1, M)] = T[np.arange(1, M), np.arange(M - 1)] = h / 6
    return (spline.x1 - spline.x0) ** 3 * A.T @ T @ A


class Regularisation:
    """The penalty ``R(x) = x^T Q x`` of one model layout (see the module docstring).

    Parameters
    ----------
    model : snnp_calc.model.model.Model
        Supplies the layout (knots, fixed masks, network shape); values are not kept.
    smooth, l2 : float
        λ_smooth and λ_2.
    """

    def __init__(self, model, smooth, l2):
        # blocks: (first free entry, B_free, c) with residual rows B_free^T x_block + c
        blocks = []
        col = 0
        for s in model.splines:
            free = ~s.fixed
            n = int(free.sum())
            if smooth > 0 and n:
                Q = smooth * _curvature_form(s)
                w, v = np.linalg.eigh(0.5 * (Q + Q.T))
                B = v * np.sqrt(np.clip(w, 0.0, None))
                # fixed entries (e.g. the zero ends of radial filters) give constant rows
                blocks.append((col, B[free], B[~free].T @ s.params[~free]))
            col += n
        # the Legendre coefficients follow the splines, unpenalised (their degree bounds them)
        col += sum(filt.c.size for filt in model.legendre)
        if isinstance(model.readout, MLPReadout):
            for layers in model.readout.weights:
                for k, w in enumerate(layers):
                    if k % 2 == 0 and l2 > 0:
                        blocks.append((col, np.sqrt(l2) * np.eye(w.size), np.zeros(w.size)))
                    col += w.size
        self.blocks = blocks
        self.n_free = len(model.to_vector())
        self.n_rows = sum(B.shape[1] for _, B, _ in blocks)

    def residuals(self, x):
        """Rows (n_rows,) whose squares sum to ``R(x)``, and their Jacobian (n_rows, n_free)."""
        r = np.zeros(self.n_rows)
        J = np.zeros((self.n_rows, self.n_free))
        row = 0
        for col, B, c in self.blocks:
            m = B.shape[1]
            r[row:row + m] = B.T @ x[col:col + len(B)] + c
            J[row:row + m, col:col + len(B)] = B.T
            row += m
        return r, J

    def value_and_gradient(self, x):
        """``R(x)`` and ``dR/dx`` (n_free,)."""
        value = 0.0
        grad = np.zeros(self.n_free)
        for col, B, c in self.blocks:
            r = B.T @ x[col:col + len(B)] + c
            value += r @ r
            grad[col:col + len(B)] += 2.0 * B @ r
        return value, grad
