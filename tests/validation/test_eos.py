"""Equilibrium, Birch–Murnaghan B and the P(V) scan (snnp_calc.validation.eos).

Known answers: a calculator whose energy is an exact Birch–Murnaghan E(V)
(tests/validation/calculators.py), ASE's EMT for Cu, and the README's s-MEAM
values for Mo.
"""
import numpy as np
import pytest
from ase.calculators.emt import EMT
from ase.units import GPa

from snnp_calc.validation.elastic import elastic_constants
from snnp_calc.validation.eos import eos_scan, equilibrium
from snnp_calc.validation.lattice import Crystal

from .calculators import Repulsive, VolumeEnergy

BM = dict(e0=-3.0, v0=12.0, b0=0.8, bp=4.5)


def test_equilibrium_recovers_an_exact_birch_murnaghan():
    result = equilibrium(VolumeEnergy(**BM), Crystal("Cu", "fcc", 3.5))
    assert result["a0"] == pytest.approx((4 * BM["v0"]) ** (1 / 3), rel=1e-6)
    assert result["volume_per_atom"] == pytest.approx(BM["v0"], rel=1e-5)
    assert result["energy_per_atom"] == pytest.approx(BM["e0"], abs=1e-9)
    # the free atom of this calculator has energy 0
    assert result["cohesive_energy"] == pytest.approx(-BM["e0"], abs=1e-9)
    assert result["bulk_modulus"] == pytest.approx(BM["b0"] / GPa, rel=1e-6)
    assert result["bulk_modulus_derivative"] == pytest.approx(BM["bp"], rel=1e-5)


def test_equilibrium_of_hcp_relaxes_a_and_c():
    # EMT Cu in hcp is close-packed: c/a relaxes near the ideal 1.633
    result = equilibrium(EMT, Crystal("Cu", "hcp", 2.5, 4.2))
    assert result["c_over_a"] == pytest.approx(np.sqrt(8 / 3), rel=0.01)
    fcc = equilibrium(EMT, Crystal("Cu", "fcc", 3.6))
    assert result["volume_per_atom"] == pytest.approx(fcc["volume_per_atom"], rel=0.01)


def test_scan_pressure_and_local_modulus_against_the_analytic_curve():
    calc = VolumeEnergy(**BM)
    crystal = Crystal("Cu", "fcc", (4 * BM["v0"]) ** (1 / 3))
    scan = eos_scan(calc, crystal)
    v = np.array(scan["volume_per_atom"])
    assert len(v) == 41 and v[20] == pytest.approx(BM["v0"])
    _, de, d2e = calc.derivatives(v)
    np.testing.assert_allclose(scan["pressure"], -de / GPa, rtol=1e-10, atol=1e-9)
    # central differences on 0.5 % steps of a: B_loc to ~0.2 % inside the scan
    b_exact = v * d2e / GPa
    np.testing.assert_allclose(scan["local_bulk_modulus"][1:-1], b_exact[1:-1], rtol=3e-3)
    assert scan["pressure_monotonic"] and scan["non_monotonic_steps"] == 0
    inside = (np.array(scan["strain"]) <= 0.05 + 1e-9)
    assert scan["min_local_bulk_modulus"] == pytest.approx(b_exact[inside].min(), rel=0.02)


def test_scan_counts_the_non_monotonic_steps_of_a_bump():
    # a bump in e(v) 6 % below v0 in volume turns P(V) over on a few steps
    calc = VolumeEnergy(**BM, bump=0.02, v_bump=11.3, width=0.25)
    crystal = Crystal("Cu", "fcc", (4 * BM["v0"]) ** (1 / 3))
    scan = eos_scan(calc, crystal)
    strain = np.array(scan["strain"])
    p_exact = -calc.derivatives(np.array(scan["volume_per_atom"]))[1]
    inside = strain <= 0.05 + 1e-9
    expected = int(np.count_nonzero(np.diff(p_exact[inside]) >= 0))
    assert expected > 0
    assert not scan["pressure_monotonic"]
    assert scan["non_monotonic_steps"] == expected
    assert scan["min_local_bulk_modulus"] < 0


def test_emt_copper():
    # EMT's Cu lattice constant (Jacobsen, Stoltze, Nørskov, Surf. Sci. 366, 394 (1996)
    # fit it to the experimental 3.61 Å; ASE's EMT gives 3.59 Å)
    eq = equilibrium(EMT, Crystal("Cu", "fcc", 3.65))
    assert eq["a0"] == pytest.approx(3.59, abs=0.005)
    crystal = Crystal(**eq["crystal"])
    scan = eos_scan(EMT(), crystal)
    zero = int(np.argmin(np.abs(scan["strain"])))
    # independent: -V dP/dV at a0 from the scan equals (C11 + 2 C12)/3 from stresses
    b_elastic = elastic_constants(EMT(), crystal)["bulk_modulus"]
    assert scan["local_bulk_modulus"][zero] == pytest.approx(b_elastic, rel=5e-3)
    assert scan["pressure_monotonic"]


def test_mo_smeam_against_readme(mo_equilibrium, mo_smeam, mo_crystal):
    # README: s-MEAM a0 within 3.167-3.169, B 274, B_loc min 114, monotonic P
    assert mo_equilibrium["a0"] == pytest.approx(3.168, rel=2e-3)
    assert mo_equilibrium["bulk_modulus"] == pytest.approx(274, rel=0.02)
    # the DFT energy per atom at the minimum (README data: -10.8502 eV/atom, lowest frame)
    assert mo_equilibrium["energy_per_atom"] == pytest.approx(-10.850, abs=0.01)
    scan = eos_scan(mo_smeam, mo_crystal)
    assert scan["pressure_monotonic"]
    assert scan["min_local_bulk_modulus"] == pytest.approx(114, rel=0.03)


def test_equilibrium_names_a_lattice_that_does_not_relax():
    with pytest.raises(ValueError, match="lattice constant: the lattice did not relax"):
        equilibrium(Repulsive(), Crystal("Cu", "fcc", 3.0), steps=20)
