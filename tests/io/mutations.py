"""Random mutations of model files for the fuzz test (tests/io/test_fuzz.py).

Every mutator takes a ``numpy.random.Generator`` and the file's bytes (or its
parsed JSON document) and returns ``(bytes, description)``; the same seed
gives the same mutants. Three families:

- bytes (any file): bit flips, truncations, deletions, insertions and
  duplications of characters;
- JSON documents: a number replaced by an extreme token (``1e400``, ``NaN``,
  ``-0``, huge integers, ...), a value of the wrong type, a deleted, duplicated
  or unknown key, an array made shorter or longer, two numbers swapped, a
  radial spline that no longer ends at 0, degenerate knots;
- meam/spline text: a token replaced by an extreme or malformed one, a line
  deleted, duplicated or swapped, a knot count changed, knots with an
  underflowing spacing, a radial end made nonzero.
"""
import json

import numpy as np

# Number tokens a JSON file may hold: overflow, underflow, non-finite, signed zero,
# subnormal, int64 and uint64 boundaries, and plain values in the wrong place.
JSON_NUMBERS = ["1e400", "-1e400", "1e-400", "NaN", "Infinity", "-Infinity", "-0", "-0.0", "0",
                "1e300", "-1e300", "5e-324", "2.2250738585072014e-308", str(10 ** 400),
                str(2 ** 63), str(2 ** 64), str(-2 ** 63), str(-2 ** 63 - 1), str(10 ** 20),
                "1e12", "1000000000000", "-1", "1.5", "2", "1E2", "-2.5e-3"]
# Values of the wrong type, written verbatim.
JSON_WRONG = ['"x"', '""', '"1.0"', "true", "false", "null", "[]", "{}", "[1.0]",
              '{"a": 1}', "[[]]", '"Mo"']
# Tokens for meam/spline files: malformed numbers too (CHECKS.md, "Bad potential files").
MEAM_TOKENS = ["1e400", "-1e400", "1e-400", "nan", "inf", "-inf", "NaN", "-0", "1e300",
               "-1e300", "5e-324", "1e999", str(10 ** 400), "1.2.3", "1,5", "1.0d0", "0x10",
               "\u22121", "1e12", "0", "1", "-1", "+2", ".5", "5.", "1_0", "spline3eq"]
# Characters to insert: JSON and number syntax, whitespace, non-ASCII, NUL.
ALPHABET = list('0123456789-+.eE[]{}",: \n\t#abNIaf') + ["\u00b5", "\u2212", "\x00", "\ufeff"]


class Raw(str):
    """Text written verbatim into a document (a token json.dumps will not write)."""


class Pairs(list):
    """An object as a list of (key, value), so that a key can appear twice."""


def to_tree(value):
    """A parsed document with every object as :class:`Pairs`."""
    if isinstance(value, dict):
        return Pairs((k, to_tree(v)) for k, v in value.items())
    if isinstance(value, list):
        return [to_tree(v) for v in value]
    return value


def emit(value):
    """JSON text of a tree of :class:`Pairs`, lists, :class:`Raw` and plain values."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, Pairs):
        return "{" + ", ".join(f"{json.dumps(k)}: {emit(v)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(emit(v) for v in value) + "]"
    return json.dumps(value)


def _nodes(tree, path=()):
    """``(path, parent, key or index, value)`` of every node below the root."""
    items = (enumerate(tree) if not isinstance(tree, Pairs)
             else ((i, v) for i, (_, v) in enumerate(tree)))
    for i, value in items:
        yield path + (i,), tree, i, value
        if isinstance(value, list):
            yield from _nodes(value, path + (i,))


def _set(parent, i, value):
    if isinstance(parent, Pairs):
        parent[i] = (parent[i][0], value)
    else:
        parent[i] = value


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _choice(rng, seq):
    return seq[int(rng.integers(len(seq)))]


# --- bytes --------------------------------------------------------------------------------
def flip_bit(rng, data):
    pos = int(rng.integers(len(data)))
    out = bytearray(data)
    out[pos] ^= 1 << int(rng.integers(8))
    return bytes(out), f"flip bit of byte {pos}"


def truncate(rng, data):
    pos = int(rng.integers(len(data)))
    return data[:pos], f"truncate at byte {pos}"


def delete_bytes(rng, data):
    pos, n = int(rng.integers(len(data))), int(rng.integers(1, 9))
    return data[:pos] + data[pos + n:], f"delete {n} bytes at {pos}"


def insert_chars(rng, data):
    pos = int(rng.integers(len(data) + 1))
    text = "".join(_choice(rng, ALPHABET) for _ in range(int(rng.integers(1, 4))))
    return data[:pos] + text.encode() + data[pos:], f"insert {text!r} at byte {pos}"


def duplicate_span(rng, data):
    start, n = int(rng.integers(len(data))), int(rng.integers(1, 41))
    pos = int(rng.integers(len(data) + 1))
    return data[:pos] + data[start:start + n] + data[pos:], f"copy {n} bytes from {start} to {pos}"


BYTE_MUTATORS = (flip_bit, truncate, delete_bytes, insert_chars, duplicate_span)


# --- JSON documents -------------------------------------------------------------------------
def _numbers(tree):
    return [n for n in _nodes(tree) if _is_number(n[3])]


def replace_number(rng, tree):
    path, parent, i, _ = _choice(rng, _numbers(tree))
    token = _choice(rng, JSON_NUMBERS)
    _set(parent, i, Raw(token))
    return f"number at {path} -> {token}"


def wrong_type(rng, tree):
    path, parent, i, _ = _choice(rng, list(_nodes(tree)))
    token = _choice(rng, JSON_WRONG)
    _set(parent, i, Raw(token))
    return f"value at {path} -> {token}"


def _objects(tree):
    found = [((), tree)] if isinstance(tree, Pairs) else []
    return found + [(n[0], n[3]) for n in _nodes(tree) if isinstance(n[3], Pairs) and n[3]]


def delete_key(rng, tree):
    path, obj = _choice(rng, _objects(tree))
    key = obj.pop(int(rng.integers(len(obj))))[0]
    return f"delete key {key!r} of {path}"


def duplicate_key(rng, tree):
    path, obj = _choice(rng, _objects(tree))
    k = int(rng.integers(len(obj)))
    key, value = obj[k]
    # the repeat holds the same value or a different one
    obj.insert(k + 1, (key, value if rng.random() < 0.5 else Raw(_choice(rng, JSON_NUMBERS))))
    return f"duplicate key {key!r} of {path}"


def unknown_key(rng, tree):
    path, obj = _choice(rng, _objects(tree))
    obj.insert(int(rng.integers(len(obj) + 1)), ("zz", 1.0))
    return f"unknown key 'zz' in {path}"


def resize_array(rng, tree):
    path, _, _, array = _choice(rng, [n for n in _nodes(tree) if isinstance(n[3], list)
                                      and not isinstance(n[3], Pairs) and n[3]])
    if rng.random() < 0.5:
        array.pop(int(rng.integers(len(array))))
        return f"drop an entry of {path}"
    array.append(array[-1])
    return f"append an entry to {path}"


def swap_numbers(rng, tree):
    numbers = _numbers(tree)
    (pa, parent_a, i, a), (pb, parent_b, j, b) = (numbers[int(k)] for k in
                                                  rng.choice(len(numbers), 2, replace=False))
    _set(parent_a, i, b)
    _set(parent_b, j, a)
    return f"swap numbers at {pa} and {pb}"


def _splines(tree, radial_only):
    """Spline objects (:class:`Pairs` with key ``n_knots``) of the document."""
    splines = [(n[0], n[3]) for n in _nodes(tree) if isinstance(n[3], Pairs)
               and any(k == "n_knots" for k, _ in n[3])]
    if not radial_only:
        return splines
    top = dict(tree)
    radial = {id(s) for name in ("rho", "f") for row in dict(top["filters"])[name] for s in row}
    radial |= {id(s) for s in (top["pair"] or [])}
    return [(p, s) for p, s in splines if id(s) in radial]


def radial_end(rng, tree):
    path, spline = _choice(rng, _splines(tree, radial_only=True))
    fields = dict(spline)
    if rng.random() < 0.5:
        fields["y"][-1] = _choice(rng, [1e-16, -1e-300, 0.5, 5e-324])
    else:
        fields["dN"] = _choice(rng, [1e-16, -0.25, 5e-324])
    spline[:] = Pairs(fields.items())
    return f"radial spline {path} ends off zero"


def degenerate_knots(rng, tree):
    path, spline = _choice(rng, _splines(tree, radial_only=False))
    fields = dict(spline)
    x0 = fields["x0"]
    step = _choice(rng, ["ulp", "subnormal", "huge", "knots"])
    if step == "ulp":
        fields["x1"] = float(np.nextafter(x0, np.inf))
    elif step == "subnormal":
        fields["x0"], fields["x1"] = 0.0, 5e-324 * (fields["n_knots"] - 1)
    elif step == "huge":
        fields["x0"], fields["x1"] = -1.7e308, 1.7e308
    else:
        fields["n_knots"] = _choice(rng, [10 ** 12, 100_001, 0, 1])
    spline[:] = Pairs(fields.items())
    return f"{step} knots in {path}"


TREE_MUTATORS = (replace_number, replace_number, wrong_type, delete_key, duplicate_key,
                 unknown_key, resize_array, swap_numbers, radial_end, degenerate_knots)


def mutate_json(rng, data):
    """One mutant of a JSON model file's bytes: a byte or a document mutation."""
    if rng.random() < 0.45:
        return _choice(rng, BYTE_MUTATORS)(rng, data)
    tree = to_tree(json.loads(data))
    what = _choice(rng, TREE_MUTATORS)(rng, tree)
    return emit(tree).encode(), what


# --- meam/spline text -------------------------------------------------------------------------
def _lines(data):
    return data.decode().split("\n")


def meam_token(rng, data):
    lines = _lines(data)
    spots = [(n, k) for n, line in enumerate(lines[1:], 1) for k, _ in enumerate(line.split())]
    n, k = _choice(rng, spots)
    words = lines[n].split()
    words[k] = _choice(rng, MEAM_TOKENS)
    lines[n] = " ".join(words)
    return "\n".join(lines).encode(), f"line {n + 1} token {k} -> {words[k]!r}"


def meam_lines(rng, data):
    lines = _lines(data)
    n = int(rng.integers(len(lines) - 1))
    kind = _choice(rng, ["delete", "duplicate", "swap"])
    if kind == "delete":
        del lines[n]
    elif kind == "duplicate":
        lines.insert(n, lines[n])
    else:
        lines[n], lines[n + 1] = lines[n + 1], lines[n]
    return "\n".join(lines).encode(), f"{kind} line {n + 1}"


def _blocks(lines):
    """``(first, last)`` line indices of the knot rows of each spline block."""
    rows = [n for n, line in enumerate(lines) if len(line.split()) == 3]
    blocks, start = [], rows[0]
    for a, b in zip(rows, rows[1:] + [None]):
        if b != a + 1:
            blocks.append((start, a))
            start = b
    return blocks


def meam_knots(rng, data):
    lines = _lines(data)
    first, last = _choice(rng, _blocks(lines))
    kind = _choice(rng, ["count", "subnormal", "radial-end"])
    if kind == "count":
        value = _choice(rng, [last - first, last - first + 2, 0, 1, 10 ** 12, 100_001])
        lines[first - 2] = str(value)
    elif kind == "subnormal":
        for m, n in enumerate(range(first, last + 1)):
            lines[n] = " ".join([f"{m}e-320"] + lines[n].split()[1:])
    else:
        x, _, y2 = lines[last].split()
        lines[last] = f"{x} {_choice(rng, ['1e-16', '0.5', '5e-324'])} {y2}"
    return "\n".join(lines).encode(), f"{kind} of the block on lines {first + 1}-{last + 1}"


MEAM_MUTATORS = (meam_token, meam_token, meam_lines, meam_knots)


def mutate_meam(rng, data):
    """One mutant of a meam/spline file's bytes: a byte or a line/token mutation."""
    if rng.random() < 0.4:
        return _choice(rng, BYTE_MUTATORS)(rng, data)
    return _choice(rng, MEAM_MUTATORS)(rng, data)
