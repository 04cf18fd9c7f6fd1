"""The fast Cont–Kukanov decision (:mod:`sorlib.ck.fast`) against the exact SAA, the closed form and brute force.

Stated tolerance (also in ``benchmarks/bench_ck_replay.py``): per decision, the fast placement's
sample-average cost exceeds the exact SAA optimum by at most ``max(0.1 % of |V*|, $0.10)``.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sorlib.ck import (
    METHODS,
    brute_placement,
    expected_cost,
    fast_placement,
    in_C,
    optimal_placement,
    saa_placement,
    single_venue_optimum,
)

REL_TOL, ABS_TOL = 1e-3, 0.10


def _within(fast_cost: float, exact_cost: float) -> bool:
    return fast_cost - exact_cost <= max(REL_TOL * abs(exact_cost), ABS_TOL)


def _random_case(rng: np.random.Generator, K: int, nonconvex: bool):
    N = int(rng.integers(10, 70))
    S = float(rng.integers(1, 3000))
    Q = rng.integers(0, 2000, K).astype(float)
    kind = int(rng.integers(0, 3))
    if kind == 0:
        xi = rng.gamma(rng.uniform(0.5, 4), (Q + S) / 2 + 1, size=(N, K)).round()
    elif kind == 1:  # lots of 100 shares, as in the synthetic day
        xi = (rng.poisson(rng.uniform(0.2, 3) * (Q + S) / 100 + 1, size=(N, K)) * 100).astype(float)
    else:
        xi = rng.integers(0, int(2 * (Q.max() + S)) + 1, size=(N, K)).astype(float)
    h = float(rng.choice([0.0, 0.005, 0.01]))
    f = float(rng.uniform(0, 0.004))
    r = rng.uniform(-0.003, 0.004, K)
    lu = float(rng.choice([0.005, 0.01, 0.05, 0.2, 1.0]))
    # non-convex: λ_o > h + r_k for every venue; convex: λ_o ≤ h + r_k
    lo = float(rng.choice([0.01, 0.05, 2.0, 10.0])) if nonconvex else float(max(0.0, (h + r).min()) * rng.uniform())
    th = float(rng.choice([0.0, 0.0005, 0.01, 0.1]))
    return S, Q, xi, h, f, r, lu, lo, th


@pytest.mark.parametrize("nonconvex", [False, True])
def test_fast_is_within_tolerance_of_exact_saa(nonconvex):
    rng = np.random.default_rng(2024 + nonconvex)
    worst = 0.0
    milp = 0
    for _ in range(60):
        K = int(rng.integers(1, 4))
        case = _random_case(rng, K, nonconvex)
        fp = fast_placement(*case)
        ex = saa_placement(*case, time_limit=30)
        assert ex.info["exact"]
        milp += ex.info["stage"] == "milp"
        assert in_C(fp.M, fp.L, case[0])
        assert fp.cost == pytest.approx(expected_cost(fp.M, fp.L, *case[2:3], case[0], case[1], *case[3:]),
                                        rel=1e-12, abs=1e-9)
        assert _within(fp.cost, ex.cost), (case, fp, ex)
        worst = max(worst, fp.cost - ex.cost)
    if nonconvex:
        assert milp > 0  # the set includes cases where the LP relaxation is not exact


@pytest.mark.parametrize("K,lam_u,lam_o,theta", [(2, 0.02, 0.004, 0.0), (2, 0.3, 0.05, 0.0), (2, 0.05, 0.5, 0.01),
                                                 (2, 0.02, 2.0, 0.0), (2, 1.0, 5.0, 0.1), (1, 0.05, 2.0, 0.01)])
def test_fast_equals_brute_force_on_small_integer_cases(K, lam_u, lam_o, theta):
    """With integer data and K ≤ 2 brute force on the integer grid is exact (see brute_placement)."""
    rng = np.random.default_rng(K * 100 + int(lam_o * 10))
    S = 30.0
    Q = rng.integers(0, 30, K).astype(float)
    xi = rng.poisson(Q + 20, size=(40, K)).astype(float)
    r = np.array([0.002, -0.001][:K])
    fp = fast_placement(S, Q, xi, 0.01, 0.003, r, lam_u, lam_o, theta)
    bf = brute_placement(S, Q, xi, 0.01, 0.003, r, lam_u, lam_o, theta, grid_step=1)
    assert fp.cost == pytest.approx(bf.cost, abs=1e-9)
    assert fp.M == round(fp.M) and np.array_equal(fp.L, np.round(fp.L))  # whole shares


@pytest.mark.parametrize("lam_u", [0.004, 0.009, 0.02, 0.1, 1.0, 50.0])
def test_single_venue_matches_the_closed_form(lam_u):
    rng = np.random.default_rng(1)
    S, Q = 60.0, 40.0
    xi = rng.poisson(70, 300).astype(float)
    cf = single_venue_optimum(S, Q, xi, 0.005, 0.003, 0.002, lam_u, 0.5)
    fp = fast_placement(S, [Q], xi, 0.005, 0.003, [0.002], lam_u, 0.5)
    assert fp.cost == pytest.approx(cf.cost, abs=1e-12)
    assert fp.M + fp.L.sum() == S  # one venue: never over-booked


def test_single_venue_by_hand():
    """ξ ∈ {0, 100, 200, 300} equally likely, Q = 100, S = 200, h = 0.01, f = 0.003, r = 0.002, λ_u = 0.05:
    p = (2h + f + r)/(λ_u + h + r) = 0.025/0.062 = 0.403 → F⁻¹(p) = 100 (F(100) = 0.5 ≥ p > F(0) = 0.25), so
    L* = F⁻¹(p) − Q = 0 — all market; with λ_u = 0.01: p = 0.025/0.022 > 1 → all limit, L* = S."""
    xi = np.array([0.0, 100.0, 200.0, 300.0])
    a = fast_placement(200, [100], xi, 0.01, 0.003, [0.002], 0.05, 1.0)
    assert (a.M, a.L[0]) == (200.0, 0.0)
    assert a.cost == pytest.approx(200 * 0.013)
    b = fast_placement(200, [100], xi, 0.01, 0.003, [0.002], 0.01, 1.0)
    assert (b.M, b.L[0]) == (0.0, 200.0)
    # fills: 0, 0, 100, 200 → under 200, 200, 100, 0; cost = −0.012·75 + 0.01·125
    assert b.cost == pytest.approx(-0.012 * 75 + 0.01 * 125)
    # in between: λ_u = 0.03 → p = 0.025/0.042 = 0.595 → F⁻¹ = 200 → L* = 100, M* = 100
    c = fast_placement(200, [100], xi, 0.01, 0.003, [0.002], 0.03, 1.0)
    cf = single_venue_optimum(200, 100, xi, 0.01, 0.003, 0.002, 0.03, 1.0)
    assert (c.M, c.L[0]) == (cf.M, cf.L) == (100.0, 100.0)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(K=st.integers(1, 6), N=st.integers(1, 40), S=st.floats(0, 5000), seed=st.integers(0, 2**16),
       lam_u=st.floats(0, 2), lam_o=st.floats(0, 10), theta=st.floats(0, 0.2), h=st.floats(0, 0.05),
       integer=st.booleans())
def test_fast_placements_lie_in_C(K, N, S, seed, lam_u, lam_o, theta, h, integer):
    rng = np.random.default_rng(seed)
    Q = rng.uniform(0, 3000, K)
    xi = rng.gamma(2.0, 800.0, size=(N, K))
    if integer:
        S, Q, xi = float(round(S)), Q.round(), xi.round()
    r = rng.uniform(-0.003, 0.004, K)
    p = fast_placement(S, Q, xi, h, 0.003, r, lam_u, lam_o, theta)
    assert np.all(np.isfinite(p.L)) and p.L.shape == (K,)
    assert in_C(p.M, p.L, S)  # 0 ≤ M ≤ S, 0 ≤ L_k ≤ S − M, M + Σ L ≥ S
    assert p.cost == pytest.approx(expected_cost(p.M, p.L, xi, S, Q, h, 0.003, r, lam_u, lam_o, theta),
                                   rel=1e-9, abs=1e-9)
    if integer:
        assert p.M == round(p.M) and np.array_equal(p.L, np.round(p.L))
    # never worse than all market (a start of the search)
    assert p.cost <= expected_cost(S, np.zeros(K), xi, S, Q, h, 0.003, r, lam_u, lam_o, theta) + 1e-9


def test_deterministic_and_dispatched():
    rng = np.random.default_rng(7)
    case = _random_case(rng, 3, True)
    a = optimal_placement(*case, method="fast")
    b = optimal_placement(*case, method="fast", n_iter=5, seed=9)  # SA's knobs are ignored
    assert a.method == "fast" and a.M == b.M and np.array_equal(a.L, b.L) and a.cost == b.cost
    assert "fast" in METHODS
    assert a.info["start"] in {"market", "limit", "half", "median"} | {f"venue {k}" for k in range(3)}
    with pytest.raises(ValueError):
        fast_placement(100.0, [10.0], np.empty((0, 1)), 0.01, 0.003, [0.002], 0.1, 0.1)


def test_degenerate_inputs():
    # S = 0: nothing to do
    p = fast_placement(0.0, [10.0, 5.0], np.ones((5, 2)) * 50, 0.01, 0.003, [0.002, 0.002], 0.1, 0.1)
    assert p.M == 0 and np.all(p.L == 0) and p.cost == 0
    # no outflow beyond the queues: limit orders never fill; with θ > 0 market is strictly best
    q = fast_placement(500.0, [100.0, 100.0], np.full((20, 2), 50.0), 0.01, 0.003, [0.002, 0.002], 0.1, 1.0, 0.01)
    assert q.M == 500 and np.all(q.L == 0)
