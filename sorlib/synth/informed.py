"""Informed drift of the synthetic day: part of the aggressor flow carries information that reaches the price
over the next seconds, so a passive order filled by it is adversely selected (model v2 option).

A market order of ``n`` lots hitting a side adds ``J = floor(a·sqrt(n) + U)`` half-ticks (``U`` uniform, so
``E[J | n] = a·sqrt(n)``) of *pending* drift in its direction (down after a sell that hit a bid).  Each
pending half-tick reaches the efficient price after an ``Exp(decay_s)`` wait (the pending total decays as
``e^{-t/decay_s}``): the mid keeps moving against the filled resting order for tens of seconds, as real
markouts do (they grow from 1 to 60 s).  Bigger prints move the price more (concave, square-root in size),
so share-weighted fill markouts grow faster than the price variance the drift adds.

Variance budget: the drift adds ``trade_rate·(1 + impact_share)·E[J²]`` half-tick²/s to the efficient price
(``E[J²]`` over the drawn market-order sizes, before a queue caps them: an upper bound); the generator lowers
the diffusive rate by as much (floor: a fifth of it), so the daily volatility stays near ``daily_vol``.

``drift = 0`` (the default) switches the mechanism off and leaves the default day bit-identical.
The calibrated values (:data:`CALIBRATED_DRIFT`, :func:`calibrated_params`) and the real markouts they were
fitted to are in ``docs/reference/synthetic-day.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError


@dataclass(frozen=True)
class InformedFlow:
    """``drift``: ``a``, pending half-ticks per sqrt(lot) of a market order (0 = off), in [0, 10];
    ``decay_s``: mean wait before a pending half-tick reaches the price [s], in (0, 3600]."""

    drift: float = 0.0
    decay_s: float = 20.0

    def __post_init__(self) -> None:
        for name, lo, hi in (("drift", 0.0, 10.0), ("decay_s", 0.0, 3600.0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or not lo <= v <= hi:
                raise ConfigError(f"informed flow {name} must be a number in [{lo:g}, {hi:g}], got {v!r}")
        if self.decay_s <= 0:
            raise ConfigError(f"informed flow decay_s must be > 0 seconds, got {self.decay_s!r}")

    @property
    def active(self) -> bool:
        return self.drift > 0.0

    def jump_second_moment(self, trade_p1: float, trade_tail: float, max_lots: int) -> float:
        """``E[J²]`` (half-tick²) over the market-order size law of the generator: 1 lot with probability
        ``trade_p1``, else ``min(2 + floor(Lomax(trade_tail)), max_lots)`` lots."""
        if not self.active:
            return 0.0
        n = np.arange(1, int(max_lots) + 1, dtype=np.float64)
        k = n[1:] - 2.0  # floor(Lomax) = k with probability (1 + k)^-α − (2 + k)^-α
        tail = (1.0 + k) ** -trade_tail - (2.0 + k) ** -trade_tail
        tail[-1] = (1.0 + k[-1]) ** -trade_tail  # everything from max_lots up is capped at max_lots
        prob = np.concatenate([[trade_p1], (1.0 - trade_p1) * tail])
        y = self.drift * np.sqrt(n)
        frac = y - np.floor(y)
        second = y**2 + frac * (1.0 - frac)  # E[floor(y + U)²] = y² + frac·(1 − frac)
        return float(np.sum(prob * second))


#: The calibrated informed flow (docs/reference/synthetic-day.md: target, real samples, achieved).
CALIBRATED_DRIFT = InformedFlow(drift=1.2, decay_s=0.1)
