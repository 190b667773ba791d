"""``snnp lammps-plugin build [--out DIR]``: compile ``pair_style snnp`` and print its path."""
import sys

from ..lammps.plugin import build_plugin, lammps_include_dir


def run(args):
    """Run ``snnp lammps-plugin build`` for parsed ``args``."""
    print("building pair_style snnp against the LAMMPS headers in "
          f"{lammps_include_dir()} ...", file=sys.stderr, flush=True)
    print(build_plugin(args.out, method=args.method, force=args.force))


def add_cli(subparsers):
    """Add ``snnp lammps-plugin build [--out DIR]`` to the ``snnp`` command's subparsers."""
    parser = subparsers.add_parser("lammps-plugin",
                                   help="build the LAMMPS plugin providing pair_style snnp")
    actions = parser.add_subparsers(dest="action", required=True)
    build = actions.add_parser("build", help="compile the plugin and print the path of the "
                                             "shared library (for 'plugin load')")
    build.add_argument("--out", help="folder for snnpplugin.so (default: a cache folder)")
    build.add_argument("--method", choices=("auto", "cmake", "direct"), default="auto",
                       help="build with CMake or the C++ compiler directly (default: CMake "
                            "when installed)")
    build.add_argument("--force", action="store_true", help="rebuild even if up to date")
    build.set_defaults(func=run)
