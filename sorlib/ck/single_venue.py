"""Closed-form optimum for one venue (Cont & Kukanov, the single-exchange proposition; DESIGN §5).

With ``K = 1`` the optimum satisfies ``M + L = S`` (so there is never over-fill) and, writing
``λ = λ_u + θ`` and ``F(x) = P(ξ ≤ x)`` — the **distribution function (CDF) of the outflow ξ** — the
derivative of ``V(S − L, L)`` in ``L`` is ``(λ − h − f) − (λ + h + r)·P(ξ > Q + L)``, non-decreasing in
``L``. Hence, with ``p = (2h + f + r) / (λ + h + r)``::

    L* = clip(F⁻¹(p) − Q, 0, S),   M* = S − L*          (F⁻¹ the lower quantile, inf{x: F(x) ≥ p})

equivalently: ``λ ≤ λ_low = (2h+f+r)/F(Q+S) − (h+r)`` → all limit (``L = S``);
``λ ≥ λ_high = (2h+f+r)/F(Q) − (h+r)`` → all market (``M = S``); in between the split above. The
convention (CDF, not survival function) was verified against brute force in ``tests/test_ck_solvers.py``.
θ enters only through ``λ = λ_u + θ`` (the ``θ·S`` paid on the shares sent is a constant when
``M + L = S``) and the reported cost includes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .model import expected_cost

__all__ = ["SingleVenueResult", "single_venue_optimum"]


@dataclass(frozen=True)
class SingleVenueResult:
    """``M``, ``L`` (shares), expected ``cost`` ($), ``regime`` (``"limit"``, ``"split"``, ``"market"``),
    the quantile level ``p`` and the thresholds ``lambda_low``/``lambda_high`` ($/share) compared with
    ``λ_u + θ`` (``inf`` when ``F`` is 0 there)."""

    M: float
    L: float
    cost: float
    regime: str
    p: float
    lambda_low: float
    lambda_high: float


def _empirical(samples: np.ndarray):
    x = np.sort(np.asarray(samples, dtype=float).ravel())
    n = x.size

    def cdf(v):
        return np.searchsorted(x, v, side="right") / n

    def quantile(p):
        k = int(np.ceil(p * n - 1e-9 * n)) - 1
        return x[min(max(k, 0), n - 1)]

    return cdf, quantile


def single_venue_optimum(S: float, Q: float, F_inv_or_samples, h: float, f: float, r: float,
                         lambda_u: float, lambda_o: float = 0.0, theta: float = 0.0,
                         *, n_grid: int = 20_001) -> SingleVenueResult:
    """Closed-form optimal split for one venue (module docstring).

    ``F_inv_or_samples``: an array of outflow samples (empirical distribution — the cost is then the
    exact sample mean), a quantile function ``p ↦ F⁻¹(p)`` (shares), or an object with ``ppf``/``cdf``
    (a frozen scipy distribution) or ``quantile``/``cdf`` (:func:`sorlib.ck.outflow.fit_outflow`). For
    a quantile function the cost and thresholds are computed on ``n_grid`` mid-point quantiles.
    ``lambda_o`` does not affect the answer (no over-fill with one venue) and is accepted for symmetry.
    """
    lam = lambda_u + theta
    if lam + h + r <= 0:
        raise ValueError("need λ_u + θ + h + r > 0 (otherwise resting is never penalised)")
    quantile: Callable | None = None
    cdf = None
    if isinstance(F_inv_or_samples, np.ndarray | list | tuple):
        xs = np.asarray(F_inv_or_samples, dtype=float).ravel()
        cdf, quantile = _empirical(xs)
    else:
        obj = F_inv_or_samples
        quantile = getattr(obj, "ppf", None) or getattr(obj, "quantile", None) or obj
        cdf = getattr(obj, "cdf", None)
        u = (np.arange(n_grid) + 0.5) / n_grid
        xs = np.asarray(quantile(u), dtype=float)
        if cdf is None:
            cdf, _ = _empirical(xs)
    p = (2 * h + f + r) / (lam + h + r)
    if p > 1:
        L = S  # λ < h + f: the derivative is negative everywhere
    elif p <= 0:
        L = 0.0
    else:
        L = float(np.clip(float(quantile(p)) - Q, 0.0, S))
    M = S - L
    regime = "limit" if L >= S else ("market" if L <= 0 else "split")
    FQ, FQS = float(cdf(Q)), float(cdf(Q + S))
    lo = (2 * h + f + r) / FQS - (h + r) if FQS > 0 else np.inf
    hi = (2 * h + f + r) / FQ - (h + r) if FQ > 0 else np.inf
    cost = expected_cost(M, [L], xs[:, None], S, [Q], h, f, [r], lambda_u, lambda_o, theta)
    return SingleVenueResult(float(M), float(L), cost, regime, float(p), float(lo), float(hi))
