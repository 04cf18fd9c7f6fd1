"""The normalised, columnar, time-ordered representation every reader produces.

One :class:`MarketData` holds, for one instrument, the per-venue book updates (:class:`Quotes`) and the
prints (:class:`Trades`) of many venues, plus the :class:`LoadReport` of how it was read.

Conventions (the same for every format):

* time: ``int64`` nanoseconds since the Unix epoch, UTC; rows sorted by time with a stable sort, so rows
  with equal time keep file order.
* venue: ``int32`` key — Databento ``publisher_id``; for TAQ/AlgoSeek exchange letters ``ord(letter)``
  (e.g. ``'N'`` → 78). ``MarketData.venue_names`` maps keys to readable names.
* prices: ``float64`` dollars; an empty level has price ``NaN`` and size ``0``.
* sizes: ``int64`` shares.
* a quote row is the *full state* of that venue's book (top ``levels`` levels) after the update; a
  venue's last row stays valid until its next row.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

NS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True)
class Quotes:
    """Per-venue book states: row *i* is venue ``venue[i]``'s book after its update at ``ts[i]``.

    Arrays ``bid_px``/``ask_px`` ($, float64, NaN = empty) and ``bid_sz``/``ask_sz`` (shares, int64,
    0 = empty) have shape ``(n, levels)``; level 0 is the touch.
    """

    ts: np.ndarray
    venue: np.ndarray
    bid_px: np.ndarray
    bid_sz: np.ndarray
    ask_px: np.ndarray
    ask_sz: np.ndarray

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    @property
    def levels(self) -> int:
        return int(self.ask_px.shape[1])

    def take(self, index: np.ndarray) -> Quotes:
        """Rows selected by an integer or boolean index (order kept)."""
        return Quotes(self.ts[index], self.venue[index], self.bid_px[index], self.bid_sz[index],
                      self.ask_px[index], self.ask_sz[index])

    @staticmethod
    def empty(levels: int = 1) -> Quotes:
        return Quotes(np.empty(0, np.int64), np.empty(0, np.int32), np.empty((0, levels)),
                      np.empty((0, levels), np.int64), np.empty((0, levels)),
                      np.empty((0, levels), np.int64))


@dataclass(frozen=True)
class Trades:
    """Prints: time (ns), venue, price ($), size (shares) and aggressor side.

    ``side`` is ``+1`` when the buyer was the aggressor (the trade hit the ask), ``-1`` when the seller
    was (it hit the bid), ``0`` when unknown. ``eligible`` (bool, optional): the print could have reached a
    resting order on that venue's displayed book at that moment (False e.g. for an average-price or late
    report, :mod:`sorlib.data.taq`); None means every print is (readers without sale conditions).
    """

    ts: np.ndarray
    venue: np.ndarray
    price: np.ndarray
    size: np.ndarray
    side: np.ndarray
    eligible: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def take(self, index: np.ndarray) -> Trades:
        return Trades(self.ts[index], self.venue[index], self.price[index], self.size[index],
                      self.side[index], None if self.eligible is None else self.eligible[index])

    @property
    def book_eligible(self) -> np.ndarray:
        """``(n,)`` bool: :attr:`eligible`, all True when the reader gave none."""
        return np.ones(len(self), bool) if self.eligible is None else np.asarray(self.eligible, bool)

    @staticmethod
    def empty() -> Trades:
        return Trades(np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0),
                      np.empty(0, np.int64), np.empty(0, np.int8))


@dataclass
class LoadReport:
    """What a reader did: rows read, and every repair or removal counted by kind.

    ``repairs`` counts rows that were changed or removed by a documented policy (e.g.
    ``"crossed_book"``, ``"unsorted_time"``, ``"duplicate_record"``, ``"bad_book_flag"``); nothing is
    dropped without being counted here.
    """

    source: str
    format: str
    rows_read: int = 0
    quote_rows: int = 0
    trade_rows: int = 0
    repairs: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: how :func:`sorlib.data.load` used the day cache (one line, e.g. ``cache: read DATA from FILE``; "" when
    #: the reader was called directly). Not part of :meth:`to_dict` nor of equality.
    cache: str = field(default="", compare=False)

    def count(self, kind: str, n: int = 1) -> None:
        """Add ``n`` to the repair counter ``kind`` (zero counts are not stored)."""
        if n:
            self.repairs[kind] = self.repairs.get(kind, 0) + int(n)

    def to_dict(self) -> dict:
        return {"source": self.source, "format": self.format, "rows_read": self.rows_read,
                "quote_rows": self.quote_rows, "trade_rows": self.trade_rows,
                "repairs": dict(sorted(self.repairs.items())), "notes": list(self.notes)}


@dataclass(frozen=True)
class MarketData:
    """One instrument's multi-venue quotes and trades, as every reader and the generator return it."""

    quotes: Quotes
    trades: Trades
    report: LoadReport
    venue_names: dict[int, str] = field(default_factory=dict)
    symbol: str | None = None
    tz: str = "America/New_York"
    #: venue key → median feed latency ``ts_recv − ts_event`` (µs) over its records, when the data carry both
    #: times (Databento); empty otherwise. Read by :func:`sorlib.sim.estimate_latency`.
    feed_latency_us: dict[int, float] = field(default_factory=dict)

    @property
    def venues(self) -> np.ndarray:
        """Sorted venue keys present in quotes or trades."""
        return np.union1d(np.unique(self.quotes.venue), np.unique(self.trades.venue)).astype(np.int32)

    def venue_name(self, venue: int) -> str:
        return self.venue_names.get(int(venue), str(int(venue)))

    def between(self, start_ns: int | None = None, end_ns: int | None = None) -> MarketData:
        """Rows with ``start_ns <= ts < end_ns`` (either bound may be None).

        Venues' last quotes before ``start_ns`` are carried in as rows stamped ``start_ns`` so that a
        book is known from the first instant of the window (a quote stays valid until it changes).
        """
        q, t = self.quotes, self.trades
        lo = -np.inf if start_ns is None else start_ns
        hi = np.inf if end_ns is None else end_ns
        qm = (q.ts >= lo) & (q.ts < hi)
        carried = np.empty(0, np.int64)
        if start_ns is not None:
            before = np.flatnonzero(q.ts < start_ns)
            if before.size:
                # last row of each venue before the window
                rev = before[::-1]
                _, first = np.unique(q.venue[rev], return_index=True)
                carried = np.sort(rev[first])
        idx = np.concatenate([carried, np.flatnonzero(qm)])
        quotes = q.take(idx)
        if carried.size:
            ts = quotes.ts.copy()
            ts[: carried.size] = start_ns
            quotes = replace(quotes, ts=ts)
        trades = t.take((t.ts >= lo) & (t.ts < hi))
        return replace(self, quotes=quotes, trades=trades)

    def regular_hours(self, open_hhmm: str = "09:30", close_hhmm: str = "16:00") -> MarketData:
        """Keep the regular session of every local day in ``tz`` (open inclusive, close exclusive)."""
        import pandas as pd

        ts = np.concatenate([self.quotes.ts, self.trades.ts])
        if ts.size == 0:
            return self
        days = pd.to_datetime(ts, utc=True).tz_convert(self.tz).normalize().unique()
        oh, om = map(int, open_hhmm.split(":"))
        ch, cm = map(int, close_hhmm.split(":"))
        qmask = np.zeros(len(self.quotes), bool)
        tmask = np.zeros(len(self.trades), bool)
        for day in days:
            lo = (day + pd.Timedelta(hours=oh, minutes=om)).value
            hi = (day + pd.Timedelta(hours=ch, minutes=cm)).value
            qmask |= (self.quotes.ts >= lo) & (self.quotes.ts < hi)
            tmask |= (self.trades.ts >= lo) & (self.trades.ts < hi)
        return replace(self, quotes=self.quotes.take(qmask), trades=self.trades.take(tmask))
