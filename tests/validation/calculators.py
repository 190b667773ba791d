"""Calculators with known answers for the validation tests.

- :class:`VolumeEnergy`: E = N e(V/N) with a third-order Birch–Murnaghan e(v)
  (F. Birch, Phys. Rev. 71, 809 (1947)), optionally plus a Gaussian bump that
  makes P(V) non-monotonic. No forces; σ = (1/V) ∂E/∂ε = e'(v) I, so
  P = −e'(v), B(v) = v e''(v), and at v0: C11 = C12 = B0, C44 = 0.
- :class:`PairPotential`: a sum of pair terms φ(r) given as functions, with
  energy and forces (no stress); :func:`broken_pair` has an attractive core.
"""
import numpy as np
from ase.calculators.calculator import Calculator, all_changes
from ase.neighborlist import neighbor_list


class VolumeEnergy(Calculator):
    """E = N [e_BM(V/N) + bump(V/N)]; isolated (non-periodic) atoms have energy 0."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, e0=-3.0, v0=12.0, b0=0.8, bp=4.5, bump=0.0, v_bump=10.0, width=0.3):
        super().__init__()
        self.p = dict(e0=e0, v0=v0, b0=b0, bp=bp, bump=bump, v_bump=v_bump, width=width)

    def derivatives(self, v):
        """e(v), e'(v), e''(v) per atom: eV, eV/Å³, eV/Å⁶."""
        p = self.p
        x = (p["v0"] / v) ** (2 / 3)
        k = 9 * p["v0"] * p["b0"] / 16
        g0 = k * ((x - 1) ** 3 * p["bp"] + (x - 1) ** 2 * (6 - 4 * x))
        g1 = k * (3 * (x - 1) ** 2 * p["bp"] + 2 * (x - 1) * (6 - 4 * x) - 4 * (x - 1) ** 2)
        g2 = k * (6 * (x - 1) * p["bp"] + 28 - 24 * x)
        x1, x2 = -2 * x / (3 * v), 10 * x / (9 * v ** 2)
        u = (v - p["v_bump"]) / p["width"]
        bump = p["bump"] * np.exp(-u ** 2)
        e = p["e0"] + g0 + bump
        de = g1 * x1 - 2 * u / p["width"] * bump
        d2e = g2 * x1 ** 2 + g1 * x2 + (4 * u ** 2 - 2) / p["width"] ** 2 * bump
        return e, de, d2e

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        n = len(self.atoms)
        self.results["forces"] = np.zeros((n, 3))
        if not self.atoms.pbc.all():
            self.results["energy"] = self.results["free_energy"] = 0.0
            return
        e, de, _ = self.derivatives(self.atoms.get_volume() / n)
        self.results["energy"] = self.results["free_energy"] = n * e
        self.results["stress"] = np.array([de, de, de, 0.0, 0.0, 0.0])


class PairPotential(Calculator):
    """E = Σ_{i<j} φ(r_ij) for r_ij < cutoff; ``phi(r)`` returns (φ, dφ/dr) in eV, eV/Å."""

    implemented_properties = ["energy", "free_energy", "forces"]

    def __init__(self, phi, cutoff):
        super().__init__()
        self.phi, self.cutoff = phi, cutoff

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        i_p, d_p, D_pc = neighbor_list("idD", self.atoms, self.cutoff)
        e_p, de_p = self.phi(d_p)
        # each pair appears from both ends: half the energy, the force on i only
        g_pc = (de_p / d_p)[:, None] * D_pc
        forces = np.zeros((len(self.atoms), 3))
        np.add.at(forces, i_p, g_pc)
        self.results["energy"] = self.results["free_energy"] = 0.5 * e_p.sum()
        self.results["forces"] = forces


def morse(r, depth=0.5, alpha=1.5, r0=2.5):
    """Morse φ(r) = D[(1 − e^{−α(r−r0)})² − 1] and dφ/dr."""
    x = np.exp(-alpha * (r - r0))
    return depth * ((1 - x) ** 2 - 1), 2 * depth * alpha * x * (1 - x)


def broken_pair(r, hole=2000.0, width=0.7):
    """Morse with a deep Gaussian hole at the core: a crystal, but atoms that meet fuse.

    φ(2.5 Å) ≈ −0.51 eV (the crystal's bond), a ~0.07 eV barrier near 2.2 Å,
    then φ falls to ≈ −1.5 eV at 1.8 Å and ≈ −1100 eV at 0.
    """
    e, de = morse(r)
    g = hole * np.exp(-(r / width) ** 2)
    return e - g, de + 2 * r / width ** 2 * g


class Repulsive(VolumeEnergy):
    """e(v) = 10 eV Å³ / v: no minimum, a cell relaxation can only expand."""

    def derivatives(self, v):
        return 10.0 / v, -10.0 / v ** 2, 20.0 / v ** 3
