"""Splines: LAMMPS semantics, C2 continuity, linearity in the parameters."""
import numpy as np
import pytest
from scipy.interpolate import CubicSpline

from snnp_calc.model.splines import Spline, basis, second_derivatives


@pytest.fixture
def spline():
    rng = np.random.default_rng(3)
    return Spline(1.5, 5.0, rng.normal(size=9), rng.normal(), rng.normal())


def test_matches_scipy_clamped_spline(spline):
    # scipy's clamped cubic spline is an independent implementation of the same function
    ref = CubicSpline(spline.knots, spline.y, bc_type=((1, spline.d0), (1, spline.dN)))
    x = np.linspace(spline.x0, spline.x1, 1001)
    value, deriv = spline(x)
    np.testing.assert_allclose(value, ref(x), rtol=0, atol=1e-12)
    np.testing.assert_allclose(deriv, ref(x, 1), rtol=0, atol=1e-11)
    y2 = second_derivatives(spline.x0, spline.x1, spline.y, spline.d0, spline.dN)
    np.testing.assert_allclose(y2, ref(spline.knots, 2), rtol=0, atol=1e-10)


def test_interpolates_knots_and_clamps_ends(spline):
    value, deriv = spline(spline.knots)
    np.testing.assert_allclose(value, spline.y, rtol=0, atol=1e-13)
    assert deriv[0] == pytest.approx(spline.d0, abs=1e-12)
    assert deriv[-1] == pytest.approx(spline.dN, abs=1e-12)


def test_linear_extension_outside_knots(spline):
    below = spline.x0 - np.array([1e-9, 0.3, 2.0])
    above = spline.x1 + np.array([1e-9, 0.3, 2.0])
    value, deriv = spline(below)
    np.testing.assert_allclose(value, spline.y[0] + spline.d0 * (below - spline.x0), atol=1e-12)
    np.testing.assert_array_equal(deriv, spline.d0)
    value, deriv = spline(above)
    np.testing.assert_allclose(value, spline.y[-1] + spline.dN * (above - spline.x1), atol=1e-12)
    np.testing.assert_array_equal(deriv, spline.dN)


def test_c2_continuous_at_interior_knots(spline):
    eps = 1e-6
    for x in spline.knots[1:-1]:
        d_left = (spline(x)[1] - spline(x - eps)[1]) / eps
        d_right = (spline(x + eps)[1] - spline(x)[1]) / eps
        assert abs(spline(x + 1e-12)[0] - spline(x - 1e-12)[0]) < 1e-10
        assert abs(spline(x + 1e-12)[1] - spline(x - 1e-12)[1]) < 1e-9
        assert d_left == pytest.approx(d_right, abs=1e-3 * (1 + abs(d_left)))


def test_derivative_matches_finite_differences(spline):
    x = np.linspace(spline.x0 - 0.5, spline.x1 + 0.5, 57)
    h = 1e-5
    fd = (spline(x + h)[0] - spline(x - h)[0]) / (2 * h)
    np.testing.assert_allclose(spline(x)[1], fd, rtol=1e-6, atol=1e-7)


def test_linear_in_parameters(spline):
    x = np.linspace(spline.x0 - 1, spline.x1 + 1, 101)
    B, dB = basis(spline, x)
    value, deriv = spline(x)
    np.testing.assert_allclose(B @ spline.params, value, atol=1e-12)
    np.testing.assert_allclose(dB @ spline.params, deriv, atol=1e-11)


def test_params_round_trip(spline):
    p = spline.params
    assert spline.with_params(p).equals(spline)
    assert p.shape == (spline.n_knots + 2,)


@pytest.mark.parametrize("kwargs, message", [
    (dict(x0=0.0, x1=1.0, y=[1.0], d0=0.0, dN=0.0), "at least 2 knots"),
    (dict(x0=1.0, x1=1.0, y=[1.0, 2.0], d0=0.0, dN=0.0), "increase"),
    (dict(x0=0.0, x1=1.0, y=[1.0, np.nan], d0=0.0, dN=0.0), "finite"),
    (dict(x0=0.0, x1=1.0, y=[1.0, 2.0], d0=np.inf, dN=0.0), "finite"),
    (dict(x0=0.0, x1=1.0, y=[1.0, 2.0], d0=0.0, dN=0.0, fixed=[True]), "fixed"),
    # 1.0 + 1e-300 rounds to 1.0
    (dict(x0=1.0, x1=1.0 + 1e-300, y=[1.0, 2.0], d0=0.0, dN=0.0), "increase"),
    # h = (x1 - x0) / (M - 1) subnormal or 0 after rounding: 1/h is inexact or infinite
    (dict(x0=1e-310, x1=2e-310, y=[1.0, 2.0], d0=0.0, dN=0.0), "degenerate knot spacing"),
    (dict(x0=0.0, x1=5e-324, y=[1.0, 2.0, 3.0], d0=0.0, dN=0.0), "degenerate knot spacing"),
    (dict(x0=0.0, x1=4e-308, y=[1.0, 2.0, 3.0], d0=0.0, dN=0.0), "degenerate knot spacing"),
    # x1 - x0 overflows
    (dict(x0=-1e308, x1=1e308, y=[1.0, 2.0], d0=0.0, dN=0.0), "degenerate knot spacing"),
    # coefficients up to y / h^3 overflow
    (dict(x0=0.0, x1=1e-110, y=[1.0, 2.0], d0=0.0, dN=0.0), "would overflow"),
    (dict(x0=0.0, x1=1.0, y=[1e308, 0.0], d0=0.0, dN=0.0), "would overflow"),
    (dict(x0=0.0, x1=1.0, y=[1.0, 0.0], d0=-1e307, dN=0.0), "would overflow"),
])
def test_invalid_splines_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Spline(**kwargs)


def test_smallest_representable_spacing():
    """Just above the limits the spline is valid and its table finite."""
    # a spacing at the smallest normal float64 is usable only by a spline that is 0
    for x0, x1, y in ((0.0, 4.5e-308, [0.0, 0.0, 0.0]), (1.0, float(np.nextafter(1.0, 2.0)),
                                                         [0.5, -0.5])):
        s = Spline(x0, x1, y, 0.0, 0.0)
        value, deriv = s(np.linspace(x0, x1, 5))
        assert np.isfinite(value).all() and np.isfinite(deriv).all()
    s = Spline(0.0, 1.0, [1e300, 0.0], 0.0, 0.0)
    assert np.isfinite(s(0.3)[0])


def test_spline_is_immutable(spline):
    with pytest.raises(ValueError):
        spline.y[0] = 1.0
