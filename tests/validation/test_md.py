"""The hot-MD stability verdict (snnp_calc.validation.md).

A sound potential (EMT Cu; the Mo s-MEAM, which the README says survives
1.5 T_m) keeps atoms apart; a pair potential with an attractive core
(tests/validation/calculators.py: a stable Morse crystal whose atoms fuse
once they cross a 0.07 eV barrier) collapses and is flagged.
"""
import numpy as np
import pytest
from ase.calculators.emt import EMT

from snnp_calc.validation.lattice import Crystal
from snnp_calc.validation.md import closest_approach, md_stability

from .calculators import PairPotential, broken_pair, morse


def test_emt_copper_hot_liquid_is_stable():
    result = md_stability(EMT, Crystal("Cu", "fcc", 3.59), melting_point=1358, time=0.1)
    assert result["temperature_target"] == pytest.approx(1.5 * 1358)
    assert result["stable"], result["reason"]
    assert result["steps_run"] == result["steps"] == 100
    assert result["n_atoms"] == 108
    assert result["min_distance_ratio"] >= 0.6
    assert result["energy_finite"]
    assert 0.3 * 2037 < result["mean_temperature"] < 1.5 * 2037


def test_morse_crystal_is_stable_and_its_broken_core_collapses():
    crystal = Crystal("Cu", "fcc", 2.5 * np.sqrt(2))
    sound = md_stability(PairPotential(morse, 5.0), crystal, temperature=2000, time=0.2)
    assert sound["stable"], sound["reason"]
    broken = md_stability(PairPotential(broken_pair, 5.0), crystal, temperature=2000, time=0.2)
    assert not broken["stable"]
    assert broken["min_distance_ratio"] < 0.6 or broken["max_temperature"] > 6000
    # the run stops once the verdict is known
    assert broken["steps_run"] < broken["steps"]
    assert broken["reason"] != "ok"


def test_default_temperature_and_closest_approach():
    crystal = Crystal("Cu", "fcc", 3.59)
    result = md_stability(EMT(), crystal, time=0.005)
    assert result["temperature_target"] == 2000.0
    atoms = crystal.supercell(2)
    assert closest_approach(atoms, 3.0) == pytest.approx(crystal.nn_distance)
    assert closest_approach(atoms, 2.0) == 2.0


def test_mo_smeam_at_one_and_a_half_melting_points(mo_smeam, mo_crystal):
    # Mo melts at 2896 K; README: every peer survives 1.5 T_m with closest approach >= 0.65
    result = md_stability(mo_smeam, mo_crystal, melting_point=2896, time=0.3)
    assert result["stable"], result["reason"]
    assert result["min_distance_ratio"] >= 0.65
