"""The ``snnp`` command.

::

    snnp convert IN OUT [--species El] [--style old|new] [--fit-e0 DATA.xyz]
    snnp eval MODEL DATA.xyz [--json] [--species El]

Errors in the input (a malformed model file, a frame without energy, an
element the model lacks) end the command with exit status 2 and a message
that names the file.
"""
import argparse
import dataclasses
import json
import sys

from .dataset import read_frames
from .initial import fit_e0
from .io import read_model, write_model
from .metrics import error_report, format_report


def _convert(args):
    model = read_model(args.input, species=args.species)
    if args.fit_e0:
        model = fit_e0(model, read_frames(args.fit_e0))
        meta = dict(model.metadata, e0_fitted_on=str(args.fit_e0), converted_from=str(args.input))
        model = dataclasses.replace(model, metadata=meta)
    write_model(model, args.output, style=args.style)
    print(f"wrote {args.output} ({', '.join(model.species)}, cutoff {model.cutoff:g} Å)")


def _eval(args):
    model = read_model(args.model, species=args.species)
    frames = read_frames(args.data)
    report = error_report(model, frames)
    if args.json:
        row = report["all"]
        keys = ("e_mae", "e_rmse", "f_mae", "f_rmse", "n_structures")
        print(json.dumps({k: row[k] for k in keys}))
    else:
        print(f"{args.model} on {args.data}: {len(frames)} structures")
        print(format_report(report))


def build_parser():
    parser = argparse.ArgumentParser(prog="snnp", description="s-NNP interatomic potentials")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("convert", help="convert a model between JSON and LAMMPS meam/spline")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--species", help="element of an old-format (single-species) meam/spline file")
    p.add_argument("--style", choices=("new", "old"), default="new",
                   help="meam/spline layout to write (default: new)")
    p.add_argument("--fit-e0", metavar="DATA.xyz",
                   help="refit the per-species reference energies e0 to this data")
    p.set_defaults(func=_convert)
    p = sub.add_parser("eval", help="errors of a model on reference structures (extended XYZ)")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object: e_mae, e_rmse (meV/atom), f_mae, f_rmse (eV/Å), "
                        "n_structures")
    p.add_argument("--species", help="element of an old-format meam/spline file")
    p.set_defaults(func=_eval)
    return parser


def main(argv=None):
    """Entry point of the ``snnp`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (ValueError, OSError) as err:
        print(f"snnp: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
