"""Which structures to compute next: those a committee is least sure of, spread out.

Active learning by query by committee (Seung, Opper and Sompolinsky, COLT
1992; for interatomic potentials Smith et al., J. Chem. Phys. 148, 241733
(2018)): every structure of an unlabelled pool is evaluated by a committee
(:class:`snnp_calc.model.committee.Committee`) and ranked by the spread of
its members' predictions, a proxy for the model's error there (rank
correlation 0.6-0.8 on forces, ``docs/committee/committee.md``):

- ``by="forces"``: the largest per-atom force deviation,
  ``max_i sqrt(Σ_c σ_ic²)`` eV/Å, with ``σ_ic`` the standard deviation over
  members (ddof=1) of force component c of atom i; the "max force
  deviation" of DP-GEN (Zhang et al., Comput. Phys. Commun. 253, 107206
  (2020), Eq. 3), which flags one badly described atom in a large cell;
- ``by="energy"``: the standard deviation of the total energy per atom, eV/atom.

The N largest spreads often come from near-copies of one configuration
(neighbouring snapshots of one trajectory). With ``diverse=True`` the N are
chosen among the ``candidates`` × N largest by farthest-point sampling
(greedy max-min, Gonzalez, Theor. Comput. Sci. 38, 293 (1985)) in a
descriptor space: each structure is the vector of its composition and of
its per-species mean filter descriptors ``G_k`` (committee member 0's),
every column standardised over the pool. The first pick is the largest
spread; each next one maximises its spread times its distance to the
nearest pick so far. Weighting by the spread keeps a far but certain
structure (an elastic strain among AIMD snapshots) from beating a near but
uncertain one; near-copies of a pick score close to zero, and structures
whose vectors coincide with a pick are never picked.

Nothing is random: equal spreads go to the earlier pool structure, equal
scores to the larger spread, so one committee and pool give one answer.
"""
from dataclasses import dataclass

import numpy as np

from ..evaluate import evaluate_committee
from ..model.committee import Committee

BY = ("forces", "energy")
# info keys of the written structures: the spread, per measure, and the pool position
SPREAD_KEYS = {"forces": "committee_force_std", "energy": "committee_energy_std"}
UNITS = {"forces": "eV/Å", "energy": "eV/atom"}
CANDIDATES = 4
# standardised descriptor distance below which two structures count as one
SAME = 1e-6
# relative spread of a descriptor column below which it counts as constant
ROUND_OFF = 1e-9


@dataclass(frozen=True)
class Selection:
    """The structures picked from a pool, in the order they were picked.

    Attributes
    ----------
    indices : ndarray of int, shape (N,)
        Positions in the pool.
    spreads : ndarray, shape (N,)
        Their spreads (eV/Å for ``by="forces"``, eV/atom for ``"energy"``).
    by : str
    pool_spreads : ndarray, shape (n_pool,)
        Every pool structure's spread.
    """

    indices: np.ndarray
    spreads: np.ndarray
    by: str
    pool_spreads: np.ndarray


def spread_and_features(committee, atoms, by):
    """One structure's committee spread and its descriptor vector (unscaled).

    Parameters
    ----------
    committee : Committee
    atoms : ase.Atoms
    by : {"forces", "energy"}

    Returns
    -------
    spread : float
        eV/Å or eV/atom (module docstring).
    features : ndarray, shape (S * (1 + K),)
        Per species of the committee: the fraction of atoms, then their mean
        descriptors (NaN where the structure has none of it: :func:`standardised`
        then puts them at the pool's mean, so that only the fraction tells).
    """
    out = evaluate_committee(committee, atoms.numbers, atoms.positions, atoms.cell.array,
                             atoms.pbc)
    n = len(atoms)
    if by == "forces":
        spread = float(np.sqrt((out["forces_std"] ** 2).sum(axis=1)).max())
    else:
        spread = out["energy_std"] / n
    species_n = committee.species_indices(atoms.numbers)
    G_nf = out["descriptors"]
    parts = []
    for a in range(len(committee.species)):
        mine = species_n == a
        mean_f = G_nf[mine].mean(axis=0) if mine.any() else np.full(G_nf.shape[1], np.nan)
        parts.append(np.concatenate(([mine.sum() / n], mean_f)))
    return spread, np.concatenate(parts)


def standardised(X_sd):
    """Columns shifted to mean 0 and scaled to standard deviation 1.

    NaN entries (a species the structure lacks) become 0, the column's mean.
    Columns that vary only at round-off (standard deviation below
    :data:`ROUND_OFF` times their magnitude, e.g. copies of one structure)
    become 0 too: scaled up, round-off would look like distance.
    """
    X_sd = np.array(X_sd, dtype=np.float64)
    present = ~np.isnan(X_sd)
    count_d = present.sum(axis=0)
    mean_d = np.where(present, X_sd, 0.0).sum(axis=0) / np.maximum(count_d, 1)
    X_sd = np.where(present, X_sd - mean_d, 0.0)
    scale_d = np.sqrt((X_sd ** 2).sum(axis=0) / np.maximum(count_d, 1))
    varies_d = scale_d > ROUND_OFF * np.maximum(np.abs(mean_d), 1.0)
    return np.where(varies_d, X_sd / np.where(varies_d, scale_d, 1.0), 0.0)


def farthest_points(X_sd, order_s, n, weight_s=None):
    """Greedy weighted max-min picks of ``n`` rows of ``X_sd``, among rows ``order_s``.

    Parameters
    ----------
    X_sd : ndarray, shape (n_structures, d)
    order_s : ndarray of int
        Candidate rows, best first: the first is picked first, and ties go
        to the earlier candidate.
    n : int
    weight_s : ndarray, shape (n_structures,), optional
        Non-negative weights (the spreads): each next pick maximises weight
        times distance to the nearest pick. None: all 1 (plain max-min).

    Returns
    -------
    list of int
        Picked rows, at most ``n``: fewer when the other candidates all
        coincide (within :data:`SAME`) with picked ones or weigh nothing.
    """
    order_s = np.asarray(order_s)
    w_s = np.ones(len(order_s)) if weight_s is None else np.asarray(weight_s)[order_s]
    picked = [int(order_s[0])]
    nearest_s = np.linalg.norm(X_sd[order_s] - X_sd[order_s[0]], axis=1)
    while len(picked) < n:
        # copies of a pick never count, whatever their weight
        score_s = np.where(nearest_s > SAME, w_s * nearest_s, 0.0)
        best = int(np.argmax(score_s))  # the first of equal scores
        if not score_s[best] > 0.0:
            break
        picked.append(int(order_s[best]))
        nearest_s = np.minimum(nearest_s,
                               np.linalg.norm(X_sd[order_s] - X_sd[order_s[best]], axis=1))
    return picked


def select_structures(committee, pool, n, by="forces", diverse=False, candidates=CANDIDATES,
                      source="pool"):
    """Pick the ``n`` pool structures to label next (see the module docstring).

    Parameters
    ----------
    committee : Committee
    pool : sequence of ase.Atoms
        Structures without (or with) reference values; only geometry is used.
    n : int
        How many to pick, 1 .. len(pool).
    by : {"forces", "energy"}
    diverse : bool
        Farthest-point sampling among the ``candidates * n`` largest spreads
        (more if those hold fewer than ``n`` distinct structures).
    candidates : float
        At least 1.
    source : str
        Name of the pool in error messages (its file).

    Returns
    -------
    Selection

    Raises
    ------
    ValueError
        For a single model, an unknown ``by``, ``n`` out of range, a pool
        structure with an element the committee lacks (naming
        ``source:index``), or, with ``diverse``, fewer than ``n`` distinct
        structures in the pool.
    """
    if not isinstance(committee, Committee):
        raise ValueError(f"selection needs a committee of models, got a single "
                         f"{type(committee).__name__}; fit one with snnp fit --committee N")
    if by not in BY:
        raise ValueError(f"by must be one of {', '.join(BY)}, got {by!r}")
    pool = list(pool)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise ValueError(f"n must be a whole number of structures, got {n!r}")
    if not 1 <= n <= len(pool):
        raise ValueError(f"{source}: asked for {n} structures from a pool of {len(pool)}")
    if not (np.isfinite(candidates) and candidates >= 1):
        raise ValueError(f"candidates must be a finite number of at least 1, got "
                         f"{candidates!r}")
    spreads_s, features = np.empty(len(pool)), []
    for k, atoms in enumerate(pool):
        if len(atoms) == 0:
            raise ValueError(f"{source}:{k}: structure has no atoms")
        try:
            spreads_s[k], x = spread_and_features(committee, atoms, by)
        except ValueError as err:
            raise ValueError(f"{source}:{k}: {err}") from err
        features.append(x)
    # largest spread first; a stable sort leaves ties in pool order
    order_s = np.argsort(-spreads_s, kind="stable")
    if not diverse:
        picked = order_s[:n]
    else:
        picked = _diverse(standardised(np.array(features)), spreads_s, order_s, n, candidates,
                          source)
    picked = np.asarray(picked, dtype=np.int64)
    return Selection(picked, spreads_s[picked], by, spreads_s)


def _diverse(X_sd, spreads_s, order_s, n, candidates, source):
    """Farthest points among the top ``candidates * n``, widened until ``n`` are distinct."""
    size = min(len(order_s), int(np.ceil(candidates * n)))
    while True:
        picked = farthest_points(X_sd, order_s[:size], n, spreads_s)
        if len(picked) == n:
            return picked
        if size == len(order_s):
            if not spreads_s.max() > 0:
                raise ValueError(f"{source}: the committee's spread is zero on every "
                                 "structure (its members agree), so there is nothing to "
                                 "rank; fit the members from different seeds")
            raise ValueError(f"{source}: only {len(picked)} distinct structures (by their "
                             f"descriptors) with a non-zero spread in a pool of "
                             f"{len(order_s)}; asked for {n}")
        size = min(len(order_s), 2 * size)
