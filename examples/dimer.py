"""Energy and force of a Mo dimer against separation, through the cutoff.

    python examples/dimer.py [MODEL] [--plot dimer.png]
"""
import argparse

import numpy as np
from _default import DEFAULT_MODEL
from ase import Atoms

from snnp_calc import SNNP

parser = argparse.ArgumentParser()
parser.add_argument("model", nargs="?", default=DEFAULT_MODEL)
parser.add_argument("--plot", help="write a PNG (needs matplotlib)")
args = parser.parse_args()
calc = SNNP(args.model)
symbol = calc.model.species[0]
r = np.linspace(1.5, calc.model.cutoff + 0.5, 60)
energy, force = [], []
for d in r:
    atoms = Atoms(2 * symbol, positions=[[0, 0, 0], [d, 0, 0]])
    atoms.calc = calc
    energy.append(atoms.get_potential_energy() - 2 * calc.model.e0[0])
    force.append(atoms.get_forces()[1, 0])
print(f"{'r (Å)':>8} {'E - 2 e0 (eV)':>14} {'F_x (eV/Å)':>12}")
for d, e, f in zip(r, energy, force):
    print(f"{d:8.3f} {e:14.6f} {f:12.6f}")
if args.plot:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(r, energy)
    ax.axvline(calc.model.cutoff, ls=":", c="k")
    ax.set_xlabel("r (Å)")
    ax.set_ylabel("E − 2 e0 (eV)")
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)
