"""Vacancy and surface energies (snnp_calc.validation.defects).

Known answers: with a nearest-neighbour-only pair potential of bond energy
−ε, an unrelaxed fcc surface costs ε/2 per bond cut per unit area: 4, 6 and
3 bonds per surface atom cross the (100), (110) and (111) planes, with
surface areas per atom d², √2 d² and (√3/2) d² (d the nn distance), so
γ(100) = 2ε/d², γ(110) = 3ε/(√2 d²), γ(111) = √3 ε/d²; and an unrelaxed
vacancy costs 12 ε/2 = 6ε (12 bonds cut, each atom's share of the bulk
energy −6ε returned). The README's s-MEAM E_vac for Mo is 2.99 eV.
"""
import numpy as np
import pytest
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones

from snnp_calc.validation.defects import (
    EV_PER_A2_IN_J_PER_M2,
    SURFACES,
    VACANCY_REPEAT,
    surface_energies,
    surface_slab,
    vacancy_formation,
)
from snnp_calc.validation.lattice import Crystal

D = 2.5  # nn distance, Å


@pytest.fixture
def nn_pair():
    """Lennard-Jones cut (and shifted) between the first and second fcc shells."""
    return LennardJones(sigma=D / 2 ** (1 / 6), epsilon=0.1, rc=1.2 * D)


def nn_bond(calc):
    """The magnitude ε of one nearest-neighbour bond energy at r = D (shifted LJ)."""
    sigma, epsilon, rc = (calc.parameters[k] for k in ("sigma", "epsilon", "rc"))

    def lj(r):
        return 4 * epsilon * ((sigma / r) ** 12 - (sigma / r) ** 6)
    return -(lj(D) - lj(rc))


def test_unrelaxed_fcc_surfaces_count_broken_bonds(nn_pair):
    crystal = Crystal("Ar", "fcc", D * np.sqrt(2))
    eps = nn_bond(nn_pair)
    result = surface_energies(nn_pair, crystal)
    expected = {"100": 2 * eps / D ** 2, "110": 3 * eps / (np.sqrt(2) * D ** 2),
                "111": np.sqrt(3) * eps / D ** 2}
    for face, gamma in expected.items():
        assert result[face]["unrelaxed_energy"] == pytest.approx(
            gamma * EV_PER_A2_IN_J_PER_M2, rel=1e-10)
        # relaxing can only lower the energy
        assert result[face]["energy"] <= result[face]["unrelaxed_energy"] + 1e-12
        assert result[face]["energy_eV_A2"] * EV_PER_A2_IN_J_PER_M2 == pytest.approx(
            result[face]["energy"])


def test_unrelaxed_vacancy_counts_broken_bonds(nn_pair):
    crystal = Crystal("Ar", "fcc", D * np.sqrt(2))
    result = vacancy_formation(nn_pair, crystal)
    assert result["n_sites"] == 108
    assert result["unrelaxed_energy"] == pytest.approx(6 * nn_bond(nn_pair), rel=1e-10)
    # φ'(d) = 0: nothing to relax; the seeded rattle relaxed to fmax leaves µeV
    assert abs(result["relaxation_energy"]) < 1e-5


@pytest.mark.parametrize("lattice, a, n_sites", [("bcc", 3.17, 128), ("fcc", 3.6, 108),
                                                 ("diamond", 5.6, 64), ("hcp", 2.55, 96)])
def test_vacancy_cells_and_slab_thickness(lattice, a, n_sites):
    crystal = Crystal("Cu", lattice, a)
    assert len(crystal.supercell(VACANCY_REPEAT[lattice])) == n_sites
    for miller in SURFACES[lattice].values():
        slab = surface_slab(crystal, miller, thickness=12.0, vacuum=8.0)
        z = slab.positions @ (np.cross(slab.cell[0], slab.cell[1])
                              / np.linalg.norm(np.cross(slab.cell[0], slab.cell[1])))
        assert np.ptp(z) >= 12.0 - crystal.nn_distance
        # vacuum on each side: the periodic gap is twice the requested vacuum
        height = slab.get_volume() / np.linalg.norm(np.cross(slab.cell[0], slab.cell[1]))
        assert height - np.ptp(z) == pytest.approx(16.0, abs=1e-6)


def test_emt_copper_surfaces_are_ordered_like_close_packing():
    crystal = Crystal("Cu", "fcc", 3.5898)
    result = surface_energies(EMT(), crystal)
    # the close-packed (111) face is the cheapest, (110) the dearest (EMT, as DFT)
    assert result["111"]["energy"] < result["100"]["energy"] < result["110"]["energy"]


def test_mo_smeam_vacancy_against_readme(mo_smeam, mo_crystal):
    result = vacancy_formation(mo_smeam, mo_crystal)
    assert result["n_sites"] == 128
    assert result["energy"] == pytest.approx(2.99, rel=0.01)


def test_vacancy_that_does_not_relax_names_the_property(mo_smeam, mo_crystal):
    with pytest.raises(ValueError, match="vacancy formation energy: atoms did not relax"):
        vacancy_formation(mo_smeam, mo_crystal, steps=2, fmax=1e-6)
