"""MD step cost of the ASE path against the LAMMPS plugin and ``meam/spline``, side by side.

What is measured, in one run, on bcc Mo (a = 3.165 Å, 600 K Maxwell-Boltzmann start) with
2000 and 16000 atoms (10³ and 20³ conventional cells):

- ``ase VelocityVerlet``: ``atoms.calc = SNNP("Mo-s-nnp", skin=S)`` (the shipped model,
  Numba on all threads), 1 fs steps, for each ``--skins`` S (0: a fresh neighbour list
  every step): wall time per atom and step, medians of ``--rounds`` rounds of
  ``--steps`` steps after 5 warm-up steps;
- ``snnp plugin``: the same model through ``pair_style snnp`` in LAMMPS, 1 rank x 1
  thread and 1 rank x 2 OpenMP threads (``Loop`` time: the whole step, skin 1 Å);
- ``meam/spline``: LAMMPS' own style with the published Mo s-MEAM (Vita and Trinkle
  2021), 1 x 1 and ``meam/spline/omp`` 1 x 2. (SNAP is not run: no SNAP coefficient
  files lie in ``../shared/data``.)

Goal of issue 14: the ASE MD step on 2 threads ≤ 0.5 x the plugin on 1 rank (per core
equal); it must reach ≤ 1.0 x.

Usage (from the repository root)::

    python benchmarks/bench_md.py [--rounds 3] [--steps 20] [--skins 0 0.3 0.5 1.0] [--write]
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np
from _results import markers, measure_and_report
from ase import units
from ase.build import bulk
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
from ase.md.verlet import VelocityVerlet
from bench_inference import machine
from bench_lammps_plugin import A_MO, TEMPERATURE, run_case

from snnp_calc import SNNP, read_model, write_model
from snnp_calc.io.meam_spline import without_e0
from snnp_calc.lammps.plugin import build_plugin

REPO = Path(__file__).resolve().parents[1]
START, END = markers("md-step")
CELLS = (10, 20)
WARMUP = 5


def ase_step(cells, skin, steps):
    """µs per atom and step of ASE VelocityVerlet with the shipped Mo s-NNP."""
    atoms = bulk("Mo", "bcc", A_MO, cubic=True).repeat(cells)
    MaxwellBoltzmannDistribution(atoms, temperature_K=TEMPERATURE,
                                 rng=np.random.default_rng(cells))
    atoms.calc = SNNP("Mo-s-nnp", skin=skin or None)
    md = VelocityVerlet(atoms, 1.0 * units.fs)
    md.run(WARMUP)
    t = time.perf_counter()
    md.run(steps)
    return (time.perf_counter() - t) * 1e6 / (len(atoms) * steps)


def measure(args, folder):
    """{(path, atoms): [µs/atom/step per round]}."""
    plugin = build_plugin()
    smeam = folder / "Mo.meam.spline"
    write_model(without_e0(read_model(REPO / "snnp_calc" / "data" / "Mo-smeam2020.json")), smeam)
    nnp = REPO / "snnp_calc" / "data" / "Mo-s-nnp.json"
    times = {}
    for k in range(args.rounds):
        for cells in CELLS:
            n = 2 * cells ** 3
            for skin in args.skins:
                key = (f"ase VelocityVerlet, skin {skin:g} Å, {numba.get_num_threads()} threads", n)
                times.setdefault(key, []).append(ase_step(cells, skin, args.steps))
            for style, path, name in (("snnp", nnp, "snnp plugin (Mo-s-nnp)"),
                                      ("meam/spline", smeam, "meam/spline (Mo s-MEAM 2020)")):
                for threads in (1, 2):
                    r = run_case(style, path, plugin, 1, cells, args.steps,
                                 folder / f"{style.replace('/', '-')}-{cells}-{threads}-{k}",
                                 threads=threads)
                    key = (f"{name}, 1 rank x {threads} thread{'s' * (threads > 1)}", n)
                    times.setdefault(key, []).append(r["loop"] * 1e6 / (r["atoms"] * args.steps))
            print(f"  round {k + 1}, {n} atoms done", file=sys.stderr, flush=True)
    return times


def section(times, command, loads, rounds):
    cpu, nproc = machine()
    med = {key: statistics.median(v) for key, v in times.items()}
    lines = [START, "## MD step: the ASE path against the LAMMPS plugin (issue 14)", "",
             f"- Command: `{command}`",
             f"- Machine: `nproc` = {nproc}, {cpu}; load average (1 min) {loads[0]:.2f} before, "
             f"{loads[1]:.2f} after; {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; "
             f"medians of {rounds} rounds", "",
             "| path | atoms | µs per atom and MD step | / plugin 1 x 1 |", "|---|---:|---:|---:|"]
    verdicts = []
    for (name, n), t in med.items():
        ref = med[("snnp plugin (Mo-s-nnp), 1 rank x 1 thread", n)]
        lines.append(f"| {name} | {n} | {t:.2f} | {t / ref:.2f} |")
    for n in sorted({n for _, n in med}):
        ref = med[("snnp plugin (Mo-s-nnp), 1 rank x 1 thread", n)]
        best = min((t, name) for (name, m), t in med.items() if m == n and name.startswith("ase"))
        verdict = ("goal met" if best[0] <= 0.5 * ref else "must met" if best[0] <= ref
                   else "NOT met")
        verdicts.append(f"- {n} atoms: best ASE MD step ({best[1]}) {best[0] / ref:.2f} x the "
                        f"plugin on 1 rank (goal <= 0.5, must <= 1.0): {verdict}")
    return "\n".join(lines + [""] + verdicts + [END])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--skins", type=float, nargs="+", default=[0.0, 0.3, 0.5, 1.0])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    measure_and_report("bench_md.py", argv, lambda folder: measure(args, folder),
                       lambda times, command, loads: section(times, command, loads, args.rounds),
                       args.write, START, END)


if __name__ == "__main__":
    main()
