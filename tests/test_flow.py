"""sorlib.flow: an orders file over two symbols, per-symbol and total savings, real executions beside the
routers (sorlib.tca_executions), and the located errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sorlib.backtest import BacktestConfig, run_backtest
from sorlib.engine.book import Book
from sorlib.errors import DataError
from sorlib.flow import ROW_COLUMNS, example_pair, run_flow
from sorlib.metrics import bootstrap_ci
from sorlib.strategies.view import ParentOrder
from sorlib.synth import default_market
from sorlib.tca import order_costs

CFG = BacktestConfig(grid={"lambda_over": [5.0], "lambda_under": [0.05], "theta_queue": [0.05]})
NS = 10**9


@pytest.fixture(scope="module")
def days():
    """Two symbols: the synthetic day (seed 0, SYNT) and another seed named SYNB, 30 minutes each."""
    return [default_market(seed=0, minutes=30), default_market(seed=1, minutes=30, symbol="SYNB")]


def _orders(tmp_path, days, rows):
    t0 = int(days[0].quotes.ts.min())
    df = pd.DataFrame([{"time": t0 + int(m * 60 * NS), "symbol": s, "side": "buy", "quantity": q,
                        "horizon_seconds": 120, "order_id": oid} for oid, s, m, q in rows])
    p = tmp_path / "orders.csv"
    df.to_csv(p, index=False)
    return p


ROWS = [("a1", "SYNT", 2, 800), ("b1", "SYNB", 3, 500), ("a2", "SYNT", 10, 1200), ("b2", "SYNB", 12, 300),
        ("b3", "synb", 20, 1000)]  # symbols match case-insensitively


def test_two_symbols_match_separate_backtests(tmp_path, days):
    """Rows and savings equal what separate run_backtest calls per symbol give: per symbol the backtest's own
    savings (one definition, sorlib.metrics), and over all orders pooled by hand from the backtests' costs:
    saving = Σ (cost_baseline − cost_router) / Σ |cost_baseline| · 1e4 (cost: cash, + unfilled shares at the
    deadline mid; equal to Σ ΔIS / Σ |cost_baseline|, checked against tca's IS)."""
    p = _orders(tmp_path, days, ROWS)
    res = run_flow(days, p, CFG, scheduler="serial")
    assert tuple(res.rows.columns) == ROW_COLUMNS
    assert len(res.rows) == len(ROWS) * 4
    assert sorted(res.results["symbols"]) == ["SYNB", "SYNT"]
    t0 = int(days[0].quotes.ts.min())
    delta, base_cost = {}, {}
    for md, ids in ((days[0], ["a1", "a2"]), (days[1], ["b1", "b2", "b3"])):
        mine = [r for r in ROWS if r[0] in ids]
        po = [ParentOrder(k, t0 + int(m * 60 * NS), t0 + int(m * 60 * NS) + 120 * NS, q)
              for k, (_, _, m, q) in enumerate(mine)]
        bt = run_backtest(md, CFG, orders=po)
        book = Book.from_market(md)
        ref = order_costs(bt.router, book)
        got = res.rows[(res.rows.strategy == "router") & res.rows.order_id.isin(ids)].set_index("order_id")
        assert np.allclose(got.loc[ids, "shortfall_usd"], ref["total_usd"], rtol=0, atol=1e-9)
        assert got.loc[ids, "filled"].tolist() == [q for *_, q in mine]
        sym = md.symbol
        for b, e in bt.baselines.items():  # the flow's per-symbol saving is the backtest's own, interval included
            assert res.savings["by_symbol"][sym][b]["bps"] == pytest.approx(
                bt.results["savings_vs_baselines_bps"][b], abs=1e-9)
            assert res.savings["by_symbol"][sym][b]["ci95"] == pytest.approx(
                bt.results["savings_intervals"][b]["ci95"], abs=1e-9)
            cb = order_costs(e, book)
            delta.setdefault(b, {})[sym] = cb["total_usd"].to_numpy() - ref["total_usd"].to_numpy()
            # cost = IS + side·X·P_d (every order here is a buy)
            base_cost.setdefault(b, {})[sym] = (cb["total_usd"] + cb["size"] * cb["arrival_mid"]).to_numpy()
    for b in ("best_ask", "twap", "vwap"):
        file_order = [0, 2, 1, 3, 4]  # a1 b1 a2 b2 b3: the bootstrap draws follow the orders file
        d = np.concatenate([delta[b]["SYNT"], delta[b]["SYNB"]])[file_order]
        n = np.abs(np.concatenate([base_cost[b]["SYNT"], base_cost[b]["SYNB"]])[file_order])
        assert res.savings["total"][b]["bps"] == pytest.approx(d.sum() / n.sum() * 1e4, abs=1e-9)
        lo, hi = bootstrap_ci(d / n * 1e4, seed=CFG.seed)
        assert res.savings["total"][b]["ci95"] == pytest.approx([lo, hi], abs=1e-9)


@pytest.mark.slow
def test_processes_give_the_serial_rows(tmp_path, days):
    p = _orders(tmp_path, days, ROWS)
    a = run_flow(days, p, CFG, scheduler="serial").rows
    b = run_flow(days, p, CFG, scheduler="processes", workers=2).rows
    pd.testing.assert_frame_equal(a, b)


def test_real_fills_by_hand(tmp_path, days):
    """One buy of 1,000 shares; the desk filled 600 at the arrival ask + 1 cent with fee 0.003 $/share.
    IS_real = 600·(p − P_d) + 600·0.003 + 400·(P_end − P_d) (Perold, unfilled at the deadline mid);
    volume share = 600 / (tape shares printed in [arrival, deadline)) × 100."""
    md = days[0]
    book = Book.from_market(md)
    t0 = int(md.quotes.ts.min())
    arr, dl = t0 + 5 * 60 * NS, t0 + 7 * 60 * NS
    p = tmp_path / "o.csv"
    p.write_text(f"time,side,quantity,deadline,order_id\n{arr},buy,1000,{dl},X\n")
    j = book.index_at(arr)
    ask = book.best_ask(j)
    pd_ = book.mid(j)
    end_mid = book.mid(int(np.searchsorted(book.times, dl, side="left")) - 1)
    px = round(ask + 0.01, 2)
    venue = md.venue_name(int(md.venues[0]))
    e = tmp_path / "e.csv"
    e.write_text(f"time,order_id,venue,side,quantity,price,fee\n{arr + NS},X,{venue},buy,600,{px},0.003\n")
    res = run_flow([md], p, CFG, executions=e, scheduler="serial")
    real = res.rows[res.rows.strategy == "real"].iloc[0]
    want = 600 * (px - pd_) + 600 * 0.003 + 400 * (end_mid - pd_)
    assert real["shortfall_usd"] == pytest.approx(want, abs=1e-9)
    assert real["filled"] == 600 and real["unfilled"] == 400
    assert real["cost_usd"] == pytest.approx(600 * (px + 0.003), abs=1e-9)
    tape = int(md.trades.size[(md.trades.ts >= arr) & (md.trades.ts < dl)].sum())
    c = res.real["costs"].iloc[0]
    assert c["tape_shares"] == tape and c["volume_share_pct"] == pytest.approx(100 * 600 / tape)
    router = res.rows[res.rows.strategy == "router"].iloc[0]
    vs = res.real["versus"].set_index("strategy").loc["router", "saving_vs_real_bps"]
    # saving vs real = ΔIS / |cost_real|, cost_real = cash + unfilled at the deadline mid (sorlib.metrics)
    real_cost = 600 * (px + 0.003) + 400 * end_mid
    assert real["compared_cost_usd"] == pytest.approx(real_cost, abs=1e-9)
    assert vs == pytest.approx((want - router["shortfall_usd"]) / real_cost * 1e4, abs=1e-9)
    pooled = res.real["savings_vs_real"]["router"]
    assert pooled["bps"] == pytest.approx((real_cost - router["compared_cost_usd"]) / real_cost * 1e4, abs=1e-9)
    assert "caveat" in res.results["real"] and res.results["real"]["volume_share_pct"]["max"] > 0


def test_example_pair_runs(tmp_path, days):
    po, pe = example_pair(tmp_path, seed=3, n_orders=6, md=days[0])
    o, e = pd.read_csv(po), pd.read_csv(pe)
    assert len(o) == 6 and set(o.side) <= {"buy", "sell"} and o.limit_price.notna().sum() == 2
    assert set(e.order_id) <= set(o.order_id) and (e.quantity > 0).all()
    res = run_flow([days[0]], po, CFG, executions=pe, scheduler="serial")
    assert len(res.rows) == 6 * 5  # router, three baselines, real


@pytest.mark.parametrize("rows,match", [
    ([("a1", "ZZZ", 2, 100)], r"order 'a1' \(.*orders.csv line 2\): unknown symbol 'ZZZ'; the data hold SYNB, SYNT"),
    ([("a1", "SYNT", 2, 100), ("a2", "SYNT", 95, 100)],
     r"order 'a2' \(.*orders.csv line 3\): time .* is outside the data of SYNT"),
])
def test_located_order_errors(tmp_path, days, rows, match):
    p = _orders(tmp_path, days, rows)
    with pytest.raises(DataError, match=match):
        run_flow(days, p, CFG, scheduler="serial")


def test_symbol_column_needed_with_several_symbols(tmp_path, days):
    p = tmp_path / "o.csv"
    p.write_text(f"time,side,quantity\n{int(days[0].quotes.ts.min()) + 60 * NS},buy,100\n")
    with pytest.raises(DataError, match=r"several symbols \(SYNB, SYNT\); add a symbol column"):
        run_flow(days, p, CFG, scheduler="serial")
    assert len(run_flow(days[:1], p, CFG, scheduler="serial").rows) == 4  # one symbol: column optional


def test_fill_errors(tmp_path, days):
    md = days[0]
    t0 = int(md.quotes.ts.min()) + 60 * NS
    p = tmp_path / "o.csv"
    p.write_text(f"time,side,quantity,order_id\n{t0},buy,100,X\n")
    v = md.venue_name(int(md.venues[0]))
    e = tmp_path / "e.csv"
    e.write_text(f"time,order_id,venue,side,quantity,price,liquidity\n{t0 - NS},X,{v},buy,50,60,R\n")
    with pytest.raises(DataError, match=r"e.csv, line 2, column 'time': fill at .* is before its order 'X'"):
        run_flow([md], p, CFG, executions=e, scheduler="serial")
    e.write_text(f"time,order_id,venue,side,quantity,price,liquidity\n{t0 + NS},X,{v},buy,150,60,R\n")
    with pytest.raises(DataError, match=r"line 2, column 'quantity': the fills of order 'X' reach 150 shares, more than its 100"):
        run_flow([md], p, CFG, executions=e, scheduler="serial")


def test_flow_tables_and_figures(tmp_path, days):
    """The notebook's helpers: one wide row per order in file order, the savings table with 'all symbols'
    first, the headline dict carrying the flow's savings, and the two figures (one trace per strategy/baseline)."""
    from sorlib.plots.flow import order_shortfall_figure, symbol_savings_figure

    res = run_flow(days, _orders(tmp_path, days, ROWS), CFG, scheduler="serial")
    w = res.wide()
    assert w["order_id"].tolist() == [r[0] for r in ROWS]
    assert "Router shortfall_bps" in w.columns and "VWAP unfilled" in w.columns
    s = res.savings_frame()
    assert s["symbol"].tolist()[:3] == ["all symbols"] * 3 and len(s) == 9
    h = res.headline_results()
    assert h["parent_orders"] == len(ROWS) and h["savings_intervals"] == res.savings["total"]
    assert len(order_shortfall_figure(res.rows).data) == 4
    assert len(symbol_savings_figure(res.savings).data) == 3


def test_real_sell_by_hand(tmp_path, days):
    """A sell of 1,000 shares; the desk sold 600 at the arrival bid − 1 cent, fee 0.003 $/share. For a sell
    IS = 600·(P_d − p) + 600·0.003 + 400·(P_d − P_end) (a cost for the seller), cost = −600·(p − 0.003)."""
    md = days[0]
    book = Book.from_market(md)
    t0 = int(md.quotes.ts.min())
    arr, dl = t0 + 5 * 60 * NS, t0 + 7 * 60 * NS
    p = tmp_path / "o.csv"
    p.write_text(f"time,side,quantity,deadline,order_id\n{arr},sell,1000,{dl},X\n")
    j = book.index_at(arr)
    r = book.row[j]
    bid = float(np.nanmax(book.bid_px[r[r >= 0], 0]))
    pd_ = book.mid(j)
    end_mid = book.mid(int(np.searchsorted(book.times, dl, side="left")) - 1)
    px = round(bid - 0.01, 2)
    e = tmp_path / "e.csv"
    e.write_text(f"time,order_id,venue,side,quantity,price,fee\n{arr + NS},X,{int(md.venues[0])},S,600,{px},0.003\n")
    res = run_flow([md], p, CFG, executions=e, scheduler="serial")
    real = res.rows[res.rows.strategy == "real"].iloc[0]
    want = 600 * (pd_ - px) + 600 * 0.003 + 400 * (pd_ - end_mid)
    assert real["side"] == "sell" and real["shortfall_usd"] == pytest.approx(want, abs=1e-9)
    assert real["cost_usd"] == pytest.approx(-600 * (px - 0.003), abs=1e-9)
