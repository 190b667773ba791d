"""The ``snnp`` command.

::

    snnp convert IN OUT [--species El] [--style old|new] [--fit-e0 DATA.xyz] [--drop-e0]
    snnp eval MODEL DATA.xyz [--json] [--species El]
    snnp fit --train T.xyz [T2.xyz ...] [--test V.xyz] [--preset s-nnp|s-meam] [--cutoff R]
             [--config fit.toml] [--committee N] --out MODEL.json [more: snnp fit -h]
    snnp lammps-plugin build [--out DIR]
    snnp plot MODEL -o DIR [--data DATA.xyz] [--species El]

Errors in the input (a malformed model file, a frame without energy, an
element the model lacks) end the command with exit status 2 and a message
that names the file.
"""
import argparse
import dataclasses
import json
import sys
from pathlib import Path

from .cli_fit import add_cli as add_fit_cli
from .dataset import read_frames
from .initial import fit_e0
from .io import read_model, write_model
from .io_meam import without_e0
from .lammps_plugin import add_cli as add_lammps_plugin_cli
from .metrics import error_report, format_report


def _convert(args):
    model = read_model(args.input, species=args.species, committee=False)
    if args.fit_e0:
        model = fit_e0(model, read_frames(args.fit_e0))
        meta = dict(model.metadata, e0_fitted_on=str(args.fit_e0), converted_from=str(args.input))
        model = dataclasses.replace(model, metadata=meta)
    if args.drop_e0:
        model = without_e0(model)
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


def _plot(args):
    """Figures of a model's filters and readout (and descriptors over --data) as PNGs."""
    from ase.io import read
    from ase.io.formats import UnknownFileTypeError
    from .filter_plots import write_model_plots
    model = read_model(args.model, species=args.species, committee=False)
    images = None
    if args.data:
        try:
            images = read(args.data, ":")
        except (OSError, ValueError, UnknownFileTypeError) as err:
            raise ValueError(f"{args.data}: cannot read ({type(err).__name__}: {err})") from err
        if sum(len(atoms) for atoms in images) == 0:
            raise ValueError(f"{args.data}: no atoms; --data needs structures to histogram")
        for k, atoms in enumerate(images):
            try:
                model.species_indices(atoms.numbers)
            except ValueError as err:
                raise ValueError(f"{args.data}:{k}: {err}") from err
    stem = Path(args.model).name
    for suffix in (".json", ".meam.spline", ".spline", ".meam"):
        stem = stem.removesuffix(suffix)
    try:
        paths = write_model_plots(model, args.out, images, prefix=f"{stem}-",
                                  title=model.metadata.get("name", stem))
    except ImportError as err:
        print(f"snnp: error: {err}", file=sys.stderr)
        raise SystemExit(2) from err
    for path in paths:
        print(f"wrote {path}")


def build_parser():
    parser = argparse.ArgumentParser(prog="snnp", description="s-NNP interatomic potentials")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("convert", help="convert a model between JSON and LAMMPS meam/spline")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--species", help="element of an old-format (single-species) meam/spline file")
    p.add_argument("--style", choices=("new", "old"), default="new",
                   help="meam/spline layout to write (default: new)")
    p.add_argument("--drop-e0", action="store_true",
                   help="set e0 to zero (meam/spline has none; energies shift by e0 per atom, "
                        "forces and stresses do not change); the values go to the comment line")
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
    add_fit_cli(sub)
    p = sub.add_parser("plot", help="draw a model's filters, readout and (with --data) "
                                     "descriptor distributions as PNG files")
    p.add_argument("model")
    p.add_argument("-o", "--out", required=True, help="output folder (created if missing)")
    p.add_argument("--data", metavar="DATA.xyz",
                   help="structures (any ASE format) whose descriptors to histogram; they also "
                        "set the readout's sweep ranges and held values")
    p.add_argument("--species", help="element of an old-format meam/spline file")
    p.set_defaults(func=_plot)
    add_lammps_plugin_cli(sub)
    return parser


def main(argv=None):
    """Entry point of the ``snnp`` command."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.command_line = "snnp " + " ".join(argv)
    try:
        args.func(args)
    except (ValueError, OSError) as err:
        print(f"snnp: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
