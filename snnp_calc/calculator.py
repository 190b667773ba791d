"""ASE calculator for s-NNP models.

Usage::

    from snnp_calc import SNNP
    atoms.calc = SNNP("Mo.json")          # or a .meam.spline file, or a Model

The energy of an s-NNP (Vita & Trinkle, arXiv:2310.02904; DESIGN.md §2) is

    E = sum_i [R_a(G_i) + e0_a] + sum_{i<j} phi(r_ij),

with filter descriptors ``G_i`` built from pair vectors ``D_ij``. The kernels
return ``g_ij = dE/dD_ij`` for every directed pair; then, as in ASE's
``lj.py``,

    F_i += g_ij,  F_j -= g_ij,  sigma = (1/V) sum_ij g_ij ⊗ D_ij,

with ``D_ij`` carrying its periodic image shift. Per-atom stresses give each
atom half of every pair term it takes part in, divided by the cell volume,
so that they sum to ``sigma``.
"""
import threading

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from .evaluate import KernelScratch, PairList, evaluate, evaluate_committee, stress_volume, voigt
from .io import read_model
from .model.committee import Committee
from .model.model import Model

# Numba's default (workqueue) threading layer must not be entered from two
# Python threads at once; a busy lock sends the second caller to the serial build.
_PARALLEL_LOCK = threading.Lock()

# Neighbour-list skin, Å (benchmarks/bench_md.py measured it)
SKIN = 0.5


class SNNP(Calculator):
    """s-NNP calculator.

    Parameters
    ----------
    model : Model or Committee or str or os.PathLike
        A model or committee, or the path of a model file (``.json`` or
        LAMMPS ``meam/spline``), read with :func:`snnp_calc.read_model`. A
        committee predicts its members' mean and adds ``energy_std`` (eV),
        ``energies_std`` (n,) and ``forces_std`` (n, 3) to ``results``
        (:mod:`snnp_calc.model.committee`).
    parallel : bool or None
        Use all Numba threads for the atom loop; ``None`` (default) does so
        for 64 atoms or more.
    species : str, optional
        The element of an old-format (single-species) meam/spline file, which
        names none; see :func:`snnp_calc.read_model`.
    skin : float or None
        Å: the neighbour list is built at the cutoff plus ``skin`` and reused
        until an atom has moved more than half of it or the cell, pbc or atom
        count changed (:class:`snnp_calc.evaluate.PairList`), as LAMMPS does;
        the results equal those of a fresh list to round-off. ``None`` or 0:
        a new list every call.
    """

    implemented_properties = ["energy", "free_energy", "energies", "forces", "stress",
                              "stresses"]
    default_parameters = {}
    nolabel = True

    def __init__(self, model, parallel=None, species=None, skin=SKIN, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(model, (Model, Committee)):
            model = read_model(model, species=species)
        self.model = model
        self.parallel = parallel
        self.pair_list = PairList(skin) if skin else None
        self._scratch = KernelScratch()
        self._kept = (None, None, None)
        self._copy = None
        if isinstance(model, Committee):
            # a committee also reports its members' spread (instance list; the class's stays)
            self.implemented_properties = (list(SNNP.implemented_properties)
                                           + ["energy_std", "energies_std", "forces_std"])

    def check_state(self, atoms, tol=1e-15, old=None):
        """Which of positions, numbers, cell and pbc changed since the last call (or ``old``).

        Only these enter an s-NNP. They are compared byte for byte (any changed
        bit counts), which is stricter than ASE's generic comparison and much
        cheaper for small systems.
        """
        old = self._atoms if old is None else old
        if old is None:
            return ["positions", "numbers", "cell", "pbc"]
        pairs = (("positions", old.positions, atoms.positions),
                 ("numbers", old.numbers, atoms.numbers),
                 ("cell", old.cell.array, atoms.cell.array), ("pbc", old.pbc, atoms.pbc))
        return [name for name, a, b in pairs
                if a.shape != b.shape or a.dtype != b.dtype or a.tobytes() != b.tobytes()]

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        # not Calculator.calculate: it copies the atoms that get_property has just copied,
        # and checks for a directory (~18 µs of a ~115 µs 8-atom call, bench_small.py)
        if atoms is not None and (self._atoms is None or self.check_state(atoms)):
            self._atoms = self._keep(atoms)
        atoms = self._atoms
        # nothing of an earlier structure may survive (calculate() called directly)
        self.results = {}
        numbers, cell = np.asarray(atoms.numbers, dtype=np.int64), atoms.cell.array
        species_n, volume = self._species_and_volume(numbers, cell, atoms.pbc)
        args = (self.model, numbers, atoms.positions, cell, atoms.pbc)
        parallel = self.parallel is not False and _PARALLEL_LOCK.acquire(blocking=False)
        parallel_arg = None if parallel and self.parallel is None else bool(parallel)
        try:
            if isinstance(self.model, Committee):
                out = evaluate_committee(*args, parallel=parallel_arg, pair_list=self.pair_list,
                                         scratch=self._scratch)
            else:
                out = evaluate(*args, parallel=parallel_arg, species_n=species_n,
                               pair_list=self.pair_list, scratch=self._scratch)
        finally:
            if parallel:
                _PARALLEL_LOCK.release()
        self.results["energy"] = out["energy"]
        self.results["free_energy"] = out["energy"]
        self.results["energies"] = out["energies"]
        self.results["forces"] = out["forces"]
        for key in ("energy_std", "energies_std", "forces_std"):
            if key in out:
                self.results[key] = out[key]
        if volume is not None:
            # the total and the per-atom virials in one go: each numpy call costs ~1 µs
            stress = voigt(np.concatenate((out["virial"][None], out["virials"]))) / volume
            self.results["stress"] = stress[0]
            self.results["stresses"] = stress[1:]

    @property
    def atoms(self):
        """A copy of the structure of the last calculation (None before the first).

        The calculator keeps its own copy (as ASE's ``Calculator`` does) and
        hands out copies of it, so that the one it writes new positions into
        (:meth:`_keep`) is never one a caller holds.
        """
        return None if self._atoms is None else self._atoms.copy()

    @atoms.setter
    def atoms(self, value):
        # ASE's Calculator sets None to forget a structure, or a copy it made
        self._atoms = value

    def _keep(self, atoms):
        """The calculator's private copy of ``atoms``, as ASE's ``Calculator`` keeps one.

        When only positions moved since the previous copy (MD, relaxations),
        they are written into it: ``Atoms.copy()`` costs ~15 µs, a seventh of an
        8-atom call (``benchmarks/bench_small.py``). The copy then holds the
        info and arrays of its first structure and the numbers, cell, pbc and
        positions of the last, which are all that enter the results
        (:meth:`check_state`); :attr:`atoms` gives copies of it.
        """
        kept = self._copy
        if (kept is None or len(kept) != len(atoms) or self.check_state(atoms, old=kept)
                not in ([], ["positions"])):
            kept = self._copy = atoms.copy()
        else:
            np.copyto(kept.arrays["positions"], atoms.positions)
        return kept

    def _species_and_volume(self, numbers, cell, pbc):
        """Species indices (None for a committee) and the stress volume (or None).

        Between calls these rarely change (MD, relaxations), so they are kept,
        keyed by the model and the bytes of ``numbers`` (int64), ``cell`` and
        ``pbc``: any edit, in place or not, or another Atoms object finds them
        stale. The volume is :func:`snnp_calc.evaluate.stress_volume`'s.
        """
        key = (self.model, numbers.tobytes(), cell.tobytes(), np.asarray(pbc).tobytes())
        kept = self._kept
        if kept[0] != key:
            species_n = (None if isinstance(self.model, Committee)
                         else self.model.species_indices(numbers))
            kept = self._kept = (key, species_n, stress_volume(cell, pbc))
        return kept[1], kept[2]
