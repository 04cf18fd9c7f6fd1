"""Savings when shares go unfilled (issue 20): every saving compares Perold's implementation shortfall, i.e.
the cost ``cash + side·U·P_end`` (U unfilled shares, P_end the mid just before the deadline).

The engine tests' tape (tests/test_end_to_end.py): t0 A bid 9.99 x 100 / ask 10.00 x 300, B bid 9.99 x 100 /
ask 10.01 x 400; t0 + 5 s A 10.04 / 10.06 x 300, B 10.04 / 10.05 x 400; fees A .003, B .001 $/share; arrival
mid P_d = 9.995; the mid just before a deadline at t0 + 10 s, P_end = (10.04 + 10.05)/2 = 10.045.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from sorlib.backtest import BacktestConfig, run_backtest
from sorlib.engine import replay
from sorlib.metrics import end_mids, order_columns, savings_bps, savings_from_cash, summary
from sorlib.strategies import BestAsk, ParentOrder, Router
from sorlib.tca import COMPONENTS, compare, order_costs

sys.path.insert(0, str(Path(__file__).parent))
from test_end_to_end import T0, _fills, _tape  # noqa: E402

S = 1_000_000_000
LIMITED = [ParentOrder(0, T0, T0 + 10 * S, 500, 1, 10.01)]


@pytest.fixture(scope="module")
def book():
    return _tape()


@pytest.fixture(scope="module")
def pair(book):
    """The router (spec) and Best Ask on one buy of 500 limited at 10.01."""
    return replay(book, Router(mode="spec"), LIMITED), replay(book, BestAsk(), LIMITED)


def test_fills_of_the_pair(pair):
    """The spec router splits at t0: A 300 @ 10.00 and B 200 @ 10.01 (both within the limit), all 500 filled.
    Best Ask takes A's 300 @ 10.00 (all-in 10.003 < B's 10.011); at 5 s both asks (10.06, 10.05) are above the
    10.01 limit, and so is everything the clean-up would sweep: 200 unfilled."""
    router, best = pair
    assert _fills(router) == [(0, 1, 300, 10.0, 0), (0, 2, 200, 10.01, 0)] and router.unfilled.tolist() == [0]
    assert _fills(best) == [(0, 1, 300, 10.0, 0)] and best.unfilled.tolist() == [200]


def test_saving_by_hand(book, pair):
    """Router cost = 300·10.003 + 200·10.011 = 3,000.9 + 2,002.2 = 5,003.1 $ (nothing unfilled).
    Best Ask cost = cash 300·10.003 = 3,000.9 $ + the 200 unfilled shares at P_end 10.045 = 2,009.0 $ →
    5,009.9 $. Saving of the router against Best Ask = (5,009.9 − 5,003.1) / 5,009.9 · 10⁴ = 13.5731 bps.
    Cross-check with Perold's IS (tca): IS_router = 300·0.005 + 200·0.015 + 1.1 fees = 5.6 $, IS_best =
    300·0.005 + 200·0.05 + 0.9 = 12.4 $; ΔIS = 6.8 $ = the difference of costs, and cost − X·P_d = IS for both
    (X·P_d = 500·9.995 = 4,997.5 $)."""
    router, best = pair
    want = (5009.9 - 5003.1) / 5009.9 * 1e4
    s = savings_bps(router, best, book=book)
    assert s["bps"] == pytest.approx(want, abs=1e-9) and s["orders"] == 1
    a, b = order_columns(router, book), order_columns(best, book)
    assert a["cost"][0] == pytest.approx(5003.1, abs=1e-9) and b["cost"][0] == pytest.approx(5009.9, abs=1e-9)
    assert b["unfilled_cash"][0] == pytest.approx(2009.0, abs=1e-9) and b["end_mid"][0] == pytest.approx(10.045)
    ia, ib = order_costs(router, book)["total_usd"][0], order_costs(best, book)["total_usd"][0]
    assert (ia, ib) == (pytest.approx(5.6, abs=1e-9), pytest.approx(12.4, abs=1e-9))
    assert a["cost"][0] - ia == pytest.approx(4997.5, abs=1e-9) and b["cost"][0] - ib == pytest.approx(4997.5, abs=1e-9)
    # the per-order shortfall counts the unfilled shares too: Perold's IS over the arrival notional
    assert b["shortfall_bps"][0] == pytest.approx(12.4 / 4997.5 * 1e4, abs=1e-9)
    assert a["shortfall_bps"][0] == pytest.approx(5.6 / 4997.5 * 1e4, abs=1e-9)
    # the TCA comparison uses the same saving
    c = compare({"router": router, "best_ask": best}, book, reference="best_ask").set_index("strategy")
    assert c.loc["router", "saving_bps"] == pytest.approx(want, abs=1e-9)


def test_the_old_cash_rule_is_absurd(pair):
    """The cash alone compares 500 shares bought with 300: (3,000.9 − 5,003.1) / 3,000.9 · 10⁴ = −6,672 bps, a
    'loss' of two thirds of the notional. The saving in use is 13.57 bps, nowhere near it."""
    router, best = pair
    old = savings_from_cash(order_columns(router)["total_cash"], order_columns(best)["total_cash"])["bps"]
    assert old == pytest.approx((3000.9 - 5003.1) / 3000.9 * 1e4, abs=1e-6) and old < -6000
    with pytest.raises(ValueError, match="need the book"):  # no silent fallback to the cash rule
        savings_bps(router, best)


def test_sell_limit_unfilled_by_hand(book):
    """A sell of 500 limited at 10.04 (tests/test_limit_price.py): Best Ask sells B 100 @ 10.04 at 5 s (fee .001)
    and the clean-up A 100 @ 10.04 (fee .003); 300 unsold. cost = −(100·10.039 + 100·10.037) + side·U·P_end =
    −2,007.6 − 300·10.045 = −2,007.6 − 3,013.5 = −5,021.1 $; IS = cost + X·P_d = −5,021.1 + 4,997.5 = −23.6 $
    (tests/test_limit_price.py's hand value)."""
    ex = replay(book, BestAsk(), [ParentOrder(0, T0, T0 + 10 * S, 500, -1, 10.04)])
    c = order_columns(ex, book)
    assert c["unfilled"].tolist() == [300]
    assert c["cost"][0] == pytest.approx(-5021.1, abs=1e-9)
    assert c["cost"][0] + 500 * 9.995 == pytest.approx(order_costs(ex, book)["total_usd"][0], abs=1e-9)
    assert c["shortfall_bps"][0] == pytest.approx(-23.6 / 4997.5 * 1e4, abs=1e-9)


def test_backtest_uses_the_cost(book):
    """run_backtest on the limited order: the router's saving against Best Ask is the hand value above, the
    summaries carry unfilled_shares / total_cost, and the TCA parts still add up to IS with unfilled shares."""
    r = run_backtest(book, BacktestConfig(grid={"lambda_over": [2.0], "lambda_under": [0.01],
                                                "theta_queue": [0.01]}), orders=LIMITED).results
    assert r["savings_vs_baselines_bps"]["best_ask"] == pytest.approx((5009.9 - 5003.1) / 5009.9 * 1e4, abs=1e-9)
    ba = r["baselines"]["best_ask"]
    assert ba["unfilled_shares"] == 200 and ba["total_cost"] == pytest.approx(5009.9, abs=1e-9)
    assert "total_cost" not in r["optimized"]  # nothing unfilled: the summary is as before
    for o in r["tca"]["orders"]:
        assert sum(o[f"{k}_usd"] for k in COMPONENTS) == pytest.approx(o["total_usd"], abs=1e-9)


def test_grid_best_point_ranks_on_the_cost(book):
    """The grid's best point is the least comparable_cost: between Best Ask's summary (300 shares, cash
    3,000.9 $, cost 5,009.9 $) and the router's (500 shares, 5,003.1 $), ranking on cash would pick the 300
    shares; on the cost the router wins."""
    from sorlib.metrics import comparable_cost

    router, best = (replay(book, s, LIMITED) for s in (Router(mode="spec"), BestAsk()))
    costs = [comparable_cost(summary(e, book)) for e in (best, router)]
    assert int(np.argmin(costs)) == 1
    assert summary(best, book)["total_cash"] < summary(router, book)["total_cash"]


def test_end_mid_is_the_tca_one(book):
    """P_end: the mid of the last snapshot strictly before the deadline (a deadline on a snapshot's time takes
    the one before): at t0 + 5 s exactly it is the t0 mid 9.995; just after, 10.045; before any quote, NaN."""
    got = end_mids(book, np.array([T0 + 5 * S, T0 + 5 * S + 1, T0 - 1], np.int64))
    assert got[0] == pytest.approx(9.995) and got[1] == pytest.approx(10.045) and np.isnan(got[2])


def test_filled_orders_keep_cash_to_the_bit(book):
    """No unfilled shares: cost is the cash itself, bit for bit (buy-only figures unchanged)."""
    orders = [ParentOrder(0, T0, T0 + 10 * S, 500, 1)]
    ex = replay(book, BestAsk(), orders)
    c = order_columns(ex, book)
    assert c["unfilled"].tolist() == [0] and c["cost"].tobytes() == c["total_cash"].tobytes()
    assert "total_cost" not in summary(ex, book)
