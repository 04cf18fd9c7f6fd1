"""Closed form, SA, exact SAA and brute force agree (tolerances stated per test)."""

import numpy as np
import pytest
from scipy import stats

from sorlib.ck import (
    brute_placement,
    expected_cost,
    optimal_placement,
    project_C,
    saa_placement,
    single_venue_optimum,
)

H, F, R = 0.005, 0.003, 0.002


def _in_C(p, S, tol=1e-6):
    t = tol * (1 + S)
    return (-t <= p.M <= S + t) and np.all(p.L >= -t) and np.all(p.L <= S - p.M + t) and p.total >= S - t


@pytest.mark.parametrize("lam_u", [0.004, 0.009, 0.02, 0.1, 1.0, 50.0])
def test_closed_form_equals_brute_force_and_uses_the_cdf(lam_u):
    rng = np.random.default_rng(1)
    S, Q = 60.0, 40.0
    xi = rng.poisson(70, 300).astype(float)
    cf = single_venue_optimum(S, Q, xi, H, F, R, lam_u, 0.5)
    bf = brute_placement(S, [Q], xi, H, F, [R], lam_u, 0.5)
    assert cf.cost == pytest.approx(bf.cost, abs=1e-12)
    assert cf.M + cf.L == S
    # thresholds agree with the regime
    lam = lam_u
    if lam < cf.lambda_low:
        assert cf.regime == "limit"
    if lam > cf.lambda_high:
        assert cf.regime == "market"
    # the other convention (F = survival function P(ξ > x)) is wrong where the split is interior
    if cf.regime == "split":
        p = (2 * H + F + R) / (lam + H + R)
        wrong = float(np.clip(np.quantile(xi, 1 - p, method="inverted_cdf") - Q, 0, S))
        if wrong != cf.L:
            assert expected_cost(S - wrong, [wrong], xi, S, [Q], H, F, [R], lam_u, 0.5) > cf.cost


def test_regimes_and_theta():
    xi = np.random.default_rng(2).poisson(500, 2000).astype(float)
    assert single_venue_optimum(100, 300, xi, H, F, R, 0.0001).regime == "limit"
    assert single_venue_optimum(100, 450, xi, H, F, R, 0.05).regime == "split"
    assert single_venue_optimum(100, 600, xi, H, F, R, 1.0).regime == "market"
    # θ acts as λ_u + θ on the split; the cost includes θ·(M + L + shortfall)
    a = single_venue_optimum(100, 450, xi, H, F, R, 0.05, theta=0.03)
    b = single_venue_optimum(100, 450, xi, H, F, R, 0.08)
    assert a.L == b.L
    bf = brute_placement(100, [450], xi, H, F, [R], 0.05, 0.0, theta=0.03)
    assert a.cost == pytest.approx(bf.cost, abs=1e-12)


def test_closed_form_with_a_quantile_function():
    d = stats.poisson(800)
    S, Q = 400.0, 600.0
    cf = single_venue_optimum(S, Q, d, H, F, R, 0.05)
    emp = single_venue_optimum(S, Q, d.rvs(200_000, random_state=3).astype(float), H, F, R, 0.05)
    assert abs(cf.L - emp.L) <= 0.02 * S  # |ΔL| ≤ 2% of S
    cf2 = single_venue_optimum(S, Q, d.ppf, H, F, R, 0.05)  # a bare quantile function
    assert cf2.L == cf.L


@pytest.mark.parametrize("kind", ["poisson", "empirical"])
@pytest.mark.parametrize("lam_u", [0.01, 0.05, 0.5])
def test_single_venue_sa_and_saa_match_closed_form(kind, lam_u):
    rng = np.random.default_rng(4)
    S, Q = 1000.0, 1000.0
    xi = rng.poisson(1200, 1000).astype(float) if kind == "poisson" else rng.gamma(3.0, 400.0, 1000).round()
    cf = single_venue_optimum(S, Q, xi, H, F, R, lam_u)
    saa = saa_placement(S, [Q], xi, H, F, [R], lam_u, 0.1)
    assert saa.cost == pytest.approx(cf.cost, abs=1e-9)  # exact
    sa = optimal_placement(S, [Q], xi, H, F, [R], lam_u, 0.1, method="sa", n_iter=400_000)
    assert _in_C(sa, S) and _in_C(saa, S)
    # SA tolerance: |ΔL| ≤ 2% of S or cost within 0.5%
    assert abs(sa.L[0] - cf.L) <= 0.02 * S or sa.cost <= cf.cost + 0.005 * abs(cf.cost)


CASES = [  # (K, λ_u, λ_o, θ, seed)
    (2, 0.02, 0.004, 0.0, 0), (2, 0.3, 0.05, 0.0, 1), (3, 0.02, 0.05, 0.01, 2), (3, 0.3, 0.004, 0.0, 3),
    (5, 0.05, 0.004, 0.0, 4), (5, 0.02, 0.05, 0.0, 5),
]


def _case(K, seed, N=150, S=1000.0):
    rng = np.random.default_rng(seed)
    Q = rng.uniform(200, 1000, K).round()
    xi = rng.gamma(3.0, Q / 2.0, size=(N, K)).round()
    r = rng.choice([0.002, 0.0025, -0.001, 0.0], K)
    return S, Q, xi, r


@pytest.mark.parametrize("K,lam_u,lam_o,theta,seed", CASES)
def test_sa_and_saa_agree_multi_venue(K, lam_u, lam_o, theta, seed):
    S, Q, xi, r = _case(K, seed)
    saa = saa_placement(S, Q, xi, H, F, r, lam_u, lam_o, theta)
    sa = optimal_placement(S, Q, xi, H, F, r, lam_u, lam_o, theta, method="sa", n_iter=400_000)
    assert saa.info["exact"]
    assert _in_C(sa, S) and _in_C(saa, S)
    assert saa.cost <= sa.cost + 1e-9  # SAA is the exact minimum on the sample
    # tolerance: SA's cost gap ≤ 1% of the all-market cost S·(h + f) (+0.5% of |V*|)
    assert sa.cost - saa.cost <= 0.01 * S * (H + F) + 0.005 * abs(saa.cost)


@pytest.mark.parametrize("lam_u,lam_o,theta", [(0.02, 0.004, 0.0), (0.3, 0.05, 0.0), (0.05, 0.5, 0.01),
                                               (0.02, 2.0, 0.0), (1.0, 5.0, 0.1)])
@pytest.mark.parametrize("K", [1, 2])
def test_saa_equals_brute_force(K, lam_u, lam_o, theta):
    rng = np.random.default_rng(K * 10 + int(lam_o * 100))
    S = 30.0
    Q = rng.integers(0, 30, K).astype(float)
    xi = rng.poisson(Q + 20, size=(40, K)).astype(float)
    r = np.array([0.002, -0.001][:K])
    saa = saa_placement(S, Q, xi, H, F, r, lam_u, lam_o, theta)
    bf = brute_placement(S, Q, xi, H, F, r, lam_u, lam_o, theta, grid_step=1)
    assert saa.info["exact"]
    assert saa.cost == pytest.approx(bf.cost, abs=1e-7)


def test_saa_lot_grid_equals_brute_force_on_the_grid():
    S, Q, xi, r = _case(2, 9, N=60, S=200.0)
    for lam_o in (0.004, 0.5):
        saa = saa_placement(S, Q, xi, H, F, r, 0.2, lam_o, lot=10)
        bf = brute_placement(S, Q, xi, H, F, r, 0.2, lam_o, grid_step=10)
        assert np.allclose(saa.L % 10, 0)
        assert saa.cost <= bf.cost + 1e-9  # M continuous: at least as good as the M-on-grid brute force
        cont = saa_placement(S, Q, xi, H, F, r, 0.2, lam_o)
        assert cont.cost <= saa.cost + 1e-9


def test_relaxation_is_not_exact_when_overfill_is_expensive():
    """With λ_o > h + r the LP relaxation cheats; the solver must go to the MILP stage."""
    S, Q, xi, r = _case(3, 12, N=80)
    res = saa_placement(S, Q, xi, H, F, r, 0.3, 2.0)
    convex = saa_placement(S, Q, xi, H, F, r, 0.3, 0.001)
    assert convex.info["stage"] == "lp"
    assert res.info["exact"]
    assert res.info["lower_bound"] <= res.cost + 1e-9


def test_overbooking_with_high_underfill_penalty_and_small_outflows():
    rng = np.random.default_rng(5)
    K, S = 4, 1000.0
    Q = np.full(K, 500.0)
    xi = Q + rng.gamma(2.0, 150.0, size=(300, K)).round()  # each venue fills ~300 on average
    r = np.full(K, 0.003)
    p = saa_placement(S, Q, xi, 0.02, F, r, 0.03, 0.005)
    assert p.L.sum() > S - p.M + 1  # over-booked across venues
    q = optimal_placement(S, Q, xi, 0.02, F, r, 0.03, 0.005, method="sa", n_iter=200_000)
    assert q.L.sum() > S - q.M + 1


def test_determinism_and_dispatch():
    S, Q, xi, r = _case(3, 6)
    a = optimal_placement(S, Q, xi, H, F, r, 0.1, 0.05, method="sa", n_iter=20_000, seed=3)
    b = optimal_placement(S, Q, xi, H, F, r, 0.1, 0.05, method="sa", n_iter=20_000, seed=3)
    c = optimal_placement(S, Q, xi, H, F, r, 0.1, 0.05, method="sa", n_iter=20_000, seed=4)
    assert a.M == b.M and np.array_equal(a.L, b.L)
    assert not np.array_equal(a.L, c.L)
    # the numpy reference loop runs the same algorithm
    d = optimal_placement(S, Q, xi, H, F, r, 0.1, 0.05, method="sa", n_iter=20_000, seed=3, compiled=False)
    assert d.cost == pytest.approx(a.cost, rel=0.02, abs=0.05)
    with pytest.raises(ValueError):
        optimal_placement(S, Q, xi, H, F, r, 0.1, 0.05, method="nope")
    with pytest.raises(ValueError):
        brute_placement(S, np.ones(4), np.ones((3, 4)), H, F, np.zeros(4), 0.1, 0.1)
    M, L = project_C(-5.0, np.array([3.0, 4.0, 5.0]), S)
    assert M + L.sum() >= S - 1e-6
