"""Radial ranges of a starting model, read off the training data's pair distances.

A fit can only shape a filter where the data put neighbours, and every radial
spline must bend to value and slope zero over its last knot interval. If a
range ends just beyond a neighbour shell, a few per cent of strain moves the
whole shell through that interval, and the equation of state turns soft or
wiggles there (Ge, diamond: a 2.0 x nn cutoff 4 % above the third shell gave a
flat E(V) and a negative local bulk modulus; ``docs/defaults/defaults-round2.md``).
So the default cutoff is put in a *gap* between shells: the lowest local
minimum of the smoothed histogram of pair distances within ``GAP_WINDOW``
median nearest-neighbour distances (nn) of :data:`CUTOFF_RANGE`. This is the
rule of thumb of classical potentials, "cut off between shells", made
automatic and independent of the lattice: it looks only at the data.

The triplet filters end at :data:`TRIPLET_RANGE` x nn, not in a gap: a
triplet range is a compromise of cost (triplets grow as the square of the
neighbours) and reach, and on Ge moving it into the gap between the first and
second shells (3.47 against 3.93 Å) made the validation errors and the elastic
constants worse (``docs/defaults/defaults-round3.md``), as the shorter 3.2 Å
did in round 2: the triplets gain from the inner tail of the second shell.

Cost on large data: the nearest-neighbour search looks within
:data:`NEAR_RADIUS` first (and within 6 Å only for frames with an atom that
has no neighbour that close), and the histogram is taken over a spread sample
of at most :data:`~snnp_calc.fitting.training_set.SAMPLE_ATOMS` atoms: on 100k atoms
these two passes took 25 s.
"""
import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..evaluate import neighbour_pairs
from .training_set import SAMPLE_ATOMS, spread_sample

# Nominal ranges in units of the median nearest-neighbour distance nn.
CUTOFF_RANGE = 2.0
TRIPLET_RANGE = 1.6
# Default range of the Legendre filters, same units (at most the cutoff); not gap-placed.
LEGENDRE_RANGE = 2.0
# A gap is looked for within this many nn of the nominal range.
GAP_WINDOW = 0.25
# Histogram bin width and Gaussian smoothing width, nn: the smoothing is wider than the
# thermal spread of a shell in AIMD data, so that noise between shells is not a gap.
# Å: nearest neighbours are looked for this close first (fewer pairs than at 6 Å)
NEAR_RADIUS = 4.0
BIN_WIDTH = 0.005
SMOOTHING = 0.02
# The smoothing kernel reaches this far (nn), so that in an empty gap (crystalline data) the
# smoothed count is the overlap of the two shells' Gaussian tails, lowest in the gap's middle
# and lower in a wider gap, never a plateau of zeros; the histogram extends this far beyond
# the window, so that its end does not bend the smoothed counts inside.
KERNEL_REACH = 0.4


def _pairs(frame, cutoff):
    a = frame.atoms
    try:
        return neighbour_pairs(a.positions, a.cell.array, a.pbc, cutoff)
    except ValueError as err:
        raise ValueError(f"{frame.source}: {err}") from err


def distance_range(frames, cutoff=None):
    """Shortest pair distance and median nearest-neighbour distance (Å) in ``frames``.

    Parameters
    ----------
    frames : list of snnp_calc.dataset.Frame
    cutoff : float, optional
        Å; pairs are looked for within this distance (default 6 Å).

    Returns
    -------
    shortest, nearest : float
    """
    shortest, nearest = np.inf, []
    radius = cutoff or 6.0
    for frame in frames:
        i, _, d, _ = _pairs(frame, min(radius, NEAR_RADIUS))
        if radius > NEAR_RADIUS and len(np.unique(i)) < len(frame.atoms):
            # an atom without a neighbour within NEAR_RADIUS: look as far as asked
            i, _, d, _ = _pairs(frame, radius)
        if len(d):
            shortest = min(shortest, d.min())
            per_atom = np.full(len(frame.atoms), np.inf)
            np.minimum.at(per_atom, i, d)
            nearest.extend(per_atom[np.isfinite(per_atom)])
    if not nearest:
        raise ValueError("no pair of atoms within 6 Å in the training data")
    return float(shortest), float(np.median(nearest))


def distance_histogram(frames, nearest, upto):
    """Smoothed histogram of the pair distances in ``frames``, in units of ``nearest``.

    Parameters
    ----------
    frames : list of snnp_calc.dataset.Frame
    nearest : float
        Å, the unit of distance (the median nearest-neighbour distance).
    upto : float
        Largest distance of interest, in units of ``nearest``.

    Returns
    -------
    x_b : ndarray, shape (B,)
        Bin centres, units of ``nearest``.
    h_b : ndarray, shape (B,)
        Pairs per bin (each pair counted from both ends), smoothed by a
        Gaussian of width :data:`SMOOTHING`; reaches ``upto`` +
        :data:`KERNEL_REACH`.
    """
    edges_b = np.arange(0.0, upto + KERNEL_REACH + BIN_WIDTH, BIN_WIDTH)
    h_b = np.zeros(len(edges_b) - 1)
    for frame in frames:
        d_p = _pairs(frame, edges_b[-1] * nearest)[2]
        h_b += np.histogram(d_p / nearest, edges_b)[0]
    smooth_b = gaussian_filter1d(h_b, SMOOTHING / BIN_WIDTH, truncate=KERNEL_REACH / SMOOTHING)
    return 0.5 * (edges_b[1:] + edges_b[:-1]), smooth_b


def gap_near(x_b, h_b, nominal):
    """The lowest local minimum of ``h_b`` within :data:`GAP_WINDOW` of ``nominal``.

    Parameters
    ----------
    x_b, h_b : ndarray, shape (B,)
        From :func:`distance_histogram`.
    nominal : float
        Units of ``x_b``.

    Returns
    -------
    float
        The minimum's position, or ``nominal`` where the window holds no
        interior minimum (the data are too sparse there to say).
    """
    interior = np.flatnonzero((h_b[1:-1] < h_b[:-2]) & (h_b[1:-1] <= h_b[2:])) + 1
    interior = interior[np.abs(x_b[interior] - nominal) <= GAP_WINDOW]
    if not len(interior):
        return float(nominal)
    return float(x_b[interior[np.argmin(h_b[interior])]])


def default_cutoff(frames, nearest):
    """Default cutoff (Å) of a preset for ``frames``: a gap near :data:`CUTOFF_RANGE` x ``nearest``.

    Parameters
    ----------
    frames : list of snnp_calc.dataset.Frame
    nearest : float
        Å, the median nearest-neighbour distance (:func:`distance_range`).

    Returns
    -------
    float
        Å, rounded to 0.01 Å.
    """
    sample = [frames[k] for k in spread_sample(frames, SAMPLE_ATOMS)]
    x_b, h_b = distance_histogram(sample, nearest, CUTOFF_RANGE + GAP_WINDOW)
    return round(gap_near(x_b, h_b, CUTOFF_RANGE) * nearest, 2)
