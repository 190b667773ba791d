"""Cubic splines with LAMMPS ``meam/spline`` semantics.

A spline has M >= 2 uniformly spaced knots ``x_m = x0 + m h`` on
``[x0, x1]``, values ``y_m`` at the knots and clamped first derivatives
``d0`` and ``dN`` at the two ends. The second derivatives follow from C2
continuity (a tridiagonal solve). Outside ``[x0, x1]`` the spline continues
as a straight line with slope ``d0`` or ``dN``. This is exactly the
``SplineFunction`` of LAMMPS ``src/MANYBODY/pair_meam_spline.{h,cpp}``.

The spline is linear in its parameter vector ``p = (y_0..y_{M-1}, d0, dN)``
of length M + 2: ``s(x) = sum_m B_m(x) p_m`` (see :func:`basis`).

Kernels do not see :class:`Spline` objects; :func:`pack` turns a list of
splines into the plain-array :class:`~snnp_calc.kernels.layout.SplineTable`
that :func:`snnp_calc.kernels.spline.spline_eval` reads.

A spline must be representable: the knot spacing ``h = (x1 - x0) / (M - 1)``
is a normal float64 (so ``1/h`` is finite and the interval index ``t / h``
stays in range), and its values and slopes are small enough for the knot
spacing that no coefficient of the table (up to ``y / h^3``) overflows. The
constructor checks both; the model file readers, and the LAMMPS plugin's
reader with the same arithmetic, turn the error into one naming the key or line.
"""
import math
from dataclasses import dataclass

import numpy as np

from ..kernels.layout import SplineTable
from ..kernels.spline import eval_table

# Most knots a spline read from a file may have; the readers (and the plugin's) refuse more.
MAX_KNOTS = 100_000
# Smallest normal float64: a knot spacing below it has an infinite or inexact reciprocal.
_TINY = float(np.finfo(np.float64).tiny)
# The table's coefficients are below 64 (max|y| + max|d|) max(1, 1/h)^3 (a bound on the
# tridiagonal solve of second_derivatives, whose pivots lie in [1.75, 2]); it must be finite.
_COEFFICIENT_FACTOR = 64.0


def check_spacing(x0, x1, y, d0, dN):
    """Raise ValueError unless the knot spacing and coefficients of a spline are representable.

    Parameters
    ----------
    x0, x1 : float
        First and last knot, x1 > x0.
    y : ndarray, shape (M,)
        Finite knot values, M >= 2.
    d0, dN : float
        Finite end slopes.
    """
    m = len(y)
    h = (x1 - x0) / (m - 1)
    if not (math.isfinite(h) and h >= _TINY):
        raise ValueError(f"degenerate knot spacing h = (x1 - x0) / (M - 1) = {h!r} "
                         f"(x0 = {x0!r}, x1 = {x1!r}, M = {m}); expected a normal float64 "
                         f"between {_TINY!r} and the float64 maximum")
    s = max(1.0, 1.0 / h)
    bound = _COEFFICIENT_FACTOR * (float(np.max(np.abs(y))) + max(abs(d0), abs(dN))) * s * s * s
    if not math.isfinite(bound):
        raise ValueError(f"values and end slopes too large for the knot spacing h = {h!r}: the "
                         "spline's coefficients (up to max|y| / h^3) would overflow float64")


@dataclass(frozen=True, eq=False)
class Spline:
    """One cubic spline (see the module docstring).

    Parameters
    ----------
    x0, x1 : float
        First and last knot (x1 > x0), in the unit of the argument
        (Å for radial splines, 1 for angular ones, the descriptor unit for U).
    y : array_like, shape (M,)
        Values at the knots.
    d0, dN : float
        First derivatives at x0 and x1.
    fixed : array_like of bool, shape (M + 2,), optional
        Which entries of ``params`` the fitter never moves. Default: none.

    Raises
    ------
    ValueError
        With fewer than 2 knots, a wrong ``fixed`` length, non-finite numbers,
        knots that do not increase, or a spacing or coefficients that are not
        representable (:func:`check_spacing`).
    """

    x0: float
    x1: float
    y: np.ndarray
    d0: float
    dN: float
    fixed: np.ndarray = None

    def __post_init__(self):
        y = np.array(self.y, dtype=np.float64).reshape(-1)
        fixed = (np.zeros(len(y) + 2, bool) if self.fixed is None
                 else np.array(self.fixed, dtype=bool).reshape(-1))
        if len(y) < 2:
            raise ValueError(f"a spline needs at least 2 knots, got {len(y)}")
        if len(fixed) != len(y) + 2:
            raise ValueError(f"'fixed' has length {len(fixed)}, expected M + 2 = {len(y) + 2}")
        scalars = np.array([self.x0, self.x1, self.d0, self.dN], dtype=np.float64)
        if not (np.all(np.isfinite(y)) and np.all(np.isfinite(scalars))):
            raise ValueError("spline knots, values and end derivatives must be finite")
        if not scalars[1] > scalars[0]:
            raise ValueError(f"spline knots must increase: x0 = {self.x0}, x1 = {self.x1}")
        check_spacing(float(scalars[0]), float(scalars[1]), y, float(scalars[2]),
                      float(scalars[3]))
        y.flags.writeable = False
        fixed.flags.writeable = False
        for name, value in (("x0", scalars[0]), ("x1", scalars[1]), ("d0", scalars[2]),
                            ("dN", scalars[3]), ("y", y), ("fixed", fixed)):
            object.__setattr__(self, name, value if name in ("y", "fixed") else float(value))

    @property
    def n_knots(self):
        """Number of knots M."""
        return len(self.y)

    @property
    def knots(self):
        """Knot positions, shape (M,)."""
        return self.x0 + np.arange(self.n_knots) * ((self.x1 - self.x0) / (self.n_knots - 1))

    @property
    def params(self):
        """Parameter vector ``(y_0..y_{M-1}, d0, dN)``, shape (M + 2,)."""
        return np.concatenate([self.y, [self.d0, self.dN]])

    def with_params(self, p):
        """A copy with parameter vector ``p`` of shape (M + 2,)."""
        p = np.asarray(p, dtype=np.float64)
        if p.shape != (self.n_knots + 2,):
            raise ValueError(f"expected {self.n_knots + 2} spline parameters, got shape {p.shape}")
        return Spline(self.x0, self.x1, p[:-2], p[-2], p[-1], self.fixed)

    def __call__(self, x):
        """Values and first derivatives at ``x`` (any shape): ``(s, ds/dx)``."""
        x = np.asarray(x, dtype=np.float64)
        table = pack([self])
        flat = np.ascontiguousarray(x.reshape(-1))
        value, deriv = eval_table(table, np.zeros(len(flat), np.int64), flat)
        return value.reshape(x.shape), deriv.reshape(x.shape)

    def equals(self, other):
        """True if both splines have bit-identical knots, parameters and masks."""
        return (isinstance(other, Spline) and self.x0 == other.x0 and self.x1 == other.x1
                and np.array_equal(self.params, other.params)
                and np.array_equal(self.fixed, other.fixed))


def second_derivatives(x0, x1, y, d0, dN):
    """Second derivatives at the knots of a clamped cubic spline.

    The standard tridiagonal solve for a clamped spline (Press et al.,
    Numerical Recipes, 3rd ed., §3.3), written as LAMMPS
    ``SplineFunction::prepareSpline`` writes it, on uniform knots.

    Parameters
    ----------
    x0, x1 : float
        First and last knot.
    y : ndarray, shape (M,)
        Values at the knots.
    d0, dN : float
        End first derivatives.

    Returns
    -------
    ndarray, shape (M,)
        y'' at the knots.
    """
    m = len(y)
    h = (x1 - x0) / (m - 1)
    y2 = np.empty(m)
    u = np.empty(m)
    y2[0] = -0.5
    u[0] = (3.0 / h) * ((y[1] - y[0]) / h - d0)
    for i in range(1, m - 1):
        # on uniform knots sig = 1/2 exactly
        p = 0.5 * y2[i - 1] + 2.0
        y2[i] = -0.5 / p
        u[i] = (y[i + 1] - y[i]) / h - (y[i] - y[i - 1]) / h
        u[i] = (6.0 * u[i] / (2.0 * h) - 0.5 * u[i - 1]) / p
    un = (3.0 / h) * (dN - (y[m - 1] - y[m - 2]) / h)
    y2[m - 1] = (un - 0.5 * u[m - 2]) / (0.5 * y2[m - 2] + 1.0)
    for k in range(m - 2, -1, -1):
        y2[k] = y2[k] * y2[k + 1] + u[k]
    return y2


def pack(splines, groups=()):
    """Pack a sequence of :class:`Spline` into a :class:`~snnp_calc.kernels.layout.SplineTable`.

    ``groups``: ``(first, stride, K)`` per spline group, whose members are
    splines ``first + k stride``, k < K; a group whose members all have the
    knots of its first also gets the interleaved copy that
    :func:`snnp_calc.kernels.spline.group_eval` reads.
    """
    n = len(splines)
    head_xd = np.zeros((max(n, 1), 6))
    index_xd = np.zeros((max(n, 1), 2), np.int64)
    y_parts, y2_parts, yd_parts = [np.zeros(0)], [np.zeros(0)], [np.zeros(0)]
    offset = 0
    for s, sp in enumerate(splines):
        m = sp.n_knots
        h = (sp.x1 - sp.x0) / (m - 1)
        head_xd[s] = (sp.x0, h, sp.x1 - sp.x0, sp.d0, sp.dN, 1.0 / h)
        index_xd[s] = (offset, m)
        y_parts.append(sp.y)
        y2_parts.append(second_derivatives(sp.x0, sp.x1, sp.y, sp.d0, sp.dN) / (6.0 * h))
        yd = np.zeros(m)
        yd[:-1] = (sp.y[1:] - sp.y[:-1]) / h
        yd_parts.append(yd)
        offset += m
    group_ig, interleaved = _interleaved(head_xd, index_xd, (y_parts, y2_parts, yd_parts),
                                         offset, groups)
    return SplineTable(head_xd, index_xd, *interleaved, group_ig)


def _interleaved(head_xd, index_xd, parts, offset, groups):
    """``group_ig``, and the ``_m`` arrays of :func:`pack` with the shared groups' interleaved
    copies after the ``offset`` knots of the splines' own (``parts``: their pieces)."""
    flat = [np.concatenate(p) for p in parts]
    group_ig = np.zeros((max(len(groups), 1), 5), np.int64)
    for g, (first, stride, K) in enumerate(groups):
        members = [first + k * stride for k in range(K)]
        shared = K > 0 and all((head_xd[x, :3] == head_xd[first, :3]).all()
                               and index_xd[x, 1] == index_xd[first, 1] for x in members)
        group_ig[g] = (first, stride, K, int(shared), offset)
        if not shared:
            continue
        m = index_xd[first, 1]
        for part, values in zip(parts, flat):
            # (M, K): knot q of member k at q K + k
            part.append(np.stack([values[index_xd[x, 0]:index_xd[x, 0] + m] for x in members],
                                 axis=1).reshape(-1))
        offset += m * K
    return group_ig, [np.concatenate(p) for p in parts]


def basis(spline, x):
    """Basis functions of a spline's parameters at ``x``.

    Because the tridiagonal solve is linear in ``p``, so is ``s``:
    ``s(x) = B(x) @ p``. Column m is the spline with parameter vector e_m.

    Parameters
    ----------
    spline : Spline
        Supplies the knots (its values are not used).
    x : array_like, shape (n,)

    Returns
    -------
    B, dB : ndarray, shape (n, M + 2)
        Basis values and their x-derivatives.
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    n_p = spline.n_knots + 2
    B = np.empty((len(x), n_p))
    dB = np.empty((len(x), n_p))
    for m in range(n_p):
        B[:, m], dB[:, m] = spline.with_params(np.eye(n_p)[m])(x)
    return B, dB
