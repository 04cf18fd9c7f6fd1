"""A replay-ready view of multi-venue quotes: snapshot times and each venue's book at every one of them.

``Book`` is built once per data set (it does not depend on strategy parameters) and shared by every
replay; building it is the cost that the notebooks' sliders cache.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.market import MarketData
from ..venues import VenueProfile, VenueTable


def snapshot_rows(ts: np.ndarray, venue: np.ndarray, keep: str = "last") -> np.ndarray:
    """Indices of the rows kept by the snapshot rule: one message per (time, venue).

    ``keep="first"`` is the rule of the task (first message of each venue at each distinct time);
    ``keep="last"`` keeps the book after all messages of one event, the consistent state. Input must be
    sorted by time (stable); the result is sorted.
    """
    if keep not in ("first", "last"):
        raise ValueError("keep must be 'first' or 'last'")
    n = ts.shape[0]
    if n == 0:
        return np.empty(0, np.int64)
    order = np.lexsort((np.arange(n), venue, ts))  # time, then venue, then file order
    t, v = ts[order], venue[order]
    if keep == "first":
        new = np.ones(n, bool)
        new[1:] = (t[1:] != t[:-1]) | (v[1:] != v[:-1])
    else:
        new = np.ones(n, bool)
        new[:-1] = (t[1:] != t[:-1]) | (v[1:] != v[:-1])
    return np.sort(order[new])


@dataclass(frozen=True)
class Book:
    """Snapshots of K venues' books.

    Attributes:
        times: ``(m,)`` int64 ns — distinct snapshot times.
        venues: ``(K,)`` int32 venue keys; ``profiles`` their fee/lot terms (same order).
        row: ``(m, K)`` int64 — index into the ask/bid arrays of venue k's book in force at
            ``times[j]`` (``-1`` before its first quote). A change of ``row[j, k]`` is a quote update.
        ask_px, ask_sz, bid_px, bid_sz: ``(n, L)`` quote arrays ($, shares; NaN/0 = empty level).
        trades_*: the prints, sorted by time, for queue-based fills and VWAP weights.
    """

    times: np.ndarray
    venues: np.ndarray
    profiles: tuple[VenueProfile, ...]
    row: np.ndarray
    ask_px: np.ndarray
    ask_sz: np.ndarray
    bid_px: np.ndarray
    bid_sz: np.ndarray
    trades_ts: np.ndarray
    trades_venue: np.ndarray
    trades_px: np.ndarray
    trades_sz: np.ndarray
    trades_side: np.ndarray

    @property
    def taker_fee(self) -> np.ndarray:
        return np.array([p.taker_fee for p in self.profiles])

    @property
    def maker_rebate(self) -> np.ndarray:
        return np.array([p.maker_rebate for p in self.profiles])

    @property
    def lot_size(self) -> np.ndarray:
        return np.array([p.lot_size for p in self.profiles], np.int64)

    def index_at(self, t_ns: int) -> int:
        """Index of the last snapshot at or before ``t_ns`` (-1 if none)."""
        return int(np.searchsorted(self.times, t_ns, side="right")) - 1

    def best_ask(self, j: int) -> float:
        r = self.row[j]
        px = np.where(r >= 0, self.ask_px[np.maximum(r, 0), 0], np.nan)
        return float(np.nanmin(px)) if np.isfinite(px).any() else float("nan")

    def mid(self, j: int) -> float:
        """NBBO mid ($) at snapshot j (NaN when a side is empty everywhere)."""
        r = self.row[j]
        ok = r >= 0
        if not ok.any():
            return float("nan")
        a = self.ask_px[r[ok], 0]
        b = self.bid_px[r[ok], 0]
        if not (np.isfinite(a).any() and np.isfinite(b).any()):
            return float("nan")
        return 0.5 * (float(np.nanmin(a)) + float(np.nanmax(b)))

    @classmethod
    def from_market(cls, md: MarketData, venue_table: VenueTable | None = None, keep: str = "last") -> Book:
        """Apply the snapshot rule and index every venue's book at every snapshot time."""
        venue_table = venue_table or VenueTable.load()
        q = md.quotes
        rows = snapshot_rows(q.ts, q.venue, keep)
        ts, ven = q.ts[rows], q.venue[rows]
        venues = np.unique(ven).astype(np.int32)
        times = np.unique(ts)
        row = np.full((times.shape[0], venues.shape[0]), -1, np.int64)
        for k, v in enumerate(venues):
            mine = np.flatnonzero(ven == v)
            pos = np.searchsorted(ts[mine], times, side="right") - 1
            row[:, k] = np.where(pos >= 0, mine[np.maximum(pos, 0)], -1)
        t = md.trades
        torder = np.argsort(t.ts, kind="stable")
        profiles = tuple(venue_table.profiles(venues, md.venue_names))
        return cls(times=times, venues=venues, profiles=profiles, row=row,
                   ask_px=q.ask_px[rows], ask_sz=q.ask_sz[rows].astype(np.int64),
                   bid_px=q.bid_px[rows], bid_sz=q.bid_sz[rows].astype(np.int64),
                   trades_ts=t.ts[torder], trades_venue=t.venue[torder], trades_px=t.price[torder],
                   trades_sz=t.size[torder].astype(np.int64), trades_side=t.side[torder])
