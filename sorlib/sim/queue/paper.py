"""The Cont–Kukanov paper's fill rule as a named queue model, ``paper`` (DESIGN §5).

A limit buy of L shares that joined its venue's best-bid queue behind Q shares is settled once, when it is
cancelled (the next decision or the deadline), by

    fill = min(L, (ξ − Q)⁺)

with ξ the outflow (shares) of *that* queue realised while it rested: the depletion events of the bid level
at the order's price (the price and Q are read from the venue's quote row in force at placement, and ξ is
measured on the same level) stamped after the placement row and up to the cancellation
(:meth:`sorlib.engine.Book.level_outflow`). Prints
do not fill it one by one; the fill is stamped at the cancellation. Any strategy's resting orders can be
settled this way (``QueueFill(model="paper")``); no strategy is settled this way unless the model is named.
"""

from __future__ import annotations


def paper_fill(qty: int, ahead: float, outflow: float) -> int:
    """min(L, (ξ − Q)⁺) whole shares: ``qty`` = L, ``ahead`` = Q, ``outflow`` = ξ (shares)."""
    return int(min(int(qty), max(float(outflow) - float(ahead), 0.0)))
