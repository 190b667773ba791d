"""The curvature and weight penalty: exact integral, gradient, residual rows."""
import numpy as np
import pytest
from scipy.integrate import quad

from snnp_calc.fitting.regularisation import Regularisation
from snnp_calc.model.initial import initial_model
from snnp_calc.model.model import MLPReadout, Model
from snnp_calc.model.splines import Spline, second_derivatives
from tests.helpers import directional_fd


def second_derivative(spline, x):
    """s''(x) of a spline, by linear interpolation of its knots' y'' (exact for a cubic)."""
    y2 = second_derivatives(spline.x0, spline.x1, spline.y, spline.d0, spline.dN)
    return np.interp(x, spline.knots, y2)


@pytest.fixture(params=[0, 2])
def model(request):
    """Spline filters, and with ``n_legendre = 2`` Legendre filters (unpenalised coefficients)."""
    return initial_model(["Mo", "Ni"], 4.4, r_min=1.9, n_rho=2, n_triplet=2, hidden=(4,),
                         noise=0.2, seed=8, n_legendre=request.param, degree=3)


def alone(spline):
    """A one-species model whose only spline is ``spline`` (a pair filter)."""
    readout = MLPReadout("tanh", (), [[np.ones((1, 1)), np.zeros(1)]], np.zeros((1, 1)),
                         np.ones((1, 1)))
    return Model(("Mo",), [[spline]], [], [], [], readout, np.zeros(1))


def test_curvature_is_the_integral_of_the_second_derivative_squared(model):
    """λ L³ ∫ s''² dt of one spline, against adaptive quadrature of s''."""
    s = model.rho[1][0]
    knots = list(s.knots)
    integral = sum(quad(lambda t: second_derivative(s, t) ** 2, a, b, epsabs=1e-14)[0]
                   for a, b in zip(knots[:-1], knots[1:]))
    one = alone(s)
    value, _ = Regularisation(one, 0.7, 0.0).value_and_gradient(one.to_vector())
    assert integral > 0
    assert value == pytest.approx(0.7 * (s.x1 - s.x0) ** 3 * integral, rel=1e-10)


def test_straight_lines_cost_nothing_and_curves_do():
    line = alone(Spline(1.0, 3.0, np.linspace(-2.0, 4.0, 7), 3.0, 3.0))
    bent = alone(Spline(1.0, 3.0, np.linspace(-2.0, 4.0, 7) ** 2, 0.0, 0.0))
    assert Regularisation(line, 1.0, 0.0).value_and_gradient(line.to_vector())[0] == \
        pytest.approx(0.0, abs=1e-10)
    assert Regularisation(bent, 1.0, 0.0).value_and_gradient(bent.to_vector())[0] > 1.0


def test_gradient_matches_central_differences(model):
    reg = Regularisation(model, 1e-3, 0.05)
    rng = np.random.default_rng(3)
    x = model.to_vector() + 0.1 * rng.normal(size=len(model.to_vector()))
    _, grad = reg.value_and_gradient(x)
    for _ in range(3):
        d = rng.normal(size=len(x))
        fd = directional_fd(lambda v: reg.value_and_gradient(v)[0], x, d, 1e-4)
        assert grad @ d == pytest.approx(fd, rel=1e-8)


def test_residual_rows_square_to_the_penalty(model):
    reg = Regularisation(model, 1e-3, 0.05)
    x = model.to_vector() + 0.05
    r, J = reg.residuals(x)
    assert r @ r == pytest.approx(reg.value_and_gradient(x)[0], rel=1e-12)
    d = np.random.default_rng(1).normal(size=len(x))
    np.testing.assert_allclose(J @ d, (reg.residuals(x + 1e-6 * d)[0] - reg.residuals(
        x - 1e-6 * d)[0]) / 2e-6, rtol=1e-6, atol=1e-9)


def test_weight_penalty_counts_matrices_not_biases(model):
    reg = Regularisation(model, 0.0, 2.0)
    value, _ = reg.value_and_gradient(model.to_vector())
    expected = 2.0 * sum((w ** 2).sum() for layers in model.readout.weights
                         for w in layers[::2])
    assert value == pytest.approx(expected, rel=1e-12)
