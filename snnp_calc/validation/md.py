"""Hot molecular dynamics: does the potential keep atoms apart far from equilibrium?

The abstraction is a *stability verdict* on a Langevin (NVT) run of a bulk
supercell well above the melting point (default 1.5 T_m, or 2000 K without
T_m): the run is stable when the closest approach of two atoms stays at or
above ``0.6 d_nn`` (d_nn the nearest-neighbour distance of the crystal), the
temperature stays within ``3 ×`` the target and the energy stays finite. A
potential with a spurious attractive core lets atoms fuse (closest approach
→ 0, energy → −∞, temperature runs away); a hot liquid of a sound potential
keeps its atoms ≳ 0.7 d_nn apart.

Langevin dynamics: ``ase.md.langevin.Langevin`` (the propagator of Eq. 23 of
E. Vanden-Eijnden, G. Ciccotti, Chem. Phys. Lett. 429, 310 (2006)), with the
centre of mass fixed by ``ase.constraints.FixCom``; the instantaneous
temperature is ``2 E_kin / (N_dof k_B)`` (``Atoms.get_temperature``, N_dof = 3N − 3).
"""
import numpy as np
from ase import units
from ase.constraints import FixCom
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import Stationary
from ase.neighborlist import neighbor_list

from .common import attach, get_calculator, plain

MD_REPEAT = {"bcc": (3, 3, 3), "fcc": (3, 3, 3), "diamond": (2, 2, 2), "hcp": (4, 4, 3)}
DEFAULT_TEMPERATURE = 2000.0


def closest_approach(atoms, cutoff):
    """Shortest interatomic distance (Å) if it is below ``cutoff``, else ``cutoff``."""
    d_p = neighbor_list("d", atoms, cutoff)
    return float(d_p.min()) if len(d_p) else float(cutoff)


def md_stability(calc, crystal, temperature=None, melting_point=None, time=2.0, timestep=1.0,
                 friction=0.01, repeat=None, sample_every=5, min_distance_ratio=0.6,
                 max_temperature_ratio=3.0, seed=0):
    """Langevin MD far above the melting point, and whether it stays physical.

    Parameters
    ----------
    calc : ase.calculators.calculator.Calculator or callable
    crystal : snnp_calc.validation.lattice.Crystal
        The starting crystal (usually the relaxed one; the volume is kept).
    temperature : float, optional
        Target temperature, K. Default ``1.5 * melting_point``, or 2000 K.
    melting_point : float, optional
        Melting temperature, K.
    time : float
        Length of the run, ps.
    timestep : float
        fs (1 fs: safe for every element at these temperatures).
    friction : float
        Langevin friction, 1/fs.
    repeat : tuple of int, optional
        Supercell of the conventional cell; default :data:`MD_REPEAT`
        (54 bcc, 108 fcc, 64 diamond, 96 hcp atoms).
    sample_every : int
        Steps between checks of distance, temperature and energy.
    min_distance_ratio, max_temperature_ratio : float
        The verdict's thresholds (see the module docstring).
    seed : int
        Seeds the initial velocities and the Langevin noise.

    Returns
    -------
    dict
        ``temperature_target`` (K), ``time`` (ps, planned), ``steps``
        (planned) and ``steps_run``, ``n_atoms``, ``nn_distance`` (Å),
        ``min_distance`` (Å) and ``min_distance_ratio`` (of d_nn),
        ``max_temperature`` and ``mean_temperature`` (K, over the samples),
        ``energy_finite``, ``stable`` (bool) and ``reason`` (why not, or
        ``"ok"``). The run stops early once unstable.
    """
    calc = get_calculator(calc)  # a factory is called once, here
    target = float(temperature or (1.5 * melting_point if melting_point else DEFAULT_TEMPERATURE))
    atoms = attach(crystal.supercell(repeat or MD_REPEAT[crystal.lattice]), calc)
    # an error here (an element the model lacks) is the caller's, not a verdict
    atoms.get_potential_energy()
    rng = np.random.default_rng(seed)
    # Maxwell–Boltzmann momenta, p ~ N(0, m k_B T) per component (drawn here: ASE's own
    # helper changed name in 3.29, and this package supports ASE from 3.23)
    masses = atoms.get_masses()[:, None]
    atoms.set_momenta(rng.standard_normal((len(atoms), 3)) * np.sqrt(masses * units.kB * target))
    Stationary(atoms)
    atoms.set_constraint(FixCom())
    dyn = Langevin(atoms, timestep * units.fs, temperature_K=target,
                   friction=friction / units.fs, fixcm=False, rng=rng)
    n_steps = int(round(time * 1000 / timestep))
    nn = crystal.nn_distance
    watch = _run_and_watch(dyn, n_steps, sample_every, nn, min_distance_ratio * nn,
                           max_temperature_ratio * target)
    temps, d_min = watch["temperatures"], watch["min_distance"]
    return plain({"temperature_target": target, "time": time, "timestep": timestep,
                  "steps": n_steps, "steps_run": watch["steps_run"], "n_atoms": len(atoms),
                  "nn_distance": nn, "min_distance": d_min, "min_distance_ratio": d_min / nn,
                  "max_temperature": max(temps, default=float("nan")),
                  "mean_temperature": float(np.mean(temps)) if temps else float("nan"),
                  "energy_finite": watch["finite"], "stable": watch["reason"] == "ok",
                  "reason": watch["reason"]})


def _run_and_watch(dyn, n_steps, sample_every, nn, d_limit, t_limit):
    """Run ``dyn`` in blocks of ``sample_every`` steps, stopping once the run is unphysical.

    Returns
    -------
    dict
        ``steps_run``, ``temperatures`` (K, one per block), ``min_distance``
        (Å, at most ``nn``), ``finite`` and ``reason`` ("ok" or why it stopped).
    """
    atoms = dyn.atoms
    out = {"steps_run": 0, "temperatures": [], "min_distance": nn, "finite": True,
           "reason": "ok"}
    while out["steps_run"] < n_steps:
        block = min(sample_every, n_steps - out["steps_run"])
        try:
            dyn.run(block)
        except ValueError as err:
            # e.g. coincident atoms or non-finite positions: the calculator gave up
            out["reason"] = f"the calculator failed after {out['steps_run']} steps: {err}"
            break
        done = out["steps_run"] = out["steps_run"] + block
        energy = atoms.get_potential_energy() + atoms.get_kinetic_energy()
        out["finite"] = bool(np.isfinite(energy) and np.isfinite(atoms.positions).all())
        if not out["finite"]:
            out["reason"] = f"energy or positions not finite after {done} steps"
            break
        out["temperatures"].append(atoms.get_temperature())
        d_min = out["min_distance"] = min(out["min_distance"], closest_approach(atoms, nn))
        if d_min < d_limit:
            out["reason"] = (f"atoms {d_min:.3f} Å apart ({d_min / nn:.2f} d_nn < "
                             f"{d_limit / nn:.2f} d_nn) after {done} steps")
            break
        if out["temperatures"][-1] > t_limit:
            out["reason"] = (f"temperature {out['temperatures'][-1]:.0f} K above "
                             f"{t_limit:.0f} K after {done} steps")
            break
    return out
