"""Pairs of a neighbour list with a skin, brought up to date with the current positions.

A list built once at ``cutoff + skin`` holds every pair that can come within
``cutoff`` while no atom moves more than half the skin (Verlet, Phys. Rev.
159, 98 (1967); LAMMPS' ``neighbor`` skin). Each pair keeps its integer
image shift ``S_p``, so ``D_p = r_j - r_i + S_p . cell`` is exact for the
current positions; :func:`pairs_within` recomputes it and keeps the pairs
closer than the cutoff, in the list's (i-sorted) order, so the kernels see
what a list built afresh would hold.
"""
import numpy as np
from numba import njit

from .layout import KERNEL


@njit(**KERNEL)
def pairs_within(i_p, j_p, S_pc, r_nc, cell_cc, cutoff):
    """The pairs of a skin list closer than ``cutoff`` now: ``(i_p, j_p, d_p, D_pc)``."""
    n_all = len(i_p)
    D_all = np.empty((n_all, 3))
    keep = np.empty(n_all, np.bool_)
    cut2 = cutoff * cutoff
    n = 0
    for p in range(n_all):
        i, j = i_p[p], j_p[p]
        r2 = 0.0
        for c in range(3):
            d = (r_nc[j, c] - r_nc[i, c] + S_pc[p, 0] * cell_cc[0, c] + S_pc[p, 1] * cell_cc[1, c]
                 + S_pc[p, 2] * cell_cc[2, c])
            D_all[p, c] = d
            r2 += d * d
        keep[p] = r2 < cut2
        n += keep[p]
    i_out = np.empty(n, np.int64)
    j_out = np.empty(n, np.int64)
    d_out = np.empty(n)
    D_out = np.empty((n, 3))
    q = 0
    for p in range(n_all):
        if keep[p]:
            i_out[q] = i_p[p]
            j_out[q] = j_p[p]
            D_out[q] = D_all[p]
            d_out[q] = np.sqrt(D_all[p, 0] ** 2 + D_all[p, 1] ** 2 + D_all[p, 2] ** 2)
            q += 1
    return i_out, j_out, d_out, D_out


@njit(**KERNEL)
def largest_move(r_nc, reference_nc):
    """The largest squared displacement ``max_n |r_n - reference_n|²`` (Å²); NaN if any is NaN."""
    most = 0.0
    for n in range(len(r_nc)):
        d2 = ((r_nc[n, 0] - reference_nc[n, 0]) ** 2 + (r_nc[n, 1] - reference_nc[n, 1]) ** 2
              + (r_nc[n, 2] - reference_nc[n, 2]) ** 2)
        if np.isnan(d2):
            return d2  # a NaN position: the caller's rebuild names it
        if d2 > most:
            most = d2
    return most

