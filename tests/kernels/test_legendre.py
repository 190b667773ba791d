"""Factorised (Legendre) triplet filters against the explicit triplet sum they replace.

A Legendre filter of degree L <= 3 has a cubic angular function, which a
clamped cubic spline through its values reproduces exactly: the model with
that spline filter is the explicit O(n^2) triplet sum of the same g, and
both must agree to rounding. Higher degrees are checked against a plain
numpy triplet loop of the descriptors.
"""
import itertools

import numpy as np
import pytest
from ase.build import bulk
from ase.neighborlist import neighbor_list

from snnp_calc import SNNP
from snnp_calc.evaluate import evaluate
from snnp_calc.kernels.layout import pair_index
from snnp_calc.model.initial import initial_model
from snnp_calc.model.legendre import (
    LegendreFilter,
    legendre_to_power,
    lowered,
    monomials,
    power_coefficients,
)
from snnp_calc.model.model import Model
from snnp_calc.model.splines import Spline

SPECIES = ["Mo", "Ni"]


def legendre_model(degree, species=SPECIES, seed=3, per_degree=False):
    """Pair filters, two Legendre filters with generic coefficients, a small network."""
    model = initial_model(species, 4.6, r_min=1.8, n_rho=2, n_triplet=0, n_legendre=2,
                          degree=degree, hidden=(6,), noise=0.1, seed=seed, legendre_cutoff=4.3,
                          per_degree=per_degree)
    rng = np.random.default_rng(seed)
    legendre = [LegendreFilter(filt.f, rng.normal(size=filt.c.shape), per_degree)
                for filt in model.legendre]
    return Model(model.species, model.rho, model.f, model.g, model.phi, model.readout, model.e0,
                 legendre=legendre)


def single_degrees(filt):
    """The filters of each readout input of ``filt``: itself, or per degree λ, ``c_λ P_λ``."""
    if not filt.per_degree:
        return [filt]
    return [LegendreFilter(filt.f, filt.c * (np.arange(filt.degree + 1) == lam))
            for lam in range(filt.degree + 1)]


def as_spline_filters(model, n_knots=7):
    """The same model with each Legendre input as a spline triplet filter (exact for L <= 3)."""
    x = np.linspace(-1.0, 1.0, n_knots)
    f, g = [], []
    for filt in [one for filt in model.legendre for one in single_degrees(filt)]:
        row = []
        for q in range(len(filt.c)):
            value, deriv = filt.g(x, q)
            row.append(Spline(-1.0, 1.0, value, deriv[0], deriv[-1]))
        g.append(row)
        f.append(filt.f)
    return Model(model.species, model.rho, f, g, model.phi, model.readout, model.e0)


def cells():
    """Bulk, a one-atom cell (many images), a triclinic cell: rattled, two species."""
    big = bulk("Mo", "bcc", 3.15, cubic=True).repeat(3)
    small = bulk("Mo", "bcc", 3.1)
    tri = bulk("Mo", "bcc", 3.15, cubic=True).repeat((2, 2, 1))
    tri.set_cell(tri.cell.array @ np.array([[1.0, 0.1, 0.05], [0.0, 0.95, -0.08],
                                            [0.12, 0.0, 1.04]]), scale_atoms=True)
    out = {}
    for name, atoms in (("bulk", big), ("small", small), ("triclinic", tri)):
        atoms = atoms.copy()
        atoms.rattle(0.12, seed=len(atoms))
        atoms.symbols = np.random.default_rng(1).choice(SPECIES, len(atoms))
        out[name] = atoms
    return out


def test_power_coefficients_give_the_legendre_series():
    c = np.random.default_rng(0).normal(size=(3, 8))
    x = np.linspace(-1.0, 1.0, 11)
    a = power_coefficients(c)
    for row_c, row_a in zip(c, a):
        np.testing.assert_allclose(np.polynomial.polynomial.polyval(x, row_a),
                                   np.polynomial.legendre.legval(x, row_c), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(legendre_to_power(2), [[1, 0, 0], [0, 1, 0], [-0.5, 0, 1.5]])


def test_monomial_weights_expand_the_dot_product_powers():
    u, v = np.random.default_rng(1).normal(size=(2, 3))
    exps, degree, weight = monomials(5)
    for n in range(6):
        sel = degree == n
        terms = weight[sel] * np.prod(u ** exps[sel], axis=1) * np.prod(v ** exps[sel], axis=1)
        assert terms.sum() == pytest.approx((u @ v) ** n, rel=1e-13)
    assert len(exps) == 6 * 7 * 8 // 6


def test_lowered_monomials_are_one_power_less():
    exps = monomials(6)[0]
    lower = lowered(exps)
    for a, e in enumerate(exps):
        for c in range(3):
            if e[c]:
                assert lower[a, c] < a
                np.testing.assert_array_equal(exps[lower[a, c]], e - np.eye(3, dtype=int)[c])
            else:
                assert lower[a, c] == 0


@pytest.mark.parametrize("per_degree", [False, True], ids=["sum", "per-degree"])
@pytest.mark.parametrize("degree", [0, 2, 3])
@pytest.mark.parametrize("cell", ["bulk", "small", "triclinic"])
def test_equals_the_explicit_triplet_sum(degree, cell, per_degree):
    model = legendre_model(degree, per_degree=per_degree)
    explicit = as_spline_filters(model)
    atoms = cells()[cell]
    got, want = {}, {}
    for out, m in ((got, model), (want, explicit)):
        a = atoms.copy()
        a.calc = SNNP(m)
        out.update(energy=a.get_potential_energy(), forces=a.get_forces(),
                   stress=a.get_stress(), energies=a.get_potential_energies())
    scale = np.abs(want["forces"]).max()
    assert got["energy"] == pytest.approx(want["energy"], rel=1e-12)
    np.testing.assert_allclose(got["energies"], want["energies"], rtol=1e-12)
    np.testing.assert_allclose(got["forces"], want["forces"], rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(got["stress"], want["stress"], rtol=0,
                               atol=1e-12 * np.abs(want["stress"]).max())


def brute_force_descriptors(model, atoms):
    """G_ik of the Legendre filters by the explicit double loop over neighbour pairs."""
    r_l = model.legendre_range
    i_p, j_p, D_pc = neighbor_list("ijD", atoms, r_l)
    species_n = model.species_indices(atoms.numbers)
    S = model.n_species
    inputs = [one for filt in model.legendre for one in single_degrees(filt)]
    G = np.zeros((len(atoms), len(inputs)))
    for k, filt in enumerate(inputs):
        for i in range(len(atoms)):
            mine = np.flatnonzero(i_p == i)
            r = np.linalg.norm(D_pc[mine], axis=1)
            b = species_n[j_p[mine]]
            f = np.array([filt.f[bj](rj)[0] for bj, rj in zip(b, r)])
            u = D_pc[mine] / r[:, None]
            for x, y in itertools.combinations(range(len(mine)), 2):
                g = filt.g(u[x] @ u[y], pair_index(b[x], b[y], S))[0]
                G[i, k] += f[x] * f[y] * g
    return G


@pytest.mark.parametrize("per_degree", [False, True], ids=["sum", "per-degree"])
@pytest.mark.parametrize("species", [["Mo"], SPECIES])
def test_high_degree_descriptors_equal_the_triplet_loop(species, per_degree):
    model = legendre_model(9, species=species, per_degree=per_degree)
    atoms = cells()["triclinic"]
    if len(species) == 1:
        atoms.symbols = "Mo" * len(atoms)
    out = evaluate(model, atoms.numbers, atoms.positions, atoms.cell.array, atoms.pbc)
    K_r = len(model.rho)
    want = brute_force_descriptors(model, atoms)
    np.testing.assert_allclose(out["descriptors"][:, K_r:], want, rtol=1e-12,
                               atol=1e-12 * np.abs(want).max())


def test_filter_rejects_bad_coefficients():
    f = legendre_model(2).legendre[0].f
    with pytest.raises(ValueError, match="shape"):
        LegendreFilter(f, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="degree"):
        LegendreFilter(f, np.zeros((3, 14)))
    with pytest.raises(ValueError, match="finite"):
        LegendreFilter(f, np.full((3, 3), np.nan))
    with pytest.raises(TypeError, match="per_degree"):
        LegendreFilter(f, np.zeros((3, 3)), per_degree=1)


def test_per_degree_inputs_sum_to_the_filter():
    """Σ_λ G_ikλ of a per-degree filter is the one input of the same filter summed."""
    split = legendre_model(4, per_degree=True)
    summed = Model(split.species, split.rho, split.f, split.g, split.phi,
                   initial_model(SPECIES, 4.6, n_rho=2, n_triplet=0, n_legendre=2,
                                 hidden=(6,)).readout, split.e0,
                   legendre=[LegendreFilter(filt.f, filt.c) for filt in split.legendre])
    assert split.n_filters == 2 + 2 * 5 and summed.n_filters == 2 + 2
    atoms = cells()["triclinic"]
    G = {name: evaluate(m, atoms.numbers, atoms.positions, atoms.cell.array,
                        atoms.pbc)["descriptors"][:, 2:]
         for name, m in (("split", split), ("summed", summed))}
    np.testing.assert_allclose(G["split"].reshape(len(atoms), 2, 5).sum(axis=2), G["summed"],
                               rtol=1e-12, atol=1e-12 * np.abs(G["summed"]).max())


def test_model_needs_one_kind_of_legendre_output():
    model = legendre_model(2)
    mixed = [model.legendre[0], LegendreFilter(model.legendre[1].f, model.legendre[1].c, True)]
    with pytest.raises(ValueError, match="one kind of output"):
        Model(model.species, model.rho, model.f, model.g, model.phi, model.readout, model.e0,
              legendre=mixed)
