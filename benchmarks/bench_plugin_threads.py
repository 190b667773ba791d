"""OpenMP threads in ``pair_style snnp``: 1 and 2 threads against 1 and 2 MPI ranks.

What is measured: NVE molecular dynamics of bcc Mo with the shipped
``Mo-s-nnp`` model through the plugin, at 2000 and 16000 atoms (10³ and 20³
conventional cells, a = 3.165 Å, 600 K start, skin 1 Å), with this venv's
``mpiexec -n RANKS lmp -pk omp THREADS``, for (ranks, threads) = (1, 1),
(1, 2) and (2, 1); and as the control of how this machine scales, LAMMPS'
own ``meam/spline`` with the published Mo s-MEAM (Vita and Trinkle 2021) on
1 thread and as ``meam/spline/omp`` on 2. Each case: 5 warm-up steps, then
the timed steps; ``--rounds`` rounds in alternation, medians reported, of the
LAMMPS timing summary's "Pair" (force field) and "Loop" (whole step) times
in µs per atom and step. Target (issue 14): 2 threads ≥ 1.8 x faster than 1
(Pair). The plugin's thread results equal one thread's to round-off
(``tests/lammps/test_pair_snnp.py``); here the step-0 energies must agree to 1e-10.

Usage (from the repository root)::

    python benchmarks/bench_plugin_threads.py [--rounds 3] [--steps 20] [--write]
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

from _results import markers, measure_and_report
from bench_inference import machine
from bench_lammps_plugin import run_case

from snnp_calc import read_model, write_model
from snnp_calc.io.meam_spline import without_e0
from snnp_calc.lammps.plugin import build_plugin

REPO = Path(__file__).resolve().parents[1]
START, END = markers("plugin-threads")
TARGET = 1.8
CELLS = (10, 20)
LAYOUTS = ((1, 1), (1, 2), (2, 1))


def cases(folder):
    """{name: (pair style, model file)}."""
    smeam = without_e0(read_model(REPO / "snnp_calc" / "data" / "Mo-smeam2020.json"))
    write_model(smeam, folder / "Mo.meam.spline")
    return {"snnp (Mo-s-nnp)": ("snnp", REPO / "snnp_calc" / "data" / "Mo-s-nnp.json"),
            "meam/spline (Mo s-MEAM 2020)": ("meam/spline", folder / "Mo.meam.spline")}


def measure(rounds, steps, folder):
    """{(case, cells, ranks, threads): [(pair, loop) µs/atom/step per round]}, and energies."""
    plugin = build_plugin()
    times, energies = {}, {}
    for k in range(rounds):
        for name, (style, path) in cases(folder).items():
            for cells in CELLS:
                for ranks, threads in LAYOUTS:
                    if style != "snnp" and ranks > 1:
                        continue
                    where = folder / f"{style.replace('/', '-')}-{cells}-{ranks}x{threads}-{k}"
                    r = run_case(style, path, plugin, ranks, cells, steps, where,
                                 threads=threads)
                    scale = 1e6 / (r["atoms"] * steps)
                    key = (name, cells, ranks, threads)
                    times.setdefault(key, []).append((r["pair"] * scale, r["loop"] * scale))
                    energies.setdefault((name, cells), []).append(r["energy"])
                    print(f"  round {k + 1}: {key}: pair {times[key][-1][0]:.2f} µs/atom/step",
                          file=sys.stderr, flush=True)
    for key, values in energies.items():
        if max(values) - min(values) > 1e-10 * abs(values[0]):
            sys.exit(f"{key}: step-0 energies differ between layouts: {values}")
    return times


def section(times, command, loads, rounds):
    cpu, nproc = machine()
    med = {key: tuple(statistics.median(v[i] for v in values) for i in (0, 1))
           for key, values in times.items()}
    lines = [START, "## LAMMPS: OpenMP threads in `pair_style snnp` (issue 14)", "",
             f"- Command: `{command}`",
             f"- Machine: `nproc` = {nproc}, {cpu}; load average (1 min) {loads[0]:.2f} before, "
             f"{loads[1]:.2f} after; {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; "
             f"medians of {rounds} rounds", "",
             "| pair style (model) | atoms | ranks x threads | Pair µs/atom/step | "
             "Loop µs/atom/step | Pair speed-up vs 1 x 1 |",
             "|---|---:|---|---:|---:|---:|"]
    verdicts = []
    for (name, cells, ranks, threads), (pair, loop) in med.items():
        base = med[name, cells, 1, 1][0]
        lines.append(f"| {name} | {2 * cells ** 3} | {ranks} x {threads} | {pair:.2f} | "
                     f"{loop:.2f} | {base / pair:.2f} |")
        if name.startswith("snnp") and (ranks, threads) == (1, 2):
            verdicts.append(f"- {name}, {2 * cells ** 3} atoms: 2 threads {base / pair:.2f} x "
                            f"faster than 1 (target >= {TARGET}): "
                            f"{'met' if base / pair >= TARGET else 'NOT met'}")
    return "\n".join(lines + [""] + verdicts + [END])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    measure_and_report("bench_plugin_threads.py", argv, lambda folder: measure(args.rounds, args.steps, folder),
                       lambda times, command, loads: section(times, command, loads, args.rounds),
                       args.write, START, END)


if __name__ == "__main__":
    main()
