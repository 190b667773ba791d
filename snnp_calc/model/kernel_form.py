"""A :class:`~snnp_calc.model.model.Model` as the kernels read it: one flat named tuple.

:func:`kernel_form` packs the splines into one table (``rho, f, g, phi, U``
and the Legendre filters' f, in this order) with its spline groups (the
filters of one neighbour species or pair, evaluated together), stores where each family
starts, flattens the network weights, turns the Legendre coefficients into
power coefficients with the monomial table of their degree
(:mod:`snnp_calc.model.legendre`), and computes the readout's value at G = 0.
Its arrays stay writeable: Numba compiles separate code for read-only ones.
"""
import numpy as np
from ase.data import atomic_numbers

from ..kernels.layout import ACTIVATIONS, READOUT_MLP, READOUT_SPLINE, KernelModel
from ..kernels.readout import readout_zero
from .legendre import lowered, monomials, output_power_coefficients
from .splines import pack


def _readout_arrays(model, K):
    """kind, activation, layer sizes, flat weights (S, n_w), input offsets and scales."""
    S = model.n_species
    ro = model.readout
    if model.readout_kind == "mlp":
        w_ew = np.array([np.concatenate([w.reshape(-1) for w in layers])
                         for layers in ro.weights])
        return (READOUT_MLP, ACTIVATIONS.index(ro.activation), np.array(ro.sizes, np.int64),
                w_ew, np.array(ro.offset), np.array(ro.scale))
    return (READOUT_SPLINE, 0, np.array([K, 1], np.int64), np.zeros((S, 1)), np.zeros((S, K)),
            np.ones((S, K)))


def _groups(model, base_f, base_g, base_l):
    """``(first, stride, K)`` of every spline group, in the order of
    :func:`snnp_calc.kernels.spline.group_index`: per neighbour species the rho,
    then the f filters; per species pair the g; per species the Legendre f."""
    S = model.n_species
    P = S * (S + 1) // 2
    K_r, K_t, K_l = len(model.rho), len(model.f), len(model.legendre)
    return ([(b, S, K_r) for b in range(S)] + [(base_f + b, S, K_t) for b in range(S)]
            + [(base_g + q, P, K_t) for q in range(P)] + [(base_l + b, S, K_l) for b in range(S)])


def kernel_form(model):
    """The :class:`~snnp_calc.kernels.layout.KernelModel` of ``model``."""
    S = model.n_species
    K_r, K_t, K_l = len(model.rho), len(model.f), len(model.legendre)
    P = S * (S + 1) // 2
    kind, act, sizes, w_ew, xoff, xscale = _readout_arrays(model, model.n_filters)
    base_f = K_r * S
    base_g = base_f + K_t * S
    base_phi = base_g + K_t * P
    base_u = base_phi + int(bool(model.phi)) * P
    base_l = base_u + (S if kind == READOUT_SPLINE else 0)
    L = model.legendre[0].degree if K_l else 0
    a_oyg = (np.concatenate([output_power_coefficients(filt) for filt in model.legendre])
             if K_l else np.zeros((0, P, 1)))
    per_filter = model.legendre[0].n_outputs if K_l else 1
    mono_ad, mono_n, mono_w = monomials(L)
    core = model.core
    table = pack(model.splines, _groups(model, base_f, base_g, base_l))
    km = KernelModel(S, K_r, K_t, int(bool(model.phi)), kind, act, base_f, base_g, base_phi,
                     base_u, model.triplet_range, *table, sizes, w_ew, xoff,
                     xscale, np.array(model.e0), np.zeros(S),
                     core.r_inner if core else 0.0, core.r_outer if core else 0.0,
                     np.array([float(atomic_numbers[s]) for s in model.species]),
                     K_l, L, base_l, model.legendre_range, np.ascontiguousarray(a_oyg),
                     per_filter, mono_ad, lowered(mono_ad), mono_n, mono_w)
    # built with R0_e = 0, whose readout is the raw one that R0_e then shifts
    return km._replace(R0_e=readout_zero(km))
