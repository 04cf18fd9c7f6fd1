"""The replay engine: walk snapshots in time order, let a strategy route, fill, carry the remainder.

Per parent order (orders are replayed independently of each other):

1. From the snapshot in force at arrival to the last one before the deadline, at each decision time ``t``
   the strategy gets a :class:`~sorlib.strategies.view.MarketView`: the venues' ask ladders in force at
   ``t`` *after the liquidity this order already took* (rule below), the bid touch, fees, and ``past``, the
   records stamped at or before ``t`` (no strategy ever holds the Book, so none can look ahead). ``begin``
   gets the same view at arrival.
2. Marketable child orders fill at once, walking the venue's ladder level by level, never more than is
   available. Cash per fill = price × qty + taker fee × qty.
3. Resting limit orders join the venue's best bid and fill by the queue model (:mod:`sorlib.fills`)
   from the venue's prints until the next decision, when the unfilled part is cancelled. Their cash is
   price × qty − maker rebate × qty. A strategy with ``settles_resting`` (Cont–Kukanov) settles them at
   cancellation by its own rule from the outflow ξ of the venue's best-bid queue realised while they rested
   (:meth:`sorlib.engine.Book.bid_queue_flow`), which the engine measures and passes to it.
4. At the deadline, whatever is left is bought by a clean-up market order that sweeps all venues'
   available ladders (same consumption rule) cheapest first (all-in price). Anything beyond the visible
   depth is priced at the worst ask visible at the last snapshot before the deadline plus one tick
   (0.01 $) — or, when no venue shows an ask then, at the worst ask of the last snapshot before it that
   showed one (never a later price); those shares are counted in ``Execution.beyond_book``. When no ask was
   visible at any time up to the deadline nothing is priced: the shares stay unbought and are counted in
   ``Execution.unfilled``. The clean-up's cost is reported separately, so every strategy ends with exactly
   the parent order's size (less ``unfilled``).

**Liquidity consumption.** Shares this order took are tracked per venue per ask *price* (prices compared
on a 1e-8 $ grid). At each new record of a venue (every one, also those between two decisions), for
every price ``p`` at which the order took shares there:

* if ``p`` is no longer on the venue's displayed ask ladder (no level at ``p`` with size > 0), the shares
  taken at ``p`` are forgotten;
* otherwise taken(p) := min(taken(p), displayed(p)) — what we took cannot exceed what the venue still shows
  (its shares that left were among those we had taken).

The size available at a displayed price is max(0, displayed(p) − taken(p)). Liquidity therefore comes back
only when the venue's own ask side shows new size at a price (exactly the increase over what remained) or
a new price; an identical re-send, a bid-only update or a trade record restores nothing.

Everything is deterministic: no randomness is drawn here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..fills.queue import QueueFill, cancel_advance, queue_fill
from ..strategies.base import Decision, ParentOrder, Strategy, sweep_cheapest
from ..strategies.view import Fills, MarketView, Past
from .book import Book, price_key

TICK = 0.01
KIND_TAKE, KIND_REST, KIND_CLEANUP = 0, 1, 2

__all__ = ["Execution", "Fills", "KIND_CLEANUP", "KIND_REST", "KIND_TAKE", "TICK", "available", "carry_taken",
           "price_key", "replay"]


@dataclass(frozen=True)
class Execution:
    """One strategy's replay over a list of parent orders.

    ``arrival_mid``: $ per order, NBBO mid at arrival (NaN if unknown); ``beyond_book``: shares per order the
    clean-up bought beyond the visible book (at the worst visible ask + 1 tick); ``unfilled``: shares per
    order never bought (no ask visible at any time up to the deadline)."""

    strategy: str
    params: dict
    orders: tuple[ParentOrder, ...]
    fills: Fills
    arrival_mid: np.ndarray
    beyond_book: np.ndarray | None = None
    unfilled: np.ndarray | None = None


class _Recorder:
    def __init__(self) -> None:
        self.cols: list[list] = [[], [], [], [], [], [], []]

    def add(self, oid: int, ts: int, venue: int, qty: int, px: float, fee: float, kind: int) -> None:
        if qty <= 0:
            return
        for col, v in zip(self.cols, (oid, ts, venue, qty, px, fee, kind), strict=True):
            col.append(v)

    def fills(self, start: int = 0) -> Fills:
        o, t, v, q, p, f, k = (c[start:] for c in self.cols)
        return Fills(np.asarray(o, np.int64), np.asarray(t, np.int64), np.asarray(v, np.int32),
                     np.asarray(q, np.int64), np.asarray(p, np.float64), np.asarray(f, np.float64),
                     np.asarray(k, np.int8))

    def __len__(self) -> int:
        return len(self.cols[0])


# ------------------------------------------------------------------------------ liquidity consumption
def carry_taken(taken: dict[int, int], ask_key: np.ndarray, ask_sz: np.ndarray) -> dict[int, int]:
    """Shares taken per price key after a venue's new records, ``ask_key`` (:func:`price_key` of the ask
    prices) and ``ask_sz`` ``(r, L)`` in time order.

    Module docstring: a price absent from any of the records (no level at it with size > 0) is forgotten;
    otherwise taken(p) = min(taken(p), displayed(p) at each record)."""
    if not taken:
        return {}
    keys = np.atleast_2d(ask_key)
    sz = np.atleast_2d(ask_sz)
    out: dict[int, int] = {}
    for p, q in taken.items():
        at = np.where(keys == p, sz, 0).sum(axis=1)  # shares displayed at p, per record
        if (at > 0).all():
            out[p] = int(min(q, int(at.min())))
    return out


def available(ask_key: np.ndarray, ask_sz: np.ndarray, taken: dict[int, int]) -> np.ndarray:
    """Shares available per level of one venue's ladder ``(L,)``: max(0, displayed − taken at that price)
    (``ask_key``: :func:`price_key` of the ask prices; an empty level has size 0)."""
    out = np.array(ask_sz, np.int64)
    for lv, k in enumerate(np.asarray(ask_key).tolist()):
        q = taken.get(k)
        if q:
            out[lv] = max(int(out[lv]) - q, 0)
    return out


class _Taken:
    """This parent order's taken shares per venue per price, advanced record by record (``carry_taken``)."""

    __slots__ = ("by_venue", "row", "j")

    def __init__(self, k: int) -> None:
        self.by_venue: dict[int, dict[int, int]] = {}  # venue position → {price key: shares}; non-empty only
        self.row = np.full(k, -1, np.int64)  # last record of each venue applied
        self.j = -1  # last snapshot applied

    def advance(self, book: Book, j: int) -> None:
        """Apply every venue record of snapshots ``(self.j, j]`` to the taken shares."""
        if j <= self.j:
            return
        for k in list(self.by_venue):
            last = int(self.row[k])
            if int(book.row[j, k]) == last:  # a venue's record index only grows with time: nothing new
                continue
            if j == self.j + 1:
                new = book.row[j, k: k + 1]
            else:
                seq = book.row[self.j + 1: j + 1, k]
                new = seq[seq > last]
                new = new[np.concatenate(([True], new[1:] != new[:-1]))]
            d = carry_taken(self.by_venue[k], book.ask_key[new], book.ask_sz[new])
            if d:
                self.by_venue[k] = d
            else:
                del self.by_venue[k]
            self.row[k] = new[-1]
        self.j = j

    def take(self, k: int, row: int, key: int, qty: int) -> None:
        d = self.by_venue.setdefault(k, {})
        d[key] = d.get(key, 0) + int(qty)
        self.row[k] = max(int(self.row[k]), int(row))


def _rows(book: Book, j: int) -> np.ndarray:
    return book.row[j] if j >= 0 else np.full(book.venues.shape[0], -1, np.int64)


def _ladders(book: Book, rows: np.ndarray, taken: _Taken):
    """Ask ladders ``(K, L)`` in force (NaN = empty) and the shares available after ``taken``."""
    ok = rows >= 0
    r = np.maximum(rows, 0)
    L = book.ask_px.shape[1]
    if book.ask_px.shape[0] == 0:
        return np.full((rows.shape[0], L), np.nan), np.zeros((rows.shape[0], L), np.int64)
    px = np.where(ok[:, None], book.ask_px[r], np.nan)
    sz = np.where(ok[:, None] & np.isfinite(px), book.ask_sz[r], 0).astype(np.int64)
    for k, d in taken.by_venue.items():
        if ok[k]:
            sz[k] = available(book.ask_key[r[k]], sz[k], d)
    return px, sz


# ------------------------------------------------------------------------------------------ replay
def _take_ladder(px: np.ndarray, avail: np.ndarray, qty: int):
    """Walk one venue's ask ladder; yields (level, shares)."""
    left = int(qty)
    for lv in range(px.shape[0]):
        if left <= 0:
            break
        a = int(avail[lv])
        if a <= 0 or not np.isfinite(px[lv]):
            continue
        q = min(a, left)
        left -= q
        yield lv, q


class _Resting:
    __slots__ = ("k", "qty", "price", "ahead", "level_sz", "trade_pos", "placed_ns")

    def __init__(self, k, qty, price, ahead, trade_pos, placed_ns):
        self.k, self.qty, self.price, self.ahead = k, int(qty), float(price), float(ahead)
        self.level_sz = float(ahead)
        self.trade_pos = trade_pos
        self.placed_ns = int(placed_ns)


def replay(book: Book, strategy: Strategy, orders: list[ParentOrder] | tuple[ParentOrder, ...],
           fill_model: QueueFill | None = None, progress: Callable[[int], object] | None = None) -> Execution:
    """Replay ``strategy`` on every parent order in ``orders`` over ``book``; see module docstring.

    ``progress``, when given, is called with 1 after each parent order (e.g. a tqdm bar's ``update``)."""
    fill_model = fill_model or QueueFill()
    rec = _Recorder()
    K = book.venues.shape[0]
    fee, rebate = book.taker_fee, book.maker_rebate
    n = len(orders)
    mids = np.full(n, np.nan)
    beyond = np.zeros(n, np.int64)
    unfilled = np.zeros(n, np.int64)
    settles = bool(getattr(strategy, "settles_resting", False))
    for oi, order in enumerate(orders):
        j_arr = book.index_at(order.arrival_ns)  # -1: the order arrives before any quote
        j_end = int(np.searchsorted(book.times, order.deadline_ns, side="left"))  # exclusive
        if j_arr >= 0:
            mids[oi] = book.mid(j_arr)
        taken = _Taken(K)
        first = len(rec)
        strategy.begin(_view(book, j_arr, order.arrival_ns, order, int(order.size), taken, fee, rebate, rec, first))
        remaining = int(order.size)
        resting: list[_Resting] = []
        next_decision = order.arrival_ns
        j = max(j_arr, 0)
        while j < j_end and remaining > 0:
            t = max(int(book.times[j]), order.arrival_ns)
            rows = book.row[j]
            taken.advance(book, j)
            # resting orders: prints since the last step, then the quote update
            if resting and not settles:
                remaining = _advance_resting(book, resting, rows, t, order, rec, rebate, remaining,
                                             fill_model)
            if t >= next_decision and remaining > 0:
                if settles:
                    remaining = _settle(book, strategy, resting, t, order, rec, rebate, remaining)
                resting.clear()  # cancel what is left before deciding again
                view = _view(book, j, t, order, remaining, taken, fee, rebate, rec, first)
                dec = strategy.decide(view)
                remaining = _execute(book, dec, view, j, t, order, rec, taken, remaining, resting, settles)
                next_decision = t + strategy.interval_ns if strategy.interval_ns > 0 else t + 1
                if dec.wake_ns is not None:
                    next_decision = max(next_decision, int(dec.wake_ns))
            if (settles or not resting) and next_decision > t + 1:  # nothing happens before the next decision
                j = max(j + 1, int(np.searchsorted(book.times, next_decision, side="left")))
            else:
                j += 1
        if resting and settles and remaining > 0:
            remaining = _settle(book, strategy, resting, int(order.deadline_ns), order, rec, rebate, remaining)
        if remaining > 0:
            beyond[oi], unfilled[oi] = _cleanup(book, j_end - 1, taken, order, remaining, rec, fee)
        if progress is not None:
            progress(1)
    return Execution(strategy.name, strategy.params(), tuple(orders), rec.fills(), mids, beyond, unfilled)


def _view(book: Book, j: int, t: int, order: ParentOrder, remaining: int, taken: _Taken, fee, rebate,
          rec: _Recorder, first: int) -> MarketView:
    """The strategy's view at snapshot ``j`` (-1: before any quote) and time ``t``."""
    rows = _rows(book, j)
    px, avail = _ladders(book, rows, taken)
    ok = rows >= 0
    r = np.maximum(rows, 0)
    if book.bid_px.shape[0]:
        bid_px = np.where(ok, book.bid_px[r, 0], np.nan)
        bid_sz = np.where(ok & np.isfinite(bid_px), book.bid_sz[r, 0], 0)
    else:
        bid_px, bid_sz = np.full(rows.shape[0], np.nan), np.zeros(rows.shape[0], np.int64)
    return MarketView(t_ns=t, order=order, remaining=remaining, filled=order.size - remaining,
                      venues=book.venues, ask_px=px, ask_avail=avail, bid_px=bid_px, bid_sz=bid_sz, fee=fee,
                      rebate=rebate, past=Past(book.tape, t), _own_fills=lambda: rec.fills(first))


def _execute(book, dec: Decision, view: MarketView, j, t, order, rec, taken: _Taken, remaining, resting,
             overbook: bool = False) -> int:
    market = np.asarray(dec.market, np.int64)
    if market.shape != (book.venues.shape[0],):
        raise ValueError(f"strategy returned {market.shape} market quantities for {book.venues.shape[0]} venues")
    for k in np.flatnonzero(market > 0):
        want = min(int(market[k]), remaining)
        for lv, q in _take_ladder(view.ask_px[k], view.ask_avail[k], want):
            rec.add(order.order_id, t, int(book.venues[k]), q, float(view.ask_px[k, lv]), float(view.fee[k]),
                    KIND_TAKE)
            row = int(book.row[j, k])
            taken.take(int(k), row, int(book.ask_key[row, lv]), q)
            remaining -= q
    if dec.limit is not None and remaining > 0:
        limit = np.asarray(dec.limit, np.int64)
        pos = int(np.searchsorted(book.trades_ts, t, side="right"))
        budget = remaining
        for k in np.flatnonzero(limit > 0):
            if not np.isfinite(view.bid_px[k]) or budget <= 0:
                continue
            q = min(int(limit[k]), budget)
            if not overbook:  # queue-filled orders never rest more than the remainder in total
                budget -= q
            resting.append(_Resting(k, q, view.bid_px[k], view.bid_sz[k], pos, t))
    return remaining


def _settle(book, strategy, resting, t, order, rec, rebate, remaining) -> int:
    """Fill resting orders at their cancellation by the strategy's own rule (e.g. Cont–Kukanov:
    min(L, (ξ − Q)⁺)), given ξ, the venue's best-bid queue outflow realised in [placement, t)."""
    for r in resting:
        if r.qty <= 0 or remaining <= 0:
            continue
        xi = float(book.bid_queue_flow(int(book.venues[r.k])).outflow(r.placed_ns, t)[0])
        filled = min(int(strategy.resting_fill(r.qty, r.ahead, xi)), remaining)
        if filled > 0:
            rec.add(order.order_id, int(t), int(book.venues[r.k]), filled, r.price, -float(rebate[r.k]), KIND_REST)
            remaining -= filled
    resting.clear()
    return remaining


def _advance_resting(book, resting, rows, t, order, rec, rebate, remaining, cfg: QueueFill) -> int:
    end = int(np.searchsorted(book.trades_ts, t, side="right"))
    for r in resting:
        if r.qty <= 0 or remaining <= 0:
            continue
        v = book.venues[r.k]
        if end > r.trade_pos:
            sl = slice(r.trade_pos, end)
            sel = (book.trades_venue[sl] == v) & (book.trades_side[sl] < 0)
            if sel.any():
                filled, r.ahead = queue_fill(min(r.qty, remaining), r.price, r.ahead,
                                             book.trades_px[sl][sel], book.trades_sz[sl][sel])
                if filled > 0:
                    rec.add(order.order_id, int(t), int(v), filled, r.price, -float(rebate[r.k]), KIND_REST)
                    r.qty -= filled
                    remaining -= filled
            r.trade_pos = end
        row = rows[r.k]
        if row >= 0:
            bpx, bsz = book.bid_px[row, 0], float(book.bid_sz[row, 0])
            if not np.isfinite(bpx) or bpx < r.price - 1e-9:
                r.ahead = 0.0  # our level emptied in the data: we would now be at its front
            elif abs(bpx - r.price) <= 1e-9:
                r.ahead = cancel_advance(r.ahead, r.level_sz, bsz, cfg)
                r.level_sz = bsz
    return remaining


def _cleanup(book: Book, jc: int, taken: _Taken, order: ParentOrder, remaining: int, rec: _Recorder,
             fee: np.ndarray) -> tuple[int, int]:
    """Clean-up market order at the deadline on the books of snapshot ``jc`` (the last before it; -1: none);
    module docstring, rule 4. Returns ``(shares beyond the visible book, shares left unbought)``."""
    if jc >= 0:
        taken.advance(book, jc)
    rows = _rows(book, jc)
    px, avail = _ladders(book, rows, taken)
    t = int(order.deadline_ns)
    if np.isfinite(px).any():
        take = sweep_cheapest(px, avail, fee, remaining)
        for k in np.flatnonzero(take > 0):
            for lv, q in _take_ladder(px[k], avail[k], int(take[k])):
                rec.add(order.order_id, t, int(book.venues[k]), q, float(px[k, lv]), float(fee[k]), KIND_CLEANUP)
                remaining -= q
    if remaining <= 0:
        return 0, 0
    jv = int(book.last_ask_index[jc]) if jc >= 0 else -1  # the last snapshot at or before jc showing an ask
    if jv < 0:
        return 0, remaining
    if jv != jc:
        px = np.where((book.row[jv] >= 0)[:, None], book.ask_px[np.maximum(book.row[jv], 0)], np.nan)
    top = np.nanmax(np.where(np.isfinite(px), px, -np.inf), axis=1)
    k = int(np.argmax(top))  # the venue showing the worst visible ask (first on ties)
    rec.add(order.order_id, t, int(book.venues[k]), remaining, float(top[k]) + TICK, float(fee[k]), KIND_CLEANUP)
    return remaining, 0
