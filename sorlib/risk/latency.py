"""Venue latency in decisions: how likely a displayed touch is still there when our order arrives.

Everything here reads a :class:`~sorlib.strategies.view.QuoteHistory` (``view.past.quotes``: snapshots
stamped at or before the decision), never the future.
"""

from __future__ import annotations

import numpy as np

from ..strategies.view import QuoteHistory


def touch_survival(qh: QuoteHistory, horizon_ns: np.ndarray, until_ns: int) -> np.ndarray:
    """``(K,)`` estimated survival of each venue's touch ask over its horizon ``horizon_ns[k]`` (ns).

    Samples: every snapshot ``τ`` of ``qh`` with ``τ + h_k ≤ until_ns`` at which venue k shows an ask
    ``(p, s)``; at ``τ + h_k`` (the snapshot then in force) the sample is ``min(s', s)/s`` when the ask is
    still at ``p`` with ``s'`` shares, 1 when it improved below ``p``, 0 when it moved above or emptied.
    The survival is the samples' mean; 1 without samples or with ``h_k = 0``. Example: a touch of 500 at
    10.00 that shows 200 one latency later in one sample and is gone in another: (0.4 + 0) / 2 = 0.2."""
    times = np.asarray(qh.times, np.int64)
    k_n = qh.venues.shape[0]
    out = np.ones(k_n)
    if times.shape[0] < 2:
        return out
    px, sz = qh.ask_px[:, :, 0], qh.ask_sz[:, :, 0].astype(float)
    for k in range(k_n):
        h = int(horizon_ns[k])
        if h <= 0:
            continue
        n = int(np.searchsorted(times, int(until_ns) - h, side="right"))  # samples whose horizon has passed
        if n == 0:
            continue
        p0, s0 = px[:n, k], sz[:n, k]
        ok = np.isfinite(p0) & (s0 > 0)
        if not ok.any():
            continue
        idx = np.searchsorted(times, times[:n] + h, side="right") - 1
        p1, s1 = px[idx, k], sz[idx, k]
        same = np.isfinite(p1) & (np.abs(p1 - p0) < 1e-9)
        better = np.isfinite(p1) & (p1 < p0 - 1e-9) & (s1 > 0)
        frac = np.where(same, np.minimum(s1, s0) / np.where(s0 > 0, s0, 1.0), np.where(better, 1.0, 0.0))
        out[k] = float(frac[ok].mean())
    return out


def stale_venues(qh: QuoteHistory, t_ns: int, max_age_ns: int) -> np.ndarray:
    """``(K,)`` bool: venues whose book (bid and ask touch) did not change in ``(t − max_age, t]`` although
    ``qh`` (which must start before ``t − max_age``) shows a snapshot before that window — their quote is
    older than ``max_age``. Venues with no quote at all are not stale (they are empty)."""
    times = np.asarray(qh.times, np.int64)
    k_n = qh.venues.shape[0]
    cut = int(t_ns) - int(max_age_ns)
    first_in = int(np.searchsorted(times, cut, side="right"))
    if first_in == 0 or times.shape[0] == 0:
        return np.zeros(k_n, bool)
    rows = slice(first_in - 1, times.shape[0])
    state = np.stack([np.nan_to_num(qh.bid_px[rows], nan=-1.0), qh.bid_sz[rows].astype(float),
                      np.nan_to_num(qh.ask_px[rows][:, :, 0], nan=-1.0), qh.ask_sz[rows][:, :, 0].astype(float)])
    changed = (np.diff(state, axis=1) != 0).any(axis=(0, 1))
    quoting = (state[0, -1] > 0) | (state[2, -1] > 0)
    return ~changed & quoting
