"""Progress, validation, early stopping and checkpoints of one optimisation: :class:`Tracker`.

The optimiser calls the tracker after every iteration with the current
parameters; it validates them, keeps the best, prints one line, writes
checkpoints and raises :class:`Stop` when a limit is reached or the
validation loss has stopped improving.
"""
import dataclasses
import time

import numpy as np

from ..io import write_model
from .loss import ParameterMap, Workspace


class Stop(Exception):
    """Raised inside the optimiser's callback to end the run."""


class Tracker:
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
        # ranks other than 0 neither print nor write; the caller passes them no progress
        ranks = objective.ranks
        checkpoint = checkpoint if ranks.root else None
        self.objective, self.val_set = objective, val_set
        self.template = objective.model
        self.max_iter, self.patience, self.max_time = max_iter, patience, max_time
        self.checkpoint, self.checkpoint_every = checkpoint, checkpoint_every
        self.progress = progress
        self.start = start
        self.iteration = 0
        self.first_step = None
        self.checkpoint_error = None
        self.interrupts = None     # a parallel.Interrupts, in data-parallel fits
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
        return loss, self.objective.rmse_on(self.val_set, self.val_ws)

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
        ranks = self.objective.ranks
        if ranks.size > 1:
            # every rank must take the same decisions: rank 0's clock rules, and a Ctrl-C
            # seen by any rank (parallel.Interrupts) stops all at this iteration
            elapsed, interrupted = ranks.sum(np.array(
                [elapsed if ranks.root else 0.0, float(bool(self.interrupts and
                                                            self.interrupts.seen))]))
            if interrupted:
                raise Stop("interrupted (Ctrl-C): keeping the best model so far")
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
            raise Stop(f"early stop: no better smoothed validation loss in {patience:.0f} "
                        "iterations")
        if self.max_time and elapsed >= self.max_time:
            raise Stop(f"time limit of {self.max_time:g} s reached")
        if self.iteration >= self.max_iter:
            raise Stop(f"{self.max_iter} iterations done")

    def best_model(self):
        return self.template.from_vector(self.objective.model_vector(self.best[1]))

    def write_checkpoint(self):
        meta = dict(self.template.metadata, checkpoint=dict(
            iteration=self.iteration, best_iteration=self.best[2],
            best_loss=float(self.best[0]), elapsed_s=time.perf_counter() - self.start))
        write_model(dataclasses.replace(self.best_model(), metadata=meta), self.checkpoint)
