"""The deadline clean-up beyond the visible book (:mod:`sorlib.sim.cleanup`): flat, ladder and depth rules on
tiny hand-built books, staleness, and the power-law depth fit. Every expected price is derived by hand in
the docstring. The strategy never trades, so the clean-up buys the whole order at the deadline."""

from __future__ import annotations

import numpy as np
import pytest
from test_engine import S, make_md

from sorlib.engine import Book, replay
from sorlib.engine.replay import KIND_CLEANUP
from sorlib.errors import ConfigError
from sorlib.sim import market_model
from sorlib.sim.cleanup import CleanupModel, depth_fills, fit_power_law, venue_profile
from sorlib.strategies import ParentOrder
from sorlib.strategies.base import Decision, Strategy


class _Idle(Strategy):
    name = "idle"

    def decide(self, view):
        return Decision.nothing(len(view.venues))


def _run(rows, size, deadline_s, rule, **kw):
    ex = replay(Book.from_market(make_md(rows)), _Idle(), [ParentOrder(0, 0, deadline_s * S, size)],
                market={"cleanup": {"rule": rule, **kw}})
    f = ex.fills
    assert (f.kind == KIND_CLEANUP).all() and int(f.qty.sum()) == size
    return ex, f


TWO = [(0, 1, 9.99, 100, 10.00, 100), (0, 2, 9.98, 100, 10.02, 100)]


def test_flat_prices_every_share_beyond_the_book_at_the_worst_visible_ask_plus_one_tick():
    """Visible: 100 @ 10.00 (venue 1) and 100 @ 10.02 (venue 2). 500 ordered: 200 swept at their prices, the
    other 300 at the worst visible ask 10.02 + 0.01 = 10.03, at venue 2 (the one showing it)."""
    ex, f = _run(TWO, 500, 10, "flat")
    assert ex.beyond_book.tolist() == [300]
    beyond = f.price > 10.025
    assert f.qty[beyond].tolist() == [300] and np.allclose(f.price[beyond], 10.03) and f.venue[beyond].tolist() == [2]
    assert np.isclose((f.price * f.qty).sum(), 100 * 10.00 + 100 * 10.02 + 300 * 10.03)


def test_ladder_adds_one_tick_per_hundred_shares():
    """Same book, ladder rule: the 300 beyond pay 10.03, 10.04, 10.05 per block of 100 — on average 10.04,
    one tick more than flat."""
    ex, f = _run(TWO, 500, 10, "ladder")
    beyond = f.price > 10.025
    assert ex.beyond_book.tolist() == [300]
    assert f.qty[beyond].tolist() == [100, 100, 100] and np.allclose(f.price[beyond], [10.03, 10.04, 10.05])
    assert np.isclose((f.price[beyond] * f.qty[beyond]).sum() / 300, 10.04)


def test_ladder_block_size_is_a_parameter():
    """ladder_shares = 250: the 300 beyond are 250 @ 10.03 and 50 @ 10.04."""
    _, f = _run(TWO, 500, 10, "ladder", ladder_shares=250)
    beyond = f.price > 10.025
    assert f.qty[beyond].tolist() == [250, 50] and np.allclose(f.price[beyond], [10.03, 10.04])


def test_depth_default_profile_walks_each_venue_median_touch_size_per_tick():
    """One-level data, so the stated default profile: each tick beyond a venue's visible extent holds its
    median displayed touch size over its records before the deadline (t = 10 s).

    Venue 1 records 10.00 × 100, × 300, × 200 (t = 0, 1, 2; median 200; the 10.00 × 5000 at t = 20 is after
    the deadline and must not count); venue 2 shows 10.01 × 100 (median 100). 900 ordered: the sweep takes
    200 @ 10.00 and 100 @ 10.01; the 600 beyond walk the hidden levels cheapest first: venue 1's 10.01 (200),
    then 10.02 at both venues (200 + 100), then 100 at 10.03. Average beyond-book price
    (200·10.01 + 300·10.02 + 100·10.03) / 600 = 6011 / 600 = 10.018333…"""
    rows = [(0, 1, 9.99, 100, 10.00, 100), (1, 1, 9.99, 100, 10.00, 300), (2, 1, 9.99, 100, 10.00, 200),
            (0, 2, 9.98, 100, 10.01, 100), (20, 1, 9.99, 100, 10.00, 5000)]
    ex, f = _run(rows, 900, 10, "depth")
    assert ex.beyond_book.tolist() == [600] and ex.unfilled.tolist() == [0]
    swept = 200 * 10.00 + 100 * 10.01
    beyond_cash = (f.price * f.qty).sum() - swept
    assert np.isclose(beyond_cash / 600, 6011 / 600)
    assert f.qty[np.isclose(f.price, 10.01) & (f.venue == 1)].sum() == 200  # venue 1's hidden 10.01
    assert f.qty[np.isclose(f.price, 10.02)].sum() == 300 and f.qty[np.isclose(f.price, 10.03)].sum() == 100


def test_depth_is_the_default_rule_of_every_preset():
    for name in ("frozen", "latency", "impact", "fade", "queue", "realistic"):
        mm = market_model(name)
        assert mm.cleanup.rule == "depth" and mm.parameters()["cleanup"]["stale_seconds"] == 60.0
    mm = market_model({"preset": "realistic", "cleanup": {"rule": "flat"}})
    assert mm.cleanup.rule == "flat" and mm.impact.enabled and mm.to_dict()["parameters"]["cleanup"]["rule"] == "flat"
    assert mm.cleanup.stale_after is None  # flat: staleness off, the old numbers
    assert market_model({"cleanup": "ladder"}).cleanup.rule == "ladder"
    again = market_model({"preset": "realistic", "cleanup": mm.parameters()["cleanup"]})
    assert again.cleanup == mm.cleanup


@pytest.mark.parametrize("bad", [{"rule": "deep"}, {"stale_seconds": 0}, {"stale_seconds": -5},
                                 {"ladder_shares": 0}, {"ladder_shares": 1.5}, {"lookback_seconds": 0},
                                 {"tick": 0}])
def test_bad_settings_are_config_errors(bad):
    with pytest.raises(ConfigError):
        CleanupModel(**bad)
    with pytest.raises(ConfigError):
        market_model({"cleanup": bad})


STALE = [(0, 1, 9.99, 100, 10.05, 100),  # venue 1: carried since t = 0, behind the best
         (0, 2, 9.98, 100, 10.00, 100), (90, 2, 9.98, 100, 10.00, 100)]  # venue 2: fresh at t = 90


def test_a_stale_quote_is_neither_swept_nor_the_anchor():
    """Deadline t = 100 s. Venue 1's 10.05 × 100 was last sent at t = 0 (100 s > 60 s) and is not the national
    best (10.00 at venue 2, refreshed at t = 90): not visible. 300 ordered: 100 swept @ 10.00 at venue 2; the
    200 beyond, ladder rule, are anchored at venue 2's 10.00 (not 10.05): 100 @ 10.01 and 100 @ 10.02. With
    flat (staleness off by default) venue 1 is swept too: 100 @ 10.00, 100 @ 10.05, and 100 @ 10.06."""
    ex, f = _run(STALE, 300, 100, "ladder")
    assert ex.beyond_book.tolist() == [200] and (f.venue == 2).all()
    assert np.allclose(sorted(f.price), [10.00, 10.01, 10.02]) and f.qty.tolist() == [100, 100, 100]
    ex, f = _run(STALE, 300, 100, "flat")
    assert ex.beyond_book.tolist() == [100]
    assert np.allclose(sorted(f.price), [10.00, 10.05, 10.06])
    ex, f = _run(STALE, 300, 100, "flat", stale_seconds=60)  # flat with staleness asked for
    assert f.qty.tolist() == [100, 200] and np.allclose(f.price, [10.00, 10.01])  # 10.00 + 1 tick


def test_a_stale_window_longer_than_the_quote_age_keeps_it_visible():
    """stale_seconds = 200 > 100 s: venue 1's 10.05 is visible again; ladder: sweep 10.00 and 10.05, the
    last 100 at 10.05 + 0.01."""
    ex, f = _run(STALE, 300, 100, "ladder", stale_seconds=200)
    assert ex.beyond_book.tolist() == [100] and np.allclose(sorted(f.price), [10.00, 10.05, 10.06])


def test_an_old_quote_at_the_national_best_stays_visible():
    """Venue 1's 10.00 × 100 was sent at t = 0 and never changed (an NBBO-only feed sends nothing while the
    best is unchanged); venue 2 refreshes 10.02 × 100 at t = 90. At t = 100 venue 1 is 100 s old but at the
    national best: it is swept. 300 ordered, ladder: 100 @ 10.00, 100 @ 10.02, 100 @ 10.03."""
    rows = [(0, 1, 9.99, 100, 10.00, 100), (0, 2, 9.98, 100, 10.02, 100), (90, 2, 9.98, 100, 10.02, 100)]
    ex, f = _run(rows, 300, 100, "ladder")
    assert ex.beyond_book.tolist() == [100] and np.allclose(sorted(f.price), [10.00, 10.02, 10.03])


def test_power_law_fit_recovers_known_depth_profile():
    """Synthetic ten-level ladders whose cumulative depth is D(δ) = 150·δ^0.7 shares (δ = 1 at the touch),
    sizes the rounded increments times seeded ±5 % noise, 50 records: the fit gives a ≈ 150 and b ≈ 0.7."""
    a, b = 150.0, 0.7
    rng = np.random.default_rng(0)
    d = np.arange(1, 11)
    inc = a * (d ** b - np.r_[0, (d - 1)[1:] ** b])
    sz = np.round(inc[None, :] * rng.uniform(0.95, 1.05, (50, 10))).astype(np.int64)
    px = np.broadcast_to(20.00 + (d - 1) * 0.01, (50, 10))
    fa, fb, src = venue_profile(px, sz)
    assert src == "fit" and abs(fa - a) / a < 0.03 and abs(fb - b) < 0.02
    ea, eb = fit_power_law(d, a * d ** b)  # noiseless: exact
    assert np.isclose(ea, a) and np.isclose(eb, b)


def test_one_level_data_gives_the_default_profile():
    """Touch sizes 100, 300, 200 on one level: a = median 200, b = 1 (each tick holds 200)."""
    assert venue_profile([[10.0], [10.0], [10.01]], [[100], [300], [200]]) == (200.0, 1.0, "default")


def test_depth_fills_hidden_levels_by_hand():
    """One venue, touch 10.00, visible to δ = 2 (10.01), profile D = 100·δ² (tick δ holds 100·(2δ − 1)): 800
    beyond take δ = 3 (500 @ 10.02) and 300 of δ = 4 (700 @ 10.03)."""
    out = depth_fills([10.0], [2], [(100.0, 2.0)], [0.003], 800)
    assert [(k, q) for k, q, _ in out] == [(0, 500), (0, 300)] and np.allclose([p for *_, p in out], [10.02, 10.03])


def test_depth_walk_guards_bound_the_work_and_keep_every_share():
    """A profile that thins to 1 share a tick (a = 1, b = 0.1: every increment rounds to 0, floored at 1) and an
    absurd 10,000,000 shares: the walk stops after MAX_TICKS = 10,000 hidden ticks (δ = 2 … 10,001, 1 share each
    at 10.00 + (δ − 1)·0.01), the other 9,990,000 go at the last level reached, 10.00 + 100.00, and the 10,001
    levels (> 200) come back as one fill at the average price:
    (10,000·10 + 0.01·Σ_{i=1}^{10,000} i + 9,990,000·110) / 10⁷ = (100,000 + 500,050 + 1,098,900,000) / 10⁷."""
    out = depth_fills([10.0], [1], [(1.0, 0.1)], [0.0], 10_000_000)
    assert len(out) == 1 and out[0][:2] == (0, 10_000_000)
    assert out[0][2] == pytest.approx((100_000 + 500_050 + 1_098_900_000) / 1e7, rel=1e-12)


def test_profile_from_a_record_whose_touch_slot_is_empty() -> None:
    """A record showing 10.01 × 0 and 10.02 × 300 has one depth point (δ = 2, 300 shares cumulative) and no
    positive touch size: the default profile takes a = 300 (the median of the sizes it shows), b = 1 — not
    the NaN median of an empty set, which cast to shares gave garbage."""
    from sorlib.sim.cleanup import venue_profile

    assert venue_profile(np.array([[10.01, 10.02]]), np.array([[0, 300]])) == (300.0, 1.0, "default")
