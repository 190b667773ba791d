"""Physical validation of an interatomic potential: does its crystal behave like DFT?

A potential can have a small test error and still a wrong lattice, soft
elastic constants, a pressure that turns over under compression or a core
that lets atoms fuse in hot MD. Each property here is a function of a
calculator (any ASE calculator, or a factory of one) and a
:class:`~snnp_calc.validation.lattice.Crystal` that returns a plain,
JSON-ready dict; :func:`validate` runs them all on the relaxed crystal and
:func:`reference_from_data` derives the DFT values to compare with from a
training set's strained cells.

Modules, one property family each:

- :mod:`.lattice`: crystals, lattice identification and starting guesses;
- :mod:`.eos`: relaxed lattice, Birch–Murnaghan B, the fine P(V) scan;
- :mod:`.elastic`: clamped- and relaxed-ion elastic constants;
- :mod:`.defects`: vacancy formation and surface energies;
- :mod:`.phonons`: harmonic phonons at the special points;
- :mod:`.md`: the hot-MD stability verdict;
- :mod:`.reference`: DFT reference from ``Elastic`` frames;
- :mod:`.report`: :func:`validate` and the text table;
- :mod:`.figure`: the PNG figure (matplotlib, drawn on demand);
- :mod:`.common`: calculator, relaxation and JSON helpers.

Units: Å, eV, GPa, J/m², THz, K, ps.
"""
from .defects import surface_energies, vacancy_formation
from .elastic import elastic_constants
from .eos import eos_scan, equilibrium
from .figure import validation_figure, write_validation_figure
from .lattice import Crystal, classify_lattice, guess_crystal
from .md import md_stability
from .phonons import phonon_frequencies
from .reference import reference_from_data
from .report import PROPERTIES, format_validation, validate

__all__ = ["Crystal", "classify_lattice", "guess_crystal", "equilibrium", "eos_scan",
           "elastic_constants", "vacancy_formation", "surface_energies", "phonon_frequencies",
           "md_stability", "reference_from_data", "validate", "format_validation",
           "validation_figure", "write_validation_figure", "PROPERTIES"]
