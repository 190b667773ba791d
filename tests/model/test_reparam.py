"""Frozen groups and shared filters: the map between fitted and model parameters."""
import numpy as np
import pytest

from snnp_calc import fit
from snnp_calc.fitting.loss import LossWeights, loss_and_gradient
from snnp_calc.fitting.start import preset_model
from snnp_calc.fitting.training_set import pack_frames
from snnp_calc.kernels.readout import readout_eval
from snnp_calc.model.initial import initial_model
from snnp_calc.model.reparam import Reparametrisation, share_filters, vector_layout
from tests.helpers import directional_fd, labelled_frames, small_model

WEIGHTS = LossWeights(energy=1.0, forces=0.01, stress=1e-4, smooth=1e-6, l2=1e-6)


@pytest.fixture(scope="module")
def truth():
    return small_model(triplet_cutoff=3.6)


@pytest.fixture(scope="module")
def frames(truth):
    return labelled_frames(truth, n=6)


def test_layout_labels_every_entry(truth):
    kind, filter_k, slot = vector_layout(truth)
    assert len(kind) == len(truth.to_vector())
    n_spline = {name: sum(int((~s.fixed).sum()) for row in rows for s in row)
                for name, rows in (("rho", truth.rho), ("f", truth.f), ("g", truth.g))}
    for name, n in n_spline.items():
        assert (kind == name).sum() == n
    assert (kind == "e0").sum() == 2 and (kind == "phi").sum() > 0
    assert set(filter_k[kind == "rho"]) == {0, 1}


def test_freeze_keeps_entries_and_reduce_is_the_transpose(truth):
    rp = Reparametrisation(truth, freeze=("filters", "e0"))
    kind, _, _ = vector_layout(truth)
    assert rp.n == np.isin(kind, ["phi", "mlp"]).sum()
    z = rp.start() + 0.1
    x = rp.full(z)
    frozen = np.isin(kind, ["rho", "f", "g", "e0"])
    np.testing.assert_array_equal(x[frozen], truth.to_vector()[frozen])
    g = np.random.default_rng(0).normal(size=len(x))
    np.testing.assert_allclose(rp.reduce(g), rp.matrix().T @ g, rtol=1e-14)
    with pytest.raises(ValueError, match="unknown parameter group"):
        Reparametrisation(truth, freeze=("filter",))


def test_shared_filters_tie_species_and_gradient_is_exact(truth, frames):
    with pytest.raises(ValueError, match="must start equal"):
        Reparametrisation(truth, shared=True)
    model = share_filters(truth)
    rp = Reparametrisation(model, shared=True)
    assert rp.n < len(model.to_vector())
    z = rp.start() * (1 + 0.01 * np.random.default_rng(1).normal(size=rp.n))
    tied = model.from_vector(rp.full(z))
    for rows in (tied.rho, tied.f, tied.g):
        for row in rows:
            assert all(s.equals(row[0]) for s in row)
    data = pack_frames(frames, model.species, model.cutoff)

    def loss(zz):
        return loss_and_gradient(rp.full(zz), model, data, WEIGHTS)[0]

    grad = rp.reduce(loss_and_gradient(rp.full(z), model, data, WEIGHTS)[1])
    d = np.random.default_rng(2).normal(size=rp.n)
    fd = directional_fd(loss, z, d, 1e-4)
    assert grad @ d == pytest.approx(fd, rel=1e-6)


def test_fit_with_frozen_filters_leaves_them_bit_identical(truth, frames):
    start = truth.from_vector(truth.to_vector() * 1.01)
    model, _ = fit(start, frames, weights=WEIGHTS, max_iter=20, validation=0.0,
                   freeze=("filters",), progress=None)
    for rows_a, rows_b in ((model.rho, start.rho), (model.f, start.f), (model.g, start.g)):
        for row_a, row_b in zip(rows_a, rows_b):
            assert all(a.equals(b) for a, b in zip(row_a, row_b))
    assert not np.array_equal(model.to_vector(), start.to_vector())


def test_shared_fit_and_transfer(frames):
    model, _ = fit("s-nnp", frames, weights=WEIGHTS, max_iter=10, validation=0.0,
                   share_filters=True, n_rho=2, n_triplet=1, hidden=(3,), n_knots=6,
                   progress=None)
    assert model.metadata["fit"]["share_filters"] and model.metadata["shared_filters"]
    for rows in (model.rho, model.f, model.g):
        for row in rows:
            assert all(s.equals(row[0]) for s in row)
    # transfer: the shared filters start (and, frozen, stay) a new fit on Mo-only data
    mo_frames = [f for f in frames if set(f.atoms.get_chemical_symbols()) == {"Mo"}]
    assert mo_frames
    start = preset_model("s-nnp", mo_frames, filters_from=model, hidden=(3,))
    assert start.species == ("Mo",) and start.cutoff == model.cutoff
    assert start.metadata["options"]["triplet_cutoff"] == model.f[0][0].x1
    assert start.metadata["r_min"] == min(s.x0 for s in start.radial_splines)
    for rows_new, rows_old in ((start.rho, model.rho), (start.f, model.f), (start.g, model.g)):
        for row_new, row_old in zip(rows_new, rows_old):
            assert row_new[0].equals(row_old[0])
    moved, _ = fit("s-nnp", mo_frames, weights=WEIGHTS, max_iter=5, validation=0.0,
                   init_filters=model, freeze=("filters",), hidden=(3,), progress=None)
    for rows_new, rows_old in ((moved.rho, model.rho), (moved.f, model.f), (moved.g, model.g)):
        for row_new, row_old in zip(rows_new, rows_old):
            assert row_new[0].equals(row_old[0])


def test_transfer_needs_one_set_of_filters(truth, frames):
    with pytest.raises(ValueError, match="same for every neighbour species"):
        preset_model("s-nnp", frames, filters_from=truth)


def test_constraints_hold_after_a_fit_and_gradient_is_exact(frames):
    from snnp_calc.model.reparam import constraint_columns
    start = initial_model(["Mo", "Ni"], 4.4, r_min=1.9, n_rho=2, n_triplet=1, n_knots=8,
                          hidden=(5, 4), activation="softplus", noise=0.3, seed=3)
    core = 2.6
    with pytest.raises(ValueError, match="needs core_radius"):
        constraint_columns(start, ("repulsive-core",), None, set())
    with pytest.raises(ValueError, match="softplus or celu"):
        Reparametrisation(initial_model(["Mo"], 4.4, hidden=(3,)), constraints=("convex-readout",))
    rp = Reparametrisation(start, constraints=("repulsive-core", "convex-readout"),
                           core_radius=core)
    assert np.isfinite(rp.lower).sum() > 0
    data = pack_frames(frames, start.species, start.cutoff)
    z = rp.start() + 0.01 * np.random.default_rng(3).random(rp.n)

    def loss(zz):
        return loss_and_gradient(rp.full(zz), start, data, WEIGHTS)[0]

    grad = rp.reduce(loss_and_gradient(rp.full(z), start, data, WEIGHTS)[1])
    d = np.random.default_rng(4).normal(size=rp.n)
    fd = directional_fd(loss, z, d, 1e-5)
    assert grad @ d == pytest.approx(fd, rel=1e-6)

    model, _ = fit(start, frames, weights=WEIGHTS, max_iter=30, validation=0.0, progress=None,
                   constraints=("repulsive-core", "convex-readout"), core_radius=core)
    assert model.metadata["fit"]["constraints"] == ["repulsive-core", "convex-readout"]
    for s in model.phi:
        inner = s.y[s.knots <= core]
        assert len(inner) >= 2 and np.all(np.diff(inner) <= 0) and s.d0 <= 0
        r = np.linspace(0.2, s.x0, 50)
        assert np.all(np.diff(s(r)) <= 0)  # rises towards r = 0
    km = model.kernel_model
    rng = np.random.default_rng(5)
    K = model.n_filters
    for a in range(2):
        for layers in model.readout.weights:
            assert all((w >= 0).all() for w in layers[2::2])
        g0, v = rng.normal(size=K), rng.normal(size=K)
        t = np.linspace(-3, 3, 61)
        R = np.array([readout_eval(km, a, g0 + tt * v * km.xscale_ef[a], np.zeros(K),
                                   np.zeros((3, km.sizes.sum()))) for tt in t])
        assert np.all(np.diff(R, 2) >= -1e-12)  # convex along any line


def test_legendre_filters_share_across_species_and_freeze(frames):
    model = initial_model(["Mo", "Ni"], 4.4, r_min=1.9, n_rho=1, n_triplet=0, n_legendre=2,
                          degree=3, n_knots=6, hidden=(3,), noise=0.1, seed=4)
    kind, filter_k, slot = vector_layout(model)
    assert (kind == "lc").sum() == 2 * 3 * 4 and (kind == "lf").sum() > 0
    np.testing.assert_array_equal(slot[kind == "lc"][:8], [0, 1, 2, 3, 0, 1, 2, 3])
    assert set(filter_k[kind == "lc"]) == {0, 1}
    frozen = Reparametrisation(model, freeze=("legendre",))
    assert frozen.n == len(kind) - np.isin(kind, ["lf", "lc"]).sum()
    model = share_filters(model)
    rp = Reparametrisation(model, shared=True)
    z = rp.start() * (1 + 0.01 * np.random.default_rng(3).normal(size=rp.n))
    tied = model.from_vector(rp.full(z))
    for filt in tied.legendre:
        assert filt.f[1].equals(filt.f[0])
        np.testing.assert_array_equal(filt.c, np.repeat(filt.c[:1], 3, axis=0))
    data = pack_frames(frames, model.species, model.cutoff)
    grad = rp.reduce(loss_and_gradient(rp.full(z), model, data, WEIGHTS)[1])
    d = np.random.default_rng(5).normal(size=rp.n)
    fd = directional_fd(lambda zz: loss_and_gradient(rp.full(zz), model, data, WEIGHTS)[0], z,
                        d, 1e-4)
    assert grad @ d == pytest.approx(fd, rel=1e-6)
