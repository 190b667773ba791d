"""Numba kernels for the fitting loss and its exact parameter gradient.

Array suffixes are those of :mod:`snnp_calc.kernels`, plus ``_s``
structures (where the name says so), ``_q`` local spline coordinates and
``_v`` Voigt components.

Local spline coordinates. Inside its knots a spline is a combination of four
numbers, ``y`` and ``Y2 = y''/(6h)`` at the two ends of the interval;
outside, of ``y`` at the end knot and the end derivative. Spline ``s`` of the
table owns ``2M + 2`` gradient slots ``(y_0..y_{M-1}, Y2_0..Y2_{M-1}, d0, dN)``
starting at ``q_off_s[s]``; :mod:`snnp_calc.loss` maps them to the spline
parameters with the (linear) tridiagonal solve.

The loss of one structure (DESIGN.md §5, weights already normalised),

    L_s = wE ((E - Ê)/N)^2 + wF sum_i |F_i - F̂_i|^2 + wS sum_v (σ_v - σ̂_v)^2,

has the gradient ``dL_s = ce dE + dQ`` with ``ce = 2 wE (E - Ê)/N^2`` and

    Q = sum_p g_p . δ_p,   δ_p = -2 wF (v_j - v_i) + (2 wS / V) U D_p,

where ``g_p = dE/dD_p``, ``v = F - F̂`` and ``U`` the symmetric matrix of
stress residuals (off-diagonals halved). ``Q`` is the derivative of E along
the pair displacements ``δ_p`` (DESIGN.md §5: ``sum_i v_i . dF_i/dθ =
-d/dθ [dE(r + εv)/dε]``), so its parameter gradient needs the descriptors'
directional derivatives ``Ġ`` and the readout's Hessian-vector product, which
one tangent-and-adjoint pass through the network gives.
"""
import numpy as np
from numba import njit, prange

from .kernels import activation, atom_terms, pair_index, spline_eval, triplet_range


@njit(cache=True, error_model="numpy")
def spline_eval2(s, x, tab_sf, tab_si, y_m, y2_m, yd_m):
    """Value, first and second derivative of spline ``s`` at ``x``."""
    x0, h, xmax, d0, dN, inv_h = (tab_sf[s, 0], tab_sf[s, 1], tab_sf[s, 2], tab_sf[s, 3],
                                  tab_sf[s, 4], tab_sf[s, 5])
    off, m = tab_si[s, 0], tab_si[s, 1]
    t = x - x0
    if t <= 0.0:
        return y_m[off] + d0 * t, d0, 0.0
    if t >= xmax:
        return y_m[off + m - 1] + dN * (t - xmax), dN, 0.0
    klo = min(int(t * inv_h), m - 2)
    khi = klo + 1
    a = khi * h - t
    b = h - a
    hsq = h * h
    lo, hi = y2_m[off + klo], y2_m[off + khi]
    value = y_m[off + khi] - a * yd_m[off + klo] + ((a * a - hsq) * a * lo + (b * b - hsq) * b * hi)
    deriv = yd_m[off + klo] + ((3.0 * b * b - hsq) * hi - (3.0 * a * a - hsq) * lo)
    return value, deriv, 6.0 * (a * lo + b * hi)


@njit(cache=True, error_model="numpy")
def basis_add(s, x, wv, wd, tab_sf, tab_si, q_off_s, grad_q):
    """Add ``wv * ds(x)/dq + wd * ds'(x)/dq`` to spline ``s``'s local slots.

    The coefficients are the partial derivatives of the evaluation formula of
    :func:`snnp_calc.kernels.spline_eval` with respect to y, Y2, d0 and dN.
    """
    x0, h, xmax, inv_h = tab_sf[s, 0], tab_sf[s, 1], tab_sf[s, 2], tab_sf[s, 5]
    m = tab_si[s, 1]
    q = q_off_s[s]
    t = x - x0
    if t <= 0.0:
        grad_q[q] += wv
        grad_q[q + 2 * m] += wv * t + wd
        return
    if t >= xmax:
        grad_q[q + m - 1] += wv
        grad_q[q + 2 * m + 1] += wv * (t - xmax) + wd
        return
    klo = min(int(t * inv_h), m - 2)
    khi = klo + 1
    a = khi * h - t
    b = h - a
    hsq = h * h
    grad_q[q + klo] += (wv * a - wd) / h
    grad_q[q + khi] += (wv * b + wd) / h
    grad_q[q + m + klo] += wv * (a * a - hsq) * a - wd * (3.0 * a * a - hsq)
    grad_q[q + m + khi] += wv * (b * b - hsq) * b + wd * (3.0 * b * b - hsq)


@njit(cache=True, error_model="numpy")
def mlp_tangent_adjoint(x_f, xdot_f, w_w, sizes, act, seed, grad_w, pbar_f, tbar_f, buf_6h):
    """One forward (primal and tangent) and one backward pass of the network.

    Returns N(x). With ``ṅ = ∇N(x) . xdot``, the backward pass seeded with
    ``seed`` on N and 1 on ṅ adds ``seed dN/dw + dṅ/dw`` to ``grad_w`` and
    writes ``pbar_f = seed ∇N + H xdot`` and ``tbar_f = ∇N`` (H: Hessian of N).
    """
    n_layers = len(sizes) - 1
    a_h, z_h, ad_h, zd_h, pa_h, ta_h = buf_6h[0], buf_6h[1], buf_6h[2], buf_6h[3], buf_6h[4], buf_6h[5]
    a_h[:sizes[0]] = x_f
    ad_h[:sizes[0]] = xdot_f
    a_off = 0
    w_off = 0
    for l in range(n_layers):
        n_in, n_out = sizes[l], sizes[l + 1]
        o_off = a_off + n_in
        for o in range(n_out):
            z = w_w[w_off + n_out * n_in + o]
            zd = 0.0
            for q in range(n_in):
                w = w_w[w_off + o * n_in + q]
                z += w * a_h[a_off + q]
                zd += w * ad_h[a_off + q]
            z_h[o_off + o] = z
            zd_h[o_off + o] = zd
            if l < n_layers - 1:
                sig, dsig, _ = activation(z, act)
                a_h[o_off + o] = sig
                ad_h[o_off + o] = dsig * zd
            else:
                a_h[o_off + o] = z
                ad_h[o_off + o] = zd
        a_off = o_off
        w_off += n_out * n_in + n_out
    out = a_h[a_off]
    # adjoints of the layer outputs: pa on the primal stream, ta on the tangent one
    pa_h[a_off] = seed
    ta_h[a_off] = 1.0
    for l in range(n_layers - 1, -1, -1):
        n_in, n_out = sizes[l], sizes[l + 1]
        w_off -= n_out * n_in + n_out
        i_off = a_off - n_in
        for o in range(n_out):
            pz = pa_h[a_off + o]
            tz = ta_h[a_off + o]
            if l < n_layers - 1:
                _, dsig, d2sig = activation(z_h[a_off + o], act)
                pz, tz = pz * dsig + tz * d2sig * zd_h[a_off + o], tz * dsig
            pa_h[a_off + o] = pz
            ta_h[a_off + o] = tz
            for q in range(n_in):
                grad_w[w_off + o * n_in + q] += tz * ad_h[i_off + q] + pz * a_h[i_off + q]
            grad_w[w_off + n_out * n_in + o] += pz
        for q in range(n_in):
            sp = 0.0
            st = 0.0
            for o in range(n_out):
                w = w_w[w_off + o * n_in + q]
                sp += w * pa_h[a_off + o]
                st += w * ta_h[a_off + o]
            pa_h[i_off + q] = sp
            ta_h[i_off + q] = st
        a_off = i_off
    pbar_f[:] = pa_h[:sizes[0]]
    tbar_f[:] = ta_h[:sizes[0]]
    return out


@njit(cache=True, error_model="numpy")
def atom_gradient(i, ce, j_p, first_n, species_n, delta_pc, dims, tab_sf, tab_si, y_m, y2_m,
                  yd_m, sizes, w_sw, xoff_sf, xscale_sf, r_p, u_pc, f_pk, df_pk, drho_pr, G_nf,
                  q_off_s, w_base, e0_base, c0_base, rdot_p, g_tk, cdot_t, wv_pk, wd_pk,
                  buf_6h, grad):
    """Add ``ce dE_i/dθ + dQ_i/dθ`` of atom i to ``grad`` (after :func:`atom_terms`).

    ``delta_pc`` holds the pair displacements δ_p; ``rdot_p``, ``g_tk``,
    ``cdot_t``, ``wv_pk``, ``wd_pk`` and ``buf_6h`` are scratch.
    """
    S, K_r, K_t, has_phi, kind, act = dims[0], dims[1], dims[2], dims[3], dims[4], dims[5]
    K = K_r + K_t
    P = S * (S + 1) // 2
    base_f = K_r * S
    base_g = base_f + K_t * S
    base_phi = base_g + K_t * P
    p0, p1 = first_n[i], first_n[i + 1]
    a = species_n[i]
    Gdot_f = np.zeros(K)
    # directional derivatives of the descriptors along δ
    for p in range(p0, p1):
        rd = u_pc[p, 0] * delta_pc[p, 0] + u_pc[p, 1] * delta_pc[p, 1] + u_pc[p, 2] * delta_pc[p, 2]
        rdot_p[p] = rd
        for k in range(K_r):
            Gdot_f[k] += drho_pr[p, k] * rd
    # triplets beyond the f range are exactly zero, as in atom_terms
    rt = triplet_range(dims, tab_sf, tab_si, y_m) if K_t > 0 else 0.0
    t = 0
    for jj in range(p0, p1):
        if r_p[jj] >= rt:
            continue
        bj = species_n[j_p[jj]]
        for ll in range(p0, jj):
            if r_p[ll] >= rt:
                continue
            cos = u_pc[jj, 0] * u_pc[ll, 0] + u_pc[jj, 1] * u_pc[ll, 1] + u_pc[jj, 2] * u_pc[ll, 2]
            cd = ((u_pc[ll, 0] * delta_pc[jj, 0] + u_pc[ll, 1] * delta_pc[jj, 1]
                   + u_pc[ll, 2] * delta_pc[jj, 2] - cos * rdot_p[jj]) / r_p[jj]
                  + (u_pc[jj, 0] * delta_pc[ll, 0] + u_pc[jj, 1] * delta_pc[ll, 1]
                     + u_pc[jj, 2] * delta_pc[ll, 2] - cos * rdot_p[ll]) / r_p[ll])
            cdot_t[t] = cd
            s_g = base_g + pair_index(bj, species_n[j_p[ll]], S)
            for k in range(K_t):
                gv, gd = spline_eval(s_g + k * P, cos, tab_sf, tab_si, y_m, y2_m, yd_m)
                g_tk[t, k] = gv
                g_tk[t, K_t + k] = gd
                Gdot_f[K_r + k] += (df_pk[jj, k] * rdot_p[jj] * f_pk[ll, k] * gv
                                    + f_pk[jj, k] * df_pk[ll, k] * rdot_p[ll] * gv
                                    + f_pk[jj, k] * f_pk[ll, k] * gd * cd)
            t += 1
    # readout: A multiplies dG/dθ, B multiplies dĠ/dθ
    A_f = np.empty(K)
    B_f = np.empty(K)
    if kind == 1:
        base_u = base_phi + has_phi * P
        x = G_nf[i, 0] + G_nf[i, 1]
        xd = Gdot_f[0] + Gdot_f[1]
        _, du, d2u = spline_eval2(base_u + a, x, tab_sf, tab_si, y_m, y2_m, yd_m)
        A_f[:] = ce * du + d2u * xd
        B_f[:] = du
        basis_add(base_u + a, x, ce, xd, tab_sf, tab_si, q_off_s, grad)
    else:
        n_w = w_sw.shape[1]
        x_f = (G_nf[i] - xoff_sf[a]) / xscale_sf[a]
        xdot_f = Gdot_f / xscale_sf[a]
        mlp_tangent_adjoint(x_f, xdot_f, w_sw[a], sizes, act, ce, grad[w_base + a * n_w:],
                            A_f, B_f, buf_6h)
        A_f /= xscale_sf[a]
        B_f /= xscale_sf[a]
    # R(G) = N(G) - N(0): the caller subtracts sum ce * dN(0)/dθ per species
    grad[c0_base + a] += ce
    grad[e0_base + a] += ce
    # spline parameters
    for p in range(p0, p1):
        b = species_n[j_p[p]]
        for k in range(K_r):
            basis_add(k * S + b, r_p[p], A_f[k], B_f[k] * rdot_p[p], tab_sf, tab_si, q_off_s, grad)
        if has_phi:
            basis_add(base_phi + pair_index(a, b, S), r_p[p], 0.5 * ce, 0.5 * rdot_p[p], tab_sf,
                      tab_si, q_off_s, grad)
        for k in range(K_t):
            wv_pk[p - p0, k] = 0.0
            wd_pk[p - p0, k] = 0.0
    t = 0
    for jj in range(p0, p1):
        if r_p[jj] >= rt:
            continue
        bj = species_n[j_p[jj]]
        for ll in range(p0, jj):
            if r_p[ll] >= rt:
                continue
            cos = u_pc[jj, 0] * u_pc[ll, 0] + u_pc[jj, 1] * u_pc[ll, 1] + u_pc[jj, 2] * u_pc[ll, 2]
            s_g = base_g + pair_index(bj, species_n[j_p[ll]], S)
            cd = cdot_t[t]
            rj, rl = rdot_p[jj], rdot_p[ll]
            for k in range(K_t):
                Ak, Bk = A_f[K_r + k], B_f[K_r + k]
                fj, fl, dfj, dfl = f_pk[jj, k], f_pk[ll, k], df_pk[jj, k], df_pk[ll, k]
                gv, gd = g_tk[t, k], g_tk[t, K_t + k]
                wv_pk[jj - p0, k] += Ak * fl * gv + Bk * (dfl * rl * gv + fl * gd * cd)
                wd_pk[jj - p0, k] += Bk * rj * fl * gv
                wv_pk[ll - p0, k] += Ak * fj * gv + Bk * (dfj * rj * gv + fj * gd * cd)
                wd_pk[ll - p0, k] += Bk * rl * fj * gv
                basis_add(s_g + k * P, cos, Ak * fj * fl + Bk * (dfj * rj * fl + fj * dfl * rl),
                          Bk * fj * fl * cd, tab_sf, tab_si, q_off_s, grad)
            t += 1
    for p in range(p0, p1):
        if r_p[p] >= rt:
            continue
        b = species_n[j_p[p]]
        for k in range(K_t):
            basis_add(base_f + k * S + b, r_p[p], wv_pk[p - p0, k], wd_pk[p - p0, k], tab_sf,
                      tab_si, q_off_s, grad)



@njit(cache=True, error_model="numpy")
def structure_loss(s, n_off_s, first_n, i_p, j_p, D_pc, species_n, E_ref_s, F_ref_nc, S_ref_sv,
                   wE_s, wF_s, wS_s, vol_s, dims, tab_sf, tab_si, y_m, y2_m, yd_m, sizes, w_sw,
                   xoff_sf, xscale_sf, e0_s, R0_s, r_p, u_pc, f_pk, df_pk, drho_pr, dphi_p, G_nf,
                   dR_nf, E_n, dE_pc, q_off_s, w_base, e0_base, c0_base, delta_pc, rdot_p, F_nc,
                   E_s, S_sv, g_tk, cdot_t, wv_pk, wd_pk, buf_3h, buf_6h, grad):
    """Loss of structure s; adds its gradient (local coordinates) to ``grad``.

    Also writes the predictions ``E_s[s]``, ``F_nc`` rows and ``S_sv[s]``.
    """
    n0, n1 = n_off_s[s], n_off_s[s + 1]
    q0, q1 = first_n[n0], first_n[n1]
    for i in range(n0, n1):
        atom_terms(i, j_p, D_pc, first_n, species_n, dims, tab_sf, tab_si, y_m, y2_m, yd_m,
                   sizes, w_sw, xoff_sf, xscale_sf, e0_s, R0_s, r_p, u_pc, f_pk, df_pk, drho_pr,
                   dphi_p, G_nf, dR_nf, E_n, dE_pc, g_tk, buf_3h)
    W_cc = np.zeros((3, 3))
    F_nc[n0:n1] = 0.0
    for p in range(q0, q1):
        for c in range(3):
            F_nc[i_p[p], c] += dE_pc[p, c]
            F_nc[j_p[p], c] -= dE_pc[p, c]
            for d in range(3):
                W_cc[c, d] += dE_pc[p, c] * D_pc[p, d]
    n = n1 - n0
    energy = 0.0
    for i in range(n0, n1):
        energy += E_n[i]
    E_s[s] = energy
    dE = energy - E_ref_s[s]
    loss = wE_s[s] * (dE / n) ** 2
    ce = 2.0 * wE_s[s] * dE / (n * n)
    for i in range(n0, n1):
        for c in range(3):
            v = F_nc[i, c] - F_ref_nc[i, c]
            loss += wF_s[s] * v * v
    U_cc = np.zeros((3, 3))
    cs = 0.0
    if vol_s[s] > 0.0:
        voigt = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))
        for v in range(6):
            c, d = voigt[v]
            S_sv[s, v] = 0.5 * (W_cc[c, d] + W_cc[d, c]) / vol_s[s]
            r = S_sv[s, v] - S_ref_sv[s, v]
            loss += wS_s[s] * r * r
            U_cc[c, d] += r if c == d else 0.5 * r
            if c != d:
                U_cc[d, c] += 0.5 * r
        cs = 2.0 * wS_s[s] / vol_s[s]
    cf = -2.0 * wF_s[s]
    for p in range(q0, q1):
        i, j = i_p[p], j_p[p]
        for c in range(3):
            dv = (F_nc[j, c] - F_ref_nc[j, c]) - (F_nc[i, c] - F_ref_nc[i, c])
            delta_pc[p, c] = cf * dv + cs * (U_cc[c, 0] * D_pc[p, 0] + U_cc[c, 1] * D_pc[p, 1]
                                             + U_cc[c, 2] * D_pc[p, 2])
    for i in range(n0, n1):
        atom_gradient(i, ce, j_p, first_n, species_n, delta_pc, dims, tab_sf, tab_si, y_m, y2_m,
                      yd_m, sizes, w_sw, xoff_sf, xscale_sf, r_p, u_pc, f_pk, df_pk, drho_pr,
                      G_nf, q_off_s, w_base, e0_base, c0_base, rdot_p, g_tk, cdot_t, wv_pk, wd_pk,
                      buf_6h, grad)
    return loss


@njit(cache=True, error_model="numpy")
def scratch(first_n, lo, hi, K_t, sizes):
    """Scratch of :func:`atom_gradient` for atoms lo..hi-1 (sized by their largest block)."""
    n_max = 1
    for i in range(lo, hi):
        n_max = max(n_max, first_n[i + 1] - first_n[i])
    t_max = max(n_max * (n_max - 1) // 2, 1)
    return (np.empty((t_max, 2 * K_t)), np.empty(t_max), np.empty((n_max, K_t)),
            np.empty((n_max, K_t)), np.zeros((3, sizes.sum())), np.zeros((6, sizes.sum())))


@njit(parallel=True, cache=True, error_model="numpy")
def loss_and_gradient(n_chunks, n_off_s, first_n, i_p, j_p, D_pc, species_n, E_ref_s, F_ref_nc,
                      S_ref_sv, wE_s, wF_s, wS_s, vol_s, dims, tab_sf, tab_si, y_m, y2_m, yd_m,
                      sizes, w_sw, xoff_sf, xscale_sf, e0_s, R0_s, r_p, u_pc, f_pk, df_pk,
                      drho_pr, dphi_p, G_nf, dR_nf, E_n, dE_pc, q_off_s, w_base, e0_base,
                      c0_base, delta_pc, rdot_p, F_nc, E_s, S_sv, loss_s, grad_cq):
    """Loss per structure and gradient per chunk of structures, threads over chunks.

    Chunk c holds structures ``c n_s // n_chunks`` up to the next chunk's
    first; its gradient goes to row c of ``grad_cq``. A fixed number of
    chunks makes the result independent of the number of threads.
    """
    n_s = len(n_off_s) - 1
    K_t = dims[2]
    for c in prange(n_chunks):
        s0 = c * n_s // n_chunks
        s1 = (c + 1) * n_s // n_chunks
        g_tk, cdot_t, wv_pk, wd_pk, buf_3h, buf_6h = scratch(first_n, n_off_s[s0], n_off_s[s1],
                                                             K_t, sizes)
        for s in range(s0, s1):
            loss_s[s] = structure_loss(
                s, n_off_s, first_n, i_p, j_p, D_pc, species_n, E_ref_s, F_ref_nc, S_ref_sv,
                wE_s, wF_s, wS_s, vol_s, dims, tab_sf, tab_si, y_m, y2_m, yd_m, sizes, w_sw,
                xoff_sf, xscale_sf, e0_s, R0_s, r_p, u_pc, f_pk, df_pk, drho_pr, dphi_p, G_nf,
                dR_nf, E_n, dE_pc, q_off_s, w_base, e0_base, c0_base, delta_pc, rdot_p, F_nc,
                E_s, S_sv, g_tk, cdot_t, wv_pk, wd_pk, buf_3h, buf_6h, grad_cq[c])
