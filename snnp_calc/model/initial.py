"""Smooth starting models: filters that cover a distance range, random readouts.

:func:`initial_model` builds an s-NNP whose filters are smooth, distinct and
vanish with zero slope at the cutoff:

- pair filter k: a Gaussian bump centred at ``c_k`` (centres spread evenly
  over ``[r_min, cutoff]``) times ``(1 - r/r_c)^3``;
- triplet radial filter k: a wider bump ``exp(-(r - c_k)^2 / w^2) (1 - r/r_t)^3``
  over ``[r_min, r_t]``, with the triplet range ``r_t <= r_c`` (triplets cost
  the square of the neighbour count, so a shorter range is much cheaper);
- angular filter k: the Chebyshev polynomial ``T_{k mod 4}(cos theta)``;
- Legendre filter k: a bump centred at ``c_k`` (spread over
  ``[r_min, r_l]`` like the pair filters') times ``(1 - r/r_l)^3``, with
  ``g = P_{k mod (L+1)}``;
- pair term: a screened repulsion ``A (r_min/r)^4 (1 - r/r_c)^3``.

The readout is an MLP with Glorot-uniform weights from
``numpy.random.default_rng(seed)``, or, with ``readout="spline"`` (s-MEAM,
one filter of each kind), an embedding ``U(G) = 1 - sqrt(2 + G)`` on knots
over ``[-1, 8]`` (a Finnis-Sinclair-like square root, bounded below).
The ``noise`` option perturbs every free spline value (tests use it to get
generic, non-symmetric filters).
"""
import numpy as np

from .legendre import LegendreFilter
from .model import MLPReadout, Model, SplineReadout
from .splines import Spline


def _radial(values_at, r_min, cutoff, n_knots):
    """A radial spline through ``values_at(knots)`` with y = y' = 0 (fixed) at the cutoff."""
    x = np.linspace(r_min, cutoff, n_knots)
    y = values_at(x)
    y[-1] = 0.0
    eps = 1e-6 * (cutoff - r_min)
    d0 = (values_at(np.array([r_min + eps]))[0] - values_at(np.array([r_min - eps]))[0]) / (2 * eps)
    fixed = np.zeros(n_knots + 2, bool)
    fixed[n_knots - 1] = fixed[n_knots + 1] = True
    return Spline(r_min, cutoff, y, d0, 0.0, fixed)


def _chebyshev(k, n_knots, P):
    """P copies of the angular spline through T_{k mod 4}(cos theta) (Chebyshev polynomial)."""
    coeffs = np.zeros(k % 4 + 1)
    coeffs[-1] = 1.0
    cheb = np.polynomial.chebyshev.Chebyshev(coeffs)
    x = np.linspace(-1.0, 1.0, n_knots)
    dcheb = cheb.deriv()
    return [Spline(-1.0, 1.0, cheb(x), dcheb(-1.0), dcheb(1.0)) for _ in range(P)]


def initial_model(species, cutoff, r_min=1.5, n_rho=4, n_triplet=8, n_knots=10,
                  n_knots_angular=8, hidden=(32, 32), activation="tanh", pair=True,
                  readout="mlp", noise=0.0, seed=0, triplet_cutoff=None, n_legendre=0,
                  degree=6, legendre_cutoff=None, per_degree=False):
    """A smooth s-NNP to start a fit from, or to test with.

    Parameters
    ----------
    species : sequence of str
    cutoff : float
        Last knot of every radial spline, Å.
    r_min : float
        First radial knot, Å; below it splines continue linearly.
    triplet_cutoff : float, optional
        Last knot of the triplet radial filters f, Å (default: ``cutoff``).
    n_rho, n_triplet : int
        Numbers of pair and triplet filters.
    n_knots, n_knots_angular : int
        Knots of radial and angular splines.
    n_legendre, degree, legendre_cutoff, per_degree : int, int, float or None, bool
        Factorised (Legendre) triplet filters (:mod:`snnp_calc.model.legendre`), their
        degree L, the last knot of their radial splines, Å (default: ``cutoff``), and
        whether each gives the network one input per degree (their ``c`` then start at 1).
    hidden : tuple of int
        MLP hidden widths (empty: a linear readout).
    activation : str
    pair : bool
        Include the pair term phi.
    readout : {"mlp", "spline"}
        ``spline`` gives an s-MEAM model and needs ``n_rho = n_triplet = 1``.
    noise : float
        Relative random perturbation of free spline values.
    seed : int

    Returns
    -------
    Model
    """
    rng = np.random.default_rng(seed)
    S = len(species)
    P = S * (S + 1) // 2
    span = cutoff - r_min

    r_t = float(triplet_cutoff or cutoff)
    if not r_min < r_t <= cutoff:
        raise ValueError(f"triplet_cutoff must lie in ({r_min}, {cutoff}] Å, got {r_t}")

    def fc(r, rc=cutoff):
        return np.clip(1.0 - r / rc, 0.0, None) ** 3

    def perturb(spline):
        p = spline.params
        free = ~spline.fixed
        p[free] += noise * rng.standard_normal(free.sum()) * (np.abs(p[free]).max() + 1e-3)
        return spline.with_params(p)

    def bump(centre, width, rc=cutoff):
        return lambda r: np.exp(-((r - centre) / width) ** 2) * fc(r, rc)

    rho = [[perturb(_radial(bump(r_min + span * (k + 0.5) / max(n_rho, 1), span / max(n_rho, 1)),
                            r_min, cutoff, n_knots)) for _ in range(S)] for k in range(n_rho)]
    span_t = r_t - r_min
    f = [[perturb(_radial(bump(r_min + span_t * k / max(n_triplet, 1), span_t / 2, r_t), r_min,
                          r_t, n_knots)) for _ in range(S)] for k in range(n_triplet)]
    g = [[perturb(s) for s in _chebyshev(k, n_knots_angular, P)] for k in range(n_triplet)]
    legendre = _legendre_filters(species, r_min, float(legendre_cutoff or cutoff), n_legendre,
                                 degree, n_knots, perturb, rng, noise, per_degree)
    phi = []
    if pair:
        phi = [perturb(_radial(lambda r: 0.5 * (r_min / r) ** 4 * fc(r) / fc(r_min), r_min,
                               cutoff, n_knots)) for _ in range(P)]
    e0 = np.zeros(S)
    if readout == "spline":
        return Model(tuple(species), rho, f, g, phi, _sqrt_embedding(S, perturb), e0,
                     legendre=legendre)
    if readout != "mlp":
        raise ValueError(f"readout must be 'mlp' or 'spline', got {readout!r}")
    K = n_rho + n_triplet + sum(filt.n_outputs for filt in legendre)
    return Model(tuple(species), rho, f, g, phi,
                 _glorot_mlp(S, K, tuple(hidden), activation, rng), e0, legendre=legendre)


def _legendre_filters(species, r_min, r_l, n_legendre, degree, n_knots, perturb, rng, noise,
                      per_degree):
    """Legendre filters: radial bumps spread over [r_min, r_l], g_k = P_{k mod (L+1)}
    (per degree: every c_kλ = 1, each input a pure P_λ sum)."""
    if n_legendre and not r_min < r_l:
        raise ValueError(f"legendre_cutoff must exceed r_min = {r_min} Å, got {r_l}")
    S = len(species)
    P = S * (S + 1) // 2
    span = r_l - r_min
    out = []
    for k in range(n_legendre):
        centre, width = r_min + span * (k + 0.5) / n_legendre, 1.5 * span / n_legendre
        f = [perturb(_radial(lambda r: np.exp(-((r - centre) / width) ** 2)
                             * np.clip(1.0 - r / r_l, 0.0, None) ** 3, r_min, r_l, n_knots))
             for _ in range(S)]
        c = np.zeros((P, degree + 1))
        c[:, k % (degree + 1)] = 1.0
        if per_degree:
            c[:] = 1.0
        c += noise * rng.standard_normal(c.shape)
        out.append(LegendreFilter(f, c, per_degree))
    return out


def _sqrt_embedding(S, perturb):
    """The s-MEAM readout U(G) = 1 - sqrt(2 + G) on 10 knots over [-1, 8], per species."""
    x = np.linspace(-1.0, 8.0, 10)
    values = 1.0 - np.sqrt(2.0 + x)
    return SplineReadout([perturb(Spline(-1.0, 8.0, values, -0.5 / np.sqrt(1.0),
                                         -0.5 / np.sqrt(10.0))) for _ in range(S)])


def _glorot_mlp(S, K, hidden, activation, rng):
    """Per-species networks with Glorot-uniform weights (Glorot and Bengio, AISTATS 2010), zero biases."""
    sizes = (K,) + hidden + (1,)
    weights = []
    for _ in range(S):
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            limit = np.sqrt(6.0 / (n_in + n_out))
            layers += [rng.uniform(-limit, limit, (n_out, n_in)), np.zeros(n_out)]
        weights.append(layers)
    return MLPReadout(activation, hidden, weights, np.zeros((S, K)), np.ones((S, K)))
