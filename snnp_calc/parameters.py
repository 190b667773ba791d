"""Which parameters a fit moves: frozen groups and filters shared across species.

The optimiser works on a reduced vector ``z``. The model's free vector ``x``
(:meth:`snnp_calc.model.Model.to_vector` order) is rebuilt from it entry by
entry: ``x_m = z[index_m]`` for moved entries, ``x_m = base_m`` for frozen
ones (``index_m = -1``). Shared filters map the entries of ``rho[k][b]`` for
every neighbour species b to the same z entries (likewise ``f[k][b]`` and
``g[k][bc]``), so a filter is one function of distance or angle whatever the
neighbour's element (Vita and Trinkle, arXiv:2310.02904, sec. on shared
filters). The gradient with respect to ``z`` sums the gradients of the
entries that share it.

Groups that can be frozen: ``filters`` (rho, f and g), ``rho``, ``f``, ``g``,
``pair`` (phi), ``readout`` (network weights or U) and ``e0``.
"""
import dataclasses

import numpy as np

from .model import MLPReadout, SplineReadout

GROUPS = ("filters", "rho", "f", "g", "pair", "readout", "e0")
_MEMBERS = {"filters": ("rho", "f", "g"), "pair": ("phi",), "readout": ("U", "mlp")}


def vector_layout(model):
    """Label of every entry of ``model.to_vector()``.

    Returns
    -------
    kind : ndarray of str, shape (n_free,)
        ``rho``, ``f``, ``g``, ``phi``, ``U``, ``mlp`` or ``e0``.
    filter_k : ndarray of int, shape (n_free,)
        Filter index for rho, f and g entries, else -1.
    slot : ndarray of int, shape (n_free,)
        Position of the entry among its spline's free parameters, else -1.
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

    return dataclasses.replace(model, rho=shared("rho", model.rho), f=shared("f", model.f),
                               g=shared("g", model.g))


class Reparametrisation:
    """The map ``z -> x`` between the optimiser's vector and the model's free vector.

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
    """

    def __init__(self, model, freeze=(), shared=False):
        unknown = sorted(set(freeze) - set(GROUPS))
        if unknown:
            raise ValueError(f"unknown parameter group(s) {', '.join(unknown)}; expected any "
                             f"of {', '.join(GROUPS)}")
        kind, filter_k, slot = vector_layout(model)
        frozen = set()
        for group in freeze:
            frozen.update(_MEMBERS.get(group, (group,)))
        self.base = model.to_vector()
        index = np.full(len(self.base), -1, np.int64)
        keys = {}
        for m, (name, k, q) in enumerate(zip(kind, filter_k, slot)):
            if name in frozen:
                continue
            key = (name, k, q) if shared and name in ("rho", "f", "g") else m
            index[m] = keys.setdefault(key, len(keys))
        if shared:
            first = np.full(len(keys), len(self.base), np.int64)
            moved = index >= 0
            np.minimum.at(first, index[moved], np.flatnonzero(moved))
            if not np.array_equal(self.base[moved], self.base[first[index[moved]]]):
                raise ValueError("shared filters must start equal: use share_filters(model)")
        self.index = index
        self.n = len(keys)

    def start(self):
        """The z of the starting model."""
        z = np.zeros(self.n)
        moved = self.index >= 0
        z[self.index[moved]] = self.base[moved]
        return z

    def full(self, z):
        """The model's free vector for ``z``."""
        x = self.base.copy()
        moved = self.index >= 0
        x[moved] = z[self.index[moved]]
        return x

    def reduce(self, grad):
        """Gradient with respect to ``z`` from the gradient with respect to ``x``."""
        moved = self.index >= 0
        return np.bincount(self.index[moved], weights=grad[moved], minlength=self.n)

    def matrix(self):
        """``dx/dz`` as a dense (n_free, n) 0/1 matrix (for Jacobians)."""
        T = np.zeros((len(self.base), self.n))
        moved = np.flatnonzero(self.index >= 0)
        T[moved, self.index[moved]] = 1.0
        return T
