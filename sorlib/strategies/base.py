"""The interface every strategy implements.

A strategy works one parent order at a time: ``begin`` is called at the order's arrival, then
``decide`` at each decision time (every snapshot when ``interval_ns`` is 0) until the order is filled or
its deadline passes. Both receive a time-bounded :class:`~sorlib.strategies.view.MarketView` (the market
stamped at or before that time, never the whole day), so no strategy can look ahead. It answers with child
orders: marketable quantities per venue (filled at once against the venue's ask ladder, at most what is
available after this order's earlier takes) and resting limit quantities per venue (joining the venue's
best bid; filled by the engine's fill model until the next decision, when whatever is unfilled is
cancelled).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..allocation.sizing import NO_MAX, ChildLimits, SizingRules, participation_budget
from ..errors import ConfigError
from .view import MarketView, ParentOrder

__all__ = ["Decision", "MarketView", "ParentOrder", "Strategy", "check_choice", "sizing_params", "sweep_cheapest"]


@dataclass
class Decision:
    """Child orders in shares per venue: ``market`` takes displayed asks now, ``limit`` rests at the bid."""

    market: np.ndarray
    limit: np.ndarray | None = None
    wake_ns: int | None = None  # do not call the strategy again before this time (None: next snapshot)

    @staticmethod
    def nothing(k: int, wake_ns: int | None = None) -> Decision:
        return Decision(np.zeros(k, np.int64), wake_ns=wake_ns)


class Strategy:
    """Base class: subclasses set ``name`` and implement :meth:`decide`."""

    name: str = "strategy"
    interval_ns: int = 0  # 0: decide at every snapshot
    #: True: the strategy may rest more than its remainder in total (Cont–Kukanov's over-booking); fills
    #: beyond the remainder are not taken. Resting orders always fill by the engine's queue model.
    overbooks: bool = False

    #: child-order sizing rules (:mod:`sorlib.allocation.sizing`); None = none (the behaviour without rules)
    sizing: SizingRules | None = None

    def set_sizing(self, rules: SizingRules | None) -> Strategy:
        """Apply child-order sizing ``rules`` (None or trivial rules: none); returns ``self``."""
        if rules is not None and not isinstance(rules, SizingRules):
            raise ConfigError(f"sizing must be a SizingRules, got {type(rules).__name__}")
        self.sizing = None if rules is None or rules.is_trivial else rules
        self._limits_cache = None
        return self

    def child_limits(self, view: MarketView) -> ChildLimits | None:
        """The resolved per-venue :class:`ChildLimits` of ``view.venues`` (None without rules)."""
        if self.sizing is None:
            return None
        cache = getattr(self, "_limits_cache", None)
        if cache is None or cache[0] is not view.venues:
            cache = (view.venues, self.sizing.limits(view.venues))
            self._limits_cache = cache
        return cache[1]

    def child_budget(self, view: MarketView) -> int:
        """Shares this decision may send in total under the participation cap (``NO_MAX`` without one):
        ``floor(pct/100 · V) − own``, V the market's prints and ``own`` this order's fills, both stamped in
        ``[t − W, t]`` (:func:`~sorlib.allocation.sizing.participation_budget`)."""
        r = self.sizing
        if r is None or r.participation_pct is None:
            return NO_MAX
        t, w = view.t_ns, r.window_ns
        market = float(view.past.trade_volume(t - w, t + 1))
        f = view.own_fills()
        own = float(f.qty[(f.ts >= t - w) & (f.ts <= t)].sum()) if len(f) else 0.0
        return participation_budget(r.participation_pct, market, own)

    def sweep(self, view: MarketView, qty: int, ask_avail: np.ndarray | None = None,
              allowed: np.ndarray | None = None) -> np.ndarray:
        """:func:`sweep_cheapest` of ``qty`` shares on the view's ladders under this strategy's sizing rules
        (capped by the participation budget)."""
        avail = view.ask_avail if ask_avail is None else ask_avail
        lim = self.child_limits(view)
        if lim is None:
            return sweep_cheapest(view.ask_px, avail, view.fee, qty)
        return sweep_cheapest(view.ask_px, avail, view.fee, min(int(qty), self.child_budget(view)), limits=lim,
                              remaining=view.remaining, allowed=allowed)

    def cleanup_take(self, venues: np.ndarray, ask_px: np.ndarray, ask_avail: np.ndarray, fee: np.ndarray,
                     remaining: int) -> np.ndarray:
        """The deadline clean-up's shares per venue under the sizing rules: exempt from the maximum child size
        and the participation cap; every venue's quantity a lot multiple except that, when lots cannot
        complete the order, the rest is one final odd lot on the cheapest venue that still shows it.
        (Used by an engine that asks the strategy for its clean-up; without rules :func:`sweep_cheapest`.)"""
        if self.sizing is None:
            return sweep_cheapest(ask_px, ask_avail, fee, remaining)
        lim = self.sizing.limits(venues)
        lots = ChildLimits(lim.lot, lim.lot, np.full_like(lim.max, NO_MAX))
        take = sweep_cheapest(ask_px, ask_avail, fee, remaining, limits=lots, remaining=0)  # whole lots only
        left = remaining - int(take.sum())
        if left > 0:
            rest = ask_avail.copy()
            for i in range(rest.shape[0]):
                q = int(take[i])
                for lv in range(rest.shape[1]):
                    d = min(q, int(rest[i, lv]))
                    rest[i, lv] -= d
                    q -= d
            allin = np.where(rest.sum(axis=1) >= left, ask_px[:, 0] + fee, np.inf)
            if np.isfinite(allin).any():
                take[int(np.argmin(allin))] += left
        return take

    def begin(self, view: MarketView) -> None:  # noqa: B027 - optional hook
        """Called once at the order's arrival ``view.t_ns`` with the view then (reset per-order state here)."""

    def decide(self, view: MarketView) -> Decision:
        raise NotImplementedError

    def params(self) -> dict:
        """The parameters that identify this strategy in results tables."""
        return {}


def check_choice(what: str, value, allowed: Iterable[str]) -> str:
    """``value`` as a plain string when it is one of ``allowed``; otherwise a :class:`ConfigError` naming
    the setting and listing the allowed values."""
    allowed = tuple(str(a) for a in allowed)
    if not isinstance(value, str) or str(value) not in allowed:
        raise ConfigError(f"{what} must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}")
    return str(value)


def sweep_cheapest(ask_px: np.ndarray, ask_avail: np.ndarray, fee: np.ndarray, qty: int, *,
                   limits: ChildLimits | None = None, remaining: int | None = None,
                   allowed: np.ndarray | None = None) -> np.ndarray:
    """Shares to take per venue to buy ``qty`` at the lowest all-in prices (ask + fee) across ladders.

    Walks every venue's levels together, cheapest first (ties: lower venue index). Returns ``(K,)``
    int64, summing to ``min(qty, total available)``.

    With ``limits`` (:class:`~sorlib.allocation.sizing.ChildLimits`) every venue's quantity is a feasible
    child — a lot multiple in [min, max], or the parent's whole ``remaining`` (odd-lot rule; default ``qty``):
    the largest feasible total ≤ ``qty`` at the least cost (:func:`~sorlib.allocation.limited.sweep_limited`,
    exact). ``allowed`` masks the venues that may trade.
    """
    if limits is not None:
        from ..allocation.limited import sweep_limited

        return sweep_limited(ask_px, ask_avail, fee, qty, limits.lot, limits.min, limits.max,
                             int(qty if remaining is None else remaining), allowed)
    k, lv = ask_px.shape
    if k * lv <= 64:  # a few levels: the same walk in plain Python (no sort of the empty ones)
        return _sweep_small(ask_px, ask_avail, fee, qty, lv)
    allin = ask_px + fee[:, None]
    flat = np.where(ask_avail > 0, allin, np.inf).ravel()
    order = np.argsort(flat, kind="stable")
    take = np.zeros(k, np.int64)
    left = int(qty)
    avail = ask_avail.ravel()
    for idx in order:
        if left <= 0 or not np.isfinite(flat[idx]):
            break
        q = min(left, int(avail[idx]))
        take[idx // lv] += q
        left -= q
    return take


def _sweep_small(ask_px: np.ndarray, ask_avail: np.ndarray, fee: np.ndarray, qty: int, lv: int) -> np.ndarray:
    """:func:`sweep_cheapest` without limits for a small ``(K, L)`` book: the levels with shares and a finite
    all-in price, cheapest first, ties by flat index (as the stable argsort there)."""
    fees = fee.tolist()
    avail = ask_avail.ravel().tolist()
    levels = []
    for idx, p in enumerate(ask_px.ravel().tolist()):
        a = p + fees[idx // lv]
        if avail[idx] > 0 and math.isfinite(a):
            levels.append((a, idx))
    levels.sort(key=lambda x: x[0])  # stable
    take = np.zeros(ask_px.shape[0], np.int64)
    left = int(qty)
    for _, idx in levels:
        if left <= 0:
            break
        q = min(left, int(avail[idx]))
        take[idx // lv] += q
        left -= q
    return take


def sizing_params(s: Strategy) -> dict:
    """The sizing rules as results-table parameters (empty without rules: results stay as before)."""
    r = s.sizing
    if r is None:
        return {}
    return {"max_child": r.max_child, "participation_pct": r.participation_pct,
            "participation_window_seconds": r.participation_window_seconds, "min_trade": r.min_trade,
            "lots": r.lots, "lot_size": r.lot_size}
