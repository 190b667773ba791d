"""Strict JSON documents: a compact layout for writing, and typed access for reading.

Writing (:func:`dumps_document`): objects indented, every numeric vector on
one line, a matrix one row per line; floats with ``repr`` (the shortest
string that reads back to the same float64). Reading (:func:`parse`,
:class:`Reader`): duplicate keys, ``NaN``/``Infinity`` tokens and numbers
beyond float64 are kept visible so that the error can name the key path,
and every access checks type and shape, raising
:class:`~snnp_calc.errors.ModelFileError` as ``<source>: <key path>: <problem>``.

:meth:`Reader.scan` refuses, anywhere in a document (metadata included), what
the LAMMPS plugin's JSON parser (nlohmann) cannot hold, so that both readers
accept the same files: numbers, integers too, beyond the float64 range;
strings with a lone UTF-16 surrogate escape (``"\\ud800"``); nesting deeper
than :data:`MAX_DEPTH` levels. A UTF-8 byte order mark is refused by
:func:`parse`, as by the plugin.

The model and committee documents (:mod:`.json_model`, :mod:`.committee_file`)
are built on it.
"""
import json
import math
import re

import numpy as np

from ..errors import ModelFileError

# Deepest nesting of objects and arrays a document may have (the top level is 1); the
# plugin's reader has the same limit. A model document needs 7.
MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")


def _is_scalar(value):
    return not isinstance(value, (dict, list, tuple))


def _emit(value, path, indent):
    """JSON text of ``value``: objects indented, scalar lists on one line, matrices by row."""
    pad = "  " * (indent + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{key_path(path, '?')}: object keys must be strings, got {key!r}")
            items.append(f"{pad}{json.dumps(key)}: {_emit(item, key_path(path, key), indent + 1)}")
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
    if isinstance(value, (list, tuple)):
        if all(_is_scalar(v) for v in value):
            return "[" + ", ".join(_emit(v, f"{path}[{i}]", 0) for i, v in enumerate(value)) + "]"
        rows = [_emit(v, f"{path}[{i}]", indent + 1) for i, v in enumerate(value)]
        return "[\n" + ",\n".join(pad + row for row in rows) + "\n" + "  " * indent + "]"
    try:
        return json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: cannot write {value!r} as JSON: {err}") from err


def dumps_document(d):
    """Text of a document of plain Python objects, in this module's layout."""
    return _emit(d, "", 0) + "\n"


class _Constant:
    """Stands for a ``NaN``/``Infinity`` token so that the error can name its key path."""

    def __init__(self, token):
        self.token = token


class _DuplicateKeys(dict):
    """An object that had repeated keys (listed in ``duplicates``)."""

    duplicates = ()


def _object_pairs(pairs):
    out = dict(pairs)
    if len(out) != len(pairs):
        seen, duplicates = set(), []
        for key, _ in pairs:
            if key in seen:
                duplicates.append(key)
            seen.add(key)
        out = _DuplicateKeys(out)
        out.duplicates = duplicates
    return out


def key_path(path, key):
    return f"{path}.{key}" if path else key


def type_name(value):
    if value is None:
        return "null"
    for kind, name in ((bool, "bool"), (int, "integer"), (float, "number"), (str, "string"),
                       (list, "array"), (dict, "object")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


class Reader:
    """Typed, shape-checked access to a parsed document; errors name ``source`` and the key."""

    def __init__(self, source):
        self.source = source

    def fail(self, path, message):
        """Raise :class:`ModelFileError` naming the source and key ``path``."""
        raise ModelFileError(f"{self.source}: {path or '<document>'}: {message}")

    def scan(self, value, path, depth=1):
        """Reject what either reader cannot hold, anywhere (see the module docstring).

        Duplicate keys, NaN/Infinity tokens, numbers (integers too) beyond
        float64, lone surrogates in strings and keys, and nesting deeper than
        :data:`MAX_DEPTH`; ``depth`` is the nesting level of ``value``.
        """
        if isinstance(value, _Constant):
            self.fail(path, f"{value.token} is not allowed")
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(path, f"number is not finite ({value})")
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                float(value)
            except OverflowError:
                self.fail(path, "number out of the float64 range")
        if isinstance(value, str) and _SURROGATE.search(value):
            self.fail(path, "string holds a lone UTF-16 surrogate escape")
        if isinstance(value, (dict, list)) and depth > MAX_DEPTH:
            self.fail(path, f"nested deeper than {MAX_DEPTH} levels of objects and arrays")
        if isinstance(value, dict):
            for key in getattr(value, "duplicates", ()):
                self.fail(key_path(path, key), "duplicate key")
            for key, item in value.items():
                if _SURROGATE.search(key):
                    self.fail(key_path(path, ascii(key)), "key holds a lone UTF-16 surrogate "
                              "escape")
                self.scan(item, key_path(path, key), depth + 1)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.scan(item, f"{path}[{i}]", depth + 1)

    def obj(self, value, path, keys=None):
        """``value`` as a dict with exactly ``keys`` (any keys when None)."""
        if not isinstance(value, dict):
            self.fail(path, f"expected an object, got {type_name(value)}")
        if keys is None:
            return value
        for key in keys:
            if key not in value:
                self.fail(key_path(path, key), "missing key")
        for key in value:
            if key not in keys:
                self.fail(key_path(path, key), f"unknown key (expected {', '.join(keys)})")
        return value

    def array(self, value, path, n=None, what="entries"):
        """``value`` as a list, of length ``n`` when given."""
        if not isinstance(value, list):
            self.fail(path, f"expected an array, got {type_name(value)}")
        if n is not None and len(value) != n:
            self.fail(path, f"expected {n} {what}, got {len(value)}")
        return value

    def number(self, value, path):
        """``value`` as a finite float; an int is accepted, a bool is not."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(path, f"expected a number, got {type_name(value)}")
        try:
            number = float(value)
        except OverflowError:
            self.fail(path, "number out of the float64 range")
        if not math.isfinite(number):
            self.fail(path, f"number is not finite ({value})")
        return number

    def integer(self, value, path, low=None, high=None):
        """``value`` as an int (not a bool), optionally within ``low``..``high``."""
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"expected an integer, got {type_name(value)}")
        if low is None:
            return value
        if high is None and value < low:
            self.fail(path, f"expected an integer >= {low}, got {value}")
        if high is not None and not low <= value <= high:
            self.fail(path, f"expected an integer in {low}..{high}, got {value}")
        return value

    def string(self, value, path):
        """``value`` as a str."""
        if not isinstance(value, str):
            self.fail(path, f"expected a string, got {type_name(value)}")
        return value

    def vector(self, value, path, n):
        """``value`` as a float64 array of shape (n,)."""
        value = self.array(value, path, n, "numbers")
        return np.array([self.number(v, f"{path}[{i}]") for i, v in enumerate(value)], np.float64)

    def matrix(self, value, path, shape):
        """``value`` (a list of rows) as a float64 array of ``shape``."""
        rows = self.array(value, path, shape[0], "rows")
        return np.array([self.vector(row, f"{path}[{i}]", shape[1]) for i, row in enumerate(rows)],
                        np.float64).reshape(shape)


def parse(text, source="<string>"):
    """The document in JSON ``text``, not yet checked (``NaN`` tokens kept for :meth:`Reader.scan`)."""
    if text.startswith("\ufeff"):
        raise ModelFileError(f"{source}:1:1: a byte order mark is not allowed in a JSON document")
    try:
        return json.loads(text, object_pairs_hook=_object_pairs, parse_constant=_Constant)
    except json.JSONDecodeError as err:
        raise ModelFileError(f"{source}:{err.lineno}:{err.colno}: {err.msg}") from err
    except RecursionError as err:
        raise ModelFileError(f"{source}: nested deeper than {MAX_DEPTH} levels of objects and "
                             "arrays") from err
    except ValueError as err:  # e.g. an integer literal beyond int_max_str_digits
        raise ModelFileError(f"{source}: {err}") from err


def read_text(path):
    """The UTF-8 text of ``path``; :class:`~snnp_calc.errors.ModelFileError` names a bad byte."""
    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ModelFileError(f"{path}: byte {err.start}: not UTF-8 text") from err
