"""Elastic constants from stresses under small homogeneous strains.

The abstraction is the 6×6 stiffness matrix in Voigt notation (Nye, Physical
Properties of Crystals, 1957, ch. VIII), ``C_ij = ∂σ_i/∂ε_j`` with ASE's stress
order (xx, yy, zz, yz, xz, xy) and engineering shear strains (ε_4 = 2 ε_yz, …).
Each column j comes from central differences of the stress under the strains
``±h`` of component j (Y. Le Page, P. Saxe, Phys. Rev. B 65, 104104 (2002)), so
the residual stress of a not-quite-relaxed cell cancels.

Two sets are reported (every lattice, whether or not they differ):

- *clamped-ion*: the atoms follow the strain (fractional positions kept);
- *relaxed-ion*: the atoms are relaxed in the strained cell. In bcc and fcc,
  every atom is a centre of inversion and the two coincide; in diamond the
  internal (Kleinman) relaxation lowers C44, in hcp it lowers C11, C12 and C66.

The matrix is then projected onto the independent constants of the lattice
(cubic: C11, C12, C44; hexagonal: C11, C12, C13, C33, C44, with
C66 = (C11 − C12)/2), by least squares over the symmetry-equivalent entries;
``symmetry_deviation`` is the largest entry of the difference (a check on the
strain step and the relaxation). GPa throughout.
"""
import numpy as np

from .common import attach, get_calculator, plain, relax_positions, strained, stress_gpa

# Voigt index -> the two Cartesian indices of the strain component
VOIGT_PAIRS = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))


def _basis(entries):
    """A 6×6 matrix with the given ``{(i, j): weight}`` entries (1-based Voigt), symmetric."""
    m = np.zeros((6, 6))
    for (i, j), w in entries.items():
        m[i - 1, j - 1] = m[j - 1, i - 1] = w
    return m


# each independent constant as a basis matrix: C = sum_n c_n B_n
# (Nye 1957, ch. VIII, Table 9: cubic and hexagonal classes)
CUBIC_BASIS = {
    "C11": _basis({(1, 1): 1, (2, 2): 1, (3, 3): 1}),
    "C12": _basis({(1, 2): 1, (1, 3): 1, (2, 3): 1}),
    "C44": _basis({(4, 4): 1, (5, 5): 1, (6, 6): 1}),
}
HEXAGONAL_BASIS = {
    "C11": _basis({(1, 1): 1, (2, 2): 1, (6, 6): 0.5}),
    "C12": _basis({(1, 2): 1, (6, 6): -0.5}),
    "C13": _basis({(1, 3): 1, (2, 3): 1}),
    "C33": _basis({(3, 3): 1}),
    "C44": _basis({(4, 4): 1, (5, 5): 1}),
}


def symmetry_basis(lattice):
    """The ``{name: (6, 6) basis matrix}`` of the independent constants of ``lattice``."""
    return HEXAGONAL_BASIS if lattice == "hcp" else CUBIC_BASIS


def project(matrix, basis):
    """Least-squares independent constants of a 6×6 matrix, and the largest misfit.

    Parameters
    ----------
    matrix : ndarray, shape (6, 6)
    basis : dict of str to ndarray, shape (6, 6)

    Returns
    -------
    constants : dict of str to float
    deviation : float
        ``max |matrix − Σ c_n B_n|``, same units as ``matrix``.
    """
    names = list(basis)
    design = np.array([basis[n].ravel() for n in names]).T
    coef = np.linalg.lstsq(design, np.asarray(matrix).ravel(), rcond=None)[0]
    fitted = (design @ coef).reshape(6, 6)
    return dict(zip(names, coef.tolist())), float(np.abs(matrix - fitted).max())


def voigt_bulk_modulus(constants):
    """Voigt average bulk modulus from the independent constants (Nye 1957; Hill 1952).

    Cubic: (C11 + 2 C12)/3, which equals the Birch–Murnaghan B of a cubic
    crystal at zero pressure; hexagonal: (2 C11 + C33 + 2 C12 + 4 C13)/9.
    """
    c = constants
    if "C13" in c:
        return (2 * c["C11"] + c["C33"] + 2 * c["C12"] + 4 * c["C13"]) / 9
    return (c["C11"] + 2 * c["C12"]) / 3


def stiffness_matrices(calc, atoms, strain=0.005, fmax=1e-4, steps=200):
    """Clamped- and relaxed-ion 6×6 stiffness by central differences of the stress, GPa.

    Parameters
    ----------
    calc : ase.calculators.calculator.Calculator or callable
    atoms : ase.Atoms
        The unstrained crystal (its stress need not vanish).
    strain : float
        Strain step h: ε_j = ±h (engineering strain for the shears).
    fmax, steps : float, int
        Relaxation of the atoms in each strained cell (relaxed-ion).

    Returns
    -------
    clamped, relaxed : ndarray, shape (6, 6)
        ``C[i, j] = (σ_i(+h e_j) − σ_i(−h e_j)) / (2h)``.
    """
    calc = get_calculator(calc)  # a factory is called once, here
    clamped, relaxed = np.zeros((6, 6)), np.zeros((6, 6))
    attach(atoms, calc)
    for j, (p, q) in enumerate(VOIGT_PAIRS):
        for sign in (1, -1):
            eps = np.zeros((3, 3))
            # engineering shear: ε_j = 2 ε_pq, so each off-diagonal entry takes h/2
            eps[p, q] = eps[q, p] = sign * strain if p == q else sign * strain / 2
            cell = strained(atoms, eps)
            clamped[:, j] += sign * stress_gpa(cell) / (2 * strain)
            relax_positions(cell, "elastic constants (relaxed-ion)", fmax=fmax, steps=steps)
            relaxed[:, j] += sign * stress_gpa(cell) / (2 * strain)
    return clamped, relaxed


def elastic_constants(calc, crystal, strain=0.005, fmax=1e-4, steps=200):
    """Independent elastic constants of a crystal, clamped- and relaxed-ion, GPa.

    Parameters
    ----------
    calc : ase.calculators.calculator.Calculator or callable
    crystal : snnp_calc.validation.lattice.Crystal
        Usually the relaxed crystal (at zero pressure the stress-strain slopes
        are the elastic constants of the unstressed crystal).
    strain : float
        Strain step h (default 0.5 %).
    fmax, steps : float, int
        Relaxation of the atoms in each strained cell, eV/Å and steps.

    Returns
    -------
    dict
        ``relaxed`` and ``clamped``: ``{"C11": …, "C12": …, "C44": …}`` (hcp
        also ``C13``, ``C33``), plus ``bulk_modulus`` (Voigt, GPa) in each;
        the relaxed constants also at the top level; ``matrix_relaxed`` and
        ``matrix_clamped`` (6×6 lists); ``symmetry_deviation`` (GPa);
        ``strain``.
    """
    clamped, relaxed = stiffness_matrices(calc, crystal.conventional(), strain, fmax, steps)
    basis = symmetry_basis(crystal.lattice)
    out = {"strain": strain, "matrix_clamped": clamped, "matrix_relaxed": relaxed}
    deviation = 0.0
    for name, matrix in (("clamped", clamped), ("relaxed", relaxed)):
        constants, dev = project(matrix, basis)
        deviation = max(deviation, dev)
        out[name] = dict(constants, bulk_modulus=voigt_bulk_modulus(constants))
    out.update(out["relaxed"])
    out["symmetry_deviation"] = deviation
    return plain(out)
