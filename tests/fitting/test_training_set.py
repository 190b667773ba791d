"""Packed training sets: subsets cut from the packed arrays, spread samples of frames, and
the memory check before packing."""
import dataclasses

import numpy as np
import pytest
from ase.build import bulk

from snnp_calc import fit
from snnp_calc.dataset import Frame
from snnp_calc.fitting import training_set
from snnp_calc.fitting.loss import LossWeights, Workspace, loss_and_gradient
from snnp_calc.fitting.training_set import block_of, memory_estimate, pack_frames, spread_sample
from snnp_calc.model.initial import initial_model
from tests.helpers import labelled_frames, small_model


@pytest.fixture(scope="module")
def model():
    return small_model()


@pytest.fixture(scope="module")
def frames(model):
    return labelled_frames(model, n=7)


def test_subset_equals_packing_those_frames(model, frames):
    data = pack_frames(frames, model.species, model.cutoff)
    chosen = [1, 2, 5]
    sub = data.subset(chosen)
    fresh = pack_frames([frames[k] for k in chosen], model.species, model.cutoff)
    for field in dataclasses.fields(fresh):
        a, b = getattr(sub, field.name), getattr(fresh, field.name)
        if isinstance(b, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=field.name)
        else:
            assert a == b, field.name
    np.testing.assert_array_equal(data.atoms_of(chosen), np.concatenate(
        [np.arange(data.n_off_s[k], data.n_off_s[k + 1]) for k in chosen]))
    weights = LossWeights()
    assert loss_and_gradient(model.to_vector(), model, sub, weights)[0] == pytest.approx(
        loss_and_gradient(model.to_vector(), model, fresh, weights)[0], rel=1e-14)


def test_block_places_a_slice(frames):
    b = block_of(frames, slice(2, 5))
    assert (b.s0, b.n0) == (2, sum(len(f.atoms) for f in frames[:2]))
    assert (b.n_structures, b.n_atoms) == (7, sum(len(f.atoms) for f in frames))
    assert b.n_stressed == 7


def mo_frames(n, size=2):
    out = []
    for k in range(n):
        atoms = bulk("Mo", "bcc", 3.15, cubic=True).repeat(size)
        out.append(Frame(atoms, -10.0, np.zeros((len(atoms), 3)), None, "bulk", f"mo {k}"))
    return out


def test_spread_sample_keeps_small_sets_and_every_species():
    frames = mo_frames(40)                       # 16 atoms each, 640 in all
    np.testing.assert_array_equal(spread_sample(frames, 640), np.arange(40))
    frames[7].atoms.symbols[0] = "Ni"            # the only Ni, off the stride
    sample = spread_sample(frames, 160)
    assert list(sample) == sorted(set(range(0, 40, 4)) | {7})
    assert sum(len(frames[k].atoms) for k in sample) <= 160 + 16


def test_memory_estimate_counts_the_packed_arrays(frames):
    model = initial_model(["Mo", "Ni"], 4.4, r_min=1.9, n_rho=3, n_triplet=2, n_knots=6,
                          n_knots_angular=5, hidden=(4,), seed=2, n_legendre=2, degree=3)
    data = pack_frames(frames, model.species, model.cutoff)
    ws = Workspace(data, model)
    arrays = list(vars(data).values()) + list(ws.atoms) + list(ws.loss)
    actual = sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))
    estimate = memory_estimate(len(data.species_n), len(data.i_p), data.n_structures, model)
    assert abs(estimate - actual) <= 0.01 * actual


def test_data_too_large_for_memory_stops_before_packing(model, frames, monkeypatch):
    monkeypatch.setattr(training_set, "available_memory", lambda: 10 ** 5)
    with pytest.raises(ValueError, match=r"packed training set would take about 0\.0 GB "
                                         r"\(\d+ atoms, \d+ pairs per atom within the cutoff "
                                         r"of 4\.4 Å\), more than 80% of the 0\.0 GB available"):
        fit(model, frames, validation=0.0, max_iter=2, progress=None)
    monkeypatch.setattr(training_set, "available_memory", lambda: 10 ** 12)
    fit(model, frames, validation=0.0, max_iter=2, progress=None)
