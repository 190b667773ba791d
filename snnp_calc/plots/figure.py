"""matplotlib figures outside pyplot, written atomically (matplotlib: the ``plot`` extra).

matplotlib is optional: it is imported when a figure is first drawn, never at
package import, and a missing matplotlib raises ImportError with the install
command.
"""
import importlib
from pathlib import Path

from .._files import atomic_write


def require_matplotlib():
    """Raise ImportError with the install command when matplotlib is missing."""
    try:
        importlib.import_module("matplotlib")
    except ImportError as err:
        raise ImportError("plots need matplotlib: pip install 'snnp_calc[plot]'") from err


def figure(**options):
    """A matplotlib ``Figure`` outside pyplot: no backend switched, nothing to close."""
    require_matplotlib()
    # optional dependency, imported lazily (see the module docstring)
    from matplotlib.figure import Figure
    return Figure(**options)


def save_png(fig, path, dpi=110):
    """Write ``fig`` to ``path`` as PNG atomically (temporary file, then rename)."""
    path = Path(path)
    atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=dpi), binary=True)
    return path
