"""Fit time and test accuracy of the presets on the Zuo et al. (2020) data.

    python benchmarks/bench_fit.py [--elements Mo Ni Cu] [--presets s-nnp s-meam]
                                   [--time-snnp 720] [--time-smeam 240] [--save data] [--write]

For each element and preset: ``snnp_calc.fit`` with default settings and a
wall-time limit on the training set, then the test-set MAE and RMSE (energy
per atom in meV/atom, force components in eV/Å), next to the s-MEAM
reference files of ``../shared/data/potentials`` evaluated the same way
(after a per-atom energy shift fitted on the training set, as the issue's
reference figures were). ``--save DIR`` writes the fitted models as
``DIR/<El>-<preset>.json``; ``--write`` records the table in
``benchmarks/RESULTS.md`` (section between ``fit`` markers).
"""
import argparse
import dataclasses
import datetime
import os
import platform
import sys
from pathlib import Path

import numba
from _results import markers, write_block

from snnp_calc import fit, read_model, write_model
from snnp_calc.dataset import read_frames
from snnp_calc.fitting.start import fit_e0
from snnp_calc.metrics import error_report

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def reference_row(element, train, test):
    """Test errors of the shared s-MEAM file after an e0 fit on the training set."""
    path = SHARED / "potentials" / f"{element}.smeam2020.meam.spline"
    model = fit_e0(read_model(path), train)
    return error_report(model, test)["all"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--elements", nargs="+", default=["Mo", "Ni", "Cu"])
    parser.add_argument("--presets", nargs="+", default=["s-nnp", "s-meam"])
    parser.add_argument("--time-snnp", type=float, default=870.0)
    parser.add_argument("--time-smeam", type=float, default=300.0)
    parser.add_argument("--save", help="directory for the fitted models")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if not (SHARED / "zuo2020").is_dir():
        sys.exit(f"shared DFT data not found at {SHARED / 'zuo2020'}")
    rows = []
    for element in args.elements:
        train = read_frames(SHARED / "zuo2020" / element / "train.xyz")
        test = read_frames(SHARED / "zuo2020" / element / "test.xyz")
        ref = reference_row(element, train, test)
        rows.append((element, "s-MEAM file (2020)", ref, None, None))
        for preset in args.presets:
            limit = args.time_snnp if preset == "s-nnp" else args.time_smeam
            model, report = fit(preset, train, test, max_time=limit,
                                progress=lambda line: None)
            seconds = report["seconds"]
            row = report["test"]["all"]
            rows.append((element, preset, row, seconds, len(model.to_vector())))
            print(f"{element} {preset}: {seconds:.0f} s, test E MAE {row['e_mae']:.2f} meV/atom, "
                  f"F MAE {row['f_mae']:.3f} eV/Å ({report['stopped']})", flush=True)
            if args.save:
                meta = dict(model.metadata, name=f"{element} {preset}",
                            training_data=f"Zuo et al. 2020 (mlearn) {element} train.xyz",
                            command=f"python benchmarks/bench_fit.py --elements {element} "
                                    f"--presets {preset} --time-snnp {args.time_snnp:g} "
                                    f"--time-smeam {args.time_smeam:g} --save {args.save}")
                out = Path(args.save) / f"{element}-{preset}.json"
                write_model(dataclasses.replace(model, metadata=meta), out)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.processor())
    for preset in args.presets:
        # one section per preset, so that a preset can be re-run alone
        table = ["| element | model | params | fit time (s) | E MAE | E RMSE | F MAE | F RMSE |",
                 "|---|---|---:|---:|---:|---:|---:|---:|"]
        for element, name, row, seconds, n_params in rows:
            if name in (preset, "s-MEAM file (2020)"):
                table.append(f"| {element} | {name} | {n_params or '-'} | "
                             f"{'-' if seconds is None else f'{seconds:.0f}'} | "
                             f"{row['e_mae']:.2f} | {row['e_rmse']:.2f} | {row['f_mae']:.3f} | "
                             f"{row['f_rmse']:.3f} |")
        text = "\n".join(table)
        print(text)
        if args.write:
            header = (f"## Fitting: preset `{preset}` on the Zuo et al. (2020) data\n\n"
                      f"- Command: `python benchmarks/bench_fit.py {' '.join(sys.argv[1:])}`\n"
                      f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} "
                      f"UTC; machine: {os.cpu_count()} cores, {cpu}; Numba {numba.__version__} "
                      f"with {numba.get_num_threads()} threads\n"
                      f"- Test-set errors: energy per atom in meV/atom, force components in "
                      f"eV/Å; fit time includes building the starting model and the linear "
                      f"start.\n\n")
            start, end = markers(f"fit-{preset}")
            write_block(f"{start}\n{header}{text}\n{end}", start, end)

if __name__ == "__main__":
    main()
