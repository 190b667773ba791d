"""Data-parallel fitting: blocks of structures, and 2 MPI ranks against one process.

The MPI tests run ``tests/fitting/mpi_runner.py`` under this venv's
``mpiexec`` (pip ``mpich``) with one Numba thread per rank.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ase.io import write

from snnp_calc import fit, read_model, write_model
from snnp_calc.fitting import driver
from snnp_calc.fitting.parallel import Ranks
from tests.fitting.mpi_runner import SAMPLE_ATOMS, WEIGHTS, setting
from tests.helpers import require_module, unavailable

ROOT = Path(__file__).resolve().parents[2]
MPIEXEC = Path(sys.executable).parent / "mpiexec"


class _Place:
    """A stand-in communicator that only knows its rank and size (for :meth:`Ranks.block`)."""

    def __init__(self, rank, size):
        self.rank, self.size = rank, size

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.size


def blocks(sizes, n_ranks):
    return [Ranks(_Place(r, n_ranks)).block(sizes) for r in range(n_ranks)]


@pytest.mark.parametrize("n_ranks", [2, 3, 4, 7])
@pytest.mark.parametrize("n", [7, 10, 250])
def test_blocks_are_contiguous_nonempty_and_balanced(n_ranks, n):
    sizes = np.random.default_rng(n * n_ranks).integers(1, 300, n)
    if n < n_ranks:
        pytest.skip("fewer structures than ranks: the next test")
    parts = blocks(sizes, n_ranks)
    assert parts[0].start == 0 and parts[-1].stop == n
    assert all(a.stop == b.start for a, b in zip(parts, parts[1:]))
    assert all(p.stop > p.start for p in parts)
    loads = [sizes[p].sum() for p in parts]
    assert max(loads) <= sizes.sum() / n_ranks + sizes.max()


def test_one_huge_structure_does_not_empty_a_block():
    sizes = [1, 1, 5000, 1, 1, 5000]
    parts = blocks(sizes, 4)
    assert [p.stop - p.start for p in parts] and all(p.stop > p.start for p in parts)
    assert parts[-1].stop == len(sizes)


def test_fewer_structures_than_ranks_leave_blocks_empty():
    parts = blocks([5, 3], 4)
    assert sum(p.stop - p.start for p in parts) == 2
    assert sorted(k for p in parts for k in range(p.start, p.stop)) == [0, 1]


def test_serial_ranks_pass_values_through():
    ranks = Ranks()
    assert (ranks.rank, ranks.size, ranks.root) == (0, 1, True)
    x = np.arange(3.0)
    assert ranks.sum(x) is x and ranks.share("a") == "a" and ranks.gather([1, 2]) == [1, 2]
    assert ranks.block([1, 2, 3]) == slice(0, 3)
    assert ranks.together(lambda a, b: a + b, 1, b=2) == 3
    with pytest.raises(KeyError, match="boom"):
        ranks.together(lambda: {}["boom"])


@pytest.fixture(scope="module")
def mpiexec():
    require_module("mpi4py")
    if not MPIEXEC.exists():
        unavailable(f"no {MPIEXEC} (pip mpich provides it)")
    return str(MPIEXEC)


def run_ranks(mpiexec, n_ranks, args, timeout=600):
    """Run ``args`` (after ``python``) on ``n_ranks`` MPI ranks from the project root."""
    env = dict(os.environ, NUMBA_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return subprocess.run([mpiexec, "-n", str(n_ranks), sys.executable, *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout)


def test_two_ranks_evaluate_the_serial_objective(mpiexec, tmp_path):
    """Loss, gradient, preconditioner estimate and RMSE of 2 blocks equal the serial ones."""
    out = tmp_path / "objective.json"
    done = run_ranks(mpiexec, 2, ["-m", "tests.fitting.mpi_runner", "objective", str(out)])
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(out.read_text())
    assert len(got["blocks"]) == 2 and min(got["blocks"]) > 0 and sum(got["blocks"]) == 9
    assert got["n_c"][0] == got["n_c"][1] > 0
    for point in ("start", "moved"):
        d = got[point]
        assert d["grad_norm"] > 0
        for key in ("loss", "grad", "diag", "sampled_diag", "rmse"):
            assert d[key] <= 1e-12, (point, key, d[key])
        assert d["sampled_vs_all"] > 1e-3       # the sample is not all structures
    # both ranks see the same sample, a few of the 9 structures
    n_sampled = got["sampled_structures"]
    assert len(n_sampled) == 2 and n_sampled[0] == n_sampled[1] and 0 < n_sampled[0] < 9


@pytest.mark.parametrize("mode", ["fit", "fit-sampled"])
def test_two_ranks_fit_the_serial_model(mpiexec, tmp_path, monkeypatch, mode):
    if mode == "fit-sampled":
        monkeypatch.setattr(driver, "PRECONDITIONER_ATOMS", SAMPLE_ATOMS)
    out = tmp_path / "model"
    done = run_ranks(mpiexec, 2, ["-m", "tests.fitting.mpi_runner", mode, str(out)])
    assert done.returncode == 0, done.stderr[-3000:]
    rank0, rank1 = (read_model(f"{out}.rank{r}.json") for r in (0, 1))
    # every rank ran the same optimiser steps on the same sums
    np.testing.assert_array_equal(rank0.to_vector(), rank1.to_vector())
    _, frames, start = setting()
    serial, _ = fit(start, frames, weights=WEIGHTS, max_iter=25, validation=0.34,
                    patience=10 ** 6, max_time=None, progress=None)
    x_serial, x_mpi, x_start = serial.to_vector(), rank0.to_vector(), start.to_vector()
    assert np.abs(x_serial - x_start).max() > 1e-3      # the fit moved
    assert np.abs(x_mpi - x_serial).max() <= 1e-9 * np.abs(x_serial).max()
    assert rank0.metadata["fit"]["iterations"] == serial.metadata["fit"]["iterations"] == 25


def test_ctrl_c_on_one_rank_stops_every_rank_at_one_iteration(mpiexec, tmp_path):
    out = tmp_path / "model"
    done = run_ranks(mpiexec, 2, ["-m", "tests.fitting.mpi_runner", "interrupt", str(out)])
    assert done.returncode == 0, done.stderr[-3000:]
    rank0, rank1 = (read_model(f"{out}.rank{r}.json") for r in (0, 1))
    meta = rank0.metadata["fit"]
    assert meta["stopped"].startswith("interrupted (Ctrl-C)")
    assert meta["iterations"] > 1 and meta == rank1.metadata["fit"]
    np.testing.assert_array_equal(rank0.to_vector(), rank1.to_vector())


def test_bad_frame_on_one_rank_stops_every_rank(mpiexec, tmp_path):
    """Coincident atoms in rank 1's block: both ranks end with the error, nothing written."""
    _, frames, start = setting()
    write_model(start, tmp_path / "start.json")
    images = []
    for f in frames:
        atoms = f.atoms.copy()
        atoms.info["energy"] = f.energy
        atoms.arrays["forces"] = f.forces
        images.append(atoms)
    images[-1].positions[1] = images[-1].positions[0]
    write(tmp_path / "bad.xyz", images, format="extxyz")
    cli = "import sys; from snnp_calc.cli import main; sys.exit(main())"
    done = run_ranks(mpiexec, 2, ["-c", cli, "fit", "--train", str(tmp_path / "bad.xyz"),
                                  "--resume", str(tmp_path / "start.json"), "--validation", "0",
                                  "--out", str(tmp_path / "out.json")], timeout=300)
    assert done.returncode != 0
    # the ranks' lines may interleave on the shared stderr: count the messages
    errors = done.stderr.split("snnp: error: ")[1:]
    assert len(errors) == 2, done.stderr[-3000:]
    assert all("bad.xyz:8: atoms closer than" in e for e in errors)
    assert sum(e.startswith("rank 1 of 2 failed") for e in errors) == 1
    assert not (tmp_path / "out.json").exists()


def test_a_serial_fit_never_imports_mpi4py():
    script = ("import sys\n"
              "from snnp_calc import fit\n"
              "from tests.fitting.mpi_runner import WEIGHTS\n"
              "from tests.helpers import labelled_frames\n"
              "from snnp_calc.model.initial import initial_model\n"
              "m = initial_model(['Mo', 'Ni'], 4.4, r_min=1.9, n_rho=1, n_triplet=1, n_knots=5,"
              " n_knots_angular=4, hidden=(2,), seed=3)\n"
              "fit(m, labelled_frames(m, n=3), weights=WEIGHTS, max_iter=2, validation=0.0,"
              " progress=None)\n"
              "print('mpi4py' in sys.modules)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_what_ranks_cannot_do_is_refused_before_any_work():
    _, frames, _ = setting()
    two = Ranks(_Place(0, 2))
    with pytest.raises(ValueError, match="method 'lsq' runs on one process"):
        driver._check_ranks(two, "lsq", frames, [])
    with pytest.raises(ValueError, match="1 training structures cannot be shared by 2 MPI ranks"):
        driver._check_ranks(two, "lbfgs", frames[:1], [])
    with pytest.raises(ValueError, match="1 validation structures cannot be shared by 2"):
        driver._check_ranks(two, "lbfgs", frames[1:], frames[:1])
    driver._check_ranks(two, "lbfgs", frames[1:], [])       # no validation: fine
    driver._check_ranks(Ranks(), "lsq", frames[:1], [])     # serial: anything goes
