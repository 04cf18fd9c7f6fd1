"""What to route when the exact split is empty: an explicit :class:`EmptySplitPolicy`.

The task's allocator (and :func:`~sorlib.allocation.allocate` in spec mode) only returns a split whose
parts are multiples of ``step``, each within the venue's displayed size, summing *exactly* to the
remaining quantity — otherwise ``([], inf)``.  :func:`route_with_policy` applies a policy in that case:

``"wait"``
    Send nothing this snapshot; the whole remainder carries to the next one (the public versions of the
    task do this implicitly).
``"take_displayed"`` (recommended default)
    Take what is displayed, optimally: route the largest multiple of ``step`` that the displayed sizes
    can fill (``min(remaining // step, Σ_i ask_size_i // step) · step``) with the same exact solver — the
    cheapest displayed shares by ``ask + fee`` first, since the cost is linear.  The rest carries over.
``"best_ask_fallback"``
    Behave like the Best Ask baseline for this snapshot: buy ``min(remaining, ask_size)`` shares (whole
    shares, ignoring ``step``) on the single venue with the lowest ``ask + fee`` (first listed on ties).

No ``"next_snapshot"`` option: for a per-snapshot routing function it is identical to ``"wait"`` (the
engine always carries the unfilled remainder forward).

Recommendation (for the README): use ``"take_displayed"``.  With typical displayed sizes (hundreds of
shares per venue) far below a 5,000-share order, the exact split is empty at almost every snapshot, so
``"wait"`` trades nothing until the end-of-day clean-up order and measures the clean-up, not the router.
``"take_displayed"`` keeps the router's own cost ranking, consumes displayed liquidity across all venues
and leaves only what cannot be filled now; ``"best_ask_fallback"`` uses one venue only and is mainly
useful to compare with the Best Ask baseline.  Note that with ``step=100`` a display of 250 shares only
yields 200; set ``step`` to the lot size to route odd lots too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import numpy as np

from .exhaustive import _check_order, _check_step
from .solver import allocate_arrays
from .venue import check_params, venue_arrays


class EmptySplitPolicy(StrEnum):
    """What :func:`route_with_policy` does when no exact split of the remainder exists."""

    WAIT = "wait"
    TAKE_DISPLAYED = "take_displayed"
    BEST_ASK_FALLBACK = "best_ask_fallback"


DEFAULT_POLICY = EmptySplitPolicy.TAKE_DISPLAYED


def route_with_policy(
    remaining: int,
    venues: Sequence[Any],
    lambda_over: float,
    lambda_under: float,
    theta_queue: float,
    policy: EmptySplitPolicy | str = DEFAULT_POLICY,
    step: int = 100,
) -> list[int]:
    """Shares to send to each venue now (``len(venues)`` ints, zeros when nothing is routed).

    First the exact spec-mode split of ``remaining`` (:func:`~sorlib.allocation.allocate`); if it is
    empty, ``policy`` decides (see the module docstring).  Executed shares never exceed the displayed
    sizes nor ``remaining``.
    """
    policy = EmptySplitPolicy(policy)
    step, remaining = _check_step(step), _check_order(remaining)
    lambda_over, lambda_under, theta_queue = check_params(lambda_over, lambda_under, theta_queue)
    ask, size, fee, reb = venue_arrays(venues)
    n = len(venues)
    zeros = [0] * n
    if remaining <= 0 or n == 0:
        return zeros
    params = (lambda_over, lambda_under, theta_queue)
    split, cost = allocate_arrays(remaining, ask, size, fee, reb, *params, step)
    if split:
        return split
    if policy is EmptySplitPolicy.WAIT:
        return zeros
    if policy is EmptySplitPolicy.TAKE_DISPLAYED:
        units = min(remaining // step, int((size // step).sum()))
        if units == 0:
            return zeros
        split, cost = allocate_arrays(units * step, ask, size, fee, reb, *params, step)
        assert split and math.isfinite(cost)
        return split
    live = size > 0
    if not live.any():
        return zeros
    with np.errstate(invalid="ignore"):
        price = np.where(live, ask + fee, np.inf)
    best = int(np.argmin(price))
    zeros[best] = int(min(remaining, int(size[best])))
    return zeros
