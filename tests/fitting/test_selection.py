"""Choosing structures by committee spread: against the members' own predictions."""
import numpy as np
import pytest
from ase.build import bulk

from snnp_calc.fitting.selection import (
    farthest_points,
    select_structures,
    spread_and_features,
    standardised,
)
from tests.helpers import member_results


def pool_of(n, seed=0):
    """``n`` different Mo-Ni cells: rattled by growing amounts, strained, mixed."""
    rng = np.random.default_rng(seed)
    pool = []
    for k in range(n):
        atoms = bulk("Mo", "bcc", 3.05 + 0.03 * (k % 5), cubic=True).repeat((2, 2, 1 + k % 2))
        atoms.rattle(0.02 + 0.03 * k, seed=seed + k)
        atoms.symbols[rng.choice(len(atoms), k % 3, replace=False)] = "Ni"
        pool.append(atoms)
    return pool


def spreads_from_members(committee, pool, by):
    """The spread of each structure, from each member alone through the calculator."""
    out = []
    for atoms in pool:
        runs = member_results(committee, atoms)
        if by == "forces":
            std_nc = np.std([r["forces"] for r in runs], axis=0, ddof=1)
            out.append(np.sqrt((std_nc ** 2).sum(axis=1)).max())
        else:
            out.append(np.std([r["energy"] for r in runs], ddof=1) / len(atoms))
    return np.array(out)


@pytest.mark.parametrize("by", ["forces", "energy"])
def test_picks_the_largest_spreads(committee, by):
    pool = pool_of(12)
    expected = spreads_from_members(committee, pool, by)
    chosen = select_structures(committee, pool, 4, by=by)
    np.testing.assert_allclose(chosen.pool_spreads, expected, rtol=1e-10)
    assert chosen.indices.tolist() == np.argsort(-expected)[:4].tolist()
    np.testing.assert_allclose(chosen.spreads, expected[chosen.indices], rtol=1e-10)
    # the constructed pool has distinct spreads, so the top 4 are a real choice
    assert len(np.unique(np.round(expected, 12))) == len(pool)


def test_selection_is_deterministic(committee):
    pool = pool_of(10)
    first = select_structures(committee, pool, 5, diverse=True, candidates=2)
    again = select_structures(committee, [a.copy() for a in pool], 5, diverse=True,
                              candidates=2)
    assert first.indices.tolist() == again.indices.tolist()
    np.testing.assert_array_equal(first.pool_spreads, again.pool_spreads)


def test_diverse_never_returns_copies_of_one_frame(committee):
    pool = pool_of(8)
    worst = int(np.argmax(spreads_from_members(committee, pool, "forces")))
    # five copies of the most uncertain frame, each shifted rigidly (same structure)
    copies = []
    for k in range(5):
        atoms = pool[worst].copy()
        atoms.translate([0.1 * k, 0.0, 0.0])
        atoms.wrap()
        copies.append(atoms)
    pool = pool + copies
    plain = select_structures(committee, pool, 4)
    same = set(range(8, 13)) | {worst}
    assert sum(k in same for k in plain.indices) == 4  # top 4 by spread: all the copies
    diverse = select_structures(committee, pool, 4, diverse=True)
    assert sum(k in same for k in diverse.indices) == 1
    assert diverse.indices[0] in same  # the largest spread comes first
    assert len(set(diverse.indices.tolist())) == 4


def copies_of(atoms, n):
    """``n`` rigidly shifted, wrapped copies of ``atoms``: one structure, round-off apart."""
    out = []
    for k in range(n):
        copy = atoms.copy()
        copy.translate([0.1 * k, 0.05 * k, 0.0])
        copy.wrap()
        out.append(copy)
    return out


def test_diverse_widens_the_candidates_then_gives_up(committee):
    others = pool_of(8)
    worst = int(np.argmax(spreads_from_members(committee, others, "forces")))
    # the 4 copies have the 4 largest spreads: the first 3 candidates hold one structure
    pool = copies_of(others[worst], 4) + [a for k, a in enumerate(others) if k != worst][:3]
    chosen = select_structures(committee, pool, 3, diverse=True, candidates=1)
    assert sum(k < 4 for k in chosen.indices) == 1 and len(set(chosen.indices.tolist())) == 3
    with pytest.raises(ValueError, match="only 4 distinct structures .* non-zero spread .* "
                                         "asked for 5"):
        select_structures(committee, pool, 5, diverse=True, source="pool.xyz")


def test_copies_alone_are_one_structure(committee):
    pool = copies_of(pool_of(4)[3], 5)
    with pytest.raises(ValueError, match="only 1 distinct structures"):
        select_structures(committee, pool, 2, diverse=True)
    assert len(select_structures(committee, pool, 2).indices) == 2  # without diverse: top 2


def test_zero_spreads_are_named(committee):
    same = type(committee)([committee.members[0]] * 2)
    with pytest.raises(ValueError, match="spread is zero on every structure"):
        select_structures(same, pool_of(4), 2, diverse=True)


def test_a_missing_species_counts_once(committee, committee_atoms):
    _, with_ni = spread_and_features(committee, committee_atoms, "forces")
    pure = committee_atoms.copy()
    pure.symbols[:] = "Mo"
    _, without = spread_and_features(committee, pure, "forces")
    K = committee.members[0].n_filters
    assert np.isnan(without[1 + K + 1:]).all() and without[1 + K] == 0.0
    X = standardised(np.array([with_ni, without, with_ni]))
    # the Ni descriptors of the Ni-free structure sit at the mean: only the fraction differs
    np.testing.assert_allclose(X[1, 1 + K + 1:], 0.0)
    assert X[1, 1 + K] != 0.0


def test_farthest_points_are_max_min():
    X = np.array([[0.0], [0.1], [10.0], [5.0], [10.0]])
    assert farthest_points(X, np.array([0, 1, 2, 3, 4]), 3) == [0, 2, 3]
    assert farthest_points(X, np.array([1, 0]), 2) == [1, 0]
    # copies of picked rows are never picked: only 4 distinct rows exist
    assert farthest_points(X, np.arange(5), 5) == [0, 2, 3, 1]


def test_farthest_points_weigh_distance_by_spread():
    X = np.array([[0.0], [10.0], [2.0], [2.0]])
    order = np.array([0, 1, 2, 3])
    # far but nearly certain (row 1: 0.1 x 10) loses to near and uncertain (row 2: 1 x 2)
    assert farthest_points(X, order, 2, np.array([1.0, 0.1, 1.0, 1.0])) == [0, 2]
    assert farthest_points(X, order, 2) == [0, 1]
    # nothing with zero weight or coinciding with a pick is taken
    assert farthest_points(X, order, 4, np.array([1.0, 0.0, 1.0, 1.0])) == [0, 2]


def test_features_are_composition_and_mean_descriptors(committee, committee_atoms):
    _, x = spread_and_features(committee, committee_atoms, "forces")
    K = committee.members[0].n_filters
    species = committee.species_indices(committee_atoms.numbers)
    assert x.shape == (2 * (1 + K),)
    assert x[0] == pytest.approx(np.mean(species == 0))
    assert x[1 + K] == pytest.approx(np.mean(species == 1))
    X = standardised(np.array([[1.0, 2.0], [3.0, 2.0]]))
    np.testing.assert_allclose(X, [[-1.0, 0.0], [1.0, 0.0]])


def test_bad_input_is_named(committee):
    pool = pool_of(3)
    with pytest.raises(ValueError, match="single Model; fit one with snnp fit --committee"):
        select_structures(committee.members[0], pool, 1)
    with pytest.raises(ValueError, match="by must be one of forces, energy"):
        select_structures(committee, pool, 1, by="stress")
    with pytest.raises(ValueError, match="pool.xyz: asked for 4 structures from a pool of 3"):
        select_structures(committee, pool, 4, source="pool.xyz")
    with pytest.raises(ValueError, match="asked for 0"):
        select_structures(committee, pool, 0)
    with pytest.raises(ValueError, match="n must be a whole number"):
        select_structures(committee, pool, 1.5)
    with pytest.raises(ValueError, match="candidates must be a finite number"):
        select_structures(committee, pool, 1, diverse=True, candidates=np.inf)
    pool[2].symbols[0] = "Cu"
    with pytest.raises(ValueError, match=r"pool.xyz:2: element\(s\) Cu not in the model"):
        select_structures(committee, pool, 1, source="pool.xyz")
