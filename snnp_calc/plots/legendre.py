"""The angular functions of a model's factorised triplet filters, drawn from their coefficients.

A Legendre filter k (:mod:`snnp_calc.model.legendre`) has, per unordered
species pair q, ``g_kq(cos θ) = Σ_λ c_kqλ P_λ(cos θ)``, a polynomial with no
knots: :func:`legendre_g_figure` draws it on [−1, 1], a panel per filter and a
line per species pair, with the bond angles on the top axis, evaluated by
:meth:`~snnp_calc.model.legendre.LegendreFilter.g` (the series the kernels
sum in powers of cos θ). Filters with one network input per degree
(``per_degree``) have no single g: each input λ is ``c_kqλ P_λ``, and the
figure draws their weights c_kqλ against λ instead.
"""
import numpy as np

from .filters import _angle_axis, _grid, _legend, _name


def legendre_g_figure(model, title=None, n_points=201):
    """One figure of the Legendre filters' g_k(cos θ), a panel per filter k.

    Parameters
    ----------
    model : Model
        With at least one Legendre filter.
    title : str, optional
        Model name for the figure title (default ``metadata["name"]``).
    n_points : int
        Points on [−1, 1] per line.

    Returns
    -------
    matplotlib.figure.Figure
        Line2D labels are the species pair names ("Mo–Ni"); for per-degree
        filters the lines are c_kqλ (y) at λ = 0..L (x).
    """
    if not model.legendre:
        raise ValueError("the model has no Legendre filters")
    names = model.species
    S = len(names)
    pairs = [f"{names[b]}–{names[c]}" for b in range(S) for c in range(b, S)]
    if model.legendre[0].per_degree:
        return _degree_weights_figure(model, title, pairs)
    fig, axes = _grid(len(model.legendre), r"$\cos\theta$", r"$g^L_k(\cos\theta)$ (dimensionless)")
    x = np.linspace(-1.0, 1.0, n_points)
    for k, (ax, filt) in enumerate(zip(axes, model.legendre)):
        ax.axhline(0.0, color="0.6", lw=0.5, zorder=0, label="_zero")
        for q, label in enumerate(pairs):
            ax.plot(x, filt.g(x, q)[0], color=f"C{q}", lw=1.4, label=label)
        ax.set_xlim(-1.0, 1.0)
        _angle_axis(ax)
        ax.set_title(f"$g^L_{{{k + 1}}}$, L = {filt.degree}")
    _legend(fig, pairs, title="lines: neighbour species pair")
    fig.suptitle(f"{_name(model, title)}: Legendre angular filters $g^L$")
    return fig


def _degree_weights_figure(model, title, pairs):
    """Per-degree filters: their coefficients c_kqλ against λ, a panel per filter."""
    fig, axes = _grid(len(model.legendre), r"degree $\lambda$",
                      r"$c_{k\lambda}$ of $P_\lambda$ (dimensionless)")
    for k, (ax, filt) in enumerate(zip(axes, model.legendre)):
        ax.axhline(0.0, color="0.6", lw=0.5, zorder=0, label="_zero")
        lam = np.arange(filt.degree + 1)
        for q, label in enumerate(pairs):
            ax.plot(lam, filt.c[q], "o-", color=f"C{q}", lw=1.0, ms=3.5, label=label)
        ax.set_title(f"filter {k + 1}, one input per degree")
    _legend(fig, pairs, title="lines: neighbour species pair")
    fig.suptitle(f"{_name(model, title)}: Legendre filters' weights per degree")
    return fig
