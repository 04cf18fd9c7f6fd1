"""A replay-ready view of multi-venue quotes: snapshot times and each venue's book at every one of them.

``Book`` is built once per data set (it does not depend on strategy parameters) and shared by every
replay; building it is the cost that the notebooks' sliders cache.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numba as nb
import numpy as np

from ..data.market import MarketData
from ..data.snapshots import snapshot_index
from ..errors import ConfigError
from ..strategies.view import Tape
from ..venues import VenueProfile, VenueTable

KEY_SPILL_BYTES = 1 << 28  # :attr:`Book.ask_key` bigger than this (256 MB) is file-backed (memory-mapped)


def price_key(px) -> np.ndarray:
    """Prices ($) as int64 keys on a 1e-8 $ grid, round(px · 1e8) (NaN → the int64 minimum, matching no price)."""
    px = np.asarray(px, float)
    out = np.full(px.shape, np.iinfo(np.int64).min, np.int64)
    ok = np.isfinite(px)
    out[ok] = np.round(px[ok] * 1e8).astype(np.int64)
    return out


@dataclass(frozen=True)
class Book:
    """Snapshots of K venues' books.

    Attributes:
        times: ``(m,)`` int64 ns — distinct snapshot times.
        venues: ``(K,)`` int32 venue keys; ``profiles`` their fee/lot terms (same order).
        row: ``(m, K)`` int32 (int64 beyond 2**31 quote rows) — index into the ask/bid arrays of venue k's book in force at
            ``times[j]`` (``-1`` before its first quote). A change of ``row[j, k]`` is a quote update.
        ask_px, ask_sz, bid_px, bid_sz: ``(n, L)`` quote arrays ($, shares; NaN/0 = empty level).
        trades_*: the prints, sorted by time, for queue-based fills and VWAP weights;
            ``trades_eligible`` marks those that could fill a resting order on their venue's book
            (:attr:`~sorlib.data.market.Trades.eligible`; None: every print).
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
    trades_eligible: np.ndarray | None = None  # (n,) bool per print (sorted like trades_*); None: all
    #: ascending indices of the quote rows the snapshot rule kept (``row`` points at them); None: every row.
    #: A kept row's rank among them is its record number (:meth:`record_ids`).
    kept_rows: np.ndarray | None = None

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

    def _touch_any(self, px: np.ndarray) -> np.ndarray:
        """``(m,)``: some venue shows a finite level-0 price in ``px`` at each snapshot."""
        if px.shape[0] == 0 or self.row.shape[1] == 0:
            return np.zeros(self.times.shape[0], bool)
        return _touch_any(self.row, px[:, 0])

    @cached_property
    def full_from(self) -> int:
        """First snapshot at which every venue has quoted (``len(times)`` when none has them all): from there on
        ``row[j]`` has no −1 (a venue's record index only grows)."""
        ready = self.row.min(axis=1) >= 0 if self.row.shape[1] else np.ones(self.times.shape[0], bool)
        return int(np.argmax(ready)) if ready.any() else int(self.times.shape[0])

    @cached_property
    def two_sided(self) -> np.ndarray:
        """``(m,)`` bool: the NBBO is two-sided at each snapshot (some venue bids and some venue offers)."""
        return self._touch_any(self.bid_px) & self._touch_any(self.ask_px)

    @cached_property
    def first_two_sided_index(self) -> int:
        """First snapshot with a two-sided NBBO (-1 when there is none)."""
        ts = self.two_sided
        return int(np.argmax(ts)) if ts.any() else -1

    @cached_property
    def last_ask_index(self) -> np.ndarray:
        """``(m,)`` int64: for each snapshot j the last snapshot ``≤ j`` at which some venue shows an ask
        (-1 when none has yet)."""
        has = self._touch_any(self.ask_px)
        idx = np.where(has, np.arange(has.shape[0]), -1)
        return np.maximum.accumulate(idx) if idx.size else idx.astype(np.int64)

    def record_ids(self, rows: np.ndarray) -> np.ndarray:
        """Record numbers of quote rows ``rows`` (−1 stays −1): their rank among the kept rows, i.e. their index in
        the snapshot-rule quotes (``quotes.take(kept_rows)``), the number the fade model's draws are seeded by."""
        rows = np.asarray(rows, np.int64)
        if self.kept_rows is None:
            return rows
        return np.where(rows >= 0, np.searchsorted(self.kept_rows, rows), -1)

    def gaps(self, max_gap_ns: int) -> tuple[np.ndarray, np.ndarray]:
        """Data gaps: ``(start, end)`` ns arrays of the intervals between consecutive snapshots (quote records
        of any venue) longer than ``max_gap_ns``; ``start`` is the last record before, ``end`` the first after."""
        d = np.diff(self.times)
        i = np.flatnonzero(d > max_gap_ns)
        return self.times[i], self.times[i + 1]

    @cached_property
    def ask_key(self) -> np.ndarray:
        """``(n, L)`` int64: the ask prices on a 1e-8 $ grid (the replay matches taken shares by price);
        an empty level (NaN or size 0) gets the int64 minimum, which matches no price.

        Beyond :data:`KEY_SPILL_BYTES` (a big day: 80 bytes per MBP-10 record) the array lives in an unlinked
        temporary file, memory-mapped: the kernel can page it out like the mapped day cache instead of holding
        it in anonymous memory; the values are the same."""
        px, sz = self.ask_px, self.ask_sz
        out = None
        if px.size * 8 > KEY_SPILL_BYTES:
            import tempfile

            with tempfile.TemporaryFile(prefix="sorlib-ask-key-") as f:  # unlinked: gone with the mapping
                out = np.memmap(f, np.int64, "w+", shape=px.shape)
        else:
            out = np.empty(px.shape, np.int64)
        _ask_key_into(px, sz, out)  # one compiled pass: no (n, L) temporaries
        return np.asarray(out)  # a plain ndarray (over the mapping when spilled)

    @cached_property
    def ask_shown(self) -> np.ndarray:
        """``(n, L)`` int64: the ask sizes where a price is shown (0 where the level's price is NaN), the sizes
        the replay's ladders start from; computed once."""
        if self.ask_px.shape[0] == 0:
            return np.zeros(self.ask_px.shape, np.int64)
        if self.ask_sz.dtype == np.int64 and not _size_without_price(self.ask_px, self.ask_sz):
            return self.ask_sz  # the usual case (an empty level has size 0): no second copy
        return np.where(np.isfinite(self.ask_px), self.ask_sz, 0).astype(np.int64)

    @cached_property
    def bid_touch(self) -> tuple[np.ndarray, np.ndarray]:
        """``(px, sz)`` ``(n,)``: the level-0 bid price ($, NaN = empty) and size (0 where the price is NaN) of
        every quote record; computed once."""
        if self.bid_px.shape[0] == 0:
            return np.empty(0), np.empty(0, np.int64)
        px = self.bid_px[:, 0]
        sz = np.where(np.isfinite(px), self.bid_sz[:, 0], 0).astype(np.int64)
        if self.bid_sz.dtype == np.int64 and np.array_equal(sz, self.bid_sz[:, 0]):
            sz = self.bid_sz[:, 0]  # views, no copies
        return px, sz

    @cached_property
    def _flows(self) -> dict:
        return {}

    def bid_queue_flow(self, venue: int):
        """``venue``'s best-bid queue depletion events (:func:`sorlib.ck.outflow.bid_queue_flow` on the
        source data without its book-ineligible prints, defaults ``combine="max"``), built once per venue
        and kept."""
        venue = int(venue)
        if venue not in self._flows:
            from ..ck.outflow import bid_queue_flow

            if self.market is None:
                raise ConfigError("queue outflows need a Book built with Book.from_market (the source data)")
            md = self.market
            if md.trades.eligible is not None and not md.trades.book_eligible.all():
                md = replace(md, trades=md.trades.take(md.trades.book_eligible))
            self._flows[venue] = bid_queue_flow(md, venue)
        return self._flows[venue]

    def level_outflow(self, venue: int, price: float, after_ns: int, until_ns: int) -> float:
        """Outflow ξ (shares) of ``venue``'s bid queue at ``price`` ($): the summed depletion events of
        that level (:meth:`bid_queue_flow`) stamped in ``(after_ns, until_ns]``. A limit order that read
        its price and queue Q from the venue's quote row at ``after_ns`` (its placement) sits in exactly
        this level; the events of that row itself (and prints stamped with it) happened before it joined."""
        from ..ck.outflow import _level_outflow

        flow = self.bid_queue_flow(venue)
        if flow.ts.size == 0 or until_ns <= after_ns:
            return 0.0
        k_s, t_s, cs = flow._by_level
        one = np.ones(1, np.int64)
        return float(_level_outflow(k_s, t_s, cs, price_key(np.array([price])), one * (int(after_ns) + 1),
                                    one * (int(until_ns) + 1))[0])

    @cached_property
    def tape(self) -> Tape:
        """The arrays of this book as the engine's :class:`~sorlib.strategies.view.Tape` (no copies)."""
        return Tape(venues=self.venues, times=self.times, row=self.row, ask_px=self.ask_px, ask_sz=self.ask_sz,
                    bid_px=self.bid_px, bid_sz=self.bid_sz, trades_ts=self.trades_ts,
                    trades_venue=self.trades_venue, trades_px=self.trades_px, trades_sz=self.trades_sz,
                    trades_side=self.trades_side, flow=self.bid_queue_flow if self.market is not None else None)

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
        every venue's book at every snapshot time. Data with no two-sided quote at all are refused
        (:func:`~sorlib.data.validate.require_two_sided`): there is nothing to route against."""
        from ..data.validate import require_two_sided

        if keep not in ("first", "last"):
            raise ValueError(f"keep must be 'first' or 'last', got {keep!r}")
        if len(md.quotes) == 0:
            require_two_sided(md)
        venue_table = venue_table or VenueTable.load()
        q = md.quotes  # the quote arrays are shared, not copied: ``row`` indexes the loaded rows directly
        ts_q, v_q = np.asarray(q.ts), np.asarray(q.venue)
        ordered = ts_q.size > 0 and 0 <= int(v_q.min()) and int(v_q.max()) < 1 << 16 and _sorted(ts_q)
        if ordered:  # time order (every reader's): the snapshot rule and the index in compiled passes, no copies
            pick = _snapshot_pick(ts_q, v_q, keep == "last")
            all_kept = bool(pick.all())
            keep_rows = np.arange(0) if all_kept else np.flatnonzero(pick)
            kept = _Kept(ts_q, v_q, None) if all_kept else _Kept(ts_q[keep_rows], v_q[keep_rows], keep_rows)
            venues = np.flatnonzero(np.bincount(v_q, minlength=1)).astype(np.int32)
            times = _distinct(ts_q)  # every time keeps a row (the first or last of a venue there)
        else:
            keep_rows = snapshot_index(q, keep)
            all_kept = keep_rows.shape[0] == len(q)
            kept = _Kept(q.ts[keep_rows], q.venue[keep_rows], keep_rows)
            venues = _distinct(kept.venue).astype(np.int32)
            times = _distinct(kept.ts)
        narrow = len(q) < np.iinfo(np.int32).max  # record indices fit int32: half the index's memory
        row = np.empty((times.shape[0], venues.shape[0]), np.int32 if narrow else np.int64)
        if ordered:
            lut = np.full(1 << 16, -1, np.int64)
            lut[venues] = np.arange(venues.shape[0])
            _fill_index_pick(row, ts_q, v_q, lut, np.ones(0, np.bool_) if all_kept else pick)
        elif kept.ts.size and _sorted(kept.ts):
            _fill_index(row, kept.ts, np.searchsorted(venues, kept.venue), kept.rows)
        else:
            for i, v in enumerate(venues):
                row[:, i] = kept.last_row_at(times, v)
        t = md.trades
        tts = np.asarray(t.ts)
        torder = None if tts.size < 2 or bool(np.all(tts[1:] >= tts[:-1])) else np.argsort(tts, kind="stable")

        def tcol(a):  # the prints in time order (no copy when they already are)
            return a if torder is None or a is None else a[torder]

        side = _infer_sides(kept, q, tcol(t.ts), tcol(t.venue), tcol(t.price), tcol(t.side))
        profiles = tuple(venue_table.profiles(venues, md.venue_names))
        book = cls(times=times, venues=venues, profiles=profiles, row=row,
                   ask_px=q.ask_px, ask_sz=np.asarray(q.ask_sz, np.int64),
                   bid_px=q.bid_px, bid_sz=np.asarray(q.bid_sz, np.int64),
                   trades_ts=tcol(t.ts), trades_venue=tcol(t.venue), trades_px=tcol(t.price),
                   trades_sz=np.asarray(tcol(t.size), np.int64), trades_side=side, market=md,
                   trades_eligible=None if t.eligible is None else tcol(t.book_eligible),
                   kept_rows=None if all_kept else keep_rows)
        if not book.two_sided.any():
            # a two-sided snapshot is a two-sided quote row (the state after a time's last rows): the check's
            # whole-day pass over every row is needed only when no snapshot is, to word the refusal
            require_two_sided(md)
        return book


@nb.njit(cache=True)
def _fill_index(row, ts, vpos, rows):  # pragma: no cover - numba
    """:attr:`Book.row` in one pass over the kept quote rows in time order (times ``ts``, venue positions
    ``vpos``, indices ``rows``): after the last row of each distinct time, every venue's latest row so far —
    :meth:`_Kept.last_row_at` at every snapshot time."""
    cur = np.full(row.shape[1], -1, np.int64)
    j = 0
    n = ts.shape[0]
    for i in range(n):
        cur[vpos[i]] = rows[i]
        if i == n - 1 or ts[i + 1] != ts[i]:
            for k in range(row.shape[1]):
                row[j, k] = cur[k]
            j += 1


@nb.njit(cache=True)
def _snapshot_pick(ts, venue, last):  # pragma: no cover - numba
    """:func:`~sorlib.data.snapshots.snapshot_index` as a mask, for time-ordered rows: at every distinct time,
    each venue's last (``last``) or first row there. One pass; ``venue`` keys in 0..65535."""
    n = ts.shape[0]
    pick = np.zeros(n, np.bool_)
    seen = np.zeros(1 << 16, np.bool_)
    a = 0
    while a < n:
        b = a + 1
        while b < n and ts[b] == ts[a]:
            b += 1
        for k in range(b - a):
            i = b - 1 - k if last else a + k
            if not seen[venue[i]]:
                seen[venue[i]] = True
                pick[i] = True
        for i in range(a, b):
            seen[venue[i]] = False
        a = b
    return pick


@nb.njit(cache=True)
def _fill_index_pick(row, ts, venue, lut, pick):  # pragma: no cover - numba
    """:func:`_fill_index` over every time-ordered quote row, skipping those ``pick`` drops (an empty ``pick``:
    none); ``lut[venue]`` is the venue's column. No per-row temporaries."""
    cur = np.full(row.shape[1], -1, np.int64)
    every = pick.shape[0] == 0
    j = 0
    n = ts.shape[0]
    for i in range(n):
        if every or pick[i]:
            cur[lut[venue[i]]] = i
        if i == n - 1 or ts[i + 1] != ts[i]:
            for k in range(row.shape[1]):
                row[j, k] = cur[k]
            j += 1


@nb.njit(cache=True)
def _sorted_nb(a):  # pragma: no cover - numba
    for i in range(1, a.shape[0]):
        if a[i] < a[i - 1]:
            return False
    return True


def _sorted(a: np.ndarray) -> bool:
    """``a`` is non-decreasing (one compiled pass, no temporaries)."""
    return bool(_sorted_nb(a))


@nb.njit(cache=True)
def _ask_key_into(px, sz, out):  # pragma: no cover - numba
    """:attr:`Book.ask_key` into ``out``: ``rint(px · 1e8)`` where the level has a finite price and size > 0, else
    the int64 minimum (:func:`price_key`'s grid; ``np.round`` to 0 decimals is ``rint``, half to even)."""
    n, n_l = px.shape
    none = np.iinfo(np.int64).min
    for i in range(n):
        for lv in range(n_l):
            x = px[i, lv]
            out[i, lv] = np.int64(np.rint(x * 1e8)) if sz[i, lv] > 0 and np.isfinite(x) else none


@nb.njit(cache=True)
def _size_without_price(px, sz):  # pragma: no cover - numba
    """True when some level shows a size but no finite price."""
    n, n_l = px.shape
    for i in range(n):
        for lv in range(n_l):
            if sz[i, lv] != 0 and not np.isfinite(px[i, lv]):
                return True
    return False


@nb.njit(cache=True)
def _touch_any(row, px0):  # pragma: no cover - numba
    """``(m,)`` bool: some venue's record ``row[j, k] ≥ 0`` shows a finite ``px0`` (level-0 price) at snapshot j
    (one pass, no (snapshots x venues) temporaries)."""
    m, n_k = row.shape
    out = np.zeros(m, np.bool_)
    for j in range(m):
        for k in range(n_k):
            r = row[j, k]
            if r >= 0 and np.isfinite(px0[r]):
                out[j] = True
                break
    return out


def _distinct(a: np.ndarray) -> np.ndarray:
    """``np.unique(a)`` by a sort (skipped when ``a`` is already sorted, as quote times are) and one comparison:
    numpy's hash-based unique is several times slower on millions of rows."""
    a = np.asarray(a)
    if a.size and not bool(np.all(a[1:] >= a[:-1])):
        a = np.sort(a, kind="stable")
    if a.size == 0:
        return a.copy()
    return a[np.concatenate(([True], a[1:] != a[:-1]))]


class _Kept:
    """The quote rows the snapshot rule keeps: their times (ns), venues and indices into the loaded quotes
    (``rows`` None: every row is kept, ``ts``/``venue`` are the loaded arrays themselves)."""

    __slots__ = ("ts", "venue", "rows")

    def __init__(self, ts: np.ndarray, venue: np.ndarray, rows: np.ndarray | None) -> None:
        self.ts, self.venue, self.rows = ts, venue, rows

    def last_row_at(self, times: np.ndarray, venue: int) -> np.ndarray:
        """:func:`~sorlib.data.snapshots.last_row_at` over the kept rows, as indices into the loaded quotes."""
        sel = np.flatnonzero(self.venue == venue)
        if sel.size == 0:
            return np.full(np.shape(times), -1, np.int64)
        k = np.searchsorted(self.ts[sel], np.asarray(times, np.int64), side="right") - 1
        rows = sel if self.rows is None else self.rows[sel]
        return np.where(k >= 0, rows[np.maximum(k, 0)], -1)

    @property
    def size(self) -> int:
        return int(self.ts.shape[0])


def _infer_sides(kept: _Kept, q, ts: np.ndarray, venue: np.ndarray, price: np.ndarray,
                 side: np.ndarray) -> np.ndarray:
    """Aggressor sides, filling unknown ones (0, e.g. AlgoSeek prints) by the quote rule against the
    venue's book (its kept row in force, ``kept``; arrays of the loaded quotes ``q``) just before the print: at
    or below its bid → seller-initiated (−1), at or above its ask → buyer-initiated (+1), otherwise by the side
    of its mid; a print at the mid stays 0."""
    side = np.asarray(side, np.int8).copy()
    unknown = side == 0
    if not unknown.any() or kept.size == 0:
        return side
    for v in np.unique(venue[unknown]):
        m = unknown & (venue == v)
        r = kept.last_row_at(ts[m] - 1, v)
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
