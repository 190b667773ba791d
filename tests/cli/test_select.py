"""``snnp select``: picked structures written whole, with their info and the spread."""
import numpy as np
import pytest
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import read, write

from snnp_calc import write_model
from snnp_calc.cli import main
from snnp_calc.fitting.selection import select_structures
from tests.fitting.test_selection import pool_of


@pytest.fixture
def files(tmp_path, committee):
    """A committee file and a pool of 9 labelled structures with info of their own."""
    pool = pool_of(9)
    for k, atoms in enumerate(pool):
        atoms.info["config_type"] = f"group{k % 2}"
        atoms.info["origin"] = f"md step {10 * k}"
        atoms.calc = SinglePointCalculator(atoms, energy=-1.5 * k,
                                           forces=np.full((len(atoms), 3), 0.01 * k))
    write(tmp_path / "pool.xyz", pool)
    write_model(committee, tmp_path / "committee.json")
    return tmp_path / "committee.json", tmp_path / "pool.xyz"


@pytest.mark.parametrize("by, key", [("forces", "committee_force_std"),
                                     ("energy", "committee_energy_std")])
def test_writes_the_picks_with_info_labels_and_spread(files, committee, tmp_path, capsys, by,
                                                      key):
    committee_path, pool_path = files
    out = tmp_path / "picked.xyz"
    assert main(["select", "--committee", str(committee_path), "--pool", str(pool_path),
                 "-n", "3", "--out", str(out), "--by", by, "--diverse"]) == 0
    pool = read(pool_path, ":")
    expected = select_structures(committee, pool, 3, by=by, diverse=True)
    picked = read(out, ":")
    assert [a.info["pool_index"] for a in picked] == expected.indices.tolist()
    for atoms, k, spread in zip(picked, expected.indices, expected.spreads):
        assert atoms.info[key] == pytest.approx(spread, rel=1e-12)
        assert atoms.info["origin"] == f"md step {10 * k}"
        assert atoms.info["config_type"] == f"group{k % 2}"
        assert atoms.get_potential_energy() == pytest.approx(-1.5 * k)
        np.testing.assert_allclose(atoms.get_forces(), 0.01 * k)
        np.testing.assert_allclose(atoms.positions, pool[k].positions, atol=1e-7)
    text = capsys.readouterr().out
    assert f"picked 3 of 9 structures of {pool_path}" in text


def test_bad_input_gives_a_message_and_no_file(files, tmp_path, committee, capsys):
    committee_path, pool_path = files
    out = tmp_path / "picked.xyz"
    single = tmp_path / "single.json"
    write_model(committee.members[0], single)
    cases = [
        (["--committee", str(single), "--pool", str(pool_path), "-n", "2"],
         f"{single}: holds one model, not a committee"),
        (["--committee", str(committee_path), "--pool", str(pool_path), "-n", "10"],
         f"{pool_path}: asked for 10 structures from a pool of 9"),
        (["--committee", str(committee_path), "--pool", str(pool_path), "-n", "0"],
         "-n 0: must be at least 1"),
    ]
    bad = pool_of(3)
    bad[1].symbols[0] = "Cu"
    write(tmp_path / "cu.xyz", bad)
    cases.append((["--committee", str(committee_path), "--pool", str(tmp_path / "cu.xyz"),
                   "-n", "1"], rf"{tmp_path / 'cu.xyz'}:1: element(s) Cu not in the model"))
    (tmp_path / "broken.xyz").write_text("3\nLattice=\"1 0 0 0 1 0 0 0 1\"\nMo 0 0\n")
    cases.append((["--committee", str(committee_path), "--pool", str(tmp_path / "broken.xyz"),
                   "-n", "1"], f"{tmp_path / 'broken.xyz'}: not a structure file ASE can read"))
    cases.append((["--committee", str(committee_path), "--pool", str(pool_path), "-n", "1",
                   "--candidates", "2"], "--candidates applies to --diverse picks only"))
    for argv, message in cases:
        assert main(["select", *argv, "--out", str(out)]) == 2
        assert message in capsys.readouterr().err
        assert not out.exists()


def test_out_may_not_be_the_pool_or_in_a_missing_folder(files, tmp_path, capsys):
    committee_path, pool_path = files
    before = pool_path.read_bytes()
    base = ["select", "--committee", str(committee_path), "--pool", str(pool_path), "-n", "1"]
    assert main(base + ["--out", str(pool_path)]) == 2
    assert "is the pool file" in capsys.readouterr().err
    assert pool_path.read_bytes() == before
    missing = tmp_path / "no" / "picked.xyz"
    assert main(base + ["--out", str(missing)]) == 2
    assert f"the folder {missing.parent} does not exist" in capsys.readouterr().err
