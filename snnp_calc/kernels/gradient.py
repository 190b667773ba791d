"""The fitting loss of packed structures and its exact parameter gradient.

Local spline coordinates. Inside its knots a spline is a combination of four
numbers, ``y`` and ``Y2 = y''/(6h)`` at the two ends of the interval;
outside, of ``y`` at the end knot and the end derivative. The gradient
comes in these local slots (:class:`~snnp_calc.kernels.layout.GradientSlots`);
:class:`snnp_calc.fitting.loss.ParameterMap` maps them to the spline parameters
with the (linear) tridiagonal solve.

The loss of one structure (DESIGN.md §5, weights already normalised),

    L_s = wE ((E - Ê)/N)^2 + wF sum_i |F_i - F̂_i|^2 + wS sum_v (σ_v - σ̂_v)^2,

has the gradient ``dL_s = ce dE + dQ`` with ``ce = 2 wE (E - Ê)/N^2`` and

    Q = sum_p g_p . δ_p,   δ_p = -2 wF (v_j - v_i) + (2 wS / V) U D_p,

where ``g_p = dE/dD_p``, ``v = F - F̂`` and ``U`` the symmetric matrix of
stress residuals (off-diagonals halved). ``Q`` is the derivative of E along
the pair displacements ``δ_p`` (DESIGN.md §5: ``sum_i v_i . dF_i/dθ =
-d/dθ [dE(r + εv)/dε]``), so its parameter gradient needs the descriptors'
directional derivatives ``Ġ`` and the readout's Hessian-vector product, which
one tangent-and-adjoint pass through the network gives
(:func:`snnp_calc.kernels.readout.mlp_tangent_adjoint`).
"""
import numpy as np
from numba import njit, prange

from . import legendre
from .energy import atom_terms, largest_block, scatter, triplet_scratch, triplets
from .layout import KERNEL, READOUT_SPLINE, VOIGT_VD, GradientScratch, pair_index, table_of
from .readout import mlp_tangent_adjoint
from .spline import GROUP_G, basis_add, group_eval, group_index, spline_eval


@njit(**KERNEL)
def _descriptor_tangent(i, nb, km, ws, delta_pc, rdot_p, tr, gs):
    """Ġ_i: the derivative of G_i along the pair displacements δ; fills ``rdot_p``, ``tr``, ``gs``.

    Returns the tangent and the number of triplets of atom i.
    """
    S, K_r, K_t = km.n_species, km.n_rho, km.n_triplet
    u_pc, r_p, f_pk, df_pk, drho_pr = ws.u_pc, ws.r_p, ws.f_pk, ws.df_pk, ws.drho_pr
    legs_t2, cos_t, g_tk2, gv_2k, cdot_t = tr.legs_t2, tr.cos_t, tr.g_tk2, tr.gv_2k, gs.cdot_t
    j_p, species_n = nb.j_p, nb.species_n
    table = table_of(km)
    p0, p1 = nb.first_n[i], nb.first_n[i + 1]
    Gdot_f = np.zeros(K_r + K_t + len(km.a_oyg))
    for p in range(p0, p1):
        rd = u_pc[p, 0] * delta_pc[p, 0] + u_pc[p, 1] * delta_pc[p, 1] + u_pc[p, 2] * delta_pc[p, 2]
        rdot_p[p] = rd
        for k in range(K_r):
            Gdot_f[k] += drho_pr[p, k] * rd
    n_t = triplets(ws, p0, p1, km.triplet_range, tr) if K_t > 0 else 0
    for t in range(n_t):
        jj, ll, cos = legs_t2[t, 0], legs_t2[t, 1], cos_t[t]
        # d cos / dδ: (u_l - c u_j) / r_j along δ_j, and the same with j and l swapped
        cd = ((u_pc[ll, 0] * delta_pc[jj, 0] + u_pc[ll, 1] * delta_pc[jj, 1]
               + u_pc[ll, 2] * delta_pc[jj, 2] - cos * rdot_p[jj]) / r_p[jj]
              + (u_pc[jj, 0] * delta_pc[ll, 0] + u_pc[jj, 1] * delta_pc[ll, 1]
                 + u_pc[jj, 2] * delta_pc[ll, 2] - cos * rdot_p[ll]) / r_p[ll])
        cdot_t[t] = cd
        q = pair_index(species_n[j_p[jj]], species_n[j_p[ll]], S)
        group_eval(table, group_index(GROUP_G, q, S), cos, gv_2k)
        for k in range(K_t):
            gv, gd = gv_2k[0, k], gv_2k[1, k]
            g_tk2[t, k] = gv
            g_tk2[t, K_t + k] = gd
            Gdot_f[K_r + k] += (df_pk[jj, k] * rdot_p[jj] * f_pk[ll, k] * gv
                                + f_pk[jj, k] * df_pk[ll, k] * rdot_p[ll] * gv
                                + f_pk[jj, k] * f_pk[ll, k] * gd * cd)
    if km.n_legendre:
        legendre.tangent(i, nb, km, ws, delta_pc, rdot_p, tr, Gdot_f, K_r + K_t)
    return Gdot_f, n_t


@njit(**KERNEL)
def _readout_adjoint(i, ce, Gdot_f, nb, km, ws, slots, gs, grad_q):
    """The readout's part of atom i's gradient, into ``grad_q``.

    Returns ``A_f`` and ``B_f``, the factors of dG/dθ and dĠ/dθ in the rest of it:
    ``A = ce ∇R + H Ġ``, ``B = ∇R`` (H: the readout's Hessian in G).
    """
    a = nb.species_n[i]
    K = km.n_rho + km.n_triplet + len(km.a_oyg)
    A_f = np.empty(K)
    B_f = np.empty(K)
    if km.readout_kind == READOUT_SPLINE:
        table = table_of(km)
        x = ws.G_nf[i, 0] + ws.G_nf[i, 1]
        xd = Gdot_f[0] + Gdot_f[1]
        _, du, d2u = spline_eval(table, km.base_u + a, x)
        A_f[:] = ce * du + d2u * xd
        B_f[:] = du
        basis_add(table, km.base_u + a, x, ce, xd, slots.q_off_x, grad_q)
    else:
        n_w = km.w_ew.shape[1]
        x_f = (ws.G_nf[i] - km.xoff_ef[a]) / km.xscale_ef[a]
        xdot_f = Gdot_f / km.xscale_ef[a]
        mlp_tangent_adjoint(x_f, xdot_f, km.w_ew[a], km.sizes, km.activation, ce,
                            grad_q[slots.w_base + a * n_w:], A_f, B_f, gs.buf_6h)
        A_f /= km.xscale_ef[a]
        B_f /= km.xscale_ef[a]
    # R(G) = N(G) - N(0): the caller subtracts sum ce * dN(0)/dθ per species
    grad_q[slots.c0_base + a] += ce
    grad_q[slots.e0_base + a] += ce
    return A_f, B_f


@njit(**KERNEL)
def atom_gradient(i, ce, nb, km, ws, slots, delta_pc, rdot_p, tr, gs, grad_q):
    """Add ``ce dE_i/dθ + dQ_i/dθ`` of atom i to ``grad_q`` (after :func:`atom_terms`).

    ``delta_pc`` holds the pair displacements δ_p; ``rdot_p``, ``tr`` and ``gs`` are scratch.
    """
    S, K_r, K_t = km.n_species, km.n_rho, km.n_triplet
    P = S * (S + 1) // 2
    q_off_x = slots.q_off_x
    table = table_of(km)
    p0, p1 = nb.first_n[i], nb.first_n[i + 1]
    a = nb.species_n[i]
    j_p, species_n = nb.j_p, nb.species_n
    r_p, f_pk, df_pk = ws.r_p, ws.f_pk, ws.df_pk
    legs_t2, cos_t, g_tk2, cdot_t, wv_pk2 = tr.legs_t2, tr.cos_t, tr.g_tk2, gs.cdot_t, gs.wv_pk2
    Gdot_f, n_t = _descriptor_tangent(i, nb, km, ws, delta_pc, rdot_p, tr, gs)
    A_f, B_f = _readout_adjoint(i, ce, Gdot_f, nb, km, ws, slots, gs, grad_q)
    # pair filters and pair term
    for p in range(p0, p1):
        b = species_n[j_p[p]]
        for k in range(K_r):
            basis_add(table, k * S + b, r_p[p], A_f[k], B_f[k] * rdot_p[p], q_off_x, grad_q)
        if km.has_phi:
            basis_add(table, km.base_phi + pair_index(a, b, S), r_p[p], 0.5 * ce,
                      0.5 * rdot_p[p], q_off_x, grad_q)
        wv_pk2[p - p0, :] = 0.0
    # angular splines now; the f splines' weights are collected per pair first
    for t in range(n_t):
        jj, ll = legs_t2[t, 0], legs_t2[t, 1]
        s_g = km.base_g + pair_index(species_n[j_p[jj]], species_n[j_p[ll]], S)
        cd = cdot_t[t]
        rj, rl = rdot_p[jj], rdot_p[ll]
        for k in range(K_t):
            Ak, Bk = A_f[K_r + k], B_f[K_r + k]
            fj, fl, dfj, dfl = f_pk[jj, k], f_pk[ll, k], df_pk[jj, k], df_pk[ll, k]
            gv, gd = g_tk2[t, k], g_tk2[t, K_t + k]
            wv_pk2[jj - p0, k] += Ak * fl * gv + Bk * (dfl * rl * gv + fl * gd * cd)
            wv_pk2[jj - p0, K_t + k] += Bk * rj * fl * gv
            wv_pk2[ll - p0, k] += Ak * fj * gv + Bk * (dfj * rj * gv + fj * gd * cd)
            wv_pk2[ll - p0, K_t + k] += Bk * rl * fj * gv
            basis_add(table, s_g + k * P, cos_t[t],
                      Ak * fj * fl + Bk * (dfj * rj * fl + fj * dfl * rl), Bk * fj * fl * cd,
                      q_off_x, grad_q)
    for p in range(p0, p1):
        if r_p[p] >= km.triplet_range:
            continue
        b = species_n[j_p[p]]
        for k in range(K_t):
            basis_add(table, km.base_f + k * S + b, r_p[p], wv_pk2[p - p0, k],
                      wv_pk2[p - p0, K_t + k], q_off_x, grad_q)
    if km.n_legendre:
        legendre.coefficient_gradient(km, tr, A_f, B_f, K_r + K_t, slots.a_base, grad_q)
        legendre.radial_gradient(i, nb, km, ws, rdot_p, tr, table, A_f, B_f, K_r + K_t,
                                 q_off_x, grad_q)


@njit(**KERNEL)
def gradient_scratch(n_max, K_t, sizes):
    """A :class:`~snnp_calc.kernels.layout.GradientScratch` for atoms of at most ``n_max`` pairs."""
    T = max(n_max * (n_max - 1) // 2, 1)
    return GradientScratch(np.empty(T), np.empty((n_max, 2 * K_t)), np.zeros((6, sizes.sum())))


@njit(**KERNEL)
def structure_forces(s, data, km, ws, tr, F_nc, n0_out):
    """:func:`atom_terms` for the atoms of structure s and its forces; returns (E, W_cc).

    Forces go to ``F_nc[i - n0_out]`` (``n0_out`` 0 for a global array).
    """
    nb = data
    n0, n1 = data.n_off_s[s], data.n_off_s[s + 1]
    for i in range(n0, n1):
        atom_terms(i, nb, km, ws, tr)
    W_1cc = np.zeros((1, 3, 3))
    F_nc[n0 - n0_out:n1 - n0_out] = 0.0
    scatter(nb, ws.dE_pc, nb.first_n[n0], nb.first_n[n1], n0_out, F_nc, W_1cc, False)
    energy = 0.0
    for i in range(n0, n1):
        energy += ws.E_n[i]
    return energy, W_1cc[0]


@njit(**KERNEL)
def stress_of(W_cc, volume, S_v):
    """ASE stress (Voigt) of the virial ``W_cc`` into ``S_v``: sym(W)/V."""
    for v in range(6):
        c, d = VOIGT_VD[v, 0], VOIGT_VD[v, 1]
        S_v[v] = 0.5 * (W_cc[c, d] + W_cc[d, c]) / volume


@njit(**KERNEL)
def structure_loss(s, data, km, ws, slots, ls, tr, gs, grad_q):
    """Loss of structure s into ``ls.loss_s[s]``; adds its gradient (local slots) to ``grad_q``.

    Also writes the predictions ``ls.E_s[s]``, the rows of ``ls.F_nc`` and ``ls.S_sv[s]``.
    """
    nb = data
    n0, n1 = data.n_off_s[s], data.n_off_s[s + 1]
    q0, q1 = nb.first_n[n0], nb.first_n[n1]
    F_nc, F_ref_nc = ls.F_nc, data.F_ref_nc
    energy, W_cc = structure_forces(s, data, km, ws, tr, F_nc, 0)
    n = n1 - n0
    ls.E_s[s] = energy
    dE = energy - data.E_ref_s[s]
    wE, wF, wS = data.wE_s[s], data.wF_s[s], data.wS_s[s]
    loss = wE * (dE / n) ** 2
    ce = 2.0 * wE * dE / (n * n)
    for i in range(n0, n1):
        for c in range(3):
            v = F_nc[i, c] - F_ref_nc[i, c]
            loss += wF * v * v
    U_cc = np.zeros((3, 3))
    cs = 0.0
    if data.vol_s[s] > 0.0:
        stress_of(W_cc, data.vol_s[s], ls.S_sv[s])
        for v in range(6):
            c, d = VOIGT_VD[v, 0], VOIGT_VD[v, 1]
            r = ls.S_sv[s, v] - data.S_ref_sv[s, v]
            loss += wS * r * r
            U_cc[c, d] += r if c == d else 0.5 * r
            if c != d:
                U_cc[d, c] += 0.5 * r
        cs = 2.0 * wS / data.vol_s[s]
    cf = -2.0 * wF
    D_pc, delta_pc = nb.D_pc, ls.delta_pc
    for p in range(q0, q1):
        i, j = nb.i_p[p], nb.j_p[p]
        for c in range(3):
            dv = (F_nc[j, c] - F_ref_nc[j, c]) - (F_nc[i, c] - F_ref_nc[i, c])
            delta_pc[p, c] = cf * dv + cs * (U_cc[c, 0] * D_pc[p, 0] + U_cc[c, 1] * D_pc[p, 1]
                                             + U_cc[c, 2] * D_pc[p, 2])
    for i in range(n0, n1):
        atom_gradient(i, ce, nb, km, ws, slots, delta_pc, ls.rdot_p, tr, gs, grad_q)
    ls.loss_s[s] = loss


@njit(parallel=True, **KERNEL)
def loss_and_gradient(n_chunks, data, km, ws, slots, ls, grad_cq):
    """Loss per structure and gradient per chunk of structures, threads over chunks.

    Chunk c holds structures ``c n_s // n_chunks`` up to the next chunk's
    first; its gradient goes to row c of ``grad_cq``. A fixed number of
    chunks makes the result independent of the number of threads.
    """
    n_s = len(data.n_off_s) - 1
    for c in prange(n_chunks):
        s0 = c * n_s // n_chunks
        s1 = (c + 1) * n_s // n_chunks
        n_max = largest_block(data.first_n, data.n_off_s[s0], data.n_off_s[s1])
        tr = triplet_scratch(n_max, km)
        gs = gradient_scratch(n_max, km.n_triplet, km.sizes)
        for s in range(s0, s1):
            # written inside: Numba 0.68 drops a store into a tuple's array made in a prange body
            structure_loss(s, data, km, ws, slots, ls, tr, gs, grad_cq[c])
