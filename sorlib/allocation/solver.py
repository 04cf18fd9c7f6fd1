"""Exact fast allocators: a min-cost exact-sum knapsack over units of ``step`` shares.

Spec mode (the task's model, DESIGN §4)
    Venue i may get ``k_i·step`` shares with ``0 ≤ k_i ≤ ask_size_i // step`` and ``Σ k_i·step = S``.
    Every such split executes in full, so underfill = overfill = 0 and the cost is the cash
    ``Σ_i k_i·step·(ask_i + fee_i)`` — the penalties never matter (any parameter grid ties).
    The solver returns *bit for bit* what :func:`~sorlib.allocation.allocate_exhaustive` returns, split
    included:

    * it minimises the exact float value that :func:`compute_cost` computes (a left-to-right sum over
      venues), with a forward DP over "units allocated so far".  IEEE addition is monotone
      (``a ≤ b ⇒ fl(a+x) ≤ fl(b+x)``), so keeping the smallest partial sum per state is exact;
    * tie-breaking is the reference's: among splits with the minimal float cost, the lexicographically
      smallest (venue 0's quantity most significant) — the first one the reference's enumeration meets
      with a strictly lower cost.  The split is rebuilt venue by venue, trying quantities in ascending
      order; candidates are screened with a backward DP (a 1e-9 relative window) and, only when several
      survive (near-ties), confirmed by an exact forward DP from that prefix.

    Cost O(n·R·C) with R = S/step and C = max cap in units (near-ties add at most O(n²·R·C²)).

Uncapped mode
    A venue may get more than it displays (up to S, in steps); ``Σ split = S``.  The part above the
    displayed size rests as a limit order: it earns the rebate in cash and, not being executed, counts
    as underfill; the overfill is always 0 (E ≤ Σ split = S), so ``lambda_over`` never matters, and
    ``theta_queue`` and ``lambda_under`` act only through their sum.  The cost is separable:
    ``Σ_i [exe_i·(ask_i+fee_i) − rest_i·rebate_i + (theta_queue + lambda_under + remainder_price)·rest_i]``
    ($).

    With the task's formula (``remainder_price = 0``) a resting share costs cents while an executed one
    costs ~$100, so the optimum buys as little as possible (all of S on one venue, mostly resting) for
    every realistic parameter value.  Pass ``remainder_price`` = what the unexecuted shares will cost to
    buy later (e.g. :func:`~sorlib.allocation.reference_price`, the best displayed ask + fee) and the
    trade-off becomes real: a more expensive venue is taken only while its premium over resting is below
    ``theta_queue + lambda_under − rebate``.
    Tie-breaking: the lexicographically smallest split whose cost is within ``1e-12·(1 + Σ_i max_k|T[i,k]|)``
    of the minimum (the reference's order, float noise ignored).  Checked against
    :func:`~sorlib.allocation.allocate_exhaustive_uncapped`.

Kernels are numba ``@njit(cache=True)``; the first call in a fresh environment compiles them
(~1–3 s, then cached on disk); :func:`warmup` does it eagerly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numba import njit

from .cost import uncapped_table
from .exhaustive import _check_order, _check_step, uncapped_tolerance
from .venue import check_params, venue_arrays

Mode = Literal["spec", "uncapped"]
_INF = np.inf


# ----------------------------------------------------------------------------------------------- kernels
@njit(cache=True)
def _terms(c: np.ndarray, caps: np.ndarray, R: int, step: int) -> np.ndarray:  # pragma: no cover - numba
    """t[i, k] = fl(float(k·step)·c_i) for 1 ≤ k ≤ cap_i; t[i, 0] = 0 (a zero allocation adds nothing)."""
    n = c.shape[0]
    t = np.zeros((n, R + 1))
    for i in range(n):
        for k in range(1, min(caps[i], R) + 1):
            t[i, k] = float(k * step) * c[i]
    return t


@njit(cache=True)
def _fold_from(x: float, t: np.ndarray, caps: np.ndarray, i0: int, r: int) -> float:  # pragma: no cover
    """Minimal exact float value of ``fl(...fl(fl(x + t[i0,k]) + t[i0+1,k']) ...)`` over venues i0..n-1
    with Σk = r (zero allocations skipped, as in compute_cost).  inf when infeasible."""
    n = t.shape[0]
    w = np.full(r + 1, _INF)
    w[0] = x
    for j in range(i0, n):
        new = w.copy()
        cj = caps[j]
        for a in range(r, 0, -1):
            best = new[a]
            kmax = min(cj, a)
            for k in range(1, kmax + 1):
                p = w[a - k]
                if p < _INF:
                    v = p + t[j, k]
                    if v < best:
                        best = v
            new[a] = best
        w = new
    return w[r]


@njit(cache=True)
def _spec_solve(
    c: np.ndarray, caps: np.ndarray, R: int, step: int, out: np.ndarray
) -> float:  # pragma: no cover
    """Exact reference-equivalent solve; fills ``out`` (units) and returns the cost (inf: infeasible)."""
    n = c.shape[0]
    t = _terms(c, caps, R, step)
    fstar = _fold_from(0.0, t, caps, 0, R)
    if not fstar < _INF:
        return _INF
    # backward screening table: b[i, r] ~ min cost of venues i..n-1 taking exactly r units
    b = np.full((n + 1, R + 1), _INF)
    b[n, 0] = 0.0
    scale = 1.0
    for i in range(n - 1, -1, -1):
        kmax_i = min(caps[i], R)
        scale += abs(t[i, kmax_i])
        for r in range(R + 1):
            best = _INF
            for k in range(0, min(kmax_i, r) + 1):
                v = b[i + 1, r - k]
                if v < _INF:
                    v = v + t[i, k]
                    if v < best:
                        best = v
            b[i, r] = best
    tol = 1e-9 * scale
    a = 0.0
    r = R
    for i in range(n):
        if i == n - 1:
            k = r
        else:
            ncand = 0
            first = -1
            last = -1
            for k in range(0, min(caps[i], r) + 1):
                v = b[i + 1, r - k]
                if v < _INF and a + t[i, k] + v <= fstar + tol:
                    ncand += 1
                    if first < 0:
                        first = k
                    last = k
            k = last
            if ncand > 1:
                for kk in range(first, last):
                    v = b[i + 1, r - kk]
                    if not (v < _INF and a + t[i, kk] + v <= fstar + tol):
                        continue
                    x = a + t[i, kk] if kk > 0 else a
                    if _fold_from(x, t, caps, i + 1, r - kk) <= fstar:
                        k = kk
                        break
        out[i] = k
        if k > 0:
            a = a + t[i, k]
        r -= k
    return a


@njit(cache=True)
def _table_solve(table: np.ndarray, R: int, tol: float, out: np.ndarray) -> float:  # pragma: no cover
    """Min Σ_i table[i, k_i] s.t. Σ k_i = R; lexicographically smallest split within ``tol`` of the min.

    ``table[i, k]`` = inf marks an impossible quantity.  Fills ``out``; returns the DP minimum (inf if
    infeasible): :func:`_limited_solve` with no caps (every ``k ≤ R``)."""
    return _limited_solve(table, np.full(table.shape[0], R, np.int64), R, tol, True, out)[0]


# ------------------------------------------------------------------------------------------------- API
def allocate_arrays(
    order_size: int,
    ask: np.ndarray,
    ask_size: np.ndarray,
    fee: np.ndarray,
    rebate: np.ndarray,
    lambda_over: float,
    lambda_under: float,
    theta_queue: float,
    step: int = 100,
    mode: Mode = "spec",
    *,
    remainder_price: float = 0.0,
) -> tuple[list[int], float]:
    """:func:`allocate` on parallel arrays ($/share prices, whole-share sizes), for hot loops.

    Only cheap checks (sizes >= 0); prices/fees are trusted (see :func:`venue_arrays` for full checks).
    """
    n = len(ask)
    ask_size = np.asarray(ask_size, dtype=np.int64)
    if n and ask_size.min() < 0:
        raise ValueError("ask_size must be >= 0")
    if order_size < 0 or order_size % step or (n == 0 and order_size != 0):
        return [], math.inf
    if n == 0:
        return [], 0.0
    R = order_size // step
    out = np.zeros(n, dtype=np.int64)
    if mode == "spec":
        caps = np.asarray(ask_size, dtype=np.int64) // step
        if int(np.minimum(caps, R).sum()) < R:  # not enough displayed: the reference returns empty
            return [], math.inf
        with np.errstate(invalid="ignore"):
            c = np.where(caps > 0, np.asarray(ask, float) + np.asarray(fee, float), 0.0)
        cost = _spec_solve(c, caps, R, step, out)
    elif mode == "uncapped":
        table = uncapped_table(
            R,
            step,
            np.asarray(ask, float),
            np.asarray(ask_size, np.int64),
            np.asarray(fee, float),
            np.asarray(rebate, float),
            lambda_under,
            theta_queue,
            remainder_price,
        )
        tol = uncapped_tolerance(float(np.abs(table).max(axis=1).sum()))
        _table_solve(table, R, tol, out)
        exe = np.minimum(out * step, ask_size)
        rest = out * step - exe
        cost = _uncapped_cost(
            exe, rest, ask, fee, rebate, order_size, lambda_over, lambda_under, theta_queue, remainder_price
        )
    else:
        raise ValueError(f"mode must be 'spec' or 'uncapped', got {mode!r}")
    if not cost < math.inf:
        return [], math.inf
    return [int(k) * step for k in out], float(cost)


def _uncapped_cost(
    exe, rest, ask, fee, rebate, order_size, lambda_over, lambda_under, theta_queue, remainder_price
) -> float:
    """compute_cost's float evaluation on arrays (same operation order)."""
    cash = 0.0
    for i in range(len(exe)):
        if exe[i] > 0:
            cash += int(exe[i]) * (float(ask[i]) + float(fee[i]))
        if rest[i] > 0:
            cash -= int(rest[i]) * float(rebate[i])
    e = int(exe.sum())
    under, over = max(order_size - e, 0), max(e - order_size, 0)
    cost = cash + theta_queue * (under + over) + lambda_under * under + lambda_over * over
    if remainder_price != 0.0:
        cost += remainder_price * under
    return cost


def allocate(
    order_size: int,
    venues: Sequence[Any],
    lambda_over: float,
    lambda_under: float,
    theta_queue: float,
    step: int = 100,
    mode: Mode = "spec",
    *,
    remainder_price: float = 0.0,
) -> tuple[list[int], float]:
    """Exact minimum-cost split of ``order_size`` shares across ``venues`` → ``(split, cost)``.

    ``mode="spec"``: identical result (split and cost, bit for bit) to :func:`allocate_exhaustive`,
    in polynomial time; ``([], inf)`` when no split of multiples of ``step`` within the displayed sizes
    sums to ``order_size``.  ``mode="uncapped"``: venues may take more than they display (the excess
    rests); ``Σ split = order_size``; see the module docstring for the model, ``remainder_price`` and the
    tie-breaking rules.  ``cost`` always equals :func:`compute_cost` of the returned split.
    """
    step, order_size = _check_step(step), _check_order(order_size)
    lambda_over, lambda_under, theta_queue, remainder_price = check_params(
        lambda_over, lambda_under, theta_queue, remainder_price
    )
    ask, size, fee, reb = venue_arrays(venues)
    return allocate_arrays(
        order_size,
        ask,
        size,
        fee,
        reb,
        lambda_over,
        lambda_under,
        theta_queue,
        step,
        mode,
        remainder_price=remainder_price,
    )


def min_cost_split(table: Any) -> tuple[list[int], float]:
    """Generic exact-sum knapsack: ``table[i, k]`` = $ cost of giving venue i k units (inf = impossible).

    Minimises ``Σ_i table[i, k_i]`` subject to ``Σ_i k_i = table.shape[1] - 1``; returns ``(units, cost)``
    or ``([], inf)``.  Ties: lexicographically smallest within ``1e-12·(1 + Σ_i max_k |finite table|)``.
    Useful with :func:`ladder_cost` curves for multi-level (MBP-10) books.
    """
    t = np.ascontiguousarray(table, dtype=float)
    if t.ndim != 2 or t.shape[1] == 0:
        raise ValueError("table must have shape (venues, total_units + 1)")
    n, k1 = t.shape
    if n == 0:
        return ([], 0.0) if k1 == 1 else ([], math.inf)
    t = np.where(np.isnan(t), np.inf, t)
    finite = np.where(np.isfinite(t), np.abs(t), 0.0)
    out = np.zeros(n, dtype=np.int64)
    cost = _table_solve(t, k1 - 1, uncapped_tolerance(float(finite.max(axis=1).sum())), out)
    if not cost < math.inf:
        return [], math.inf
    return [int(k) for k in out], float(sum(t[i, k] for i, k in enumerate(out)))


def warmup() -> None:
    """Compile (or load from the on-disk cache) the numba kernels."""
    v = (np.array([100.0, 100.01]), np.array([300, 300]), np.zeros(2), np.zeros(2))
    allocate_arrays(400, *v, 0.0, 0.0, 0.0)
    allocate_arrays(400, *v, 0.0, 0.0, 0.0, mode="uncapped")
    min_cost_split(np.zeros((2, 3)))


# ------------------------------------------------------------------ lot / minimum / maximum constraints
@njit(cache=True)
def _limited_solve(table: np.ndarray, caps: np.ndarray, R: int, tol: float, exact: bool,
                   out: np.ndarray) -> tuple:  # pragma: no cover - numba
    """Min Σ_i table[i, k_i] over k_i ≤ caps[i] with Σ k_i = R (``exact``) or, otherwise, the largest
    reachable Σ k_i ≤ R; lexicographically smallest split within ``tol``. ``table[i, 0]`` must be 0 and an
    infeasible quantity is inf. Fills ``out``; returns ``(cost, units)`` (``(inf, -1)``: infeasible)."""
    n = table.shape[0]
    b = np.full((n + 1, R + 1), _INF)
    b[n, 0] = 0.0
    for i in range(n - 1, -1, -1):
        ci = min(caps[i], R)
        for r in range(R + 1):
            best = _INF
            for k in range(0, min(ci, r) + 1):
                v = b[i + 1, r - k]
                tk = table[i, k]
                if v < _INF and tk < _INF:
                    v = v + tk
                    if v < best:
                        best = v
            b[i, r] = best
    target = -1
    if exact:
        if b[0, R] < _INF:
            target = R
    else:
        for r in range(R, -1, -1):
            if b[0, r] < _INF:
                target = r
                break
    if target < 0:
        return _INF, -1
    cstar = b[0, target]
    p = 0.0
    r = target
    for i in range(n):
        for k in range(0, min(caps[i], r) + 1):
            v = b[i + 1, r - k]
            tk = table[i, k]
            if v < _INF and tk < _INF and p + tk + v <= cstar + tol:
                out[i] = k
                p += tk
                r -= k
                break
    return cstar, target


@njit(cache=True)
def _feasible_table(cost: np.ndarray, q: np.ndarray, lot: np.ndarray, mn: np.ndarray, mx: np.ndarray,
                    remaining: int) -> tuple:  # pragma: no cover - numba
    """:func:`limited_split`'s table ``(K, Q)`` ($): ``cost[i, j]`` where ``q[j]`` shares are a feasible child of
    venue i (a multiple of ``lot[i]`` ≥ ``mn[i]``, or ``remaining``; ≤ ``mx[i]``) at a finite cost, else inf;
    column 0 (nothing sent) is 0. Returns ``(table, caps, big)``: per venue the last finite column and the
    largest finite ``|cost|`` (≥ 0)."""
    n, m = cost.shape
    table = np.full((n, m), _INF)
    caps = np.zeros(n, np.int64)
    big = np.zeros(n)
    for i in range(n):
        table[i, 0] = 0.0
        for j in range(1, m):
            c = cost[i, j]
            if (q[j] % lot[i] == 0 and q[j] >= mn[i] or q[j] == remaining) and q[j] <= mx[i] and np.isfinite(c):
                table[i, j] = c
                caps[i] = j
                big[i] = max(big[i], abs(c))
    return table, caps, big


def limited_split(qty: int, cost_of, lot: Any, min_size: Any, max_size: Any, remaining: int, *,
                  exact: bool = True) -> tuple[list[int], float]:
    """Exact min-cost split of ``qty`` shares over feasible child sizes only → ``(shares per venue, $ cost)``.

    Venue i may get ``q_i = 0`` or a multiple of ``lot[i]`` with ``min_size[i] ≤ q_i ≤ max_size[i]``, or —
    the odd-lot rule — ``q_i = remaining`` (the parent order's whole remainder: the last child, which
    completes the order) when ``remaining ≤ max_size[i]``. ``cost_of(q)`` maps a ``(Q,)`` int64 array of
    share counts to the ``(K, Q)`` $ costs of sending them to each venue (inf = impossible, e.g. beyond the
    displayed size); it must give 0 for ``q = 0`` and keep its own floating-point warnings quiet (as
    :func:`linear_costs` does). ``exact=True``: Σ q_i = ``qty`` or ``([], inf)``;
    ``exact=False``: the largest feasible Σ q_i ≤ ``qty``, at least cost (``[0]*K`` when nothing is
    feasible). Ties: the lexicographically smallest split within ``1e-12·(1 + Σ_i max_k |finite cost|)``.

    The search is a knapsack on the grid of ``u = gcd(lot)`` shares with the infeasible sizes priced inf
    (:func:`_limited_solve`, O(K·R·C), R = qty/u, C = the largest feasible count); a completing child off that
    grid is compared separately. Equals the brute force :func:`~sorlib.allocation.exhaustive.allocate_exhaustive_limited`.
    """
    lot = np.asarray(lot, np.int64)
    mn = np.asarray(min_size, np.int64)
    mx = np.asarray(max_size, np.int64)
    n = lot.shape[0]
    qty, remaining = int(qty), int(remaining)
    if qty < 0 or n == 0:
        return ([], math.inf) if (exact and qty != 0) or qty < 0 else ([0] * n, 0.0)
    u = int(np.gcd.reduce(lot))
    R = qty // u
    q = np.arange(R + 1, dtype=np.int64) * u
    cost = np.asarray(cost_of(q), dtype=float).reshape(n, R + 1)
    table, caps, big = _feasible_table(cost, q, lot, mn, mx, remaining)
    tol = uncapped_tolerance(float(big.sum()))
    out = np.zeros(n, np.int64)
    _, units = _limited_solve(table, caps, R, tol, (qty % u == 0) and exact, out)
    if exact and qty % u:
        units = -1
    split = [int(k) * u for k in out] if units >= 0 else None
    # the odd-lot completion off the grid: one venue takes the whole remainder
    if qty == remaining and remaining % u and remaining > 0:
        with np.errstate(invalid="ignore", over="ignore"):
            c = np.array(cost_of(np.array([remaining], np.int64)), dtype=float).reshape(n)
        c = np.where((mx >= remaining) & np.isfinite(c), c, np.inf)
        if np.isfinite(c).any():
            m = float(c.min())
            i = int(np.flatnonzero(c <= m + tol)[-1])  # lexicographically smallest: the last venue
            split = [0] * n
            split[i] = remaining
            return split, float(c[i])
    if split is None:
        return ([], math.inf) if exact else ([0] * n, 0.0)
    return split, float(sum(table[i, k // u] for i, k in enumerate(split)))


def linear_costs(ask: Any, size: Any, fee: Any):
    """``cost_of`` for :func:`limited_split` with one price level per venue: ``q·(ask + fee)`` $ for
    ``q ≤ size`` (shares), inf beyond; 0 for ``q = 0`` (the spec model, DESIGN §4)."""
    c = np.asarray(ask, float) + np.asarray(fee, float)
    size = np.asarray(size, np.int64)

    def cost_of(q: np.ndarray) -> np.ndarray:
        return _linear_table(c, size, np.asarray(q, np.int64))
    return cost_of


@njit(cache=True)
def _linear_table(c: np.ndarray, size: np.ndarray, q: np.ndarray) -> np.ndarray:  # pragma: no cover - numba
    """:func:`linear_costs`' table ``(K, Q)``: ``float(q)·c`` $ where ``0 < q ≤ size``, inf beyond, 0 at ``q = 0``."""
    out = np.empty((c.shape[0], q.shape[0]))
    for i in range(c.shape[0]):
        for j in range(q.shape[0]):
            out[i, j] = 0.0 if q[j] == 0 else (float(q[j]) * c[i] if q[j] <= size[i] else _INF)
    return out
