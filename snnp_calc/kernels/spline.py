"""The one spline evaluator, and the derivative of a spline value by its parameters.

A spline of a :class:`~snnp_calc.kernels.layout.SplineTable` is LAMMPS
``PairMEAMSpline::SplineFunction`` (``src/MANYBODY/pair_meam_spline.h``,
``eval``) on a uniform grid: on interval [x_k, x_k+1] with ``a = x_k+1 - x``,
``b = x - x_k``, ``Y2 = y''/(6h)`` and ``Yd_k = (y_k+1 - y_k)/h``,

    s(x)   = y_k+1 - a Yd_k + (a² - h²) a Y2_k + (b² - h²) b Y2_k+1,
    s'(x)  = Yd_k + (3b² - h²) Y2_k+1 - (3a² - h²) Y2_k,
    s''(x) = 6 (a Y2_k + b Y2_k+1),

and outside [x0, x1] the straight line of slope d0 or dN (DESIGN.md §1).
:func:`group_eval` evaluates the K filters of one neighbour species (or
pair) at one x with the same arithmetic, locating the interval once.
"""
import numpy as np
from numba import njit

from .layout import KERNEL

# spline groups of a KernelModel, by filter family (group_index)
GROUP_RHO = 0
GROUP_F = 1
GROUP_G = 2
GROUP_LEGENDRE = 3


@njit(**KERNEL)
def group_index(family, index, S):
    """The spline group of filter family ``family`` (:data:`GROUP_RHO` ...) for neighbour
    species (or species pair) ``index`` in a model of S species (``KernelModel.group_ig``)."""
    if family == GROUP_RHO:
        return index
    if family == GROUP_F:
        return S + index
    if family == GROUP_G:
        return 2 * S + index
    return 2 * S + S * (S + 1) // 2 + index


@njit(**KERNEL)
def spline_eval(table, x_index, x):
    """Value, first and second derivative of spline ``x_index`` of ``table`` at ``x``.

    ``table``: a :class:`~snnp_calc.kernels.layout.SplineTable`, or a
    :class:`~snnp_calc.kernels.layout.KernelModel` (which has its fields).
    """
    # Loading every parameter first, then branching, made this function about
    # 6x faster under Numba 0.68 than loading them inside the branches.
    head = table.head_xd
    x0, h, span, d0, dN, inv_h = (head[x_index, 0], head[x_index, 1], head[x_index, 2],
                                  head[x_index, 3], head[x_index, 4], head[x_index, 5])
    off, m = table.index_xd[x_index, 0], table.index_xd[x_index, 1]
    t = x - x0
    # 'not t > 0' also sends a NaN here, never to an interval index out of range
    if not t > 0.0:
        return table.y_m[off] + d0 * t, d0, 0.0
    if t >= span:
        return table.y_m[off + m - 1] + dN * (t - span), dN, 0.0
    klo = int(t * inv_h)
    if klo > m - 2:
        klo = m - 2
    khi = klo + 1
    a = khi * h - t
    b = h - a
    hsq = h * h
    y2lo = table.y2_m[off + klo]
    y2hi = table.y2_m[off + khi]
    ydlo = table.yd_m[off + klo]
    value = table.y_m[off + khi] - a * ydlo + ((a * a - hsq) * a * y2lo + (b * b - hsq) * b * y2hi)
    deriv = ydlo + ((3.0 * b * b - hsq) * y2hi - (3.0 * a * a - hsq) * y2lo)
    return value, deriv, 6.0 * (a * y2lo + b * y2hi)


@njit(inline="always", **KERNEL)
def _members(K, lo, a, ca, cb, da, db, table, out_2k):
    """The K members of a shared group on the interval whose first knot's coefficients start
    at ``lo`` (:func:`group_eval`, which has the factors)."""
    hi = lo + K
    y_gm, y2_gm, yd_gm = table.y_m, table.y2_m, table.yd_m
    for k in range(K):
        y2lo = y2_gm[lo + k]
        y2hi = y2_gm[hi + k]
        ydlo = yd_gm[lo + k]
        out_2k[0, k] = y_gm[hi + k] - a * ydlo + (ca * y2lo + cb * y2hi)
        out_2k[1, k] = ydlo + (db * y2hi - da * y2lo)


# Inlined by Numba, not left to LLVM: as a call it made the atom loop of the shipped Mo model
# 1.26 x slower (11.9 -> 15.0 µs/atom, one thread, same process).
@njit(inline="always", **KERNEL)
def group_eval(table, g, x, out_2k):
    """Value and first derivative of every member k of spline group g at x, into
    ``out_2k[0, k]`` and ``out_2k[1, k]``.

    A group (``table.group_ig``) is the K filters of one neighbour species or
    species pair, which a fitted model gives the same knots: then the interval
    is found once and the members' coefficients are adjacent in memory
    (interleaved in the ``_m`` arrays), so the loop over k vectorises, as the C++ plugin's
    ``SplineGroup`` does. The arithmetic is :func:`spline_eval`'s, operation for
    operation, so the results are the same bits. Outside the knots, or for
    members with different knots, :func:`spline_eval` itself.
    """
    first, K = table.group_ig[g, 0], table.group_ig[g, 2]
    if K == 1:
        # s-MEAM: nothing to share, and the group's bookkeeping would cost (as in the plugin)
        out_2k[0, 0], out_2k[1, 0], _ = spline_eval(table, first, x)
        return
    stride, shared, off = table.group_ig[g, 1], table.group_ig[g, 3], table.group_ig[g, 4]
    head = table.head_xd
    x0, h, span, inv_h = head[first, 0], head[first, 1], head[first, 2], head[first, 5]
    t = x - x0
    if shared and t > 0.0 and t < span:
        m = table.index_xd[first, 1]
        klo = int(t * inv_h)
        if klo > m - 2:
            klo = m - 2
        a = (klo + 1) * h - t
        b = h - a
        hsq = h * h
        ca = (a * a - hsq) * a
        cb = (b * b - hsq) * b
        da = 3.0 * a * a - hsq
        db = 3.0 * b * b - hsq
        lo = off + klo * K
        # a literal K (the presets' 4 and 8 filters) lets LLVM unroll and vectorise the loop:
        # the shipped Mo model's atom loop took 0.89 x the time of the loop over a variable K
        if K == 4:
            _members(4, lo, a, ca, cb, da, db, table, out_2k)
        elif K == 8:
            _members(8, lo, a, ca, cb, da, db, table, out_2k)
        else:
            _members(K, lo, a, ca, cb, da, db, table, out_2k)
        return
    for k in range(K):
        out_2k[0, k], out_2k[1, k], _ = spline_eval(table, first + k * stride, x)


@njit(**KERNEL)
def eval_table(table, x_index_q, x_q):
    """Value and first derivative of spline ``x_index_q[q]`` at ``x_q[q]`` for every q."""
    value_q = np.empty(len(x_q))
    deriv_q = np.empty(len(x_q))
    for q in range(len(x_q)):
        value_q[q], deriv_q[q], _ = spline_eval(table, x_index_q[q], x_q[q])
    return value_q, deriv_q


@njit(**KERNEL)
def basis_add(table, x_index, x, wv, wd, q_off_x, grad_q):
    """Add ``wv ds(x)/dq + wd ds'(x)/dq`` to spline ``x_index``'s local gradient slots.

    Spline x owns ``2M + 2`` slots ``(y_0..y_{M-1}, Y2_0..Y2_{M-1}, d0, dN)``
    from ``q_off_x[x]`` on; the coefficients are the partial derivatives of the
    formulas of :func:`spline_eval` by y, Y2 (using ``Yd_k = (y_k+1 - y_k)/h``),
    d0 and dN. :class:`snnp_calc.fitting.loss.ParameterMap` maps the slots to the
    spline parameters.
    """
    head = table.head_xd
    x0, h, span, inv_h = head[x_index, 0], head[x_index, 1], head[x_index, 2], head[x_index, 5]
    m = table.index_xd[x_index, 1]
    q = q_off_x[x_index]
    t = x - x0
    # 'not t > 0' also sends a NaN here, never to an interval index out of range
    if not t > 0.0:
        grad_q[q] += wv
        grad_q[q + 2 * m] += wv * t + wd
        return
    if t >= span:
        grad_q[q + m - 1] += wv
        grad_q[q + 2 * m + 1] += wv * (t - span) + wd
        return
    klo = min(int(t * inv_h), m - 2)
    khi = klo + 1
    a = khi * h - t
    b = h - a
    hsq = h * h
    grad_q[q + klo] += (wv * a - wd) / h
    grad_q[q + khi] += (wv * b + wd) / h
    grad_q[q + m + klo] += wv * (a * a - hsq) * a - wd * (3.0 * a * a - hsq)
    grad_q[q + m + khi] += wv * (b * b - hsq) * b + wd * (3.0 * b * b - hsq)
