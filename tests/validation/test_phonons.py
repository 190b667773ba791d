"""Phonons (snnp_calc.validation.phonons).

Known answer: fcc with nearest-neighbour central springs k = φ''(d) and no
tension (φ'(d) = 0) has, at X = (2π/a)(1, 0, 0), ω_L² = 8k/M and
ω_T² = 4k/M (twice degenerate): D_αβ(q) = (k/M) Σ_δ δ̂_α δ̂_β (1 − cos q·δ),
and the 8 neighbours with δ_x = ±a/2 have q·δ = ±π. A bcc crystal of
nearest-neighbour pairs under compression (φ'(d) < 0) is unstable at N
(the transverse mode of pair-potential bcc), which must be flagged.
"""
import numpy as np
import pytest
from ase import units
from ase.calculators.lj import LennardJones
from ase.data import atomic_masses, atomic_numbers

from snnp_calc.validation.lattice import Crystal
from snnp_calc.validation.phonons import phonon_frequencies

D = 2.5  # nn distance, Å
SIGMA = D / 2 ** (1 / 6)  # LJ minimum at D: φ'(D) = 0


def lj(r, epsilon=0.1):
    return 4 * epsilon * ((SIGMA / r) ** 12 - (SIGMA / r) ** 6)


def thz(k, mass):
    """sqrt(k/M) (eV/Å², amu) as a frequency in THz, through ASE's time unit."""
    omega = np.sqrt(k / mass)  # rad per ASE time unit
    # 1 fs is units.fs ASE time units: rad/fs = omega * units.fs; THz = cycles per ps
    return omega * units.fs * 1e3 / (2 * np.pi)


def test_fcc_nearest_neighbour_springs_at_x():
    h = 1e-4
    k = (lj(D + h) - 2 * lj(D) + lj(D - h)) / h ** 2
    mass = atomic_masses[atomic_numbers["Ar"]]
    calc = LennardJones(sigma=SIGMA, epsilon=0.1, rc=1.2 * D)
    result = phonon_frequencies(calc, Crystal("Ar", "fcc", D * np.sqrt(2)))
    x = sorted(result["special_points"]["X"])
    # ±0.01 Å displacements of a 12th-power wall: 0.1 % anharmonic shift
    assert x[0] == pytest.approx(thz(4 * k, mass), rel=2e-3)
    assert x[1] == pytest.approx(thz(4 * k, mass), rel=2e-3)
    assert x[2] == pytest.approx(thz(8 * k, mass), rel=2e-3)
    assert np.abs(result["special_points"]["G"]).max() < 1e-3
    assert not result["imaginary"]
    path = result["path"]
    assert np.array(path["frequencies"]).shape == (len(path["x"]), 3)
    assert path["labels"][0] == "G" and "K|U" in path["labels"]


def test_compressed_pair_bcc_has_an_imaginary_mode_at_n():
    d = 0.96 * D
    calc = LennardJones(sigma=SIGMA, epsilon=0.1, rc=1.08 * d)
    result = phonon_frequencies(calc, Crystal("Ar", "bcc", d * 2 / np.sqrt(3)))
    assert result["imaginary"]
    assert min(result["special_points"]["N"]) < -1.0
    assert result["min_frequency"] == pytest.approx(min(result["special_points"]["N"]),
                                                    abs=0.05)


def test_mo_smeam_is_stable_with_degenerate_h(mo_smeam, mo_crystal):
    result = phonon_frequencies(mo_smeam, mo_crystal)
    assert not result["imaginary"]
    assert result["min_frequency"] > 0
    # H is a point of full cubic symmetry: one triply degenerate frequency
    h = result["special_points"]["H"]
    assert np.ptp(h) < 0.01 and 5 < h[0] < 7
