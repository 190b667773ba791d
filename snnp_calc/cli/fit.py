"""The ``snnp fit`` command: options, TOML config, and the call to the fitter.

Every option can be given on the command line (``--n-rho 8``) or in a TOML
file (``n_rho = 8``, with ``[config_weights]`` per ``config_type``); the
command line wins. ``--committee N`` fits N models and writes one committee
file (:mod:`snnp_calc.io.committee_file`).
"""
import dataclasses
import tomllib

from ..calculator import SNNP
from ..dataset import read_frames
from ..fitting.committee import fit_committee
from ..fitting.driver import MAX_ITER, MAX_TIME, fit
from ..fitting.loss import LossWeights
from ..io import file_format, read_model, write_model
from ..io.json_model import LEGENDRE_OUTPUTS
from ..io.meam_spline import without_e0
from ..plots.parity import parity_plots
from ..validation import format_validation, validate
from ..validation.lattice import LATTICES
from ._keys import KEY_OPTIONS, add_key_options, keys_of
from ._mpi import world

# name: (type, help); a bool is a flag. All may also be given in the TOML file.
FIT_OPTIONS = {
    "preset": (str, "s-nnp (default) or s-meam"),
    "cutoff": (float, "cutoff, Å (default: a gap between neighbour shells near 2 x the "
                      "median nearest-neighbour distance)"),
    "triplet_cutoff": (float, "last knot of the triplet filters f, Å (default: 1.6 x the "
                              "median nearest-neighbour distance)"),
    "knots": (int, "knots of each radial spline"),
    "n_rho": (int, "pair filters"),
    "n_triplet": (int, "triplet filters"),
    "n_legendre": (int, "factorised (Legendre) triplet filters, O(n) per atom"),
    "legendre_degree": (int, "highest Legendre degree L of their angular functions (0..12)"),
    "legendre_cutoff": (float, "last knot of their radial splines, Å (default: the cutoff)"),
    "legendre_outputs": (str, "network inputs of each: sum (default; one, g = Σ c_λ P_λ) or "
                              "degree (one per degree λ, L + 1)"),
    "hidden": (str, "MLP hidden widths, e.g. 16,16 (empty: linear readout)"),
    "activation": (str, "softplus (default), tanh, silu or celu"),
    "core": (str, "short-range repulsion: zbl (default of s-nnp) or none (default of s-meam, "
                  "which LAMMPS meam/spline cannot hold)"),
    "input_scaling": (str, "network input scales: rms (default) or std of the descriptors"),
    "method": (str, "lbfgs (default) or lsq (exact-Jacobian least squares)"),
    "max_iter": (int, f"optimiser iterations at most (default {MAX_ITER})"),
    "max_time": (float, f"wall-time limit of the fit, s, setup included (default {MAX_TIME:g}; "
                        "0: none; per model of a committee)"),
    "validation": (float, "fraction of --train held out for early stopping (default 0.1)"),
    "patience": (int, "iterations without a better validation loss before stopping"),
    "seed": (int, "seed of the split and the starting model"),
    "energy_weight": (float, "loss weight of energies per atom"),
    "force_weight": (float, "loss weight of force components"),
    "stress_weight": (float, "loss weight of stress components (GPa)"),
    "smooth": (float, "weight of the spline curvature penalty (L^3 integral of s''^2)"),
    "stress_offsets": (str, "fit an isotropic stress offset per config_type: yes (default) or no"),
    "l2": (float, "weight of the L2 penalty on MLP weights"),
    "checkpoint": (str, "checkpoint file, written atomically during the fit"),
    "checkpoint_every": (int, "iterations between checkpoints"),
    "resume": (str, "start from this model or checkpoint instead of a preset"),
    "plots": (str, "directory for parity plots (needs matplotlib)"),
    "share_filters": (bool, "one set of filters for all elements, per-element readouts "
                            "(e.g. --train Mo.xyz Ni.xyz Cu.xyz --share-filters)"),
    "init_filters": (str, "start from the filters (and cutoff) of this model"),
    "freeze": (str, "parameter groups to hold fixed, comma-separated: filters, rho, f, g, "
                    "legendre, pair, readout, e0"),
    "constraints": (str, "physical constraints, comma-separated: repulsive-core (pair term "
                         "rising towards r = 0), convex-readout (softplus or celu MLP convex "
                         "in its inputs)"),
    "core_radius": (float, "repulsive-core: constrain the pair term up to this distance, Å "
                           "(default: the shortest distance in the training data)"),
    "committee": (int, "fit this many models (seeds seed, seed+1, ...; bootstrap resamples) "
                       "and write them as one committee"),
}
PRESET_KEYS = {"knots": "n_knots", "n_rho": "n_rho", "n_triplet": "n_triplet",
               "activation": "activation", "triplet_cutoff": "triplet_cutoff",
               "input_scaling": "input_scaling", "n_legendre": "n_legendre",
               "legendre_degree": "degree", "legendre_cutoff": "legendre_cutoff"}


def add_cli(sub):
    """Add the ``fit`` subcommand to an argparse subparsers object."""
    p = sub.add_parser("fit", help="fit a model to extended-XYZ reference data")
    p.add_argument("--train", nargs="+", help="training data (extended XYZ), one or more files")
    p.add_argument("--test", help="test data, only reported")
    p.add_argument("--out", help="output model (JSON, or .meam.spline for s-meam)")
    p.add_argument("--config", help="TOML file with any of the options below")
    add_key_options(p)
    p.add_argument("--validate", nargs="?", const="auto", metavar="LATTICE",
                   choices=("auto",) + LATTICES,
                   help="end with the physical validation of each element's crystal (snnp "
                        "validate) against the training data; LATTICE: bcc, fcc, hcp or "
                        "diamond (default: guessed from the data)")
    for name, (kind, text) in FIT_OPTIONS.items():
        flag = "--" + name.replace("_", "-")
        if kind is bool:
            p.add_argument(flag, dest=name, action="store_true", default=None, help=text)
        else:
            p.add_argument(flag, dest=name, type=kind, help=text)
    p.set_defaults(func=run)


def settings_of(args):
    """Merge the TOML config (if any) with the command line; the command line wins."""
    settings = {}
    if args.config:
        with open(args.config, "rb") as fh:
            try:
                settings = tomllib.load(fh)
            except tomllib.TOMLDecodeError as err:
                raise ValueError(f"{args.config}: {err}") from err
        known = set(FIT_OPTIONS) | set(KEY_OPTIONS) | {"train", "test", "out", "config_weights",
                                                        "validate"}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ValueError(f"{args.config}: unknown key(s) {', '.join(unknown)}")
        for name, value in settings.items():
            kind = FIT_OPTIONS[name][0] if name in FIT_OPTIONS else None
            ok = {float: isinstance(value, (int, float)) and not isinstance(value, bool),
                  int: isinstance(value, int) and not isinstance(value, bool),
                  bool: isinstance(value, bool),
                  str: isinstance(value, (str, list) if name in ("hidden", "freeze", "constraints")
                                  else (str, bool) if name == "stress_offsets" else str)
                  }.get(kind, True)
            if not ok:
                raise ValueError(f"{args.config}: {name}: expected {kind.__name__}, got "
                                 f"{value!r}")
        for config_type, factor in _table(settings.get("config_weights", {}), args.config):
            if not isinstance(factor, (int, float)) or isinstance(factor, bool) or factor < 0:
                raise ValueError(f"{args.config}: config_weights.{config_type}: expected a "
                                 f"number >= 0, got {factor!r}")
    for name in list(FIT_OPTIONS) + list(KEY_OPTIONS) + ["train", "test", "out", "validate"]:
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    for name in ("train", "out"):
        if name not in settings:
            raise ValueError(f"--{name} is required (on the command line or in --config)")
    if isinstance(settings["train"], str):
        settings["train"] = [settings["train"]]
    return settings


def _table(value, path):
    """The items of the TOML table ``config_weights`` (error naming ``path`` otherwise)."""
    if not isinstance(value, dict):
        raise ValueError(f"{path}: config_weights: expected a table of config_type = factor, "
                         f"got {value!r}")
    return value.items()


def _yes_no(value, name):
    """A yes/no option (TOML may give a bool) as a bool."""
    if isinstance(value, bool):
        return value
    if value not in ("yes", "no"):
        raise ValueError(f"--{name.replace('_', '-')}: expected yes or no, got {value!r}")
    return value == "yes"


def _list(value, kind=str):
    """A comma-separated string (or a TOML list) as a tuple."""
    if isinstance(value, str):
        value = [v for v in value.split(",") if v.strip()]
    return tuple(kind(v) for v in value)


def run(args):
    """Run ``snnp fit`` for parsed ``args``."""
    s = settings_of(args)
    defaults = LossWeights()
    weights = LossWeights(energy=s.get("energy_weight", defaults.energy),
                          forces=s.get("force_weight", defaults.forces),
                          stress=s.get("stress_weight", defaults.stress),
                          smooth=s.get("smooth", defaults.smooth), l2=s.get("l2", defaults.l2),
                          stress_offsets=_yes_no(s.get("stress_offsets", "yes"), "stress_offsets"),
                          config_types=dict(s.get("config_weights", {})))
    options = {name: s[key] for key, name in PRESET_KEYS.items() if key in s}
    if "hidden" in s:
        options["hidden"] = _list(s["hidden"], int)
    if "core" in s:
        options["core"] = None if s["core"] == "none" else s["core"]
    if "legendre_outputs" in s:
        if s["legendre_outputs"] not in LEGENDRE_OUTPUTS:
            raise ValueError(f"--legendre-outputs: expected {' or '.join(LEGENDRE_OUTPUTS)}, "
                             f"got {s['legendre_outputs']!r}")
        options["per_degree"] = s["legendre_outputs"] == LEGENDRE_OUTPUTS[1]
    start = read_model(s["resume"], committee=False) if "resume" in s else s.get("preset", "s-nnp")
    to_lammps = file_format(s["out"]) == "meam/spline"
    if to_lammps and (s.get("committee") or (start != "s-meam" and (
            isinstance(start, str) or start.readout_kind != "spline"))):
        raise ValueError(f"{s['out']}: only an s-MEAM model (--preset s-meam) can be written "
                         "as LAMMPS meam/spline; use a .json output")
    train = s["train"] if len(s["train"]) > 1 else s["train"][0]
    comm = world()
    root = comm is None or comm.Get_rank() == 0
    options.update(
        weights=weights, method=s.get("method", "lbfgs"), max_iter=s.get("max_iter", MAX_ITER),
        max_time=s.get("max_time", MAX_TIME) or None, validation=s.get("validation", 0.1),
        patience=s.get("patience", 200), seed=s.get("seed", 0), cutoff=s.get("cutoff"),
        checkpoint=s.get("checkpoint"), checkpoint_every=s.get("checkpoint_every", 25),
        progress=(lambda line: print(line, flush=True)) if root else None,
        freeze=_list(s.get("freeze", ())), comm=comm,
        share_filters=bool(s.get("share_filters", False)), init_filters=s.get("init_filters"),
        constraints=_list(s.get("constraints", ())), core_radius=s.get("core_radius"),
        keys=keys_of(s))
    if s.get("committee"):
        model, _ = fit_committee(s["committee"], start, train, s.get("test"), **options)
    else:
        model, _ = fit(start, train, s.get("test"), **options)
    if not root:
        return  # every rank holds the same model; rank 0 writes it
    meta = dict(model.metadata, command=args.command_line, training_data=list(s["train"]))
    model = dataclasses.replace(model, metadata=meta)
    if to_lammps:
        # LAMMPS has no per-atom reference energy: energies shift by e0 per atom; written
        # first, as the write that can be refused, then the JSON that keeps e0
        write_model(without_e0(model), s["out"])
        print(f"wrote {s['out']} (without e0)")
        json_path = str(s["out"]) + ".json"
        write_model(model, json_path)
        print(f"wrote {json_path} (with e0)")
    else:
        write_model(model, s["out"])
        print(f"wrote {s['out']}")
    if "plots" in s:
        sets = {"train": [f for path in s["train"] for f in read_frames(path, keys=keys_of(s))]}
        if s.get("test"):
            sets["test"] = read_frames(s["test"], keys=keys_of(s))
        for path in parity_plots(model, sets, s["plots"]):
            print(f"wrote {path}")
    if "validate" in s:
        frames = [f for path in s["train"] for f in read_frames(path, keys=keys_of(s))]
        lattice = None if s["validate"] == "auto" else s["validate"]
        for symbol in model.species:
            print(format_validation(validate(SNNP(model), symbol, lattice=lattice, data=frames)))
