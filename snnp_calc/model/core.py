"""Core repulsion of a model: the ZBL potential below the data's shortest distances.

A fitted potential knows nothing of distances shorter than those in its
training data; there the splines continue as straight lines and the network
extrapolates, and in hot MD two atoms can fall onto each other. A
:class:`ZBLCore` adds the universal screened repulsion of Ziegler, Biersack
and Littmark (:mod:`snnp_calc.kernels.core`) between every pair of atoms,
at full strength below ``r_inner`` and switched smoothly to zero at
``r_outer``. It has no fitted parameters.
"""
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ZBLCore:
    """ZBL repulsion, pure below ``r_inner`` and zero beyond ``r_outer`` (Å, 0 < inner < outer)."""

    r_inner: float
    r_outer: float

    def __post_init__(self):
        inner, outer = float(self.r_inner), float(self.r_outer)
        if not (math.isfinite(inner) and math.isfinite(outer) and 0.0 < inner < outer):
            raise ValueError(f"a ZBL core needs 0 < r_inner < r_outer (finite, Å), got "
                             f"r_inner = {self.r_inner}, r_outer = {self.r_outer}")
        object.__setattr__(self, "r_inner", inner)
        object.__setattr__(self, "r_outer", outer)
