"""Point and planar defects: the relaxed vacancy and low-index surface energies.

The abstraction is a *defect energy*: the energy of a defective cell, relaxed
with its atoms free and its cell fixed, minus the energy of the same number of
atoms in the perfect crystal.

- Vacancy (fixed volume): ``E_vac = E(N−1) − (N−1)/N E(N)``
  (the formation energy of C. Freysoldt et al., Rev. Mod. Phys. 86, 253 (2014),
  with the chemical potential E(N)/N of the element's crystal; as in
  Y. Mishin et al., Phys. Rev. B 63, 224106 (2001)),
  in supercells of 128 (bcc, 4×4×4), 108 (fcc, 3×3×3), 64 (diamond, 2×2×2)
  and 96 (hcp, 4×4×3) sites.
- Surface: ``γ = (E_slab − N E_bulk) / (2A)`` for a slab of N atoms with two
  equal faces of area A, periodic in-plane, with vacuum along the normal
  (R. Tran et al., Sci. Data 3, 160080 (2016)). Slabs are cut by
  :func:`ase.build.surface` from the conventional cell, unreconstructed;
  γ in J/m² and eV/Å² (1 eV/Å² = 16.0218 J/m²).
"""
import numpy as np
from ase.build import surface
from ase.units import J, m

from .common import attach, get_calculator, plain, relax_positions

VACANCY_REPEAT = {"bcc": (4, 4, 4), "fcc": (3, 3, 3), "diamond": (2, 2, 2), "hcp": (4, 4, 3)}

# Miller indices of the faces, in the conventional cell's lattice (hcp: the
# hexagonal cell a1, a2, c, where (001) is basal (0001) and (100) prismatic (10-10))
SURFACES = {
    "bcc": {"100": (1, 0, 0), "110": (1, 1, 0), "111": (1, 1, 1)},
    "fcc": {"100": (1, 0, 0), "110": (1, 1, 0), "111": (1, 1, 1)},
    "diamond": {"100": (1, 0, 0), "110": (1, 1, 0), "111": (1, 1, 1)},
    "hcp": {"0001": (0, 0, 1), "10-10": (1, 0, 0)},
}

EV_PER_A2_IN_J_PER_M2 = 1 / (J / m ** 2)


def vacancy_formation(calc, crystal, repeat=None, fmax=1e-3, steps=300, rattle=0.01, seed=0):
    """Relaxed vacancy formation energy at fixed volume, eV.

    Parameters
    ----------
    calc : ase.calculators.calculator.Calculator or callable
    crystal : snnp_calc.validation.lattice.Crystal
        Usually the relaxed crystal.
    repeat : tuple of int, optional
        Supercell of the conventional cell; default :data:`VACANCY_REPEAT`.
    fmax, steps : float, int
        L-BFGS threshold (eV/Å) and step limit of the relaxation.
    rattle : float
        Standard deviation (Å) of a seeded random displacement of the atoms
        before relaxing, so that a symmetry-breaking relaxation is not
        missed for want of a push (it changes nothing when the symmetric
        vacancy is stable).
    seed : int
        Seed of the displacement.

    Returns
    -------
    dict
        ``energy`` (relaxed E_vac, eV), ``unrelaxed_energy`` (eV),
        ``relaxation_energy`` (eV, ≥ 0), ``n_sites``, ``steps``.

    Raises
    ------
    ValueError
        If the relaxation does not converge.
    """
    calc = get_calculator(calc)  # a factory is called once, here
    perfect = attach(crystal.supercell(repeat or VACANCY_REPEAT[crystal.lattice]), calc)
    n = len(perfect)
    e_perfect = perfect.get_potential_energy()
    defect = perfect.copy()
    del defect[0]
    attach(defect, calc)
    e_unrelaxed = defect.get_potential_energy()
    defect.rattle(rattle, seed=seed)
    n_steps = relax_positions(defect, "vacancy formation energy", fmax=fmax, steps=steps)
    e_relaxed = defect.get_potential_energy()
    reference = (n - 1) / n * e_perfect
    return plain({"energy": e_relaxed - reference, "unrelaxed_energy": e_unrelaxed - reference,
                  "relaxation_energy": e_unrelaxed - e_relaxed, "n_sites": n,
                  "steps": n_steps})


def surface_slab(crystal, miller, thickness=12.0, vacuum=8.0):
    """A slab of ``crystal`` with faces ``miller``, at least ``thickness`` Å thick.

    Parameters
    ----------
    crystal : snnp_calc.validation.lattice.Crystal
    miller : tuple of int
        Miller indices in the conventional cell's lattice.
    thickness : float
        Smallest slab thickness, Å (the number of repeats of
        :func:`ase.build.surface`'s layer unit is chosen to reach it).
    vacuum : float
        Vacuum on each side, Å (the gap between periodic images is 2 × vacuum).

    Returns
    -------
    ase.Atoms
        Periodic in all three directions, the faces normal to the third cell
        vector.
    """
    unit = surface(crystal.conventional(), miller, 1, vacuum=None)
    area = np.linalg.norm(np.cross(unit.cell[0], unit.cell[1]))
    # thickness of one layer unit: its atoms' bulk volume over the face area
    height = len(unit) * crystal.volume_per_atom / area
    layers = max(1, int(np.ceil(thickness / height - 1e-9)))
    return surface(crystal.conventional(), miller, layers, vacuum=vacuum, periodic=True)


def surface_energies(calc, crystal, thickness=12.0, vacuum=8.0, fmax=1e-3, steps=300,
                     faces=None):
    """Relaxed surface energies of the low-index faces of ``crystal``.

    Parameters
    ----------
    calc : ase.calculators.calculator.Calculator or callable
    crystal : snnp_calc.validation.lattice.Crystal
        Usually the relaxed crystal; its conventional cell gives E_bulk.
    thickness, vacuum : float
        Slab thickness and vacuum per side, Å (:func:`surface_slab`).
    fmax, steps : float, int
        L-BFGS threshold (eV/Å) and step limit.
    faces : dict of str to tuple, optional
        ``{label: miller}``; default :data:`SURFACES` of the lattice.

    Returns
    -------
    dict
        One entry per face label: ``energy`` (relaxed γ, J/m²),
        ``energy_eV_A2`` (eV/Å²), ``unrelaxed_energy`` (J/m²), ``area`` (Å²
        per face), ``n_atoms``, ``steps``.

    Raises
    ------
    ValueError
        If a relaxation does not converge (naming the face).
    """
    calc = get_calculator(calc)  # a factory is called once, here
    bulk = attach(crystal.conventional(), calc)
    e_bulk = bulk.get_potential_energy() / len(bulk)
    out = {}
    for label, miller in (faces or SURFACES[crystal.lattice]).items():
        slab = attach(surface_slab(crystal, miller, thickness, vacuum), calc)
        area = float(np.linalg.norm(np.cross(slab.cell[0], slab.cell[1])))
        n = len(slab)
        unrelaxed = (slab.get_potential_energy() - n * e_bulk) / (2 * area)
        n_steps = relax_positions(slab, f"surface energy ({label})", fmax=fmax, steps=steps)
        gamma = (slab.get_potential_energy() - n * e_bulk) / (2 * area)
        out[label] = {"energy": gamma * EV_PER_A2_IN_J_PER_M2, "energy_eV_A2": gamma,
                      "unrelaxed_energy": unrelaxed * EV_PER_A2_IN_J_PER_M2, "area": area,
                      "n_atoms": n, "steps": n_steps}
    return plain(out)
