"""Strict JSON documents (snnp_calc.io.json_document), through the model reader.

Non-finite numbers, duplicate keys and malformed text are rejected with the
file, the key path or the line and column.
"""
import copy
import json
import re

import pytest

from snnp_calc.errors import ModelFileError
from snnp_calc.io import json_document, json_model
from tests.io.conftest import RHO01, W00, set_key, small_mlp_model

# Tokens json.dumps will not write: put a marker string in, then replace it in the text.
TOKEN_CASES = [
    ("nan_token", RHO01 + ("y", 0), "NaN", "filters.rho[0][1].y[0]"),
    ("infinity_token", ("cutoff",), "Infinity", "cutoff"),
    ("minus_infinity_token", ("e0", 1), "-Infinity", "e0[1]"),
    ("overflow_float", RHO01 + ("dN",), "1e999", "filters.rho[0][1].dN"),
    ("overflow_in_weights", W00 + ("W", 2, 1), "-2e400", "readout.weights[0][0].W[2][1]"),
    ("nan_in_metadata", ("metadata", "rmse"), "NaN", "metadata.rmse"),
    ("overflow_in_metadata", ("metadata", "x"), "1e999", "metadata.x"),
]


@pytest.mark.parametrize("keys, token, path", [c[1:] for c in TOKEN_CASES],
                         ids=[c[0] for c in TOKEN_CASES])
def test_non_finite_numbers(mlp_doc, check_rejected, keys, token, path):
    doc = copy.deepcopy(mlp_doc)
    set_key(doc, keys, "@MARKER@")
    text = json.dumps(doc).replace('"@MARKER@"', token)
    message = check_rejected(text, path)
    assert "finite" in message or token in message


@pytest.mark.parametrize("key, path", [('"d0": ', "filters.rho[0][0].d0"),
                                       ('"format": ', "format"),
                                       ('"activation": ', "readout.activation")])
def test_duplicate_keys(mlp_doc, check_rejected, key, path):
    text = json.dumps(mlp_doc)
    value = text[text.index(key) + len(key):].split(",", 1)[0]
    text = text.replace(key, f"{key}{value}, {key}", 1)
    assert "duplicate" in check_rejected(text, path)


def test_top_level_not_object(check_rejected):
    check_rejected("[1, 2]\n", "<document>")


@pytest.mark.parametrize("text_of", [
    lambda text: text[: len(text) // 2],              # truncated
    lambda text: text + "\n{}\n",                     # trailing content
    lambda text: text.replace('"e0": [', '"e0": [1.2.3, ', 1),
    lambda text: text.replace('"e0": [', '"e0": [1,5e, ', 1),
    lambda text: text.replace('"e0": [', '"e0": [\u22121.0, ', 1),   # Unicode minus
    lambda text: text.replace('"e0": [', '"e0": [nan, ', 1),
    lambda text: text.replace('"cutoff": 5.0', '"cutoff": 5.0d0', 1),
    lambda text: "",
    lambda text: text + "\x00",                      # a NUL byte after the document
], ids=["truncated", "trailing", "1.2.3", "1,5e", "unicode_minus", "nan_lower", "1.0d0",
        "empty", "trailing_nul"])
def test_malformed_json_names_line_and_column(tmp_path, text_of):
    file = tmp_path / "Mo.json"
    file.write_text(text_of(json_model.dumps(small_mlp_model())), encoding="utf-8")
    with pytest.raises(ModelFileError, match=rf"^{re.escape(str(file))}:\d+:\d+: "):
        json_model.read_json(file)


def test_not_utf8(tmp_path):
    file = tmp_path / "Mo.json"
    file.write_bytes(b'{"format": "snnp\xff"}')
    with pytest.raises(ModelFileError, match=re.escape(str(file))):
        json_model.read_json(file)


def test_integer_literal_too_long(tmp_path):
    file = tmp_path / "Mo.json"
    text = json_model.dumps(small_mlp_model()).replace('"cutoff": 5.0', '"cutoff": ' + "1" * 5000, 1)
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ModelFileError, match=rf"^{re.escape(str(file))}: "):
        json_model.read_json(file)


# --- what the plugin's parser cannot hold is refused anywhere, metadata included ------------
@pytest.mark.parametrize("token, path", [
    (str(10 ** 400), "metadata.x"),          # an integer beyond float64
    (str(-10 ** 309), "metadata.x"),
    ('"\\ud800"', "metadata.x"),             # a lone surrogate escape
    ('{"a": "\\udfff"}', "metadata.x.a"),
], ids=["huge_int", "huge_negative_int", "lone_surrogate", "nested_surrogate"])
def test_refused_in_metadata(mlp_doc, check_rejected, token, path):
    doc = copy.deepcopy(mlp_doc)
    doc["metadata"]["x"] = "@MARKER@"
    check_rejected(json.dumps(doc).replace('"@MARKER@"', token), path)


def test_big_integers_within_float64_are_numbers(mlp_doc, tmp_path):
    """An integer literal that float64 holds (rounded) reads as that float, as in the plugin."""
    doc = copy.deepcopy(mlp_doc)
    doc["e0"] = [2 ** 64, -10 ** 30]
    doc["metadata"]["seed"] = 10 ** 300
    model = json_model.from_dict(doc)
    assert model.e0.tolist() == [float(2 ** 64), -1e30]


@pytest.mark.parametrize("depth, ok", [(64, True), (65, False), (5000, False)])
def test_nesting_depth(mlp_doc, tmp_path, depth, ok):
    """At most MAX_DEPTH levels (the document is level 1); deeper never raises RecursionError."""
    assert json_document.MAX_DEPTH == 64
    doc = copy.deepcopy(mlp_doc)
    doc["metadata"]["deep"] = "@MARKER@"
    nested = "[" * (depth - 2) + "]" * (depth - 2)    # metadata is level 2, "deep" level 3
    file = tmp_path / "Mo.json"
    file.write_text(json.dumps(doc).replace('"@MARKER@"', nested), encoding="utf-8")
    if ok:
        assert json_model.read_json(file).metadata["deep"] is not None
        return
    with pytest.raises(ModelFileError, match=rf"^{re.escape(str(file))}: .*deeper than 64"):
        json_model.read_json(file)


def test_byte_order_mark(tmp_path):
    file = tmp_path / "Mo.json"
    file.write_text("\ufeff" + json_model.dumps(small_mlp_model()), encoding="utf-8")
    with pytest.raises(ModelFileError, match=rf"^{re.escape(str(file))}:1:1: a byte order mark"):
        json_model.read_json(file)
