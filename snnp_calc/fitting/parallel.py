"""Data-parallel fitting: the training structures split over MPI ranks, sums added in rank order.

The loss is a sum over structures (:mod:`snnp_calc.fitting.loss`), and so are
its gradient, the products ``J^T u`` of the preconditioner estimate, the
stress offsets' gradient and the error sums of the reports. Each rank packs
one contiguous block of the structures (:meth:`Ranks.block`, balanced by atom
count) and computes its partial sums; :meth:`Ranks.sum` gathers the partial
sums of every rank on every rank and adds them in rank order. So every rank
holds the same bits of the loss and gradient, whatever reduction algorithm
the MPI library would pick, runs the same optimiser steps, and no
parameters are ever sent: per evaluation each rank sends one vector of the
parameter count (plus a few scalars) and receives one from each other rank.
This is the scheme of FitSNAP and KLIFF (data parallelism over
configurations).

:class:`Ranks` wraps an ``mpi4py`` communicator (e.g. ``MPI.COMM_WORLD``),
or nothing: ``Ranks(None)`` is the serial fit, which never imports mpi4py.

Scaling model. With N ranks an iteration costs about ``T_1 / N`` (the
kernels' work, balanced by atoms) plus ``(N - 1)`` messages of ``8 n_par``
bytes each way (an allgather; n_par ~ 10^3-10^4, so ~10-100 kB) plus the
optimiser's own ``O(m n_par)`` step, which every rank repeats. Until ``T_1 /
N`` falls to the latency of the allgather (tens of µs per rank on one node,
~1 ms across a cluster) the speed-up is nearly linear; the setup before the
first iteration (reading the files, the preset's starting model on rank 0)
does not shrink with N.
"""
import signal
import sys

import numpy as np


class Ranks:
    """The processes of one fit: this one's rank, their number, and the collective steps.

    Parameters
    ----------
    comm : mpi4py.MPI.Comm or None
        None (or a communicator of size 1): a serial fit.
    """

    def __init__(self, comm=None):
        self.comm = comm
        self.rank = comm.Get_rank() if comm is not None else 0
        self.size = comm.Get_size() if comm is not None else 1

    @property
    def root(self):
        """Whether this is rank 0, the one that reports and writes files."""
        return self.rank == 0

    def on_node(self):
        """How many ranks share this rank's node (its memory); 1 for a serial fit."""
        if self.size == 1:
            return 1
        # optional dependency: a communicator was given, so mpi4py is installed
        from mpi4py import MPI
        return self.comm.Split_type(MPI.COMM_TYPE_SHARED).Get_size()

    def abort(self, error):
        """End every rank now, after ``error`` met this rank alone outside a collective step
        (the others would wait for it for ever)."""
        print(f"rank {self.rank} of {self.size}: {type(error).__name__}: {error}; aborting "
              "all ranks", file=sys.stderr, flush=True)
        self.comm.Abort(1)

    def sum(self, value):
        """The sum over ranks of ``value`` (a number or an array), in rank order, on every rank."""
        if self.size == 1:
            return value
        parts = self.comm.allgather(value)
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return total

    def share(self, value):
        """Rank 0's ``value``, on every rank."""
        return value if self.size == 1 else self.comm.bcast(value, root=0)

    def gather(self, items):
        """The lists ``items`` of all ranks joined in rank order, on rank 0 (None elsewhere)."""
        if self.size == 1:
            return list(items)
        parts = self.comm.gather(list(items), root=0)
        return [x for part in parts for x in part] if self.root else None

    def block(self, sizes):
        """The slice of items (structures, in order) that this rank owns.

        Contiguous blocks with about equal sums of ``sizes`` (atoms per
        structure): block r starts at the first item whose cumulative size,
        counted to its middle, reaches r / size of the total; with at least as
        many items as ranks, every block holds at least one.
        """
        sizes = np.asarray(sizes, float)
        n = len(sizes)
        if self.size == 1 or n == 0:
            return slice(0, n)
        middle = (np.cumsum(sizes) - 0.5 * sizes) / sizes.sum()
        starts = [0] + list(np.searchsorted(middle, np.arange(1, self.size) / self.size)) + [n]
        if n >= self.size:
            for r in range(1, self.size):
                starts[r] = max(starts[r], starts[r - 1] + 1)
            for r in range(self.size - 1, 0, -1):
                starts[r] = min(starts[r], starts[r + 1] - 1)
        return slice(int(starts[self.rank]), int(starts[self.rank + 1]))

    def together(self, step, *args, **kwargs):
        """``step(*args, **kwargs)`` on every rank; if it raised on any, raise on all.

        A rank that meets bad data (a frame with coincident atoms in its
        block, say) must not leave the others waiting in the next collective
        step: every rank learns of the failure and raises it, naming the rank.
        """
        try:
            result, failure = step(*args, **kwargs), None
        except Exception as err:  # re-raised below, on every rank
            result, failure = None, err
        if self.size == 1:
            if failure is not None:
                raise failure
            return result
        reports = self.comm.allgather(None if failure is None else
                                      (type(failure).__name__, str(failure)))
        failed = [(r, report) for r, report in enumerate(reports) if report is not None]
        if failure is not None:
            raise failure
        if failed:
            rank, (kind, text) = failed[0]
            raise ValueError(f"rank {rank} of {self.size} failed ({kind}): {text}")
        return result


class Interrupts:
    """Ctrl-C during a data-parallel fit, as a flag the ranks agree on (a context manager).

    ``mpiexec`` forwards SIGINT to every rank, but each would raise
    ``KeyboardInterrupt`` at another point of its work, and their collective
    steps would no longer pair up. Inside this context SIGINT only sets
    :attr:`seen`; the tracker adds the flags of all ranks once per iteration
    and every rank stops at the same one. Serial fits keep Python's handler.
    """

    def __init__(self, ranks):
        self.ranks, self.seen, self._previous = ranks, False, None

    def _note(self, signum, frame):
        self.seen = True

    def __enter__(self):
        if self.ranks.size > 1:
            self._previous = signal.signal(signal.SIGINT, self._note)
        return self

    def __exit__(self, *exc):
        if self.ranks.size > 1:
            signal.signal(signal.SIGINT, self._previous)
        return False

