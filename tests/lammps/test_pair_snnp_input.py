"""``pair_style snnp`` on bad input: a LAMMPS error naming the problem; the process survives."""
import re
import subprocess

import numpy as np
import pytest
from ase.build import bulk

from snnp_calc import write_model
from tests.lammps.conftest import STRUCTURES, compare_with_reference, new_lammps, run_snnp


def lammps_error(plugin, model_path, coeff, before=("units metal",), style="snnp",
                 positions=None):
    """The message of the exception LAMMPS raises when setting up and running pair snnp.

    ``coeff``: the pair_coeff arguments, ``MODEL`` standing for ``model_path``;
    ``before``: commands before the box is made (units, newton).
    """
    lmp = new_lammps()
    try:
        lmp.commands_list([*before, "atom_style atomic", "atom_modify map array",
                           "region box block 0 6.3 0 6.3 0 6.3 units box", "create_box 2 box",
                           "mass * 95.95"])
        xyz = positions if positions is not None else (
            bulk("Mo", "bcc", 3.15, cubic=True).repeat(2).positions)
        lmp.create_atoms(len(xyz), list(range(1, len(xyz) + 1)), [1, 2] * (len(xyz) // 2),
                         np.ravel(xyz).tolist())
        with pytest.raises(Exception) as info:
            lmp.commands_list([f'plugin load "{plugin}"', f"pair_style {style}",
                               f'pair_coeff {coeff.replace("MODEL", str(model_path))}', "run 0"])
    finally:
        lmp.close()
    return str(info.value)


@pytest.fixture
def model_file(tmp_path, smeam_model):
    path = tmp_path / "model.json"
    write_model(smeam_model, path)
    return path


def broken(tmp_path, model_file, edit):
    """A copy of the model file with ``edit(text) -> text`` applied."""
    path = tmp_path / "broken.json"
    path.write_text(edit(model_file.read_text()))
    return path


@pytest.mark.parametrize("edit, message", [
    (lambda t: t[:len(t) // 2], "not valid JSON"),
    (lambda t: t.replace('"e0"', '"e_zero"', 1), "e0: missing key"),
    (lambda t: t.replace('"n_knots": 10', '"n_knots": 11', 1),
     r"filters.rho\[0\]\[0\].y: expected 11 numbers, got 10"),
    (lambda t: t.replace('"version": 2', '"version": 3', 1), "unsupported version 3"),
    (lambda t: t.replace('"version": 2', '"version": 1', 1), "core: unknown key"),
    (lambda t: t.replace('"core": null', '"core": {"kind": "zbl", "r_inner": 2.0, '
                         '"r_outer": 1.0}', 1), "core: a ZBL core needs 0 < r_inner < r_outer"),
    (lambda t: t.replace('"core": null', '"core": {"kind": "zbl", "r_inner": 2.0, '
                         '"r_outer": 9.0}', 1), "core.r_outer: the core ends at 9"),
    (lambda t: t.replace('"species": ["Mo", "Ni"]', '"species": ["Mo", "Xx"]', 1),
     r"species\[1\]: unknown element symbol 'Xx'"),
    (lambda t: t.replace('"species": ["Mo", "Ni"]', '"species": ["Mo", 7]', 1),
     r"species\[1\]: expected an element symbol"),
    (lambda t: t.replace('"format": "snnp",', '"format": "snnp", "format": "snnp",', 1),
     "duplicate key 'format'"),
    (lambda t: t.replace('"cutoff": 4.6', '"cutoff": 4.7', 1), "cutoff: 4.7 does not equal"),
], ids=["truncated", "missing-key", "wrong-shape", "version", "core-in-version-1",
        "core-inverted", "core-beyond-cutoff", "unknown-element", "species-type", "duplicate",
        "cutoff"])
def test_bad_model_file(plugin, tmp_path, model_file, edit, message):
    path = broken(tmp_path, model_file, edit)
    assert path.read_text() != model_file.read_text()
    text = lammps_error(plugin, path, "* * MODEL Mo Ni")
    assert f"snnp model file {path}" in text
    assert re.search(message, text), text


METAL = ("units metal",)


@pytest.mark.parametrize("coeff, before, style, message", [
    ("* * /nonexistent/model.json Mo Ni", METAL, "snnp",
     "Cannot open snnp model file /nonexistent/model.json"),
    ("* * MODEL Mo Cu", METAL, "snnp", "element Cu (atom type 2) is not in snnp model file"),
    ("1 1 MODEL Mo", METAL, "snnp", "needs 'pair_coeff * * MODEL.json El1 ... El2'"),
    ("* * MODEL Mo", METAL, "snnp",
     "expected 2 element symbol(s) or NULL (one per atom type), got 1"),
    ("* * MODEL Mo Ni", METAL + ("newton off",), "snnp", "requires newton pair on"),
    ("* * MODEL Mo Ni", ("units real",), "snnp", "requires units metal"),
    ("* * MODEL Mo Ni", METAL, "snnp extra", "takes no arguments (got 'extra')"),
], ids=["no-file", "unknown-element", "not-star-star", "too-few-elements", "newton-off",
        "units", "style-args"])
def test_bad_setup(plugin, model_file, coeff, before, style, message):
    text = lammps_error(plugin, model_file, coeff, before, style)
    assert message in text, text


def test_coincident_atoms(plugin, model_file):
    xyz = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [3.0, 3.0, 3.0], [4.5, 1.0, 2.0]])
    text = lammps_error(plugin, model_file, "* * MODEL Mo Ni", positions=xyz)
    assert "atoms 1 and 2 coincide" in text, text


def test_process_survives_errors(plugin, model_file, smeam_model):
    """After a series of errors the same process still computes correct results."""
    for coeff in ("* * MODEL Mo Cu", "1 1 MODEL Mo", "* * /nonexistent Mo Ni"):
        lammps_error(plugin, model_file, coeff)
    atoms = STRUCTURES["cubic"]()
    compare_with_reference(smeam_model, atoms, run_snnp(plugin, atoms, model_file, ["Mo", "Ni"]))


def test_bad_input_on_two_ranks(plugin, mpi_lmp, model_file, tmp_path):
    """Under mpiexec an unknown element ends LAMMPS with its error message, no crash."""
    (tmp_path / "in.lmp").write_text(
        "units metal\nlattice bcc 3.15\nregion box block 0 4 0 4 0 4\ncreate_box 2 box\n"
        "create_atoms 1 box\nmass * 95.95\n"
        f"plugin load {plugin}\npair_style snnp\npair_coeff * * {model_file} Mo Xx\nrun 0\n")
    out = subprocess.run([mpi_lmp[0], "-n", "2", mpi_lmp[1], "-in", "in.lmp", "-log", "none",
                          "-nocite"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode > 0    # an error exit, not a signal
    assert "element Xx (atom type 2) is not in snnp model file" in out.stdout + out.stderr


