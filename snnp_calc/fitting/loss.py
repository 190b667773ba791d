"""The fitting loss and its exact gradient, as functions of one flat vector.

On a packed :class:`~snnp_calc.fitting.training_set.TrainingSet`,
:func:`loss_and_gradient` evaluates, for the
free parameters ``vector`` of a model (``Model.to_vector`` order),

    L = wE Σ_s c_s ((E_s − Ê_s)/N_s)² / n_E + wF Σ_s c_s Σ_i |F_i − F̂_i|² / n_F
      + wS Σ_s c_s |σ_s − σ̂_s|² / n_S + R(x)

(DESIGN.md §5; ``c_s`` per-``config_type`` weights, n_E structures, n_F
force components, n_S stress components, σ in GPa, R the curvature and
weight penalty of :mod:`snnp_calc.fitting.regularisation`) and its gradient, exactly: the kernels of
:mod:`snnp_calc.kernels.gradient` return it in local spline coordinates, which
:class:`ParameterMap` maps to the spline parameters.
"""
from dataclasses import dataclass, field, replace

import numpy as np
from ase.units import GPa

from ..evaluate import notice_first_compile
from ..kernels import gradient
from ..kernels.energy import atom_scratch
from ..kernels.layout import GradientSlots, LossScratch
from ..kernels.readout import mlp_tangent_adjoint
from ..kernels.spline import basis_add
from ..model.legendre import legendre_to_power
from ..model.model import MLPReadout
from ..model.splines import second_derivatives
from .regularisation import Regularisation
from .training_set import block_of, has_stress

N_CHUNKS = 64


@dataclass(frozen=True)
class LossWeights:
    """Weights of the loss terms (see the module docstring).

    ``config_types`` maps a ``config_type`` to a factor on all terms of its
    structures (default 1).

    Units: energies per atom in eV, forces in eV/Å, stresses in GPa. With
    ``stress_offsets`` each ``config_type``'s stresses may differ from the
    labels by a fitted isotropic pressure (:mod:`snnp_calc.fitting.offsets`),
    so that a stress weight large enough to pin the curvature of E(V) does not
    pull the energies away. ``smooth`` weighs the splines' curvature penalty
    and ``l2`` the network weights (:mod:`snnp_calc.fitting.regularisation`).

    The defaults were chosen on the validation blocks of the training sets
    (``docs/defaults/``; never a test set): on Ni, stress 1e-4 with offsets
    gave C11/C12/C44 within 2 % of the data's DFT values at a validation
    energy error of 0.33 meV/atom, where stress 1e-4 without offsets gave
    0.76 and stress 1e-6 gave C_ij 5-13 % off; curvature 1e-9 and L2 1e-6
    cost validation accuracy on Ni and Ge without a physics gain.
    """

    energy: float = 3.0
    forces: float = 0.01
    stress: float = 1e-4
    smooth: float = 1e-10
    l2: float = 0.0
    stress_offsets: bool = True
    config_types: dict = field(default_factory=dict)


class ParameterMap:
    """Gradient bookkeeping for one model layout (knots, masks, widths; not values).

    Local spline slots ``(y, y''/(6h), d0, dN)`` map linearly to the
    parameters ``(y, d0, dN)``: ``q = P p`` with ``P`` built from the
    tridiagonal solve, so ``dL/dp = P^T dL/dq``.
    """

    def __init__(self, model):
        self.splines = model.splines
        q_off, blocks = [0], []
        for s in self.splines:
            M = s.n_knots
            h = (s.x1 - s.x0) / (M - 1)
            P = np.zeros((2 * M + 2, M + 2))
            P[:M, :M] = np.eye(M)
            for m in range(M + 2):
                e = np.eye(M + 2)[m]
                P[M:2 * M, m] = second_derivatives(s.x0, s.x1, e[:M], e[M], e[M + 1]) / (6 * h)
            P[2 * M, M] = P[2 * M + 1, M + 1] = 1.0
            blocks.append(P)
            q_off.append(q_off[-1] + 2 * M + 2)
        self.blocks = blocks
        S = model.n_species
        self.n_w = model.kernel_model.w_ew.shape[1]
        a_base = q_off[-1]
        # the kernels' slots hold the power coefficients a_o of each readout input o of the
        # Legendre filters (a_o = c p, p = legendre_to_power; per degree λ, a_o = c_λ p_λ)
        self.n_lc = sum(filt.c.size for filt in model.legendre)
        self.to_power = legendre_to_power(model.legendre[0].degree) if model.legendre else None
        self.per_degree = bool(model.legendre) and model.legendre[0].per_degree
        w_base = a_base + model.kernel_model.a_oyg.size
        e0_base = w_base + S * self.n_w
        self.slots = GradientSlots(np.array(q_off, np.int64), a_base, w_base, e0_base,
                                   e0_base + S)
        self.n_grad = e0_base + 2 * S
        self.mlp = isinstance(model.readout, MLPReadout)
        self._model = model
        self._penalties = {}

    def regularisation(self, weights):
        """The :class:`~snnp_calc.fitting.regularisation.Regularisation` of this layout (cached)."""
        key = (weights.smooth, weights.l2)
        if key not in self._penalties:
            self._penalties[key] = Regularisation(self._model, *key)
        return self._penalties[key]

    def _coefficient_gradient(self, model, grad_a):
        """d/dc (K_l, P, L+1, flattened) from the kernels' d/da_o (K_o, P, L+1)."""
        p = self.to_power
        L1, K_l = p.shape[0], len(model.legendre)
        if self.per_degree:
            # a_{kλ,q,n} = c_{k,q,λ} p_λn
            grad_a = grad_a.reshape(K_l, L1, -1, L1)
            return np.einsum("klqn,ln->kql", grad_a, p).reshape(-1)
        # a_{k,q,n} = Σ_λ c_{k,q,λ} p_λn
        return (grad_a.reshape(-1, L1) @ p.T).reshape(-1)

    def to_parameters(self, model, grad):
        """Map a kernel gradient (local slots, weights, e0, N(0) counts) to ``to_vector`` order."""
        grad = grad.copy()
        km, slots = model.kernel_model, self.slots
        S = model.n_species
        c0 = grad[slots.c0_base:slots.c0_base + S]
        if self.mlp:
            buf = np.zeros((6, km.sizes.sum()))
            K = km.sizes[0]
            for a in range(S):
                # R(G) = N(G) - N(0): subtract c0_a dN_a(0)/dw
                gw = np.zeros(self.n_w)
                mlp_tangent_adjoint(-km.xoff_ef[a] / km.xscale_ef[a], np.zeros(K), km.w_ew[a],
                                    km.sizes, km.activation, 1.0, gw, np.zeros(K), np.zeros(K),
                                    buf)
                w0 = slots.w_base + a * self.n_w
                grad[w0:w0 + self.n_w] -= c0[a] * gw
        else:
            for a in range(S):
                basis_add(km, km.base_u + a, 0.0, -c0[a], 0.0, slots.q_off_x, grad)
        parts = []
        for s, P, q in zip(self.splines, self.blocks, slots.q_off_x):
            gp = P.T @ grad[q:q + P.shape[0]]
            parts.append(gp[~s.fixed])
        if self.n_lc:
            parts.append(self._coefficient_gradient(model, grad[slots.a_base:slots.w_base]))
        if self.mlp:
            parts.append(grad[slots.w_base:slots.e0_base])
        parts.append(grad[slots.e0_base:slots.c0_base])
        return np.concatenate(parts)


def frame_weights(frames, weights, block=None):
    """Per-structure weights ``wE_s, wF_s, wS_s`` with the normalisations of the loss.

    ``wS_s`` applies to stresses in eV/Å³ and includes the conversion to GPa.
    ``block`` (:class:`~snnp_calc.fitting.training_set.Block`) gives the
    sizes of the whole training set that ``frames`` are a block of (default:
    ``frames`` are the whole set), which the normalisations count.
    """
    block = block or block_of(frames)
    factor = np.array([weights.config_types.get(f.config_type, 1.0) for f in frames])
    stress_s = np.array([has_stress(f) for f in frames], bool)
    n_E = block.n_structures
    n_F = 3 * block.n_atoms
    n_S = max(6 * block.n_stressed, 1)
    wE = weights.energy * factor / n_E
    wF = weights.forces * factor / n_F
    wS = np.where(stress_s, weights.stress * factor / n_S / GPa ** 2, 0.0)
    return wE, wF, wS


def structure_weights(data, weights):
    """:func:`frame_weights` of a :class:`~snnp_calc.fitting.training_set.TrainingSet`."""
    return frame_weights(data.frames, weights, data.block)


class Workspace:
    """Scratch arrays of the loss kernels for one training set and model layout.

    ``atoms`` (:class:`~snnp_calc.kernels.layout.AtomScratch`) and ``loss``
    (:class:`~snnp_calc.kernels.layout.LossScratch`: the predictions ``E_s``,
    ``F_nc``, ``S_sv`` of the last evaluation).
    """

    def __init__(self, data, model):
        n = len(data.species_n)
        n_pairs = len(data.i_p)
        self.atoms = atom_scratch(n, n_pairs, len(model.rho), len(model.f), len(model.legendre),
                                  len(model.kernel_model.a_oyg))
        self.loss = LossScratch(np.zeros((n_pairs, 3)), np.zeros(n_pairs), np.zeros((n, 3)),
                                np.zeros(data.n_structures), np.zeros((data.n_structures, 6)),
                                np.zeros(data.n_structures))


def loss_and_gradient(vector, template, data, weights, pmap=None, workspace=None,
                      regularise=True):
    """Loss and its exact gradient at ``vector`` (free parameters of ``template``).

    Parameters
    ----------
    vector : ndarray, shape (n_free,)
    template : Model
        Supplies the layout and the fixed parameters.
    data : snnp_calc.fitting.training_set.TrainingSet
    weights : LossWeights
    pmap, workspace : optional
        Reusable :class:`ParameterMap` and :class:`Workspace`.
    regularise : bool
        Add the penalty R(x). A rank of a data-parallel fit that holds one
        block of the data computes its share of the sum over structures; one
        rank adds R.

    Returns
    -------
    loss : float
    grad : ndarray, shape (n_free,)
    """
    model = template.from_vector(vector)
    pmap = pmap or ParameterMap(model)
    ws = workspace or Workspace(data, model)
    grad_cq = np.zeros((N_CHUNKS, pmap.n_grad))
    n_chunks = min(N_CHUNKS, data.n_structures)
    # dR_nf and G_nf accumulate inside atom_terms
    ws.atoms.G_nf[:] = 0.0
    ws.atoms.dR_nf[:] = 0.0
    notice_first_compile(gradient.loss_and_gradient)
    gradient.loss_and_gradient(n_chunks, data.loss_data(*structure_weights(data, weights)),
                               model.kernel_model, ws.atoms, pmap.slots, ws.loss, grad_cq)
    grad = pmap.to_parameters(model, grad_cq.sum(axis=0))
    if not regularise:
        return float(ws.loss.loss_s.sum()), grad
    reg_value, reg_grad = pmap.regularisation(weights).value_and_gradient(vector)
    return float(ws.loss.loss_s.sum() + reg_value), grad + reg_grad



class ResidualProducts:
    """Products ``J^T u`` of the residuals' Jacobian J with vectors u, at one parameter vector.

    The data part of the loss is ``r . r`` with residuals
    ``r = sqrt(w) (prediction - reference)`` (energies per atom, force and
    stress components; the order of :func:`snnp_calc.fitting.jacobian.residuals`),
    and its gradient is ``2 J^T r``. Moving the references so that the
    residuals become ``u`` turns one gradient evaluation into ``J^T u``.
    """

    def __init__(self, vector, template, data, weights):
        self.vector, self.template, self.data = vector, template, data
        self.weights = replace(weights, smooth=0.0, l2=0.0)
        self.pmap = ParameterMap(template)
        self.ws = Workspace(data, template)
        loss_and_gradient(vector, template, data, self.weights, self.pmap, self.ws)
        out = self.ws.loss
        self.E_s, self.F_nc, self.S_sv = out.E_s.copy(), out.F_nc.copy(), out.S_sv.copy()
        wE, wF, wS = structure_weights(data, self.weights)
        n_s = np.diff(data.n_off_s)
        # scales from residual to prediction units; structures of weight 0 keep r = 0
        self.to_E = np.divide(n_s, np.sqrt(wE), out=np.zeros(len(n_s)), where=wE > 0)
        sF = np.repeat(np.sqrt(wF), n_s)[:, None]
        self.to_F = np.divide(1.0, sF, out=np.zeros_like(sF), where=sF > 0)
        sS = np.sqrt(wS)[:, None]
        self.to_S = np.divide(1.0, sS, out=np.zeros_like(sS), where=sS > 0)

    def __call__(self, u_s, u_nc, u_sv):
        """``J^T u`` for energy residuals ``u_s`` (n_s,), forces ``u_nc`` (n, 3), stresses ``u_sv`` (n_s, 6)."""
        moved = replace(self.data, E_ref_s=self.E_s - self.to_E * u_s,
                        F_ref_nc=np.ascontiguousarray(self.F_nc - self.to_F * u_nc),
                        S_ref_sv=np.ascontiguousarray(self.S_sv - self.to_S * u_sv))
        _, grad = loss_and_gradient(self.vector, self.template, moved, self.weights, self.pmap,
                                    self.ws)
        return 0.5 * grad


def gauss_newton_diagonal(vector, template, data, weights, n_samples=16, seed=0, reduce=None,
                          total=None, block=None):
    """Estimate of ``diag(J^T J)``, J the Jacobian of the loss residuals (free parameters).

    Hutchinson's estimator (Bekas, Kokiopoulou and Saad, Appl. Numer. Math.
    57, 1214 (2007)): ``E[(J^T u)_m^2] = (J^T J)_mm`` for u with independent
    ±1 entries. Costs ``n_samples + 1`` gradient evaluations
    (:class:`ResidualProducts`). Residuals of structures without a stress
    reference are zero whatever u says. ``reduce`` maps a gradient to fewer
    parameters (:meth:`snnp_calc.model.reparam.Reparametrisation.reduce`): the
    diagonal is then that of ``(J T)^T (J T)``, T the map's matrix.

    On one block of a data-parallel fit (``data.block``), u is drawn for the
    whole set and this block's part taken, and ``total`` adds the products
    of all blocks before they are squared (:meth:`snnp_calc.fitting.parallel.Ranks.sum`):
    every rank gets the estimate of the serial fit. A rank without structures
    in the set passes ``data=None`` and its ``block`` (its products are zero).

    Returns
    -------
    ndarray, shape (n_free,) or as ``reduce`` returns
    """
    rng = np.random.default_rng(seed)
    reduce = reduce or (lambda grad: grad)
    total = total or (lambda grad: grad)
    b = block or data.block
    if data is None:
        structures = atoms = slice(0, 0)
        zero = reduce(np.zeros(len(vector)))
    else:
        products = ResidualProducts(vector, template, data, weights)
        structures = slice(b.s0, b.s0 + data.n_structures)
        atoms = slice(b.n0, b.n0 + len(data.species_n))
    diag = 0.0
    for _ in range(n_samples):
        u_s = rng.choice((-1.0, 1.0), b.n_structures)[structures]
        u_nc = rng.choice((-1.0, 1.0), (b.n_atoms, 3))[atoms]
        u_sv = rng.choice((-1.0, 1.0), (b.n_structures, 6))[structures]
        mine = zero if data is None else reduce(products(u_s, u_nc, u_sv))
        diag = diag + total(mine) ** 2
    return diag / n_samples
