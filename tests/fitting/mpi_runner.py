"""Child of the data-parallel tests, one process per MPI rank: ``mpiexec -n R python -m ...``.

Usage: ``python -m tests.fitting.mpi_runner MODE OUT.json`` with MODE

- ``objective``: every rank evaluates the serial :class:`Objective` on all
  frames and the data-parallel one on its block, at the start and at a
  perturbed point; rank 0 writes the largest differences (loss, gradient,
  preconditioner estimate on all structures and on a spread sample, RMSE)
  and the blocks' sizes;
- ``interrupt``: the same fit without an iteration limit, SIGINT sent to rank 1
  alone after 3 s (models written as for ``fit``);
- ``fit``, ``fit-sampled`` (the preconditioner estimated on a sample of
  :data:`SAMPLE_ATOMS` atoms): a data-parallel :func:`snnp_calc.fit` of :func:`setting`; each rank
  writes its model to ``OUT.rank<r>.json`` (the test compares them with each
  other and with the serial fit).
"""
import json
import os
import signal
import sys
import threading

import numpy as np

from snnp_calc import fit, write_model
from snnp_calc.fitting import driver
from snnp_calc.fitting.loss import LossWeights
from snnp_calc.fitting.objective import Objective
from snnp_calc.fitting.parallel import Ranks
from snnp_calc.fitting.training_set import block_of, pack_frames
from snnp_calc.model.reparam import Reparametrisation
from tests.helpers import labelled_frames, small_model

WEIGHTS = LossWeights(energy=1.0, forces=0.01, stress=1e-4, smooth=1e-9, l2=1e-6)
# atoms of the preconditioner's sample in the sampled cases (the 6 training frames hold 84)
SAMPLE_ATOMS = 40


def setting():
    """(truth model, frames, start model) shared by the runner and the serial side of the test."""
    truth = small_model()
    frames = labelled_frames(truth, n=9)
    v = truth.to_vector()
    start = truth.from_vector(v * (1 + 0.05 * np.random.default_rng(1).normal(size=len(v))))
    return truth, frames, start


def objective_differences(comm):
    _, frames, start = setting()
    ranks = Ranks(comm)
    reparam = Reparametrisation(start)
    serial = Objective(start, reparam, pack_frames(frames, start.species, start.cutoff),
                       WEIGHTS)
    part = ranks.block([len(f.atoms) for f in frames])
    mine = pack_frames(frames[part], start.species, start.cutoff, block_of(frames, part))
    sharded = Objective(start, reparam, mine, WEIGHTS, ranks)
    out = dict(n_c=[serial.n_c, sharded.n_c], blocks=ranks.sum([len(mine.frames)]))
    u0 = serial.start()
    u1 = u0 + 1e-2 * np.random.default_rng(2).normal(size=len(u0))
    # the preconditioner on a spread sample of the structures (a few, as on large data)
    driver.PRECONDITIONER_ATOMS = SAMPLE_ATOMS
    sampled = [Objective(start, reparam, o.data, WEIGHTS, o.ranks,
                         driver._preconditioner_sample(frames, o.data))
               for o in (serial, sharded)]
    out["sampled_structures"] = ranks.sum([sampled[1].preconditioner[1].n_structures])
    for name, u in (("start", u0), ("moved", u1)):
        (l_a, g_a), (l_b, g_b) = serial(u), sharded(u)
        d_a, d_b = serial.gauss_newton_diagonal(u, 5), sharded.gauss_newton_diagonal(u, 5)
        s_a, s_b = (o.gauss_newton_diagonal(u, 5) for o in sampled)
        out[name] = dict(
            loss=abs(l_a - l_b) / abs(l_a), grad=float(np.abs(g_a - g_b).max() / np.abs(g_a).max()),
            diag=float(np.abs(d_a - d_b).max() / np.abs(d_a).max()),
            sampled_diag=float(np.abs(s_a - s_b).max() / np.abs(s_a).max()),
            sampled_vs_all=float(np.abs(s_a - d_a).max() / np.abs(d_a).max()),
            rmse=float(np.abs(np.subtract(serial.last_rmse, sharded.last_rmse)).max()),
            grad_norm=float(np.abs(g_a).max()))
    return out


def main():
    # imported here: the serial tests import this module's setting without mpi4py
    from mpi4py import MPI

    mode, out = sys.argv[1], sys.argv[2]
    comm = MPI.COMM_WORLD
    if mode == "objective":
        result = objective_differences(comm)
        if comm.Get_rank() == 0:
            with open(out, "w", encoding="utf-8") as fh:
                json.dump(result, fh)
    elif mode in ("fit", "fit-sampled"):
        if mode == "fit-sampled":
            driver.PRECONDITIONER_ATOMS = SAMPLE_ATOMS
        _, frames, start = setting()
        model, report = fit(start, frames, weights=WEIGHTS, max_iter=25, validation=0.34,
                            patience=10 ** 6, max_time=None, progress=None, comm=comm)
        write_model(model, f"{out}.rank{comm.Get_rank()}.json")
    elif mode == "interrupt":
        # Ctrl-C reaches rank 1 alone, mid-fit: every rank must stop at the same iteration
        _, frames, start = setting()
        if comm.Get_rank() == 1:
            threading.Timer(3.0, os.kill, (os.getpid(), signal.SIGINT)).start()
        model, report = fit(start, frames, weights=WEIGHTS, max_iter=10 ** 6, validation=0.34,
                            patience=10 ** 6, max_time=120.0, progress=None, comm=comm)
        write_model(model, f"{out}.rank{comm.Get_rank()}.json")
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
