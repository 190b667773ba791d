"""Numba kernels: s-NNP energy, per-atom energies, forces and virials in one pass.

The kernels see plain contiguous arrays only. Array suffixes name the axes:

=====  ==============================================================
``_n``  atoms
``_p``  directed pairs i -> j, sorted by i (matscipy ``neighbour_list``)
``_c``  Cartesian components (3)
``_f``  descriptor filters, K = K_rho + K_t (pair filters first)
``_r``  pair (rho) filters, K_rho
``_k``  triplet filters, K_t
``_s``  splines in a table (or species, where the name says so)
``_m``  knots of all splines in a table, concatenated
``_w``  flat readout weights of one species
=====  ==============================================================

Model arrays (built by :func:`snnp_calc.model.kernel_arrays`):

- ``dims``: int64 ``[S, K_rho, K_t, has_phi, readout_kind, activation]``;
  readout_kind 0 is ``mlp`` and 1 is ``spline``.
- spline table ``tab_sf, tab_si, y_m, y2_m, yd_m`` (see
  :class:`snnp_calc.splines.SplineTable`) holding, in this order,
  rho[k][b] (K_rho*S), f[k][b] (K_t*S), g[k][bc] (K_t*P), phi[ab] (P, if
  has_phi), U[a] (S, spline readout only), with P = S(S+1)/2 and the
  unordered species pair b <= c at ``b*S - b*(b-1)/2 + c - b`` (the order of
  LAMMPS ``ij_to_potl``).
- ``sizes``: layer widths ``[K, hidden..., 1]``; ``w_sw``: per species the
  layers' ``W`` (out x in, row-major) then ``b``; ``xoff_sf``, ``xscale_sf``:
  input offsets and scales; ``e0_s``: reference energies.

The model (DESIGN.md §2, Vita & Trinkle, arXiv:2310.02904, eqs. 1-4):
``E_i = R_a(G_i) + e0_a + 1/2 sum_j phi(r_ij)``, with
``G_ik = sum_j rho_k(r_ij)`` and
``G_i,K_rho+k = sum_{j<l} f_k(r_ij) f_k(r_il) g_k(cos theta_jil)``.

Every quantity of atom i depends only on the pair vectors ``D_p`` of i's own
neighbour block, so one parallel loop over atoms computes ``E_i`` and
``dE_i/dD_p`` for the pairs of that block without races. A serial loop then
scatters ``dE/dD_p`` into forces (``F_i += g_p``, ``F_j -= g_p``) and per-atom
virials, each pair's ``g_p ⊗ D_p`` split half to i and half to j.
"""
import numpy as np
from numba import njit, prange

ACTIVATIONS = ("tanh", "softplus", "silu", "celu")


@njit(cache=True, error_model="numpy")
def spline_eval(s, x, tab_sf, tab_si, y_m, y2_m, yd_m):
    """Value and derivative of spline ``s`` of a table at ``x``.

    LAMMPS ``PairMEAMSpline::SplineFunction::eval`` on a uniform grid,
    with linear extension outside the knots.
    """
    # Loading every parameter first, then branching, made this function
    # about 6x faster under Numba 0.68 than loading them inside the branches.
    x0, h, xmax, d0, dN, inv_h = (tab_sf[s, 0], tab_sf[s, 1], tab_sf[s, 2], tab_sf[s, 3],
                                  tab_sf[s, 4], tab_sf[s, 5])
    off, m = tab_si[s, 0], tab_si[s, 1]
    t = x - x0
    if t <= 0.0:
        return y_m[off] + d0 * t, d0
    if t >= xmax:
        return y_m[off + m - 1] + dN * (t - xmax), dN
    klo = int(t * inv_h)
    if klo > m - 2:
        klo = m - 2
    khi = klo + 1
    a = khi * h - t
    b = h - a
    hsq = h * h
    y2lo = y2_m[off + klo]
    y2hi = y2_m[off + khi]
    value = y_m[off + khi] - a * yd_m[off + klo] + ((a * a - hsq) * a * y2lo
                                                    + (b * b - hsq) * b * y2hi)
    deriv = yd_m[off + klo] + ((3.0 * b * b - hsq) * y2hi - (3.0 * a * a - hsq) * y2lo)
    return value, deriv


@njit(cache=True, error_model="numpy")
def eval_table(s_x, x_x, tab_sf, tab_si, y_m, y2_m, yd_m):
    """Evaluate spline ``s_x[q]`` at ``x_x[q]`` for every q: (values, derivatives)."""
    value = np.empty(len(x_x))
    deriv = np.empty(len(x_x))
    for q in range(len(x_x)):
        value[q], deriv[q] = spline_eval(s_x[q], x_x[q], tab_sf, tab_si, y_m, y2_m, yd_m)
    return value, deriv


@njit(cache=True, error_model="numpy")
def activation(z, kind):
    """Activation ``sigma(z)``, ``sigma'(z)`` and ``sigma''(z)``; kind indexes ``ACTIVATIONS``.

    The second derivative serves the fitter (forces in the loss need the
    readout's Hessian-vector product).
    """
    if kind == 0:
        t = np.tanh(z)
        return t, 1.0 - t * t, -2.0 * t * (1.0 - t * t)
    # the logistic sigmoid, written to avoid overflow for large |z|
    sig = 1.0 / (1.0 + np.exp(-z)) if z >= 0 else np.exp(z) / (1.0 + np.exp(z))
    if kind == 1:
        # softplus log(1 + e^z)
        return max(z, 0.0) + np.log1p(np.exp(-abs(z))), sig, sig * (1.0 - sig)
    if kind == 2:
        # silu z sigmoid(z)
        return (z * sig, sig * (1.0 + z * (1.0 - sig)),
                sig * (1.0 - sig) * (2.0 + z * (1.0 - 2.0 * sig)))
    # celu with alpha = 1
    if z > 0.0:
        return z, 1.0, 0.0
    e = np.exp(z)
    return e - 1.0, e, e


@njit(cache=True, error_model="numpy")
def mlp_eval(x_f, w_w, sizes, act, grad_f, buf_3h):
    """Network output N(x) for one input; writes dN/dx into ``grad_f``.

    Dense layers ``a_{l+1} = sigma(W_l a_l + b_l)``, linear last layer of
    width 1; backpropagation gives the input gradient. ``buf_3h`` is scratch
    of shape (3, sum(sizes)) for activations, pre-activations and deltas.
    """
    n_layers = len(sizes) - 1
    a_h = buf_3h[0]
    z_h = buf_3h[1]
    delta_h = buf_3h[2]
    a_h[:sizes[0]] = x_f
    a_off = 0
    w_off = 0
    for l in range(n_layers):
        n_in = sizes[l]
        n_out = sizes[l + 1]
        o_off = a_off + n_in
        for o in range(n_out):
            z = w_w[w_off + n_out * n_in + o]
            for q in range(n_in):
                z += w_w[w_off + o * n_in + q] * a_h[a_off + q]
            z_h[o_off + o] = z
            if l < n_layers - 1:
                a_h[o_off + o] = activation(z, act)[0]
            else:
                a_h[o_off + o] = z
        a_off = o_off
        w_off += n_out * n_in + n_out
    out = a_h[a_off]
    # backward: delta_h holds dN/dz of the current layer's outputs
    delta_h[a_off] = 1.0
    for l in range(n_layers - 1, -1, -1):
        n_in = sizes[l]
        n_out = sizes[l + 1]
        w_off -= n_out * n_in + n_out
        i_off = a_off - n_in
        for q in range(n_in):
            s = 0.0
            for o in range(n_out):
                s += w_w[w_off + o * n_in + q] * delta_h[a_off + o]
            if l > 0:
                s *= activation(z_h[i_off + q], act)[1]
            delta_h[i_off + q] = s
        a_off = i_off
    grad_f[:] = delta_h[:sizes[0]]
    return out


@njit(cache=True, error_model="numpy")
def readout_eval(a, G_f, dims, tab_sf, tab_si, y_m, y2_m, yd_m, sizes, w_sw, xoff_sf,
                 xscale_sf, R0_s, dR_f, buf_3h):
    """Readout R_a(G) = N_a(G) - N_a(0) (mlp) or U_a(G_rho + G_t) - U_a(0) (spline).

    Writes dR/dG into ``dR_f`` and returns R. ``R0_s`` holds N_a(0) or U_a(0).
    """
    S, K_r, K_t, has_phi = dims[0], dims[1], dims[2], dims[3]
    if dims[4] == 1:
        base_u = K_r * S + K_t * S + K_t * (S * (S + 1) // 2) + has_phi * (S * (S + 1) // 2)
        value, deriv = spline_eval(base_u + a, G_f[0] + G_f[1], tab_sf, tab_si, y_m, y2_m, yd_m)
        dR_f[0] = deriv
        dR_f[1] = deriv
        return value - R0_s[a]
    x_f = (G_f - xoff_sf[a]) / xscale_sf[a]
    value = mlp_eval(x_f, w_sw[a], sizes, dims[5], dR_f, buf_3h)
    dR_f /= xscale_sf[a]
    return value - R0_s[a]


@njit(cache=True, error_model="numpy")
def readout_zero(dims, tab_sf, tab_si, y_m, y2_m, yd_m, sizes, w_sw, xoff_sf, xscale_sf):
    """R0_s: the readout's raw value at G = 0 for each species (so R_a(0) = 0)."""
    S = dims[0]
    K = dims[1] + dims[2]
    R0_s = np.zeros(S)
    zero_f = np.zeros(K)
    grad_f = np.zeros(K)
    buf_3h = np.zeros((3, sizes.sum()))
    for a in range(S):
        R0_s[a] = readout_eval(a, zero_f, dims, tab_sf, tab_si, y_m, y2_m, yd_m, sizes, w_sw,
                               xoff_sf, xscale_sf, np.zeros(S), grad_f, buf_3h)
    return R0_s


@njit(cache=True, error_model="numpy")
def pair_index(b, c, S):
    """Index of the unordered species pair {b, c} (LAMMPS ``ij_to_potl`` order)."""
    if b > c:
        b, c = c, b
    return b * S - b * (b - 1) // 2 + c - b


@njit(cache=True, error_model="numpy")
def triplet_range(dims, tab_sf, tab_si, y_m):
    """Distance (Å) beyond which every triplet radial filter f vanishes identically.

    An f spline that ends with value 0 and end slope 0 is exactly zero past
    its last knot (linear extension), so triplets need only neighbours closer
    than the largest such last knot; this is what makes a triplet range
    shorter than the cutoff cheap. If any f ends otherwise (a LAMMPS file may),
    the range is infinite: every neighbour within the cutoff counts.
    """
    S, K_r, K_t = dims[0], dims[1], dims[2]
    rt = 0.0
    for s in range(K_r * S, (K_r + K_t) * S):
        if y_m[tab_si[s, 0] + tab_si[s, 1] - 1] != 0.0 or tab_sf[s, 4] != 0.0:
            return np.inf
        rt = max(rt, tab_sf[s, 0] + tab_sf[s, 2])
    return rt


@njit(cache=True, error_model="numpy")
def atom_terms(i, j_p, D_pc, first_n, species_n, dims, tab_sf, tab_si, y_m, y2_m, yd_m,
               sizes, w_sw, xoff_sf, xscale_sf, e0_s, R0_s, r_p, u_pc, f_pk, df_pk, drho_pr,
               dphi_p, G_nf, dR_nf, E_n, dE_pc, g_tk, buf_3h):
    """Everything of atom i: G_i, E_i, dE_i/dG_i and dE_i/dD_p for i's pairs.

    ``g_tk`` (scratch, at least n_i(n_i-1)/2 rows and 2 K_t columns) keeps the
    angular splines' values and derivatives of i's triplets between the
    descriptor pass and the gradient pass; ``buf_3h`` is readout scratch.

    Forces follow the chain rule through the filters (Lenosky et al.,
    MSMSE 8, 825 (2000), eqs. 3-5): with c = u_j . u_l,
    ``dc/dD_j = (u_l - c u_j) / r_j``. Triplets skip neighbours beyond
    :func:`triplet_range`, whose terms are exactly zero.
    """
    S, K_r, K_t, has_phi = dims[0], dims[1], dims[2], dims[3]
    P = S * (S + 1) // 2
    base_f = K_r * S
    base_g = base_f + K_t * S
    base_phi = base_g + K_t * P
    p0 = first_n[i]
    p1 = first_n[i + 1]
    a = species_n[i]
    e_pair = 0.0
    for p in range(p0, p1):
        r = np.sqrt(D_pc[p, 0] ** 2 + D_pc[p, 1] ** 2 + D_pc[p, 2] ** 2)
        r_p[p] = r
        for c in range(3):
            u_pc[p, c] = D_pc[p, c] / r
        b = species_n[j_p[p]]
        for k in range(K_r):
            v, d = spline_eval(k * S + b, r, tab_sf, tab_si, y_m, y2_m, yd_m)
            G_nf[i, k] += v
            drho_pr[p, k] = d
        for k in range(K_t):
            f_pk[p, k], df_pk[p, k] = spline_eval(base_f + k * S + b, r, tab_sf, tab_si, y_m,
                                                  y2_m, yd_m)
        dphi_p[p] = 0.0
        if has_phi:
            v, d = spline_eval(base_phi + pair_index(a, b, S), r, tab_sf, tab_si, y_m, y2_m,
                               yd_m)
            # each unordered pair appears twice in the full list
            e_pair += 0.5 * v
            dphi_p[p] = 0.5 * d
    G_f = G_nf[i]
    rt = triplet_range(dims, tab_sf, tab_si, y_m) if K_t > 0 else 0.0
    if K_t > 0:
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
                for k in range(K_t):
                    gv, gd = spline_eval(s_g + k * P, cos, tab_sf, tab_si, y_m, y2_m, yd_m)
                    g_tk[t, k] = gv
                    g_tk[t, K_t + k] = gd
                    G_f[K_r + k] += f_pk[jj, k] * f_pk[ll, k] * gv
                t += 1

    E_n[i] = readout_eval(a, G_f, dims, tab_sf, tab_si, y_m, y2_m, yd_m, sizes, w_sw,
                          xoff_sf, xscale_sf, R0_s, dR_nf[i], buf_3h) + e0_s[a] + e_pair

    for p in range(p0, p1):
        s = dphi_p[p]
        for k in range(K_r):
            s += dR_nf[i, k] * drho_pr[p, k]
        for c in range(3):
            dE_pc[p, c] = s * u_pc[p, c]
    if K_t > 0:
        t = 0
        dR_f = dR_nf[i]
        for jj in range(p0, p1):
            if r_p[jj] >= rt:
                continue
            for ll in range(p0, jj):
                if r_p[ll] >= rt:
                    continue
                cos = u_pc[jj, 0] * u_pc[ll, 0] + u_pc[jj, 1] * u_pc[ll, 1] + u_pc[jj, 2] * u_pc[ll, 2]
                A_j = 0.0
                A_l = 0.0
                B = 0.0
                for k in range(K_t):
                    gv = g_tk[t, k]
                    gd = g_tk[t, K_t + k]
                    w = dR_f[K_r + k]
                    A_j += w * df_pk[jj, k] * f_pk[ll, k] * gv
                    A_l += w * f_pk[jj, k] * df_pk[ll, k] * gv
                    B += w * f_pk[jj, k] * f_pk[ll, k] * gd
                Bj = B / r_p[jj]
                Bl = B / r_p[ll]
                for c in range(3):
                    dE_pc[jj, c] += A_j * u_pc[jj, c] + Bj * (u_pc[ll, c] - cos * u_pc[jj, c])
                    dE_pc[ll, c] += A_l * u_pc[ll, c] + Bl * (u_pc[jj, c] - cos * u_pc[ll, c])
                t += 1


@njit(cache=True, error_model="numpy")
def workspace(n, n_pairs, K_r, K_t):
    """Per-call arrays of :func:`atom_terms`, zeroed where it accumulates."""
    return (np.empty(n_pairs), np.empty((n_pairs, 3)), np.empty((n_pairs, K_t)),
            np.empty((n_pairs, K_t)), np.empty((n_pairs, K_r)), np.empty(n_pairs),
            np.zeros((n, K_r + K_t)), np.zeros((n, K_r + K_t)), np.zeros(n),
            np.zeros((n_pairs, 3)))


@njit(cache=True, error_model="numpy")
def atom_range(lo, hi, j_p, D_pc, first_n, species_n, dims, tab_sf, tab_si, y_m, y2_m, yd_m,
               sizes, w_sw, xoff_sf, xscale_sf, e0_s, R0_s, r_p, u_pc, f_pk, df_pk, drho_pr,
               dphi_p, G_nf, dR_nf, E_n, dE_pc):
    """:func:`atom_terms` for atoms lo..hi-1, with scratch allocated once for the range."""
    n_max = 0
    for i in range(lo, hi):
        n_max = max(n_max, first_n[i + 1] - first_n[i])
    g_tk = np.empty((max(n_max * (n_max - 1) // 2, 1), 2 * dims[2]))
    buf_3h = np.zeros((3, sizes.sum()))
    for i in range(lo, hi):
        atom_terms(i, j_p, D_pc, first_n, species_n, dims, tab_sf, tab_si, y_m, y2_m, yd_m,
                   sizes, w_sw, xoff_sf, xscale_sf, e0_s, R0_s, r_p, u_pc, f_pk, df_pk, drho_pr,
                   dphi_p, G_nf, dR_nf, E_n, dE_pc, g_tk, buf_3h)


@njit(parallel=True, cache=True, error_model="numpy")
def atoms_parallel(j_p, D_pc, first_n, species_n, dims, tab_sf, tab_si, y_m, y2_m, yd_m, sizes,
                   w_sw, xoff_sf, xscale_sf, e0_s, R0_s, r_p, u_pc, f_pk, df_pk, drho_pr,
                   dphi_p, G_nf, dR_nf, E_n, dE_pc):
    """:func:`atom_terms` for every atom, threads over chunks of atoms (race-free)."""
    n = len(species_n)
    n_chunks = min(n, 64)
    for c in prange(n_chunks):
        atom_range(c * n // n_chunks, (c + 1) * n // n_chunks, j_p, D_pc, first_n, species_n,
                   dims, tab_sf, tab_si, y_m, y2_m, yd_m, sizes, w_sw, xoff_sf, xscale_sf, e0_s,
                   R0_s, r_p, u_pc, f_pk, df_pk, drho_pr, dphi_p, G_nf, dR_nf, E_n, dE_pc)


@njit(cache=True, error_model="numpy")
def scatter(i_p, j_p, D_pc, dE_pc, n):
    """Forces and per-atom virials from the pair gradients ``dE_pc = dE/dD_p``.

    Returns
    -------
    F_nc : (n, 3) forces, ``F_i += g_p``, ``F_j -= g_p``.
    W_ncc : (n, 3, 3) per-atom ``sum g_p ⊗ D_p``, half of each pair to i and j;
        divided by the volume it is ASE's stress (tensile positive).
    """
    F_nc = np.zeros((n, 3))
    W_ncc = np.zeros((n, 3, 3))
    for p in range(len(i_p)):
        i = i_p[p]
        j = j_p[p]
        for a in range(3):
            F_nc[i, a] += dE_pc[p, a]
            F_nc[j, a] -= dE_pc[p, a]
            for b in range(3):
                w = 0.5 * dE_pc[p, a] * D_pc[p, b]
                W_ncc[i, a, b] += w
                W_ncc[j, a, b] += w
    return F_nc, W_ncc


@njit(cache=True, error_model="numpy")
def single_point(i_p, j_p, D_pc, species_n, dims, tab_sf, tab_si, y_m, y2_m, yd_m, sizes, w_sw,
                 xoff_sf, xscale_sf, e0_s, R0_s, parallel):
    """One configuration in one call: ``E_n, F_nc, W_ncc, G_nf`` (see :func:`scatter`).

    Finds each atom's block of the i-sorted pairs, runs :func:`atom_terms` for every
    atom, on one thread (the reference) or, if ``parallel``, on all
    (:func:`atoms_parallel`), then :func:`scatter`. For a few atoms, separate calls'
    dispatch and array boxing cost more than the physics.
    """
    n = len(species_n)
    first_n = np.zeros(n + 1, np.int64)
    for p in range(len(i_p)):
        first_n[i_p[p] + 1] += 1
    for i in range(n):
        first_n[i + 1] += first_n[i]
    r_p, u_pc, f_pk, df_pk, drho_pr, dphi_p, G_nf, dR_nf, E_n, dE_pc = workspace(
        n, len(i_p), dims[1], dims[2])
    if parallel:
        atoms_parallel(j_p, D_pc, first_n, species_n, dims, tab_sf, tab_si, y_m, y2_m, yd_m,
                       sizes, w_sw, xoff_sf, xscale_sf, e0_s, R0_s, r_p, u_pc, f_pk, df_pk,
                       drho_pr, dphi_p, G_nf, dR_nf, E_n, dE_pc)
    else:
        atom_range(0, n, j_p, D_pc, first_n, species_n, dims, tab_sf, tab_si, y_m, y2_m, yd_m,
                   sizes, w_sw, xoff_sf, xscale_sf, e0_s, R0_s, r_p, u_pc, f_pk, df_pk, drho_pr,
                   dphi_p, G_nf, dR_nf, E_n, dE_pc)
    F_nc, W_ncc = scatter(i_p, j_p, D_pc, dE_pc, n)
    return E_n, F_nc, W_ncc, G_nf
