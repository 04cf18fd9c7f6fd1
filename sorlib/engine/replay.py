"""The replay engine: walk snapshots in time order, let a strategy route, fill, carry the remainder.

Per parent order (orders are replayed independently of each other):

1. From the snapshot in force at arrival to the last one before the deadline, at each decision time the
   strategy sees the venues' ask ladders *after the liquidity this order already took*: shares taken
   from a venue's displayed ask are gone until that venue's quote updates (no re-taking of the same
   displayed shares at the next snapshot).
2. Marketable child orders fill at once, walking the venue's ladder level by level, never more than is
   displayed and not yet taken. Cash per fill = price × qty + taker fee × qty.
3. Resting limit orders join the venue's best bid and fill by the queue model (:mod:`sorlib.fills`)
   from the venue's prints until the next decision, when the unfilled part is cancelled. Their cash is
   price × qty − maker rebate × qty.
4. At the deadline, whatever is left is bought by a clean-up market order that sweeps all venues'
   available ladders cheapest first (all-in price); anything beyond the visible depth is priced at the
   worst visible ask plus one tick (0.01 $). Its cost is reported separately, so every strategy ends
   with exactly the parent order's size.

Everything is deterministic: no randomness is drawn here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..fills.queue import QueueFill, cancel_advance, queue_fill
from ..strategies.base import Decision, MarketView, ParentOrder, Strategy
from .book import Book

TICK = 0.01
KIND_TAKE, KIND_REST, KIND_CLEANUP = 0, 1, 2


@dataclass(frozen=True)
class Fills:
    """Columnar fills: parent ``order_id``, time (ns), venue key, qty (shares), price ($),
    ``fee`` ($/share: + taker fee, − maker rebate), ``kind`` (0 take, 1 resting, 2 clean-up)."""

    order_id: np.ndarray
    ts: np.ndarray
    venue: np.ndarray
    qty: np.ndarray
    price: np.ndarray
    fee: np.ndarray
    kind: np.ndarray

    @property
    def cash(self) -> np.ndarray:
        """Cash paid per fill, $ = (price + fee) × qty."""
        return (self.price + self.fee) * self.qty

    def __len__(self) -> int:
        return int(self.qty.shape[0])


@dataclass(frozen=True)
class Execution:
    """One strategy's replay over a list of parent orders."""

    strategy: str
    params: dict
    orders: tuple[ParentOrder, ...]
    fills: Fills
    arrival_mid: np.ndarray  # $ per order, NBBO mid at arrival (NaN if unknown)


class _Recorder:
    def __init__(self) -> None:
        self.cols: list[list] = [[], [], [], [], [], [], []]

    def add(self, oid: int, ts: int, venue: int, qty: int, px: float, fee: float, kind: int) -> None:
        if qty <= 0:
            return
        for col, v in zip(self.cols, (oid, ts, venue, qty, px, fee, kind), strict=True):
            col.append(v)

    def fills(self) -> Fills:
        o, t, v, q, p, f, k = self.cols
        return Fills(np.asarray(o, np.int64), np.asarray(t, np.int64), np.asarray(v, np.int32),
                     np.asarray(q, np.int64), np.asarray(p, np.float64), np.asarray(f, np.float64),
                     np.asarray(k, np.int8))


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
           fill_model: QueueFill | None = None) -> Execution:
    """Replay ``strategy`` on every parent order in ``orders`` over ``book``; see module docstring."""
    fill_model = fill_model or QueueFill()
    rec = _Recorder()
    K = book.venues.shape[0]
    fee, rebate = book.taker_fee, book.maker_rebate
    L = book.ask_px.shape[1]
    mids = np.full(len(orders), np.nan)
    settles = bool(getattr(strategy, "settles_resting", False))
    for oi, order in enumerate(orders):
        j0 = max(book.index_at(order.arrival_ns), 0)
        j_end = int(np.searchsorted(book.times, order.deadline_ns, side="left"))  # exclusive
        if book.times.shape[0]:
            mids[oi] = book.mid(j0)
        strategy.begin(order, book)
        remaining = int(order.size)
        taken = np.zeros((K, L), np.int64)
        taken_row = np.full(K, -2, np.int64)
        resting: list[_Resting] = []
        next_decision = order.arrival_ns
        j = j0
        while j < j_end and remaining > 0:
            t = max(int(book.times[j]), order.arrival_ns)
            rows = book.row[j]
            changed = rows != taken_row
            if changed.any():
                taken[changed] = 0
                taken_row[changed] = rows[changed]
            # resting orders: prints since the last step, then the quote update
            if resting and not settles:
                remaining = _advance_resting(book, resting, rows, t, order, rec, rebate, remaining,
                                             fill_model)
            if t >= next_decision and remaining > 0:
                if settles:
                    remaining = _settle(book, strategy, resting, t, order, rec, rebate, remaining)
                resting.clear()  # cancel what is left before deciding again
                view = _view(book, j, t, order, remaining, taken, fee, rebate)
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
            jc = max(min(j_end - 1, book.times.shape[0] - 1), 0)
            rows = book.row[jc] if book.times.shape[0] else np.full(K, -1)
            changed = rows != taken_row
            taken[changed] = 0
            _cleanup(book, rows, taken, order, remaining, rec, fee)
    return Execution(strategy.name, strategy.params(), tuple(orders), rec.fills(), mids)


def _ladders(book: Book, rows: np.ndarray, taken: np.ndarray):
    K, L = taken.shape
    ok = rows >= 0
    r = np.maximum(rows, 0)
    px = np.where(ok[:, None], book.ask_px[r], np.nan)
    sz = np.where(ok[:, None], book.ask_sz[r], 0) - taken
    sz = np.where(np.isfinite(px), np.maximum(sz, 0), 0)
    return px, sz


def _view(book, j, t, order, remaining, taken, fee, rebate) -> MarketView:
    rows = book.row[j]
    px, avail = _ladders(book, rows, taken)
    ok = rows >= 0
    r = np.maximum(rows, 0)
    bid_px = np.where(ok, book.bid_px[r, 0], np.nan)
    bid_sz = np.where(ok & np.isfinite(bid_px), book.bid_sz[r, 0], 0)
    return MarketView(t_ns=t, j=j, order=order, remaining=remaining, filled=order.size - remaining,
                      ask_px=px, ask_avail=avail, bid_px=bid_px, bid_sz=bid_sz, fee=fee, rebate=rebate,
                      book=book)


def _execute(book, dec: Decision, view: MarketView, j, t, order, rec, taken, remaining, resting,
             overbook: bool = False) -> int:
    market = np.asarray(dec.market, np.int64)
    if market.shape != (book.venues.shape[0],):
        raise ValueError(f"strategy returned {market.shape} market quantities for {book.venues.shape[0]} venues")
    for k in np.flatnonzero(market > 0):
        want = min(int(market[k]), remaining)
        for lv, q in _take_ladder(view.ask_px[k], view.ask_avail[k], want):
            rec.add(order.order_id, t, int(book.venues[k]), q, float(view.ask_px[k, lv]), float(view.fee[k]),
                    KIND_TAKE)
            taken[k, lv] += q
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
    min(L, (ξ − Q)⁺) with ξ the queue outflow realised while they rested)."""
    for r in resting:
        if r.qty <= 0 or remaining <= 0:
            continue
        filled = min(int(strategy.resting_fill(int(book.venues[r.k]), r.qty, r.ahead, r.placed_ns, t)), remaining)
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


def _cleanup(book, rows, taken, order, remaining, rec, fee) -> None:
    from ..strategies.base import sweep_cheapest

    px, avail = _ladders(book, rows, taken)
    t = int(order.deadline_ns)
    take = sweep_cheapest(px, avail, fee, remaining) if np.isfinite(px).any() else np.zeros(len(rows), np.int64)
    for k in np.flatnonzero(take > 0):
        for lv, q in _take_ladder(px[k], avail[k], int(take[k])):
            rec.add(order.order_id, t, int(book.venues[k]), q, float(px[k, lv]), float(fee[k]), KIND_CLEANUP)
            remaining -= q
    if remaining > 0:
        if np.isfinite(px).any():
            worst = float(np.nanmax(px))
            k = int(np.nanargmax(np.nanmax(np.where(np.isfinite(px), px, -np.inf), axis=1)))
        else:
            worst = float(book.best_ask(len(book.times) - 1)) if len(book.times) else float("nan")
            k = 0
        rec.add(order.order_id, t, int(book.venues[k]) if len(book.venues) else -1, remaining, worst + TICK,
                float(fee[k]) if len(fee) else 0.0, KIND_CLEANUP)
