"""Speed of this checkout against an earlier commit, side by side in one run.

For a code change that must not cost speed (the layering of issue 9, say),
the same three measurements run on both source trees, taking turns
(base, this, base, this, ...), each turn in a fresh Python process that
imports the package from its tree:

- **8-atom single point**: Si diamond cell rattled 0.05 Å, ``Si_1.meam.spline``,
  ``SNNP`` ``get_forces()`` + ``get_stress()`` after moving one atom (µs per call);
- **2048-atom single point**: the same for 2048 atoms with the s-MEAM file and
  with an s-NNP of 4 + 8 filters and a 32 x 32 network (µs per atom, all threads);
- **loss + gradient**: one evaluation of the fitting loss and its exact
  gradient for the shipped ``Mo-s-nnp`` model on the Mo training set (s);
  with ``--legendre`` also for a Ge s-NNP with 4 Legendre filters of degree 4
  on the Ge training set.

Each figure is the median over ``--rounds`` turns of a per-turn median; the
ratio is this tree's over the base's. The base tree is a temporary
``git worktree`` of ``--base``, removed at the end.

Usage (from the repository root)::

    python benchmarks/bench_commits.py --base REV [--rounds 5] [--legendre] [--write [--section NAME]]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _results import markers, write_block
from bench_inference import machine

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"

# Runs in the measured tree's own interpreter process; prints one JSON object.
# Module paths moved with the layering; this is the only place that knows both.
PROBE = r'''
import inspect, json, statistics, sys, time
import numpy as np
from ase.build import bulk
from snnp_calc import SNNP, read_model
try:
    from snnp_calc.model.initial import initial_model
    from snnp_calc.fitting.loss import LossWeights, loss_and_gradient, ParameterMap, Workspace
    from snnp_calc.fitting.training_set import pack_frames
except ImportError:
    from snnp_calc.initial import initial_model
    from snnp_calc.loss import LossWeights, loss_and_gradient, ParameterMap, Workspace, pack_frames
from snnp_calc.dataset import read_frames

shared, model_dir = sys.argv[1], sys.argv[2]
si = read_model(shared + "/potentials/Si_1.meam.spline", species="Si")

def per_call(call, seconds=1.0, repeats=5):
    call()
    times = []
    for _ in range(repeats):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds / repeats:
            call()
            n += 1
        times.append((time.perf_counter() - t0) / n)
    return statistics.median(times)

def single_point(model, reps):
    atoms = bulk("Si", "diamond", 5.431, cubic=True).repeat(reps)
    atoms.rattle(0.05, seed=42)
    atoms.calc = SNNP(model)
    state = {"k": 0}
    def call():
        state["k"] += 1
        atoms.positions[state["k"] % len(atoms), 0] += 1e-9 * (-1) ** state["k"]
        atoms.get_forces()
        atoms.get_stress()
    return per_call(call), len(atoms)

nnp = initial_model(["Si"], cutoff=si.cutoff, r_min=1.5, n_rho=4, n_triplet=8,
                    hidden=(32, 32), seed=0)
small, _ = single_point(si, (1, 1, 1))
big_smeam, n = single_point(si, (4, 4, 4))
big_snnp, _ = single_point(nnp, (4, 4, 4))
mo = read_model(model_dir + "/Mo-s-nnp.json")
frames = read_frames(shared + "/zuo2020/Mo/train.xyz")
data = pack_frames(frames, mo.species, mo.cutoff)
v, weights = mo.to_vector(), LossWeights()
pmap, ws = ParameterMap(mo), Workspace(data, mo)
loss = per_call(lambda: loss_and_gradient(v, mo, data, weights, pmap, ws), 4.0, 5)
out = {"8-atom single point (µs)": 1e6 * small,
       "2048-atom s-MEAM (µs/atom)": 1e6 * big_smeam / n,
       "2048-atom s-NNP (µs/atom)": 1e6 * big_snnp / n,
       "Mo loss + gradient (s)": loss}
if "legendre" in sys.argv[3:]:
    # the default s-nnp of Ge with 4 Legendre filters of degree 4 to 5 Å (issue 12's leg4-L4)
    ge = initial_model(["Ge"], 5.25, r_min=1.97, n_rho=8, n_triplet=4, n_legendre=4, degree=4,
                       legendre_cutoff=4.92, triplet_cutoff=3.93, hidden=(16, 16),
                       activation="softplus", noise=0.1, seed=0)
    frames = read_frames(shared + "/zuo2020/Ge/train.xyz")
    data = pack_frames(frames, ge.species, ge.cutoff)
    v, pmap, ws = ge.to_vector(), ParameterMap(ge), Workspace(data, ge)
    out["Ge + Legendre loss + gradient (s)"] = per_call(
        lambda: loss_and_gradient(v, ge, data, weights, pmap, ws), 4.0, 5)
    if "per_degree" in inspect.signature(initial_model).parameters:
        # the same with one network input per degree (issue 12, round 5's leg4-L4-degree)
        ge = initial_model(["Ge"], 5.25, r_min=1.97, n_rho=8, n_triplet=4, n_legendre=4,
                           degree=4, legendre_cutoff=4.92, triplet_cutoff=3.93,
                           hidden=(16, 16), activation="softplus", noise=0.1, seed=0,
                           per_degree=True)
        v, pmap, ws = ge.to_vector(), ParameterMap(ge), Workspace(data, ge)
        out["Ge + per-degree Legendre loss + gradient (s)"] = per_call(
            lambda: loss_and_gradient(v, ge, data, weights, pmap, ws), 4.0, 5)
print(json.dumps(out))
'''


def run_probe(tree, models, extra=()):
    """One turn of the probe in a fresh process importing snnp_calc from ``tree``.

    ``models``: the folder of the shipped models, the base tree's for both (a
    newer file format is not readable by older code). ``extra``: optional
    measurements (``legendre``).
    """
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, "-c", PROBE, str(SHARED), str(models), *extra],
                         env=env, cwd=tree, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(base, rounds, extra=()):
    """Medians of both trees and their ratios: ``{name: (base, this, ratio)}``."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), base], cwd=REPO,
                       check=True, capture_output=True)
        models = next(p for p in (tree / "data", tree / "snnp_calc" / "data") if p.is_dir())
        try:
            run_probe(tree, models, extra)   # compile and cache both trees' kernels first
            run_probe(REPO, models, extra)
            turns = {"base": [], "this": []}
            for _ in range(rounds):
                turns["base"].append(run_probe(tree, models, extra))
                turns["this"].append(run_probe(REPO, models, extra))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=REPO,
                           check=True, capture_output=True)
    out = {}
    for name in turns["this"][0]:
        # a measurement the base tree cannot make (a newer model option) has no base
        old = (statistics.median(t[name] for t in turns["base"])
               if name in turns["base"][0] else None)
        new = statistics.median(t[name] for t in turns["this"])
        out[name] = (old, new, None if old is None else new / old)
    return out


def section(base, head, rows, command, load_before, load_after, rounds):
    lines = [f"## Speed against an earlier commit: {head} vs {base}", "",
             f"- Command (from the repository root): `{command}`",
             f"- Machine: `nproc` = {machine()[1]}, {machine()[0]}; load average (1 min) "
             f"{load_before:.2f} before, {load_after:.2f} after",
             f"- {rounds} alternating turns per tree, each a fresh process; medians of medians.",
             "", "| measurement | base | this | this / base |", "|---|---:|---:|---:|"]
    for name, (old, new, ratio) in rows.items():
        if old is None:
            lines.append(f"| {name} | (cannot) | {new:.4g} | |")
        else:
            lines.append(f"| {name} | {old:.4g} | {new:.4g} | {ratio:.3f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="commit to compare against")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--legendre", action="store_true",
                        help="also time the loss gradient of a Ge model with Legendre filters")
    parser.add_argument("--write", action="store_true",
                        help="write the table into benchmarks/RESULTS.md")
    parser.add_argument("--section", default="commits",
                        help="the RESULTS.md section to write (default: commits)")
    args = parser.parse_args(argv)
    rev = lambda ref: subprocess.run(["git", "rev-parse", "--short", ref], cwd=REPO,  # noqa: E731
                                     capture_output=True, text=True, check=True).stdout.strip()
    base, head = rev(args.base), rev("HEAD")
    before = os.getloadavg()[0]
    rows = compare(args.base, args.rounds, ("legendre",) if args.legendre else ())
    after = os.getloadavg()[0]
    command = "python benchmarks/bench_commits.py " + " ".join(argv or sys.argv[1:])
    text = section(base, head, rows, command, before, after, args.rounds)
    print(text)
    if args.write:
        start, end = markers(args.section)
        write_block(f"{start}\n{text}\n{end}", start, end)


if __name__ == "__main__":
    main()
