"""``snnp fit`` under a launcher: how many ranks the environment says were started."""
import pytest

from snnp_calc.cli._mpi import launched_ranks, world


@pytest.mark.parametrize("environ, ranks", [
    ({}, 1),
    ({"PMI_SIZE": "4", "PMI_RANK": "0"}, 4),                 # MPICH / Intel MPI (hydra)
    ({"OMPI_COMM_WORLD_SIZE": "2"}, 2),                      # Open MPI
    ({"SLURM_STEP_NUM_TASKS": "8"}, 8),                      # srun --mpi=pmix
    ({"PMI_SIZE": "1"}, 1),
    ({"PMI_SIZE": "not a number"}, 1),
])
def test_launched_ranks(environ, ranks):
    assert launched_ranks(environ) == ranks


def test_a_plain_process_is_serial(monkeypatch):
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "SLURM_STEP_NUM_TASKS"):
        monkeypatch.delenv(name, raising=False)
    assert world() is None
