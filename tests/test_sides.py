"""Sells: hand-derived fills on the engine tests' tape, the sign convention of costs, shortfall, TCA parts,
markouts and savings, hypothesis invariants, run_backtest's user orders and ``--side``.

The tape (tests/test_end_to_end.py; fees $/share: A taker .003 rebate .002, B taker .001 rebate 0):
t0: A bid 9.99 x 100 / ask 10.00 x 300, B bid 9.99 x 100 / ask 10.01 x 400; t0 + 5 s: A bid 10.04 x 100 /
ask 10.06 x 300, B bid 10.04 x 100 / ask 10.05 x 400. Arrival mid P_d = (9.99 + 10.00)/2 = 9.995, mid from
5 s on (10.04 + 10.05)/2 = 10.045. A sell of 500 shares arrives at t0, deadline t0 + 10 s.
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
from sorlib.engine.replay import KIND_CLEANUP, KIND_REST
from sorlib.errors import ConfigError
from sorlib.metrics import order_table, savings_bps
from sorlib.strategies import TWAP, VWAP, BestAsk, Decision, ParentOrder, Router
from sorlib.tca import COMPONENTS, markouts, order_costs

sys.path.insert(0, str(Path(__file__).parent))
from test_end_to_end import T0, _fills, _tape  # noqa: E402
from test_engine import _md_from, make_md, quote_rows  # noqa: E402

S = 1_000_000_000
SELL = ParentOrder(0, T0, T0 + 10 * S, 500, -1)


@pytest.fixture(scope="module")
def book() -> Book:
    return _tape()


def test_best_ask_sell_hand_derived(book):
    """Best Ask for a sell takes the best bid by all-in proceeds (bid − fee). t0: A 9.99 − .003 = 9.987, B 9.99
    − .001 = 9.989 → 100 on B @ 9.99. t0 + 5 s (both bids moved, nothing taken is carried): A 10.037, B 10.039
    → 100 on B @ 10.04. Deadline: 300 left; the clean-up sweeps the visible bids (B's is taken: A 100 @ 10.04),
    then the ``depth`` rule: one-level data, each tick beyond holds the median touch size (100) — 10.03 on B
    first (lower fee), then on A. Proceeds 999 + 1004 + 1004 + 1003 + 1003 = 5,013; fees .001·300 + .003·200
    = 0.9; cost = −5,013 + 0.9 = −5,012.1 $; all-in price received 5,012.1/500 = 10.0242 $; shortfall
    −(10.0242 − 9.995)/9.995·10⁴ = −29.2146 bps (the price rose: the sell did better than the arrival mid)."""
    ex = replay(book, BestAsk(), [SELL])
    assert _fills(ex) == [(0, 2, 100, 9.99, 0), (5, 2, 100, 10.04, 0), (10, 1, 100, 10.04, 2),
                          (10, 2, 100, 10.03, 2), (10, 1, 100, 10.03, 2)]
    assert ex.fills.fee.tolist() == [0.001, 0.001, 0.003, 0.001, 0.003]
    assert (ex.fills.side == -1).all() and ex.beyond_book.tolist() == [200] and ex.unfilled.tolist() == [0]
    t = order_table(ex).iloc[0]
    assert t["total_cash"] == pytest.approx(-5012.1, abs=1e-9)
    assert t["avg_fill_px"] == pytest.approx(10.0242, abs=1e-12)
    assert t["shortfall_bps"] == pytest.approx(-(10.0242 - 9.995) / 9.995 * 1e4, abs=1e-9)
    assert ex.arrival_mid.tolist() == [pytest.approx(9.995)]


def test_twap_sell_hand_derived(book):
    """TWAP(5 s): bucket 0 targets ceil(500/2) = 250 and sweeps both bids, 100 + 100 @ 9.99; bucket 1 (t0 + 5 s)
    targets 500, sweeps 100 + 100 @ 10.04; the clean-up's 100: both bids taken, depth 10.03 on B (lower fee).
    Cost −(1,998 + 2,008 + 1,003) + (.003·200 + .001·300) = −5,008.1 $."""
    ex = replay(book, TWAP(5), [SELL])
    assert sorted(_fills(ex)) == [(0, 1, 100, 9.99, 0), (0, 2, 100, 9.99, 0), (5, 1, 100, 10.04, 0),
                                  (5, 2, 100, 10.04, 0), (10, 2, 100, 10.03, 2)]
    assert order_table(ex)["total_cash"].iloc[0] == pytest.approx(-5008.1, abs=1e-9)


def test_sell_tca_parts_by_hand(book):
    """Best Ask's sell (above), s = −1, P_d = 9.995, m_1 = 9.995 (first child at t0), m = 10.045 from 5 s:
    delay 0; trading drift s·100·(10.045 − 9.995) = −5.0; trading spread s·[100(9.99 − 9.995) + 100(10.04 −
    10.045)] = +1.0 (a sell crossing to the bid pays half the spread); opportunity drift s·300·(10.045 −
    9.995) = −15.0; opportunity spread s·[100(10.04 − 10.045) + 200(10.03 − 10.045)] = +3.5; fees 0.9;
    total −14.6 = the cost −5,012.1 minus the arrival value −500·9.995."""
    c = order_costs(replay(book, BestAsk(), [SELL]), book).iloc[0]
    want = {"delay": 0.0, "trading_drift": -5.0, "trading_spread": 1.0, "trading_impact": 0.0,
            "opportunity_drift": -15.0, "opportunity_spread": 3.5, "opportunity_impact": 0.0, "fees": 0.9}
    for k, v in want.items():
        assert c[f"{k}_usd"] == pytest.approx(v, abs=1e-9), k
    assert c["total_usd"] == pytest.approx(-14.6, abs=1e-9) and c["side"] == -1
    assert sum(c[f"{k}_usd"] for k in COMPONENTS) == pytest.approx(c["total_usd"], abs=1e-9)


def test_sell_markout_sign(book):
    """The first sell fill (B, 9.99 at t0); the mid 1 s later is 9.995: from the seller's side
    −(9.995 − 9.99)/9.99·10⁴ = −5.005 bps (adverse: sold below the later mid) — the mirror of a buy at the
    10.00 ask, (9.995 − 10.00)/10.00·10⁴ = −5.0 bps."""
    m = markouts(replay(book, BestAsk(), [SELL]), book)
    assert m["markout_1s_bps"].iloc[0] == pytest.approx(-(9.995 - 9.99) / 9.99 * 1e4, abs=1e-9)
    buy = markouts(replay(book, BestAsk(), [ParentOrder(0, T0, T0 + 10 * S, 500)]), book)
    assert buy["markout_1s_bps"].iloc[0] == pytest.approx((9.995 - 10.00) / 10.00 * 1e4, abs=1e-9)


def test_saving_is_positive_when_the_router_did_better_for_the_side(book):
    """Costs: TWAP −5,008.1 $, Best Ask −5,012.1 $ (Best Ask received 4 $ more). TWAP's saving vs Best Ask =
    (−5,012.1 − (−5,008.1))/5,012.1·10⁴ = −7.9806 bps (negative: worse for a seller); Best Ask's vs TWAP
    +4/5,008.1·10⁴ = +7.9871 bps."""
    tw, ba = replay(book, TWAP(5), [SELL]), replay(book, BestAsk(), [SELL])
    assert savings_bps(tw, ba)["bps"] == pytest.approx(-4.0 / 5012.1 * 1e4, abs=1e-9)
    assert savings_bps(ba, tw)["bps"] == pytest.approx(4.0 / 5008.1 * 1e4, abs=1e-9)


class _Post(Router):
    """Rests the whole remainder at venue 0's best price of its side (the engine's resting rule)."""

    def decide(self, view):
        lim = np.zeros(view.ask_px.shape[0], np.int64)
        lim[0] = view.remaining
        return Decision(np.zeros(view.ask_px.shape[0], np.int64), lim)


def test_resting_sell_fills_after_the_queue_ahead_at_the_ask():
    """A sell resting at venue 1's ask 10.01 behind 200 shares; buyer-initiated prints of 150 then 100 @ 10.01
    (the ask-side mirror of tests/test_engine.py's bid case): 150 leave 50 ahead, the next 100 fill those 50
    and 50 of ours @ 10.01, paid the maker rebate (fee −rebate). Seller-initiated prints at the bid fill
    nothing."""
    md = make_md([(0, 1, 9.99, 300, 10.01, 200), (1, 1, 9.99, 300, 10.01, 200), (2, 1, 9.99, 300, 10.01, 200)],
                 trades=[(0.5, 1, 10.01, 150, 1), (1.5, 1, 10.01, 100, 1), (1.7, 1, 9.99, 500, -1)])
    book = Book.from_market(md)
    ex = replay(book, _Post(mode="uncapped", rest_seconds=100), [ParentOrder(0, 0, 10 * S, 100, -1)],
                market={"cleanup": "flat"})
    rest = ex.fills.kind == KIND_REST
    assert ex.fills.qty[rest].tolist() == [50] and ex.fills.price[rest].tolist() == [10.01]
    assert ex.fills.fee[rest].tolist() == [-book.maker_rebate[0]]
    # the other 50 at the deadline: the bid 9.99 x 300 is swept
    clean = ex.fills.kind == KIND_CLEANUP
    assert ex.fills.qty[clean].tolist() == [50] and ex.fills.price[clean].tolist() == [9.99]


def test_mixed_sides_in_one_replay_merge_by_order(book):
    """A buy and a sell in one replay give each exactly what it gets alone (orders are independent)."""
    buy = ParentOrder(1, T0, T0 + 10 * S, 500)
    both = replay(book, BestAsk(), [SELL, buy])
    alone = {0: replay(book, BestAsk(), [SELL]), 1: replay(book, BestAsk(), [buy])}
    t = order_table(both).set_index("order_id")
    for oid, ex in alone.items():
        assert t.loc[oid, "total_cash"] == pytest.approx(order_table(ex)["total_cash"].iloc[0], abs=1e-9)
    assert both.fills.side[both.fills.order_id == 0].tolist() == [-1] * 5
    assert (both.fills.side[both.fills.order_id == 1] == 1).all()


@settings(max_examples=40, deadline=None)
@given(quote_rows, st.integers(1, 40).map(lambda x: x * 100),
       st.sampled_from(["best_ask", "twap", "vwap", "spec", "uncapped"]))
def test_sell_invariants(rows, size, which):
    """Sells on random tapes: shares + unfilled = ordered (never over), unfilled only when no bid was shown
    before the deadline, cost = Σ(−price + fee)·qty per order, every fill marked side −1."""
    md = _md_from(rows)
    book = Book.from_market(md)
    strat = {"best_ask": BestAsk(), "twap": TWAP(20), "vwap": VWAP("traded", 20),
             "spec": Router(mode="spec"), "uncapped": Router(mode="uncapped", rest_seconds=10)}[which]
    orders = [ParentOrder(0, 0, 60 * S, size, -1), ParentOrder(1, 30 * S, 100 * S, size, -1)]
    ex = replay(book, strat, orders)
    f, t = ex.fills, order_table(ex)
    assert (t["shares"] + ex.unfilled == t["size"]).all() and (f.qty > 0).all() and (f.side == -1).all()
    bids = np.where(book.row >= 0, book.bid_px[np.maximum(book.row, 0), 0], np.nan)
    for o, u in zip(orders, ex.unfilled, strict=True):
        j_last = int(np.searchsorted(book.times, o.deadline_ns, side="left")) - 1
        assert (u > 0) == (j_last < 0 or not np.isfinite(bids[: j_last + 1]).any())
    for i in (0, 1):
        m = f.order_id == i
        assert t["total_cash"].iloc[i] == pytest.approx(float(np.sum((-f.price[m] + f.fee[m]) * f.qty[m])),
                                                        abs=1e-6)


# ------------------------------------------------------------------------------------ run_backtest
def test_run_backtest_user_orders_and_side(book):
    """User orders of both sides replace the schedule (deadlines past the data's last record, t0 + 5 s, are
    capped there: the clean-up then meets the same t0 + 5 s book, so Best Ask's sell still costs −5,012.1 $);
    ``side="sell"`` makes the schedule's order a sell."""
    cfg = BacktestConfig(order_size=500, horizon_minutes=10 / 60, grid={"lambda_over": [2.0],
                                                                        "lambda_under": [0.01],
                                                                        "theta_queue": [0.01]})
    r = run_backtest(book, cfg, orders=[SELL, ParentOrder(7, T0, T0 + 10 * S, 500)]).results
    assert r["parent_orders"] == 2 and r["unplaced_orders"] == []
    assert r["sells"]["orders"] == 1 and r["sells"]["mirror_center_usd"] == pytest.approx(2 * 9.99)  # first bid
    ba = r["baselines"]["best_ask"]
    assert ba["total_cash"] == pytest.approx(-5012.1 + float(order_table(replay(
        book, BestAsk(), [ParentOrder(7, T0, T0 + 10 * S, 500)]))["total_cash"].iloc[0]), abs=1e-9)
    cfg.side = "sell"
    sold = run_backtest(book, cfg)
    assert sold.results["baselines"]["best_ask"]["total_cash"] == pytest.approx(-5012.1, abs=1e-9)
    assert [o.side for o in sold.router.orders] == [-1]


@pytest.mark.parametrize("orders, text", [
    ([SELL, SELL], "order 0: order id repeated"),
    ([ParentOrder(3, T0 - S, T0 + 5 * S, 100)], "order 3: arrival .* is outside the data"),
    ([ParentOrder(4, T0 + 6 * S, T0 + 60 * S, 100)], "order 4: arrival .* is outside the data"),
    ([ParentOrder(5, T0 + 5 * S, T0 + 5 * S, 100)], "order 5: deadline"),
])
def test_bad_user_orders_are_located(book, orders, text):
    with pytest.raises(ConfigError, match=text):
        run_backtest(book, BacktestConfig(grid={"lambda_over": [2.0], "lambda_under": [0.01],
                                                "theta_queue": [0.01]}), orders=orders)


def test_bad_side_and_limit():
    with pytest.raises(ConfigError, match="side"):
        BacktestConfig(side="short").validate()
    with pytest.raises(ConfigError, match="order 1: side"):
        ParentOrder(1, 0, 1, 100, 0)
    with pytest.raises(ConfigError, match="order 2: limit price"):
        ParentOrder(2, 0, 1, 100, 1, -3.0)


def test_orders_compare_equal_after_pickling():
    """"No limit" is one NaN object, also after a round trip through pickle (process workers) or a copy, so
    orders compare and hash equal (NaN != NaN otherwise)."""
    import copy
    import pickle

    o = ParentOrder(3, 10, 20, 100, -1)
    for back in (pickle.loads(pickle.dumps(o)), copy.deepcopy(o), ParentOrder(3, 10, 20, 100, -1, float("nan"))):
        assert back == o and hash(back) == hash(o)
    assert pickle.loads(pickle.dumps(ParentOrder(1, 0, 5, 10, 1, 9.5))).limit_price == 9.5


def test_cli_side_flag(tmp_path):
    """``sorlib backtest --side sell`` on the synthetic day writes a sell's results (every order side −1 in the
    TCA table)."""
    import json

    from sorlib.cli import main

    out = tmp_path / "r.json"
    rc = main(["backtest", "--side", "sell", "--horizon", "2", "--order-size", "500", "--out", str(out)])
    assert rc == 0
    r = json.loads(out.read_text())
    assert r["config"]["side"] == "sell"
    assert {row["side"] for row in r["tca"]["orders"]} == {-1}


# ------------------------------------------------------------------------------------------ no look-ahead
@pytest.fixture(scope="module")
def day():
    from sorlib.synth import generate_market

    return generate_market(venues=3, seed=2, minutes=5)


@pytest.mark.parametrize("which", ["Router-1", "ContKukanov-0", "VWAP-0", "RiskGuard-0"])
def test_sells_do_not_look_ahead(day, which):
    """tests/test_lookahead.py's check (rewrite every record after t_i, decisions at t ≤ t_i must not change)
    on two sells replayed on the mirror. RiskGuard with every control (LULD band in percent, kill switch in
    bps: rules that read the price level). The mirror centre itself reads only the day's first record
    (tests/test_mirror.py pins that); this check would also pass with a whole-day centre (tried: a median
    centre moves every mirrored price by the same amount, and these decisions do not depend on the level at
    the precision the check probes), so it covers the mirrored past, not the centre."""
    from test_lookahead import cases, check_no_lookahead

    md = day
    t0 = int(md.quotes.ts[0])
    sells = [ParentOrder(0, t0 + 90 * S, t0 + 150 * S, 3000, -1), ParentOrder(1, t0 + 180 * S, t0 + 240 * S, 2000, -1)]
    cls, kwargs = next(c.values[:2] for c in cases() if c.id == which)
    assert check_no_lookahead(lambda book: cls(**(kwargs() if callable(kwargs) else kwargs)), md, sells) >= 2


def test_sell_impact_parts_add_up_to_the_impact_paid(book):
    """Under impact a sell's fills are lower by its own impact (fill_impact < 0); TCA's impact parts,
    s·Σ q·I, are then positive costs and add up to Execution.impact_cost (what the replay paid)."""
    from sorlib.sim import market_model

    mm = market_model({"preset": "impact", "impact": {"sigma_daily": 1.0, "volume_daily": 1e5}})
    ex = replay(book, BestAsk(), [SELL], market=mm)
    assert (ex.fill_impact < 0).all() and ex.impact_cost[0] > 0
    c = order_costs(ex, book).iloc[0]
    assert c["trading_impact_usd"] + c["opportunity_impact_usd"] == pytest.approx(ex.impact_cost[0], rel=1e-12)


def test_a_sells_strategy_sees_a_buy_with_the_mirrored_limit(book):
    """Strategies always see a buy: a sell limited at 10.02 shows side +1 and limit C − 10.02 (C = 2 × the first
    quoted price 9.99 = 19.98: 9.96), and its view's asks are the mirrored bids (C − 9.99 = 9.99 at t0)."""
    seen = []

    class Look(BestAsk):
        def decide(self, view):
            seen.append((view.order.side, view.order.limit_price, view.ask_px[:, 0].tolist()))
            return super().decide(view)

    replay(book, Look(), [ParentOrder(0, T0, T0 + 10 * S, 500, -1, 10.02)])
    side, lim, asks = seen[0]
    assert side == 1 and lim == pytest.approx(19.98 - 10.02, abs=1e-9)
    assert asks == pytest.approx([9.99, 9.99], abs=1e-9)
