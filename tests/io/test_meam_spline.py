"""LAMMPS meam/spline reading and writing (snnp_calc.io.meam_spline)."""
import numpy as np
import pytest

from snnp_calc.errors import ModelFileError
from snnp_calc.io import read_model, write_model
from snnp_calc.io.meam_spline import dumps, read_meam_spline
from snnp_calc.model.initial import initial_model
from snnp_calc.model.model import Model

# The old-format files name no element.
OLD_SPECIES = {"Si_1.meam.spline": "Si", "Ti.meam.spline": "Ti"}
EXPECTED_SPECIES = {"Si_1.meam.spline": ("Si",), "Ti.meam.spline": ("Ti",),
                    "TiO.meam.spline": ("Ti", "O")}


def _file_blocks(path):
    """Independent plain parser for the (well-formed) reference files.

    Returns the species count and, per spline block in file order,
    ``(d0, dN, x, y)`` from Python ``float`` of the file's tokens.
    """
    rows = [line.split() for line in path.read_text().splitlines()[1:] if line.strip()]
    new = rows[0][0] == "meam/spline"
    n_species = int(rows[0][1]) if new else 1
    pos = 1 if new else 0
    blocks = []
    while pos < len(rows):
        pos += new  # 'spline3eq'
        M = int(rows[pos][0])
        d0, dN = map(float, rows[pos + 1])
        pos += 2 + (not new)  # the old format's skipped line
        knots = np.array([[float(t) for t in row[:2]] for row in rows[pos:pos + M]])
        blocks.append((d0, dN, knots[:, 0], knots[:, 1]))
        pos += M
    return n_species, blocks


def _file_order(model):
    """The model's splines in file order: phi, rho, U, f, g."""
    return (list(model.phi) + list(model.rho[0]) + list(model.readout.U) + list(model.f[0])
            + list(model.g[0]))


def _potential_files(potentials_dir):
    files = sorted(potentials_dir.glob("*.meam.spline"))
    assert len(files) >= 3
    return files


def test_read_reference_files(potentials_dir):
    for path in _potential_files(potentials_dir):
        model = read_meam_spline(path, species=OLD_SPECIES.get(path.name))
        n_species, blocks = _file_blocks(path)
        expected = EXPECTED_SPECIES.get(path.name, (path.name.split(".")[0],))
        assert model.species == expected
        assert model.n_species == n_species
        assert len(model.rho) == len(model.f) == len(model.g) == 1
        assert model.readout_kind == "spline" and np.all(model.e0 == 0.0)
        P = n_species * (n_species + 1) // 2
        radial = blocks[:P + n_species] + blocks[P + 2 * n_species:P + 3 * n_species]
        assert model.cutoff == max(x[-1] for _, _, x, _ in radial)
        assert model.metadata["comment"] == path.read_text().splitlines()[0]
        splines = _file_order(model)
        assert len(splines) == len(blocks) == 2 * P + 3 * n_species
        for s, (d0, dN, x, y) in zip(splines, blocks):
            assert (s.x0, s.x1, s.d0, s.dN) == (x[0], x[-1], d0, dN)
            assert np.array_equal(s.y, y)  # bit-equal to the file's decimals


def test_fixed_masks(potentials_dir):
    model = read_meam_spline(potentials_dir / "Si_1.meam.spline", species="Si")
    for s in (model.phi[0], model.rho[0][0], model.f[0][0]):
        M = s.n_knots
        assert s.y[-1] == 0.0 and s.dN == 0.0
        assert np.flatnonzero(s.fixed).tolist() == [M - 1, M + 1]
    assert not model.readout.U[0].fixed.any() and not model.g[0][0].fixed.any()


def test_spline_values_at_knots(potentials_dir):
    for path in _potential_files(potentials_dir):
        model = read_meam_spline(path, species=OLD_SPECIES.get(path.name))
        for s in model.splines:
            value, _ = s(s.knots)
            assert np.allclose(value, s.y, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("style", ["new", "old"])
def test_round_trip_reference_files(potentials_dir, tmp_path, style):
    for path in _potential_files(potentials_dir):
        model = read_meam_spline(path, species=OLD_SPECIES.get(path.name))
        if style == "old" and model.n_species > 1:
            with pytest.raises(ValueError, match="one species"):
                dumps(model, style="old")
            continue
        out = tmp_path / f"{style}_{path.name}"
        write_model(model, out, style=style)
        back = read_model(out, species=model.species[0] if style == "old" else None)
        assert back.equals(model), path.name
        assert dumps(back, style=style) == out.read_text()


def test_round_trip_tio_and_generated(potentials_dir, tmp_path, smeam_model):
    tio = read_meam_spline(potentials_dir / "TiO.meam.spline")
    assert tio.species == ("Ti", "O")
    (tmp_path / "a.meam.spline").write_text(dumps(tio))
    assert read_meam_spline(tmp_path / "a.meam.spline", species=["Ti", "O"]).equals(tio)
    # a generic two-species s-MEAM: the file carries no fixed masks and adds a
    # comment, so compare after one trip through the format
    (tmp_path / "b.meam.spline").write_text(dumps(smeam_model))
    once = read_meam_spline(tmp_path / "b.meam.spline")
    assert all(a.equals(b) for a, b in zip(once.splines, smeam_model.splines))
    (tmp_path / "c.meam.spline").write_text(dumps(once))
    assert read_meam_spline(tmp_path / "c.meam.spline").equals(once)


def test_comment_line(tmp_path, smeam_model):
    def first_line(metadata):
        model = Model(smeam_model.species, smeam_model.rho, smeam_model.f, smeam_model.g,
                      smeam_model.phi, smeam_model.readout, smeam_model.e0, metadata)
        return dumps(model).splitlines()[0]

    assert first_line({}).startswith("# ") and "snnp_calc" in first_line({})
    assert first_line({"comment": "#x"}) == "#x"
    assert first_line({"comment": "fitted"}) == "# fitted"
    assert first_line({"comment": "two\nlines"}) == "# two lines"


def test_refuses_models_not_expressible(smeam_model):
    with pytest.raises(ValueError, match="mlp readout"):
        dumps(initial_model(["Mo"], 5.0))
    m = smeam_model
    with pytest.raises(ValueError, match="pair term"):
        dumps(Model(m.species, m.rho, m.f, m.g, (), m.readout, m.e0))
    with pytest.raises(ValueError, match="e0 is nonzero for Ni"):
        dumps(Model(m.species, m.rho, m.f, m.g, m.phi, m.readout, [0.0, -1.5]))
    with pytest.raises(ValueError, match="one species"):
        dumps(m, style="old")
    with pytest.raises(ValueError, match="style"):
        dumps(m, style="lammps")


# --- bad files -------------------------------------------------------------------
# A valid one-species new-format file with 3 knots per spline. Block k
# (phi, rho, U, f, g) starts at line 3 + 6k: 'spline3eq', M, 'd0 dN', 3 rows.
GOOD_NEW = """\
# small test potential
meam/spline 1 Si
spline3eq
3
-1.0 0
2.0 1.0 0
3.0 0.5 0
4.0 0 0
spline3eq
3
0.5 0
2.0 1.0 0
3.0 0.5 0
4.0 0 0
spline3eq
3
1.0 2.0
-1.0 -1.0 0
0.0 0.0 0
1.0 1.0 0
spline3eq
3
0.25 0
2.0 0.5 0
3.0 0.25 0
4.0 0 0
spline3eq
3
0 0
-1.0 0.5 0
0.0 0.2 0
1.0 0.1 0
"""
# The same potential in the old format: M, 'd0 dN', skipped line, 3 rows
# per block; block k starts at line 2 + 6k.
GOOD_OLD = "\n".join(
    [GOOD_NEW.splitlines()[0]]
    + [line for k in range(5) for line in
       GOOD_NEW.splitlines()[3 + 6 * k:5 + 6 * k] + ["1 0 1 0"]
       + GOOD_NEW.splitlines()[5 + 6 * k:8 + 6 * k]]) + "\n"


def _edit(text, lineno, old, new):
    """Replace ``old`` by ``new`` on 1-based line ``lineno`` (``old=None``: the whole line)."""
    lines = text.splitlines()
    assert old is None or old in lines[lineno - 1]
    lines[lineno - 1] = new if old is None else lines[lineno - 1].replace(old, new, 1)
    return "\n".join(lines) + "\n"


def _drop(text, first, last):
    lines = text.splitlines()
    return "\n".join(lines[:first - 1] + lines[last:]) + "\n"


def test_good_files_read(tmp_path):
    (tmp_path / "new.meam.spline").write_text(GOOD_NEW)
    (tmp_path / "old.meam.spline").write_text(GOOD_OLD)
    new = read_meam_spline(tmp_path / "new.meam.spline")
    assert read_meam_spline(tmp_path / "old.meam.spline", species="Si").equals(new)
    assert read_meam_spline(tmp_path / "new.meam.spline", species="Si").equals(new)


def test_blank_lines_and_comments_are_skipped(tmp_path):
    text = GOOD_NEW.replace("spline3eq\n", "\n# a comment line\n  \nspline3eq  # block\n")
    text = _edit(text, 2, None, "meam/spline 1 Si # one element")
    path = tmp_path / "commented.meam.spline"
    path.write_text(text + "\n\n# the end\n")
    (tmp_path / "plain.meam.spline").write_text(GOOD_NEW)
    assert read_meam_spline(path).equals(read_meam_spline(tmp_path / "plain.meam.spline"))


BAD_NEW = [
    # (case id, edited text, line, token in the message)
    ("dots", _edit(GOOD_NEW, 7, "0.5", "1.2.3"), 7, "'1.2.3'"),
    ("word", _edit(GOOD_NEW, 7, "0.5", "abc"), 7, "'abc'"),
    ("comma", _edit(GOOD_NEW, 7, "0.5", "1,5"), 7, "'1,5'"),
    ("fortran", _edit(GOOD_NEW, 7, "0.5", "1.0d0"), 7, "'1.0d0'"),
    ("unicode-minus", _edit(GOOD_NEW, 11, "0.5", "\u22120.5"), 11, "'\u22120.5'"),
    ("nan", _edit(GOOD_NEW, 12, "1.0 0", "nan 0"), 12, "'nan'"),
    ("inf", _edit(GOOD_NEW, 5, "-1.0", "-inf"), 5, "'-inf'"),
    ("overflow", _edit(GOOD_NEW, 5, "-1.0", "1e999"), 5, "'1e999'"),
    ("y2-bad", _edit(GOOD_NEW, 20, "1.0 1.0 0", "1.0 1.0 x"), 20, "'x'"),
    ("count-float", _edit(GOOD_NEW, 4, "3", "3.0"), 4, "'3.0'"),
    ("count-word", _edit(GOOD_NEW, 4, "3", "three"), 4, "'three'"),
    ("count-one", _edit(GOOD_NEW, 4, "3", "1"), 4, "'1'"),
    ("count-too-big", _edit(GOOD_NEW, 4, "3", "4"), 9, "'spline3eq'"),
    ("count-too-small", _edit(GOOD_NEW, 4, "3", "2"), 8, "'4.0 0 0'"),
    ("row-2-columns", _edit(GOOD_NEW, 7, "3.0 0.5 0", "3.0 0.5"), 7, "'3.0 0.5'"),
    ("row-4-columns", _edit(GOOD_NEW, 7, "3.0 0.5 0", "3.0 0.5 0 1"), 7, "'3.0 0.5 0 1'"),
    ("knots-decrease", _edit(GOOD_NEW, 7, "3.0", "1.5"), 7, "'1.5'"),
    ("knots-repeat", _edit(GOOD_NEW, 7, "3.0", "2.0"), 7, "'2.0'"),
    ("knots-nonuniform", _edit(GOOD_NEW, 7, "3.0", "3.1"), 7, "'3.1'"),
    ("knots-nonuniform-tiny", _edit(GOOD_NEW, 7, "3.0", "3.0000001"), 7, "'3.0000001'"),
    ("truncated-in-block", _drop(GOOD_NEW, 31, 32), 31, "end of file"),
    ("missing-block", _drop(GOOD_NEW, 27, 32), 27, "end of file"),
    ("extra-block", GOOD_NEW + "\n".join(GOOD_NEW.splitlines()[26:32]) + "\n", 33,
     "'spline3eq'"),
    ("trailing", GOOD_NEW + "garbage here\n", 33, "'garbage here'"),
    ("n-zero", _edit(GOOD_NEW, 2, "1 Si", "0"), 2, "'0'"),
    ("n-mismatch", _edit(GOOD_NEW, 2, "1 Si", "2 Si"), 2, "'2'"),
    ("n-word", _edit(GOOD_NEW, 2, "1 Si", "one Si"), 2, "'one'"),
    ("no-n", _edit(GOOD_NEW, 2, "1 Si", ""), 2, "'meam/spline'"),
    ("unknown-element", _edit(GOOD_NEW, 2, "Si", "Xx"), 2, "'Xx'"),
    ("duplicate-element", _edit(GOOD_NEW, 2, "1 Si", "2 Si Si"), 2, "'Si'"),
    ("missing-end-derivative", _edit(GOOD_NEW, 5, "-1.0 0", "-1.0"), 5, "'-1.0'"),
    ("three-derivatives", _edit(GOOD_NEW, 5, "-1.0 0", "-1.0 0 0"), 5, "'-1.0 0 0'"),
    ("no-spline3eq", _edit(GOOD_NEW, 9, "spline3eq", "spline3"), 9, "'spline3'"),
    ("spline3eq-missing", _drop(GOOD_NEW, 9, 9), 9, "'3'"),
    ("no-comment-line", _drop(GOOD_NEW, 1, 1), 1, "'meam/spline 1 Si'"),
    ("empty", "", 1, "end of file"),
    ("count-too-many", _edit(GOOD_NEW, 4, "3", "100001"), 4, "'100001'"),
    ("count-huge", _edit(GOOD_NEW, 4, "3", "1000000000000"), 4, "'1000000000000'"),
    # increasing, uniform to 1e-8 and finite, but h = 1e-320 underflows: no usable spline
    ("knots-subnormal", _edit(_edit(_edit(GOOD_NEW, 6, "2.0", "0"), 7, "3.0", "1e-320"), 8,
                              "4.0", "2e-320"), 6, "degenerate knot spacing"),
    # finite values whose spline coefficients (y / h^3) overflow
    ("coefficients-overflow", _edit(_edit(_edit(GOOD_NEW, 6, "2.0 1.0", "0 1e300"), 7, "3.0",
                                          "0.001"), 8, "4.0", "0.002"), 6, "would overflow"),
]


@pytest.mark.parametrize("text, line, token", [c[1:] for c in BAD_NEW],
                         ids=[c[0] for c in BAD_NEW])
def test_bad_new_format(tmp_path, text, line, token):
    path = tmp_path / "bad.meam.spline"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ModelFileError) as err:
        read_meam_spline(path)
    message = str(err.value)
    assert f"bad.meam.spline:{line}:" in message
    assert token in message


BAD_OLD = [
    ("missing-end-derivative", _edit(GOOD_OLD, 3, "-1.0 0", "-1.0"), 3, "'-1.0'"),
    ("bad-skipped-line", _edit(GOOD_OLD, 4, None, "one zero"), 4, "'one'"),
    ("missing-skipped-line", _drop(GOOD_OLD, 4, 4), 7, "'3'"),
    ("count-too-small", _edit(GOOD_OLD, 2, "3", "2"), 7, "'4.0 0 0'"),
    ("knots-nonuniform", _edit(GOOD_OLD, 6, "3.0", "2.9"), 6, "'2.9'"),
    ("truncated", _drop(GOOD_OLD, 31, 31), 31, "end of file"),
    ("trailing", GOOD_OLD + "1 2 3\n", 32, "'1 2 3'"),
]


@pytest.mark.parametrize("text, line, token", [c[1:] for c in BAD_OLD],
                         ids=[c[0] for c in BAD_OLD])
def test_bad_old_format(tmp_path, text, line, token):
    path = tmp_path / "bad_old.meam.spline"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ModelFileError) as err:
        read_meam_spline(path, species="Si")
    message = str(err.value)
    assert f"bad_old.meam.spline:{line}:" in message
    assert token in message


def test_species_argument(tmp_path):
    old = tmp_path / "old.meam.spline"
    old.write_text(GOOD_OLD)
    with pytest.raises(ModelFileError, match=r'names no element.*species="Si"') as err:
        read_model(old)
    assert "old.meam.spline:2:" in str(err.value)
    new = tmp_path / "new.meam.spline"
    new.write_text(GOOD_NEW)
    with pytest.raises(ModelFileError, match="new.meam.spline:2:.*'Si'") as err:
        read_meam_spline(new, species="Ge")
    with pytest.raises(ValueError, match="one species"):
        read_meam_spline(old, species=("Si", "Ge"))


def test_not_utf8(tmp_path):
    path = tmp_path / "latin.meam.spline"
    path.write_bytes(_edit(GOOD_NEW, 7, "0.5", "X").encode().replace(b"X", b"\xb5"))
    with pytest.raises(ModelFileError, match=r"latin.meam.spline:7:.*\\xb5"):
        read_meam_spline(path)


def test_radial_ends_off_zero_are_read(potentials_dir, tmp_path):
    """LAMMPS does not require radial splines to end at 0; published files do not all do it.

    Such files are read as they are (and evaluated as LAMMPS does); only ends
    at exactly 0 with slope 0 are marked fixed. The JSON format refuses them.
    """
    off_zero = {}
    for path in _potential_files(potentials_dir):
        model = read_meam_spline(path, species=OLD_SPECIES.get(path.name))
        radial = list(model.phi) + list(model.rho[0]) + list(model.f[0])
        off_zero[path.name] = sum(s.y[-1] != 0.0 or s.dN != 0.0 for s in radial)
        for s in radial:
            assert s.fixed[[-3, -1]].all() == (s.y[-1] == 0.0 and s.dN == 0.0)
    assert off_zero["Cu.smeam2020.meam.spline"] > 0 and off_zero["Mo.smeam2020.meam.spline"] == 0
    path = tmp_path / "tail.meam.spline"
    path.write_text(_edit(GOOD_NEW, 26, "4.0 0 0", "4.0 0.5 0"))    # f ends at 0.5
    model = read_meam_spline(path)
    assert model.f[0][0].y[-1] == 0.5 and model.triplet_range == np.inf
    with pytest.raises(ValueError, match=r"filters\.f\[0\]\[0\]\.y\[2\]"):
        write_model(model, tmp_path / "tail.json")
