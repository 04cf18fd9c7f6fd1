"""Latency (sorlib.sim.latency): an order decided at t meets each venue's book at t + latency."""

from __future__ import annotations

import numpy as np
import pytest
from test_engine import S, _Idle, make_md

from sorlib.data import load
from sorlib.engine import Book, replay
from sorlib.errors import ConfigError
from sorlib.sim import LatencyModel, MarketModel, estimate_latency
from sorlib.strategies import BestAsk, Decision, ParentOrder

US = 1_000


def _lat(by_venue):
    return MarketModel(name="latency", latency=LatencyModel(enabled=True, by_venue=by_venue))


def test_order_fills_against_the_book_at_arrival_not_at_decision():
    """Venue 1 offers 100 @ 10.00 at t=0 and replaces it by 100 @ 10.05 at t=300 µs. Best Ask decides at t=0
    (it sees 10.00); with 500 µs latency its order reaches the venue at 500 µs and buys 100 @ 10.05 there,
    stamped 500 µs. Frozen: 100 @ 10.00 at t=0."""
    md = make_md([(0, 1, 9.99, 100, 10.00, 100), (300e-6, 1, 9.99, 100, 10.05, 100)])
    book = Book.from_market(md)
    seen = []

    class Probe(BestAsk):
        def decide(self, view):
            seen.append((view.t_ns, float(view.ask_px[0, 0])))
            return super().decide(view)

    order = [ParentOrder(0, 0, 10 * S, 100)]
    f = replay(book, Probe(), order, market=_lat({1: 500.0})).fills
    assert seen[0] == (0, 10.00)  # the decision used only what was known at t = 0
    assert f.qty.tolist() == [100] and f.price.tolist() == [10.05] and f.ts.tolist() == [500 * US]
    f0 = replay(book, BestAsk(), order).fills
    assert f0.price.tolist() == [10.00] and f0.ts.tolist() == [0]


def test_arrival_meets_the_book_after_the_liquidity_this_order_took():
    """Venue 1: 100 @ 10.00 at t=0, re-sent unchanged at t=1 s. Best Ask (decides every snapshot) takes the 100 at
    t=0 + 200 µs; its next order (decided at t=1 s) reaches the venue at 1 s + 200 µs and finds the 100 already
    taken (an identical re-send restores nothing): the remaining 100 go to the clean-up at 10.01."""
    md = make_md([(0, 1, 9.99, 100, 10.00, 100), (1, 1, 9.99, 100, 10.00, 100)])
    ex = replay(Book.from_market(md), BestAsk(), [ParentOrder(0, 0, 10 * S, 200)], market=_lat({1: 200.0}))
    f = ex.fills
    assert f.qty.tolist() == [100, 100] and f.price.tolist() == [10.00, 10.01]
    assert f.ts.tolist() == [200 * US, 10 * S + 200 * US]  # the clean-up reaches the venue after its latency too


def test_next_decision_waits_for_the_child_orders_to_arrive():
    """Two venues, latencies 100 µs (venue 1) and 2 ms (venue 2), offering 100 each at 10.00; another record at
    1 ms. A strategy sending 100 to each venue at t=0: fills stamped 100 µs and 2 ms, in that order; no decision is made
    between (the 1 ms snapshot is skipped), so nothing is sent twice."""
    md = make_md([(0, 1, 9.99, 100, 10.00, 100), (0, 2, 9.99, 100, 10.00, 100), (1e-3, 1, 9.99, 100, 10.00, 300)])
    times = []

    class Spray(BestAsk):
        def decide(self, view):
            times.append(view.t_ns)
            return Decision(np.minimum(view.ask_avail[:, 0], 100).astype(np.int64))

    f = replay(Book.from_market(md), Spray(), [ParentOrder(0, 0, 10 * S, 200)],
               market=_lat({1: 100.0, 2: 2000.0})).fills
    assert f.ts.tolist() == [100 * US, 2000 * US] and f.venue.tolist() == [1, 2] and f.qty.sum() == 200
    assert times == [0]


def test_cleanup_meets_the_book_in_force_at_its_arrival():
    """Idle strategy (everything to the clean-up). Venue 1 offers 10.00 × 500 until t=10 s + 300 µs, then
    10.02 × 500; deadline 10 s, latency 500 µs: the clean-up reaches the venue at 10.0005 s and pays 10.02."""
    md = make_md([(0, 1, 9.99, 100, 10.00, 500), (10 + 300e-6, 1, 9.99, 100, 10.02, 500)])
    ex = replay(Book.from_market(md), _Idle(), [ParentOrder(0, 0, 10 * S, 200)], market=_lat({1: 500.0}))
    assert ex.fills.price.tolist() == [10.02] and ex.fills.ts.tolist() == [10 * S + 500 * US]


def test_latency_comes_from_the_venue_profiles():
    md = make_md([(0, 1, 9.99, 100, 10.00, 100)])
    book = Book.from_market(md)
    d = LatencyModel(enabled=True, scale=2.0).delays_ns(book.venues, [p.latency_us for p in book.profiles])
    assert d.tolist() == [int(round(2 * book.profiles[0].latency_us * 1000))]
    assert LatencyModel().delays_ns(book.venues, [500.0]).tolist() == [0]


@pytest.mark.parametrize("bad", [dict(scale=-1), dict(scale=float("nan")), dict(by_venue={1: -5.0}),
                                 dict(enabled="yes")])
def test_bad_latency_settings_are_config_errors(bad):
    with pytest.raises(ConfigError):
        LatencyModel(**bad)


HEADER = ("ts_recv,ts_event,rtype,publisher_id,instrument_id,action,side,depth,price,size,flags,ts_in_delta,"
          "sequence,bid_px_00,ask_px_00,bid_sz_00,ask_sz_00,bid_ct_00,ask_ct_00,symbol\n")


def test_estimate_latency_is_the_median_recv_minus_event_per_venue(tmp_path):
    """Venue 2: ts_recv − ts_event = 100, 200, 900 µs (median 200); venue 9: 50 µs."""
    t0 = 1_700_000_000_000_000_000 + 15 * 3600 * S  # 15:00 UTC, one New York date
    rows = [(2, 0, 100), (2, 1, 200), (2, 2, 900), (9, 3, 50)]
    lines = [HEADER]
    for i, (pub, sec, d_us) in enumerate(rows):
        ev = t0 + sec * S
        lines.append(f"{ev + d_us * US},{ev},1,{pub},7,A,A,0,10.01,100,130,0,{i},10.00,10.01,100,100,1,1,XYZ\n")
    p = tmp_path / "day.mbp-1.csv"
    p.write_text("".join(lines))
    assert estimate_latency(load(p)) == {2: 200.0, 9: 50.0}


def test_estimate_latency_without_recv_times_is_empty():
    assert estimate_latency(make_md([(0, 1, 9.99, 100, 10.00, 100)])) == {}
    assert np.isfinite(list(estimate_latency(make_md([(0, 1, 9.99, 100, 10.00, 100)])).values()) or [0]).all()
