"""The task's snapshot rule and per-venue book state at given times.

Snapshot rule (the take-home version of the task): in time order (stable sort, so "first" means first in
the file), for every distinct timestamp keep the first message of each venue. Each venue's state is then
its level-0 quote, and a venue's last known quote stays valid until it changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .market import Quotes


def snapshot_index(quotes: Quotes, keep: str = "first") -> np.ndarray:
    """Indices (ascending) of one row of each venue at every distinct ``ts``.

    ``keep="first"`` is the task's rule (the first message of each venue at each time);
    ``keep="last"`` keeps the book after all messages of one event (the consistent state the replay
    uses). ``quotes`` must be time-sorted (every reader returns it so); ties keep row order.
    """
    if keep not in ("first", "last"):
        raise ValueError(f"keep must be 'first' or 'last', got {keep!r}")
    n = len(quotes)
    if n == 0:
        return np.empty(0, np.int64)
    order = np.lexsort((np.arange(n), quotes.venue, quotes.ts))  # (ts, venue, row)
    ts, v = quotes.ts[order], quotes.venue[order]
    boundary = (ts[1:] != ts[:-1]) | (v[1:] != v[:-1])
    pick = np.ones(n, bool)
    if keep == "first":
        pick[1:] = boundary
    else:
        pick[:-1] = boundary
    return np.sort(order[pick])


def snapshot_quotes(quotes: Quotes) -> Quotes:
    """The rows kept by the snapshot rule (:func:`snapshot_index`)."""
    return quotes.take(snapshot_index(quotes))


@dataclass(frozen=True)
class VenueBook:
    """Per-venue state at query times. Arrays have shape ``(len(times), len(venues))``.

    ``row`` is the index into the source :class:`Quotes` of the quote in force (-1 before a venue's
    first quote; prices are then NaN and sizes 0). Prices in $, sizes in shares, level ``level``.
    """

    times: np.ndarray
    venues: np.ndarray
    row: np.ndarray
    bid_px: np.ndarray
    bid_sz: np.ndarray
    ask_px: np.ndarray
    ask_sz: np.ndarray

    def best_ask(self) -> np.ndarray:
        """Lowest ask across venues at each time ($; NaN when no venue shows an ask)."""
        return _nan_reduce(self.ask_px, np.fmin)

    def best_bid(self) -> np.ndarray:
        """Highest bid across venues at each time ($; NaN when no venue shows a bid)."""
        return _nan_reduce(self.bid_px, np.fmax)


def _nan_reduce(a: np.ndarray, f) -> np.ndarray:
    return f.reduce(a, axis=1) if a.shape[1] else np.full(a.shape[0], np.nan)


def last_row_at(quotes: Quotes, times: np.ndarray, venue: int) -> np.ndarray:
    """For one venue: index of its last quote with ``ts <= t`` for each ``t`` in ``times`` (-1 if none)."""
    rows = np.flatnonzero(quotes.venue == venue)
    if rows.size == 0:
        return np.full(np.shape(times), -1, np.int64)
    k = np.searchsorted(quotes.ts[rows], np.asarray(times, np.int64), side="right") - 1
    return np.where(k >= 0, rows[np.maximum(k, 0)], -1)


def venue_state_at(quotes: Quotes, times: np.ndarray, venues: np.ndarray | None = None,
                   level: int = 0) -> VenueBook:
    """Each venue's last known state at each query time (ns); a quote stamped exactly ``t`` is in force at ``t``.

    Vectorised with one ``np.searchsorted`` per venue. ``venues`` defaults to every venue in ``quotes``.
    """
    times = np.asarray(times, np.int64)
    venues = np.unique(quotes.venue) if venues is None else np.asarray(venues)
    row = np.full((times.size, venues.size), -1, np.int64)
    for j, v in enumerate(venues):
        row[:, j] = last_row_at(quotes, times, int(v))
    ok = row >= 0
    r = np.maximum(row, 0)

    def pick(a: np.ndarray, fill):
        if a.shape[0] == 0:
            return np.full(row.shape, fill, dtype=a.dtype)
        return np.where(ok, a[r, level], fill)

    return VenueBook(times, venues, row, pick(quotes.bid_px, np.nan), pick(quotes.bid_sz, 0),
                     pick(quotes.ask_px, np.nan), pick(quotes.ask_sz, 0))
