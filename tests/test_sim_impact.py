"""Price impact (sorlib.sim.impact): square-root law, decay, and what the engine charges for it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine import S, make_md

from sorlib.engine import Book, replay
from sorlib.errors import ConfigError
from sorlib.metrics import impact_cost
from sorlib.sim import (
    ImpactModel,
    MarketModel,
    decay_kernel,
    estimate_impact_inputs,
    path_impact,
    sqrt_impact,
)
from sorlib.strategies import TWAP, BestAsk, Decision, ParentOrder

#: Y = 1, σ = $0.50/share a day, V = 1,000,000 shares a day: I(10,000) = 0.5 · √0.01 = $0.05/share.
Y, SIGMA, V = 1.0, 0.5, 1_000_000.0


def _impact(**kw) -> MarketModel:
    return MarketModel(name="impact", impact=ImpactModel(enabled=True, y=Y, sigma_daily=SIGMA, volume_daily=V, **kw))


def _flat_book(seconds: int = 700) -> Book:
    """One venue, 9.99 / 10.00 with 10,000,000 shares on each side, re-sent every second: no price ever moves."""
    return Book.from_market(make_md([(t, 1, 9.99, 10_000_000, 10.00, 10_000_000) for t in range(seconds)]))


def test_square_root_law_by_hand():
    assert sqrt_impact(10_000, SIGMA, V, Y) == pytest.approx(0.05, abs=1e-15)
    assert sqrt_impact(20_000, SIGMA, V, Y) / sqrt_impact(10_000, SIGMA, V, Y) == pytest.approx(math.sqrt(2))
    # one sweep of Q from nothing pays (2/3)·I(Q) per share on average
    assert path_impact(0, 10_000, SIGMA, V, Y) == pytest.approx(2 / 3 * 0.05, rel=1e-12)
    # from Q to 4Q: y·σ/√V · [(2/3)(8Q^1.5 − Q^1.5)/(3Q) − √Q] = I(Q) · (14/9 − 1) = I(Q) · 5/9
    assert path_impact(10_000, 40_000, SIGMA, V, Y) == pytest.approx(0.05 * 5 / 9, rel=1e-12)


@pytest.mark.parametrize("q", [1_000, 10_000, 37_000])
def test_doubling_a_sweep_raises_its_impact_by_root_two(q):
    """Best Ask sweeps the whole order at once on the flat book: it pays (2/3)·Y·σ·√(Q/V) per share above $10.00."""
    book = _flat_book(5)
    costs = []
    for size in (q, 2 * q):
        ex = replay(book, BestAsk(), [ParentOrder(0, 0, 4 * S, size)], market=_impact())
        f = ex.fills
        assert f.qty.sum() == size and len(f) == 1
        per_share = float(f.price[0]) - 10.00
        assert per_share == pytest.approx(2 / 3 * Y * SIGMA * math.sqrt(size / V), rel=1e-9)
        assert ex.impact_cost[0] == pytest.approx(per_share * size, rel=1e-9)
        costs.append(per_share)
    assert costs[1] / costs[0] == pytest.approx(math.sqrt(2), rel=1e-9)


@pytest.mark.parametrize("k", [0, 1, 2, 3, 5])
def test_transient_impact_halves_every_half_life(k):
    h = 30.0
    assert decay_kernel(k * h, "exponential", h) == pytest.approx(2.0 ** -k, rel=1e-12)
    st_ = ImpactModel(enabled=True, y=Y, sigma_daily=SIGMA, volume_daily=V, decay="exponential",
                      half_life_seconds=h).state()
    st_.take(0, 10_000)
    assert st_.shift(int(k * h * S)) == pytest.approx(0.05 * 2.0 ** -k, rel=1e-12)
    # with a permanent fraction p, only (1 − p) of it decays
    sp = ImpactModel(enabled=True, y=Y, sigma_daily=SIGMA, volume_daily=V, decay="exponential",
                     half_life_seconds=h, permanent_fraction=0.25).state()
    sp.take(0, 10_000)
    assert sp.shift(int(k * h * S)) == pytest.approx(0.05 * (0.25 + 0.75 * 2.0 ** -k), rel=1e-12)


def test_power_law_kernel_by_hand():
    """γ = 1/2, half-life h: τ₀ = h/(2² − 1) = h/3, so G(h) = (1 + 3)^(−1/2) = 1/2 and G(3h) = 10^(−1/2)."""
    h = 60.0
    assert decay_kernel(0.0, "power_law", h, 0.5) == 1.0
    assert decay_kernel(h, "power_law", h, 0.5) == pytest.approx(0.5, rel=1e-12)
    assert decay_kernel(3 * h, "power_law", h, 0.5) == pytest.approx(10 ** -0.5, rel=1e-12)


def test_the_view_and_later_orders_see_the_decayed_impact():
    """Buy 100 at t=0 (I(100) = 0.5·√(1e-4) = $0.005), then look at t = 60 s = one half-life (exponential): the
    ask and bid the strategy sees are shifted by 0.005/2; a second 100 bought then pays 10.00 + 0.0025 + its own
    climb path(100, 200)."""
    seen = []

    class TwoBuys(BestAsk):
        interval_ns = 60 * S

        def decide(self, view):
            seen.append((float(view.ask_px[0, 0]), float(view.bid_px[0])))
            return Decision(np.array([100], np.int64))

    ex = replay(_flat_book(200), TwoBuys(), [ParentOrder(0, 0, 100 * S, 200)],
                market=_impact(decay="exponential", half_life_seconds=60.0))
    assert seen[0] == (10.00, 9.99)
    assert seen[1][0] == pytest.approx(10.0025, abs=1e-12) and seen[1][1] == pytest.approx(9.9925, abs=1e-12)
    f = ex.fills
    assert f.price[0] == pytest.approx(10.00 + 2 / 3 * 0.005, abs=1e-12)
    assert f.price[1] == pytest.approx(10.00 + 0.0025 + path_impact(100, 200, SIGMA, V, Y), abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 60).map(lambda x: x * 500))
def test_a_sweep_pays_more_impact_per_share_than_twap_slices(size):
    """Flat, deep book (no other price moves), square-root impact with the default power-law decay: buying the
    whole order at once costs more impact per share than ten one-minute TWAP slices of it."""
    book = _flat_book(700)
    order = [ParentOrder(0, 0, 600 * S, size)]
    sweep = replay(book, BestAsk(), order, market=_impact())
    twap = replay(book, TWAP(60), order, market=_impact())
    for ex in (sweep, twap):
        assert ex.fills.qty.sum() == size and (ex.fills.kind == 0).all()
        assert float(((ex.fills.price - 10.00) * ex.fills.qty).sum()) == pytest.approx(ex.impact_cost[0], rel=1e-9)
    assert sweep.impact_cost[0] / size > twap.impact_cost[0] / size > 0


def test_impact_cost_metric_in_bps_per_order():
    """Two orders of 10,000 swept at $10.00 mid 9.995: $333.33 each = 333.33/(9.995·10,000)·10⁴ bps."""
    book = _flat_book(30)
    ex = replay(book, BestAsk(), [ParentOrder(0, 0, 5 * S, 10_000), ParentOrder(1, 10 * S, 15 * S, 10_000)],
                market=_impact())
    m = impact_cost(ex)
    assert m["usd_per_order"] == pytest.approx(2 / 3 * 0.05 * 10_000, rel=1e-9)
    assert m["bps_per_order"] == pytest.approx(2 / 3 * 0.05 * 10_000 / (9.995 * 10_000) * 1e4, rel=1e-9)
    assert m["orders"] == 2 and len(m["ci95"]) == 2


def test_estimate_impact_inputs_by_hand():
    """Prints once a minute for 6.5 h alternating 10.00 / 10.10 (1-min changes ±0.10: σ_bar = 0.10·√(n/(n−1)),
    σ_daily = σ_bar·√390); 100 shares each over a 6.5-hour span: V = 391 · 100."""
    n = 391
    trades = [(60 * i, 1, 10.00 + 0.10 * (i % 2), 100, 1) for i in range(n)]
    md = make_md([(0, 1, 9.99, 100, 10.00, 100), (60 * (n - 1), 1, 9.99, 100, 10.00, 100)], trades)
    est = estimate_impact_inputs(md)
    steps = n - 1
    sigma_bar = 0.10 * math.sqrt(steps / (steps - 1))
    assert est.sigma_daily == pytest.approx(sigma_bar * math.sqrt(390), rel=1e-9)
    assert est.volume_daily == pytest.approx(n * 100, rel=1e-9)


#: one venue quoting from t = 0 s; prints (t s, price, size): one a minute, then big afternoon ones
CAUSAL_TRADES = [(0, 10.00, 100), (60, 10.02, 100), (120, 10.01, 100), (180, 10.05, 100), (240, 12.00, 90_000),
                 (3600, 15.00, 500_000)]


def _causal_md(trades=CAUSAL_TRADES):
    return make_md([(0, 1, 9.99, 100, 10.00, 100), (4000, 1, 9.99, 100, 10.00, 100)],
                   [(t, 1, p, q, 1) for t, p, q in trades])


def test_causal_impact_inputs_use_only_bars_ended_before_arrival():
    """Arrival a = 185 s, 60-s bars from the first print (t = 0), min_history_bars = 3: the complete bars are
    0, 1, 2 (closes 10.00, 10.02, 10.01), steps +0.02, −0.01: σ_bar = 0.03/√2 (sample sd of two values),
    σ = σ_bar·√390. V: the 400 shares printed before a (the 10.05 print at 180 s counts for V, not for σ: its
    bar is not over) over the 185 s since the day's first record, × 23,400/185. The afternoon prints
    (12.00, 15.00) change nothing — the same numbers come out of the data cut at a."""
    m = ImpactModel(enabled=True, min_history_bars=3).resolve(_causal_md())
    sigma, vol, src = m.inputs_at(185 * S)
    assert src == "before_arrival"
    assert sigma == pytest.approx(0.03 / math.sqrt(2) * math.sqrt(390), rel=1e-9)
    assert vol == pytest.approx(400 * 23_400 / 185, rel=1e-9)
    cut = ImpactModel(enabled=True, min_history_bars=3).resolve(_causal_md().between(None, 185 * S))
    assert cut.inputs_at(185 * S) == (sigma, vol, src)
    old = ImpactModel(enabled=True, estimate="whole_day").resolve(_causal_md())
    assert old.sigma_daily != pytest.approx(sigma)  # the whole-day estimator sees the afternoon


def test_causal_impact_falls_back_with_too_little_history():
    """a = 100 s: one complete bar < 3 → no earlier day in the data, no fallback given: the stated defaults,
    σ = 1.5 % × the last print before a (10.02) and V = 1,000,000 shares; with fallback values given (e.g.
    from ``sorlib calibrate`` on an earlier day) those. Recorded in the parameters' ``estimated`` summary."""
    m = ImpactModel(enabled=True, min_history_bars=3).resolve(_causal_md())
    assert m.inputs_at(100 * S) == (pytest.approx(0.015 * 10.02), 1_000_000.0, "default")
    st_ = m.state(100 * S)
    assert st_.take(0, 10_000) == pytest.approx(0.7 * 0.015 * 10.02 / 1000 * (2 / 3) * 100, rel=1e-9)
    est = m.parameters()["estimated"]
    assert est["orders"] == 1 and est["sources"] == {"default": 1}
    f = ImpactModel(enabled=True, min_history_bars=3, fallback_sigma_daily=0.2,
                    fallback_volume_daily=5e6).resolve(_causal_md())
    assert f.inputs_at(100 * S) == (0.2, 5e6, "fallback")
    with pytest.raises(ConfigError):
        m.state()  # a causal model needs the arrival time
    with pytest.raises(ConfigError):
        ImpactModel(fallback_sigma_daily=0.2)  # without its volume


def test_causal_impact_uses_an_earlier_day_in_the_data():
    """Two local days: an order at the second day's first print has no history that day, so it takes the
    first day's whole-day estimate (all of it before the arrival)."""
    day = 86_400
    trades = [(60 * i, 10.00 + 0.01 * (i % 3), 100) for i in range(40)]
    trades += [(day + t, p, q) for t, p, q in trades]
    md = make_md([(0, 1, 9.99, 100, 10.00, 100), (day, 1, 9.99, 100, 10.00, 100)],
                 [(t, 1, p, q, 1) for t, p, q in trades])
    m = ImpactModel(enabled=True, min_history_bars=10).resolve(md)
    s1, v1, src1 = m.inputs_at(39 * 60 * S + 1)  # end of day 1: its own 39 bars
    s2, v2, src2 = m.inputs_at(day * S + 1)
    assert src1 == "before_arrival" and src2 == "earlier_day" and s2 > 0 and v2 > 0


@pytest.mark.parametrize("bad", [dict(y=-1), dict(sigma_daily=-0.1), dict(volume_daily=0), dict(decay="linear"),
                                 dict(half_life_seconds=0), dict(permanent_fraction=1.5), dict(exponent=0),
                                 dict(estimate="future"), dict(min_history_bars=1), dict(bar_seconds=0),
                                 dict(default_sigma_fraction=2.0), dict(default_volume_daily=0)])
def test_bad_impact_settings_are_config_errors(bad):
    with pytest.raises(ConfigError):
        ImpactModel(**bad)
