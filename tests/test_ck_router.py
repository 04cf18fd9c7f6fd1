"""The Cont–Kukanov router in the replay: no look-ahead, full fills, its resting orders through the queue model
(the paper's fill rule only under the queue model named ``paper``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from test_engine import make_md

from sorlib.backtest import BacktestConfig, parent_orders, run_backtest
from sorlib.engine import Book, replay
from sorlib.engine.replay import KIND_REST
from sorlib.metrics import order_table
from sorlib.sim.queue import paper_fill
from sorlib.strategies import ContKukanov, Decision, ParentOrder

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


def test_limit_fills_follow_the_paper_rule():
    """Resting fills pay the maker rebate. CK places a limit order in this parent order on the model-v2 day
    (seed 5, minute 30: one resting child), not on the v3 day's same minute, so the v2 day is used here."""
    from sorlib.synth import adverse_params, generate_market

    book = Book.from_market(generate_market(venues=4, seed=5, minutes=60, params=adverse_params("v2")))
    strat = ContKukanov(horizon_seconds=30, lookback_minutes=20, n_iter=5000, lambda_under=0.5)
    t0 = int(book.times[0]) + 30 * 60 * S
    ex = replay(book, strat, [ParentOrder(0, t0, t0 + 5 * 60 * S, 3000)], market={"queue": {"model": "paper"}})
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
    assert paper_fill(300, 200.0, 350.0) == 150
    assert paper_fill(300, 200.0, 150.0) == 0
    assert paper_fill(300, 200.0, 900.0) == 300
    assert paper_fill(300, 0.0, 120.0) == 120
    assert not hasattr(ContKukanov(), "resting_fill") and ContKukanov.overbooks


class Posting(ContKukanov):
    """A Cont–Kukanov router that posts 300 shares at venue 1's bid at every decision (no market order)."""

    def decide(self, view):
        return Decision(np.zeros(1, np.int64), np.array([300], np.int64))


def _posting_fills(rows, trades, arrival, deadline, market=None):
    book = Book.from_market(make_md(rows, trades))
    ex = replay(book, Posting(horizon_seconds=30), [ParentOrder(0, arrival * S, deadline * S, 300)], market=market)
    f = ex.fills
    rest = f.kind == KIND_REST
    return [(int(t), int(q)) for t, q in zip(f.ts[rest], f.qty[rest], strict=True)], ex


# Venue 1 (seconds): t=0 bid 9.98×500; t=10 bid 9.99×200 (the order arrives and rests at 9.99 behind Q=200);
# t=12 9.99×400 (200 join behind us); t=20 9.99×150 (250 leave); t=25 a 100-share sell print at 9.99.
LEVEL = [(0, 1, 9.98, 500, 10.01, 100), (10, 1, 9.99, 200, 10.01, 100), (12, 1, 9.99, 400, 10.01, 100),
         (20, 1, 9.99, 150, 10.01, 100)]
LEVEL_PRINTS = [(25, 1, 9.99, 100, -1)]


def test_paper_rule_only_under_its_name_and_xi_from_the_placement_row():
    """The order rests 300 at 9.99 behind Q = 200 from t=10 (the quote row at placement) to the deadline 35.

    ``paper``: ξ = outflow of the 9.99 level stamped in (10, 35): the t=20 row drops 400 → 150 with no print
    in (12, 20]: 250; the t=25 print at the bid (interval after the last row, bid 9.99): 100. ξ = 350,
    fill = min(300, 350 − 200) = 150, stamped at the cancellation (the deadline, 35 s − 1 ns). Measured on the
    level of the row strictly *before* placement (9.98, the old rule) ξ would be 0: the t=10 row moved the
    bid up (no outflow of 9.98), so nothing would fill.

    The default frozen preset (queue model ``conservative``): t=12 the level grows, front stays 200; t=20 it
    shows 150: front = min(200, 150) = 150; t=25 the print of 100 < 150 ahead: nothing reaches us → 0.
    Any preset settles by the paper rule once the queue model is named ``paper``."""
    fills, _ = _posting_fills(LEVEL, LEVEL_PRINTS, 10, 35, market={"queue": {"model": "paper"}})
    assert fills == [(35 * S - 1, 150)]
    fills, _ = _posting_fills(LEVEL, LEVEL_PRINTS, 10, 35)
    assert fills == []
    fills, _ = _posting_fills(LEVEL, LEVEL_PRINTS, 10, 35, market={"preset": "latency", "queue": {"model": "paper"}})
    assert fills == [(35 * S - 1, 150)]  # latency preset: it reaches venue 1 later, still on the t=10 row


def test_ck_resting_order_fills_by_the_conservative_queue_model_when_the_print_comes():
    """Venue 1 bids 9.99×200 from t=0; CK rests 300 there behind Q = 200; at t=5 a 260-share sell print at 9.99:
    200 go to the queue ahead, 60 reach us — filled at the replay's next step, the t=6 quote (9.99×100: the
    level shrank below what is left ahead of us, 0, so nothing changes), at our price (not a trade-through).
    Under ``paper`` the same 60 (ξ = the 260-share print, which the t=6 drop of 100 does not exceed:
    min(300, 260 − 200)) are stamped at the deadline."""
    rows = [(0, 1, 9.99, 200, 10.01, 100), (6, 1, 9.99, 100, 10.01, 100)]
    fills, ex = _posting_fills(rows, [(5, 1, 9.99, 260, -1)], 0, 20)
    assert fills == [(6 * S, 60)]
    assert ex.fill_through[ex.fills.kind == KIND_REST].tolist() == [0]
    fills, _ = _posting_fills(rows, [(5, 1, 9.99, 260, -1)], 0, 20, market={"queue": {"model": "paper"}})
    assert fills == [(20 * S - 1, 60)]


def test_paper_haircut_halves_the_settled_fill():
    """``QueueFill(model="paper", haircut=0.5)`` on the tape of the first test: floor(0.5 × 150) = 75."""
    fills, _ = _posting_fills(LEVEL, LEVEL_PRINTS, 10, 35, market={"queue": {"model": "paper", "haircut": 0.5}})
    assert fills == [(35 * S - 1, 75)]
