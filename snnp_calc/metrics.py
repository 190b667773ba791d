"""Prediction errors of a model on reference frames.

Energies are compared per atom (meV/atom), forces per Cartesian component
(eV/Å), stresses per Voigt component (GPa), as in Zuo et al.,
J. Phys. Chem. A 124, 731 (2020).
"""
import numpy as np
from ase.units import GPa

from .evaluate import evaluate, evaluate_committee, voigt
from .model.committee import Committee


def predict(model, frames):
    """Model (or committee mean) energies, forces and stresses for each frame.

    Returns
    -------
    list of dict
        ``energy`` (eV), ``forces`` (n, 3) eV/Å, ``stress`` (6,) eV/Å³ or None.
    """
    run = evaluate_committee if isinstance(model, Committee) else evaluate
    out = []
    for frame in frames:
        a = frame.atoms
        r = run(model, a.numbers, a.positions, a.cell.array, a.pbc)
        stress = None
        if a.cell.rank == 3:
            stress = voigt(r["virial"]) / a.get_volume()
        out.append(dict(energy=r["energy"], forces=r["forces"], stress=stress))
    return out


def _summary(frames, predictions):
    de = np.array([(p["energy"] - f.energy) / len(f.atoms) for f, p in zip(frames, predictions)])
    df = np.concatenate([(p["forces"] - f.forces).ravel() for f, p in zip(frames, predictions)])
    ds = [p["stress"] - f.stress for f, p in zip(frames, predictions)
          if f.stress is not None and p["stress"] is not None]
    row = dict(n_structures=len(frames), n_atoms=int(sum(len(f.atoms) for f in frames)),
               e_mae=1000 * np.abs(de).mean(), e_rmse=1000 * np.sqrt((de ** 2).mean()),
               f_mae=np.abs(df).mean(), f_rmse=np.sqrt((df ** 2).mean()))
    if ds:
        ds = np.concatenate(ds) / GPa
        row["s_mae"] = np.abs(ds).mean()
        row["s_rmse"] = np.sqrt((ds ** 2).mean())
    return {k: (float(v) if isinstance(v, np.floating) else v) for k, v in row.items()}


def error_report(model, frames, predictions=None):
    """Error statistics overall and per ``config_type``.

    Returns
    -------
    dict
        ``{"all": row, "<config_type>": row, ...}``; each row has
        ``n_structures``, ``n_atoms``, ``e_mae``, ``e_rmse`` (meV/atom),
        ``f_mae``, ``f_rmse`` (eV/Å) and, where stresses exist, ``s_mae``,
        ``s_rmse`` (GPa).
    """
    if predictions is None:
        predictions = predict(model, frames)
    report = {"all": _summary(frames, predictions)}
    for ct in sorted({f.config_type for f in frames}):
        pick = [k for k, f in enumerate(frames) if f.config_type == ct]
        report[ct] = _summary([frames[k] for k in pick], [predictions[k] for k in pick])
    return report


def format_report(report):
    """A fixed-width text table of :func:`error_report`."""
    head = (f"{'config_type':<14}{'n':>5}{'E MAE':>10}{'E RMSE':>10}{'F MAE':>9}{'F RMSE':>9}"
            f"{'S RMSE':>9}")
    lines = [head, f"{'':<14}{'':>5}{'meV/at':>10}{'meV/at':>10}{'eV/Å':>9}{'eV/Å':>9}"
             f"{'GPa':>9}"]
    for name, row in report.items():
        s = f"{row['s_rmse']:9.3f}" if "s_rmse" in row else f"{'-':>9}"
        lines.append(f"{name:<14}{row['n_structures']:>5}{row['e_mae']:10.3f}"
                     f"{row['e_rmse']:10.3f}{row['f_mae']:9.4f}{row['f_rmse']:9.4f}{s}")
    return "\n".join(lines)
