"""Fuzzing the model file readers: Python (JSON, meam/spline) and the LAMMPS plugin (JSON).

Seeded random mutants (:mod:`tests.io.mutations`) of four small model files:
a two-species s-NNP (MLP readout), a two-species s-MEAM with a ZBL core, a
two-species s-NNP with Legendre filters (all three JSON) and a two-species
s-MEAM as a meam/spline file. Each mutant must either
load, and then give finite energy and forces on a 16-atom Mo-Ni cell, or be
refused with :class:`~snnp_calc.errors.ModelFileError` naming the file
(Python) or with a LAMMPS ``ERROR`` naming the file (``pair_style snnp``). It
must never crash, hang or give NaN, and both readers must accept the same
JSON files, with the same energy and forces (round-off).

The plugin reads JSON only, so every JSON mutant goes to it, and of the
meam/spline mutants those Python loads go to it converted to JSON (unless
their radial splines do not end at zero, which the JSON format refuses and
meam/spline allows). The plugin runs in child processes
(:mod:`tests.io.plugin_runner`), one LAMMPS instance per mutant, which log
each mutant before they run it: a mutant that kills or hangs a child is
named, and a new child goes on after it.
"""
import json
import math
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from ase.build import bulk
from ase.data import atomic_numbers

from snnp_calc import read_model, write_model
from snnp_calc.errors import ModelFileError
from snnp_calc.evaluate import evaluate
from snnp_calc.model.core import ZBLCore
from snnp_calc.model.initial import initial_model
from snnp_calc.model.model import Model
from tests.io.mutations import mutate_json, mutate_meam

SEED = 20240611
# mutants per base file, 4000 in all: about 30 s on two busy cores
COUNTS = {"mlp.json": 1100, "core.json": 800, "legendre.json": 900, "smeam.meam.spline": 1200}
SIDE = 6.3    # Å, the cubic cell of the 16-atom test structure
ROOT = Path(__file__).resolve().parents[2]
# agreement of the plugin with Python on a mutant both load, relative to the largest value
TOLERANCE = 1e-9


def base_models():
    """``{file name: Model}`` of the four files that are mutated."""
    mlp = initial_model(["Mo", "Ni"], 4.6, n_rho=2, n_triplet=2, hidden=(3,), noise=0.1, seed=1)
    smeam = initial_model(["Mo", "Ni"], 4.6, n_rho=1, n_triplet=1, n_knots=6,
                          n_knots_angular=5, readout="spline", noise=0.1, seed=2)
    core = Model(smeam.species, smeam.rho, smeam.f, smeam.g, smeam.phi, smeam.readout,
                 [-1.5, -2.0], {"note": "fuzz base"}, ZBLCore(1.2, 2.0))
    legendre = initial_model(["Mo", "Ni"], 4.6, n_rho=1, n_triplet=0, n_legendre=2, degree=3,
                             n_knots=5, hidden=(2,), noise=0.1, seed=4, legendre_cutoff=4.0)
    return {"mlp.json": mlp, "core.json": core, "legendre.json": legendre,
            "smeam.meam.spline": smeam}


def structure():
    """Positions (16, 3) in a periodic 6.3 Å cube, and LAMMPS atom types 1, 2."""
    atoms = bulk("Mo", "bcc", SIDE / 2, cubic=True).repeat(2)
    atoms.rattle(0.1, seed=3)
    return atoms.positions, [1, 2] * 8


def elements_of(species):
    """Elements of LAMMPS types 1 and 2 for a model of ``species`` (the plugin runner's rule)."""
    return [species[0], species[-1]]


def python_result(path):
    """``("loaded", energy, forces, model)`` or ``("rejected", message)`` for ``path``.

    A loaded model whose prediction overflows (evaluate refuses non-finite
    results) gets energy None and the message in place of the forces.
    """
    try:
        model = read_model(path)
    except ModelFileError as err:
        return ("rejected", str(err))
    positions, types = structure()
    elements = elements_of(model.species)
    numbers = [atomic_numbers[elements[t - 1]] for t in types]
    try:
        out = evaluate(model, numbers, positions, np.eye(3) * SIDE, [True] * 3)
    except ValueError as err:
        return ("loaded", None, str(err), model)
    return ("loaded", out["energy"], out["forces"], model)


def make_mutants(folder):
    """``[(index, path, base name, description)]`` of every mutant, written to ``folder``."""
    rng = np.random.default_rng(SEED)
    mutants = []
    for name, model in base_models().items():
        base = folder / name
        write_model(model, base)
        data = base.read_bytes()
        mutate = mutate_meam if name.endswith(".spline") else mutate_json
        for _ in range(COUNTS[name]):
            text, what = mutate(rng, data)
            index = len(mutants)
            path = folder / f"m{index:04d}_{name}"
            path.write_bytes(text)
            mutants.append((index, path, name, what))
    return mutants


def _wait(child, log, stall):
    """Wait for ``child``; kill it when ``log`` has not grown for ``stall`` seconds (a hang)."""
    size, since = -1, time.monotonic()
    while child.poll() is None:
        now_size = log.stat().st_size if log.exists() else 0
        if now_size != size:
            size, since = now_size, time.monotonic()
        elif time.monotonic() - since > stall:
            child.kill()
            child.wait()
            return f"a hang (no progress for {stall:g} s)"
        time.sleep(0.05)
    return f"exit status {child.returncode}"


def run_plugin(plugin, files, folder, stall=20.0):
    """Results of ``pair_style snnp`` on ``[(index, path)]``, and the mutants that killed a child.

    Returns
    -------
    results : dict
        index -> result line of :mod:`tests.io.plugin_runner`.
    deaths : list of (index, str)
        A mutant whose run ended its child (exit status or signal) or hung it.
    """
    positions, types = structure()
    results, deaths, todo = {}, [], list(files)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    while todo:
        job, log = folder / "job.json", folder / f"results{len(deaths)}.jsonl"
        err = folder / f"stderr{len(deaths)}.txt"
        log.unlink(missing_ok=True)    # the runner appends
        job.write_text(json.dumps({"plugin": str(plugin), "files": [[i, str(p)] for i, p in todo],
                                   "cell": SIDE, "positions": positions.tolist(),
                                   "types": types}))
        with open(err, "wb") as stderr:
            child = subprocess.Popen([sys.executable, "-m", "tests.io.plugin_runner", str(job),
                                      str(log)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                     stderr=stderr)
            status = _wait(child, log, stall)
        started = None
        for line in log.read_text().splitlines() if log.exists() else ():
            entry = json.loads(line)
            if "start" in entry:
                started = entry["start"]
            else:
                results[entry["index"]] = entry
                started = None
        if child.returncode == 0 and all(i in results for i, _ in todo):
            break
        tail = err.read_text(errors="replace")[-300:]
        if started is None:    # the child died before it started any mutant
            raise RuntimeError(f"plugin runner failed ({status}): {tail}")
        deaths.append((started, f"{status}: {tail}"))
        todo = todo[[i for i, _ in todo].index(started) + 1:]
    return results, deaths


def _close(a, b, scale):
    return abs(a - b) <= TOLERANCE * max(1.0, scale)


def _python_problem(path, mine):
    """What is wrong with Python's outcome ``mine`` for ``path``, or None."""
    if mine[0] == "rejected":
        return None if mine[1].startswith(f"{path}:") else (
            f"Python's message does not name the file: {mine[1]}")
    if mine[1] is None:
        return None if "non-finite" in mine[2] else f"Python cannot evaluate it: {mine[2]}"
    if not (math.isfinite(mine[1]) and np.isfinite(mine[2]).all()):
        return "Python gives non-finite energy or forces"
    return None


def _plugin_outcome(path, mine, theirs):
    """``(plugin loaded the file, problem or None)`` given Python's outcome ``mine``."""
    parsed = theirs["loaded"] or f"snnp model file {path}: " not in theirs["error"]
    if parsed != (mine[0] == "loaded"):
        python = f"rejected it ({mine[1]})" if mine[0] == "rejected" else "loaded it"
        return parsed, (f"disagreement: Python {python}, the plugin "
                        f"{'loaded' if parsed else 'rejected'} it ({theirs['error']})")
    if not parsed:
        return parsed, None
    if mine[1] is None:    # Python refused to evaluate an overflowing prediction
        if theirs["loaded"] or "gives a non-finite energy or force" not in theirs["error"]:
            return parsed, (f"Python's prediction overflows ({mine[2]}), the plugin's does "
                            f"not ({theirs['error']})")
        return parsed, None
    if not theirs["loaded"]:
        return parsed, f"LAMMPS error after loading: {theirs['error']}"
    if not theirs["finite"]:
        return parsed, "the plugin gives non-finite energy or forces"
    scale = np.abs(mine[2]).max()
    if not (_close(theirs["energy"], mine[1], abs(mine[1])) and all(
            _close(a, b, scale) for a, b in zip(np.ravel(theirs["forces"]), mine[2].ravel()))):
        return parsed, f"the plugin's energy {theirs['energy']!r} differs from Python's {mine[1]!r}"
    return parsed, None


def compare(mutants, py, lmp, deaths):
    """Counts of the outcomes of every mutant, and the failures."""
    counts = dict.fromkeys(["mutants", "python loaded", "python rejected", "plugin run",
                            "plugin loaded", "plugin rejected", "meam not JSON-expressible",
                            "loaded but overflowing", "disagreements"], 0)
    failures = [f"mutant {i} killed the plugin: {why}" for i, why in deaths]
    dead = {i for i, _ in deaths}
    for index, path, _, what in mutants:
        mine, theirs = py[index], lmp.get(index)
        label = f"mutant {index} ({what}, {path.name})"
        counts["mutants"] += 1
        counts["python " + mine[0]] += 1
        counts["loaded but overflowing"] += mine[0] == "loaded" and mine[1] is None
        problem = _python_problem(path, mine)
        if problem:
            failures.append(f"{label}: {problem}")
        if theirs is None:    # a meam/spline mutant Python refused, or one JSON cannot hold
            counts["meam not JSON-expressible"] += mine[0] == "loaded" and index not in dead
            continue
        counts["plugin run"] += 1
        parsed, problem = _plugin_outcome(path.with_suffix(".json"), mine, theirs)
        counts["plugin loaded" if parsed else "plugin rejected"] += 1
        if problem:
            counts["disagreements"] += problem.startswith("disagreement")
            failures.append(f"{label}: {problem}")
    return counts, failures


def as_json(path, model):
    """Write a loaded meam/spline mutant as JSON beside it; False if JSON cannot hold it."""
    try:
        write_model(model, path.with_suffix(".json"))
    except ValueError:    # a radial spline that does not end at zero (allowed in meam/spline)
        return False
    return True


def test_fuzz_model_files(tmp_path, capsys, plugin):
    mutants = make_mutants(tmp_path)
    py = {}
    # meam/spline first: those Python loads join the JSON mutants in the plugin's run
    for index, path, name, _ in mutants:
        if name.endswith(".spline"):
            py[index] = python_result(path)
    to_plugin = [(i, p) for i, p, name, _ in mutants if name.endswith(".json")]
    to_plugin += [(i, p.with_suffix(".json")) for i, p, name, _ in mutants
                  if name.endswith(".spline") and py[i][0] == "loaded" and as_json(p, py[i][3])]
    # the plugin's children run while this process reads the JSON mutants
    with ThreadPoolExecutor(max_workers=1) as pool:
        plugin_run = pool.submit(run_plugin, plugin, to_plugin, tmp_path)
        for index, path, name, _ in mutants:
            if name.endswith(".json"):
                py[index] = python_result(path)
        lmp, deaths = plugin_run.result()
    counts, failures = compare(mutants, py, lmp, deaths)
    with capsys.disabled():
        print("\nfuzz of model files: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    assert counts["mutants"] == sum(COUNTS.values())
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:30])
