"""The replay engine: walk snapshots in time order, let a strategy route, fill, carry the remainder.

Per parent order (orders are replayed independently of each other):

1. From the snapshot in force at arrival to the last one before the deadline, at each decision time ``t``
   the strategy gets a :class:`~sorlib.strategies.view.MarketView`: the venues' ask ladders in force at
   ``t`` *after the liquidity this order already took* (rule below), the bid touch, fees, and ``past``, the
   records stamped at or before ``t`` (no strategy ever holds the Book, so none can look ahead). ``begin``
   gets the same view at arrival.
2. Marketable child orders fill at once, walking the venue's ladder level by level, never more than is
   available. Cash per fill = price × qty + taker fee × qty.
3. Resting limit orders join the venue's best bid and fill by the queue model (:mod:`sorlib.sim.queue`)
   from the venue's prints until the next decision, when the unfilled part is cancelled; each fill is
   stamped when it happens. Their cash is price × qty − maker rebate × qty. Every strategy's resting
   orders go through the same queue model (``fill_model``, else the market model's ``queue``). Only prints
   marked book-eligible fill (``Book.trades_eligible``), and a print *below* our price (a trade-through)
   fills what is left only when the venue's displayed bid just before it was known and at or above our
   price (:func:`sorlib.sim.queue.fill_parts`); ``Execution.fill_through`` records which resting fills
   came from such a print. The queue model ``paper`` instead settles each order once at its cancellation
   (next decision or deadline, stamped then) by Cont–Kukanov's min(L, (ξ − Q)⁺), ξ = the outflow of the
   bid level it joined, measured from the quote row at placement that gave its price and Q
   (:meth:`sorlib.engine.Book.level_outflow`). A model's ``haircut`` credits floor(haircut × fill) shares
   of each fill. A strategy with ``overbooks`` (Cont–Kukanov) may rest more than its remainder in total;
   fills beyond the remainder are not taken (its other orders count as cancelled when it completes).
4. At the deadline, whatever is left is bought by a clean-up market order that sweeps all venues'
   *visible* ladders (same consumption rule) cheapest first (all-in price). What is visible and how the
   shares beyond the visible depth are priced is the market model's clean-up rule
   (:mod:`sorlib.sim.cleanup`; ``MarketModel.cleanup``): ``depth`` (default: a stale quote, older than
   60 s and off the national best, is neither swept nor an anchor; the rest walks each visible venue's
   depth profile fitted on its records before the deadline), ``ladder`` (+1 tick per 100 shares) or
   ``flat`` (the old rule: the worst ask visible at the last snapshot before the deadline plus one tick,
   0.01 $ — or, when no venue shows an ask then, the worst ask of the last snapshot before it that showed
   one, never a later price); those shares are counted in ``Execution.beyond_book``. When no ask was
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

**Market simulation** (:mod:`sorlib.sim`, ``market=``; the ``frozen`` preset, the default, switches it
all off and gives the rules above bit for bit):

* *latency*: a child order decided at ``t`` reaches venue k at ``t + latency_k`` and fills against the
  venue's book in force then (after the liquidity this order already took there); its fills are stamped
  ``t + latency_k``. Child orders of one decision are sent in order of arrival (ties: venue order), and the
  strategy decides again only once all of them have arrived. Resting orders join the bid at arrival. The
  clean-up, sent at the deadline, meets each venue's book in force just before ``deadline + latency_k``.
* *impact*: each marketable fill (child orders, clean-up) pays ``R(t)`` (the decayed impact of this
  order's earlier fills) plus its own climb up the square-root curve (:mod:`sorlib.sim.impact`); the view's
  ask and bid prices show ``+ R(t)``, and resting fills pay the ``R`` in force when they were placed.
* *fade*: a fill at venue A at price p removes a fraction of every other venue's displayed size at p until
  that venue's quote changes (:mod:`sorlib.sim.fade`); the view and later orders see the faded sizes. The
  clean-up's own fills fade nothing (it is one simultaneous sweep).

**Sides and limit prices.** A sell is replayed as a buy on the mirrored market (:mod:`sorlib.data.mirror`:
prices C − p, bids and asks swapped, buyer and seller swapped; :func:`mirror_book`, built once per book and
only when a sell is replayed, C = twice the day's first quoted price): every rule above then applies to the
bid side — a sell takes the bid ladder, rests at the ask, fills from buyer-initiated prints, and the clean-up
sweeps the bids. Its fills are mapped back (price p' → C − (p' − e') − e' with e' its impact, which lowers a
sell's price; ``Execution.fill_impact`` is −e') and merged in order with the buys'; ``Fills.side`` is −1 for
them. Strategies always see a buy: a sell's view shows the mirrored market, its ``order`` side +1 and limit
C − L. The market model is resolved once on the real data (impact σ and V), so both sides use the same
inputs. Rules that depend on the price level rather than on price differences see C − p instead of p: the
fade model's lot-rounding draws are keyed by the price (other, equally distributed draws); the risk
controls' LULD band (percent of the price), kill switch and venue-score markouts (bps) and the impact
model's default σ fallback (1.5 % of the price, only when the data give no σ) are off by the ratio
(C − p)/p, i.e. twice the move since the first quote (a 1 % move: 2 %); the replay ignores nothing else.
A parent order's ``limit_price`` L ($; NaN: none) is enforced by the engine, whatever the strategy asks: a
buy's marketable child orders take only levels at or below L, and with impact only the shares whose price
paid (level + R(t) + its own climb) stays at or below L (:func:`_within`); a resting order whose price plus
the impact shift in force is above L is rejected (not placed, no child order recorded); the clean-up sweeps
only levels at or below L and buys nothing beyond the book above it. The shares left are counted in
``Execution.unfilled`` (TCA: Perold's opportunity cost). A sell mirrors all of it (never below L). The view
shows no available shares above L, so strategies do not aim at them.

Everything is deterministic: no randomness is drawn here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numba as nb
import numpy as np

from ..data.mirror import mirror_center, mirror_market, mirror_prices
from ..errors import ConfigError
from ..sim.cleanup import CleanupModel, depth_fills, flat_fills, ladder_fills, venue_profile, visible
from ..sim.model import MarketModel, market_model
from ..sim.queue import QueueFill, QueueState, SimpleQueue, fill_parts, make_queue_model, paper_fill, rng_for
from ..strategies.base import Decision, ParentOrder, Strategy, sweep_cheapest
from ..strategies.view import Fills, MarketView, Past
from .book import Book, price_key
from .touch import touch_walk

TICK = 0.01
GRID = 1e-8  # $: prices compare on this grid (price_key); a limit admits prices up to limit + EPS
EPS = 1e-9
KIND_TAKE, KIND_REST, KIND_CLEANUP = 0, 1, 2

__all__ = ["Children", "Execution", "Fills", "KIND_CLEANUP", "KIND_REST", "KIND_TAKE", "TICK", "available",
           "carry_taken", "price_key", "replay"]


@dataclass(frozen=True)
class Children:
    """The child orders a strategy sent (recorded for transaction-cost analysis; the deadline clean-up is not
    one): parent ``order_id``, ``decided_ns`` (decision time), ``ts`` (ns, when it reached the venue: the
    decision time plus the venue's latency), ``venue`` key, ``qty`` (shares sent), ``displayed`` (shares the
    decision's view showed at that venue: for a marketable order the available ask size over all levels, for a
    resting order the displayed bid size it queues behind), ``kind`` (0 marketable, 1 resting limit)."""

    order_id: np.ndarray
    decided_ns: np.ndarray
    ts: np.ndarray
    venue: np.ndarray
    qty: np.ndarray
    displayed: np.ndarray
    kind: np.ndarray

    def __len__(self) -> int:
        return int(self.qty.shape[0])


@dataclass(frozen=True)
class Execution:
    """One strategy's replay over a list of parent orders.

    ``arrival_mid``: $ per order, NBBO mid at arrival (NaN if unknown); ``beyond_book``: shares per order the
    clean-up bought beyond the visible book (at the worst visible ask + 1 tick); ``unfilled``: shares per
    order never bought (no ask visible at any time up to the deadline); ``impact_cost``: $ per order paid
    for our own price impact (Σ extra price × qty over its fills; zeros without an impact model).
    ``children``: the child orders sent (:class:`Children`); ``fill_impact``: $/share of each fill's price
    that is our own simulated impact (aligned with ``fills``; zeros without an impact model); ``fill_through``:
    int8 per fill, 1 when a resting fill came from a print below our price (a trade-through), else 0. All
    three are records only: nothing in the replay reads them."""

    strategy: str
    params: dict
    orders: tuple[ParentOrder, ...]
    fills: Fills
    arrival_mid: np.ndarray
    beyond_book: np.ndarray | None = None
    unfilled: np.ndarray | None = None
    impact_cost: np.ndarray | None = None
    children: Children | None = None
    fill_impact: np.ndarray | None = None
    fill_through: np.ndarray | None = None


class _Recorder:
    def __init__(self) -> None:
        self.cols: list[list] = [[], [], [], [], [], [], []]
        self.extra: list[float] = []  # $/share of each fill's price that is impact (record only)
        self.through: list[int] = []  # 1: a resting fill by a print through our price (record only)
        self.kids: list[tuple] = []  # child orders sent (record only)
        self.rest_shift = 0.0  # impact ($/share) resting fills pay: the shift in force when they were placed
        self.impact_cash = 0.0  # $ paid for impact so far (all orders)
        self._own: tuple | None = None  # ((start, fills recorded), read-only Fills) last handed to a view

    def add(self, oid: int, ts: int, venue: int, qty: int, px: float, fee: float, kind: int,
            extra: float = 0.0, through: bool = False) -> None:
        if qty <= 0:
            return
        if kind == KIND_REST and self.rest_shift:
            px = px + self.rest_shift
            self.impact_cash += self.rest_shift * qty
            extra = self.rest_shift
        c = self.cols
        c[0].append(oid)
        c[1].append(ts)
        c[2].append(venue)
        c[3].append(qty)
        c[4].append(px)
        c[5].append(fee)
        c[6].append(kind)
        self.extra.append(extra)
        self.through.append(int(through))

    def child(self, oid: int, decided: int, ts: int, venue: int, qty: int, displayed: int, kind: int) -> None:
        self.kids.append((oid, decided, ts, venue, qty, displayed, kind))

    def children(self) -> Children:
        a = np.array(self.kids, np.int64).reshape(-1, 7)
        return Children(a[:, 0], a[:, 1], a[:, 2], a[:, 3].astype(np.int32), a[:, 4], a[:, 5], a[:, 6].astype(np.int8))

    def fills(self, start: int = 0) -> Fills:
        o, t, v, q, p, f, k = (c[start:] for c in self.cols)
        return Fills(np.asarray(o, np.int64), np.asarray(t, np.int64), np.asarray(v, np.int32),
                     np.asarray(q, np.int64), np.asarray(p, np.float64), np.asarray(f, np.float64),
                     np.asarray(k, np.int8))

    def own(self, start: int) -> Fills:
        """:meth:`fills` from ``start`` as a strategy's view reads them: read-only arrays, built again only once
        a fill was recorded (the decisions in between share them)."""
        key = (start, len(self))
        if self._own is None or self._own[0] != key:
            f = self.fills(start)
            for a in vars(f).values():
                if a is not None:
                    a.setflags(write=False)
            self._own = (key, f)
        return self._own[1]

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
    if np.ndim(ask_key) == 1 or ask_key.shape[0] == 1:  # one record (the common step): plain Python, same rule
        return _carry_one(taken, np.ravel(ask_key).tolist(), np.ravel(ask_sz).tolist())
    keys = np.atleast_2d(ask_key)
    sz = np.atleast_2d(ask_sz)
    out: dict[int, int] = {}
    for p, q in taken.items():
        at = np.where(keys == p, sz, 0).sum(axis=1)  # shares displayed at p, per record
        if (at > 0).all():
            out[p] = int(min(q, int(at.min())))
    return out


def _carry_one(taken: dict[int, int], keys: list, sz: list) -> dict[int, int]:
    """:func:`carry_taken` over one record (``keys``/``sz`` its levels as lists)."""
    out: dict[int, int] = {}
    for p, q in taken.items():
        n = keys.count(p)  # levels at p: usually none or one (a scan in C)
        if n == 1:
            at = sz[keys.index(p)]
        elif n:
            at = 0
            for kk, a in zip(keys, sz, strict=True):
                if kk == p:
                    at += a
        else:
            continue
        if at > 0:
            out[p] = int(min(q, at))
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


def _take_off(sz: np.ndarray, keys: list, taken: dict[int, int]) -> None:
    """:func:`available` in place on ``sz`` (one venue's ladder, int64) with its price keys as a list."""
    for lv, k in enumerate(keys):
        q = taken.get(k)
        if q:
            a = int(sz[lv]) - q
            sz[lv] = a if a > 0 else 0


class _Taken:
    """This parent order's taken shares per venue per price, advanced record by record (``carry_taken``).

    ``j`` is the last snapshot applied to every venue; ``jv[k]`` a later one applied to venue k alone (a
    child order that reached k after its latency)."""

    __slots__ = ("by_venue", "row", "j", "jv", "one")

    def __init__(self, k: int) -> None:
        self.one = False  # the book has one ask level (set by the replay): scalars rather than lists
        self.by_venue: dict[int, dict[int, int]] = {}  # venue position → {price key: shares}; non-empty only
        self.row = [-1] * k  # last record of each venue applied
        self.j = -1  # last snapshot applied
        self.jv = [-1] * k  # last snapshot applied per venue (≥ j after a late arrival)

    def advance(self, book: Book, j: int) -> None:
        """Apply every venue record of snapshots ``(self.j, j]`` to the taken shares."""
        start = self.j
        if j <= start:
            return
        by, seen, jvs, step = self.by_venue, self.row, self.jv, j == start + 1
        for k in list(by):
            jv = jvs[k]
            if step and jv <= start:  # the next snapshot (the common step): one record at most
                cur = book.row.item(j, k)
                if cur != seen[k]:  # self._keep, inline
                    if self.one:
                        d = _carry_one(by[k], [book.ask_key.item(cur, 0)], [book.ask_sz.item(cur, 0)])
                    else:
                        d = _carry_one(by[k], book.ask_key[cur].tolist(), book.ask_sz[cur].tolist())
                    if d:
                        by[k] = d
                    else:
                        del by[k]
                    seen[k] = cur
                continue
            self._apply(book, k, start if start > jv else jv, j)
        self.j = j

    def advance_venue(self, book: Book, k: int, j: int) -> None:
        """Apply venue ``k``'s records up to snapshot ``j`` (an order reaching it at ``times[j]``)."""
        start = max(self.j, int(self.jv[k]))
        if j <= start:
            return
        if k in self.by_venue:
            self._apply(book, k, start, j)
        self.jv[k] = j

    def _apply(self, book: Book, k: int, start: int, j: int) -> None:
        """Venue ``k``'s records of snapshots ``(start, j]``."""
        if j <= start:
            return
        last = self.row[k]
        cur = book.row.item(j, k)
        if cur == last:  # a venue's record index only grows with time: nothing new
            return
        if j == start + 1 or cur == book.row.item(start + 1, k):  # one new record
            d = _carry_one(self.by_venue[k], book.ask_key[cur].tolist(), book.ask_sz[cur].tolist())
            self._keep(k, d, cur)
            return
        d = self.by_venue[k]
        if j - start <= 16:  # a few snapshots: each new record in turn, in Python
            prev = last
            for r in book.row[start + 1: j + 1, k].tolist():
                if r > last and r != prev:
                    prev = r
                    d = _carry_one(d, book.ask_key[r].tolist(), book.ask_sz[r].tolist())
            self._keep(k, d, prev)
            return
        # many: carry_taken over each new record, compiled (_carry_rows)
        ps = np.fromiter(d.keys(), np.int64, len(d))
        qs, lastrow = _carry_rows(book.row, k, start, j, last, book.ask_key, book.ask_sz,
                                  ps, np.fromiter(d.values(), np.int64, len(d)))
        self._keep(k, {p: q for p, q in zip(ps.tolist(), qs.tolist(), strict=True) if q >= 0}, int(lastrow))

    def _keep(self, k: int, d: dict[int, int], row: int) -> None:
        """Venue ``k``'s taken shares after its records up to ``row`` (none left: the venue is dropped)."""
        if d:
            self.by_venue[k] = d
        else:
            del self.by_venue[k]
        self.row[k] = row

    def take(self, k: int, row: int, key: int, qty: int, j: int = -1) -> None:
        d = self.by_venue.setdefault(k, {})
        d[key] = d.get(key, 0) + int(qty)
        if row > self.row[k]:
            self.row[k] = int(row)
        if j > self.jv[k]:
            self.jv[k] = j


@nb.njit(cache=True)
def _carry_rows(row, k, start, j, last, ask_key, ask_sz, ps, qs):  # pragma: no cover - numba
    """:func:`carry_taken` of the taken shares ``qs`` at price keys ``ps`` over venue ``k``'s records first
    shown by snapshots ``(start, j]`` and later than record ``last`` (each distinct record once, time order).
    Returns ``(shares, last record)``; a forgotten price gets −1."""
    out = qs.copy()
    prev = last
    for i in range(start + 1, j + 1):
        r = row[i, k]
        if r <= last or r == prev:
            continue
        prev = r
        for n in range(ps.shape[0]):
            if out[n] < 0:
                continue
            at = 0
            for lv in range(ask_key.shape[1]):
                if ask_key[r, lv] == ps[n]:
                    at += ask_sz[r, lv]
            if at <= 0:
                out[n] = -1
            elif at < out[n]:
                out[n] = at
    return out, prev


class _Market:
    """The market model (:mod:`sorlib.sim`) as one replay uses it: per-venue order latencies (ns) and, per
    parent order, the impact and fade states (None when that model is off)."""

    __slots__ = ("model", "delay", "lat", "impact", "fade")

    def __init__(self, model: MarketModel, book: Book) -> None:
        self.model = model
        self.delay = model.latency.delays_ns(book.venues, [p.latency_us for p in book.profiles])
        self.lat = bool(self.delay.any())
        self.impact = None
        self.fade = None

    def start(self, book: Book, order_id: int = 0, arrival_ns: int | None = None) -> None:
        """A new parent order arriving at ``arrival_ns``: no impact (its σ and V from the data before then,
        :meth:`~sorlib.sim.impact.ImpactModel.state`), nothing faded."""
        self.impact = self.model.impact.state(arrival_ns) if self.model.impact.enabled else None
        self.fade = self.model.fade.state(book.venues, order_id) if self.model.fade.enabled else None

    def shift(self, t_ns: int) -> float:
        """Impact ``R(t)`` ($/share) in force at ``t_ns``."""
        return self.impact.shift(t_ns) if self.impact is not None else 0.0

    def arrival(self, book: Book, j: int, t: int, k: int) -> tuple[int, int]:
        """``(time, snapshot)`` at which an order decided at ``t`` (snapshot ``j``) reaches venue ``k``."""
        d = int(self.delay[k])
        return (t, j) if d == 0 else (t + d, book.index_at(t + d))


def _rows(book: Book, j: int) -> np.ndarray:
    return book.row[j] if j >= 0 else np.full(book.venues.shape[0], -1, np.int64)


def _ladders(book: Book, rows: np.ndarray, taken: _Taken, mk: _Market | None = None, t_ns=None,
             full: bool | None = None):
    """Ask ladders ``(K, L)`` in force (NaN = empty) and the shares available after ``taken`` (and, with a
    market model, after the fades in force at ``t_ns``: a scalar or one time per venue). ``full``: every
    venue has a record in ``rows`` (None: checked here)."""
    L = book.ask_px.shape[1]
    if book.ask_px.shape[0] == 0:
        return np.full((rows.shape[0], L), np.nan), np.zeros((rows.shape[0], L), np.int64)
    if full is None:
        full = bool(rows.shape[0]) and int(rows.min()) >= 0
    if full:  # every venue has quoted: plain gathers (copies)
        ok = None
        r = rows
        px = book.ask_px.take(r, axis=0)  # take: the same copy as fancy indexing, cheaper
        sz = book.ask_shown.take(r, axis=0)
    else:
        ok = rows >= 0
        r = np.maximum(rows, 0)
        px = book.ask_px[r]
        px[~ok] = np.nan
        sz = book.ask_shown[r]
        sz[~ok] = 0
    for k, d in taken.by_venue.items():
        if ok is None or ok[k]:
            _take_off(sz[k], book.ask_key[r[k]].tolist(), d)
    if mk is not None and mk.fade is not None and mk.fade.by_venue:
        for k in list(mk.fade.by_venue):
            if ok is None or ok[k]:
                tk = int(t_ns) if np.ndim(t_ns) == 0 else int(t_ns[k])
                gone = mk.fade.removed(k, int(r[k]), tk, book.ask_key[r[k]])
                if gone is not None:
                    sz[k] = np.maximum(sz[k] - gone, 0)
    return px, sz


# ------------------------------------------------------------------------------------------ replay
def _take_ladder(px: np.ndarray, avail: np.ndarray, qty: int):
    """Walk one venue's ask ladder; yields (level, shares)."""
    left = int(qty)
    if left <= 0:
        return
    for lv, (p, a) in enumerate(zip(px.tolist(), avail.tolist(), strict=True)):
        if left <= 0:
            break
        a = int(a)
        if a <= 0 or not math.isfinite(p):
            continue
        q = min(a, left)
        left -= q
        yield lv, q


class _Resting:
    __slots__ = ("k", "qty", "price", "ahead", "level_sz", "trade_pos", "placed_ns", "queue", "model", "prints",
                 "vpos", "next_ts", "seen")

    def __init__(self, k, qty, price, ahead, trade_pos, placed_ns):
        self.k, self.qty, self.price, self.ahead = k, int(qty), float(price), float(ahead)
        self.level_sz = float(ahead)
        self.trade_pos = trade_pos
        self.placed_ns = int(placed_ns)
        self.queue = None  # the queue model's QueueState, created by _advance_resting
        self.model = None  # its QueueModel (stateless), built once by _advance_resting
        self.prints = None  # _venue_prints(book, k), set by _advance_resting with the two below
        self.vpos = 0  # index into ``prints`` of the first print not yet applied
        self.next_ts = 0  # its time ns (2**63 − 1: none left)
        self.seen = -2  # the quote row whose level step is a no-op on ``queue`` as it stands (-2: none)


def replay(book: Book, strategy: Strategy, orders: list[ParentOrder] | tuple[ParentOrder, ...],
           fill_model: QueueFill | None = None, progress: Callable[[int], object] | None = None,
           market: MarketModel | str | dict | None = None) -> Execution:
    """Replay ``strategy`` on every parent order in ``orders`` over ``book``; see module docstring.

    ``progress``, when given, is called with 1 after each parent order (e.g. a tqdm bar's ``update``).
    ``market``: the market model (:func:`sorlib.sim.market_model`: a preset name, a dict or a
    :class:`~sorlib.sim.MarketModel`); None or ``"frozen"``: the recorded tape. ``fill_model``: the queue model
    of resting orders; None takes the market model's (conservative unless the preset says otherwise).
    Sells and limit prices: module docstring, "Sides and limit prices"."""
    mm = market_model(market).resolve(book.market)  # estimated inputs from the real data, also for sells
    mk = None if mm.frozen else _Market(mm, book)
    fill_model = fill_model or mm.queue
    rec = _Recorder()
    n = len(orders)
    mids = np.full(n, np.nan)
    beyond = np.zeros(n, np.int64)
    unfilled = np.zeros(n, np.int64)
    impact = np.zeros(n)
    arrival_mids = book.tape.nbbo_mids() if n else None  # Book.mid at every snapshot, computed once per book
    mirror = mirror_book(book) if any(o.side < 0 for o in orders) else None
    sells: list[tuple[int, int]] = []  # the fills [start, end) of each sell, recorded in mirrored prices
    for oi, order in enumerate(orders):
        j_arr = book.index_at(order.arrival_ns)  # -1: the order arrives before any quote
        if j_arr >= 0:
            mids[oi] = arrival_mids[j_arr]
        first = len(rec)
        paid = rec.impact_cash
        if order.side < 0:
            center, mbook = mirror
            lim = float(mirror_prices(order.limit_price, center)) if order.has_limit else math.inf
            seen = replace(order, side=1, limit_price=max(lim, GRID) if order.has_limit else order.limit_price)
            beyond[oi], unfilled[oi] = _replay_one(mbook, strategy, seen, lim, rec, mk, mm, fill_model)
            sells.append((first, len(rec)))
        else:
            lim = float(order.limit_price) if order.has_limit else math.inf
            beyond[oi], unfilled[oi] = _replay_one(book, strategy, order, lim, rec, mk, mm, fill_model)
        impact[oi] = rec.impact_cash - paid
        if progress is not None:
            progress(1)
    fills, extra = rec.fills(), np.asarray(rec.extra, np.float64)
    if sells:
        fills, extra = _unmirror(fills, extra, sells, mirror[0])
    return Execution(strategy.name, strategy.params(), tuple(orders), fills, mids, beyond, unfilled, impact,
                     rec.children(), extra, np.asarray(rec.through, np.int8))


def mirror_book(book: Book) -> tuple[float, Book]:
    """``(C, the Book of the mirrored market)`` a sell replays on (:func:`sorlib.data.mirror.mirror_market`
    about ``C`` = :func:`~sorlib.data.mirror.mirror_center`), with ``book``'s venue profiles and snapshot rule;
    built once per book (kept on it) and only when a sell is replayed."""
    got = book.__dict__.get("_sorlib_mirror")
    if got is not None and got[1].profiles == book.profiles:
        return got
    if book.market is None:
        raise ConfigError("a sell needs a Book built with Book.from_market (the source data): it is replayed "
                          "on the mirrored market")
    center = mirror_center(book.market)
    mbook = Book.from_market(mirror_market(book.market, center), keep="first" if _keeps_first(book) else "last")
    mbook = replace(mbook, profiles=book.profiles)
    got = (center, mbook)
    book.__dict__["_sorlib_mirror"] = got  # a frozen dataclass: cached like its cached_property values
    return got


def _keeps_first(book: Book) -> bool:
    """``book`` was built with the ``"first"`` snapshot rule (its kept rows are the first of each time)."""
    if book.kept_rows is None or book.market is None:
        return False
    from ..data.snapshots import snapshot_index

    return np.array_equal(snapshot_index(book.market.quotes, "first"), book.kept_rows)


def _unmirror(fills: Fills, extra: np.ndarray, sells: list[tuple[int, int]], center: float
              ) -> tuple[Fills, np.ndarray]:
    """The fills of sells (index spans ``sells``) mapped back from the mirror: a price p' that paid the impact
    e' ($/share) becomes C − (p' − e') on the 1e-8 $ grid, minus e' (impact lowers a sell's price), and its
    impact record −e'; ``side`` −1 for them, +1 for the rest."""
    price, extra = fills.price.copy(), extra.copy()
    side = np.ones(len(fills), np.int8)
    for a, b in sells:
        e = extra[a:b]
        price[a:b] = mirror_prices(price[a:b] - e, center) - e
        extra[a:b] = -e
        side[a:b] = -1
    return replace(fills, price=price, side=side), extra


_BLOCK_MIN, _BLOCK_MAX = 8, 256  # snapshots per block of a dense walk: doubling while the walk stays dense
_I64 = np.dtype(np.int64)


def _replay_one(book: Book, strategy: Strategy, order: ParentOrder, lim: float, rec: _Recorder,
                mk: _Market | None, mm: MarketModel, fill_model: QueueFill) -> tuple[int, int]:
    """One parent order (a buy on ``book``; ``lim`` its limit price $, +inf: none); fills go to ``rec``.
    Returns ``(shares the clean-up bought beyond the visible book, shares left unbought)``."""
    K = book.venues.shape[0]
    fee, rebate = book.taker_fee, book.maker_rebate
    overbook = bool(getattr(strategy, "overbooks", False))
    paper = fill_model.model == "paper"
    j_arr = book.index_at(order.arrival_ns)  # -1: the order arrives before any quote
    j_end = int(np.searchsorted(book.times, order.deadline_ns, side="left"))  # exclusive
    taken = _Taken(K)
    first = len(rec)
    rec.rest_shift = 0.0
    if mk is not None:
        mk.start(book, order.order_id, order.arrival_ns)
    strategy.begin(_view(book, j_arr, order.arrival_ns, order, int(order.size), taken, fee, rebate, rec, first,
                         mk, lim))
    remaining = int(order.size)
    resting: list[_Resting] = []
    pending: list[_Resting] = []  # limit orders sent, joining their venue's bid when they arrive
    next_decision = order.arrival_ns
    j = max(j_arr, 0)
    if mk is None and lim == math.inf and book.ask_px.shape[0] and book.ask_px.shape[1] and _takes_touch(strategy):
        remaining = _take_touch(book, order, j, j_end, taken, rec, fee)  # the same fills, compiled
        j = j_end
    times, row_at, arrival = book.times, book.row, order.arrival_ns
    # the common view (every venue quoting, frozen market), built here rather than by _view (same arrays)
    fast = mk is None and book.ask_px.shape[0] > 0 and book.bid_px.shape[0] > 0
    if fast:
        full_from, tape, venues, capped = book.full_from, book.tape, book.venues, lim < math.inf
        ask_px, ask_shown, ask_key = book.ask_px, book.ask_shown, book.ask_key
        b_px, b_sz = book.bid_touch

    def own() -> Fills:
        return rec.own(first)

    # A dense walk (one snapshot after another) reads its snapshots by blocks [b0, b1) of up to `size` (doubling
    # while the walk stays dense): their times (list, ns) and rows (native indices) at once. Once the strategy
    # decides at consecutive snapshots, the views' four arrays are gathered for the block's rest (from position
    # g0) in one go; each decision's arrays are rows of those gathers: the same values as _view's, and distinct
    # memory that no other decision shares (copies, as _view's are).
    size, b0, b1, bt, br, g0, got = _BLOCK_MIN, 0, 0, [], None, -1, ()
    one = book.ask_px.shape[1] == 1  # one ask level: Python scalars rather than one-element lists
    taken.one = one
    jprev, jdec, kshape = j - 1, -2, (K,)
    while j < j_end and remaining > 0:
        if b0 <= j < b1:
            i = j - b0
            t, rows = bt[i], br[i]
        elif j == jprev + 1:
            b0, b1 = j, min(j + size, j_end)
            size = min(2 * size, _BLOCK_MAX)
            bt, br, g0 = times[b0:b1].tolist(), row_at[b0:b1].astype(np.intp), -1
            i = 0
            t, rows = bt[0], br[0]
        else:  # a jump (the strategy asked to be woken later): one snapshot
            size = _BLOCK_MIN
            i = -1
            t, rows = times.item(j), row_at[j]
        jprev = j
        if t < arrival:
            t = arrival
        if taken.by_venue:
            taken.advance(book, j)
        elif j > taken.j:
            taken.j = j
        if pending:
            resting.extend(r for r in pending if r.placed_ns <= t)
            pending = [r for r in pending if r.placed_ns > t]
        # resting orders: prints since the last step, then the quote update
        if resting and not paper:
            remaining = _advance_resting(book, resting, rows, t, order, rec, rebate, remaining, fill_model)
        if t >= next_decision and remaining > 0:
            if paper:
                remaining = _settle(book, resting, t, order, rec, rebate, remaining, fill_model)
            resting.clear()  # cancel what is left before deciding again
            if fast and j >= full_from:  # as _view's common case
                if i >= 0 and jdec == j - 1:  # deciding at consecutive snapshots: the block's ladders, gathered once
                    if g0 < 0:
                        g0, r = i, br[i:]
                        got = (ask_px.take(r, axis=0), ask_shown.take(r, axis=0), b_px.take(r), b_sz.take(r))
                    n = i - g0
                    px, avail, bid_px, bid_sz = got[0][n], got[1][n], got[2][n], got[3][n]
                else:
                    if rows.dtype != np.intp:
                        rows = rows.astype(np.intp)
                    px, avail = ask_px.take(rows, axis=0), ask_shown.take(rows, axis=0)
                    bid_px, bid_sz = b_px.take(rows), b_sz.take(rows)
                for k, d in taken.by_venue.items():
                    if one:  # _take_off on the one level
                        q = d.get(ask_key.item(rows.item(k), 0))
                        if q:
                            q = avail.item(k, 0) - q
                            avail[k, 0] = q if q > 0 else 0
                    else:
                        _take_off(avail[k], ask_key[rows.item(k)].tolist(), d)
                if capped:
                    avail = np.where(px <= lim + EPS, avail, 0)
                view = MarketView(t, order, remaining, order.size - remaining, venues, px, avail, bid_px, bid_sz, fee,
                                  rebate, Past(tape, t), own)
            else:
                view = _view(book, j, t, order, remaining, taken, fee, rebate, rec, first, mk, lim, rows)
            jdec = j
            dec = strategy.decide(view)
            m = dec.market
            if mk is None and dec.limit is None and type(m) is np.ndarray and m.dtype is _I64 and m.shape == kshape \
                    and max(m.tolist(), default=0) <= 0:
                arrived = t  # nothing sent: what _execute returns then
            else:
                remaining, arrived = _execute(book, dec, view, j, t, order, rec, taken, remaining, pending, overbook,
                                              mk, lim)
            iv = strategy.interval_ns
            next_decision = t + iv if iv > 0 else t + 1
            if dec.wake_ns is not None:
                next_decision = max(next_decision, int(dec.wake_ns))
            if arrived > next_decision:  # decide again once every child order has arrived
                next_decision = arrived
        if (paper or not (resting or pending)) and next_decision > t + 1:  # nothing happens before then
            j = max(j + 1, int(times.searchsorted(next_decision, side="left")))
        else:
            j += 1
    resting.extend(pending)
    if resting and paper and remaining > 0:  # cancelled at the deadline: events stamped before it
        remaining = _settle(book, resting, int(order.deadline_ns) - 1, order, rec, rebate, remaining, fill_model)
    if remaining > 0:
        return _cleanup(book, j_end - 1, taken, order, remaining, rec, fee, mk, strategy.cleanup_take, mm.cleanup,
                        lim)
    return 0, 0


def _takes_touch(strategy: Strategy) -> bool:
    """The strategy declares the "take the touch" policy at every snapshot (``takes_touch_only()``, e.g.
    :class:`~sorlib.strategies.BestAsk` without sizing rules): :func:`_take_touch` may replay it. Looked up on
    the class, so a wrapper that delegates attributes (and records decisions) never qualifies."""
    f = getattr(type(strategy), "takes_touch_only", None)
    return f is not None and strategy.interval_ns == 0 and bool(f(strategy))


def _take_touch(book: Book, order: ParentOrder, j0: int, j_end: int, taken: _Taken, rec: _Recorder,
                fee: np.ndarray) -> int:
    """The decision loop of a touch-taking strategy on the frozen market without a limit price, compiled
    (:func:`sorlib.engine.touch.touch_walk`: the generic loop's rules and fills, one policy): snapshots
    ``[j0, j_end)`` from a fresh ``taken``; records the fills and child orders in ``rec`` and leaves ``taken``
    as the generic loop would for the clean-up. Returns the shares left."""
    K, L = book.venues.shape[0], book.ask_px.shape[1]
    tk, tq = np.zeros((K, max(L, 1)), np.int64), np.zeros((K, max(L, 1)), np.int64)
    tn, applied, jv = np.zeros(K, np.int64), np.full(K, -1, np.int64), np.full(K, -1, np.int64)
    left, last_j, (f_ts, f_k, f_q, f_px), (c_ts, c_k, c_q, c_d) = touch_walk(
        book.times, book.row, book.ask_px, book.ask_sz, book.ask_shown, book.ask_key,
        np.asarray(fee, np.float64), int(j0), int(j_end), int(order.arrival_ns), int(order.size), tk, tq, tn,
        applied, jv)
    if f_q.shape[0]:
        oid, venues, fees = int(order.order_id), book.venues.tolist(), np.asarray(fee, np.float64).tolist()
        ks = f_k.tolist()
        c = rec.cols
        c[0].extend([oid] * len(ks))
        c[1].extend(f_ts.tolist())
        c[2].extend([venues[k] for k in ks])
        c[3].extend(f_q.tolist())
        c[4].extend(f_px.tolist())
        c[5].extend([fees[k] for k in ks])
        c[6].extend([KIND_TAKE] * len(ks))
        rec.extra.extend([0.0] * len(ks))
        rec.through.extend([0] * len(ks))
        rec.kids.extend((oid, t, t, venues[k], q, d, KIND_TAKE) for t, k, q, d in
                        zip(c_ts.tolist(), c_k.tolist(), c_q.tolist(), c_d.tolist(), strict=True))
    for k in range(K):
        if tn[k]:
            taken.by_venue[k] = dict(zip(tk[k, : tn[k]].tolist(), tq[k, : tn[k]].tolist(), strict=True))
    taken.row = [int(r) if r >= 0 else -1 for r in applied.tolist()]
    taken.jv = jv.tolist()
    if last_j > taken.j:
        taken.j = int(last_j)
    return int(left)


def _view(book: Book, j: int, t: int, order: ParentOrder, remaining: int, taken: _Taken, fee, rebate,
          rec: _Recorder, first: int, mk: _Market | None = None, lim: float = math.inf,
          rows: np.ndarray | None = None) -> MarketView:
    """The strategy's view at snapshot ``j`` (-1: before any quote) and time ``t`` (with a market model: fades
    in force at ``t`` taken off, prices shifted by the impact ``R(t)``; with a limit price ``lim`` $, the ask
    levels above it show no available shares). ``rows``: ``book.row[j]`` when the caller has it."""
    rows = _rows(book, j) if rows is None else rows
    if rows.dtype != np.intp:  # gathers by native indices are cheaper (one conversion, four gathers)
        rows = rows.astype(np.intp)
    full = j >= book.full_from and j >= 0
    if full and mk is None and book.ask_px.shape[0] and book.bid_px.shape[0]:  # the common case, inline
        px, avail = book.ask_px.take(rows, axis=0), book.ask_shown.take(rows, axis=0)
        for k, d in taken.by_venue.items():  # as _ladders
            _take_off(avail[k], book.ask_key[rows[k]].tolist(), d)
        b_px, b_sz = book.bid_touch
        if lim < math.inf:
            avail = np.where(px <= lim + EPS, avail, 0)
        return MarketView(t, order, remaining, order.size - remaining, book.venues, px, avail, b_px.take(rows),
                          b_sz.take(rows), fee, rebate, Past(book.tape, t), lambda: rec.own(first))
    px, avail = _ladders(book, rows, taken, mk, t, full)
    if book.bid_px.shape[0]:
        b_px, b_sz = book.bid_touch
        if full:
            bid_px, bid_sz = b_px.take(rows), b_sz.take(rows)
        else:
            ok = rows >= 0
            r = np.maximum(rows, 0)
            bid_px, bid_sz = b_px[r], b_sz[r]
            bid_px[~ok] = np.nan
            bid_sz[~ok] = 0
    else:
        bid_px, bid_sz = np.full(rows.shape[0], np.nan), np.zeros(rows.shape[0], np.int64)
    shift = mk.shift(t) if mk is not None else 0.0
    if shift:
        px, bid_px = px + shift, bid_px + shift
    if lim < math.inf:
        avail = np.where(px <= lim + EPS, avail, 0)
    # positional, in MarketView's field order (t_ns, order, remaining, filled, venues, ask_px, ask_avail, bid_px,
    # bid_sz, fee, rebate, past, _own_fills): cheaper than keywords, once per decision
    return MarketView(t, order, remaining, order.size - remaining, book.venues, px, avail, bid_px, bid_sz, fee,
                      rebate, Past(book.tape, t), lambda: rec.own(first))


def _execute(book, dec: Decision, view: MarketView, j, t, order, rec, taken: _Taken, remaining, resting,
             overbook: bool = False, mk: _Market | None = None, lim: float = math.inf) -> tuple[int, int]:
    """Send the decision's child orders; each meets its venue's book when it arrives (``mk``; at once
    without a market model). With a limit price ``lim`` ($) a marketable order takes only what it can at or
    below it (:func:`_within`) and a resting order whose price (+ impact shift) is above it is rejected.
    Returns ``(remaining, time the last child order arrived)``."""
    market = dec.market
    if type(market) is not np.ndarray or market.dtype != np.int64:
        market = np.asarray(market, np.int64)
    if market.shape != (book.venues.shape[0],):
        raise ValueError(f"strategy returned {market.shape} market quantities for {book.venues.shape[0]} venues")
    last = t
    qs = market.tolist()
    send = [k for k, q in enumerate(qs) if q > 0]
    if not send and mk is None and dec.limit is None:  # nothing sent (no impact shift to record)
        return remaining, last
    if mk is not None and mk.lat:
        delay = mk.delay.tolist()
        send.sort(key=lambda k: delay[k])  # stable: ties keep venue order
    for k in send:
        if mk is None:  # the frozen market: each order meets the book in force now
            row = book.row.item(j, k) if j >= 0 else -1
            if row >= 0:
                remaining = _take_now(book, k, row, j, t, qs[k], remaining, order, rec, taken, view, lim)
            continue
        ta, jk = mk.arrival(book, j, t, k)
        row = book.row.item(jk, k) if jk >= 0 else -1
        last = max(last, ta)
        if row < 0:
            continue
        if jk != j:
            taken.advance_venue(book, k, jk)
        px, avail = _venue_ladder(book, k, row, taken, mk, ta)
        want = min(qs[k], remaining)
        if want > 0:
            rec.child(order.order_id, t, ta, int(book.venues[k]), want, int(sum(view.ask_avail[k].tolist())),
                      KIND_TAKE)
        keys = []
        for lv, q in _take_ladder(px, avail, want):
            price, extra = float(px[lv]), 0.0
            if lim < math.inf:
                q = _within(mk.impact if mk is not None else None, ta, price, q, lim)
                if q <= 0:
                    break  # the levels beyond cost more
            if mk is not None and mk.impact is not None:
                extra = mk.impact.take(ta, q)
                price += extra
                rec.impact_cash += extra * q
            rec.add(order.order_id, ta, int(book.venues[k]), q, price, float(view.fee[k]), KIND_TAKE, extra)
            key = book.ask_key.item(row, lv)
            taken.take(k, row, key, q, jk)
            keys.append(key)
            remaining -= q
        if keys and mk is not None and mk.fade is not None:
            jf = book.index_at(ta + mk.fade.reaction_ns)
            mk.fade.register(ta, k, keys, book.row[jf], book.ask_key, book.ask_sz, book.record_ids(book.row[jf]))
    if dec.limit is not None and remaining > 0:
        limit = np.asarray(dec.limit, np.int64)
        pos = int(np.searchsorted(book.trades_ts, t, side="right"))
        budget = remaining
        cap = lim - (mk.shift(last) if mk is not None else 0.0)  # ≥ the shift its fills will pay (R decays)
        for k in np.flatnonzero(limit > 0):
            k = int(k)
            ta, jk = (t, j) if mk is None else mk.arrival(book, j, t, k)
            row = int(book.row[jk, k]) if jk >= 0 else -1
            bpx = float(book.bid_px[row, 0]) if row >= 0 else float("nan")  # the recorded bid (no shift)
            bsz = int(book.bid_sz[row, 0]) if np.isfinite(bpx) else 0
            pk = pos if ta == t else int(np.searchsorted(book.trades_ts, ta, side="right"))
            if not np.isfinite(bpx) or budget <= 0 or bpx > cap + EPS:  # above the limit: rejected
                continue
            q = min(int(limit[k]), budget)
            if not overbook:  # queue-filled orders never rest more than the remainder in total
                budget -= q
            last = max(last, ta)
            resting.append(_Resting(k, q, bpx, bsz, pk, ta))
            rec.child(order.order_id, t, ta, int(book.venues[k]), q, int(view.bid_sz[k]), KIND_REST)
    if mk is not None:
        rec.rest_shift = mk.shift(last)
    return remaining, last


def _take_now(book: Book, k: int, row: int, j: int, t: int, qty: int, remaining: int, order: ParentOrder,
              rec: _Recorder, taken: _Taken, view: MarketView, lim: float) -> int:
    """A marketable child order of ``qty`` shares to venue position ``k`` on the frozen market (no latency,
    impact or fade): :func:`_execute`'s walk of the venue's ladder at its record ``row`` in force at snapshot
    ``j`` (shares available = displayed − taken before the walk, :func:`available`; :func:`_take_ladder`'s
    levels; nothing above the limit ``lim``), on Python lists. Returns the shares left of the parent order."""
    if taken.one:
        px, avail, keys = [book.ask_px.item(row, 0)], [book.ask_shown.item(row, 0)], [book.ask_key.item(row, 0)]
    else:
        px, avail, keys = book.ask_px[row].tolist(), book.ask_shown[row].tolist(), book.ask_key[row].tolist()
    d = taken.by_venue.get(k)
    if d:
        for lv, key in enumerate(keys):
            q = d.get(key)
            if q:
                a = avail[lv] - q
                avail[lv] = a if a > 0 else 0
    want = min(qty, remaining)
    if want <= 0:
        return remaining
    oid, v = order.order_id, int(book.venues[k])
    rec.child(oid, t, t, v, want, int(sum(view.ask_avail[k].tolist())), KIND_TAKE)
    left = want
    for lv, p in enumerate(px):
        if left <= 0:
            break
        a = avail[lv]
        if a <= 0 or not math.isfinite(p):
            continue
        q = a if a < left else left
        left -= q
        if p > lim + EPS:
            break  # the levels beyond cost more
        rec.add(oid, t, v, q, p, float(view.fee[k]), KIND_TAKE)
        taken.take(k, row, keys[lv], q, j)
        remaining -= q
    return remaining


def _within(imp, t_ns: int, price: float, qty: int, lim: float) -> int:
    """Shares (≤ ``qty``) a marketable fill at the displayed ``price`` ($) can take at ``t_ns`` without the price
    it pays passing the limit ``lim`` ($): ``price ≤ lim`` without impact; with the impact state ``imp`` the
    largest n with price + R(t) + path(Q, Q + n) ≤ lim (:meth:`~sorlib.sim.impact.ImpactState.take`'s extra,
    increasing in n: bisection)."""
    if price > lim + EPS:
        return 0
    if imp is None:
        return int(qty)
    r, qa, coef = imp.shift(t_ns), imp.q, imp._coef

    def paid(n: int) -> float:
        qb = qa + float(n)
        return price + r + coef * ((2.0 / 3.0) * (qb ** 1.5 - qa ** 1.5) / (qb - qa) - math.sqrt(qa))

    if paid(qty) <= lim + EPS:
        return int(qty)
    lo, hi = 0, int(qty)  # paid(lo) within (lo = 0: nothing taken), paid(hi) beyond
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if paid(mid) <= lim + EPS:
            lo = mid
        else:
            hi = mid
    return lo


def _venue_ladder(book: Book, k: int, row: int, taken: _Taken, mk: _Market | None, t_ns: int):
    """Venue ``k``'s ask ladder at its record ``row`` ($, NaN = empty) and the shares available to an order
    reaching it at ``t_ns``: displayed − taken (− faded), as :func:`_ladders` computes them."""
    px = book.ask_px[row]
    sz = book.ask_shown[row]  # read only here: the lines below make new arrays
    d = taken.by_venue.get(k)
    if d:
        sz = available(book.ask_key[row], sz, d)
    if mk is not None and mk.fade is not None:
        gone = mk.fade.removed(k, row, int(t_ns), book.ask_key[row])
        if gone is not None:
            sz = np.maximum(sz - gone, 0)
    return px, sz


def _settle(book, resting, t, order, rec, rebate, remaining, cfg: QueueFill) -> int:
    """The ``paper`` queue model: settle resting orders at their cancellation, stamped ``t``, by
    min(L, (ξ − Q)⁺) (:func:`sorlib.sim.queue.paper_fill`; ``cfg.haircut`` credited), ξ = the outflow of the
    bid level at the order's price stamped in (placement, t] (:meth:`Book.level_outflow`; the price and Q
    were read from the venue's quote row in force at placement)."""
    for r in resting:
        if r.qty <= 0 or remaining <= 0:
            continue
        v = int(book.venues[r.k])
        xi = book.level_outflow(v, r.price, r.placed_ns, t)
        filled = min(cfg.credit(paper_fill(r.qty, r.ahead, xi)), remaining)
        if filled > 0:
            rec.add(order.order_id, int(t), v, filled, r.price, -float(rebate[r.k]), KIND_REST)
            remaining -= filled
    resting.clear()
    return remaining


def _advance_resting(book, resting, rows, t, order, rec, rebate, remaining, cfg: QueueFill) -> int:
    """Advance each resting order through the prints on its venue since the last step, then the quote update
    (:mod:`sorlib.sim.queue`): prints at our price go through the model's ``on_print`` (the part beyond the
    shares ahead fills us), a changed size at our price through ``on_level`` (prints since the last change are
    subtracted there, never counted as cancels). With ``cfg.venue_power`` the power n is the venue profile's
    ``queue_cancel_bias`` when set. ``simple``: each step with a print at or through our price fills
    Binomial(left, 0.9·(1 − position)) shares, drawn from a generator seeded by (seed, order, venue, time).
    Book-ineligible prints are skipped; a print below our price counts only when the venue's bid just before
    it was at or above our price (:func:`_through_ok`). ``cfg.haircut``: floor(haircut × fill) shares are
    credited; the whole model fill leaves the resting order.
    Cost per order and step (the what-if panels replay this per snapshot): a time compare when no print of its
    venue arrived (a cursor into :func:`_venue_prints`, cached per book) and a row compare when its venue's
    quote row did not change since a step that left the queue as a repeat would (:func:`_rest_level`)."""
    for r in resting:
        if r.qty <= 0 or remaining <= 0:
            continue
        if r.model is None:
            _rest_start(book, r, cfg)
        printed = r.next_ts <= t  # a print of this venue stamped by t arrived
        if printed:
            idx, ts = r.prints
            hi = r.vpos + int(ts[r.vpos:].searchsorted(t, side="right"))
            remaining = _rest_prints(book, r, idx[r.vpos:hi], t, order, rec, rebate, remaining, cfg)
            r.vpos, r.next_ts = hi, ts.item(hi) if hi < ts.shape[0] else _NEVER
        row = rows.item(r.k)
        if printed or row != r.seen:
            r.seen = _rest_level(book, r, row)
    return remaining


_NEVER = 2**63 - 1  # ns: no print left


def _rest_start(book: Book, r: _Resting, cfg: QueueFill) -> None:
    """Set up resting order ``r`` before its first step: its queue model (``cfg``, the venue's power with
    ``cfg.venue_power``), its queue state (the back of the displayed level) and its cursor into its venue's
    prints (the first print at or after ``r.trade_pos``)."""
    n = getattr(book.profiles[r.k], "queue_cancel_bias", None) if cfg.venue_power else None
    r.model, r.queue = make_queue_model(cfg, n), QueueState.join(r.ahead)
    r.prints = idx, ts = _venue_prints(book, r.k)
    r.vpos = int(idx.searchsorted(r.trade_pos, side="left"))
    r.next_ts = ts.item(r.vpos) if r.vpos < ts.shape[0] else _NEVER


def _venue_prints(book: Book, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(ascending indices into book.trades_*, their times ns)`` of the prints a resting buy on venue ``k``
    can meet (seller-initiated, book-eligible); computed once per book and venue, kept on the book like
    :func:`mirror_book`."""
    got = book.__dict__.setdefault("_sorlib_venue_prints", {})
    out = got.get(k)
    if out is None:
        sel = (book.trades_venue == book.venues[k]) & (book.trades_side < 0)
        if book.trades_eligible is not None:
            sel &= book.trades_eligible
        idx = np.flatnonzero(sel)
        out = got[k] = (idx, book.trades_ts[idx])
    return out


def _rest_prints(book, r: _Resting, idx: np.ndarray, t, order, rec, rebate, remaining, cfg: QueueFill) -> int:
    """The prints ``idx`` (indices into ``book.trades_*``, :func:`_venue_prints`) against resting order ``r``
    (:func:`_advance_resting`); fills go to ``rec``. Returns the shares left of the parent order."""
    st, model, v = r.queue, r.model, book.venues[r.k]
    px, sz = book.trades_px[idx], book.trades_sz[idx]
    ok = _through_ok(book, r.k, book.trades_ts[idx], px, r.price)
    left = min(r.qty, remaining)
    if cfg.model == "simple":
        pos = st.position
        fill_parts(model, st, left, r.price, px, sz, through_ok=ok)  # advances the queue only
        below = (px < r.price - 1e-9) & ok
        hit = bool(((np.abs(px - r.price) <= 1e-9) | below).any())
        filled = SimpleQueue(rng_for(cfg.seed, order.order_id, int(v), t)).fill(left, pos) if hit else 0
        at, thr = (0, filled) if below.any() else (filled, 0)
    else:
        at, thr = fill_parts(model, st, left, r.price, px, sz, through_ok=ok)
    for q, through in ((at, False), (thr, True)):
        got = min(cfg.credit(q), remaining)
        rec.add(order.order_id, int(t), int(v), got, r.price, -float(rebate[r.k]), KIND_REST, through=through)
        r.qty -= q
        remaining -= got
    return remaining


def _rest_level(book, r: _Resting, row: int) -> int:
    """The quote update of resting order ``r``'s venue (its quote row ``row``, -1: none) applied to its queue
    (:func:`_advance_resting`). Returns ``row`` when applying it again would change nothing (the caller skips
    it while the row and the queue stay the same), else -2."""
    st = r.queue
    again = row
    if row >= 0:
        bpx, bsz = book.bid_px.item(row, 0), float(book.bid_sz.item(row, 0))
        if not math.isfinite(bpx) or bpx < r.price - 1e-9:
            st.front, st.level, st.printed = 0.0, 0.0, 0.0  # our level emptied: we would be at its front
        elif abs(bpx - r.price) <= 1e-9 and bsz != st.level:
            r.model.on_level(st, bsz)
            again = row if bsz == st.level else -2
    r.ahead, r.level_sz = st.front, st.level
    return again


def _through_ok(book: Book, k: int, ts: np.ndarray, px: np.ndarray, price: float) -> np.ndarray:
    """Per print of venue ``k`` (times ``ts`` ns, prices ``px`` $): True unless it is below ``price`` while
    the venue's displayed bid just before it (its quote row in force at ``ts − 1``) was unknown (no row, or
    an empty level) or below ``price`` — then the print cannot be placed against our level and the
    trade-through rule does not apply to it."""
    ok = np.ones(px.shape[0], bool)
    below = np.flatnonzero(px < price - 1e-9)
    for i in below:
        j = book.index_at(int(ts[i]) - 1)
        row = int(book.row[j, k]) if j >= 0 else -1
        bid = float(book.bid_px[row, 0]) if row >= 0 else float("nan")
        ok[i] = bool(np.isfinite(bid) and bid >= price - 1e-9)
    return ok


def _cleanup(book: Book, jc: int, taken: _Taken, order: ParentOrder, remaining: int, rec: _Recorder,
             fee: np.ndarray, mk: _Market | None = None, split=None, cm: CleanupModel | None = None,
             lim: float = math.inf) -> tuple[int, int]:
    """Clean-up market order at the deadline on the books of snapshot ``jc`` (the last before it; -1: none);
    module docstring, rule 4, and :mod:`sorlib.sim.cleanup` (``cm``; None: the default ``depth`` rule) for what
    is visible and the price of the shares beyond it. ``split(venues, ask_px, ask_avail, fee, qty)`` gives the
    shares per venue (the strategy's :meth:`~sorlib.strategies.Strategy.cleanup_take`: cheapest first, whole
    lots under its sizing rules; None: :func:`~sorlib.strategies.base.sweep_cheapest`). With latency, venue k's
    share meets its book in force just before ``deadline + latency_k`` and is stamped then; with impact every
    share pays it. With a limit price ``lim`` ($) no share is bought above it (levels above it are not swept,
    each fill is cut by :func:`_within`); the rest is left unbought. Returns ``(shares beyond the visible book,
    shares left unbought)``."""
    cm = cm if cm is not None else CleanupModel()
    t = int(order.deadline_ns)
    if jc >= 0:
        taken.advance(book, jc)
    K = book.venues.shape[0]
    if mk is not None and mk.lat:
        ta = t + mk.delay
        jk = np.searchsorted(book.times, ta, side="left") - 1
        for k in np.flatnonzero(jk > jc):
            taken.advance_venue(book, int(k), int(jk[k]))
        rows = np.where(jk >= 0, book.row[np.maximum(jk, 0), np.arange(K)], -1)
    else:
        ta = np.full(K, t, np.int64)
        rows = _rows(book, jc)
    px, avail = _ladders(book, rows, taken, mk, ta)
    vis = _visible(book, rows, px, ta, cm.stale_after)
    if not vis.all():  # a stale quote is not swept
        px, avail = np.where(vis[:, None], px, np.nan), np.where(vis[:, None], avail, 0)
    imp = mk.impact if mk is not None else None
    capped = lim < math.inf
    if capped:  # levels above the limit are not swept (nor offered to the split)
        avail = np.where(px <= lim + EPS, avail, 0)

    def fill(k: int, q: int, price: float) -> int:
        if capped:
            q = _within(imp, int(ta[k]), price, q, lim)
            if q <= 0:
                return 0
        extra = 0.0
        if imp is not None:
            extra = imp.take(int(ta[k]), q)
            price += extra
            rec.impact_cash += extra * q
        rec.add(order.order_id, int(ta[k]), int(book.venues[k]), q, price, float(fee[k]), KIND_CLEANUP, extra)
        return q

    if np.isfinite(px).any():
        take = sweep_cheapest(px, avail, fee, remaining) if split is None else \
            split(book.venues, px, avail, fee, remaining)
        send = np.flatnonzero(take > 0)
        if mk is not None and mk.lat:
            send = send[np.argsort(ta[send], kind="stable")]
        for k in send:
            for lv, q in _take_ladder(px[k], avail[k], int(take[k])):
                remaining -= fill(int(k), q, float(px[k, lv]))
    if remaining <= 0:
        return 0, 0
    left = remaining
    if cm.rule == "depth":
        left = _beyond_depth(book, rows, px, vis, fee, t, remaining, cm, fill)
        if left < remaining:
            return remaining - left, left
    anchor = _anchor(book, jc, rows, px, vis, ta, cm.stale_after, latency=mk is not None and mk.lat)
    if anchor is None:
        return 0, remaining
    k, top = anchor
    for q, price in (flat_fills(top, remaining, cm.tick) if cm.rule != "ladder" else
                     ladder_fills(top, remaining, cm.ladder_shares, cm.tick)):
        left -= fill(k, q, price)
    return remaining - left, left


def _quote_age(book: Book, rows: np.ndarray, t_ns) -> np.ndarray:
    """``(K,)`` s: how old each venue's quote ``rows[k]`` is at ``t_ns`` (scalar or per venue): ``t`` minus the
    first snapshot time showing that record (a venue's record index only grows with time); NaN: no quote."""
    out = np.full(rows.shape[0], np.nan)
    t = np.broadcast_to(np.asarray(t_ns, np.int64), rows.shape)
    for k in np.flatnonzero(rows >= 0):
        j = int(np.searchsorted(book.row[:, k], rows[k], side="left"))
        out[k] = (int(t[k]) - int(book.times[j])) / 1e9
    return out


def _visible(book: Book, rows: np.ndarray, px: np.ndarray, t_ns, stale_after: float | None) -> np.ndarray:
    """``(K,)`` bool: the venues whose quote at ``rows`` counts as visible at ``t_ns`` (:func:`sorlib.sim.cleanup.
    visible` on the recorded touch asks; ``px`` the ladders met)."""
    ok = rows >= 0
    touch = np.where(ok, book.ask_px[np.maximum(rows, 0), 0], np.nan) if book.ask_px.shape[0] else \
        np.full(rows.shape[0], np.nan)
    touch = np.where(np.isfinite(px).any(axis=1), touch, np.nan)
    if stale_after is None:
        return np.isfinite(touch) | np.isfinite(px).any(axis=1)
    return visible(touch, _quote_age(book, rows, t_ns), stale_after)


def _anchor(book: Book, jc: int, rows, px, vis, ta, stale_after, latency: bool) -> tuple[int, float] | None:
    """``(venue position, price $)`` the flat and ladder rules price from: the worst visible ask at the deadline.
    Staleness off (flat's default): the old rule — the worst ask of the last snapshot at or before ``jc`` showing
    one. On: the deepest level over the visible venues, else the freshest quote showing an ask (anchor only);
    None when no ask was ever shown."""
    if stale_after is not None:
        top = np.nanmax(np.where(np.isfinite(px), px, -np.inf), axis=1) if px.size else np.full(vis.shape, -np.inf)
        if np.isfinite(top).any():
            k = int(np.argmax(top))
            return k, float(top[k])
        ok = rows >= 0
        full = np.where(ok[:, None], book.ask_px[np.maximum(rows, 0)], np.nan)
        shows = np.isfinite(full).any(axis=1)
        if shows.any():
            age = np.where(shows, _quote_age(book, rows, ta), np.inf)
            k = int(np.argmin(age))
            return k, float(np.nanmax(full[k]))
    jv = int(book.last_ask_index[jc]) if jc >= 0 else -1  # the last snapshot at or before jc showing an ask
    if jv < 0:
        return None
    if jv != jc or latency or stale_after is not None:
        px = np.where((book.row[jv] >= 0)[:, None], book.ask_px[np.maximum(book.row[jv], 0)], np.nan)
    top = np.nanmax(np.where(np.isfinite(px), px, -np.inf), axis=1)
    k = int(np.argmax(top))  # the venue showing the worst visible ask (first on ties)
    return k, float(top[k])


def _beyond_depth(book: Book, rows, px, vis, fee, t: int, qty: int, cm: CleanupModel, fill) -> int:
    """The ``depth`` rule: ``qty`` shares over the visible venues' hidden levels (:func:`sorlib.sim.cleanup.
    depth_fills`, profiles from each venue's records in the ``lookback_seconds`` before ``t``); ``fill(k, q,
    price)`` records each (returning the shares it bought: fewer under a limit price). Returns the shares left (all of them when no visible venue has a profile)."""
    K = rows.shape[0]
    touch = np.full(K, np.nan)
    extent = np.zeros(K, np.int64)
    profiles: list = [None] * K
    lo = t - int(round(cm.lookback_seconds * 1e9))
    for k in np.flatnonzero(vis & (rows >= 0)):
        k = int(k)
        full = book.ask_px[rows[k]]
        ok = np.isfinite(full) & (book.ask_sz[rows[k]] > 0)
        if not ok.any():
            continue
        touch[k] = float(full[ok].min())
        extent[k] = 1 + int(round((float(full[ok].max()) - touch[k]) / cm.tick))
        recs = _venue_records(book, k, lo, t)
        if recs.size == 0:  # none in the window: the record in force just before the deadline
            j = book.index_at(t - 1)
            recs = book.row[j, k: k + 1] if j >= 0 else np.empty(0, np.int64)
            recs = recs[recs >= 0]
        if recs.size == 0:
            continue
        pr = venue_profile(book.ask_px[recs], book.ask_sz[recs], cm.tick)
        profiles[k] = None if pr is None else pr[:2]
    left = int(qty)
    for k, q, price in depth_fills(touch, extent, profiles, fee, left, cm.tick):
        left -= fill(k, q, price)
    return left


def _venue_records(book: Book, k: int, lo: int, hi: int) -> np.ndarray:
    """Venue ``k``'s quote records (rows) first shown by a snapshot in ``[lo, hi)`` ns."""
    j0 = int(np.searchsorted(book.times, lo, side="left"))
    j1 = int(np.searchsorted(book.times, hi, side="left"))
    if j1 <= j0:
        return np.empty(0, np.int64)
    seq = book.row[max(j0 - 1, 0): j1, k]
    new = seq[1:][seq[1:] != seq[:-1]] if j0 > 0 else seq[np.r_[True, seq[1:] != seq[:-1]]]
    return new[new >= 0]
