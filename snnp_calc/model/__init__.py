"""The s-NNP model: immutable descriptions, their splines and parameter vectors.

:mod:`.splines` (cubic splines with LAMMPS ``meam/spline`` semantics),
:mod:`.model` (:class:`Model`, its readouts and its flat parameter vector),
:mod:`.initial` (smooth models to start from or test with:
:func:`initial_model`), :mod:`.reparam` (which parameters a fit moves:
frozen groups, shared filters, constraints) and :mod:`.committee` (the
container of N models).
"""
from .committee import Committee
from .initial import initial_model
from .model import MLPReadout, Model, SplineReadout, select_species
from .splines import Spline

__all__ = ["Committee", "initial_model", "MLPReadout", "Model", "SplineReadout",
           "select_species", "Spline"]
