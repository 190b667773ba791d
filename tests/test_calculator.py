"""The ASE calculator: properties, caching, threads, memory (CHECKS.md 17-20)."""
import dataclasses
import threading
import tracemalloc

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.calculator import PropertyNotImplementedError

from snnp_calc import SNNP
from snnp_calc.evaluate import KEEP_SCRATCH_MIN_ATOMS, KernelScratch, evaluate
from snnp_calc.model.model import select_species


@pytest.fixture
def atoms(snnp_model):
    atoms = bulk("Mo", "bcc", 3.15, cubic=True).repeat(3)
    atoms.rattle(0.1, seed=3)
    atoms.symbols[::4] = "Ni"
    return atoms


def test_all_properties(atoms, snnp_model):
    atoms.calc = SNNP(snnp_model)
    energy = atoms.get_potential_energy()
    assert atoms.get_potential_energy(force_consistent=True) == energy
    assert atoms.get_potential_energies().shape == (len(atoms),)
    assert atoms.get_forces().shape == (len(atoms), 3)
    assert atoms.get_stress().shape == (6,)
    assert atoms.get_stresses().shape == (len(atoms), 6)


def test_cluster_has_no_stress(atoms, snnp_model):
    atoms.pbc = False
    atoms.cell = np.zeros((3, 3))
    atoms.calc = SNNP(snnp_model)
    assert np.isfinite(atoms.get_potential_energy())
    with pytest.raises(PropertyNotImplementedError):
        atoms.get_stress()


def test_serial_and_parallel_agree_and_repeat(atoms, snnp_model, smeam_model):
    big = atoms.repeat(2)
    for model in (snnp_model, smeam_model):
        args = (model, big.numbers, big.positions, big.cell.array, big.pbc)
        serial = evaluate(*args, parallel=False)
        parallel = evaluate(*args, parallel=True)
        again = evaluate(*args, parallel=True)
        for key in ("energies", "forces", "virials"):
            np.testing.assert_allclose(parallel[key], serial[key], rtol=0, atol=1e-12)
            np.testing.assert_array_equal(again[key], parallel[key])
        assert abs(parallel["energy"] - serial["energy"]) < 1e-12 * abs(serial["energy"])


def test_in_place_changes_trigger_recompute(atoms, snnp_model):
    calc = SNNP(snnp_model)
    atoms.calc = calc
    e0 = atoms.get_potential_energy()
    atoms.positions[0, 0] += 0.05
    e1 = atoms.get_potential_energy()
    assert e1 != e0
    atoms.cell[0, 0] *= 1.01
    e2 = atoms.get_potential_energy()
    assert e2 != e1
    atoms.numbers[1] = 28 if atoms.numbers[1] == 42 else 42
    e3 = atoms.get_potential_energy()
    assert e3 != e2
    atoms.pbc[2] = False
    e4 = atoms.get_potential_energy()
    assert e4 != e3
    reference = atoms.copy()
    reference.calc = SNNP(snnp_model)
    assert e4 == reference.get_potential_energy()


def fresh_results(atoms, model):
    """Energy, forces and stress (None below rank 3) from a new calculator."""
    ref = atoms.copy()
    ref.calc = SNNP(model)
    stress = ref.get_stress() if ref.cell.rank == 3 else None
    return ref.get_potential_energy(), ref.get_forces(), stress


def test_kept_species_and_volume_follow_in_place_edits(atoms, snnp_model):
    # the calculator keeps species indices and the volume between calls
    calc = SNNP(snnp_model)
    atoms.calc = calc
    atoms.get_stress()

    def swap_numbers():
        atoms.numbers[[0, 1]] = atoms.numbers[[1, 0]]

    def strain_cell():
        atoms.cell[2, 2] *= 1.02

    def flatten_cell():
        atoms.pbc[2] = False
        atoms.cell[2] = 0.0

    def restore_cell():
        atoms.cell[2] = [0.1, 0.0, 9.5]

    assert atoms.numbers[0] != atoms.numbers[1]
    for edit in (swap_numbers, strain_cell, flatten_cell, restore_cell, swap_numbers):
        edit()
        energy, forces, stress = fresh_results(atoms, snnp_model)
        assert atoms.get_potential_energy() == energy
        np.testing.assert_array_equal(atoms.get_forces(), forces)
        if stress is None:
            with pytest.raises(PropertyNotImplementedError):
                atoms.get_stress()
        else:
            np.testing.assert_array_equal(atoms.get_stress(), stress)
            np.testing.assert_array_equal(atoms.get_stresses().shape, (len(atoms), 6))


def test_kept_species_follow_the_model(atoms, snnp_model):
    # the same elements in the other order: every species index changes
    reordered = select_species(snnp_model, snnp_model.species[::-1])
    calc = SNNP(snnp_model)
    atoms.calc = calc
    energy = atoms.get_potential_energy()
    calc.model = reordered
    calc.reset()
    assert atoms.get_potential_energy() == pytest.approx(energy, rel=1e-14)
    assert atoms.get_potential_energy() == fresh_results(atoms, reordered)[0]


def test_identical_calls_compute_once(atoms, snnp_model, monkeypatch):
    calc = SNNP(snnp_model)
    atoms.calc = calc
    calls = []
    original = calc.calculate
    monkeypatch.setattr(calc, "calculate", lambda *a, **k: (calls.append(1), original(*a, **k)))
    atoms.get_potential_energy()
    atoms.get_forces()
    atoms.get_stress()
    atoms.get_potential_energy()
    assert len(calls) == 1


def test_returned_arrays_are_copies(atoms, snnp_model):
    atoms.calc = SNNP(snnp_model)
    for get in (atoms.get_forces, atoms.get_stress, atoms.get_stresses,
                atoms.get_potential_energies):
        values = get()
        values[...] = 0.0
        assert np.abs(get()).max() > 0
    np.testing.assert_allclose(atoms.get_stresses().sum(axis=0), atoms.get_stress(),
                               rtol=1e-12, atol=1e-14)


def test_one_calculator_two_atoms(atoms, snnp_model):
    other = atoms.copy()
    other.rattle(0.05, seed=8)
    other.numbers[:] = other.numbers[::-1]
    other.set_cell(other.cell.array * 1.01, scale_atoms=True)
    ref_a, ref_b = atoms.copy(), other.copy()
    ref_a.calc, ref_b.calc = SNNP(snnp_model), SNNP(snnp_model)
    calc = SNNP(snnp_model)
    atoms.calc = other.calc = calc
    for _ in range(2):
        np.testing.assert_array_equal(atoms.get_forces(), ref_a.get_forces())
        np.testing.assert_array_equal(atoms.get_stress(), ref_a.get_stress())
        np.testing.assert_array_equal(other.get_forces(), ref_b.get_forces())
        np.testing.assert_array_equal(other.get_stress(), ref_b.get_stress())


def test_kept_work_arrays_give_fresh_results(atoms, snnp_model):
    """One calculator on larger, smaller and other-model structures: each result equals a
    new calculator's bit for bit, and results handed out earlier do not change."""
    # above KEEP_SCRATCH_MIN_ATOMS: kept arrays, first of 162 atoms, then rows to spare
    large, larger = atoms.repeat((2, 1, 1)), atoms.repeat((3, 1, 1))
    assert len(large) >= KEEP_SCRATCH_MIN_ATOMS > len(atoms)
    calc = SNNP(snnp_model)
    held = []
    for structure in (larger, large, atoms[:20], atoms, larger):
        structure.calc = calc
        held.append((structure.get_potential_energies(), structure.get_forces()))
        ref = structure.copy()
        ref.calc = SNNP(snnp_model)
        np.testing.assert_array_equal(held[-1][0], ref.get_potential_energies())
        np.testing.assert_array_equal(held[-1][1], ref.get_forces())
        np.testing.assert_array_equal(structure.get_stresses(), ref.get_stresses())
    fresh = larger.copy()
    fresh.calc = SNNP(snnp_model)
    np.testing.assert_array_equal(held[0][0], fresh.get_potential_energies())
    np.testing.assert_array_equal(held[0][1], fresh.get_forces())


def test_kernel_scratch_is_kept_grown_and_per_layout(snnp_model, smeam_model):
    scratch = KernelScratch()
    km, other = snnp_model.kernel_model, smeam_model.kernel_model
    ws = scratch.arrays(km, 10, 100)
    assert len(ws.E_n) >= 10 and len(ws.r_p) >= 100
    assert scratch.arrays(km, 8, 90) is ws
    bigger = scratch.arrays(km, 10, 200)
    assert bigger is not ws and len(bigger.r_p) >= 200
    assert scratch.arrays(other, 10, 100).G_nf.shape[1] == other.n_rho + other.n_triplet
    assert scratch.arrays(km, 10, 200) is bigger


def test_direct_calculate_takes_the_given_atoms(atoms, snnp_model):
    """calc.calculate(atoms) as ASE optimisers and NEB call it, bypassing get_property."""
    other = atoms.copy()
    other.rattle(0.05, seed=9)
    ref = other.copy()
    ref.calc = SNNP(snnp_model)
    calc = SNNP(snnp_model)
    atoms.calc = calc
    atoms.get_forces()
    calc.calculate(other, ["energy", "forces"])
    assert calc.atoms is not other and not calc.check_state(other)
    np.testing.assert_array_equal(calc.results["forces"], ref.get_forces())
    calc.calculate()
    np.testing.assert_array_equal(calc.results["forces"], ref.get_forces())


def test_kept_copy_follows_moves_and_is_renewed_on_other_changes(atoms, snnp_model):
    calc = SNNP(snnp_model)
    atoms.calc = calc
    atoms.get_forces()
    kept, held = calc._copy, calc.atoms
    assert kept is not atoms and held is not kept
    start = atoms.positions.copy()
    for step in range(3):
        atoms.positions[step] += 0.03
        forces = atoms.get_forces()
        # positions alone moved: written into the same private copy
        assert calc._copy is kept
        np.testing.assert_array_equal(calc.atoms.positions, atoms.positions)
        np.testing.assert_array_equal(forces, fresh_results(atoms, snnp_model)[1])
    # what a caller holds of calc.atoms never changes under it, and is recomputed when asked
    np.testing.assert_array_equal(held.positions, start)
    assert calc.get_potential_energy(held) == fresh_results(held, snnp_model)[0]
    atoms.positions[0] += 0.01
    assert not np.array_equal(calc._copy.positions, atoms.positions)
    atoms.get_forces()
    for change in (lambda a: a.set_cell(a.cell.array * 1.01, scale_atoms=True),
                   lambda a: a.numbers.__setitem__(0, 28 if a.numbers[0] == 42 else 42),
                   lambda a: a.pbc.__setitem__(1, False)):
        before = calc._copy
        change(atoms)
        energy = atoms.get_potential_energy()
        assert calc._copy is not before and not calc.check_state(atoms)
        assert energy == fresh_results(atoms, snnp_model)[0]
    del atoms[3]
    np.testing.assert_array_equal(atoms.get_forces(), fresh_results(atoms, snnp_model)[1])
    assert len(calc.atoms) == len(atoms)


def test_threads_equal_serial(atoms, snnp_model):
    configs = []
    for seed in range(8):
        a = atoms.repeat((2, 1, 1)) if seed % 2 else atoms.copy()
        a.rattle(0.05, seed=seed)
        configs.append(a)
    expected = []
    for a in configs:
        b = a.copy()
        b.calc = SNNP(snnp_model, parallel=False)
        expected.append((b.get_potential_energy(), b.get_forces()))
    got = [None] * len(configs)

    def work(k):
        a = configs[k].copy()
        a.calc = SNNP(snnp_model)
        for _ in range(5):
            a.calc.reset()
            got[k] = (a.get_potential_energy(), a.get_forces())

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(configs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for (e, f), (e_ref, f_ref) in zip(got, expected):
        assert abs(e - e_ref) < 1e-12 * abs(e_ref)
        np.testing.assert_allclose(f, f_ref, rtol=0, atol=1e-12)


def test_memory_does_not_grow(atoms, snnp_model):
    atoms.calc = SNNP(snnp_model)
    rng = np.random.default_rng(0)
    start = atoms.positions.copy()

    def step():
        atoms.positions = start + 0.01 * rng.standard_normal(start.shape)
        atoms.get_forces()

    for _ in range(50):
        step()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(2000):
        step()
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert grown < 200_000, f"traced memory grew by {grown} bytes over 2000 calls"


def test_direct_calculate_leaves_no_stale_stress(snnp_model):
    """A cluster after a bulk cell: no stress of the bulk survives in the results."""
    calc = SNNP(snnp_model)
    bulk_atoms = bulk("Mo", "bcc", 3.15, cubic=True).repeat(2)
    bulk_atoms.calc = calc
    bulk_atoms.get_stress()
    cluster = bulk_atoms.copy()
    cluster.pbc = False
    cluster.cell = np.zeros((3, 3))
    calc.calculate(cluster)
    assert "stress" not in calc.results and "stresses" not in calc.results
    with pytest.raises(PropertyNotImplementedError):
        calc.get_stress(cluster)


def test_coplanar_cluster_cell_gives_no_stress(snnp_model):
    atoms = bulk("Mo", "bcc", 3.15, cubic=True).repeat(2)
    atoms.pbc = False
    atoms.cell = [[6.3, 0, 0], [0, 6.3, 0], [6.3, 6.3, 0]]     # three vectors, no volume
    atoms.calc = SNNP(snnp_model)
    assert np.isfinite(atoms.get_potential_energy())
    with pytest.raises(PropertyNotImplementedError):
        atoms.get_stress()


@pytest.mark.parametrize("cell, pbc, message", [
    ([[3.15, 0, 0], [0, 3.15, 0], [np.nan, 0, 3.15]], True, "non-finite"),
    ([[3.15, 0, 0], [0, 3.15, 0], [0, 0, np.inf]], False, "non-finite"),
    ([[3.15, 0, 0], [0, 3.15, 0], [3.15, 3.15, 0]], True, "spans no volume"),
    ([[3.15, 0, 0], [0, 3.15, 0], [0, 0, 0]], True, "spans no volume"),
])
def test_bad_cells_raise(snnp_model, cell, pbc, message):
    atoms = bulk("Mo", "bcc", 3.15, cubic=True)
    atoms.calc = SNNP(snnp_model)
    atoms.cell = cell
    atoms.pbc = pbc
    with pytest.raises(ValueError, match=message):
        atoms.get_potential_energy()


def test_non_finite_prediction_raises(snnp_model):
    """A model whose network overflows: a clear error, not a NaN."""
    from snnp_calc.model.model import MLPReadout
    ro = snnp_model.readout
    # the last layer's 16 terms of 1e308 sum to infinity
    weights = [list(layers[:-2]) + [np.full_like(layers[-2], 1e308), layers[-1]]
               for layers in ro.weights]
    broken = dataclasses.replace(snnp_model, readout=MLPReadout(ro.activation, ro.hidden,
                                                                weights, ro.offset, ro.scale))
    atoms = bulk("Mo", "bcc", 3.15, cubic=True).repeat(2)
    atoms.rattle(0.1, seed=1)
    atoms.calc = SNNP(broken)
    with pytest.raises(ValueError, match="non-finite"):
        atoms.get_potential_energy()
