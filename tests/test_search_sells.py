"""The parameter search routes sells (issue 20): plans carry the side, workers replay sells on the mirrored
market like run_backtest. Checked against run_backtest over the same grid (an independent path: its own
replay loop, summaries and savings), and processes against serial."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sorlib.backtest import BacktestConfig, run_backtest
from sorlib.metrics import order_table
from sorlib.search import DataSpec, ProcessExecutor, run_search

CFG = dict(every_minutes=3.0, horizon_minutes=4.0, mode="uncapped", side="sell")


@pytest.fixture(scope="module")
def spec() -> DataSpec:
    return DataSpec.synthetic(seed=1, venues=3, minutes=30)


@pytest.fixture(scope="module")
def serial(spec):
    return run_search(spec, grid="penalty", config=BacktestConfig(**CFG), scheduler="serial", chunk_orders=3,
                      progress=False)


@pytest.fixture(scope="module")
def backtest(spec):
    return run_backtest(spec.load()[0], BacktestConfig(**CFG, grid="penalty"))


def test_sell_search_equals_backtest(serial, backtest):
    """Same parent orders (all sells), same best grid point, and the same figures: per-point cash, the router's
    and baselines' totals and all-in prices (proceeds net of fees per share), and the pooled savings."""
    t, r = serial.table, backtest.results
    assert (t["side"] == -1).all() and serial.summary["parent_orders"] == r["parent_orders"] > 3
    assert serial.summary["best_parameters"] == r["best_parameters"]
    assert serial.summary["grid_ties"] == r["grid_ties"] < 27  # the grid matters: a real choice
    assert np.allclose(serial.grid["total_cash"], backtest.grid["total_cash"], rtol=0, atol=1e-6)
    assert (serial.grid["total_cash"] < 0).all()  # a sell's cost is minus its proceeds
    for name, s in [("optimized", serial.summary["optimized"]), *serial.summary["baselines"].items()]:
        want = r["optimized"] if name == "optimized" else r["baselines"][name]
        for k in ("total_cash", "avg_fill_px", "shares", "cleanup_shares", "fees", "shortfall_bps_mean"):
            assert s[k] == pytest.approx(want[k], rel=0, abs=1e-6), (name, k)
    for b, v in r["savings_vs_baselines_bps"].items():
        assert serial.summary["savings_vs_baselines_bps"][b] == pytest.approx(v, abs=1e-9)
        assert serial.summary["savings_intervals"][b]["ci95"] == pytest.approx(r["savings_intervals"][b]["ci95"],
                                                                            abs=1e-9)


def test_sell_rows_equal_backtest_orders(serial, backtest):
    """Per order, the best point's rows are the backtest router's order table (cash, shares, all-in price)."""
    best = serial.summary["best_point"]
    got = serial.table[(serial.table.strategy == "router") & (serial.table.point == best)].sort_values("order_id")
    want = order_table(backtest.router)
    assert got["order_id"].tolist() == want["order_id"].tolist()
    for k in ("total_cash", "avg_fill_px", "shortfall_bps", "shares"):
        assert np.allclose(got[k].to_numpy(float), want[k].to_numpy(float), rtol=0, atol=1e-9), k
    assert (got["avg_fill_px"] > 0).all() and math.isfinite(serial.summary["optimized"]["avg_fill_px"])


def test_buy_plans_unchanged(spec):
    """A buy search's plans keep their 4-field tuples (so stored task keys stay valid) and side +1 in the table."""
    res = run_search(spec, grid={"lambda_over": [5.0], "lambda_under": [0.05], "theta_queue": [0.05]},
                     config=BacktestConfig(**{**CFG, "side": "buy"}), scheduler="serial", progress=False)
    assert (res.table["side"] == 1).all() and (res.table["cost"] == res.table["total_cash"]).all()


@pytest.mark.slow
def test_sell_processes_equal_serial(spec, serial):
    with ProcessExecutor(workers=2) as ex:
        res = run_search(spec, grid="penalty", config=BacktestConfig(**CFG), scheduler=ex, chunk_orders=3,
                         progress=False)
    pd.testing.assert_frame_equal(serial.table, res.table, check_exact=True)
    pd.testing.assert_frame_equal(serial.grid, res.grid, check_exact=True)
    assert res.summary["savings_intervals"] == serial.summary["savings_intervals"]


def test_cli_search_side_sell(tmp_path):
    """``sorlib search --side sell``: the summary's config says sell, every row is a sell, and the best point's
    cash is negative (minus the proceeds); ``--side`` takes only buy or sell (exit 2)."""
    import json

    from sorlib.cli import main

    out = tmp_path / "o"
    assert main(["search", "--side", "sell", "--every", "60", "--horizon", "5", "--scheduler", "serial",
                 "--no-progress", "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["config"]["side"] == "sell" and s["optimized"]["total_cash"] < 0 < s["optimized"]["avg_fill_px"]
    assert (pd.read_parquet(out / "results.parquet")["side"] == -1).all()
    assert main(["search", "--side", "short", "--out", str(tmp_path / "x")]) == 2


def test_mirror_built_once_per_day(monkeypatch):
    """Many sell tasks on one day (every chunk of every strategy) mirror the day once: the worker keeps the
    mirrored book with its book of the day (here the serial 'worker' is this process; a fresh day)."""
    import importlib

    rp = importlib.import_module("sorlib.engine.replay")  # the module (sorlib.engine.replay is also a function)

    calls = []
    real = rp.mirror_market
    monkeypatch.setattr(rp, "mirror_market", lambda md, c: calls.append(c) or real(md, c))
    spec = DataSpec.synthetic(seed=7, venues=2, minutes=20)
    res = run_search(spec, grid={"lambda_over": [5.0], "lambda_under": [0.01, 0.1], "theta_queue": [0.05]},
                     config=BacktestConfig(**CFG), scheduler="serial", chunk_orders=1, progress=False)
    assert res.stats["executed"] >= 10 and len(calls) == 1
