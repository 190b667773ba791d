"""The fitting loss and its exact gradient, as functions of one flat vector.

:func:`pack_frames` turns reference frames into a :class:`TrainingSet`:
concatenated atoms, neighbour lists (built once: the cutoff never changes
while fitting) and references. :func:`loss_and_gradient` evaluates, for the
free parameters ``vector`` of a model (``Model.to_vector`` order),

    L = wE Σ_s c_s ((E_s − Ê_s)/N_s)² / n_E + wF Σ_s c_s Σ_i |F_i − F̂_i|² / n_F
      + wS Σ_s c_s |σ_s − σ̂_s|² / n_S + λ_smooth Σ (second differences of knot values)²
      + λ_2 |W|²

(DESIGN.md §5; ``c_s`` per-``config_type`` weights, n_E structures, n_F
force components, n_S stress components, σ in GPa, W the readout's weight
matrices) and its gradient, exactly: the kernels of
:mod:`snnp_calc.grad_kernels` return it in local spline coordinates, which
:class:`ParameterMap` maps to the spline parameters.
"""
from dataclasses import dataclass, field, replace

import numpy as np
from ase.units import GPa

from . import grad_kernels, kernels
from .model import MLPReadout
from .potential import neighbour_pairs, voigt
from .splines import second_derivatives

N_CHUNKS = 64


@dataclass(frozen=True)
class LossWeights:
    """Weights of the loss terms (see the module docstring).

    ``config_types`` maps a ``config_type`` to a factor on all terms of its
    structures (default 1).

    Units: energies per atom in eV, forces in eV/Å, stresses in GPa. The
    defaults weigh 1 meV/atom of energy error like 0.017 eV/Å of force error
    and 1.7 GPa of stress error. They were chosen on the Zuo et al. (2020)
    Mo, Ni and Cu sets (5-minute fits): against energy 1 and stress 1e-5,
    they cut the Cu test energy MAE from 1.00 to 0.51 meV/atom and Ni's from
    1.08 to 0.61 at the same force MAE; a heavier stress weight pulls the
    energies of the Cu and Ni ``Elastic`` structures away, whose stress
    labels do not match their energies' strain derivative (2-3 GPa offset,
    see the data set's README).
    """

    energy: float = 3.0
    forces: float = 0.01
    stress: float = 1e-6
    smooth: float = 1e-6
    l2: float = 0.0
    config_types: dict = field(default_factory=dict)


@dataclass(eq=False)
class TrainingSet:
    """Frames packed for the kernels (atoms of structure s: ``n_off_s[s]:n_off_s[s+1]``)."""

    frames: list
    n_off_s: np.ndarray
    first_n: np.ndarray
    i_p: np.ndarray
    j_p: np.ndarray
    D_pc: np.ndarray
    species_n: np.ndarray
    E_ref_s: np.ndarray
    F_ref_nc: np.ndarray
    S_ref_sv: np.ndarray
    has_stress_s: np.ndarray
    vol_s: np.ndarray
    cutoff: float

    @property
    def n_structures(self):
        return len(self.frames)


def pack_frames(frames, species, cutoff):
    """Concatenate frames and their neighbour lists for the loss kernels.

    Raises
    ------
    ValueError
        For an element not in ``species`` (naming the frame), or coincident atoms.
    """
    lookup = {sym: a for a, sym in enumerate(species)}
    n_off, i_parts, j_parts, D_parts, counts = [0], [], [], [], []
    species_n, vol, stresses, stress_flags = [], [], [], []
    for frame in frames:
        atoms = frame.atoms
        unknown = sorted(set(atoms.get_chemical_symbols()) - set(lookup))
        if unknown:
            raise ValueError(f"{frame.source}: element(s) {', '.join(unknown)} not in the model "
                             f"(species: {', '.join(species)})")
        try:
            i, j, _, D = neighbour_pairs(atoms.positions, atoms.cell.array, atoms.pbc, cutoff)
        except ValueError as err:
            raise ValueError(f"{frame.source}: {err}") from err
        i_parts.append(i + n_off[-1])
        j_parts.append(j + n_off[-1])
        D_parts.append(D)
        counts.append(np.bincount(i, minlength=len(atoms)))
        species_n.extend(lookup[s] for s in atoms.get_chemical_symbols())
        n_off.append(n_off[-1] + len(atoms))
        periodic = atoms.cell.rank == 3 and atoms.pbc.all()
        vol.append(atoms.get_volume() if periodic else 0.0)
        stress_flags.append(has_stress(frame))
        stresses.append(frame.stress if stress_flags[-1] else np.zeros(6))
    first_n = np.zeros(n_off[-1] + 1, np.int64)
    np.cumsum(np.concatenate(counts), out=first_n[1:])
    return TrainingSet(
        list(frames), np.array(n_off, np.int64), first_n, np.concatenate(i_parts),
        np.concatenate(j_parts), np.ascontiguousarray(np.concatenate(D_parts)),
        np.array(species_n, np.int64), np.array([f.energy for f in frames]),
        np.ascontiguousarray(np.concatenate([f.forces for f in frames])),
        np.array(stresses, float), np.array(stress_flags), np.array(vol), float(cutoff))


def predict_packed(model, data):
    """Predictions of ``model`` for every structure of a :class:`TrainingSet`, in one kernel call.

    Returns
    -------
    E_s : ndarray, shape (n_s,)
        Energies, eV.
    F_nc : ndarray, shape (n, 3)
        Forces, eV/Å.
    S_sv : ndarray, shape (n_s, 6)
        ASE stresses (Voigt), eV/Å³; zero for structures that are not 3D-periodic.
    G_nf : ndarray, shape (n, K)
        Descriptors.
    """
    E_n, F_nc, W_ncc, G_nf = kernels.single_point(
        data.i_p, data.j_p, data.D_pc, data.species_n, *model.kernel_arrays, model.readout_zero,
        True)
    starts = data.n_off_s[:-1]
    W_scc = np.add.reduceat(W_ncc, starts, axis=0)
    W_sv = voigt(W_scc)
    S_sv = np.divide(W_sv, data.vol_s[:, None], out=np.zeros_like(W_sv),
                     where=data.vol_s[:, None] > 0)
    return np.add.reduceat(E_n, starts), F_nc, S_sv, G_nf


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
        self.q_off_s = np.array(q_off, np.int64)
        self.n_q = q_off[-1]
        S = model.n_species
        self.w_base = self.n_q
        self.n_w = model.kernel_arrays[7].shape[1]
        self.e0_base = self.w_base + S * self.n_w
        self.c0_base = self.e0_base + S
        self.n_grad = self.c0_base + S
        self.mlp = isinstance(model.readout, MLPReadout)

    def to_parameters(self, model, grad):
        """Map a kernel gradient (local slots, weights, e0, N(0) counts) to ``to_vector`` order."""
        grad = grad.copy()
        arrays = model.kernel_arrays
        dims, sizes, w_sw, xoff, xscale = arrays[0], arrays[6], arrays[7], arrays[8], arrays[9]
        S = model.n_species
        c0 = grad[self.c0_base:self.c0_base + S]
        if self.mlp:
            buf = np.zeros((6, sizes.sum()))
            K = sizes[0]
            for a in range(S):
                # R(G) = N(G) - N(0): subtract c0_a dN_a(0)/dw
                gw = np.zeros(self.n_w)
                grad_kernels.mlp_tangent_adjoint(-xoff[a] / xscale[a], np.zeros(K), w_sw[a],
                                                 sizes, dims[5], 1.0, gw, np.zeros(K),
                                                 np.zeros(K), buf)
                grad[self.w_base + a * self.n_w:self.w_base + (a + 1) * self.n_w] -= c0[a] * gw
        else:
            base_u = len(self.splines) - S
            for a in range(S):
                grad_kernels.basis_add(base_u + a, 0.0, -c0[a], 0.0, arrays[1], arrays[2],
                                       self.q_off_s, grad)
        parts = []
        for s, P, q in zip(self.splines, self.blocks, self.q_off_s):
            gp = P.T @ grad[q:q + P.shape[0]]
            parts.append(gp[~s.fixed])
        if self.mlp:
            parts.append(grad[self.w_base:self.e0_base])
        parts.append(grad[self.e0_base:self.c0_base])
        return np.concatenate(parts)


def _regularisation(model, weights):
    """λ_smooth Σ (Δ² y)² over filter splines plus λ_2 |W|², and its gradient."""
    value = 0.0
    parts = []
    for s in model.splines:
        gp = np.zeros(s.n_knots + 2)
        if s.n_knots >= 3 and weights.smooth > 0:
            d2 = s.y[2:] - 2 * s.y[1:-1] + s.y[:-2]
            value += weights.smooth * (d2 ** 2).sum()
            g = 2 * weights.smooth * d2
            gp[2:s.n_knots] += g
            gp[1:s.n_knots - 1] -= 2 * g
            gp[:s.n_knots - 2] += g
        parts.append(gp[~s.fixed])
    if isinstance(model.readout, MLPReadout):
        for layers in model.readout.weights:
            for k, w in enumerate(layers):
                is_matrix = k % 2 == 0
                value += weights.l2 * (w ** 2).sum() if is_matrix else 0.0
                parts.append((2 * weights.l2 * w if is_matrix else np.zeros_like(w)).reshape(-1))
    parts.append(np.zeros(model.n_species))
    return value, np.concatenate(parts)


def has_stress(frame):
    """Whether a frame's stress enters the loss: a reference stress on a 3D-periodic cell."""
    return frame.stress is not None and frame.atoms.cell.rank == 3 and bool(frame.atoms.pbc.all())


def frame_weights(frames, weights):
    """Per-structure weights ``wE_s, wF_s, wS_s`` with the normalisations of the loss.

    ``wS_s`` applies to stresses in eV/Å³ and includes the conversion to GPa.
    """
    factor = np.array([weights.config_types.get(f.config_type, 1.0) for f in frames])
    stress_s = np.array([has_stress(f) for f in frames])
    n_E = len(frames)
    n_F = 3 * sum(len(f.atoms) for f in frames)
    n_S = max(6 * stress_s.sum(), 1)
    wE = weights.energy * factor / n_E
    wF = weights.forces * factor / n_F
    wS = np.where(stress_s, weights.stress * factor / n_S / GPa ** 2, 0.0)
    return wE, wF, wS


def structure_weights(data, weights):
    """:func:`frame_weights` of a :class:`TrainingSet`."""
    return frame_weights(data.frames, weights)


class Workspace:
    """Scratch arrays of the loss kernels for one training set and model layout."""

    def __init__(self, data, model):
        n = len(data.species_n)
        n_pairs = len(data.i_p)
        K_r, K_t = len(model.rho), len(model.f)
        self.atoms = kernels.workspace(n, n_pairs, K_r, K_t)
        self.delta_pc = np.zeros((n_pairs, 3))
        self.rdot_p = np.zeros(n_pairs)
        self.F_nc = np.zeros((n, 3))
        self.E_s = np.zeros(data.n_structures)
        self.S_sv = np.zeros((data.n_structures, 6))
        self.loss_s = np.zeros(data.n_structures)


def loss_and_gradient(vector, template, data, weights, pmap=None, workspace=None):
    """Loss and its exact gradient at ``vector`` (free parameters of ``template``).

    Parameters
    ----------
    vector : ndarray, shape (n_free,)
    template : Model
        Supplies the layout and the fixed parameters.
    data : TrainingSet
    weights : LossWeights
    pmap, workspace : optional
        Reusable :class:`ParameterMap` and :class:`Workspace`.

    Returns
    -------
    loss : float
    grad : ndarray, shape (n_free,)
    """
    model = template.from_vector(vector)
    pmap = pmap or ParameterMap(model)
    ws = workspace or Workspace(data, model)
    arrays = model.kernel_arrays
    R0_s = kernels.readout_zero(*arrays[:-1])
    wE, wF, wS = structure_weights(data, weights)
    grad_cq = np.zeros((N_CHUNKS, pmap.n_grad))
    n_chunks = min(N_CHUNKS, data.n_structures)
    a = ws.atoms
    # dR_nf and G_nf accumulate inside atom_terms
    a[6][:] = 0.0
    a[7][:] = 0.0
    grad_kernels.loss_and_gradient(
        n_chunks, data.n_off_s, data.first_n, data.i_p, data.j_p, data.D_pc, data.species_n,
        data.E_ref_s, data.F_ref_nc, data.S_ref_sv, wE, wF, wS, data.vol_s, *arrays, R0_s, *a,
        pmap.q_off_s, pmap.w_base, pmap.e0_base, pmap.c0_base, ws.delta_pc, ws.rdot_p, ws.F_nc,
        ws.E_s, ws.S_sv, ws.loss_s, grad_cq)
    grad = pmap.to_parameters(model, grad_cq.sum(axis=0))
    reg_value, reg_grad = _regularisation(model, weights)
    return float(ws.loss_s.sum() + reg_value), grad + reg_grad



class ResidualProducts:
    """Products ``J^T u`` of the residuals' Jacobian J with vectors u, at one parameter vector.

    The data part of the loss is ``r . r`` with residuals
    ``r = sqrt(w) (prediction - reference)`` (energies per atom, force and
    stress components; the order of :func:`snnp_calc.jacobian.residuals`),
    and its gradient is ``2 J^T r``. Moving the references so that the
    residuals become ``u`` turns one gradient evaluation into ``J^T u``.
    """

    def __init__(self, vector, template, data, weights):
        self.vector, self.template, self.data = vector, template, data
        self.weights = replace(weights, smooth=0.0, l2=0.0)
        self.pmap = ParameterMap(template)
        self.ws = Workspace(data, template)
        loss_and_gradient(vector, template, data, self.weights, self.pmap, self.ws)
        self.E_s, self.F_nc, self.S_sv = self.ws.E_s.copy(), self.ws.F_nc.copy(), self.ws.S_sv.copy()
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


def gauss_newton_diagonal(vector, template, data, weights, n_samples=16, seed=0, reduce=None):
    """Estimate of ``diag(J^T J)``, J the Jacobian of the loss residuals (free parameters).

    Hutchinson's estimator (Bekas, Kokiopoulou and Saad, Appl. Numer. Math.
    57, 1214 (2007)): ``E[(J^T u)_m^2] = (J^T J)_mm`` for u with independent
    ±1 entries. Costs ``n_samples + 1`` gradient evaluations
    (:class:`ResidualProducts`). Residuals of structures without a stress
    reference are zero whatever u says. ``reduce`` maps a gradient to fewer
    parameters (:meth:`snnp_calc.parameters.Reparametrisation.reduce`): the
    diagonal is then that of ``(J T)^T (J T)``, T the map's matrix.

    Returns
    -------
    ndarray, shape (n_free,) or as ``reduce`` returns
    """
    products = ResidualProducts(vector, template, data, weights)
    rng = np.random.default_rng(seed)
    reduce = reduce or (lambda grad: grad)
    diag = 0.0
    for _ in range(n_samples):
        u = [rng.choice((-1.0, 1.0), a.shape) for a in (products.E_s, products.F_nc,
                                                        products.S_sv)]
        diag = diag + reduce(products(*u)) ** 2
    return diag / n_samples
