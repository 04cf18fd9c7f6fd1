"""Queue-position fills for a resting limit buy at a venue's best bid.

The order joins the back of the bid queue: ``ahead`` = displayed bid size at placement. Prints on that
venue at a price at or below the order's price advance it: a print *below* our price means the book
traded through us — we are filled first, completely; a print *at* our price first consumes ``ahead``,
then us. Size decreases of the level that are not prints (cancellations) move us up only with
``model="probabilistic"``: a decrease of ``d`` shares happened ahead of us with probability
``f(ahead) / (f(ahead) + f(behind))``, ``f(x) = x**power`` (hftbacktest's power queue model), applied in
expectation. ``model="conservative"`` never advances on cancels, but ``ahead`` never exceeds the level's
displayed size (the shares ahead of us are part of what is displayed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from ..errors import ConfigError

QueueModel = Literal["conservative", "probabilistic"]
QUEUE_MODELS: tuple[str, ...] = get_args(QueueModel)


@dataclass(frozen=True)
class QueueFill:
    """Queue model settings: ``model`` 'conservative' | 'probabilistic', ``power`` n of f(x) = x**n (> 0)."""

    model: QueueModel = "conservative"
    power: float = 2.0

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or self.model not in QUEUE_MODELS:
            raise ConfigError(f"queue model must be one of {', '.join(repr(m) for m in QUEUE_MODELS)}; "
                              f"got {self.model!r}")
        if isinstance(self.power, bool) or not isinstance(self.power, int | float) or not (
                np.isfinite(self.power) and self.power > 0):
            raise ConfigError(f"queue model power must be a finite number > 0, got {self.power!r}")


def queue_fill(qty: int, price: float, ahead: float, trade_px: np.ndarray,
               trade_sz: np.ndarray) -> tuple[int, float]:
    """Shares of a resting buy of ``qty`` at ``price`` filled by the prints ``trade_px``/``trade_sz``
    (seller-initiated prints on the order's venue, in time order). Returns ``(filled, ahead_left)``."""
    filled = 0
    left = int(qty)
    for i in range(trade_px.shape[0]):
        if left <= 0:
            break
        px, sz = float(trade_px[i]), int(trade_sz[i])
        if px < price - 1e-9:  # traded through our price: we were ahead of that print
            return filled + left, 0.0
        if px > price + 1e-9:
            continue
        used = min(ahead, sz)
        ahead -= used
        q = min(left, sz - int(used))
        filled += q
        left -= q
    return filled, ahead


def cancel_advance(ahead: float, old_size: float, new_size: float, cfg: QueueFill) -> float:
    """Queue ahead of us after the level shrank from ``old_size`` to ``new_size`` without a print."""
    if new_size >= old_size:
        return min(ahead, new_size)
    if cfg.model == "probabilistic":
        behind = max(old_size - ahead, 0.0)
        fa, fb = ahead ** cfg.power, behind ** cfg.power
        share = fa / (fa + fb) if fa + fb > 0 else 1.0
        ahead = max(ahead - share * (old_size - new_size), 0.0)
    return min(ahead, new_size)
