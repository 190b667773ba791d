"""Tests for snnp_calc.io.json_model: bit-exact round trips, layout, strict reading (CHECKS.md 22)."""
import copy
import json
import re

import numpy as np
import pytest

from snnp_calc import read_model, write_model
from snnp_calc.errors import ModelFileError
from snnp_calc.io import json_model
from snnp_calc.kernels.layout import ACTIVATIONS
from snnp_calc.model.initial import initial_model
from snnp_calc.model.model import Model, SplineReadout
from snnp_calc.model.splines import Spline
from tests.io.conftest import RHO01, W00, set_key, small_mlp_model


def smeam_model(species=("Mo", "Ni"), seed=5):
    """An s-MEAM (spline readout) model built by hand, K_rho = K_t = 1, with a pair term."""
    rng = np.random.default_rng(seed)
    S = len(species)
    P = S * (S + 1) // 2

    def radial(m=7):
        y = rng.normal(size=m)
        y[-1] = 0.0
        fixed = np.zeros(m + 2, bool)
        fixed[[m - 1, m + 1]] = True
        return Spline(1.9, 4.7, y, rng.normal(), 0.0, fixed)

    g = [[Spline(-1.0, 1.0, rng.normal(size=6), rng.normal(), rng.normal()) for _ in range(P)]]
    U = SplineReadout([Spline(-2.0, 3.0, rng.normal(size=5), rng.normal(), rng.normal())
                       for _ in range(S)])
    return Model(species, [[radial() for _ in range(S)]], [[radial() for _ in range(S)]], g,
                 [radial() for _ in range(P)], U, rng.normal(size=S),
                 {"command": "hand-made", "errors": {"rmse": 0.0123}, "misc": [1, 2.5, None, True]})


def small_mlp():
    return small_mlp_model()


ROUND_TRIP_MODELS = {
    "mlp_pair": lambda: initial_model(["Mo", "Ni"], 5.0, noise=0.1, seed=3),
    "linear": lambda: initial_model(["Mo", "Ni"], 5.0, hidden=(), noise=0.1, seed=4),
    "no_pair": lambda: initial_model(["Ni", "Mo"], 4.2, pair=False, noise=0.1, seed=5),
    "one_species": lambda: initial_model(["Nb"], 4.0, n_rho=0, n_triplet=3, noise=0.1, seed=6),
    "smeam": smeam_model,
    "smeam_one_species": lambda: smeam_model(("Si",), seed=9),
    "legendre": lambda: initial_model(["Mo", "Ni"], 5.0, n_rho=2, n_triplet=1, n_legendre=3,
                                      degree=7, noise=0.1, seed=8, legendre_cutoff=4.5),
    "legendre_per_degree": lambda: initial_model(["Mo", "Ni"], 5.0, n_rho=2, n_triplet=1,
                                                 n_legendre=2, degree=4, per_degree=True,
                                                 noise=0.1, seed=10, legendre_cutoff=4.5),
    "legendre_only": lambda: initial_model(["Ge"], 5.0, n_rho=0, n_triplet=0, n_legendre=2,
                                           degree=0, hidden=(3,), noise=0.1, seed=9),
    **{f"activation_{act}": (lambda act=act: initial_model(
        ["Mo", "Ni"], 5.0, n_rho=2, n_triplet=3, hidden=(5, 4), activation=act, noise=0.1,
        seed=7)) for act in ACTIVATIONS},
}


def bits(array):
    return np.ascontiguousarray(array, dtype=np.float64).tobytes()


def kernel_leaves(kernel_model):
    """Every array and scalar of a (nested) kernel named tuple, as arrays."""
    for value in kernel_model:
        if isinstance(value, tuple):
            yield from kernel_leaves(value)
        else:
            yield np.asarray(value)


# --- round trips -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(ROUND_TRIP_MODELS))
def test_round_trip_bit_identical(name, tmp_path):
    model = ROUND_TRIP_MODELS[name]()
    path = tmp_path / f"{name}.json"
    write_model(model, path)
    back = read_model(path)
    assert back.equals(model) and model.equals(back)
    assert bits(back.to_vector()) == bits(model.to_vector())
    assert back.cutoff == model.cutoff
    # the kernels see identical arrays, hence give identical predictions
    for mine, theirs in zip(kernel_leaves(model.kernel_model), kernel_leaves(back.kernel_model)):
        assert mine.dtype == theirs.dtype and mine.tobytes() == theirs.tobytes()
    assert json_model.dumps(back) == path.read_text()


def test_round_trip_awkward_floats():
    model = small_mlp()
    vector = model.to_vector()
    vector[:6] = [-0.0, 5e-324, 1.7976931348623157e308 / 1e10, 0.1 + 0.2, -1 / 3, 2.0 ** -1074]
    model = model.from_vector(vector)
    back = json_model.loads(json_model.dumps(model))
    assert back.equals(model)
    assert bits(back.to_vector()) == bits(vector)


def test_from_dict_to_dict():
    model = smeam_model()
    d = json_model.to_dict(model)
    assert json.loads(json_model.dumps(model)) == d
    assert json_model.from_dict(copy.deepcopy(d)).equals(model)
    assert d["pair"] is not None and d["readout"]["kind"] == "spline"
    assert json_model.to_dict(ROUND_TRIP_MODELS["no_pair"]())["pair"] is None


def test_ints_accepted_where_floats_expected():
    model = smeam_model()
    d = json_model.to_dict(model)
    d["filters"]["g"][0][0]["x0"] = -1
    d["filters"]["g"][0][0]["x1"] = 1
    d["readout"]["U"][0]["x0"] = -2
    assert json_model.from_dict(d).equals(model)


# --- layout ----------------------------------------------------------------------------------
def test_layout_vectors_on_one_line():
    model = initial_model(["Mo", "Ni"], 5.0, noise=0.1, seed=3)
    text = json_model.dumps(model)
    assert text.endswith("}\n")
    lines = text.splitlines()
    number = r"-?\d+(\.\d+)?([eE][-+]?\d+)?"
    # no number sits alone on a line
    assert not [ln for ln in lines if re.fullmatch(rf"\s*{number},?", ln)]
    y_lines = [ln for ln in lines if ln.lstrip().startswith('"y": [')]
    assert len(y_lines) == len(model.splines)
    for ln, spline in zip(y_lines, model.splines):
        assert ln.rstrip(",").endswith("]")
        assert json.loads(ln.strip().rstrip(",").split(": ", 1)[1]) == spline.y.tolist()
    # a matrix is written one row per line
    W = model.readout.weights[0][0]
    for row in W:
        assert "      " + json.dumps(row.tolist()) in text
    for key in ("species", "e0", "fixed", "hidden"):
        assert re.search(rf'"{key}": \[[^\n]*\]', text)


def test_dumps_rejects_unwritable_metadata():
    base = small_mlp()
    for metadata, path in (({"a": {"b": float("nan")}}, "metadata.a.b"),
                           ({"x": [1, object()]}, "metadata.x[1]"),
                           ({"k": {3: 1.0}}, "metadata.k")):
        model = Model(base.species, base.rho, base.f, base.g, base.phi, base.readout, base.e0,
                      metadata)
        with pytest.raises(ValueError, match=re.escape(path)):
            json_model.dumps(model)


# --- bad documents ---------------------------------------------------------------------------
def _del(d, keys):
    for key in keys[:-1]:
        d = d[key]
    del d[keys[-1]]


def setter(*keys, value):
    return lambda d: set_key(d, keys, value)


def deleter(*keys):
    return lambda d: _del(d, keys)




def _drop_g_filter(d):
    d["filters"]["g"].pop()


def _no_filters(d):
    d["filters"].update(rho=[], f=[], g=[], legendre=[])


def _short_y(d):
    d["filters"]["rho"][0][1]["y"].pop()


def _one_knot(d):
    s = d["filters"]["rho"][0][1]
    s["y"], s["n_knots"], s["fixed"] = [0.0], 1, []


def _swap_knots(d):
    s = d["filters"]["f"][1][0]
    s["x0"], s["x1"] = s["x1"], s["x0"]


def _extra_layer(d):
    d["readout"]["weights"][1].append(d["readout"]["weights"][1][-1])


def _k_mismatch(d):
    for row in d["readout"]["input_offset"]:
        row.pop()


# (id, mutation of a valid MLP document, key path expected in the message)
MLP_CASES = [
    *[(f"missing_{key}", deleter(key), key) for key in json_model.TOP_KEYS],
    ("unknown_top_key", setter("extra", value=1), "extra"),
    ("unknown_format", setter("format", value="uf3"), "format"),
    ("format_not_string", setter("format", value=1), "format"),
    ("version_5", setter("version", value=5), "version"),
    ("legendre_outputs_in_version_3", setter("version", value=3), "filters.legendre_outputs"),
    ("legendre_in_version_2", setter("version", value=2), "filters.legendre_degree"),
    ("core_in_version_1", setter("version", value=1), "core"),
    ("core_unknown_kind", setter("core", value={"kind": "lj", "r_inner": 1.0, "r_outer": 2.0}),
     "core.kind"),
    ("core_inverted", setter("core", value={"kind": "zbl", "r_inner": 2.0, "r_outer": 1.0}),
     "core"),
    ("core_missing_key", setter("core", value={"kind": "zbl", "r_inner": 1.0}), "core.r_outer"),
    ("version_float", setter("version", value=1.0), "version"),
    ("version_bool", setter("version", value=True), "version"),
    ("version_string", setter("version", value="1"), "version"),
    ("energy_unit", setter("units", "energy", value="kcal/mol"), "units.energy"),
    ("length_unit", setter("units", "length", value="Bohr"), "units.length"),
    ("units_extra_key", setter("units", "time", value="fs"), "units.time"),
    ("units_missing_key", deleter("units", "length"), "units.length"),
    ("units_not_object", setter("units", value="eV"), "units"),
    ("species_unknown", setter("species", value=["Mo", "Xx"]), "species[1]"),
    ("species_duplicate", setter("species", value=["Mo", "Mo"]), "species[1]"),
    ("species_not_string", setter("species", value=[42, "Ni"]), "species[0]"),
    ("species_string", setter("species", value="MoNi"), "species"),
    ("species_three", setter("species", value=["Mo", "Ni", "Nb"]), "filters.rho[0]"),
    ("cutoff_mismatch", setter("cutoff", value=5.5), "cutoff"),
    ("cutoff_one_ulp", setter("cutoff", value=float(np.nextafter(5.0, 6.0))), "cutoff"),
    ("cutoff_string", setter("cutoff", value="5.0"), "cutoff"),
    ("cutoff_bool", setter("cutoff", value=True), "cutoff"),
    ("cutoff_null", setter("cutoff", value=None), "cutoff"),
    ("filters_missing_g", deleter("filters", "g"), "filters.g"),
    ("filters_extra", setter("filters", "phi", value=[]), "filters.phi"),
    ("filters_not_object", setter("filters", value=[]), "filters"),
    ("rho_wrong_count", lambda d: d["filters"]["rho"][0].pop(), "filters.rho[0]"),
    ("rho_not_list", setter("filters", "rho", value={}), "filters.rho"),
    ("f_wrong_count", lambda d: d["filters"]["f"][1].pop(), "filters.f[1]"),
    ("g_wrong_count", lambda d: d["filters"]["g"][0].pop(), "filters.g[0]"),
    ("g_filter_count", _drop_g_filter, "filters.g"),
    ("no_filters", _no_filters, "filters"),
    ("y_short", _short_y, "filters.rho[0][1].y"),
    ("y_not_list", setter(*RHO01, "y", value=1.0), "filters.rho[0][1].y"),
    ("y_string", setter(*RHO01, "y", 2, value="0.5"), "filters.rho[0][1].y[2]"),
    ("y_bool", setter(*RHO01, "y", 2, value=False), "filters.rho[0][1].y[2]"),
    ("y_null", setter(*RHO01, "y", 2, value=None), "filters.rho[0][1].y[2]"),
    ("y_nested", setter(*RHO01, "y", 2, value=[0.5]), "filters.rho[0][1].y[2]"),
    ("n_knots_float", setter(*RHO01, "n_knots", value=5.0), "filters.rho[0][1].n_knots"),
    ("n_knots_bool", setter(*RHO01, "n_knots", value=True), "filters.rho[0][1].n_knots"),
    ("n_knots_one", _one_knot, "filters.rho[0][1].n_knots"),
    ("missing_dN", deleter(*RHO01, "dN"), "filters.rho[0][1].dN"),
    ("missing_d0", deleter("filters", "g", 1, 2, "d0"), "filters.g[1][2].d0"),
    ("missing_fixed", deleter(*RHO01, "fixed"), "filters.rho[0][1].fixed"),
    ("spline_extra_key", setter(*RHO01, "y2", value=[]), "filters.rho[0][1].y2"),
    ("spline_not_object", setter(*RHO01, value=[1.0, 2.0]), "filters.rho[0][1]"),
    ("x0_null", setter(*RHO01, "x0", value=None), "filters.rho[0][1].x0"),
    ("d0_string", setter(*RHO01, "d0", value="0"), "filters.rho[0][1].d0"),
    ("knots_decrease", _swap_knots, "filters.f[1][0]"),
    ("fixed_out_of_range", setter(*RHO01, "fixed", value=[4, 7]), "filters.rho[0][1].fixed[1]"),
    ("fixed_negative", setter(*RHO01, "fixed", value=[-1]), "filters.rho[0][1].fixed[0]"),
    ("fixed_unsorted", setter(*RHO01, "fixed", value=[6, 4]), "filters.rho[0][1].fixed[1]"),
    ("fixed_repeated", setter(*RHO01, "fixed", value=[4, 4]), "filters.rho[0][1].fixed[1]"),
    ("fixed_float", setter(*RHO01, "fixed", value=[4.0]), "filters.rho[0][1].fixed[0]"),
    ("fixed_bool_mask", setter(*RHO01, "fixed", value=[True, False]),
     "filters.rho[0][1].fixed[0]"),
    ("pair_wrong_count", lambda d: d["pair"].pop(), "pair"),
    ("pair_object", setter("pair", value={}), "pair"),
    ("pair_spline_y", setter("pair", 2, "y", value=[0.0]), "pair[2].y"),
    ("readout_not_object", setter("readout", value="mlp"), "readout"),
    ("readout_missing_kind", deleter("readout", "kind"), "readout.kind"),
    ("readout_unknown_kind", setter("readout", "kind", value="gp"), "readout.kind"),
    ("readout_extra_key", setter("readout", "U", value=[]), "readout.U"),
    ("readout_missing_hidden", deleter("readout", "hidden"), "readout.hidden"),
    ("activation_unknown", setter("readout", "activation", value="relu"), "readout.activation"),
    ("activation_null", setter("readout", "activation", value=None), "readout.activation"),
    ("hidden_float", setter("readout", "hidden", value=[3.0]), "readout.hidden[0]"),
    ("hidden_zero", setter("readout", "hidden", value=[0]), "readout.hidden[0]"),
    ("hidden_vs_weights", setter("readout", "hidden", value=[4]), "readout.weights[0][0].W"),
    ("hidden_deeper", setter("readout", "hidden", value=[3, 3]), "readout.weights[0]"),
    ("offset_rows", lambda d: d["readout"]["input_offset"].pop(), "readout.input_offset"),
    ("offset_K", _k_mismatch, "readout.input_offset[0]"),
    ("scale_zero", setter("readout", "input_scale", 1, 2, value=0.0),
     "readout.input_scale[1][2]"),
    ("scale_negative", setter("readout", "input_scale", 0, 0, value=-1.0),
     "readout.input_scale[0][0]"),
    ("scale_string", setter("readout", "input_scale", 0, 3, value="1"),
     "readout.input_scale[0][3]"),
    ("weights_species", lambda d: d["readout"]["weights"].pop(), "readout.weights"),
    ("weights_extra_layer", _extra_layer, "readout.weights[1]"),
    ("W_rows", lambda d: d["readout"]["weights"][0][0]["W"].pop(), "readout.weights[0][0].W"),
    ("W_row_length", lambda d: d["readout"]["weights"][0][0]["W"][1].pop(),
     "readout.weights[0][0].W[1]"),
    ("W_not_matrix", setter(*W00, "W", value=[1.0, 2.0, 3.0]), "readout.weights[0][0].W[0]"),
    ("b_length", lambda d: d["readout"]["weights"][1][1]["b"].append(0.0),
     "readout.weights[1][1].b"),
    ("layer_missing_b", deleter("readout", "weights", 1, 1, "b"), "readout.weights[1][1].b"),
    ("layer_extra_key", setter(*W00, "activation", value="tanh"),
     "readout.weights[0][0].activation"),
    ("layer_not_object", setter(*W00, value=[[1.0]]), "readout.weights[0][0]"),
    ("e0_length", setter("e0", value=[0.0]), "e0"),
    ("e0_string", setter("e0", 1, value="0"), "e0[1]"),
    ("e0_scalar", setter("e0", value=0.0), "e0"),
    ("metadata_list", setter("metadata", value=[]), "metadata"),
    ("metadata_null", setter("metadata", value=None), "metadata"),
    ("overflow_int", setter(*RHO01, "d0", value=10 ** 400), "filters.rho[0][1].d0"),
]

SMEAM_CASES = [
    ("spline_readout_two_rho", lambda d: d["filters"]["rho"].append(d["filters"]["rho"][0]),
     "readout.kind"),
    ("spline_readout_no_f", lambda d: d["filters"].update(f=[], g=[]), "readout.kind"),
    ("spline_readout_U_count", lambda d: d["readout"]["U"].pop(), "readout.U"),
    ("spline_readout_missing_U", deleter("readout", "U"), "readout.U"),
    ("spline_readout_mlp_key", setter("readout", "hidden", value=[]), "readout.hidden"),
    ("spline_readout_U_y", setter("readout", "U", 1, "n_knots", value=4), "readout.U[1].y"),
]


def _legendre_ragged(d):
    d["filters"]["legendre"][1]["c"][2].pop()


def _legendre_end(d):
    d["filters"]["legendre"][0]["f"][1]["y"][-1] = 0.5


LEGENDRE = ("filters", "legendre")
LEGENDRE_CASES = [
    ("degree_too_high", setter("filters", "legendre_degree", value=13),
     "filters.legendre_degree"),
    ("degree_mismatch", setter("filters", "legendre_degree", value=3), "filters.legendre[0].c[0]"),
    ("coefficient_rows", lambda d: d["filters"]["legendre"][0]["c"].pop(),
     "filters.legendre[0].c"),
    ("ragged_coefficients", _legendre_ragged, "filters.legendre[1].c[2]"),
    ("nan_coefficient", setter(*LEGENDRE, 0, "c", 1, 0, value=float("nan")),
     "filters.legendre[0].c[1][0]"),
    ("radial_end", _legendre_end, "filters.legendre[0].f[1].y[4]"),
    ("missing_c", deleter(*LEGENDRE, 1, "c"), "filters.legendre[1].c"),
    ("unknown_key", setter(*LEGENDRE, 0, "g", value=[]), "filters.legendre[0].g"),
    ("one_f_spline", lambda d: d["filters"]["legendre"][0]["f"].pop(), "filters.legendre[0].f"),
    ("readout_inputs", lambda d: d["filters"]["legendre"].pop(), "readout.input_offset[0]"),
    ("unknown_outputs", setter("filters", "legendre_outputs", value="each"),
     "filters.legendre_outputs"),
    ("outputs_not_string", setter("filters", "legendre_outputs", value=1),
     "filters.legendre_outputs"),
    ("missing_outputs", deleter("filters", "legendre_outputs"), "filters.legendre_outputs"),
    # one input per degree: the readout of one input per filter has too few
    ("per_degree_inputs", setter("filters", "legendre_outputs", value="degree"),
     "readout.input_offset[0]"),
]


@pytest.fixture(scope="module")
def legendre_doc():
    return json_model.to_dict(initial_model(["Mo", "Ni"], 5.0, n_rho=1, n_triplet=1,
                                            n_legendre=2, degree=2, hidden=(3,), n_knots=5,
                                            n_knots_angular=4, noise=0.1, seed=3))


@pytest.mark.parametrize("mutate, path", [c[1:] for c in LEGENDRE_CASES],
                         ids=[c[0] for c in LEGENDRE_CASES])
def test_bad_legendre_document(legendre_doc, check_rejected, mutate, path):
    doc = copy.deepcopy(legendre_doc)
    mutate(doc)
    check_rejected(json.dumps(doc), path)


@pytest.fixture(scope="module")
def smeam_doc():
    return json_model.to_dict(smeam_model())


def test_valid_documents_read(mlp_doc, smeam_doc, tmp_path):
    """The unmutated documents the bad-document tests start from are accepted."""
    for doc in (mlp_doc, smeam_doc):
        file = tmp_path / "ok.json"
        file.write_text(json.dumps(doc))
        assert json_model.read_json(file).equals(json_model.from_dict(doc))


@pytest.mark.parametrize("mutate, path", [c[1:] for c in MLP_CASES],
                         ids=[c[0] for c in MLP_CASES])
def test_bad_mlp_document(mlp_doc, check_rejected, mutate, path):
    doc = copy.deepcopy(mlp_doc)
    mutate(doc)
    check_rejected(json.dumps(doc), path)


@pytest.mark.parametrize("mutate, path", [c[1:] for c in SMEAM_CASES],
                         ids=[c[0] for c in SMEAM_CASES])
def test_bad_smeam_document(smeam_doc, check_rejected, mutate, path):
    doc = copy.deepcopy(smeam_doc)
    mutate(doc)
    check_rejected(json.dumps(doc), path)


def test_constructor_errors_chain_and_name_source(mlp_doc):
    doc = copy.deepcopy(mlp_doc)
    _swap_knots(doc)
    with pytest.raises(ModelFileError, match=r"^model\.json: filters\.f\[1\]\[0\]: ") as info:
        json_model.from_dict(doc, source="model.json")
    assert isinstance(info.value.__cause__, ValueError)


def test_error_message_example(mlp_doc, check_rejected):
    doc = copy.deepcopy(mlp_doc)
    _short_y(doc)
    message = check_rejected(json.dumps(doc), "filters.rho[0][1].y")
    assert message.endswith("filters.rho[0][1].y: expected 5 numbers, got 4")


# --- values the plugin could not evaluate: the same checks as its reader --------------------
def _radial_end(name, field, value):
    def mutate(d):
        spline = d["filters"][name][0][1] if name != "pair" else d["pair"][2]
        if field == "y":
            spline["y"][-1] = value
        else:
            spline["dN"] = value
    return mutate


def _spacing(x0, x1):
    def mutate(d):
        s = d["filters"]["g"][1][0]
        s["x0"], s["x1"] = x0, x1
    return mutate


def _mlp_limit(d, key, value):
    d["readout"][key] = value


BAD_VALUE_CASES = [
    # radial splines must end with value 0 and slope 0 (DESIGN.md §1)
    ("rho_end_value", _radial_end("rho", "y", 1e-16), "filters.rho[0][1].y[4]", "value 0"),
    ("f_end_slope", _radial_end("f", "dN", -0.25), "filters.f[0][1].dN", "slope 0"),
    ("pair_end_value", _radial_end("pair", "y", 5e-324), "pair[2].y[4]", "value 0"),
    # knot spacing that underflows, or whose reciprocal or coefficients overflow
    ("spacing_underflow", _spacing(1e-310, 2e-310), "filters.g[1][0]", "degenerate knot spacing"),
    ("spacing_zero", _spacing(0.0, 5e-324), "filters.g[1][0]", "degenerate knot spacing"),
    ("span_overflow", _spacing(-1.7e308, 1.7e308), "filters.g[1][0]", "degenerate knot spacing"),
    ("coefficients_overflow", _spacing(0.0, 1e-110), "filters.g[1][0]", "would overflow"),
    ("knots_equal_after_rounding", _spacing(1.0, 1.0 + 1e-300), "filters.g[1][0]", "increase"),
    # size limits (json_model.MAX_*), the same in the plugin
    ("n_knots_huge", setter(*RHO01, "n_knots", value=10 ** 12), "filters.rho[0][1].n_knots",
     "2..100000"),
    ("n_knots_float", setter(*RHO01, "n_knots", value=1e12), "filters.rho[0][1].n_knots",
     "expected an integer"),
    ("hidden_too_wide", lambda d: _mlp_limit(d, "hidden", [10 ** 9]), "readout.hidden[0]",
     "1..10000"),
    ("hidden_too_deep", lambda d: _mlp_limit(d, "hidden", [3] * 65), "readout.hidden",
     "at most 64"),
    ("too_many_filters", lambda d: d["filters"]["rho"].extend(d["filters"]["rho"] * 500),
     "filters.rho", "at most 1000"),
    # a divisor without a finite reciprocal
    ("scale_subnormal", setter("readout", "input_scale", 1, 2, value=5e-324),
     "readout.input_scale[1][2]", "normal float64"),
    ("species_X", setter("species", value=["Mo", "X"]), "species[1]", "unknown element"),
    ("core_beyond_cutoff", setter("core", value={"kind": "zbl", "r_inner": 1.0, "r_outer": 9.0}),
     "core.r_outer", "beyond the cutoff"),
]


@pytest.mark.parametrize("mutate, path, words", [c[1:] for c in BAD_VALUE_CASES],
                         ids=[c[0] for c in BAD_VALUE_CASES])
def test_bad_values(mlp_doc, check_rejected, mutate, path, words):
    doc = copy.deepcopy(mlp_doc)
    mutate(doc)
    assert words in check_rejected(json.dumps(doc), path)


def test_near_degenerate_spacing_is_accepted(mlp_doc):
    """A tiny spacing that float64 still represents, with its coefficients, is a valid spline."""
    doc = copy.deepcopy(mlp_doc)
    s = doc["filters"]["g"][1][0]
    s["x1"] = float(np.nextafter(s["x0"], np.inf))
    spline = json_model.from_dict(doc).g[1][0]
    assert spline.x1 == np.nextafter(spline.x0, np.inf) and np.isfinite(spline(0.5)[0])


def test_writer_refuses_radial_end_off_zero(tmp_path):
    """What the reader refuses the writer does not write; meam/spline still holds it."""
    model = smeam_model()
    s = model.f[0][1]
    bad = Model(model.species, model.rho, [[model.f[0][0], s.with_params(
        np.concatenate([s.y, [s.d0, 1e-16]]))]], model.g, model.phi, model.readout, [0.0, 0.0])
    with pytest.raises(ValueError, match=r"filters\.f\[0\]\[1\]\.dN: a radial spline must end "
                                         r"with slope 0"):
        write_model(bad, tmp_path / "bad.json")
    assert not (tmp_path / "bad.json").exists()
    write_model(bad, tmp_path / "bad.meam.spline")
    assert read_model(tmp_path / "bad.meam.spline").f[0][1].dN == 1e-16
