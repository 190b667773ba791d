"""Where the time of an 8-atom single point goes, against LAMMPS ``run 0``.

The structure and potential of ``bench_inference.py``: the 8-atom Si diamond
cell (a = 5.431 Å) rattled by 0.05 Å, ``Si_1.meam.spline``. Timed side by
side in one process:

- **ASE call**: move one atom by 1e-9 Å, then ``atoms.get_forces()`` and
  ``atoms.get_stress()`` with ``SNNP`` (everything included);
- **evaluate()**: :func:`snnp_calc.evaluate.evaluate` alone, on the same
  arrays and moves, with a skin list as the calculator keeps one
  (:class:`snnp_calc.evaluate.PairList`, the calculator's default skin):
  pair list, kernels and their Python glue;
- **skin list, reused**: ``PairList.pairs`` alone on the same moves (the
  displacement check and the pairs within the cutoff; the moves never
  reach half the skin, so the list is never rebuilt);
- **neighbour_list, rebuilt**: matscipy's ``neighbour_list`` alone, called as
  a rebuild calls it (for scale: what a call without a skin pays);
- **kernels**: :func:`snnp_calc.kernels.energy.single_point` alone, on that list;
- **LAMMPS run 0**: ``meam/spline`` on the same positions (set-up as in
  ``bench_inference.py``, neighbour skin 1 Å).

The variants take turns (round robin, ``--calls`` calls each per turn), so a
load from other processes hits all alike; each figure is the median over
``--rounds`` turns of the time per call. Turns of a few hundred calls let
each variant run with warm caches, as it would alone: with turns of 20 calls
the ASE call came out ~10 µs slower. The breakdown follows by
differences: ASE and calculator overhead = ASE call − evaluate(); glue =
evaluate() − skin list − kernels. As a sanity check the forces must
equal LAMMPS' to 1e-8 eV/Å.

Usage (from the repository root)::

    python benchmarks/bench_small.py [--rounds 30] [--calls 200] [--write]
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from _results import markers, write_block
from bench_inference import FORCE_TOL, POTENTIAL, lammps_forces, machine, open_lammps, structure
from matscipy.neighbours import neighbour_list

from snnp_calc import SNNP, read_model
from snnp_calc.calculator import SKIN
from snnp_calc.evaluate import PairList, evaluate, neighbour_cell
from snnp_calc.kernels.energy import single_point
from snnp_calc.lammps.crosscheck import lammps_available

GOAL = 100e-6  # s, project issue 2: an 8-atom single point, all overhead included


def variants(atoms, model, lmp):
    """The timed calls, by name; ``atoms`` carries the calculator."""
    state = {"k": 0}

    def ase_call():
        k = state["k"] = state["k"] + 1
        atoms.positions[k % len(atoms), 0] += 1e-9 * (-1) ** k
        atoms.get_forces()
        atoms.get_stress()

    moved = atoms.positions.copy()
    args = (atoms.numbers, moved, atoms.cell.array, atoms.pbc)
    lists = {"evaluate": PairList(SKIN), "alone": PairList(SKIN)}

    def move():
        k = state["k"] = state["k"] + 1
        moved[k % len(moved), 0] += 1e-9 * (-1) ** k

    def evaluate_call():
        move()
        evaluate(model, *args, parallel=False, pair_list=lists["evaluate"])

    def skin_list():
        move()
        lists["alone"].pairs(moved, atoms.cell.array, atoms.pbc, model.cutoff)

    cell, origin = neighbour_cell(atoms.positions, atoms.cell.array, atoms.pbc)
    i_p, j_p, _, D_pc = neighbour_list("ijdD", positions=atoms.positions, cell=cell,
                                       pbc=atoms.pbc, cutoff=model.cutoff, cell_origin=origin)
    kernel_args = (i_p.astype(np.int64), j_p.astype(np.int64), D_pc,
                   model.species_indices(atoms.numbers), model.kernel_model, False)
    return {
        "ASE call": ase_call,
        "evaluate()": evaluate_call,
        "skin list, reused": skin_list,
        "neighbour_list, rebuilt": lambda: neighbour_list(
            "ijdD", positions=atoms.positions, cell=cell, pbc=atoms.pbc, cutoff=model.cutoff,
            cell_origin=origin),
        "kernels": lambda: single_point(*kernel_args),
        "LAMMPS run 0": lambda: lmp.command("run 0 post no"),
    }


def measure(calls, rounds, n_calls):
    """Median time per call (s) of each of ``calls``, taking turns."""
    times = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            t0 = time.perf_counter()
            for _ in range(n_calls):
                call()
            times[name].append((time.perf_counter() - t0) / n_calls)
    return {name: statistics.median(t) for name, t in times.items()}


def report(t, load_before, load_after):
    """The breakdown as text (µs per call)."""
    us = {name: value * 1e6 for name, value in t.items()}
    glue = us["evaluate()"] - us["skin list, reused"] - us["kernels"]
    overhead = us["ASE call"] - us["evaluate()"]
    cpu, nproc = machine()
    lines = [f"8-atom single point, µs per call (medians); nproc = {nproc}, {cpu}; "
             f"load average (1 min) {load_before:.2f} before, {load_after:.2f} after",
             ""]
    lines += [f"  {name:<34s}{value:8.1f}" for name, value in us.items()]
    lines += ["", "  breakdown of the ASE call:",
              f"    {'skin list, reused':<32s}{us['skin list, reused']:8.1f}",
              f"    {'kernels':<32s}{us['kernels']:8.1f}",
              f"    {'evaluate() glue':<32s}{glue:8.1f}",
              f"    {'ASE and calculator overhead':<32s}{overhead:8.1f}",
              "",
              f"  ASE call / LAMMPS run 0: {us['ASE call'] / us['LAMMPS run 0']:.2f}; "
              f"goal <= {GOAL * 1e6:.0f} µs: "
              + ("met" if t["ASE call"] <= GOAL else "NOT met")]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="turns (default: %(default)s)")
    parser.add_argument("--calls", type=int, default=200,
                        help="calls of each variant per turn (default: %(default)s)")
    parser.add_argument("--potential", type=Path, default=POTENTIAL,
                        help="old-format Si meam/spline file (default: %(default)s)")
    parser.add_argument("--write", action="store_true",
                        help="write the small-system section of benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    ok, reason = lammps_available()  # also preloads libmpi for the lammps module
    if not ok:
        sys.exit(f"LAMMPS unavailable: {reason}")
    if not args.potential.is_file():
        sys.exit(f"potential file not found: {args.potential}")
    potential = args.potential.resolve()
    model = read_model(potential, species="Si")
    atoms = structure(8)
    atoms.calc = SNNP(model)
    lmp, Q_cc = open_lammps(atoms, potential)
    try:
        lmp.command("run 0 post no")
        dF = np.abs(atoms.get_forces() - lammps_forces(lmp, len(atoms), Q_cc)).max()
        if not dF < FORCE_TOL:
            sys.exit(f"max |F_snnp - F_lammps| = {dF:.3g} eV/Å > {FORCE_TOL}")
        calls = variants(atoms, model, lmp)
        measure(calls, 2, args.calls)  # warm-up: compilation, first set-up
        load_before = os.getloadavg()[0]
        t = measure(calls, args.rounds, args.calls)
        load_after = os.getloadavg()[0]
    finally:
        lmp.close()
    text = report(t, load_before, load_after)
    print(text)
    if args.write:
        start, end = markers("small")
        command = "python benchmarks/bench_small.py " + " ".join(
            sys.argv[1:] if argv is None else argv)
        write_block(f"{start}\n## Small systems: where an 8-atom single point goes\n\n"
                    f"- Command: `{command.strip()}`\n\n```\n{text}\n```\n{end}", start, end)


if __name__ == "__main__":
    main()
