"""The s-NNP model: an immutable description and its flat parameter vector.

A :class:`Model` holds, for S species and P = S(S+1)/2 unordered species
pairs (DESIGN.md §2):

- ``rho[k][b]``: K_rho pair filters, one spline per neighbour species b;
- ``f[k][b]``: K_t radial triplet splines, per neighbour species;
- ``g[k][bc]``: K_t angular splines of cos(theta), per unordered pair of
  neighbour species (index :func:`pair_index`);
- ``phi[ab]``: the optional pair term (empty tuple when absent);
- ``readout``: :class:`MLPReadout` or :class:`SplineReadout` (s-MEAM);
- ``e0[a]``: reference energy per species (eV);
- ``core``: an optional :class:`~snnp_calc.model.core.ZBLCore` (no fitted parameters);
- ``legendre``: K_l factorised triplet filters
  (:class:`~snnp_calc.model.legendre.LegendreFilter`: radial splines per
  neighbour species, Legendre coefficients of g per species pair), read after
  the spline triplet filters.

``to_vector`` / ``from_vector`` map the free parameters (spline parameters not
marked fixed, all readout weights, e0) to one flat float64 vector, in the
order rho, f, g, phi, U, the Legendre filters' f and their coefficients c, readout
weights, e0.
"""
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
from ase.data import atomic_numbers, chemical_symbols

from ..kernels.layout import ACTIVATIONS, pair_index
from .core import ZBLCore
from .kernel_form import kernel_form
from .legendre import LegendreFilter
from .splines import Spline


def _frozen(array):
    out = np.array(array, dtype=np.float64)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class MLPReadout:
    """Per-species dense network ``R_a(G) = N_a(G) - N_a(0)``.

    Parameters
    ----------
    activation : str
        One of ``tanh``, ``softplus``, ``silu``, ``celu``.
    hidden : tuple of int
        Hidden layer widths; empty for a linear readout.
    weights : sequence over species of sequences of arrays
        ``(W_0, b_0, W_1, b_1, ..., W_L, b_L)``, ``W_l`` of shape (out, in);
        the last layer has one output (eV).
    offset, scale : array_like, shape (S, K)
        Fixed input standardisation ``x = (G - offset) / scale``.
    """

    activation: str
    hidden: tuple
    weights: tuple
    offset: np.ndarray
    scale: np.ndarray

    def __post_init__(self):
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; expected one of {ACTIVATIONS}")
        hidden = tuple(int(h) for h in self.hidden)
        if any(h < 1 for h in hidden):
            raise ValueError(f"hidden widths must be positive, got {hidden}")
        offset, scale = _frozen(self.offset), _frozen(self.scale)
        if offset.ndim != 2 or offset.shape != scale.shape:
            raise ValueError(f"offset and scale must have equal shapes (S, K), got "
                             f"{offset.shape} and {scale.shape}")
        if not (np.all(np.isfinite(offset)) and np.all(np.isfinite(scale)) and np.all(scale > 0)):
            raise ValueError("input offsets must be finite and scales finite and positive")
        sizes = (offset.shape[1],) + hidden + (1,)
        weights = []
        for a, layers in enumerate(self.weights):
            layers = tuple(_frozen(w) for w in layers)
            if len(layers) != 2 * (len(sizes) - 1):
                raise ValueError(f"species {a}: expected {2 * (len(sizes) - 1)} weight arrays, "
                                 f"got {len(layers)}")
            for l in range(len(sizes) - 1):
                shapes = ((sizes[l + 1], sizes[l]), (sizes[l + 1],))
                for w, shape in zip(layers[2 * l:2 * l + 2], shapes):
                    if w.shape != shape:
                        raise ValueError(f"species {a}, layer {l}: weight shape {w.shape}, "
                                         f"expected {shape}")
                    if not np.all(np.isfinite(w)):
                        raise ValueError(f"species {a}, layer {l}: weights must be finite")
            weights.append(layers)
        if len(weights) != offset.shape[0]:
            raise ValueError(f"{len(weights)} weight sets for {offset.shape[0]} species")
        object.__setattr__(self, "hidden", hidden)
        object.__setattr__(self, "weights", tuple(weights))
        object.__setattr__(self, "offset", offset)
        object.__setattr__(self, "scale", scale)

    @property
    def sizes(self):
        """Layer widths ``(K, hidden..., 1)``."""
        return (self.offset.shape[1],) + self.hidden + (1,)


@dataclass(frozen=True, eq=False)
class SplineReadout:
    """s-MEAM embedding ``R_a(G) = U_a(G_rho + G_t) - U_a(0)``; ``U`` per species."""

    U: tuple

    def __post_init__(self):
        object.__setattr__(self, "U", tuple(self.U))


@dataclass(frozen=True, eq=False)
class Model:
    """An s-NNP (see the module docstring for the fields)."""

    species: tuple
    rho: tuple
    f: tuple
    g: tuple
    phi: tuple
    readout: object
    e0: np.ndarray
    metadata: dict = field(default_factory=dict)
    core: object = None
    legendre: tuple = ()

    def __post_init__(self):
        species = tuple(self.species)
        S = len(species)
        if S == 0:
            raise ValueError("a model needs at least one species")
        for sym in species:
            if sym not in atomic_numbers:
                raise ValueError(f"unknown element symbol {sym!r}")
        if len(set(species)) != S:
            raise ValueError(f"duplicate species in {species}")
        P = S * (S + 1) // 2
        rho = tuple(tuple(row) for row in self.rho)
        f = tuple(tuple(row) for row in self.f)
        g = tuple(tuple(row) for row in self.g)
        phi = tuple(self.phi)
        for name, rows, width in (("rho", rho, S), ("f", f, S), ("g", g, P)):
            for k, row in enumerate(rows):
                if len(row) != width or not all(isinstance(s, Spline) for s in row):
                    raise ValueError(f"{name}[{k}] must hold {width} splines, got {len(row)}")
        if len(g) != len(f):
            raise ValueError(f"{len(f)} f filters but {len(g)} g filters")
        if len(phi) not in (0, P):
            raise ValueError(f"phi must hold 0 or {P} splines, got {len(phi)}")
        legendre = tuple(self.legendre)
        for k, filt in enumerate(legendre):
            if not isinstance(filt, LegendreFilter) or len(filt.f) != S:
                raise ValueError(f"legendre[{k}] must be a LegendreFilter of {S} radial splines")
            if filt.degree != legendre[0].degree:
                raise ValueError(f"legendre[{k}] has degree {filt.degree}, legendre[0] "
                                 f"{legendre[0].degree}: one degree L for all")
            if filt.per_degree != legendre[0].per_degree:
                raise ValueError(f"legendre[{k}] has per_degree={filt.per_degree}, legendre[0] "
                                 f"{legendre[0].per_degree}: one kind of output for all")
        K = len(rho) + len(f) + sum(filt.n_outputs for filt in legendre)
        if K == 0:
            raise ValueError("a model needs at least one filter")
        if isinstance(self.readout, SplineReadout):
            if len(rho) != 1 or len(f) != 1 or legendre:
                raise ValueError("the spline (s-MEAM) readout needs exactly one pair and one "
                                 f"triplet filter, got {len(rho)} and {len(f)}")
            if len(self.readout.U) != S:
                raise ValueError(f"U must hold {S} splines, got {len(self.readout.U)}")
        elif isinstance(self.readout, MLPReadout):
            if self.readout.offset.shape != (S, K):
                raise ValueError(f"readout input scaling has shape {self.readout.offset.shape}, "
                                 f"expected {(S, K)}")
        else:
            raise TypeError(f"readout must be MLPReadout or SplineReadout, got {type(self.readout)}")
        e0 = _frozen(self.e0).reshape(-1)
        if e0.shape != (S,) or not np.all(np.isfinite(e0)):
            raise ValueError(f"e0 must hold {S} finite energies, got {self.e0}")
        if self.core is not None:
            if not isinstance(self.core, ZBLCore):
                raise TypeError(f"core must be a ZBLCore or None, got {type(self.core).__name__}")
            # beyond the cutoff the neighbour list has no pairs: the core must end before
            r_c = max(s.x1 for s in [s for row in rho + f for s in row] + list(phi)
                      + [s for filt in legendre for s in filt.f])
            if self.core.r_outer > r_c:
                raise ValueError(f"the core ends at {self.core.r_outer} Å, beyond the cutoff "
                                 f"{r_c} Å")
        for name, value in (("species", species), ("rho", rho), ("f", f), ("g", g),
                            ("phi", phi), ("e0", e0), ("metadata", dict(self.metadata)),
                            ("legendre", legendre)):
            object.__setattr__(self, name, value)

    @property
    def n_species(self):
        return len(self.species)

    @cached_property
    def cutoff(self):
        """Largest last knot of all radial splines (rho, f, phi, Legendre f), Å."""
        return max(s.x1 for s in self.radial_splines)

    @property
    def n_filters(self):
        """K = K_rho + K_t + K_l O, the readout's inputs (O inputs per Legendre filter)."""
        return len(self.rho) + len(self.f) + sum(filt.n_outputs for filt in self.legendre)

    @property
    def radial_splines(self):
        return ([s for row in self.rho + self.f for s in row] + list(self.phi)
                + [s for filt in self.legendre for s in filt.f])

    @property
    def readout_kind(self):
        return "spline" if isinstance(self.readout, SplineReadout) else "mlp"

    @property
    def splines(self):
        """All splines in table order: rho, f, g, phi, U, then the Legendre filters' f."""
        out = [s for rows in (self.rho, self.f, self.g) for row in rows for s in row]
        out += list(self.phi)
        if isinstance(self.readout, SplineReadout):
            out += list(self.readout.U)
        out += [s for filt in self.legendre for s in filt.f]
        return out

    def species_indices(self, numbers):
        """Map atomic numbers to species indices; ``ValueError`` names unknown elements."""
        numbers = np.asarray(numbers, dtype=np.int64)
        lookup = self._species_lookup
        # negative numbers would index the table from its end; numbers past it raise
        if numbers.min(initial=0) >= 0 and numbers.max(initial=0) < len(lookup):
            species_n = lookup[numbers]
            if species_n.min(initial=0) >= 0:
                return species_n
        unknown = sorted({chemical_symbols[z] if 0 <= z < len(lookup) else f"Z={z}"
                          for z in numbers.reshape(-1).tolist()} - set(self.species))
        raise ValueError(f"element(s) {', '.join(unknown)} not in the model "
                         f"(species: {', '.join(self.species)})")

    @cached_property
    def _species_lookup(self):
        """(119,) species index of each atomic number, -1 where the model lacks it."""
        lookup = np.full(len(chemical_symbols), -1, np.int64)
        for a, sym in enumerate(self.species):
            lookup[atomic_numbers[sym]] = a
        return lookup

    @property
    def readout_zero(self):
        """(S,) the readout's raw value at G = 0 per species, eV (``KernelModel.R0_e``)."""
        return self.kernel_model.R0_e

    @cached_property
    def kernel_model(self):
        """The model as the kernels read it (:class:`~snnp_calc.kernels.layout.KernelModel`).

        Built once (:func:`~snnp_calc.model.kernel_form.kernel_form`), as the model
        is immutable.
        """
        return kernel_form(self)

    @cached_property
    def triplet_range(self):
        """Å: neighbours at or beyond it take part in no triplet (``inf`` if that cannot be said).

        An f spline that ends with value 0 and end slope 0 is exactly zero past
        its last knot (linear extension), so triplets need only neighbours
        closer than the largest such last knot; this is what makes a triplet
        range shorter than the cutoff cheap. If any f ends otherwise (a LAMMPS
        file may), every neighbour within the cutoff counts.
        """
        f = [s for row in self.f for s in row]
        if any(s.y[-1] != 0.0 or s.dN != 0.0 for s in f):
            return np.inf
        # x0 + (x1 - x0), as the kernels' spline table stores the end, to the bit
        return max((s.x0 + (s.x1 - s.x0) for s in f), default=0.0)

    @cached_property
    def legendre_range(self):
        """Å: the :attr:`triplet_range` of the Legendre filters' radial splines."""
        f = [s for filt in self.legendre for s in filt.f]
        if any(s.y[-1] != 0.0 or s.dN != 0.0 for s in f):
            return np.inf
        return max((s.x0 + (s.x1 - s.x0) for s in f), default=0.0)

    # --- flat parameter vector -------------------------------------------------
    def to_vector(self):
        """Free parameters as one float64 vector (order: see module docstring)."""
        parts = [s.params[~s.fixed] for s in self.splines]
        parts += [filt.c.reshape(-1) for filt in self.legendre]
        if isinstance(self.readout, MLPReadout):
            parts += [w.reshape(-1) for layers in self.readout.weights for w in layers]
        parts.append(self.e0)
        return np.concatenate(parts)

    def from_vector(self, vector):
        """A new model with the free parameters taken from ``vector``."""
        vector = np.asarray(vector, dtype=np.float64)
        n_free = len(self.to_vector())
        if vector.shape != (n_free,):
            raise ValueError(f"expected a vector of {n_free} parameters, got shape {vector.shape}")
        pos = 0

        def take(n):
            nonlocal pos
            pos += n
            return vector[pos - n:pos]

        def spline(s):
            p = s.params
            p[~s.fixed] = take(int(np.count_nonzero(~s.fixed)))
            return s.with_params(p)

        rho = [[spline(s) for s in row] for row in self.rho]
        f = [[spline(s) for s in row] for row in self.f]
        g = [[spline(s) for s in row] for row in self.g]
        phi = [spline(s) for s in self.phi]
        ro = self.readout
        if isinstance(ro, SplineReadout):
            ro = SplineReadout([spline(s) for s in ro.U])
        legendre_f = [[spline(s) for s in filt.f] for filt in self.legendre]
        legendre = [replace(filt, f=lf, c=take(filt.c.size).reshape(filt.c.shape))
                    for lf, filt in zip(legendre_f, self.legendre)]
        if isinstance(ro, MLPReadout):
            weights = [[take(w.size).reshape(w.shape) for w in layers] for layers in ro.weights]
            ro = MLPReadout(ro.activation, ro.hidden, weights, ro.offset, ro.scale)
        e0 = take(self.n_species)
        return Model(self.species, rho, f, g, phi, ro, e0, self.metadata, self.core, legendre)

    def equals(self, other):
        """True if ``other`` describes the same model with bit-identical numbers."""
        if not isinstance(other, Model) or self.species != other.species:
            return False
        if self.readout_kind != other.readout_kind or self.metadata != other.metadata:
            return False
        if self.core != other.core or len(self.legendre) != len(other.legendre):
            return False
        if not all(a.equals(b) for a, b in zip(self.legendre, other.legendre)):
            return False
        mine, theirs = self.splines, other.splines
        if len(mine) != len(theirs) or not all(a.equals(b) for a, b in zip(mine, theirs)):
            return False
        if (len(self.rho), len(self.f), len(self.phi)) != (len(other.rho), len(other.f),
                                                             len(other.phi)):
            return False
        if isinstance(self.readout, MLPReadout):
            a, b = self.readout, other.readout
            if (a.activation, a.hidden) != (b.activation, b.hidden):
                return False
            arrays = [(x, y) for la, lb in zip(a.weights, b.weights) for x, y in zip(la, lb)]
            arrays += [(a.offset, b.offset), (a.scale, b.scale)]
            if not all(np.array_equal(x, y) for x, y in arrays):
                return False
        return np.array_equal(self.e0, other.e0)


def select_species(model, species):
    """The model restricted to, or reordered as, ``species``.

    Parameters
    ----------
    model : Model
    species : sequence of str
        Distinct symbols, each in ``model.species``: a subset in any order.
        Interactions among the kept species are unchanged.
    """
    species = tuple(species)
    missing = [s for s in species if s not in model.species]
    if missing or len(set(species)) != len(species) or not species:
        raise ValueError(f"{species} is not a set of distinct species of the model "
                         f"{model.species}")
    old = [model.species.index(s) for s in species]
    S, S_old = len(species), model.n_species
    pairs = [pair_index(old[b], old[c], S_old) for b in range(S) for c in range(b, S)]
    rho = [[row[a] for a in old] for row in model.rho]
    f = [[row[a] for a in old] for row in model.f]
    g = [[row[q] for q in pairs] for row in model.g]
    phi = [model.phi[q] for q in pairs] if model.phi else []
    ro = model.readout
    if isinstance(ro, SplineReadout):
        ro = SplineReadout([ro.U[a] for a in old])
    else:
        ro = MLPReadout(ro.activation, ro.hidden, [ro.weights[a] for a in old],
                        ro.offset[old], ro.scale[old])
    legendre = [replace(filt, f=[filt.f[a] for a in old], c=filt.c[pairs])
                for filt in model.legendre]
    return Model(species, rho, f, g, phi, ro, model.e0[old], model.metadata, model.core, legendre)
