"""Optimal placement ``X* = argmin_C V(X)`` on a sample of outflows: stochastic approximation (the
paper's algorithm) and a brute-force grid. :func:`sorlib.ck.optimal_placement` (:mod:`sorlib.ck.solve`)
dispatches between them, the exact sample-average solver (:mod:`sorlib.ck.saa`) and the fast local search
(:mod:`sorlib.ck.fast`).

``C = {0 ≤ M ≤ S, 0 ≤ L_k ≤ S − M, M + Σ_k L_k ≥ S}`` (shares, :mod:`sorlib.ck.placement`): the optimum
lies in ``C`` (DESIGN §5); over-booking across venues (``Σ L_k > S − M``) is allowed.
"""

from __future__ import annotations

import itertools
import math
import time

import numba as nb
import numpy as np

from .model import _xi2d, as_params, expected_cost, expected_cost_batch
from .placement import Placement, _nb_project, project_C

__all__ = ["sa_placement", "brute_placement", "sa_step"]


# ---------------------------------------------------------------------------------------------------
# stochastic approximation


def sa_step(S: float, r: np.ndarray, h: float, f: float, lambda_u: float, lambda_o: float, n_iter: int,
            theta: float = 0.0) -> float:
    """The constant step of DESIGN §5 (shares² / $):
    ``γ = √K·S / √(N·((h+f+λ_u'+λ_o)² + Σ_k (h+r_k+λ_u'+λ_o)²))`` with ``λ_u' = λ_u + θ`` and
    ``h + f``, ``h + r_k`` each raised by ``θ`` (the bounds on ``|g_M|``, ``|g_L_k|`` with impact)."""
    K = r.shape[0]
    lu = lambda_u + theta
    den = (h + f + theta + lu + lambda_o) ** 2 + float(np.sum((np.abs(h + r) + theta + lu + lambda_o) ** 2))
    return math.sqrt(K) * S / math.sqrt(n_iter * den)


def sa_placement(S: float, Q, xi_samples, h: float, f: float, r, lambda_u: float, lambda_o: float,
                 theta: float = 0.0, *, n_iter: int | None = None, seed: int = 0, step: float | None = None,
                 x0: tuple[float, np.ndarray] | None = None, burn_in: float = 0.5,
                 compiled: bool = True) -> Placement:
    """Stochastic approximation (projected sub-gradient, constant step, averaged iterates).

    ``n_iter`` draws ``ξ`` uniformly from the rows of ``xi_samples`` with ``np.random.default_rng(seed)``
    (default ``max(N, 100000)`` iterations); ``X_{i+1} = P_C(X_i − γ·g(X_i, ξ_i))`` and the answer is the
    mean of ``X_{b+1}..X_n`` (``b = burn_in·n``; default 0.5 — tail averaging, which removes the bias of
    the start; ``burn_in=0`` averages all iterates as in the paper; the mean is in ``C``, a convex set),
    with its cost evaluated on the full sample. Accuracy is that of robust SA:
    ``V(X̄) − V* = O(D·G/√n)`` with ``D`` the diameter of ``C`` and ``G`` the sub-gradient bound, so
    the cost gap shrinks like ``1/√n``. Starts at ``x0`` (default ``M = 0``, ``L_k = S/K``). The loop
    runs compiled with numba (``compiled=False``: the numpy reference loop, same iterates — a check of the
    compiled loop, not a fallback).
    Deterministic per seed. A local method: where ``V`` is not convex (``λ_o > h + r_k``) it may stop
    in a local minimum; :func:`sorlib.ck.saa.saa_placement` is the exact reference.
    """
    t0 = time.perf_counter()
    xi = np.asarray(xi_samples, dtype=float)
    K = np.atleast_1d(np.asarray(Q)).shape[0]
    xi = _xi2d(xi, K)
    S, Q, r = as_params(S, Q, r, K)
    N = xi.shape[0]
    n = int(n_iter) if n_iter is not None else max(N, 100_000)
    gamma = float(step) if step is not None else sa_step(S, r, h, f, lambda_u, lambda_o, n, theta)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, N, size=n)
    a = np.maximum(xi - Q, 0.0)  # (N, K): shares available to us per sample
    c = h + r
    lu = lambda_u + theta
    if x0 is None:
        M, L = project_C(0.0, np.full(K, S / K), S)
    else:
        M, L = project_C(x0[0], np.asarray(x0[1], float), S)
    burn = int(n * burn_in)
    if compiled:
        Mbar, Lbar = _nb_sa(a, draws.astype(np.int64), float(M), L.astype(float), S, h, f, c, lu, lambda_o,
                            theta, gamma, burn)
    else:
        sumM, sumL = 0.0, np.zeros(K)
        for i in range(n):
            ai = a[draws[i]]
            fl = np.minimum(L, ai)
            A = M + fl.sum()
            pen = -lu if A < S else (lambda_o if A > S else 0.0)
            gM = h + f + theta + pen
            gL = theta + (ai > L) * (pen - c)
            M, L = project_C(M - gamma * gM, L - gamma * gL, S)
            if i >= burn:
                sumM += M
                sumL += L
        Mbar, Lbar = sumM / (n - burn), sumL / (n - burn)
    cost = expected_cost(Mbar, Lbar, xi, S, Q, h, f, r, lambda_u, lambda_o, theta)
    return Placement(float(Mbar), Lbar, cost, "sa", {"n_iter": n, "step": gamma, "seed": seed,
                                               "seconds": time.perf_counter() - t0})


# ---------------------------------------------------------------------------------------------------
# brute force (test oracle)


def brute_placement(S: float, Q, xi_samples, h: float, f: float, r, lambda_u: float, lambda_o: float,
                    theta: float = 0.0, *, grid_step: float | None = None) -> Placement:
    """Grid search over ``M, L_k ∈ {0, δ, 2δ, ..} ∩ C`` (``δ = grid_step``, default 1 share when
    ``S ≤ 200`` else ``S/100``), for ``K ≤ 3``. With integer ``S, Q, ξ`` and ``δ = 1`` it is exact for
    ``K ≤ 2``: every kink hyperplane of ``V`` (``L_k = a``, ``M = 0``, ``M + L_k = S``,
    ``M + Σ_{k∈J} L_k = c``) has a 0/1 row that is an interval in the column order ``(L_1, M, L_2)``, so
    the arrangement's vertices — where a piecewise-linear minimum is attained — are integral.
    """
    t0 = time.perf_counter()
    K = np.atleast_1d(np.asarray(Q)).shape[0]
    if K > 3:
        raise ValueError("brute force is for K <= 3 venues")
    xi = _xi2d(xi_samples, K)
    S, Q, r = as_params(S, Q, r, K)
    d = float(grid_step) if grid_step is not None else (1.0 if S <= 200 else S / 100.0)
    g = np.arange(0.0, S + 1e-9, d)
    if g[-1] < S:
        g = np.append(g, S)
    Ms, Ls = [], []
    for M in g:
        lg = g[g <= S - M + 1e-9]
        grid = np.array(list(itertools.product(lg, repeat=K)), dtype=float).reshape(-1, K)
        grid = grid[M + grid.sum(axis=1) >= S - 1e-9]
        Ms.append(np.full(grid.shape[0], M))
        Ls.append(grid)
    Ms_a, Ls_a = np.concatenate(Ms), np.concatenate(Ls)
    V = expected_cost_batch(Ms_a, Ls_a, xi, S, Q, h, f, r, lambda_u, lambda_o, theta)
    j = int(np.argmin(V))
    return Placement(float(Ms_a[j]), Ls_a[j].copy(), float(V[j]), "brute",
                     {"grid_step": d, "candidates": int(V.size), "seconds": time.perf_counter() - t0})


# ---------------------------------------------------------------------------------------------------
# compiled SA loop (numba), the same algorithm as the numpy reference loop above


@nb.njit(cache=True)
def _nb_sa(a, draws, M, L, S, h, f, c, lu, lo_, theta, gamma, burn):  # pragma: no cover - compiled
    K = L.shape[0]
    sumM = 0.0
    sumL = np.zeros(K)
    cnt = 0
    gL = np.empty(K)
    for i in range(draws.shape[0]):
        ai = a[draws[i]]
        A = M
        for k in range(K):
            A += min(L[k], ai[k])
        pen = -lu if A < S else (lo_ if A > S else 0.0)
        gM = h + f + theta + pen
        for k in range(K):
            gL[k] = theta + ((pen - c[k]) if ai[k] > L[k] else 0.0)
        M, L = _nb_project(M - gamma * gM, L - gamma * gL, S, 1e-10)
        if i >= burn:
            sumM += M
            sumL += L
            cnt += 1
    return sumM / cnt, sumL / cnt
