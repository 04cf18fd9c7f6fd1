"""Parent-order schedules: the Almgren–Chriss trajectory and frontier against hand-derived closed forms,
schedules combined with allocators (TWAP schedule + Best Ask / sweep split = the TWAP baseline), the
adaptive schedule, and the backtest / CLI options."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_end_to_end import ORDER, _cash, _fills, _tape

from sorlib.errors import ConfigError
from sorlib.schedules import (
    AlmgrenChriss,
    TWAPSchedule,
    VWAPSchedule,
    ac_cost_variance,
    ac_trajectory,
    efficient_frontier,
    estimate_eta,
    estimate_sigma,
)

# X = 1,000 shares over T = 100 s, σ = 0.02 $/share/√s, η = 0.001 $·s/share². λ = 2.5e-4 /$ gives
# κ² = λσ²/η = 2.5e-4 · 4e-4 / 1e-3 = 1e-4, κ = 0.01 /s, κT = 1.
X, T, SIG, ETA, LAM = 1000.0, 100.0, 0.02, 0.001, 2.5e-4


def test_ac_trajectory_closed_form_by_hand():
    """x(t) = X·sinh(κ(T − t))/sinh(κT), sinh(1) = 1.1752012: x(0) = 1000; x(25) = 1000·sinh(0.75)/sinh(1) =
    1000·0.8223167/1.1752012 = 699.72; x(50) = 1000·0.5210953/1.1752012 = 443.41; x(75) = 1000·0.2526123/1.1752012
    = 214.95; x(100) = 0."""
    x = ac_trajectory(X, T, SIG, ETA, LAM, [0, 25, 50, 75, 100])
    assert x == pytest.approx([1000.0, 699.72, 443.41, 214.95, 0.0], abs=0.01)


def test_ac_risk_neutral_limit_is_linear_twap():
    """λ = 0 (and λ → 0): x(t) = X·(1 − t/T): 750, 500, 250 at t = 25, 50, 75."""
    assert ac_trajectory(X, T, SIG, ETA, 0.0, [25, 50, 75]) == pytest.approx([750, 500, 250], abs=1e-9)
    assert ac_trajectory(X, T, SIG, ETA, 1e-14, [25, 50, 75]) == pytest.approx([750, 500, 250], abs=1e-3)


def test_ac_cost_and_variance_by_hand_and_by_quadrature():
    """κT = 1, coth 1 = 1.3130353, 1/sinh²1 = 0.7240616: E = ηX²κ(coth + κT/sinh²)/2 = 0.001·1e6·0.01·2.0370969/2
    = 10.1855 $; Var = σ²X²(coth − κT/sinh²)/(2κ) = 4e-4·1e6·0.5889737/0.02 = 11,779.47 $². Risk neutral:
    E = ηX²/T = 10 $, Var = σ²X²T/3 = 13,333.33 $². Both also by quadrature of η∫v² and σ²∫x²."""
    e, v = ac_cost_variance(X, T, SIG, ETA, LAM)
    assert e == pytest.approx(10.1855, abs=1e-4) and v == pytest.approx(11779.47, abs=0.01)
    e0, v0 = ac_cost_variance(X, T, SIG, ETA, 0.0)
    assert e0 == pytest.approx(10.0) and v0 == pytest.approx(13333.333, abs=1e-3)
    t = np.linspace(0, T, 200_001)
    x = ac_trajectory(X, T, SIG, ETA, LAM, t)
    vel = -np.gradient(x, t)
    assert ETA * np.trapezoid(vel**2, t) == pytest.approx(e, rel=1e-5)
    assert SIG**2 * np.trapezoid(x**2, t) == pytest.approx(v, rel=1e-6)


def test_efficient_frontier_is_monotone():
    """As λ grows the variance falls and the expected cost rises (strictly), starting from TWAP's (10, 13,333)."""
    lams = np.concatenate(([0.0], np.logspace(-7, -1, 40)))
    cost, var = efficient_frontier(X, T, SIG, ETA, lams)
    assert cost.shape == var.shape == lams.shape
    assert cost[0] == pytest.approx(10.0) and var[0] == pytest.approx(13333.333, abs=1e-3)
    assert np.all(np.diff(cost) > 0) and np.all(np.diff(var) < 0)


def test_estimators_by_hand():
    """Mids 10.00, 10.02, 10.00, 10.02 sampled every 5 s: Δ² = 4e-4 each, σ = √(4e-4/5) = 0.0089443 $/√s.
    η = h·Δ/D = 0.005 · 60 / 1,500 = 2e-4 $·s/share²."""
    t = np.array([0, 5, 10, 15], np.int64) * 1_000_000_000
    assert estimate_sigma(t, np.array([10.0, 10.02, 10.0, 10.02])) == pytest.approx(math.sqrt(4e-4 / 5))
    assert estimate_eta(0.005, 1500, 60) == pytest.approx(2e-4)
    assert math.isnan(estimate_sigma(t[:1], np.array([10.0])))


def test_bad_schedule_settings_are_refused():
    for make in (lambda: AlmgrenChriss(-1.0), lambda: TWAPSchedule(0), lambda: VWAPSchedule(-5),
                 lambda: ac_trajectory(X, 0.0, SIG, ETA, LAM, [0])):
        with pytest.raises(ConfigError):
            make()


# ----------------------------------------------------------------------------- schedule x allocator
@pytest.fixture(scope="module")
def book():
    return _tape()


@pytest.mark.parametrize("allocator", ["sweep", "best_ask"])
def test_twap_schedule_with_best_ask_split_reproduces_twap(book, allocator):
    """tests/test_end_to_end.py::test_twap_two_buckets: 250 from A @ 10.00 at t = 0, 250 from B @ 10.05 at t = 5,
    $5,013.50. The TWAP schedule with the sweep split (the baseline's own) or the Best Ask split (the single
    cheapest venue: A shows 300 ≥ 250 at t = 0, B shows 400 ≥ 250 at t = 5) gives the same fills."""
    from sorlib.engine import replay
    from sorlib.strategies import TWAP, Scheduled

    want = _fills(replay(book, TWAP(bucket_seconds=5), [ORDER]))
    ex = replay(book, Scheduled(TWAPSchedule(5), allocator), [ORDER])
    assert _fills(ex) == want
    assert _cash(ex) == pytest.approx(5013.50, abs=1e-9)


def test_vwap_schedule_matches_vwap_targets(book):
    """The VWAP schedule's weights are the baseline's: 25 % by t = 0 (⌈500·0.25⌉ = 125), all 500 by t = 5; with the
    sweep split: 125 from A at t = 0, then 375 at t = 5 — B's 400 @ 10.051 all-in first."""
    from sorlib.engine import replay
    from sorlib.engine.replay import KIND_TAKE
    from sorlib.strategies import Scheduled

    ex = replay(book, Scheduled(VWAPSchedule(5), "sweep"), [ORDER])
    assert _fills(ex) == [(0, 1, 125, 10.00, KIND_TAKE), (5, 2, 375, 10.05, KIND_TAKE)]


def test_twap_schedule_with_router_split(book):
    """TWAP schedule + the spec router: 250 due at t = 0 → exact splits of 250 in lots of 100 do not exist;
    take_displayed routes 200 to A (the cheaper, 10.003). t = 5 (300 due): B 10.051 x 400 is cheaper: 300 from
    B. Cash 200·10.003 + 300·10.051 = 2,000.60 + 3,015.30 = $5,015.90."""
    from sorlib.engine import replay
    from sorlib.strategies import Scheduled

    ex = replay(book, Scheduled(TWAPSchedule(5), "router"), [ORDER])
    assert [(t, v, q) for t, v, q, _, _ in _fills(ex)] == [(0, 1, 200), (5, 2, 300)]
    assert _cash(ex) == pytest.approx(5015.90, abs=1e-9)


def test_adaptive_schedule_scores_once_per_bucket_and_stays_in_range():
    from sorlib.engine import Book, replay
    from sorlib.schedules import Adaptive
    from sorlib.strategies import ParentOrder, Scheduled
    from sorlib.synth import generate_market

    book = Book.from_market(generate_market(venues=3, seed=1, minutes=5))
    t0 = int(book.times[0])
    sched = Adaptive("twap", bucket_seconds=20, max_shift=0.2)
    order = ParentOrder(0, t0 + 120 * 10**9, t0 + 200 * 10**9, 2000)
    ex = replay(book, Scheduled(sched, "sweep"), [order])
    assert int(ex.fills.qty.sum()) == 2000
    buckets = [b for b, _ in sched.scores]
    assert buckets == sorted(set(buckets))  # one score per bucket, in order
    assert all(-1 <= s <= 1 for _, s in sched.scores)


# ------------------------------------------------------------------------------- backtest and CLI
def test_backtest_config_validates_sizing_and_schedule():
    from sorlib.backtest import BacktestConfig

    for bad in (dict(max_child=0), dict(participation_pct=150.0), dict(participation_window_seconds=-1),
                dict(min_trade=2.5), dict(lots="on"), dict(lot_size=100), dict(schedule="fast"),
                dict(ac_risk_aversion=-1.0)):
        with pytest.raises(ConfigError):
            BacktestConfig(**bad).validate()
    BacktestConfig(max_child=500, participation_pct=10.0, lots=True, lot_size=100, schedule="ac").validate()


def test_router_for_wraps_schedule_and_rules():
    from sorlib.backtest import BacktestConfig, baselines, router_for
    from sorlib.strategies import Router, Scheduled

    p = {"lambda_over": 5.0, "lambda_under": 0.05, "theta_queue": 0.05}
    assert isinstance(router_for(BacktestConfig(), p), Router) and router_for(BacktestConfig(), p).sizing is None
    r = router_for(BacktestConfig(schedule="ac", ac_risk_aversion=1e-5, max_child=500), p)
    assert isinstance(r, Scheduled) and r.schedule.risk_aversion == 1e-5
    assert r.allocator.sizing.max_child == 500
    assert all(b.sizing.participation_pct == 10.0 for b in baselines(BacktestConfig(participation_pct=10.0)).values())


def test_cli_options_map_to_config_and_are_checked():
    import argparse

    from sorlib.cli._common import add_config_args, config_from_args

    p = argparse.ArgumentParser()
    add_config_args(p, None, "every")
    p.add_argument("--seed", type=int, default=0)
    cfg = config_from_args(p.parse_args(["--max-child", "500", "--participation", "10", "--participation-window",
                                         "30", "--min-trade", "100", "--lots", "on", "--lot-size", "100",
                                         "--schedule", "ac", "--ac-risk-aversion", "1e-5"]))
    assert (cfg.max_child, cfg.participation_pct, cfg.participation_window_seconds, cfg.min_trade, cfg.lots,
            cfg.lot_size, cfg.schedule, cfg.ac_risk_aversion) == (500, 10.0, 30.0, 100, True, 100, "ac", 1e-5)
    for bad in (["--participation-window", "30"], ["--lot-size", "100"], ["--ac-risk-aversion", "1e-5"]):
        with pytest.raises(ConfigError):
            config_from_args(p.parse_args(bad))
    with pytest.raises(SystemExit):
        p.parse_args(["--participation", "0"])
