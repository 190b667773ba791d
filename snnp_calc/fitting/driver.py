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
"""
import dataclasses
import datetime
import itertools
import time

import numpy as np
from scipy.optimize import least_squares, minimize

from ..dataset import FrameKeys, frames_of
from ..io import write_model
from ..metrics import error_report, format_report
from ..model.reparam import Reparametrisation
from .loss import LossWeights, ParameterMap, Workspace
from .objective import Objective, rmse
from .ranges import distance_range
from .start import start_model
from .training_set import pack_frames

# Defaults: a fit is meant to take minutes on a laptop.
MAX_ITER = 10000
MAX_TIME = 900.0


class _Stop(Exception):
    """Raised inside the optimiser's callback to end the run."""


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


class _Tracker:
    """Progress, validation, early stopping and checkpoints along the optimisation.

    Early stopping compares a smoothed validation loss (exponential moving
    average over about ``SMOOTHING`` iterations) with its best value: it stops
    when that is ``patience`` iterations old, or a quarter of the iterations
    the budget allows (whichever is more), so that a noisy split cannot end a
    fit early in its budget. The model returned is the one of the lowest
    (unsmoothed) validation loss.
    """

    SMOOTHING = 20
    BUDGET_FRACTION = 0.25

    def __init__(self, objective, val_set, max_iter, patience, checkpoint, checkpoint_every,
                 progress, max_time, start):
        self.objective, self.val_set = objective, val_set
        self.template = objective.model
        self.max_iter, self.patience, self.max_time = max_iter, patience, max_time
        self.checkpoint, self.checkpoint_every = checkpoint, checkpoint_every
        self.progress = progress
        self.start = start
        self.iteration = 0
        self.first_step = None
        self.checkpoint_error = None
        u0 = objective.start()
        self.best = (np.inf, u0, 0)
        self.smoothed = (np.inf, np.inf, 0)    # (current EMA, best EMA, its iteration)
        if val_set is not None:
            self.val_pmap = ParameterMap(self.template)
            self.val_ws = Workspace(val_set, self.template)
            # the starting model competes too: a resumed fit never ends worse than it began
            self.best = (self.validation_loss(u0)[0], u0, 0)

    def validation_loss(self, u):
        if self.val_set is None:
            return np.nan, (np.nan, np.nan)
        loss = self.objective.loss_on(self.val_set, u, self.val_pmap, self.val_ws)
        return loss, rmse(self.val_ws, self.val_set)

    def budget(self, elapsed):
        """Iterations the limits allow, projected from the pace so far."""
        if not self.max_time or self.first_step is None or self.iteration < 2:
            return self.max_iter
        pace = (elapsed - self.first_step) / (self.iteration - 1)
        projected = self.iteration + (self.max_time - elapsed) / max(pace, 1e-9)
        return min(self.max_iter, projected)

    def __call__(self, u, loss, train_rmse):
        self.iteration += 1
        elapsed = time.perf_counter() - self.start
        if self.first_step is None:
            self.first_step = elapsed
        val_loss, val_rmse = self.validation_loss(u)
        score = val_loss if self.val_set is not None else loss
        if score < self.best[0]:
            self.best = (score, np.array(u), self.iteration)
        ema = score if not np.isfinite(self.smoothed[0]) else (
            self.smoothed[0] + (score - self.smoothed[0]) / self.SMOOTHING)
        self.smoothed = ((ema, ema, self.iteration) if ema < self.smoothed[1]
                         else (ema,) + self.smoothed[1:])
        eta = elapsed / self.iteration * (self.max_iter - self.iteration)
        if self.max_time:
            eta = min(eta, self.max_time - elapsed)
        if self.progress:
            self.progress(f"{self.iteration:6d}  loss {loss:11.5e}  train E {train_rmse[0]:8.3f} "
                          f"F {train_rmse[1]:7.4f}  val E {val_rmse[0]:8.3f} F {val_rmse[1]:7.4f}"
                          f"  {elapsed:7.1f}s  ETA {max(eta, 0):7.1f}s")
        if self.checkpoint and self.iteration % self.checkpoint_every == 0:
            try:
                self.write_checkpoint()
            except OSError as err:
                # a full disk or a vanished folder must not cost the fit: keep going
                self.checkpoint_error = f"{self.checkpoint}: {err}"
                if self.progress:
                    self.progress(f"checkpoint not written ({self.checkpoint_error}); "
                                  "fitting on")
        patience = max(self.patience, self.BUDGET_FRACTION * self.budget(elapsed))
        if self.iteration - self.smoothed[2] >= patience:
            raise _Stop(f"early stop: no better smoothed validation loss in {patience:.0f} "
                        "iterations")
        if self.max_time and elapsed >= self.max_time:
            raise _Stop(f"time limit of {self.max_time:g} s reached")
        if self.iteration >= self.max_iter:
            raise _Stop(f"{self.max_iter} iterations done")

    def best_model(self):
        return self.template.from_vector(self.objective.model_vector(self.best[1]))

    def write_checkpoint(self):
        meta = dict(self.template.metadata, checkpoint=dict(
            iteration=self.iteration, best_iteration=self.best[2],
            best_loss=float(self.best[0]), elapsed_s=time.perf_counter() - self.start))
        write_model(dataclasses.replace(self.best_model(), metadata=meta), self.checkpoint)


def fit(model_or_preset, train, test=None, *, weights=None, method="lbfgs",
        max_iter=MAX_ITER, max_time=MAX_TIME, validation=0.1, patience=200, seed=0, cutoff=None,
        checkpoint=None, checkpoint_every=25, progress=print, freeze=(), share_filters=False, init_filters=None,
        bootstrap=False, constraints=(), core_radius=None, keys=None, **preset_options):
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
    say = progress or (lambda line: None)
    keys = keys if isinstance(keys, FrameKeys) else FrameKeys(**(keys or {}))
    test_frames = frames_of(test, keys) if test is not None else None
    fit_frames, val_frames = _fit_and_validation(frames_of(train, keys), validation, seed,
                                                 bootstrap)
    weights = weights or LossWeights()
    model = start_model(model_or_preset, fit_frames, weights, cutoff=cutoff, seed=seed,
                        init_filters=init_filters, share=share_filters, **preset_options)
    if "repulsive-core" in constraints and core_radius is None:
        core_radius = distance_range(fit_frames)[0]
    reparam = Reparametrisation(model, freeze, share_filters, constraints, core_radius)
    if constraints:
        # the start, moved onto the constraints, competes as the best model so far
        model = model.from_vector(reparam.full(reparam.start()))
    data = pack_frames(fit_frames, model.species, model.cutoff)
    val_set = pack_frames(val_frames, model.species, model.cutoff) if val_frames else None
    objective = Objective(model, reparam, data, weights)
    say(f"fitting {reparam.n} parameters and {objective.n_c} stress offsets on "
        f"{len(fit_frames)} structures ({len(data.species_n)} atoms), validating on "
        f"{len(val_frames)}; cutoff {model.cutoff:g} Å, method {method}")
    tracker = _Tracker(objective, val_set, max_iter, patience, checkpoint, checkpoint_every, say,
                       max_time, started)
    stopped = _optimise(method, objective, tracker, seed)
    best = tracker.best_model()
    report = _report(tracker, objective, stopped, time.perf_counter() - started, say,
                     train=fit_frames, validation=val_frames, test=test_frames)
    settings = dict(method=method, seed=seed, weights=dataclasses.asdict(weights),
                    freeze=list(freeze), constraints=list(constraints), core_radius=core_radius,
                    share_filters=bool(share_filters), bootstrap=bool(bootstrap),
                    n_train=len(fit_frames), n_validation=len(val_frames))
    return _with_fit_metadata(best, settings, report), report


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
            report[name] = error_report(best, frames)
            say(f"\n{name} errors:\n{format_report(report[name])}")
    return report


def _optimise(method, objective, tracker, seed):
    """Run the optimiser until it converges or the tracker stops it; returns why it stopped."""
    try:
        if method == "lbfgs":
            return _run_lbfgs(objective, tracker, seed=seed)
        if method == "lsq":
            return _run_lsq(objective, tracker)
        raise ValueError(f"unknown method {method!r}; expected 'lbfgs' or 'lsq'")
    except _Stop as stop:
        return str(stop)
    except KeyboardInterrupt:
        return "interrupted (Ctrl-C): keeping the best model so far"


def _with_fit_metadata(model, settings, report):
    """``model`` with ``metadata["fit"]``: date, ``settings``, the run's figures and errors."""
    fit_meta = dict(
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
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
