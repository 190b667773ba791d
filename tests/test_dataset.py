"""Reading reference frames and computing error statistics."""
import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from snnp_calc.dataset import read_frames
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
