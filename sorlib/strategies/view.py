"""What a strategy may see: the market *up to* its decision time, never after it.

The engine hands every strategy a :class:`MarketView` at each decision (and at the order's arrival, to
``begin``). Its fields are the state in force at the decision time ``t`` (ladders after the liquidity this
parent order already took, bid touch, fees) and ``past``, a :class:`Past` whose accessors return copies of
the records stamped at or before ``t`` only:

* ``past.trades(since_ns, until_ns)`` — prints with ``since ≤ ts < until`` and ``ts ≤ t``;
* ``past.quotes(since_ns, until_ns)`` — every venue's ladders at the snapshots with ``since ≤ time < until``
  and ``time ≤ t``; ``past.quote_times`` / ``past.trade_prices`` the same windows' snapshot times / print
  prices alone (cheaper), ``past.trade_volume`` the window's printed shares;
* ``past.book_at(times)`` — the snapshot in force at each of several times (``past.ask_at(times, ks)`` one
  venue's ask ladder at each), and ``past.nbbo_mid(times)`` its NBBO mid (each time clipped to ``t``: one
  ``searchsorted`` for a batch of look-ups);
* ``past.outflow(k, t0, t1)`` — the realised outflow (shares) of venue ``k``'s best-bid queue in windows
  ``[t0, t1)`` clipped to end at ``t + 1`` ns (:mod:`sorlib.ck.outflow`; each depletion event is stamped
  with the record that reveals it and depends on nothing later); ``past.outflows(ks, t0, t1)`` the same
  for several venues as joint samples ``(N, len(ks))``.

A window reaching past ``t`` is clipped, never extended: nothing a :class:`Past` returns was stamped after
``t``, so a strategy that uses only its view cannot look ahead (``tests/test_lookahead.py`` checks every
strategy by rewriting the future). The recorded day itself (:class:`Tape`) is the engine's, held privately.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numba as nb
import numpy as np

from ..data.market import Trades
from ..errors import ConfigError

_NONE = np.iinfo(np.int64).min  # the time of a snapshot that does not exist (asked before the first one)
_NO_LIMIT = float("nan")  # ParentOrder.limit_price when there is none


@dataclass(frozen=True)
class ParentOrder:
    """An order of ``size`` shares arriving at ``arrival_ns`` that must be done by ``deadline_ns``.

    ``side``: +1 buy, −1 sell. ``limit_price`` ($/share; NaN = none): the engine never fills a buy above it
    nor a sell below it (:mod:`sorlib.engine.replay`); what cannot be filled within it is left unfilled.
    Strategies always see a buy: the engine replays a sell as a buy on the mirrored market
    (:mod:`sorlib.data.mirror`), so the order in a sell's view has ``side`` +1 and the mirrored limit."""

    order_id: int
    arrival_ns: int
    deadline_ns: int
    size: int
    side: int = 1
    limit_price: float = _NO_LIMIT

    def __post_init__(self) -> None:
        if isinstance(self.side, bool) or self.side not in (1, -1):
            raise ConfigError(f"order {self.order_id}: side must be +1 (buy) or -1 (sell), got {self.side!r}")
        lp = self.limit_price
        if isinstance(lp, bool) or not isinstance(lp, int | float | np.floating | np.integer) or \
                not (np.isnan(lp) or (np.isfinite(lp) and lp > 0)):
            raise ConfigError(f"order {self.order_id}: limit price must be > 0 $/share or NaN (none), got {lp!r}")
        # one NaN object for "no limit" (orders compare and hash equal: tuples compare NaN by identity first)
        object.__setattr__(self, "limit_price", _NO_LIMIT if np.isnan(lp) else float(lp))
        object.__setattr__(self, "side", int(self.side))

    def __reduce__(self):
        """Rebuilt through the constructor (pickles, copies): "no limit" stays the one NaN object."""
        return (ParentOrder, (self.order_id, self.arrival_ns, self.deadline_ns, self.size, self.side, self.limit_price))

    @property
    def has_limit(self) -> bool:
        """A limit price is set (not NaN)."""
        return not math.isnan(self.limit_price)


@dataclass(frozen=True)
class Fills:
    """Columnar fills: parent ``order_id``, time (ns), venue key, qty (shares), price ($),
    ``fee`` ($/share: + taker fee, − maker rebate), ``kind`` (0 take, 1 resting, 2 clean-up); ``side`` (int8
    per fill, +1 buy, −1 sell; None: all buys)."""

    order_id: np.ndarray
    ts: np.ndarray
    venue: np.ndarray
    qty: np.ndarray
    price: np.ndarray
    fee: np.ndarray
    kind: np.ndarray
    side: np.ndarray | None = None

    @property
    def cash(self) -> np.ndarray:
        """Cost per fill, $ = (side × price + fee) × qty: a buy pays price + fee, a sell's cost is minus its
        proceeds net of fees (−(price − fee) × qty). Without sides (all buys): (price + fee) × qty."""
        if self.side is None or not (self.side < 0).any():
            return (self.price + self.fee) * self.qty
        return (self.side * self.price + self.fee) * self.qty

    def __len__(self) -> int:
        return int(self.qty.shape[0])


@dataclass(frozen=True)
class QuoteHistory:
    """Snapshots ``times`` ``(m,)`` ns of the ``venues`` ``(K,)``: ``bid_px``/``bid_sz`` ``(m, K)`` touch and
    ``ask_px``/``ask_sz`` ``(m, K, L)`` ladders ($, shares; NaN/0 = empty, also before a venue's first quote)."""

    times: np.ndarray
    venues: np.ndarray
    bid_px: np.ndarray
    bid_sz: np.ndarray
    ask_px: np.ndarray
    ask_sz: np.ndarray


@dataclass(frozen=True)
class Tape:
    """The recorded day as the engine holds it (``Book`` arrays; see :class:`~sorlib.engine.Book`).

    Strategies never receive it: they get :class:`Past`, its time-bounded window. ``flow(venue_key)``
    returns that venue's best-bid queue depletion events (an object with ``outflow(t0, t1)``)."""

    venues: np.ndarray
    times: np.ndarray
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
    flow: Callable[[int], object] | None = None
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def nbbo_mids(self) -> np.ndarray:
        """``(m,)`` NBBO mid ($) at every snapshot, ½(highest level-0 bid + lowest level-0 ask) over the venues
        quoting (NaN when a side is empty everywhere); computed once per tape. Engine-side: strategies read it
        through :meth:`Past.nbbo_mid`, bounded by their time."""
        got = self._cache.get("mids")
        if got is None:
            m = self.times.shape[0]
            if m == 0 or self.row.shape[1] == 0 or self.ask_px.shape[0] == 0:
                got = np.full(m, np.nan)
            else:  # one compiled pass: no (snapshots x venues) temporaries
                got = nbbo_mid_kernel(self.row, self.ask_px[:, 0], self.bid_px[:, 0])
            self._cache["mids"] = got
        return got


class Past:
    """The records stamped at or before ``t_ns`` (module docstring); every array returned is a copy."""

    __slots__ = ("_tape", "t_ns")

    def __init__(self, tape: Tape, t_ns: int) -> None:
        self._tape = tape
        self.t_ns = int(t_ns)

    def _bound(self, since_ns: int | None, until_ns: int | None) -> tuple[int | None, int]:
        """Half-open window ``[since, until)`` clipped to end at ``t + 1`` ns (stamped ≤ t)."""
        end = self.t_ns + 1 if until_ns is None else min(int(until_ns), self.t_ns + 1)
        return (None if since_ns is None else int(since_ns)), end

    def trades(self, since_ns: int | None = None, until_ns: int | None = None) -> Trades:
        """Prints with ``since_ns ≤ ts < until_ns`` and ``ts ≤ t`` (time order; side +1 buyer-, −1
        seller-initiated, unknown sides inferred by the quote rule)."""
        tp = self._tape
        lo, hi = self._trade_span(since_ns, until_ns)
        return Trades(tp.trades_ts[lo:hi].copy(), tp.trades_venue[lo:hi].copy(), tp.trades_px[lo:hi].copy(),
                      tp.trades_sz[lo:hi].copy(), tp.trades_side[lo:hi].copy())

    def quotes(self, since_ns: int | None = None, until_ns: int | None = None,
               levels: int | None = None) -> QuoteHistory:
        """Every venue's book at the snapshots with ``since_ns ≤ time < until_ns`` and ``time ≤ t``
        (``levels``: only the first ``levels`` ask levels, e.g. 1 for the touch; None: all)."""
        tp = self._tape
        since, end = self._bound(since_ns, until_ns)
        lo = 0 if since is None else int(np.searchsorted(tp.times, since, side="left"))
        hi = max(int(np.searchsorted(tp.times, end, side="left")), lo)
        rows = tp.row[lo:hi]
        ok = rows >= 0
        r = np.maximum(rows, 0)
        ask_px, ask_sz = (tp.ask_px, tp.ask_sz) if levels is None else (tp.ask_px[:, :levels], tp.ask_sz[:, :levels])
        n_lv = ask_px.shape[1]
        if tp.ask_px.shape[0] == 0:
            shape = rows.shape
            return QuoteHistory(tp.times[lo:hi].copy(), tp.venues.copy(), np.full(shape, np.nan),
                                np.zeros(shape, np.int64), np.full(shape + (n_lv,), np.nan),
                                np.zeros(shape + (n_lv,), np.int64))
        return QuoteHistory(tp.times[lo:hi].copy(), tp.venues.copy(),
                            np.where(ok, tp.bid_px[r, 0], np.nan), np.where(ok, tp.bid_sz[r, 0], 0),
                            np.where(ok[..., None], ask_px[r], np.nan), np.where(ok[..., None], ask_sz[r], 0))

    def quote_times(self, since_ns: int | None = None, until_ns: int | None = None) -> np.ndarray:
        """The snapshot times (ns) of :meth:`quotes` over the same window, without the ladders."""
        tp = self._tape
        since, end = self._bound(since_ns, until_ns)
        lo = 0 if since is None else int(np.searchsorted(tp.times, since, side="left"))
        hi = max(int(np.searchsorted(tp.times, end, side="left")), lo)
        return tp.times[lo:hi].copy()

    def trade_prices(self, since_ns: int | None = None, until_ns: int | None = None) -> np.ndarray:
        """The prices ($) of :meth:`trades` over the same window, without the other columns."""
        lo, hi = self._trade_span(since_ns, until_ns)
        return self._tape.trades_px[lo:hi].copy()

    def trade_volume(self, since_ns: int | None = None, until_ns: int | None = None) -> int:
        """The shares printed by :meth:`trades` over the same window (their sizes' sum), without a copy."""
        lo, hi = self._trade_span(since_ns, until_ns)
        return int(self._tape.trades_sz[lo:hi].sum())

    def _trade_span(self, since_ns: int | None, until_ns: int | None) -> tuple[int, int]:
        """``[lo, hi)``: the prints of the window :meth:`_bound` clips."""
        ts = self._tape.trades_ts
        since, end = self._bound(since_ns, until_ns)
        lo = 0 if since is None else int(ts.searchsorted(since, side="left"))
        return lo, max(int(ts.searchsorted(end, side="left")), lo)

    def _index_at(self, at_ns) -> tuple[np.ndarray, np.ndarray]:
        """``(x, i)``: the times asked (int64) and the index of the snapshot in force at each, clipped to ``t``
        (-1: none yet)."""
        x = np.asarray(at_ns, np.int64)
        return x, np.searchsorted(self._tape.times, np.minimum(x, self.t_ns), side="right") - 1

    def book_at(self, at_ns) -> QuoteHistory:
        """The snapshot in force at each time of ``at_ns`` ``(n,)`` (each clipped to ``t``): ``times`` are those
        snapshots' times (``-2**63`` where there is none yet: every venue empty), ladders as :meth:`quotes`."""
        tp = self._tape
        x, i = self._index_at(at_ns)
        has = i >= 0
        j = np.maximum(i, 0)
        k_n, n_lv = tp.venues.shape[0], tp.ask_px.shape[1]
        if tp.times.shape[0] == 0 or tp.ask_px.shape[0] == 0:
            shape = (x.shape[0], k_n)
            times = tp.times[j] if tp.times.shape[0] else np.zeros(x.shape[0], np.int64)
            return QuoteHistory(np.where(has, times, _NONE), tp.venues.copy(),
                                np.full(shape, np.nan), np.zeros(shape, np.int64), np.full(shape + (n_lv,), np.nan),
                                np.zeros(shape + (n_lv,), np.int64))
        rows = tp.row[j]
        ok = has[:, None] & (rows >= 0)
        r = np.maximum(rows, 0)
        return QuoteHistory(np.where(has, tp.times[j], _NONE), tp.venues.copy(),
                            np.where(ok, tp.bid_px[r, 0], np.nan), np.where(ok, tp.bid_sz[r, 0], 0),
                            np.where(ok[..., None], tp.ask_px[r], np.nan), np.where(ok[..., None], tp.ask_sz[r], 0))

    def ask_at(self, at_ns, k) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(times, px, sz)``: venue position ``k[i]``'s ask ladder ``(n, L)`` ($, shares; NaN/0 = empty) at the
        snapshot in force at ``at_ns[i]`` (clipped to ``t``) — :meth:`book_at` for one venue per time, cheaper;
        ``times`` as there. One compiled pass (:func:`_ask_at`): a few look-ups cost about a microsecond."""
        tp = self._tape
        x = np.asarray(at_ns, np.int64)
        k = np.asarray(k, np.int64)
        if k.shape != x.shape:  # one venue for every time, as numpy broadcasting does
            k = np.broadcast_to(k, x.shape)
        if tp.times.shape[0] == 0 or tp.ask_px.shape[0] == 0:
            n_lv = tp.ask_px.shape[1]
            return (np.full(x.shape[0], _NONE), np.full((x.shape[0], n_lv), np.nan),
                    np.zeros((x.shape[0], n_lv), np.int64))
        return _ask_at(tp.times, tp.row, tp.ask_px, tp.ask_sz, x, k, self.t_ns)

    def nbbo_mid(self, at_ns, max_age_ns: int | None = None) -> np.ndarray:
        """NBBO mid ($) of the snapshot in force at each time of ``at_ns`` (each clipped to ``t``; the shape of
        ``at_ns``): NaN when a side is empty everywhere, before the first snapshot, or — with ``max_age_ns`` —
        when that snapshot is stamped more than ``max_age_ns`` before the time asked (:func:`_mid_at`)."""
        tp = self._tape
        x = np.asarray(at_ns, np.int64)
        if tp.times.shape[0] == 0:
            return np.full(x.shape, np.nan)
        age = -1 if max_age_ns is None else int(max_age_ns)
        return _mid_at(tp.times, tp.nbbo_mids(), x.reshape(-1), self.t_ns, age, max_age_ns is not None).reshape(x.shape)

    def outflow(self, k: int, t0_ns, t1_ns) -> np.ndarray:
        """Outflow (shares) of venue ``k``'s (position in ``view.venues``) best-bid queue in each window
        ``[t0, t1)``, ``t1`` clipped to ``t + 1`` ns (:meth:`sorlib.ck.outflow.BidQueueFlow.outflow`,
        ``track="level"``)."""
        tp = self._tape
        if tp.flow is None:
            raise ConfigError("queue outflows need a Book built with Book.from_market (the source data)")
        t0 = np.atleast_1d(np.asarray(t0_ns, np.int64))
        t1 = np.minimum(np.broadcast_to(np.asarray(t1_ns, np.int64), t0.shape), self.t_ns + 1)
        return np.asarray(tp.flow(int(tp.venues[k])).outflow(np.minimum(t0, t1), t1), float)

    def outflows(self, ks, t0_ns, t1_ns) -> np.ndarray:
        """Joint samples ``(N, len(ks))``: column i is :meth:`outflow` of venue position ``ks[i]`` over the
        same ``N`` windows."""
        t0 = np.atleast_1d(np.asarray(t0_ns, np.int64))
        out = np.empty((t0.shape[0], len(ks)))
        for i, k in enumerate(ks):
            out[:, i] = self.outflow(int(k), t0, t1_ns)
        return out


@nb.njit(cache=True)
def nbbo_mid_kernel(row, ask0, bid0):  # pragma: no cover - numba
    """``(m,)`` NBBO mid ($) per snapshot: ½(highest finite level-0 bid + lowest finite level-0 ask) over the
    venues quoting (``row[j, k] ≥ 0``, records into ``ask0``/``bid0``); NaN when a side is empty everywhere."""
    m, n_k = row.shape
    out = np.full(m, np.nan)
    for j in range(m):
        a = np.inf
        b = -np.inf
        for k in range(n_k):
            r = row[j, k]
            if r >= 0:
                x = ask0[r]
                if np.isfinite(x) and x < a:
                    a = x
                y = bid0[r]
                if np.isfinite(y) and y > b:
                    b = y
        if np.isfinite(a) and np.isfinite(b):
            out[j] = 0.5 * (b + a)
    return out


@nb.njit(cache=True)
def _ask_at(times, row, ask_px, ask_sz, x, k, t):  # pragma: no cover - numba
    """Kernel of :meth:`Past.ask_at`: times ``x`` (ns, each clipped to the view's time ``t``), venue positions
    ``k`` (negative: from the end, as numpy indexing)."""
    n, n_k = x.shape[0], row.shape[1]
    at = np.full(n, _NONE)
    px = np.full((n, ask_px.shape[1]), np.nan, ask_px.dtype)
    sz = np.zeros((n, ask_px.shape[1]), ask_sz.dtype)
    for i in range(n):
        kk = k[i] + n_k if k[i] < 0 else k[i]
        if kk < 0 or kk >= n_k:
            raise IndexError("venue position out of range")
        j = np.searchsorted(times, min(x[i], t), side="right") - 1
        if j < 0:
            continue
        at[i] = times[j]
        r = row[j, kk]
        if r >= 0:
            px[i] = ask_px[r]
            sz[i] = ask_sz[r]
    return at, px, sz


@nb.njit(cache=True)
def _mid_at(times, mids, x, t, max_age, aged):  # pragma: no cover - numba
    """Kernel of :meth:`Past.nbbo_mid`: ``mids`` per snapshot ($), times ``x`` (ns) clipped to ``t``; ``aged``:
    NaN where the snapshot is older than ``max_age`` ns."""
    out = np.full(x.shape[0], np.nan)
    for i in range(x.shape[0]):
        j = np.searchsorted(times, min(x[i], t), side="right") - 1
        if j >= 0 and not (aged and times[j] < x[i] - max_age):
            out[i] = mids[j]
    return out


@dataclass
class MarketView:
    """What a strategy sees at one decision time ``t_ns`` (one entry per venue, in ``venues`` order).

    ``ask_px``/``ask_avail`` are the ``(K, L)`` ask ladders in force at ``t_ns`` after the liquidity this
    parent order has already taken (``ask_avail`` in shares; NaN/0 = nothing there); ``bid_px``/``bid_sz``
    the bid touch; ``fee``/``rebate`` $/share; ``past`` the records stamped at or before ``t_ns``
    (:class:`Past`); :meth:`own_fills` this parent order's fills so far.
    """

    t_ns: int
    order: ParentOrder
    remaining: int
    filled: int
    venues: np.ndarray
    ask_px: np.ndarray
    ask_avail: np.ndarray
    bid_px: np.ndarray
    bid_sz: np.ndarray
    fee: np.ndarray
    rebate: np.ndarray
    past: Past
    _own_fills: Callable[[], Fills] | None = None

    def own_fills(self) -> Fills:
        """This parent order's fills before this decision (all stamped ≤ ``t_ns``; the engine's are read-only)."""
        if self._own_fills is None:
            e = np.empty(0)
            return Fills(e.astype(np.int64), e.astype(np.int64), e.astype(np.int32), e.astype(np.int64), e, e,
                         e.astype(np.int8))
        return self._own_fills()
