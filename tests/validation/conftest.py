"""Fixtures of the validation tests: the published Mo s-MEAM model and its crystal.

The reference values are the README's (``../shared/data/zuo2020/README.md``):
"Reference material properties", computed for the peers by the same standard
procedure (EOS over ±3 %, ±0.5 % strains, fixed-volume relaxed vacancy).
"""
from pathlib import Path

import pytest

from snnp_calc import SNNP, read_model
from snnp_calc.validation.eos import equilibrium
from snnp_calc.validation.lattice import Crystal
from tests.helpers import unavailable

MODELS = Path(__file__).resolve().parents[2] / "snnp_calc" / "data"
ZUO = Path(__file__).resolve().parents[3] / "shared" / "data" / "zuo2020"


@pytest.fixture(scope="session")
def mo_train():
    """The Mo training set of Zuo et al. (2020) (skip when the shared data are absent)."""
    path = ZUO / "Mo" / "train.xyz"
    if not path.is_file():
        unavailable(f"shared DFT data not found at {path}")
    return path


@pytest.fixture(scope="session")
def mo_smeam():
    """The published Mo s-MEAM (Vita & Trinkle 2021) as an SNNP calculator."""
    return SNNP(read_model(MODELS / "Mo-smeam2020.json"))


@pytest.fixture(scope="session")
def mo_equilibrium(mo_smeam):
    """:func:`equilibrium` of the Mo s-MEAM, from a 1 % too small start."""
    return equilibrium(mo_smeam, Crystal("Mo", "bcc", 3.135))


@pytest.fixture(scope="session")
def mo_crystal(mo_equilibrium):
    """The relaxed bcc Mo crystal of the s-MEAM."""
    return Crystal(**mo_equilibrium["crystal"])
