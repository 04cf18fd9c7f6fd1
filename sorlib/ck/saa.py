"""Exact solver of the sample-average problem ``min_{X ∈ C} V_N(X)``, ``V_N = (1/N) Σ_n v(X, ξ_n)``.

Why not a plain LP: ``fill_k = min(L_k, a_k)`` (``a_k = (ξ_k − Q_k)⁺``) is concave in ``L_k``. An LP that
only bounds fills from above (``fill ≤ L_k``, ``fill ≤ a_k``) is a relaxation: when ``λ_o > h + r_k`` it
"refuses" fills of over-booked samples to dodge the over-fill penalty, and ``V_N`` is then genuinely
non-convex (see :mod:`sorlib.ck.model`). The formulation here is exact:

* per venue, the distinct values ``0 < b_1 < … < b_m < S`` of ``a_nk`` are the only kinks of the
  fills in ``L_k``; variables ``φ_j = min(L_k, b_j)`` (cumulative, ``φ_{m+1} = L_k``) with segment
  increments ``0 ≤ φ_j − φ_{j−1} ≤ b_j − b_{j−1}`` make every sample's fill a single variable
  (``fill_nk = φ_{j(n)}``, ``0`` if ``a_nk = 0``, ``L_k`` if ``a_nk ≥ S``);
* "a segment may be used only after the previous one is full" — which forces ``φ_j = min(L_k, b_j)`` —
  is enforced with binaries ``y_j = 1{L_k ≥ b_j}``: ``φ_j − φ_{j−1} ≥ (b_j − b_{j−1})·y_j`` and
  ``φ_{j+1} − φ_j ≤ (b_{j+1} − b_j)·y_j`` (the incremental formulation of a piecewise-linear function);
* under/over-fill ``u_n ≥ S − A_n``, ``o_n ≥ A_n − S``, ``u, o ≥ 0`` are exact because both penalties
  are convex in ``A_n`` and minimised; identical samples are merged with weights.

The LP relaxation (``y ∈ [0, 1]``) is solved first; if its fills are already exact
(``φ_j = min(L_k, b_j)``) it is optimal for the true problem (a relaxation's optimum that is feasible is
optimal) — always the case when ``V_N`` is convex (``λ_o ≤ h + r_k``, ``λ_u + θ + h + r_k ≥ 0``). Otherwise the
MILP is solved by HiGHS branch and bound (``scipy.optimize.milp``) to a relative gap ``mip_rel_gap``
(default 0: proven optimal). The reported cost is recomputed with :func:`sorlib.ck.model.expected_cost`.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from .model import _xi2d, as_params, expected_cost
from .placement import Placement, project_C
from .sa import sa_placement

__all__ = ["saa_placement"]


def _venue_of(col: int, phi_start: list[int]) -> int:
    for k in range(len(phi_start) - 1, -1, -1):
        if col >= phi_start[k]:
            return k
    raise IndexError(col)


def saa_placement(S: float, Q, xi_samples, h: float, f: float, r, lambda_u: float, lambda_o: float,
                  theta: float = 0.0, *, lot: float | None = None, time_limit: float = 60.0,
                  mip_rel_gap: float = 0.0, presolve: bool = True) -> Placement:
    """Exact minimiser of the sample-average cost over ``C`` (see the module docstring).

    Returns a :class:`~sorlib.ck.placement.Placement` with ``method="saa"`` and ``info``: ``exact`` (proven
    optimal to ``mip_rel_gap``), ``stage`` (``"lp"`` when the relaxation was already exact, else
    ``"milp"``), ``lower_bound`` (a proven lower bound on ``V_N``), ``binaries``, ``status``, ``seconds``.
    If ``time_limit`` (s) stops branch and bound, the better of the MILP incumbent and an SA solution
    is returned with ``exact=False`` (``incumbent`` says which; ``lower_bound`` bounds the gap).

    ``lot``: ``None`` solves over continuous ``L`` (kinks at the sample values). A lot size ``δ``
    (shares) solves exactly over ``L_k ∈ {0, δ, 2δ, …, S}`` (``M`` stays continuous): the breakpoints
    are the grid points, every segment is used fully or not at all (``φ_j − φ_{j−1} = seg_j·y_j``) and a
    sample's fill is the linear interpolation of ``φ`` between the grid points around ``a_nk`` — exact
    on the grid. It has ``K·S/δ`` binaries whatever ``N`` is, so it is much faster for large samples;
    the router rounds to lots anyway.
    """
    t0 = time.perf_counter()
    K = np.atleast_1d(np.asarray(Q)).shape[0]
    xi = _xi2d(xi_samples, K)
    S, Q, r = as_params(S, Q, r, K)
    c = h + r
    lu = lambda_u + theta
    a_all = np.maximum(xi - Q, 0.0)
    a_all = np.minimum(a_all, S)  # a ≥ S fills like a = S: fill = L_k (L_k ≤ S)
    a_u, w = np.unique(a_all, axis=0, return_counts=True)  # merged samples, weights
    Nu = a_u.shape[0]
    w = w / a_all.shape[0]

    # ---- variable layout: [M | per venue: φ_1..φ_m, L | u_1..u_N | o_1..o_N | per venue: y_1..y_m]
    if lot is None:
        bps = [np.unique(a_u[:, k][(a_u[:, k] > 0) & (a_u[:, k] < S)]) for k in range(K)]
    else:
        if not lot > 0:
            raise ValueError("lot must be > 0 shares")
        grid = np.arange(1, int(np.ceil(S / lot - 1e-9))) * float(lot)
        grid = grid[grid < S]
        bps = [grid for _ in range(K)]
    phi_start, off = [], 1
    for b in bps:
        phi_start.append(off)
        off += b.size + 1
    iu = off
    io = iu + Nu
    iy = io + Nu
    y_start, off2 = [], iy
    for b in bps:
        y_start.append(off2)
        off2 += b.size
    nvar = off2
    L_idx = np.array([phi_start[k] + bps[k].size for k in range(K)])

    cost = np.zeros(nvar)
    cost[0] = h + f + theta
    cost[L_idx] += theta
    cost[iu:io] = lu * w
    cost[io:iy] = lambda_o * w
    lb = np.zeros(nvar)
    ub = np.full(nvar, np.inf)
    ub[0] = S
    ub[iy:] = 1.0

    rows, cols, vals, rlo, rhi = [], [], [], [], []
    nrow = 0

    def add(cidx, cval, lo, hi):
        nonlocal nrow
        rows.append(np.full(len(cidx), nrow))
        cols.append(np.asarray(cidx))
        vals.append(np.asarray(cval, float))
        rlo.append(lo)
        rhi.append(hi)
        nrow += 1

    # fill variable of each (merged sample, venue): column index, or -1 for a zero fill
    fill_terms: list[list[tuple[int, float]]] = [[] for _ in range(Nu)]
    for k, b in enumerate(bps):
        ak = a_u[:, k]
        m = b.size
        bb = np.concatenate([[0.0], b, [S]])
        pos = np.searchsorted(bb, ak, side="right") - 1  # bb[pos] <= a < bb[pos + 1]
        pos = np.minimum(pos, m)
        seg_len = np.diff(bb)[np.minimum(pos, m)]  # 0 only when S = 0 (then every a >= S, frac unused)
        frac = np.divide(ak - bb[pos], seg_len, out=np.zeros_like(ak), where=seg_len > 0)
        frac = np.where(ak >= S, 0.0, frac)
        hi_col = phi_start[k] + pos  # column of φ at bb[pos + 1]
        lo_col = phi_start[k] + pos - 1  # column of φ at bb[pos] (-1 → φ_0 = 0)
        # fill = φ(bb[pos]) + frac·(φ(bb[pos+1]) − φ(bb[pos])), exact on the kinks / grid
        for n in range(Nu):
            if ak[n] <= 0:
                continue
            if ak[n] >= S:
                fill_terms[n].append((L_idx[k], 1.0))
                continue
            if frac[n] > 0:
                fill_terms[n].append((hi_col[n], frac[n]))
            if pos[n] > 0 and frac[n] < 1:
                fill_terms[n].append((lo_col[n], 1.0 - frac[n]))
        ub[phi_start[k]:phi_start[k] + m] = b
        ub[L_idx[k]] = S
        seg = np.diff(bb)  # segment lengths, m + 1 of them
        # increments 0 <= φ_j − φ_{j−1} <= seg_j, j = 1..m+1 (φ_0 = 0); on a lot grid the last segment
        # (to S) is free only when S is a lot multiple, otherwise it must stay empty
        for j in range(m + 1):
            cur = phi_start[k] + j
            top = seg[j] if (lot is None or j < m or abs(S / lot - round(S / lot)) < 1e-9) else 0.0
            if j == 0:
                add([cur], [1.0], 0.0, top)
            else:
                add([cur, cur - 1], [1.0, -1.0], 0.0, top)
        # ordering: φ_j − φ_{j−1} − seg_j·y_j >= 0 ;  φ_{j+1} − φ_j − seg_{j+1}·y_j <= 0
        for j in range(m):
            cur, yj = phi_start[k] + j, y_start[k] + j
            hi_ = 0.0 if lot is not None else np.inf  # lot grid: a segment is all or nothing
            if j == 0:
                add([cur, yj], [1.0, -seg[0]], 0.0, hi_)
            else:
                add([cur, cur - 1, yj], [1.0, -1.0, -seg[j]], 0.0, hi_)
            add([cur + 1, cur, yj], [1.0, -1.0, -seg[j + 1]], -np.inf, 0.0)
    # under/over-fill per merged sample: u_n + M + Σ fill >= S ; o_n − M − Σ fill >= −S
    for n in range(Nu):
        fc = np.array([t[0] for t in fill_terms[n]], dtype=np.int64)
        fv = np.array([t[1] for t in fill_terms[n]], dtype=float)
        np.add.at(cost, fc, -c[[_venue_of(ci, phi_start) for ci in fc]] * w[n] * fv if fc.size else 0.0)
        add(np.concatenate([[iu + n, 0], fc]), np.concatenate([[1.0, 1.0], fv]), S, np.inf)
        add(np.concatenate([[io + n, 0], fc]), np.concatenate([[1.0, -1.0], -fv]), -S, np.inf)
    # C: L_k + M <= S ; M + Σ L >= S
    for k in range(K):
        add([L_idx[k], 0], [1.0, 1.0], -np.inf, S)
    add(np.concatenate([[0], L_idx]), np.ones(K + 1), S, np.inf)

    A = coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                   shape=(nrow, nvar)).tocsr()
    cons = LinearConstraint(A, np.array(rlo), np.array(rhi))
    bounds = Bounds(lb, ub)
    nbin = nvar - iy
    opts = {"time_limit": float(time_limit), "presolve": presolve}

    def extract(x):
        M = float(x[0])
        L = x[L_idx].astype(float)
        return M, L

    def fills_exact(x) -> bool:
        for k, b in enumerate(bps):
            L = x[L_idx[k]]
            phi = x[phi_start[k]:phi_start[k] + b.size]
            if np.any(np.abs(phi - np.minimum(L, b)) > 1e-7 * (1.0 + S)):
                return False
        return True

    res = milp(cost, constraints=cons, bounds=bounds, integrality=np.zeros(nvar), options=opts)
    if res.x is None:
        raise RuntimeError(f"SAA LP relaxation failed: {res.message}")
    lower = float(res.fun)
    stage, exact, status = "lp", True, res.message
    x = res.x
    if nbin and not fills_exact(x):
        integrality = np.zeros(nvar)
        integrality[iy:] = 1
        res = milp(cost, constraints=cons, bounds=bounds, integrality=integrality,
                   options={**opts, "mip_rel_gap": float(mip_rel_gap)})
        stage, status = "milp", res.message
        if res.x is None:
            raise RuntimeError(f"SAA MILP failed: {res.message}")
        x = res.x
        exact = res.status == 0
        lower = float(getattr(res, "mip_dual_bound", lower) or lower)
    M, L = extract(x)
    if lot is not None:
        L = np.round(L / lot) * lot
    M, L = project_C(M, L, S)  # remove solver round-off (moves by ~1e-9 at most)
    val = expected_cost(M, L, xi, S, Q, h, f, r, lambda_u, lambda_o, theta)
    incumbent = "milp" if stage == "milp" else "lp"
    if not exact:  # time limit hit: keep the better of the MILP incumbent and an SA solution
        alt = sa_placement(S, Q, xi, h, f, r, lambda_u, lambda_o, theta, seed=0)
        if alt.cost < val:
            M, L, val, incumbent = alt.M, alt.L, alt.cost, "sa"
    return Placement(M, L, val, "saa", {"exact": exact, "stage": stage, "incumbent": incumbent,
                                         "lower_bound": lower,
                                         "binaries": nbin, "status": status, "samples": int(a_all.shape[0]),
                                         "distinct_samples": int(Nu), "seconds": time.perf_counter() - t0})
