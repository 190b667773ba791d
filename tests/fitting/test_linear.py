"""The linear start solves its linear least-squares problem exactly."""
import dataclasses

import numpy as np
import pytest
from ase.build import bulk

from snnp_calc import SNNP
from snnp_calc.dataset import Frame
from snnp_calc.fitting.linear import linear_start
from snnp_calc.fitting.loss import LossWeights
from snnp_calc.metrics import predict
from snnp_calc.model.initial import initial_model


def frames_of(model, n=6):
    out = []
    for k in range(n):
        atoms = bulk("Mo", "bcc", 3.1 + 0.04 * k, cubic=True).repeat((2, 2, 1 + k % 2))
        atoms.rattle(0.1, seed=k)
        atoms.symbols[: k % 3] = "Ni"
        atoms.calc = SNNP(model)
        out.append(Frame(atoms.copy(), atoms.get_potential_energy(), atoms.get_forces(),
                         atoms.get_stress(), "x", f"f{k}"))
    return out


@pytest.mark.parametrize("hidden, activation", [((), "tanh"), ((6, 5), "tanh"),
                                                ((6, 5), "softplus"), ((4,), "silu")])
def test_linear_truth_is_recovered(hidden, activation):
    truth = initial_model(["Mo", "Ni"], 4.4, r_min=1.9, n_rho=2, n_triplet=2, hidden=(),
                          noise=0.05, seed=8)
    truth = dataclasses.replace(truth, e0=np.array([-3.0, -2.0]))
    frames = frames_of(truth)
    # the same filters, a readout of any width, and nothing else known
    start = initial_model(["Mo", "Ni"], 4.4, r_min=1.9, n_rho=2, n_triplet=2, hidden=hidden,
                          activation=activation, noise=0.05, seed=8)
    zero_phi = [s.with_params(np.zeros(s.n_knots + 2)) for s in start.phi]
    start = dataclasses.replace(start, phi=tuple(zero_phi))
    fitted = linear_start(start, frames, LossWeights(energy=1.0, forces=1.0, stress=1.0))
    tolerance = 1e-8 if not hidden else 2e-3  # an MLP is linear only up to O(eps^2)
    for p, f in zip(predict(fitted, frames), frames):
        assert p["energy"] == pytest.approx(f.energy, rel=tolerance)
        np.testing.assert_allclose(p["forces"], f.forces,
                                   atol=tolerance * np.abs(f.forces).max())
    if not hidden:
        np.testing.assert_allclose(fitted.e0, truth.e0, atol=1e-8)


def test_species_without_coefficients_keeps_finite_weights():
    """A species absent from the data gets zero coefficients: its network must not become NaN."""
    from snnp_calc.fitting.linear import _linear_regime_mlp
    start = initial_model(["Mo", "Ni"], 4.4, r_min=1.9, n_rho=2, n_triplet=2, hidden=(6, 5),
                          noise=0.05, seed=8)
    c_sk = np.array([[1.0, -2.0, 0.5, 3.0], [0.0, 0.0, 0.0, 0.0]])
    readout = _linear_regime_mlp(start.readout, c_sk)
    assert all(np.isfinite(w).all() for layers in readout.weights for w in layers)
