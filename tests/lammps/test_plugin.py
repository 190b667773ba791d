"""The plugin builder: ``snnp lammps-plugin build`` and the shipped LAMMPS example input."""
import subprocess

import numpy as np

from snnp_calc.cli import main
from tests.lammps.conftest import REPO, thermo_rows


def test_cli_build_prints_library(plugin, capsys):
    """``snnp lammps-plugin build --out DIR`` prints the library (here up to date: no rebuild)."""
    assert main(["lammps-plugin", "build", "--out", str(plugin.parent)]) == 0
    assert capsys.readouterr().out.strip() == str(plugin)


def test_example_input_runs(plugin, mpi_lmp, tmp_path):
    """examples/lammps/in.snnp_nvt, shrunk to 128 atoms and 50 steps, on 2 ranks."""
    folder = REPO / "examples" / "lammps"
    out = subprocess.run([mpi_lmp[0], "-n", "2", mpi_lmp[1], "-in", "in.snnp_nvt", "-var",
                          "plugin", str(plugin), "-var", "n", "4", "-var", "steps", "50",
                          "-log", str(tmp_path / "log.lammps"), "-nocite"], cwd=folder,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr
    rows = thermo_rows((tmp_path / "log.lammps").read_text())
    assert rows.shape[0] == 2 and np.all(np.isfinite(rows))
    assert 100 < rows[-1, 2] < 1000    # temperature (K)
