"""``snnp validate MODEL``: a model's crystal physics, next to the DFT of its training data."""
import json
from pathlib import Path

from ..calculator import SNNP
from ..io import file_format, read_model
from ..validation import format_validation, validate, write_validation_figure
from ..validation.lattice import LATTICES


def _element(model, requested, path):
    """The element to validate: the model's only species, or ``--species``."""
    species = list(model.species)
    if requested is not None:
        if requested not in species:
            raise ValueError(f"{path}: --species {requested} is not in the model "
                             f"(species: {', '.join(species)})")
        return requested
    if len(species) != 1:
        raise ValueError(f"{path}: the model has species {', '.join(species)}; "
                         "choose one with --species")
    return species[0]


def run(args):
    """Run ``snnp validate`` for parsed ``args``."""
    if args.md_time is not None and not args.md_time > 0:
        raise ValueError(f"--md-time {args.md_time}: must be a positive number of ps")
    if args.temperature is not None and not args.temperature > 0:
        raise ValueError(f"--temperature {args.temperature}: must be positive (K)")
    # --species names the element of an old-format meam/spline file; a JSON model names its own
    is_spline = file_format(args.model) == "meam/spline"
    model = read_model(args.model, species=args.species if is_spline else None)
    symbol = _element(model, args.species, args.model)
    report = validate(SNNP(model), symbol, lattice=args.lattice, a=args.a, data=args.data,
                      temperature=args.temperature, melting_point=args.melting_point,
                      md_time=args.md_time if args.md_time is not None else 2.0)
    report["model"] = str(args.model)
    if args.plots:
        out = Path(args.plots)
        out.mkdir(parents=True, exist_ok=True)
        stem = Path(args.model).name
        for suffix in (".json", ".meam.spline", ".spline", ".meam"):
            stem = stem.removesuffix(suffix)
        report["figure"] = str(write_validation_figure(report, out / f"{stem}-validation.png"))
    if args.json:
        print(json.dumps(report))
    else:
        print(format_validation(report))
        if "figure" in report:
            print(f"wrote {report['figure']}")


def add_cli(sub):
    """Add this command to an argparse subparsers object."""
    p = sub.add_parser("validate", help="physical validation of a model's crystal: lattice, "
                                         "elastic constants, EOS, defects, phonons, hot MD")
    p.add_argument("model")
    p.add_argument("--lattice", choices=LATTICES,
                   help="crystal structure (default: from --data, else ASE's reference state)")
    p.add_argument("--a", type=float, help="starting lattice parameter, Å (relaxed)")
    p.add_argument("--data", metavar="TRAIN.xyz",
                   help="training set whose 'Elastic' frames give the DFT reference")
    p.add_argument("--json", action="store_true", help="print the whole report as JSON")
    p.add_argument("--plots", metavar="DIR", help="write the validation figure (PNG) here")
    p.add_argument("--species", metavar="El",
                   help="element of an old-format meam/spline file, or which element of a "
                        "multi-species model to validate")
    p.add_argument("--temperature", type=float, metavar="T",
                   help="hot-MD temperature, K (default 1.5 × --melting-point, else 2000 K)")
    p.add_argument("--melting-point", type=float, metavar="TM", help="melting temperature, K")
    p.add_argument("--md-time", type=float, metavar="PS", help="hot-MD length, ps (default 2)")
    p.set_defaults(func=run)
