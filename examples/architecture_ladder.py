"""Architecture ladder from s-MEAM to s-NNP on Mo, Ni, Cu and Ge: error against cost.

Fits each rung of :data:`RUNGS` to the training set of each element of the
Zuo et al. (2020) DFT data, then measures its test errors and its inference
cost in the same run, and writes a markdown table (test energy and force MAE,
number of fitted parameters, µs/atom) and a figure of error against cost::

    python examples/architecture_ladder.py [--elements Mo Ni Cu Ge] [--max-time 180]
        [--max-structures N] [--rungs NAME ...] [--data DIR] [--out docs/ladder]

Output: ``OUT/ladder.md`` and ``OUT/ladder.png``. The full run, 4 elements x
10 rungs x 180 s of fitting, takes 2.5 to 3 hours on 2 cores (about 70 minutes
with ``--max-time 60``): each fit also builds its start, may finish its last
iteration past the limit (about a minute for 8 + 8 filters on the Ni and Cu
training sets) and evaluates its errors.

Rungs: ``s-MEAM`` (the ``s-meam`` preset: 1 + 1 filters, spline readout U,
pair term); ``1+1 MLP``; ``K+K linear`` and ``K+K MLP`` for K = 2, 4, 8 (the
``s-nnp`` preset with K pair and K triplet filters, a linear readout or the
preset's MLP); ``4+4+4L MLP`` and ``4+4+4L per-degree MLP`` (4 + 4 with 4
factorised Legendre triplet filters of degree 4, one network input each or
one per degree). Peers: the published s-MEAM of the same data (Vita and
Trinkle 2021, ``../shared/data/potentials/<El>.smeam2020.meam.spline``, e0
fitted on the training set), measured here like the rungs; and the published
test errors of MTP (and GAP for Ge) of Zuo et al. (2020), drawn as lines
(their cost is not measured here). Cost: ``SNNP(model)`` on a bulk cell of
the element's ground state (bcc Mo a = 3.16 Å, 2000 atoms; fcc Ni 3.52 Å and
Cu 3.63 Å, 2048 atoms; diamond Ge 5.78 Å, 1728 atoms), rattled by 0.05 Å; the median over at least 5 full single-point calls
(move an atom, ``get_forces()`` + ``get_stress()``) after a warm-up call,
divided by the number of atoms. Timings share the machine with whatever
else runs on it: the markdown records the load average.
"""
import argparse
import statistics
import sys
import time

import numba
from _results import (
    ZUO,
    add_data_options,
    header,
    load,
    log_axes,
    markdown_table,
    save_figure,
    start,
)
from ase.build import bulk

from snnp_calc import SNNP, fit, read_model
from snnp_calc._files import atomic_write_text
from snnp_calc.fitting.start import fit_e0
from snnp_calc.metrics import error_report
from snnp_calc.model.model import SplineReadout

ELEMENTS = ("Mo", "Ni", "Cu", "Ge")
LATTICES = {"Mo": ("bcc", 3.16, 10), "Ni": ("fcc", 3.52, 8), "Cu": ("fcc", 3.63, 8),
            "Ge": ("diamond", 5.78, 6)}
RATTLE, SEED = 0.05, 42         # Å, rattle seed
MIN_CALLS, MIN_TIME = 5, 1.0    # timed single-point calls: at least this many and seconds
MARKERS = {"Mo": "o", "Ni": "s", "Cu": "^", "Ge": "D"}
POTENTIALS = ZUO.parent / "potentials"
PEER = "s-MEAM 2020 (published)"
# Test MAE (meV/atom, eV/Å) of the published models of Zuo et al., J. Phys. Chem. A 124, 731
# (2020), on these test sets: the goals of issues 10 and 12.
PUBLISHED = {"Mo": {"MTP": (2.94, 0.090)}, "Ni": {"MTP": (0.48, 0.014)},
             "Cu": {"MTP": (0.41, 0.007)}, "Ge": {"MTP": (1.79, 0.046), "GAP": (2.06, 0.05)}}


def ladder(widths=(2, 4, 8)):
    """The rungs: name -> (preset, options of :func:`snnp_calc.fit`).

    Parameters
    ----------
    widths : sequence of int
        Numbers K of pair and of triplet filters of the ``K+K`` rungs.

    Returns
    -------
    dict
        ``s-MEAM``, ``1+1 MLP``, the ``K+K linear`` rungs, the ``K+K MLP`` ones, then
        the two Legendre rungs; MLP rungs keep the hidden widths and activation of the
        ``s-nnp`` preset.
    """
    rungs = {"s-MEAM": ("s-meam", {}), "1+1 MLP": ("s-nnp", dict(n_rho=1, n_triplet=1))}
    rungs.update({f"{k}+{k} linear": ("s-nnp", dict(n_rho=k, n_triplet=k, hidden=()))
                  for k in widths})
    rungs.update({f"{k}+{k} MLP": ("s-nnp", dict(n_rho=k, n_triplet=k)) for k in widths})
    legendre = dict(n_rho=4, n_triplet=4, n_legendre=4, degree=4)
    rungs["4+4+4L MLP"] = ("s-nnp", legendre)
    rungs["4+4+4L per-degree MLP"] = ("s-nnp", dict(legendre, per_degree=True))
    return rungs


RUNGS = ladder()


def readout_label(model):
    """What the fitted readout is: ``spline U``, ``linear`` or ``MLP 16x16 softplus``."""
    readout = model.readout
    if isinstance(readout, SplineReadout):
        return "spline U"
    if not readout.hidden:
        return "linear"
    return "MLP " + "x".join(map(str, readout.hidden)) + f" {readout.activation}"


def bulk_cell(element):
    """The rattled ground-state bulk cell (~2000 atoms) of ``element`` for timing."""
    structure, a, repeat = LATTICES[element]
    atoms = bulk(element, structure, a=a, cubic=True).repeat(repeat)
    atoms.rattle(RATTLE, seed=SEED)
    return atoms


def microseconds_per_atom(model, atoms):
    """Cost of ``SNNP(model)``: median µs per atom of a full single-point call.

    Parameters
    ----------
    model : Model
    atoms : ase.Atoms
        Copied; one atom is moved by 1e-9 Å before each timed call so that
        the calculator recomputes (neighbour list, kernels, stress).

    Returns
    -------
    float
        Median over >= ``MIN_CALLS`` calls and >= ``MIN_TIME`` s, after a
        warm-up call, of the time of ``get_forces()`` + ``get_stress()``,
        divided by the number of atoms, µs.
    """
    atoms = atoms.copy()
    atoms.calc = SNNP(model)
    atoms.get_forces()  # warm-up: compilation and first allocations
    atoms.get_stress()
    times, start = [], time.perf_counter()
    while len(times) < MIN_CALLS or time.perf_counter() - start < MIN_TIME:
        k = len(times)
        atoms.positions[k % len(atoms), 0] += 1e-9 * (-1) ** k  # forces a new calculation
        t0 = time.perf_counter()
        atoms.get_forces()
        atoms.get_stress()
        times.append(time.perf_counter() - t0)
    return 1e6 * statistics.median(times) / len(atoms)


def run_rung(element, name, train, test, max_time, cell):
    """Fit one rung on one element and measure it.

    Parameters
    ----------
    element, name : str
        Element symbol and rung name (a key of :data:`RUNGS`).
    train, test : list of Frame
    max_time : float
        Fit time limit, s.
    cell : ase.Atoms
        Bulk cell for the timing (:func:`bulk_cell`).

    Returns
    -------
    dict
        A table row: ``element``, ``rung``, ``readout``, ``n_params``, test
        ``e_mae`` (meV/atom) and ``f_mae`` (eV/Å), ``us_per_atom``, fit
        ``seconds`` and ``iterations``.
    """
    preset, options = RUNGS[name]
    model, report = fit(preset, train, test, max_time=max_time, progress=None, **options)
    errors = report["test"]["all"]
    return dict(element=element, rung=name, readout=readout_label(model),
                n_params=len(model.to_vector()), e_mae=errors["e_mae"], f_mae=errors["f_mae"],
                us_per_atom=microseconds_per_atom(model, cell), seconds=report["seconds"],
                iterations=report["iterations"])


def run_peer(element, train, test, cell):
    """The published s-MEAM of ``element`` as a table row (e0 fitted on ``train``), or None."""
    path = POTENTIALS / f"{element}.smeam2020.meam.spline"
    if not path.is_file():
        return None
    model = fit_e0(read_model(path), train)
    errors = error_report(model, test)["all"]
    return dict(element=element, rung=PEER, readout=readout_label(model),
                n_params=len(model.to_vector()), e_mae=errors["e_mae"], f_mae=errors["f_mae"],
                us_per_atom=microseconds_per_atom(model, cell), seconds=float("nan"),
                iterations="–")


def table(rows):
    """The markdown table of the ladder."""
    head = ["El", "rung", "readout", "parameters", "test E MAE (meV/atom)",
            "test F MAE (eV/Å)", "µs/atom", "fit (s)", "iterations"]
    cells = [[r["element"], r["rung"], r["readout"], r["n_params"], f"{r['e_mae']:.2f}",
              f"{r['f_mae']:.3f}", f"{r['us_per_atom']:.2f}",
              "–" if r["rung"] == PEER else f"{r['seconds']:.0f}", r["iterations"]]
             for r in rows]
    return markdown_table(head, cells, n_text=3)


def published_lines(elements):
    """Markdown lines of the published test errors of :data:`PUBLISHED` for ``elements``."""
    return [f"- {el}: " + "; ".join(f"{name} {e:.2f} meV/atom, {f:.3f} eV/Å"
                                    for name, (e, f) in PUBLISHED[el].items())
            for el in elements if el in PUBLISHED]


def figure(rows, title):
    """Test force and energy MAE against µs/atom, one marker per element, labelled rungs."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(11, 4.8), layout="constrained")
    panels = fig.subplots(1, 2)
    for ax, key, label in ((panels[0], "f_mae", "test force MAE (eV/Å)"),
                           (panels[1], "e_mae", "test energy MAE (meV/atom)")):
        for k, element in enumerate(dict.fromkeys(r["element"] for r in rows)):
            mine = [r for r in rows if r["element"] == element]
            ax.scatter([r["us_per_atom"] for r in mine], [r[key] for r in mine], s=36,
                       marker=MARKERS.get(element, "o"), color=f"C{k}", label=element)
            for r in mine:
                ax.annotate(r["rung"], (r["us_per_atom"], r[key]), xytext=(4, 3),
                            textcoords="offset points", fontsize=7, color=f"C{k}")
            # the published peers' test errors (cost not measured here): dashed lines
            for style, (name, errors) in zip(("--", ":"), PUBLISHED.get(element, {}).items()):
                value = errors[0] if key == "e_mae" else errors[1]
                ax.axhline(value, color=f"C{k}", ls=style, lw=0.8)
                ax.annotate(f"{name} {element}", (0.01, value), xycoords=("axes fraction",
                            "data"), xytext=(0, 2), textcoords="offset points", fontsize=7,
                            color=f"C{k}")
        lines = [errors[key == "f_mae"] for el in dict.fromkeys(r["element"] for r in rows)
                 for errors in PUBLISHED.get(el, {}).values()]
        log_axes(ax, [r["us_per_atom"] for r in rows], [r[key] for r in rows] + lines)
        ax.set_xlabel(f"cost of a single-point call (µs/atom, {numba.get_num_threads()} "
                      "Numba threads)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(title="element")
    fig.suptitle(title)
    return fig


def document(rows, args, command, load_start):
    """The whole markdown file: provenance, settings, table and figure."""
    n_train = "all" if args.max_structures is None else f"the first {args.max_structures}"
    settings = (f"Fits: {n_train} training structures of Zuo et al. (2020), "
                f"`fit(preset, train, test, max_time={args.max_time:g}, **options)` per rung "
                "(L-BFGS, 10 % validation split with early stopping, seed 0). Errors: "
                "mean absolute error on the test set, energy per atom and force components. "
                "Parameters: `len(model.to_vector())`. Cost: `SNNP(model)` on the rattled "
                f"({RATTLE} Å) ground-state bulk cell (bcc Mo 2000 atoms, fcc Ni and Cu "
                f"2048 atoms, diamond Ge 1728 atoms), median over >= {MIN_CALLS} single-point "
                "calls (move an atom, `get_forces()` + `get_stress()`) after a warm-up, in this "
                f"same run. `{PEER}`: the published s-MEAM file of the same data (Vita and "
                "Trinkle 2021), e0 fitted on the training set, not refitted.")
    published = ["Published test errors of the peers of Zuo et al. (2020) on the same test "
                 "sets (dashed and dotted lines in the figure; their cost is not measured "
                 "here):", ""] + published_lines(args.elements)
    return "\n".join([header("Architecture ladder: s-MEAM to s-NNP", command, load_start),
                      settings, "", table(rows), "", *published, "",
                      "![error against cost](ladder.png)", ""])


def parse(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", nargs="+", choices=ELEMENTS, default=list(ELEMENTS))
    parser.add_argument("--rungs", nargs="+", choices=list(RUNGS), default=list(RUNGS),
                        help="rungs to fit (default: all)")
    parser.add_argument("--max-time", type=float, default=180.0, help="s per fit (default 180)")
    add_data_options(parser, "docs/ladder", "ladder.md and ladder.png")
    return parser.parse_args(argv)


def write_results(rows, args, command, load_start):
    """Write ``ladder.png`` and ``ladder.md`` (atomically) for the rows so far."""
    title = (f"Zuo et al. (2020) test sets; {args.max_time:g} s of fitting per potential "
             "(lines: published MTP / GAP)")
    save_figure(figure(rows, title), args.out / "ladder.png")
    atomic_write_text(args.out / "ladder.md", document(rows, args, command, load_start))


def main(argv=None):
    """Fit and time every rung on every element; write and print the results.

    The markdown and the figure are rewritten after each rung, so an
    interrupted run keeps what it finished.
    """
    args = parse(argv)
    files, command, load_start = start(__file__, argv, args)
    rows = []
    for element in args.elements:
        train, test = load(*files[element], args.max_structures)
        cell = bulk_cell(element)
        peer = run_peer(element, train, test, cell)
        for name in args.rungs:
            rows.append(run_rung(element, name, train, test, args.max_time, cell))
            r = rows[-1]
            print(f"{element} {name}: {r['n_params']} parameters, {r['iterations']} iterations "
                  f"in {r['seconds']:.0f} s; test E {r['e_mae']:.2f} meV/atom, F "
                  f"{r['f_mae']:.3f} eV/Å; {r['us_per_atom']:.2f} µs/atom",
                  file=sys.stderr, flush=True)
            write_results(rows, args, command, load_start)
        if peer is not None:
            rows.append(peer)
            write_results(rows, args, command, load_start)
    print(table(rows))
    print(f"wrote {args.out / 'ladder.md'} and {args.out / 'ladder.png'}", file=sys.stderr)


if __name__ == "__main__":
    main()
