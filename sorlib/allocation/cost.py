"""The cost of a split (DESIGN §4) and the cost of walking an ask ladder.

All prices, fees, rebates and penalties are in $/share; sizes and splits in shares; costs in $.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .venue import check_params, venue_arrays


def compute_cost(
    split: Sequence[int],
    venues: Sequence[Any],
    order_size: int,
    lambda_over: float,
    lambda_under: float,
    theta_queue: float,
    *,
    remainder_price: float = 0.0,
) -> float:
    """Cost in $ of sending ``split[i]`` shares to ``venues[i]`` for an order of ``order_size`` shares.

    Per venue: ``executed_i = min(split_i, ask_size_i)`` is paid at ``ask_i + fee_i``; the part above the
    displayed size rests and earns the rebate: ``cash -= rebate_i * (split_i - executed_i)``.
    With ``E = Σ executed_i``, ``under = max(S - E, 0)``, ``over = max(E - S, 0)``::

        cost = cash + theta_queue*(under + over) + lambda_under*under + lambda_over*over

    evaluated in exactly this order (venues in list order, then the three penalty terms), which the
    exact solver reproduces bit for bit.  A venue receiving 0 executed (resting) shares contributes
    exactly 0, even if its ask is missing (NaN).

    ``remainder_price`` (keyword, default 0 = the task's formula) adds ``remainder_price * under``: the
    $/share it will cost to buy the unexecuted shares later.  With 0, a share that rests looks almost
    free next to one bought at ~$100, which makes the "uncapped" optimum degenerate (see solver.py).
    """
    if len(split) != len(venues):
        raise ValueError(f"split has {len(split)} entries for {len(venues)} venues")
    lambda_over, lambda_under, theta_queue, remainder_price = check_params(
        lambda_over, lambda_under, theta_queue, remainder_price
    )
    cash = 0.0
    executed = 0
    for q, v in zip(split, venues, strict=True):
        q = int(q)
        if q < 0:
            raise ValueError(f"negative allocation {q}")
        exe = min(q, int(v.ask_size))
        rest = q - exe
        if exe > 0:
            cash += exe * (float(v.ask) + float(v.fee))
        if rest > 0:
            cash -= rest * float(v.rebate)
        executed += exe
    under = max(order_size - executed, 0)
    over = max(executed - order_size, 0)
    cost = cash + theta_queue * (under + over) + lambda_under * under + lambda_over * over
    if remainder_price != 0.0:
        cost += remainder_price * under
    return float(cost)


def reference_price(venues: Sequence[Any]) -> float:
    """Best displayed ``ask + fee`` ($/share) over venues with ``ask_size > 0``; ``inf`` if none.

    A natural ``remainder_price`` for the uncapped mode: what the unexecuted shares would cost now.
    """
    ask, size, fee, _ = venue_arrays(venues)
    live = size > 0
    return float((ask[live] + fee[live]).min()) if live.any() else math.inf


def uncapped_table(
    order_units: int,
    step: int,
    ask: np.ndarray,
    size: np.ndarray,
    fee: np.ndarray,
    rebate: np.ndarray,
    lambda_under: float,
    theta_queue: float,
    remainder_price: float = 0.0,
) -> np.ndarray:
    """``T[i, k]``: $ cost of sending ``k*step`` shares to venue i when Σ split = S (uncapped mode).

    ``T[i,k] = exe·(ask+fee) − rest·rebate + (theta_queue + lambda_under + remainder_price)·rest`` with
    ``exe = min(k·step, ask_size)``, ``rest = k·step − exe``.  Because Σ split = S, the underfill is
    ``Σ rest`` and the overfill is 0, so the cost of a split is ``Σ_i T[i, k_i]`` (separable).
    """
    q = np.arange(order_units + 1, dtype=np.int64) * step
    exe = np.minimum(q[None, :], size[:, None])
    rest = q[None, :] - exe
    c = (ask + fee)[:, None]
    with np.errstate(invalid="ignore"):
        paid = np.where(exe > 0, exe * c, 0.0)
    pen = theta_queue + lambda_under + remainder_price
    return paid - np.where(rest > 0, rest * rebate[:, None], 0.0) + pen * rest


def ladder_cost(
    prices: Any, sizes: Any, qty: Any, fee: Any = 0.0, *, partial: bool = False
) -> np.ndarray | float:
    """$ cost of buying ``qty`` shares by walking an ask ladder, best level first (MBP-10 depth).

    ``prices``/``sizes`` have shape ``(..., L)`` (levels last, best first; empty levels may have a NaN
    price with size 0); ``qty`` and ``fee`` broadcast against ``prices.shape[:-1]`` (e.g. ``prices`` (L,)
    and ``qty`` (Q,) gives Q costs).  Cost = ``Σ_l take_l·(price_l + fee)`` with
    ``take_l = clip(qty − Σ_{m<l} size_m, 0, size_l)``.  When ``qty`` exceeds the ladder's depth the
    result is ``inf``, or with ``partial=True`` the cost of the whole depth.  Returns a float for scalar
    inputs, else an array.
    """
    p = np.asarray(prices, dtype=float)
    s = np.asarray(sizes, dtype=float)
    q = np.asarray(qty, dtype=float)
    f = np.asarray(fee, dtype=float)
    if np.any(s < 0) or np.any(q < 0):
        raise ValueError("ladder sizes and qty must be >= 0")
    cum = np.cumsum(s, axis=-1)
    before = cum - s
    take = np.clip(q[..., None] - before, 0.0, s)
    with np.errstate(invalid="ignore"):
        cost = np.where(take > 0, take * (p + f[..., None]), 0.0).sum(axis=-1)
    if not partial:
        cost = np.where(q > cum[..., -1] if s.shape[-1] else q > 0, np.inf, cost)
    return float(cost) if np.ndim(cost) == 0 else cost
