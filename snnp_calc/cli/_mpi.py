"""MPI for ``snnp fit`` run under ``mpiexec``: the world communicator, if there are several ranks.

``mpiexec -n 4 snnp fit ...`` starts four processes; each learns from its
launcher's environment that it is one of several (MPICH's and Intel MPI's
``PMI_SIZE``, Open MPI's ``OMPI_COMM_WORLD_SIZE``, ``srun``'s
``SLURM_STEP_NUM_TASKS``), and only then imports
``mpi4py``, so that a serial fit never needs it. Unless ``NUMBA_NUM_THREADS``
says otherwise, the ranks on one node share its cores: each gets
``cores // ranks on the node`` Numba threads (at least one; the cores this
process may run on), as a hybrid
MPI + OpenMP code would. BLAS threads cannot be set once NumPy is loaded:
give the ranks ``OMP_NUM_THREADS=1`` (README, *Fitting*).
"""
import os

import numba

# launcher variables that hold the number of ranks (MPICH/Intel MPI, Open MPI, Slurm's srun)
SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "SLURM_STEP_NUM_TASKS")


def launched_ranks(environ=os.environ):
    """The number of MPI ranks the launcher started (1 outside ``mpiexec``)."""
    sizes = [int(environ[v]) for v in SIZE_VARIABLES if environ.get(v, "").strip().isdigit()]
    return max(sizes, default=1)


def world():
    """``mpi4py.MPI.COMM_WORLD`` when this process is one of several ranks, else None.

    Raises
    ------
    ValueError
        Under ``mpiexec`` with several ranks when mpi4py is not installed.
    """
    size = launched_ranks()
    if size <= 1:
        return None
    try:
        # optional dependency: only data-parallel fits need it
        from mpi4py import MPI
    except ImportError as err:
        raise ValueError(f"snnp fit was started as {size} MPI ranks, but mpi4py is not "
                         "installed; pip install mpi4py (or run one process)") from err
    comm = MPI.COMM_WORLD
    if comm.Get_size() == 1:
        return None    # a launcher variable without a parallel launch (a serial srun step)
    if "NUMBA_NUM_THREADS" not in os.environ:
        on_node = comm.Split_type(MPI.COMM_TYPE_SHARED).Get_size()
        cores = len(os.sched_getaffinity(0))
        numba.set_num_threads(max(1, min(numba.config.NUMBA_NUM_THREADS, cores // on_node)))
    return comm
