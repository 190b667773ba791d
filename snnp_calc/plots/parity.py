"""Parity plots of a fit: predicted against reference energies and forces, per data set."""
from pathlib import Path

import numpy as np

from ..metrics import predict
from .figure import figure, save_png


def parity_plots(model, sets, directory):
    """Write energy and force parity plots (PNG) for named frame sets.

    Parameters
    ----------
    model : Model
    sets : dict of str to list of Frame
        e.g. ``{"train": ..., "test": ...}``.
    directory : str or path-like
        Created if missing.

    Returns
    -------
    list of Path
        The files written: ``parity_energy.png`` and ``parity_forces.png``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    fig_e, fig_f = figure(figsize=(4.5, 4.5)), figure(figsize=(4.5, 4.5))
    ax_e, ax_f = fig_e.subplots(), fig_f.subplots()
    for name, frames in sets.items():
        if not frames:
            continue
        pred = predict(model, frames)
        e_ref = np.array([f.energy / len(f.atoms) for f in frames])
        e_fit = np.array([p["energy"] / len(f.atoms) for f, p in zip(frames, pred)])
        f_ref = np.concatenate([f.forces.ravel() for f in frames])
        f_fit = np.concatenate([p["forces"].ravel() for p in pred])
        mae_e = 1000 * np.abs(e_fit - e_ref).mean()
        mae_f = np.abs(f_fit - f_ref).mean()
        ax_e.plot(e_ref, e_fit, ".", ms=4, label=f"{name} (MAE {mae_e:.2f} meV/atom)")
        ax_f.plot(f_ref, f_fit, ".", ms=1.5, alpha=0.5, label=f"{name} (MAE {mae_f:.3f} eV/Å)")
    for ax, fig, label, unit in ((ax_e, fig_e, "energy", "eV/atom"),
                                 (ax_f, fig_f, "force component", "eV/Å")):
        lo, hi = ax.get_xlim()
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
        ax.set_xlabel(f"DFT {label} ({unit})")
        ax.set_ylabel(f"s-NNP {label} ({unit})")
        ax.legend(fontsize=8)
        fig.tight_layout()
    paths = [directory / "parity_energy.png", directory / "parity_forces.png"]
    for fig, path in zip((fig_e, fig_f), paths):
        save_png(fig, path, dpi=130)
    return paths
