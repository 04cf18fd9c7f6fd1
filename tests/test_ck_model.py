"""Cost, sub-gradient, convexity facts and the projection onto C."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from sorlib.ck.model import expected_cost, expected_cost_batch, placement_cost, subgradient
from sorlib.ck.placement import project_C

H, F = 0.01, 0.003


def test_cost_by_hand():
    # S=100, M=20, L=(50, 60), Q=(100, 10); ξ=(130, 200): fills (30, 60), A=110 → over 10
    xi = np.array([[130.0, 200.0], [90.0, 40.0]])
    r = np.array([0.002, 0.001])
    v = placement_cost(20, [50, 60], xi, 100, [100, 10], H, F, r, 0.5, 0.7, theta=0.05)
    fill1 = np.array([30.0, 60.0])
    v0 = (H + F) * 20 - fill1 @ (H + r) + 0.7 * 10 + 0.05 * (20 + 110)
    # second sample: fills (0, 30), A=50 → under 50
    v1 = (H + F) * 20 - 30 * (H + r[1]) + 0.5 * 50 + 0.05 * (20 + 110 + 50)
    np.testing.assert_allclose(v, [v0, v1])
    assert expected_cost(20, [50, 60], xi, 100, [100, 10], H, F, r, 0.5, 0.7, 0.05) == pytest.approx((v0 + v1) / 2)
    b = expected_cost_batch([20, 0], [[50, 60], [100, 0]], xi, 100, [100, 10], H, F, r, 0.5, 0.7, 0.05)
    assert b[0] == pytest.approx((v0 + v1) / 2)
    assert b[1] == pytest.approx(expected_cost(0, [100, 0], xi, 100, [100, 10], H, F, r, 0.5, 0.7, 0.05))


@pytest.mark.parametrize("theta", [0.0, 0.03])
@pytest.mark.parametrize("lam_o", [0.004, 0.4])
def test_subgradient_matches_finite_differences(theta, lam_o):
    rng = np.random.default_rng(7)
    K, S = 3, 1000.0
    Q = np.array([300.0, 500.0, 200.0])
    xi = rng.gamma(2.5, 250.0, size=(400, K))  # continuous: kinks are measure zero
    r = np.array([0.002, -0.001, 0.0025])
    checked = 0
    for _ in range(40):
        M = rng.uniform(0, S)
        L = rng.uniform(0, S - M, K)
        if M + L.sum() < S:
            continue
        e = 1e-4
        a = np.maximum(xi - Q, 0)
        A = M + np.minimum(L, a).sum(axis=1)
        if np.min(np.abs(a - L)) < 10 * e or np.min(np.abs(A - S)) < 10 * (K + 1) * e:
            continue
        g = subgradient(M, L, xi, S, Q, H, F, r, 0.3, lam_o, theta)
        X = np.concatenate([[M], L])
        for i in range(K + 1):
            d = np.zeros(K + 1)
            d[i] = e
            vp = expected_cost((X + d)[0], (X + d)[1:], xi, S, Q, H, F, r, 0.3, lam_o, theta)
            vm = expected_cost((X - d)[0], (X - d)[1:], xi, S, Q, H, F, r, 0.3, lam_o, theta)
            assert (vp - vm) / (2 * e) == pytest.approx(g[i], abs=1e-9)
        checked += 1
    assert checked >= 10


def _midpoint_gap(lam_o, rng, xi, Q, r, S):
    """max over random segments in C of V(mid) − (V(x)+V(y))/2 (> 0 means not convex)."""
    worst = -np.inf
    K = Q.size
    for _ in range(300):
        pts = []
        for _ in range(2):
            M = rng.uniform(0, S)
            L = rng.uniform(0, S - M, K)
            M, L = project_C(M, L, S)
            pts.append(np.concatenate([[M], L]))
        x, y = pts
        mid = (x + y) / 2
        v = [expected_cost(p[0], p[1:], xi, S, Q, H, F, r, 0.2, lam_o) for p in (x, y, mid)]
        worst = max(worst, v[2] - (v[0] + v[1]) / 2)
    return worst


def test_convex_iff_overfill_penalty_small():
    rng = np.random.default_rng(3)
    S, Q, r = 100.0, np.array([20.0, 30.0]), np.array([0.002, 0.003])
    xi = rng.gamma(2.0, 40.0, size=(500, 2))
    # λ_o ≤ h + r_k (and λ_u + h + r_k ≥ 0): V is convex on C
    assert _midpoint_gap(0.01, rng, xi, Q, r, S) <= 1e-12
    # λ_o > h + r_k: not convex (deterministic counterexample and a sampled one)
    assert _midpoint_gap(1.0, rng, xi, Q, r, S) > 1e-3
    xi1 = np.array([[28.0, 38.0]])  # a = (8, 8), S = 10, M = 0, L_2 = 10, L_1 ∈ {2, 10} vs 6
    vals = [expected_cost(0, [l1, 10], xi1, 10, [20, 30], H, F, [0.002, 0.002], 0.2, 1.0) for l1 in (2, 6, 10)]
    assert vals[1] > (vals[0] + vals[2]) / 2


def _in_C(M, L, S, tol=1e-7):
    t = tol * (1 + S)
    return (-t <= M <= S + t) and np.all(L >= -t) and np.all(L <= S - M + t) and M + L.sum() >= S - t


@settings(max_examples=300, deadline=None)
@given(S=st.floats(0.0, 1e4), y=st.lists(st.floats(-2e4, 2e4), min_size=2, max_size=7))
def test_projection_lands_in_C_and_is_idempotent(S, y):
    M, L = project_C(y[0], np.array(y[1:]), S)
    assert _in_C(M, L, S)
    M2, L2 = project_C(M, L, S)
    assert abs(M2 - M) <= 1e-7 * (1 + S) and np.allclose(L2, L, atol=1e-7 * (1 + S))


def test_projection_is_nearest_point():
    rng = np.random.default_rng(11)
    for _ in range(150):
        K = int(rng.integers(1, 5))
        S = float(rng.integers(1, 100))
        y = rng.normal(S / 2, S, size=K + 1)
        M, L = project_C(y[0], y[1:], S)
        X = np.concatenate([[M], L])
        cons = [{"type": "ineq", "fun": lambda x, S=S: x[0] + x[1:].sum() - S}]
        cons += [{"type": "ineq", "fun": lambda x, k=k, S=S: S - x[0] - x[1 + k]} for k in range(K)]
        res = minimize(lambda x, y=y: 0.5 * ((x - y) ** 2).sum(), np.clip(y, 0, S), jac=lambda x, y=y: x - y,
                       bounds=[(0, S)] * (K + 1), constraints=cons, method="SLSQP",
                       options={"ftol": 1e-14, "maxiter": 500})
        assert 0.5 * ((X - y) ** 2).sum() <= res.fun + 1e-8 * (1 + res.fun)
