"""Optimal placement ``X* = argmin_C V(X)`` on a sample of outflows: stochastic approximation (the
paper's algorithm), the exact sample-average solver (:mod:`sorlib.ck.saa`) and a brute-force grid.

``C = {0 ≤ M ≤ S, 0 ≤ L_k ≤ S − M, M + Σ_k L_k ≥ S}`` (shares): the optimum lies in ``C`` (DESIGN §5);
over-booking across venues (``Σ L_k > S − M``) is allowed.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field

import numpy as np

from .model import _xi2d, as_params, expected_cost, expected_cost_batch

__all__ = ["Placement", "optimal_placement", "project_C", "sa_placement", "brute_placement", "sa_step"]


@dataclass(frozen=True)
class Placement:
    """A placement decision: market order ``M`` and limit orders ``L`` (shares, floats — the router
    rounds them to lots), its expected cost on the sample ``cost`` ($, the mean of ``v``), the
    ``method`` that found it and solver details in ``info``."""

    M: float
    L: np.ndarray
    cost: float
    method: str
    info: dict = field(default_factory=dict)

    @property
    def total(self) -> float:
        """Shares sent, ``M + Σ L_k`` (≥ S; above S when over-booking)."""
        return float(self.M + self.L.sum())


# ---------------------------------------------------------------------------------------------------
# Euclidean projection onto C


def _project_box_part(yM: float, y: np.ndarray, S: float) -> tuple[float, np.ndarray]:
    """Exact projection onto ``C_A = {0 ≤ M ≤ S, L_k ≥ 0, L_k + M ≤ S}`` (no covering constraint).

    For fixed ``M`` the ``L`` part separates: ``L_k = clip(y_k, 0, S − M)``; the optimal ``M`` is the
    root on ``[0, S]`` of the increasing piecewise-linear ``φ(M) = M − y_M + Σ_k (y_k + M − S)⁺``, found
    exactly from the sorted breakpoints ``S − y_k``.
    """
    if yM - np.maximum(y - S, 0.0).sum() <= 0.0:  # φ(0) >= 0
        M = 0.0
    elif S - yM + np.maximum(y, 0.0).sum() <= 0.0:  # φ(S) <= 0
        M = S
    else:
        s = np.sort(y)[::-1]  # descending
        cs = np.concatenate([[0.0], np.cumsum(s - S)])  # Σ_{i<=j} (s_i − S), j = 0..K
        j = np.arange(s.size + 1)
        cand = (yM - cs) / (1.0 + j)
        lo = np.concatenate([[-np.inf], S - s])  # active set of size j needs M >= S − s_j
        hi = np.concatenate([S - s, [np.inf]])  # ... and M <= S − s_{j+1}
        ok = np.flatnonzero((cand >= lo - 1e-12 * (1 + abs(S))) & (cand <= hi + 1e-12 * (1 + abs(S))))
        M = float(np.clip(cand[ok[0]], 0.0, S))
    return M, np.clip(y, 0.0, S - M)


def project_C(M: float, L, S: float, *, tol: float = 1e-10) -> tuple[float, np.ndarray]:
    """Exact Euclidean projection of ``(M, L)`` onto ``C`` (shares).

    KKT: the projection is ``P_A(y + μ·1)`` where ``P_A`` projects onto ``C_A`` (``C`` without the
    covering constraint ``M + Σ L_k ≥ S``) and ``μ ≥ 0`` is its multiplier. ``μ = 0`` if ``P_A(y)``
    covers ``S``; otherwise ``s(μ) = 1ᵀ P_A(y + μ1)`` is continuous, non-decreasing and piecewise linear,
    and ``s(μ) = S`` is solved by safeguarded false position (exact once both ends share a linear
    piece). Accurate to ``tol·(1 + S)`` in the covering constraint.
    """
    y = np.atleast_1d(np.asarray(L, dtype=float))
    S = float(S)
    Mx, Lx = _project_box_part(float(M), y, S)
    if Mx + Lx.sum() >= S - tol * (1 + S):
        return Mx, Lx
    eps = tol * (1 + S)

    def s(mu: float) -> tuple[float, float, np.ndarray]:
        m, l_ = _project_box_part(float(M) + mu, y + mu, S)
        return m + l_.sum() - S, m, l_

    lo, flo = 0.0, Mx + Lx.sum() - S
    hi = max(S, 1.0)
    fhi, m, l_ = s(hi)
    while fhi < 0:
        lo, flo = hi, fhi
        hi *= 2.0
        fhi, m, l_ = s(hi)
    best = (m, l_)
    for it in range(200):
        if fhi <= eps:
            break
        mu = lo - flo * (hi - lo) / (fhi - flo) if fhi > flo else 0.5 * (lo + hi)
        if not (lo < mu < hi) or it % 3 == 2:  # safeguard: a bisection step every third iteration
            mu = 0.5 * (lo + hi)
        fm, m, l_ = s(mu)
        if abs(fm) <= eps:
            best = (m, l_)
            break
        if fm < 0:
            lo, flo = mu, fm
        else:
            hi, fhi, best = mu, fm, (m, l_)
        if hi - lo <= 1e-15 * max(1.0, hi):
            break
    return best


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
    the start; ``burn_in=0`` averages all iterates as in the paper; the mean is in ``C``, a convex set), with its cost evaluated on the full sample. Accuracy is that of robust SA:
    ``V(X̄) − V* = O(D·G/√n)`` with ``D`` the diameter of ``C`` and ``G`` the sub-gradient bound, so
    the cost gap shrinks like ``1/√n``. Starts at ``x0`` (default ``M = 0``, ``L_k = S/K``). The loop
    runs compiled with numba (``compiled=False``: the numpy reference loop, same iterates).
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
    if _nb is not None and compiled:
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


def optimal_placement(S: float, Q, xi_samples, h: float, f: float, r, lambda_u: float, lambda_o: float,
                      theta: float = 0.0, method: str = "sa", *, n_iter: int | None = None, seed: int = 0,
                      **kwargs) -> Placement:
    """Minimise ``V`` (mean of :func:`sorlib.ck.model.placement_cost` over ``xi_samples``) over ``C``.

    ``method``: ``"sa"`` (stochastic approximation, :func:`sa_placement`), ``"saa"`` (exact
    sample-average solver, :func:`sorlib.ck.saa.saa_placement`) or ``"brute"`` (grid, ``K ≤ 3``).
    ``xi_samples`` has shape ``(N, K)`` (or ``(N,)`` for one venue); ``Q``, ``r`` shape ``(K,)``.
    Extra keyword arguments go to the chosen solver.
    """
    if method == "sa":
        return sa_placement(S, Q, xi_samples, h, f, r, lambda_u, lambda_o, theta, n_iter=n_iter, seed=seed,
                            **kwargs)
    if method == "saa":
        from .saa import saa_placement

        return saa_placement(S, Q, xi_samples, h, f, r, lambda_u, lambda_o, theta, **kwargs)
    if method == "brute":
        return brute_placement(S, Q, xi_samples, h, f, r, lambda_u, lambda_o, theta, **kwargs)
    raise ValueError(f"unknown method {method!r} (expected 'sa', 'saa' or 'brute')")


# ---------------------------------------------------------------------------------------------------
# compiled SA loop (numba), the same algorithm as the numpy code above

try:
    import numba as _nb
except ImportError:  # pragma: no cover - numba is a project dependency
    _nb = None

if _nb is not None:

    @_nb.njit(cache=True)
    def _nb_box(yM, y, S):  # pragma: no cover - compiled
        K = y.shape[0]
        phi0 = yM
        for k in range(K):
            if y[k] - S > 0:
                phi0 -= y[k] - S
        if phi0 <= 0.0:
            M = 0.0
        else:
            phiS = S - yM
            for k in range(K):
                if y[k] > 0:
                    phiS += y[k]
            if phiS <= 0.0:
                M = S
            else:
                s = np.sort(y)[::-1]
                M = S
                cs = 0.0
                tol = 1e-12 * (1.0 + abs(S))
                for j in range(K + 1):
                    if j > 0:
                        cs += s[j - 1] - S
                    cand = (yM - cs) / (1.0 + j)
                    lo = -np.inf if j == 0 else S - s[j - 1]
                    hi = np.inf if j == K else S - s[j]
                    if cand >= lo - tol and cand <= hi + tol:
                        M = min(max(cand, 0.0), S)
                        break
        L = np.empty(K)
        for k in range(K):
            L[k] = min(max(y[k], 0.0), S - M)
        return M, L

    @_nb.njit(cache=True)
    def _nb_project(M0, y, S, tol):  # pragma: no cover - compiled
        Mx, Lx = _nb_box(M0, y, S)
        eps = tol * (1.0 + S)
        flo = Mx + Lx.sum() - S
        if flo >= -eps:
            return Mx, Lx
        lo = 0.0
        hi = max(S, 1.0)
        m, l_ = _nb_box(M0 + hi, y + hi, S)
        fhi = m + l_.sum() - S
        while fhi < 0:
            lo, flo = hi, fhi
            hi *= 2.0
            m, l_ = _nb_box(M0 + hi, y + hi, S)
            fhi = m + l_.sum() - S
        bm, bl = m, l_
        for it in range(200):
            if fhi <= eps:
                break
            mu = lo - flo * (hi - lo) / (fhi - flo) if fhi > flo else 0.5 * (lo + hi)
            if not (lo < mu < hi) or it % 3 == 2:
                mu = 0.5 * (lo + hi)
            m, l_ = _nb_box(M0 + mu, y + mu, S)
            fm = m + l_.sum() - S
            if abs(fm) <= eps:
                bm, bl = m, l_
                break
            if fm < 0:
                lo, flo = mu, fm
            else:
                hi, fhi, bm, bl = mu, fm, m, l_
            if hi - lo <= 1e-15 * max(1.0, hi):
                break
        return bm, bl

    @_nb.njit(cache=True)
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
