"""Do physical constraints keep a fitted s-NNP physical where the data end?

    python examples/physical_constraints.py [--elements Mo] [--max-time 300] [--out docs/constraints]

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
import datetime
import os
import sys
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.build import bulk

from snnp_calc import SNNP, fit, write_model
from snnp_calc.dataset import read_frames
from snnp_calc.presets import distance_range

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "zuo2020"
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


def study(element, max_time, out):
    """Fit both variants and evaluate their curves; returns a list of result dicts."""
    train = read_frames(DATA / element / "train.xyz")
    test = read_frames(DATA / element / "test.xyz")
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
        v_ref, e_ref = min(elastic, key=lambda p: p[1])
        shift = e_ref - np.interp(v_ref, volume, energy)
        rows.append(dict(element=element, variant=name, test=report["test"]["all"],
                         r=r, e_dimer=e_dimer, r_min=float(r[np.argmin(e_dimer)]),
                         dimer_break=breaks_monotony(r, e_dimer, r[np.argmin(e_dimer)]),
                         shortest=float(shortest), volume=volume, energy=energy + shift,
                         ev_break=breaks_monotony(volume, energy, v0),
                         elastic=np.array(elastic)))
    return rows


def table(rows, command):
    """The markdown report."""
    lines = [f"Command: `{command}`; {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d} "
             f"on {os.cpu_count()} cores.", "",
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
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--elements", nargs="+", default=["Mo"], choices=sorted(LATTICE))
    parser.add_argument("--max-time", type=float, default=300.0, help="per fit, s")
    parser.add_argument("--out", default="docs/constraints")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        sys.exit(f"the Zuo et al. data are not at {DATA}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = [row for element in args.elements for row in study(element, args.max_time, out)]
    command = "python examples/physical_constraints.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    text = table(rows, command)
    tmp = out / ".constraints.md.tmp"
    tmp.write_text(text)
    os.replace(tmp, out / "constraints.md")
    figure(rows, out / "constraints.png")
    print(text)


if __name__ == "__main__":
    main()
