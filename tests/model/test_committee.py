"""Committees: the mean of the members and their spread, through the calculator."""
import dataclasses

import numpy as np
import pytest

from snnp_calc import SNNP, Committee
from snnp_calc.model.initial import initial_model
from tests.helpers import member_results


def test_mean_and_spread_are_those_of_the_members(committee, committee_atoms):
    runs = member_results(committee, committee_atoms)
    atoms = committee_atoms
    atoms.calc = SNNP(committee)
    assert atoms.get_potential_energy() == pytest.approx(np.mean([r["energy"] for r in runs]),
                                                         rel=1e-13)
    for key, value in (("forces", atoms.get_forces()), ("stress", atoms.get_stress()),
                       ("energies", atoms.get_potential_energies())):
        np.testing.assert_allclose(value, np.mean([r[key] for r in runs], axis=0), rtol=1e-12,
                                   atol=1e-13)
    calc = atoms.calc
    assert calc.get_property("energy_std", atoms) == pytest.approx(
        np.std([r["energy"] for r in runs], ddof=1), rel=1e-12)
    np.testing.assert_allclose(calc.results["forces_std"],
                               np.std([r["forces"] for r in runs], axis=0, ddof=1), rtol=1e-12,
                               atol=1e-14)
    np.testing.assert_allclose(calc.results["energies_std"],
                               np.std([r["energies"] for r in runs], axis=0, ddof=1),
                               rtol=1e-12, atol=1e-14)
    assert calc.results["forces_std"].shape == (len(atoms), 3)
    assert (calc.results["energies_std"] > 0).all()
    # a plain model has no such property
    atoms.calc = SNNP(committee.members[0])
    atoms.get_potential_energy()
    assert "energy_std" not in atoms.calc.results
    assert "energy_std" not in SNNP.implemented_properties


def test_members_with_shorter_cutoffs_ignore_farther_pairs(committee, committee_atoms):
    """One neighbour list at the largest cutoff serves all members: each keeps only its own.

    The short member's pair term does not vanish at its cutoff (its linear
    extension beyond would add energy), so a member that saw the farther
    pairs would differ from the same model alone.
    """
    short = initial_model(["Mo", "Ni"], 3.9, r_min=1.9, n_rho=2, n_triplet=2, hidden=(4,),
                          noise=0.1, seed=5, triplet_cutoff=3.5)
    short = dataclasses.replace(short, phi=tuple(s.with_params(s.params + 0.05)
                                                 for s in short.phi))
    mixed = Committee([committee.members[0], short])
    atoms = committee_atoms
    runs = member_results(mixed, atoms)
    atoms.calc = SNNP(mixed)
    assert atoms.get_potential_energy() == pytest.approx(np.mean([r["energy"] for r in runs]),
                                                         rel=1e-13)
    np.testing.assert_allclose(atoms.get_forces(), np.mean([r["forces"] for r in runs], axis=0),
                               rtol=1e-12, atol=1e-13)


def test_members_must_be_models_of_the_same_species(committee):
    other = initial_model(["Mo"], 4.4, r_min=1.9, n_rho=2, n_triplet=2, hidden=(4,))
    with pytest.raises(ValueError, match="member 1 has species"):
        Committee([committee.members[0], other])
    with pytest.raises(TypeError, match="member 1 is a str, not a Model"):
        Committee([committee.members[0], "Mo.json"])
