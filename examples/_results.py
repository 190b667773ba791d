"""Helpers of the examples that write a markdown table and a PNG figure.

Used by ``architecture_ladder.py``, ``committee_uncertainty.py`` and
``active_learning.py``: where the Zuo et al. (2020) DFT data are (read in
place, never copied) and the options that name them, a markdown
header that records how, when and on what machine the numbers were made, a
markdown table, log-log axes that stay readable over a narrow range, and
an atomic write (a temporary file next to the target, then ``os.replace``)
of matplotlib figures; text goes through :func:`snnp_calc._files.atomic_write_text`.
"""
import datetime
import importlib.util
import os
import platform
import shlex
import sys
from pathlib import Path

import numba

import snnp_calc
from snnp_calc._files import atomic_write
from snnp_calc.dataset import read_frames

REPO = Path(__file__).resolve().parents[1]
ZUO = REPO.parent / "shared" / "data" / "zuo2020"
ELEMENTS = ("Mo", "Ni", "Cu")


def data_files(data_dir, elements):
    """``{element: (train, test)}`` paths; exit with a message if any file is absent."""
    files = {el: tuple(Path(data_dir) / el / f"{name}.xyz" for name in ("train", "test"))
             for el in elements}
    missing = [str(p) for pair in files.values() for p in pair if not p.is_file()]
    if missing:
        sys.exit("DFT data not found: " + ", ".join(missing) + "\nThe Zuo et al. (2020) "
                 f"data sets are expected as <El>/train.xyz and <El>/test.xyz in {data_dir} "
                 "(see its README.md); pass another folder with --data DIR.")
    return files


def positive_int(text):
    """``argparse`` type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def add_data_options(parser, out, what):
    """``--max-structures``, ``--data`` and ``--out`` (default folder ``out``, holding ``what``)."""
    parser.add_argument("--max-structures", type=positive_int, default=None,
                        help="use only the first N training structures (smoke tests)")
    parser.add_argument("--data", type=Path, default=ZUO,
                        help="folder with <El>/train.xyz and <El>/test.xyz (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path(out),
                        help=f"folder for {what} (default: %(default)s)")


def load(train, test, max_structures=None):
    """Training frames (the first ``max_structures`` only, if given) and all test frames."""
    index = ":" if max_structures is None else f":{max_structures}"
    return read_frames(train, index), read_frames(test)


def require_matplotlib():
    """Exit with a message, before any long fit, when matplotlib is missing."""
    if importlib.util.find_spec("matplotlib") is None:
        sys.exit("this example draws a PNG and needs matplotlib: pip install '.[plot]'")


def command_line(script, argv):
    """The command that reproduces this run, from the repository root."""
    args = sys.argv[1:] if argv is None else list(argv)
    return shlex.join(["python", os.path.relpath(Path(script).resolve(), REPO)] + args)


def start(script, argv, args):
    """Checks and provenance before any long fit.

    Returns ``(files, command, load_start)``: the data files of
    ``args.elements`` (:func:`data_files`), the reproducing command line and the
    load average; exits if matplotlib is missing; creates ``args.out``.
    """
    files = data_files(args.data, args.elements)
    require_matplotlib()
    args.out.mkdir(parents=True, exist_ok=True)
    return files, command_line(script, argv), os.getloadavg()[0]


def cpu_name():
    """The CPU model from /proc/cpuinfo, or what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def header(title, command, load_start):
    """Markdown title and the provenance lines: command, date, machine, threads, load."""
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return "\n".join([
        f"# {title}", "",
        f"- Command (from the repository root): `{command}`",
        f"- Date: {date}",
        f"- Machine: {cores} cores ({cpu_name()}); Numba {numba.__version__} with "
        f"{numba.get_num_threads()} threads; load average (1 min) {load_start:.2f} at the "
        f"start, {os.getloadavg()[0]:.2f} at the end",
        f"- snnp_calc {snnp_calc.__version__}, Python {platform.python_version()}", ""])


def markdown_table(head, rows, n_text=1):
    """A markdown table; the first ``n_text`` columns left-aligned, the others right."""
    rule = ["---"] * n_text + ["---:"] * (len(head) - n_text)
    lines = [head, rule] + [[str(cell) for cell in row] for row in rows]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def log_axes(ax, xs, ys, pad=1.6):
    """Log-log axes padded by ``pad`` around the data, ticks at 1, 2, 5 x 10^n as plain numbers.

    The padding leaves room for the point labels and makes every axis span
    more than a factor 2.5, so that it carries at least one labelled tick.
    """
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(min(xs) / pad, max(xs) * pad)
    ax.set_ylim(min(ys) / pad, max(ys) * pad)
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        axis.set_major_formatter(FormatStrFormatter("%g"))
        axis.set_minor_formatter(NullFormatter())


def save_figure(fig, path, dpi=150):
    """Save a matplotlib figure as PNG at ``path`` atomically."""
    atomic_write(path, lambda fh: fig.savefig(fh, dpi=dpi, format="png"), binary=True)
