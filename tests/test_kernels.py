"""Kernel building blocks: activations and the readout network's input gradient."""
import numpy as np
import pytest

from snnp_calc import kernels
from snnp_calc.initial import initial_model


@pytest.mark.parametrize("kind", range(len(kernels.ACTIVATIONS)))
def test_activation_derivatives(kind):
    h = 1e-6
    for z in np.linspace(-30, 30, 121) + 0.013:
        value, deriv, second = kernels.activation(z, kind)
        up, down = kernels.activation(z + h, kind), kernels.activation(z - h, kind)
        assert np.isfinite(value)
        assert deriv == pytest.approx((up[0] - down[0]) / (2 * h), rel=1e-6, abs=1e-8)
        assert second == pytest.approx((up[1] - down[1]) / (2 * h), rel=1e-6, abs=1e-8)


def test_activation_values():
    z = 0.7
    assert kernels.activation(z, 0)[0] == pytest.approx(np.tanh(z))
    assert kernels.activation(z, 1)[0] == pytest.approx(np.log1p(np.exp(z)))
    assert kernels.activation(z, 2)[0] == pytest.approx(z / (1 + np.exp(-z)))
    assert kernels.activation(-z, 3)[0] == pytest.approx(np.exp(-z) - 1)


@pytest.mark.parametrize("activation", kernels.ACTIVATIONS)
def test_readout_gradient_matches_finite_differences(activation):
    model = initial_model(["Mo", "Ni"], 4.5, n_rho=3, n_triplet=2, hidden=(7, 5),
                          activation=activation, seed=2)
    arrays = model.kernel_arrays
    dims, sizes, w_sw, xoff, xscale = arrays[0], arrays[6], arrays[7], arrays[8], arrays[9]
    R0 = kernels.readout_zero(*arrays[:-1])
    buf = np.zeros((3, sizes.sum()))
    rng = np.random.default_rng(0)
    h = 1e-6
    for a in range(2):
        G = rng.normal(size=5)
        grad = np.zeros(5)
        kernels.readout_eval(a, G, dims, *arrays[1:6], sizes, w_sw, xoff, xscale, R0, grad, buf)
        for k in range(5):
            step = np.eye(5)[k] * h
            up = kernels.readout_eval(a, G + step, dims, *arrays[1:6], sizes, w_sw, xoff, xscale,
                                      R0, np.zeros(5), buf)
            down = kernels.readout_eval(a, G - step, dims, *arrays[1:6], sizes, w_sw, xoff,
                                        xscale, R0, np.zeros(5), buf)
            assert grad[k] == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-9)


def test_readout_is_zero_at_zero_descriptor(any_model):
    arrays = any_model.kernel_arrays
    R0 = kernels.readout_zero(*arrays[:-1])
    K = int(arrays[0][1] + arrays[0][2])
    buf = np.zeros((3, arrays[6].sum()))
    for a in range(any_model.n_species):
        value = kernels.readout_eval(a, np.zeros(K), arrays[0], *arrays[1:6], *arrays[6:10], R0,
                                     np.zeros(K), buf)
        assert value == 0.0


def test_pair_index_matches_lammps_order():
    S = 3
    order = [(b, c) for b in range(S) for c in range(b, S)]
    assert [kernels.pair_index(b, c, S) for b, c in order] == list(range(len(order)))
    assert kernels.pair_index(2, 0, S) == kernels.pair_index(0, 2, S)
