"""The committee file: one JSON document holding N member models.

``{"format": "snnp-committee", "version": 1, "members": [N model documents],
"metadata": {...}}``, each member in the model format of
:mod:`snnp_calc.io.json_model`, checked as strictly.
"""
from ..errors import ModelFileError
from ..model.committee import Committee
from . import json_model
from .json_document import dumps_document

FORMAT = "snnp-committee"
VERSION = 1


def to_dict(committee):
    """The committee document as plain Python objects."""
    return {"format": FORMAT, "version": VERSION,
            "members": [json_model.to_dict(m) for m in committee.members],
            "metadata": dict(committee.metadata)}


def dumps(committee):
    """The committee file text."""
    return dumps_document(to_dict(committee))


def from_dict(d, source="<dict>"):
    """Build a :class:`Committee` from a parsed document; errors name ``source`` and the key."""
    if not isinstance(d, dict):
        raise ModelFileError(f"{source}: expected an object")
    expected = {"format", "version", "members", "metadata"}
    if set(d) != expected:
        missing, extra = sorted(expected - set(d)), sorted(set(d) - expected)
        raise ModelFileError(f"{source}: committee keys: missing {missing}, unknown {extra}")
    if d["format"] != FORMAT:
        raise ModelFileError(f"{source}: format: expected {FORMAT!r}, got {d['format']!r}")
    if d["version"] != VERSION or isinstance(d["version"], bool):
        raise ModelFileError(f"{source}: version: unsupported {d['version']!r}; this reader "
                             f"supports {VERSION}")
    if not isinstance(d["members"], list) or not isinstance(d["metadata"], dict):
        raise ModelFileError(f"{source}: members must be a list and metadata an object")
    members = [json_model.from_dict(m, f"{source}: members[{k}]")
               for k, m in enumerate(d["members"])]
    try:
        return Committee(members, d["metadata"])
    except ValueError as err:
        raise ModelFileError(f"{source}: {err}") from err
