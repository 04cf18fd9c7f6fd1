"""Replay engine: snapshots in time order, routing, fills, the unfilled remainder and clean-up."""

from .book import Book, snapshot_rows
from .replay import Execution, Fills, replay

__all__ = ["Book", "Execution", "Fills", "replay", "snapshot_rows"]
