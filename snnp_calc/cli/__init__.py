"""The ``snnp`` command.

::

    snnp convert IN OUT [--species El] [--style old|new] [--fit-e0 DATA.xyz] [--drop-e0]
    snnp eval MODEL DATA.xyz [--json] [--species El]
    snnp fit --train T.xyz [T2.xyz ...] [--test V.xyz] [--preset s-nnp|s-meam] [--cutoff R]
             [--config fit.toml] [--committee N] --out MODEL.json [more: snnp fit -h]
    snnp lammps-plugin build [--out DIR]
    snnp plot MODEL -o DIR [--data DATA.xyz] [--species El]
    snnp select --committee C.json --pool POOL.xyz -n N --out PICKED.xyz [--by forces|energy]
                [--diverse] [--candidates K]
    snnp models [--json]
    snnp warmup
    snnp validate MODEL [--lattice bcc|fcc|hcp|diamond] [--a A] [--data TRAIN.xyz] [--json]
                  [--plots DIR] [--species El] [--temperature T] [--melting-point TM]
                  [--md-time PS]

One module per command (:mod:`.convert`, :mod:`.evaluate`, :mod:`.fit`,
:mod:`.plot`, :mod:`.select`, :mod:`.validate`, :mod:`.models`, :mod:`.warmup`,
:mod:`.lammps_plugin`), each with ``add_cli`` and ``run``.
Errors in the input (a malformed model file, a frame without energy, an
element the model lacks) end the command with exit status 2 and a message
that names the file.
"""
import argparse
import sys

from . import convert, evaluate, fit, lammps_plugin, models, plot, select, validate, warmup

COMMANDS = (convert, evaluate, fit, plot, select, validate, models, warmup, lammps_plugin)


def build_parser():
    """The ``snnp`` argument parser, one subcommand per module of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(prog="snnp", description="s-NNP interatomic potentials")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_cli(sub)
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
