"""Equation of state: the relaxed lattice, the bulk modulus, and how smooth P(V) is.

Two properties of a calculator on a :class:`~snnp_calc.validation.lattice.Crystal`:

- :func:`equilibrium`: the zero-pressure lattice parameter(s) (``FrechetCellFilter``
  + BFGS), the energy per atom there, the cohesive energy against the isolated
  atom, and the bulk modulus B and its pressure derivative B' from a third-order
  Birch–Murnaghan fit (``ase.eos.EquationOfState``) of E(V) over ±3 % of ``a``;
- :func:`eos_scan`: energy and pressure P = −tr(σ)/3 on a fine scan of the
  lattice parameter (−10 … +10 % in 0.5 % steps), whether P rises
  monotonically under compression on −10 … +5 %, and the local bulk modulus
  B_loc = −V dP/dV there. A smooth potential has B_loc > 0 everywhere on that
  range; a negative value is a spurious softening that MD at high pressure or
  in collisions will find.

Energies are eV/atom, volumes Å³/atom, pressures and moduli GPa.
"""
import numpy as np
from ase import Atoms
from ase.eos import EquationOfState
from ase.units import GPa

from .common import attach, get_calculator, plain, pressure, relax_cell
from .lattice import Crystal


def equilibrium(calc, crystal, eos_strain=0.03, n_eos=7, fmax=1e-4, steps=300):
    """Relaxed lattice, energy per atom and Birch–Murnaghan bulk modulus.

    Parameters
    ----------
    calc : ase.calculators.calculator.Calculator or callable
        A calculator, or a factory returning one.
    crystal : Crystal
        The starting lattice (its ``a``, ``c`` are only a first guess).
    eos_strain : float
        The E(V) fit spans lattice parameters ``a (1 ± eos_strain)``.
    n_eos : int
        Number of E(V) points.
    fmax : float
        Relaxation threshold (see :func:`~snnp_calc.validation.common.relax_cell`).
    steps : int
        Largest number of relaxation steps.

    Returns
    -------
    dict
        ``crystal`` (the relaxed crystal as a dict), ``a0`` (Å), ``c0`` and
        ``c_over_a`` (hcp), ``volume_per_atom`` (Å³), ``energy_per_atom``
        (eV), ``cohesive_energy`` (eV/atom, E_atom − E/N, positive when bound),
        ``bulk_modulus`` (GPa), ``bulk_modulus_derivative`` (B', 1),
        ``eos_volume_per_atom`` (Å³, the fit's V0), ``eos`` (the fitted points:
        ``volume_per_atom``, ``energy_per_atom`` lists).

    Raises
    ------
    ValueError
        If the lattice does not relax (or its parameter moves more than 30 %
        from the start), the E(V) fit fails, or from the calculator (e.g. an
        element the model lacks).
    """
    calc = get_calculator(calc)  # a factory is called once, here
    atoms = attach(crystal.conventional(), calc)
    relax_cell(atoms, "lattice constant", hydrostatic=crystal.cubic, fmax=fmax, steps=steps)
    lengths = atoms.cell.lengths()
    if crystal.cubic:
        relaxed = Crystal(crystal.symbol, crystal.lattice, float(lengths.mean()))
    else:
        relaxed = Crystal(crystal.symbol, "hcp", float(lengths[:2].mean()), float(lengths[2]))
    n = len(atoms)
    energy = atoms.get_potential_energy() / n
    volumes, energies = [], []
    # Birch–Murnaghan (F. Birch, Phys. Rev. 71, 809 (1947)): E(V) = E0 + 9 V0 B0/16
    #   {[(V0/V)^(2/3) − 1]^3 B0' + [(V0/V)^(2/3) − 1]^2 [6 − 4 (V0/V)^(2/3)]}
    for s in np.linspace(-eos_strain, eos_strain, n_eos):
        cell = attach(relaxed.scaled(1 + s).conventional(), calc)
        volumes.append(cell.get_volume() / n)
        energies.append(cell.get_potential_energy() / n)
    eos = EquationOfState(volumes, energies, eos="birchmurnaghan")
    try:
        v0, _, b0 = eos.fit(warn=False)
    except RuntimeError as err:  # scipy's curve_fit found no minimum
        raise ValueError(f"bulk modulus: the Birch–Murnaghan fit failed ({err})") from err
    out = {"crystal": relaxed.as_dict(), "a0": relaxed.a,
           "volume_per_atom": atoms.get_volume() / n, "energy_per_atom": energy,
           "cohesive_energy": isolated_atom_energy(calc, crystal.symbol) - energy,
           "bulk_modulus": b0 / GPa, "bulk_modulus_derivative": eos.eos_parameters[2],
           "eos_volume_per_atom": v0,
           "eos": {"volume_per_atom": volumes, "energy_per_atom": energies}}
    if not crystal.cubic:
        out.update(c0=relaxed.c, c_over_a=relaxed.c / relaxed.a)
    return plain(out)


def isolated_atom_energy(calc, symbol, box=20.0):
    """Energy of one atom alone (non-periodic, in a ``box`` Å cell), eV."""
    atom = Atoms(symbol, cell=[box] * 3, positions=[[box / 2] * 3], pbc=False)
    return attach(atom, calc).get_potential_energy()


def eos_scan(calc, crystal, low=-0.10, high=0.10, step=0.005, window=(-0.10, 0.05)):
    """Energy and pressure on a fine scan of the lattice parameter, and their smoothness.

    The lattice parameters (hcp: ``a`` and ``c`` together) take the values
    ``(1 + s)`` times those of ``crystal`` for ``s`` from ``low`` to ``high``
    in steps of ``step``; the atoms stay at their ideal sites.

    On the ``window`` of ``s`` the pressure must rise under compression,
    ``P(s_k) > P(s_{k+1})``. The local bulk modulus is the definition
    B = −V dP/dV (Kittel, Introduction to Solid State Physics, 8th ed., ch. 3)
    evaluated by second-order finite differences of the computed P along the
    scan (``numpy.gradient``, one-sided at the ends of the scan).

    Parameters
    ----------
    calc : ase.calculators.calculator.Calculator or callable
    crystal : Crystal
        Usually the relaxed crystal of :func:`equilibrium`.
    low, high, step : float
        Scan range and step of the relative change of the lattice parameter.
    window : (float, float)
        Where monotonicity and B_loc are judged.

    Returns
    -------
    dict
        ``strain``, ``volume_per_atom`` (Å³), ``energy_per_atom`` (eV),
        ``pressure`` (GPa), ``local_bulk_modulus`` (GPa): lists along the
        scan; ``window``; ``pressure_monotonic`` (bool) and
        ``non_monotonic_steps`` (int) on the window;
        ``min_local_bulk_modulus`` (GPa) on the window and the ``strain`` where
        it is reached (``strain_at_min_local_bulk_modulus``).
    """
    calc = get_calculator(calc)  # a factory is called once, here
    strains = np.linspace(low, high, int(round((high - low) / step)) + 1)
    volumes, energies, pressures = [], [], []
    for s in strains:
        atoms = attach(crystal.scaled(1 + s).conventional(), calc)
        n = len(atoms)
        volumes.append(atoms.get_volume() / n)
        energies.append(atoms.get_potential_energy() / n)
        pressures.append(pressure(atoms))
    volume, p = np.array(volumes), np.array(pressures)
    b_local = -volume * np.gradient(p, volume)
    inside = (strains >= window[0] - 1e-12) & (strains <= window[1] + 1e-12)
    p_in = p[inside]
    # on increasing volume the pressure must fall: a step that does not is non-monotonic
    bad_steps = int(np.count_nonzero(np.diff(p_in) >= 0))
    k_min = int(np.argmin(np.where(inside, b_local, np.inf)))
    return plain({"strain": strains, "volume_per_atom": volume, "energy_per_atom": energies,
                  "pressure": p, "local_bulk_modulus": b_local, "window": list(window),
                  "pressure_monotonic": bad_steps == 0, "non_monotonic_steps": bad_steps,
                  "min_local_bulk_modulus": b_local[k_min],
                  "strain_at_min_local_bulk_modulus": strains[k_min]})
