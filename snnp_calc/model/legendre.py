"""Factorised triplet filters: an angular function in Legendre polynomials, summed in O(n).

A Legendre triplet filter k has a radial spline f_{k,b}(r) per neighbour
species b, like the spline triplet filters, and an angular function per
unordered species pair bc given by its Legendre coefficients,
``g_{k,bc}(x) = Σ_{λ=0..L} c_{kλ,bc} P_λ(x)`` (DESIGN.md §2b). Its descriptor

    G_ik = Σ_{j<l} f_{k,b_j}(r_ij) f_{k,b_l}(r_il) g_{k,b_j b_l}(cos θ_jil)

is the same sum as that of a spline g, but it need not visit the pairs of
neighbours: with ``g`` in powers of x, ``g_{k,bc}(x) = Σ_n a_{kn,bc} x^n``
(``a = c`` times the coefficients of the Legendre polynomials), and
``(u_j · u_l)^n = Σ_{|α|=n} w_α u_j^α u_l^α`` over the monomials
``u^α = x^α1 y^α2 z^α3`` of degree n with multinomial weights
``w_α = n! / (α1! α2! α3!)``,

    G_ik = ½ [ Σ_{b,c} Σ_α a_{k n(α),bc} w_α M_{kbα} M_{kcα}  −  Σ_b g_{k,bb}(1) T_{kb} ],
    M_{kbα} = Σ_{j of species b} f_{k,b}(r_ij) u_ij^α,   T_{kb} = Σ_{j of species b} f_{k,b}(r_ij)²,

which costs O(n (L+1)(L+2)(L+3)/6) per atom instead of O(n²) (the Cartesian
moment tensors, equivalent to the addition theorem of the spherical
harmonics; the subtracted term removes j = l, where u_j · u_j = 1). The
kernels use the power coefficients ``a`` (:func:`power_coefficients`); the
model stores and fits the Legendre coefficients ``c``.

A filter with ``per_degree`` gives the network L+1 inputs instead of one,
``G_ikλ = Σ_{j<l} f f c_{kλ,b_j b_l} P_λ(cos θ_jil)``, whose sum over λ is the
G_ik above: the same moments M and cost per pair, but the network, not a
fixed linear combination, mixes the degrees (the per-degree invariants of
the moment tensor and atomic cluster expansions; Shapeev, Multiscale Model.
Simul. 14, 1153 (2016); Drautz, Phys. Rev. B 99, 014104 (2019)). The kernels
treat each such input as a filter of its own whose power coefficients are
``c_{kλ,q} p_λn`` (:func:`output_power_coefficients`).
"""
from dataclasses import dataclass
from math import factorial

import numpy as np
from numpy.polynomial import legendre

from .splines import Spline

# The largest degree: beyond it the power basis loses digits ((L+1)(L+2)(L+3)/6 monomials)
MAX_DEGREE = 12


@dataclass(frozen=True, eq=False)
class LegendreFilter:
    """One factorised triplet filter: radial splines ``f`` (S) and coefficients ``c`` (P, L+1).

    With ``per_degree`` it gives the readout one input per degree λ (module docstring).
    """

    f: tuple
    c: np.ndarray
    per_degree: bool = False

    def __post_init__(self):
        f = tuple(self.f)
        if not f or not all(isinstance(s, Spline) for s in f):
            raise ValueError("a Legendre filter needs one radial spline per neighbour species")
        c = np.array(self.c, dtype=np.float64)
        if c.ndim != 2 or c.shape[0] != len(f) * (len(f) + 1) // 2:
            raise ValueError(f"Legendre coefficients must have shape (P, L + 1) with P = "
                             f"{len(f) * (len(f) + 1) // 2} species pairs, got {c.shape}")
        if not 1 <= c.shape[1] <= MAX_DEGREE + 1:
            raise ValueError(f"the Legendre degree L must lie in 0..{MAX_DEGREE}, got "
                             f"{c.shape[1] - 1}")
        if not np.isfinite(c).all():
            raise ValueError("Legendre coefficients must be finite")
        if not isinstance(self.per_degree, bool):
            raise TypeError(f"per_degree must be a bool, got {self.per_degree!r}")
        c.flags.writeable = False
        object.__setattr__(self, "f", f)
        object.__setattr__(self, "c", c)

    @property
    def degree(self):
        """L, the highest Legendre degree."""
        return self.c.shape[1] - 1

    @property
    def n_outputs(self):
        """The readout inputs this filter gives: L+1 with ``per_degree``, else 1."""
        return self.degree + 1 if self.per_degree else 1

    def g(self, x, pair=0):
        """The angular function g_{k,bc}(x) of species pair ``pair`` and its derivative."""
        coef = self.c[pair]
        return legendre.legval(x, coef), legendre.legval(x, legendre.legder(coef))

    def equals(self, other):
        return (isinstance(other, LegendreFilter) and len(self.f) == len(other.f)
                and all(a.equals(b) for a, b in zip(self.f, other.f))
                and np.array_equal(self.c, other.c) and self.per_degree == other.per_degree)


def legendre_to_power(L):
    """(L+1, L+1) matrix p with ``P_λ(x) = Σ_n p[λ, n] x^n``."""
    p = np.zeros((L + 1, L + 1))
    for lam in range(L + 1):
        p[lam, :lam + 1] = legendre.leg2poly(np.eye(L + 1)[lam][:lam + 1])
    return p


def power_coefficients(c):
    """Power coefficients ``a`` (..., L+1) of Legendre coefficients ``c`` (..., L+1)."""
    c = np.asarray(c, dtype=np.float64)
    return c @ legendre_to_power(c.shape[-1] - 1)


def output_power_coefficients(filt):
    """(O, P, L+1) power coefficients of each readout input of ``filt`` (O = n_outputs).

    One input: those of g (:func:`power_coefficients`); per degree λ: those of
    ``c_{kλ,q} P_λ(x)``.
    """
    if not filt.per_degree:
        return power_coefficients(filt.c)[None]
    p = legendre_to_power(filt.degree)
    return filt.c.T[:, :, None] * p[:, None, :]


def monomials(L):
    """The monomials of degree 0..L: exponents (N, 3) int64, degrees (N,), weights w_α (N,)."""
    exps, degree, weight = [], [], []
    for n in range(L + 1):
        for a in range(n, -1, -1):
            for b in range(n - a, -1, -1):
                c = n - a - b
                exps.append((a, b, c))
                degree.append(n)
                weight.append(factorial(n) / (factorial(a) * factorial(b) * factorial(c)))
    return (np.array(exps, np.int64).reshape(-1, 3), np.array(degree, np.int64),
            np.array(weight, np.float64))


def lowered(exps):
    """(N, 3) int64: the row of ``exps`` holding α − e_c for each monomial α and axis c.

    Rows where α_c = 0 point at row 0 (u^0 = 1); the kernels multiply them by
    α_c = 0. With it a monomial and its gradient are one product each:
    ``u^α = u_c u^(α − e_c)`` and ``∂u^α/∂u_c = α_c u^(α − e_c)``.
    """
    row = {tuple(e): n for n, e in enumerate(exps.tolist())}
    out = np.zeros(exps.shape, np.int64)
    for n, e in enumerate(exps.tolist()):
        for c in range(3):
            if e[c]:
                out[n, c] = row[tuple(e[k] - (k == c) for k in range(3))]
    return out
