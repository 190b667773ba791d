"""snnp_calc: spline-based neural-network interatomic potentials (s-NNP) for ASE and LAMMPS.

Layers, bottom up (each imports only from those below it; ``tests/test_layers.py``
checks this): :mod:`.errors` and :mod:`._files`; :mod:`.kernels` (Numba, plain
arrays); :mod:`.model`; :mod:`.io`, :mod:`.evaluate` and :mod:`.dataset`;
:mod:`.metrics`; :mod:`.calculator`; :mod:`.fitting`, :mod:`.plots` and
:mod:`.lammps`; :mod:`.validation`; :mod:`.cli`.

The fitting API (``fit``, ``fit_committee``, ``LossWeights``,
``select_structures``) is loaded on first use (PEP 562), so that
``import snnp_calc`` for inference does not load SciPy's optimisers.
"""
import importlib

from .calculator import SNNP
from .io import read_model, write_model
from .model import Committee, MLPReadout, Model, Spline, SplineReadout, initial_model

# public names of the fitting layer: attribute -> module that defines it
_FIT_API = {"fit": "snnp_calc.fitting", "fit_committee": "snnp_calc.fitting",
            "LossWeights": "snnp_calc.fitting", "select_structures": "snnp_calc.fitting"}

__all__ = ["SNNP", "read_model", "write_model", "fit", "fit_committee", "LossWeights",
           "select_structures",
           "Committee", "Model", "MLPReadout", "SplineReadout", "Spline", "initial_model"]
__version__ = "0.1.0"


def __getattr__(name):
    """The fitting API on first access (PEP 562): see the module docstring."""
    if name in _FIT_API:
        value = getattr(importlib.import_module(_FIT_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'snnp_calc' has no attribute {name!r}")
