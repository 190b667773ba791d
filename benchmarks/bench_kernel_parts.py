"""Where an s-NNP evaluation spends its time, Numba kernels against the C++ plugin, per part.

The shipped ``Mo-s-nnp`` model (8 pair + 4 triplet filters, 16 x 16 network) on bcc Mo,
2000 atoms, one core each, side by side in one run:

- **Numba**: :func:`snnp_calc.kernels.energy.single_point_into` alone (energies, forces,
  virials; serial, one Numba thread) on the cell rattled by 0.05 Å, median of 15 calls;
- **C++**: ``pair_style snnp`` in LAMMPS, 1 rank x 1 thread, pair time per atom and MD
  step at 600 K (``bench_lammps_plugin.run_case``).

Each runs two models: the shipped one, and the same with every triplet filter's f replaced
by a zero spline ending at 1 Å, so that no neighbour enters a triplet and both codes skip
the triplet walk. Their difference is the triplet part; the rest is the pair filters,
``phi`` and the network. Rounds alternate the four measurements; the figures are medians.

Usage (from the repository root)::

    python benchmarks/bench_kernel_parts.py [--rounds 3] [--steps 20] [--write]
"""
import argparse
import statistics
import time
from dataclasses import replace

import numba
import numpy as np
from _results import markers, measure_and_report
from ase.build import bulk
from bench_inference import machine
from bench_lammps_plugin import A_MO, run_case

from snnp_calc import read_model, write_model
from snnp_calc.evaluate import kernel_layout, neighbour_pairs
from snnp_calc.kernels.energy import atom_scratch, single_point_into
from snnp_calc.lammps.plugin import build_plugin
from snnp_calc.model.splines import Spline

START, END = markers("kernel-parts")
CELLS = 10


def without_triplets(model):
    """``model`` with every f a zero spline on [0.5, 1] Å: no neighbour is in a triplet."""
    zero = [[Spline(0.5, 1.0, np.zeros(s.n_knots), 0.0, 0.0) for s in row] for row in model.f]
    return replace(model, f=zero)


def kernel_time(model, calls=15):
    """µs per atom of the serial kernel on the rattled cell."""
    atoms = bulk("Mo", "bcc", A_MO, cubic=True).repeat(CELLS)
    atoms.rattle(0.05, seed=1)
    i_p, j_p, _, D_pc = neighbour_pairs(atoms.positions, atoms.cell.array, atoms.pbc,
                                        model.cutoff)
    km = model.kernel_model
    # one set of work arrays for all calls, as the calculator keeps them (KernelScratch)
    args = (i_p, j_p, D_pc, model.species_indices(atoms.numbers), km, False,
            atom_scratch(len(atoms), len(i_p), *kernel_layout(km)))
    single_point_into(*args)
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        single_point_into(*args)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e6 / len(atoms)


def measure(args, folder):
    """{(code, variant): [µs/atom per round]}."""
    numba.set_num_threads(1)
    plugin = build_plugin()
    full = read_model("Mo-s-nnp")
    models = {"shipped": full, "no triplets": without_triplets(full)}
    for name, model in models.items():
        write_model(model, folder / f"{name.replace(' ', '-')}.json")
    times = {}
    for k in range(args.rounds):
        for name, model in models.items():
            times.setdefault(("Numba", name), []).append(kernel_time(model))
            r = run_case("snnp", folder / f"{name.replace(' ', '-')}.json", plugin, 1, CELLS,
                         args.steps, folder / f"{name.replace(' ', '-')}-{k}")
            times.setdefault(("C++", name), []).append(r["pair"] * 1e6 / (r["atoms"] * args.steps))
    return times


def section(times, command, loads):
    cpu, nproc = machine()
    med = {key: statistics.median(v) for key, v in times.items()}
    parts = {code: {"all (shipped model)": med[(code, "shipped")],
                    "triplets (shipped - no triplets)": med[(code, "shipped")]
                    - med[(code, "no triplets")],
                    "pair filters, phi, network (no triplets)": med[(code, "no triplets")]}
             for code in ("Numba", "C++")}
    lines = [START, "## Kernel parts: Numba against the C++ plugin, one core (issue 14)", "",
             f"- Command: `{command}`",
             f"- Machine: `nproc` = {nproc}, {cpu}; load average (1 min) {loads[0]:.2f} before, "
             f"{loads[1]:.2f} after; {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; "
             f"medians of {len(next(iter(times.values())))} rounds; Mo-s-nnp, {2 * CELLS ** 3} "
             "atoms", "",
             "| part | Numba (µs/atom) | C++ plugin (µs/atom) | Numba / C++ |",
             "|---|---:|---:|---:|"]
    for part in parts["Numba"]:
        a, b = parts["Numba"][part], parts["C++"][part]
        lines.append(f"| {part} | {a:.2f} | {b:.2f} | {a / b:.2f} |")
    return "\n".join(lines + [END])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--write", action="store_true",
                        help="write the kernel-parts section of benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    measure_and_report("bench_kernel_parts.py", argv, lambda folder: measure(args, folder),
                       section, args.write, START, END)


if __name__ == "__main__":
    main()
