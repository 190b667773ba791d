"""The readout kernels: activations and the readout network's input gradient."""
import numpy as np
import pytest

from snnp_calc.kernels.layout import ACTIVATIONS
from snnp_calc.kernels.readout import activation, readout_eval
from snnp_calc.model.initial import initial_model


@pytest.mark.parametrize("kind", range(len(ACTIVATIONS)))
def test_activation_derivatives(kind):
    h = 1e-6
    for z in np.linspace(-30, 30, 121) + 0.013:
        value, deriv, second = activation(z, kind)
        up, down = activation(z + h, kind), activation(z - h, kind)
        assert np.isfinite(value)
        assert deriv == pytest.approx((up[0] - down[0]) / (2 * h), rel=1e-6, abs=1e-8)
        assert second == pytest.approx((up[1] - down[1]) / (2 * h), rel=1e-6, abs=1e-8)


def test_activation_values():
    z = 0.7
    assert activation(z, 0)[0] == pytest.approx(np.tanh(z))
    assert activation(z, 1)[0] == pytest.approx(np.log1p(np.exp(z)))
    assert activation(z, 2)[0] == pytest.approx(z / (1 + np.exp(-z)))
    assert activation(-z, 3)[0] == pytest.approx(np.exp(-z) - 1)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_readout_gradient_matches_finite_differences(activation):
    model = initial_model(["Mo", "Ni"], 4.5, n_rho=3, n_triplet=2, hidden=(7, 5),
                          activation=activation, seed=2)
    km = model.kernel_model
    buf = np.zeros((3, km.sizes.sum()))
    rng = np.random.default_rng(0)
    h = 1e-6
    for a in range(2):
        G = rng.normal(size=5)
        grad = np.zeros(5)
        readout_eval(km, a, G, grad, buf)
        for k in range(5):
            step = np.eye(5)[k] * h
            up = readout_eval(km, a, G + step, np.zeros(5), buf)
            down = readout_eval(km, a, G - step, np.zeros(5), buf)
            assert grad[k] == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-9)


def test_readout_is_zero_at_zero_descriptor(any_model):
    km = any_model.kernel_model
    K = km.n_rho + km.n_triplet + km.n_legendre
    buf = np.zeros((3, km.sizes.sum()))
    for a in range(any_model.n_species):
        value = readout_eval(km, a, np.zeros(K), np.zeros(K), buf)
        assert value == 0.0
