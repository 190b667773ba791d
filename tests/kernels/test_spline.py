"""The spline evaluators: a group's interleaved evaluation is spline_eval's, bit for bit."""
import numpy as np
import pytest
from numba import njit

from snnp_calc.kernels.spline import group_eval, spline_eval
from snnp_calc.model.splines import Spline, pack


@njit(cache=True)
def _both(table, g, x_q, K):
    """group_eval and spline_eval of every member of group g at every x: (Q, 2, K) each."""
    first, stride = table.group_ig[g, 0], table.group_ig[g, 1]
    grouped = np.empty((len(x_q), 2, K))
    single = np.empty((len(x_q), 2, K))
    out_2k = np.empty((2, K))
    for q in range(len(x_q)):
        group_eval(table, g, x_q[q], out_2k)
        grouped[q] = out_2k
        for k in range(K):
            single[q, 0, k], single[q, 1, k], _ = spline_eval(table, first + k * stride, x_q[q])
    return grouped, single


def _splines(rng, knots):
    """One spline per (x0, x1, M) of ``knots``, random values and end slopes."""
    return [Spline(x0, x1, rng.normal(size=m), rng.normal(), rng.normal()) for x0, x1, m in knots]


@pytest.fixture
def table():
    rng = np.random.default_rng(7)
    same = [(1.7, 5.2, 10)] * 3
    # members 0, 2, 4 of the first group and 1, 3 of the second (stride 2, as rho[k][b] lies);
    # the third group's members differ in their knots
    splines = [s for pair in zip(_splines(rng, same), _splines(rng, same[:2] + [(0, 1, 2)]))
               for s in pair]
    splines += _splines(rng, [(-1.0, 1.0, 8), (-1.0, 1.0, 9)])
    return pack(splines, [(0, 2, 3), (1, 2, 2), (6, 1, 2)])


def test_shared_knots_are_detected(table):
    np.testing.assert_array_equal(table.group_ig[:, 3], [1, 1, 0])
    # after the splines' own 10 x 5 + 2 + 8 + 9 knots, the interleaved copies: 3 x 10 and 2 x 10;
    # none for the group that is not shared
    assert len(table.y_m) == len(table.y2_m) == len(table.yd_m) == 69 + 50
    np.testing.assert_array_equal(table.group_ig[:2, 4], [69, 99])
    assert table.y_m[69 + 1] == table.y_m[table.index_xd[2, 0]]


@pytest.mark.parametrize("g, K, lo, hi", [(0, 3, 1.7, 5.2), (1, 2, 1.7, 5.2), (2, 2, -1.0, 1.0)])
def test_group_equals_single_splines_bit_for_bit(table, g, K, lo, hi):
    x = np.concatenate([np.linspace(lo - 0.5, hi + 0.5, 997), [lo, hi, np.nextafter(hi, 0.0),
                                                                np.nextafter(lo, 9.0)]])
    grouped, single = _both(table, g, x, K)
    np.testing.assert_array_equal(grouped, single)
    # and not only the linear ends: most points are inside the knots
    assert np.ptp(grouped[:, 1]) > 0


def test_group_of_nan_takes_the_linear_branch(table):
    # a NaN distance gives a NaN value (the callers report it) and the end slope, as spline_eval
    grouped, single = _both(table, 0, np.array([np.nan]), 3)
    np.testing.assert_array_equal(grouped, single)
    assert np.isnan(grouped[0, 0]).all() and np.isfinite(grouped[0, 1]).all()
