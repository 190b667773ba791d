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
