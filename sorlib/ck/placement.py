"""A placement decision and the feasible set ``C`` of the Cont–Kukanov model (DESIGN §5).

``C = {0 ≤ M ≤ S, 0 ≤ L_k ≤ S − M, M + Σ_k L_k ≥ S}`` (shares): the optimum lies in ``C``; over-booking
across venues (``Σ L_k > S − M``) is allowed. :func:`project_C` is the exact Euclidean projection onto
``C`` (numpy), ``_nb_project`` the same algorithm compiled for the SA loop (:mod:`sorlib.ck.sa`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba as nb
import numpy as np

__all__ = ["Placement", "project_C", "in_C"]


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


def in_C(M: float, L, S: float, tol: float = 1e-9) -> bool:
    """Whether ``(M, L)`` lies in ``C`` up to ``tol·(1 + S)`` shares."""
    L = np.atleast_1d(np.asarray(L, dtype=float))
    t = tol * (1.0 + S)
    return bool(-t <= M <= S + t and np.all(L >= -t) and np.all(L + M <= S + t) and M + L.sum() >= S - t)


# ---------------------------------------------------------------------------------------------------
# the projection compiled with numba (used inside the SA loop)


@nb.njit(cache=True)
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

@nb.njit(cache=True)
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
