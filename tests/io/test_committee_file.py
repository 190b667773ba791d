"""The committee file: round trip and strict reading."""
import json

import pytest

from snnp_calc import SNNP, Committee, read_model, write_model
from snnp_calc.errors import ModelFileError


def test_file_round_trip(committee, tmp_path, committee_atoms):
    path = tmp_path / "c.json"
    write_model(committee, path)
    again = read_model(path)
    assert isinstance(again, Committee) and again.metadata == {"note": "test"}
    for a, b in zip(again.members, committee.members):
        assert a.equals(b)
    atoms = committee_atoms
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
