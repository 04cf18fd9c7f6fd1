"""The worked allocation example of notebook 02: why the capped (spec) allocator makes every grid point tie.

Three venues (a maker–taker, a low-fee and an inverted one, $/share) and the allocator at every point of a
parameter grid: the split, the model cost, the cash and the penalty part.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..backtest import grid_points


def example_venues():
    """Three venues of the worked example: a maker–taker, a low-fee and an inverted venue ($/share)."""
    from ..allocation import Venue

    return [Venue(ask=100.00, ask_size=300, fee=0.0030, rebate=0.0020, name="A maker-taker"),
            Venue(ask=100.01, ask_size=400, fee=0.0009, rebate=0.0, name="B low-fee"),
            Venue(ask=100.01, ask_size=500, fee=-0.0005, rebate=-0.0010, name="C inverted")]


def example_venues_frame(venues=None) -> pd.DataFrame:
    """The worked example's venues as a table (ask and fees in $/share, size in shares)."""
    venues = venues or example_venues()
    return pd.DataFrame([{"venue": v.name, "ask": v.ask, "ask_size": v.ask_size, "fee": v.fee,
                          "rebate": v.rebate} for v in venues]).set_index("venue")


def allocation_example(order_size: int = 600, grid: str | dict = "penalty", mode: str = "spec",
                       venues=None) -> pd.DataFrame:
    """The allocator at every point of ``grid`` on :func:`example_venues`: split, cost, cash and the
    penalty part (cost − cash), $. ``mode="spec"`` uses the task's reference search
    (:func:`~sorlib.allocation.allocate_exhaustive`, checked against the fast :func:`allocate`);
    ``"uncapped"`` the fast solver with unexecuted shares priced at the best ask + fee."""
    from ..allocation import allocate, allocate_exhaustive, compute_cost, reference_price

    venues = venues or example_venues()
    ref = reference_price(venues)
    rows = []
    for p in grid_points(grid):
        if mode == "spec":
            split, cost = allocate_exhaustive(order_size, venues, **p)
            fast, fcost = allocate(order_size, venues, **p)
            if split != fast or not (cost == fcost or (np.isinf(cost) and np.isinf(fcost))):
                raise AssertionError(f"fast solver differs from the reference at {p}")
            rp = 0.0
        else:
            split, cost = allocate(order_size, venues, **p, mode="uncapped", remainder_price=ref)
            rp = ref
        if split:
            cash = compute_cost(split, venues, order_size, 0.0, 0.0, 0.0)
            executed = sum(min(s, v.ask_size) for s, v in zip(split, venues, strict=True))
            # the remainder_price term is part of the model's cash estimate, not a penalty
            penalty = cost - cash - rp * max(order_size - executed, 0)
        else:
            cash, executed, penalty = float("nan"), 0, float("nan")
        rows.append({**p, "split": tuple(split) if split else "empty", "executed": executed,
                     "cost": cost, "cash": cash, "penalty": penalty})
    return pd.DataFrame(rows)


__all__ = ["allocation_example", "example_venues", "example_venues_frame"]
