"""Crystals, lattice identification and starting guesses (snnp_calc.validation.lattice)."""
import numpy as np
import pytest
from ase.build import bulk
from ase.neighborlist import neighbor_list

from snnp_calc.dataset import read_frames
from snnp_calc.validation.lattice import Crystal, classify_lattice, guess_crystal

CRYSTALS = [Crystal("Mo", "bcc", 3.17), Crystal("Ni", "fcc", 3.52),
            Crystal("Ge", "diamond", 5.78), Crystal("Ti", "hcp", 2.95, 4.68)]


@pytest.mark.parametrize("crystal", CRYSTALS, ids=lambda c: c.lattice)
def test_cells_and_nearest_neighbour_distance(crystal):
    conv, prim = crystal.conventional(), crystal.primitive()
    assert len(conv) == {"bcc": 2, "fcc": 4, "diamond": 8, "hcp": 2}[crystal.lattice]
    # the same crystal: equal volume per atom in every cell, and the measured nn distance
    for atoms in (conv, prim, crystal.supercell((2, 2, 2))):
        assert atoms.get_volume() / len(atoms) == pytest.approx(crystal.volume_per_atom)
    d = neighbor_list("d", crystal.supercell(3), 1.5 * crystal.nn_distance)
    assert d.min() == pytest.approx(crystal.nn_distance, rel=1e-12)
    again = Crystal.from_volume(crystal.symbol, crystal.lattice, crystal.volume_per_atom,
                                c_over_a=crystal.c / crystal.a if crystal.c else 1.0)
    assert again.a == pytest.approx(crystal.a, rel=1e-12)


def test_crystal_rejects_bad_parameters():
    with pytest.raises(ValueError, match="sc"):
        Crystal("Mo", "sc", 3.0)
    with pytest.raises(ValueError, match="positive"):
        Crystal("Mo", "bcc", -3.0)
    with pytest.raises(ValueError, match="hcp only"):
        Crystal("Mo", "bcc", 3.0, 5.0)
    assert Crystal("Ti", "hcp", 3.0).c == pytest.approx(3.0 * np.sqrt(8 / 3))


@pytest.mark.parametrize("crystal", CRYSTALS, ids=lambda c: c.lattice)
def test_classify_ideal_rattled_and_strained(crystal):
    atoms = crystal.supercell(3 if crystal.lattice != "diamond" else 2)
    assert classify_lattice(atoms) == crystal.lattice
    atoms.rattle(0.04, seed=1)
    atoms.set_cell(atoms.cell.array @ np.diag([1.02, 1.0, 0.99]), scale_atoms=True)
    assert classify_lattice(atoms) == crystal.lattice


def test_classify_refuses_simple_cubic():
    with pytest.raises(ValueError, match="coordination 6"):
        classify_lattice(bulk("Po", "sc", 3.3).repeat(3))


def test_guess_from_ase_reference_states():
    mo = guess_crystal("Mo")
    assert (mo.lattice, mo.a) == ("bcc", 3.15)
    ti = guess_crystal("Ti")
    assert ti.lattice == "hcp" and ti.c / ti.a == pytest.approx(1.588)
    # another lattice keeps ASE's volume per atom
    fcc_mo = guess_crystal("Mo", "fcc")
    assert fcc_mo.volume_per_atom == pytest.approx(mo.volume_per_atom)
    assert guess_crystal("Mo", "bcc", a=3.2).a == 3.2
    with pytest.raises(ValueError, match="orthorhombic"):
        guess_crystal("Ga")


@pytest.mark.parametrize("element, lattice, a", [("Mo", "bcc", 3.1677), ("Ni", "fcc", 3.508),
                                                 ("Ge", "diamond", 5.754)])
def test_guess_from_data(zuo_dir, element, lattice, a):
    # the lowest-energy frames of the training sets are the (nearly) unstrained crystals
    frames = read_frames(zuo_dir / element / "train.xyz")
    guess = guess_crystal(element, frames=frames)
    assert guess.lattice == lattice
    assert guess.a == pytest.approx(a, rel=0.01)
