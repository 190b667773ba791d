"""``snnp convert IN OUT``: a model between JSON and LAMMPS meam/spline, e0 refitted or dropped."""
import dataclasses

from ..dataset import read_frames
from ..fitting.start import fit_e0
from ..io import read_model, write_model
from ..io.meam_spline import without_e0


def run(args):
    """Run ``snnp convert`` for parsed ``args``."""
    model = read_model(args.input, species=args.species, committee=False)
    if args.fit_e0:
        model = fit_e0(model, read_frames(args.fit_e0))
        meta = dict(model.metadata, e0_fitted_on=str(args.fit_e0), converted_from=str(args.input))
        model = dataclasses.replace(model, metadata=meta)
    if args.drop_e0:
        model = without_e0(model)
    write_model(model, args.output, style=args.style)
    print(f"wrote {args.output} ({', '.join(model.species)}, cutoff {model.cutoff:g} Å)")


def add_cli(sub):
    """Add this command to an argparse subparsers object."""
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
    p.set_defaults(func=run)
