"""Does a committee's spread rank its errors? s-NNP committees on Mo, Ni and Cu.

For each element of the Zuo et al. (2020) DFT data, fits a committee of
s-NNP models (:func:`snnp_calc.fit_committee`: one seed and bootstrap
resample of the training set per member), writes it to
``OUT/<El>-committee.json``, and compares on the test set the committee's
absolute errors with its predicted standard deviations (over members):

- per structure, ``|E_mean - E_DFT| / n_atoms`` against ``energy_std / n_atoms``;
- per force component, ``|F_mean - F_DFT|`` against ``forces_std``.

Writes ``OUT/committee.md`` (Spearman rank correlation of error and spread,
and the test MAE of the committee mean and of the average member) and
``OUT/committee.png`` (error against spread, log-log)::

    python examples/committee_uncertainty.py [--elements Mo Ni Cu] [--members 4]
        [--max-time 120] [--max-structures N] [--data DIR] [--out docs/committee]

The full run, 3 elements x 4 members x 120 s of fitting, takes about 40
minutes on 2 cores (each member also builds its start and evaluates its errors).
"""
import argparse
import sys

import numpy as np
from _results import ELEMENTS, add_data_options, header, load, markdown_table, save_figure, start

from snnp_calc import fit_committee, write_model
from snnp_calc._files import atomic_write_text
from snnp_calc.evaluate import evaluate_committee


def rank_correlation(x, y):
    """Spearman rank correlation of ``x`` and ``y`` (ties get mean ranks; nan if constant)."""
    from scipy.stats import spearmanr
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(spearmanr(x, y).statistic)


def errors_and_spreads(frames, predictions):
    """Absolute errors of the committee mean and the predicted standard deviations.

    Parameters
    ----------
    frames : list of Frame
        Reference structures.
    predictions : list of dict
        :func:`snnp_calc.evaluate.evaluate_committee` of each frame.

    Returns
    -------
    dict of ndarray
        ``e_err_s``, ``e_std_s`` (n_structures,) eV/atom;
        ``f_err_c``, ``f_std_c`` (3 x n_atoms in all,) eV/Å.
    """
    n_s = np.array([len(f.atoms) for f in frames])
    e_err_s = np.abs([p["energy"] - f.energy for f, p in zip(frames, predictions)]) / n_s
    e_std_s = np.array([p["energy_std"] for p in predictions]) / n_s
    f_err_c = np.concatenate([np.abs(p["forces"] - f.forces).ravel()
                              for f, p in zip(frames, predictions)])
    f_std_c = np.concatenate([p["forces_std"].ravel() for p in predictions])
    return dict(e_err_s=e_err_s, e_std_s=e_std_s, f_err_c=f_err_c, f_std_c=f_std_c)


def run_element(element, train, test, args):
    """Fit, write and evaluate the committee of one element.

    Parameters
    ----------
    element : str
    train, test : list of Frame
    args : argparse.Namespace
        ``members``, ``max_time`` (s per member) and ``out`` (folder of
        ``<El>-committee.json``).

    Returns
    -------
    dict
        A table row: ``element``, ``members``, test ``e_mae`` and ``f_mae`` of
        the committee mean and ``e_mae_member``, ``f_mae_member`` averaged over
        members (meV/atom, eV/Å), Spearman ``rho_e`` and ``rho_f``, and the
        ``pairs`` of :func:`errors_and_spreads`.
    """
    committee, report = fit_committee(args.members, "s-nnp", train, test,
                                      max_time=args.max_time, progress=None)
    write_model(committee, args.out / f"{element}-committee.json")
    predictions = [evaluate_committee(committee, f.atoms.numbers, f.atoms.positions,
                                      f.atoms.cell.array, f.atoms.pbc) for f in test]
    pairs = errors_and_spreads(test, predictions)
    members = [r["test"]["all"] for r in report["members"]]
    return dict(element=element, members=args.members, pairs=pairs,
                e_mae=report["test"]["all"]["e_mae"], f_mae=report["test"]["all"]["f_mae"],
                e_mae_member=np.mean([m["e_mae"] for m in members]),
                f_mae_member=np.mean([m["f_mae"] for m in members]),
                rho_e=rank_correlation(pairs["e_err_s"], pairs["e_std_s"]),
                rho_f=rank_correlation(pairs["f_err_c"], pairs["f_std_c"]))


def table(rows):
    """The markdown table: MAE of committee and average member, rank correlations."""
    head = ["El", "members", "test E MAE, committee (meV/atom)",
            "test E MAE, mean member (meV/atom)", "test F MAE, committee (eV/Å)",
            "test F MAE, mean member (eV/Å)", "Spearman ρ, energy", "Spearman ρ, forces",
            "structures", "force components"]
    cells = [[r["element"], r["members"], f"{r['e_mae']:.2f}", f"{r['e_mae_member']:.2f}",
              f"{r['f_mae']:.3f}", f"{r['f_mae_member']:.3f}", f"{r['rho_e']:.2f}",
              f"{r['rho_f']:.2f}", len(r["pairs"]["e_err_s"]), len(r["pairs"]["f_err_c"])]
             for r in rows]
    return markdown_table(head, cells)


# the two panels: which arrays, their correlation, display scale and unit, marker size
PANELS = (dict(err="e_err_s", std="e_std_s", rho="rho_e", scale=1000.0, unit="meV/atom",
               what="energy per atom", size=8),
          dict(err="f_err_c", std="f_std_c", rho="rho_f", scale=1.0, unit="eV/Å",
               what="force component", size=2))
FLOOR = 1e-6  # in the panel's unit: smaller values are round-off (zeros held by symmetry)


def scatter_panel(ax, rows, panel):
    """|error| against predicted std of one quantity, one colour per element, log-log."""
    lo, hi = np.inf, 0.0
    for k, r in enumerate(rows):
        x, y = panel["scale"] * r["pairs"][panel["std"]], panel["scale"] * r["pairs"][panel["err"]]
        keep = (x > FLOOR) & (y > FLOOR)
        ax.scatter(x[keep], y[keep], s=panel["size"], alpha=0.5, color=f"C{k}",
                   edgecolors="none", rasterized=True,
                   label=f"{r['element']} (Spearman ρ = {r[panel['rho']]:.2f})")
        if keep.any():
            lo, hi = min(lo, x[keep].min(), y[keep].min()), max(hi, x[keep].max(), y[keep].max())
    if hi > 0:
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="|error| = σ")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"committee σ of the {panel['what']} ({panel['unit']})")
    ax.set_ylabel(f"|error| of the committee-mean {panel['what']} ({panel['unit']})")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, markerscale=2)


def figure(rows, title):
    """Two panels: energies per atom (one point per structure) and force components."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(11, 4.8), layout="constrained")
    for ax, panel in zip(fig.subplots(1, 2), PANELS):
        scatter_panel(ax, rows, panel)
    fig.suptitle(title)
    return fig


def document(rows, args, command, load_start):
    """The whole markdown file: provenance, settings, table and figure."""
    n_train = "all" if args.max_structures is None else f"the first {args.max_structures}"
    settings = (f"Committees of {args.members} s-NNP models (`s-nnp` preset) fitted to "
                f"{n_train} training structures of Zuo et al. (2020) with "
                f"`fit_committee({args.members}, 's-nnp', train, test, "
                f"max_time={args.max_time:g})` (seeds 0..{args.members - 1}, bootstrap "
                "resamples). On the test set: Spearman rank correlation between the absolute "
                "error of the committee mean and the committee's standard deviation "
                "(ddof = 1), per structure for the energy per atom and per force component. "
                "MAE: the committee mean's, and the average of the members' own. The "
                f"figure leaves out points with a value below {FLOOR:g} meV/atom or eV/Å "
                "(round-off: force components that symmetry holds at zero).")
    return "\n".join([header("Committee uncertainty: does the spread rank the error?",
                             command, load_start), settings, "", table(rows), "",
                      "![error against predicted standard deviation](committee.png)", ""])


def parse(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", nargs="+", choices=ELEMENTS, default=list(ELEMENTS))
    parser.add_argument("--members", type=int, default=4, help="committee size (default 4)")
    parser.add_argument("--max-time", type=float, default=120.0,
                        help="s per member (default 120)")
    add_data_options(parser, "docs/committee", "committee.md, committee.png and the committees")
    args = parser.parse_args(argv)
    if args.members < 2:
        parser.error("a committee needs --members 2 or more")
    return args


def write_results(rows, args, command, load_start):
    """Write ``committee.png`` and ``committee.md`` (atomically) for the rows so far."""
    title = (f"Zuo et al. (2020) test sets; committees of {args.members} s-NNPs, "
             f"{args.max_time:g} s of fitting each")
    save_figure(figure(rows, title), args.out / "committee.png")
    atomic_write_text(args.out / "committee.md", document(rows, args, command, load_start))


def main(argv=None):
    """Fit and evaluate a committee per element; write and print the results.

    The markdown and the figure are rewritten after each element, so an
    interrupted run keeps what it finished.
    """
    args = parse(argv)
    files, command, load_start = start(__file__, argv, args)
    rows = []
    for element in args.elements:
        rows.append(run_element(element, *load(*files[element], args.max_structures), args))
        r = rows[-1]
        print(f"{element}: committee test E {r['e_mae']:.2f} meV/atom, F {r['f_mae']:.3f} eV/Å;"
              f" Spearman energy {r['rho_e']:.2f}, forces {r['rho_f']:.2f}",
              file=sys.stderr, flush=True)
        write_results(rows, args, command, load_start)
    print(table(rows))
    print(f"wrote {args.out / 'committee.md'} and {args.out / 'committee.png'}", file=sys.stderr)


if __name__ == "__main__":
    main()
