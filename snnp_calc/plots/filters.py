"""Figures of a model's parts: its spline filters, its readout, its descriptors.

For S species and K = K_rho + K_t readout inputs (DESIGN.md §2):
:func:`filter_figure` draws ρ_k(r), f_k(r), g_k(cos θ) or φ(r), a panel per
filter k and a line per neighbour species (species pair for g and φ), with
knots, linear extensions and the cutoff; :func:`readout_figure` the readout's
response R_a(G) to each input (:func:`readout_response`) or the s-MEAM U_a;
:func:`descriptor_figure` each G_k's distribution over a data set
(:func:`descriptors_by_species`); :func:`snnp_calc.plots.model_figures.write_model_plots`
writes them all.

ρ, f and g are dimensionless as stored: G_k is their sum (or sum of
products), the readout's input. Splines are evaluated by
:class:`snnp_calc.model.splines.Spline` and the readout by
:func:`snnp_calc.kernels.readout.readout_eval`, the code the calculator runs.
matplotlib (the ``plot`` extra) is imported only when a figure is drawn.
"""

import numpy as np

from ..evaluate import evaluate
from ..kernels.readout import readout_eval
from .figure import figure

KINDS = ("rho", "f", "g", "phi", "legendre_f")

# fraction of a spline's knot span drawn beyond its knots (the linear extension)
EXTEND = 0.08

_STYLE = {
    # kind: (figure title, symbol as in DESIGN.md §2, y unit)
    "rho": ("pair filters", r"\rho", "dimensionless"),
    "f": ("triplet radial filters", "f", "dimensionless"),
    "g": ("triplet angular filters", "g", "dimensionless"),
    "phi": ("pair term", r"\phi", "eV"),
    "legendre_f": ("Legendre filters' radial splines", "f^L", "dimensionless"),
}


def filter_splines(model, kind):
    """The splines of one filter kind with the species they belong to.

    Parameters
    ----------
    model : Model
    kind : {"rho", "f", "g", "phi", "legendre_f"}

    Returns
    -------
    list over filters k of list of (str, Spline)
        Per neighbour species for ρ and f ("Mo"), per unordered species pair
        for g and φ ("Mo–Ni", in the order of
        :func:`snnp_calc.kernels.energy.pair_index`); φ has one "filter" or none.
    """
    names = model.species
    S = len(names)
    pairs = [f"{names[b]}–{names[c]}" for b in range(S) for c in range(b, S)]
    if kind in ("rho", "f"):
        return [list(zip(names, row)) for row in getattr(model, kind)]
    if kind == "g":
        return [list(zip(pairs, row)) for row in model.g]
    if kind == "phi":
        return [list(zip(pairs, model.phi))] if model.phi else []
    if kind == "legendre_f":
        return [list(zip(names, filt.f)) for filt in model.legendre]
    raise ValueError(f"unknown filter kind {kind!r}; expected one of {KINDS}")


def _draw_spline(ax, spline, lo, hi, colour, label):
    """A spline on [lo, hi]: solid on its knots, dashed beyond (linear extension), knots as dots.

    The line on the knots is labelled ``label``; the others ``_``-prefixed.
    """
    for a, b, inside in ((lo, spline.x0, False), (spline.x0, spline.x1, True),
                         (spline.x1, hi, False)):
        a, b = max(a, lo), min(b, hi)
        if b > a:
            x = np.linspace(a, b, 120 if inside else 20)
            ax.plot(x, spline(x)[0], color=colour, ls="-" if inside else "--", lw=1.4,
                    label=label if inside else "_" + label)
    ax.plot(spline.knots, spline.y, "o", color=colour, ms=3.5, label="_knots")


_KNOTS = (dict(color="k", marker="o", ls="", ms=3.5), "knots")
_EXTENSION = (dict(color="k", ls="--", lw=1.4), "linear extension")


def _grid(n_panels, xlabel, ylabel, width=3.3, height=2.6):
    """Figure with up to 4 panels (width x height in) a row, at least 6.5 in wide (room
    for the legend), axis labels on the bottom panel of each column and the first of
    each row; a single panel is 5 x 3.4 in."""
    if n_panels == 1:
        width, height = 5.0, 3.4
    ncols = min(4, n_panels)
    nrows = -(-n_panels // ncols)
    # optional dependency, imported when a figure is drawn (see plots.figure)
    from matplotlib.ticker import MaxNLocator
    fig = figure(figsize=(max(width * ncols, 6.5), height * nrows + 1.1), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.ravel()[n_panels:]:
        ax.set_visible(False)
    axes = axes.ravel()[:n_panels]
    for q, ax in enumerate(axes):
        # long tick labels (-0.065) collide with more than 5 ticks on a narrow panel
        ax.xaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 2.5, 5, 10]))
        if q + ncols >= n_panels:
            ax.set_xlabel(xlabel)
        if q % ncols == 0:
            ax.set_ylabel(ylabel)
    return fig, axes


def _legend(fig, labels, extra=(), title=None, colours=None):
    """One legend below the panels: a line per species (colours C0, C1, ... unless
    given), then ``extra`` entries, each a (Line2D style, label) pair."""
    # optional dependency, imported when a figure is drawn (see plots.figure)
    from matplotlib.lines import Line2D
    colours = colours or [f"C{c}" for c in range(len(labels))]
    handles = [Line2D([], [], color=col, lw=1.4, label=text) for col, text in zip(colours, labels)]
    handles += [Line2D([], [], **style, label=text) for style, text in extra]
    ncols = max(1, min(len(handles), int(fig.get_figwidth() / 1.9)))
    fig.legend(handles=handles, loc="outside lower center", ncols=ncols, fontsize=8,
               title=title, title_fontsize=8, frameon=False)


def _name(model, title):
    return title or model.metadata.get("name", "model")


def _angle_axis(ax):
    """Bond angles θ (degrees) on the top edge of a cos θ axis."""
    top = ax.twiny()
    top.set_xlim(ax.get_xlim())
    degrees = np.array([180, 120, 90, 60, 0])
    top.set_xticks(np.cos(np.radians(degrees)), [f"{d}°" for d in degrees], fontsize=8)
    top.tick_params(length=2, pad=1)


def filter_figure(model, kind, title=None):
    """One figure of a filter kind: a panel per filter k, a line per species (pair).

    Parameters
    ----------
    model : Model
    kind : {"rho", "f", "g", "phi", "legendre_f"}
    title : str, optional
        Model name for the figure title (default ``metadata["name"]``).

    Returns
    -------
    matplotlib.figure.Figure
        Each panel's solid lines are the spline on its knots, dashed lines its
        linear extension; the Line2D labels are the species (pair) names,
        prefixed with ``_`` for the extensions.
    """
    rows = filter_splines(model, kind)
    if not rows:
        raise ValueError(f"the model has no {kind} filters")
    name, symbol, unit = _STYLE[kind]
    sub, arg = "" if kind == "phi" else "_k", r"\cos\theta" if kind == "g" else "r"
    fig, axes = _grid(len(rows), r"$\cos\theta$" if kind == "g" else "$r$ (Å)",
                      f"${symbol}{sub}({arg})$ ({unit})")
    r_c = model.cutoff
    for k, (ax, row) in enumerate(zip(axes, rows)):
        span = max(s.x1 - s.x0 for _, s in row)
        lo = min(s.x0 for _, s in row) - EXTEND * span
        hi = max(s.x1 for _, s in row) + EXTEND * span
        if kind == "g":
            lo, hi = min(lo, -1.0 - EXTEND * span), max(hi, 1.0 + EXTEND * span)
            ax.axvspan(lo, -1.0, color="0.9", lw=0)
            ax.axvspan(1.0, hi, color="0.9", lw=0)
        else:
            lo, hi = max(lo, 0.0), max(hi, r_c + EXTEND * span)
            ax.axvline(r_c, color="0.4", ls=":", lw=1, label="_cutoff")
            ax.axhline(0.0, color="0.6", lw=0.5, zorder=0, label="_zero")
        for c, (label, spline) in enumerate(row):
            _draw_spline(ax, spline, lo, hi, f"C{c}", label)
        ax.set_xlim(lo, hi)
        if kind == "g":
            _angle_axis(ax)
        if kind != "phi":
            ax.set_title(f"${symbol}_{{{k + 1}}}$")
    edge = ((dict(color="0.9", lw=6), r"$|\cos\theta| > 1$ (unreachable)") if kind == "g" else
            (dict(color="0.4", ls=":"), f"cutoff $r_c$ = {r_c:g} Å"))
    who = {"g": "neighbour species pair", "phi": "species pair"}.get(kind, "neighbour species")
    _legend(fig, [label for label, _ in rows[0]], [_KNOTS, _EXTENSION, edge], f"lines: {who}")
    fig.suptitle(f"{_name(model, title)}: {name} ${symbol}$")
    return fig


def descriptors_by_species(model, images):
    """Descriptors G_nf of every atom of a data set, grouped by species.

    Parameters
    ----------
    model : Model
    images : sequence of ase.Atoms

    Returns
    -------
    list over species a of ndarray, shape (n_a, K)
        The readout inputs (G^ρ then G^t) of the n_a atoms of species a.
    """
    G_by_species = [[] for _ in model.species]
    for atoms in images:
        out = evaluate(model, atoms.numbers, atoms.positions, atoms.cell.array, atoms.pbc)
        species_n = model.species_indices(atoms.numbers)
        for a in range(model.n_species):
            G_by_species[a].append(out["descriptors"][species_n == a])
    K = model.n_filters
    return [np.concatenate(parts) if parts else np.zeros((0, K)) for parts in G_by_species]


def readout_response(model, G_by_species=None, n_points=101):
    """R_a(G) of an MLP readout as each input is swept, the others held.

    Parameters
    ----------
    model : Model
        With an MLP readout.
    G_by_species : list over species of ndarray, shape (n_a, K), optional
        Descriptors of a data set (:func:`descriptors_by_species`). Input k
        of species a is swept over its data range (padded by 5 %, by ¼ scale
        at least) and the others held at their data means; without data (or
        atoms of a), over ``offset ± 3 scale`` of the model's input
        standardisation, the others held at the offsets.
    n_points : int

    Returns
    -------
    held_ef : ndarray, shape (S, K)
        Where the inputs not swept are held (data means or stored offsets).
    x_efz : ndarray, shape (S, K, n_points)
        Values of the swept input k; each row contains ``held_ef[a, k]``.
    R_efz : ndarray, shape (S, K, n_points)
        R_a(G) (eV) with G = held_ef[a] except G_k = x_efz[a, k].
    """
    if model.readout_kind != "mlp":
        raise ValueError("readout_response needs an MLP readout; an s-MEAM readout is "
                         "its spline U")
    ro = model.readout
    km = model.kernel_model
    S, K = ro.offset.shape
    held_ef = ro.offset.copy()
    lo_ef, hi_ef = ro.offset - 3 * ro.scale, ro.offset + 3 * ro.scale
    for a, G_nf in enumerate(G_by_species or []):
        if len(G_nf):
            lo, hi = G_nf.min(axis=0), G_nf.max(axis=0)
            # at least ±¼ scale, so that an input constant over the data (one crystal) is swept
            pad = np.maximum(0.05 * (hi - lo), 0.25 * ro.scale[a])
            held_ef[a], lo_ef[a], hi_ef[a] = G_nf.mean(axis=0), lo - pad, hi + pad
    x_efz = np.empty((S, K, n_points))
    R_efz = np.empty((S, K, n_points))
    dR_f = np.zeros(K)
    buf_3h = np.zeros((3, int(km.sizes.sum())))
    for a in range(S):
        for k in range(K):
            x_efz[a, k] = np.sort(np.append(np.linspace(lo_ef[a, k], hi_ef[a, k], n_points - 1),
                                            held_ef[a, k]))
            G_f = held_ef[a].copy()
            for q, x in enumerate(x_efz[a, k]):
                G_f[k] = x
                R_efz[a, k, q] = readout_eval(km, a, G_f, dR_f, buf_3h)
    return held_ef, x_efz, R_efz


def _input_names(model):
    return ([rf"$G^{{\rho}}_{{{k + 1}}}$" for k in range(len(model.rho))]
            + [rf"$G^{{t}}_{{{k + 1}}}$" for k in range(len(model.f))])


def readout_figure(model, G_by_species=None, title=None):
    """The readout: R_a(G) per input (MLP) or U_a(x) with its knots (s-MEAM).

    Parameters
    ----------
    model : Model
    G_by_species : list over species of ndarray, shape (n_a, K), optional
        Data descriptors: sweep ranges and held means for an MLP
        (:func:`readout_response`); shaded data ranges of G^ρ + G^t for U.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    title = _name(model, title)
    have_data = G_by_species is not None
    if model.readout_kind == "spline":
        fig, (ax,) = _grid(1, r"$G^{\rho} + G^{t}$ (dimensionless)", "$U_a$ (eV)")
        for a, spline in enumerate(model.readout.U):
            span = spline.x1 - spline.x0
            _draw_spline(ax, spline, spline.x0 - EXTEND * span, spline.x1 + EXTEND * span,
                         f"C{a}", model.species[a])
            if have_data and len(G_by_species[a]):
                x_n = G_by_species[a].sum(axis=1)
                ax.axvspan(x_n.min(), x_n.max(), color=f"C{a}", alpha=0.15, lw=0)
        ax.axvline(0.0, color="0.4", ls=":", lw=1)
        labels, colours = model.species, None
        extra = [_KNOTS, _EXTENSION, (dict(color="0.4", ls=":"), r"isolated atom ($R_a = 0$)")]
        if have_data:
            extra.append((dict(color="0.5", alpha=0.3, lw=6), "range in data"))
        fig.suptitle(f"{title}: embedding $U_a$, $R_a(G) = U_a(G^\\rho + G^t) - U_a(0)$")
    else:
        held_ef, x_efz, R_efz = readout_response(model, G_by_species)
        names = _input_names(model)
        # with data, a species the data lack would be swept over another range: leave it out
        shown = [a for a in range(model.n_species) if not have_data or len(G_by_species[a])]
        fig, axes = _grid(len(names), "swept input (dimensionless)", "$R_a(G)$ (eV)")
        for k, ax in enumerate(axes):
            for a in shown:
                x, R = x_efz[a, k], R_efz[a, k]
                ax.plot(x, R, color=f"C{a}", lw=1.4, label=model.species[a])
                q = int(np.flatnonzero(x == held_ef[a, k])[0])
                ax.plot(x[q], R[q], "o", color=f"C{a}", ms=4, label="_held")
            spread = np.ptp(R_efz[shown, k], axis=1).max()
            span = f"{spread:.3g} eV" if spread >= 1 else f"{1000 * spread:.3g} meV"
            ax.set_title(f"{names[k]}: $R$ spans {span}", fontsize=10)
        held = "their means over the data" if have_data else "the stored input offsets"
        labels, colours = [model.species[a] for a in shown], [f"C{a}" for a in shown]
        extra = [(dict(color="k", marker="o", ls="", ms=4), "all inputs held")]
        fig.suptitle(f"{title}: readout response, one input swept, the others at {held}")
    _legend(fig, labels, extra, "lines: species of the central atom", colours)
    return fig


def descriptor_figure(model, G_by_species, title=None):
    """Histograms of each descriptor G_k over the atoms of a data set, per species.

    Parameters
    ----------
    model : Model
    G_by_species : list over species of ndarray, shape (n_a, K)
        From :func:`descriptors_by_species`; needs at least one atom.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        For an MLP readout, dotted lines mark the stored input offsets (the
        training data's means when the fitter set them), or a triangle on
        the panel's edge when an offset lies off the data's range.
    """
    names = _input_names(model)
    G_all = np.concatenate(G_by_species)
    if not len(G_all):
        raise ValueError("the data set has no atoms")
    fig, axes = _grid(len(names), "descriptor value (dimensionless)", "atoms")
    for k, ax in enumerate(axes):
        # common bins for all species: about sqrt(n) of them, 10 to 50
        edges = np.histogram_bin_edges(G_all[:, k], int(np.clip(np.sqrt(len(G_all)), 10, 50)))
        for a, G_nf in enumerate(G_by_species):
            if len(G_nf):
                ax.hist(G_nf[:, k], bins=edges, histtype="step", color=f"C{a}", lw=1.4)
        lo, hi = ax.get_xlim()
        for a in range(model.n_species if model.readout_kind == "mlp" else 0):
            x = model.readout.offset[a, k]
            if lo <= x <= hi:
                ax.axvline(x, color=f"C{a}", ls=":", lw=1)
            else:
                ax.plot(lo if x < lo else hi, 0.0, "<" if x < lo else ">", ms=7, clip_on=False,
                        color=f"C{a}")
        ax.set_title(names[k])
    extra = []
    if model.readout_kind == "mlp":
        extra = [(dict(color="k", ls=":", lw=1), "stored input offset"),
                 (dict(color="k", marker=">", ls="", ms=6), "offset beyond this edge")]
    counts = [f"{sym} ({len(G)} atoms)" for sym, G in zip(model.species, G_by_species)]
    _legend(fig, counts, extra, "species of the central atom")
    fig.suptitle(f"{_name(model, title)}: descriptors over the data")
    return fig
