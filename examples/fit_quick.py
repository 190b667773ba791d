"""Fit a small s-NNP to DFT data in under a minute and evaluate it.

    python examples/fit_quick.py [TRAIN.xyz] [--out quick.json] [--seconds 40]

Default data: the Zuo et al. (2020) Mo test set from ../shared/data (it is
small; for a real potential fit the training set with ``snnp fit``). Half the
structures train, the other half are held out and reported.
"""
import argparse
from pathlib import Path

from snnp_calc import fit, write_model
from snnp_calc.dataset import read_frames

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "zuo2020" / "Mo" / "test.xyz"

parser = argparse.ArgumentParser()
parser.add_argument("data", nargs="?", default=DEFAULT)
parser.add_argument("--out", default="quick.json")
parser.add_argument("--seconds", type=float, default=40.0)
args = parser.parse_args()
frames = read_frames(args.data)
train, held_out = frames[::2], frames[1::2]
model, report = fit("s-nnp", train, held_out, max_time=args.seconds, n_rho=4, n_triplet=2,
                    hidden=(8, 8), progress=lambda line: None)
write_model(model, args.out)
row = report["test"]["all"]
print(f"held-out MAE: energy {row['e_mae']:.2f} meV/atom, forces {row['f_mae']:.3f} eV/Å "
      f"({report['iterations']} iterations, {report['seconds']:.0f} s); wrote {args.out}")
