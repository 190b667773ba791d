"""Energy, per-atom energies, forces and virials of s-NNP configurations, in one pass.

The model (DESIGN.md §2; Vita & Trinkle, arXiv:2310.02904, eqs. 1-4):
``E_i = R_a(G_i) + e0_a + 1/2 sum_j [phi(r_ij) + E_core(r_ij)]``, with
``G_ik = sum_j rho_k(r_ij)`` and
``G_i,K_rho+k = sum_{j<l} f_k(r_ij) f_k(r_il) g_k(cos theta_jil)``.

Every quantity of atom i depends only on the pair vectors ``D_p`` of i's own
neighbour block, so one loop over atoms (:func:`atom_terms`, in parallel
over chunks of atoms) computes ``E_i`` and ``dE_i/dD_p`` for the pairs of
that block without races. :func:`scatter` then turns ``dE/dD_p`` into forces
(``F_i += g_p``, ``F_j -= g_p``) and virials ``sum_p g_p ⊗ D_p``; it is the
scatter of inference, of the loss and of the Jacobian alike. The triplets of
an atom come from one walk, :func:`triplets`.
"""
import numpy as np
from numba import njit, prange

from . import legendre
from .core import zbl_switched
from .layout import KERNEL, AtomScratch, Neighbours, TripletScratch, pair_index, table_of
from .readout import readout_eval
from .spline import GROUP_F, GROUP_G, GROUP_RHO, group_eval, group_index, spline_eval


@njit(**KERNEL)
def triplets(ws, p0, p1, r_max, tr):
    """The triplets (j, l), j > l, of the atom whose pairs are ``p0..p1``; returns their number T.

    Writes the pair indices of both legs into ``tr.legs_t2`` and
    ``cos theta_jil = u_j . u_l`` into ``tr.cos_t`` (needs ``ws.r_p`` and
    ``ws.u_pc`` of those pairs). Legs at or beyond ``r_max`` are skipped: there
    every triplet filter f vanishes identically (``KernelModel.triplet_range``).
    The legs are gathered first (into ``tr.near_q``, as the C++ plugin does),
    so the double loop runs over about half the pairs of a metal's list and
    has no branch.
    """
    r_p, u_pc, near_q, legs_t2, cos_t = ws.r_p, ws.u_pc, tr.near_q, tr.legs_t2, tr.cos_t
    n_near = 0
    for p in range(p0, p1):
        if r_p[p] < r_max:
            near_q[n_near] = p
            n_near += 1
    t = 0
    for a in range(n_near):
        jj = near_q[a]
        for b in range(a):
            ll = near_q[b]
            legs_t2[t, 0] = jj
            legs_t2[t, 1] = ll
            cos_t[t] = u_pc[jj, 0] * u_pc[ll, 0] + u_pc[jj, 1] * u_pc[ll, 1] + u_pc[jj, 2] * u_pc[ll, 2]
            t += 1
    return t


@njit(**KERNEL)
def atom_terms(i, nb, km, ws, tr):
    """Everything of atom i: G_i, E_i, dE_i/dG_i and dE_i/dD_p for i's pairs, into ``ws``.

    Forces follow the chain rule through the filters (Lenosky et al.,
    MSMSE 8, 825 (2000), eqs. 3-5): with c = u_j . u_l,
    ``dc/dD_j = (u_l - c u_j) / r_j``. ``tr`` keeps the angular splines of
    i's triplets between the descriptor pass and the gradient pass.
    """
    S, K_r, K_t = km.n_species, km.n_rho, km.n_triplet
    base_phi, has_phi = km.base_phi, km.has_phi
    core_r_out, r_trip = km.core_r_out, km.triplet_range
    table = table_of(km)
    j_p, D_pc, species_n = nb.j_p, nb.D_pc, nb.species_n
    r_p, u_pc, f_pk, df_pk, drho_pr, dphi_p, dE_pc = (ws.r_p, ws.u_pc, ws.f_pk, ws.df_pk,
                                                      ws.drho_pr, ws.dphi_p, ws.dE_pc)
    gv_2k = tr.gv_2k
    p0 = nb.first_n[i]
    p1 = nb.first_n[i + 1]
    a = species_n[i]
    G_f = ws.G_nf[i]
    e_pair = 0.0
    for p in range(p0, p1):
        r = np.sqrt(D_pc[p, 0] ** 2 + D_pc[p, 1] ** 2 + D_pc[p, 2] ** 2)
        r_p[p] = r
        for c in range(3):
            u_pc[p, c] = D_pc[p, c] / r
        b = species_n[j_p[p]]
        group_eval(table, group_index(GROUP_RHO, b, S), r, gv_2k)
        for k in range(K_r):
            G_f[k] += gv_2k[0, k]
            drho_pr[p, k] = gv_2k[1, k]
        if r < r_trip:
            # beyond it no triplet has this leg (:func:`triplets`): f is never read there
            group_eval(table, group_index(GROUP_F, b, S), r, gv_2k)
            for k in range(K_t):
                f_pk[p, k] = gv_2k[0, k]
                df_pk[p, k] = gv_2k[1, k]
        dphi_p[p] = 0.0
        if has_phi:
            v, d, _ = spline_eval(table, base_phi + pair_index(a, b, S), r)
            # each unordered pair appears twice in the full list
            e_pair += 0.5 * v
            dphi_p[p] = 0.5 * d
        if r < core_r_out:
            v, d = zbl_switched(km.z_e[a], km.z_e[b], r, km.core_r_in, core_r_out)
            e_pair += 0.5 * v
            dphi_p[p] += 0.5 * d
    n_t = triplets(ws, p0, p1, r_trip, tr) if K_t > 0 else 0
    triplet_descriptors(n_t, S, K_r, K_t, nb, table, ws, tr, G_f)
    if km.n_legendre:
        legendre.descriptors(i, nb, km, ws, tr, table, G_f, K_r + K_t)
    dR_f = ws.dR_nf[i]
    ws.E_n[i] = readout_eval(km, a, G_f, dR_f, tr.buf_3h) + km.e0_e[a] + e_pair

    for p in range(p0, p1):
        s = dphi_p[p]
        for k in range(K_r):
            s += dR_f[k] * drho_pr[p, k]
        for c in range(3):
            dE_pc[p, c] = s * u_pc[p, c]
    # both add to dE_pc: after the loop above, which sets it
    triplet_forces(n_t, K_r, K_t, dR_f, ws, tr)
    if km.n_legendre:
        legendre.forces(i, nb, km, ws, tr, dR_f, K_r + K_t)


@njit(**KERNEL)
def triplet_descriptors(n_t, S, K_r, K_t, nb, table, ws, tr, G_f):
    """Add the spline triplet filters of one atom's ``n_t`` triplets to ``G_f[K_r:]``; their
    angular splines into ``tr.g_tk2``."""
    # a literal K_t (the preset's 4) lets LLVM unroll the loops over filters: with it, here
    # and in triplet_forces, the shipped Mo model's atom loop took 0.91 x the time
    if K_t == 4:
        _triplet_descriptors(n_t, S, K_r, 4, nb, table, ws, tr, G_f)
    else:
        _triplet_descriptors(n_t, S, K_r, K_t, nb, table, ws, tr, G_f)


@njit(inline="always", **KERNEL)
def _triplet_descriptors(n_t, S, K_r, K_t, nb, table, ws, tr, G_f):
    f_pk, legs_t2, cos_t, g_tk2, gv_2k = ws.f_pk, tr.legs_t2, tr.cos_t, tr.g_tk2, tr.gv_2k
    j_p, species_n = nb.j_p, nb.species_n
    for t in range(n_t):
        jj, ll = legs_t2[t, 0], legs_t2[t, 1]
        q = pair_index(species_n[j_p[jj]], species_n[j_p[ll]], S)
        group_eval(table, group_index(GROUP_G, q, S), cos_t[t], gv_2k)
        for k in range(K_t):
            gv = gv_2k[0, k]
            g_tk2[t, k] = gv
            g_tk2[t, K_t + k] = gv_2k[1, k]
            G_f[K_r + k] += f_pk[jj, k] * f_pk[ll, k] * gv


@njit(**KERNEL)
def triplet_forces(n_t, K_r, K_t, dR_f, ws, tr):
    """Add the spline triplet filters' dE/dD_p of one atom's ``n_t`` triplets to ``ws.dE_pc``."""
    if K_t == 4:
        _triplet_forces(n_t, K_r, 4, dR_f, ws, tr)
    else:
        _triplet_forces(n_t, K_r, K_t, dR_f, ws, tr)


@njit(inline="always", **KERNEL)
def _triplet_forces(n_t, K_r, K_t, dR_f, ws, tr):
    r_p, u_pc, f_pk, df_pk, dE_pc = ws.r_p, ws.u_pc, ws.f_pk, ws.df_pk, ws.dE_pc
    legs_t2, cos_t, g_tk2 = tr.legs_t2, tr.cos_t, tr.g_tk2
    for t in range(n_t):
        jj, ll, cos = legs_t2[t, 0], legs_t2[t, 1], cos_t[t]
        A_j = 0.0
        A_l = 0.0
        B = 0.0
        for k in range(K_t):
            gv = g_tk2[t, k]
            w = dR_f[K_r + k]
            A_j += w * df_pk[jj, k] * f_pk[ll, k] * gv
            A_l += w * f_pk[jj, k] * df_pk[ll, k] * gv
            B += w * f_pk[jj, k] * f_pk[ll, k] * g_tk2[t, K_t + k]
        Bj = B / r_p[jj]
        Bl = B / r_p[ll]
        for c in range(3):
            dE_pc[jj, c] += A_j * u_pc[jj, c] + Bj * (u_pc[ll, c] - cos * u_pc[jj, c])
            dE_pc[ll, c] += A_l * u_pc[ll, c] + Bl * (u_pc[jj, c] - cos * u_pc[ll, c])


@njit(**KERNEL)
def atom_scratch(n, n_pairs, K_r, K_t, K_l, K_o):
    """An :class:`~snnp_calc.kernels.layout.AtomScratch`, zero where atom_terms accumulates
    (K_o readout inputs of K_l Legendre filters)."""
    K = K_r + K_t + K_o
    return AtomScratch(np.empty(n_pairs), np.empty((n_pairs, 3)), np.empty((n_pairs, K_t)),
                       np.empty((n_pairs, K_t)), np.empty((n_pairs, K_r)), np.empty(n_pairs),
                       np.zeros((n, K)), np.zeros((n, K)), np.zeros(n), np.zeros((n_pairs, 3)),
                       np.empty((n_pairs, K_l)), np.empty((n_pairs, K_l)))


@njit(**KERNEL)
def largest_block(first_n, lo, hi):
    """The most pairs of any atom lo..hi-1 (at least 1)."""
    n_max = 1
    for i in range(lo, hi):
        n_max = max(n_max, first_n[i + 1] - first_n[i])
    return n_max


@njit(**KERNEL)
def triplet_scratch(n_max, km):
    """A :class:`~snnp_calc.kernels.layout.TripletScratch` for atoms of at most ``n_max`` pairs."""
    T = max(n_max * (n_max - 1) // 2, 1) if km.n_triplet else 1
    K_l, S, N_a, K_o = km.n_legendre, km.n_species, len(km.mono_a), len(km.a_oyg)
    K_max = max(km.n_rho, km.n_triplet, K_l, 1)
    return TripletScratch(np.empty(n_max, np.int64), np.empty((T, 2), np.int64), np.empty(T),
                          np.empty((T, 2 * km.n_triplet)), np.empty((2, K_max)),
                          np.zeros((3, km.sizes.sum())), np.zeros((3, K_l, S, N_a)),
                          np.zeros((K_o, S, N_a)), np.zeros((4, K_l, S)), np.zeros((K_l, S, N_a)),
                          np.zeros((n_max if K_l else 1, 6, N_a)))


@njit(**KERNEL)
def atom_range(lo, hi, nb, km, ws):
    """:func:`atom_terms` for atoms lo..hi-1, with triplet scratch allocated once for the range."""
    tr = triplet_scratch(largest_block(nb.first_n, lo, hi), km)
    for i in range(lo, hi):
        atom_terms(i, nb, km, ws, tr)


@njit(parallel=True, **KERNEL)
def atoms_parallel(nb, km, ws):
    """:func:`atom_terms` for every atom, threads over chunks of atoms (race-free)."""
    n = len(nb.species_n)
    n_chunks = min(n, 64)
    for c in prange(n_chunks):
        atom_range(c * n // n_chunks, (c + 1) * n // n_chunks, nb, km, ws)


@njit(**KERNEL)
def scatter(nb, dE_pc, p0, p1, n0, F_nc, W_ncc, per_atom):
    """Forces and virials of pairs ``p0..p1`` from the pair gradients ``dE_pc = dE/dD_p``.

    Adds ``g_p`` to ``F_nc[i - n0]`` and subtracts it from ``F_nc[j - n0]``.
    With ``per_atom``, ``W_ncc[i - n0]`` and ``W_ncc[j - n0]`` each get half of
    ``g_p ⊗ D_p`` (per-atom virials, which sum to the total); otherwise
    ``W_ncc[0]`` gets all of it. Divided by the volume the virial is ASE's
    stress, tensile positive (DESIGN.md §3).
    """
    i_p, j_p, D_pc = nb.i_p, nb.j_p, nb.D_pc
    for p in range(p0, p1):
        i = i_p[p] - n0
        j = j_p[p] - n0
        # the total: both halves into row 0 (a select, not a branch in the inner loop)
        wi = i if per_atom else 0
        wj = j if per_atom else 0
        for a in range(3):
            g = dE_pc[p, a]
            F_nc[i, a] += g
            F_nc[j, a] -= g
            for b in range(3):
                w = 0.5 * g * D_pc[p, b]
                W_ncc[wi, a, b] += w
                W_ncc[wj, a, b] += w


@njit(**KERNEL)
def first_of(i_p, n):
    """``first_n`` (n + 1,) of an i-sorted pair list: pairs of atom i are first_n[i]:first_n[i+1]."""
    first_n = np.zeros(n + 1, np.int64)
    for p in range(len(i_p)):
        first_n[i_p[p] + 1] += 1
    for i in range(n):
        first_n[i + 1] += first_n[i]
    return first_n


@njit(**KERNEL)
def single_point(i_p, j_p, D_pc, species_n, km, parallel):
    """One configuration in one call: ``E_n, F_nc, W_ncc, G_nf`` (see :func:`scatter`).

    :func:`single_point_into` with new work arrays, made inside the kernel:
    for a few atoms, handing kept arrays in costs more (Numba unboxes each of
    the 12, ~5 µs a call) than making new ones (~1.5 µs).
    """
    ws = atom_scratch(len(species_n), len(i_p), km.n_rho, km.n_triplet, km.n_legendre,
                      len(km.a_oyg))
    return single_point_into(i_p, j_p, D_pc, species_n, km, parallel, ws)


@njit(**KERNEL)
def single_point_into(i_p, j_p, D_pc, species_n, km, parallel, ws):
    """One configuration in one call, in the work arrays ``ws``: ``E_n, F_nc, W_ncc, G_nf``.

    Runs :func:`atom_terms` for every atom, on one thread (the reference) or,
    if ``parallel``, on all (:func:`atoms_parallel`), then :func:`scatter` with
    per-atom virials. For a few atoms, separate calls' dispatch and array
    boxing cost more than the physics. ``ws``: an :func:`atom_scratch` for at
    least n atoms and ``len(i_p)`` pairs of this model, perhaps one an earlier
    call used (its rows past n and past the pairs are not read); the results
    are new arrays.
    """
    n = len(species_n)
    nb = Neighbours(i_p, j_p, D_pc, first_of(i_p, n), species_n)
    ws.G_nf[:n] = 0.0
    if parallel:
        atoms_parallel(nb, km, ws)
    else:
        atom_range(0, n, nb, km, ws)
    F_nc = np.zeros((n, 3))
    W_ncc = np.zeros((n, 3, 3))
    scatter(nb, ws.dE_pc, 0, len(i_p), 0, F_nc, W_ncc, True)
    return ws.E_n[:n].copy(), F_nc, W_ncc, ws.G_nf[:n].copy()
