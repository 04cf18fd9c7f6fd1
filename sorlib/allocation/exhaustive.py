"""Reference (brute-force) allocators: the task's search, kept for compatibility and tests.

Exponential in the number of venues — use :func:`sorlib.allocation.allocate` for real work.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

from .cost import compute_cost, uncapped_table
from .venue import check_params, venue_arrays


def _check_step(step: int) -> int:
    if isinstance(step, bool) or int(step) != step or step <= 0:
        raise ValueError(f"step must be a positive whole number of shares, got {step!r}")
    return int(step)


def _check_order(order_size: int) -> int:
    if isinstance(order_size, bool) or int(order_size) != order_size:
        raise ValueError(f"order_size must be a whole number of shares, got {order_size!r}")
    return int(order_size)


def _enumerate(order_size: int, caps: Sequence[int], step: int) -> Iterator[list[int]]:
    """Every split of the reference, in its enumeration order (lexicographic, venue 0 slowest).

    Venue i gets 0, step, 2·step, … up to ``min(unallocated, caps[i])``.  Depth-first, so memory stays
    O(venues) where the task's list-of-lists version holds every split at once; the order is the same.
    """
    n = len(caps)
    split = [0] * n

    def rec(i: int, used: int) -> Iterator[list[int]]:
        if i == n:
            yield list(split)
            return
        for q in range(0, min(order_size - used, caps[i]) + 1, step):
            split[i] = q
            yield from rec(i + 1, used + q)

    yield from rec(0, 0)


def allocate_exhaustive(
    order_size: int,
    venues: Sequence[Any],
    lambda_over: float,
    lambda_under: float,
    theta_queue: float,
    step: int = 100,
) -> tuple[list[int], float]:
    """The task's reference search (DESIGN §4), returning ``(split, cost)``.

    Every split giving each venue, in turn, 0, step, 2·step, … shares up to the smaller of what is
    still unallocated and that venue's displayed ``ask_size`` (a size of 250 with step 100 allows
    0/100/200); only splits summing exactly to ``order_size`` count; the cost is :func:`compute_cost`.

    Tie-breaking: splits are visited in lexicographic order (venue 0's quantity most significant,
    ascending) and the first one with a *strictly* lower cost wins — i.e. among exactly equal float
    costs, the lexicographically smallest split.  Returns ``([], inf)`` when no split sums to
    ``order_size`` (total displayed below the order, ``order_size`` not a multiple of ``step``, ...).
    """
    step, order_size = _check_step(step), _check_order(order_size)
    lambda_over, lambda_under, theta_queue = check_params(lambda_over, lambda_under, theta_queue)
    _, size, _, _ = venue_arrays(venues)
    best_split: list[int] = []
    best_cost = math.inf
    for split in _enumerate(order_size, [int(s) for s in size], step):
        if sum(split) != order_size:
            continue
        cost = compute_cost(split, venues, order_size, lambda_over, lambda_under, theta_queue)
        if cost < best_cost:
            best_cost, best_split = cost, split
    return best_split, best_cost


def uncapped_tolerance(table_abs_max_sum: float) -> float:
    """Cost tolerance ($) under which two uncapped splits tie: ``1e-12·(1 + Σ_i max_k |T[i,k]|)``."""
    return 1e-12 * (1.0 + table_abs_max_sum)


def allocate_exhaustive_uncapped(
    order_size: int,
    venues: Sequence[Any],
    lambda_over: float,
    lambda_under: float,
    theta_queue: float,
    step: int = 100,
    *,
    remainder_price: float = 0.0,
) -> tuple[list[int], float]:
    """Brute-force reference for ``allocate(..., mode="uncapped")`` (small sizes only).

    Every split of ``order_size`` into multiples of ``step`` (a venue may get more than it displays;
    the excess rests, earns the rebate and counts as underfill), Σ split = ``order_size``; cost is
    :func:`compute_cost` (with ``remainder_price``).  Tie-breaking, same as the solver's uncapped mode:
    the lexicographically smallest split whose cost is within :func:`uncapped_tolerance` of the minimum.
    """
    step, order_size = _check_step(step), _check_order(order_size)
    lambda_over, lambda_under, theta_queue, remainder_price = check_params(
        lambda_over, lambda_under, theta_queue, remainder_price
    )
    n = len(venues)
    if order_size < 0 or order_size % step or (n == 0 and order_size != 0):
        return [], math.inf
    ask, size, fee, reb = venue_arrays(venues)
    table = uncapped_table(
        order_size // step, step, ask, size, fee, reb, lambda_under, theta_queue, remainder_price
    )
    tol = uncapped_tolerance(float(abs(table).max(axis=1).sum()) if n else 0.0)
    found = [
        (
            s,
            compute_cost(
                s, venues, order_size, lambda_over, lambda_under, theta_queue, remainder_price=remainder_price
            ),
        )
        for s in _enumerate(order_size, [order_size] * n, step)
        if sum(s) == order_size
    ]
    best = min(c for _, c in found)
    return next((s, c) for s, c in found if c <= best + tol)


def allocate_exhaustive_limited(qty: int, cost_of, lot, min_size, max_size, remaining: int, *,
                                exact: bool = True) -> tuple[list[int], float]:
    """Brute-force reference for :func:`~sorlib.allocation.solver.limited_split` (small sizes only).

    Enumerates only feasible splits: venue i gets 0, a multiple of ``lot[i]`` in ``[min_size[i],
    max_size[i]]``, or the whole ``remaining`` when ``≤ max_size[i]`` (odd-lot rule), each with a finite
    ``cost_of``; keeps splits summing to ``qty`` (``exact``) or to at most ``qty`` (then the largest total
    wins); least total cost (summed in venue order); ties: the lexicographically smallest split within
    ``1e-12·(1 + Σ_i max |finite cost|)``. Returns ``([], inf)`` (exact) or zeros when nothing is feasible.
    """
    import itertools

    import numpy as np

    n = len(lot)
    qty, remaining = int(qty), int(remaining)
    grid = np.arange(qty + 1, dtype=np.int64)
    cost = np.asarray(cost_of(grid), float).reshape(n, qty + 1)
    options = []
    for i in range(n):
        opts = [0] + [q for q in range(1, qty + 1)
                      if ((q % lot[i] == 0 and q >= min_size[i]) or q == remaining) and q <= max_size[i]
                      and math.isfinite(cost[i, q])]
        options.append(opts)
    tol = uncapped_tolerance(sum(max(abs(float(cost[i, q])) if q else 0.0 for q in options[i]) for i in range(n)))
    found = []
    for s in itertools.product(*options):
        tot = sum(s)
        if (exact and tot != qty) or tot > qty:
            continue
        found.append((tot, sum(float(cost[i, q]) if q else 0.0 for i, q in enumerate(s)), list(s)))
    if not found:
        return ([], math.inf) if exact else ([0] * n, 0.0)
    top = max(f[0] for f in found)
    found = [f for f in found if f[0] == top]
    best = min(f[1] for f in found)
    split, c = min(((f[2], f[1]) for f in found if f[1] <= best + tol), key=lambda x: x[0])
    return split, c
