"""Physics checks of the energy, forces and stress (CHECKS.md items 1-15)."""
import itertools
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.fd import calculate_numerical_forces, calculate_numerical_stress
from scipy.spatial.transform import Rotation

from snnp_calc import SNNP, read_model
from snnp_calc.evaluate import neighbour_cell, voigt
from snnp_calc.model.model import select_species

DATA = Path(__file__).resolve().parents[1] / "snnp_calc" / "data"
SHEAR = np.array([[1.02, 0, 0.03], [0, 0.99, -0.02], [0.1, -0.01, 1.03]])


def mixture(model, atoms, seed=0):
    """Random species of ``model`` on ``atoms``."""
    rng = np.random.default_rng(seed)
    atoms.symbols = rng.choice(model.species, len(atoms))
    return atoms


def bcc(repeat=(2, 2, 2), a=3.15, rattle=0.15, seed=1):
    atoms = bulk("Mo", "bcc", a, cubic=True).repeat(repeat)
    if rattle:
        atoms.rattle(rattle, seed=seed)
    return atoms


def results(atoms, model):
    atoms.calc = SNNP(model)
    stress = atoms.get_stress() if atoms.cell.rank == 3 else None
    return atoms.get_potential_energy(), atoms.get_forces(), stress


def check_forces(atoms, model):
    atoms.calc = SNNP(model)
    numeric = calculate_numerical_forces(atoms, 1e-4)
    np.testing.assert_allclose(atoms.get_forces(), numeric, rtol=1e-6, atol=1e-6)


def check_stress(atoms, model):
    atoms.calc = SNNP(model)
    numeric = calculate_numerical_stress(atoms, 1e-5)
    np.testing.assert_allclose(atoms.get_stress(), numeric, rtol=1e-6, atol=1e-7)


# --- 1-3: derivatives and identities -------------------------------------------

@pytest.mark.parametrize("kind", ["single", "mixture"])
def test_forces_bulk(any_model, kind):
    atoms = bcc(rattle=0.2)
    if kind == "mixture":
        mixture(any_model, atoms)
    check_forces(atoms, any_model)


def test_forces_cluster(any_model):
    atoms = bcc(repeat=(2, 2, 1), rattle=0.25, seed=4)
    mixture(any_model, atoms, seed=2)
    atoms.pbc = False
    atoms.cell = np.zeros((3, 3))
    check_forces(atoms, any_model)


def test_numerical_hessian_is_symmetric(any_model):
    """CHECKS.md 4: the force constants, by central differences of forces, are symmetric."""
    from matscipy.numerical import numerical_hessian
    atoms = mixture(any_model, bcc(repeat=(1, 1, 2), rattle=0.1, seed=6), seed=3)
    atoms.calc = SNNP(any_model)
    H = numerical_hessian(atoms, 1e-4)
    H = H.toarray() if hasattr(H, "toarray") else np.asarray(H)
    assert H.shape == (3 * len(atoms), 3 * len(atoms)) and np.abs(H).max() > 0.1
    np.testing.assert_allclose(H, H.T, atol=1e-6 * np.abs(H).max())


@pytest.mark.parametrize("cell", ["cubic", "sheared", "small"])
def test_stress_matches_strain_derivative(any_model, cell):
    if cell == "cubic":
        atoms = mixture(any_model, bcc(rattle=0.1))
    elif cell == "sheared":
        atoms = mixture(any_model, bcc(repeat=(1, 1, 1), rattle=0.1).repeat((1, 2, 3)))
        atoms.set_cell(atoms.cell.array @ SHEAR, scale_atoms=True)
    else:
        atoms = mixture(any_model, bcc(repeat=(1, 1, 1), rattle=0.1))
        assert atoms.cell.lengths().max() < 2 * any_model.cutoff
    check_stress(atoms, any_model)


@pytest.mark.parametrize("name", ["Mo-smeam2020.json", "Mo-s-nnp.json"])
def test_compression_gives_positive_pressure(name):
    """A physical model (the shipped Mo models; random test models need not be
    stable) compressed by 2 % from its zero-pressure lattice constant."""
    model = read_model(DATA / name)
    pressures = {}
    for a in np.linspace(2.9, 3.4, 51):
        trial = bcc(a=a, rattle=0.0)
        trial.calc = SNNP(model)
        pressures[a] = -trial.get_stress()[:3].mean()
    a0 = min(pressures, key=lambda a: abs(pressures[a]))
    assert abs(pressures[a0]) < 0.01  # eV/Å³: a zero crossing lies on the grid's range
    atoms = bcc(a=a0 * 0.98, rattle=0.0)
    atoms.calc = SNNP(model)
    reference = bcc(a=a0, rattle=0.0)
    reference.calc = SNNP(model)
    assert -atoms.get_stress()[:3].mean() > 0
    assert -atoms.get_stress()[:3].mean() > -reference.get_stress()[:3].mean()


def test_sum_rules(any_model):
    atoms = mixture(any_model, bcc(rattle=0.2))
    atoms.set_cell(atoms.cell.array @ SHEAR, scale_atoms=True)
    atoms.calc = SNNP(any_model)
    assert np.abs(atoms.get_forces().sum(axis=0)).max() < 1e-10
    assert atoms.get_potential_energies().sum() == pytest.approx(atoms.get_potential_energy(),
                                                                 rel=1e-13, abs=1e-12)
    np.testing.assert_allclose(atoms.get_stresses().sum(axis=0), atoms.get_stress(),
                               rtol=1e-12, atol=1e-14)


# --- 5-8: periodicity ---------------------------------------------------------------

@pytest.mark.parametrize("pbc", [p for p in itertools.product([True, False], repeat=3) if any(p)])
def test_pbc_patterns_and_repeats(any_model, pbc):
    atoms = mixture(any_model, bcc(rattle=0.15))
    atoms.pbc = pbc
    energy, forces, stress = results(atoms, any_model)
    assert np.all(np.isfinite(forces))
    reps = [2 if p else 1 for p in pbc]
    big = atoms.repeat(reps)
    big_energy, big_forces, big_stress = results(big, any_model)
    n = int(np.prod(reps))
    assert big_energy == pytest.approx(n * energy, rel=1e-12)
    np.testing.assert_allclose(big_forces, np.tile(forces, (n, 1)), rtol=1e-12, atol=1e-11)
    np.testing.assert_allclose(big_stress, stress, rtol=1e-12, atol=1e-13)


def test_pbc_pattern_forces(any_model):
    atoms = mixture(any_model, bcc(rattle=0.2))
    atoms.pbc = (True, False, True)
    check_forces(atoms, any_model)


def test_small_cells_agree(any_model):
    model = select_species(any_model, ["Mo"])
    per_atom = []
    for atoms in (bulk("Mo", "bcc", 3.15), bulk("Mo", "bcc", 3.15, cubic=True),
                  bulk("Mo", "bcc", 3.15).repeat(5)):
        energy, _, _ = results(atoms, model)
        per_atom.append(energy / len(atoms))
    assert max(per_atom) - min(per_atom) < 1e-12 * max(1.0, abs(per_atom[0]))


@pytest.mark.parametrize("n_atoms", [1, 2])
def test_tiny_cells_derivatives(any_model, n_atoms):
    atoms = bulk("Mo", "bcc", 3.1, cubic=(n_atoms == 2))
    mixture(any_model, atoms, seed=3)
    atoms.set_cell(atoms.cell.array @ SHEAR, scale_atoms=True)
    atoms.rattle(0.1, seed=5)
    check_forces(atoms, any_model)
    check_stress(atoms, any_model)


def test_lattice_shifts_and_equivalent_cells(any_model):
    atoms = mixture(any_model, bcc(rattle=0.15))
    energy, forces, stress = results(atoms, any_model)
    moved = atoms.copy()
    rng = np.random.default_rng(0)
    moved.positions += rng.integers(-2, 3, (len(atoms), 3)) @ atoms.cell.array
    e2, f2, s2 = results(moved, any_model)
    skewed = atoms.copy()
    cell = atoms.cell.array.copy()
    cell[1] += cell[0]
    cell[2] -= 2 * cell[1]
    skewed.set_cell(cell, scale_atoms=False)
    e3, f3, s3 = results(skewed, any_model)
    for e, f, s in ((e2, f2, s2), (e3, f3, s3)):
        assert e == pytest.approx(energy, rel=1e-10)
        np.testing.assert_allclose(f, forces, atol=1e-10)
        np.testing.assert_allclose(s, stress, atol=1e-10)


def test_perfect_crystal_has_no_force(any_model):
    _, forces, _ = results(bulk("Mo", "bcc", 3.15).repeat(3), select_species(any_model, ["Mo"]))
    assert np.abs(forces).max() < 1e-10


def test_slab_with_vacuum_equals_open_direction(any_model):
    atoms = mixture(any_model, bcc(rattle=0.1))
    atoms.center(vacuum=any_model.cutoff + 1.0, axis=2)
    closed = atoms.copy()
    closed.pbc = (True, True, True)
    atoms.pbc = (True, True, False)
    e1, f1, s1 = results(atoms, any_model)
    e2, f2, s2 = results(closed, any_model)
    assert e1 == pytest.approx(e2, rel=1e-12)
    np.testing.assert_allclose(f1, f2, atol=1e-12)
    np.testing.assert_allclose(s1, s2, atol=1e-14)


# --- 9-11: symmetry ----------------------------------------------------------------

def test_rotation_and_translation(any_model):
    atoms = mixture(any_model, bcc(rattle=0.15))
    atoms.set_cell(atoms.cell.array @ SHEAR, scale_atoms=True)
    energy, forces, stress = results(atoms, any_model)
    R = Rotation.random(random_state=4).as_matrix()
    turned = atoms.copy()
    turned.set_cell(atoms.cell.array @ R.T, scale_atoms=False)
    turned.positions = atoms.positions @ R.T + np.array([0.3, -1.7, 2.2])
    e2, f2, s2 = results(turned, any_model)
    assert e2 == pytest.approx(energy, rel=1e-10)
    np.testing.assert_allclose(f2, forces @ R.T, atol=1e-10)
    sigma = np.array([[stress[0], stress[5], stress[4]], [stress[5], stress[1], stress[3]],
                      [stress[4], stress[3], stress[2]]])
    s_rot = R @ sigma @ R.T
    np.testing.assert_allclose(s2, s_rot[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]], atol=1e-10)


def test_inversion(any_model):
    atoms = mixture(any_model, bcc(rattle=0.15))
    energy, forces, _ = results(atoms, any_model)
    inverted = atoms.copy()
    inverted.positions = -(atoms.positions + np.array([0.2, 0.1, -0.4]))
    inverted.set_cell(-atoms.cell.array, scale_atoms=False)
    e2, f2, _ = results(inverted, any_model)
    assert e2 == pytest.approx(energy, rel=1e-10)
    np.testing.assert_allclose(f2, -forces, atol=1e-10)


def test_permutation(any_model):
    atoms = mixture(any_model, bcc(rattle=0.15))
    energy, forces, _ = results(atoms, any_model)
    order = np.random.default_rng(9).permutation(len(atoms))
    e2, f2, _ = results(atoms[order], any_model)
    assert e2 == pytest.approx(energy, rel=1e-12)
    np.testing.assert_allclose(f2, forces[order], atol=1e-12)


# --- 12-15: species, continuity, degenerate inputs ------------------------------------

@pytest.mark.parametrize("subset", [("Mo",), ("Ni",), ("Mo", "Ni")])
def test_species_subsets(any_model, subset):
    atoms = bcc(rattle=0.2)
    atoms.symbols = np.random.default_rng(1).choice(subset, len(atoms))
    check_forces(atoms, any_model)


def test_two_species_model_on_pure_element_equals_one_species_model(any_model):
    atoms = bcc(rattle=0.2)
    e1, f1, s1 = results(atoms, any_model)
    e2, f2, s2 = results(atoms, select_species(any_model, ["Mo"]))
    assert e1 == pytest.approx(e2, rel=1e-13)
    np.testing.assert_allclose(f1, f2, atol=1e-12)
    np.testing.assert_allclose(s1, s2, atol=1e-14)


def test_unknown_element_raises(any_model):
    atoms = bcc()
    atoms.symbols[3] = "Cu"
    atoms.calc = SNNP(any_model)
    with pytest.raises(ValueError, match="Cu"):
        atoms.get_potential_energy()


def dimer_energy(model, r, symbols="MoNi"):
    atoms = Atoms(symbols, positions=[[0, 0, 0], [r, 0, 0]])
    atoms.calc = SNNP(model)
    return atoms.get_potential_energy(), atoms.get_forces()[1, 0]


def test_dimer_continuous_at_knots_and_cutoff(any_model):
    knots = sorted({x for s in any_model.radial_splines for x in s.knots})
    delta = 1e-9
    for r in knots:
        e_lo, f_lo = dimer_energy(any_model, r - delta)
        e_hi, f_hi = dimer_energy(any_model, r + delta)
        # a jump would survive removing the smooth change across the 2 delta interval
        assert abs(e_hi - e_lo + 2 * delta * f_hi) < 1e-12 * max(1.0, abs(e_lo))
        assert abs(f_lo - f_hi) < 1e-6 * max(1.0, abs(f_lo))
    e_in, _ = dimer_energy(any_model, any_model.cutoff - delta)
    e_out, _ = dimer_energy(any_model, any_model.cutoff + delta)
    assert abs(e_in - e_out) < 1e-10


def test_angle_scan_continuous(any_model):
    r2 = 2.6

    def trimer(theta):
        atoms = Atoms("MoNiMo", positions=[[0, 0, 0], [2.4, 0, 0],
                                            [r2 * np.cos(theta), r2 * np.sin(theta), 0]])
        atoms.calc = SNNP(any_model)
        energy = atoms.get_potential_energy()
        # dE/dtheta from the force on the third atom along its arc
        tangent = r2 * np.array([-np.sin(theta), np.cos(theta), 0.0])
        return energy, -atoms.get_forces()[2] @ tangent

    knots = any_model.g[0][0].knots
    delta = 1e-9
    for c in knots[1:-1]:
        theta = np.arccos(c)
        (e_lo, d_lo), (e_hi, d_hi) = trimer(theta - delta), trimer(theta + delta)
        assert abs(e_hi - e_lo - 2 * delta * d_hi) < 1e-12 * max(1.0, abs(e_lo))
        assert abs(d_hi - d_lo) < 1e-6 * max(1.0, abs(d_lo))
    energies = [trimer(t)[0] for t in np.linspace(0.4, np.pi, 200)]
    assert np.all(np.isfinite(energies))


def test_compressed_dimer_is_finite(any_model):
    for r in (0.05, 0.5, 1.0):
        energy, force = dimer_energy(any_model, r)
        assert np.isfinite(energy) and np.isfinite(force)


def test_single_atom_gives_e0(any_model):
    atoms = Atoms("Ni", positions=[[1.0, 2.0, 3.0]])
    atoms.calc = SNNP(any_model)
    assert atoms.get_potential_energy() == any_model.e0[any_model.species.index("Ni")]
    np.testing.assert_array_equal(atoms.get_forces(), np.zeros((1, 3)))


def test_empty_atoms(any_model):
    atoms = Atoms()
    atoms.calc = SNNP(any_model)
    assert atoms.get_potential_energy() == 0.0
    assert atoms.get_forces().shape == (0, 3)


def test_coincident_atoms_raise(any_model):
    atoms = Atoms("MoMo", positions=[[0, 0, 0], [0, 0, 0]])
    atoms.calc = SNNP(any_model)
    with pytest.raises(ValueError, match="coincide"):
        atoms.get_potential_energy()


# --- helpers ---------------------------------------------------------------------

def test_voigt_is_the_symmetrised_tensor():
    W_ncc = np.random.default_rng(0).normal(size=(5, 3, 3))
    sym = 0.5 * (W_ncc + np.swapaxes(W_ncc, -1, -2))
    expected = sym[..., [0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]
    np.testing.assert_array_equal(voigt(W_ncc), expected)
    np.testing.assert_array_equal(voigt(W_ncc[0].tolist()), expected[0])


def test_neighbour_cell_keeps_invertible_cells():
    # the cheap determinant decides as numpy's LU one with its threshold would
    positions = np.random.default_rng(1).normal(size=(4, 3))
    pbc = np.array([True, True, True])
    cells = [np.eye(3) * 5.0, SHEAR * 3.1, [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1e-8]],
             np.diag([1.0, 1.0, 2e-9]), np.diag([1.0, 1.0, 5e-10]), np.diag([1e-3, 1e3, 1.0])]
    for cell in np.array(cells):
        scale = max(np.abs(cell).max(), 1.0)
        if abs(np.linalg.det(cell)) > 1e-9 * scale ** 3:
            out, origin = neighbour_cell(positions, cell, pbc)
            assert out is cell and origin is None
        else:
            with pytest.raises(ValueError, match="linearly dependent"):
                neighbour_cell(positions, cell, pbc)
    flat = np.diag([4.0, 4.0, 1e-12])
    out, _ = neighbour_cell(positions, flat, np.array([True, True, False]))
    np.testing.assert_array_equal(np.abs(out[2]), [0.0, 0.0, 1.0])


class _Kernel:
    """Looks like a Numba dispatcher that has not been called yet."""

    def __init__(self, cache_path):
        self.signatures = []
        self.__name__ = "single_point"
        self.py_func = type("F", (), {"__module__": "snnp_calc.kernels.energy"})
        self.stats = type("S", (), {"cache_path": str(cache_path)})


def test_first_compile_is_announced_once(tmp_path, caplog, monkeypatch):
    from snnp_calc import evaluate as module
    monkeypatch.setitem(module._COMPILED, "told", False)
    with caplog.at_level("WARNING", logger="snnp_calc"):
        module.notice_first_compile(_Kernel(tmp_path))
        module.notice_first_compile(_Kernel(tmp_path))
    assert len(caplog.records) == 1 and "compiling the Numba kernels" in caplog.text
    monkeypatch.setitem(module._COMPILED, "told", False)
    (tmp_path / "energy.single_point-42.py311.nbi").write_text("")
    caplog.clear()
    with caplog.at_level("WARNING", logger="snnp_calc"):
        module.notice_first_compile(_Kernel(tmp_path))
    assert not caplog.records


def test_import_prints_nothing():
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", "import snnp_calc, snnp_calc.cli"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout == "" and out.stderr == ""


def test_pair_list_reuse_equals_fresh_lists_along_md():
    """500 MD steps of hot Mo: with a skin list the results equal fresh lists to 1e-12."""
    from ase.md.verlet import VelocityVerlet
    from ase.units import fs, kB

    from snnp_calc import SNNP
    from snnp_calc.evaluate import PairList
    model = read_model(DATA / "Mo-s-nnp.json")
    atoms = bulk("Mo", "bcc", 3.16, cubic=True).repeat(3)
    atoms.rattle(0.05, seed=3)
    masses = atoms.get_masses()[:, None]
    atoms.set_momenta(np.random.default_rng(4).normal(size=(len(atoms), 3))
                      * np.sqrt(masses * kB * 3000))
    fresh = atoms.copy()
    atoms.calc = SNNP(model, skin=0.3)
    fresh.calc = SNNP(model, skin=None)
    dyn = VelocityVerlet(atoms, timestep=2.0 * fs)
    start = atoms.positions.copy()
    for _ in range(500):
        dyn.run(1)
        fresh.positions = atoms.positions
        assert atoms.get_potential_energy() == pytest.approx(fresh.get_potential_energy(),
                                                             rel=1e-12)
        np.testing.assert_allclose(atoms.get_forces(), fresh.get_forces(), rtol=1e-12,
                                   atol=1e-12)
        np.testing.assert_allclose(atoms.get_stress(), fresh.get_stress(), rtol=1e-12,
                                   atol=1e-14)
    moved = np.sqrt(((atoms.positions - start) ** 2).sum(axis=1)).max()
    builds = atoms.calc.pair_list.builds
    assert moved > 0.3 and 3 <= builds < 250, (moved, builds)
    assert isinstance(atoms.calc.pair_list, PairList) and fresh.calc.pair_list is None


def test_pair_list_rebuilds_on_cell_change_and_checks_input(snnp_model):
    from snnp_calc.evaluate import PairList
    pl = PairList(0.5)
    atoms = bulk("Mo", "bcc", 3.15, cubic=True).repeat(2)
    args = (atoms.positions, atoms.cell.array, atoms.pbc, snnp_model.cutoff)
    first = pl.pairs(*args)
    pl.pairs(*args)
    assert pl.builds == 1
    pl.pairs(atoms.positions, atoms.cell.array * 1.01, atoms.pbc, snnp_model.cutoff)
    assert pl.builds == 2
    assert len(first[0]) == len(evaluate_pairs_count(atoms, snnp_model.cutoff))
    bad = atoms.positions.copy()
    bad[1] = bad[0]
    with pytest.raises(ValueError, match="coincide"):
        pl.pairs(bad, atoms.cell.array, atoms.pbc, snnp_model.cutoff)
    bad[1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        pl.pairs(bad, atoms.cell.array, atoms.pbc, snnp_model.cutoff)
    with pytest.raises(ValueError, match="skin must be a positive"):
        PairList(-1.0)


def evaluate_pairs_count(atoms, cutoff):
    from snnp_calc.evaluate import neighbour_pairs
    return neighbour_pairs(atoms.positions, atoms.cell.array, atoms.pbc, cutoff)[0]
