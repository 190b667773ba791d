"""The study that chose the fitter's defaults: validation errors and physics, never the test set.

Each variant (a set of loss weights and preset options) is fitted to the
training set of each element with a fixed number of iterations (so that the
machine's load changes the time, not the result), or with ``--seconds`` a
fixed wall time (to compare models of different cost), validating on the
default held-out blocks of that training set. Every fitted model is then
judged on the physics of its crystal against the DFT values derived from
the same training set (:func:`snnp_calc.validation.reference_from_data`):

- ``val E`` / ``val F``: validation MAE, meV/atom and eV/Å;
- ``mono``: whether the pressure rises monotonically under compression on
  −10..+5 % of the lattice parameter; ``B_loc``: the minimum local bulk
  modulus there, GPa;
- ``C11 C12 C44``: elastic constants (relaxed-ion), GPa, and the largest
  relative error against the data's (stress-fitted) values.

The test sets are not read. Jobs run in separate processes, ``--workers`` at
a time with one Numba thread each.

Usage (from the repository root)::

    python benchmarks/defaults_study.py --variants base rms ... --elements Mo Ni Cu Ge \\
        --iterations 600 --out docs/defaults [--workers 2]
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from snnp_calc._files import atomic_write_text

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "zuo2020"

# name: (LossWeights fields, preset options); "base" is the fitter before this study
VARIANTS = {
    "base": (dict(stress=1e-6, smooth=0.0, stress_offsets=False),
             dict(input_scaling="std", core=None)),
    "rms": (dict(stress=1e-6, smooth=0.0, stress_offsets=False), dict(core=None)),
    "rms+core": (dict(stress=1e-6, smooth=0.0, stress_offsets=False), dict()),
    "stress1e-4": (dict(stress=1e-4, smooth=0.0, stress_offsets=False), dict()),
    "stress1e-4+offsets": (dict(stress=1e-4, smooth=0.0), dict()),
    "stress1e-3+offsets": (dict(stress=1e-3, smooth=0.0), dict()),
    "stress1e-5+offsets": (dict(stress=1e-5, smooth=0.0), dict()),
    "smooth1e-9": (dict(stress=1e-4, smooth=1e-9), dict()),
    "smooth1e-8": (dict(stress=1e-4, smooth=1e-8), dict()),
    "l2-1e-6": (dict(stress=1e-4, smooth=1e-9, l2=1e-6), dict()),
    "l2-1e-5": (dict(stress=1e-4, smooth=1e-9, l2=1e-5), dict()),
    "smeam-base": (dict(stress=1e-6, smooth=0.0, stress_offsets=False), dict(preset="s-meam")),
    "smeam-stress1e-4+offsets": (dict(stress=1e-4, smooth=0.0), dict(preset="s-meam")),
    "smeam-stress1e-4+offsets+smooth1e-9": (dict(stress=1e-4, smooth=1e-9),
                                            dict(preset="s-meam")),
    "smeam-stress1e-3+offsets": (dict(stress=1e-3, smooth=0.0), dict(preset="s-meam")),
    # issue 12: factorised (Legendre) triplet filters reaching the cutoff, default weights
    "default": (dict(), dict()),
    "leg4-L4": (dict(), dict(n_legendre=4, degree=4)),
    "leg4-L6": (dict(), dict(n_legendre=4, degree=6)),
    "leg8-L6-only": (dict(), dict(n_triplet=0, n_legendre=8, degree=6)),
    "leg6-L4-only": (dict(), dict(n_triplet=0, n_legendre=6, degree=4)),
    "leg4-L4-r1.8": (dict(), dict(n_legendre=4, degree=4, legendre_range=1.8)),
    # issue 10, round 2: Ge's soft E(V) and the s-MEAM preset's compressed EOS
    "stress1e-3": (dict(stress=1e-3), dict()),
    "triplet3.2": (dict(), dict(triplet_cutoff=3.2)),
    "smeam-smooth1e-9": (dict(smooth=1e-9), dict(preset="s-meam")),
    "smeam-smooth1e-8": (dict(smooth=1e-8), dict(preset="s-meam")),
    "smeam-default": (dict(), dict(preset="s-meam")),
    "cutoff5.2": (dict(), dict(cutoff=5.2)),
    # issue 10, round 3: "default" put both ranges in gaps of the pair-distance histogram when
    # the study ran; since then only the cutoff (= "gap-cutoff-only");
    # "nominal-ranges" is the rule before it (2.0 and 1.6 x the median nn distance)
    "nominal-ranges": (dict(), dict(cutoff_nn=2.0, triplet_nn=1.6)),
    "gap-cutoff-only": (dict(), dict(triplet_nn=1.6)),
    "gap-cutoff-only+smooth1e-9": (dict(smooth=1e-9), dict(triplet_nn=1.6)),
    # issue 12, round 4: Legendre filters reaching the (gap-placed) cutoff, not 2.0 nn
    "leg4-L4-to-cutoff": (dict(), dict(n_legendre=4, degree=4, legendre_range=10.0)),
    # issue 12, round 5: one network input per Legendre degree (L + 1 per filter)
    "leg4-L4-degree": (dict(), dict(n_legendre=4, degree=4, per_degree=True)),
    # issue 10/12, round 6: every config_type the same total weight; a larger force weight
    "leg4-L4-degree-balanced": (dict(balance_types=True),
                                dict(n_legendre=4, degree=4, per_degree=True)),
    "leg4-L4-degree-f0.03": (dict(forces=0.03), dict(n_legendre=4, degree=4, per_degree=True)),
}

JOB = r'''
import json, sys, time
import numpy as np
from snnp_calc import SNNP, fit
from snnp_calc.dataset import read_frames
from snnp_calc.fitting.loss import LossWeights
from snnp_calc.fitting.ranges import distance_range
from snnp_calc.validation import elastic_constants, eos_scan, equilibrium
from snnp_calc.validation.lattice import Crystal, guess_crystal
from snnp_calc.validation.reference import reference_from_data
element, path, iterations, weights, options, out = sys.argv[1:7]
weights, options = json.loads(weights), json.loads(options)
frames = read_frames(path)
if weights.pop("balance_types", False):
    types = [f.config_type for f in frames]
    weights["config_types"] = {t: len(types) / (len(set(types)) * types.count(t))
                               for t in set(types)}
start = time.perf_counter()
preset = options.pop("preset", "s-nnp")
nearest = distance_range(frames)[1]
for key, nn_key in (("cutoff", "cutoff_nn"), ("triplet_cutoff", "triplet_nn")):
    if nn_key in options:
        options[key] = round(options.pop(nn_key) * nearest, 2)
seconds = float(sys.argv[7])
model, report = fit(preset, frames, weights=LossWeights(**weights),
                    max_iter=int(iterations) if seconds <= 0 else 10 ** 6,
                    max_time=seconds if seconds > 0 else None, progress=None, **options)
seconds = time.perf_counter() - start
row = dict(iterations=report["iterations"], seconds=seconds, stopped=report["stopped"],
           val_e=report["validation"]["all"]["e_mae"], val_f=report["validation"]["all"]["f_mae"],
           offsets=report["stress_offsets_GPa"])
calc = SNNP(model)
try:
    crystal = Crystal(**equilibrium(calc, guess_crystal(element, frames=frames))["crystal"])
    scan = eos_scan(calc, crystal)
    row.update(monotonic=scan["pressure_monotonic"], b_loc=scan["min_local_bulk_modulus"])
    cij = elastic_constants(calc, crystal)["relaxed"]
    ref = reference_from_data(frames)["stress"]
    row.update(cij={k: cij[k] for k in ("C11", "C12", "C44")},
               cij_error=max(abs(cij[k] / ref[k] - 1) for k in ("C11", "C12", "C44")
                             if ref.get(k)))
except (ValueError, RuntimeError, KeyError) as err:
    row.update(physics_error=f"{type(err).__name__}: {err}")
print(json.dumps(row))
'''


def run_job(variant, element, iterations, seconds):
    weights, options = VARIANTS[variant]
    env = dict(os.environ, NUMBA_NUM_THREADS="1", PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", JOB, element, str(DATA / element / "train.xyz"),
                          str(iterations), json.dumps(weights), json.dumps(options), "",
                          str(seconds)],
                         env=env, capture_output=True, text=True, cwd=REPO)
    if out.returncode:
        return dict(variant=variant, element=element, error=out.stderr[-2000:])
    return dict(variant=variant, element=element, **json.loads(out.stdout.splitlines()[-1]))


def table(rows):
    head = ("| variant | element | val E | val F | mono | B_loc | C11 | C12 | C44 | Cij err | "
            "iterations | s |")
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['variant']} | {r['element']} | failed: "
                         f"{r['error'].splitlines()[-1][:80]} |" + " |" * 9)
            continue
        c = r.get("cij", {})
        phys = (f"{r.get('monotonic', '-')} | {r.get('b_loc', float('nan')):.0f} | "
                + " | ".join(f"{c.get(k, float('nan')):.0f}" for k in ("C11", "C12", "C44"))
                + f" | {100 * r.get('cij_error', float('nan')):.0f} %")
        lines.append(f"| {r['variant']} | {r['element']} | {r['val_e']:.2f} | {r['val_f']:.3f} | "
                     f"{phys} | {r['iterations']} | {r['seconds']:.0f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--elements", nargs="+", default=["Mo", "Ni", "Cu", "Ge"])
    parser.add_argument("--iterations", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=0.0,
                        help="a wall-time budget per fit instead of --iterations (0: none)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    jobs = [(v, e) for v in args.variants for e in args.elements]
    rows = []
    with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
        futures = [pool.submit(run_job, v, e, args.iterations, args.seconds) for v, e in jobs]
        for future in concurrent.futures.as_completed(futures):
            rows.append(future.result())
            print(json.dumps(rows[-1]), flush=True)
    order = {v: k for k, v in enumerate(args.variants)}
    rows.sort(key=lambda r: (order[r["variant"]], r["element"]))
    command = "python benchmarks/defaults_study.py " + " ".join(argv or sys.argv[1:])
    text = "\n".join([
        "# Defaults study (validation blocks of the training sets; no test set)", "",
        f"- Command: `{command}`",
        f"- {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}, "
        f"{(time.time() - started) / 60:.0f} min, {args.workers} workers x 1 Numba thread; "
        + (f"{args.seconds:g} s per fit" if args.seconds > 0 else
           f"{args.iterations} L-BFGS iterations per fit"),
        "- Variants: " + "; ".join(f"`{v}` = {VARIANTS[v]}" for v in args.variants), "",
        table(rows), ""])
    stem = "defaults-" + "-".join(args.elements) + (f"-{args.seconds:g}s" if args.seconds > 0
                                                    else "")
    atomic_write_text(args.out / f"{stem}.md", text)
    atomic_write_text(args.out / f"{stem}.json", json.dumps(rows, indent=1) + "\n")
    print(text)


if __name__ == "__main__":
    main()
