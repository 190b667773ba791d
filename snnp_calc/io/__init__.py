"""Model files: choose the format, write atomically.

Three documents (DESIGN.md §4):

- the project's JSON model document (:mod:`snnp_calc.io.json_model`), any model;
- the JSON committee document (:mod:`snnp_calc.io.committee_file`);
- LAMMPS ``meam/spline`` (:mod:`snnp_calc.io.meam_spline`), old single-species and
  new multi-species forms, for s-MEAM models only.

The format is chosen by the file name: ``*.json`` is JSON, anything else is
read as ``meam/spline`` when its first non-blank character is not ``{``.
"""
import os

from .._files import atomic_write_text
from ..errors import ModelFileError
from ..model.committee import Committee
from . import committee_file, json_document, json_model, meam_spline
from .shipped import shipped_names, shipped_path


def file_format(path, format=None):
    """``"json"`` or ``"meam/spline"`` for ``path`` (``format`` overrides)."""
    if format is not None:
        if format not in ("json", "meam/spline"):
            raise ValueError(f"unknown model format {format!r}; expected 'json' or 'meam/spline'")
        return format
    name = str(path).lower()
    if name.endswith(".json"):
        return "json"
    if name.endswith(".spline") or ".meam" in name:
        return "meam/spline"
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096).lstrip()
        return "json" if head.startswith("{") else "meam/spline"
    raise ValueError(f"{path}: no such file, and no shipped model of that name (shipped: "
                     f"{', '.join(shipped_names())}); a new file needs a .json or .meam.spline "
                     "ending, or format=")


def read_model(path, format=None, species=None, committee=True):
    """Read a model file (JSON or LAMMPS meam/spline); a committee file gives a Committee.

    Parameters
    ----------
    path : str or path-like
        A file, or the name of a shipped model (``"Mo-s-nnp"``, see
        :mod:`snnp_calc.io.shipped`) when no file of that name exists.
    format : {"json", "meam/spline"}, optional
        Overrides the choice by file name.
    species : str or sequence of str, optional
        meam/spline only: required for the old single-species format, which
        names no element (``read_model("Si_1.meam.spline", species="Si")``);
        for the new format it must match the file's element list.
    committee : bool
        Whether a committee file is accepted; False for uses that need one
        model (plots, conversions, a fit's start).

    Raises
    ------
    ModelFileError
        If the file is malformed; the message names file, line or key and token.
    """
    if not os.path.exists(path) and shipped_path(path) is not None:
        path = shipped_path(path)
    if file_format(path, format) == "json":
        if species is not None:
            raise ValueError("species= applies to meam/spline files only; a JSON model "
                             "names its species")
        document = json_document.parse(json_document.read_text(path), str(path))
        if isinstance(document, dict) and document.get("format") == committee_file.FORMAT:
            if not committee:
                raise ModelFileError(f"{path}: key 'format': {committee_file.FORMAT!r} is a "
                                     "committee; this needs a single model "
                                     "(\"format\": \"snnp\")")
            return committee_file.from_dict(document, str(path))
        return json_model.from_dict(document, str(path))
    return meam_spline.read_meam_spline(path, species=species)


def write_model(model, path, format=None, style="new"):
    """Write ``model`` to ``path`` atomically (JSON, or meam/spline for s-MEAM models).

    ``model`` may be a :class:`~snnp_calc.model.committee.Committee` (JSON only).

    ``style`` (``"new"`` or ``"old"``) selects the meam/spline layout; the old
    one holds a single species (see :func:`snnp_calc.io.meam_spline.dumps`).
    """
    if file_format(path, format) == "json":
        if style != "new":
            raise ValueError(f"style={style!r} applies to meam/spline files only")
        text = (committee_file.dumps(model) if isinstance(model, Committee)
                else json_model.dumps(model))
    elif isinstance(model, Committee):
        raise ValueError(f"{path}: a committee can only be written as JSON")
    else:
        text = meam_spline.dumps(model, style=style)
    atomic_write_text(path, text)
