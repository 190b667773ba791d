"""The short-range core repulsion: the ZBL screened Coulomb potential, switched off smoothly.

Ziegler, Biersack and Littmark's universal screened nuclear repulsion (J. F.
Ziegler, J. P. Biersack, U. Littmark, *The Stopping and Range of Ions in
Solids*, Pergamon 1985, eqs. 2-59 to 2-61):

    E(r) = k Z_a Z_b / r · φ(r / a),   a = 0.46850 Å / (Z_a^0.23 + Z_b^0.23),
    φ(x) = 0.18175 e^{-3.19980 x} + 0.50986 e^{-0.94229 x}
         + 0.28022 e^{-0.40290 x} + 0.02817 e^{-0.20162 x},

with k = e² / (4π ε0) = 14.399645 eV Å, the constants of LAMMPS
``pair_style zbl``. It diverges as 1/r, so no many-body term can pull two
atoms onto each other. It is multiplied by the quintic smoothstep
``S = 1 - 10 t³ + 15 t⁴ - 6 t⁵``, ``t = (r - r_in) / (r_out - r_in)`` clamped
to [0, 1], which is C2 and vanishes with its first two derivatives at r_out:
below r_in the core is pure ZBL, above r_out (the data's range) it is zero.
"""
import numpy as np
from numba import njit

from .layout import KERNEL

# e^2 / (4 pi eps0), eV Å (LAMMPS pair_style zbl)
COULOMB = 14.399645
# screening length numerator, Å, and the exponent of Z
SCREENING = 0.46850
Z_POWER = 0.23
PHI_C = (0.18175, 0.50986, 0.28022, 0.02817)
PHI_D = (3.19980, 0.94229, 0.40290, 0.20162)


@njit(**KERNEL)
def zbl_switched(z_a, z_b, r, r_in, r_out):
    """Core energy (eV) of one pair at distance r (Å) and its derivative dE/dr (eV/Å)."""
    if r >= r_out:
        return 0.0, 0.0
    inv_a = (z_a ** Z_POWER + z_b ** Z_POWER) / SCREENING
    x = r * inv_a
    phi = 0.0
    dphi = 0.0
    for c, d in zip(PHI_C, PHI_D):
        e = c * np.exp(-d * x)
        phi += e
        dphi -= d * inv_a * e
    k = COULOMB * z_a * z_b
    energy = k * phi / r
    deriv = k * (dphi / r - phi / (r * r))
    if r <= r_in:
        return energy, deriv
    w = r_out - r_in
    t = (r - r_in) / w
    s = 1.0 - t * t * t * (10.0 - 15.0 * t + 6.0 * t * t)
    ds = -30.0 * t * t * (1.0 - t) * (1.0 - t) / w
    return energy * s, deriv * s + energy * ds
