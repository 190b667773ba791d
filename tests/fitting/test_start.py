"""Starting models from the data: ranges of the presets, Legendre filters, transfer."""
import numpy as np
import pytest

from snnp_calc import fit
from snnp_calc.fitting.loss import LossWeights
from snnp_calc.fitting.ranges import LEGENDRE_RANGE, TRIPLET_RANGE, default_cutoff, distance_range
from snnp_calc.fitting.start import preset_model
from snnp_calc.metrics import error_report
from snnp_calc.model.initial import initial_model
from tests.helpers import labelled_frames

WEIGHTS = LossWeights(energy=1.0, forces=0.01, stress=1e-4, smooth=1e-8)


@pytest.fixture(scope="module")
def frames():
    truth = initial_model(["Mo", "Ni"], 4.4, r_min=1.9, n_rho=2, n_triplet=1, n_legendre=1,
                          degree=3, hidden=(4,), noise=0.1, seed=2, triplet_cutoff=3.6)
    return labelled_frames(truth, n=6)


def test_ranges_follow_the_nearest_neighbour_distance(frames):
    _, nearest = distance_range(frames)
    model = preset_model("s-nnp", frames, n_legendre=2, degree=4, hidden=(3,))
    cutoff = default_cutoff(frames, nearest)
    triplet = min(cutoff, round(TRIPLET_RANGE * nearest, 2))
    assert model.cutoff == cutoff
    assert max(s.x1 for row in model.f for s in row) == triplet
    assert model.metadata["options"]["triplet_cutoff"] == triplet
    assert model.legendre_range == min(cutoff, round(LEGENDRE_RANGE * nearest, 2))
    assert model.metadata["options"]["legendre_cutoff"] == model.legendre_range
    short = preset_model("s-nnp", frames, n_legendre=1, degree=2, legendre_range=1.5, hidden=())
    assert short.legendre_range == round(1.5 * nearest, 2)
    assert [filt.degree for filt in short.legendre] == [2]
    assert not preset_model("s-nnp", frames, hidden=()).legendre


def test_a_fit_with_legendre_filters_lowers_the_loss(frames):
    model, report = fit("s-nnp", frames, weights=WEIGHTS, max_iter=30, validation=0.0,
                        n_rho=2, n_triplet=0, n_legendre=2, degree=3, hidden=(4,), n_knots=6,
                        progress=None)
    assert len(model.legendre) == 2 and not model.f
    start = preset_model("s-nnp", frames, n_rho=2, n_triplet=0, n_legendre=2, degree=3,
                         hidden=(4,), n_knots=6)
    before = error_report(start, frames)["all"]["f_mae"]
    assert report["train"]["all"]["f_mae"] < 0.7 * before
    moved = [not np.array_equal(a.c, b.c) for a, b in zip(model.legendre, start.legendre)]
    assert all(moved)


def test_transfer_takes_the_legendre_filters(frames):
    one = initial_model(["Mo"], 4.4, r_min=1.9, n_rho=1, n_triplet=0, n_legendre=2, degree=3,
                        hidden=(), noise=0.1, seed=3)
    start = preset_model("s-nnp", frames, filters_from=one, hidden=(3,))
    assert start.species == ("Mo", "Ni") and len(start.legendre) == 2
    for new, old in zip(start.legendre, one.legendre):
        assert all(s.equals(old.f[0]) for s in new.f)
        np.testing.assert_array_equal(new.c, np.repeat(old.c, 3, axis=0))
