"""A replay-ready view of multi-venue quotes: snapshot times and each venue's book at every one of them.

``Book`` is built once per data set (it does not depend on strategy parameters) and shared by every
replay; building it is the cost that the notebooks' sliders cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..data.market import MarketData
from ..data.snapshots import last_row_at, snapshot_index
from ..venues import VenueProfile, VenueTable


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
    market: MarketData | None = None  # the source data, for strategies that estimate from history

    @property
    def taker_fee(self) -> np.ndarray:
        return np.array([p.taker_fee for p in self.profiles])

    @property
    def maker_rebate(self) -> np.ndarray:
        return np.array([p.maker_rebate for p in self.profiles])

    @property
    def lot_size(self) -> np.ndarray:
        return np.array([p.lot_size for p in self.profiles], np.int64)

    @cached_property
    def first_full_index(self) -> int:
        """First snapshot at which every venue has quoted (0 when none has them all); computed once."""
        ready = self.row.min(axis=1) >= 0
        return int(np.argmax(ready)) if ready.any() else 0

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
        """Apply the snapshot rule (``keep``, see :func:`~sorlib.data.snapshots.snapshot_index`) and index
        every venue's book at every snapshot time."""
        venue_table = venue_table or VenueTable.load()
        rows = snapshot_index(md.quotes, keep)
        q = md.quotes.take(rows)
        venues = np.unique(q.venue).astype(np.int32)
        times = np.unique(q.ts)
        row = np.stack([last_row_at(q, times, v) for v in venues], axis=1) if venues.size else \
            np.empty((times.shape[0], 0), np.int64)
        t = md.trades
        torder = np.argsort(t.ts, kind="stable")
        side = _infer_sides(q, t.ts[torder], t.venue[torder], t.price[torder], t.side[torder])
        profiles = tuple(venue_table.profiles(venues, md.venue_names))
        return cls(times=times, venues=venues, profiles=profiles, row=row,
                   ask_px=q.ask_px, ask_sz=q.ask_sz.astype(np.int64),
                   bid_px=q.bid_px, bid_sz=q.bid_sz.astype(np.int64),
                   trades_ts=t.ts[torder], trades_venue=t.venue[torder], trades_px=t.price[torder],
                   trades_sz=t.size[torder].astype(np.int64), trades_side=side, market=md)


def _infer_sides(q, ts: np.ndarray, venue: np.ndarray, price: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Aggressor sides, filling unknown ones (0, e.g. AlgoSeek prints) by the quote rule against the
    venue's book just before the print: at or below its bid → seller-initiated (−1), at or above its ask →
    buyer-initiated (+1), otherwise by the side of its mid; a print at the mid stays 0."""
    side = np.asarray(side, np.int8).copy()
    unknown = side == 0
    if not unknown.any() or len(q) == 0:
        return side
    for v in np.unique(venue[unknown]):
        m = unknown & (venue == v)
        r = last_row_at(q, ts[m] - 1, v)
        ok = r >= 0
        rr = np.maximum(r, 0)
        bid = np.where(ok, q.bid_px[rr, 0], np.nan)
        ask = np.where(ok, q.ask_px[rr, 0], np.nan)
        mid = 0.5 * (bid + ask)
        px = price[m]
        s = np.zeros(px.shape[0], np.int8)
        with np.errstate(invalid="ignore"):
            s[px > mid] = 1
            s[px < mid] = -1
            s[px <= bid] = -1
            s[px >= ask] = 1
        side[m] = s
    return side
