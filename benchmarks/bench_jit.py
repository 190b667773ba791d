"""The first calculation of a process: with an empty Numba cache (cold) and a filled one (warm).

Each figure is the wall time of a fresh Python process that imports
snnp_calc and computes the energy, forces and stress of an 8-atom Mo cell
with the shipped ``Mo-s-nnp`` model (``import`` included), with
``NUMBA_CACHE_DIR`` pointing at a new, empty folder (cold: the kernels
compile), then again at the same folder (warm: they load from the cache);
and the time of ``snnp warmup`` on an empty cache. Medians of ``--rounds``.

Usage (from the repository root)::

    python benchmarks/bench_jit.py [--rounds 3] [--write]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from _results import markers, write_block
from bench_inference import machine

FIRST_CALL = ("from ase.build import bulk; from snnp_calc import SNNP; "
              "a = bulk('Mo', 'bcc', 3.16, cubic=True).repeat((2, 1, 1)); "
              "a.calc = SNNP('Mo-s-nnp'); a.get_forces(); a.get_stress()")
WARMUP = "from snnp_calc.cli import main; main(['warmup'])"


def timed(code, cache):
    """Wall time (s) of a fresh process running ``code`` with its Numba cache in ``cache``."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def measure(rounds):
    rows = {"first call, cold cache": [], "first call, warm cache": [],
            "snnp warmup, cold cache": [], "import only": []}
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as cache:
            rows["first call, cold cache"].append(timed(FIRST_CALL, cache))
            rows["first call, warm cache"].append(timed(FIRST_CALL, cache))
        with tempfile.TemporaryDirectory() as cache:
            rows["snnp warmup, cold cache"].append(timed(WARMUP, cache))
            rows["import only"].append(timed("import snnp_calc", cache))
    return {name: statistics.median(times) for name, times in rows.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    before = os.getloadavg()[0]
    rows = measure(args.rounds)
    after = os.getloadavg()[0]
    start, end = markers("jit")
    lines = [start, "## First call of a process: Numba compilation, cold and warm", "",
             "- Command (from the repository root): `python benchmarks/bench_jit.py "
             + " ".join(argv if argv is not None else sys.argv[1:]) + "`",
             f"- Machine: `nproc` = {machine()[1]}, {machine()[0]}; load average (1 min) "
             f"{before:.2f} before, {after:.2f} after",
             f"- Wall time of a fresh process (import included), median of {args.rounds}; "
             "8-atom Mo cell, shipped Mo-s-nnp, energy + forces + stress", "",
             "| what | s |", "|---|---:|"]
    lines += [f"| {name} | {seconds:.1f} |" for name, seconds in rows.items()]
    lines.append(end)
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_block(text, start, end)


if __name__ == "__main__":
    main()
