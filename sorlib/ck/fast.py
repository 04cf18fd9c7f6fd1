"""Fast placement: a deterministic, compiled local search on the exact sample-average cost.

``V_N(M, L) = α·M + θ·Σ_k L_k + Σ_n w_n·[−Σ_k c_k·min(L_k, a_nk) + λ_u'·(S − A_n)⁺ + λ_o·(A_n − S)⁺]``
with ``a_nk = min((ξ_nk − Q_k)⁺, S)``, ``A_n = M + Σ_k min(L_k, a_nk)``, ``α = h + f + θ``, ``c_k = h + r_k``,
``λ_u' = λ_u + θ`` and ``w_n`` the weight of each distinct sample row (identical rows merged) — the same
function as :func:`sorlib.ck.model.expected_cost`, piecewise linear in ``(M, L)``.

The search moves along a fixed set of directions with entries in ``{−1, 0, 1}``: ``±M``, ``±L_k``, market
for limit ``±(L_k − M)``, venue swaps ``L_k − L_j`` and all venues together ``±Σ_k L_k``, ``±(Σ_k L_k − M)``.
On each line ``V_N`` is piecewise linear with known kinks (a sample's fill saturates at ``L_k = a_nk``, a
sample's executed total crosses ``S``), so the line search is exact and *global on the line* — it jumps
over the humps of the non-convex case ``λ_o > h + r_k`` — by one sorted sweep of the kinks. A move is
taken when it lowers ``V_N``. When no fixed direction does, the search tries the edges of the kink
arrangement through the point (null vectors of ``K`` of the active kink/boundary hyperplanes, whose normals
are 0/1 vectors; in the convex case a point where no edge improves is a global minimum, provided all
``K``-subsets fit in ``max_sets``). It starts from
all market, each venue alone at its single-venue closed form, all limit (every ``L_k = S``), half market
with every ``L_k = S/2``, and every venue at its median fill; the best end point is polished with the edge
directions.

With integer ``S`` and integer outflows and queues every kink lies on the integer lattice and so does every
iterate: the answer is a whole-share placement in ``C`` (the continuous optimum may sit on a half share:
the gap is then a fraction of a cent). In the non-convex case it is a local method, not a proof of
optimality: :func:`sorlib.ck.saa.saa_placement` is the exact reference; ``tests/test_ck_fast.py`` and
``benchmarks/bench_ck_replay.py`` measure the gap to it against the stated tolerance, cost ≤ V* +
max(0.1 % of |V*|, $0.10) per decision. Measured: every decision of the router on the default day is exact
(gap < 1e-11 $); seeded random cases with K ≤ 3 (convex and non-convex) are exact up to the half-share
effect; on adversarial non-convex cases with K = 4–5 and λ_o ≫ h + r_k, one in 40 stopped in a local
minimum ($0.74 above V* = $1.70), and ``bench_ck.py --samples 60``'s K = 10, λ_o = 0.05 case ends $0.11
above V* = $4.16 (SA with 20k iterations: $0.58 above).
"""

from __future__ import annotations

import functools
import time

import numba as nb
import numpy as np

from .model import _xi2d, as_params
from .placement import Placement

__all__ = ["fast_placement"]


@functools.lru_cache(maxsize=32)
def _directions(K: int) -> np.ndarray:
    """The fixed directions, rows ``(d_M, d_L_1..d_L_K)``: ``±M``, ``±L_k``, ``±(L_k − M)``, ``L_k − L_j``
    and all venues together ``±Σ L``, ``±(Σ L − M)``."""
    out = []

    def row(dM, *pairs):
        r = np.zeros(K + 1)
        r[0] = dM
        for k, v in pairs:
            r[k + 1] = v
        out.append(r)

    row(1)
    row(-1)
    for k in range(K):
        row(0, (k, 1))
        row(0, (k, -1))
        row(-1, (k, 1))
        row(1, (k, -1))
    for k in range(K):
        for j in range(K):
            if j != k:
                row(0, (k, 1), (j, -1))
    if K > 1:
        allv = [(k, 1) for k in range(K)]
        alln = [(k, -1) for k in range(K)]
        row(0, *allv)
        row(0, *alln)
        row(-1, *allv)
        row(1, *alln)
    return np.array(out)


@nb.njit(cache=True)
def _value(a, w, M, L, S, alpha, theta, c, lu, lo):  # pragma: no cover - compiled
    Nu, K = a.shape
    v = alpha * M
    for k in range(K):
        v += theta * L[k]
    for n in range(Nu):
        A = M
        R = 0.0
        for k in range(K):
            fk = min(L[k], a[n, k])
            A += fk
            R += c[k] * fk
        pen = lu * (S - A) if A < S else lo * (A - S)
        v += w[n] * (pen - R)
    return v


@nb.njit(cache=True)
def _gslope(A, sigma, S, lu, lo, eps):  # pragma: no cover - compiled
    """Right derivative of ``g(A) = λ_u'(S − A)⁺ + λ_o(A − S)⁺`` along slope ``sigma`` at ``A``."""
    if A < S - eps:
        return -lu * sigma
    if A > S + eps:
        return lo * sigma
    if sigma > 0:
        return lo * sigma
    if sigma < 0:
        return -lu * sigma
    return 0.0


@nb.njit(cache=True)
def _line(a, w, M, L, S, alpha, theta, c, lu, lo, d, ev_t, ev_d, kt, kv, kk, eps, An):  # pragma: no cover - compiled
    """Exact global minimum of ``V_N`` on the segment ``X + t·d``, ``t ∈ [0, t_max]`` (``d = (d_M, d_L)``,
    ``t_max``: the boundary of ``C``; ``An``: each sample's executed total at ``X``, :func:`_totals`).
    Returns ``(t*, V(t*) − V(X))`` (``t* = 0`` if nothing is lower)."""
    Nu, K = a.shape
    dM = d[0]
    tmax = np.inf
    if dM > 0:
        tmax = min(tmax, (S - M) / dM)
    elif dM < 0:
        tmax = min(tmax, M / (-dM))
    dd = dM  # slope of M + Σ L
    slope = alpha * dM
    nmov = 0
    for k in range(K):
        dk = d[k + 1]
        dd += dk
        slope += theta * dk
        if dk < 0:
            tmax = min(tmax, L[k] / (-dk))
        s = dM + dk  # M + L_k <= S
        if s > 0:
            tmax = min(tmax, (S - M - L[k]) / s)
        if dk != 0.0:
            kk[nmov] = k
            nmov += 1
    if dd < 0:  # covering M + Σ L >= S
        tot = M
        for k in range(K):
            tot += L[k]
        tmax = min(tmax, (tot - S) / (-dd))
    if not tmax > eps:
        return 0.0, 0.0
    ne = 0
    for n in range(Nu):
        A = An[n]
        # each moving venue: fill slope now (sigma, rho) and, at its kink kt[i], a change of slope
        sigma = dM
        rho = 0.0
        nk = 0
        for i in range(nmov):
            k = kk[i]
            dk, x, av = d[k + 1], L[k], a[n, k]
            if dk > 0:
                if x < av:
                    sigma += dk
                    rho += c[k] * dk
                    kt[nk] = (av - x) / dk
                    kv[nk] = k
                    nk += 1
            elif x > av:
                kt[nk] = (x - av) / (-dk)
                kv[nk] = k
                nk += 1
            else:
                sigma += dk
                rho += c[k] * dk
        # kinks in time order (insertion sort; nk <= K)
        for i in range(1, nk):
            tv, kv_ = kt[i], kv[i]
            j = i - 1
            while j >= 0 and kt[j] > tv:
                kt[j + 1] = kt[j]
                kv[j + 1] = kv[j]
                j -= 1
            kt[j + 1] = tv
            kv[j + 1] = kv_
        t = 0.0
        D = w[n] * (_gslope(A, sigma, S, lu, lo, eps) - rho)
        slope += D
        i = 0
        while True:
            tn = kt[i] if i < nk else np.inf
            if tn > tmax:
                tn = tmax
            if sigma != 0.0:  # a crossing of S inside (t, tn)
                tc = t + (S - A) / sigma
                if tc > t + eps and tc < tn - eps:
                    Dn = w[n] * (_gslope(S, sigma, S, lu, lo, eps) - rho)
                    ev_t[ne] = tc
                    ev_d[ne] = Dn - D
                    ne += 1
                    D = Dn
            if tn >= tmax:
                break
            A += sigma * (tn - t)
            t = tn
            while i < nk and kt[i] <= tn:  # the fill of venue kv[i] saturates (d > 0) or starts to drop
                k = kv[i]
                sigma += -d[k + 1] if d[k + 1] > 0 else d[k + 1]
                rho += c[k] * (-d[k + 1] if d[k + 1] > 0 else d[k + 1])
                i += 1
            Dn = w[n] * (_gslope(A, sigma, S, lu, lo, eps) - rho)
            if Dn != D:
                ev_t[ne] = t
                ev_d[ne] = Dn - D
                ne += 1
                D = Dn
    order = np.argsort(ev_t[:ne])
    best_t, best_dv = 0.0, 0.0
    v, tp = 0.0, 0.0
    for i in range(ne):
        te = ev_t[order[i]]
        v += slope * (te - tp)
        tp = te
        if v < best_dv:
            best_dv, best_t = v, te
        slope += ev_d[order[i]]
    v += slope * (tmax - tp)
    if v < best_dv:
        best_dv, best_t = v, tmax
    return best_t, best_dv


@nb.njit(cache=True)
def _totals(a, M, L, An):  # pragma: no cover - compiled
    """``A_n = M + Σ_k min(L_k, a_nk)`` per sample into ``An`` (the same sums, in the same order, as
    :func:`_value`)."""
    Nu, K = a.shape
    for n in range(Nu):
        A = M
        for k in range(K):
            A += min(L[k], a[n, k])
        An[n] = A


@nb.njit(cache=True)
def _feasible(M, L, S, eps):  # pragma: no cover - compiled
    if M < -eps or M > S + eps:
        return False
    tot = M
    for k in range(L.shape[0]):
        if L[k] < -eps or M + L[k] > S + eps:
            return False
        tot += L[k]
    return tot >= S - eps


@nb.njit(cache=True)
def _null_vector(A, out):  # pragma: no cover - compiled
    """A vector spanning the null space of the ``K × (K+1)`` matrix ``A`` (rank ``K``), scaled to small
    integers when it is rational with a small denominator; returns ``False`` if the rank is below ``K``."""
    K, n = A.shape
    B = A.copy()
    piv = np.full(K, -1, np.int64)
    r = 0
    for col in range(n):
        if r == K:
            break
        best, bi = 1e-12, -1
        for i in range(r, K):
            if abs(B[i, col]) > best:
                best, bi = abs(B[i, col]), i
        if bi < 0:
            continue
        for j in range(n):
            B[r, j], B[bi, j] = B[bi, j], B[r, j]
        pv = B[r, col]
        for j in range(n):
            B[r, j] /= pv
        for i in range(K):
            if i != r and B[i, col] != 0.0:
                fct = B[i, col]
                for j in range(n):
                    B[i, j] -= fct * B[r, j]
        piv[r] = col
        r += 1
    if r < K:
        return False
    free = -1
    used = np.zeros(n, np.bool_)
    for i in range(K):
        used[piv[i]] = True
    for j in range(n):
        if not used[j]:
            free = j
            break
    for j in range(n):
        out[j] = 0.0
    out[free] = 1.0
    for i in range(K):
        out[piv[i]] = -B[i, free]
    mx = 0.0
    for j in range(n):
        mx = max(mx, abs(out[j]))
    for j in range(n):
        out[j] /= mx
    for m in range(1, 13):  # small integer form (the normals are 0/1, the null vector is rational)
        ok = True
        for j in range(n):
            x = out[j] * m
            if abs(x - np.round(x)) > 1e-9:
                ok = False
                break
        if ok:
            for j in range(n):
                out[j] = np.round(out[j] * m)
            break
    return True


@nb.njit(cache=True)
def _active_normals(a, M, L, S, eps):  # pragma: no cover - compiled
    """Bit masks (bit 0: ``M``, bit ``k+1``: ``L_k``) of the 0/1 normals of the kink and boundary
    hyperplanes through ``(M, L)``: ``M = 0 | S``, ``L_k = 0``, ``L_k = a_nk``, ``M + L_k = S``,
    ``M + Σ L = S`` and, for a sample with ``A_n = S``, ``M + Σ_{L_k < a_nk} L_k`` (both pieces where some
    ``L_k = a_nk``)."""
    Nu, K = a.shape
    out = np.empty(4 * K + 2 * Nu + 4, np.int64)
    m = 0
    if M <= eps or M >= S - eps:
        out[m] = 1
        m += 1
    tot = M
    for k in range(K):
        tot += L[k]
        hit = L[k] <= eps or M + L[k] >= S - eps
        if not hit:
            for n in range(Nu):
                if abs(L[k] - a[n, k]) <= eps:
                    hit = True
                    break
        if L[k] <= eps or hit:
            out[m] = 1 << (k + 1)
            m += 1
        if M + L[k] >= S - eps:
            out[m] = 1 | (1 << (k + 1))
            m += 1
    if abs(tot - S) <= eps:
        out[m] = (1 << (K + 1)) - 1
        m += 1
    for n in range(Nu):
        A = M
        for k in range(K):
            A += min(L[k], a[n, k])
        if abs(A - S) > eps:
            continue
        strict, loose = 1, 1
        for k in range(K):
            if L[k] < a[n, k] - eps:
                strict |= 1 << (k + 1)
                loose |= 1 << (k + 1)
            elif L[k] <= a[n, k] + eps:
                loose |= 1 << (k + 1)
        out[m] = strict
        m += 1
        if loose != strict:
            out[m] = loose
            m += 1
    res = np.unique(out[:m])
    return res


@nb.njit(cache=True)
def _edge_dirs(a, M, L, S, eps, max_sets):  # pragma: no cover - compiled
    """Directions of the edges of the kink arrangement through ``(M, L)``: the null vectors of every ``K``
    of the active normals (at most ``max_sets`` subsets), both signs, without repeats."""
    K = L.shape[0]
    nrm = _active_normals(a, M, L, S, eps)
    m = nrm.shape[0]
    dirs = np.zeros((2 * max_sets, K + 1))
    nd = 0
    if m < K:
        return dirs[:0]
    idx = np.arange(K)
    A = np.empty((K, K + 1))
    v = np.empty(K + 1)
    sets = 0
    while sets < max_sets:
        for i in range(K):
            for j in range(K + 1):
                A[i, j] = 1.0 if (nrm[idx[i]] >> j) & 1 else 0.0
        sets += 1
        if _null_vector(A, v):
            for sg in (1.0, -1.0):
                dup = False
                for q in range(nd):
                    same = True
                    for j in range(K + 1):
                        if dirs[q, j] != sg * v[j]:
                            same = False
                            break
                    if same:
                        dup = True
                        break
                if not dup:
                    for j in range(K + 1):
                        dirs[nd, j] = sg * v[j]
                    nd += 1
        # next K-subset of range(m) in lexicographic order
        i = K - 1
        while i >= 0 and idx[i] == m - K + i:
            i -= 1
        if i < 0:
            break
        idx[i] += 1
        for j in range(i + 1, K):
            idx[j] = idx[j - 1] + 1
    return dirs[:nd]


@nb.njit(cache=True)
def _step(a, w, M, L, v, S, alpha, theta, c, lu, lo, d, ev_t, ev_d, kt, kv, kk, Ln, integral, tol, eps, An):
    """One exact line search along ``d``; returns ``(moved, M, V)`` and writes the new ``L`` into ``Ln``.
    On the integer lattice the best of ``⌊t*⌋``, ``⌈t*⌉`` is taken (``d`` has integer entries)."""  # noqa: D401
    t, dv = _line(a, w, M, L, S, alpha, theta, c, lu, lo, d, ev_t, ev_d, kt, kv, kk, eps, An)
    if not (t > 0.0 and dv < -tol):
        return False, M, v
    K = L.shape[0]
    bestv, bestM = v, M
    moved = False
    Lc = np.empty(K)
    nt = 2 if integral else 1
    for q in range(nt):
        tt = t
        if integral:
            tt = np.floor(t + 1e-9) if q == 0 else np.ceil(t - 1e-9)
            if tt <= 0.0 or (q == 1 and tt == np.floor(t + 1e-9)):
                continue
        Mc = M + d[0] * tt
        for k in range(K):
            Lc[k] = L[k] + d[k + 1] * tt
        if integral:
            Mc = np.round(Mc)
            for k in range(K):
                Lc[k] = np.round(Lc[k])
        if not _feasible(Mc, Lc, S, eps):
            continue
        Mc = min(max(Mc, 0.0), S)
        for k in range(K):
            Lc[k] = min(max(Lc[k], 0.0), S - Mc)
        vc = _value(a, w, Mc, Lc, S, alpha, theta, c, lu, lo)
        if vc < bestv - tol:
            bestv, bestM, moved = vc, Mc, True
            for k in range(K):
                Ln[k] = Lc[k]
    return moved, bestM, bestv


@nb.njit(cache=True)
def _local_search(a, w, M, L, S, alpha, theta, c, lu, lo, dirs, integral, tol, max_moves, max_sets,
                  stalled, memo, sid):  # pragma: no cover - compiled
    # max_sets = 0: fixed directions only
    """Take improving exact line-search steps along ``dirs`` (and, when they stall, along the edges of the
    kink arrangement through the point) until none improves or ``max_moves``; returns ``(M, L, V, moves,
    stalled)``. ``stalled`` (in and out): every fixed direction is known to fail at ``(M, L)``.

    The search is deterministic and skips only line searches whose outcome it already knows, so the result
    is the same step for step: (1) once all ``D`` fixed directions failed in a row at the same point (across
    the end of a pass), the rest of the pass would repeat them there and is skipped; (2) with ``memo``
    (:func:`_new_memo`, searches of one decision with fixed directions only, ``sid`` this search's number), the
    state after each move — the point and the next direction — is recorded, and when a search reaches a
    state an earlier, stalled search passed through, it ends where that one ended (same point, value and
    stall; its remaining moves are added)."""
    Nu, K = a.shape
    D = dirs.shape[0]
    nb_ = Nu * (2 * K + 2) + 8
    ev_t = np.empty(nb_)
    ev_d = np.empty(nb_)
    kt = np.empty(K)
    kv = np.empty(K, np.int64)
    kk = np.empty(K, np.int64)
    An = np.empty(Nu)
    eps = 1e-9 * (1.0 + S)
    v = _value(a, w, M, L, S, alpha, theta, c, lu, lo)
    _totals(a, M, L, An)
    moves = 0
    Ln = L.copy()
    streak = D if stalled else 0  # fixed directions that failed in a row at the current point
    use = max_sets <= 0 and sid >= 0
    m_state, m_nxt, m_search, m_moves, m_cnt, fin_M, fin_L, fin_v, fin_moves, fin_stalled = memo
    n_old = m_cnt[0]  # states of the earlier searches: m_state[:n_old]
    while moves < max_moves:
        improved = False
        for i in range(D):
            if streak >= D:
                break
            moved, M2, v2 = _step(a, w, M, L, v, S, alpha, theta, c, lu, lo, dirs[i], ev_t, ev_d, kt, kv, kk, Ln,
                                  integral, tol, eps, An)
            if moved:
                M, v = M2, v2
                L[:] = Ln
                moves += 1
                improved = True
                streak = 0
                if use:
                    q = _memo_find(m_state, m_nxt, n_old, M, L, i + 1)
                    if q >= 0:
                        r = m_search[q]
                        rest = fin_moves[r] - m_moves[q]
                        if fin_stalled[r] and moves + rest < max_moves:
                            fin_M[sid], fin_v[sid] = fin_M[r], fin_v[r]
                            fin_L[sid] = fin_L[r]
                            fin_moves[sid], fin_stalled[sid] = moves + rest, True
                            return fin_M[r], fin_L[r].copy(), fin_v[r], moves + rest, True
                    q = m_cnt[0]
                    if q < m_nxt.shape[0]:
                        m_state[q, 0] = M
                        m_state[q, 1:] = L
                        m_nxt[q], m_search[q], m_moves[q] = i + 1, sid, moves
                        m_cnt[0] = q + 1
                _totals(a, M, L, An)
            else:
                streak += 1
        if improved:
            continue
        if max_sets <= 0:
            break
        edges = _edge_dirs(a, M, L, S, eps, max_sets)
        for i in range(edges.shape[0]):
            moved, M2, v2 = _step(a, w, M, L, v, S, alpha, theta, c, lu, lo, edges[i], ev_t, ev_d, kt, kv, kk, Ln,
                                  integral, tol, eps, An)
            if moved:
                M, v = M2, v2
                L[:] = Ln
                _totals(a, M, L, An)
                moves += 1
                improved = True
                streak = 0
                break
        if not improved:
            break
    if use:
        fin_M[sid], fin_v[sid], fin_moves[sid], fin_stalled[sid] = M, v, moves, streak >= D
        fin_L[sid] = L
    return M, L, v, moves, streak >= D


def _new_memo(n_search, K, cap):
    """The memo of :func:`_local_search` (plain arrays, so that the compiled functions are cached): states
    ``(M, L)`` after the moves of the searches of one decision with ``nxt`` (the next direction), ``search``
    (which search) and ``moves`` (its moves so far) — at most ``cap``, then no more are recorded; ``cnt[0]``
    of them so far — and each search's end (``fin_*``)."""
    return (np.empty((cap, K + 1)), np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.int64),
            np.zeros(1, np.int64), np.zeros(n_search), np.zeros((n_search, K)), np.zeros(n_search),
            np.zeros(n_search, np.int64), np.zeros(n_search, np.bool_))


_new_memo_nb = nb.njit(cache=True)(_new_memo)


@nb.njit(cache=True)
def _same(x, y):  # pragma: no cover - compiled
    return x == y and np.signbit(x) == np.signbit(y)


@nb.njit(cache=True)
def _memo_find(state, nxt_of, n, M, L, nxt):  # pragma: no cover - compiled
    """The first of the states ``[:n]`` equal to ``(M, L)`` (bit for bit, signs of zeros too) with next direction
    ``nxt``, or −1."""
    K = L.shape[0]
    for q in range(n):
        if nxt_of[q] != nxt or not _same(state[q, 0], M):
            continue
        ok = True
        for k in range(K):
            if not _same(state[q, k + 1], L[k]):
                ok = False
                break
        if ok:
            return q
    return -1


@nb.njit(cache=True)
def _merge(a):  # pragma: no cover - compiled
    """Distinct rows of ``a`` (first-seen order) and their weights (fractions of the sample)."""
    N, K = a.shape
    u = np.empty((N, K))
    cnt = np.zeros(N)
    m = 0
    for n in range(N):
        j = 0
        while j < m:
            same = True
            for k in range(K):
                if u[j, k] != a[n, k]:
                    same = False
                    break
            if same:
                break
            j += 1
        if j == m:
            u[m] = a[n]
            m += 1
        cnt[j] += 1.0
    return u[:m].copy(), cnt[:m] / N


@nb.njit(cache=True)
def _solve(a, S, h, f, r, lu0, lo, theta, dirs, integral, max_moves, max_sets):  # pragma: no cover - compiled
    """The whole decision: merge samples, local search from every start with the fixed directions, then
    from the best point with the edge directions too. Returns ``(M, L, V, moves, start, distinct)``;
    ``start`` is −1 for all market, ``k`` for venue ``k`` alone, ``K``, ``K+1``, ``K+2`` for all limit, half
    and median."""
    N, K = a.shape
    au, w = _merge(a)
    c = h + r
    alpha, lu = h + f + theta, lu0 + theta
    tol = 1e-12 * (1.0 + abs(alpha) * S + lu * S + lo * S)
    # starts: all market; each venue alone at its single-venue optimum (the closed form on the sample,
    # λ = λ_u + θ); every venue at S (all limit)
    starts = np.zeros((K + 4, K + 1))
    names = np.empty(K + 4, np.int64)
    starts[0, 0] = S
    names[0] = -1
    ns = 1
    for k in range(K):
        den = lu + c[k]
        Lk = 0.0
        if den > 0:
            p = (2 * h + f + r[k]) / den
            if p > 1:
                Lk = S
            elif p > 0:
                x = np.sort(a[:, k])
                Lk = x[min(max(int(np.ceil(p * N - 1e-9 * N)) - 1, 0), N - 1)]
        if Lk > 0:
            starts[ns, 0] = S - Lk
            starts[ns, k + 1] = Lk
            names[ns] = k
            ns += 1
    starts[ns, 1:] = S
    names[ns] = K
    ns += 1
    # half market, every venue at S/2; every venue at its median fill, the rest market
    starts[ns, 0] = 0.5 * S
    starts[ns, 1:] = 0.5 * S
    names[ns] = K + 1
    ns += 1
    tot = 0.0
    for k in range(K):
        x = np.sort(a[:, k])
        starts[ns, k + 1] = x[(N - 1) // 2]
        tot += x[(N - 1) // 2]
    if tot > 0:
        starts[ns, 0] = max(S - tot, 0.0)
        names[ns] = K + 2
        ns += 1
    bestM, bestL, bestv, best_name = 0.0, np.zeros(K), np.inf, -1
    best_stalled = False
    moves = 0
    memo = _new_memo_nb(ns, K, 4096)
    for i in range(ns):
        M, L, v, mv, st = _local_search(au, w, starts[i, 0], starts[i, 1:].copy(), S, alpha, theta, c, lu, lo,
                                        dirs, integral, tol, max_moves, 0, False, memo, i)
        moves += mv
        if v < bestv - tol:
            bestM, bestL, bestv, best_name, best_stalled = M, L.copy(), v, names[i], st
    # the polish starts where the best search stalled: its fixed directions are known to fail there
    M, L, v, mv, st = _local_search(au, w, bestM, bestL.copy(), S, alpha, theta, c, lu, lo, dirs, integral, tol,
                                    max_moves, max_sets, best_stalled, memo, -1)
    moves += mv
    if v < bestv:
        bestM, bestL, bestv = M, L, v
    return bestM, bestL, bestv, moves, best_name, au.shape[0]


def fast_placement(S: float, Q, xi_samples, h: float, f: float, r, lambda_u: float, lambda_o: float,
                   theta: float = 0.0, *, max_moves: int = 10_000, max_sets: int = 100) -> Placement:
    """Minimise the sample-average cost over ``C`` by the compiled local search of the module docstring.

    Same inputs as :func:`sorlib.ck.optimal_placement` (``xi_samples`` shape ``(N, K)``, ``Q``, ``r`` shape
    ``(K,)``; $/share and shares). Deterministic (no random numbers). ``max_moves`` bounds the steps of
    one search, ``max_sets`` the subsets of active hyperplanes tried for edge directions at a stall.
    Returns a :class:`Placement` with ``method="fast"``; ``cost`` is the exact sample-average cost of the
    answer (the same number as :func:`sorlib.ck.model.expected_cost`, up to summation order), ``info`` has
    ``moves``, ``start`` (the start that won: ``"market"``, ``"venue k"``, ``"limit"``, ``"half"`` or
    ``"median"``),
    ``distinct_samples`` and ``seconds``. Integer ``S``, ``Q`` and ``ξ`` give an integer placement.
    """
    t0 = time.perf_counter()
    K = np.atleast_1d(np.asarray(Q)).shape[0]
    xi = _xi2d(xi_samples, K)
    S, Q, r = as_params(S, Q, r, K)
    if xi.shape[0] == 0:
        raise ValueError("no outflow samples")
    a = np.ascontiguousarray(np.minimum(np.maximum(xi - Q, 0.0), S))
    integral = bool(float(S).is_integer() and np.all(np.mod(a, 1.0) == 0.0))
    M, L, v, moves, start, nu = _solve(a, S, float(h), float(f), np.ascontiguousarray(r), float(lambda_u),
                                       float(lambda_o), float(theta), _directions(K), integral,
                                       int(max_moves), int(max_sets))
    name = ("market" if start < 0 else f"venue {start}" if start < K else ("limit", "half", "median")[start - K])
    return Placement(float(M), L, float(v), "fast", {"moves": int(moves), "start": name,
                                                    "distinct_samples": int(nu),
                                                    "seconds": time.perf_counter() - t0})
