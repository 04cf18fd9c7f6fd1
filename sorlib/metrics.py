"""Execution metrics: cash, prices, fills, implementation shortfall, savings in bps with intervals.

Definitions (all for buys; cash in $, prices in $/share):

* cash of a fill = (price + fee) × qty, fee in $/share (+ taker fee, − maker rebate); ``total_cash``
  includes the clean-up order, whose cost is also reported alone (``cleanup_cash``).
* ``avg_fill_px`` = total_cash / shares — the all-in average price.
* implementation shortfall (bps) = (avg_fill_px − arrival mid) / arrival mid × 10⁴.
* savings of A vs baseline B (bps) = (cash_B − cash_A) / cash_B × 10⁴ for the same shares; positive
  means A was cheaper. The headline figure pools all parent orders (Σ cash); the interval is a seeded
  percentile bootstrap over parent orders of the mean per-order savings.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .engine.replay import KIND_CLEANUP, Execution


def order_columns(ex: Execution) -> dict[str, np.ndarray]:
    """Per-parent-order columns as arrays (see :func:`order_table`); numpy only, for the search workers."""
    f = ex.fills
    ids = np.array([o.order_id for o in ex.orders], np.int64)
    pos = np.searchsorted(ids, f.order_id) if len(ids) else np.empty(0, np.int64)
    n = len(ids)
    cleanup = f.kind == KIND_CLEANUP

    def per_order(values, mask=None):
        if mask is not None:
            return np.bincount(pos[mask], weights=values[mask], minlength=n)[:n]
        return np.bincount(pos, weights=values, minlength=n)[:n]

    qty = f.qty.astype(np.float64)
    shares = per_order(qty).astype(np.int64)
    total = per_order(f.cash)
    mid = np.asarray(ex.arrival_mid, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = np.where(shares > 0, total / np.where(shares > 0, shares, 1), np.nan)
        shortfall = (avg - mid) / mid * 1e4
    return {
        "order_id": ids,
        "arrival_ns": np.array([o.arrival_ns for o in ex.orders], np.int64),
        "deadline_ns": np.array([o.deadline_ns for o in ex.orders], np.int64),
        "size": np.array([o.size for o in ex.orders], np.int64),
        "shares": shares,
        "total_cash": total,
        "cleanup_shares": per_order(qty, cleanup).astype(np.int64),
        "cleanup_cash": per_order(f.cash, cleanup),
        "fees": per_order(f.fee * f.qty),
        "fills": np.bincount(pos, minlength=n)[:n].astype(np.int64),
        "arrival_mid": mid,
        "avg_fill_px": avg,
        "shortfall_bps": shortfall,
    }


def order_table(ex: Execution) -> pd.DataFrame:
    """One row per parent order: shares, cash ($), clean-up, fees ($), fills, average price ($/share),
    implementation shortfall (bps)."""
    return pd.DataFrame(order_columns(ex))


def summary(ex: Execution) -> dict:
    """Totals over all parent orders of one execution."""
    t = order_table(ex)
    f = ex.fills
    shares = int(t["shares"].sum())
    cash = float(t["total_cash"].sum())
    non_cleanup = f.kind != KIND_CLEANUP
    sizes = f.qty[non_cleanup]
    return {
        "total_cash": cash,
        "avg_fill_px": cash / shares if shares else float("nan"),
        "shares": shares,
        "ordered": int(t["size"].sum()),
        "fills": int(non_cleanup.sum()),
        "mean_fill_size": float(sizes.mean()) if sizes.size else 0.0,
        "median_fill_size": float(np.median(sizes)) if sizes.size else 0.0,
        "cleanup_shares": int(t["cleanup_shares"].sum()),
        "cleanup_cash": float(t["cleanup_cash"].sum()),
        "fees": float(t["fees"].sum()),
        "shortfall_bps_mean": float(t["shortfall_bps"].mean()) if len(t) else float("nan"),
        "venue_shares": venue_split(ex),
    }


def venue_split(ex: Execution) -> dict[str, int]:
    """Shares bought per venue key (clean-up included)."""
    f = ex.fills
    keys, inv = np.unique(f.venue, return_inverse=True)
    qty = np.zeros(keys.shape[0], np.int64)
    np.add.at(qty, inv, f.qty)
    return {str(int(k)): int(q) for k, q in zip(keys, qty, strict=True)}


def bootstrap_ci(values: np.ndarray, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (NaN when fewer than 2 values)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    rows = max(1, 65_536 // v.size)  # resamples per block: same draws as one (n_boot, n) call, cache-sized
    for s in range(0, n_boot, rows):
        m = min(rows, n_boot - s)
        means[s:s + m] = v[rng.integers(0, v.size, size=(m, v.size))].mean(axis=1)
    a = (1 - level) / 2
    return float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def savings_from_cash(cash: np.ndarray, base: np.ndarray, seed: int = 0) -> dict:
    """Savings of per-order ``cash`` vs ``base`` (same parent orders, $) in bps: pooled
    ``(Σ base − Σ cash)/Σ base·10⁴`` (exact sums), the per-order mean and its bootstrap 95% interval."""
    cash, base = np.asarray(cash, float), np.asarray(base, float)
    if cash.size == 0:
        return {"bps": math.nan, "mean_bps": math.nan, "ci95": [math.nan, math.nan], "orders": 0}
    per = (base - cash) / base * 1e4
    tb, ta = math.fsum(base), math.fsum(cash)
    lo, hi = bootstrap_ci(per, seed=seed)
    return {"bps": (tb - ta) / tb * 1e4, "mean_bps": math.fsum(per) / per.size, "ci95": [lo, hi],
            "orders": int(per.size)}


def savings_bps(ex: Execution, baseline: Execution, seed: int = 0) -> dict:
    """:func:`savings_from_cash` of two executions of the same parent orders."""
    a, b = order_columns(ex), order_columns(baseline)
    if not np.array_equal(a["order_id"], b["order_id"]):
        raise ValueError("savings need the same parent orders in both executions")
    return savings_from_cash(a["total_cash"], b["total_cash"], seed)
