"""Fitting a committee: N models from different seeds on bootstrap resamples of the data.

See :mod:`snnp_calc.model.committee` for what a committee predicts.
"""
from ..dataset import FrameKeys, frames_of
from ..metrics import error_report
from ..model.committee import Committee
from .driver import fit


def fit_committee(n, model_or_preset, train, test=None, *, seed=0, progress=print, **options):
    """Fit ``n`` models with seeds ``seed .. seed+n-1`` on bootstrap resamples.

    Parameters
    ----------
    n : int
        Members, at least 2.
    model_or_preset, train, test, **options
        As for :func:`snnp_calc.fitting.driver.fit` (each member gets its own seed,
        hence its own validation split, resample and starting weights).

    Returns
    -------
    committee : Committee
    report : dict
        ``members``: each member's fit report; ``test``: the committee's
        error report on ``test`` (when given).
    """
    if n < 2:
        raise ValueError(f"a committee needs at least 2 members, got {n}")
    say = progress or (lambda line: None)
    members, reports = [], []
    for k in range(n):
        say(f"committee member {k + 1} of {n} (seed {seed + k})")
        model, report = fit(model_or_preset, train, test, seed=seed + k, bootstrap=True,
                            progress=progress, **options)
        members.append(model)
        reports.append(report)
    committee = Committee(members, {"committee": dict(n=n, seed=seed, bootstrap=True)})
    out = {"members": reports}
    if test is not None:
        keys = options.get("keys")
        out["test"] = error_report(committee, frames_of(test, keys if isinstance(keys, FrameKeys)
                                                        else FrameKeys(**(keys or {}))))
        committee.metadata["committee"]["test_errors"] = out["test"]
    return committee, out
