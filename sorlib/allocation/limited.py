"""Allocation under child-order sizing rules (:mod:`sorlib.allocation.sizing`): lots, minimum, maximum.

Every function here optimises over feasible child sizes only (the exact knapsack
:func:`~sorlib.allocation.solver.limited_split`), never by trimming an unconstrained answer afterwards:

* :func:`route_limited` — the task's spec router (one price level per venue, ``ask + fee`` $/share, at most
  the displayed size) under the rules, with the :class:`~sorlib.allocation.EmptySplitPolicy`;
* :func:`sweep_limited` — "buy up to ``qty`` at the best prices across the venues' ask ladders" under the
  rules (the baselines' sweep): the largest feasible total ≤ ``qty``, at the least cost.

Shares, $/share and $ throughout.
"""

from __future__ import annotations

import numpy as np

from .cost import ladder_cost
from .policy import EmptySplitPolicy
from .solver import limited_split, linear_costs


def ladder_costs(ask_px: np.ndarray, ask_avail: np.ndarray, fee: np.ndarray):
    """``cost_of`` for :func:`limited_split` walking each venue's ``(K, L)`` ladder (:func:`ladder_cost`):
    $ cost of ``q`` shares, inf beyond the available depth, 0 for ``q = 0``."""
    px = np.asarray(ask_px, float)
    av = np.where(np.isfinite(px), np.asarray(ask_avail, np.int64), 0)
    f = np.asarray(fee, float)

    def cost_of(q: np.ndarray) -> np.ndarray:
        qq = np.broadcast_to(q[None, :].astype(float), (px.shape[0], q.shape[0]))
        c = ladder_cost(px[:, None, :], av[:, None, :], qq, f[:, None])
        return np.where(q[None, :] == 0, 0.0, c)
    return cost_of


def sweep_limited(ask_px: np.ndarray, ask_avail: np.ndarray, fee: np.ndarray, qty: int, lot, min_size, max_size,
                  remaining: int, allowed: np.ndarray | None = None) -> np.ndarray:
    """Shares per venue ``(K,)`` to buy up to ``qty`` at the lowest all-in cost across the ladders, every
    venue's quantity a feasible child (lot multiple in [min, max], or the parent's whole ``remaining``).

    The largest feasible total ≤ ``qty`` first, then the least $ cost. With every lot and minimum 1 this is
    the greedy cheapest-first walk with per-venue caps ``max_size`` (exact for these convex costs); otherwise
    the knapsack :func:`limited_split` on ladder costs. ``allowed``: boolean mask of venues that may trade.
    """
    k = ask_px.shape[0]
    lot = np.asarray(lot, np.int64)
    mn = np.asarray(min_size, np.int64)
    mx = np.asarray(max_size, np.int64).copy()
    if allowed is not None:
        mx = np.where(allowed, mx, 0)
    qty = int(qty)
    if qty <= 0 or k == 0:
        return np.zeros(k, np.int64)
    if (lot == 1).all() and (mn <= 1).all():
        allin = ask_px + fee[:, None]
        flat = np.where(ask_avail > 0, allin, np.inf).ravel()
        order = np.argsort(flat, kind="stable")
        lv = ask_px.shape[1]
        take = np.zeros(k, np.int64)
        left = qty
        avail = ask_avail.ravel()
        for idx in order:
            if left <= 0 or not np.isfinite(flat[idx]):
                break
            v = idx // lv
            q = min(left, int(avail[idx]), int(mx[v] - take[v]))
            if q > 0:
                take[v] += q
                left -= q
        return take
    split, _ = limited_split(qty, ladder_costs(ask_px, ask_avail, fee), lot, mn, np.maximum(mx, 0), remaining,
                             exact=False)
    return np.asarray(split, np.int64)


def route_limited(qty: int, ask: np.ndarray, size: np.ndarray, fee: np.ndarray, lot, min_size, max_size,
                  remaining: int, policy: EmptySplitPolicy | str = EmptySplitPolicy.TAKE_DISPLAYED) -> list[int]:
    """The spec router's split of ``qty`` shares under sizing rules (shares per venue).

    First the exact-sum split over feasible children within the displayed ``size`` (the least ``Σ
    q_i·(ask_i + fee_i)``); if none exists, ``policy``: ``wait`` sends nothing; ``take_displayed`` sends the
    largest feasible total below ``qty`` at the least cost; ``best_ask_fallback`` the largest feasible child
    on the single cheapest venue (``ask + fee``) that can take one. ``lot`` here is the router's grid per venue
    (e.g. ``lcm(step, lot size)``).
    """
    policy = EmptySplitPolicy(policy)
    n = len(ask)
    zeros = [0] * n
    if qty <= 0 or n == 0:
        return zeros
    cost_of = linear_costs(ask, size, fee)
    split, _ = limited_split(qty, cost_of, lot, min_size, max_size, remaining, exact=True)
    if split:
        return split
    if policy is EmptySplitPolicy.WAIT:
        return zeros
    if policy is EmptySplitPolicy.TAKE_DISPLAYED:
        return limited_split(qty, cost_of, lot, min_size, max_size, remaining, exact=False)[0]
    with np.errstate(invalid="ignore"):
        price = np.where(np.asarray(size) > 0, np.asarray(ask, float) + np.asarray(fee, float), np.inf)
    for i in np.argsort(price, kind="stable"):
        if not np.isfinite(price[i]):
            break
        one = np.zeros(n, bool)
        one[i] = True
        mx = np.where(one, np.asarray(max_size, np.int64), 0)
        s = limited_split(qty, cost_of, lot, min_size, mx, remaining, exact=False)[0]
        if sum(s):
            return s
    return zeros
