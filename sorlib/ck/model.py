"""The Cont–Kukanov placement cost (R. Cont & A. Kukanov, "Optimal order placement in limit order
markets", arXiv:1210.1625; DESIGN §5).

A buy of ``S`` shares within a horizon ``T`` is split, at time 0, into a market order ``M`` and limit
orders ``L_k`` joining the back of venue *k*'s best-bid queue of ``Q_k`` shares. ``ξ_k`` is the outflow of
that queue over ``[0, T]`` (trades plus cancellations ahead, shares). With ``a_k = (ξ_k − Q_k)⁺``::

    fill_k = min(L_k, a_k) = (ξ_k − Q_k)⁺ − (ξ_k − Q_k − L_k)⁺          (shares)
    A      = M + Σ_k fill_k                                              (executed shares)
    v(X, ξ) = (h + f)·M − Σ_k (h + r_k)·fill_k
              + λ_u·(S − A)⁺ + λ_o·(A − S)⁺
              + θ·(M + Σ_k L_k + (S − A)⁺)                               ($)

and ``V(X) = E[v(X, ξ)]`` (here: the mean over a sample of outflows). Units: ``h`` half-spread, ``f``
taker fee, ``r_k`` maker rebate, ``λ_u``, ``λ_o``, ``θ`` — all $/share; ``S, Q_k, M, L_k, ξ_k`` shares.
The cost is measured against the mid price, so a market order costs ``h + f`` per share and a filled
limit order earns ``h + r_k``. Workbook names: ``lambda_under = λ_u``, ``lambda_over = λ_o``,
``theta_queue = θ`` (the linear impact of the paper's published version: it charges every share sent,
``M + Σ L_k``, plus the shortfall ``(S − A)⁺`` that must be bought later, so ``θ`` adds to ``λ_u``).

Sub-gradient per sample (DESIGN §5), with ``λ_u' = λ_u + θ``::

    g_M   = h + f + θ − λ_u'·1{A < S} + λ_o·1{A > S}
    g_L_k = θ + 1{ξ_k > Q_k + L_k}·(−(h + r_k) − λ_u'·1{A < S} + λ_o·1{A > S})

Convexity (checked in the tests): ``V`` is convex on ``C`` when ``λ_o ≤ h + r_k`` and
``λ_u + θ + h + r_k ≥ 0`` for every *k*; when ``λ_o > h + r_k`` (the usual setting, e.g. DESIGN §8's
penalty grid) ``V`` is in general *not* convex — along ``L_k`` with other venues already over-booked the
slope is ``(λ_o − h − r_k)·P(ξ_k > Q_k + L_k)``, positive and decreasing. :mod:`sorlib.ck.saa` therefore
solves the sample problem as a mixed-integer program, not as a convex one.
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_params", "fills", "placement_cost", "expected_cost", "expected_cost_batch", "subgradient"]


def as_params(S: float, Q, r, K: int | None = None) -> tuple[float, np.ndarray, np.ndarray]:
    """Validate and broadcast ``(S, Q, r)``: ``Q``, ``r`` become float arrays of shape ``(K,)``."""
    Q = np.atleast_1d(np.asarray(Q, dtype=float))
    if K is None:
        K = Q.shape[0]
    Q = np.broadcast_to(Q, (K,)).astype(float)
    r = np.broadcast_to(np.asarray(r, dtype=float), (K,)).astype(float)
    if not np.isfinite(S) or S < 0:
        raise ValueError(f"S must be a finite non-negative number of shares, got {S!r}")
    if np.any(~np.isfinite(Q)) or np.any(Q < 0):
        raise ValueError("queue sizes Q must be finite and >= 0")
    return float(S), Q, r


def _xi2d(xi, K: int) -> np.ndarray:
    xi = np.asarray(xi, dtype=float)
    if xi.ndim == 1:
        xi = xi[:, None] if K == 1 else xi[None, :]
    if xi.ndim != 2 or xi.shape[1] != K:
        raise ValueError(f"xi must have shape (N, K={K}), got {xi.shape}")
    return xi


def fills(L, xi, Q) -> np.ndarray:
    """``min(L_k, (ξ_k − Q_k)⁺)`` per sample and venue, shape ``(N, K)`` (shares)."""
    L = np.asarray(L, dtype=float)
    Q = np.asarray(Q, dtype=float)
    return np.minimum(L, np.maximum(_xi2d(xi, L.shape[-1]) - Q, 0.0))


def placement_cost(M: float, L, xi, S: float, Q, h: float, f: float, r, lambda_u: float,
                   lambda_o: float, theta: float = 0.0) -> np.ndarray:
    """Per-sample cost ``v(X, ξ_n)`` ($) of ``X = (M, L)`` for outflow samples ``xi`` of shape ``(N, K)``."""
    L = np.atleast_1d(np.asarray(L, dtype=float))
    S, Q, r = as_params(S, Q, r, L.shape[0])
    fl = fills(L, xi, Q)
    A = M + fl.sum(axis=1)
    under = np.maximum(S - A, 0.0)
    over = np.maximum(A - S, 0.0)
    return ((h + f) * M - fl @ (h + r) + lambda_u * under + lambda_o * over
            + theta * (M + L.sum() + under))


def expected_cost(M: float, L, xi, S: float, Q, h: float, f: float, r, lambda_u: float,
                  lambda_o: float, theta: float = 0.0) -> float:
    """``V(X)``: the mean of :func:`placement_cost` over the samples ($)."""
    return float(placement_cost(M, L, xi, S, Q, h, f, r, lambda_u, lambda_o, theta).mean())


def expected_cost_batch(Ms, Ls, xi, S: float, Q, h: float, f: float, r, lambda_u: float,
                        lambda_o: float, theta: float = 0.0, chunk: int = 2_000_000) -> np.ndarray:
    """``V`` at many candidates at once: ``Ms`` shape ``(P,)``, ``Ls`` shape ``(P, K)`` → ``(P,)``.

    Works in chunks of about ``chunk`` (candidate × sample) cells to bound memory.
    """
    Ms = np.asarray(Ms, dtype=float)
    Ls = np.asarray(Ls, dtype=float)
    P, K = Ls.shape
    S, Q, r = as_params(S, Q, r, K)
    a = np.maximum(_xi2d(xi, K) - Q, 0.0)  # (N, K)
    N = a.shape[0]
    out = np.empty(P)
    step = max(1, chunk // max(1, N * K))
    for i in range(0, P, step):
        Lc, Mc = Ls[i:i + step], Ms[i:i + step]
        fl = np.minimum(Lc[:, None, :], a[None, :, :])  # (p, N, K)
        A = Mc[:, None] + fl.sum(axis=2)
        under = np.maximum(S - A, 0.0)
        over = np.maximum(A - S, 0.0)
        v = (-(fl @ (h + r)) + (lambda_u + theta) * under + lambda_o * over).mean(axis=1)
        out[i:i + step] = v + (h + f + theta) * Mc + theta * Lc.sum(axis=1)
    return out


def subgradient(M: float, L, xi, S: float, Q, h: float, f: float, r, lambda_u: float,
                lambda_o: float, theta: float = 0.0) -> np.ndarray:
    """Sample-mean sub-gradient ``(g_M, g_L_1..g_L_K)`` of ``V`` at ``X`` ($/share), shape ``(K + 1,)``.

    Per sample (module docstring): ``g_M = h + f + θ − (λ_u + θ)·1{A<S} + λ_o·1{A>S}`` and
    ``g_L_k = θ + 1{ξ_k > Q_k + L_k}·(−(h + r_k) − (λ_u + θ)·1{A<S} + λ_o·1{A>S})``. It equals the
    gradient wherever no sample sits on a kink (``ξ_k = Q_k + L_k`` or ``A = S``).
    """
    L = np.atleast_1d(np.asarray(L, dtype=float))
    S, Q, r = as_params(S, Q, r, L.shape[0])
    xi = _xi2d(xi, L.shape[0])
    fl = np.minimum(L, np.maximum(xi - Q, 0.0))
    A = M + fl.sum(axis=1)
    pen = -(lambda_u + theta) * (A < S) + lambda_o * (A > S)  # (N,)
    g_M = h + f + theta + pen.mean()
    live = xi > Q + L  # (N, K)
    g_L = theta + (live * (-(h + r) + pen[:, None])).mean(axis=0)
    return np.concatenate([[g_M], g_L])
