"""validate(), the text table and the figure (snnp_calc.validation.report, .figure).

The end-to-end check runs the published Mo s-MEAM against the Mo training
data and compares with the README: the s-MEAM row (a0, B, C11, C12, C44,
B_loc min, E_vac) and the DFT (data) row (a0, C11, C12, C44).
"""
import json

import pytest
from ase.calculators.emt import EMT

from snnp_calc import SNNP, read_model
from snnp_calc.dataset import read_frames
from snnp_calc.validation import PROPERTIES, format_validation, validate, write_validation_figure
from snnp_calc.validation.report import comparison_rows

from .calculators import Repulsive
from .conftest import MODELS


@pytest.fixture(scope="module")
def mo_report(mo_train):
    """Every property of the Mo s-MEAM, with the DFT reference (0.2 ps of MD)."""
    return validate(lambda: SNNP(read_model(MODELS / "Mo-smeam2020.json")), "Mo", "bcc",
                    data=mo_train, melting_point=2896, md_time=0.2)


def test_mo_smeam_report_against_readme(mo_report):
    assert set(PROPERTIES) | {"equilibrium", "reference"} <= set(mo_report)
    json.dumps(mo_report)
    assert mo_report["equilibrium"]["a0"] == pytest.approx(3.168, rel=2e-3)
    assert mo_report["equilibrium"]["bulk_modulus"] == pytest.approx(274, rel=0.02)
    for name, value in (("C11", 473), ("C12", 157), ("C44", 107)):
        assert mo_report["elastic"][name] == pytest.approx(value, rel=0.02)
    assert mo_report["eos_scan"]["min_local_bulk_modulus"] == pytest.approx(114, rel=0.03)
    assert mo_report["vacancy"]["energy"] == pytest.approx(2.99, rel=0.01)
    assert not mo_report["phonons"]["imaginary"]
    assert mo_report["md"]["stable"] and mo_report["md"]["temperature_target"] == 4344
    ref = mo_report["reference"]
    for name, value in (("a0_energy", 3.170), ("C11", 480), ("C12", 164), ("C44", 108)):
        assert ref[name] == pytest.approx(value, rel=0.02)
    assert set(mo_report["surfaces"]) == {"100", "110", "111"}
    assert all(1.0 < s["energy"] < 5.0 for s in mo_report["surfaces"].values())


def test_table_puts_model_and_dft_side_by_side(mo_report):
    table = format_validation(mo_report)
    lines = {line.split("  ")[0]: line for line in table.splitlines()}
    c11 = lines["C11"].split()
    # label, unit, model, DFT, relative error in %
    assert float(c11[2]) == pytest.approx(mo_report["elastic"]["C11"], abs=0.06)
    assert float(c11[3]) == pytest.approx(mo_report["reference"]["C11"], abs=0.06)
    error = 100 * (mo_report["elastic"]["C11"] / mo_report["reference"]["C11"] - 1)
    assert float(c11[4]) == pytest.approx(error, abs=0.06)
    for word in ("a0", "E_vac", "γ(110)", "B_loc min", "MD verdict", "stable", "phonons (THz)"):
        assert word in table


def test_figure_is_written(mo_report, tmp_path):
    path = write_validation_figure(mo_report, tmp_path / "mo.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_any_ase_calculator_and_a_subset_of_properties():
    report = validate(EMT, "Cu", properties=("elastic",))
    # lattice and a from ASE's reference state, then relaxed
    assert report["lattice"] == "fcc" and report["start"]["a"] == 3.61
    assert report["equilibrium"]["a0"] == pytest.approx(3.59, abs=0.005)
    assert set(report) & set(PROPERTIES) == {"elastic"}
    table = format_validation(report)
    assert "C44 clamped-ion" in table and "–" in table


def test_errors_name_element_lattice_and_property(mo_smeam):
    with pytest.raises(ValueError, match=r"validate Ni fcc \(equilibrium\).*Ni"):
        validate(mo_smeam, "Ni", "fcc")
    # no minimum: the cell expands until the stress is below the threshold
    with pytest.raises(ValueError, match="lattice constant: the lattice did not relax"):
        validate(Repulsive(), "Cu", "fcc", a=3.6, properties=())
    with pytest.raises(ValueError, match="unknown properties elasticity"):
        validate(mo_smeam, "Mo", "bcc", properties=("elasticity",))


def test_data_without_elastic_frames_is_a_missing_reference(mo_smeam, mo_train):
    frames = [f for f in read_frames(mo_train) if f.config_type == "AIMD-NVT"]
    with pytest.raises(ValueError, match="no 'Elastic' frames"):
        validate(mo_smeam, "Mo", "bcc", data=frames, properties=())


def test_hcp_end_to_end():
    report = validate(EMT, "Cu", "hcp", md_time=0.02)
    assert set(report["surfaces"]) == {"0001", "10-10"}
    assert report["vacancy"]["n_sites"] == 96
    assert {"C13", "C33"} <= set(report["elastic"])
    table = format_validation(report)
    assert "c0" in table and "γ(10-10)" in table and "DFT zero stress" not in table


def test_clamped_ion_dft_c44_is_compared_with_the_clamped_model(potentials_dir, zuo_dir):
    # Ge Elastic shear cells keep their fractional positions (README caveats)
    calc = SNNP(read_model(potentials_dir / "Ge.smeam2020.meam.spline"))
    report = validate(calc, "Ge", data=zuo_dir / "Ge" / "train.xyz", properties=("elastic",))
    assert report["lattice"] == "diamond" and report["reference"]["shear_ions"] == "clamped"
    rows = {row[0]: row for row in comparison_rows(report)}
    assert rows["C44 clamped-ion"][2:4] == (report["elastic"]["clamped"]["C44"],
                                            report["reference"]["C44"])
    assert rows["C44 relaxed-ion"][3] is None
    # README: s-MEAM 76 clamped against DFT 76
    assert rows["C44 clamped-ion"][2] == pytest.approx(rows["C44 clamped-ion"][3], rel=0.03)
