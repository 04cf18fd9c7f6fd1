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

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .view import MarketView, ParentOrder

__all__ = ["Decision", "MarketView", "ParentOrder", "Strategy", "check_choice", "sweep_cheapest"]


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
    #: False: resting orders fill by the engine's queue model from prints; True: the strategy's own
    #: :meth:`resting_fill` settles them when they are cancelled (at the next decision or the deadline).
    settles_resting: bool = False

    def begin(self, view: MarketView) -> None:  # noqa: B027 - optional hook
        """Called once at the order's arrival ``view.t_ns`` with the view then (reset per-order state here)."""

    def decide(self, view: MarketView) -> Decision:
        raise NotImplementedError

    def resting_fill(self, qty: int, queue_ahead: float, outflow: float) -> int:
        """Shares of a resting buy of ``qty`` behind ``queue_ahead`` shares filled while it rested, given the
        queue ``outflow`` ξ (shares) the engine measured in the data between placement and cancel."""
        raise NotImplementedError("strategies with settles_resting=True define resting_fill")

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


def sweep_cheapest(ask_px: np.ndarray, ask_avail: np.ndarray, fee: np.ndarray, qty: int) -> np.ndarray:
    """Shares to take per venue to buy ``qty`` at the lowest all-in prices (ask + fee) across ladders.

    Walks every venue's levels together, cheapest first (ties: lower venue index). Returns ``(K,)``
    int64, summing to ``min(qty, total available)``.
    """
    k, lv = ask_px.shape
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
