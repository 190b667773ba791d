"""Elastic constants from stresses (snnp_calc.validation.elastic).

Independent references: second derivatives of the *energy* by finite
differences (C_ij = (1/V) ∂²E/∂ε_i∂ε_j at zero stress), the exact answer of
a volume-only energy, and the README's s-MEAM values (Mo; Ge relaxed- and
clamped-ion).
"""
import numpy as np
import pytest
from ase.calculators.emt import EMT
from ase.units import GPa

from snnp_calc import SNNP, read_model
from snnp_calc.validation.common import attach, strained
from snnp_calc.validation.elastic import CUBIC_BASIS, HEXAGONAL_BASIS, elastic_constants, project
from snnp_calc.validation.eos import equilibrium
from snnp_calc.validation.lattice import Crystal

from .calculators import VolumeEnergy


def voigt_strain(j, h):
    """The (3, 3) strain of Voigt component j (engineering shear) of size h."""
    pairs = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))
    eps = np.zeros((3, 3))
    p, q = pairs[j]
    eps[p, q] = eps[q, p] = h if p == q else h / 2
    return eps


def energy_stiffness(calc, atoms, i, j, h=2e-3):
    """(1/V) ∂²E/∂ε_i∂ε_j by central differences of energies (clamped ions), GPa."""
    attach(atoms, calc)

    def energy(a, b):
        return strained(atoms, voigt_strain(i, a) + voigt_strain(j, b)).get_potential_energy()

    if i == j:
        d2 = (-energy(2 * h, 0) + 16 * energy(h, 0) - 30 * energy(0, 0) + 16 * energy(-h, 0)
              - energy(-2 * h, 0)) / (12 * h ** 2)
    else:
        d2 = (energy(h, h) - energy(h, -h) - energy(-h, h) + energy(-h, -h)) / (4 * h ** 2)
    return d2 / atoms.get_volume() / GPa


def test_volume_only_energy_has_c11_equal_c12_equal_b_and_no_shear_stiffness():
    calc = VolumeEnergy(e0=-3.0, v0=12.0, b0=0.8, bp=4.5)
    result = elastic_constants(calc, Crystal("Cu", "fcc", 48 ** (1 / 3)))
    b0 = 0.8 / GPa
    # central differences over ±0.5 %: O(h²) = 1e-4 relative, times B'
    assert result["C11"] == pytest.approx(b0, rel=1e-3)
    assert result["C12"] == pytest.approx(b0, rel=1e-3)
    assert abs(result["C44"]) < 1e-6 * b0
    assert result["bulk_modulus"] == pytest.approx(b0, rel=1e-3)


def test_emt_copper_stresses_agree_with_energy_second_derivatives():
    crystal = Crystal(**equilibrium(EMT, Crystal("Cu", "fcc", 3.6))["crystal"])
    result = elastic_constants(EMT(), crystal)
    atoms = crystal.conventional()
    assert result["C11"] == pytest.approx(energy_stiffness(EMT(), atoms, 0, 0), rel=2e-3)
    assert result["C12"] == pytest.approx(energy_stiffness(EMT(), atoms, 0, 1), rel=2e-3)
    assert result["C44"] == pytest.approx(energy_stiffness(EMT(), atoms, 3, 3), rel=2e-3)
    # fcc: every atom is an inversion centre, relaxing the atoms changes nothing
    for name in ("C11", "C12", "C44"):
        assert result["clamped"][name] == pytest.approx(result["relaxed"][name], rel=1e-9)
    assert result["symmetry_deviation"] < 1e-6


def test_hcp_has_hexagonal_symmetry_and_internal_relaxation():
    crystal = Crystal(**equilibrium(EMT, Crystal("Cu", "hcp", 2.55, 4.15))["crystal"])
    result = elastic_constants(EMT(), crystal)
    assert set(result["relaxed"]) == {"C11", "C12", "C13", "C33", "C44", "bulk_modulus"}
    # the 6×6 matrix is hexagonal (C66 = (C11 - C12)/2 included) to round-off of the steps
    assert result["symmetry_deviation"] < 0.5
    atoms = crystal.conventional()
    assert result["clamped"]["C33"] == pytest.approx(energy_stiffness(EMT(), atoms, 2, 2),
                                                     rel=3e-3)
    # hcp atoms are not inversion centres: relaxation softens C11 (Kleinman-like shift)
    assert result["relaxed"]["C11"] < result["clamped"]["C11"] - 1


def test_projection_recovers_symmetric_constants():
    rng = np.random.default_rng(0)
    for basis in (CUBIC_BASIS, HEXAGONAL_BASIS):
        true = {name: float(v) for name, v in zip(basis, rng.uniform(50, 300, len(basis)))}
        matrix = sum(true[n] * basis[n] for n in basis)
        constants, deviation = project(matrix, basis)
        assert constants == pytest.approx(true, rel=1e-12)
        assert deviation < 1e-9


def test_mo_smeam_against_readme(mo_smeam, mo_crystal):
    result = elastic_constants(mo_smeam, mo_crystal)
    assert result["C11"] == pytest.approx(473, rel=0.02)
    assert result["C12"] == pytest.approx(157, rel=0.02)
    assert result["C44"] == pytest.approx(107, rel=0.02)


def test_ge_smeam_relaxed_and_clamped_c44(potentials_dir):
    # README, Ge s-MEAM: C11 112, C12 49, C44 50 relaxed-ion (76 clamped-ion)
    calc = SNNP(read_model(potentials_dir / "Ge.smeam2020.meam.spline"))
    crystal = Crystal(**equilibrium(calc, Crystal("Ge", "diamond", 5.78))["crystal"])
    result = elastic_constants(calc, crystal)
    assert result["C11"] == pytest.approx(112, rel=0.03)
    assert result["C12"] == pytest.approx(49, rel=0.03)
    assert result["relaxed"]["C44"] == pytest.approx(50, rel=0.04)
    assert result["clamped"]["C44"] == pytest.approx(76, rel=0.03)
