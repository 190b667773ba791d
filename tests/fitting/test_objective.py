"""The optimiser's objective over (model parameters, stress offsets): exact derivatives.

Stress offsets (snnp_calc.fitting.offsets): a constant isotropic shift of one
group's stress labels is absorbed by that group's offset, so it cannot change
the fitted loss.
"""
import dataclasses

import numpy as np
import pytest
from ase.units import GPa

from snnp_calc.fitting.loss import LossWeights
from snnp_calc.fitting.objective import Objective
from snnp_calc.fitting.offsets import StressOffsets
from snnp_calc.fitting.training_set import pack_frames
from snnp_calc.model.reparam import Reparametrisation
from tests.helpers import directional_fd, labelled_frames, small_model

WEIGHTS = LossWeights(energy=1.0, forces=0.01, stress=1e-3, smooth=1e-6, l2=1e-3)


@pytest.fixture(scope="module")
def truth():
    return small_model()


@pytest.fixture(scope="module")
def data(truth):
    return pack_frames(labelled_frames(truth, n=6), truth.species, truth.cutoff)


def objective_of(model, data, weights=WEIGHTS):
    return Objective(model, Reparametrisation(model), data, weights)


def test_groups_are_the_config_types_with_stresses(data):
    offsets = StressOffsets(data)
    assert offsets.names == ("bulk", "strained") and offsets.n == 2
    assert set(offsets.group_of(data).tolist()) == {0, 1}


def test_gradient_over_parameters_and_offsets(truth, data):
    start = truth.from_vector(truth.to_vector() * 1.01)
    obj = objective_of(start, data)
    rng = np.random.default_rng(4)
    u = obj.start() + 0.01 * rng.normal(size=obj.n)
    u[-2:] = [0.7, -1.3]   # GPa
    _, grad = obj(u)
    for _ in range(3):
        d = rng.normal(size=obj.n)
        fd = directional_fd(lambda v: obj(v)[0], u, d, 1e-5)
        assert grad @ d == pytest.approx(fd, rel=1e-6)


def test_jacobian_over_parameters_and_offsets(truth, data):
    obj = objective_of(truth, data)
    u = obj.start() + 0.01
    r, J = obj.residuals_and_jacobian(u)
    loss, grad = obj(u)
    assert r @ r == pytest.approx(loss, rel=1e-10)
    np.testing.assert_allclose(2 * J.T @ r, grad, rtol=1e-8, atol=1e-12 * np.abs(grad).max())


def test_a_shifted_group_is_absorbed_by_its_offset(truth, data):
    """Labels of group 'bulk' moved by 2 GPa: the loss at c = (2, 0) equals that at c = 0 before."""
    obj = objective_of(truth, data)
    moved = dataclasses.replace(data, S_ref_sv=data.S_ref_sv.copy())
    bulk = np.array([f.config_type == "bulk" for f in data.frames])
    moved.S_ref_sv[bulk, :3] += 2.0 * GPa
    moved_obj = objective_of(truth, moved)
    u = obj.start()
    shifted = u.copy()
    shifted[-2:] = [2.0, 0.0]
    assert moved_obj(shifted)[0] == pytest.approx(obj(u)[0], rel=1e-12)
    assert moved_obj(u)[0] - obj(u)[0] > 0.05 * obj(u)[0]   # without the offset it costs


def test_offsets_can_be_switched_off(truth, data):
    obj = objective_of(truth, data, dataclasses.replace(WEIGHTS, stress_offsets=False))
    assert obj.n_c == 0 and obj.n == len(truth.to_vector())
    assert obj.stress_offsets(obj.start()) == {}


def test_gauss_newton_diagonal_of_the_offsets_is_exact(truth, data):
    obj = objective_of(truth, data)
    u = obj.start()
    _, J = obj.residuals_and_jacobian(u)
    exact = (J ** 2).sum(axis=0)[-2:]
    np.testing.assert_allclose(obj.gauss_newton_diagonal(u, 0)[-2:], exact, rtol=1e-12)
