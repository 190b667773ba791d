"""Model files: choose the format, write atomically.

Two formats (DESIGN.md §4):

- the project's JSON document (:mod:`snnp_calc.io_json`), any model;
- LAMMPS ``meam/spline`` (:mod:`snnp_calc.io_meam`), old single-species and
  new multi-species forms, for s-MEAM models only.

The format is chosen by the file name: ``*.json`` is JSON, anything else is
read as ``meam/spline`` when its first non-blank character is not ``{``.
"""
import os
import tempfile
from pathlib import Path


class ModelFileError(ValueError):
    """A malformed model file; the message names the file, line or key, and token."""


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
    raise ValueError(f"{path}: cannot tell the model format from the name; use a .json or "
                     ".meam.spline ending, or pass format=")


def read_model(path, format=None, species=None, committee=True):
    """Read a model file (JSON or LAMMPS meam/spline); a committee file gives a Committee.

    Parameters
    ----------
    path : str or path-like
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
    from . import io_json, io_meam
    from .committee import FORMAT, from_dict
    if file_format(path, format) == "json":
        if species is not None:
            raise ValueError("species= applies to meam/spline files only; a JSON model "
                             "names its species")
        document = io_json.parse(io_json.read_text(path), str(path))
        if isinstance(document, dict) and document.get("format") == FORMAT:
            if not committee:
                raise ModelFileError(f"{path}: key 'format': {FORMAT!r} is a committee; "
                                     "this needs a single model (\"format\": \"snnp\")")
            return from_dict(document, str(path))
        return io_json.from_dict(document, str(path))
    return io_meam.read_meam_spline(path, species=species)


def write_model(model, path, format=None, style="new"):
    """Write ``model`` to ``path`` atomically (JSON, or meam/spline for s-MEAM models).

    ``model`` may be a :class:`~snnp_calc.committee.Committee` (JSON only).

    ``style`` (``"new"`` or ``"old"``) selects the meam/spline layout; the old
    one holds a single species (see :func:`snnp_calc.io_meam.dumps`).
    """
    from . import committee, io_json, io_meam
    if file_format(path, format) == "json":
        if style != "new":
            raise ValueError(f"style={style!r} applies to meam/spline files only")
        text = (committee.dumps(model) if isinstance(model, committee.Committee)
                else io_json.dumps(model))
    elif isinstance(model, committee.Committee):
        raise ValueError(f"{path}: a committee can only be written as JSON")
    else:
        text = io_meam.dumps(model, style=style)
    atomic_write_text(path, text)


def atomic_write_text(path, text):
    """Write ``text`` to a temporary file next to ``path``, then rename it over ``path``."""
    atomic_write(path, lambda fh: fh.write(text))


def atomic_write(path, write, binary=False):
    """Call ``write(fh)`` on a temporary file next to ``path``, then rename it over ``path``.

    If ``write`` raises, ``path`` is untouched and the temporary file removed.
    ``binary``: the file is opened in binary mode (e.g. for ``fig.savefig``).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".",
                               prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private; give it the permissions a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8")) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
