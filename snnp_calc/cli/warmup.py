"""``snnp warmup``: compile every Numba kernel ahead, so that no later call waits for it.

Numba compiles a kernel on its first call and caches the machine code next
to the package; after an installation that first call takes about half a
minute. This command makes those calls on small structures, for both
readouts, serial and threaded, and for the fitter's loss gradient and
Jacobian, and prints how long it took.
"""
import time

import numpy as np
from ase.build import bulk

from ..calculator import SNNP
from ..dataset import Frame
from ..fitting.jacobian import residuals_and_jacobian
from ..fitting.loss import LossWeights, loss_and_gradient
from ..fitting.training_set import pack_frames
from ..model.initial import initial_model


def _frames():
    """Two rattled two-species cells with reference values from a small model."""
    frames = []
    for k in range(2):
        atoms = bulk("Mo", "bcc", 3.15, cubic=True).repeat(2)
        atoms.rattle(0.1, seed=k)
        atoms.symbols[:3] = "Ni"
        frames.append(Frame(atoms, -50.0, np.zeros((len(atoms), 3)), np.zeros(6), "default",
                            f"warmup {k}"))
    return frames


def warmup():
    """Call every kernel once; returns the seconds it took."""
    start = time.perf_counter()
    models = [initial_model(["Mo", "Ni"], 4.4, r_min=1.9, n_rho=2, n_triplet=2, hidden=(4,)),
              initial_model(["Mo", "Ni"], 4.4, r_min=1.9, n_rho=1, n_triplet=1,
                            readout="spline")]
    frames = _frames()
    for model in models:
        for parallel in (False, True):
            atoms = frames[0].atoms.copy()
            atoms.calc = SNNP(model, parallel=parallel)
            atoms.get_forces()
        data = pack_frames(frames, model.species, model.cutoff)
        loss_and_gradient(model.to_vector(), model, data, LossWeights())
        residuals_and_jacobian(model.to_vector(), model, data, LossWeights())
    return time.perf_counter() - start


def run(args):
    """Run ``snnp warmup``."""
    print(f"compiled or loaded every kernel in {warmup():.1f} s")


def add_cli(sub):
    """Add this command to an argparse subparsers object."""
    p = sub.add_parser("warmup", help="compile the Numba kernels ahead of their first use")
    p.set_defaults(func=run)
