"""Fitting: ``fit(model_or_preset, train, ...) -> (model, report)``.

The optimiser sees the reduced vector z of
:class:`snnp_calc.model.reparam.Reparametrisation` (the model's free vector
``Model.to_vector`` with frozen, shared and constrained entries mapped out;
for L-BFGS also scaled by the Jacobi preconditioner) and the pure functions
of :mod:`snnp_calc.fitting.loss`. ``method="lbfgs"`` runs
``scipy.optimize.minimize(method="L-BFGS-B")`` with the exact gradient;
``method="lsq"`` runs ``scipy.optimize.least_squares`` with the exact
Jacobian of :mod:`snnp_calc.fitting.jacobian` (for models and data whose Jacobian
fits in memory).

The start comes from :func:`snnp_calc.fitting.start.start_model`: a preset
starts from the exact solution of its linear version (the filters' starting
shapes with a linear readout, which already comes close to s-MEAM accuracy).

Training control: a held-out validation split (``validation`` fraction of
the training frames, drawn with ``seed``) for early stopping (``patience``
iterations without a better validation loss); the model with the best
validation loss is kept and returned. A checkpoint (that model, in JSON) is
written atomically every ``checkpoint_every`` iterations; ``fit`` can start
from a checkpoint (pass it as the model). Ctrl-C stops cleanly and returns
the best model so far.

Data-parallel fits (``comm``, an mpi4py communicator; :mod:`snnp_calc.fitting.parallel`):
rank 0 builds the start and shares it; every rank packs one block of the
training and validation structures; loss, gradient, preconditioner and
reports are summed over the ranks, so all ranks run the same optimiser steps
and return the same model; rank 0 alone reports progress and writes
checkpoints; the time limit is rank 0's clock.
"""
import dataclasses
import datetime
import itertools
import time

import numpy as np
from scipy.optimize import least_squares, minimize

from ..dataset import FrameKeys, frames_of
from ..metrics import error_report, format_report, predict
from ..model.reparam import Reparametrisation
from .loss import LossWeights
from .objective import Objective
from .parallel import Interrupts, Ranks
from .ranges import distance_range
from .start import start_model
from .tracker import Stop, Tracker
from .training_set import block_of, check_memory, pack_frames, spread_sample

# Defaults: a fit is meant to take minutes on a laptop.
MAX_ITER = 10000
MAX_TIME = 900.0
# The preconditioner is estimated on a spread sample of at most this many training atoms.
PRECONDITIONER_ATOMS = 30000


def split_frames(frames, fraction, seed):
    """Deterministic (train, validation) split that keeps neighbouring frames together.

    ``round(fraction * len(frames))`` frames are held out, shared among the
    ``config_type`` s in proportion to their sizes; each type gives one
    contiguous block of its frames (in file order) at a start drawn with ``seed``.
    Snapshots next to each other on an MD trajectory are nearly copies; a
    random split puts such pairs on both sides and makes the validation loss
    an optimistic and noisy guide (it ended default fits at a fifth of their
    budget). A block is a stretch of trajectory the fit has not seen.
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"validation fraction must be in [0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    types = sorted({f.config_type for f in frames})
    members = {t: [k for k, f in enumerate(frames) if f.config_type == t] for t in types}
    # round(fraction * N) frames in all, shared among the types by largest remainder
    want = np.array([fraction * len(members[t]) for t in types])
    quota = np.floor(want).astype(int)
    extra = int(round(fraction * len(frames))) - quota.sum()
    quota[np.argsort(quota - want, kind="stable")[:max(extra, 0)]] += 1
    held = set()
    for t, n_val in zip(types, quota):
        if n_val:
            first = int(rng.integers(0, len(members[t]) - n_val + 1))
            held.update(members[t][first:first + n_val])
    return ([f for k, f in enumerate(frames) if k not in held],
            [f for k, f in enumerate(frames) if k in held])


def fit(model_or_preset, train, test=None, *, weights=None, method="lbfgs",
        max_iter=MAX_ITER, max_time=MAX_TIME, validation=0.1, patience=200, seed=0, cutoff=None,
        checkpoint=None, checkpoint_every=25, progress=print, freeze=(), share_filters=False, init_filters=None,
        bootstrap=False, constraints=(), core_radius=None, keys=None, comm=None,
        **preset_options):
    """Fit an s-NNP to reference data.

    Parameters
    ----------
    model_or_preset : Model or {"s-nnp", "s-meam"}
        A starting model (e.g. a checkpoint, to resume) or a preset name,
        built from the training data by :func:`snnp_calc.fitting.start.start_model`.
    train, test : str, list of str or list of Frame
        Extended-XYZ path(s) or frames; ``test`` is only reported.
    weights : LossWeights, optional
    method : {"lbfgs", "lsq"}
    max_iter : int
        Optimiser iterations at most.
    max_time : float or None
        Wall-time limit of the whole fit, s, counted from the call (building
        the start counts); checked after every iteration. None: no limit.
    validation : float
        Fraction of ``train`` held out for early stopping (0: none).
    patience : int
        Iterations without a better validation loss before stopping.
    seed : int
        Seeds the split and the starting model: the same seed gives the same fit.
    cutoff : float, optional
        Å, for presets.
    checkpoint : str, optional
        Path of the checkpoint written every ``checkpoint_every`` iterations.
    progress : callable or None
        Receives one line of text per iteration.
    freeze : sequence of str
        Parameter groups held at their starting values
        (:data:`snnp_calc.model.reparam.GROUPS`, e.g. ``("filters",)``).
    share_filters : bool
        One set of filters for all neighbour species (per-species readouts),
        e.g. to fit several elements' data jointly.
    init_filters : Model or str, optional
        Take the filters (and cutoff) of this model for a preset's start.
    bootstrap : bool
        Fit to a resample (with replacement, drawn with ``seed``) of the
        training frames left after the validation split (committee members).
    constraints : sequence of str
        Physical constraints, kept exactly (bounds of the optimiser):
        ``"repulsive-core"`` (the pair term rises monotonically towards r = 0
        below ``core_radius``) and ``"convex-readout"`` (the network is convex
        in its inputs); see :func:`snnp_calc.model.reparam.constraint_columns`.
    core_radius : float, optional
        Å; default: the shortest interatomic distance in the training data.
    keys : FrameKeys or dict, optional
        Where the files keep energies, forces, stresses or virials and config
        types (:class:`snnp_calc.dataset.FrameKeys`, e.g.
        ``{"energy": "REF_energy", "forces": "REF_forces", "virial": "REF_virial"}``).
    comm : mpi4py.MPI.Comm, optional
        Fit data-parallel over the ranks of this communicator (run under
        ``mpiexec``; see the module docstring); every rank returns the same
        model. Default: serial, mpi4py not needed.
    **preset_options
        Passed to :func:`snnp_calc.fitting.start.preset_model` (``n_rho``, ``hidden``, ...).

    Returns
    -------
    model : Model
        The best model by validation loss, its errors in ``metadata["fit"]``.
    report : dict
        ``{"train": ..., "validation": ..., "test": ...}`` error reports
        (:func:`snnp_calc.metrics.error_report`), ``iterations``, ``seconds``,
        ``stopped`` (why), ``best_iteration`` and ``best_loss`` (validation
        loss of the returned model, or training loss without validation).
    """
    started = time.perf_counter()
    ranks = Ranks(comm)
    say = progress if progress and ranks.root else (lambda line: None)
    keys = keys if isinstance(keys, FrameKeys) else FrameKeys(**(keys or {}))
    test_frames = frames_of(test, keys) if test is not None else None
    fit_frames, val_frames = _fit_and_validation(frames_of(train, keys), validation, seed,
                                                 bootstrap)
    weights = weights or LossWeights()
    _check_ranks(ranks, method, fit_frames, val_frames)
    model, core_radius = _shared_start(ranks, model_or_preset, fit_frames, weights, constraints,
                                       core_radius, cutoff=cutoff, seed=seed,
                                       init_filters=init_filters, share=share_filters,
                                       **preset_options)
    reparam = Reparametrisation(model, freeze, share_filters, constraints, core_radius)
    if constraints:
        # the start, moved onto the constraints, competes as the best model so far
        model = model.from_vector(reparam.full(reparam.start()))
    data = _pack_block(ranks, fit_frames, model, "training")
    val_set = _pack_block(ranks, val_frames, model, "validation") if val_frames else None
    objective = Objective(model, reparam, data, weights, ranks,
                          _preconditioner_sample(fit_frames, data))
    say(f"fitting {reparam.n} parameters and {objective.n_c} stress offsets on "
        f"{len(fit_frames)} structures ({data.block.n_atoms} atoms), validating on "
        f"{len(val_frames)}; cutoff {model.cutoff:g} Å, method {method}"
        + (f"; {ranks.size} MPI ranks" if ranks.size > 1 else ""))
    tracker = Tracker(objective, val_set, max_iter, patience, checkpoint, checkpoint_every, say,
                      max_time, started)
    with Interrupts(ranks) as tracker.interrupts:
        stopped = _optimise(method, objective, tracker, seed)
    best = tracker.best_model()
    report = _report(tracker, objective, stopped, time.perf_counter() - started, say,
                     train=fit_frames, validation=val_frames, test=test_frames)
    settings = dict(method=method, seed=seed, weights=dataclasses.asdict(weights),
                    freeze=list(freeze), constraints=list(constraints), core_radius=core_radius,
                    share_filters=bool(share_filters), bootstrap=bool(bootstrap),
                    n_train=len(fit_frames), n_validation=len(val_frames))
    date = ranks.share(datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    return _with_fit_metadata(best, settings, report, date), report


def _shared_start(ranks, model_or_preset, frames, weights, constraints, core_radius,
                  **options):
    """The starting model and core radius, built once on rank 0 and shared with every rank.

    A failure on rank 0 (bad data, say) stops every rank.
    """
    def build():
        model = start_model(model_or_preset, frames, weights, **options)
        radius = core_radius
        if "repulsive-core" in constraints and radius is None:
            radius = distance_range(frames)[0]
        return model, radius

    return ranks.share(ranks.together(build if ranks.root else lambda: None))


def _check_ranks(ranks, method, fit_frames, val_frames):
    """Refuse, before any work, what a data-parallel fit cannot do."""
    if ranks.size == 1:
        return
    if method != "lbfgs":
        raise ValueError(f"method {method!r} runs on one process; use method 'lbfgs' with MPI")
    for name, frames in (("training", fit_frames), ("validation", val_frames)):
        if frames and len(frames) < ranks.size:
            raise ValueError(f"{len(frames)} {name} structures cannot be shared by "
                             f"{ranks.size} MPI ranks; use fewer ranks")


def _pack_block(ranks, frames, model, name):
    """This rank's block of ``frames``, packed (a failure on any rank stops every rank)."""
    part = ranks.block([len(f.atoms) for f in frames])
    sharing = ranks.on_node()

    def pack():
        check_memory(frames[part], model, name, sharing)
        return pack_frames(frames[part], model.species, model.cutoff, block_of(frames, part))

    return ranks.together(pack)


def _preconditioner_sample(frames, data):
    """This rank's part of the spread sample the preconditioner is estimated on, and its Block.

    At most :data:`PRECONDITIONER_ATOMS` atoms: the estimate costs 17
    gradient evaluations, 70 s on 100k atoms, and scales only the steps.
    """
    sample = spread_sample(frames, PRECONDITIONER_ATOMS)
    if len(sample) == len(frames):
        return None
    b = data.block
    lo, hi = np.searchsorted(sample, [b.s0, b.s0 + data.n_structures])
    block = block_of([frames[k] for k in sample], slice(lo, hi))
    if lo == hi:
        return None, block
    return dataclasses.replace(data.subset(sample[lo:hi] - b.s0), block=block), block


def _errors(ranks, model, frames):
    """:func:`~snnp_calc.metrics.error_report` of ``frames``, each rank predicting one block."""
    part = ranks.block([len(f.atoms) for f in frames])
    predictions = ranks.gather(ranks.together(predict, model, frames[part]))
    return ranks.share(error_report(model, frames, predictions) if ranks.root else None)


def _fit_and_validation(frames, fraction, seed, bootstrap):
    """The frames to fit and to validate on; with ``bootstrap`` the former resampled."""
    fit_frames, val_frames = split_frames(frames, fraction, seed)
    if bootstrap:
        draw = np.random.default_rng([seed, 1]).integers(0, len(fit_frames), len(fit_frames))
        fit_frames = [fit_frames[k] for k in draw]
    return fit_frames, val_frames


def _report(tracker, objective, stopped, seconds, say, **frame_sets):
    """The fit's report: how it stopped and the best model's errors on each frame set."""
    best = tracker.best_model()
    say(f"stopped after {tracker.iteration} iterations, {seconds:.1f} s: {stopped}; best "
        f"iteration {tracker.best[2]}")
    report = dict(iterations=tracker.iteration, seconds=seconds, stopped=stopped,
                  best_iteration=tracker.best[2], best_loss=float(tracker.best[0]),
                  stress_offsets_GPa=objective.stress_offsets(tracker.best[1]))
    if tracker.checkpoint_error:
        report["checkpoint_error"] = tracker.checkpoint_error
    for name, frames in frame_sets.items():
        if frames:
            report[name] = _errors(objective.ranks, best, frames)
            say(f"\n{name} errors:\n{format_report(report[name])}")
    # rank 0's times and messages, so that every rank returns the same report
    return objective.ranks.share(report)


def _optimise(method, objective, tracker, seed):
    """Run the optimiser until it converges or the tracker stops it; returns why it stopped."""
    try:
        if method == "lbfgs":
            return _run_lbfgs(objective, tracker, seed=seed)
        if method == "lsq":
            return _run_lsq(objective, tracker)
        raise ValueError(f"unknown method {method!r}; expected 'lbfgs' or 'lsq'")
    except Stop as stop:
        return str(stop)
    except KeyboardInterrupt:
        return "interrupted (Ctrl-C): keeping the best model so far"
    except Exception as err:
        # met by this rank alone (a failed progress line, say): the others would wait
        if objective.ranks.size > 1:
            objective.ranks.abort(err)
        raise


def _with_fit_metadata(model, settings, report, date):
    """``model`` with ``metadata["fit"]``: ``date``, ``settings``, the run's figures and errors."""
    fit_meta = dict(
        date=date,
        **settings,
        **{k: report[k] for k in ("iterations", "seconds", "stopped", "best_iteration",
                                  "best_loss", "stress_offsets_GPa")},
        errors={k: report[k] for k in ("train", "validation", "test") if k in report})
    meta = dict(model.metadata, fit=fit_meta)
    meta.pop("checkpoint", None)
    return dataclasses.replace(model, metadata=meta)


def _run_lbfgs(objective, tracker, rescale_every=200, seed=0):
    """L-BFGS-B on diagonally preconditioned parameters, restarted with fresh scales.

    The parameters span many orders of magnitude in their effect on the
    residuals (spline knots of a filter against weights of a hidden layer),
    which makes plain L-BFGS crawl. It runs on ``y`` with
    ``u = u_start + scale * y`` (u: :class:`~snnp_calc.fitting.objective.Objective`'s
    vector) and ``scale = 1/sqrt(diag(J^T J))``, the Gauss-Newton diagonal
    (:func:`snnp_calc.fitting.loss.gauss_newton_diagonal`), i.e. Jacobi
    preconditioning; every ``rescale_every`` iterations the scales are
    re-estimated at the current point and L-BFGS restarts from there. On Mo
    (s-nnp preset) this reached in 1000 iterations a loss 40 % below that of
    1100 unpreconditioned ones, and halved the test force error.
    """
    last = {}
    u = objective.start()
    lower, upper = objective.bounds()
    for restart in itertools.count():
        diag = objective.gauss_newton_diagonal(u, seed + restart)
        positive = diag[diag > 0]
        # parameters without effect yet (units behind zero weights) get a typical scale
        floor = 1e-3 * np.median(positive) if len(positive) else 1.0
        scale = 1.0 / np.sqrt(diag + floor)
        u_start = u

        def fun(y):
            loss, grad = objective(u_start + scale * y)
            last.update(loss=loss, rmse=objective.last_rmse)
            return loss, grad * scale

        def callback(intermediate_result):
            tracker(u_start + scale * intermediate_result.x, last["loss"], last["rmse"])

        bounds = list(zip((lower - u_start) / scale, (upper - u_start) / scale))
        result = minimize(fun, np.zeros_like(u), jac=True, method="L-BFGS-B", callback=callback,
                          bounds=bounds, options=dict(maxiter=rescale_every, maxcor=30,
                                                      ftol=0.0, gtol=1e-12,
                                                      maxfun=10 * rescale_every + 100))
        u = u_start + scale * result.x
        if result.nit <= 1:
            # converged: no progress even right after a restart
            return str(result.message)


def _run_lsq(objective, tracker):
    """``scipy.optimize.least_squares`` (trust region) with the exact Jacobian."""
    def jac(u):
        r, J = objective.residuals_and_jacobian(u)
        tracker(u, float(r @ r), objective.last_rmse)
        return J

    result = least_squares(objective.residuals, objective.start(), jac=jac, method="trf",
                           x_scale="jac", bounds=objective.bounds(),
                           max_nfev=10 * tracker.max_iter + 10, xtol=1e-15, ftol=1e-15,
                           gtol=1e-15)
    return str(result.message)
