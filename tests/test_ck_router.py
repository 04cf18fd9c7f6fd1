"""The Cont–Kukanov router in the replay: no look-ahead, full fills, the paper's fill rule."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sorlib.backtest import BacktestConfig, parent_orders, run_backtest
from sorlib.engine import Book, replay
from sorlib.engine.replay import KIND_REST
from sorlib.metrics import order_table
from sorlib.strategies import ContKukanov, ParentOrder

S = 1_000_000_000


@pytest.fixture(scope="module")
def md():
    from sorlib.synth import generate_market

    return generate_market(venues=4, seed=5, minutes=60)


def _first_placement(md, t):
    strat = ContKukanov(horizon_seconds=30, lookback_minutes=20, n_iter=5000)
    replay(Book.from_market(md), strat, [ParentOrder(0, t, t + 10 * S, 4000)])
    return strat.last_placement


def test_decision_uses_no_data_after_it(md):
    t = int(md.quotes.ts[0]) + 40 * 60 * S
    base = _first_placement(md, t)
    q, tr = md.quotes, md.trades
    later_q, later_t = q.ts > t, tr.ts > t
    # rewrite the future: triple every later size, move every later price
    fut = replace(md, quotes=replace(q, bid_sz=np.where(later_q[:, None], q.bid_sz * 3, q.bid_sz),
                                     ask_sz=np.where(later_q[:, None], q.ask_sz * 3, q.ask_sz),
                                     bid_px=np.where(later_q[:, None], q.bid_px - 0.05, q.bid_px)),
                  trades=replace(tr, size=np.where(later_t, tr.size * 5, tr.size)))
    again = _first_placement(fut, t)
    assert again.M == base.M and np.array_equal(again.L, base.L)
    # ... while changing the past does change it (the test can fail)
    past_q = q.ts < t - 60 * S
    old = replace(md, quotes=replace(q, bid_sz=np.where(past_q[:, None], q.bid_sz * 20, q.bid_sz)),
                  trades=replace(tr, size=np.where(tr.ts < t, tr.size * 20, tr.size)))
    changed = _first_placement(old, t)
    assert changed.M != base.M or not np.array_equal(changed.L, base.L)


def test_limit_fills_follow_the_paper_rule(md):
    book = Book.from_market(md)
    strat = ContKukanov(horizon_seconds=30, lookback_minutes=20, n_iter=5000, lambda_under=0.5)
    t0 = int(book.times[0]) + 30 * 60 * S
    ex = replay(book, strat, [ParentOrder(0, t0, t0 + 5 * 60 * S, 3000)])
    f = ex.fills
    rest = f.kind == KIND_REST
    assert rest.any()
    for v in np.unique(f.venue[rest]):
        m = rest & (f.venue == v)
        assert np.allclose(f.fee[m], -book.maker_rebate[int(np.searchsorted(book.venues, v))])


def test_ck_backtest_fills_every_parent_order(md):
    grid = {"lambda_over": [0.01, 1.0], "lambda_under": [0.01, 0.5], "theta_queue": [0.0]}
    res = run_backtest(md, BacktestConfig(order_size=3000, mode="ck", grid=grid, every_minutes=15,
                                          horizon_minutes=5))
    for ex in [res.router, *res.baselines.values()]:
        t = order_table(ex)
        assert (t["shares"] == 3000).all()
    assert len(res.grid) == 4
    assert res.results["parent_orders"] == len(parent_orders(Book.from_market(md), 3000, 15, 5))


def test_resting_fill_is_the_paper_rule_by_hand():
    """min(L, (ξ − Q)⁺): L = 300 behind Q = 200 fills 150 when ξ = 350, nothing when ξ = 150 (the outflow
    never reached us), all 300 when ξ = 900; at the front of the queue (Q = 0) ξ = 120 fills 120."""
    ck = ContKukanov()
    assert ck.resting_fill(300, 200.0, 350.0) == 150
    assert ck.resting_fill(300, 200.0, 150.0) == 0
    assert ck.resting_fill(300, 200.0, 900.0) == 300
    assert ck.resting_fill(300, 0.0, 120.0) == 120


def test_engine_settles_ck_limits_with_the_queue_ahead_at_placement():
    """A Cont–Kukanov router that posts 300 shares at venue 1's bid of 9.99 × 200: the engine must settle it
    with Q = 200 (the displayed bid at placement) and the outflow realised while it rested."""
    seen = []

    class Posting(ContKukanov):
        def decide(self, view):
            from sorlib.strategies import Decision

            return Decision(np.zeros(1, np.int64), np.array([300], np.int64))

        def resting_fill(self, qty, queue_ahead, outflow):
            seen.append((qty, queue_ahead))
            return super().resting_fill(qty, queue_ahead, outflow)

    from sorlib.data.market import LoadReport, MarketData, Quotes, Trades

    q = Quotes(np.array([0, 20 * S], np.int64), np.ones(2, np.int32), np.array([[9.99], [9.99]]),
               np.array([[200], [200]], np.int64), np.array([[10.01], [10.01]]), np.array([[100], [100]], np.int64))
    book = Book.from_market(MarketData(q, Trades.empty(), LoadReport("hand-built", "test")))
    replay(book, Posting(horizon_seconds=30), [ParentOrder(0, 0, 60 * S, 300)])
    assert seen and seen[0] == (300, 200.0)
