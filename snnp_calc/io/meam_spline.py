"""LAMMPS ``pair_style meam/spline`` potential files (DESIGN.md §1, §4).

A meam/spline file is an s-MEAM :class:`~snnp_calc.model.model.Model` with
``K_rho = K_t = 1``, a pair term, the spline readout and ``e0 = 0``. For N
species and P = N(N+1)/2 unordered pairs in LAMMPS ``ij_to_potl`` order
(0,0), (0,1), ..., (0,N-1), (1,1), ..., the file holds, after a comment line,
the splines phi (P), rho (N), U (N), f (N), g (P). Two layouts exist::

    new format                        old format (one species, no symbol)
    # comment                         # comment
    meam/spline N el_1 ... el_N       M
    spline3eq                         d0 dN
    M                                 1 0 1 0      <- skipped by LAMMPS
    d0 dN                             x_0 y_0 y''_0
    x_0 y_0 y''_0                     ...
    ...

Knots must be uniformly spaced; only x_0 and x_{M-1} are kept (the
:class:`~snnp_calc.model.splines.Spline` recomputes the grid). The y'' column must
hold a valid number but is ignored: the spline recomputes it.

The reader is strict (CHECKS.md, "Bad potential files"): every defect raises
:class:`~snnp_calc.errors.ModelFileError` as ``<path>:<line>: <what>, got '<token>'``.
As LAMMPS' PotentialFileReader does, text after ``#`` on lines after the first
is a comment and blank lines are skipped; unlike LAMMPS, each record must sit
on one line with exactly its number of tokens.

Knot counts are at most :data:`~snnp_calc.model.splines.MAX_KNOTS`, and the knot
spacing and coefficients must be representable
(:func:`~snnp_calc.model.splines.check_spacing`): a spacing that underflows, or
values too large for it, is refused naming the block's lines.

Radial ends. Unlike the JSON model file, a meam/spline file may have radial
splines (phi, rho, f) that do not end with value 0 and slope 0 at their last
knot: LAMMPS does not require it, and published files do not all do it (the
smeam2020 files of Cu, Ge, Li and Ni end some radial splines with 1e-16). Such
a file is read as it is and evaluated exactly as LAMMPS evaluates it (an f
that does not vanish beyond its last knot makes every neighbour within the
cutoff take part in triplets); only radial splines that end at 0 with slope 0
get their two end parameters marked fixed for fitting.
"""
import dataclasses
import math
import re

import numpy as np
from ase.data import atomic_numbers

from ..errors import ModelFileError
from ..model.model import Model, SplineReadout
from ..model.splines import MAX_KNOTS, Spline, second_derivatives

# Python's float() also takes 'nan', 'inf', '1_0', Unicode digits and
# surrounding whitespace; a potential file may hold only plain ASCII decimals.
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INT = re.compile(r"[+-]?[0-9]+")
# LAMMPS splits words on ASCII whitespace only; a non-breaking space stays
# inside a token and so makes it invalid.
_SPACE = re.compile(r"[ \t\r\f\v]+")
# The skipped line of old-format blocks, as the LAMMPS distribution files
# (Si_1, Ti) write it for phi, rho, U, f and g.
_OLD_FLAGS = {"phi": "1 0 1 0", "rho": "1 0 0 0", "U": "1 1 1 1", "f": "1 0 1 0",
              "g": "1 1 1 1"}
_DEFAULT_COMMENT = "# meam/spline potential written by snnp_calc"


class _Records:
    """The data records of a file: line 1 kept raw, later lines tokenised.

    Parameters
    ----------
    path : str
        For error messages.
    text : str
        The whole file.
    """

    def __init__(self, path, text):
        self.path = path
        lines = [line.rstrip("\r") for line in text.split("\n")]
        if lines and lines[-1] == "":
            lines.pop()  # the newline ending the last line starts no new line
        self.comment = lines[0] if lines else None
        self.eof_line = len(lines) + 1
        self.records = []
        for lineno, line in enumerate(lines[1:], start=2):
            tokens = [t for t in _SPACE.split(line.split("#", 1)[0]) if t]
            if tokens:
                self.records.append((lineno, tokens))
        self.pos = 0

    def error(self, lineno, message):
        return ModelFileError(f"{self.path}:{lineno}: {message}")

    def peek(self):
        """The next ``(lineno, tokens)`` or None at the end of the file."""
        return self.records[self.pos] if self.pos < len(self.records) else None

    def next(self, what, n_tokens=None, hint=""):
        """The next record, which must hold ``n_tokens`` tokens (if given)."""
        if self.pos == len(self.records):
            raise self.error(self.eof_line, f"expected {what}, got end of file "
                                            "(the file is truncated or lacks spline blocks)")
        lineno, tokens = self.records[self.pos]
        self.pos += 1
        if n_tokens is not None and len(tokens) != n_tokens:
            raise self.error(lineno, f"expected {what} ({n_tokens} token"
                                     f"{'s' if n_tokens > 1 else ''}){hint}, "
                                     f"got {len(tokens)}: {' '.join(tokens)!r}")
        return lineno, tokens

    def number(self, lineno, token, what="a number"):
        """A finite float from a strict decimal token."""
        if not _FLOAT.fullmatch(token):
            raise self.error(lineno, f"expected {what}, got {token!r}")
        value = float(token)
        if not math.isfinite(value):
            raise self.error(lineno, f"{what} overflows float64, got {token!r}")
        return value

    def integer(self, lineno, token, what):
        if not _INT.fullmatch(token):
            raise self.error(lineno, f"expected {what} (an integer), got {token!r}")
        return int(token)


def _spline_labels(species):
    """``(kind, label)`` per spline block, in file order."""
    N = len(species)
    pairs = [f"{species[a]}-{species[b]}" for a in range(N) for b in range(a, N)]
    return ([("phi", p) for p in pairs] + [(k, s) for k in ("rho", "U", "f") for s in species]
            + [("g", p) for p in pairs])


def _read_block(rec, new_format, kind, label):
    """Parse one spline block; radial splines ending at 0 with slope 0 get a fixed mask."""
    name = f"{kind}({label})"
    hint = " (does the previous block's knot count match its rows?)"
    if new_format:
        lineno, tokens = rec.next(f"'spline3eq' starting spline {name}")
        if tokens != ["spline3eq"]:
            raise rec.error(lineno, f"expected 'spline3eq' starting spline {name}{hint}, "
                                    f"got {' '.join(tokens)!r}")
    lineno, (token,) = rec.next(f"the knot count of {name}", 1, hint)
    M = rec.integer(lineno, token, f"the knot count of {name}")
    if not 2 <= M <= MAX_KNOTS:
        raise rec.error(lineno, f"{name} needs 2 to {MAX_KNOTS} knots, got {token!r}")
    # A lone token here is a missing end derivative: never default it to 0.
    lineno, tokens = rec.next(f"the end derivatives 'd0 dN' of {name}", 2)
    d0, dN = (rec.number(lineno, t, f"an end derivative of {name}") for t in tokens)
    if not new_format:
        # LAMMPS skips this line unread; still insist on numbers so that a
        # missing line does not silently shift every row of the block.
        lineno, tokens = rec.next(f"the skipped line of {name} (e.g. '1 0 1 0')")
        for t in tokens:
            rec.number(lineno, t, f"a number on the skipped line of {name}")
    rows = []
    for m in range(M):
        what = f"knot row {m + 1} of {M} of {name} ('x y y2')"
        lineno, tokens = rec.next(what, 3, " (does the knot count match the rows?)")
        x, y, _ = (rec.number(lineno, t, f"a number in {name}") for t in tokens)
        rows.append((lineno, tokens[0], x, y))
    xs = np.array([r[2] for r in rows])
    for m in range(1, M):
        if not xs[m] > xs[m - 1]:
            raise rec.error(rows[m][0], f"knots of {name} must increase strictly, "
                                        f"got {rows[m][1]!r} after {rows[m - 1][1]!r}")
    # LAMMPS needs a uniform grid; the tolerance is relative to the knot scale.
    h = (xs[-1] - xs[0]) / (M - 1)
    tol = 1e-8 * max(1.0, abs(xs[0]), abs(xs[-1]))
    for m in range(M):
        if abs(xs[m] - (xs[0] + m * h)) > tol:
            raise rec.error(rows[m][0], f"knots of {name} are not uniformly spaced: "
                                        f"expected {float(xs[0] + m * h)!r}, got {rows[m][1]!r}")
    y = np.array([r[3] for r in rows])
    fixed = np.zeros(M + 2, bool)
    if kind in ("phi", "rho", "f") and y[-1] == 0.0 and dN == 0.0:
        fixed[M - 1] = fixed[M + 1] = True
    try:
        return Spline(xs[0], xs[-1], y, d0, dN, fixed)
    except ValueError as err:
        raise rec.error(rows[0][0], f"spline {name} (knot rows on lines {rows[0][0]}-"
                                    f"{rows[-1][0]}): {err}") from err


def _read_header(rec, species):
    """Species of the file: from the ``meam/spline`` line, or the ``species`` argument."""
    if species is not None:
        species = (species,) if isinstance(species, str) else tuple(species)
    first = rec.peek()
    if first is None:
        raise rec.error(rec.eof_line, "expected the 'meam/spline N elements' line or a knot "
                                      "count, got end of file")
    lineno, tokens = first
    if tokens[0] != "meam/spline":
        if species is None:
            raise ModelFileError(
                f"{rec.path}:{lineno}: old meam/spline format (line {lineno} is "
                f"{' '.join(tokens)!r}, not 'meam/spline N elements') names no element; "
                "pass it, e.g. read_model(path, species=\"Si\")")
        if len(species) != 1 or species[0] not in atomic_numbers:
            raise ValueError(f"an old-format meam/spline file holds one species; "
                             f"got species={species!r}")
        return species, False
    rec.next("the 'meam/spline N elements' line")
    if len(tokens) < 2:
        raise rec.error(lineno, f"expected 'meam/spline N elements', got {' '.join(tokens)!r}")
    N = rec.integer(lineno, tokens[1], "the number of elements")
    names = tokens[2:]
    if N < 1:
        raise rec.error(lineno, f"a meam/spline file needs at least one element, got {tokens[1]!r}")
    if N != len(names):
        raise rec.error(lineno, f"element count {tokens[1]!r} does not match the "
                                f"{len(names)} element names {' '.join(names)!r}")
    for name in names:
        if name not in atomic_numbers or atomic_numbers[name] == 0:
            raise rec.error(lineno, f"unknown element symbol, got {name!r}")
    for a, name in enumerate(names):
        if name in names[:a]:
            raise rec.error(lineno, f"duplicate element symbol, got {name!r}")
    names = tuple(names)
    if species is not None and species != names:
        raise rec.error(lineno, f"the file's elements {' '.join(names)!r} differ from "
                                f"species={species!r}")
    return names, True


def read_meam_spline(path, species=None):
    """Read a LAMMPS meam/spline file (old or new format) as an s-MEAM model.

    Parameters
    ----------
    path : str or path-like
    species : str or sequence of str, optional
        Required for the old single-species format, which names no element
        (e.g. ``"Si"``). For the new format, if given, it must equal the
        file's element list.

    Returns
    -------
    Model
        Spline readout, ``K_rho = K_t = 1``, a pair term, ``e0 = 0`` and
        ``metadata = {"comment": line 1}``.

    Raises
    ------
    ModelFileError
        For any defect; the message names the file, the line and the token.
    """
    path = str(path)
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        lineno = data[:err.start].count(b"\n") + 1
        raise ModelFileError(f"{path}:{lineno}: not UTF-8 text, got "
                             f"{data[err.start:err.end]!r}") from err
    rec = _Records(path, text)
    if rec.comment is None:
        raise rec.error(1, "expected a comment line, got end of file (empty file)")
    if rec.comment.split()[:1] == ["meam/spline"]:
        raise rec.error(1, f"line 1 must be a comment, got {rec.comment!r} "
                           "(is the comment line missing?)")
    species, new_format = _read_header(rec, species)
    blocks = {}
    for kind, label in _spline_labels(species):
        blocks.setdefault(kind, []).append(_read_block(rec, new_format, kind, label))
    extra = rec.peek()
    if extra is not None:
        raise rec.error(extra[0], f"trailing content after the last of "
                                  f"{len(_spline_labels(species))} spline blocks, "
                                  f"got {' '.join(extra[1])!r}")
    return Model(species, rho=[blocks["rho"]], f=[blocks["f"]], g=[blocks["g"]],
                 phi=blocks["phi"], readout=SplineReadout(blocks["U"]),
                 e0=np.zeros(len(species)), metadata={"comment": rec.comment})


def _check_expressible(model):
    """Raise ValueError unless ``model`` is a plain s-MEAM (meam/spline) potential."""
    if not isinstance(model.readout, SplineReadout) or len(model.rho) != 1 or len(model.f) != 1:
        raise ValueError(
            "meam/spline holds only s-MEAM models (spline readout, K_rho = K_t = 1); this "
            f"model has a {model.readout_kind} readout with K_rho = {len(model.rho)}, "
            f"K_t = {len(model.f)}; write it as JSON instead")
    if not model.phi:
        raise ValueError("meam/spline needs a pair term phi; this model has none")
    if model.core is not None:
        raise ValueError("meam/spline has no core repulsion, but this model has a ZBL core; "
                         "write it as JSON instead")
    nonzero = [f"{s} ({e!r} eV)" for s, e in zip(model.species, model.e0) if e != 0.0]
    if nonzero:
        raise ValueError("meam/spline has no per-species reference energy, but e0 is nonzero "
                         f"for {', '.join(nonzero)}; write the model as JSON instead")


def without_e0(model):
    """``model`` with e0 = 0, for meam/spline, which has no per-species reference energy.

    Energies shift by e0 per atom; forces and stresses do not change. The
    dropped values go to the comment line (``metadata['comment']``).
    """
    note = ", ".join(f"{sym} {float(e)!r}" for sym, e in zip(model.species, model.e0))
    comment = str(model.metadata.get("comment", "# converted by snnp_calc"))
    meta = dict(model.metadata, comment=f"{comment} | dropped e0 (eV/atom): {note}")
    return dataclasses.replace(model, e0=np.zeros(model.n_species), metadata=meta)


def _comment_line(model):
    """Line 1: ``metadata['comment']`` made a single '#' line, or a default."""
    comment = model.metadata.get("comment")
    if comment is None:
        return _DEFAULT_COMMENT
    # Line 1 is skipped raw by LAMMPS, so a line break would corrupt the file.
    comment = " ".join(str(comment).splitlines())
    return comment if comment.startswith("#") else "# " + comment


def dumps(model, style="new"):
    """The text of a LAMMPS meam/spline file for an s-MEAM model.

    Parameters
    ----------
    model : Model
        Spline readout, ``K_rho = K_t = 1``, a pair term and ``e0 = 0``.
    style : {"new", "old"}
        ``"new"``: ``meam/spline N el...`` with ``spline3eq`` blocks;
        ``"old"``: the single-species format of the LAMMPS distribution files.

    Returns
    -------
    str
        Floats are written with ``repr`` so that reading gives the same bits;
        the y'' column is recomputed by :func:`~snnp_calc.model.splines.second_derivatives`.
        Fixed masks are not stored: the reader re-derives them.

    Raises
    ------
    ValueError
        If the model is not expressible as meam/spline, or ``style="old"``
        with more than one species.
    """
    if style not in ("new", "old"):
        raise ValueError(f"unknown meam/spline style {style!r}; expected 'new' or 'old'")
    _check_expressible(model)
    if style == "old" and model.n_species != 1:
        raise ValueError(f"the old meam/spline format holds one species; this model has "
                         f"{model.n_species} ({', '.join(model.species)}): use style='new'")
    lines = [_comment_line(model)]
    if style == "new":
        lines.append(f"meam/spline {model.n_species} {' '.join(model.species)}")
    splines = (list(model.phi) + list(model.rho[0]) + list(model.readout.U)
               + list(model.f[0]) + list(model.g[0]))
    kinds = [kind for kind, _ in _spline_labels(model.species)]
    for kind, s in zip(kinds, splines):
        M = s.n_knots
        if style == "new":
            lines.append("spline3eq")
        lines += [str(M), f"{float(s.d0)!r} {float(s.dN)!r}"]
        if style == "old":
            lines.append(_OLD_FLAGS[kind])
        y2 = second_derivatives(s.x0, s.x1, s.y, s.d0, s.dN)
        h = (s.x1 - s.x0) / (M - 1)
        for m in range(M):
            # the last knot is x1 itself so that x0 and x1 read back bit-identical
            x = s.x1 if m == M - 1 else s.x0 + m * h
            lines.append(f"{float(x)!r} {float(s.y[m])!r} {float(y2[m])!r}")
    return "\n".join(lines) + "\n"
