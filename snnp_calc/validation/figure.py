"""The validation figure: E(V), P(V) against the DFT frames, and the phonon dispersion.

The abstraction is one matplotlib ``Figure`` drawn from a
:func:`~snnp_calc.validation.report.validate` report alone (no calculator
calls), through :mod:`snnp_calc.plots.figure` (outside pyplot, written
atomically). The DFT points are the data's ``Elastic`` frames: under a
uniaxial strain the mean stress follows the hydrostatic P(V) to first order
(−tr σ/3 = −B ΔV/V for any normal strain; Kittel, Introduction to Solid State
Physics, ch. 3), but the energy does not (½ C11 ε² instead of ½ B (ΔV/V)²), so
the energy panel marks them as uniaxial. Their energies are shifted to the
model's minimum when the two energy zeros differ.
"""
import numpy as np

from ..plots.figure import figure, save_png


def _dft_points(report):
    """Volume, energy and pressure of the data's normal-strain frames, or None."""
    ref = report.get("reference")
    if not ref:
        return None
    points = ref["points"]
    normal = ~np.array(points["shear"], bool)
    return {key: np.array(points[key], float)[normal]
            for key in ("volume_per_atom", "energy_per_atom", "pressure")}


def _draw_eos(ax_e, ax_p, report):
    """Energy and pressure against volume per atom, model curve and DFT points."""
    scan = report.get("eos_scan") or {}
    eq = report["equilibrium"]
    if scan:
        ax_e.plot(scan["volume_per_atom"], scan["energy_per_atom"], "-", color="C0",
                  label="model")
        ax_p.plot(scan["volume_per_atom"], scan["pressure"], "-", color="C0", label="model")
    ax_e.plot(eq["eos"]["volume_per_atom"], eq["eos"]["energy_per_atom"], "o", color="C0",
              ms=3, label="model, Birch–Murnaghan points")
    dft = _dft_points(report)
    if dft is not None:
        shift = eq["energy_per_atom"] - report["reference"]["energy_per_atom"]
        label = "DFT Elastic frames (uniaxial)"
        if abs(shift) > 1e-3:
            label += f", shifted {shift:+.3f} eV/atom"
        ax_e.plot(dft["volume_per_atom"], dft["energy_per_atom"] + shift, "x", color="C3",
                  label=label)
        ax_p.plot(dft["volume_per_atom"], dft["pressure"], "x", color="C3",
                  label="DFT Elastic frames, −tr σ/3")
    ax_e.set(xlabel="volume (Å³/atom)", ylabel="energy (eV/atom)")
    ax_p.axhline(0, color="0.7", lw=0.8)
    ax_p.set(xlabel="volume (Å³/atom)", ylabel="pressure (GPa)")
    for ax in (ax_e, ax_p):
        ax.legend(fontsize="small")


def _draw_phonons(ax, phonons):
    """The dispersion along ASE's band path, special points marked."""
    path = phonons["path"]
    ax.plot(path["x"], np.array(path["frequencies"]), color="C0", lw=1)
    for x in path["special_x"]:
        ax.axvline(x, color="0.7", lw=0.8)
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xticks(path["special_x"])
    ax.set_xticklabels([label.replace("G", "Γ") for label in path["labels"]])
    ax.set_xlim(path["x"][0], path["x"][-1])
    ax.set(ylabel="frequency (THz)", title="phonons")


def validation_figure(report):
    """The figure of a :func:`~snnp_calc.validation.report.validate` report.

    Returns
    -------
    matplotlib.figure.Figure
        Energy and pressure against volume; the phonon dispersion when the
        report has phonons.
    """
    has_phonons = "phonons" in report
    fig = figure(figsize=(4.2 * (2 + has_phonons), 3.8), layout="constrained")
    axes = fig.subplots(1, 2 + has_phonons, squeeze=False)[0]
    _draw_eos(axes[0], axes[1], report)
    if has_phonons:
        _draw_phonons(axes[2], report["phonons"])
    fig.suptitle(f"{report['symbol']} {report['lattice']} ({report['calculator']})")
    return fig


def write_validation_figure(report, path):
    """Draw :func:`validation_figure` and write it to ``path`` as PNG; returns the path."""
    return save_png(validation_figure(report), path)
