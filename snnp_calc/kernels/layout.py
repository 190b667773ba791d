"""The kernels' interface: named tuples of plain arrays, and the Voigt table.

Numba passes a ``NamedTuple`` of arrays and scalars as a tuple, so named
fields cost nothing at run time; they replace long positional argument
lists and ``dims[5]``-style indices. The tuples are flat (no tuple inside a
tuple): Numba's parallel loops cannot take nested tuples of arrays. Field
names are shared instead, and the kernels rely on them: a
:class:`KernelModel` has the fields of a :class:`SplineTable`, and a
:class:`LossData` those of :class:`Neighbours`, so either passes where the
smaller one is read. Suffixes are those of :mod:`snnp_calc.kernels`; ``_d``
is the axis of a record's fields, named where the array is declared.

- :class:`SplineTable`: any number of cubic splines packed into flat arrays
  (built by :func:`snnp_calc.model.splines.pack`);
- :class:`KernelModel`: one model as the kernels read it, with the offsets of
  each filter family in its spline table stored once (built by
  :attr:`snnp_calc.model.Model.kernel_model`);
- :class:`Neighbours`: atoms and their i-sorted pair list;
- :class:`AtomScratch`: per-pair and per-atom arrays of one evaluation, the
  outputs ``G_nf``, ``dR_nf``, ``E_n``, ``dE_pc`` included;
- :class:`TripletScratch`: per-thread arrays for one atom's triplets;
- :class:`GradientScratch`: per-thread arrays of the loss gradient;
- :class:`GradientSlots`, :class:`LossData`, :class:`LossScratch`: the loss kernels'
  gradient layout, training data and outputs.
"""
from typing import NamedTuple

import numpy as np
from numba import njit

# The compile options of every kernel (numpy's error model: a division by zero gives inf or
# NaN, which the callers report, rather than an exception inside a parallel loop).
KERNEL = dict(cache=True, error_model="numpy")

# Voigt order (xx, yy, zz, yz, xz, xy) as (row, column) of a 3 x 3 tensor: ASE's
# stress order (DESIGN.md §3). The one table of the package.
VOIGT_VD = np.array([[0, 0], [1, 1], [2, 2], [1, 2], [0, 2], [0, 1]], np.int64)

# readout activations, indexed by KernelModel.activation
ACTIVATIONS = ("tanh", "softplus", "silu", "celu")

# KernelModel.readout_kind
READOUT_MLP = 0
READOUT_SPLINE = 1


class SplineTable(NamedTuple):
    """Cubic splines with LAMMPS ``meam/spline`` semantics, as flat arrays.

    Attributes
    ----------
    head_xd : ndarray, shape (n_splines, 6)
        Per spline x: x0, h, x1 - x0, d0, dN, 1/h (knot units; d0, dN per knot unit).
    index_xd : ndarray of int64, shape (n_splines, 2)
        Per spline: offset of its first knot in the ``_m`` arrays, and M.
    y_m, y2_m, yd_m : ndarray, shape (sum of M + sum of M K over shared groups,)
        Knot values, y''/(6h) and (y_{m+1} - y_m)/h (LAMMPS ``Y``, ``Y2``,
        ``Ydelta`` after ``prepareSpline``); after every spline's own, the
        shared groups' copies, interleaved: member k at knot q is entry
        ``offset + q K + k``, so the K members of one interval are adjacent
        (the C++ plugin's ``SplineGroup``). One set of arrays, not two: each
        array of the table costs the kernels' every call ~0.4 µs of unboxing.
    group_ig : ndarray of int64, shape (n_groups, 5)
        Spline groups (the filters k of one neighbour species or species pair,
        :func:`snnp_calc.kernels.spline.group_eval`): per group g its first
        spline, the stride between its K members' indices, K, whether all share
        the first one's knots (1) or not (0), and the offset of its
        interleaved knots in the ``_m`` arrays.
    """

    head_xd: np.ndarray
    index_xd: np.ndarray
    y_m: np.ndarray
    y2_m: np.ndarray
    yd_m: np.ndarray
    group_ig: np.ndarray


class KernelModel(NamedTuple):
    """An s-NNP as the kernels read it (DESIGN.md §2).

    Its spline table (the fields of :class:`SplineTable`) holds, in this order: rho[k][b] (K_rho x S), f[k][b]
    (K_t x S), g[k][bc] (K_t x P), phi[bc] (P, if ``has_phi``), U[a] (S, spline
    readout only), with P = S(S+1)/2 unordered species pairs b <= c at
    :func:`snnp_calc.kernels.energy.pair_index`. Spline k*S + b of a family
    is filter k for neighbour species b.

    Attributes
    ----------
    n_species, n_rho, n_triplet : int
        S, K_rho, K_t.
    has_phi : int
        1 if the model has a pair term.
    readout_kind : int
        :data:`READOUT_MLP` or :data:`READOUT_SPLINE`.
    activation : int
        Index into :data:`ACTIVATIONS` (MLP readout).
    base_f, base_g, base_phi, base_u : int
        First spline of the f, g, phi and U families in the table (rho starts at 0).
    triplet_range : float
        Å; triplets skip neighbours at or beyond it, whose f vanish identically
        (``inf`` if some f does not end with value and slope 0).
    head_xd, index_xd, y_m, y2_m, yd_m, group_ig
        The spline table (:class:`SplineTable`). Its groups are
        :data:`~snnp_calc.kernels.spline.GROUP_RHO` ... ``GROUP_LEGENDRE``: the K_rho pair filters of
        neighbour species b are group b, the K_t triplet radial filters group
        S + b, the K_t angular splines of species pair q group 2S + q, and the
        K_l Legendre radial filters group 2S + P + b
        (:func:`~snnp_calc.kernels.spline.group_index`).
    sizes : ndarray of int64
        Layer widths ``[K, hidden..., 1]`` of the network.
    w_ew : ndarray, shape (S, n_w)
        Per species the layers' ``W`` (out x in, row-major), then ``b``.
    xoff_ef, xscale_ef : ndarray, shape (S, K)
        Input standardisation ``x = (G - xoff) / xscale``.
    e0_e : ndarray, shape (S,)
        Reference energies, eV.
    R0_e : ndarray, shape (S,)
        The readout's raw value at G = 0, eV, subtracted so that R_a(0) = 0.
    core_r_in, core_r_out : float
        Å, where the ZBL core (:mod:`snnp_calc.kernels.core`) starts to switch off and
        ends; ``core_r_out = 0`` for a model without core.
    z_e : ndarray, shape (S,)
        Atomic numbers of the species (float), for the core.
    n_legendre, degree : int
        K_l factorised (Legendre) triplet filters and their degree L
        (:mod:`snnp_calc.model.legendre`); their descriptors follow the spline
        triplet filters'.
    base_l : int
        First spline of their radial splines f (filter k, species b: base_l + k S + b).
    legendre_range : float
        Å, the :attr:`triplet_range` of those splines.
    a_oyg : ndarray, shape (K_o, P, L + 1)
        Power coefficients of the angular function of each of their K_o readout
        inputs, ``g_oq(x) = Σ_n a_oyg x^n``: one per filter, or one per filter
        and degree (``outputs_per_filter`` = 1 or L + 1; input o belongs to filter
        ``o // outputs_per_filter``).
    outputs_per_filter : int
        Readout inputs of each Legendre filter.
    mono_ad, mono_lower_ad, mono_a, mono_w : ndarray, shapes (N, 3), (N, 3), (N,), (N,)
        The monomials u^α of degree 0..L (``_a`` is the monomial axis, ``_d`` the
        axis of an exponent): exponents, the index of α − e_d
        (:func:`snnp_calc.model.legendre.lowered`), degree n(α), weight w_α.
    """

    n_species: int
    n_rho: int
    n_triplet: int
    has_phi: int
    readout_kind: int
    activation: int
    base_f: int
    base_g: int
    base_phi: int
    base_u: int
    triplet_range: float
    head_xd: np.ndarray
    index_xd: np.ndarray
    y_m: np.ndarray
    y2_m: np.ndarray
    yd_m: np.ndarray
    group_ig: np.ndarray
    sizes: np.ndarray
    w_ew: np.ndarray
    xoff_ef: np.ndarray
    xscale_ef: np.ndarray
    e0_e: np.ndarray
    R0_e: np.ndarray
    core_r_in: float
    core_r_out: float
    z_e: np.ndarray
    n_legendre: int
    degree: int
    base_l: int
    legendre_range: float
    a_oyg: np.ndarray
    outputs_per_filter: int
    mono_ad: np.ndarray
    mono_lower_ad: np.ndarray
    mono_a: np.ndarray
    mono_w: np.ndarray


@njit(**KERNEL)
def pair_index(b, c, S):
    """Index of the unordered species pair {b, c} (LAMMPS ``ij_to_potl`` order)."""
    if b > c:
        b, c = c, b
    return b * S - b * (b - 1) // 2 + c - b


@njit(**KERNEL)
def table_of(km):
    """The :class:`SplineTable` of a :class:`KernelModel` (a view, no copy).

    Pass this, not the model, to the per-spline kernels: Numba passes a tuple
    by its flattened members, so a call with the whole model moves every one
    of its arrays' fields (kernels got 15 % slower).
    """
    return SplineTable(km.head_xd, km.index_xd, km.y_m, km.y2_m, km.yd_m, km.group_ig)



class Neighbours(NamedTuple):
    """Atoms and their pairs.

    Attributes
    ----------
    i_p, j_p : ndarray of int64, shape (P,)
        Directed pairs i -> j within the cutoff, sorted by i.
    D_pc : ndarray, shape (P, 3)
        ``r_j - r_i`` with its periodic image shift, Å.
    first_n : ndarray of int64, shape (n + 1,)
        Pairs of atom i are ``first_n[i]:first_n[i + 1]``.
    species_n : ndarray of int64, shape (n,)
        Species index of every atom.
    """

    i_p: np.ndarray
    j_p: np.ndarray
    D_pc: np.ndarray
    first_n: np.ndarray
    species_n: np.ndarray


class AtomScratch(NamedTuple):
    """Arrays of one evaluation, filled by :func:`snnp_calc.kernels.energy.atom_terms`.

    Attributes
    ----------
    r_p : (P,) distances, Å.
    u_pc : (P, 3) unit vectors along D_p.
    f_pk, df_pk : (P, K_t) triplet radial filters and their derivatives.
    drho_pr : (P, K_rho) derivatives of the pair filters.
    dphi_p : (P,) half the pair term's derivative (each pair is seen from both ends).
    G_nf : (n, K) descriptors (accumulated: zero before a call).
    dR_nf : (n, K) dR/dG (accumulated: zero before a call).
    E_n : (n,) per-atom energies, eV.
    dE_pc : (P, 3) dE/dD_p, eV/Å.
    fl_pl, dfl_pl : (P, K_l) the Legendre filters' radial splines and their derivatives.
    """

    r_p: np.ndarray
    u_pc: np.ndarray
    f_pk: np.ndarray
    df_pk: np.ndarray
    drho_pr: np.ndarray
    dphi_p: np.ndarray
    G_nf: np.ndarray
    dR_nf: np.ndarray
    E_n: np.ndarray
    dE_pc: np.ndarray
    fl_pl: np.ndarray
    dfl_pl: np.ndarray


class TripletScratch(NamedTuple):
    """Per-thread arrays for the triplets of one atom (sized by the largest neighbour block).

    Few arrays on purpose: Numba updates the reference count of every array of
    a tuple passed to a function that it does not inline, so each array here
    costs two atomic operations per atom.

    Attributes
    ----------
    near_q : (n_max,) int64 the atom's pairs inside the triplet range, in list order.
    legs_t2 : (T, 2) int64 pair indices (jj, ll) of the two legs, jj > ll.
    cos_t : (T,) cos theta_jil.
    g_tk2 : (T, 2 K_t) angular splines g_k (columns :K_t) and their derivatives (K_t:).
    gv_2k : (2, max(K_rho, K_t, K_l, 1)) values and derivatives of one spline group
        (:func:`snnp_calc.kernels.spline.group_eval`).
    buf_3h : readout scratch (:func:`snnp_calc.kernels.readout.mlp_eval`).
    mh_3lea, h_oea, t_4le, x_lea, mono_p6a : the Legendre filters' moments M,
        a weighted sum of the H of their inputs and Ṁ; each input's H; the self
        terms T, Ṫ and two weighted sums of the inputs' self weights; the adjoint
        X and the monomial table of each of the atom's pairs
        (:mod:`snnp_calc.kernels.legendre`).
    """

    near_q: np.ndarray
    legs_t2: np.ndarray
    cos_t: np.ndarray
    g_tk2: np.ndarray
    gv_2k: np.ndarray
    buf_3h: np.ndarray
    mh_3lea: np.ndarray
    h_oea: np.ndarray
    t_4le: np.ndarray
    x_lea: np.ndarray
    mono_p6a: np.ndarray


class GradientScratch(NamedTuple):
    """Per-thread arrays of the loss gradient, next to a :class:`TripletScratch`.

    Attributes
    ----------
    cdot_t : (T,) directional derivative of cos theta along the displacements.
    wv_pk2 : (n_max, 2 K_t) accumulated spline-basis weights of f: value (:K_t)
        and derivative (K_t:) parts.
    buf_6h : scratch of :func:`snnp_calc.kernels.readout.mlp_tangent_adjoint`.
    """

    cdot_t: np.ndarray
    wv_pk2: np.ndarray
    buf_6h: np.ndarray


class GradientSlots(NamedTuple):
    """Where each parameter's derivative goes in the kernels' gradient vector ``grad_q``.

    Attributes
    ----------
    q_off_x : ndarray of int64, shape (n_splines + 1,)
        Spline x owns the 2M + 2 local slots ``(y, y''/(6h), d0, dN)`` from
        ``q_off_x[x]`` (:func:`snnp_calc.kernels.spline.basis_add`).
    a_base : int
        First slot of the Legendre filters' power coefficients (K_l x P x (L+1)).
    w_base : int
        First slot of the network weights, species after species.
    e0_base, c0_base : int
        Slots of d/de0_a and of the count of species a's terms, whose product
        with dN_a(0)/dθ the caller subtracts (R = N(G) - N(0)).
    """

    q_off_x: np.ndarray
    a_base: int
    w_base: int
    e0_base: int
    c0_base: int


class LossData(NamedTuple):
    """A packed training set as the loss kernels read it (atoms of s: ``n_off_s[s]:n_off_s[s+1]``).

    Attributes
    ----------
    i_p, j_p, D_pc, first_n, species_n
        All structures' atoms and pairs, concatenated (the fields of :class:`Neighbours`).
    n_off_s : ndarray of int64, shape (n_s + 1,)
    E_ref_s : (n_s,) reference energies, eV.
    F_ref_nc : (n, 3) reference forces, eV/Å.
    S_ref_sv : (n_s, 6) reference stresses, eV/Å³ (ASE sign).
    has_stress_s : (n_s,) bool, whether a structure's stress enters.
    wE_s, wF_s, wS_s : (n_s,) weights of the energy, force and stress terms
        (the Jacobian kernels read their square roots from these fields).
    vol_s : (n_s,) cell volumes, Å³ (0: no stress).
    """

    i_p: np.ndarray
    j_p: np.ndarray
    D_pc: np.ndarray
    first_n: np.ndarray
    species_n: np.ndarray
    n_off_s: np.ndarray
    E_ref_s: np.ndarray
    F_ref_nc: np.ndarray
    S_ref_sv: np.ndarray
    has_stress_s: np.ndarray
    wE_s: np.ndarray
    wF_s: np.ndarray
    wS_s: np.ndarray
    vol_s: np.ndarray


class LossScratch(NamedTuple):
    """Outputs and per-pair arrays of one loss evaluation.

    Attributes
    ----------
    delta_pc : (P, 3) pair displacements of the force and stress terms.
    rdot_p : (P,) their projections on the pair directions.
    F_nc : (n, 3) predicted forces, eV/Å.
    E_s : (n_s,) predicted energies, eV.
    S_sv : (n_s, 6) predicted stresses, eV/Å³.
    loss_s : (n_s,) loss per structure.
    """

    delta_pc: np.ndarray
    rdot_p: np.ndarray
    F_nc: np.ndarray
    E_s: np.ndarray
    S_sv: np.ndarray
    loss_s: np.ndarray
