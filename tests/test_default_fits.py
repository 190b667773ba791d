"""A default fit of every element in ``../shared`` survives hot MD.

The short-range repulsion of the default s-NNP preset (a ZBL core below the
data's shortest distance, :class:`snnp_calc.model.core.ZBLCore`) must hold
from the first iterations on, so a short default fit (``max_time`` 30 s, the
CI's budget; ``benchmarks/bench_fit.py`` runs the full 15-minute fits and
their MD) is run on each element's training set and then 2 ps of Langevin MD
at 1.5 × the melting point: the closest approach stays ≥ 0.6 × the
nearest-neighbour distance and the temperature does not run away
(:func:`snnp_calc.validation.md.md_stability`, which ends the run as soon as
the verdict is known).
"""
import pytest

from snnp_calc import SNNP, fit
from snnp_calc.dataset import read_frames
from snnp_calc.validation import equilibrium
from snnp_calc.validation.lattice import Crystal, guess_crystal
from snnp_calc.validation.md import md_stability

# element: (ground-state lattice, melting point K)
ELEMENTS = {"Mo": ("bcc", 2896.0), "Ni": ("fcc", 1728.0), "Cu": ("fcc", 1358.0),
            "Ge": ("diamond", 1211.0)}


@pytest.mark.parametrize("element", sorted(ELEMENTS))
def test_short_default_fit_survives_hot_md(element, zuo_dir):
    lattice, melting_point = ELEMENTS[element]
    frames = read_frames(zuo_dir / element / "train.xyz")
    model, _ = fit("s-nnp", frames, max_time=30.0, progress=None, seed=0)
    calc = SNNP(model)
    crystal = Crystal(**equilibrium(calc, guess_crystal(element, lattice, frames=frames))["crystal"])
    result = md_stability(calc, crystal, melting_point=melting_point, time=2.0)
    assert result["steps_run"] == result["steps"] == 2000, result["reason"]
    assert result["stable"], (element, result["reason"])
    assert result["min_distance_ratio"] >= 0.6, (element, result["min_distance_ratio"])
    assert result["max_temperature"] < 3.0 * 1.5 * melting_point, (element, result)
