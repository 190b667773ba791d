"""What the property modules share: the calculator, relaxations, stress and JSON values.

The abstraction is *a property is a function of a calculator and a crystal that
returns a plain dict*. This module turns the ``calc`` argument (an ASE
calculator, or a factory that makes one) into a calculator, relaxes atoms or
cells with ASE's optimisers and raises a ``ValueError`` naming the property
when they do not converge, and converts results to JSON-ready Python values.
Units are ASE's (eV, Å, eV/Å³) inside and GPa in the reports.
"""
import warnings

import numpy as np
from ase.filters import FrechetCellFilter
from ase.optimize import BFGS, LBFGS
from ase.units import GPa


def get_calculator(calc):
    """An ASE calculator from ``calc``: a calculator, or a callable returning one.

    ASE calculator classes (``EMT``) and ``lambda: SNNP(model)`` are factories;
    each property function calls this once, so a factory is called once per
    property. Instances are used as they are (their results are keyed by the
    atoms they last saw, so one instance may serve many Atoms objects).
    """
    if _is_calculator(calc):
        return calc
    if callable(calc):
        made = calc()
        if not _is_calculator(made):
            raise ValueError(f"the calculator factory returned {type(made).__name__}, "
                             "not an ASE calculator")
        return made
    raise ValueError(f"expected an ASE calculator or a factory of one, got {type(calc).__name__}")


def _is_calculator(calc):
    """Whether ``calc`` is a calculator instance (a class has the methods too)."""
    return not isinstance(calc, type) and hasattr(calc, "get_potential_energy")


def calculator_name(calc):
    """A short name of the calculator (or factory), for reports."""
    cls = type(calc) if _is_calculator(calc) else calc
    return getattr(cls, "__name__", type(calc).__name__)


def attach(atoms, calc):
    """``atoms`` with the calculator made from ``calc`` attached (returned for chaining)."""
    atoms.calc = get_calculator(calc)
    return atoms


def max_force(atoms):
    """Largest atomic force norm, eV/Å (0 for no atoms)."""
    forces = atoms.get_forces()
    return float(np.sqrt((forces ** 2).sum(axis=1)).max(initial=0.0))


def relax_positions(atoms, what, fmax=1e-3, steps=300):
    """Relax the atoms of ``atoms`` at a fixed cell with L-BFGS, in place.

    L-BFGS, not BFGS: BFGS diagonalises its dense 3N×3N Hessian every step,
    which for a 127-atom vacancy cell costs 25× the force calls (same steps).

    Parameters
    ----------
    atoms : ase.Atoms
        With a calculator.
    what : str
        The property being computed, named in the error.
    fmax : float
        Convergence threshold on the largest force norm, eV/Å.
    steps : int
        Largest number of L-BFGS steps.

    Returns
    -------
    int
        The number of steps taken.

    Raises
    ------
    ValueError
        If L-BFGS has not converged in ``steps`` steps.
    """
    opt = LBFGS(atoms, logfile=None)
    if not opt.run(fmax=fmax, steps=steps):
        raise ValueError(f"{what}: atoms did not relax: L-BFGS not converged in {steps} steps "
                         f"(largest force {max_force(atoms):.3g} eV/Å > fmax {fmax:g} eV/Å)")
    return opt.nsteps


def relax_cell(atoms, what, hydrostatic=True, fmax=1e-4, steps=300, max_change=0.3):
    """Relax cell and atoms together at zero pressure (``FrechetCellFilter`` + BFGS), in place.

    Parameters
    ----------
    atoms : ase.Atoms
        With a calculator.
    what : str
        The property being computed, named in the error.
    hydrostatic : bool
        Scale the cell isotropically only (cubic lattices: one parameter);
        otherwise the three diagonal strains relax independently and the shears
        stay fixed (hcp: ``a`` and ``c``).
    fmax : float
        Threshold on the filter's generalised forces (atoms: eV/Å; cell: the
        virial divided by the number of atoms, eV).
    steps : int
        Largest number of BFGS steps.
    max_change : float
        Largest relative change of a cell length: beyond it the crystal is not
        bound in this lattice (a cell that expands without end would
        "converge" once its stress falls below the threshold).

    Returns
    -------
    int
        The number of steps taken.

    Raises
    ------
    ValueError
        If BFGS has not converged in ``steps`` steps, or a cell length changed
        by more than ``max_change``.
    """
    mask = None if hydrostatic else [True, True, True, False, False, False]
    start = atoms.cell.lengths()
    opt = BFGS(FrechetCellFilter(atoms, mask=mask, hydrostatic_strain=hydrostatic),
               logfile=None)
    converged = False
    with warnings.catch_warnings():
        # the filter's matrix logarithm warns of errors of ~1e-12 on large deformations
        warnings.filterwarnings("ignore", message="logm result may be inaccurate")
        for converged in opt.irun(fmax=fmax, steps=steps):
            change = np.abs(atoms.cell.lengths() / start - 1).max()
            if change > max_change:
                raise ValueError(f"{what}: the lattice did not relax to a bound crystal: a "
                                 f"cell length changed by {100 * change:.0f} % (pressure "
                                 f"{pressure(atoms):.3g} GPa)")
    if not converged:
        raise ValueError(f"{what}: the lattice did not relax: BFGS on cell and atoms not "
                         f"converged in {steps} steps (pressure "
                         f"{pressure(atoms):.3g} GPa, largest force {max_force(atoms):.3g} eV/Å)")
    return opt.nsteps


def stress_gpa(atoms):
    """ASE's Voigt stress (xx, yy, zz, yz, xz, xy) in GPa, tensile positive; shape (6,)."""
    return atoms.get_stress(voigt=True) / GPa


def pressure(atoms):
    """Pressure ``P = -tr(σ)/3``, GPa (compression positive)."""
    return float(-stress_gpa(atoms)[:3].mean())


def strained(atoms, strain, scale_atoms=True):
    """A copy of ``atoms`` under the homogeneous symmetric strain ``strain``.

    Parameters
    ----------
    atoms : ase.Atoms
    strain : array_like, shape (3, 3)
        Symmetric small-strain tensor ε; the cell (rows) becomes ``cell (I + ε)``.
    scale_atoms : bool
        Move the atoms with the cell (clamped ions: fractional positions kept).
    """
    out = atoms.copy()
    out.calc = atoms.calc
    deformation = np.eye(3) + np.asarray(strain, float)
    out.set_cell(atoms.cell.array @ deformation, scale_atoms=scale_atoms)
    return out


def plain(value):
    """``value`` with NumPy scalars and arrays turned into Python floats, ints, bools and lists.

    Dicts, lists and tuples are converted recursively, so that ``json.dumps``
    takes the result. Non-finite floats (a frame without stress, an MD run
    without samples) become None, which strict JSON has and NaN is not.
    """
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value
