"""Where numba keeps its on-disk function cache when sorlib's own folder is not writable.

Every ``@njit(cache=True)`` kernel of sorlib (``allocation.solver``, ``ck.*``, ``strategies.view``,
``data.taq``, ``synth``, ...) is cached by numba next to its source (``<package>/__pycache__``) or, failing that, in
``~/.cache/numba``. When neither is writable (sorlib installed by another user or in a read-only site
packages, and a home without a writable cache folder), numba refuses to decorate the function:
``RuntimeError: cannot cache function ...: no locator available``. :func:`ensure_cache_dir`, run by
``sorlib/__init__.py`` before any kernel is compiled, points ``NUMBA_CACHE_DIR`` at the first writable
folder of: the user's cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``) + ``/sorlib/numba``, then
``<tempdir>/sorlib-numba-<uid>``. It does nothing when the package folders are writable or when the user
already set ``NUMBA_CACHE_DIR``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def _writable(folder: Path) -> bool:
    """True when ``folder`` can be created and a file written in it (what numba itself tries)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


def _candidates() -> list[Path]:
    """Fallback cache folders, best first."""
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    uid = os.getuid() if hasattr(os, "getuid") else os.getpid()
    return [Path(xdg) / "sorlib" / "numba", Path(tempfile.gettempdir()) / f"sorlib-numba-{uid}"]


def ensure_cache_dir(package_dir: Path | None = None) -> str | None:
    """Set ``NUMBA_CACHE_DIR`` to a writable folder if numba could not cache next to sorlib's sources.

    Returns the folder chosen, or None when nothing had to change. Call before the kernels are
    decorated; if numba is already imported its live config is updated too.
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    root = package_dir or Path(__file__).resolve().parent
    folders = [root, *(p.parent for p in root.rglob("__init__.py") if "__pycache__" not in p.parts)]
    if all(_writable(f / "__pycache__") for f in folders):  # numba caches next to each kernel's source
        return None
    for folder in _candidates():
        if _writable(folder):
            break
    else:  # nothing writable at all: a private temporary folder
        folder = Path(tempfile.mkdtemp(prefix="sorlib-numba-"))
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    if "numba" in sys.modules:  # numba read the environment at its import: update the live value
        from numba.core import config

        config.CACHE_DIR = str(folder)
    return str(folder)
