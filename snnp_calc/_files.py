"""Files written whole or not at all, and what counts as a path.

:func:`atomic_write` writes into a temporary file in the target's folder,
flushes it to disk and renames it over the target (``os.replace`` is atomic
on POSIX and Windows), so a reader never sees a partial file and a failed
write leaves the old file untouched.
"""
import os
import secrets
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
    The new file gets the permissions a plain ``open()`` would give (0o666
    less the umask, which the operating system applies: the process-wide
    umask is neither read nor changed). After the rename the folder itself is
    flushed, so that the new name survives a crash.
    ``binary``: the file is opened in binary mode (e.g. for ``fig.savefig``).
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = _new_temporary(folder, path.name)
    try:
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8")) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _new_temporary(folder, name):
    """A new file ``.{name}.XXXXXXXX.tmp`` in ``folder``: (descriptor, path)."""
    for _ in range(100):
        tmp = folder / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder}: no free temporary name for {name}")


def _fsync_folder(folder):
    """Flush a folder's entries to disk (POSIX; folders cannot be opened on Windows)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
