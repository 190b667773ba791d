"""The example scripts run and print what they promise (smoke tests)."""
import importlib
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms

from snnp_calc import read_model
from snnp_calc.dataset import Frame, read_frames
from snnp_calc.model.initial import initial_model
from tests.helpers import require_module

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(name, *args):
    out = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_relax():
    out = run("relax.py")
    line = [l for l in out.splitlines() if l.startswith("relaxed")][0]
    a = float(line.split("a = ")[1].split()[0])
    assert 3.10 < a < 3.22, line


def test_dimer():
    out = run("dimer.py")
    rows = [l.split() for l in out.splitlines()[1:]]
    energies = [float(r[1]) for r in rows]
    assert abs(energies[-1]) < 1e-12 and len(rows) == 60


def test_md_nve():
    out = run("md_nve.py", "--steps", "500")
    drift = float(out.strip().splitlines()[-1].split(":")[1].split()[0])
    assert abs(drift) < 1e-4


def test_fit_quick(zuo_dir, tmp_path):
    out = run("fit_quick.py", str(zuo_dir / "Mo" / "test.xyz"), "--out",
              str(tmp_path / "q.json"), "--seconds", "15")
    mae = float(out.split("energy ")[1].split()[0])
    assert mae < 50 and (tmp_path / "q.json").exists()


# --- issue 5: architecture ladder and committee uncertainty (markdown table + PNG) ---

SMOKE = ("--elements", "Mo", "--max-structures", "6", "--max-time", "3")


def example_module(name, monkeypatch):
    """Import an example script as a module (its helpers sit next to it)."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    return importlib.import_module(name)


def table_rows(markdown):
    """The cells of each body row of the (only) markdown table in ``markdown``."""
    lines = [l for l in markdown.splitlines() if l.startswith("|")]
    return [[c.strip() for c in l.strip("|").split("|")] for l in lines[2:]]


def assert_png(path):
    image = require_module("matplotlib.image").imread(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.ndim == 3 and min(image.shape[:2]) > 200 and image.std() > 0


def test_architecture_ladder(zuo_dir, tmp_path):
    require_module("matplotlib")
    out = run("architecture_ladder.py", *SMOKE, "--rungs", "s-MEAM", "2+2 MLP", "--data",
              str(zuo_dir), "--out", str(tmp_path))
    text = (tmp_path / "ladder.md").read_text()
    rows = table_rows(text)
    assert [r[:3] for r in rows] == [["Mo", "s-MEAM", "spline U"],
                                     ["Mo", "2+2 MLP", "MLP 16x16 softplus"],
                                     ["Mo", "s-MEAM 2020 (published)", "spline U"]]
    assert 0 < int(rows[0][3]) < int(rows[1][3])          # parameters
    assert rows[2][7:] == ["–", "–"]                      # not fitted here
    assert "- Mo: MTP 2.94 meV/atom, 0.090 eV/Å" in text
    for row in rows:
        e_mae, f_mae, us_per_atom = map(float, row[4:7])
        assert 0 < e_mae < 1e4 and 0 < f_mae < 100 and 0 < us_per_atom < 1e4
    assert "--rungs s-MEAM '2+2 MLP'" in text and "Numba" in text
    assert "| Mo | 2+2 MLP |" in out
    assert_png(tmp_path / "ladder.png")


def test_committee_uncertainty(zuo_dir, tmp_path):
    require_module("matplotlib")
    out = run("committee_uncertainty.py", *SMOKE, "--members", "2", "--data", str(zuo_dir),
              "--out", str(tmp_path))
    rows = table_rows((tmp_path / "committee.md").read_text())
    assert len(rows) == 1 and rows[0][:2] == ["Mo", "2"]
    e_mae, e_member, f_mae, f_member, rho_e, rho_f = map(float, rows[0][2:8])
    assert 0 < e_mae < 1e4 and 0 < e_member < 1e4 and 0 < f_mae < 100 and 0 < f_member < 100
    assert -1 <= rho_e <= 1 and -1 <= rho_f <= 1
    test = read_frames(zuo_dir / "Mo" / "test.xyz")
    assert int(rows[0][8]) == len(test)
    assert int(rows[0][9]) == 3 * sum(len(f.atoms) for f in test)
    assert len(read_model(tmp_path / "Mo-committee.json").members) == 2
    assert "| Mo | 2 |" in out
    assert_png(tmp_path / "committee.png")


def test_active_learning(zuo_dir, tmp_path):
    require_module("matplotlib")
    out = run("active_learning.py", "--elements", "Mo", "--max-structures", "20", "--max-iter",
              "3", "--members", "2", "--rounds", "2", "--data", str(zuo_dir), "--out",
              str(tmp_path))
    text = (tmp_path / "active_learning.md").read_text()
    rows = table_rows(text)
    assert [r[:4] for r in rows] == [["Mo", "committee", "0", "4"], ["Mo", "random", "0", "4"],
                                     ["Mo", "committee", "1", "6"], ["Mo", "committee", "2", "8"],
                                     ["Mo", "random", "1", "6"], ["Mo", "random", "2", "8"]]
    assert rows[0][4:] == rows[1][4:]  # one shared starting committee
    # the strategies pick different structures, so their committees differ
    assert rows[2][4:] != rows[4][4:] or rows[3][4:] != rows[5][4:]
    for row in rows:
        assert 0 < float(row[4]) and 0 < float(row[5])
    assert "- Mo, forces: random picks reach" in text and "--max-iter 3" in text
    assert "| Mo | random | 2 | 8 |" in out
    assert_png(tmp_path / "active_learning.png")


def test_active_learning_summary(monkeypatch):
    example = example_module("active_learning", monkeypatch)
    rows = [dict(element="Ge", strategy=s, round=r, n=n, e_mae=e, f_mae=f)
            for s, r, n, e, f in [("committee", 0, 10, 9.0, 0.20), ("random", 0, 10, 9.0, 0.20),
                                  ("committee", 1, 15, 5.0, 0.09), ("committee", 2, 20, 4.0, 0.08),
                                  ("random", 1, 15, 6.0, 0.15), ("random", 2, 20, 4.5, 0.10)]]
    assert example.summary(rows).splitlines() == [
        "- Ge, forces: random picks reach 0.1 eV/Å with 20 structures; committee picks reach "
        "it with 15",
        "- Ge, energies: random picks reach 4.5 meV/atom with 20 structures; committee picks "
        "reach it with 20"]
    rows[3]["e_mae"] = 4.6
    assert example.summary(rows).splitlines()[1].endswith("committee picks do not reach it")


@pytest.mark.parametrize("name", ["architecture_ladder.py", "committee_uncertainty.py",
                                  "active_learning.py"])
def test_results_scripts_without_data(name, tmp_path):
    out = subprocess.run([sys.executable, str(EXAMPLES / name), "--data", str(tmp_path / "no"),
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "DFT data not found" in out.stderr
    assert list(tmp_path.iterdir()) == []


def test_ladder_rungs_map_to_fit_options(monkeypatch):
    ladder = example_module("architecture_ladder", monkeypatch)
    assert list(ladder.RUNGS) == ["s-MEAM", "1+1 MLP", "2+2 linear", "4+4 linear",
                                  "8+8 linear", "2+2 MLP", "4+4 MLP", "8+8 MLP",
                                  "4+4+4L MLP", "4+4+4L per-degree MLP"]
    assert ladder.RUNGS["4+4+4L per-degree MLP"] == ("s-nnp", dict(
        n_rho=4, n_triplet=4, n_legendre=4, degree=4, per_degree=True))
    assert ladder.RUNGS["s-MEAM"] == ("s-meam", {})
    assert ladder.RUNGS["1+1 MLP"] == ("s-nnp", dict(n_rho=1, n_triplet=1))
    assert ladder.RUNGS["4+4 linear"] == ("s-nnp", dict(n_rho=4, n_triplet=4, hidden=()))
    assert ladder.RUNGS["8+8 MLP"] == ("s-nnp", dict(n_rho=8, n_triplet=8))
    spline = initial_model(["Mo"], 4.5, r_min=1.8, n_rho=1, n_triplet=1, readout="spline")
    linear = initial_model(["Mo"], 4.5, r_min=1.8, n_rho=2, n_triplet=2, hidden=())
    mlp = initial_model(["Mo"], 4.5, r_min=1.8, hidden=(16, 8), activation="silu")
    assert [ladder.readout_label(m) for m in (spline, linear, mlp)] == [
        "spline U", "linear", "MLP 16x8 silu"]
    assert len(ladder.bulk_cell("Mo")) == 2000 and len(ladder.bulk_cell("Cu")) == 2048


def test_committee_rank_correlation_and_errors(monkeypatch):
    committee = example_module("committee_uncertainty", monkeypatch)
    rank = committee.rank_correlation
    # ranks 1..5 against 2,1,4,3,5: sum d^2 = 4, rho = 1 - 6*4 / (5*24) = 0.8
    assert rank([0.1, 0.2, 0.3, 0.4, 0.5], [20, 10, 40, 30, 50]) == pytest.approx(0.8)
    assert rank(np.arange(10.0), np.exp(-np.arange(10.0))) == pytest.approx(-1.0)
    assert math.isnan(rank([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))
    frames = [Frame(Atoms("Mo2"), -20.0, np.zeros((2, 3)), None, "x", "a"),
              Frame(Atoms("Mo4"), -40.0, np.ones((4, 3)), None, "x", "b")]
    predictions = [dict(energy=-19.0, energy_std=0.2, forces=np.full((2, 3), -0.5),
                        forces_std=np.full((2, 3), 0.1)),
                   dict(energy=-44.0, energy_std=0.8, forces=np.ones((4, 3)),
                        forces_std=np.zeros((4, 3)))]
    pairs = committee.errors_and_spreads(frames, predictions)
    np.testing.assert_allclose(pairs["e_err_s"], [0.5, 1.0])
    np.testing.assert_allclose(pairs["e_std_s"], [0.1, 0.2])
    np.testing.assert_allclose(pairs["f_err_c"], [0.5] * 6 + [0.0] * 12)
    np.testing.assert_allclose(pairs["f_std_c"], [0.1] * 6 + [0.0] * 12)


# --- issue 5: shared filters across elements, frozen-filter transfer ---

SHARED_SMOKE = ("--elements", "Mo", "Ni", "--max-structures", "5", "--max-time", "3",
                "--transfer-time", "3")
_SHARED_RUN = {}


def shared_filters_run(zuo_dir, tmp_path_factory):
    """Run examples/shared_filters.py once at smoke size; its stdout and output folder."""
    if not _SHARED_RUN:
        out_dir = tmp_path_factory.mktemp("shared_filters")
        stdout = run("shared_filters.py", *SHARED_SMOKE, "--data", str(zuo_dir), "--out",
                     str(out_dir))
        _SHARED_RUN.update(stdout=stdout, out=out_dir)
    return _SHARED_RUN["stdout"], _SHARED_RUN["out"]


def test_shared_filters_table_and_figure(zuo_dir, tmp_path_factory):
    imread = require_module("matplotlib.image").imread

    from snnp_calc import read_model
    from snnp_calc.dataset import read_frames
    from snnp_calc.metrics import error_report
    stdout, out = shared_filters_run(zuo_dir, tmp_path_factory)
    text = (out / "shared_filters.md").read_text()
    assert text in stdout and "--elements Mo Ni --max-structures 5" in text
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()
            if line.startswith("| Mo |") or line.startswith("| Ni |")]
    assert [(r[0], r[2]) for r in rows] == [
        ("Mo", "snnp_calc/data/Mo-s-nnp.json"), ("Mo", "shared-MoNi.json"),
        ("Mo", "transfer-Mo.json"), ("Ni", "snnp_calc/data/Ni-s-nnp.json"),
        ("Ni", "shared-MoNi.json"), ("Ni", "transfer-Ni.json")]
    assert "shared-Ni.json" in rows[2][1] and "shared-Mo.json" in rows[5][1]
    for row in rows:
        e_mae, f_mae, n_params = float(row[3]), float(row[4]), int(row[5])
        assert 0 < e_mae < 1e5 and 0 < f_mae < 1e3 and n_params > 0
    # frozen filters are not fitted: the transfer moves fewer parameters than a full fit
    assert int(rows[2][5]) < int(rows[0][5])
    # the joint rows are the joint model's errors on each element's test set alone
    joint = read_model(out / "shared-MoNi.json")
    for row in (rows[1], rows[4]):
        err = error_report(joint, read_frames(zuo_dir / row[0] / "test.xyz"))["all"]
        assert row[3] == f"{err['e_mae']:.2f}" and row[4] == f"{err['f_mae']:.3f}"
    png = out / "shared_filters.png"
    image = imread(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.ndim == 3 and min(image.shape[:2]) > 300 and image[..., :3].std() > 0.05
    for kind in ("rho", "f", "g", "phi"):
        assert (out / f"shared-MoNi-filters-{kind}.png").stat().st_size > 1000


def test_shared_filters_are_shared_and_transferred_bit_for_bit(zuo_dir, tmp_path_factory):
    from snnp_calc import read_model
    _, out = shared_filters_run(zuo_dir, tmp_path_factory)
    joint = read_model(out / "shared-MoNi.json")
    assert joint.species == ("Mo", "Ni")
    for rows in (joint.rho, joint.f, joint.g):
        for row in rows:
            assert all(s.equals(row[0]) for s in row[1:])
    for element, other in (("Mo", "Ni"), ("Ni", "Mo")):
        transfer = read_model(out / f"transfer-{element}.json")
        source = read_model(out / f"shared-{other}.json")
        assert transfer.species == (element,) and source.species == (other,)
        assert transfer.metadata["filters_file"] == f"shared-{other}.json"
        for mine, theirs in ((transfer.rho, source.rho), (transfer.f, source.f),
                             (transfer.g, source.g)):
            assert len(mine) == len(theirs)
            assert all(a[0].equals(b[0]) for a, b in zip(mine, theirs))


def test_shared_filters_without_data(tmp_path):
    out = subprocess.run([sys.executable, str(EXAMPLES / "shared_filters.py"), "--data",
                          str(tmp_path / "absent"), "--out", str(tmp_path / "out")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "DFT data not found" in out.stderr
    assert not (tmp_path / "out").exists()


def test_physical_constraints(zuo_dir, tmp_path):
    """Free and constrained fits: table, figure, and the constraints hold in the written model."""
    require_module("matplotlib")
    out = run("physical_constraints.py", "--elements", "Mo", "--max-structures", "8",
              "--max-time", "3", "--data", str(zuo_dir), "--out", str(tmp_path))
    rows = table_rows((tmp_path / "constraints.md").read_text())
    assert [r[:2] for r in rows] == [["Mo", "free"], ["Mo", "constrained"]]
    assert "| Mo | constrained |" in out
    assert_png(tmp_path / "constraints.png")
    model = read_model(tmp_path / "Mo-constrained.json")
    core = model.metadata["fit"]["core_radius"]
    assert model.metadata["fit"]["constraints"] == ["repulsive-core", "convex-readout"]
    for s in model.phi:
        assert np.all(np.diff(s.y[s.knots <= core]) <= 0) and s.d0 <= 0
    for layers in model.readout.weights:
        assert all((w >= 0).all() for w in layers[2::2])
    free = read_model(tmp_path / "Mo-free.json")
    assert free.metadata["fit"]["constraints"] == []
