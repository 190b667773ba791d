"""Committees of s-NNP models: the mean prediction and the members' spread.

A committee is N models of the same species fitted from different seeds
and bootstrap resamples of the training data (:func:`fit_committee`). It
predicts the members' mean; the sample standard deviation over members
(``ddof=1``) of the energy, per-atom energies and force components is an
uncertainty estimate that grows where the data did not pin the model down
(query by committee: Seung, Opper and Sompolinsky, COLT 1992; for
interatomic potentials e.g. Smith et al., J. Chem. Phys. 148, 241733 (2018)).

File: one JSON document ``{"format": "snnp-committee", "version": 1,
"members": [N model documents], "metadata": {...}}``, each member in the
model format of :mod:`snnp_calc.io_json`, checked as strictly.
"""
from dataclasses import dataclass, field

import numpy as np

from . import io_json
from .io import ModelFileError
from .model import Model
from .potential import evaluate_pairs, neighbour_pairs

FORMAT = "snnp-committee"
VERSION = 1


@dataclass(frozen=True, eq=False)
class Committee:
    """N >= 2 models of the same species (in the same order)."""

    members: tuple
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        members = tuple(self.members)
        if len(members) < 2:
            raise ValueError(f"a committee needs at least 2 models, got {len(members)}")
        for k, m in enumerate(members):
            if not isinstance(m, Model):
                raise TypeError(f"member {k} is a {type(m).__name__}, not a Model")
            if m.species != members[0].species:
                raise ValueError(f"member {k} has species {m.species}, member 0 "
                                 f"{members[0].species}")
        object.__setattr__(self, "members", members)
        object.__setattr__(self, "metadata", dict(self.metadata))

    @property
    def species(self):
        return self.members[0].species

    @property
    def cutoff(self):
        return max(m.cutoff for m in self.members)

    def species_indices(self, numbers):
        return self.members[0].species_indices(numbers)


def evaluate_committee(committee, numbers, positions, cell, pbc, parallel=None):
    """Mean of the members' :func:`snnp_calc.potential.evaluate` and their spread.

    Returns
    -------
    dict
        The keys of :func:`~snnp_calc.potential.evaluate`, averaged over
        members, plus ``energy_std`` (eV), ``energies_std`` (n,) eV and
        ``forces_std`` (n, 3) eV/Å: standard deviations over members, ddof=1.
    """
    # one neighbour list at the largest cutoff; each member drops the pairs beyond its own
    pairs = neighbour_pairs(positions, cell, pbc, committee.cutoff)
    species_n = committee.species_indices(numbers)
    runs = [evaluate_pairs(m, pairs, species_n, parallel) for m in committee.members]
    out = {key: np.mean([r[key] for r in runs], axis=0) for key in runs[0]
           if key != "descriptors"}
    out["energy"] = float(out["energy"])
    for key in ("energy", "energies", "forces"):
        out[key + "_std"] = np.std([r[key] for r in runs], axis=0, ddof=1)
    out["energy_std"] = float(out["energy_std"])
    return out


def to_dict(committee):
    """The committee document as plain Python objects."""
    return {"format": FORMAT, "version": VERSION,
            "members": [io_json.to_dict(m) for m in committee.members],
            "metadata": dict(committee.metadata)}


def dumps(committee):
    """The committee file text."""
    return io_json.dumps_document(to_dict(committee))


def from_dict(d, source="<dict>"):
    """Build a :class:`Committee` from a parsed document; errors name ``source`` and the key."""
    if not isinstance(d, dict):
        raise ModelFileError(f"{source}: expected an object")
    expected = {"format", "version", "members", "metadata"}
    if set(d) != expected:
        missing, extra = sorted(expected - set(d)), sorted(set(d) - expected)
        raise ModelFileError(f"{source}: committee keys: missing {missing}, unknown {extra}")
    if d["format"] != FORMAT:
        raise ModelFileError(f"{source}: format: expected {FORMAT!r}, got {d['format']!r}")
    if d["version"] != VERSION or isinstance(d["version"], bool):
        raise ModelFileError(f"{source}: version: unsupported {d['version']!r}; this reader "
                             f"supports {VERSION}")
    if not isinstance(d["members"], list) or not isinstance(d["metadata"], dict):
        raise ModelFileError(f"{source}: members must be a list and metadata an object")
    members = [io_json.from_dict(m, f"{source}: members[{k}]")
               for k, m in enumerate(d["members"])]
    try:
        return Committee(members, d["metadata"])
    except ValueError as err:
        raise ModelFileError(f"{source}: {err}") from err


def fit_committee(n, model_or_preset, train, test=None, *, seed=0, progress=print, **options):
    """Fit ``n`` models with seeds ``seed .. seed+n-1`` on bootstrap resamples.

    Parameters
    ----------
    n : int
        Members, at least 2.
    model_or_preset, train, test, **options
        As for :func:`snnp_calc.fitting.fit` (each member gets its own seed,
        hence its own validation split, resample and starting weights).

    Returns
    -------
    committee : Committee
    report : dict
        ``members``: each member's fit report; ``test``: the committee's
        error report on ``test`` (when given).
    """
    from .dataset import read_frames
    from .fitting import fit
    from .metrics import error_report
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
        frames = read_frames(test) if isinstance(test, (str, bytes)) or hasattr(
            test, "__fspath__") else list(test)
        out["test"] = error_report(committee, frames)
        committee.metadata["committee"]["test_errors"] = out["test"]
    return committee, out
