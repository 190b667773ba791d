"""DFT reference properties derived from a training set's homogeneously strained cells.

The abstraction is a linear-elastic model of the ``Elastic`` frames of a
data set (the strain series of Zuo et al., J. Phys. Chem. A 124, 731 (2020)):
every frame is the reference crystal under a homogeneous strain ε, and

    σ(ε) = σ0 + C ε                       (stress, GPa; Voigt, engineering shears)
    E(ε)/V_ref = u_g + s · ε + ½ εᵀ C ε     (energy per reference volume)

with C restricted to the lattice's symmetry (cubic: C11, C12, C44; Nye,
Physical Properties of Crystals, 1957, ch. VIII) and fitted by linear least
squares over the frames with |ε_ij| ≤ ``max_strain``. ``u_g`` is one energy
offset per cell size g, because supercells of different sizes were computed
with different k-point meshes and their energies do not share a zero.

Each frame's strain is inferred from its cell; the cells are taken to be
supercells of the conventional cubic cell (edges along the cube axes, as in
the Zuo data), so that C comes out in the cube axes. The reference cell C0 is the
element-wise median of the frames' cells in a canonical orientation (the
Cholesky factor of the metric C Cᵀ, i.e. a1 along x, a2 in the xy plane): the
strain series deforms one cell component at a time, symmetrically about 0,
so the median is the unstrained cell. A frame of another size is matched by
the ratio of its cell lengths to C0's (integer repeats). With cells as rows,
the deformation gradient is F = (C0⁻¹ C)ᵀ; its polar decomposition F = R U
separates a rotation R of the frame from the stretch U, and ε = U − I (the
Biot strain; to first order sym(F) − I); the frame's Cauchy stress
is rotated back, Rᵀ σ R.

From the fits: ``a0`` where the mean stress vanishes (``a0_stress``) and where
the energy is smallest (``a0_energy``): for a hydrostatic strain δ,
σ̄(δ) = σ̄0 + 3Bδ and dE/dδ ∝ 3 s̄ + 9Bδ, so δ = −σ̄0/(3B) and δ = −s̄/(3B)
with B = (C11 + 2C12)/3 (Kittel, Introduction to Solid State Physics, ch. 3).
Uniaxial and shear strain series do not determine C12 (nor B) from energies
alone: that entry is ``None`` then, and ``a0_energy`` uses the stress B.
"""
from collections import Counter

import numpy as np
from ase.units import GPa
from scipy.linalg import polar

from .._files import is_path
from ..dataset import frames_of
from .common import plain
from .elastic import CUBIC_BASIS, VOIGT_PAIRS
from .lattice import ATOMS_PER_CELL, CUBIC, classify_lattice

# a constant of a fit is identifiable when its column's part outside the other columns'
# span is at least this fraction of the largest norm of the constants' columns
IDENTIFIABLE = 0.05


def to_voigt(tensor, engineering=False):
    """(6,) Voigt vector of a symmetric (3, 3) tensor; ``engineering`` doubles the shears."""
    v = np.array([tensor[p, q] for p, q in VOIGT_PAIRS])
    if engineering:
        v[3:] *= 2
    return v


def from_voigt(v):
    """(3, 3) symmetric tensor of a (6,) Voigt stress."""
    t = np.empty((3, 3))
    for k, (p, q) in enumerate(VOIGT_PAIRS):
        t[p, q] = t[q, p] = v[k]
    return t


def canonical_cell(cell):
    """The cell (rows) rotated to a1 ∥ x, a2 in the xy plane: the Cholesky factor of C Cᵀ."""
    return np.linalg.cholesky(cell @ cell.T)


def match_repeats(cell, n_atoms, ref_cell, ref_atoms):
    """Integer repeats that make ``cell`` and ``ref_cell`` the same crystal, or None.

    Returns
    -------
    (ndarray, ndarray) of int, shape (3,) each, or None
        ``(m_frame, m_ref)`` with ``diag(m_frame) cell`` and
        ``diag(m_ref) ref_cell`` holding the same number of atoms; None when
        the ratio of cell lengths is not an integer (or its inverse) along
        every axis, or the atom counts disagree.
    """
    ratio = np.linalg.norm(cell, axis=1) / np.linalg.norm(ref_cell, axis=1)
    m_frame, m_ref = np.ones(3, int), np.ones(3, int)
    for k, r in enumerate(ratio):
        if r >= 1:
            m_ref[k] = int(round(r))
        else:
            m_frame[k] = int(round(1 / r))
    if n_atoms * m_frame.prod() != ref_atoms * m_ref.prod():
        return None
    return m_frame, m_ref


def strain_and_stress(cell, stress, ref_cell):
    """Biot strain of ``cell`` relative to ``ref_cell`` and the stress in the reference frame.

    Parameters
    ----------
    cell, ref_cell : ndarray, shape (3, 3)
        Cells as rows, Å, of the same crystal (repeats already matched).
    stress : ndarray, shape (6,) or None
        The frame's ASE Voigt stress, eV/Å³.

    Returns
    -------
    strain : ndarray, shape (6,)
        Voigt strain, engineering shears.
    stress : ndarray, shape (6,) or None
        ``Rᵀ σ R`` in GPa, tensile positive.
    """
    rotation, stretch = polar(np.linalg.solve(ref_cell, cell).T)
    strain = to_voigt(stretch - np.eye(3), engineering=True)
    if stress is None:
        return strain, None
    return strain, to_voigt(rotation.T @ from_voigt(stress) @ rotation) / GPa


def identifiable(design, n_constants):
    """Which of the first ``n_constants`` columns of ``design`` the data determine.

    A greedy pivoted Gram–Schmidt: the other (nuisance) columns are always
    kept; the constants are taken largest column first, and one is kept when
    its part outside the span of those kept before it is at least
    :data:`IDENTIFIABLE` times the largest constant column's norm. (Uniaxial
    and shear strains make the C12 column of an energy fit a tiny multiple of
    the C44 one: C44 is kept, C12 is not.)
    """
    norms = np.linalg.norm(design[:, :n_constants], axis=0)
    basis = design[:, n_constants:]
    keep = np.zeros(n_constants, bool)
    for k in np.argsort(-norms):
        coef = np.linalg.lstsq(basis, design[:, k], rcond=None)[0]
        if np.linalg.norm(design[:, k] - basis @ coef) >= IDENTIFIABLE * norms.max():
            keep[k] = True
            basis = np.column_stack([basis, design[:, k]])
    return keep


def fit_stress(strain, stress, basis):
    """Least-squares ``σ = σ0 + C ε`` with C in the span of ``basis``.

    Returns
    -------
    dict
        One entry per constant (GPa; None when not identifiable),
        ``residual_stress`` (σ0, (6,), GPa) and ``rms_misfit`` (GPa).
    """
    names = list(basis)
    rows = [np.column_stack([basis[n] @ e for n in names] + [np.eye(6)]) for e in strain]
    design, target = np.vstack(rows), np.concatenate(stress)
    keep = np.concatenate([identifiable(design, len(names)), np.ones(6, bool)])
    coef = np.linalg.lstsq(design[:, keep], target, rcond=None)[0]
    full = np.full(len(keep), np.nan)
    full[keep] = coef
    misfit = target - design[:, keep] @ coef
    out = {n: (None if np.isnan(c) else c) for n, c in zip(names, full)}
    out.update(residual_stress=full[len(names):], rms_misfit=np.sqrt(np.mean(misfit ** 2)))
    return out


def fit_energy(strain, energy_density, group, basis):
    """Least-squares ``E/V_ref = u_g + s·ε + ½ εᵀ C ε`` with one offset ``u_g`` per group.

    Parameters
    ----------
    strain : ndarray, shape (k, 6)
    energy_density : ndarray, shape (k,)
        E / V_ref, eV/Å³ (V_ref: the frame's reference volume).
    group : ndarray of int, shape (k,)
        Cell size (number of atoms) of each frame.
    basis : dict of str to ndarray, shape (6, 6)

    Returns
    -------
    dict
        One entry per constant (GPa; None when not identifiable),
        ``linear`` (s, (6,), GPa), ``offsets`` ({group: u_g in eV/Å³}) and
        ``rms_misfit`` (GPa).
    """
    names = list(basis)
    groups = sorted(set(group.tolist()))
    quad = np.array([[0.5 * e @ basis[n] @ e for n in names] for e in strain])
    onehot = (group[:, None] == np.array(groups)[None, :]).astype(float)
    design = np.column_stack([quad, strain, onehot])
    keep = np.concatenate([identifiable(design, len(names)), np.ones(6 + len(groups), bool)])
    coef = np.linalg.lstsq(design[:, keep], energy_density, rcond=None)[0]
    full = np.full(len(keep), np.nan)
    full[keep] = coef
    misfit = energy_density - design[:, keep] @ coef
    out = {n: (None if np.isnan(c) else c / GPa) for n, c in zip(names, full)}
    out.update(linear=full[len(names):len(names) + 6] / GPa,
               offsets=dict(zip(groups, full[len(names) + 6:])),
               rms_misfit=np.sqrt(np.mean(misfit ** 2)) / GPa)
    return out


def bulk_modulus(constants):
    """(C11 + 2 C12)/3 (Kittel ch. 3), or None when a constant is missing."""
    if constants.get("C11") is None or constants.get("C12") is None:
        return None
    return (constants["C11"] + 2 * constants["C12"]) / 3


def _elastic_frames(frames, symbol, lattice, source):
    """The Elastic frames of pure ``symbol`` whose cell size has the wanted lattice."""
    elastic = [f for f in frames if f.config_type == "Elastic" and f.atoms.pbc.all()]
    symbols = sorted({s for f in elastic for s in f.atoms.get_chemical_symbols()})
    if not elastic:
        raise ValueError(f"{source}: no 'Elastic' frames (config_type) to derive a "
                         "reference from")
    if symbol is None:
        if len(symbols) != 1:
            raise ValueError(f"{source}: Elastic frames hold {', '.join(symbols)}; "
                             "name the element (symbol=)")
        symbol = symbols[0]
    pure = [f for f in elastic if set(f.atoms.get_chemical_symbols()) == {symbol}]
    by_size = {}
    for f in pure:
        by_size.setdefault(len(f.atoms), []).append(f)
    found = {n: classify_lattice(min(fs, key=lambda f: f.energy / n).atoms)
             for n, fs in by_size.items()}
    if lattice is None and found:
        lattice = Counter({found[n]: len(fs) for n, fs in by_size.items()}).most_common(1)[0][0]
    chosen = [f for n, fs in by_size.items() if found[n] == lattice for f in fs]
    if not chosen:
        raise ValueError(f"{source}: no Elastic frames of {symbol} in the {lattice} lattice "
                         f"(found: {', '.join(sorted(set(found.values()))) or 'none'})")
    if lattice not in CUBIC:
        raise ValueError(f"{source}: a reference from data needs a cubic lattice "
                         f"(bcc, fcc, diamond), not {lattice}")
    return symbol, lattice, chosen


def _clamped(frames, strain, shear, tol=1e-3):
    """Whether the sheared frames keep the fractional positions of the least-strained one."""
    sizes = Counter(len(f.atoms) for f in frames)
    n = sizes.most_common(1)[0][0]
    pick = [k for k, f in enumerate(frames) if len(f.atoms) == n]
    ref = frames[min(pick, key=lambda k: np.abs(strain[k]).max())].atoms
    sheared = [k for k in pick if shear[k]]
    if not sheared:
        return None
    for k in sheared:
        atoms = frames[k].atoms
        d = (atoms.get_scaled_positions() - ref.get_scaled_positions() + 0.5) % 1.0 - 0.5
        if np.linalg.norm(d @ atoms.cell.array, axis=1).max() > tol:
            return False
    return True


def reference_from_data(data, lattice=None, symbol=None, max_strain=0.02, source=None):
    """DFT lattice parameter, elastic constants and bulk modulus from ``Elastic`` frames.

    Parameters
    ----------
    data : str or path-like or list of snnp_calc.dataset.Frame
        A training file (read with :func:`snnp_calc.dataset.read_frames`) or frames.
    lattice : {"bcc", "fcc", "diamond"}, optional
        The lattice whose frames to use; default: that of most Elastic frames.
    symbol : str, optional
        The element; needed only when the Elastic frames hold several.
    max_strain : float
        Frames with a strain component |ε_ij| up to this (×1.05, for rounding)
        enter the fits; larger strains are anharmonic.
    source : str, optional
        The data's name in messages and in the result (default: the path,
        or "frames").

    Returns
    -------
    dict
        ``symbol``, ``lattice``, ``source``, ``n_frames`` (in the fits),
        ``n_elastic``, ``max_strain``; ``a_reference`` (Å, of the median cell);
        ``a0_stress``, ``a0_energy`` (Å), ``energy_per_atom`` (eV, at the
        energy minimum); ``C11``, ``C12``, ``C44``, ``bulk_modulus`` (GPa,
        from stresses; ``method`` = "stress"); ``stress`` and ``energy``: each
        fit's constants, ``bulk_modulus`` and misfit; ``shear_ions``
        ("clamped", "not clamped" or None: whether the sheared cells keep
        their fractional positions); ``points``: every matched frame's
        ``volume_per_atom``, ``energy_per_atom``, ``pressure`` and ``shear``.

    Raises
    ------
    ValueError
        Without Elastic frames of a cubic lattice, or too few to fit.
    """
    source = source or (str(data) if is_path(data) else "frames")
    symbol, lattice, frames = _elastic_frames(frames_of(data), symbol, lattice, source)
    rows = _strained_frames(frames)
    strain = np.array([r["strain"] for r in rows])
    # the largest tensor component |ε_ij| (Voigt shears are engineering: 2 ε_ij)
    tensor_max = np.maximum(np.abs(strain[:, :3]).max(axis=1),
                            np.abs(strain[:, 3:]).max(axis=1) / 2)
    fit = tensor_max <= 1.05 * max_strain
    has_stress = fit & np.array([r["stress"] is not None for r in rows])
    if has_stress.sum() < 3:
        raise ValueError(f"{source}: only {has_stress.sum()} Elastic frames of {symbol} "
                         f"{lattice} with stresses within {max_strain:g} strain; need 3")
    stress_fit = fit_stress(strain[has_stress],
                            [r["stress"] for r, k in zip(rows, has_stress) if k], CUBIC_BASIS)
    energy_fit = fit_energy(strain[fit], np.array([r["energy_density"] for r in rows])[fit],
                            np.array([r["n_atoms"] for r in rows])[fit], CUBIC_BASIS)
    stress_fit["bulk_modulus"] = bulk_modulus(stress_fit)
    energy_fit["bulk_modulus"] = bulk_modulus(energy_fit)
    shear = np.abs(strain[:, 3:]).max(axis=1) > 1e-4
    clamped = _clamped([r["frame"] for r in rows], strain, shear)
    out = {"symbol": symbol, "lattice": lattice, "source": source, "n_frames": int(fit.sum()),
           "n_elastic": len(frames), "max_strain": max_strain}
    out.update(_equilibrium(rows, lattice, stress_fit, energy_fit))
    out.update({
        "method": "stress", "C11": stress_fit["C11"], "C12": stress_fit["C12"],
        "C44": stress_fit["C44"], "bulk_modulus": stress_fit["bulk_modulus"],
        "stress": stress_fit, "energy": energy_fit,
        "shear_ions": None if clamped is None else ("clamped" if clamped else "not clamped"),
        "points": {"volume_per_atom": [r["frame"].atoms.get_volume() / r["n_atoms"] for r in rows],
                   "energy_per_atom": [r["frame"].energy / r["n_atoms"] for r in rows],
                   "pressure": [np.nan if r["stress"] is None else -r["stress"][:3].mean()
                                for r in rows],
                   "shear": shear}})
    return plain(out)


def _strained_frames(frames):
    """Strain, rotated stress and energy density of each frame matched to the median cell."""
    n_ref = Counter(len(f.atoms) for f in frames).most_common(1)[0][0]
    ref_cell = np.median([canonical_cell(f.atoms.cell.array) for f in frames
                          if len(f.atoms) == n_ref], axis=0)
    rows = []
    for f in frames:
        repeats = match_repeats(f.atoms.cell.array, len(f.atoms), ref_cell, n_ref)
        if repeats is None:
            continue
        eps, sig = strain_and_stress(repeats[0][:, None] * f.atoms.cell.array, f.stress,
                                     repeats[1][:, None] * ref_cell)
        v_ref = abs(np.linalg.det(ref_cell)) * len(f.atoms) / n_ref
        rows.append({"frame": f, "strain": eps, "stress": sig, "n_atoms": len(f.atoms),
                     "energy_density": f.energy / v_ref, "n_ref": n_ref,
                     "volume_per_atom_ref": abs(np.linalg.det(ref_cell)) / n_ref})
    return rows


def _equilibrium(rows, lattice, stress_fit, energy_fit):
    """a0 at zero mean stress and at the energy minimum, and E/N there (module docstring)."""
    volume_atom, n_ref = rows[0]["volume_per_atom_ref"], rows[0]["n_ref"]
    a_ref = (volume_atom * ATOMS_PER_CELL[lattice]) ** (1 / 3)
    b = stress_fit["bulk_modulus"]
    b_energy = energy_fit["bulk_modulus"] or b
    s_mean = energy_fit["linear"][:3].mean()
    delta = -s_mean / (3 * b_energy)
    # E/V_ref at the minimum: u + 3 s̄ δ + (9/2) B δ²  (s̄, B in GPa, u in eV/Å³)
    density = energy_fit["offsets"][n_ref] + (3 * s_mean * delta
                                              + 4.5 * b_energy * delta ** 2) * GPa
    return {"a_reference": a_ref,
            "a0_stress": a_ref * (1 - stress_fit["residual_stress"][:3].mean() / (3 * b)),
            "a0_energy": a_ref * (1 + delta), "energy_per_atom": density * volume_atom}
