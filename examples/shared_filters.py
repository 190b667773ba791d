"""Filters shared by Mo, Ni and Cu, and their transfer, frozen, to an element they never saw.

    python examples/shared_filters.py [--elements Mo Ni Cu] [--max-time 600]
        [--transfer-time 180] [--transfer-from joint|single] [--max-structures N]
        [--data ../shared/data/zuo2020] [--out docs/shared_filters]

1. Joint fit: one s-NNP on the Zuo et al. (2020) training sets of all
   ``--elements`` together, with one set of filters rho_k(r), f_k(r),
   g_k(cos θ) for every neighbour element and a readout per element
   (``snnp fit --train Mo.xyz Ni.xyz Cu.xyz --share-filters``).
2. Transfer: for each element X, a fit of only the readout, pair term and e0
   on X's data, with the filters taken from a model that never saw X and
   frozen (``snnp fit --init-filters OTHER.json --freeze filters``). The
   source is a joint shared-filter fit of the other elements (leave one
   element out; default) or, with ``--transfer-from single``, the shipped
   single-element model ``snnp_calc/data/<Y>-s-nnp.json`` of the next element Y of
   ``--elements`` (cheaper: no fits besides the transfers).

Writes into ``--out`` the models (``shared-CuMoNi.json``, the sources
``shared-<others>.json``, ``transfer-<X>.json``), the table
``shared_filters.md`` (test MAE of each element under the separately fitted
``snnp_calc/data/<X>-s-nnp.json``, the joint and the transferred model, with fitted
parameters and fit times), the figure ``shared_filters.png`` (the shared
filters with the elements' first-neighbour distances and bond angles) and the
joint model's figures of :mod:`snnp_calc.plots.filters`; prints the table.
"""
import argparse
import dataclasses
import datetime
import importlib.util
import os
import shlex
import sys
from pathlib import Path

import numba
import numpy as np

from snnp_calc import fit, read_model, write_model
from snnp_calc._files import atomic_write_text
from snnp_calc.dataset import read_frames
from snnp_calc.metrics import error_report
from snnp_calc.model.reparam import Reparametrisation
from snnp_calc.plots.figure import save_png
from snnp_calc.plots.model_figures import write_model_plots

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "zuo2020"
# first-neighbour distance (Å) and lattice of the ground-state crystals
NEAREST = {"Mo": (2.73, "bcc"), "Ni": (2.49, "fcc"), "Cu": (2.56, "fcc")}
# cos θ of the bond angles between first neighbours
FIRST_SHELL_COS = {"bcc": (-1.0, -1 / 3, 1 / 3), "fcc": (-1.0, -0.5, 0.0, 0.5)}
MARKER_STYLES = ("--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)))


def parse_args(argv=None):
    """Command-line options (see the module docstring)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--elements", nargs="+", default=["Mo", "Ni", "Cu"])
    p.add_argument("--max-time", type=float, default=600.0, help="s per joint fit")
    p.add_argument("--transfer-time", type=float, default=180.0, help="s per transfer fit")
    p.add_argument("--transfer-from", choices=("joint", "single"), default="joint",
                   help="filter source for element X: joint fit without X, or the shipped "
                        "single-element model of the next element")
    p.add_argument("--max-structures", type=int, help="first N training structures of each")
    p.add_argument("--data", type=Path, default=DATA, help="folder with <El>/{train,test}.xyz")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "shared_filters")
    p.add_argument("--verbose", action="store_true", help="print every optimiser iteration")
    args = p.parse_args(argv)
    args.command = shlex.join(["python", "examples/shared_filters.py"]
                              + list(sys.argv[1:] if argv is None else argv))
    args.load_start = os.getloadavg()[0]
    if len(set(args.elements)) < 2 or len(set(args.elements)) != len(args.elements):
        p.error("--elements needs at least two distinct elements")
    if args.max_structures is not None and args.max_structures < 1:
        p.error("--max-structures must be positive")
    return args


def load_data(folder, elements, max_structures):
    """``{El: (train frames, test frames)}``; exits with a message when a file is missing."""
    data = {}
    for el in elements:
        paths = [folder / el / f"{name}.xyz" for name in ("train", "test")]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            sys.exit(f"shared_filters.py: DFT data not found: {', '.join(missing)} "
                     "(the Zuo et al. 2020 sets; see --data)")
        data[el] = (read_frames(paths[0])[:max_structures], read_frames(paths[1]))
    return data


def fitted_parameters(model, **reparametrisation):
    """Number of entries the optimiser moves (shared entries once, frozen ones not)."""
    return Reparametrisation(model, **reparametrisation).n


def joint_fit(elements, data, args, out_dir):
    """Fit one shared-filter model on the training sets of ``elements``; write it.

    Returns
    -------
    dict
        ``model``, ``file`` (name in ``out_dir``), ``seconds`` (optimiser time),
        ``params`` (fitted parameters).
    """
    name = "shared-" + "".join(sorted(elements))
    print(f"joint fit {name} ({args.max_time:g} s at most)", flush=True)
    train = [f for el in elements for f in data[el][0]]
    test = [f for el in elements for f in data[el][1]]
    model, report = fit("s-nnp", train, test, share_filters=True, max_time=args.max_time,
                        progress=print if args.verbose else None)
    meta = dict(model.metadata, name=name, command=args.command,
                training_data=[str(args.data / el / "train.xyz") for el in elements])
    model = dataclasses.replace(model, metadata=meta)
    write_model(model, out_dir / f"{name}.json")
    return dict(model=model, file=f"{name}.json", seconds=report["seconds"],
                params=fitted_parameters(model, shared=True))


def shipped(el):
    """The separately fitted ``snnp_calc/data/<El>-s-nnp.json`` as a dict like :func:`joint_fit`'s."""
    path = ROOT / "snnp_calc" / "data" / f"{el}-s-nnp.json"
    if not path.is_file():
        return None
    model = read_model(path)
    return dict(model=model, file=f"snnp_calc/data/{path.name}", params=fitted_parameters(model),
                seconds=model.metadata.get("fit", {}).get("seconds"))


def transfer_fit(el, source, data, args, out_dir):
    """Fit readout, pair term and e0 of ``el`` on the frozen filters of ``source``; write it."""
    print(f"transfer to {el}: filters of {source['file']} frozen "
          f"({args.transfer_time:g} s at most)", flush=True)
    train, test = data[el]
    model, report = fit("s-nnp", train, test, init_filters=source["model"],
                        freeze=("filters",), max_time=args.transfer_time,
                        progress=print if args.verbose else None)
    name = f"transfer-{el}"
    model = dataclasses.replace(model, metadata=dict(
        model.metadata, name=name, command=args.command, filters_file=source["file"],
        training_data=[str(args.data / el / "train.xyz")]))
    write_model(model, out_dir / f"{name}.json")
    return dict(model=model, file=f"{name}.json", seconds=report["seconds"],
                params=fitted_parameters(model, freeze=("filters",)))


def filter_sources(args, data, out_dir):
    """``{El: source}``: the model whose filters are frozen for element El."""
    elements = args.elements
    if args.transfer_from == "single":
        nxt = {el: elements[(q + 1) % len(elements)] for q, el in enumerate(elements)}
        sources = {el: shipped(nxt[el]) for el in elements}
        absent = [f"snnp_calc/data/{nxt[el]}-s-nnp.json" for el, s in sources.items() if s is None]
        if absent:
            sys.exit(f"shared_filters.py: --transfer-from single needs {', '.join(absent)}")
        return sources
    return {el: joint_fit([e for e in elements if e != el], data, args, out_dir)
            for el in elements}


def _seconds(fitted):
    return "-" if fitted["seconds"] is None else f"{fitted['seconds']:.0f}"


def table(args, data, rows, sources, started):
    """The markdown report: header with the command, then one row per element and model."""
    now = datetime.datetime.now(datetime.timezone.utc)
    subset = (f"the first {args.max_structures} structures of each of the"
              if args.max_structures else "the full")
    source = ("joint shared-filter fits of the other elements (leave one element out)"
              if args.transfer_from == "joint" else
              "the shipped single-element model of the next element of --elements")
    lines = [f"# Shared filters ({', '.join(args.elements)}) and frozen-filter transfer", "",
             f"Command (from the repository root): `{args.command}`  ",
             f"Date: {started:%Y-%m-%d %H:%M} UTC, {(now - started).total_seconds() / 60:.0f} min; "
             f"{len(os.sched_getaffinity(0))} cores, {numba.get_num_threads()} Numba threads, "
             f"load average {args.load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at "
             "the end.  ",
             f"Training data: {subset} Zuo et al. (2020) training sets; errors on their full "
             f"test sets.  ", f"Filters of the transferred models: {source}.", "",
             "| El | model | file | test E MAE (meV/atom) | test F MAE (eV/Å) "
             "| fitted parameters | fit time (s) |", "|---|---|---|---:|---:|---:|---:|"]
    for el, kind, fitted in rows:
        if fitted is None:
            lines.append(f"| {el} | {kind} | (absent) | | | | |")
            continue
        err = error_report(fitted["model"], data[el][1])["all"]
        lines.append(f"| {el} | {kind} | {fitted['file']} | {err['e_mae']:.2f} | "
                     f"{err['f_mae']:.3f} | {fitted['params']} | {_seconds(fitted)} |")
    lines += ["", "Fitted parameters: entries the optimiser moves (shared filters once, frozen "
              "filters not at all); the joint model's count and time are for the whole model. "
              "Fit time: optimiser wall time (snnp_calc/data/*.json: from its metadata).", ""]
    lines += [f"- filters of transfer-{el}.json: {s['file']} ({s['params']} fitted "
              f"parameters, {_seconds(s)} s)" for el, s in sources.items()]
    return "\n".join(lines) + "\n"


def overview_figure(model):
    """Shared ρ_k(r), f_k(r) and g_k(cos θ), one line per filter k, with the elements'
    first-neighbour distances (ρ, f) and first-shell bond angles (g, per lattice) marked."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.6), layout="constrained")
    panels = (("rho", r"$\rho_k(r)$", "$r$ (Å)"), ("f", "$f_k(r)$", "$r$ (Å)"),
              ("g", r"$g_k(\cos\theta)$", r"$\cos\theta$"))
    known = [el for el in model.species if el in NEAREST]
    lattices = {lat: [el for el in known if NEAREST[el][1] == lat] for lat in FIRST_SHELL_COS}
    style = {el: MARKER_STYLES[q % len(MARKER_STYLES)] for q, el in enumerate(known)}
    for ax, (kind, symbol, xlabel) in zip(axes, panels):
        rows = getattr(model, kind)
        x = np.linspace(-1, 1, 201) if kind == "g" else np.linspace(
            min(r[0].x0 for r in rows), model.cutoff, 300)
        colours = plt.cm.viridis(np.linspace(0, 0.9, len(rows)))
        for k, row in enumerate(rows):
            ax.plot(x, row[0](x)[0], color=colours[k], lw=1.5, label=f"$k$ = {k + 1}")
        # g: one set of lines per lattice, in the style of its first element
        marks = ([(", ".join(els), style[els[0]], FIRST_SHELL_COS[lat])
                  for lat, els in lattices.items() if els] if kind == "g" else
                 [(el, style[el], (NEAREST[el][0],)) for el in known])
        for q, (who, ls, xs) in enumerate(marks):
            for xm in xs:
                ax.axvline(xm, color="0.25", lw=1, ls=ls)
                ax.text(xm, 1.0 - 0.07 * q, f" {who}", transform=ax.get_xaxis_transform(),
                        fontsize=7, va="top", ha="left", color="0.25")
        ax.axhline(0.0, color="0.7", lw=0.5, zorder=0)
        ax.set(xlabel=xlabel, ylabel=f"{symbol} (dimensionless)", title=f"shared {symbol}")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=4, fontsize=7,
                  frameon=False, title="filter", title_fontsize=7)
    what = "; ".join(f"{el} ({NEAREST[el][1]}) {NEAREST[el][0]} Å" for el in known)
    fig.suptitle(f"{model.metadata.get('name', 'model')}: filters shared by "
                 f"{', '.join(model.species)}\nvertical lines: first-neighbour distances "
                 f"({what}) and first-shell bond angles", fontsize=10)
    return fig


def main(argv=None):
    """Run both steps and write the models, figures and table into ``--out``."""
    args = parse_args(argv)
    started = datetime.datetime.now(datetime.timezone.utc)
    if importlib.util.find_spec("matplotlib") is None:  # before an hour of fits
        sys.exit("shared_filters.py draws PNG figures and needs matplotlib: "
                 "pip install '.[plot]'")
    data = load_data(args.data, args.elements, args.max_structures)
    args.out.mkdir(parents=True, exist_ok=True)
    # the shipped sources (--transfer-from single) are checked before the joint fit
    sources = filter_sources(args, data, args.out)
    joint = joint_fit(args.elements, data, args, args.out)
    transfers = {el: transfer_fit(el, sources[el], data, args, args.out) for el in args.elements}
    rows = [(el, kind, fitted) for el in args.elements for kind, fitted in (
        ("separately fitted", shipped(el)), ("joint, shared filters", joint),
        (f"transfer, filters frozen from {sources[el]['file']}", transfers[el]))]
    text = table(args, data, rows, sources, started)
    atomic_write_text(args.out / "shared_filters.md", text)
    save_png(overview_figure(joint["model"]), args.out / "shared_filters.png")
    test_images = [f.atoms for el in args.elements for f in data[el][1]]
    write_model_plots(joint["model"], args.out, test_images, prefix=Path(joint["file"]).stem + "-")
    print(text)


if __name__ == "__main__":
    main()
