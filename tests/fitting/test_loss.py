"""The fitting loss: exact gradients against central differences (CHECKS.md 23)."""
import numpy as np
import pytest
from ase.build import bulk

from snnp_calc.dataset import Frame
from snnp_calc.fitting.loss import LossWeights, loss_and_gradient
from snnp_calc.fitting.training_set import pack_frames
from snnp_calc.metrics import predict
from snnp_calc.model.initial import initial_model
from tests.helpers import directional_fd


@pytest.fixture(scope="module")
def frames():
    """Random labels on rattled two-species cells, a cluster without stress among them."""
    rng = np.random.default_rng(0)
    out = []
    for k in range(5):
        atoms = bulk("Mo", "bcc", 3.15, cubic=True).repeat((2, 2, 1 + k % 2))
        atoms.rattle(0.15, seed=k)
        atoms.symbols[:k] = "Ni"
        stress = 0.01 * rng.normal(size=6)
        if k == 4:
            atoms.pbc = False
            stress = None
        n = len(atoms)
        out.append(Frame(atoms, -5.0 * n + rng.normal(), rng.normal(size=(n, 3)), stress,
                         "a" if k % 2 else "b", f"frame {k}"))
    return out


MODELS = {
    "mlp-tanh": dict(hidden=(5, 4), activation="tanh"),
    "mlp-short-triplets": dict(hidden=(4,), activation="tanh", triplet_cutoff=3.5),
    "mlp-softplus": dict(hidden=(4,), activation="softplus"),
    "mlp-silu": dict(hidden=(3, 3), activation="silu"),
    "mlp-celu": dict(hidden=(4,), activation="celu"),
    "linear": dict(hidden=()),
    "smeam": dict(n_rho=1, n_triplet=1, readout="spline"),
    "legendre": dict(hidden=(4,), n_triplet=0, n_legendre=2, degree=4, legendre_cutoff=4.2),
    "legendre-per-degree": dict(hidden=(4,), activation="softplus", n_triplet=1, n_legendre=2,
                                degree=3, per_degree=True, triplet_cutoff=3.5),
    "legendre-mixed": dict(hidden=(3,), activation="softplus", n_triplet=1, n_legendre=1,
                           degree=6, triplet_cutoff=3.5),
}
TERMS = {
    "energy": LossWeights(energy=1.0, forces=0.0, stress=0.0, smooth=0.0, l2=0.0),
    "forces": LossWeights(energy=0.0, forces=1.0, stress=0.0, smooth=0.0, l2=0.0),
    "stress": LossWeights(energy=0.0, forces=0.0, stress=1.0, smooth=0.0, l2=0.0),
    "all": LossWeights(energy=1.0, forces=1.0, stress=1.0, smooth=1e-3, l2=1e-3,
                       config_types={"a": 2.0}),
}


@pytest.mark.parametrize("term", TERMS)
@pytest.mark.parametrize("name", MODELS)
def test_gradient_matches_central_differences(frames, name, term):
    kwargs = dict(n_rho=2, n_triplet=3, noise=0.1, seed=1)
    kwargs.update(MODELS[name])
    model = initial_model(["Mo", "Ni"], 4.6, r_min=1.8, **kwargs)
    data = pack_frames(frames, model.species, model.cutoff)
    weights = TERMS[term]
    rng = np.random.default_rng(7)
    for _ in range(3):
        v = model.to_vector() + 0.01 * rng.normal(size=len(model.to_vector()))
        _, grad = loss_and_gradient(v, model, data, weights)
        for _ in range(2):
            d = rng.normal(size=len(v))
            d /= np.linalg.norm(d)
            fd = directional_fd(lambda x: loss_and_gradient(x, model, data, weights)[0], v, d,
                                1e-4)
            assert grad @ d == pytest.approx(fd, rel=1e-6, abs=1e-9 * np.abs(grad).sum())


def test_loss_equals_its_definition(frames, snnp_model):
    model = initial_model(["Mo", "Ni"], 4.6, r_min=1.8, n_rho=2, n_triplet=2, hidden=(4,),
                          noise=0.1, seed=3)
    weights = LossWeights(energy=2.0, forces=3.0, stress=5.0, smooth=0.0, l2=0.0,
                          config_types={"a": 0.5})
    data = pack_frames(frames, model.species, model.cutoff)
    loss, _ = loss_and_gradient(model.to_vector(), model, data, weights)
    pred = predict(model, frames)
    c = np.array([0.5 if f.config_type == "a" else 1.0 for f in frames])
    n_f = 3 * sum(len(f.atoms) for f in frames)
    n_s = 6 * sum(f.stress is not None for f in frames)
    from ase.units import GPa
    expected = sum(ck * (2.0 * ((p["energy"] - f.energy) / len(f.atoms)) ** 2 / len(frames)
                         + 3.0 * ((p["forces"] - f.forces) ** 2).sum() / n_f
                         + (5.0 * (((p["stress"] - f.stress) / GPa) ** 2).sum() / n_s
                            if f.stress is not None else 0.0))
                   for ck, f, p in zip(c, frames, pred))
    assert loss == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", ["mlp-tanh", "smeam", "legendre", "legendre-per-degree"])
def test_jacobian_matches_central_differences(frames, name):
    from snnp_calc.fitting.jacobian import residuals_and_jacobian
    kwargs = dict(n_rho=2, n_triplet=2, noise=0.1, seed=4)
    kwargs.update(MODELS[name])
    model = initial_model(["Mo", "Ni"], 4.6, r_min=1.8, **kwargs)
    data = pack_frames(frames, model.species, model.cutoff)
    weights = TERMS["all"]
    rng = np.random.default_rng(3)
    v = model.to_vector() + 0.01 * rng.normal(size=len(model.to_vector()))
    r, J = residuals_and_jacobian(v, model, data, weights)
    loss, grad = loss_and_gradient(v, model, data, weights)
    assert r @ r == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(2 * J.T @ r, grad, rtol=1e-9, atol=1e-12 * np.abs(grad).max())
    for _ in range(3):
        d = rng.normal(size=len(v))
        d /= np.linalg.norm(d)
        fd = directional_fd(lambda x: residuals_and_jacobian(x, model, data, weights)[0], v, d,
                            1e-4)
        np.testing.assert_allclose(J @ d, fd, rtol=1e-6, atol=1e-8 * np.abs(J @ d).max())


def test_residuals_alone_equal_those_with_jacobian(frames, snnp_model):
    from snnp_calc.fitting.jacobian import residuals, residuals_and_jacobian
    model = initial_model(["Mo", "Ni"], 4.6, r_min=1.8, n_rho=2, n_triplet=2, hidden=(3,),
                          noise=0.1, seed=5)
    data = pack_frames(frames, model.species, model.cutoff)
    v = model.to_vector()
    np.testing.assert_allclose(residuals(v, model, data, TERMS["all"]),
                               residuals_and_jacobian(v, model, data, TERMS["all"])[0],
                               rtol=1e-12, atol=1e-15)


def test_residual_products_equal_jacobian_transpose(frames):
    """``J^T u`` from one moved-reference gradient equals the exact Jacobian's product."""
    from snnp_calc.fitting.jacobian import residuals_and_jacobian
    from snnp_calc.fitting.loss import ResidualProducts, gauss_newton_diagonal
    model = initial_model(["Mo", "Ni"], 4.6, r_min=1.8, n_rho=2, n_triplet=2, hidden=(4,),
                          noise=0.1, seed=3, triplet_cutoff=3.6)
    weights = LossWeights(energy=1.0, forces=0.3, stress=2.0, smooth=0.0, l2=0.0,
                          config_types={"a": 2.0})
    data = pack_frames(frames, model.species, model.cutoff)
    x = model.to_vector()
    _, J = residuals_and_jacobian(x, model, data, weights)
    products = ResidualProducts(x, model, data, weights)
    rng = np.random.default_rng(5)
    u_s = rng.normal(size=data.n_structures)
    u_nc = rng.normal(size=data.F_ref_nc.shape)
    u_sv = rng.normal(size=(data.n_structures, 6))
    # residual order of snnp_calc.jacobian: per structure E, forces, stress if it has one
    u = []
    for s in range(data.n_structures):
        n0, n1 = data.n_off_s[s], data.n_off_s[s + 1]
        u += [[u_s[s]], u_nc[n0:n1].ravel()] + ([u_sv[s]] if data.has_stress_s[s] else [])
    expected = np.concatenate(u) @ J
    np.testing.assert_allclose(products(u_s, u_nc, u_sv), expected, rtol=1e-9,
                               atol=1e-11 * np.abs(expected).max())
    # the diagonal estimate is unbiased: with many samples it approaches diag(J^T J)
    exact = (J ** 2).sum(axis=0)
    estimate = gauss_newton_diagonal(x, model, data, weights, n_samples=400, seed=1)
    big = exact > 1e-3 * exact.max()
    # 400 ±1 samples: relative standard error of each entry <= sqrt(2/400) ≈ 0.07
    assert np.median(np.abs(estimate[big] / exact[big] - 1)) < 0.1


def test_packed_predictions_equal_per_frame_ones(frames, snnp_model):
    """One kernel call over all structures gives each structure's own prediction."""
    from snnp_calc.fitting.training_set import predict_packed
    data = pack_frames(frames, snnp_model.species, snnp_model.cutoff)
    E_s, F_nc, S_sv, G_nf = predict_packed(snnp_model, data)
    for s, (frame, p) in enumerate(zip(frames, predict(snnp_model, frames))):
        n0, n1 = data.n_off_s[s], data.n_off_s[s + 1]
        assert E_s[s] == pytest.approx(p["energy"], rel=1e-13)
        np.testing.assert_allclose(F_nc[n0:n1], p["forces"], rtol=1e-12, atol=1e-13)
        if not frame.atoms.pbc.all():
            # stresses are fitted on 3D-periodic cells only
            assert data.vol_s[s] == 0 and not S_sv[s].any()
        else:
            np.testing.assert_allclose(S_sv[s], p["stress"], rtol=1e-12, atol=1e-14)
    assert G_nf.shape == (len(data.species_n), snnp_model.n_filters)
