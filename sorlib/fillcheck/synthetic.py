"""A small order-event tape made from a level-1 :class:`~sorlib.data.MarketData` (e.g. the synthetic day), so
that the fill validation runs where no order-level data are at hand (notebook 07 without LOBSTER files).

The touch of each venue is split into individual FIFO orders, with a seeded rule where the data say nothing:

* the best bid (ask) price moves to a new level: every order left at the old one is deleted, and one order of
  the displayed size is added at the new one (it joined the best);
* the size at an unchanged best grows by d: one order of d shares joins the back;
* a print at the best bid (seller-initiated) or ask (buyer-initiated): the orders at the front execute in
  time priority (visible executions, ``EXEC``), the rest of the print beyond the queue is not booked;
* the size shrinks by more than the prints since the last row explain: orders drawn uniformly at random
  (``numpy.random.default_rng(seed)``) are cancelled (partly or fully) until the decrease is covered.

Only the touch is known, so this is a level-1 tape: ``level_before`` is the queue at the best, and an order
whose level leaves the best is deleted at once (it is never "displaced"). The truth of this tape is the
construction above (uniform cancel positions), not a market's: it demonstrates the check, it does not
validate a model against real behaviour. Units: ns, $, shares.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from ..data.market import MarketData
from ..data.order_events import ADD, CANCEL, DELETE, EXEC, OrderEvents

EPS = 1e-9


class _Side:
    """The FIFO queue of one side's best level: ``[order_id, shares]`` entries, front first."""

    def __init__(self, sign: int) -> None:
        self.sign, self.price, self.q = sign, np.nan, deque()

    @property
    def total(self) -> int:
        return int(sum(s for _, s in self.q))


def order_events_from_market(md: MarketData, venue: int | None = None, seed: int = 0) -> OrderEvents:
    """The tape of one venue of ``md`` (default: the one with the most quote rows); module docstring."""
    v = int(np.bincount(md.quotes.venue).argmax()) if venue is None else int(venue)
    q, tr = md.quotes, md.trades
    qi = np.flatnonzero(q.venue == v)
    ti = np.flatnonzero(tr.venue == v)
    rng = np.random.default_rng(seed)
    rows: list[tuple] = []
    ids = [0]
    sides = {1: _Side(1), -1: _Side(-1)}

    def emit(t, oid, act, sd, px, sz, lb):
        rows.append((t, oid, act, sd.sign, px, sz, lb))

    j = 0
    for i in qi:
        t = int(q.ts[i])
        while j < ti.size and tr.ts[ti[j]] <= t:  # prints up to this row
            k = ti[j]
            sd = sides[-1 if tr.side[k] > 0 else 1]  # a buyer-initiated print hits the ask
            if tr.side[k] != 0 and sd.q and abs(tr.price[k] - sd.price) <= EPS:
                left = int(tr.size[k])
                while left > 0 and sd.q:
                    oid, s = sd.q[0]
                    x = min(s, left)
                    emit(int(tr.ts[k]), oid, EXEC, sd, sd.price, x, sd.total)
                    left -= x
                    if x == s:
                        sd.q.popleft()
                    else:
                        sd.q[0][1] = s - x
            j += 1
        for sign, px, sz in ((1, q.bid_px[i, 0], q.bid_sz[i, 0]), (-1, q.ask_px[i, 0], q.ask_sz[i, 0])):
            _update(sides[sign], t, float(px), int(sz), emit, ids, rng)
    if not rows:
        return OrderEvents.empty("synthetic")
    a = np.array([r[:4] for r in rows], np.int64)
    px = np.array([r[4] for r in rows], np.float64)
    sz = np.array([r[5] for r in rows], np.int64)
    lb = np.array([r[6] for r in rows], np.int64)
    bb, ba = _best_after(a, px, sz, lb)
    return OrderEvents(ts=a[:, 0], venue=np.full(len(rows), v), order_id=a[:, 1], action=a[:, 2], side=a[:, 3],
                       price=px, size=sz, level_before=lb, best_bid=bb, best_ask=ba,
                       source=f"synthetic order tape of {md.venue_name(v)} ({md.report.source}, seed {seed})")


def _update(sd: _Side, t: int, px: float, sz: int, emit, ids: list, rng) -> None:
    """Bring one side's queue to the quote row's (price, size)."""
    shown = np.isfinite(px) and sz > 0
    if sd.q and (not shown or abs(px - sd.price) > EPS):  # the level left the best: delete what is left
        while sd.q:
            oid, s = sd.q.popleft()
            emit(t, oid, DELETE, sd, sd.price, s, s + sd.total)
    if not shown:
        return
    sd.price = px
    have = sd.total
    if sz > have:
        ids[0] += 1
        emit(t, ids[0], ADD, sd, px, sz - have, have)
        sd.q.append([ids[0], sz - have])
    while sd.total > sz:  # unexplained decrease: cancels at random positions
        k = int(rng.integers(len(sd.q)))
        oid, s = sd.q[k]
        x = min(s, sd.total - sz)
        before = sd.total
        if x == s:
            del sd.q[k]
            emit(t, oid, DELETE, sd, px, x, before)
        else:
            sd.q[k][1] = s - x
            emit(t, oid, CANCEL, sd, px, x, before)


def _best_after(a: np.ndarray, px: np.ndarray, sz: np.ndarray, lb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best bid and ask after each event, replayed from the events (the level's size after = before + change)."""
    n = a.shape[0]
    bb, ba = np.full(n, np.nan), np.full(n, np.nan)
    cur = {1: (np.nan, 0), -1: (np.nan, 0)}
    for i in range(n):
        sign, act = int(a[i, 3]), int(a[i, 2])
        after = int(lb[i]) + (int(sz[i]) if act == ADD else -int(sz[i]))
        cur[sign] = (px[i], after) if after > 0 else (np.nan, 0)
        bb[i], ba[i] = cur[1][0], cur[-1][0]
    return bb, ba
