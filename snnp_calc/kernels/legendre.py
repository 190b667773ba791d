"""Factorised (Legendre) triplet filters: descriptors, forces and parameter gradients in O(n).

For atom i and filter k (DESIGN.md §2b; :mod:`snnp_calc.model.legendre`):

    M_kbα = Σ_{j of b} f_kb(r_j) u_j^α,     T_kb = Σ_{j of b} f_kb(r_j)²,
    G_k   = ½ Σ_{b,c} Σ_α a_{k,bc,n(α)} w_α M_kbα M_kcα − ½ Σ_b γ_kb T_kb,

with ``γ_kb = g_{k,bb}(1) = Σ_n a_{k,bb,n}`` and ``u^α = x^α1 y^α2 z^α3``. With
``H_kbα = Σ_c a_{k,bc,n(α)} w_α M_kcα = ∂G_k/∂M_kbα`` and, for a unit vector,
``∂u^α/∂D = (∇_u u^α − n(α) u^α u) / r`` (u^α is homogeneous of degree n),

    ∂G_k/∂D_j = f'_kb (Σ_α H_kbα u_j^α − γ_kb f_kb) u_j
                + (f_kb / r_j) (Σ_α H_kbα ∇_u u_j^α − Σ_α n(α) H_kbα u_j^α u_j).

The fitter needs ``Ġ_k`` along pair displacements δ and the parameter
derivatives of ``Φ = A_k G_k + B_k Ġ_k`` (A, B from the readout's adjoint,
:mod:`snnp_calc.kernels.gradient`): with ``Ṁ_kbα = Σ_j (f' ṙ_j u^α + f u̇^α_j)``,
``Ṫ_kb = Σ_j 2 f f' ṙ_j``, ``u̇^α = ∂u^α/∂D · δ_j``, ``ṙ_j = u_j · δ_j``,

    Ġ_k = Σ_{b,α} H_kbα Ṁ_kbα − ½ Σ_b γ_kb Ṫ_kb,
    ∂Φ/∂f_kb(r_j)  = Σ_α (X_bα u^α + B H_bα u̇^α) − γ_kb (A f + B f' ṙ_j),
    ∂Φ/∂f'_kb(r_j) = ṙ_j (B Σ_α H_bα u^α − B γ_kb f),
    ∂Φ/∂a_{k,q,n}  = Σ_{(b,c) of q} Σ_{α of n} w_α (½ A M_bα M_cα + B M_bα Ṁ_cα)
                     − [q = bb] ½ (A T_b + B Ṫ_b),

where ``X_bα = Σ_c a w (A M_cα + B Ṁ_cα)`` and (b, c) runs over ordered pairs.

A filter may give the readout several inputs o (one per degree,
:mod:`snnp_calc.model.legendre`), each with its own coefficients ``a_o`` and
so its own ``H_o``, ``γ_o`` and G_o, from the filter's one set of moments M.
All the formulas above are linear in (H, γ) at fixed M, so the force and
gradient passes use, per filter, the sums ``Σ_o w_o H_o`` and ``Σ_o w_o γ_o``
with ``w_o`` = ∂E/∂G_o, A_o or B_o (:func:`weighted_inputs`): the pair loops
cost the same for one input per filter or L+1.

The per-thread arrays are those of
:class:`~snnp_calc.kernels.layout.TripletScratch`: ``mh_3lea`` (M, a weighted
``Σ_o w_o H_o``, Ṁ), ``h_oea`` (H_o), ``t_4le`` (T, Ṫ and two weighted sums
of γ_o), ``x_lea`` (X) and ``mono_p6a`` (per pair of the atom: its
monomials u^α, their gradients ∇_u u^α, n(α) u^α and, once :func:`tangent` has
run, u̇^α). The table is filled once per atom and pass by :func:`moments` and
read by every later step of that atom, for all filters: rebuilding it in each
step made the loss gradient of a Ge model with 4 filters of degree 4 1.24 x
slower (``benchmarks/RESULTS.md`` at commit 86e6eca, section commits-legendre).
"""
from numba import njit

from .layout import KERNEL, pair_index
from .spline import GROUP_LEGENDRE, basis_add, group_eval, group_index

# Reassociation and contraction into FMAs let LLVM vectorise the sums over monomials; no
# flag that assumes finite values, so a NaN or inf still reaches the checks that report it.
# With the monomial recurrence below, the loss gradient of a Ge model with 4 filters of
# degree 4 took 0.89 x the time on 2 threads (benchmarks/RESULTS.md, commits-legendre).
# The other kernels gained nothing measurable from it and keep strict IEEE order.
VECTOR = dict(KERNEL, fastmath={"reassoc", "contract"})


@njit(**VECTOR)
def monomial_table(u_c, km, out):
    """u^α, ∇_u u^α (3 rows) and n(α) u^α of the unit vector ``u_c`` into ``out[:5]``.

    Each monomial is one product with a monomial of lower degree, which comes
    first in the table: ``u^α = u_d u^(α − e_d)`` for the first axis d with
    α_d > 0, and ``∂u^α/∂u_c = α_c u^(α − e_c)`` (``km.mono_lower_ad``). Without
    per-axis powers and a branch per entry, the gradient rows vectorise.
    """
    mono_ad, lower_ad, mono_a = km.mono_ad, km.mono_lower_ad, km.mono_a
    m = out[0]
    m[0] = 1.0
    for a in range(1, len(mono_a)):
        d = 0 if mono_ad[a, 0] else (1 if mono_ad[a, 1] else 2)
        m[a] = u_c[d] * m[lower_ad[a, d]]
    for c in range(3):
        for a in range(len(mono_a)):
            out[1 + c, a] = mono_ad[a, c] * m[lower_ad[a, c]]
    for a in range(len(mono_a)):
        out[4, a] = mono_a[a] * m[a]


@njit(**VECTOR)
def filter_values(i, nb, km, ws, tr, table):
    """f_kb(r) and f'_kb(r) of atom i's pairs inside the Legendre range into ``ws``.

    Called once per atom and evaluation by :func:`descriptors`; the fitter's
    second pass (:func:`tangent`) reads them back rather than evaluating the
    splines again.
    """
    fl_pl, dfl_pl, r_p, gv_2k = ws.fl_pl, ws.dfl_pl, ws.r_p, tr.gv_2k
    for p in range(nb.first_n[i], nb.first_n[i + 1]):
        if r_p[p] >= km.legendre_range:
            continue
        b = nb.species_n[nb.j_p[p]]
        group_eval(table, group_index(GROUP_LEGENDRE, b, km.n_species), r_p[p], gv_2k)
        for k in range(km.n_legendre):
            fl_pl[p, k] = gv_2k[0, k]
            dfl_pl[p, k] = gv_2k[1, k]


@njit(**VECTOR)
def moments(i, nb, km, ws, tr):
    """M and T of atom i's filters and H of each of their readout inputs (module docstring)
    from the f values in ``ws`` (:func:`filter_values`); its pairs' monomial tables into
    ``tr.mono_p6a``."""
    S, K_l, O = km.n_species, km.n_legendre, km.outputs_per_filter
    mono_a, mono_w, a_oyg = km.mono_a, km.mono_w, km.a_oyg
    mh, h_oea, t_4le, mono = tr.mh_3lea, tr.h_oea, tr.t_4le, tr.mono_p6a
    fl_pl, r_p, u_pc = ws.fl_pl, ws.r_p, ws.u_pc
    mh[0] = 0.0
    t_4le[0] = 0.0
    p0 = nb.first_n[i]
    for p in range(p0, nb.first_n[i + 1]):
        if r_p[p] >= km.legendre_range:
            continue
        b = nb.species_n[nb.j_p[p]]
        tab = mono[p - p0]
        monomial_table(u_pc[p], km, tab)
        for k in range(K_l):
            f = fl_pl[p, k]
            t_4le[0, k, b] += f * f
            for a in range(len(mono_a)):
                mh[0, k, b, a] += f * tab[0, a]
    for o in range(len(a_oyg)):
        k = o // O
        for b in range(S):
            for a in range(len(mono_a)):
                h = 0.0
                for c in range(S):
                    h += a_oyg[o, pair_index(b, c, S), mono_a[a]] * mh[0, k, c, a]
                h_oea[o, b, a] = mono_w[a] * h


@njit(**VECTOR)
def self_weight(km, o, b):
    """γ_ob = g_{o,bb}(1), the weight of the j = l terms the moments double-count (input o)."""
    q = pair_index(b, b, km.n_species)
    gamma = 0.0
    for n in range(km.degree + 1):
        gamma += km.a_oyg[o, q, n]
    return gamma


@njit(**VECTOR)
def weighted_inputs(km, tr, w_f, offset, row, t_row):
    """Per filter k, ``Σ_o w_o H_o`` over its inputs o into ``tr.mh_3lea[row, k]`` and
    ``Σ_o w_o γ_o`` into ``tr.t_4le[t_row, k]`` (w_o = ``w_f[offset + o]``).

    ∂G_o/∂D and the parameter derivatives are linear in H_o and γ_o with the same
    moments for all inputs of one filter, so one sum per filter serves every pair.
    """
    S, O, n_a = km.n_species, km.outputs_per_filter, len(km.mono_a)
    mh, h_oea, t_4le = tr.mh_3lea, tr.h_oea, tr.t_4le
    mh[row] = 0.0
    t_4le[t_row] = 0.0
    for o in range(len(km.a_oyg)):
        k = o // O
        w = w_f[offset + o]
        for b in range(S):
            t_4le[t_row, k, b] += w * self_weight(km, o, b)
            for a in range(n_a):
                mh[row, k, b, a] += w * h_oea[o, b, a]


@njit(**VECTOR)
def descriptors(i, nb, km, ws, tr, table, G_f, offset):
    """Add the Legendre filters' inputs G_o of atom i to ``G_f[offset + o]``; leaves M, H in
    ``tr``."""
    filter_values(i, nb, km, ws, tr, table)
    moments(i, nb, km, ws, tr)
    mh, h_oea, t_4le = tr.mh_3lea, tr.h_oea, tr.t_4le
    O = km.outputs_per_filter
    for o in range(len(km.a_oyg)):
        k = o // O
        G = 0.0
        for b in range(km.n_species):
            for a in range(len(km.mono_a)):
                G += mh[0, k, b, a] * h_oea[o, b, a]
            G -= self_weight(km, o, b) * t_4le[0, k, b]
        G_f[offset + o] += 0.5 * G


@njit(**VECTOR)
def forces(i, nb, km, ws, tr, dR_f, offset):
    """Add the Legendre filters' part of dE_i/dD_p to ``ws.dE_pc`` (after :func:`descriptors`)."""
    r_p, u_pc, fl_pl, dfl_pl, dE_pc = ws.r_p, ws.u_pc, ws.fl_pl, ws.dfl_pl, ws.dE_pc
    weighted_inputs(km, tr, dR_f, offset, 1, 2)
    n_a = len(km.mono_a)
    p0 = nb.first_n[i]
    for p in range(p0, nb.first_n[i + 1]):
        r = r_p[p]
        if r >= km.legendre_range:
            continue
        b = nb.species_n[nb.j_p[p]]
        tab = tr.mono_p6a[p - p0]
        for k in range(km.n_legendre):
            h = tr.mh_3lea[1, k, b]
            s1 = 0.0
            v0 = 0.0
            v1 = 0.0
            v2 = 0.0
            s2 = 0.0
            for a in range(n_a):
                s1 += h[a] * tab[0, a]
                v0 += h[a] * tab[1, a]
                v1 += h[a] * tab[2, a]
                v2 += h[a] * tab[3, a]
                s2 += h[a] * tab[4, a]
            f, df = fl_pl[p, k], dfl_pl[p, k]
            cu = df * (s1 - tr.t_4le[2, k, b] * f) - f / r * s2
            cv = f / r
            dE_pc[p, 0] += cu * u_pc[p, 0] + cv * v0
            dE_pc[p, 1] += cu * u_pc[p, 1] + cv * v1
            dE_pc[p, 2] += cu * u_pc[p, 2] + cv * v2


@njit(**VECTOR)
def monomial_rates(p, delta_pc, rd, r, n_a, tab):
    """u̇^α = (∇_u u^α · δ_p − n(α) u^α ṙ) / r into ``tab[5]`` (after :func:`monomial_table`)."""
    for a in range(n_a):
        tab[5, a] = (tab[1, a] * delta_pc[p, 0] + tab[2, a] * delta_pc[p, 1]
                     + tab[3, a] * delta_pc[p, 2] - tab[4, a] * rd) / r


@njit(**VECTOR)
def tangent(i, nb, km, ws, delta_pc, rdot_p, tr, Gdot_f, offset):
    """Ġ_o of atom i along δ into ``Gdot_f[offset + o]``; leaves M, H, Ṁ, T, Ṫ in ``tr``
    and u̇^α of i's pairs in ``tr.mono_p6a[:, 5]``.

    ``rdot_p`` must hold ṙ of i's pairs, and ``ws`` the f values that
    :func:`descriptors` left for the same atom and parameters (the fitter's
    energy pass).
    """
    moments(i, nb, km, ws, tr)
    S, K_l, O = km.n_species, km.n_legendre, km.outputs_per_filter
    n_a = len(km.mono_a)
    mh, h_oea, t_4le = tr.mh_3lea, tr.h_oea, tr.t_4le
    r_p, fl_pl, dfl_pl = ws.r_p, ws.fl_pl, ws.dfl_pl
    mh[2] = 0.0
    t_4le[1] = 0.0
    p0 = nb.first_n[i]
    for p in range(p0, nb.first_n[i + 1]):
        r = r_p[p]
        if r >= km.legendre_range:
            continue
        b = nb.species_n[nb.j_p[p]]
        rd = rdot_p[p]
        tab = tr.mono_p6a[p - p0]
        monomial_rates(p, delta_pc, rd, r, n_a, tab)
        for k in range(K_l):
            f, dfr = fl_pl[p, k], dfl_pl[p, k] * rd
            t_4le[1, k, b] += 2.0 * f * dfr
            for a in range(n_a):
                mh[2, k, b, a] += dfr * tab[0, a] + f * tab[5, a]
    for o in range(len(km.a_oyg)):
        k = o // O
        Gd = 0.0
        for b in range(S):
            for a in range(n_a):
                Gd += h_oea[o, b, a] * mh[2, k, b, a]
            Gd -= 0.5 * self_weight(km, o, b) * t_4le[1, k, b]
        Gdot_f[offset + o] += Gd


@njit(**VECTOR)
def coefficient_gradient(km, tr, A_f, B_f, offset, a_base, grad_q):
    """∂Φ/∂a_{o,q,n} of atom i into the coefficient slots (after :func:`tangent`)."""
    S, L, O = km.n_species, km.degree, km.outputs_per_filter
    P = S * (S + 1) // 2
    mh, t_4le = tr.mh_3lea, tr.t_4le
    for o in range(len(km.a_oyg)):
        k = o // O
        A, B = A_f[offset + o], B_f[offset + o]
        base = a_base + o * P * (L + 1)
        for b in range(S):
            for c in range(S):
                q = base + pair_index(b, c, S) * (L + 1)
                for a in range(len(km.mono_a)):
                    w = km.mono_w[a]
                    grad_q[q + km.mono_a[a]] += w * (0.5 * A * mh[0, k, b, a] * mh[0, k, c, a]
                                                     + B * mh[0, k, b, a] * mh[2, k, c, a])
            q = base + pair_index(b, b, S) * (L + 1)
            for n in range(L + 1):
                grad_q[q + n] -= 0.5 * (A * t_4le[0, k, b] + B * t_4le[1, k, b])


@njit(**VECTOR)
def radial_adjoint(km, tr, A_f, B_f, offset):
    """X of each filter into ``tr.x_lea`` and ``Σ_o A_o γ_o`` into ``tr.t_4le[2]``;
    ``Σ_o B_o H_o`` and ``Σ_o B_o γ_o`` into ``tr.mh_3lea[1]`` and ``tr.t_4le[3]``."""
    S, O = km.n_species, km.outputs_per_filter
    mono_a, mono_w, a_oyg = km.mono_a, km.mono_w, km.a_oyg
    mh, x_lea, t_4le = tr.mh_3lea, tr.x_lea, tr.t_4le
    x_lea[:] = 0.0
    t_4le[2] = 0.0
    for o in range(len(a_oyg)):
        k = o // O
        A, B = A_f[offset + o], B_f[offset + o]
        for b in range(S):
            t_4le[2, k, b] += A * self_weight(km, o, b)
            for a in range(len(mono_a)):
                x = 0.0
                for c in range(S):
                    x += a_oyg[o, pair_index(b, c, S), mono_a[a]] * (
                        A * mh[0, k, c, a] + B * mh[2, k, c, a])
                x_lea[k, b, a] += mono_w[a] * x
    weighted_inputs(km, tr, B_f, offset, 1, 3)


@njit(**VECTOR)
def radial_gradient(i, nb, km, ws, rdot_p, tr, table, A_f, B_f, offset, q_off_x, grad_q):
    """∂Φ/∂(f_kb spline parameters) of atom i (after :func:`tangent`)."""
    radial_adjoint(km, tr, A_f, B_f, offset)
    n_a = len(km.mono_a)
    mh, x_lea, t_4le = tr.mh_3lea, tr.x_lea, tr.t_4le
    r_p, fl_pl, dfl_pl = ws.r_p, ws.fl_pl, ws.dfl_pl
    p0 = nb.first_n[i]
    for p in range(p0, nb.first_n[i + 1]):
        r = r_p[p]
        if r >= km.legendre_range:
            continue
        b = nb.species_n[nb.j_p[p]]
        rd = rdot_p[p]
        tab = tr.mono_p6a[p - p0]
        for k in range(km.n_legendre):
            f, df = fl_pl[p, k], dfl_pl[p, k]
            hx = x_lea[k, b]
            hb = mh[1, k, b]
            sx = 0.0
            sh = 0.0
            shd = 0.0
            for a in range(n_a):
                sx += hx[a] * tab[0, a]
                sh += hb[a] * tab[0, a]
                shd += hb[a] * tab[5, a]
            gamma_a, gamma_b = t_4le[2, k, b], t_4le[3, k, b]
            wv = sx + shd - (gamma_a * f + gamma_b * df * rd)
            wd = rd * (sh - gamma_b * f)
            basis_add(table, km.base_l + k * km.n_species + b, r, wv, wd, q_off_x, grad_q)
