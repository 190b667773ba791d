"""Fitting a committee: members differ, and the same seed gives the same committee."""
import numpy as np
import pytest

from snnp_calc import fit_committee
from snnp_calc.fitting.loss import LossWeights
from tests.helpers import labelled_frames, small_model


def test_fit_committee_members_differ_and_are_reproducible(tmp_path):
    truth = small_model()
    frames = labelled_frames(truth, n=6)
    kwargs = dict(weights=LossWeights(), max_iter=8, validation=0.2, progress=None, n_rho=2,
                  n_triplet=1, hidden=(3,), n_knots=6)
    a, report = fit_committee(2, "s-nnp", frames, frames[:2], seed=5, **kwargs)
    b, _ = fit_committee(2, "s-nnp", frames, seed=5, **kwargs)
    assert len(a.members) == 2 and len(report["members"]) == 2
    assert not np.array_equal(a.members[0].to_vector(), a.members[1].to_vector())
    for x, y in zip(a.members, b.members):
        np.testing.assert_array_equal(x.to_vector(), y.to_vector())
    assert a.members[1].metadata["fit"]["seed"] == 6 and a.members[0].metadata["fit"]["bootstrap"]
    assert report["test"]["all"]["n_structures"] == 2
    with pytest.raises(ValueError, match="at least 2"):
        fit_committee(1, "s-nnp", frames, **kwargs)
