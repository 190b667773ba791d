"""Which parameters a fit moves: frozen groups and filters shared across species.

The optimiser works on a reduced vector ``z``. The model's free vector ``x``
(:meth:`snnp_calc.model.Model.to_vector` order) is the affine map
``x = c + T z`` (:class:`Reparametrisation`, ``T`` dense, n x n_z): frozen
entries are rows of ``T`` that are zero (``x_m = c_m``, the starting value);
shared filters map the entries of ``rho[k][b]`` for every neighbour species
b to the same z entries (likewise ``f[k][b]`` and ``g[k][bc]``), so a filter
is one function of distance or angle whatever the neighbour's element (Vita
and Trinkle, arXiv:2310.02904, sec. on shared filters); constraints change
variables so that they become bounds on z. The gradient with respect to
``z`` is ``T^T`` times the gradient with respect to ``x``. A dense ``T``
costs O(n n_z) per evaluation, negligible next to the kernels for models of
a few thousand parameters.

Groups that can be frozen: ``filters`` (rho, f, g and the Legendre filters),
``rho``, ``f``, ``g``, ``legendre`` (the Legendre filters' radial splines and
coefficients), ``pair`` (phi), ``readout`` (network weights or U) and ``e0``.
"""
import dataclasses

import numpy as np

from .model import MLPReadout, SplineReadout

GROUPS = ("filters", "rho", "f", "g", "legendre", "pair", "readout", "e0")
_MEMBERS = {"filters": ("rho", "f", "g", "lf", "lc"), "legendre": ("lf", "lc"), "pair": ("phi",),
            "readout": ("U", "mlp")}


def vector_layout(model):
    """Label of every entry of ``model.to_vector()``.

    Returns
    -------
    kind : ndarray of str, shape (n_free,)
        ``rho``, ``f``, ``g``, ``phi``, ``U``, ``lf`` and ``lc`` (a Legendre
        filter's radial splines and coefficients), ``mlp`` or ``e0``.
    filter_k : ndarray of int, shape (n_free,)
        Filter index for rho, f, g, lf and lc entries, else -1.
    slot : ndarray of int, shape (n_free,)
        Position of the entry among its spline's free parameters (for lc, the
        degree λ of the coefficient), else -1.
    """
    kind, filter_k, slot = [], [], []
    for name, rows in (("rho", model.rho), ("f", model.f), ("g", model.g)):
        for k, row in enumerate(rows):
            for s in row:
                n = int(np.count_nonzero(~s.fixed))
                kind += [name] * n
                filter_k += [k] * n
                slot += list(range(n))
    tail = [("phi", s) for s in model.phi]
    if isinstance(model.readout, SplineReadout):
        tail += [("U", s) for s in model.readout.U]
    for name, s in tail:
        n = int(np.count_nonzero(~s.fixed))
        kind += [name] * n
        filter_k += [-1] * n
        slot += list(range(n))
    for k, filt in enumerate(model.legendre):
        for s in filt.f:
            n = int(np.count_nonzero(~s.fixed))
            kind += ["lf"] * n
            filter_k += [k] * n
            slot += list(range(n))
    for k, filt in enumerate(model.legendre):
        kind += ["lc"] * filt.c.size
        filter_k += [k] * filt.c.size
        slot += list(range(filt.degree + 1)) * len(filt.c)
    if isinstance(model.readout, MLPReadout):
        n = sum(w.size for layers in model.readout.weights for w in layers)
        kind += ["mlp"] * n
        filter_k += [-1] * n
        slot += [-1] * n
    kind += ["e0"] * model.n_species
    filter_k += [-1] * model.n_species
    slot += [-1] * model.n_species
    return np.array(kind), np.array(filter_k), np.array(slot)


def share_filters(model):
    """``model`` with every filter set to its first neighbour species' (or pair's) spline.

    Raises
    ------
    ValueError
        If the splines of one filter differ in knots or fixed parameters.
    """
    def shared(name, rows):
        out = []
        for k, row in enumerate(rows):
            first = row[0]
            for s in row[1:]:
                if (s.x0, s.x1, s.n_knots) != (first.x0, first.x1, first.n_knots) or \
                        not np.array_equal(s.fixed, first.fixed):
                    raise ValueError(f"cannot share {name}[{k}]: its splines differ in knots "
                                     "or fixed parameters")
            out.append([first] * len(row))
        return out

    radial = shared("legendre f", [filt.f for filt in model.legendre])
    legendre = [dataclasses.replace(filt, f=f, c=np.repeat(filt.c[:1], len(filt.c), axis=0))
                for f, filt in zip(radial, model.legendre)]
    return dataclasses.replace(model, rho=shared("rho", model.rho), f=shared("f", model.f),
                               g=shared("g", model.g), legendre=tuple(legendre))


class Reparametrisation:
    """The linear map ``x = c + T z`` from the optimiser's vector to the model's free vector.

    Parameters
    ----------
    model : Model
        The starting model; frozen entries keep its values bit for bit. With
        ``shared=True`` its filters must already be shared
        (:func:`share_filters`).
    freeze : sequence of str
        Groups of :data:`GROUPS` to hold fixed.
    shared : bool
        Tie each filter's splines across neighbour species.
    constraints : sequence of str
        Any of :data:`CONSTRAINTS` (see :func:`constraint_columns`); they
        become bounds on z (:attr:`lower`, :attr:`upper`).
    core_radius : float, optional
        Å, for ``repulsive-core``: the pair term is constrained on the knots
        up to this distance (e.g. the shortest distance in the training data).
    """

    def __init__(self, model, freeze=(), shared=False, constraints=(), core_radius=None):
        unknown = sorted(set(freeze) - set(GROUPS))
        if unknown:
            raise ValueError(f"unknown parameter group(s) {', '.join(unknown)}; expected any "
                             f"of {', '.join(GROUPS)}")
        kind, filter_k, slot = vector_layout(model)
        frozen = set()
        for group in freeze:
            frozen.update(_MEMBERS.get(group, (group,)))
        self.base = model.to_vector()
        special, columns = constraint_columns(model, constraints, core_radius, frozen)
        keys = {}
        rows = []
        for m, (name, k, q) in enumerate(zip(kind, filter_k, slot)):
            if name in frozen or m in special:
                continue
            key = (name, k, q) if shared and name in ("rho", "f", "g", "lf", "lc") else m
            if key not in keys:
                keys[key] = len(rows)
                rows.append([])
            rows[keys[key]].append(m)
        n = len(rows) + len(columns)
        T = np.zeros((len(self.base), n))
        z0 = np.zeros(n)
        self.lower, self.upper = np.full(n, -np.inf), np.full(n, np.inf)
        for j, members in enumerate(rows):
            T[members, j] = 1.0
            z0[j] = self.base[members[0]]
            if shared and not np.all(self.base[members] == z0[j]):
                raise ValueError("shared filters must start equal: use share_filters(model)")
        for j, (coef, value, low, high) in enumerate(columns, start=len(rows)):
            for m, c in coef.items():
                T[m, j] = c
            # a start that breaks a constraint is moved onto its bound
            z0[j] = min(max(value, low), high)
            self.lower[j], self.upper[j] = low, high
        self.offset = np.where(T.any(axis=1), 0.0, self.base)
        self.T = T
        self.z0 = z0
        self.n = n

    def start(self):
        """The z of the starting model (moved onto the constraints' bounds if it broke them)."""
        return self.z0.copy()

    def full(self, z):
        """The model's free vector for ``z``."""
        return self.offset + self.T @ z

    def reduce(self, grad):
        """Gradient with respect to ``z`` from the gradient with respect to ``x``."""
        return self.T.T @ grad

    def matrix(self):
        """``dx/dz`` as a dense (n_free, n) matrix (for Jacobians)."""
        return self.T


CONSTRAINTS = ("repulsive-core", "convex-readout")


def constraint_columns(model, constraints, core_radius, frozen):
    """Columns of the map for constrained entries, with their bounds.

    - ``repulsive-core``: every pair term phi is non-increasing over its knots
      up to ``core_radius`` and its slope below the first knot is <= 0, so it
      rises as r -> 0 (written as increments ``y_m = y_c + sum_{l>=m} δ_l``,
      ``δ_l >= 0``, and ``d0 = -δ_d``, ``δ_d >= 0``).
    - ``convex-readout``: the weights of every layer after the first are
      >= 0; with a convex, non-decreasing activation (softplus, celu) the
      network is then convex in its inputs (input-convex network: Amos, Xu
      and Kolter, ICML 2017), so R(G) has no spurious minima as G leaves the
      data's range.

    Returns
    -------
    special : set of int
        Entries of the free vector the columns cover.
    columns : list of (dict, float, float, float)
        Per column: ``{entry: coefficient}``, starting value, lower and upper bound.
    """
    unknown = sorted(set(constraints) - set(CONSTRAINTS))
    if unknown:
        raise ValueError(f"unknown constraint(s) {', '.join(unknown)}; expected any of "
                         f"{', '.join(CONSTRAINTS)}")
    x = model.to_vector()
    kind, _, _ = vector_layout(model)
    special, columns = set(), []
    if "repulsive-core" in constraints and "phi" not in frozen:
        if not model.phi:
            raise ValueError("the repulsive-core constraint needs a pair term phi")
        if core_radius is None:
            raise ValueError("the repulsive-core constraint needs core_radius (Å)")
        start = int(np.flatnonzero(kind == "phi")[0])
        for s in model.phi:
            free = np.flatnonzero(~s.fixed)
            entry = dict(zip(free.tolist(), range(start, start + len(free))))
            start += len(free)
            core = [m for m in range(s.n_knots) if s.knots[m] <= core_radius and m in entry]
            if not core or s.n_knots not in entry:
                raise ValueError(f"repulsive-core: no free knot of phi at or below {core_radius}"
                                 " Å, or a free start slope is missing")
            c = core[-1]
            columns.append(({entry[m]: 1.0 for m in core}, x[entry[c]], -np.inf, np.inf))
            for l in core[:-1]:
                columns.append(({entry[m]: 1.0 for m in core if m <= l},
                                x[entry[l]] - x[entry[l + 1]], 0.0, np.inf))
            columns.append(({entry[s.n_knots]: -1.0}, -x[entry[s.n_knots]], 0.0, np.inf))
            special.update(entry[m] for m in core + [s.n_knots])
    if "convex-readout" in constraints and "mlp" not in frozen:
        ro = model.readout
        if not isinstance(ro, MLPReadout) or ro.activation not in ("softplus", "celu"):
            raise ValueError("the convex-readout constraint needs an MLP readout with a convex, "
                             "non-decreasing activation (softplus or celu)")
        m = int(np.flatnonzero(kind == "mlp")[0])
        for layers in ro.weights:
            for k, w in enumerate(layers):
                if k >= 2 and k % 2 == 0:
                    for e in range(m, m + w.size):
                        columns.append(({e: 1.0}, x[e], 0.0, np.inf))
                        special.add(e)
                m += w.size
    return special, columns
