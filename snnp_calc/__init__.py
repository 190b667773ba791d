"""snnp_calc: spline-based neural-network interatomic potentials (s-NNP) for ASE and LAMMPS."""
from .calculator import SNNP
from .committee import Committee, fit_committee
from .fitting import fit
from .io import read_model, write_model
from .model import MLPReadout, Model, SplineReadout
from .splines import Spline

__all__ = ["SNNP", "fit", "fit_committee", "read_model", "write_model", "Committee", "Model",
           "MLPReadout", "SplineReadout", "Spline"]
__version__ = "0.1.0"
