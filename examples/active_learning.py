"""Active learning, simulated: do a committee's picks reach a test error with fewer structures?

Plays the loop of :func:`snnp_calc.select_structures` (``snnp select``) on the
DFT data of Zuo et al. (2020), where every "new" structure already has its DFT
label: for each element,

1. the labelled set starts as a random ``--start`` fraction (20 %) of the
   training set; the rest is the pool;
2. a committee of ``--members`` s-NNPs (``s-nnp`` preset, bootstrap
   resamples, ``--max-iter`` L-BFGS iterations each: an iteration budget, so
   that the curve does not depend on the machine's load) is fitted to the
   labelled set and its mean scored on the test set;
3. ``--step`` (10 %) of the training set moves from the pool to the labelled
   set, chosen by the committee (largest per-atom force deviation,
   ``diverse=True``) or at random, and the loop goes back to 2, ``--rounds``
   times.

Both strategies share the starting set and its committee, and every fit of
round r has the same seeds. Writes ``OUT/active_learning.md`` (the command,
machine, settings and one table row per element, strategy and round) and
``OUT/active_learning.png`` (test MAE against labelled structures)::

    python examples/active_learning.py [--elements Mo Ge] [--members 3] [--max-iter 250]
        [--rounds 4] [--start 0.2] [--step 0.1] [--seed 0] [--data DIR]
        [--out docs/active_learning]

The full run (2 elements, 27 committee fits of 250 iterations each) takes
about 45 minutes on 2 cores.
"""
import argparse
import sys

import numpy as np
from _results import (
    add_data_options,
    header,
    load,
    markdown_table,
    positive_int,
    save_figure,
    start,
)

from snnp_calc import fit_committee, select_structures
from snnp_calc._files import atomic_write_text

ELEMENTS = ("Mo", "Ni", "Cu", "Ge")
STRATEGIES = ("committee", "random")


def fit_round(labelled, test, args, round_):
    """Fit a committee to ``labelled`` frames: (committee, test E MAE meV/atom, F MAE eV/Å)."""
    committee, report = fit_committee(args.members, "s-nnp", labelled, test,
                                      seed=args.seed + 100 * round_, max_iter=args.max_iter,
                                      max_time=None, progress=None)
    return committee, report["test"]["all"]["e_mae"], report["test"]["all"]["f_mae"]


def pick(strategy, committee, pool, n, rng):
    """Positions in ``pool`` of the ``n`` frames to label next, by ``strategy``."""
    if strategy == "random":
        return rng.choice(len(pool), size=n, replace=False).tolist()
    chosen = select_structures(committee, [f.atoms for f in pool], n, by="forces",
                               diverse=True)
    return chosen.indices.tolist()


def run_element(element, train, test, args, say):
    """The learning curves of one element: a list of table rows (dicts)."""
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(train)).tolist()
    n_start = max(2, round(args.start * len(train)))
    step = max(1, round(args.step * len(train)))
    first = [train[k] for k in order[:n_start]]
    committee0, e0, f0 = fit_round(first, test, args, 0)
    say(f"{element}: {n_start} structures: test E {e0:.2f} meV/atom, F {f0:.3f} eV/Å")
    rows = [dict(element=element, strategy=s, round=0, n=n_start, e_mae=e0, f_mae=f0)
            for s in STRATEGIES]
    for strategy in STRATEGIES:
        labelled, pool = list(first), [train[k] for k in order[n_start:]]
        committee, picks = committee0, np.random.default_rng(args.seed + 1)
        for round_ in range(1, args.rounds + 1):
            if len(pool) < step:
                break
            chosen = set(pick(strategy, committee, pool, step, picks))
            labelled += [f for k, f in enumerate(pool) if k in chosen]
            pool = [f for k, f in enumerate(pool) if k not in chosen]
            committee, e, f = fit_round(labelled, test, args, round_)
            rows.append(dict(element=element, strategy=strategy, round=round_,
                             n=len(labelled), e_mae=e, f_mae=f))
            say(f"{element} {strategy}: {len(labelled)} structures: test E {e:.2f} meV/atom, "
                f"F {f:.3f} eV/Å")
    return rows


def table(rows):
    """The markdown table: one row per element, strategy and round."""
    head = ["El", "strategy", "round", "training structures", "test E MAE (meV/atom)",
            "test F MAE (eV/Å)"]
    cells = [[r["element"], r["strategy"], r["round"], r["n"], f"{r['e_mae']:.2f}",
              f"{r['f_mae']:.3f}"] for r in rows]
    return markdown_table(head, cells, n_text=2)


def summary(rows):
    """Per element: the fewest structures with which committee picks reach random's last error."""
    lines = []
    for element in dict.fromkeys(r["element"] for r in rows):
        mine = [r for r in rows if r["element"] == element]
        random_last = max((r for r in mine if r["strategy"] == "random"), key=lambda r: r["n"])
        for what, unit in (("f_mae", "eV/Å"), ("e_mae", "meV/atom")):
            # the shared start (round 0) is no pick of either strategy
            reached = [r["n"] for r in mine if r["strategy"] == "committee" and r["round"] > 0
                       and r[what] <= random_last[what]]
            target = f"{random_last[what]:.3g} {unit} with {random_last['n']}"
            lines.append(f"- {element}, {'forces' if what == 'f_mae' else 'energies'}: random "
                         f"picks reach {target} structures; committee picks "
                         + (f"reach it with {min(reached)}" if reached else "do not reach it"))
    return "\n".join(lines)


def figure(rows, title):
    """Test MAE (energy, forces) against labelled structures, per element and strategy."""
    from matplotlib.figure import Figure
    elements = list(dict.fromkeys(r["element"] for r in rows))
    fig = Figure(figsize=(10, 3.6 * len(elements)), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(elements), 2, squeeze=False))
    for ax_row, element in zip(axes, elements):
        for ax, what, unit in zip(ax_row, ("e_mae", "f_mae"), ("meV/atom", "eV/Å")):
            for k, strategy in enumerate(STRATEGIES):
                mine = [r for r in rows if r["element"] == element and r["strategy"] == strategy]
                ax.plot([r["n"] for r in mine], [r[what] for r in mine], "o-", color=f"C{k}",
                        label=f"{strategy} picks")
            ax.set_xlabel("training structures")
            ax.set_ylabel(f"{element} test {'energy' if what == 'e_mae' else 'force'} MAE "
                          f"({unit})")
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8)
    fig.suptitle(title)
    return fig


def document(rows, args, command, load_start):
    """The whole markdown file: provenance, settings, summary, table and figure."""
    settings = (f"Start: a random {args.start:.0%} of each Zuo et al. (2020) training set "
                f"(seed {args.seed}); each round adds {args.step:.0%} of it, picked by "
                f"`select_structures(committee, pool, n, by='forces', diverse=True)` or at "
                f"random. Each round fits `fit_committee({args.members}, 's-nnp', labelled, "
                f"max_iter={args.max_iter}, max_time=None)`; the MAE is the committee mean's "
                "on the whole test set (used only to report, never to choose).")
    return "\n".join([header("Active learning: committee picks against random picks",
                             command, load_start), settings, "", summary(rows), "",
                      table(rows), "", "![test MAE against training structures]"
                      "(active_learning.png)", ""])


def parse(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", nargs="+", choices=ELEMENTS, default=["Mo", "Ge"])
    parser.add_argument("--members", type=int, default=3, help="committee size (default 3)")
    parser.add_argument("--max-iter", type=positive_int, default=250,
                        help="L-BFGS iterations per member (default 250)")
    parser.add_argument("--rounds", type=positive_int, default=4, help="rounds (default 4)")
    parser.add_argument("--start", type=float, default=0.2,
                        help="starting fraction of the training set (default 0.2)")
    parser.add_argument("--step", type=float, default=0.1,
                        help="fraction of the training set added per round (default 0.1)")
    parser.add_argument("--seed", type=int, default=0)
    add_data_options(parser, "docs/active_learning", "active_learning.md and .png")
    args = parser.parse_args(argv)
    if args.members < 2:
        parser.error("a committee needs --members 2 or more")
    if not (0 < args.start < 1 and 0 < args.step < 1):
        parser.error("--start and --step are fractions between 0 and 1")
    return args


def main(argv=None):
    """Run the loop per element; rewrite the markdown and the figure after each one."""
    args = parse(argv)
    files, command, load_start = start(__file__, argv, args)
    rows = []
    for element in args.elements:
        rows += run_element(element, *load(*files[element], args.max_structures), args,
                            lambda line: print(line, file=sys.stderr, flush=True))
        title = (f"Zuo et al. (2020) test sets; committees of {args.members} s-NNPs, "
                 f"{args.max_iter} iterations each")
        save_figure(figure(rows, title), args.out / "active_learning.png")
        atomic_write_text(args.out / "active_learning.md",
                          document(rows, args, command, load_start))
    print(summary(rows))
    print(table(rows))
    print(f"wrote {args.out / 'active_learning.md'} and {args.out / 'active_learning.png'}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
