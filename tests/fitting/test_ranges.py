"""The default cutoff in a gap between neighbour shells, from the data's pair distances."""
import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from snnp_calc.dataset import Frame
from snnp_calc.fitting.ranges import (
    CUTOFF_RANGE,
    GAP_WINDOW,
    NEAR_RADIUS,
    default_cutoff,
    distance_histogram,
    distance_range,
    gap_near,
)


def crystal(name, a):
    """A 3 x 3 x 3 cubic supercell: diamond Ge or fcc."""
    return bulk(name, "diamond" if name == "Ge" else "fcc", a=a, cubic=True) * (3, 3, 3)


def crystal_frames(name, a, n=6, rattle=0.05):
    """Thermal-like snapshots of :func:`crystal` (the ranges need no labels)."""
    frames = []
    for k in range(n):
        atoms = crystal(name, a)
        atoms.rattle(rattle, seed=k)
        frames.append(Frame(atoms, 0.0, np.zeros((len(atoms), 3)), None, "bulk", f"{name}:{k}"))
    return frames


def shells(name, a):
    """Distinct neighbour distances of the ideal crystal, Å."""
    d = crystal(name, a).get_all_distances(mic=True)[0]
    return np.unique(np.round(d[d > 0], 3))


def test_gap_near_takes_the_lowest_minimum_in_the_window():
    x = np.linspace(1.0, 3.0, 401)
    h = 5 + np.cos(2 * np.pi * (x - 1.7) / 0.3)  # minima at 1.55, 1.85, 2.15, 2.45
    h += 0.5 * (x - 2.15) ** 2                    # the one at 2.15 is the lowest
    assert gap_near(x, h, 2.0) == pytest.approx(2.15, abs=0.006)
    assert gap_near(x, h[::-1], 2.0) == pytest.approx(1.85, abs=0.006)
    # no interior minimum within the window: the nominal value
    flat = np.linspace(10, 0, 401)
    assert gap_near(x, flat, 2.0) == 2.0
    far = (x - 1.2) ** 2
    assert gap_near(x, far, 2.0) == 2.0
    assert abs(1.2 - 2.0) > GAP_WINDOW


@pytest.mark.parametrize("name, a", [("Ge", 5.76), ("Ni", 3.52)])
def test_the_default_cutoff_falls_in_the_middle_of_a_gap(name, a):
    frames = crystal_frames(name, a)
    _, nearest = distance_range(frames)
    cutoff = default_cutoff(frames, nearest)
    r_s = shells(name, a)
    # crystalline data: the cutoff in the middle of the gap between the shells around it
    # (the tails of the two shells' smoothed peaks balance there)
    below, above = r_s[r_s < cutoff].max(), r_s[r_s > cutoff].min()
    assert abs(cutoff - 0.5 * (below + above)) < 0.1 * (above - below), (cutoff, r_s[:6])
    assert abs(cutoff / nearest - CUTOFF_RANGE) <= GAP_WINDOW + 0.01
    if name == "Ge":
        # diamond: the nominal 2.0 x nn (4.84 Å) is 1 % above the third shell (4.78 Å);
        # the gap is between the third and the fourth (5.76 Å)
        assert r_s[2] < cutoff < r_s[3]


def test_the_histogram_counts_every_pair_from_both_ends():
    frames = crystal_frames("Ni", 3.52, n=1, rattle=0.0)
    nearest = distance_range(frames)[1]
    x, h = distance_histogram(frames, nearest, 1.2)
    # fcc: 12 nearest neighbours per atom, 108 atoms, nothing else below 1.2 nn
    assert h[x < 1.2 - 0.1].sum() == pytest.approx(12 * 108, rel=1e-6)


def test_a_frame_with_coincident_atoms_is_named():
    frames = crystal_frames("Ni", 3.52, n=2)
    nearest = distance_range(frames)[1]
    frames[1].atoms.positions[1] = frames[1].atoms.positions[0]
    with pytest.raises(ValueError, match="Ni:1"):
        distance_histogram(frames, nearest, 1.2)
    with pytest.raises(ValueError, match="Ni:1"):
        default_cutoff(frames, nearest)


def test_neighbours_beyond_the_first_search_radius_are_found():
    """An atom with no neighbour within NEAR_RADIUS (a wide dimer, a sparse cell): the
    search goes on to 6 Å, and the distances are those of a direct calculation."""
    wide = Atoms("Mo2", positions=[(0, 0, 0), (NEAR_RADIUS + 1.0, 0, 0)], cell=[20, 20, 20],
                 pbc=False)
    dense = crystal("Cu", 3.61)
    frames = [Frame(a, 0.0, np.zeros((len(a), 3)), None, "x", f"f{k}")
              for k, a in enumerate((wide, dense))]
    shortest, nearest = distance_range(frames)
    assert shortest == pytest.approx(3.61 / np.sqrt(2))
    # 108 fcc atoms at a/sqrt(2) and the dimer's two at 5 Å: the median is the fcc distance
    assert nearest == pytest.approx(3.61 / np.sqrt(2))
    assert distance_range(frames[:1]) == pytest.approx((NEAR_RADIUS + 1.0,) * 2)
