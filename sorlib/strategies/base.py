"""The interface every strategy implements, and what it sees at a decision.

A strategy works one parent order at a time: ``begin`` is called at the order's arrival, then
``decide`` at each decision time (every snapshot when ``interval_ns`` is 0) until the order is filled or
its deadline passes. It answers with child orders: marketable quantities per venue (filled at once
against the venue's displayed ask ladder, at most what is displayed and not yet taken) and resting
limit quantities per venue (joining the venue's best bid; filled by the engine's fill model until the
next decision, when whatever is unfilled is cancelled).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ParentOrder:
    """A buy of ``size`` shares arriving at ``arrival_ns`` that must be done by ``deadline_ns``."""

    order_id: int
    arrival_ns: int
    deadline_ns: int
    size: int


@dataclass
class MarketView:
    """What a strategy sees at one decision (arrays have one entry per venue, in ``Book.venues`` order).

    ``ask_px``/``ask_avail`` are the ``(K, L)`` ask ladders after the liquidity this parent order has
    already taken (``ask_avail`` in shares; NaN/0 = nothing there); ``bid_px``/``bid_sz`` the bid touch.
    ``fee``/``rebate`` are $/share.
    """

    t_ns: int
    j: int
    order: ParentOrder
    remaining: int
    filled: int
    ask_px: np.ndarray
    ask_avail: np.ndarray
    bid_px: np.ndarray
    bid_sz: np.ndarray
    fee: np.ndarray
    rebate: np.ndarray
    book: object  # the Book, for strategies that look at history (e.g. traded volume); no look-ahead


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

    def begin(self, order: ParentOrder, book) -> None:  # noqa: B027 - optional hook
        """Called once at the order's arrival (reset per-order state here)."""

    def decide(self, view: MarketView) -> Decision:
        raise NotImplementedError

    def resting_fill(self, venue: int, qty: int, queue_ahead: float, placed_ns: int, cancel_ns: int) -> int:
        """Shares of a resting buy of ``qty`` (behind ``queue_ahead``) filled between placement and cancel."""
        raise NotImplementedError("strategies with settles_resting=True define resting_fill")

    def params(self) -> dict:
        """The parameters that identify this strategy in results tables."""
        return {}


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
