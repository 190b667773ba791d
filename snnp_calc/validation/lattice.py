"""Crystals to validate on: a lattice, its parameters, and the cells built from them.

The abstraction is :class:`Crystal`, an immutable record ``(symbol, lattice, a, c)``
for the four lattices of the Zuo et al. (2020) elements and their peers: ``bcc``,
``fcc``, ``diamond`` (one parameter ``a``, Å, the cubic conventional edge) and
``hcp`` (``a`` and ``c``, Å). It builds every cell the property modules need with
:func:`ase.build.bulk`: the conventional cell (cubic: 2, 4 or 8 atoms; hcp: the
2-atom hexagonal cell), the primitive cell and supercells of the conventional one.

:func:`classify_lattice` names the lattice of a near-perfect crystal from its
nearest-neighbour shells, and :func:`guess_crystal` picks a starting crystal from
reference data (the lowest-energy bulk frame) or from ASE's
:data:`ase.data.reference_states`.
"""
from dataclasses import dataclass, replace

import numpy as np
from ase.build import bulk
from ase.data import atomic_numbers, reference_states
from ase.neighborlist import neighbor_list

LATTICES = ("bcc", "fcc", "hcp", "diamond")
CUBIC = ("bcc", "fcc", "diamond")

# atoms in the cell that ``Crystal.conventional`` builds
ATOMS_PER_CELL = {"bcc": 2, "fcc": 4, "diamond": 8, "hcp": 2}

# nearest-neighbour coordination and distance / a of the ideal lattices
# (Kittel, Introduction to Solid State Physics, 8th ed., ch. 1, Table 2)
COORDINATION = {"bcc": 8, "fcc": 12, "hcp": 12, "diamond": 4}
NN_OVER_A = {"bcc": np.sqrt(3) / 2, "fcc": 1 / np.sqrt(2), "diamond": np.sqrt(3) / 4}

IDEAL_C_OVER_A = np.sqrt(8 / 3)


@dataclass(frozen=True)
class Crystal:
    """An elemental crystal: the element, its lattice and lattice parameters.

    Attributes
    ----------
    symbol : str
        Chemical symbol.
    lattice : {"bcc", "fcc", "hcp", "diamond"}
    a : float
        Lattice parameter, Å: the cubic edge, or the hexagonal in-plane one.
    c : float or None
        hcp only: the lattice parameter along the 6-fold axis, Å.
    """

    symbol: str
    lattice: str
    a: float
    c: float = None

    def __post_init__(self):
        if self.symbol not in atomic_numbers:
            raise ValueError(f"unknown element {self.symbol!r}")
        if self.lattice not in LATTICES:
            raise ValueError(f"lattice {self.lattice!r} is not one of {', '.join(LATTICES)}")
        for name in ("a", "c"):
            value = getattr(self, name)
            if value is None:
                continue
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{self.symbol} {self.lattice}: lattice parameter {name} = "
                                 f"{value} must be a positive number (Å)")
            object.__setattr__(self, name, float(value))
        if self.lattice == "hcp" and self.c is None:
            object.__setattr__(self, "c", self.a * IDEAL_C_OVER_A)
        if self.lattice != "hcp" and self.c is not None:
            raise ValueError(f"{self.symbol} {self.lattice}: c applies to hcp only")

    @property
    def cubic(self):
        """Whether the lattice is cubic (one lattice parameter)."""
        return self.lattice in CUBIC

    @property
    def nn_distance(self):
        """Nearest-neighbour distance, Å (hcp: the shorter of the two first-shell bonds)."""
        if self.cubic:
            return self.a * NN_OVER_A[self.lattice]
        return min(self.a, np.sqrt(self.a ** 2 / 3 + self.c ** 2 / 4))

    @property
    def volume_per_atom(self):
        """Volume per atom of the ideal crystal, Å³."""
        return abs(np.linalg.det(self.conventional().cell.array)) / ATOMS_PER_CELL[self.lattice]

    def scaled(self, factor):
        """The crystal with every lattice parameter multiplied by ``factor``."""
        return replace(self, a=self.a * factor, c=None if self.c is None else self.c * factor)

    def conventional(self):
        """The conventional cell: cubic for bcc/fcc/diamond, 2-atom hexagonal for hcp."""
        if self.cubic:
            return bulk(self.symbol, self.lattice, a=self.a, cubic=True)
        return bulk(self.symbol, "hcp", a=self.a, c=self.c)

    def primitive(self):
        """The primitive cell (1 atom for bcc/fcc, 2 for diamond and hcp)."""
        return bulk(self.symbol, self.lattice, a=self.a, c=self.c)

    def supercell(self, repeat):
        """The conventional cell repeated ``repeat`` (int or 3 ints) times."""
        return self.conventional().repeat(repeat)

    def as_dict(self):
        """JSON-ready ``{"symbol", "lattice", "a", "c"}`` (``c`` only for hcp)."""
        out = {"symbol": self.symbol, "lattice": self.lattice, "a": self.a}
        if self.c is not None:
            out["c"] = self.c
        return out

    @classmethod
    def from_volume(cls, symbol, lattice, volume_per_atom, c_over_a=IDEAL_C_OVER_A):
        """The crystal of ``lattice`` with the given volume per atom (Å³)."""
        if lattice in CUBIC:
            return cls(symbol, lattice, (volume_per_atom * ATOMS_PER_CELL[lattice]) ** (1 / 3))
        # hcp: V/N = (sqrt(3)/2) a^2 c / 2 with c = (c/a) a
        a = (4 * volume_per_atom / (np.sqrt(3) * c_over_a)) ** (1 / 3)
        return cls(symbol, lattice, a, a * c_over_a)


def neighbour_shells(atoms, n_shell=20):
    """Median (over atoms) of each atom's sorted neighbour distances, Å.

    Parameters
    ----------
    atoms : ase.Atoms
        A periodic crystal (3 periodic directions).
    n_shell : int
        How many of the nearest distances to return.

    Returns
    -------
    ndarray, shape (n_shell,)
        The k-th entry is the median over atoms of their k-th nearest distance;
        the median makes the shells robust to a few displaced atoms.
    """
    if not atoms.pbc.all() or len(atoms) == 0:
        raise ValueError("lattice identification needs a periodic crystal")
    # the 20th neighbour of every lattice here lies within 2.2 (V/N)^(1/3)
    cutoff = 2.2 * (atoms.get_volume() / len(atoms)) ** (1 / 3)
    i_p, d_p = neighbor_list("id", atoms, cutoff)
    counts = np.bincount(i_p, minlength=len(atoms))
    if counts.min() < n_shell:
        raise ValueError(f"lattice identification: an atom has only {counts.min()} neighbours "
                         f"within {cutoff:.2f} Å (not a dense crystal)")
    order = np.lexsort((d_p, i_p))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    nearest = d_p[order][starts[:, None] + np.arange(n_shell)]
    return np.median(nearest, axis=0)


def classify_lattice(atoms, gap=1.08):
    """The lattice of a near-perfect elemental crystal from its neighbour shells.

    The first-shell coordination is the position of the first relative gap
    larger than ``gap`` in the sorted neighbour distances: 8 (bcc), 12
    (fcc or hcp) or 4 (diamond). fcc and hcp differ in the third shell: the
    19th neighbour lies at sqrt(3) d_nn in fcc and at (c/a) a ≈ 1.63 d_nn in hcp
    (Kittel, Introduction to Solid State Physics, ch. 1).

    Parameters
    ----------
    atoms : ase.Atoms
    gap : float
        Smallest ratio of consecutive distances that separates two shells.

    Returns
    -------
    str
        One of :data:`LATTICES`.

    Raises
    ------
    ValueError
        If the coordination is none of 4, 8, 12.
    """
    d = neighbour_shells(atoms)
    jumps = np.nonzero(d[1:] / d[:-1] > gap)[0]
    coordination = int(jumps[0]) + 1 if len(jumps) else len(d)
    if coordination == 8:
        return "bcc"
    if coordination == 4:
        return "diamond"
    if coordination == 12:
        return "fcc" if d[18] / d[0] > 1.68 else "hcp"
    raise ValueError(f"cannot identify the lattice: first-shell coordination {coordination} "
                     "is none of 8 (bcc), 12 (fcc/hcp), 4 (diamond)")


def guess_crystal(symbol, lattice=None, a=None, c=None, frames=None):
    """A starting crystal for the relaxation, from what is given.

    Parameters
    ----------
    symbol : str
    lattice : str, optional
        Guessed when missing: from ``frames`` (:func:`classify_lattice` on the
        lowest-energy-per-atom bulk frame of pure ``symbol``), else from ASE's
        reference state of the element.
    a, c : float, optional
        Lattice parameters, Å. Guessed when missing: from the volume per atom
        of that frame, or from ASE's reference state (converted through the
        volume per atom when the lattice differs from ASE's).
    frames : list of snnp_calc.dataset.Frame, optional
        Reference structures.

    Returns
    -------
    Crystal

    Raises
    ------
    ValueError
        When neither the arguments, the frames nor ASE's reference data give a
        lattice and a lattice parameter.
    """
    if lattice is not None and lattice not in LATTICES:
        raise ValueError(f"lattice {lattice!r} is not one of {', '.join(LATTICES)}")
    if lattice is not None and a is not None:
        return Crystal(symbol, lattice, a, c)
    best = _lowest_energy_bulk(symbol, frames) if frames else None
    if best is not None:
        found = classify_lattice(best.atoms)
        lattice = lattice or found
        start = Crystal.from_volume(symbol, lattice, best.atoms.get_volume() / len(best.atoms))
    else:
        state = reference_states[atomic_numbers[symbol]] or {}
        symmetry = state.get("symmetry")
        if symmetry not in LATTICES or "a" not in state:
            raise ValueError(f"{symbol}: no lattice to start from (ASE's reference state is "
                             f"{symmetry!r}); give the lattice and a, or data")
        reference = Crystal(symbol, symmetry, state["a"],
                            state["a"] * state["c/a"] if symmetry == "hcp" else None)
        lattice = lattice or symmetry
        start = (reference if lattice == symmetry
                 else Crystal.from_volume(symbol, lattice, reference.volume_per_atom))
    if a is not None:
        start = start.scaled(a / start.a)
    if c is not None:
        start = replace(start, c=c)
    return start


def _lowest_energy_bulk(symbol, frames):
    """The 3D-periodic frame of pure ``symbol`` with the lowest energy per atom, or None."""
    z = atomic_numbers[symbol]
    pure = [f for f in frames
            if len(f.atoms) and f.atoms.pbc.all() and (f.atoms.numbers == z).all()]
    return min(pure, key=lambda f: f.energy / len(f.atoms)) if pure else None
