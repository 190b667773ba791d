"""Reading reference frames and computing error statistics."""
import json
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from snnp_calc import read_model
from snnp_calc.dataset import FrameKeys, read_frames
from snnp_calc.metrics import error_report, format_report


def _frame(energy=1.0, forces=True, stress=None):
    atoms = bulk("Mo", "bcc", 3.15, cubic=True)
    kwargs = dict(energy=energy)
    if forces:
        kwargs["forces"] = np.zeros((2, 3))
    if stress is not None:
        kwargs["stress"] = stress
    atoms.calc = SinglePointCalculator(atoms, **kwargs)
    return atoms


def test_reads_energy_forces_stress_config_type(tmp_path):
    atoms = _frame(stress=np.arange(6.0))
    atoms.info["config_type"] = "Elastic"
    write(tmp_path / "a.xyz", [atoms, _frame(2.0)])
    frames = read_frames(tmp_path / "a.xyz")
    assert [f.energy for f in frames] == [1.0, 2.0]
    assert frames[0].config_type == "Elastic" and frames[1].config_type == "default"
    np.testing.assert_array_equal(frames[0].stress, np.arange(6.0))
    assert frames[1].stress is None
    assert frames[0].atoms.calc is None


@pytest.mark.parametrize("atoms, message", [
    (_frame(forces=False), "no reference forces"),
    (_frame(energy=np.nan), "NaN"),
])
def test_bad_frames_raise_naming_file_and_index(tmp_path, atoms, message):
    write(tmp_path / "b.xyz", [_frame(), atoms])
    with pytest.raises(ValueError, match=message) as err:
        read_frames(tmp_path / "b.xyz")
    assert "b.xyz:1" in str(err.value)


def test_frame_without_energy(tmp_path):
    atoms = bulk("Mo", "bcc", 3.15, cubic=True)
    write(tmp_path / "c.xyz", atoms)
    with pytest.raises(ValueError, match="c.xyz:0: frame has no reference energy"):
        read_frames(tmp_path / "c.xyz")


def test_error_report_of_exact_labels_is_zero(tmp_path, smeam_model):
    from snnp_calc import SNNP
    atoms = bulk("Mo", "bcc", 3.15, cubic=True).repeat(2)
    atoms.rattle(0.1, seed=1)
    atoms.positions = np.round(atoms.positions, 8)  # what extended XYZ keeps
    atoms.calc = SNNP(smeam_model)
    atoms.calc = SinglePointCalculator(atoms, energy=atoms.get_potential_energy(),
                                       forces=atoms.get_forces(), stress=atoms.get_stress())
    write(tmp_path / "d.xyz", atoms)
    report = error_report(smeam_model, read_frames(tmp_path / "d.xyz"))
    for key in ("e_mae", "e_rmse", "s_rmse"):
        assert report["all"][key] < 1e-9
    # forces are written with 8 decimals
    assert report["all"]["f_mae"] < 5e-9
    assert "default" in format_report(report)


def test_frame_without_forces_raises_even_with_energy(tmp_path):
    write(tmp_path / "e.xyz", [_frame(forces=False)])
    with pytest.raises(ValueError, match="e.xyz:0: frame has no reference forces"):
        read_frames(tmp_path / "e.xyz")


TESTS_DATA = Path(__file__).resolve().parent / "data"


def test_virial_and_force_keys_of_a_foreign_file():
    """A file with its energy in the comment line, arrays['force'] and info['virial'] (eV)."""
    path = TESTS_DATA / "tial_virial.xyz"
    with pytest.raises(ValueError, match=r"tial_virial.xyz:0: frame has no reference forces "
                                         r"under the key 'forces' .*arrays: force"):
        read_frames(path)
    frames = read_frames(path, keys=FrameKeys(forces="force", virial="virial"))
    assert [f.config_type for f in frames] == ["bulk", "strained"]
    np.testing.assert_array_equal(frames[0].forces, [[0.1, 0, 0], [-0.1, 0, 0]])
    # sigma = -W / V, Voigt xx yy zz yz xz xy
    np.testing.assert_allclose(frames[0].stress, -np.array([0.9, 1.8, 2.7, 0, 0, 0]) / 27.0)
    np.testing.assert_allclose(frames[1].stress[5], -0.1 / 27.9)


def test_mace_style_keys():
    path = TESTS_DATA / "mace_style.xyz"
    with pytest.raises(ValueError, match=r"no reference energy under the key 'energy' .*info: "
                                         r".*REF_energy"):
        read_frames(path)
    keys = FrameKeys(energy="REF_energy", forces="REF_forces", stress="REF_stress",
                     config_type="group")
    (frame,) = read_frames(path, keys=keys)
    assert frame.energy == -10.5 and frame.config_type == "bulk"
    np.testing.assert_allclose(frame.stress, [0.001, 0.002, 0.003, 0, 0, 0])
    with pytest.raises(ValueError, match="no reference stress under the key 'S'"):
        read_frames(path, keys=FrameKeys(energy="REF_energy", forces="REF_forces", stress="S"))


def test_keys_are_checked():
    with pytest.raises(ValueError, match="not both"):
        FrameKeys(stress="REF_stress", virial="REF_virial")
    with pytest.raises(ValueError, match="energy key must be a non-empty string"):
        FrameKeys(energy="")


def test_fit_and_eval_take_the_keys(tmp_path, capsys, snnp_model):
    from snnp_calc.cli import main
    data = str(TESTS_DATA / "tial_virial.xyz")
    out = tmp_path / "tial.json"
    assert main(["fit", "--train", data, "--out", str(out), "--max-iter", "2", "--n-rho", "1",
                 "--n-triplet", "1", "--hidden", "2", "--knots", "5", "--validation", "0",
                 "--forces-key", "force", "--virial-key", "virial"]) == 0
    assert read_model(out).species == ("Al", "Ti")
    assert main(["eval", str(out), data, "--forces-key", "force", "--virial-key", "virial",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["n_structures"] == 2
    assert main(["eval", str(out), data]) == 2
    assert "name it with --forces-key" in capsys.readouterr().err
