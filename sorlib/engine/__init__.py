"""Replay engine: snapshots in time order, routing, fills, the unfilled remainder and clean-up."""

from .book import Book
from .replay import Execution, Fills, replay

__all__ = ["Book", "Execution", "Fills", "replay"]
