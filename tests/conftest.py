"""Shared fixtures: reference data locations and small models."""
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk

from snnp_calc import Committee
from snnp_calc.lammps.crosscheck import lammps_available
from snnp_calc.lammps.plugin import build_plugin, plugin_available
from snnp_calc.model.initial import initial_model
from tests.helpers import unavailable

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def potentials_dir():
    """The shared LAMMPS meam/spline reference potentials (skip when absent)."""
    path = SHARED / "potentials"
    if not path.is_dir():
        unavailable(f"shared reference potentials not found at {path}")
    return path


@pytest.fixture(scope="session")
def plugin(tmp_path_factory):
    """Path of ``snnpplugin.so``, built once per session."""
    ok, reason = plugin_available()
    if not ok:
        unavailable(f"cannot build the LAMMPS plugin: {reason}")
    ok, reason = lammps_available()
    if not ok:
        unavailable(f"LAMMPS not usable: {reason}")
    return build_plugin(tmp_path_factory.mktemp("plugin"))


@pytest.fixture(scope="session")
def zuo_dir():
    """The shared Zuo et al. (2020) DFT data sets (skip when absent)."""
    path = SHARED / "zuo2020"
    if not path.is_dir():
        unavailable(f"shared DFT data not found at {path}")
    return path


@pytest.fixture(scope="session")
def snnp_model():
    """Two-species s-NNP, 4 + 8 filters, 2x16 MLP, generic (noisy) smooth filters.

    Its triplet filters end at 3.9 Å, before the 4.6 Å cutoff (the short
    triplet range of the presets); the s-MEAM fixture's do not.
    """
    return initial_model(["Mo", "Ni"], 4.6, r_min=1.8, n_rho=4, n_triplet=8, hidden=(16, 16),
                         activation="tanh", noise=0.1, seed=7, triplet_cutoff=3.9)


@pytest.fixture(scope="session")
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def smeam_model():
    """Two-species s-MEAM (spline readout), generic smooth filters."""
    return initial_model(["Mo", "Ni"], 4.6, r_min=1.8, n_rho=1, n_triplet=1, readout="spline",
                         noise=0.2, seed=11)


@pytest.fixture(scope="session")
def legendre_model():
    """Two-species s-NNP with two Legendre filters (L = 5) beside a spline triplet filter.

    Its Legendre filters reach 4.2 Å, past the spline triplet filter's 3.9 Å.
    """
    return initial_model(["Mo", "Ni"], 4.6, r_min=1.8, n_rho=2, n_triplet=1, n_legendre=2,
                         degree=5, hidden=(8,), activation="tanh", noise=0.1, seed=5,
                         triplet_cutoff=3.9, legendre_cutoff=4.2)


@pytest.fixture(scope="session", params=["snnp", "smeam", "legendre"])
def any_model(request, snnp_model, smeam_model, legendre_model):
    """Each kind of model in turn: spline triplet filters, s-MEAM, Legendre filters."""
    return {"snnp": snnp_model, "smeam": smeam_model, "legendre": legendre_model}[request.param]


@pytest.fixture(scope="session")
def committee():
    """Three two-species s-NNPs as a committee (triplet filters ending before the cutoff)."""
    members = [initial_model(["Mo", "Ni"], 4.4, r_min=1.9, n_rho=2, n_triplet=2, hidden=(4,),
                             noise=0.1, seed=s, triplet_cutoff=3.8) for s in (1, 2, 3)]
    return Committee(members, {"note": "test"})


@pytest.fixture
def committee_atoms():
    """A rattled bcc Mo-Ni cell of 16 atoms."""
    atoms = bulk("Mo", "bcc", 3.15, cubic=True).repeat((2, 2, 2))
    atoms.rattle(0.1, seed=4)
    atoms.symbols[:5] = "Ni"
    return atoms
