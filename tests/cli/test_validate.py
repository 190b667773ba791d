"""The ``snnp validate`` command."""
import json
from pathlib import Path

import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from snnp_calc.cli import main

MODEL = Path(__file__).resolve().parents[2] / "snnp_calc" / "data" / "Mo-smeam2020.json"


def test_json_report_of_the_mo_smeam(capsys):
    assert main(["validate", str(MODEL), "--lattice", "bcc", "--json", "--md-time", "0.05"]) == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("equilibrium", "eos_scan", "elastic", "vacancy", "surfaces", "phonons", "md",
                "reference", "timings", "model"):
        assert key in report
    assert report["reference"] is None
    assert report["symbol"] == "Mo" and report["lattice"] == "bcc"
    # README, s-MEAM: a0 3.167-3.169, C11 473, E_vac 2.99
    assert report["equilibrium"]["a0"] == pytest.approx(3.168, rel=2e-3)
    assert report["elastic"]["C11"] == pytest.approx(473, rel=0.02)
    assert report["vacancy"]["energy"] == pytest.approx(2.99, rel=0.01)
    assert report["md"]["temperature_target"] == 2000.0 and report["md"]["steps"] == 50


def test_table_with_data_and_figure(zuo_dir, tmp_path, capsys):
    argv = ["validate", str(MODEL), "--data", str(zuo_dir / "Mo" / "train.xyz"),
            "--plots", str(tmp_path / "figs"), "--md-time", "0.05", "--temperature", "3000"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    # lattice guessed from the data; DFT column filled
    assert out.startswith("Mo bcc (SNNP) against DFT from")
    c11 = next(line for line in out.splitlines() if line.startswith("C11 "))
    # C11, GPa, model, DFT, relative error, %
    _, unit, model, dft, error, percent = c11.split()
    assert (unit, percent) == ("GPa", "%")
    assert float(dft) == pytest.approx(480, rel=0.02)
    assert float(error) == pytest.approx(100 * (float(model) / float(dft) - 1), abs=0.06)
    assert "MD 3000 K" in out
    figure = tmp_path / "figs" / "Mo-smeam2020-validation.png"
    assert f"wrote {figure}" in out and figure.stat().st_size > 10_000


@pytest.mark.parametrize("argv, message", [
    (["--species", "Ni"], "--species Ni is not in the model"),
    (["--md-time", "-1"], "--md-time -1.0: must be a positive"),
    (["--temperature", "0"], "--temperature 0.0: must be positive"),
])
def test_bad_options_exit_2(argv, message, capsys):
    assert main(["validate", str(MODEL), "--lattice", "bcc"] + argv) == 2
    assert message in capsys.readouterr().err


def test_bad_files_exit_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "missing.json")]) == 2
    assert "missing.json" in capsys.readouterr().err
    # data without Elastic frames: no reference to compare with
    atoms = bulk("Mo", "bcc", 3.17, cubic=True).repeat(2)
    atoms.calc = SinglePointCalculator(atoms, energy=-10.0 * len(atoms),
                                       forces=0 * atoms.positions)
    atoms.info["config_type"] = "AIMD-NVT"
    data = tmp_path / "aimd.xyz"
    write(data, atoms)
    assert main(["validate", str(MODEL), "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("snnp: error: validate Mo bcc (reference):")
    assert "no 'Elastic' frames" in err and "aimd.xyz" in err


def test_unknown_lattice_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", str(MODEL), "--lattice", "sc"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'sc'" in capsys.readouterr().err
