"""Per-parent-order replays of the router, reused across slider moves when the move changes no decision.

A slider move gives the router new parameters. Each parent order is replayed on its own
(:func:`~sorlib.engine.replay.replay` treats orders independently: own taken-liquidity state, fills seeded
by (seed, order, venue, time), nothing carried from one order to the next), and the replay is a
deterministic function of the strategy's decisions. So when the router at the new parameters takes the
*same decision at every view the cached replay showed it*, the new replay is the cached one, fill for fill
(induction over the decisions: equal decisions → equal state → equal next view). :class:`OrderReplays`
records each order's views and decisions while replaying, and on a later point first re-asks the new
router those recorded decisions (a few ms: no market stepping, the views' history lookups memoised); only
an order whose decisions differ is replayed (a full replay from its arrival). Every replay and check of one
:class:`OrderReplays` shares the history lookups (:class:`PastMemo`: the Cont–Kukanov router's outflow samples
at a decision time are the same at every point) and an exact-input memo of the Cont–Kukanov solves
(:func:`sorlib.ck.solve.placement_memo`: a failed check and the replay after it solve the same decisions).

Sound only for a strategy whose decisions depend on (parameters, view) alone: every router of the panel
(:class:`~sorlib.strategies.ContKukanov`, :class:`~sorlib.strategies.router.Router`) keeps no state
from one decision to the next (``begin`` is replayed too). A strategy that reads its own fills
(``view.own_fills()``) during a check makes that check fail, and the order is replayed.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from ..ck.solve import PlacementMemo, placement_memo
from ..engine.book import Book
from ..engine.replay import Execution, replay
from ..strategies import ParentOrder
from ..strategies.base import Decision, Strategy
from ..strategies.view import MarketView

#: Checks stop (the order is replayed) past this many recorded decisions: re-deciding would cost about as
#: much as the replay (e.g. the spec router, which decides at every snapshot).
MAX_CHECKED_DECISIONS = 60


class _OwnFillsRead(Exception):
    """A strategy read its own fills while its recorded decisions were checked (they are not recorded)."""


class _Stopped(Exception):
    """A background replay was asked to stop (raised at its next decision; nothing of that order is kept)."""


def _no_own_fills():
    raise _OwnFillsRead


def _arg_key(a) -> object:
    if isinstance(a, np.ndarray):
        return (a.dtype.str, a.shape, a.tobytes())
    if isinstance(a, list | tuple):
        return tuple(_arg_key(x) for x in a)
    return a


class PastMemo:
    """History lookups shared by every replay and check of one :class:`OrderReplays`: a
    :class:`~sorlib.strategies.view.Past` is a pure function of its tape and its clock ``t``, so one call
    ``(tape, t, method, arguments)`` has one answer whatever the parameter point (e.g. the Cont–Kukanov router's
    outflow samples at a decision time, the same at every point whose replay reaches that time). Holds its
    tapes (their ids key it) and is emptied past ``limit`` entries (a memory bound)."""

    def __init__(self, limit: int = 20_000) -> None:
        self.limit = limit
        self._memo: dict = {}
        self._tapes: dict[int, object] = {}

    def key(self, past) -> tuple | None:
        """The key prefix of ``past`` (None when it is not a tape-and-clock Past: it is then memoised alone)."""
        tape, t = getattr(past, "_tape", None), getattr(past, "t_ns", None)
        if tape is None or t is None:
            return None
        if len(self._memo) > self.limit:
            self._memo.clear()
            self._tapes.clear()
        self._tapes.setdefault(id(tape), tape)
        return id(tape), int(t)

    def __len__(self) -> int:
        return len(self._memo)


class _MemoPast:
    """A :class:`~sorlib.strategies.view.Past` whose method results are memoised by argument (it is a pure
    function of the tape and its clock ``t``), in ``shared`` (a :class:`PastMemo`) when given; arrays are handed
    out as copies, like the Past's."""

    def __init__(self, past, shared: PastMemo | None = None) -> None:
        prefix = shared.key(past) if shared is not None else None
        self._past = past
        self._memo, self._prefix = (shared._memo, prefix) if prefix is not None else ({}, ())

    def __getattr__(self, name: str):
        attr = getattr(self._past, name)
        if not callable(attr):
            return attr

        def call(*args, **kw):
            key = (*self._prefix, name, _arg_key(args), _arg_key(tuple(sorted(kw.items()))))
            got = self._memo.get(key)
            if got is None:
                got = self._memo[key] = attr(*args, **kw)
            return got.copy() if isinstance(got, np.ndarray) else got

        return call


def _frozen(view: MarketView, shared: PastMemo | None = None) -> MarketView:
    """A copy of ``view`` for later checks: its arrays copied (the replay may change its own afterwards),
    history lookups memoised (in ``shared`` when given), own fills unreadable."""
    copy = {f.name: getattr(view, f.name) for f in dataclasses.fields(view)}
    for k, v in copy.items():
        if isinstance(v, np.ndarray):
            copy[k] = v.copy()
    copy["past"] = _MemoPast(view.past, shared)
    copy["_own_fills"] = _no_own_fills
    return MarketView(**copy)


def _norm(name: str, v):
    """A decision field as the replay reads it: ``market``/``limit`` as non-negative shares (None = none)."""
    if name in ("market", "limit"):
        return None if v is None else np.maximum(np.asarray(v, np.int64), 0)
    return v


def _equal(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if a is None or b is None:
            a = a if a is not None else np.zeros_like(b)
            b = b if b is not None else np.zeros_like(a)
        return bool(np.array_equal(a, b))
    return a == b


def same_decision(a: Decision, b: Decision) -> bool:
    """Whether two decisions send the same child orders: every field equal, ``market`` and ``limit`` as the
    replay reads them (negative shares as none, a missing ``limit`` as zeros)."""
    return all(_equal(_norm(f.name, getattr(a, f.name)), _norm(f.name, getattr(b, f.name)))
               for f in dataclasses.fields(a))


def _copy_decision(dec: Decision) -> Decision:
    return dataclasses.replace(dec, **{f.name: getattr(dec, f.name).copy() for f in dataclasses.fields(dec)
                                       if isinstance(getattr(dec, f.name), np.ndarray)})


class _Recording:
    """Wraps a strategy for one order's replay: delegates everything (name, interval, parameters, clean-up
    split …), records ``begin``'s view and every ``(view, decision)``."""

    def __init__(self, inner: Strategy, stop: Callable[[], bool] | None = None, shared: PastMemo | None = None) -> None:
        self._inner, self._stop, self._shared = inner, stop, shared
        self.begun: MarketView | None = None
        self.trace: list[tuple[MarketView, Decision]] = []

    def __getattr__(self, name: str):
        return getattr(self.__dict__["_inner"], name)

    def begin(self, view: MarketView) -> None:
        self.begun = _frozen(view, self._shared)
        self._inner.begin(view)

    def decide(self, view: MarketView) -> Decision:
        if self._stop is not None and self._stop():
            raise _Stopped
        frozen = _frozen(view, self._shared)
        if self._shared is not None:  # the live view with the shared history lookups (same answers)
            view = dataclasses.replace(view, past=frozen.past)
        dec = self._inner.decide(view)
        self.trace.append((frozen, _copy_decision(dec)))
        return dec


@dataclasses.dataclass
class _Entry:
    execution: Execution
    begun: MarketView | None
    trace: list[tuple[MarketView, Decision]]


def decides_alike(strategy: Strategy, entry: _Entry, stop: Callable[[], bool] | None = None) -> bool:
    """Whether ``strategy`` takes every decision of ``entry``'s recorded replay at its recorded views
    (``stop()`` is asked before each decision: a background check stops there, raising ``_Stopped``)."""
    if len(entry.trace) > MAX_CHECKED_DECISIONS:
        return False
    try:
        if entry.begun is not None:
            strategy.begin(entry.begun)
        for view, dec in entry.trace:
            if stop is not None and stop():
                raise _Stopped
            if not same_decision(strategy.decide(view), dec):
                return False
        return True
    except _OwnFillsRead:
        return False


class OrderReplays:
    """Replays of one router, per parent order, reused when a new parameter point decides alike.

    ``get(key, make, orders)``: the execution over ``orders`` of the strategy ``make()`` at the point ``key``
    (a hashable parameter key; the caller puts the mode and order size in ``group``). Per order: an exact
    hit; else the ``checks`` most recently used replays of that order (same group) are re-decided by the new
    strategy and the first that decides alike is reused; else the order is replayed and recorded.
    ``stats`` counts ``hit``, ``reused`` and ``replayed`` orders. Keeps the ``size`` most recently used points
    per order and group (each with its recorded views: a few kB per decision); whole executions of earlier
    points stay in the panel's own memo.
    """

    def __init__(self, book: Book, size: int = 8, checks: int = 2) -> None:
        self.book, self.size, self.checks = book, size, checks
        self.past = PastMemo()  # history lookups shared by all the replays and checks
        self.placements = PlacementMemo()  # Cont–Kukanov solves by their exact inputs (sorlib.ck.solve)
        self._by_order: dict[tuple, OrderedDict] = {}
        self.stats = {"hit": 0, "reused": 0, "replayed": 0}

    def get(self, group: tuple, key: tuple, make: Callable[[], Strategy], orders: list[ParentOrder],
            stop: Callable[[], bool] | None = None) -> Execution | None:
        """The execution over ``orders``; None when ``stop()`` turned true (checked before each order and at
        each decision of a replay: a stopped order's replay is dropped, the orders done before stay cached)."""
        parts = []
        for order in orders:
            if stop is not None and stop():
                return None
            try:
                parts.append(self.order(group, key, make, order, stop))
            except _Stopped:
                return None
        return concat_executions(parts)

    def cached(self, group: tuple, key: tuple, orders: list[ParentOrder]) -> int:
        """How many of ``orders`` have a replay at exactly ``key``."""
        return sum(key in self._by_order.get((group, o.order_id), ()) for o in orders)

    def order(self, group: tuple, key: tuple, make: Callable[[], Strategy], order: ParentOrder,
              stop: Callable[[], bool] | None = None) -> Execution:
        """One order's execution at ``key`` (hit, reused after a check, or replayed)."""
        memo = self._by_order.setdefault((group, order.order_id), OrderedDict())
        if key in memo:
            memo.move_to_end(key)
            self.stats["hit"] += 1
            return memo[key].execution
        with placement_memo(self.placements):  # a check and the replay after it re-solve the same decisions
            return self._order(memo, key, make, order, stop)

    def _order(self, memo: OrderedDict, key: tuple, make: Callable[[], Strategy], order: ParentOrder,
               stop: Callable[[], bool] | None) -> Execution:
        strategy = make()
        for old in list(reversed(memo))[: self.checks]:
            entry = memo[old]
            if decides_alike(strategy, entry, stop):
                self.stats["reused"] += 1
                return self._keep(memo, key, entry).execution
        rec = _Recording(make(), stop, self.past)
        ex = replay(self.book, rec, [order])
        self.stats["replayed"] += 1
        return self._keep(memo, key, _Entry(ex, rec.begun, rec.trace)).execution

    def _keep(self, memo: OrderedDict, key: tuple, entry: _Entry) -> _Entry:
        memo[key] = entry
        while len(memo) > self.size:
            memo.popitem(last=False)
        return entry


def concat_executions(parts: list[Execution]) -> Execution:
    """One :class:`Execution` of several executions of the same strategy over disjoint orders, in order:
    every per-order and per-fill array concatenated (what one replay over all the orders returns)."""
    if not parts:
        raise ValueError("no executions to concatenate")
    first = parts[0]
    if len(parts) == 1:
        return first
    out = {}
    for f in dataclasses.fields(first):
        vals = [getattr(p, f.name) for p in parts]
        out[f.name] = _concat(f.name, vals)
    return dataclasses.replace(first, **out)


def _concat(name: str, vals: list):
    v0 = vals[0]
    if name in ("strategy", "params"):
        return v0
    if all(v is None for v in vals):
        return None
    if isinstance(v0, tuple):
        return tuple(x for v in vals for x in v)
    if isinstance(v0, np.ndarray):
        return np.concatenate(vals)
    if dataclasses.is_dataclass(v0):
        return type(v0)(**{f.name: _concat(f.name, [getattr(v, f.name) for v in vals])
                           for f in dataclasses.fields(v0)})
    raise TypeError(f"cannot concatenate Execution field {name!r} of type {type(v0).__name__}")


__all__ = ["MAX_CHECKED_DECISIONS", "OrderReplays", "PastMemo", "concat_executions", "decides_alike", "same_decision"]
