"""Limit prices, enforced by the engine: no fill through a limit (any strategy, any side, with impact), the
shares left are reported unfilled, and the TCA parts still add up exactly.

Hand-derived cases on the engine tests' tape (tests/test_end_to_end.py: t0 A bid 9.99 x 100 / ask 10.00 x 300,
B bid 9.99 x 100 / ask 10.01 x 400; t0 + 5 s A 10.04 x 100 / 10.06 x 300, B 10.04 x 100 / 10.05 x 400; fees A
.003, B .001 $/share; arrival mid 9.995, mid before the deadline 10.045).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sorlib.backtest import BacktestConfig, run_backtest
from sorlib.engine import Book, replay
from sorlib.engine.replay import KIND_REST
from sorlib.sim import market_model
from sorlib.strategies import TWAP, VWAP, BestAsk, ContKukanov, Decision, ParentOrder, Router
from sorlib.tca import COMPONENTS, order_costs

sys.path.insert(0, str(Path(__file__).parent))
from test_end_to_end import T0, _fills, _tape  # noqa: E402
from test_engine import _md_from, quote_rows  # noqa: E402

S = 1_000_000_000
GRID = {"lambda_over": [2.0], "lambda_under": [0.01], "theta_queue": [0.01]}


@pytest.fixture(scope="module")
def book() -> Book:
    return _tape()


def _parts_add_up(costs) -> None:
    """delay + trading + opportunity + fees = IS per order (both NaN when the arrival mid is unknown: an order
    arriving before any two-sided quote)."""
    for _, c in costs.iterrows():
        parts = sum(c[f"{k}_usd"] for k in COMPONENTS)
        if np.isnan(c["arrival_mid"]):
            assert np.isnan(c["total_usd"])
            continue
        assert parts == pytest.approx(c["total_usd"], abs=1e-9)


def test_buy_limit_by_hand(book):
    """Best Ask buys 500 with a 10.00 limit: t0 A 300 @ 10.00 (all-in 10.003 < B's 10.011); at 5 s both asks
    (10.06, 10.05) are above the limit: nothing; the clean-up sweeps nothing and prices nothing beyond the book
    (every level is above 10.00): 200 unfilled. Perold: IS = 300·(10.00 − 9.995) + 200·(10.045 − 9.995) +
    0.9 fees = 1.5 + 10.0 + 0.9 = 12.4 $, the 10.0 being the opportunity cost of the unfilled shares."""
    ex = replay(book, BestAsk(), [ParentOrder(0, T0, T0 + 10 * S, 500, 1, 10.00)])
    assert _fills(ex) == [(0, 1, 300, 10.0, 0)]
    assert ex.unfilled.tolist() == [200] and ex.beyond_book.tolist() == [0]
    c = order_costs(ex, book)
    assert c["unfilled_shares"].iloc[0] == 200
    assert c["opportunity_drift_usd"].iloc[0] == pytest.approx(10.0, abs=1e-9)
    assert c["total_usd"].iloc[0] == pytest.approx(12.4, abs=1e-9)
    _parts_add_up(c)


def test_sell_limit_by_hand(book):
    """Best Ask sells 500 with a 10.04 limit: the t0 bids (9.99) are below it; at 5 s B 100 @ 10.04 (proceeds
    net 10.039 > A's 10.037); the clean-up sweeps A's 100 @ 10.04 and stops (the depth rule's next tick, 10.03,
    is below the limit): 300 unfilled, none beyond the book. IS = −[200·(10.04 − 9.995)] − 300·(10.045 −
    9.995) + fees (.1 + .3) = −9.0 − 15.0 + 0.4 = −23.6 $ (the unsold shares gained value: a negative
    opportunity cost). Opportunity drift = the clean-up fill's −100·(10.045 − 9.995) plus the unfilled
    shares' −300·(10.045 − 9.995) = −5.0 − 15.0 = −20.0 $."""
    ex = replay(book, BestAsk(), [ParentOrder(0, T0, T0 + 10 * S, 500, -1, 10.04)])
    assert _fills(ex) == [(5, 2, 100, 10.04, 0), (10, 1, 100, 10.04, 2)]
    assert ex.unfilled.tolist() == [300] and ex.beyond_book.tolist() == [0]
    c = order_costs(ex, book)
    assert c["opportunity_drift_usd"].iloc[0] == pytest.approx(-20.0, abs=1e-9)
    assert c["total_usd"].iloc[0] == pytest.approx(-23.6, abs=1e-9)
    _parts_add_up(c)


class _Post(Router):
    """Rests the whole remainder at venue 0's best price of its side."""

    def decide(self, view):
        lim = np.zeros(view.ask_px.shape[0], np.int64)
        lim[0] = view.remaining
        return Decision(np.zeros(view.ask_px.shape[0], np.int64), lim)


def test_resting_order_above_the_limit_is_rejected(book):
    """A buy limited at 9.98 would rest at A's bid 9.99 — above its limit: the engine rejects it (no child order
    recorded, no resting fill); a limit at 9.99 rests."""
    ex = replay(book, _Post(mode="uncapped", rest_seconds=100), [ParentOrder(0, T0, T0 + 10 * S, 100, 1, 9.98)])
    assert len(ex.children) == 0 and len(ex.fills) == 0 and ex.unfilled.tolist() == [100]
    ok = replay(book, _Post(mode="uncapped", rest_seconds=100), [ParentOrder(0, T0, T0 + 10 * S, 100, 1, 9.99)])
    assert (ok.children.kind == KIND_REST).sum() == 1


def test_limit_binds_with_impact_by_hand():
    """One venue offering 10.00 x 10,000; impact with σ = 1 $/share, V = 10⁶ shares, Y = 1 (path = 1e-3·
    [(2/3)·n^{3/2}/n] $ from nothing taken): Best Ask with a 10.01 limit may take n shares while 10.00 +
    (2/3)·1e-3·√n ≤ 10.01 ⇔ √n ≤ 15 ⇔ n ≤ 225 — 225 shares, paying 10.01 at most; the rest unfilled (the
    clean-up's prices, higher, are above the limit too)."""
    from test_engine import make_md

    md = make_md([(0, 1, 9.99, 100, 10.00, 10_000), (20, 1, 9.99, 100, 10.00, 10_000)])
    mm = market_model({"preset": "impact", "impact": {"sigma_daily": 1.0, "volume_daily": 1e6, "y": 1.0}})
    ex = replay(Book.from_market(md), BestAsk(), [ParentOrder(0, 0, 10 * S, 1000, 1, 10.01)], market=mm)
    assert ex.fills.qty.sum() == 225 and ex.fills.price.max() <= 10.01 + 1e-9
    assert ex.unfilled.tolist() == [775]


STRATS = {"best_ask": BestAsk, "twap": lambda: TWAP(20), "vwap": lambda: VWAP("traded", 20),
          "spec": lambda: Router(mode="spec"), "uncapped": lambda: Router(mode="uncapped", rest_seconds=10),
          "ck": lambda: ContKukanov(horizon_seconds=10, lookback_minutes=1, n_iter=100)}


@settings(max_examples=60, deadline=None)
@given(quote_rows, st.integers(1, 30).map(lambda x: x * 100), st.sampled_from(sorted(STRATS)),
       st.sampled_from([1, -1]), st.integers(990, 1010), st.sampled_from(["frozen", "impact", "realistic"]))
def test_no_strategy_fills_through_a_limit(rows, size, which, side, limit_c, preset):
    """Random tapes (prices 9.95–10.09), every strategy, both sides, limits 9.90–10.10, with and without
    impact: a buy's fills are all at or below its limit, a sell's at or above (prices as paid, impact included);
    shares + unfilled = ordered; the TCA parts add up to the total with unfilled shares present."""
    md = _md_from(rows)
    book = Book.from_market(md)
    lim = limit_c / 100
    mm = market_model({"preset": preset, "impact": {"sigma_daily": 0.5, "volume_daily": 1e5}} if preset != "frozen"
                      else preset)
    orders = [ParentOrder(0, 0, 60 * S, size, side, lim), ParentOrder(1, 30 * S, 100 * S, size, side)]
    ex = replay(book, STRATS[which](), orders, market=mm)
    f = ex.fills
    mine = f.order_id == 0
    assert (side * (f.price[mine] - lim) <= 1e-9).all()
    shares = np.bincount(f.order_id, f.qty, 2)
    assert (shares + ex.unfilled == size).all()
    _parts_add_up(order_costs(ex, book))


def test_backtest_reports_unfilled_shares(book):
    """run_backtest with a limited buy: every strategy's unfilled shares are in the results (the 10.00 limit
    leaves at least the 200 shares no venue offers at or below it within the window)."""
    r = run_backtest(book, BacktestConfig(grid=GRID), orders=[ParentOrder(0, T0, T0 + 5 * S, 500, 1, 10.00)]).results
    assert set(r["unfilled_shares"]) == {"router", "best_ask", "twap", "vwap"}
    assert all(u >= 200 for u in r["unfilled_shares"].values())
    rows = [o for o in r["tca"]["orders"] if o["strategy"] == "best_ask"]
    assert rows[0]["unfilled_shares"] == r["unfilled_shares"]["best_ask"]
