"""``snnp eval MODEL DATA``: a model's errors on reference structures, per config_type."""
import json

from ..dataset import read_frames
from ..io import read_model
from ..metrics import error_report, format_report
from ._keys import add_key_options, keys_of


def run(args):
    """Run ``snnp eval`` for parsed ``args``."""
    model = read_model(args.model, species=args.species)
    frames = read_frames(args.data, keys=keys_of(args))
    report = error_report(model, frames)
    if args.json:
        row = report["all"]
        keys = ("e_mae", "e_rmse", "f_mae", "f_rmse", "n_structures")
        print(json.dumps({k: row[k] for k in keys}))
    else:
        print(f"{args.model} on {args.data}: {len(frames)} structures")
        print(format_report(report))


def add_cli(sub):
    """Add this command to an argparse subparsers object."""
    p = sub.add_parser("eval", help="errors of a model on reference structures (extended XYZ)")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object: e_mae, e_rmse (meV/atom), f_mae, f_rmse (eV/Å), "
                        "n_structures")
    p.add_argument("--species", help="element of an old-format meam/spline file")
    add_key_options(p)
    p.set_defaults(func=run)
