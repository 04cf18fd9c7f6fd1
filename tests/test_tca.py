"""Transaction-cost analysis (:mod:`sorlib.tca`): the shortfall's parts on tiny tapes derived by hand, the
exact identity (rational arithmetic), markouts, fill rates, participation and the results JSON entry."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from test_engine import S, make_md

from sorlib import tca
from sorlib.engine import Book, replay
from sorlib.engine.replay import KIND_CLEANUP
from sorlib.metrics import order_table
from sorlib.strategies import Decision, ParentOrder, Router, Strategy
from sorlib.venues import VenueProfile


def with_fees(book: Book, fees: dict[int, tuple[float, float]]) -> Book:
    """``fees``: venue → (taker fee, maker rebate), $/share."""
    return replace(book, profiles=tuple(VenueProfile(int(v), f"V{int(v)}", taker_fee=fees[int(v)][0],
                                                     maker_rebate=fees[int(v)][1]) for v in book.venues))


class Scripted(Strategy):
    """Sends the planned marketable child orders at the planned times (seconds → shares per venue)."""

    name = "scripted"

    def __init__(self, plan: dict[float, list[int]]) -> None:
        self.plan = {int(t * S): np.array(q, np.int64) for t, q in plan.items()}

    def decide(self, view):
        k = view.ask_px.shape[0]
        if view.t_ns in self.plan:
            return Decision(self.plan[view.t_ns].copy(), wake_ns=view.t_ns + 1)
        later = [t for t in self.plan if t > view.t_ns]
        return Decision.nothing(k, min(later) if later else view.order.deadline_ns + S)


# The tiny tape (seconds; venue 1 and 2, one level each):
#   t=0  V1 9.99x100 / 10.01x300   V2 9.98x100 / 10.02x200    NBBO 9.99/10.01, mid 10.00 = P_d (arrival)
#   t=1  V1 10.00x100 / 10.02x300                              NBBO 10.00/10.02, mid 10.01
#   t=2  V2 re-sends its quote (a snapshot to decide at)       mid 10.01 = m_1
#   t=4  V2 10.01x100 / 10.03x200                              NBBO 10.01/10.02 (V1's ask; 300 taken), mid 10.015
#   t=8  V1 10.02x100 / 10.04x500                              NBBO 10.02/10.03, mid 10.025 = P_end
# Buy 600 from t=0, deadline t=10: wait, take 300 @ 10.02 on V1 at t=2, 100 @ 10.03 on V2 at t=4; the
# clean-up buys 200 on the book of t=8: 100 @ 10.03 on V2 (200 shown − 100 taken) then 100 @ 10.04 on V1.
# Taker fees: V1 0.003, V2 0.002 USD/share. Prints: 100 at t=1, 200 at t=3, 50 at t=9.
TAPE = [(0, 1, 9.99, 100, 10.01, 300), (0, 2, 9.98, 100, 10.02, 200), (1, 1, 10.00, 100, 10.02, 300),
        (2, 2, 9.98, 100, 10.02, 200), (4, 2, 10.01, 100, 10.03, 200), (8, 1, 10.02, 100, 10.04, 500)]
PRINTS = [(1, 1, 10.02, 100, 1), (3, 2, 10.02, 200, 1), (9, 1, 10.04, 50, 1)]


@pytest.fixture(scope="module")
def tiny():
    book = with_fees(Book.from_market(make_md(TAPE, PRINTS)), {1: (0.003, 0.002), 2: (0.002, 0.001)})
    ex = replay(book, Scripted({2: [300, 0], 4: [0, 100]}), [ParentOrder(0, 0, 10 * S, 600)])
    return book, ex


def test_the_replay_does_what_the_hand_derivation_assumes(tiny) -> None:
    _, ex = tiny
    f = ex.fills
    got = sorted(zip(f.ts.tolist(), f.venue.tolist(), f.qty.tolist(), f.price.round(6).tolist(), f.kind.tolist(),
                     strict=True))
    assert got == [(2 * S, 1, 300, 10.02, 0), (4 * S, 2, 100, 10.03, 0), (10 * S, 1, 100, 10.04, 2),
                   (10 * S, 2, 100, 10.03, 2)]
    assert ex.arrival_mid[0] == pytest.approx(10.00, abs=1e-12)
    ch = ex.children
    assert list(zip(ch.decided_ns.tolist(), ch.ts.tolist(), ch.venue.tolist(), ch.qty.tolist(),
                    ch.displayed.tolist(), ch.kind.tolist(), strict=True)) == [
        (2 * S, 2 * S, 1, 300, 300, 0), (4 * S, 4 * S, 2, 100, 200, 0)]
    assert not ex.fill_impact.any()  # frozen tape: no simulated impact


def test_shortfall_parts_by_hand_to_the_cent(tiny) -> None:
    """P_d = 10.00, m_1 = 10.01, X = 600.
    delay = 400 × (10.01 − 10.00) = 4.00; trading drift = 300 × 0 + 100 × (10.015 − 10.01) = 0.50;
    trading spread = 300 × (10.02 − 10.01) + 100 × (10.03 − 10.015) = 4.50; opportunity drift = 200 ×
    (10.025 − 10.00) = 5.00; opportunity spread = 100 × (10.03 − 10.025) + 100 × (10.04 − 10.025) = 2.00;
    fees = 300 × 0.003 + 100 × 0.002 + 100 × 0.002 + 100 × 0.003 = 1.60; impact 0.
    IS = 300 × 0.02 + 100 × 0.03 + 100 × 0.03 + 100 × 0.04 + 1.60 = 17.60 = the sum of the parts."""
    book, ex = tiny
    c = tca.order_costs(ex, book).iloc[0]
    want = {"delay": 4.00, "trading_drift": 0.50, "trading_spread": 4.50, "trading_impact": 0.0,
            "opportunity_drift": 5.00, "opportunity_spread": 2.00, "opportunity_impact": 0.0, "fees": 1.60,
            "trading": 5.00, "opportunity": 7.00, "total": 17.60}
    for k, v in want.items():
        assert round(c[f"{k}_usd"], 2) == v, k  # to the cent
        assert c[f"{k}_usd"] == pytest.approx(v, abs=1e-9), k  # and in floating point
    assert c["total_bps"] == pytest.approx(17.60 / (10.00 * 600) * 1e4, abs=1e-9)  # 29.33 bps
    assert sum(c[f"{k}_usd"] for k in tca.COMPONENTS) == pytest.approx(c["total_usd"], abs=1e-12)
    assert (c["first_child_mid"], c["end_mid"]) == (pytest.approx(10.01), pytest.approx(10.025))
    assert (c["child_shares"], c["cleanup_shares"], c["unfilled_shares"], c["sent_shares"]) == (400, 200, 0, 400)
    # the total is the metrics module's implementation shortfall
    assert c["total_bps"] == pytest.approx(order_table(ex)["shortfall_bps"].iloc[0], abs=1e-9)


def test_markouts_fill_rates_and_participation_by_hand(tiny) -> None:
    book, ex = tiny
    m = tca.markouts(ex, book, horizons_s=(1, 5, 30)).sort_values(["ts", "venue"]).reset_index(drop=True)
    # fill 1 at t=2 @ 10.02: mid at t=3 is 10.01, at t=7 10.015; t=32 is after the last quote (t=8)
    assert m.loc[0, "markout_1s_bps"] == pytest.approx((10.01 - 10.02) / 10.02 * 1e4)
    assert m.loc[0, "markout_5s_bps"] == pytest.approx((10.015 - 10.02) / 10.02 * 1e4)
    assert math.isnan(m.loc[0, "markout_30s_bps"])
    # fill 2 at t=4 @ 10.03: mid at t=5 is 10.015; t=9 is after the last quote
    assert m.loc[1, "markout_1s_bps"] == pytest.approx((10.015 - 10.03) / 10.03 * 1e4)
    assert math.isnan(m.loc[1, "markout_5s_bps"])
    assert m["mid"].tolist() == pytest.approx([10.01, 10.015, 10.025, 10.025])  # clean-up: the book of t=8

    fr = tca.fill_rates(ex).set_index("venue")
    assert fr.loc[1, "sent"] == 300 and fr.loc[1, "filled"] == 300 and fr.loc[1, "fill_rate"] == 1.0
    assert fr.loc[2, "sent"] == 100 and fr.loc[2, "displayed"] == 100 and fr.loc[2, "fill_rate_displayed"] == 1.0

    p = tca.participation(ex, book, bucket_seconds=5)
    assert p["our_shares"].tolist() == [400, 0] and p["cleanup_shares"].tolist() == [0, 200]
    assert p["market_shares"].tolist() == [300, 50]  # prints in [0, 5) and [5, 10]
    assert p["participation_pct"].tolist() == pytest.approx([400 / 300 * 100, 0.0])

    v = tca.venue_table(ex, book, horizons_s=(1,)).set_index("venue")
    assert v.loc[1, ["take_shares", "cleanup_shares"]].tolist() == [300, 100]
    assert v.loc[2, "markout_1s_bps"] == pytest.approx((10.015 - 10.03) / 10.03 * 1e4)  # child fills only


def test_resting_fill_earns_the_half_spread() -> None:
    """V1 9.99x200 / 10.01x100 throughout; a 100-share buy rests at the bid behind 200 shares; 150 + 100 are
    sold at the bid, so 50 reach us (at t=2, the snapshot after the second print) at 9.99 with a 0.002 rebate.
    The clean-up buys 50 @ 10.01 (taker 0.003). P_d = m = 10.00.
    trading spread = 50 × (9.99 − 10.00) = −0.50; opportunity spread = 50 × (10.01 − 10.00) = 0.50;
    fees = −0.10 + 0.15 = 0.05; delay = drifts = 0; IS = 0.05."""
    md = make_md([(0, 1, 9.99, 200, 10.01, 100), (1, 1, 9.99, 200, 10.01, 100), (2, 1, 9.99, 200, 10.01, 100)],
                 trades=[(0.5, 1, 9.99, 150, -1), (1.5, 1, 9.99, 100, -1)])
    book = with_fees(Book.from_market(md), {1: (0.003, 0.002)})

    class Passive(Router):
        def decide(self, view):
            return Decision(np.zeros(1, np.int64), np.array([view.remaining], np.int64))

    ex = replay(book, Passive(mode="uncapped", rest_seconds=100), [ParentOrder(0, 0, 10 * S, 100)])
    c = tca.order_costs(ex, book).iloc[0]
    want = {"delay": 0.0, "trading_drift": 0.0, "trading_spread": -0.50, "opportunity_drift": 0.0,
            "opportunity_spread": 0.50, "fees": 0.05, "total": 0.05}
    for k, v in want.items():
        assert c[f"{k}_usd"] == pytest.approx(v, abs=1e-9), k
    fr = tca.fill_rates(ex)
    assert fr[["kind", "sent", "filled"]].values.tolist() == [[1, 100, 50]]
    assert fr["fill_rate"].iloc[0] == 0.5 and math.isnan(fr["fill_rate_displayed"].iloc[0])


@pytest.fixture(scope="module")
def small_runs():
    from sorlib.backtest import BacktestConfig, baselines, parent_orders, router_for
    from sorlib.synth import default_market

    book = Book.from_market(default_market(seed=0, minutes=60))
    orders = parent_orders(book, 5000, 15, 10)
    cfg = BacktestConfig(mode="uncapped")
    strategies = {"router": router_for(cfg, {"lambda_over": 0.0, "lambda_under": 0.01, "theta_queue": 0.01}),
                  **baselines(cfg)}
    return book, {(m, n): replay(book, s, orders, market=m) for m in ("frozen", "realistic")
                  for n, s in strategies.items()}


def _exact_parts(ex, book) -> list[tuple[Fraction, Fraction]]:
    """Per order (Σ parts, IS) recomputed in rational arithmetic from the same float inputs."""
    t = tca.fill_table(ex, book)
    c = tca.order_costs(ex, book)
    out = []
    for _, o in c.iterrows():
        g = t[t["order_id"] == o["order_id"]]
        P, m1 = Fraction(o["arrival_mid"]), Fraction(o["first_child_mid"]) if o["child_shares"] else Fraction(0)
        parts = total = Fraction(0)
        for _, r in g.iterrows():
            q, p, f, i, m = (Fraction(r[k]) for k in ("qty", "price", "fee", "impact", "mid"))
            if r["kind"] == KIND_CLEANUP:
                parts += q * (m - P) + q * (p - i - m) + q * i + q * f
            else:
                parts += q * (m1 - P) + q * (m - m1) + q * (p - i - m) + q * i + q * f
            total += q * (p - P) + q * f
        out.append((parts, total))
    return out


def test_parts_add_up_exactly_and_impact_ties_to_the_execution(small_runs) -> None:
    book, runs = small_runs
    for (market, name), ex in runs.items():
        c = tca.order_costs(ex, book)
        assert len(c) == len(ex.orders) == 4
        for parts, total in _exact_parts(ex, book):
            assert parts == total, (market, name)  # the identity holds exactly
        got = c[[f"{k}_usd" for k in tca.COMPONENTS]].sum(axis=1).to_numpy()
        assert np.abs(got - c["total_usd"].to_numpy()).max() < 1e-9, (market, name)  # and to rounding in floats
        assert np.allclose(c["trading_usd"] + c["opportunity_usd"] + c["delay_usd"] + c["fees_usd"], c["total_usd"],
                           rtol=0, atol=1e-9)
        assert np.allclose(c["trading_impact_usd"] + c["opportunity_impact_usd"], ex.impact_cost, rtol=0, atol=1e-9)
        assert np.allclose(c["total_bps"], order_table(ex)["shortfall_bps"], rtol=0, atol=1e-9)
        if market == "frozen":
            assert not ex.fill_impact.any() and (c["trading_impact_usd"] == 0).all()
        else:
            assert c["trading_impact_usd"].gt(0).all()  # every order took liquidity and paid impact


def test_fill_rates_frozen_vs_realistic(small_runs) -> None:
    book, runs = small_runs
    for (market, name), ex in runs.items():
        fr = tca.fill_rates(ex)
        take = fr[fr["kind"] == 0]
        assert (take["filled"] <= take["sent"]).all() and (take["fill_rate"] <= 1).all()
        f = ex.fills
        assert int(fr["filled"].sum()) == int(f.qty[f.kind != KIND_CLEANUP].sum())  # every child fill counted
        if market == "frozen":  # the recorded tape: a marketable child gets what the view showed
            assert (take["fill_rate_displayed"] == 1).all(), name
    realistic = tca.fill_rates(runs[("realistic", "router")])  # several venues at once: the others fade
    assert realistic.loc[realistic["kind"] == 0, "fill_rate_displayed"].min() < 1  # fade and latency bite


def test_markouts_and_participation_on_the_synthetic_day(small_runs) -> None:
    book, runs = small_runs
    ex = runs[("frozen", "router")]
    vm = tca.venue_markouts(ex, book)
    assert set(vm["kind"]) <= {0, 1, 2} and (vm["shares"] > 0).all()
    assert int(vm["shares"].sum()) == int(ex.fills.qty.sum())
    p = tca.participation(ex, book)
    assert int(p["our_shares"].sum() + p["cleanup_shares"].sum()) == int(ex.fills.qty.sum())
    prof = tca.participation_profile(p)
    assert len(prof) == 10 and prof["market_shares"].gt(0).all()  # 10-minute orders, 60 s buckets


def test_backtest_results_carry_the_tca_tables(tmp_path) -> None:
    from sorlib._io import atomic_write_json
    from sorlib.backtest import BacktestConfig, run_backtest
    from sorlib.synth import default_market

    md = default_market(seed=0, minutes=60)
    res = run_backtest(md, BacktestConfig(every_minutes=30, grid={"lambda_over": [0.0], "lambda_under": [0.01],
                                                                  "theta_queue": [0.01]}))
    t = res.results["tca"]
    assert {"orders", "summary", "venues", "markouts", "participation", "units"} <= set(t)
    frames = tca.frames(json.loads(atomic_write_json(tmp_path / "r.json", res.results).read_text())["tca"])
    o = frames["orders"]
    assert set(o["strategy"]) == {"router", "best_ask", "twap", "vwap"} and len(o) == 4 * 2
    s = frames["summary"]
    tot = s[(s["strategy"] == "router") & (s["part"] == "total")].iloc[0]
    assert tot["mean_bps"] == pytest.approx(res.results["optimized"]["shortfall_bps_mean"], abs=1e-9)
    assert {"markout_1s_bps", "markout_60s_bps", "take_fill_rate"} <= set(frames["venues"].columns)


def test_tca_figures_build(small_runs) -> None:
    from sorlib.plots import (
        frontier_figure,
        markout_figure,
        participation_figure,
        schedule_savings_figure,
        tca_breakdown_figure,
        trajectory_figure,
    )

    book, runs = small_runs
    execs = {n: e for (m, n), e in runs.items() if m == "realistic"}
    inp = tca.ac_inputs(book)
    assert inp["sigma"] > 0 and inp["eta"] > 0 and inp["depth"] > 0 and 0 < inp["half_spread"] < 0.05
    summaries = {n: tca.cost_summary(tca.order_costs(e, book)) for n, e in execs.items()}
    comp = tca.compare(execs, book, reference="twap")
    assert math.isnan(comp.set_index("strategy").loc["twap", "saving_bps"])
    figs = [frontier_figure(5000, 600, inp["sigma"], inp["eta"]), trajectory_figure(5000, 600, inp["sigma"], inp["eta"]),
            tca_breakdown_figure(summaries), schedule_savings_figure(comp),
            markout_figure({n: tca.venue_markouts(e, book) for n, e in execs.items()}),
            participation_figure({n: tca.participation_profile(tca.participation(e, book)) for n, e in execs.items()})]
    for f in figs:
        assert len(f.data) > 0 and f.layout.title.text and "$" not in f.to_json()
    table = tca.summary_table(summaries)
    assert list(table.index) == list(execs) and table.columns[-1] == "total (bps)"


def test_trade_through_share_of_passive_fills_by_hand() -> None:
    """A hand-built execution: fills (venue, qty, kind, through) = (1, 100, take, 0), (1, 60, rest, 0),
    (1, 40, rest, 1), (2, 30, rest, 1), (2, 200, clean-up, 0). Passive shares: venue 1 100 (40 through →
    0.4), venue 2 30 (30 through → 1.0), all 130 (70 through → 70/130). The marketable and clean-up shares do
    not count. An execution without the record counts every passive fill at our price (share 0)."""
    from sorlib.engine.replay import Execution
    from sorlib.strategies.view import Fills

    f = Fills(np.zeros(5, np.int64), np.arange(5, dtype=np.int64), np.array([1, 1, 1, 2, 2], np.int32),
              np.array([100, 60, 40, 30, 200], np.int64), np.full(5, 10.0), np.zeros(5), np.array([0, 1, 1, 1, 2], np.int8))
    ex = Execution("x", {}, (ParentOrder(0, 0, 10, 430),), f, np.array([10.0]),
                   fill_through=np.array([0, 0, 1, 1, 0], np.int8))
    t = tca.trade_through_share(ex).set_index("venue")
    assert t.loc[1, "passive_shares"] == 100 and t.loc[1, "through_shares"] == 40
    assert t.loc[1, "through_share"] == pytest.approx(0.4)
    assert t.loc[2, "through_share"] == pytest.approx(1.0)
    assert t.loc[-1, "passive_shares"] == 130 and t.loc[-1, "through_share"] == pytest.approx(70 / 130)
    assert (tca.trade_through_share(replace(ex, fill_through=None))["through_shares"] == 0).all()


def test_tca_results_carry_the_trade_through_table(small_runs) -> None:
    """Every strategy gets the all-venue row (venue -1) of its trade-through share in the results entry; the
    share is a fraction in [0, 1] where it has passive fills."""
    book, runs = small_runs
    execs = {n: e for (m, n), e in runs.items() if m == "realistic"}
    tt = pd.DataFrame(tca.tca_results(execs, book)["trade_through"])
    assert set(tt.loc[tt["venue"] == -1, "strategy"]) == set(execs)
    ok = tt["passive_shares"] > 0
    assert ((tt.loc[ok, "through_share"] >= 0) & (tt.loc[ok, "through_share"] <= 1)).all()
