"""Market-model presets: frozen is the recorded tape bit for bit; invariants hold under every preset."""

from __future__ import annotations

import argparse
from dataclasses import asdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine import S, _md_from, assert_takes_within_display, quote_rows

from sorlib.backtest import BacktestConfig, parent_orders, run_backtest
from sorlib.engine import Book, replay
from sorlib.errors import ConfigError
from sorlib.metrics import order_table, summary
from sorlib.sim import MARKET_PRESETS, FadeModel, ImpactModel, LatencyModel, MarketModel, market_model
from sorlib.strategies import TWAP, VWAP, BestAsk, ContKukanov, ParentOrder, Router

FIELDS = ("order_id", "ts", "venue", "qty", "price", "fee", "kind")

#: every model switched on but doing nothing: zero latency, Y = 0, fade fraction 0
ZEROED = MarketModel(name="zeroed", latency=LatencyModel(enabled=True, scale=0.0),
                     impact=ImpactModel(enabled=True, y=0.0, sigma_daily=1.0, volume_daily=1e6),
                     fade=FadeModel(enabled=True, fraction=0.0))

STRATEGIES = {"best_ask": BestAsk, "twap": TWAP, "vwap": VWAP, "spec": lambda: Router(mode="spec"),
              "uncapped": lambda: Router(mode="uncapped"), "ck": lambda: ContKukanov()}


def test_presets_switch_the_models():
    on = {n: (m.latency.enabled, m.impact.enabled, m.fade.enabled, m.queue.model)
          for n, m in ((n, MarketModel.preset(n)) for n in MARKET_PRESETS)}
    assert on == {"frozen": (False, False, False, "conservative"), "latency": (True, False, False, "conservative"),
                  "impact": (False, True, False, "conservative"), "fade": (False, False, True, "conservative"),
                  "queue": (False, False, False, "power3"), "realistic": (True, True, True, "power3")}
    assert MarketModel.preset("frozen").frozen and not MarketModel.preset("realistic").frozen
    with pytest.raises(ConfigError, match="frozen, latency, impact, fade, queue, realistic"):
        MarketModel.preset("wild")


def test_market_model_from_dict_round_trips():
    m = MarketModel.preset("realistic")
    assert market_model(asdict(m)) == m
    assert market_model(None) == MarketModel.preset("frozen") == market_model("frozen")
    custom = market_model({"preset": "impact", "impact": {"y": 0.5, "decay": "exponential"}})
    assert custom.impact.enabled and custom.impact.y == 0.5 and custom.impact.decay == "exponential"
    with pytest.raises(ConfigError, match="unknown market model key"):
        market_model({"preset": "impact", "speed": 3})
    with pytest.raises(ConfigError):
        market_model(42)


@pytest.fixture(scope="module")
def day():
    from sorlib.synth import default_market

    md = default_market(seed=0)
    book = Book.from_market(md)
    return book, parent_orders(book, 5000, 30, 10)[:3]


@pytest.mark.parametrize("name", list(STRATEGIES))
def test_every_model_off_reproduces_the_frozen_tape_bit_for_bit(day, name):
    """Default day, three parent orders: no market model, the frozen preset, and every model switched on with
    nothing to do give identical fills (every array), cash and clean-up."""
    book, orders = day
    ref = replay(book, STRATEGIES[name](), orders)
    for market in ("frozen", ZEROED):
        ex = replay(book, STRATEGIES[name](), orders, market=market)
        for f in FIELDS:
            assert np.array_equal(getattr(ref.fills, f), getattr(ex.fills, f)), (market, f)
        assert summary(ex)["total_cash"] == summary(ref)["total_cash"]
        assert np.array_equal(ref.beyond_book, ex.beyond_book) and np.array_equal(ref.unfilled, ex.unfilled)
        assert not ex.impact_cost.any()


@pytest.mark.parametrize("mode", ["spec", "uncapped", "ck"])
def test_backtest_records_the_market_model(day, mode):
    book, orders = day
    cfg = BacktestConfig(mode=mode, grid={"lambda_over": [5.0], "lambda_under": [0.05], "theta_queue": [0.05]},
                         every_minutes=120, horizon_minutes=5, market="realistic")
    r = run_backtest(book, cfg).results
    assert r["market"]["name"] == "realistic"
    imp = r["market"]["parameters"]["impact"]
    # σ and V are estimated per order from the data before its arrival (no look-ahead), recorded as a summary
    assert imp["enabled"] and imp["estimate"] == "causal" and imp["sigma_daily_usd"] is None
    est = imp["estimated"]
    assert est["orders"] == r["parent_orders"] > 0  # one σ, V per parent order (distinct arrivals)
    assert sum(est["sources"].values()) == est["orders"]
    assert est["sigma_daily_usd_median"] > 0 and est["volume_daily_shares_median"] > 0
    assert r["market"]["parameters"]["cleanup"]["rule"] == "depth"
    assert set(r["impact_cost"]) == {"router", "best_ask", "twap", "vwap"}
    assert r["impact_cost"]["best_ask"]["usd_per_order"] > 0
    assert r["config"]["market"] == "realistic"
    with pytest.raises(ConfigError):
        BacktestConfig(market="wild").validate()


def test_cli_market_option():
    from sorlib.cli._common import add_config_args, config_from_args

    p = argparse.ArgumentParser()
    p.add_argument("--seed", type=int, default=0)
    add_config_args(p, None, "every")
    assert config_from_args(p.parse_args([])).market == "frozen"
    assert config_from_args(p.parse_args(["--market", "realistic"])).market == "realistic"
    with pytest.raises(SystemExit):
        p.parse_args(["--market", "wild"])


def _model(name: str) -> MarketModel:
    m = MarketModel.preset(name)
    # the hypothesis tapes have no prints every minute: give the impact inputs instead of estimating them
    return m if not m.impact.enabled else market_model({"preset": name, "impact": {"sigma_daily": 0.5,
                                                                                     "volume_daily": 100_000}})


@settings(max_examples=40, deadline=None)
@given(quote_rows, st.integers(1, 40).map(lambda x: x * 100),
       st.sampled_from(["best_ask", "twap", "vwap", "spec", "uncapped"]),
       st.sampled_from(list(MARKET_PRESETS)))
def test_invariants_under_every_preset(rows, size, which, preset):
    """test_engine's invariants with a market model: every order ends at exactly its size (or counts the rest
    unfilled), quantities are positive, prices finite, cash = Σ px·qty + fees, fills never later than the
    deadline plus the largest latency, and no marketable fill exceeds what the venue displayed then."""
    md = _md_from(rows)
    book = Book.from_market(md)
    strat = {"best_ask": BestAsk(), "twap": TWAP(20), "vwap": VWAP("traded", 20),
             "spec": Router(mode="spec"), "uncapped": Router(mode="uncapped", rest_seconds=10)}[which]
    orders = [ParentOrder(0, 0, 60 * S, size), ParentOrder(1, 30 * S, 100 * S, size)]
    mm = _model(preset)
    ex = replay(book, strat, orders, market=mm)
    f = ex.fills
    t = order_table(ex)
    assert (t["shares"] + ex.unfilled == t["size"]).all()
    assert (f.qty > 0).all() and np.isfinite(f.price).all()
    lat = int(mm.latency.delays_ns(book.venues, [p.latency_us for p in book.profiles]).max(initial=0))
    assert (f.ts <= np.array([orders[i].deadline_ns for i in f.order_id]) + lat).all()
    assert np.isclose(summary(ex)["total_cash"], float((f.price * f.qty).sum() + (f.fee * f.qty).sum()))
    assert (ex.impact_cost >= -1e-12).all() and (ex.impact_cost > 0).any() == bool(
        mm.impact.enabled and ((f.kind == 0) | (f.kind == 2)).any())
    assert_takes_within_display(ex, book)


def test_queue_preset_moves_resting_orders_up_on_cancels_ahead():
    """We rest 100 behind a bid of 200 at 9.99 (front = 200). At 1 s 100 shares join behind us (level 300),
    at 2 s 100 are cancelled (level 200, no print), at 3 s 180 print at 9.99.
    Conservative: front = min(200, 200) = 200 after the cancel; the print eats 180 of it: 0 filled.
    Power n = 2: back = 300 − 0 − 200 = 100, p = 100²/(100² + 200²) = 0.2, so
    front = min(200 − 0.8·100 + min(100 − 0.2·100, 0), 200) = 120; the print eats those 120 and fills 60.
    Power3 n = 2 (the ``queue`` preset): p = 1 − (200/300)² = 5/9, front = 200 − (4/9)·100 = 155.6; the print
    eats those and fills 180 − 155.6 = 24.4, floored to 24 whole shares."""
    from sorlib.data.market import LoadReport, MarketData, Quotes, Trades
    from sorlib.engine import Book, replay
    from sorlib.engine.replay import KIND_REST
    from sorlib.strategies import Decision, ParentOrder

    s = 10**9
    rows = [(0, 200), (1, 300), (2, 200), (4, 50)]
    q = Quotes(np.array([t * s for t, _ in rows], np.int64), np.ones(len(rows), np.int32),
               np.full((len(rows), 1), 9.99), np.array([[b] for _, b in rows], np.int64),
               np.full((len(rows), 1), 10.01), np.full((len(rows), 1), 100, np.int64))
    t = Trades(np.array([3 * s], np.int64), np.ones(1, np.int32), np.array([9.99]), np.array([180], np.int64),
               np.array([-1], np.int8))
    book = Book.from_market(MarketData(q, t, LoadReport("hand-built", "test")))

    class Passive(Router):
        def decide(self, view):
            return Decision(np.zeros(1, np.int64), np.array([view.remaining], np.int64))

    def rested(market):
        ex = replay(book, Passive(mode="uncapped", rest_seconds=100), [ParentOrder(0, 0, 10 * s, 100)],
                    market=market)
        return int(ex.fills.qty[ex.fills.kind == KIND_REST].sum())

    assert rested("frozen") == 0
    assert rested({"preset": "queue", "queue": {"model": "power"}}) == 60
    assert rested("queue") == 24
