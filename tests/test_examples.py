"""The example scripts run and print what they promise (smoke tests)."""
import subprocess
import sys
from pathlib import Path


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
    import pytest
    imread = pytest.importorskip("matplotlib.image").imread

    from snnp_calc import read_model
    from snnp_calc.dataset import read_frames
    from snnp_calc.metrics import error_report
    stdout, out = shared_filters_run(zuo_dir, tmp_path_factory)
    text = (out / "shared_filters.md").read_text()
    assert text in stdout and "--elements Mo Ni --max-structures 5" in text
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()
            if line.startswith("| Mo |") or line.startswith("| Ni |")]
    assert [(r[0], r[2]) for r in rows] == [
        ("Mo", "data/Mo-s-nnp.json"), ("Mo", "shared-MoNi.json"), ("Mo", "transfer-Mo.json"),
        ("Ni", "data/Ni-s-nnp.json"), ("Ni", "shared-MoNi.json"), ("Ni", "transfer-Ni.json")]
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
