"""Energy conservation in NVE molecular dynamics (CHECKS.md item 21)."""
import warnings

import numpy as np
import pytest
from ase.build import bulk
from ase.filters import FrechetCellFilter
from ase.md.verlet import VelocityVerlet
from ase.optimize import FIRE
from ase.units import fs, kB

from snnp_calc import SNNP, read_model
from snnp_calc.model.initial import initial_model


def total_energies(model, dt_fs, steps, temperature=2000.0):
    """E_tot per atom along VelocityVerlet from a rattled bcc crystal.

    The crystal is first relaxed with its cell (a random s-NNP has its own
    lattice constant); momenta are drawn at 2 T, and equipartition leaves the
    crystal near T.
    """
    atoms = bulk("Mo", "bcc", 3.16, cubic=True).repeat(3)
    atoms.calc = SNNP(model)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="logm result may be inaccurate")
        FIRE(FrechetCellFilter(atoms), logfile=None).run(fmax=1e-3, steps=500)
    atoms.rattle(0.05, seed=4)
    masses = atoms.get_masses()[:, None]
    p = np.random.default_rng(5).normal(size=(len(atoms), 3)) * np.sqrt(masses * kB * temperature)
    atoms.set_momenta(p - masses * p.sum(axis=0) / masses.sum())
    dyn = VelocityVerlet(atoms, timestep=dt_fs * fs)
    energies, temperatures = [], []
    for _ in range(steps):
        dyn.run(1)
        energies.append(atoms.get_total_energy() / len(atoms))
        temperatures.append(atoms.get_temperature())
    return np.array(energies), np.array(temperatures)


@pytest.fixture(params=["smeam2020", "snnp"])
def md_model(request):
    if request.param == "snnp":
        # smooth random filters (no noise): an s-NNP whose bcc crystal is stable
        return initial_model(["Mo"], 4.6, r_min=1.8, n_rho=4, n_triplet=8, hidden=(16, 16),
                             noise=0.0, seed=7)
    return read_model(request.getfixturevalue("potentials_dir") / "Mo.smeam2020.meam.spline")


def test_nve_energy_conserved(md_model):
    energies, temperatures = total_energies(md_model, 1.0, 2000)
    assert 600 < temperatures[500:].mean() < 1400
    assert np.all(np.isfinite(energies))
    assert abs(energies[-1] - energies[0]) < 1e-4
    assert np.abs(energies - energies[0]).max() < 1e-4


def test_nve_fluctuation_scales_as_dt_squared(md_model):
    coarse, _ = total_energies(md_model, 1.0, 400)
    fine, _ = total_energies(md_model, 0.5, 800)
    ratio = coarse.std() / fine.std()
    # velocity Verlet's shadow-Hamiltonian error is O(dt^2): halving dt quarters it
    assert 3.0 < ratio < 5.3, ratio
