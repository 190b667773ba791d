"""``snnp models``: the shipped models, their source, test errors and physics summary."""
import json

from ..io import read_model
from ..io.shipped import shipped_names, shipped_path


def summary(name):
    """One shipped model's row: species, kind, source, test errors, validation summary."""
    model = read_model(shipped_path(name))
    meta = model.metadata
    test = meta.get("fit", {}).get("errors", {}).get("test", {}).get("all") or meta.get(
        "test_errors")
    data = meta.get("training_data", [])
    source = meta.get("source") or (data if isinstance(data, str) else ", ".join(data)) or "-"
    return {"name": name, "species": list(model.species),
            "kind": "s-MEAM" if model.readout_kind == "spline" else "s-NNP", "source": source,
            "test": ({k: test[k] for k in ("e_mae", "f_mae")} if test else None),
            "validation": meta.get("validation")}


def _line(row):
    test = (f"{row['test']['e_mae']:.2f} meV/atom, {row['test']['f_mae']:.3f} eV/Å"
            if row["test"] else "-")
    valid = row["validation"]
    phys = "-" if not valid else ", ".join(f"{k} {v}" for k, v in valid.items())
    return (f"{row['name']:<16} {'/'.join(row['species']):<6} {row['kind']:<6}  test MAE: "
            f"{test}\n{'':<16} source: {row['source']}\n{'':<16} physics: {phys}")


def run(args):
    """Run ``snnp models`` for parsed ``args``."""
    rows = [summary(name) for name in shipped_names()]
    if args.json:
        print(json.dumps(rows))
    else:
        print("\n".join(_line(row) for row in rows))


def add_cli(sub):
    """Add this command to an argparse subparsers object."""
    p = sub.add_parser("models", help="list the shipped models (usable by name: "
                                      "SNNP(\"Mo-s-nnp\"), snnp eval Mo-s-nnp ...)")
    p.add_argument("--json", action="store_true", help="print one JSON list")
    p.set_defaults(func=run)
