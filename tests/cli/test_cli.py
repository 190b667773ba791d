"""The ``snnp`` command: convert and eval."""
import json

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from snnp_calc import SNNP, read_model, write_model
from snnp_calc.cli import main
from snnp_calc.errors import ModelFileError
from tests.helpers import require_module


@pytest.fixture
def reference_xyz(tmp_path, smeam_model):
    """Frames labelled by a known model, with a 1 meV/atom shift and noise on forces."""
    frames = []
    rng = np.random.default_rng(1)
    for k in range(4):
        atoms = bulk("Mo", "bcc", 3.15, cubic=True).repeat(2)
        atoms.rattle(0.1, seed=k)
        atoms.symbols[:k] = "Ni"
        # extended XYZ keeps 8 decimals of positions and forces: label what is written
        atoms.positions = np.round(atoms.positions, 8)
        atoms.calc = SNNP(smeam_model)
        energy = atoms.get_potential_energy() + 0.001 * len(atoms)
        forces = np.round(atoms.get_forces() + 0.01 * rng.standard_normal((len(atoms), 3)), 8)
        atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces,
                                           stress=atoms.get_stress())
        atoms.info["config_type"] = "bulk" if k % 2 else "other"
        frames.append((atoms, forces - SNNP(smeam_model).get_forces(atoms)))
    path = tmp_path / "ref.xyz"
    write(path, [f for f, _ in frames])
    return path, np.concatenate([d.ravel() for _, d in frames])


def test_eval_json_reports_known_errors(reference_xyz, smeam_model, tmp_path, capsys):
    path, dforce = reference_xyz
    model_path = tmp_path / "m.json"
    write_model(smeam_model, model_path)
    assert main(["eval", str(model_path), str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"e_mae", "e_rmse", "f_mae", "f_rmse", "n_structures"}
    assert out["n_structures"] == 4
    assert out["e_mae"] == pytest.approx(1.0, rel=1e-6)
    assert out["e_rmse"] == pytest.approx(1.0, rel=1e-6)
    assert out["f_mae"] == pytest.approx(np.abs(dforce).mean(), rel=1e-9)
    assert out["f_rmse"] == pytest.approx(np.sqrt((dforce ** 2).mean()), rel=1e-9)


def test_eval_table_per_config_type(reference_xyz, smeam_model, tmp_path, capsys):
    path, _ = reference_xyz
    model_path = tmp_path / "m.json"
    write_model(smeam_model, model_path)
    assert main(["eval", str(model_path), str(path)]) == 0
    out = capsys.readouterr().out
    for word in ("all", "bulk", "other", "E MAE", "F RMSE"):
        assert word in out


def test_convert_round_trip(potentials_dir, tmp_path, capsys):
    json_path = tmp_path / "Si.json"
    back = tmp_path / "Si.meam.spline"
    assert main(["convert", str(potentials_dir / "Si_1.meam.spline"), str(json_path),
                 "--species", "Si"]) == 0
    assert main(["convert", str(json_path), str(back), "--style", "old"]) == 0
    original = read_model(potentials_dir / "Si_1.meam.spline", species="Si")
    again = read_model(back, species="Si")
    np.testing.assert_array_equal(again.to_vector(), original.to_vector())


def test_convert_fit_e0(reference_xyz, smeam_model, tmp_path, capsys):
    path, _ = reference_xyz
    model_path = tmp_path / "m.json"
    write_model(smeam_model, model_path)
    assert main(["convert", str(model_path), str(tmp_path / "shifted.json"),
                 "--fit-e0", str(path)]) == 0
    shifted = read_model(tmp_path / "shifted.json")
    # the data were shifted by +1 meV/atom for both species
    np.testing.assert_allclose(shifted.e0 - smeam_model.e0, 0.001, atol=1e-9)
    assert shifted.metadata["e0_fitted_on"] == str(path)


def test_errors_exit_2_with_message(tmp_path, capsys, snnp_model):
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert main(["eval", str(bad), str(tmp_path / "x.xyz")]) == 2
    assert "bad.json" in capsys.readouterr().err
    model_path = tmp_path / "mlp.json"
    write_model(snnp_model, model_path)
    assert main(["convert", str(model_path), str(tmp_path / "x.meam.spline")]) == 2
    assert "meam/spline" in capsys.readouterr().err
    assert not (tmp_path / "x.meam.spline").exists()


def test_fit_command_with_config_and_plots(reference_xyz, tmp_path, capsys):
    require_module("matplotlib")
    path, _ = reference_xyz
    config = tmp_path / "fit.toml"
    config.write_text('preset = "s-nnp"\nn_rho = 2\nn_triplet = 1\nhidden = "3"\nknots = 6\n'
                      'max_iter = 4\nvalidation = 0.25\n[config_weights]\nbulk = 2.0\n')
    out = tmp_path / "fitted.json"
    assert main(["fit", "--train", str(path), "--config", str(config), "--out", str(out),
                 "--plots", str(tmp_path / "plots"), "--seed", "2"]) == 0
    text = capsys.readouterr().out
    assert "train errors" in text and "validation errors" in text, text
    model = read_model(out)
    assert (len(model.rho), len(model.f), model.readout.hidden) == (2, 1, (3,))
    assert model.metadata["fit"]["weights"]["config_types"] == {"bulk": 2.0}
    assert model.metadata["command"].startswith("snnp fit")
    for name in ("parity_energy.png", "parity_forces.png"):
        assert (tmp_path / "plots" / name).stat().st_size > 10_000


def test_fit_command_rejects_unknown_config_key(reference_xyz, tmp_path, capsys):
    path, _ = reference_xyz
    config = tmp_path / "fit.toml"
    config.write_text("n_rhoo = 2\n")
    assert main(["fit", "--train", str(path), "--out", str(tmp_path / "x.json"),
                 "--config", str(config)]) == 2
    assert "n_rhoo" in capsys.readouterr().err


@pytest.mark.parametrize("text, message", [
    ("config_weights = 2.0\n", "config_weights: expected a table"),
    ('[config_weights]\nbulk = "heavy"\n', "config_weights.bulk: expected a number >= 0"),
    ("[config_weights]\nbulk = -1.0\n", "config_weights.bulk: expected a number >= 0")])
def test_fit_command_checks_config_weights(reference_xyz, tmp_path, capsys, text, message):
    path, _ = reference_xyz
    config = tmp_path / "fit.toml"
    config.write_text(text)
    assert main(["fit", "--train", str(path), "--out", str(tmp_path / "x.json"),
                 "--config", str(config)]) == 2
    assert f"{config}: {message}" in capsys.readouterr().err


def test_convert_drop_e0_for_lammps(smeam_model, tmp_path, capsys):
    shifted = smeam_model.from_vector(smeam_model.to_vector() + np.r_[np.zeros(
        len(smeam_model.to_vector()) - 2), 0.5, -1.25])
    src = tmp_path / "m.json"
    write_model(shifted, src)
    assert main(["convert", str(src), str(tmp_path / "m.meam.spline")]) == 2
    assert "e0" in capsys.readouterr().err
    assert main(["convert", str(src), str(tmp_path / "m.meam.spline"), "--drop-e0"]) == 0
    back = read_model(tmp_path / "m.meam.spline")
    np.testing.assert_array_equal(back.e0, [0.0, 0.0])
    assert "dropped e0 (eV/atom): Mo 0.5, Ni -1.25" in back.metadata["comment"]
    np.testing.assert_array_equal(back.to_vector()[:-2], shifted.to_vector()[:-2])


def test_fit_command_shared_filters_committee_and_freeze(reference_xyz, tmp_path, capsys):
    """Several training files with shared filters; a committee; frozen transferred filters."""
    from snnp_calc import Committee
    path, _ = reference_xyz
    small = ["--n-rho", "2", "--n-triplet", "1", "--hidden", "3", "--knots", "6",
             "--max-iter", "3", "--validation", "0"]
    shared = tmp_path / "shared.json"
    assert main(["fit", "--train", str(path), str(path), "--share-filters", "--out", str(shared)]
                + small) == 0
    model = read_model(shared)
    assert model.metadata["training_data"] == [str(path), str(path)]
    assert model.metadata["fit"]["n_train"] == 8 and model.metadata["shared_filters"]
    committee = tmp_path / "committee.json"
    assert main(["fit", "--train", str(path), "--committee", "2", "--out", str(committee)]
                + small) == 0
    assert isinstance(read_model(committee), Committee)
    capsys.readouterr()
    for command in (["plot", str(committee), "-o", str(tmp_path / "plots")],
                    ["fit", "--train", str(path), "--init-filters", str(committee),
                     "--out", str(tmp_path / "y.json")] + small):
        assert main(command) == 2
        assert f"{committee}: key 'format': 'snnp-committee' is a committee" in \
            capsys.readouterr().err
    frozen = tmp_path / "frozen.json"
    assert main(["fit", "--train", str(path), "--init-filters", str(shared), "--freeze",
                 "filters", "--out", str(frozen)] + small) == 0
    again = read_model(frozen)
    for rows_a, rows_b in ((again.rho, model.rho), (again.f, model.f), (again.g, model.g)):
        for row_a, row_b in zip(rows_a, rows_b):
            assert all(a.equals(b) for a, b in zip(row_a, row_b))
    assert main(["fit", "--train", str(path), "--freeze", "filterz", "--out",
                 str(tmp_path / "x.json")] + small) == 2
    assert "unknown parameter group(s) filterz" in capsys.readouterr().err


def test_fit_config_values_are_type_checked(reference_xyz, tmp_path, capsys):
    path, _ = reference_xyz
    config = tmp_path / "fit.toml"
    config.write_text('n_rho = "two"\n')
    assert main(["fit", "--train", str(path), "--out", str(tmp_path / "x.json"),
                 "--config", str(config)]) == 2
    assert "fit.toml: n_rho: expected int, got 'two'" in capsys.readouterr().err


def test_fit_to_lammps_file_keeps_e0_in_json(reference_xyz, tmp_path, capsys):
    """An s-MEAM fit written as meam/spline: e0 dropped there, kept in OUT.json beside it."""
    path, _ = reference_xyz
    out = tmp_path / "fitted.meam.spline"
    assert main(["fit", "--train", str(path), "--preset", "s-meam", "--max-iter", "3",
                 "--validation", "0", "--out", str(out)]) == 0
    lammps, full = read_model(out), read_model(str(out) + ".json")
    assert not lammps.e0.any() and full.e0.any()
    assert "dropped e0" in lammps.metadata["comment"]
    atoms = bulk("Mo", "bcc", 3.15, cubic=True).repeat(2)
    e = [SNNP(m).get_potential_energy(atoms) for m in (lammps, full)]
    assert e[1] - e[0] == pytest.approx(len(atoms) * full.e0[0], rel=1e-12)
    assert main(["fit", "--train", str(path), "--out", str(tmp_path / "x.meam.spline")]) == 2
    assert "only an s-MEAM model" in capsys.readouterr().err


def test_fit_validate_ends_with_the_physics_table(zuo_dir, tmp_path, capsys):
    out = tmp_path / "mo.json"
    assert main(["fit", "--train", str(zuo_dir / "Mo" / "train.xyz"), "--out", str(out),
                 "--max-iter", "3", "--n-rho", "2", "--n-triplet", "1", "--hidden", "4",
                 "--validate", "bcc"]) == 0
    text = capsys.readouterr().out
    table = text[text.index(f"wrote {out}"):]
    for word in ("C11", "C44", "bcc", "DFT"):
        assert word in table, table


def test_fit_options_of_the_core_scaling_and_offsets(reference_xyz, tmp_path, capsys):
    path, _ = reference_xyz
    out = tmp_path / "plain.json"
    assert main(["fit", "--train", str(path), "--out", str(out), "--max-iter", "2",
                 "--n-rho", "2", "--n-triplet", "1", "--hidden", "3", "--knots", "6",
                 "--core", "none", "--input-scaling", "std", "--stress-offsets", "no"]) == 0
    model = read_model(out)
    assert model.core is None
    assert model.metadata["fit"]["weights"]["stress_offsets"] is False
    assert model.metadata["options"]["input_scaling"] == "std"
    out = tmp_path / "default.json"
    assert main(["fit", "--train", str(path), "--out", str(out), "--max-iter", "2",
                 "--n-rho", "2", "--n-triplet", "1", "--hidden", "3", "--knots", "6"]) == 0
    model = read_model(out)
    assert model.core is not None and model.core.r_outer == min(s.x0 for s in model.phi)
    assert main(["fit", "--train", str(path), "--out", str(out), "--stress-offsets",
                 "maybe"]) == 2
    assert "--stress-offsets: expected yes or no" in capsys.readouterr().err


def test_fit_options_of_the_legendre_filters(reference_xyz, tmp_path):
    path, _ = reference_xyz
    out = tmp_path / "legendre.json"
    assert main(["fit", "--train", str(path), "--out", str(out), "--max-iter", "2",
                 "--n-rho", "1", "--n-triplet", "0", "--hidden", "3", "--knots", "6",
                 "--n-legendre", "2", "--legendre-degree", "3", "--legendre-cutoff", "3.9"]) == 0
    model = read_model(out)
    assert [filt.degree for filt in model.legendre] == [3, 3] and not model.f
    assert model.legendre_range == 3.9
    assert model.metadata["options"]["legendre_cutoff"] == 3.9
    assert not model.legendre[0].per_degree and model.n_filters == 1 + 2


def test_fit_option_legendre_outputs(reference_xyz, tmp_path, capsys):
    path, _ = reference_xyz
    out = tmp_path / "per-degree.json"
    args = ["fit", "--train", str(path), "--out", str(out), "--max-iter", "2", "--n-rho", "1",
            "--n-triplet", "0", "--hidden", "3", "--knots", "6", "--n-legendre", "2",
            "--legendre-degree", "3"]
    assert main(args + ["--legendre-outputs", "degree"]) == 0
    model = read_model(out)
    assert all(filt.per_degree for filt in model.legendre) and model.n_filters == 1 + 2 * 4
    assert main(args + ["--legendre-outputs", "each"]) == 2
    assert "--legendre-outputs: expected sum or degree, got 'each'" in capsys.readouterr().err


def test_models_lists_the_shipped_models(capsys):
    assert main(["models", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert {"Mo-s-nnp", "Mo-smeam2020"} <= set(rows)
    assert rows["Mo-s-nnp"]["species"] == ["Mo"] and rows["Mo-s-nnp"]["test"]["f_mae"] > 0
    assert main(["models"]) == 0
    assert "Mo-smeam2020" in capsys.readouterr().out


def test_shipped_models_by_name_from_any_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    atoms = bulk("Mo", "bcc", 3.16, cubic=True)
    atoms.calc = SNNP("Mo-s-nnp")
    assert atoms.calc.model.equals(read_model("Mo-s-nnp.json"))
    assert np.isfinite(atoms.get_potential_energy())
    with pytest.raises(ValueError, match="no shipped model of that name .*Mo-s-nnp"):
        read_model("Mo-s-nn")
    # a file of that name in the working folder wins
    (tmp_path / "Mo-s-nnp").write_text("{}")
    with pytest.raises(ModelFileError):
        read_model("Mo-s-nnp")


def test_warmup_compiles_every_kernel(capsys):
    assert main(["warmup"]) == 0
    assert "compiled or loaded every kernel in" in capsys.readouterr().out
