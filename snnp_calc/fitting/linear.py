"""A linear first fit that starts the nonlinear one close to the data.

With the radial and angular filters held at their starting shapes, a
*linear* readout ``R_a(G) = c_a . G`` makes energies, forces and stresses
linear in ``c``, in the pair-term spline parameters and in e0, so the loss
of :mod:`snnp_calc.fitting.loss` (without regularisation) is an ordinary weighted
linear least-squares problem. Its columns are computed with the model's own
kernels, on "unit" models that switch on one coefficient at a time, so they
are exact. :func:`linear_start` solves it and writes the result into the
model: for an MLP readout as a network in the linear regime of its
activation (``tanh(εu) ≈ εu``), for a spline readout as a linear U.

Cost. A unit model is evaluated only on the structures where it can be
non-zero (a readout unit of species a where a is present, a pair-term unit of
species a, b where both are), and on large data sets on a spread sample of
at most :data:`~snnp_calc.fitting.training_set.SAMPLE_ATOMS` atoms
(:func:`~snnp_calc.fitting.training_set.spread_sample`):
a start needs the data's trends, not every frame, and on 100k atoms of six
species the full problem took 500 s and most of the fit's memory.
"""
import dataclasses

import numpy as np

from ..kernels.layout import ACTIVATIONS, pair_index
from ..kernels.readout import mlp_eval
from ..model.model import MLPReadout, Model, SplineReadout
from ..model.splines import Spline
from .loss import frame_weights
from .training_set import SAMPLE_ATOMS, pack_frames, predict_packed, spread_sample


def _unit_species(model, units):
    """For each unit, the species a structure must hold for the unit to act on it."""
    S = model.n_species
    pairs = {pair_index(a, b, S): (a, b) for a in range(S) for b in range(a, S)}
    return [{index[0]} if kind == "readout" else set(pairs[index[0]])
            for kind, index, _ in units]


def _unit_models(model):
    """(kind, index, Model) for every linear coefficient, with everything else zero."""
    S, K = model.n_species, model.n_filters
    tied = isinstance(model.readout, SplineReadout)
    zero_phi = [s.with_params(np.zeros(s.n_knots + 2)) for s in model.phi]
    directions = [np.ones(K)] if tied else list(np.eye(K))
    out = []
    for a in range(S):
        for k, direction in enumerate(directions):
            weights = [[(direction if b == a else np.zeros(K)).reshape(1, K), np.zeros(1)]
                       for b in range(S)]
            ro = MLPReadout("tanh", (), weights, np.zeros((S, K)), np.ones((S, K)))
            out.append(("readout", (a, k), Model(model.species, model.rho, model.f, model.g,
                                                 zero_phi, ro, np.zeros(S),
                                                 legendre=model.legendre)))
    ro = MLPReadout("tanh", (), [[np.zeros((1, K)), np.zeros(1)] for _ in range(S)],
                    np.zeros((S, K)), np.ones((S, K)))
    for q, spline in enumerate(model.phi):
        for m in np.flatnonzero(~spline.fixed):
            phi = list(zero_phi)
            phi[q] = spline.with_params(np.eye(spline.n_knots + 2)[m])
            out.append(("phi", (q, m), Model(model.species, model.rho, model.f, model.g, phi,
                                             ro, np.zeros(S), legendre=model.legendre)))
    return out


def _core_only(model, units):
    """``model``'s core alone: a unit model (all coefficients zero) with the core."""
    zero = units[0][2]
    zero = zero.from_vector(np.zeros(len(zero.to_vector())))
    return dataclasses.replace(zero, core=model.core)


def linear_start(model, frames, weights, rcond=1e-12, data=None):
    """The model with readout, pair term and e0 from the linear least-squares fit.

    Parameters
    ----------
    model : Model
        Supplies the filters, which stay as they are.
    frames : list of Frame
    weights : snnp_calc.fitting.loss.LossWeights
    rcond : float
        Relative cutoff of small singular values of the column-normalised
        problem (pair filters and the pair term overlap in a linear model):
        the minimum-norm solution is taken along such directions.
    data : snnp_calc.fitting.training_set.TrainingSet, optional
        ``frames`` already packed at the model's cutoff.
    """
    data = data or pack_frames(frames, model.species, model.cutoff)
    sample = spread_sample(data.frames, SAMPLE_ATOMS)
    if len(sample) < data.n_structures:
        data = data.subset(sample)
    frames = data.frames
    units = _unit_models(model)
    wE, wF, wS = frame_weights(frames, weights)
    n_s = np.diff(data.n_off_s)
    sE = np.sqrt(wE) / n_s
    sF = np.repeat(np.sqrt(wF), n_s)[:, None]
    has_s = wS > 0
    sS = np.sqrt(wS[has_s])[:, None]

    def rows(E_s, F_nc, S_sv):
        return np.concatenate([sE * E_s, (sF * F_nc).ravel(), (sS * S_sv[has_s]).ravel()])

    counts = np.zeros((data.n_structures, model.n_species))
    np.add.at(counts, (np.repeat(np.arange(data.n_structures), n_s), data.species_n), 1.0)
    columns = [rows(*_where_present(unit, data, counts[:, sorted(needed)].all(axis=1)))
               for (_, _, unit), needed in zip(units, _unit_species(model, units))]
    for a in range(model.n_species):
        columns.append(rows(counts[:, a], np.zeros_like(data.F_ref_nc),
                            np.zeros_like(data.S_ref_sv)))
    A = np.array(columns).T
    b = rows(data.E_ref_s, data.F_ref_nc, data.S_ref_sv)
    if model.core is not None:
        # the core has no coefficient: the linear part fits what it leaves
        b = b - rows(*predict_packed(_core_only(model, units), data)[:3])
    norms = np.linalg.norm(A, axis=0)
    norms[norms == 0] = 1.0
    coef = np.linalg.lstsq(A / norms, b, rcond=rcond)[0] / norms
    return _apply(model, units, coef)


def _where_present(model, data, present_s):
    """Energies, forces and stresses of ``model`` on ``data``, evaluated only on the
    structures ``present_s`` (bool, (n_s,)); zero elsewhere, where it does not act."""
    if present_s.all():
        return predict_packed(model, data)[:3]
    E_s, F_nc, S_sv = (np.zeros_like(a) for a in (data.E_ref_s, data.F_ref_nc, data.S_ref_sv))
    chosen = np.flatnonzero(present_s)
    if len(chosen):
        E_s[chosen], F_nc[data.atoms_of(chosen)], S_sv[chosen] = predict_packed(
            model, data.subset(chosen))[:3]
    return E_s, F_nc, S_sv


def _apply(model, units, coef):
    S, K = model.n_species, model.n_filters
    c = np.zeros((S, K))
    phi = [s.with_params(np.where(s.fixed, s.params, 0.0)) for s in model.phi]
    for (kind, index, _), value in zip(units, coef):
        if kind == "readout":
            a, k = index
            if isinstance(model.readout, SplineReadout):
                c[a, :] = value
            else:
                c[a, k] = value
        else:
            q, m = index
            p = phi[q].params
            p[m] = value
            phi[q] = phi[q].with_params(p)
    e0 = coef[len(units):]
    if isinstance(model.readout, SplineReadout):
        U = [Spline(s.x0, s.x1, c[a, 0] * s.knots, c[a, 0], c[a, 0], s.fixed)
             for a, s in enumerate(model.readout.U)]
        readout = SplineReadout(U)
    else:
        readout = _linear_regime_mlp(model.readout, c)
    return dataclasses.replace(model, phi=tuple(phi), readout=readout, e0=e0)


def _linear_regime_mlp(ro, c_ef, eps=0.02):
    """An MLP whose output is ``c . G`` up to O(eps^2): one unit per layer carries it.

    The input is ``x = (G - offset)/scale``, so ``c . G = (c * scale) . x + const``;
    the constant cancels in ``N(G) - N(0)``. Hidden unit 0 of every layer gets
    ``tanh(eps u)`` of the previous carrier; the output divides the eps back out.
    The remaining weights are kept (small random values break the symmetry).
    The output weight divides out the carrier chain's slope at x = 0 (1/eps
    for tanh and celu, whose slope at 0 is 1; other activations operate at
    sigma(0) != 0 with other slopes), so the result is exact to O(eps^2).
    """
    weights = []
    for a, layers in enumerate(ro.weights):
        layers = [np.array(w) for w in layers]
        u = c_ef[a] * ro.scale[a]
        # the spread of x is ~1 after standardisation: keep eps |u| x in tanh's linear range
        gain = eps / max(np.abs(u).sum(), 1e-12)
        n_layers = len(layers) // 2
        if n_layers == 1:
            layers[0][0] = u
            layers[1][0] = 0.0
        else:
            layers[0][0] = gain * u
            layers[1][0] = 0.0
            for l in range(1, n_layers - 1):
                W = layers[2 * l]
                W[0, :] = 0.0
                W[:, 0] = 0.0
                W[0, 0] = 1.0
                layers[2 * l + 1][0] = 0.0
            W = layers[-2]
            W[0, :] = 0.0
            W[0, 0] = 1.0
            layers[-1][0] = 0.0
            if u @ u > 0:     # else a species without data: its carrier stays zero
                W[0, 0] = u @ u / (_input_gradient(layers, ro) @ u)
        weights.append(layers)
    return MLPReadout(ro.activation, ro.hidden, weights, ro.offset, ro.scale)


def _input_gradient(layers, ro):
    """dN/dx at x = 0 of the network with ``layers`` (the project's kernel)."""
    sizes = np.array(ro.sizes, np.int64)
    w = np.concatenate([np.asarray(v).reshape(-1) for v in layers])
    grad = np.zeros(sizes[0])
    mlp_eval(np.zeros(sizes[0]), w, sizes, ACTIVATIONS.index(ro.activation), grad,
             np.zeros((3, sizes.sum())))
    return grad
