"""Best Ask: at every snapshot buy what the cheapest venue (ask + taker fee) displays, up to the remainder."""

from __future__ import annotations

import numpy as np

from .base import Decision, Strategy
from .view import MarketView


class BestAsk(Strategy):
    name = "best_ask"

    def decide(self, view: MarketView) -> Decision:
        k = view.ask_px.shape[0]
        touch_px = view.ask_px[:, 0]
        avail = view.ask_avail[:, 0]
        allin = np.where((avail > 0) & np.isfinite(touch_px), touch_px + view.fee, np.inf)
        out = np.zeros(k, np.int64)
        if np.isfinite(allin).any():
            best = int(np.argmin(allin))
            out[best] = min(int(avail[best]), view.remaining)
        return Decision(out)
