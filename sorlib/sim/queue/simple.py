"""The seed's simple queue-aware fill model, kept as a named model to compare against (DESIGN §6).

A resting order at queue position ``x`` (shares ahead as a fraction of the level, 0 = front, 1 = back) that
sees a seller-initiated print at its price fills each of its shares with probability ``0.9·(1 − x)``: the
filled quantity is Binomial(qty, 0.9·(1 − x)). A marketable order pays a slippage of ``0.0005·qty/displayed``
as a fraction of the price (5 bps when it takes the whole displayed size). A resting limit order never fills
beyond its limit, so the replay applies only the fill probability to it.

Randomness comes only from the ``numpy.random.Generator`` passed in: the same generator state and inputs give
bit-identical results. The replay seeds one generator per (seed, parent order, venue, time) so the draws do not
depend on the order of calls.
"""

from __future__ import annotations

import numpy as np

from .base import QueueState

FILL_AT_FRONT = 0.9       # fill probability at the front of the queue
SLIPPAGE_PER_SIZE = 0.0005  # price fraction per (qty / displayed size)


def fill_probability(position: float) -> float:
    """``0.9·(1 − x)`` with ``x`` clipped to [0, 1]."""
    return FILL_AT_FRONT * (1.0 - min(max(float(position), 0.0), 1.0))


def slippage(qty: float, displayed: float) -> float:
    """Price fraction ``0.0005·qty/displayed`` (``inf`` when nothing is displayed and qty > 0)."""
    if qty <= 0:
        return 0.0
    return SLIPPAGE_PER_SIZE * float(qty) / float(displayed) if displayed > 0 else float("inf")


class SimpleQueue:
    """The simple model with its generator ``rng``."""

    name = "simple"

    def __init__(self, rng: np.random.Generator) -> None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        self.rng = rng

    def fill(self, qty: int, position: float) -> int:
        """Shares of ``qty`` filled when a print reaches the order at ``position`` (Binomial draw)."""
        qty = int(qty)
        if qty <= 0:
            return 0
        return int(self.rng.binomial(qty, fill_probability(position)))

    def resting_fill(self, st: QueueState, qty: int) -> int:
        """:meth:`fill` at the order's current position ``st.position``."""
        return self.fill(qty, st.position)

    def market_price(self, price: float, qty: float, displayed: float, side: int = 1) -> float:
        """Price of a marketable order of ``qty`` ($): ``price·(1 + side·slippage)`` (side +1 buy, −1 sell)."""
        return float(price) * (1.0 + side * slippage(qty, displayed))


def rng_for(seed: int, order_id: int, venue: int, t_ns: int) -> np.random.Generator:
    """A generator seeded by (seed, parent order, venue, time): draws independent of call order."""
    return np.random.Generator(np.random.PCG64([int(seed), int(order_id), int(venue), int(t_ns) & (2**63 - 1)]))
