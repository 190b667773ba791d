"""Default fits on the Zuo et al. (2020) data: test accuracy, fit time and the physics of each.

    python benchmarks/bench_fit.py [--elements Mo Ni Cu Ge] [--presets s-nnp s-meam]
                                   [--time-snnp 870] [--time-smeam 300] [--save DIR]
                                   [--docs DIR] [--smooth W] [--write]

For each element and preset: ``snnp_calc.fit`` with default settings and a
wall-time limit on the training set (run it with nothing else on the
machine: the limit counts wall time), then

- the test-set MAE and RMSE (energy per atom, meV/atom; force components,
  eV/Å), next to the published s-MEAM file of ``../shared/data/potentials``
  evaluated the same way (after a per-atom energy shift fitted on the
  training set). The test set is read here only, after the fit;
- :func:`snnp_calc.validation.validate` of the fitted model's crystal against
  the DFT values derived from the training set (lattice, B, C_ij, EOS
  smoothness, vacancy and surface energies, phonons, 2 ps of Langevin MD at
  1.5 x the melting point).

``--save DIR`` writes the models as ``DIR/<El>-<preset>.json`` with a
summary of their physics in ``metadata["validation"]``; ``--docs DIR``
writes each model's validation table (``<El>-<preset>-validation.md``) and
figure; ``--write`` records the tables in ``benchmarks/RESULTS.md`` (one
section per preset). ``--smooth W`` replaces the default spline curvature
weight (the shipped Mo s-MEAM uses 1e-8: ``docs/defaults/``).
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

from snnp_calc import SNNP, LossWeights, fit, read_model, write_model
from snnp_calc._files import atomic_write_text
from snnp_calc.dataset import read_frames
from snnp_calc.fitting.start import fit_e0
from snnp_calc.metrics import error_report
from snnp_calc.validation import format_validation, validate, write_validation_figure

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
# melting points, K (CRC Handbook of Chemistry and Physics): hot MD runs at 1.5 x these
MELTING_POINT = {"Mo": 2896.0, "Ni": 1728.0, "Cu": 1358.0, "Ge": 1211.0}
LATTICE = {"Mo": "bcc", "Ni": "fcc", "Cu": "fcc", "Ge": "diamond"}


def reference_row(element, train, test):
    """Test errors of the shared s-MEAM file after an e0 fit on the training set."""
    path = SHARED / "potentials" / f"{element}.smeam2020.meam.spline"
    model = fit_e0(read_model(path), train)
    return error_report(model, test)["all"]


def physics_summary(report):
    """The few numbers of a validation report that ``snnp models`` shows."""
    el, scan, md = report.get("elastic", {}), report.get("eos_scan", {}), report.get("md", {})
    out = {"a0": round(report["equilibrium"]["a0"], 4)}
    if "failed" in report:
        out["failed"] = report["failed"]
    out.update({k: round(el[k], 1) for k in ("C11", "C12", "C44") if k in el})
    if scan:
        out.update(pressure_monotonic=scan["pressure_monotonic"],
                   min_local_B=round(scan["min_local_bulk_modulus"], 1))
    if md:
        out.update(hot_md_stable=md["stable"], hot_md_closest=round(md["min_distance_ratio"], 3))
    return out


def validate_or_note(calc, element, train):
    """The validation report; where a property fails (a defect that does not relax), the
    report without it, its error under ``"failed"``, so that one model does not lose the table."""
    try:
        return validate(calc, element, LATTICE[element], data=train,
                        melting_point=MELTING_POINT[element])
    except ValueError as err:
        print(f"{element}: {err}", flush=True)
        physics = validate(calc, element, LATTICE[element], data=train,
                           melting_point=MELTING_POINT[element],
                           properties=("eos_scan", "elastic", "md"))
        physics["failed"] = str(err)
        return physics


def fit_one(element, preset, train, test, limit, args):
    """Fit, test, validate and (optionally) save one model; returns its table row."""
    weights = LossWeights(smooth=args.smooth) if args.smooth is not None else None
    model, report = fit(preset, train, test, weights=weights, max_time=limit,
                        progress=lambda line: None)
    row = report["test"]["all"]
    print(f"{element} {preset}: {report['seconds']:.0f} s, {report['iterations']} iterations, "
          f"test E MAE {row['e_mae']:.2f} meV/atom, F MAE {row['f_mae']:.3f} eV/Å "
          f"({report['stopped']})", flush=True)
    physics = validate_or_note(SNNP(model), element, train)
    print(format_validation(physics), flush=True)
    meta = dict(model.metadata, name=f"{element} {preset}",
                training_data=f"Zuo et al. 2020 (mlearn) {element} train.xyz",
                validation=physics_summary(physics),
                command=f"python benchmarks/bench_fit.py {' '.join(sys.argv[1:])}")
    model = dataclasses.replace(model, metadata=meta)
    if args.save:
        write_model(model, Path(args.save) / f"{element}-{preset}.json")
    if args.docs:
        docs = Path(args.docs)
        docs.mkdir(parents=True, exist_ok=True)
        write_validation_figure(physics, docs / f"{element}-{preset}-validation.png")
        atomic_write_text(docs / f"{element}-{preset}-validation.md",
                          f"# {element} {preset}: validation\n\n```\n"
                          f"{format_validation(physics)}\n```\n")
    return (element, preset, row, report, len(model.to_vector()), physics_summary(physics))


def section(preset, rows, argv):
    """The RESULTS.md section of one preset."""
    table = ["| element | model | params | fit time (s) | iterations | E MAE | E RMSE | F MAE | "
             "F RMSE | a0 | C11 | C12 | C44 | P monotonic | min B_loc | hot MD |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|"]
    for element, name, row, report, n_params, phys in rows:
        if name not in (preset, "s-MEAM file (2020)"):
            continue
        fit_cols = (f"{n_params} | {report['seconds']:.0f} | {report['iterations']}"
                    if report else "- | - | -")
        phys_cols = (" | ".join(str(phys.get(k, "-")) for k in (
            "a0", "C11", "C12", "C44", "pressure_monotonic", "min_local_B"))
            + f" | {phys.get('hot_md_stable', '-')} ({phys.get('hot_md_closest', '-')})"
            if phys else " | ".join("-" * 7))
        table.append(f"| {element} | {name} | {fit_cols} | {row['e_mae']:.2f} | "
                     f"{row['e_rmse']:.2f} | {row['f_mae']:.3f} | {row['f_rmse']:.3f} | "
                     f"{phys_cols} |")
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    start, end = markers(f"fit-{preset}")
    return "\n".join([
        start, f"## Fitting: preset `{preset}` on the Zuo et al. (2020) data", "",
        f"- Command: `python benchmarks/bench_fit.py {' '.join(argv)}`",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; machine: "
        f"{os.cpu_count()} cores, {cpu}; load average (1 min) at the end "
        f"{os.getloadavg()[0]:.2f}; Numba {numba.__version__} with {numba.get_num_threads()} "
        "threads",
        "- Test-set errors: energy per atom in meV/atom, force components in eV/Å; fit time "
        "includes building the starting model and the linear start.",
        "- Physics (`snnp_calc.validation.validate`, DFT references from the training set in "
        "the validation tables of `docs/validation/`): a0 in Å, relaxed-ion C_ij in GPa, "
        "pressure monotonic and the minimum local bulk modulus (GPa) on −10..+5 % of a0, "
        "2 ps of Langevin MD at 1.5 × T_melt (closest approach / nearest-neighbour distance).",
        "", *table, end])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--elements", nargs="+", default=["Mo", "Ni", "Cu", "Ge"])
    parser.add_argument("--presets", nargs="+", default=["s-nnp", "s-meam"])
    parser.add_argument("--time-snnp", type=float, default=870.0)
    parser.add_argument("--time-smeam", type=float, default=300.0)
    parser.add_argument("--save", help="directory for the fitted models")
    parser.add_argument("--docs", help="directory for the validation tables and figures")
    parser.add_argument("--smooth", type=float, default=None,
                        help="spline curvature weight instead of LossWeights' default")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if not (SHARED / "zuo2020").is_dir():
        sys.exit(f"shared DFT data not found at {SHARED / 'zuo2020'}")
    rows = []
    for element in args.elements:
        train = read_frames(SHARED / "zuo2020" / element / "train.xyz")
        test = read_frames(SHARED / "zuo2020" / element / "test.xyz")
        rows.append((element, "s-MEAM file (2020)", reference_row(element, train, test), None,
                     None, None))
        for preset in args.presets:
            limit = args.time_snnp if preset == "s-nnp" else args.time_smeam
            rows.append(fit_one(element, preset, train, test, limit, args))
    for preset in args.presets:
        text = section(preset, rows, sys.argv[1:])
        print(text)
        if args.write:
            start, end = markers(f"fit-{preset}")
            write_block(text, start, end)


if __name__ == "__main__":
    main()
