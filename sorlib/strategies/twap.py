"""TWAP: an even schedule over fixed time buckets, each bucket's slice bought at the best prices.

The window [arrival, deadline) is cut into buckets of ``bucket_seconds`` (default 60 s). By the start of
bucket ``b`` (0-based) of ``n`` the target is ``ceil(S·(b+1)/n)`` shares; at every snapshot the strategy
buys ``target − filled`` (when positive) sweeping all venues' available ladders cheapest first (ask +
taker fee). What a bucket could not buy carries into the next; the clean-up buys whatever is left at the
deadline. With child-order sizing rules (:mod:`sorlib.allocation.sizing`) the sweep buys the largest feasible
amount up to what is due (:meth:`~sorlib.strategies.base.Strategy.sweep`).
"""

from __future__ import annotations

import math

from ..allocation.sizing import SizingRules
from ..errors import ConfigError
from .base import Decision, Strategy, sizing_params
from .view import MarketView


class TWAP(Strategy):
    name = "twap"

    def __init__(self, bucket_seconds: float = 60.0, sizing: SizingRules | None = None) -> None:
        if not bucket_seconds > 0:
            raise ConfigError(f"TWAP bucket length must be > 0 seconds, got {bucket_seconds}")
        self.bucket_ns = int(round(bucket_seconds * 1e9))
        self.set_sizing(sizing)

    def begin(self, view: MarketView) -> None:
        span = max(view.order.deadline_ns - view.order.arrival_ns, 1)
        self._n = max(1, math.ceil(span / self.bucket_ns))

    def target(self, view: MarketView) -> int:
        b = min((view.t_ns - view.order.arrival_ns) // self.bucket_ns, self._n - 1)
        return math.ceil(view.order.size * (b + 1) / self._n)

    def decide(self, view: MarketView) -> Decision:
        want = min(self.target(view) - view.filled, view.remaining)
        if want <= 0:  # on schedule: sleep until the next bucket starts
            b = (view.t_ns - view.order.arrival_ns) // self.bucket_ns
            return Decision.nothing(view.ask_px.shape[0], view.order.arrival_ns + (b + 1) * self.bucket_ns)
        return Decision(self.sweep(view, want))

    def params(self) -> dict:
        return {"bucket_seconds": self.bucket_ns / 1e9, **sizing_params(self)}
