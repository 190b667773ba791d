"""Short NVE molecular dynamics of bcc Mo at 1000 K; prints the energy drift.

    python examples/md_nve.py [MODEL] [--steps 2000] [--dt 1.0]
"""
import argparse

import numpy as np
from _default import DEFAULT_MODEL
from ase.build import bulk
from ase.md.verlet import VelocityVerlet
from ase.units import fs, kB

from snnp_calc import SNNP

parser = argparse.ArgumentParser()
parser.add_argument("model", nargs="?", default=DEFAULT_MODEL)
parser.add_argument("--steps", type=int, default=2000)
parser.add_argument("--dt", type=float, default=1.0, help="time step, fs")
args = parser.parse_args()
atoms = bulk("Mo", "bcc", a=3.16, cubic=True).repeat(3)
atoms.rattle(0.05, seed=2)
atoms.calc = SNNP(args.model)
# Maxwell-Boltzmann momenta at 2000 K; half the kinetic energy flows into the
# potential energy of the rattled crystal, leaving about 1000 K
masses = atoms.get_masses()[:, None]
momenta = np.random.default_rng(3).normal(size=(len(atoms), 3)) * np.sqrt(masses * kB * 2000)
atoms.set_momenta(momenta - masses * momenta.sum(axis=0) / masses.sum())
dyn = VelocityVerlet(atoms, timestep=args.dt * fs)
start = atoms.get_total_energy()
n = len(atoms)
for block in range(10):
    dyn.run(args.steps // 10)
    print(f"step {dyn.nsteps:6d}  T = {atoms.get_temperature():7.1f} K  "
          f"E_tot/N = {atoms.get_total_energy() / n:.6f} eV")
drift = (atoms.get_total_energy() - start) / n
print(f"energy drift over {dyn.nsteps} steps of {args.dt} fs: {drift:.2e} eV/atom")
