"""Committees: mean equals the members' mean, spread, file round trip, fitting."""
import json

import numpy as np
import pytest
from ase.build import bulk

from snnp_calc import SNNP, Committee, fit_committee, read_model, write_model
from snnp_calc.errors import ModelFileError
from snnp_calc.fitting.loss import LossWeights
from snnp_calc.model.initial import initial_model
from tests.helpers import labelled_frames


@pytest.fixture(scope="module")
def committee():
    members = [initial_model(["Mo", "Ni"], 4.4, r_min=1.9, n_rho=2, n_triplet=2, hidden=(4,),
                             noise=0.1, seed=s, triplet_cutoff=3.8) for s in (1, 2, 3)]
    return Committee(members, {"note": "test"})


@pytest.fixture
def atoms():
    atoms = bulk("Mo", "bcc", 3.15, cubic=True).repeat((2, 2, 2))
    atoms.rattle(0.1, seed=4)
    atoms.symbols[:5] = "Ni"
    return atoms


def member_results(committee, atoms):
    out = []
    for m in committee.members:
        a = atoms.copy()
        a.calc = SNNP(m)
        out.append(dict(energy=a.get_potential_energy(), forces=a.get_forces(),
                        stress=a.get_stress(), energies=a.get_potential_energies()))
    return out


def test_mean_and_spread_are_those_of_the_members(committee, atoms):
    runs = member_results(committee, atoms)
    atoms.calc = SNNP(committee)
    assert atoms.get_potential_energy() == pytest.approx(np.mean([r["energy"] for r in runs]),
                                                         rel=1e-13)
    for key, value in (("forces", atoms.get_forces()), ("stress", atoms.get_stress()),
                       ("energies", atoms.get_potential_energies())):
        np.testing.assert_allclose(value, np.mean([r[key] for r in runs], axis=0), rtol=1e-12,
                                   atol=1e-13)
    calc = atoms.calc
    assert calc.get_property("energy_std", atoms) == pytest.approx(
        np.std([r["energy"] for r in runs], ddof=1), rel=1e-12)
    np.testing.assert_allclose(calc.results["forces_std"],
                               np.std([r["forces"] for r in runs], axis=0, ddof=1), rtol=1e-12,
                               atol=1e-14)
    np.testing.assert_allclose(calc.results["energies_std"],
                               np.std([r["energies"] for r in runs], axis=0, ddof=1),
                               rtol=1e-12, atol=1e-14)
    assert calc.results["forces_std"].shape == (len(atoms), 3)
    assert (calc.results["energies_std"] > 0).all()
    # a plain model has no such property
    atoms.calc = SNNP(committee.members[0])
    atoms.get_potential_energy()
    assert "energy_std" not in atoms.calc.results
    assert "energy_std" not in SNNP.implemented_properties


def test_file_round_trip(committee, tmp_path, atoms):
    path = tmp_path / "c.json"
    write_model(committee, path)
    again = read_model(path)
    assert isinstance(again, Committee) and again.metadata == {"note": "test"}
    for a, b in zip(again.members, committee.members):
        assert a.equals(b)
    atoms.calc = SNNP(str(path))
    energy = atoms.get_potential_energy()
    atoms.calc = SNNP(committee)
    assert atoms.get_potential_energy() == energy
    with pytest.raises(ValueError, match="only be written as JSON"):
        write_model(committee, tmp_path / "c.meam.spline")


def test_bad_committee_files(committee, tmp_path):
    d = json.loads((lambda p: (write_model(committee, p), p.read_text())[1])(tmp_path / "c.json"))
    bad = dict(d, members=d["members"][:1] + [dict(d["members"][1])])
    del bad["members"][1]["e0"]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(ModelFileError, match=r"bad.json: members\[1\]: .*e0"):
        read_model(tmp_path / "bad.json")
    (tmp_path / "one.json").write_text(json.dumps(dict(d, members=d["members"][:1])))
    with pytest.raises(ModelFileError, match="one.json: a committee needs at least 2"):
        read_model(tmp_path / "one.json")
    (tmp_path / "v.json").write_text(json.dumps(dict(d, version=2)))
    with pytest.raises(ModelFileError, match="v.json: version"):
        read_model(tmp_path / "v.json")
    (tmp_path / "k.json").write_text(json.dumps(dict(d, extra=1)))
    with pytest.raises(ModelFileError, match=r"k.json: committee keys: .*unknown \['extra'\]"):
        read_model(tmp_path / "k.json")
    other = initial_model(["Mo"], 4.4, r_min=1.9, n_rho=2, n_triplet=2, hidden=(4,))
    with pytest.raises(ValueError, match="member 1 has species"):
        Committee([committee.members[0], other])
    with pytest.raises(TypeError, match="member 1 is a str, not a Model"):
        Committee([committee.members[0], "Mo.json"])


def test_fit_committee_members_differ_and_are_reproducible(tmp_path):
    truth = initial_model(["Mo", "Ni"], 4.4, r_min=1.9, n_rho=2, n_triplet=1, n_knots=6,
                          n_knots_angular=5, hidden=(4,), noise=0.1, seed=21)
    frames = labelled_frames(truth, n=6)
    kwargs = dict(weights=LossWeights(), max_iter=8, validation=0.2, progress=None, n_rho=2,
                  n_triplet=1, hidden=(3,), n_knots=6)
    a, report = fit_committee(2, "s-nnp", frames, frames[:2], seed=5, **kwargs)
    b, _ = fit_committee(2, "s-nnp", frames, seed=5, **kwargs)
    assert len(a.members) == 2 and len(report["members"]) == 2
    assert not np.array_equal(a.members[0].to_vector(), a.members[1].to_vector())
    for x, y in zip(a.members, b.members):
        np.testing.assert_array_equal(x.to_vector(), y.to_vector())
    assert a.members[1].metadata["fit"]["seed"] == 6 and a.members[0].metadata["fit"]["bootstrap"]
    assert report["test"]["all"]["n_structures"] == 2
    with pytest.raises(ValueError, match="at least 2"):
        fit_committee(1, "s-nnp", frames, **kwargs)


def test_members_with_shorter_cutoffs_ignore_farther_pairs(committee, atoms):
    """One neighbour list at the largest cutoff serves all members: each keeps only its own.

    The short member's pair term does not vanish at its cutoff (its linear
    extension beyond would add energy), so a member that saw the farther
    pairs would differ from the same model alone.
    """
    import dataclasses
    short = initial_model(["Mo", "Ni"], 3.9, r_min=1.9, n_rho=2, n_triplet=2, hidden=(4,),
                          noise=0.1, seed=5, triplet_cutoff=3.5)
    short = dataclasses.replace(short, phi=tuple(s.with_params(s.params + 0.05)
                                                 for s in short.phi))
    mixed = Committee([committee.members[0], short])
    runs = member_results(mixed, atoms)
    atoms.calc = SNNP(mixed)
    assert atoms.get_potential_energy() == pytest.approx(np.mean([r["energy"] for r in runs]),
                                                         rel=1e-13)
    np.testing.assert_allclose(atoms.get_forces(), np.mean([r["forces"] for r in runs], axis=0),
                               rtol=1e-12, atol=1e-13)
