"""The on-disk results store: one JSON part file per completed task, written atomically.

A part is keyed by :func:`task_key` — a hash of the data (:attr:`DataSpec.digest`), the strategy's
decision-relevant description (the router's :meth:`~sorlib.strategies.Router.decision_key`, or a
baseline's parameters), the day and the chunk's parent orders. Parts are written as tasks complete
(temporary file, then rename), so a search that is interrupted keeps everything it finished; on the
next run tasks whose key is in the store are read back instead of recomputed. Floats are written with
``repr`` precision, so a resumed search gives bit-identical tables. A part that cannot be read
(e.g. truncated by hand) counts as missing and is recomputed.

Layout: ``<root>/parts/<key[:2]>/<key>.json`` holding ``{"key", "task", "rows"}``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .._io import atomic_write_text

__all__ = ["STORE_VERSION", "ResultStore", "task_key"]

#: bump when the engine or the row format changes in a way that invalidates stored parts
STORE_VERSION = 1


def task_key(*parts: Any) -> str:
    """A stable 32-hex-digit hash of JSON-able ``parts`` (plus :data:`STORE_VERSION`)."""
    text = json.dumps([STORE_VERSION, *parts], sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class ResultStore:
    """A directory of completed task results (see module docstring)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)  # created on the first put

    def path(self, key: str) -> Path:
        return self.root / "parts" / key[:2] / f"{key}.json"

    def keys(self) -> set[str]:
        """Keys of every part on disk (one directory listing per prefix)."""
        return {p.stem for p in (self.root / "parts").glob("*/*.json")}

    def __contains__(self, key: str) -> bool:
        return self.path(key).is_file()

    def get(self, key: str) -> dict | None:
        """The stored part, or None when absent or unreadable."""
        try:
            doc = json.loads(self.path(key).read_text())
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) and doc.get("key") == key and "rows" in doc else None

    def put(self, key: str, task: dict, rows: dict[str, list]) -> Path:
        """Write one part atomically (``rows``: columns of equal length)."""
        return atomic_write_text(self.path(key), json.dumps({"key": key, "task": task, "rows": rows},
                                                            separators=(",", ":")))
