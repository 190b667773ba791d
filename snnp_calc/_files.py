"""Files written whole or not at all, and what counts as a path.

:func:`atomic_write` writes into a temporary file in the target's folder,
flushes it to disk and renames it over the target (``os.replace`` is atomic
on POSIX and Windows), so a reader never sees a partial file and a failed
write leaves the old file untouched.
"""
import os
import tempfile
from pathlib import Path


def is_path(value):
    """Whether ``value`` names a file (str, bytes or os.PathLike) rather than holding data."""
    return isinstance(value, (str, bytes)) or hasattr(value, "__fspath__")


def atomic_write_text(path, text):
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_write`)."""
    atomic_write(path, lambda fh: fh.write(text))


def atomic_write(path, write, binary=False):
    """Call ``write(fh)`` on a temporary file next to ``path``, then rename it over ``path``.

    If ``write`` raises, ``path`` is untouched and the temporary file removed.
    ``binary``: the file is opened in binary mode (e.g. for ``fig.savefig``).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".",
                               prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private; give it the permissions a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8")) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
