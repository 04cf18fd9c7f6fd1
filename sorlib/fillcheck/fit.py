"""Fit a queue model's free exponent to order-level truth: minimise calibration error on a training half.

Per venue, the candidates of the scored class are split by arrival time: the first half (by count) trains,
the second half tests (:func:`split_halves`). For ``power`` (n of f(x) = xⁿ), ``power2`` and ``power3`` (the cancel-position
exponent), :func:`fit_exponent` evaluates the share-weighted calibration error (:func:`.score.rates`), averaged
over the horizons, on the training orders for n on a log grid over [0.05, 50], then on a finer grid around
the best point, and keeps the smallest (ties: the n closest to 1). The test half is never read while fitting.
"""

from __future__ import annotations

import numpy as np

from .events import Candidates, Streams
from .predict import ModelSpec, predict
from .score import rates

GRID = np.geomspace(0.05, 50.0, 31)


def split_halves(cands: Candidates, among: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of the training half: per venue, the first ⌈n/2⌉ of the candidates in ``among`` (default:
    all) by arrival time; a candidate outside ``among`` trains when it arrives no later than its venue's last
    training candidate (the same cut in time for every class)."""
    among = np.ones(len(cands), bool) if among is None else np.asarray(among, bool)
    train = np.zeros(len(cands), bool)
    for v in np.unique(cands.venue):
        vm = cands.venue == v
        idx = np.flatnonzero(vm & among)
        if idx.size == 0:
            continue
        idx = idx[np.argsort(cands.ts[idx], kind="stable")]
        first = idx[: (idx.size + 1) // 2]
        train[first] = True
        train |= vm & ~among & (cands.ts <= cands.ts[first[-1]])
    return train


def objective(st: Streams, cands: Candidates, spec: ModelSpec, n: float, horizons_s, real: np.ndarray,
              valid: np.ndarray, mask: np.ndarray, bucket: np.ndarray) -> float:
    """Mean over horizons of the calibration error (points) of ``spec`` with exponent ``n`` on ``mask``."""
    sel = np.flatnonzero(mask)
    pred = predict(st, cands, spec, horizons_s, n=np.full(len(cands), float(n)), sel=sel).fills
    errs = []
    for h in range(len(horizons_s)):
        m = mask & valid[:, h]
        if m.any():
            errs.append(rates(real[m, h], pred[m, h], cands.size[m], bucket[m])["calib_pp"])
    return float(np.mean(errs)) if errs else np.nan


def fit_exponent(st: Streams, cands: Candidates, kind: str, horizons_s, real: np.ndarray, valid: np.ndarray,
                 train: np.ndarray, bucket: np.ndarray) -> dict:
    """Best exponent of ``kind`` on the ``train`` orders: ``{"n", "train_calib_pp", "grid": [(n, err)...]}``
    (``n`` None when no training order is valid)."""
    spec = ModelSpec(kind, 1.0)
    f = {}

    def err(n: float) -> float:
        if n not in f:
            f[n] = objective(st, cands, spec, n, horizons_s, real, valid, train, bucket)
        return f[n]

    coarse = [err(float(n)) for n in GRID]
    if not np.isfinite(coarse).any():
        return {"n": None, "train_calib_pp": None, "grid": []}
    i = int(np.nanargmin(coarse))
    lo, hi = GRID[max(i - 1, 0)], GRID[min(i + 1, GRID.size - 1)]
    for n in np.geomspace(lo, hi, 13):
        err(float(n))
    pts = sorted(f.items())
    best = min(pts, key=lambda kv: (kv[1], abs(np.log(kv[0]))))
    return {"n": float(best[0]), "train_calib_pp": float(best[1]), "grid": [(float(n), float(e)) for n, e in pts]}
