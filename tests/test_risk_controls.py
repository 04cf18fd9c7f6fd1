"""Risk controls (sorlib.risk): validation, pass-through when off, exposure caps (hand-derived and a property
test), circuit breakers (LULD band, data gap), kill switch, venue scores learning a fading venue, latency
survival, and no look-ahead of the RiskGuard wrapper."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engine import S, make_md

from sorlib.engine import Book, replay
from sorlib.engine.replay import KIND_CLEANUP, KIND_TAKE
from sorlib.errors import ConfigError
from sorlib.risk import ExposureLimit, LatencyAware, RiskControls, RiskGuard, VenueScoring, touch_survival
from sorlib.strategies import BestAsk, ParentOrder, Router, Scheduled
from sorlib.strategies.view import QuoteHistory

# --------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize("kw, msg", [
    (dict(luld_band_pct=0), "LULD band"), (dict(luld_band_pct=101), "LULD band"),
    (dict(halt_gap_seconds=-1), "halt gap"), (dict(kill_bps=float("nan")), "kill switch"),
    (dict(exposure={}), "needs pct"), (dict(exposure={"pct": 150}), "exposure pct"),
    (dict(exposure={"shares": 10.5}), "whole number"), (dict(exposure={"percent": 5}), "unknown key"),
    (dict(scoring={"markout_horizon_seconds": 2}), "one of"), (dict(latency={"mode": "skip"}), "mode"),
    (dict(recheck_seconds=0), "recheck"),
])
def test_bad_settings_are_rejected_with_units(kw, msg):
    with pytest.raises(ConfigError, match=msg):
        RiskControls(**kw)


def test_dicts_become_dataclasses_and_off_means_off():
    c = RiskControls.from_dict({"exposure": {"pct": 30}, "scoring": {}, "latency": {"mode": "cost"}})
    assert isinstance(c.exposure, ExposureLimit) and isinstance(c.scoring, VenueScoring)
    assert isinstance(c.latency, LatencyAware) and not c.is_off
    assert RiskControls().is_off and RiskControls.from_dict(None) is None
    assert ExposureLimit(pct=30).share_cap(5000) == 1500 and ExposureLimit(pct=30, shares=1000).share_cap(5000) == 1000


def _same_fills(a, b) -> bool:
    return all(np.array_equal(getattr(a.fills, n), getattr(b.fills, n)) for n in ("ts", "venue", "qty", "price", "kind"))


def test_guard_with_every_control_off_is_bit_identical():
    from sorlib.synth import generate_market

    md = generate_market(venues=3, seed=2, minutes=5)
    book = Book.from_market(md)
    t0 = int(md.quotes.ts[0])
    orders = [ParentOrder(0, t0 + 30 * S, t0 + 150 * S, 3000), ParentOrder(1, t0 + 160 * S, t0 + 280 * S, 2500)]
    for make in (lambda: Router(), lambda: Router(mode="uncapped", rest_seconds=10),
                 lambda: Scheduled("twap", "router", bucket_seconds=20)):
        plain = replay(book, make(), orders, market="realistic")
        g = RiskGuard(make(), RiskControls(), book.profiles)
        assert _same_fills(plain, replay(book, g, orders, market="realistic"))
        assert g.events == [] and g.score_rows == []


# ----------------------------------------------------------------------------------------- exposure


def test_exposure_pct_caps_each_venue_and_the_cleanup_override_is_reported():
    """Venue 1 shows 1,000 @ 10.00, venue 2 1,000 @ 10.01. A 1,000-share order with a 30 % cap: 300 shares per
    venue (30 % of 1,000). Best Ask takes 300 at venue 1, then 300 at venue 2; nothing else may be routed, so
    the deadline clean-up buys the last 400 — within the caps nothing is left, so all 400 go beyond them at
    the cheapest venue (venue 1: 700 displayed left at 10.00), reported as an ``exposure_override``."""
    md = make_md([(0, 1, 9.99, 100, 10.00, 1000), (0, 2, 9.99, 100, 10.01, 1000)]
                 + [(t, 2, 9.99, 100, 10.01, 1000) for t in range(1, 20)])
    book = Book.from_market(md)
    g = RiskGuard(BestAsk(), RiskControls(exposure={"pct": 30}), book.profiles)
    f = replay(book, g, [ParentOrder(0, 0, 30 * S, 1000)]).fills
    take = f.kind == KIND_TAKE
    assert f.qty[take & (f.venue == 1)].sum() == 300
    assert f.qty[take & (f.venue == 2)].sum() == 300
    assert f.qty[(f.kind == KIND_CLEANUP) & (f.venue == 1)].sum() == 400
    rules = [(e.venue, e.rule) for e in g.events]
    assert (1, "exposure_override") in rules
    assert g.event_counts()["exposure_override"] == 1


def test_exposure_usd_cap_counts_notional():
    """A $2,500 cap at 10.00 $/share is 250 shares per venue; venue 1 alone shows liquidity (1,000 @ 10.00)."""
    md = make_md([(0, 1, 9.99, 100, 10.00, 1000), (0, 2, 9.9, 100, float("nan"), 0)]
                 + [(t, 2, 9.9, 100, float("nan"), 0) for t in range(1, 10)])
    book = Book.from_market(md)
    g = RiskGuard(Router(step=1), RiskControls(exposure={"usd": 2500}), book.profiles)
    f = replay(book, g, [ParentOrder(0, 0, 20 * S, 600)]).fills
    assert f.qty[f.kind == KIND_TAKE].sum() == 250
    assert float((f.qty * f.price)[f.kind == KIND_TAKE].sum()) <= 2500 + 1e-9


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(0, 2000), min_size=3, max_size=3),
       pct=st.one_of(st.none(), st.floats(5, 100)), shares=st.one_of(st.none(), st.integers(1, 3000)),
       order=st.integers(100, 4000), strat=st.sampled_from(["best_ask", "spec", "uncapped", "twap"]))
def test_exposure_limit_is_never_exceeded(sizes, pct, shares, order, strat):
    """Over random books and caps, the routed fills (takes and resting fills) at each venue never exceed the
    cap; the clean-up exceeds it only with an ``exposure_override`` event for that venue."""
    if pct is None and shares is None:
        shares = 500
    rows = []
    for t in range(0, 60, 2):
        for v, sz in enumerate(sizes, start=1):
            rows.append((t, v, 9.98, 300, 10.00 + 0.01 * v, sz if t % 10 == 0 else max(sz // 2, 0)))
    trades = [(t + 1, v, 9.98, 200, -1) for t in range(0, 60, 4) for v in (1, 2, 3)]
    md = make_md(rows, trades)
    book = Book.from_market(md)
    inner = {"best_ask": BestAsk(), "spec": Router(), "uncapped": Router(mode="uncapped", rest_seconds=5),
             "twap": Scheduled("twap", "sweep", bucket_seconds=10)}[strat]
    ex = ExposureLimit(pct=pct, shares=shares)
    g = RiskGuard(inner, RiskControls(exposure=ex), book.profiles)
    f = replay(book, g, [ParentOrder(0, 0, 50 * S, order)]).fills
    cap = ex.share_cap(order)
    over = {e.venue for e in g.events if e.rule == "exposure_override"}
    for v in (1, 2, 3):
        routed = int(f.qty[(f.venue == v) & (f.kind != KIND_CLEANUP)].sum())
        assert routed <= cap
        if v not in over and -1 not in over:  # -1: shares beyond the visible book (the engine's rule)
            assert int(f.qty[f.venue == v].sum()) <= cap


# ----------------------------------------------------------------------------------- circuit breakers


def _jump_tape():
    """One venue quoting every second: 10.00/10.01 until t=300 s, 11.00/11.01 (+10 %) during [300, 360) s,
    10.00/10.01 again from 360 s; a 100-share print at the bid every second (the reference)."""
    rows, trades = [], []
    for t in range(0, 600):
        bid = 11.00 if 300 <= t < 360 else 10.00
        rows.append((t, 1, bid, 5000, bid + 0.01, 5000))
        trades.append((t + 0.5, 1, bid, 100, -1))
    return make_md(rows, trades)


def test_luld_band_stops_routing_until_the_price_returns():
    """Band 5 % around the 5-min mean trade price (10.00 before the jump). At t=300 the mid 11.005 is +10.05 %
    away: ``luld_halt``, the reference frozen at 10.00, no child order in [300, 360). At t=360 the mid 10.005 is
    +0.05 %: ``luld_resume`` and routing goes on (TWAP, 10-s buckets)."""
    md = _jump_tape()
    book = Book.from_market(md)
    g = RiskGuard(Scheduled("twap", "sweep", bucket_seconds=10), RiskControls(luld_band_pct=5), book.profiles)
    f = replay(book, g, [ParentOrder(0, 200 * S, 500 * S, 3000)]).fills
    ev = [(e.time_ns // S, e.rule) for e in g.events]
    assert ev == [(300, "luld_halt"), (360, "luld_resume")]
    take = f.kind == KIND_TAKE
    assert not ((f.ts >= 300 * S) & (f.ts < 360 * S) & take).any()
    assert ((f.ts < 300 * S) & take).any() and ((f.ts >= 360 * S) & take).any()
    assert "+10.05%" in g.events[0].detail and "reference 10.0000" in g.events[0].detail


def test_without_the_band_the_jump_is_traded():
    book = Book.from_market(_jump_tape())
    f = replay(book, Scheduled("twap", "sweep", bucket_seconds=10), [ParentOrder(0, 200 * S, 500 * S, 3000)]).fills
    assert ((f.ts >= 300 * S) & (f.ts < 360 * S)).any()


def test_a_data_gap_is_a_halt_until_quotes_flow_again():
    """Quotes every second, none in (100, 140) s. halt_gap 10 s: the first decision after the gap (t=140) is a
    ``halt_gap``; routing resumes once quotes have flowed 10 s (t=150, ``halt_resume``)."""
    rows = [(t, 1, 9.99, 500, 10.00, 500) for t in list(range(0, 101)) + list(range(140, 300))]
    book = Book.from_market(make_md(rows))
    g = RiskGuard(Scheduled("twap", "sweep", bucket_seconds=5), RiskControls(halt_gap_seconds=10), book.profiles)
    f = replay(book, g, [ParentOrder(0, 50 * S, 250 * S, 4000)]).fills
    assert [(e.time_ns // S, e.rule) for e in g.events] == [(140, "halt_gap"), (150, "halt_resume")]
    assert not ((f.ts >= 140 * S) & (f.ts < 150 * S) & (f.kind == KIND_TAKE)).any()


def test_kill_switch_stops_a_parent_order_past_its_slippage_limit():
    """The ask climbs one cent a second from 10.01 (mid at arrival 10.005); Best Ask takes 100 shares each second.
    After the fills at 10.01, 10.02, 10.03 the average with the 0.0030 $ fee is 10.023, +17.9 bps: under 20;
    the 4th fill (10.04) makes it 10.0280, +22.9 bps > 20 → ``kill_switch`` at t=4, nothing routed after it,
    the rest bought by the clean-up at the deadline (reported as ``cleanup_while_stopped``)."""
    rows = [(t, 1, 10.00, 100, 10.01 + 0.01 * t, 100) for t in range(0, 30)]
    book = Book.from_market(make_md(rows))
    g = RiskGuard(BestAsk(), RiskControls(kill_bps=20), book.profiles)
    f = replay(book, g, [ParentOrder(0, 0, 30 * S, 1000)]).fills
    assert [(e.time_ns // S, e.rule) for e in g.events] == [(4, "kill_switch"), (30, "cleanup_while_stopped")]
    take = f.kind == KIND_TAKE
    assert f.qty[take].sum() == 400 and f.ts[take].max() == 3 * S
    assert f.qty[f.kind == KIND_CLEANUP].sum() == 600


# ----------------------------------------------------------------------------------------- venue scores


def _fading_tape():
    """Venue 1 posts 500 @ 10.00 every second and pulls it 0.2 ms later (an order with 0.5 ms latency always
    arrives to nothing); venue 2 shows 5,000 @ 10.01 throughout."""
    rows = []
    for t in range(0, 300):
        rows.append((t, 1, 9.99, 500, 10.00, 500))
        rows.append((t + 0.0002, 1, 9.99, 500, float("nan"), 0))
        rows.append((t, 2, 9.99, 500, 10.01, 5000))
    return make_md(rows)


def test_a_fading_venue_is_routed_less_once_its_score_has_learned():
    """Without scores every child goes to venue 1 (10.00 < 10.01) and fills nothing there. With scores, after
    the first miss (TWAP due 3000·5/240 = 63 sent, 0 filled, prior 100: fill rate 100/163 = 0.613; fade 500 of
    500 displayed: 500/600 = 0.833) the cost 0.01·(0.387 + 0.833) = 0.0122 $/share > the 0.01 $ price gap, so
    venue 2 gets the rest."""
    book = Book.from_market(_fading_tape())
    orders = [ParentOrder(0, 10 * S, 250 * S, 3000)]
    mk = "latency"

    def sent_to(strategy):
        seen = []
        decide = strategy.decide

        def rec(view):
            d = decide(view)
            seen.append(np.asarray(d.market).copy())
            return d
        strategy.decide = rec
        ex = replay(book, strategy, orders, market=mk)
        return np.array(seen), ex.fills

    plain, f0 = sent_to(Scheduled("twap", "sweep", bucket_seconds=5))
    g = RiskGuard(Scheduled("twap", "sweep", bucket_seconds=5), RiskControls(scoring={}), book.profiles)
    scored, f1 = sent_to(g)
    v1_plain = int((plain[:, 0] > 0).sum())
    v1_scored = int((scored[:, 0] > 0).sum())
    assert v1_plain >= 20 and v1_scored == 1
    v1 = g.scores_frame().query("venue == 1")
    assert v1["fill_rate"].iloc[1] == pytest.approx(100 / 163) and v1["cost"].iloc[1] == pytest.approx(
        0.01 * ((1 - 100 / 163) + 500 / 600))
    assert f1.qty[(f1.venue == 2) & (f1.kind == KIND_TAKE)].sum() > f0.qty[(f0.venue == 2) & (f0.kind == KIND_TAKE)].sum()
    sc = g.scores_frame()
    v1 = sc[sc["venue"] == 1]
    assert v1["fill_rate"].iloc[-1] < 0.7 and v1["fade_rate"].iloc[-1] > 0.8
    assert v1["cost"].iloc[-1] > 0.01
    assert any(e.rule == "venue_score" and e.venue == 1 for e in g.events)


def test_touch_survival_by_hand():
    """Venue 0: 500 @ 10.00 at t=0, 200 @ 10.00 at t=1 ms, gone (10.01) at t=3 ms. Horizon 1 ms, until 4 ms:
    samples t=0 → 200/500 = 0.4, t=1 ms → the state at 2 ms is still 200 → 1.0, t=3 ms → 10.01 at 4 ms → same
    price, 1.0; mean 0.8. Venue 1 (horizon 0) survives wholly."""
    times = np.array([0, 1_000_000, 3_000_000], np.int64)
    ask = np.array([[[10.00], [10.00]], [[10.00], [10.00]], [[10.01], [10.00]]])
    sz = np.array([[[500], [100]], [[200], [100]], [[300], [100]]])
    qh = QuoteHistory(times, np.array([1, 2]), np.full((3, 2), 9.99), np.full((3, 2), 100), ask, sz)
    s = touch_survival(qh, np.array([1_000_000, 0]), 4_000_000)
    assert s[0] == pytest.approx((0.4 + 1.0 + 1.0) / 3) and s[1] == 1.0


def test_latency_cap_discounts_a_venue_whose_touch_vanishes():
    """On the fading tape venue 1's touch never survives 0.5 ms (survival 0 from its history), so in cap mode
    the router sees nothing there once the 30-s survival clock has history, and routes to venue 2."""
    book = Book.from_market(_fading_tape())
    g = RiskGuard(Scheduled("twap", "sweep", bucket_seconds=5), RiskControls(latency={"mode": "cap"}), book.profiles)
    f = replay(book, g, [ParentOrder(0, 60 * S, 250 * S, 3000)], market="latency").fills
    assert f.qty[(f.venue == 1) & (f.kind == KIND_TAKE)].sum() == 0
    assert f.qty[(f.venue == 2) & (f.kind == KIND_TAKE)].sum() > 2000
    assert (g.scores_frame().query("venue == 1")["survival"] == 0).all()


# --------------------------------------------------------------------------------------- look-ahead


@pytest.mark.parametrize("inner", ["router", "scheduled", "uncapped"])
def test_the_guard_never_looks_ahead(inner):
    """The generic check of tests/test_lookahead.py (rewrite everything after t, decisions at ≤ t unchanged)
    on RiskGuard with every control on, scores carried across two parent orders."""
    from test_lookahead import check_no_lookahead, orders_for

    from sorlib.synth import generate_market

    md = generate_market(venues=3, seed=2, minutes=5)
    controls = RiskControls(exposure={"pct": 40}, scoring={}, latency={"mode": "cost", "refresh_seconds": 10,
                                                                      "max_quote_age_seconds": 5},
                            luld_band_pct=0.05, halt_gap_seconds=2, kill_bps=3)

    def make(book):
        s = {"router": lambda: Router(), "scheduled": lambda: Scheduled("twap", "router", bucket_seconds=20),
             "uncapped": lambda: Router(mode="uncapped", rest_seconds=10, lookback_minutes=1)}[inner]()
        return RiskGuard(s, controls, book.profiles)

    assert check_no_lookahead(make, md, orders_for(md)) >= 2
