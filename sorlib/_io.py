"""Atomic output: write to a temporary file beside the target, then rename over it.

Files get the usual permissions of a new file (``0o666`` minus the process umask, typically ``0o644``),
not ``mkstemp``'s ``0o600``. An ``OSError`` while writing (full disk, read-only folder, a path under a
regular file) becomes an :class:`~sorlib.errors.OutputError` naming the path, and the temporary file is
removed: the target is either the complete new file or untouched.

:func:`check_output_file` / :func:`check_output_dir` validate an output path before any work starts;
:func:`dir_lock` serialises writers of one output folder (``fcntl.flock`` on ``DIR/.sorlib.lock``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import OutputError


def file_mode() -> int:
    """The mode of a newly created file under the current umask (``0o666 & ~umask``)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _why(e: OSError) -> str:
    if e.errno == errno.ENOSPC:
        return "no space left on device; free some space or choose another output path"
    if e.errno == errno.EDQUOT:
        return "disk quota exceeded; free some space or choose another output path"
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied; choose a writable output path"
    if e.errno == errno.ENOTDIR:
        return "a parent of this path is a regular file, not a folder; choose another output path"
    if e.errno == errno.EISDIR:
        return "is a directory; give a file path"
    return f"{e.strerror or e}; choose another output path"


def output_error(path: str | Path, e: OSError) -> OutputError:
    """The one-line :class:`OutputError` for an ``OSError`` raised while writing ``path``."""
    return OutputError(f"cannot write {path}: {_why(e)}")


def _write_all(f, data: bytes) -> None:
    """Write ``data`` to the open file ``f`` (tests monkeypatch this to simulate a full disk)."""
    f.write(data)
    f.flush()


@contextlib.contextmanager
def atomic_writer(path: str | Path):
    """A binary file at a temporary path beside ``path`` (mode of a new file under the umask), renamed over
    ``path`` when the block ends; removed, and ``path`` left untouched, when it raises (an ``OSError`` as
    the one-line :class:`OutputError`)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise output_error(path, e) from None
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as f:
            yield f
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise output_error(path, e) from None
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_writer(path) as f:
        _write_all(f, data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def json_safe(obj):
    """``obj`` with NaN/inf floats replaced by None and numpy scalars by Python ones (strict JSON)."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, str | bytes):  # numpy scalar
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def atomic_write_json(path: str | Path, obj) -> Path:
    """Strict JSON (NaN → null), written atomically."""
    return atomic_write_text(path, json.dumps(json_safe(obj), indent=2, allow_nan=False) + "\n")


# ------------------------------------------------------------------------------- output path checks
def _nearest_existing(p: Path) -> Path:
    a = p
    while not a.exists() and a != a.parent:
        a = a.parent
    return a


def _check_creatable(p: Path, what: str) -> None:
    """``p`` (absent) can be created: its nearest existing ancestor is a writable folder."""
    a = _nearest_existing(p.parent if p.parent != p else p)
    if not a.is_dir():
        raise OutputError(f"{what} {p}: {a} is a regular file, not a folder; choose another output path")
    if not os.access(a, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {p}: folder {a} is not writable; choose a writable output path")


def check_output_file(path: str | Path, what: str = "--out") -> Path:
    """Fail now (:class:`OutputError`) unless ``path`` can be written as a file: not a directory, its
    folder exists or can be created, and is writable. ``what`` names the option in the message."""
    p = Path(path)
    if str(path) == "" or p.is_dir():
        raise OutputError(f"{what} {p}: is a directory; give a file path")
    if p.exists():
        if not os.access(p.parent, os.W_OK | os.X_OK):
            raise OutputError(f"{what} {p}: folder {p.parent} is not writable; choose a writable output path")
        return p
    _check_creatable(p, what)
    return p


def check_output_dir(path: str | Path, what: str = "--out") -> Path:
    """Fail now (:class:`OutputError`) unless ``path`` is, or can be created as, a writable folder."""
    p = Path(path)
    if p.exists():
        if not p.is_dir():
            raise OutputError(f"{what} {p}: exists and is not a folder; give a folder path")
        if not os.access(p, os.W_OK | os.X_OK):
            raise OutputError(f"{what} {p}: folder is not writable; choose a writable output path")
        return p
    _check_creatable(p, what)
    return p


@contextlib.contextmanager
def dir_lock(folder: str | Path) -> Iterator[Path]:
    """Hold an exclusive ``fcntl.flock`` on ``folder/.sorlib.lock`` (created as needed) for the block.

    Every sorlib writer of an output folder (search outputs, report pages) takes it around its final
    write, so two runs writing one folder never interleave their files.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / ".sorlib.lock", os.O_RDWR | os.O_CREAT, file_mode())
    except OSError as e:
        raise output_error(folder, e) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield folder
    finally:
        os.close(fd)  # releases the lock
