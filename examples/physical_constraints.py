"""Do physical constraints keep a fitted s-NNP physical where the data end?

    python examples/physical_constraints.py [--elements Mo] [--max-time 300]
        [--max-structures N] [--data DIR] [--out docs/constraints]

For each element, two s-NNP fits with the same architecture (softplus
network) on the Zuo et al. (2020) training set: one free, one with
``constraints=("repulsive-core", "convex-readout")`` (the pair term rises
monotonically towards r = 0 below the shortest training distance; the
network is convex in its inputs). Then, far outside the training data:

- a dimer curve E(r), r from 0.5 Å to the cutoff: a physical pair of atoms
  repels at short range, so E must fall monotonically up to its minimum;
- an energy-volume curve of the ground-state lattice from 40 % compression to
  40 % expansion, next to the Zuo ``Elastic`` structures: E must rise
  monotonically under compression.

Writes ``constraints.md`` (test errors, where each curve stops being
physical) and ``constraints.png`` (the curves) to ``--out``.
"""
import argparse
from pathlib import Path

import numpy as np
from _results import ZUO, header, load, positive_int, save_figure, start
from ase import Atoms
from ase.build import bulk

from snnp_calc import SNNP, fit, write_model
from snnp_calc._files import atomic_write_text
from snnp_calc.fitting.ranges import distance_range

LATTICE = {"Mo": ("bcc", 3.16), "Ni": ("fcc", 3.52), "Cu": ("fcc", 3.63)}
VARIANTS = {"free": (), "constrained": ("repulsive-core", "convex-readout")}


def dimer_curve(model, element, r):
    """Energy (eV) of a dimer at each distance in ``r`` (Å), relative to two free atoms."""
    calc = SNNP(model)
    free = 2 * Atoms(element, calculator=calc).get_potential_energy()
    return np.array([Atoms(f"{element}2", positions=[[0, 0, 0], [0, 0, d]], calculator=calc)
                     .get_potential_energy() for d in r]) - free


def ev_curve(model, element, scale):
    """Volume (Å³/atom) and energy (eV/atom) of the ground-state lattice scaled by ``scale``."""
    kind, a = LATTICE[element]
    out = []
    for s in scale:
        atoms = bulk(element, kind, a * s, cubic=True)
        atoms.calc = SNNP(model)
        out.append((atoms.get_volume() / len(atoms), atoms.get_potential_energy() / len(atoms)))
    return np.array(out).T


def breaks_monotony(x, y, below):
    """Largest x < ``below`` where y stops falling with x, or None (physical throughout)."""
    rising = np.flatnonzero((np.diff(y) > 0) & (x[1:] < below))
    return None if len(rising) == 0 else float(x[rising[-1] + 1])


def study(element, train, test, max_time, out):
    """Fit both variants and evaluate their curves; returns a list of result dicts."""
    elastic = [(f.atoms.get_volume() / len(f.atoms), f.energy / len(f.atoms))
               for f in train + test if f.config_type == "Elastic"]
    shortest = distance_range(train)[0]
    rows = []
    for name, constraints in VARIANTS.items():
        model, report = fit("s-nnp", train, test, activation="softplus",
                            constraints=constraints, max_time=max_time, progress=None)
        write_model(model, out / f"{element}-{name}.json")
        r = np.linspace(0.5, model.cutoff, 400)
        e_dimer = dimer_curve(model, element, r)
        volume, energy = ev_curve(model, element, np.linspace(0.6 ** (1 / 3), 1.4 ** (1 / 3),
                                                              161))
        v0 = volume[np.argmin(energy)]
        # shift model energies onto the DFT ones at the data's lowest-energy volume
        shift = 0.0
        if elastic:
            v_ref, e_ref = min(elastic, key=lambda p: p[1])
            shift = e_ref - np.interp(v_ref, volume, energy)
        rows.append(dict(element=element, variant=name, test=report["test"]["all"],
                         r=r, e_dimer=e_dimer, r_min=float(r[np.argmin(e_dimer)]),
                         dimer_break=breaks_monotony(r, e_dimer, r[np.argmin(e_dimer)]),
                         shortest=float(shortest), volume=volume, energy=energy + shift,
                         ev_break=breaks_monotony(volume, energy, v0),
                         elastic=np.array(elastic).reshape(-1, 2)))
    return rows


def table(rows, command, load_start):
    """The markdown report."""
    lines = [header("Free against constrained s-NNP fits, far from the data", command,
                    load_start), "",
             "| element | model | test E MAE (meV/atom) | test F MAE (eV/Å) | dimer minimum (Å) "
             "| dimer stops repelling at (Å) | E-V stops rising under compression at "
             "(Å³/atom) |", "|---|---|---:|---:|---:|---|---|"]
    for row in rows:
        dimer = "never" if row["dimer_break"] is None else f"{row['dimer_break']:.2f}"
        ev = "never" if row["ev_break"] is None else f"{row['ev_break']:.2f}"
        lines.append(f"| {row['element']} | {row['variant']} | {row['test']['e_mae']:.2f} | "
                     f"{row['test']['f_mae']:.3f} | {row['r_min']:.2f} | {dimer} | {ev} |")
    return "\n".join(lines) + "\n"


def figure(rows, path):
    """Dimer and E-V curves of every fit, one row of panels per element."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    elements = sorted({row["element"] for row in rows})
    fig, axes = plt.subplots(len(elements), 2, figsize=(11, 4 * len(elements)), squeeze=False)
    for (ax_d, ax_v), element in zip(axes, elements):
        for row in (r for r in rows if r["element"] == element):
            ax_d.plot(row["r"], row["e_dimer"], label=row["variant"])
            ax_v.plot(row["volume"], row["energy"], label=row["variant"])
        ax_d.axvline(row["shortest"], color="grey", ls=":", label="shortest distance in data")
        ax_d.set(xlabel="r (Å)", ylabel="E(dimer) − 2 E(atom) (eV)", title=f"{element} dimer",
                 ylim=(min(-10, min(r["e_dimer"].min() for r in rows if r["element"] == element)),
                       30))
        ax_v.plot(*row["elastic"].T, "k.", label="DFT Elastic (Zuo 2020)")
        ax_v.set(xlabel="volume (Å³/atom)", ylabel="energy (eV/atom)",
                 title=f"{element} {LATTICE[element][0]} energy-volume")
        for ax in (ax_d, ax_v):
            ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--elements", nargs="+", default=["Mo"], choices=sorted(LATTICE))
    parser.add_argument("--max-time", type=float, default=300.0, help="per fit, s")
    parser.add_argument("--max-structures", type=positive_int,
                        help="fit only the first N training structures (smoke tests)")
    parser.add_argument("--data", type=Path, default=ZUO, help="folder of <El>/train.xyz, test.xyz")
    parser.add_argument("--out", type=Path, default=Path("docs/constraints"))
    args = parser.parse_args(argv)
    files, command, load_start = start(__file__, argv, args)
    rows = []
    for element in args.elements:
        train, test = load(*files[element], args.max_structures)
        rows += study(element, train, test, args.max_time, args.out)
    text = table(rows, command, load_start)
    atomic_write_text(args.out / "constraints.md", text)
    figure(rows, args.out / "constraints.png")
    print(text)


if __name__ == "__main__":
    main()
