"""The models that ship with the package, found by name from any directory.

``snnp_calc/data/NAME.json`` is installed with the package (``pip install .``),
so ``read_model("Mo-s-nnp")`` and ``SNNP("Mo-s-nnp")`` work without a checkout;
a file of that name in the working directory takes precedence.
"""
from pathlib import Path

FOLDER = Path(__file__).resolve().parents[1] / "data"


def shipped_names():
    """Sorted names of the shipped models (file names without ``.json``)."""
    return sorted(p.name.removesuffix(".json") for p in FOLDER.glob("*.json"))


def shipped_path(name):
    """The file of shipped model ``name`` (with or without ``.json``), or None."""
    name = str(name)
    stem = name.removesuffix(".json")
    if "/" in name or "\\" in name or stem not in shipped_names():
        return None
    return FOLDER / f"{stem}.json"
