"""Committees of s-NNP models: N models that predict their mean and spread.

A committee is N models of the same species fitted from different seeds
and bootstrap resamples of the training data
(:func:`snnp_calc.fitting.committee.fit_committee`). It predicts the members'
mean; the sample standard deviation over members (``ddof=1``) of the
energy, per-atom energies and force components is an uncertainty estimate
that grows where the data did not pin the model down (query by committee:
Seung, Opper and Sompolinsky, COLT 1992; for interatomic potentials e.g.
Smith et al., J. Chem. Phys. 148, 241733 (2018)). Evaluation:
:func:`snnp_calc.evaluate.evaluate_committee`; file:
:mod:`snnp_calc.io.committee_file`.
"""
from dataclasses import dataclass, field

from .model import Model


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
