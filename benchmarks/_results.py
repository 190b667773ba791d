"""Each benchmark script owns one section of ``benchmarks/RESULTS.md``, between its markers."""
import os
import sys
import tempfile
from pathlib import Path

from snnp_calc._files import atomic_write_text

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = ("# snnp_calc benchmarks\n\nResults of the scripts in this folder; each section is "
          "rewritten by its script with `--write`.\n")


def markers(name):
    """The start and end markers of section ``name``."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def write_block(block, start, end, path=RESULTS):
    """Put ``block`` (which begins with ``start`` and ends with ``end``) in place of the old one.

    Appends it when the file has no such section yet; writes atomically.

    Raises
    ------
    ValueError
        If the file has only one of the markers, or the end before the start.
    """
    old = path.read_text(encoding="utf-8") if path.exists() else HEADER
    if (start in old) != (end in old) or (start in old and old.index(end) < old.index(start)):
        raise ValueError(f"{path}: markers {start} and {end} must both be present, in this "
                         "order, or both absent; mend the file by hand")
    if start in old:
        before, rest = old.split(start, 1)
        new = before + block.rstrip("\n") + rest.split(end, 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n" + block.rstrip("\n") + "\n"
    atomic_write_text(path, new)


def measure_and_report(script, argv, measure, section, write, start, end):
    """Run ``measure(folder)`` in a temporary folder, print ``section(results, command,
    (load before, load after))`` and, with ``write``, put it in RESULTS.md between
    ``start`` and ``end``. ``argv``: the script's arguments (None: the command line)."""
    command = f"python benchmarks/{script} " + " ".join(sys.argv[1:] if argv is None else argv)
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        results = measure(Path(tmp))
    text = section(results, command, (before, os.getloadavg()[0]))
    print(text)
    if write:
        write_block(text, start, end)
