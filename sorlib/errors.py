"""Exception families raised by sorlib.

Every error a user can cause derives from :class:`SorlibError`; the CLI prints its message on one line
and exits non-zero.  Messages say *what* is wrong, *where* (file, row, column) and *how to fix it*.
"""

from __future__ import annotations


class SorlibError(Exception):
    """Base class of every error sorlib raises for bad input or configuration."""


class DataError(SorlibError):
    """Market data that cannot be read or validated.

    ``path``, ``row`` (1-based line number in the file, header = line 1) and ``column`` locate the
    problem when known; they are also folded into the message.
    """

    def __init__(self, message: str, *, path: str | None = None, row: int | None = None,
                 column: str | None = None) -> None:
        where = []
        if path is not None:
            where.append(str(path))
        if row is not None:
            where.append(f"line {row}")
        if column is not None:
            where.append(f"column '{column}'")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + message)
        self.path, self.row, self.column = path, row, column


class ConfigError(SorlibError):
    """Invalid configuration: parameters, venue files, grids, CLI options."""


class OutputError(SorlibError):
    """An output that cannot be written: a path that is a directory (or under a regular file), an
    unwritable folder, a full disk. Nothing partial that looks complete is left behind."""
