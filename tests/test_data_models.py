"""The models shipped in data/: they load, reproduce their recorded test errors, run MD."""
from pathlib import Path

import numpy as np
import pytest

from snnp_calc import read_model
from snnp_calc.dataset import read_frames
from snnp_calc.metrics import error_report

DATA = Path(__file__).resolve().parents[1] / "snnp_calc" / "data"
FITTED = sorted(DATA.glob("*-s-*.json"))


def test_every_model_loads_and_names_its_source():
    assert (DATA / "Mo-smeam2020.json").exists()
    for path in DATA.glob("*.json"):
        model = read_model(path)
        assert model.metadata.get("training_data") or model.metadata.get("source")


@pytest.mark.parametrize("path", FITTED, ids=lambda p: p.name)
def test_recorded_test_errors_are_reproduced(path, zuo_dir):
    model = read_model(path)
    element = model.species[0]
    recorded = model.metadata["fit"]["errors"]["test"]["all"]
    now = error_report(model, read_frames(zuo_dir / element / "test.xyz"))["all"]
    for key in ("e_mae", "e_rmse", "f_mae", "f_rmse"):
        assert now[key] == pytest.approx(recorded[key], rel=1e-9)


@pytest.mark.parametrize("path", [p for p in FITTED if "s-nnp" in p.name], ids=lambda p: p.name)
def test_fitted_snnp_conserves_energy(path):
    from ase.build import bulk
    from ase.md.verlet import VelocityVerlet
    from ase.units import fs, kB

    from snnp_calc import SNNP
    model = read_model(path)
    element = model.species[0]
    structure = {"Mo": ("bcc", 3.16), "Ni": ("fcc", 3.52), "Cu": ("fcc", 3.63),
                 "Ge": ("diamond", 5.76)}[element]
    atoms = bulk(element, *structure, cubic=True).repeat(3 if structure[0] == "bcc" else 2)
    atoms.rattle(0.05, seed=1)
    atoms.calc = SNNP(model)
    masses = atoms.get_masses()[:, None]
    p = np.random.default_rng(2).normal(size=(len(atoms), 3)) * np.sqrt(masses * kB * 1600)
    atoms.set_momenta(p - masses * p.sum(axis=0) / masses.sum())
    dyn = VelocityVerlet(atoms, timestep=1.0 * fs)
    start = atoms.get_total_energy()
    energies = []
    for _ in range(20):
        dyn.run(100)
        energies.append(atoms.get_total_energy())
    assert np.abs(np.array(energies) - start).max() / len(atoms) < 1e-4
    assert 300 < atoms.get_temperature() < 2000
