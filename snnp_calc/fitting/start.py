"""Starting models for a fit, built from the training data: :func:`start_model`.

:func:`start_model` is the one entry point. Given a preset name it builds
:func:`preset_model` from the data and then moves it to the exact solution of
its linear version (:func:`snnp_calc.fitting.linear.linear_start`); given a model
(a checkpoint, say) it starts from that. Two presets:

- ``s-meam``: one pair filter, one triplet filter, a pair term and a spline
  readout U: the classical spline-MEAM, exportable to LAMMPS meam/spline;
- ``s-nnp``: several pair and triplet filters and a small MLP readout
  (sizes in :data:`PRESETS`: more pair than triplet filters, because a
  triplet filter costs about as much as all pair filters together; a
  systematic size scan is still to be done).

The data set the knot ranges: the radial knots start just below the
shortest pair distance in the data; the default cutoff sits in a gap between
neighbour shells near 2 median nearest-neighbour distances (nn;
:mod:`snnp_calc.fitting.ranges`), the triplet filters end at 1.6 nn. MLP inputs are standardised with the mean
and spread of the starting descriptors over the training atoms; U spans the
range of the starting densities. Finally e0 is fitted on composition
(:func:`fit_e0`). On large data these estimates, and the linear start, read a
spread sample of at most :data:`~snnp_calc.fitting.training_set.SAMPLE_ATOMS`
atoms (:func:`~snnp_calc.fitting.training_set.spread_sample`): their cost and
memory then stay bounded, and a start needs the data's trends, not every frame.
"""
import dataclasses

import numpy as np

from .._files import is_path
from ..io import read_model
from ..model.core import ZBLCore
from ..model.initial import initial_model
from ..model.model import MLPReadout, Model, SplineReadout
from ..model.reparam import share_filters
from ..model.splines import Spline
from .linear import linear_start
from .ranges import LEGENDRE_RANGE, TRIPLET_RANGE, default_cutoff, distance_range
from .training_set import SAMPLE_ATOMS, pack_frames, predict_packed, spread_sample

PRESETS = {
    "s-meam": dict(n_rho=1, n_triplet=1, hidden=(), readout="spline", n_knots=10,
                   n_knots_angular=8, core=None, input_scaling="rms"),
    "s-nnp": dict(n_rho=8, n_triplet=4, hidden=(16, 16), readout="mlp", n_knots=10,
                  n_knots_angular=8, activation="softplus", core="zbl", input_scaling="rms"),
}
CORES = (None, "zbl")
INPUT_SCALINGS = ("rms", "std")
# The ZBL core is pure below CORE_INNER x its end; it ends at the first radial knot,
# below every distance in the data.
CORE_INNER = 0.6


def species_of(frames):
    """Sorted chemical symbols present in ``frames``."""
    return sorted({s for f in frames for s in f.atoms.get_chemical_symbols()})


def preset_model(name, frames, cutoff=None, species=None, seed=0, filters_from=None,
                 shared=False, **overrides):
    """A starting model of preset ``name`` for ``frames``.

    Parameters
    ----------
    name : {"s-meam", "s-nnp"}
    frames : list of Frame
    cutoff : float, optional
        Å; default a gap between neighbour shells near 2 x the median
        nearest-neighbour distance (:func:`snnp_calc.fitting.ranges.default_cutoff`),
        or the cutoff of ``filters_from``.
    species : sequence of str, optional
        Default: the elements in ``frames``.
    seed : int
    filters_from : Model, optional
        Take the pair and triplet filters of this model (transfer to new
        data); its filters must be the same for every neighbour species (one
        species, or shared filters), and they are used for every species here.
    shared : bool
        Make every filter the same for all neighbour species
        (:func:`snnp_calc.model.reparam.share_filters`).
    **overrides
        Any argument of :func:`snnp_calc.model.initial.initial_model` (``n_rho``,
        ``n_triplet``, ``n_knots``, ``hidden``, ``activation``, ...).
    """
    return _preset(name, frames, cutoff, species, seed, filters_from, shared, **overrides)[0]


def _preset(name, frames, cutoff, species, seed, filters_from, shared, **overrides):
    """:func:`preset_model` and ``frames`` packed at its cutoff (for the stages that follow)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; expected one of {', '.join(PRESETS)}")
    options = dict(PRESETS[name], **overrides)
    shortest, nearest = distance_range(frames)
    if filters_from is not None:
        options.update(n_rho=len(filters_from.rho), n_triplet=len(filters_from.f),
                       n_legendre=len(filters_from.legendre))
        if filters_from.legendre:
            options["degree"] = filters_from.legendre[0].degree
            options["per_degree"] = filters_from.legendre[0].per_degree
        cutoff = cutoff or max(s.x1 for row in filters_from.rho + filters_from.f for s in row)
    cutoff = float(cutoff) if cutoff else default_cutoff(frames, nearest)
    r_min = round(min(0.9 * shortest, 0.8 * nearest), 2)
    if not r_min < cutoff:
        raise ValueError(f"cutoff {cutoff} Å is below the shortest distance in the data")
    if "triplet_cutoff" not in options:
        options["triplet_cutoff"] = min(cutoff, round(TRIPLET_RANGE * nearest, 2))
    legendre_range = options.pop("legendre_range", LEGENDRE_RANGE)
    if options.get("n_legendre") and "legendre_cutoff" not in options:
        options["legendre_cutoff"] = min(cutoff, round(legendre_range * nearest, 2))
    species = tuple(species or species_of(frames))
    readout = options.pop("readout")
    core, scaling = options.pop("core"), options.pop("input_scaling")
    if core not in CORES or scaling not in INPUT_SCALINGS:
        raise ValueError(f"core must be one of {CORES} and input_scaling one of "
                         f"{INPUT_SCALINGS}; got {core!r} and {scaling!r}")
    model = initial_model(species, cutoff, r_min=r_min, readout="mlp", seed=seed,
                          **{k: v for k, v in options.items() if k != "hidden"},
                          hidden=options["hidden"] if readout == "mlp" else ())
    if core == "zbl":
        model = dataclasses.replace(model, core=ZBLCore(CORE_INNER * r_min, r_min))
    if filters_from is not None:
        model = _with_filters(model, filters_from)
    if shared:
        model = share_filters(model)
    # input scales, e0 and the linear start from a spread sample of the data (all of small data)
    frames = [frames[k] for k in spread_sample(frames, SAMPLE_ATOMS)]
    data = pack_frames(frames, model.species, model.cutoff)
    G_nf, species_n = predict_packed(model, data)[3], data.species_n
    if readout == "spline":
        model = _with_embedding(model, G_nf, options["n_knots"])
    else:
        model = _standardised(model, G_nf, species_n, scaling)
    model = fit_e0(model, frames, data)
    options.update(core=core, input_scaling=scaling)
    meta = dict(preset=name, cutoff=cutoff, r_min=r_min, options={
        k: (list(v) if isinstance(v, tuple) else v) for k, v in options.items()}, seed=seed)
    if filters_from is not None:
        # the knots are the source's, not those the data would have given
        meta.update(r_min=min(s.x0 for s in model.radial_splines),
                    filters_from=dict(species=list(filters_from.species),
                                      metadata=filters_from.metadata))
        meta["options"]["triplet_cutoff"] = max((s.x1 for row in model.f for s in row),
                                                default=0.0)
    if shared:
        meta["shared_filters"] = True
    return dataclasses.replace(model, metadata=meta), data


def _with_filters(model, source):
    """``model`` with the rho, f, g and Legendre filters of ``source`` for every neighbour species."""
    try:
        one = share_filters(source)
    except ValueError as exc:
        raise ValueError(f"filters to take over must be one set for all neighbour species: "
                         f"{exc}") from None
    if not one.equals(source):
        raise ValueError("filters to take over must be the same for every neighbour species "
                         f"(a one-species model or shared filters); {source.species} has "
                         "different ones")
    S, P = model.n_species, model.n_species * (model.n_species + 1) // 2
    legendre = [dataclasses.replace(filt, f=[filt.f[0]] * S, c=np.repeat(filt.c[:1], P, axis=0))
                for filt in source.legendre]
    return dataclasses.replace(model, rho=[[row[0]] * S for row in source.rho],
                               f=[[row[0]] * S for row in source.f],
                               g=[[row[0]] * P for row in source.g], legendre=legendre)


def _standardised(model, G_nf, species_n, scaling):
    """Set the MLP input offsets and scales from the descriptors; shrink the last layer.

    The offsets are the descriptors' means over the training atoms. The scales
    are their root mean squares (``rms``) or their standard deviations
    (``std``). With ``std`` a descriptor that varies little over the data
    (a filter of a distant shell in near-crystalline data, a weak triplet
    filter) gets a tiny scale, so a structure slightly outside the data
    moves that input by many units, where the network extrapolates freely:
    that made the equations of state of fitted metals wiggle (the network's
    curvature, not the filters', gave local bulk moduli of -800 to +1000 GPa
    on Ni). The rms keeps an input's unit the size of the descriptor itself.

    A small last layer starts the fit near the e0-only model, so the first
    iterations are not spent undoing random energies.
    """
    ro = model.readout
    offset = np.array(ro.offset)
    scale = np.array(ro.scale)
    for a in range(model.n_species):
        G = G_nf[species_n == a]
        if len(G):
            offset[a] = G.mean(axis=0)
            spread = G.std(axis=0) if scaling == "std" else np.sqrt((G ** 2).mean(axis=0))
            scale[a] = np.maximum(spread, 1e-3 * (np.abs(G).max(axis=0) + 1e-12) + 1e-8)
    weights = [list(layers[:-2]) + [0.1 * layers[-2], layers[-1]] for layers in ro.weights]
    return dataclasses.replace(model, readout=MLPReadout(ro.activation, ro.hidden, weights,
                                                         offset, scale))


def _with_embedding(model, G_nf, n_knots):
    """Replace the readout by a spline U over the range of G_rho + G_t (with margin)."""
    x = G_nf[:, 0] + G_nf[:, 1]
    lo, hi = float(min(x.min(), 0.0)), float(x.max())
    span = max(hi - lo, 1e-3)
    lo, hi = lo - 0.1 * span, hi + 0.1 * span
    knots = np.linspace(lo, hi, n_knots)
    # a concave, Finnis-Sinclair-like start: -sqrt of the density shifted to be positive
    values = -np.sqrt(knots - lo + 0.1 * span)
    d0 = -0.5 / np.sqrt(0.1 * span)
    dN = -0.5 / np.sqrt(hi - lo + 0.1 * span)
    U = [Spline(lo, hi, values, d0, dN) for _ in model.species]
    return Model(model.species, model.rho, model.f, model.g, model.phi, SplineReadout(U),
                 model.e0, model.metadata, model.core)


def fit_e0(model, frames, data=None):
    """The model with reference energies e0 refitted to reference frames.

    Solves the linear least-squares problem over structures s
    ``min sum_s ((E_s - Ehat_s - sum_a c_sa de0_a) / N_s)^2`` for the
    shifts ``de0`` (``c_sa``: number of atoms of species a), i.e. the
    per-atom energy error of the model's other terms is absorbed by e0.

    Parameters
    ----------
    model : Model
    frames : list of snnp_calc.dataset.Frame
    data : snnp_calc.fitting.training_set.TrainingSet, optional
        ``frames`` already packed at the model's cutoff.

    Returns
    -------
    Model
    """
    data = data or pack_frames(frames, model.species, model.cutoff)
    counts = np.array([np.bincount(model.species_indices(f.atoms.numbers),
                                   minlength=model.n_species) for f in frames], float)
    n_atoms = counts.sum(axis=1)
    residual = data.E_ref_s - predict_packed(model, data)[0]
    present = counts.sum(axis=0) > 0
    shift = np.zeros(model.n_species)
    shift[present] = np.linalg.lstsq(counts[:, present] / n_atoms[:, None], residual / n_atoms,
                                     rcond=None)[0]
    vector = model.to_vector()
    vector[-model.n_species:] += shift
    return model.from_vector(vector)


def start_model(model_or_preset, frames, weights, *, cutoff=None, seed=0, init_filters=None,
                share=False, **preset_options):
    """The model a fit starts from.

    Parameters
    ----------
    model_or_preset : Model or str
        A model (e.g. a checkpoint) is used as it is (with its filters tied
        across species if ``share``); a preset name of :data:`PRESETS` is built
        from ``frames`` by :func:`preset_model` and then set to the exact
        solution of its linear version (:func:`snnp_calc.fitting.linear.linear_start`).
    frames : list of Frame
        The frames the fit trains on.
    weights : snnp_calc.fitting.loss.LossWeights
        Weights of the linear start's least-squares problem.
    cutoff, seed, **preset_options
        For :func:`preset_model`.
    init_filters : Model or path, optional
        Take the filters of this model (:func:`preset_model`'s ``filters_from``).
    share : bool
        One set of filters for all neighbour species.
    """
    if isinstance(model_or_preset, Model):
        return share_filters(model_or_preset) if share else model_or_preset
    if is_path(init_filters):
        init_filters = read_model(init_filters, committee=False)
    model, data = _preset(model_or_preset, frames, cutoff, None, seed, init_filters, share,
                          **preset_options)
    return linear_start(model, data.frames, weights, data=data)
