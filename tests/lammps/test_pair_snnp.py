"""``pair_style snnp`` (the plugin's C++ pair style) against meam/spline, the ASE calculator, itself.

- s-MEAM models (random two-species, the shipped Mo model, the shared published
  files): ``pair_style snnp`` equals ``pair_style meam/spline`` in energy, per-atom
  energies, forces and virial, 1e-10 in LAMMPS' metric; per-atom virials, which
  each code splits its own way, sum to the virial and equal the ASE calculator's.
- s-NNP models (MLP readout, 2 species, every activation, input scaling, e0,
  f splines that end before the cutoff): LAMMPS equals :class:`snnp_calc.SNNP`
  on rattled cubic, triclinic and small cells, per-atom stresses included.
- 1 and 2 MPI ranks (``mpiexec -n 2 lmp``), and 1 and 2 OpenMP threads (``-pk omp 2``),
  agree to 1e-10 over a short MD run.
- NVE in LAMMPS conserves energy as well as ASE's VelocityVerlet does.

The plugin is compiled once per session (``tests/lammps/conftest.py``).
"""

import dataclasses

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.io import write
from ase.md.verlet import VelocityVerlet
from ase.units import fs, kB

from snnp_calc import SNNP, Model, read_model, write_model
from snnp_calc.evaluate import evaluate
from snnp_calc.io.meam_spline import read_meam_spline
from snnp_calc.lammps.crosscheck import compute_lammps, lammps_frame
from snnp_calc.model.core import ZBLCore
from snnp_calc.model.initial import initial_model
from tests.lammps.conftest import (
    ACTIVATIONS,
    POTENTIALS,
    REFERENCE_STRUCTURES,
    REPO,
    RTOL,
    STRUCTURES,
    assert_parity,
    assert_same,
    compare_with_reference,
    dump_frames,
    lammps_rel,
    lammps_virial,
    mixed,
    mlp_model,
    new_lammps,
    rattled,
    run_lmp,
    run_snnp,
    sheared,
    thermo_rows,
)

# --- s-MEAM: pair_style snnp equals meam/spline ---------------------------------------------
# How a many-body virial is split among atoms is a choice: meam/spline gives triplet
# terms to the three atoms its own way, snnp_calc splits every pair term half and half.
# Per-atom virials are compared with SNNP; against meam/spline only their sum.
MEAM_KEYS = ("energies", "forces", "virial")


@pytest.mark.parametrize("kind", sorted(STRUCTURES))
def test_smeam_equals_meam_spline(plugin, smeam_model, tmp_path, kind):
    """Two species; pair_coeff in the reverse order must not matter (mapping by symbol)."""
    json_path, meam_path = tmp_path / "m.json", tmp_path / "m.meam.spline"
    write_model(smeam_model, json_path)
    write_model(smeam_model, meam_path)
    atoms = STRUCTURES[kind]()
    theirs = compute_lammps(atoms, "meam/spline", meam_path, ["Mo", "Ni"])
    ours = run_snnp(plugin, atoms, json_path, ["Mo", "Ni"])
    assert_same(ours, theirs, MEAM_KEYS)
    assert_same(run_snnp(plugin, atoms, json_path, ["Ni", "Mo"]), ours)
    for result in (ours, theirs):
        assert_parity(result["virials"].sum(axis=0), result["virial"], "sum of per-atom virials")
    compare_with_reference(smeam_model, atoms, ours)


def test_fitted_smeam_equals_meam_spline(plugin, tmp_path):
    """The shipped Mo s-MEAM (e0 dropped: meam/spline has none) on a rattled 128-atom cell."""
    model = read_model(REPO / "snnp_calc" / "data" / "Mo-s-meam.json")
    model = Model(model.species, model.rho, model.f, model.g, model.phi, model.readout, [0.0])
    json_path, meam_path = tmp_path / "Mo.json", tmp_path / "Mo.meam.spline"
    write_model(model, json_path)
    write_model(model, meam_path)
    atoms = rattled(bulk("Mo", "bcc", 3.16, cubic=True).repeat(4), 0.1, 7)
    assert_same(run_snnp(plugin, atoms, json_path, ["Mo"]),
                compute_lammps(atoms, "meam/spline", meam_path, ["Mo"]), MEAM_KEYS)


@pytest.mark.parametrize("name, kind", [("Si", "triclinic"), ("Ti", "small"), ("TiO", "bulk"),
                                        ("TiO", "cluster"), ("Mo", "slab")])
def test_published_smeam_files(plugin, potentials_dir, tmp_path, name, kind):
    """The shared meam/spline files as JSON, types in reverse order; open faces included.

    In Si_1, Ti and TiO the f splines end (value and slope 0) before the cutoff, at
    3.5 of 4.5 Å and 4.41 of 5.5 Å: the plugin's triplets skip the neighbours beyond,
    which meam/spline evaluates.
    """
    filename, species, elements = POTENTIALS[name]
    model = read_meam_spline(potentials_dir / filename, species=species)
    path = tmp_path / "m.json"
    write_model(model, path)
    atoms = REFERENCE_STRUCTURES[name, kind]()
    theirs = compute_lammps(atoms, "meam/spline", potentials_dir / filename, elements)
    assert_same(run_snnp(plugin, atoms, path, list(reversed(elements))), theirs, MEAM_KEYS)


# --- s-NNP: pair_style snnp equals the ASE calculator ---------------------------------------
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("kind", sorted(STRUCTURES))
def test_snnp_equals_calculator(plugin, tmp_path, activation, kind):
    model = mlp_model(activation, seed=ACTIVATIONS.index(activation) + 10)
    path = tmp_path / "m.json"
    write_model(model, path)
    atoms = STRUCTURES[kind]()
    ref = run_snnp(plugin, atoms, path, ["Ni", "Mo"])
    compare_with_reference(model, atoms, ref)
    assert_parity(ref["virials"].sum(axis=0), ref["virial"], "sum of per-atom virials")


@pytest.mark.parametrize("n_rho, n_triplet, pair, hidden", [(3, 0, True, (4,)), (0, 3, False, ()),
                                                         (2, 2, False, (5, 3))],
                         ids=["pair-filters-only", "triplets-only-linear", "no-phi"])
def test_model_shapes(plugin, tmp_path, n_rho, n_triplet, pair, hidden):
    """No triplet or no pair filters, a linear readout, no pair term."""
    model = initial_model(["Mo", "Ni"], 4.6, r_min=1.8, n_rho=n_rho, n_triplet=n_triplet,
                          hidden=hidden, pair=pair, noise=0.1, seed=3)
    path = tmp_path / "m.json"
    write_model(model, path)
    atoms = STRUCTURES["triclinic"]()
    compare_with_reference(model, atoms, run_snnp(plugin, atoms, path, ["Mo", "Ni"]))


@pytest.mark.parametrize("kind", sorted(STRUCTURES))
@pytest.mark.parametrize("degree, n_triplet, per_degree", [(0, 0, False), (4, 1, False),
                                                           (9, 0, False), (4, 1, True)],
                         ids=["L0", "L4-beside-spline", "L9", "L4-per-degree"])
def test_legendre_filters_equal_calculator(plugin, tmp_path, kind, degree, n_triplet,
                                           per_degree):
    """Factorised triplet filters (alone or beside a spline triplet filter) reaching past it,
    with one readout input per filter or per degree."""
    model = initial_model(["Mo", "Ni"], 4.6, r_min=1.8, n_rho=2, n_triplet=n_triplet,
                          n_legendre=3, degree=degree, hidden=(6,), activation="softplus",
                          noise=0.1, seed=degree + 2, triplet_cutoff=3.6, legendre_cutoff=4.3,
                          per_degree=per_degree)
    path = tmp_path / "m.json"
    write_model(model, path)
    atoms = STRUCTURES[kind]()
    compare_with_reference(model, atoms, run_snnp(plugin, atoms, path, ["Mo", "Ni"]))


def test_conftest_snnp_model_equals_calculator(plugin, snnp_model, tmp_path):
    """The shared 4 + 8 filter, 2 x 16 tanh model on a two-species cubic cell."""
    path = tmp_path / "m.json"
    write_model(snnp_model, path)
    atoms = STRUCTURES["cubic"]()
    compare_with_reference(snnp_model, atoms, run_snnp(plugin, atoms, path, ["Mo", "Ni"]))


@pytest.mark.parametrize("kind", ["cubic", "triclinic"])
def test_short_triplet_filters(plugin, tmp_path, kind):
    """f ending at 3.3 Å inside a 4.6 Å cutoff: the plugin skips the farther legs exactly."""
    model = mlp_model("silu", seed=20, f_end=3.3)
    assert max(s.x1 for row in model.f for s in row) == 3.3 and model.cutoff == 4.6
    path = tmp_path / "m.json"
    write_model(model, path)
    atoms = STRUCTURES[kind]()
    compare_with_reference(model, atoms, run_snnp(plugin, atoms, path, ["Mo", "Ni"]))


def test_radial_filters_that_do_not_vanish_are_no_json_model(tmp_path):
    """DESIGN §1: an f with a nonzero end slope would make an energy step at the cutoff; the
    JSON writer refuses it, naming the spline (the plugin reads JSON only)."""
    with pytest.raises(ValueError, match=r"filters\.f\[0\]\[0\]\.dN"):
        write_model(mlp_model("silu", seed=20, f_end=3.3, f_tail=True), tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


def test_null_type_in_hybrid(plugin, tmp_path):
    """A NULL type is invisible to snnp: with hybrid/overlay and a zero lj/cut, the energy
    and the forces on the mapped atoms are those of the structure without the NULL atoms."""
    model = mlp_model("celu", seed=40)
    path = tmp_path / "m.json"
    write_model(model, path)
    atoms = STRUCTURES["cubic"]()
    kept = atoms[[s == "Mo" for s in atoms.get_chemical_symbols()]]
    kept.calc = SNNP(model)
    n = len(atoms)
    lo_c, L_cc, Q_cc = lammps_frame(atoms.cell.array, atoms.pbc, atoms.positions)
    box = " ".join(f"{lo:.17g} {lo + L:.17g}" for lo, L in zip(lo_c, np.diag(L_cc)))
    lmp = new_lammps()
    try:
        lmp.commands_list(["units metal", "atom_style atomic", "atom_modify map array",
                           f"region box block {box} units box", "create_box 2 box",
                           "mass * 95.95"])
        lmp.create_atoms(n, list(range(1, n + 1)),
                         [1 if s == "Mo" else 2 for s in atoms.get_chemical_symbols()],
                         (atoms.positions @ Q_cc).ravel().tolist())
        lmp.commands_list([f'plugin load "{plugin}"', "pair_style hybrid/overlay snnp lj/cut 3.0",
                           f'pair_coeff * * snnp "{path}" Mo NULL', "pair_coeff * * lj/cut 0.0 2.5",
                           "run 0"])
        energy = lmp.get_thermo("pe")
        forces = np.empty((n, 3))
        forces[np.array(lmp.numpy.extract_atom("id")[:n]) - 1] = lmp.numpy.extract_atom("f")[:n]
    finally:
        lmp.close()
    mo = np.array([s == "Mo" for s in atoms.get_chemical_symbols()])
    assert lammps_rel(energy, kept.get_potential_energy()) <= RTOL
    assert_parity(forces[mo] @ Q_cc.T, kept.get_forces(), "forces on Mo atoms")
    assert np.all(forces[~mo] == 0.0)


# --- MPI and OpenMP: 1 and 2 ranks or threads agree ---------------------------------------------------------------
MPI_INPUT = """\
units metal
atom_style atomic
atom_modify map array
boundary p p p
read_data data.lmp
plugin load {plugin}
pair_style snnp
pair_coeff * * {model} Mo Ni
neighbor 1.0 bin
neigh_modify every 1 delay 0 check yes
compute pe_n all pe/atom
compute s_n all stress/atom NULL virial
compute W all pressure NULL virial
thermo_style custom step pe ke c_W[1] c_W[2] c_W[3] c_W[4] c_W[5] c_W[6]
thermo_modify format float %.17g
thermo 10
dump d all custom 10 dump.txt id fx fy fz c_pe_n c_s_n[1] c_s_n[2] c_s_n[3] c_s_n[4] c_s_n[5] c_s_n[6]
dump_modify d format float %.17g sort id
fix md all nve
timestep 0.001
run 20
"""


def md_in_parallel(plugin, mpi_lmp, tmp_path, runs):
    """Thermo rows and dumps of 20 NVE steps of a 432-atom triclinic two-species cell, for
    each ``(ranks, threads)`` of ``runs`` (threads: ``-pk omp N``, OpenMP in the plugin)."""
    model = mlp_model("tanh", seed=30, f_end=3.8)
    write_model(model, tmp_path / "m.json")
    atoms = rattled(mixed(sheared(bulk("Mo", "bcc", 3.15, cubic=True).repeat((6, 6, 6))), 0.3, 8),
                    0.05, 9)
    rng = np.random.default_rng(10)
    atoms.set_momenta(rng.normal(size=(len(atoms), 3)) * np.sqrt(atoms.get_masses()[:, None]
                                                                 * kB * 600))
    results = {}
    for ranks, threads in runs:
        folder = tmp_path / f"np{ranks}-omp{threads}"
        folder.mkdir()
        write(folder / "data.lmp", atoms, format="lammps-data", specorder=["Mo", "Ni"],
              masses=True, velocities=True)
        (folder / "in.lmp").write_text(MPI_INPUT.format(plugin=plugin, model=tmp_path / "m.json"))
        log = run_lmp([mpi_lmp[0], "-n", str(ranks), mpi_lmp[1], "-pk", "omp", str(threads)],
                      folder)
        assert f"with {ranks} MPI tasks" in log
        assert f"{threads} OpenMP thread(s) per MPI task" in log
        results[ranks, threads] = thermo_rows(log), dump_frames(folder / "dump.txt")
        assert results[ranks, threads][0].shape == (3, 9)
        assert results[ranks, threads][1].shape == (3, len(atoms), 11)
    return results


@pytest.mark.parametrize("ranks, threads", [(2, 1), (1, 2)])
def test_ranks_and_threads_equal_one(plugin, mpi_lmp, tmp_path, ranks, threads):
    """2 MPI ranks, or 2 OpenMP threads, against 1: thermo and dumps agree to RTOL."""
    results = md_in_parallel(plugin, mpi_lmp, tmp_path, [(1, 1), (ranks, threads)])
    (thermo1, dump1), (thermo2, dump2) = results[1, 1], results[ranks, threads]
    assert_parity(thermo2, thermo1, "thermo (pe, ke, virial)")
    assert_parity(dump2, dump1, "dump (forces, per-atom energy and stress)")
    # the cell is not at rest: 20 steps moved the atoms
    assert np.abs(dump1[2, :, 1:4] - dump1[0, :, 1:4]).max() > 1e-3


# --- NVE: energy conservation as good as ASE's ---------------------------------------------
def nve_lammps(plugin, atoms, model_path, dt_fs, steps, every):
    """E_tot per atom every ``every`` steps of LAMMPS ``fix nve`` from ``atoms`` (with momenta)."""
    n = len(atoms)
    lo_c, L_cc, Q_cc = lammps_frame(atoms.cell.array, atoms.pbc, atoms.positions)
    hi_c = lo_c + np.diag(L_cc)
    box = " ".join(f"{v:.17g}" for pair in zip(lo_c, hi_c) for v in pair)
    tilts = " ".join(f"{t:.17g}" for t in (L_cc[1, 0], L_cc[2, 0], L_cc[2, 1]))
    # ASE velocity unit: Å per (1 / fs) fs; LAMMPS metal: Å/ps
    v_nc = atoms.get_velocities() @ Q_cc * (fs * 1000.0)
    lmp = new_lammps()
    try:
        lmp.commands_list(["units metal", "atom_style atomic", "atom_modify map array",
                           "boundary p p p", f"region box prism {box} {tilts} units box",
                           "create_box 1 box", f"mass 1 {atoms.get_masses()[0]:.17g}"])
        lmp.create_atoms(n, list(range(1, n + 1)), [1] * n,
                         (atoms.positions @ Q_cc).ravel().tolist(), v_nc.ravel().tolist())
        lmp.commands_list([f'plugin load "{plugin}"', "pair_style snnp",
                           f'pair_coeff * * "{model_path}" Mo', "neighbor 1.0 bin",
                           "fix md all nve", f"timestep {dt_fs / 1000.0:.17g}",
                           "thermo_style custom step pe ke etotal", "run 0"])
        energies = [lmp.get_thermo("etotal")]
        for _ in range(steps // every):
            lmp.command(f"run {every} pre no post no")
            energies.append(lmp.get_thermo("etotal"))
    finally:
        lmp.close()
    return np.array(energies) / n


def nve_ase(model, atoms, dt_fs, steps, every):
    atoms = atoms.copy()
    atoms.calc = SNNP(model)
    dyn = VelocityVerlet(atoms, timestep=dt_fs * fs)
    energies = [atoms.get_total_energy()]
    for _ in range(steps // every):
        dyn.run(every)
        energies.append(atoms.get_total_energy())
    return np.array(energies) / len(atoms)


def test_nve_conserves_energy_like_ase(plugin):
    """Fitted Mo s-NNP, 54 atoms at ~1000 K, 1 fs, 1000 steps, from the same start."""
    path = REPO / "snnp_calc" / "data" / "Mo-s-nnp.json"
    model = read_model(path)
    atoms = rattled(bulk("Mo", "bcc", 3.165, cubic=True).repeat(3), 0.05, 11)
    masses = atoms.get_masses()[:, None]
    p = np.random.default_rng(12).normal(size=(len(atoms), 3)) * np.sqrt(masses * kB * 2000.0)
    atoms.set_momenta(p - masses * p.sum(axis=0) / masses.sum())
    e_lmp = nve_lammps(plugin, atoms, path, 1.0, 1000, 10)
    e_ase = nve_ase(model, atoms, 1.0, 1000, 10)
    # LAMMPS' metal-unit constants differ from ASE's in the 7th digit: kinetic energies
    # (~0.13 eV/atom) agree to ~1e-7 relative, potential energies to round-off
    assert abs(e_lmp[0] - e_ase[0]) < 1e-6
    drift_lmp, drift_ase = np.abs(e_lmp - e_lmp[0]).max(), np.abs(e_ase - e_ase[0]).max()
    assert drift_lmp < 1e-4 and drift_ase < 1e-4
    assert drift_lmp < 1.5 * drift_ase + 1e-6, (drift_lmp, drift_ase)




# --- core repulsion ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["cubic", "small"])
def test_core_equals_calculator(plugin, tmp_path, kind):
    """A ZBL core reaching the first neighbours of a compressed cell: plugin equals ASE."""
    model = dataclasses.replace(mlp_model("softplus", 3), core=ZBLCore(1.8, 2.6))
    atoms = STRUCTURES[kind]()
    atoms.set_cell(atoms.cell.array * 0.85, scale_atoms=True)
    path = tmp_path / "core.json"
    write_model(model, path)
    ours = evaluate(model, atoms.numbers, atoms.positions, atoms.cell.array, atoms.pbc)
    assert (ours["energy"] - evaluate(dataclasses.replace(model, core=None), atoms.numbers,
                                      atoms.positions, atoms.cell.array, atoms.pbc)["energy"]) > 1.0
    theirs = run_snnp(plugin, atoms, path, ["Mo", "Ni"])
    assert lammps_rel(ours["energy"], theirs["energy"]) <= RTOL
    assert_parity(ours["forces"], theirs["forces"], "forces")
    assert_parity(lammps_virial(ours["virial"]), theirs["virial"], "virial")


def test_core_below_inner_equals_lammps_zbl(need_lammps):
    """Below r_inner the core is pure ZBL: the forces of LAMMPS pair_style zbl, independently."""
    model = dataclasses.replace(initial_model(["Mo", "Ni"], 4.6, r_min=2.0, n_rho=1,
                                              n_triplet=1, hidden=(), pair=False),
                                core=ZBLCore(1.9, 2.0))
    zero = model.from_vector(np.zeros(len(model.to_vector())))
    for r in (0.6, 1.0, 1.5):
        atoms = Atoms("MoNi", positions=[[5.0, 5.0, 5.0], [5.0 + r, 5.0, 5.0]], cell=[12.0] * 3,
                      pbc=False)
        ours = evaluate(zero, atoms.numbers, atoms.positions, atoms.cell.array, atoms.pbc)
        theirs = compute_lammps(atoms, "zbl 1.8 1.85", None, ["Mo", "Ni"], extra_commands=[
            "pair_coeff 1 1 42 42", "pair_coeff 1 2 42 28", "pair_coeff 2 2 28 28"])
        assert_parity(ours["forces"], theirs["forces"], f"forces at {r} Å")
