"""Harmonic phonons: frequencies at the high-symmetry points and a dispersion path.

The abstraction is ASE's :class:`ase.phonons.Phonons`: force constants from
finite displacements (±δ of each atom of the primitive cell, in a supercell),
with the acoustic sum rule imposed, Fourier transformed to the dynamical
matrix D(q) at any wave vector (M. Born, K. Huang, Dynamical Theory of Crystal
Lattices, Oxford 1954; the finite-displacement method as in A. Togo, I. Tanaka,
Scr. Mater. 108, 1 (2015)). Its eigenvalues are ω²; ASE returns
ω = −sqrt(|ω²|) for a negative eigenvalue, so an imaginary (unstable) mode is
a negative frequency. Frequencies are reported in THz, f = ħω / h.

The special points and the path are ASE's (``Cell.bandpath``; W. Setyawan,
S. Curtarolo, Comput. Mater. Sci. 49, 299 (2010)): bcc Γ H N P, fcc and
diamond Γ X W K L U, hcp Γ M K A L H.
"""
import os
import tempfile

import numpy as np
from ase import units
from ase.phonons import Phonons

from .common import get_calculator, plain

# Supercells of about 17-20 Å, with an odd number of repeats. A many-body potential
# couples atoms up to 2 r_c apart (~10 Å), and ASE assigns each force constant to one
# periodic image: in smaller or even supercells the far shells alias. Measured: Ni
# s-NNP with fcc 5x5x5 has -0.74 THz acoustic dips near Γ and a split TA at X
# (6.23/6.32 THz); 7x7x7 and 8x8x8 agree, with neither. Cheap: one primitive cell's
# displacements (6 per atom) of a few hundred atoms.
SUPERCELL = {"bcc": (7, 7, 7), "fcc": (7, 7, 7), "diamond": (5, 5, 5), "hcp": (7, 7, 5)}

# phonon energy (eV) per THz: h = 2π ħ, in eV s, times 1e12 / s
EV_PER_THZ = units._hplanck / units._e * 1e12


def phonon_frequencies(calc, crystal, supercell=None, delta=0.01, npoints=120,
                       imaginary_tol=0.1, gamma_radius=0.1):
    """Phonon frequencies at the special points and along the band path, THz.

    Parameters
    ----------
    calc : ase.calculators.calculator.Calculator or callable
    crystal : snnp_calc.validation.lattice.Crystal
        Usually the relaxed crystal; its primitive cell is displaced.
    supercell : tuple of int, optional
        Repeats of the primitive cell; default :data:`SUPERCELL` (7×7×7 for
        bcc/fcc, 5×5×5 for diamond, 7×7×5 for hcp; see there why).
    delta : float
        Displacement, Å.
    npoints : int
        Points on the band path.
    imaginary_tol : float
        A frequency below ``−imaginary_tol`` THz counts as imaginary.
    gamma_radius : float
        The three acoustic branches are not judged within this fraction of the
        shortest reciprocal lattice vector from Γ, where they go to zero and
        the finite supercell leaves small negative values.

    Returns
    -------
    dict
        ``special_points``: ``{label: list of 3n frequencies}``;
        ``path``: ``{"labels", "special_x", "x", "frequencies"}`` (x in 1/Å
        along the path, frequencies as an (npoints, 3n) list);
        ``min_frequency`` (THz, the lowest judged frequency),
        ``imaginary`` (bool), ``supercell``, ``delta``.
    """
    primitive = crystal.primitive()
    supercell = tuple(supercell or SUPERCELL[crystal.lattice])
    with tempfile.TemporaryDirectory(prefix="snnp-phonons-") as tmp:
        ph = Phonons(primitive, get_calculator(calc), supercell=supercell, delta=delta,
                     name=os.path.join(tmp, "phonon"))
        ph.run()
        ph.read(acoustic=True)
    path = primitive.cell.bandpath(npoints=npoints)
    special = path.special_points
    freq_special = ph.band_structure(np.array(list(special.values())), verbose=False)
    freq_path = ph.band_structure(path.kpts, verbose=False) / EV_PER_THZ
    x, special_x, labels = path.get_linear_kpoint_axis()
    # a break in the path ("H,P") puts two labels at one x: show them as "H|P"
    merged_x, merged = [], []
    for sx, label in zip(special_x, labels):
        if merged_x and abs(sx - merged_x[-1]) < 1e-9:
            merged[-1] += "|" + label
        else:
            merged_x.append(sx)
            merged.append(label)
    # judge every branch except the acoustic ones near Γ
    q_norm = np.linalg.norm(path.cartesian_kpts(), axis=1)
    near_gamma = q_norm < gamma_radius * np.linalg.norm(primitive.cell.reciprocal(), axis=1).min()
    judged = np.where(near_gamma[:, None] & (np.arange(freq_path.shape[1]) < 3), np.inf,
                      freq_path)
    gamma_label = [k for k, v in special.items() if not np.any(v)]
    optical = {k: f[3:] if k in gamma_label else f
               for k, f in zip(special, freq_special / EV_PER_THZ)}
    f_min = min(judged.min(), min(f.min(initial=np.inf) for f in optical.values()))
    return plain({"special_points": dict(zip(special, freq_special / EV_PER_THZ)),
                  "path": {"labels": merged, "special_x": merged_x, "x": x,
                           "frequencies": freq_path},
                  "min_frequency": f_min, "imaginary": bool(f_min < -imaginary_tol),
                  "supercell": supercell, "delta": delta})
