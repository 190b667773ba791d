"""Relax a rattled bcc Mo supercell, atoms and cell together, and report the result.

    python examples/relax.py [MODEL]

Uses ASE's FIRE optimiser on a FrechetCellFilter, so the cell shape and
volume relax together with the positions (stress tolerance in eV/Å³).
"""
import sys
import warnings

import numpy as np
from _default import DEFAULT_MODEL
from ase.build import bulk
from ase.filters import FrechetCellFilter
from ase.optimize import FIRE
from ase.units import GPa

from snnp_calc import SNNP

# FrechetCellFilter's matrix logarithm warns about round-off near the identity
warnings.filterwarnings("ignore", message="logm result may be inaccurate")
model = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL
atoms = bulk("Mo", "bcc", a=3.25, cubic=True).repeat(3)
atoms.rattle(0.05, seed=1)
atoms.calc = SNNP(model)
print(f"model: {model}")
print(f"start: E/N = {atoms.get_potential_energy() / len(atoms):.6f} eV, "
      f"pressure = {-atoms.get_stress()[:3].mean() / GPa:.3f} GPa")
FIRE(FrechetCellFilter(atoms), logfile=None).run(fmax=1e-4, steps=2000)
a = np.cbrt(atoms.get_volume() / len(atoms) * 2)
print(f"relaxed: E/N = {atoms.get_potential_energy() / len(atoms):.6f} eV, "
      f"a = {a:.4f} Å, max |F| = {np.abs(atoms.get_forces()).max():.2e} eV/Å, "
      f"pressure = {-atoms.get_stress()[:3].mean() / GPa:.2e} GPa")
