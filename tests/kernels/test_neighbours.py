"""Skin lists: the largest move decides a rebuild, and kept pairs equal a fresh list's."""
import numpy as np
import pytest
from ase.build import bulk, fcc111

from snnp_calc.evaluate import PairList, neighbour_pairs
from snnp_calc.kernels.neighbours import largest_move


def test_largest_move_is_the_largest_squared_displacement():
    rng = np.random.default_rng(0)
    r, ref = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    assert largest_move(r, ref) == pytest.approx(((r - ref) ** 2).sum(axis=1).max(), rel=1e-15)
    assert largest_move(r[:0], ref[:0]) == 0.0
    r[7, 1] = np.nan
    assert np.isnan(largest_move(r, ref))


def test_rebuild_exactly_past_half_the_skin():
    atoms = bulk("Mo", "bcc", 3.15, cubic=True).repeat(3)
    pl = PairList(0.5)
    args = (atoms.cell.array, atoms.pbc, 4.0)
    pl.pairs(atoms.positions, *args)
    moved = atoms.positions.copy()
    moved[4] += [0.0, 0.0, 0.249]
    pl.pairs(moved, *args)
    assert pl.builds == 1
    moved[4] += [0.0, 0.0, 0.002]
    pl.pairs(moved, *args)
    assert pl.builds == 2


@pytest.mark.parametrize("pbc", [(True, True, False), (False, False, False)])
def test_reused_pairs_of_slabs_and_clusters_equal_fresh_ones(pbc):
    atoms = fcc111("Cu", (3, 3, 4), vacuum=6.0)
    atoms.pbc = pbc
    rng = np.random.default_rng(1)
    pl = PairList(1.0)
    for step in range(6):
        atoms.positions += rng.normal(scale=0.03, size=atoms.positions.shape)
        kept = pl.pairs(atoms.positions, atoms.cell.array, atoms.pbc, 4.5)
        fresh = neighbour_pairs(atoms.positions, atoms.cell.array, atoms.pbc, 4.5)
        for a, b in zip(kept, fresh):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert pl.builds < 6
