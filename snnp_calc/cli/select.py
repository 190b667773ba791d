"""``snnp select``: the pool structures a committee is least sure of, to compute with DFT next.

Reads a committee file and a pool of structures (any file ASE reads; reference
values are not needed and are kept where present), picks N with
:func:`snnp_calc.fitting.selection.select_structures` and writes them, in the
order picked, as one extended-XYZ file. Each written structure keeps its
``info`` and arrays, and gains ``committee_force_std`` (eV/Å) or
``committee_energy_std`` (eV/atom), the spread it was chosen by, and
``pool_index``, its position in the pool file.
"""
from pathlib import Path

from ase.io import read, write

from .._files import atomic_write
from ..fitting.selection import BY, CANDIDATES, SPREAD_KEYS, UNITS, select_structures
from ..io import read_model

# what ASE raises for a malformed structure file besides ValueError and OSError
_READ_ERRORS = (ValueError, KeyError, IndexError, StopIteration, AssertionError)


def read_pool(path):
    """The structures of ``path`` as a list; a clear error for an unreadable or empty file."""
    try:
        images = read(path, ":")
    except OSError as err:
        if err.filename is not None:  # a missing or unreadable file: the message names it
            raise
        # ASE's parse errors (extxyz's XYZError) are OSErrors that name no file
        raise ValueError(f"{path}: not a structure file ASE can read ({err})") from err
    except _READ_ERRORS as err:
        raise ValueError(f"{path}: not a structure file ASE can read ({type(err).__name__}: "
                         f"{err})") from err
    if not images:
        raise ValueError(f"{path}: no structures")
    return images


def run(args):
    """Run ``snnp select`` for parsed ``args``."""
    if args.n < 1:
        raise ValueError(f"-n {args.n}: must be at least 1")
    if args.candidates is not None and not args.diverse:
        raise ValueError("--candidates applies to --diverse picks only")
    out, pool_path = Path(args.out), Path(args.pool)
    if pool_path.exists() and out.exists() and out.resolve() == pool_path.resolve():
        raise ValueError(f"--out {args.out} is the pool file; write the picks elsewhere")
    if not out.parent.is_dir():
        raise ValueError(f"--out {args.out}: the folder {out.parent} does not exist")
    committee = read_model(args.committee)
    if not hasattr(committee, "members"):
        raise ValueError(f"{args.committee}: holds one model, not a committee; fit one with "
                         "snnp fit --committee N")
    pool = read_pool(args.pool)
    chosen = select_structures(committee, pool, args.n, by=args.by, diverse=args.diverse,
                               candidates=(CANDIDATES if args.candidates is None
                                           else args.candidates), source=str(args.pool))
    picked = []
    for k, spread in zip(chosen.indices.tolist(), chosen.spreads.tolist()):
        atoms = pool[k]
        atoms.info[SPREAD_KEYS[args.by]] = spread
        atoms.info["pool_index"] = k
        picked.append(atoms)
    atomic_write(args.out, lambda fh: write(fh, picked, format="extxyz"))
    print(f"picked {len(picked)} of {len(pool)} structures of {args.pool} by committee "
          f"{args.by} spread ({UNITS[args.by]}){', diverse' if args.diverse else ''}; "
          f"wrote {args.out}")
    print(f"{'pick':>4} {'pool index':>10} {'atoms':>6} {'spread':>12}  config_type")
    for rank, atoms in enumerate(picked, 1):
        print(f"{rank:>4} {atoms.info['pool_index']:>10} {len(atoms):>6} "
              f"{atoms.info[SPREAD_KEYS[args.by]]:>12.5g}  "
              f"{atoms.info.get('config_type', '-')}")


def add_cli(sub):
    """Add this command to an argparse subparsers object."""
    p = sub.add_parser("select", help="pick the pool structures a committee is least sure of "
                                       "(active learning)")
    p.add_argument("--committee", required=True, help="committee file (snnp fit --committee N)")
    p.add_argument("--pool", required=True, help="candidate structures (extended XYZ or any "
                                                   "format ASE reads)")
    p.add_argument("-n", type=int, required=True, help="how many structures to pick")
    p.add_argument("--out", required=True, help="extended-XYZ file of the picked structures")
    p.add_argument("--by", choices=BY, default="forces",
                   help="spread to rank by: largest per-atom force deviation (eV/Å, default) "
                        "or energy per atom (eV/atom)")
    p.add_argument("--diverse", action="store_true",
                   help="farthest-point sampling in descriptor space among the top candidates, "
                        "so that near-copies of one structure are not all picked")
    p.add_argument("--candidates", type=float,
                   help=f"with --diverse: pick among this many times N largest spreads "
                        f"(default {CANDIDATES})")
    p.set_defaults(func=run)
