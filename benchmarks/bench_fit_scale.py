"""Fitting at scale: setup, loss+gradient, iteration time and peak memory at >= 100k atoms.

    python benchmarks/bench_fit_scale.py [--workdir DIR] [--iterations 4] [--ranks 1 2]
                                         [--budget 900] [--write]

The training set is built here, once, in ``--workdir`` (default
``$TMPDIR/snnp-fit-scale``; nothing is written into the project):

- Ti with dilute interstitial O, Langevin MD snapshots of 150 + 4 atoms at
  300, 900 and 1500 K and four strains (−2 %, 0, +2 % volumetric and a 2 %
  shear), run with the published ``TiO.meam.spline`` (Zhang and Trinkle,
  Comput. Mater. Sci. 124, 204 (2016)) through this package's calculator and
  labelled by LAMMPS ``pair_style meam/spline`` (``run 0`` per snapshot):
  energies, forces and stresses; a second trajectory of each condition, with
  another seed, is the Ti-O test set;
- plus the union of the four Zuo et al. (2020) training sets (Mo, Ni, Cu,
  Ge), read from ``../shared/data`` where they lie.

So the set has six species and ~116k atoms. Each measurement runs in a
fresh process (its peak resident memory is that process's ``ru_maxrss``):

- ``setup``: a default ``snnp_calc.fit`` with ``--iterations`` iterations,
  its stages timed from the progress lines (read the files; start, neighbour
  lists and packing until "fitting ..."; preconditioner until the first
  iteration); the median time per iteration after the first; peak memory;
- ``lossgrad``: one loss + exact gradient on the packed set (median of 3),
  next to one inference single point of the same atoms (energy, forces,
  virial), the ratio stated;
- with ``--ranks 1 2``: the same fit under ``mpiexec -n R`` (one Numba thread
  per rank), per-iteration time;
- with ``--budget S``: a default fit of S seconds (nothing else may run on
  the machine) and its test errors on the Ti-O and Zuo test sets.

``--write`` records the table in ``benchmarks/RESULTS.md`` (section ``fit-scale``).
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _results import markers, write_block
from ase import units
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
from bench_commits import machine

from snnp_calc import SNNP, fit
from snnp_calc.cli._mpi import launched_ranks
from snnp_calc.dataset import frames_of
from snnp_calc.fitting.driver import split_frames
from snnp_calc.fitting.loss import LossWeights
from snnp_calc.fitting.objective import Objective
from snnp_calc.fitting.start import start_model
from snnp_calc.fitting.training_set import memory_estimate, pack_frames, predict_packed
from snnp_calc.lammps.crosscheck import compute_lammps
from snnp_calc.model.reparam import Reparametrisation

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
TIO = SHARED / "potentials" / "TiO.meam.spline"
ZUO = ("Mo", "Ni", "Cu", "Ge")
TEMPERATURES = (300.0, 900.0, 1500.0)
STRAINS = {"V-2": np.diag([0.98] * 3), "V0": np.eye(3), "V+2": np.diag([1.02] * 3),
           "shear2": np.array([[1.0, 0.02, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])}
N_OXYGEN = 4


def titanium_oxygen_cell(rng):
    """hcp Ti, 5 x 5 x 3 cells (150 atoms), with O on the octahedral sites farthest apart."""
    atoms = bulk("Ti", "hcp", a=2.95, c=4.68).repeat((5, 5, 3))
    # octahedral sites of hcp: midway between the two layers, above the empty triangle
    candidates = []
    for frac in ((2 / 3, 1 / 3, 0.25), (2 / 3, 1 / 3, 0.75)):
        for shift in np.ndindex(5, 5, 3):
            candidates.append((np.array(frac) + shift) / (5, 5, 3))
    sites = atoms.cell.cartesian_positions(np.array(candidates))
    chosen = [int(rng.integers(len(sites)))]
    for _ in range(N_OXYGEN - 1):
        d = np.min([np.linalg.norm(_mic(atoms, sites - sites[k]), axis=1) for k in chosen],
                   axis=0)
        chosen.append(int(np.argmax(d)))
    for k in chosen:
        atoms.append("O")
        atoms.positions[-1] = sites[k]
    return atoms


def _mic(atoms, vectors):
    """Minimum-image vectors in the cell of ``atoms``."""
    s = atoms.cell.scaled_positions(vectors)
    return (s - np.round(s)) @ atoms.cell.array


def trajectory(strain, temperature, seed, n_frames, every=20):
    """Langevin snapshots of Ti-O, labelled by LAMMPS ``meam/spline``."""
    rng = np.random.default_rng(seed)
    atoms = titanium_oxygen_cell(rng)
    atoms.set_cell(atoms.cell.array @ STRAINS[strain], scale_atoms=True)
    atoms.calc = SNNP(str(TIO))
    MaxwellBoltzmannDistribution(atoms, temperature_K=temperature, rng=rng)
    md = Langevin(atoms, 2 * units.fs, temperature_K=temperature, friction=0.02, rng=rng,
                  fixcm=False)
    frames = []
    for _ in range(n_frames):
        md.run(every)
        snap = atoms.copy()
        out = compute_lammps(snap, "meam/spline", TIO, ["Ti", "O"])
        snap.calc = SinglePointCalculator(snap, energy=out["energy"], forces=out["forces"],
                                          stress=out["stress"])
        snap.info["config_type"] = f"TiO_{strain}_{temperature:.0f}K"
        frames.append(snap)
    return frames


def build(workdir, n_frames=20, n_test=5):
    """Write the Ti-O training and test sets into ``workdir`` (once); returns their paths."""
    train, test = workdir / "tio-train.xyz", workdir / "tio-test.xyz"
    if train.exists() and test.exists():
        return train, test
    workdir.mkdir(parents=True, exist_ok=True)
    parts = {train: [], test: []}
    for k, (strain, temperature) in enumerate(
            (s, t) for s in STRAINS for t in TEMPERATURES):
        parts[train] += trajectory(strain, temperature, [k, 0], n_frames)
        parts[test] += trajectory(strain, temperature, [k, 1], n_test)
    for path, frames in parts.items():
        tmp = path.with_suffix(".part")
        write(tmp, frames, format="extxyz")
        os.replace(tmp, path)
    return train, test


def train_paths(workdir):
    return [str(workdir / "tio-train.xyz")] + [str(SHARED / "zuo2020" / e / "train.xyz")
                                               for e in ZUO]


def test_paths(workdir):
    return [str(workdir / "tio-test.xyz")] + [str(SHARED / "zuo2020" / e / "test.xyz")
                                              for e in ZUO]


def stage_setup(workdir, iterations, budget=None):
    """One fit, timed by its progress lines; prints a JSON row."""
    t0 = time.perf_counter()
    frames = frames_of(train_paths(workdir))
    read_s = time.perf_counter() - t0
    stamps = []

    def progress(line):
        stamps.append((time.perf_counter() - t0, line))

    test = frames_of(test_paths(workdir)) if budget else None
    comm = None
    if launched_ranks() > 1:
        from mpi4py import MPI  # only under mpiexec
        comm = MPI.COMM_WORLD
    t1 = time.perf_counter()
    model, report = fit("s-nnp", frames, test, max_iter=10 ** 6 if budget else iterations,
                        max_time=budget, progress=progress, comm=comm)
    rank = comm.Get_rank() if comm else 0
    if rank:
        # rank 0 prints the progress the stages are timed by; the others report memory
        print(json.dumps(dict(stage="rank", rank=rank,
                              peak_MB=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
        return
    packed = next(t for t, line in stamps if line.startswith("fitting "))
    steps = [t for t, line in stamps if line[:6].strip().isdigit()]
    row = dict(stage="setup", rank=rank, atoms=sum(len(f.atoms) for f in frames),
               structures=len(frames), parameters=len(model.to_vector()), read_s=read_s,
               to_packed_s=packed - (t1 - t0) + read_s,
               to_first_iteration_s=steps[0] - (t1 - t0) + read_s,
               iteration_s=float(np.median(np.diff(steps))) if len(steps) > 1 else None,
               iterations=report["iterations"],
               peak_MB=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if budget:
        row.update(seconds=report["seconds"],
                   test={k: v for k, v in report["test"].items()})
    print(json.dumps(row), flush=True)


def stage_lossgrad(workdir):
    """Loss + gradient on the packed set against one inference single point; prints JSON."""
    frames, _ = split_frames(frames_of(train_paths(workdir)), 0.1, 0)
    model = start_model("s-nnp", frames, LossWeights())
    data = pack_frames(frames, model.species, model.cutoff)
    objective = Objective(model, Reparametrisation(model), data, LossWeights())
    u = objective.start()
    loss_s, point_s = [], []
    for _ in range(3):
        t = time.perf_counter()
        objective(u)
        loss_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        predict_packed(model, data)
        point_s.append(time.perf_counter() - t)
    packed = memory_estimate(len(data.species_n), len(data.i_p), data.n_structures, model)
    row = dict(stage="lossgrad", atoms=len(data.species_n), pairs=len(data.i_p),
               packed_MB=packed / 2 ** 20,
               lossgrad_s=float(np.median(loss_s)), single_point_s=float(np.median(point_s)),
               peak_MB=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(row), flush=True)


def run_stage(args, stage, ranks=None, extra=()):
    """Run one stage in a fresh process (under mpiexec with ``ranks``); its JSON rows."""
    cmd = [sys.executable, __file__, "--workdir", str(args.workdir), "--stage", stage,
           "--iterations", str(args.iterations), *extra]
    env = dict(os.environ)
    if ranks:
        mpiexec = Path(sys.executable).parent / "mpiexec"
        cmd = [str(mpiexec), "-n", str(ranks)] + cmd
        # one thread per rank, BLAS included: a rank waiting in a collective step spins
        # on its core, and BLAS threads of another rank competing for it stall (lstsq of
        # the linear start took minutes)
        env.update(NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode:
        sys.exit(f"stage {stage} failed:\n{out.stderr[-3000:]}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def section(rows, command, load):
    """The RESULTS.md section."""
    start, end = markers("fit-scale")
    cpu, cores = machine()
    lines = [start, "## Fitting at scale: >= 100k atoms, six species (issue 13)", "",
             f"- Command: `{command}`",
             f"- Machine: `nproc` = {cores}, {cpu}; load average (1 min) {load[0]:.2f} before, "
             f"{load[1]:.2f} after; {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC", "",
             "| run | atoms | structures | parameters | read (s) | to packed (s) | "
             "to 1st iteration (s) | s / iteration | peak memory (MB) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in rows:
        if r["stage"] != "setup":
            continue
        it = f"{r['iteration_s']:.2f}" if r["iteration_s"] else "-"
        lines.append(f"| {name} | {r['atoms']} | {r['structures']} | {r['parameters']} | "
                     f"{r['read_s']:.1f} | {r['to_packed_s']:.1f} | "
                     f"{r['to_first_iteration_s']:.1f} | {it} | {r['peak_MB']:.0f} |")
    per_rank = {int(name.split()[2].rstrip(",")): r["iteration_s"] for name, r in rows
                if name.startswith("mpiexec -n") and r["iteration_s"]}
    if 1 in per_rank:
        lines += [""] + [f"- {n} ranks against 1 rank (one thread each): "
                         f"{per_rank[1] / t:.2f} x faster per iteration (target for 2 ranks "
                         f">= 1.7): {'met' if per_rank[1] / t >= 1.7 else 'NOT met'}"
                         for n, t in sorted(per_rank.items()) if n > 1]
    for name, r in rows:
        if r["stage"] == "lossgrad":
            lines += ["", f"- One loss + exact gradient on {r['atoms']} atoms ({r['pairs']} "
                      f"pairs): {r['lossgrad_s']:.2f} s, {r['lossgrad_s'] / r['single_point_s']:.1f}"
                      f" x one inference single point of the same atoms "
                      f"({r['single_point_s']:.2f} s); the packed set and its scratch take "
                      f"{r['packed_MB']:.0f} MB ({r['packed_MB'] * 1e5 / r['atoms']:.0f} MB per "
                      f"100k atoms, {r['pairs'] / r['atoms']:.1f} pairs per atom), the whole "
                      f"process at its peak {r['peak_MB']:.0f} MB."]
        if "test" in r:
            t = r["test"]["all"]
            lines += ["", f"- {name}: {r['iterations']} iterations in {r['seconds']:.0f} s; test "
                      f"MAE {t['e_mae']:.2f} meV/atom, {t['f_mae']:.3f} eV/Å (all test sets)."]
    lines += [""] + targets(rows) + [end]
    return "\n".join(lines)


def targets(rows):
    """Verdict lines on the targets of issue 13."""
    got = dict(rows)
    out = []
    serial = got.get("serial, 2 threads")
    if serial:
        for what, value, limit in (("setup to the packed set", serial["to_packed_s"], 30.0),
                                   ("setup to the first iteration", serial["to_first_iteration_s"],
                                    30.0)):
            out.append(f"- {what}: {value:.0f} s (target <= {limit:.0f} s): "
                       f"{'met' if value <= limit else 'NOT met'}")
    grad = got.get("loss+gradient")
    if grad:
        per_100k = grad["lossgrad_s"] * 1e5 / grad["atoms"]
        out.append(f"- loss + gradient: {per_100k:.2f} s per 100k atoms (target <= 2 s): "
                   f"{'met' if per_100k <= 2.0 else 'NOT met'}")
        mem = grad["packed_MB"] * 1e5 / grad["atoms"]
        out.append(f"- packed set: {mem:.0f} MB per 100k atoms (target <= 1000 MB): "
                   f"{'met' if mem <= 1000 else 'NOT met'}")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "snnp-fit-scale")
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--ranks", type=int, nargs="*", default=[])
    parser.add_argument("--budget", type=float, default=None)
    parser.add_argument("--stage", choices=("setup", "lossgrad", "budget"))
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.stage == "setup":
        return stage_setup(args.workdir, args.iterations)
    if args.stage == "budget":
        return stage_setup(args.workdir, args.iterations, budget=args.budget)
    if args.stage == "lossgrad":
        return stage_lossgrad(args.workdir)
    build(args.workdir)
    load_before = os.getloadavg()[0]
    rows = [("serial, 2 threads", r) for r in run_stage(args, "setup")]
    print(rows[-1], file=sys.stderr, flush=True)
    rows += [("loss+gradient", r) for r in run_stage(args, "lossgrad")]
    print(rows[-1], file=sys.stderr, flush=True)
    for ranks in args.ranks:
        got = run_stage(args, "setup", ranks)
        row = next(r for r in got if r["stage"] == "setup")
        row["peak_MB"] = max(r["peak_MB"] for r in got)
        rows.append((f"mpiexec -n {ranks}, 1 thread each (peak of a rank)", row))
        print(rows[-1], file=sys.stderr, flush=True)
    if args.budget:
        rows += [(f"{args.budget:g}-s fit", r) for r in
                 run_stage(args, "budget", extra=("--budget", str(args.budget)))]
    text = section(rows, "python benchmarks/bench_fit_scale.py " + " ".join(sys.argv[1:]),
                   (load_before, os.getloadavg()[0]))
    print(text)
    if args.write:
        write_block(text, *markers("fit-scale"))


if __name__ == "__main__":
    main()
