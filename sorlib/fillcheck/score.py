"""Scores of predicted against realised fills: buckets, rates, bias, calibration error, Brier, markouts.

For orders ``i`` in a set, with posted size ``L_i`` (shares), realised fill ``r_i`` and predicted fill ``p_i``
(shares) by a horizon:

* fill rate = Σ fills / Σ L (shares executed per share posted), realised and predicted;
* bias = predicted rate − realised rate, in percentage points;
* calibration error = Σ_b S_b·|pred_b − real_b| / Σ_b S_b over the queue-ahead buckets b (S_b = shares
  posted in b), percentage points;
* Brier = mean over orders of (p_i/L_i − r_i/L_i)² (fractions; 0 is perfect).

Buckets of Q/L (queue ahead over order size, DESIGN §10): ≤0.5, 0.5–1, 1–2, 2–5, 5–20, >20 (upper bounds
inclusive).

Markouts (bps) of a fill of a resting order on side ``s`` (+1 bid, −1 ask) at time ``t``:
``s·(mid(t + h) − mid(t⁻))/mid(t⁻)·10⁴`` with ``mid(t⁻)`` the venue's mid just before the filling event and
``mid(t + h)`` the last mid at or before t + h; share-weighted mean. Positive = the mid moved in the resting
order's favour; adverse selection shows as negative. Fills whose t + h is after the data end are left out.
"""

from __future__ import annotations

import numpy as np

from ..data.order_events import OrderEvents

BUCKET_EDGES = (0.5, 1.0, 2.0, 5.0, 20.0)
BUCKET_LABELS = ("<=0.5", "0.5-1", "1-2", "2-5", "5-20", ">20")


def buckets(ahead: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Bucket index (0..5) of Q/L per order (:data:`BUCKET_LABELS`)."""
    ratio = np.asarray(ahead, np.float64) / np.maximum(np.asarray(size, np.float64), 1.0)
    return np.searchsorted(np.asarray(BUCKET_EDGES), ratio, side="left")


def rates(real: np.ndarray, pred: np.ndarray, size: np.ndarray, bucket: np.ndarray) -> dict:
    """Scores of one model at one horizon over the orders given (module docstring).

    Returns ``n``, ``shares``, ``realised``/``predicted`` (rates, fractions), ``bias_pp``, ``calib_pp``,
    ``brier`` and ``buckets``: one dict per non-empty bucket (label, n, shares, realised, predicted, bias_pp)."""
    size = np.asarray(size, np.float64)
    real, pred = np.asarray(real, np.float64), np.asarray(pred, np.float64)
    S = size.sum()
    out = {"n": int(size.size), "shares": int(S)}
    if S <= 0:
        return out | {"realised": np.nan, "predicted": np.nan, "bias_pp": np.nan, "calib_pp": np.nan,
                      "brier": np.nan, "buckets": []}
    rows, gap = [], 0.0
    for b, label in enumerate(BUCKET_LABELS):
        m = bucket == b
        sb = size[m].sum()
        if sb <= 0:
            continue
        rb, pb = real[m].sum() / sb, pred[m].sum() / sb
        gap += sb * abs(pb - rb)
        rows.append({"bucket": label, "n": int(m.sum()), "shares": int(sb), "realised": rb, "predicted": pb,
                     "bias_pp": 100.0 * (pb - rb)})
    rr, pr = real.sum() / S, pred.sum() / S
    brier = float(np.mean((pred / size - real / size) ** 2))
    return out | {"realised": rr, "predicted": pr, "bias_pp": 100.0 * (pr - rr), "calib_pp": 100.0 * gap / S,
                  "brier": brier, "buckets": rows}


class Mids:
    """Each venue's mid ($) after every event of an :class:`OrderEvents` table (rows with a two-sided best)."""

    def __init__(self, ev: OrderEvents) -> None:
        mid = 0.5 * (ev.best_bid + ev.best_ask)
        ok = np.isfinite(mid) & (ev.best_ask > ev.best_bid)
        self._v = {int(v): (ev.ts[ok & (ev.venue == v)], mid[ok & (ev.venue == v)]) for v in np.unique(ev.venue)}
        self.end = int(ev.ts[-1]) if len(ev) else 0

    def at(self, venue: np.ndarray, t: np.ndarray, before: bool = False) -> np.ndarray:
        """Mid as of ``t`` (ns; ``before``: strictly before ``t``), NaN when none or past the data end."""
        out = np.full(t.shape[0], np.nan)
        for v, (ts, mid) in self._v.items():
            m = venue == v
            if not m.any() or ts.size == 0:
                continue
            j = np.searchsorted(ts, t[m], side="left" if before else "right") - 1
            out[m] = np.where((j >= 0) & (t[m] <= self.end), mid[np.maximum(j, 0)], np.nan)
        return out


def markouts(mids: Mids, venue, side, t, qty, horizons_s=(1, 10, 60)) -> dict:
    """Share-weighted markouts (bps, module docstring) of fills (venue, side, t ns, qty shares) at each
    horizon, with the number of fills and shares used."""
    venue, side, t = np.asarray(venue), np.asarray(side, np.float64), np.asarray(t, np.int64)
    qty = np.asarray(qty, np.float64)
    m0 = mids.at(venue, t, before=True)
    out = {"fills": int(t.size), "shares": int(qty.sum())}
    for h in horizons_s:
        mh = mids.at(venue, t + int(round(h * 1e9)))
        mk = side * (mh - m0) / m0 * 1e4
        ok = np.isfinite(mk) & (qty > 0)
        out[f"{h:g}s"] = float(np.sum(mk[ok] * qty[ok]) / qty[ok].sum()) if ok.any() else np.nan
    return out
