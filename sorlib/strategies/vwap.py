"""VWAP: a volume-weighted schedule, routed across venues in proportion to volume.

The window [arrival, deadline) is cut into buckets of ``bucket_seconds``, as for TWAP. Bucket ``b``'s
weight ``w_b`` is the market's traded volume in the matching bucket of the same-length window just
before arrival (no look-ahead; an even weight when that window traded nothing); by the start of bucket
``b`` the target is ``ceil(S · Σ_{i≤b} w_i / Σ w)`` shares. The amount due is split across venues in
proportion to each venue's weight — its traded volume over the lookback window (``weights="traded"``)
or its displayed size at the touch (``weights="displayed"``) — capped at what is available; any
shortfall is then swept cheapest first (ask + taker fee).

With child-order sizing rules (:mod:`sorlib.allocation.sizing`) the amount due is first capped by the
participation budget; each venue's proportional part is cut to its largest feasible child (a lot multiple in
[min, max], 0 below the minimum) and the shortfall is swept (exactly, over feasible sizes) on the venues that
got no proportional part, so each venue still receives one child per decision.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

from ..allocation.sizing import SizingRules
from .base import Decision, check_choice, sizing_params, sweep_cheapest
from .twap import TWAP
from .view import MarketView

Weights = Literal["traded", "displayed"]
VWAP_WEIGHTS: tuple[str, ...] = get_args(Weights)


class VWAP(TWAP):
    name = "vwap"

    def __init__(self, weights: Weights = "traded", bucket_seconds: float = 60.0,
                 sizing: SizingRules | None = None) -> None:
        super().__init__(bucket_seconds, sizing)
        self.weights = check_choice("VWAP weights", weights, VWAP_WEIGHTS)

    def begin(self, view: MarketView) -> None:
        super().begin(view)
        order = view.order
        span = order.deadline_ns - order.arrival_ns
        past = view.past.trades(order.arrival_ns - span, order.arrival_ns)  # the same-length window before arrival
        ts, sz, ven = past.ts, past.size, past.venue
        b = np.minimum((ts - (order.arrival_ns - span)) // self.bucket_ns, self._n - 1)
        w = np.bincount(b.astype(np.int64), weights=sz, minlength=self._n)[: self._n]
        self._cum = np.cumsum(w) / w.sum() if w.sum() > 0 else np.arange(1, self._n + 1) / self._n
        venues = view.venues
        vol = np.zeros(venues.shape[0])
        idx = np.searchsorted(venues, ven)
        ok = (idx < len(venues)) & (venues[np.minimum(idx, len(venues) - 1)] == ven)
        np.add.at(vol, idx[ok], sz[ok])
        self._venue_volume = vol

    def target(self, view: MarketView) -> int:
        b = min((view.t_ns - view.order.arrival_ns) // self.bucket_ns, self._n - 1)
        return min(view.order.size, int(np.ceil(view.order.size * self._cum[b] - 1e-9)))

    def decide(self, view: MarketView) -> Decision:
        want = min(self.target(view) - view.filled, view.remaining)
        k = view.ask_px.shape[0]
        if want <= 0:  # on schedule: sleep until the next bucket starts
            b = (view.t_ns - view.order.arrival_ns) // self.bucket_ns
            return Decision.nothing(k, view.order.arrival_ns + (b + 1) * self.bucket_ns)
        lim = self.child_limits(view)
        if lim is not None:
            want = min(want, self.child_budget(view))
        avail = view.ask_avail.sum(axis=1)
        w = self._venue_volume if self.weights == "traded" else view.ask_avail[:, 0].astype(float)
        w = np.where(avail > 0, w, 0.0)
        out = np.zeros(k, np.int64)
        if w.sum() > 0:
            out = np.minimum(np.floor(want * w / w.sum()).astype(np.int64), avail)
        if lim is not None:
            out = np.minimum(out, lim.max)
            out = np.where(out == view.remaining, out, out // lim.lot * lim.lot)
            out = np.where((out >= lim.min) | (out == view.remaining), out, 0)
        short = want - int(out.sum())
        if short > 0:
            rest = view.ask_avail.copy()
            for i in range(k):  # remove what the proportional part already takes, level by level
                left = int(out[i])
                for lv in range(rest.shape[1]):
                    q = min(left, int(rest[i, lv]))
                    rest[i, lv] -= q
                    left -= q
            if lim is None:
                out += sweep_cheapest(view.ask_px, rest, view.fee, short)
            else:
                out += sweep_cheapest(view.ask_px, rest, view.fee, short, limits=lim, remaining=view.remaining,
                                      allowed=out == 0)
        return Decision(out)

    def params(self) -> dict:
        return {"weights": self.weights, "bucket_seconds": self.bucket_ns / 1e9, **sizing_params(self)}
