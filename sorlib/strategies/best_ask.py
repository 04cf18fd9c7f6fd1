"""Best Ask: at every snapshot buy what the cheapest venue (ask + taker fee) displays, up to the remainder.

With child-order sizing rules (:mod:`sorlib.allocation.sizing`) the child is the largest feasible size (lot
multiple in [min, max], or the whole remainder; within the participation budget) that the venue's touch
can fill, on the cheapest venue that can take one.

A sell is replayed on the mirrored market (:mod:`sorlib.engine.replay`), where the cheapest ask is the
highest bid net of the taker fee: Best Ask sells to the best bid. The same holds for every strategy: each is
written for a buy and sees a buy.
"""

from __future__ import annotations

import math

import numpy as np

from ..allocation.sizing import SizingRules
from .base import Decision, Strategy, sizing_params
from .view import MarketView


class BestAsk(Strategy):
    name = "best_ask"

    def __init__(self, sizing: SizingRules | None = None) -> None:
        self.set_sizing(sizing)

    def decide(self, view: MarketView) -> Decision:
        return self.route(view, view.remaining)

    def route(self, view: MarketView, qty: int) -> Decision:
        """Buy up to ``qty`` shares on the single cheapest venue's touch (the allocator API of
        :class:`~sorlib.strategies.scheduled.Scheduled`)."""
        k = view.ask_px.shape[0]
        touch_px = view.ask_px[:, 0]
        avail = view.ask_avail[:, 0]
        out = np.zeros(k, np.int64)
        lim = self.child_limits(view)
        if lim is None:  # a handful of venues: a plain loop (first venue on ties, as argmin)
            best, low = -1, math.inf
            av = avail.tolist()
            for i, (p, a, f) in enumerate(zip(touch_px.tolist(), av, view.fee.tolist(), strict=True)):
                if a > 0 and math.isfinite(p) and p + f < low:
                    best, low = i, p + f
            if best >= 0:
                out[best] = min(int(av[best]), qty)
            return Decision(out)
        allin = np.where((avail > 0) & np.isfinite(touch_px), touch_px + view.fee, np.inf)
        qty = min(int(qty), self.child_budget(view))
        for i in np.argsort(allin, kind="stable"):
            if not np.isfinite(allin[i]) or qty <= 0:
                break
            q = min(int(avail[i]), qty, int(lim.max[i]))
            if q != view.remaining:
                q = q // int(lim.lot[i]) * int(lim.lot[i])
                if q < int(lim.min[i]):
                    continue
            if q > 0:
                out[i] = q
                break
        return Decision(out)

    def takes_touch_only(self) -> bool:
        """True when every decision is exactly "buy min(available at the touch, remaining) on the venue with the
        lowest touch ask + fee, first on ties" (no sizing rules; :meth:`decide`, :meth:`route` and ``begin`` not
        overridden, by a subclass or on the instance, e.g. a wrapper recording decisions): the engine may then
        replay it with its compiled loop (:mod:`sorlib.engine.touch`, the same fills)."""
        def plain(name: str, func) -> bool:
            return getattr(getattr(self, name), "__func__", None) is func

        return (self.sizing is None and self.interval_ns == 0 and plain("decide", BestAsk.decide)
                and plain("route", BestAsk.route) and plain("begin", Strategy.begin))

    def params(self) -> dict:
        return sizing_params(self)

