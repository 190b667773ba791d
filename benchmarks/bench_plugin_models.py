"""LAMMPS cost of the shipped s-NNP models through ``pair_style snnp``, against a reference model.

What is measured: for every ``snnp_calc/data/*-s-nnp.json`` and for a
reference model (by default the Mo s-NNP shipped at commit ``d3f8442``, before
the factorised triplet filters: the "today's Mo s-NNP" that issue 12's cost
target is relative to), NVE molecular dynamics of the model's ground-state
crystal with about 16000 atoms (bcc 20³, fcc 16³, diamond 13³ conventional
cells; 600 K start, skin 1 Å) with this venv's ``mpiexec -n 1 lmp`` and
``OMP_NUM_THREADS=1``, 5 warm-up steps then the timed steps, repeated
``--rounds`` times in alternation (reference, then each model) so that a
change of load hits all of them alike. Reported: the median "Pair" time of
the LAMMPS timing summary in µs per atom and step, and its ratio to the
reference's median (target of issue 12: ≤ 1.5).

Usage (from the repository root)::

    python benchmarks/bench_plugin_models.py [--rounds 3] [--steps 20] [--reference REV] [--write]

``--write`` replaces the section of ``benchmarks/RESULTS.md`` between its
markers.
"""
import argparse
import datetime
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _results import markers, write_block
from ase.data import atomic_masses, atomic_numbers
from bench_inference import machine
from bench_lammps_plugin import SKIN, TEMPERATURE, run_case

from snnp_calc import read_model
from snnp_calc.lammps.plugin import build_plugin

REPO = Path(__file__).resolve().parents[1]
START, END = markers("plugin-models")
REFERENCE_REV = "d3f8442"
TARGET = 1.5
# element: (LAMMPS lattice, a in Å, conventional cells per side)
CRYSTALS = {"Mo": ("bcc", 3.165, 20), "Ni": ("fcc", 3.52, 16), "Cu": ("fcc", 3.63, 16),
            "Ge": ("diamond", 5.76, 13)}


def reference_model(rev, folder):
    """The Mo s-NNP of git revision ``rev`` written to ``folder``; its path."""
    text = subprocess.run(["git", "show", f"{rev}:snnp_calc/data/Mo-s-nnp.json"], cwd=REPO,
                          capture_output=True, text=True, check=True).stdout
    path = folder / f"Mo-s-nnp-{rev}.json"
    path.write_text(text)
    return path


def describe(path):
    """Element, architecture summary of one model file."""
    model = read_model(path)
    n_leg = len(model.legendre)
    legend = (f", {n_leg} Legendre L={model.legendre[0].degree} to "
              f"{model.legendre_range:.2f} Å" if n_leg else "")
    return model.species[0], (f"{len(model.rho)} pair + {len(model.f)} triplet{legend}, "
                              f"cutoff {model.cutoff:.2f} Å")


def measure(cases, rounds, steps, folder):
    """{name: [Pair µs/atom/step per round]} of every case, rounds in alternation."""
    plugin = build_plugin()
    times = {name: [] for name in cases}
    for k in range(rounds):
        for name, (element, path) in cases.items():
            lattice, a, cells = CRYSTALS[element]
            crystal = dict(element=element, lattice=lattice, a=a,
                           mass=atomic_masses[atomic_numbers[element]])
            slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")
            r = run_case("snnp", path, plugin, 1, cells, steps, folder / f"{slug}-{k}",
                         crystal=crystal)
            times[name].append(r["pair"] * 1e6 / (r["atoms"] * steps))
            print(f"  round {k + 1}: {name} {times[name][-1]:.2f} µs/atom/step",
                  file=sys.stderr, flush=True)
    return times


def section(cases, times, reference, command, load_before, load_after, args):
    """The RESULTS.md section, markers included."""
    cpu, nproc = machine()
    ref = statistics.median(times[reference])
    lines = ["| model | architecture | atoms | Pair µs/atom/step (median) | rounds | "
             "ratio to reference |", "|---|---|---:|---:|---|---:|"]
    worst = 0.0
    for name, (element, path) in cases.items():
        lattice, _, cells = CRYSTALS[element]
        n = {"bcc": 2, "fcc": 4, "diamond": 8}[lattice] * cells ** 3
        med = statistics.median(times[name])
        if name != reference:
            worst = max(worst, med / ref)
        lines.append(f"| {name} | {describe(path)[1]} | {n} | {med:.2f} | "
                     f"{' '.join(f'{t:.2f}' for t in times[name])} | {med / ref:.2f} |")
    verdict = "met" if worst <= TARGET else "NOT met"
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return f"""{START}
## LAMMPS: cost of the shipped s-NNP models through the plugin

- Command (from the repository root): `{command}`
- Date: {date}; machine: `nproc` = {nproc}, {cpu}; load average (1 min) {load_before:.2f}
  before, {load_after:.2f} after
- NVE MD of each model's ground-state crystal ({TEMPERATURE:g} K start, skin {SKIN:g} Å),
  1 MPI rank, 1 OpenMP thread, {args.steps} timed steps after 5 warm-up steps, {args.rounds}
  rounds in alternation; "Pair" from the LAMMPS timing summary. Reference: the Mo s-NNP
  of commit `{args.reference}` (before factorised triplet filters).

{chr(10).join(lines)}

- Most expensive shipped model: {worst:.2f} x the reference (target <= {TARGET}): {verdict}
{END}
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--reference", default=REFERENCE_REV,
                        help=f"git revision of the reference Mo s-NNP (default {REFERENCE_REV})")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    command = shlex.join(["python", os.path.relpath(os.path.abspath(sys.argv[0]), REPO)]
                         + (sys.argv[1:] if argv is None else argv))
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-plugin-models-") as tmp:
        folder = Path(tmp)
        reference = f"Mo s-NNP @ {args.reference}"
        cases = {reference: ("Mo", reference_model(args.reference, folder))}
        for path in sorted((REPO / "snnp_calc" / "data").glob("*-s-nnp.json")):
            cases[path.stem] = (describe(path)[0], path)
        times = measure(cases, args.rounds, args.steps, folder)
        # inside the block: the reference model file lives in the temporary folder
        text = section(cases, times, reference, command, load_before, os.getloadavg()[0], args)
    print(text)
    if args.write:
        write_block(text, START, END)


if __name__ == "__main__":
    main()
