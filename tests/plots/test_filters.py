"""Figures of a model's filters, readout and descriptors, and ``snnp plot``."""
import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from snnp_calc import SNNP, read_model, write_model
from snnp_calc.cli import main
from snnp_calc.evaluate import evaluate
from snnp_calc.kernels.energy import pair_index
from snnp_calc.model.initial import initial_model
from snnp_calc.plots.filters import (
    KINDS,
    descriptors_by_species,
    filter_figure,
    filter_splines,
    readout_figure,
    readout_response,
)
from snnp_calc.plots.legendre import legendre_g_figure
from snnp_calc.plots.model_figures import write_model_plots
from tests.helpers import require_module

require_module("matplotlib")
import matplotlib.image  # noqa: E402  (after the skip)
import matplotlib.pyplot as plt  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "snnp_calc" / "data"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def random_model():
    """Two species, 2 + 2 filters, a 4-unit tanh MLP, noisy filters."""
    return initial_model(["Mo", "Ni"], 4.6, r_min=1.8, n_rho=2, n_triplet=2, hidden=(4,),
                         noise=0.1, seed=1)


@pytest.fixture(scope="module")
def legendre_model():
    """Two species, 2 pair, 1 triplet and 2 Legendre (L = 4) filters, noisy."""
    return initial_model(["Mo", "Ni"], 4.6, r_min=1.8, n_rho=2, n_triplet=1, n_legendre=2,
                         degree=4, hidden=(4,), noise=0.1, seed=2, legendre_cutoff=4.2)


@pytest.fixture(scope="module", params=["Mo-s-nnp.json", "Mo-s-meam.json", "random", "legendre"])
def model(request, random_model, legendre_model):
    own = {"random": random_model, "legendre": legendre_model}
    return own.get(request.param) or read_model(DATA / request.param)


def mo_cells(n=3, label=True):
    """Rattled bcc Mo cells, labelled by the shipped s-NNP as reference data would be."""
    calc = SNNP(DATA / "Mo-s-nnp.json")
    cells = []
    for k in range(n):
        atoms = bulk("Mo", "bcc", 3.15, cubic=True).repeat(2)
        atoms.rattle(0.1, seed=k)
        if label:
            atoms.calc = calc
            atoms.calc = SinglePointCalculator(atoms, energy=atoms.get_potential_energy(),
                                               forces=atoms.get_forces())
        cells.append(atoms)
    return cells


def assert_png_drawn(path):
    """A PNG file with more than a blank canvas in it."""
    assert Path(path).read_bytes()[:8] == PNG_SIGNATURE
    image = matplotlib.image.imread(path)
    colours = np.unique(image.reshape(-1, image.shape[-1]), axis=0)
    assert len(colours) > 10, f"{path} looks blank"


def spline_of(model, kind, k, label):
    """The model's spline that a line labelled ``label`` in panel k must show."""
    index = {sym: a for a, sym in enumerate(model.species)}
    if kind in ("rho", "f"):
        return getattr(model, kind)[k][index[label]]
    if kind == "legendre_f":
        return model.legendre[k].f[index[label]]
    b, c = (index[sym] for sym in label.split("–"))
    rows = model.g[k] if kind == "g" else model.phi
    return rows[pair_index(b, c, model.n_species)]


def test_write_model_plots_one_file_per_kind(model, tmp_path):
    paths = write_model_plots(model, tmp_path / "out", prefix="m-")
    names = ["m-filters-rho.png", "m-filters-f.png", "m-filters-g.png", "m-filters-phi.png"]
    if model.legendre:
        names += ["m-filters-legendre_f.png", "m-filters-legendre_g.png"]
    names.append("m-readout.png")
    assert [p.name for p in paths] == names
    # written atomically: no temporary files left behind
    assert sorted(os.listdir(tmp_path / "out")) == sorted(names)
    for path in paths:
        assert_png_drawn(path)
    assert plt.get_fignums() == []


def test_kinds_the_model_lacks_are_skipped(random_model, tmp_path):
    no_pair = dataclasses.replace(random_model, phi=())
    names = [p.name for p in write_model_plots(no_pair, tmp_path)]
    assert names == ["filters-rho.png", "filters-f.png", "filters-g.png", "readout.png"]
    with pytest.raises(ValueError, match="no phi filters"):
        filter_figure(no_pair, "phi")


def test_plotted_filters_are_the_model_splines(model):
    for kind in KINDS:
        rows = [model.rho, model.f, model.g, [model.phi],
                [filt.f for filt in model.legendre]][KINDS.index(kind)]
        if not rows:
            assert kind == "legendre_f" and not filter_splines(model, kind)
            with pytest.raises(ValueError, match="no legendre_f filters"):
                filter_figure(model, kind)
            continue
        fig = filter_figure(model, kind)
        panels = [ax for ax in fig.axes if ax.get_lines()]
        assert len(panels) == len(rows)
        for k, ax in enumerate(panels):
            n_curves = 0
            for line in ax.get_lines():
                label = line.get_label().lstrip("_")
                x, y = line.get_xdata(), line.get_ydata()
                if label in ("knots", "cutoff", "zero"):
                    continue
                spline = spline_of(model, kind, k, label)
                np.testing.assert_allclose(y, spline(x)[0], rtol=1e-13, atol=1e-15)
                n_curves += 1
            # each spline in three pieces: linear extension, knots, linear extension
            assert n_curves >= 2 * len(rows[k]), (kind, k)
            lo, hi = ax.get_xlim()
            assert all(lo < s.x0 and s.x1 < hi for s in rows[k])
            if kind != "g":
                (cutoff,) = [line for line in ax.get_lines() if line.get_label() == "_cutoff"]
                assert cutoff.get_xdata()[0] == model.cutoff
        labels = [ax.get_xlabel() for ax in panels] + [ax.get_ylabel() for ax in panels]
        unit = {"rho": "dimensionless", "f": "dimensionless", "g": "dimensionless",
                "phi": "(eV)", "legendre_f": "dimensionless"}[kind]
        assert any(unit in text for text in labels)
        assert any(("(Å)" if kind != "g" else r"\cos\theta") in text for text in labels)
        plt.close(fig)


def test_spline_readout_figure_is_U_with_knots():
    model = read_model(DATA / "Mo-s-meam.json")
    fig = readout_figure(model)
    (ax,) = fig.axes
    U = model.readout.U[0]
    knots = [line for line in ax.get_lines() if line.get_label() == "_knots"]
    np.testing.assert_array_equal(knots[0].get_xdata(), U.knots)
    np.testing.assert_array_equal(knots[0].get_ydata(), U.y)
    for line in ax.get_lines():
        if line.get_label().lstrip("_") == "Mo":
            np.testing.assert_allclose(line.get_ydata(), U(line.get_xdata())[0], rtol=1e-13)
    assert "eV" in ax.get_ylabel()
    plt.close(fig)


def _numpy_readout(readout, a, G_f):
    """R_a(G) = N_a(G) - N_a(0) of a tanh MLP, written out with numpy for the test."""
    def network(G):
        x = (G - readout.offset[a]) / readout.scale[a]
        layers = readout.weights[a]
        for l in range(0, len(layers) - 2, 2):
            x = np.tanh(layers[l] @ x + layers[l + 1])
        return (layers[-2] @ x + layers[-1])[0]
    return network(G_f) - network(np.zeros_like(G_f))


def test_readout_response_without_data_sweeps_offset_pm_3_scale(random_model):
    ro = random_model.readout
    held_sf, x_sfn, R_sfn = readout_response(random_model, n_points=31)
    np.testing.assert_array_equal(held_sf, ro.offset)
    np.testing.assert_allclose(x_sfn.min(axis=2), ro.offset - 3 * ro.scale)
    np.testing.assert_allclose(x_sfn.max(axis=2), ro.offset + 3 * ro.scale)
    for a in range(2):
        for k in range(4):
            for x, R in zip(x_sfn[a, k], R_sfn[a, k]):
                G_f = held_sf[a].copy()
                G_f[k] = x
                assert R == pytest.approx(_numpy_readout(ro, a, G_f), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("which", ["random", "Mo-s-nnp.json"])
def test_readout_response_at_data_means_is_the_calculators_R(which, random_model):
    """On a perfect crystal every atom of a species has the data-mean descriptor, so the
    response at the held point is the per-atom energy minus e0 (pair term left out)."""
    if which == "random":
        model = random_model
        crystal = Atoms("MoNi", scaled_positions=[(0, 0, 0), (0.5, 0.5, 0.5)],
                        cell=np.eye(3) * 3.0, pbc=True).repeat(2)   # B2 (CsCl)
    else:
        model = read_model(DATA / which)
        crystal = bulk("Mo", "bcc", 3.16, cubic=True).repeat(2)
    no_pair = dataclasses.replace(model, phi=())
    out = evaluate(no_pair, crystal.numbers, crystal.positions, crystal.cell.array, crystal.pbc)
    species_n = model.species_indices(crystal.numbers)
    G_by_species = descriptors_by_species(model, [crystal])
    held_sf, x_sfn, R_sfn = readout_response(model, G_by_species)
    for a in np.unique(species_n):
        R_atoms = out["energies"][species_n == a] - model.e0[a]
        assert np.ptp(R_atoms) < 1e-12
        np.testing.assert_allclose(held_sf[a], out["descriptors"][species_n == a][0],
                                   rtol=1e-12)
        for k in range(held_sf.shape[1]):
            (q,) = np.flatnonzero(x_sfn[a, k] == held_sf[a, k])
            assert R_sfn[a, k, q] == pytest.approx(R_atoms[0], rel=1e-12, abs=1e-12)
            # a constant input (one crystal) is still swept over a range around it
            assert x_sfn[a, k, 0] < held_sf[a, k] < x_sfn[a, k, -1]


def test_descriptors_by_species_counts_atoms(random_model):
    cells = mo_cells(2, label=False)
    cells[1].symbols[:3] = "Ni"
    G_by_species = descriptors_by_species(random_model, cells)
    assert [len(G) for G in G_by_species] == [32 - 3, 3]
    assert all(G.shape[1] == 4 for G in G_by_species)


def test_spline_readout_with_data(tmp_path):
    model = read_model(DATA / "Mo-s-meam.json")
    paths = write_model_plots(model, tmp_path, mo_cells(2, label=False))
    assert [p.name for p in paths][-2:] == ["readout.png", "descriptors.png"]
    for path in paths:
        assert_png_drawn(path)


def test_cli_plot_with_data(random_model, tmp_path, capsys):
    model_path = tmp_path / "MoNi.json"
    write_model(random_model, model_path)
    xyz = tmp_path / "mo.xyz"
    write(xyz, mo_cells(3))
    out = tmp_path / "figures"
    assert main(["plot", str(model_path), "-o", str(out), "--data", str(xyz)]) == 0
    printed = [line.removeprefix("wrote ") for line in capsys.readouterr().out.splitlines()]
    names = [f"MoNi-{name}.png" for name in ("filters-rho", "filters-f", "filters-g",
                                              "filters-phi", "readout", "descriptors")]
    assert printed == [str(out / name) for name in names]
    for name in names:
        assert_png_drawn(out / name)


def test_cli_plot_bad_inputs_exit_2(tmp_path, capsys):
    model = str(DATA / "Mo-s-nnp.json")
    out = tmp_path / "figures"
    assert main(["plot", str(tmp_path / "missing.json"), "-o", str(out)]) == 2
    assert "missing.json" in capsys.readouterr().err
    assert main(["plot", model, "-o", str(out), "--data", str(tmp_path / "none.xyz")]) == 2
    assert "none.xyz" in capsys.readouterr().err
    write(tmp_path / "ni.xyz", bulk("Ni", "fcc", 3.52))
    assert main(["plot", model, "-o", str(out), "--data", str(tmp_path / "ni.xyz")]) == 2
    err = capsys.readouterr().err
    assert "ni.xyz:0" in err and "Ni" in err
    write(tmp_path / "empty.xyz", Atoms())
    assert main(["plot", model, "-o", str(out), "--data", str(tmp_path / "empty.xyz")]) == 2
    assert "empty.xyz: no atoms" in capsys.readouterr().err
    assert not out.exists()


def test_cli_plot_without_matplotlib_says_how_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)
    with pytest.raises(SystemExit) as exit_info:
        main(["plot", str(DATA / "Mo-s-meam.json"), "-o", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "pip install 'snnp_calc[plot]'" in capsys.readouterr().err


def legendre_lines(model, fig):
    """``(coefficients c_q, Line2D)`` of every species-pair line of a g figure."""
    panels = [ax for ax in fig.axes if ax.get_lines()]
    assert len(panels) == len(model.legendre)
    index = {sym: a for a, sym in enumerate(model.species)}
    for filt, ax in zip(model.legendre, panels):
        lines = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
        assert len(lines) == 3
        for line in lines:
            b, c = (index[sym] for sym in line.get_label().split("–"))
            yield filt.c[pair_index(b, c, 2)], line


def test_legendre_angular_filters_are_their_series(legendre_model):
    from scipy.special import eval_legendre
    fig = legendre_g_figure(legendre_model)
    for coef, line in legendre_lines(legendre_model, fig):
        x = line.get_xdata()
        want = sum(cl * eval_legendre(lam, x) for lam, cl in enumerate(coef))
        np.testing.assert_allclose(line.get_ydata(), want, rtol=1e-12, atol=1e-12)
    plt.close(fig)
    with pytest.raises(ValueError, match="no Legendre filters"):
        legendre_g_figure(initial_model(["Mo"], 4.0, n_rho=1, n_triplet=1, hidden=()))


def test_per_degree_filters_show_their_weights():
    model = initial_model(["Mo", "Ni"], 4.6, r_min=1.8, n_rho=1, n_triplet=0, n_legendre=2,
                          degree=3, per_degree=True, hidden=(4,), noise=0.3, seed=4)
    fig = legendre_g_figure(model)
    for coef, line in legendre_lines(model, fig):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(4))
        np.testing.assert_array_equal(line.get_ydata(), coef)
    plt.close(fig)
