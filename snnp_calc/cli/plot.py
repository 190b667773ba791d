"""``snnp plot MODEL -o DIR``: figures of a model's filters, readout and descriptors."""
import sys
from pathlib import Path

from ase.io import read
from ase.io.formats import UnknownFileTypeError

from ..io import read_model
from ..plots.model_figures import write_model_plots


def run(args):
    """Figures of a model's filters and readout (and descriptors over --data) as PNGs."""
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


def add_cli(sub):
    """Add this command to an argparse subparsers object."""
    p = sub.add_parser("plot", help="draw a model's filters, readout and (with --data) "
                                     "descriptor distributions as PNG files")
    p.add_argument("model")
    p.add_argument("-o", "--out", required=True, help="output folder (created if missing)")
    p.add_argument("--data", metavar="DATA.xyz",
                   help="structures (any ASE format) whose descriptors to histogram; they also "
                        "set the readout's sweep ranges and held values")
    p.add_argument("--species", help="element of an old-format meam/spline file")
    p.set_defaults(func=run)
