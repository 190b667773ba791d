"""The readout R_a(G): activations, the per-species network and the s-MEAM embedding.

``R_a(G) = N_a((G - xoff_a) / xscale_a) - N_a(-xoff_a / xscale_a)`` for the
MLP readout, ``R_a(G) = U_a(G_rho + G_t) - U_a(0)`` for the spline readout
(DESIGN.md §2), so that an isolated atom (G = 0) has energy e0_a. The
network: dense layers ``a_{l+1} = sigma(W_l a_l + b_l)`` with a linear last
layer of width 1; ``w_w`` holds per layer ``W`` (out x in, row-major) then
``b``; ``buf_3h`` / ``buf_6h`` are scratch of shape (3 or 6, sum(sizes)).
"""
import numpy as np
from numba import njit

from .layout import KERNEL, READOUT_SPLINE, table_of
from .spline import spline_eval


@njit(**KERNEL)
def activation(z, kind):
    """Activation ``sigma(z)``, ``sigma'(z)`` and ``sigma''(z)``; kind indexes ``ACTIVATIONS``.

    The second derivative serves the fitter (forces in the loss need the
    readout's Hessian-vector product).
    """
    if kind == 0:
        t = np.tanh(z)
        return t, 1.0 - t * t, -2.0 * t * (1.0 - t * t)
    # one exponential, e^-|z| (never overflows), serves every other activation: each
    # costs one exp (and softplus one log1p)
    e = np.exp(-abs(z))
    if kind == 3:
        # celu with alpha = 1 (e = e^z where z <= 0)
        return (z, 1.0, 0.0) if z > 0.0 else (e - 1.0, e, e)
    # the logistic sigmoid
    sig = 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)
    if kind == 1:
        # softplus log(1 + e^z)
        return max(z, 0.0) + np.log1p(e), sig, sig * (1.0 - sig)
    # silu z sigmoid(z)
    return (z * sig, sig * (1.0 + z * (1.0 - sig)),
            sig * (1.0 - sig) * (2.0 + z * (1.0 - 2.0 * sig)))


@njit(**KERNEL)
def layer_forward(w_w, w_off, n_in, n_out, x_q, z_o, bias):
    """``z_o = b + W x_q`` (``W x_q`` without ``bias``) of the dense layer whose W
    (n_out x n_in, row-major) and b start at ``w_off``.

    The loop over outputs is innermost: its sums are independent, so they run
    side by side, and each still adds its terms in input order (the bits of a
    dot product per output).
    """
    for o in range(n_out):
        z_o[o] = w_w[w_off + n_out * n_in + o] if bias else 0.0
    for q in range(n_in):
        x = x_q[q]
        for o in range(n_out):
            z_o[o] += w_w[w_off + o * n_in + q] * x


@njit(**KERNEL)
def layer_backward(w_w, w_off, n_in, n_out, d_o, s_q):
    """``s_q = W^T d_o`` of the same layer, each sum in output order, the inputs side by side."""
    for q in range(n_in):
        s_q[q] = 0.0
    for o in range(n_out):
        d = d_o[o]
        row = w_off + o * n_in
        for q in range(n_in):
            s_q[q] += w_w[row + q] * d


@njit(**KERNEL)
def mlp_eval(x_f, w_w, sizes, act, grad_f, buf_3h):
    """Network output N(x) for one input; writes dN/dx into ``grad_f``.

    Forward pass, then backpropagation of the input gradient; ``buf_3h``
    holds activations, the activations' derivatives sigma'(z) (kept from the
    forward pass, so that each unit's activation is evaluated once) and
    deltas. ``x_f`` may be a view of ``buf_3h[0, :sizes[0]]``.
    """
    n_layers = len(sizes) - 1
    a_h = buf_3h[0]
    ds_h = buf_3h[1]
    delta_h = buf_3h[2]
    # a loop, not a slice assignment: that would copy x_f first when it is a_h's own view
    for q in range(sizes[0]):
        a_h[q] = x_f[q]
    a_off = 0
    w_off = 0
    for l in range(n_layers):
        n_in = sizes[l]
        n_out = sizes[l + 1]
        o_off = a_off + n_in
        z_o = a_h[o_off:o_off + n_out]
        layer_forward(w_w, w_off, n_in, n_out, a_h[a_off:o_off], z_o, True)
        if l < n_layers - 1:
            for o in range(n_out):
                z_o[o], ds_h[o_off + o], _ = activation(z_o[o], act)
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
        s_q = delta_h[i_off:a_off]
        layer_backward(w_w, w_off, n_in, n_out, delta_h[a_off:a_off + n_out], s_q)
        if l > 0:
            for q in range(n_in):
                s_q[q] *= ds_h[i_off + q]
        a_off = i_off
    grad_f[:] = delta_h[:sizes[0]]
    return out


@njit(**KERNEL)
def mlp_tangent_adjoint(x_f, xdot_f, w_w, sizes, act, seed, grad_w, pbar_f, tbar_f, buf_6h):
    """One forward (primal and tangent) and one backward pass of the network.

    Returns N(x). With ``ṅ = ∇N(x) . xdot``, the backward pass seeded with
    ``seed`` on N and 1 on ṅ adds ``seed dN/dw + dṅ/dw`` to ``grad_w`` and
    writes ``pbar_f = seed ∇N + H xdot`` and ``tbar_f = ∇N`` (H: Hessian of N);
    forward-over-reverse differentiation (Griewank and Walther, *Evaluating
    Derivatives*, 2nd ed., SIAM 2008, ch. 5).
    """
    n_layers = len(sizes) - 1
    # ds_h, dds_h: sigma'(z) and sigma''(z) zdot of each unit, kept from the forward pass
    a_h, ds_h, ad_h, dds_h, pa_h, ta_h = (buf_6h[0], buf_6h[1], buf_6h[2], buf_6h[3],
                                          buf_6h[4], buf_6h[5])
    a_h[:sizes[0]] = x_f
    ad_h[:sizes[0]] = xdot_f
    a_off = 0
    w_off = 0
    for l in range(n_layers):
        n_in, n_out = sizes[l], sizes[l + 1]
        o_off = a_off + n_in
        z_o, zd_o = a_h[o_off:o_off + n_out], ad_h[o_off:o_off + n_out]
        layer_forward(w_w, w_off, n_in, n_out, a_h[a_off:o_off], z_o, True)
        layer_forward(w_w, w_off, n_in, n_out, ad_h[a_off:o_off], zd_o, False)
        if l < n_layers - 1:
            for o in range(n_out):
                sig, dsig, d2sig = activation(z_o[o], act)
                zd = zd_o[o]
                z_o[o] = sig
                zd_o[o] = dsig * zd
                ds_h[o_off + o] = dsig
                dds_h[o_off + o] = d2sig * zd
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
                dsig = ds_h[a_off + o]
                pz, tz = pz * dsig + tz * dds_h[a_off + o], tz * dsig
            pa_h[a_off + o] = pz
            ta_h[a_off + o] = tz
            for q in range(n_in):
                grad_w[w_off + o * n_in + q] += tz * ad_h[i_off + q] + pz * a_h[i_off + q]
            grad_w[w_off + n_out * n_in + o] += pz
        layer_backward(w_w, w_off, n_in, n_out, pa_h[a_off:a_off + n_out], pa_h[i_off:a_off])
        layer_backward(w_w, w_off, n_in, n_out, ta_h[a_off:a_off + n_out], ta_h[i_off:a_off])
        a_off = i_off
    pbar_f[:] = pa_h[:sizes[0]]
    tbar_f[:] = ta_h[:sizes[0]]
    return out


@njit(**KERNEL)
def readout_eval(km, a, G_f, dR_f, buf_3h):
    """R_a(G) of model ``km`` for species a; writes dR/dG into ``dR_f``.

    With ``km.R0_e`` zero it is the raw N_a(G) or U_a(G_rho + G_t) (:func:`readout_zero`).
    """
    if km.readout_kind == READOUT_SPLINE:
        value, deriv, _ = spline_eval(table_of(km), km.base_u + a, G_f[0] + G_f[1])
        dR_f[0] = deriv
        dR_f[1] = deriv
        return value - km.R0_e[a]
    # the standardised input straight into the network's first row: no array per atom
    x_f = buf_3h[0, :len(G_f)]
    xoff, xscale = km.xoff_ef[a], km.xscale_ef[a]
    for k in range(len(G_f)):
        x_f[k] = (G_f[k] - xoff[k]) / xscale[k]
    value = mlp_eval(x_f, km.w_ew[a], km.sizes, km.activation, dR_f, buf_3h)
    for k in range(len(G_f)):
        dR_f[k] /= xscale[k]
    return value - km.R0_e[a]


@njit(**KERNEL)
def readout_zero(km_raw):
    """(S,) the readout's raw value at G = 0 per species, for a model whose ``R0_e`` is zero."""
    K = km_raw.n_rho + km_raw.n_triplet + len(km_raw.a_oyg)
    R0_e = np.zeros(km_raw.n_species)
    grad_f = np.zeros(K)
    buf_3h = np.zeros((3, km_raw.sizes.sum()))
    for a in range(km_raw.n_species):
        R0_e[a] = readout_eval(km_raw, a, np.zeros(K), grad_f, buf_3h)
    return R0_e
