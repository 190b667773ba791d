"""``pair_style snnp`` on bad input: a LAMMPS error naming the problem; the process survives."""
import json
import re
import subprocess

import numpy as np
import pytest
from ase.build import bulk

from snnp_calc import write_model
from tests.lammps.conftest import (
    BIN,
    STRUCTURES,
    compare_with_reference,
    mlp_model,
    new_lammps,
    run_snnp,
)


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
    (lambda t: t.replace('"version": 4', '"version": 5', 1), "unsupported version 5"),
    (lambda t: t.replace('"version": 4', '"version": 1', 1), "core: unknown key"),
    (lambda t: t.replace('"version": 4', '"version": 3', 1),
     "filters.legendre_outputs: unknown key"),
    (lambda t: t.replace('"legendre_outputs": "sum"', '"legendre_outputs": "all"', 1),
     "filters.legendre_outputs: expected 'sum' or 'degree'"),
    (lambda t: t.replace('"core": null', '"core": {"kind": "zbl", "r_inner": 2.0, '
                         '"r_outer": 1.0}', 1), "core: a ZBL core needs 0 < r_inner < r_outer"),
    (lambda t: t.replace('"core": null', '"core": {"kind": "zbl", "r_inner": 2.0, '
                         '"r_outer": 9.0}', 1), "core.r_outer: the core ends at 9"),
    (lambda t: t.replace('"species": ["Mo", "Ni"]', '"species": ["Mo", "Xx"]', 1),
     r"species\[1\]: unknown element symbol 'Xx'"),
    (lambda t: t.replace('"species": ["Mo", "Ni"]', '"species": ["Mo", 7]', 1),
     r"species\[1\]: expected an element symbol"),
    (lambda t: t.replace('"format": "snnp",', '"format": "snnp", "format": "snnp",', 1),
     "format: duplicate key"),
    (lambda t: t.replace('"cutoff": 4.6', '"cutoff": 4.7', 1), "cutoff: 4.7 does not equal"),
], ids=["truncated", "missing-key", "wrong-shape", "version", "core-in-version-1",
        "outputs-in-version-3", "unknown-outputs",
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




# --- every JSON problem is a LAMMPS error naming the file and the key path, never an abort ---
def edited(tmp_path, model_file, mutate, token=None):
    """The model file after ``mutate(document)``; a value ``"@RAW@"`` becomes ``token`` verbatim."""
    doc = json.loads(model_file.read_text())
    mutate(doc)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(doc, indent=1).replace('"@RAW@"', str(token)))
    return path


def put(*keys, value="@RAW@"):
    def mutate(doc):
        for key in keys[:-1]:
            doc = doc[key]
        doc[keys[-1]] = value
    return mutate


RHO = ("filters", "rho", 0, 1)
F = ("filters", "f", 0, 0)
DOCUMENT_CASES = [
    # numbers nlohmann cannot hold: out_of_range 406, which used to abort the process
    ("overflow_in_metadata", put("metadata", "x"), "1e400",
     r"metadata\.x: number out of the float64 range"),
    ("negative_overflow", put(*RHO, "y", 3), "-1e400",
     r"filters\.rho\[0\]\[1\]\.y\[3\]: number out of the float64 range"),
    ("huge_integer", put("metadata", "seed"), str(10 ** 400),
     r"metadata\.seed: number out of the float64 range"),
    ("nan_token", put(*F, "y", 2), "NaN", r"filters\.f\[0\]\[0\]\.y\[2\]: not valid JSON"),
    ("infinity_token", put("e0", 1), "Infinity", r"e0\[1\]: not valid JSON"),
    # sizes: the same limits as the Python reader
    ("n_knots_float", put(*RHO, "n_knots"), "1e12",
     r"filters\.rho\[0\]\[1\]\.n_knots: expected an integer, got number"),
    ("n_knots_huge", put(*RHO, "n_knots"), "1000000000000",
     r"filters\.rho\[0\]\[1\]\.n_knots: expected an integer in 2\.\.100000"),
    ("fixed_below_int64", put(*RHO, "fixed", 0), str(-2 ** 63 - 1),
     r"filters\.rho\[0\]\[1\]\.fixed\[0\]: expected an integer"),
    ("nested_too_deep", put("metadata", "deep"), "[" * 63 + "]" * 63,
     r"metadata\.deep(\[0\])*: nested deeper than 64 levels"),
    # degenerate knots: an interval index out of range in Spline::eval before
    ("spacing_underflow", lambda d: d["filters"]["g"][0][0].update(x0=1e-310, x1=2e-310), None,
     r"filters\.g\[0\]\[0\]: degenerate knot spacing"),
    ("coefficients_overflow", lambda d: d["readout"]["U"][1].update(x0=0.0, x1=1e-110), None,
     r"readout\.U\[1\]: values and end slopes too large for the knot spacing"),
    # radial splines must end at 0 with slope 0 (DESIGN.md section 1)
    ("rho_end_value", put(*RHO, "y", 9, value=1e-16), None,
     r"filters\.rho\[0\]\[1\]\.y\[9\]: a radial spline must end with value 0"),
    ("f_end_slope", put(*F, "dN", value=-0.5), None,
     r"filters\.f\[0\]\[0\]\.dN: a radial spline must end with slope 0"),
    ("pair_end_value", put("pair", 1, "y", 9, value=0.25), None,
     r"pair\[1\]\.y\[9\]: a radial spline must end with value 0"),
    ("duplicate_nested_key", put(*RHO, "d0"), '0.5, "d0": 0.5',
     r"filters\.rho\[0\]\[1\]\.d0: duplicate key"),
]


@pytest.mark.parametrize("mutate, token, message", [c[1:] for c in DOCUMENT_CASES],
                         ids=[c[0] for c in DOCUMENT_CASES])
def test_bad_document(plugin, tmp_path, model_file, mutate, token, message):
    path = edited(tmp_path, model_file, mutate, token)
    text = lammps_error(plugin, path, "* * MODEL Mo Ni")
    assert f"snnp model file {path}: " in text
    assert re.search(message, text), text


def test_nesting_at_the_limit_is_read(plugin, tmp_path, model_file, smeam_model):
    """64 levels are allowed (metadata.deep is level 3), as in the Python reader."""
    path = edited(tmp_path, model_file, put("metadata", "deep"), "[" * 62 + "]" * 62)
    atoms = STRUCTURES["small"]()
    compare_with_reference(smeam_model, atoms, run_snnp(plugin, atoms, path, ["Mo", "Ni"]))


@pytest.mark.parametrize("edit, message", [
    (lambda b: b"\xef\xbb\xbf" + b, "<document>: not valid JSON: a byte order mark"),
    (lambda b: b.replace(b'"metadata": {}', b'"metadata": {"note": "\xb5\xff"}'),
     r"metadata\.note: not valid JSON: .*\\x"),
    # nlohmann ends the input at a NUL byte: what follows would be ignored
    (lambda b: b + b"\0 trailing", r"<document>: not valid JSON: a NUL byte at line \d+, column 1"),
], ids=["byte_order_mark", "not_utf8", "nul_then_trailing_content"])
def test_bad_bytes(plugin, tmp_path, model_file, edit, message):
    """The message is ASCII (bytes of the file escaped), so LAMMPS' Python module can read it."""
    path = tmp_path / "bytes.json"
    path.write_bytes(edit(model_file.read_bytes()))
    text = lammps_error(plugin, path, "* * MODEL Mo Ni")
    assert f"snnp model file {path}: " in text and text.isascii()
    assert re.search(message, text), text


@pytest.mark.parametrize("mutate, message", [
    (put("readout", "input_scale", 1, 2, value=5e-324),
     r"readout\.input_scale\[1\]\[2\]: scale must be positive and a normal float64"),
    (put("readout", "hidden", value=[100000, 8]), r"readout\.hidden\[0\]: expected an integer "
                                                  r"in 1\.\.10000"),
    (put("readout", "hidden", value=[8] * 65), r"readout\.hidden: expected at most 64 hidden"),
], ids=["scale_subnormal", "hidden_too_wide", "hidden_too_deep"])
def test_bad_mlp_document(plugin, tmp_path, mutate, message):
    model_path = tmp_path / "mlp.json"
    write_model(mlp_model("tanh", seed=3), model_path)
    path = edited(tmp_path, model_path, mutate)
    text = lammps_error(plugin, path, "* * MODEL Mo Ni")
    assert f"snnp model file {path}: " in text
    assert re.search(message, text), text


def test_non_finite_prediction_is_an_error(plugin, tmp_path, model_file, smeam_model):
    """A valid file whose f values of 1e300 overflow: a LAMMPS error, not NaN or a segfault.

    f_Mo = 1e300 and f_Ni = -1e300 make triplet sums of +inf and -inf, so the
    s-MEAM readout U is evaluated at NaN, which once gave an interval index
    out of range. The process survives and computes the next model correctly.
    """
    def mutate(doc):
        doc["filters"]["f"][0][0]["y"][3] = 1e300
        doc["filters"]["f"][0][1]["y"][3] = -1e300
    path = edited(tmp_path, model_file, mutate)
    text = lammps_error(plugin, path, "* * MODEL Mo Ni")
    assert f"model file {path} gives a non-finite energy or force for atom" in text, text
    atoms = STRUCTURES["cubic"]()
    compare_with_reference(smeam_model, atoms, run_snnp(plugin, atoms, model_file, ["Mo", "Ni"]))


def test_overflow_is_an_error_exit_of_lmp(plugin, tmp_path, model_file):
    """The lmp executable ends with LAMMPS' ERROR line and exit status 1, not SIGABRT."""
    path = edited(tmp_path, model_file, put("metadata", "x"), "1e400")
    (tmp_path / "in.lmp").write_text(
        "units metal\nlattice bcc 3.15\nregion box block 0 2 0 2 0 2\ncreate_box 2 box\n"
        f"create_atoms 1 box\nmass * 95.95\nplugin load {plugin}\npair_style snnp\n"
        f"pair_coeff * * {path} Mo Ni\nrun 0\n")
    out = subprocess.run([str(BIN / "lmp"), "-in", "in.lmp", "-log", "none", "-nocite"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode > 0, (out.returncode, out.stderr)
    assert (f"ERROR: snnp model file {path}: metadata.x: number out of the float64 range"
            in out.stdout + out.stderr)
