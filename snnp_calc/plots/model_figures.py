"""Every figure of a model, written as PNG files (``snnp plot``)."""
from pathlib import Path

from .figure import require_matplotlib, save_png
from .filters import (
    KINDS,
    descriptor_figure,
    descriptors_by_species,
    filter_figure,
    filter_splines,
    readout_figure,
)
from .legendre import legendre_g_figure


def write_model_plots(model, directory, images=None, prefix="", title=None):
    """Write every figure of a model as PNG files.

    Parameters
    ----------
    model : Model
    directory : str or path-like
        Created if missing.
    images : sequence of ase.Atoms, optional
        A data set: adds ``descriptors.png`` and sets the readout's sweep
        ranges and held values.
    prefix : str
        Prepended to every file name (e.g. ``"Mo-s-nnp-"``).
    title : str, optional
        Model name in the figure titles (default ``metadata["name"]``).

    Returns
    -------
    list of Path
        ``filters-rho.png``, ``filters-f.png``, ``filters-g.png``,
        ``filters-phi.png`` (with a pair term), ``filters-legendre_f.png`` and
        ``filters-legendre_g.png`` (with Legendre filters), ``readout.png`` and
        ``descriptors.png`` (with ``images``), in that order, each with ``prefix``.
    """
    require_matplotlib()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    G_by_species = None if images is None else descriptors_by_species(model, images)
    figures = [(f"filters-{kind}", lambda kind=kind: filter_figure(model, kind, title))
               for kind in KINDS if filter_splines(model, kind)]
    if model.legendre:
        figures.append(("filters-legendre_g", lambda: legendre_g_figure(model, title)))
    figures.append(("readout", lambda: readout_figure(model, G_by_species, title)))
    if G_by_species is not None:
        figures.append(("descriptors", lambda: descriptor_figure(model, G_by_species, title)))
    paths = []
    for name, draw in figures:
        paths.append(save_png(draw(), directory / f"{prefix}{name}.png"))
    return paths
