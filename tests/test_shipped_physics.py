"""The physics of the shipped models: smooth equation of state, elastic constants, hot MD.

For every fitted model that ships with the package (and the s-MEAM preset's):

- the pressure rises monotonically under compression on −10..+5 % of the
  lattice parameter, and the local bulk modulus −V dP/dV stays above a
  quarter of the reference B there;
- C11, C12 and C44 (relaxed-ion) lie within 10 % of the reference: the DFT
  values derived from the training data where the data give them (Mo, Ge;
  Ge's relaxed-ion C44 from the peers, 50–55 GPa, as the data's shear cells
  are clamped-ion), else the published MTP of Zuo et al. (2020) (Ni
  284/173/127, Cu 177/120/81 GPa; the Ni and Cu stress labels carry an offset,
  see the data's README);
- 2 ps of Langevin MD at 1.5 × the melting point keep every pair of atoms at
  least 0.6 × the nearest-neighbour distance apart and the temperature sane.
"""
from pathlib import Path

import pytest

from snnp_calc import SNNP, read_model
from snnp_calc.dataset import read_frames
from snnp_calc.validation import elastic_constants, eos_scan, equilibrium
from snnp_calc.validation.lattice import Crystal, guess_crystal
from snnp_calc.validation.md import md_stability
from snnp_calc.validation.reference import reference_from_data

DATA = Path(__file__).resolve().parents[1] / "snnp_calc" / "data"
# element: (lattice, melting point K, bulk modulus B of the reference for the B_loc bound)
ELEMENTS = {"Mo": ("bcc", 2896.0), "Ni": ("fcc", 1728.0), "Cu": ("fcc", 1358.0),
            "Ge": ("diamond", 1211.0)}
# published MTP (Zuo et al. 2020), GPa: the reference where the data's stresses are offset
MTP_CIJ = {"Ni": {"C11": 284.0, "C12": 173.0, "C44": 127.0},
           "Cu": {"C11": 177.0, "C12": 120.0, "C44": 81.0}}
GE_C44_RELAXED = (50.0, 55.0)
# every fitted model the package ships (the published s-MEAM conversions are not ours)
SHIPPED = sorted(p.name for p in DATA.glob("*-s-*.json"))


def reference(element, zuo_dir):
    """{"C11", "C12", "C44", "B"} to judge a model of ``element`` against (GPa)."""
    if element in MTP_CIJ:
        c = dict(MTP_CIJ[element])
    else:
        c = dict(reference_from_data(read_frames(zuo_dir / element / "train.xyz"))["stress"])
    c["B"] = (c["C11"] + 2 * c["C12"]) / 3
    return c


@pytest.fixture(scope="module", params=SHIPPED)
def shipped(request, zuo_dir):
    model = read_model(DATA / request.param)
    element = model.species[0]
    frames = read_frames(zuo_dir / element / "train.xyz")
    calc = SNNP(model)
    crystal = Crystal(**equilibrium(calc, guess_crystal(element, ELEMENTS[element][0],
                                                        frames=frames))["crystal"])
    return request.param, element, calc, crystal, reference(element, zuo_dir)


def test_pressure_is_monotonic_and_stiff_enough(shipped):
    name, element, calc, crystal, ref = shipped
    scan = eos_scan(calc, crystal)
    assert scan["pressure_monotonic"], (name, scan["non_monotonic_steps"])
    assert scan["min_local_bulk_modulus"] >= 0.25 * ref["B"], (name, scan["min_local_bulk_modulus"])


def test_elastic_constants_are_within_ten_percent(shipped):
    name, element, calc, crystal, ref = shipped
    c = elastic_constants(calc, crystal)["relaxed"]
    for key in ("C11", "C12"):
        assert c[key] == pytest.approx(ref[key], rel=0.10), (name, key, c[key], ref[key])
    if element == "Ge":
        low, high = GE_C44_RELAXED
        assert 0.9 * low <= c["C44"] <= 1.1 * high, (name, c["C44"])
    else:
        assert c["C44"] == pytest.approx(ref["C44"], rel=0.10), (name, c["C44"], ref["C44"])


def test_hot_md_keeps_atoms_apart(shipped):
    name, element, calc, crystal, _ = shipped
    run = md_stability(calc, crystal, melting_point=ELEMENTS[element][1], time=2.0)
    assert run["stable"], (name, run["reason"], run["min_distance_ratio"], run["max_temperature"])
    assert run["min_distance_ratio"] >= 0.6
