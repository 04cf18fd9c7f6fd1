"""Search execution: identical tables on serial / process / Dask executors, data loaded once per worker,
resume without recomputation, collapsed replays equal direct ones, the CLI."""

from __future__ import annotations

import json
import math
import signal
import sys

import numpy as np
import pandas as pd
import pytest

from sorlib.backtest import BacktestConfig, parent_orders, router_for, run_backtest
from sorlib.engine import Book, replay
from sorlib.metrics import order_table
from sorlib.search import (
    DaskExecutor,
    DataSpec,
    ProcessExecutor,
    ResultStore,
    SearchIncomplete,
    make_executor,
    run_search,
)
from sorlib.search.executors import worker_info

CFG = dict(every_minutes=2.0, horizon_minutes=4.0, mode="uncapped")


@pytest.fixture(scope="module")
def spec() -> DataSpec:
    return DataSpec.synthetic(seed=1, venues=3, minutes=40)


def _search(spec, scheduler, **kw):
    return run_search(spec, grid="penalty", config=BacktestConfig(**CFG), scheduler=scheduler, chunk_orders=4,
                      progress=False, **kw)


@pytest.fixture(scope="module")
def serial(spec):
    return _search(spec, "serial", folds=2, adaptive=True)


@pytest.fixture(scope="module")
def dask_executor():
    pytest.importorskip("distributed")
    ex = DaskExecutor("local-dask", workers=2)
    yield ex
    ex.close()


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    pd.testing.assert_frame_equal(a.grid, b.grid, check_exact=True)
    assert a.summary["best_parameters"] == b.summary["best_parameters"]


def test_serial_shape(serial):
    t = serial.table
    st = serial.stats
    assert st["points"] == 27 and st["distinct_routers"] == 6
    assert st["tasks"] == (6 + 3) * math.ceil(st["parent_orders"] / 4)
    assert len(t) == (27 + 3) * st["parent_orders"]
    assert (t["shares"] == t["size"]).all()  # every strategy finishes the order
    assert not t.duplicated(["strategy", "point", "day", "order_id"]).any()
    assert serial.walkforward is not None and len(serial.walkforward.folds) == 2
    assert serial.adaptive is not None and serial.adaptive.test_orders > 0


def test_processes_identical_and_data_loaded_once_per_worker(spec, serial):
    with ProcessExecutor(workers=2) as ex:
        res = _search(spec, ex, folds=2, adaptive=True)
        infos = ex.call_everywhere(worker_info)
    _same(serial, res)
    assert res.summary["walk_forward"] == serial.summary["walk_forward"]
    assert res.summary["adaptive"] == serial.summary["adaptive"]
    assert all(i["loads"] == 1 and i["cached"] == [spec.digest] for i in infos)  # not once per task


def test_dask_identical_and_data_loaded_once_per_worker(spec, serial, dask_executor):
    res = _search(spec, dask_executor)
    _same(serial, res)
    infos = dask_executor.call_everywhere(worker_info)
    assert len(infos) == 2
    assert all(i["loads"] == 1 and spec.digest in i["cached"] for i in infos)


def test_collapsed_replays_equal_direct_replays(spec, serial):
    """Fan-out by decision key: every point's totals equal run_backtest's own replay of that point,
    and per order for points sharing a key."""
    from sorlib.synth import default_market

    market = default_market(seed=1, venues=3, minutes=40)
    bt = run_backtest(market, BacktestConfig(grid="penalty", **CFG))
    np.testing.assert_allclose(serial.grid["total_cash"], bt.grid["total_cash"], rtol=1e-13)
    book = Book.from_market(market)
    orders = parent_orders(book, 5000, CFG["every_minutes"], CFG["horizon_minutes"])
    pts = serial.grid
    shared = pts[pts["group"] == pts["group"].iloc[1]].head(2)  # two points, one key, different params
    assert len(shared) == 2
    for _, p in shared.iterrows():
        params = {k: float(p[k]) for k in ("lambda_over", "lambda_under", "theta_queue")}
        direct = order_table(replay(book, router_for(BacktestConfig(**CFG), params), orders))
        mine = serial.table[(serial.table["point"] == p["point"])]
        np.testing.assert_array_equal(mine["total_cash"].to_numpy(), direct["total_cash"].to_numpy())


def test_resume_recomputes_nothing_stored(spec, serial, tmp_path):
    store = tmp_path / "store"
    with pytest.raises(SearchIncomplete) as e:
        _search(spec, "processes", workers=2, store=store, max_tasks=7)
    assert e.value.stats["executed"] == 7
    parts = [p for p in (store / "parts").glob("*/*.json") if "plan" not in json.loads(p.read_text())["task"]]
    assert len(parts) == 7
    before = {p: p.stat().st_mtime_ns for p in parts}
    res = _search(spec, "serial", store=store, folds=2, adaptive=True)
    assert res.stats["reused"] == 7
    assert res.stats["executed"] == res.stats["tasks"] - 7
    assert {p: p.stat().st_mtime_ns for p in parts} == before  # not rewritten
    _same(serial, res)
    again = _search(spec, "serial", store=store)
    assert again.stats["executed"] == 0 and again.stats["reused"] == again.stats["tasks"]
    _same(serial, again)
    # a damaged part is recomputed, nothing else
    parts[0].write_text("{ truncated")
    fixed = _search(spec, "serial", store=store)
    assert fixed.stats["executed"] == 1
    _same(serial, fixed)
    assert ResultStore(store).get(parts[0].stem) is not None


def test_store_is_shared_between_grids(spec, tmp_path):
    """Parts are keyed by the decision key: a second grid reuses the replays the first one stored."""
    store = tmp_path / "store"
    cfg = BacktestConfig(every_minutes=4.0, horizon_minutes=4.0, mode="spec")
    a = run_search(spec, grid="penalty", config=cfg, scheduler="serial", store=store, progress=False)
    b = run_search(spec, grid="bps", config=cfg, scheduler="serial", store=store, progress=False)
    assert a.stats["distinct_routers"] == b.stats["distinct_routers"] == 1
    assert b.stats["executed"] == 0


def test_cli_several_days(tmp_path, capsys):
    from sorlib.cli import main
    from sorlib.synth import generate_market, write_databento_mbp1_csv

    days = []
    for seed in (1, 2, 3):
        md = generate_market(venues=3, seed=seed, minutes=20, date=f"2024-03-1{seed}")
        days.append(str(write_databento_mbp1_csv(md, tmp_path / f"day{seed}.csv")))
    out = tmp_path / "out"
    argv = ["search", *days, "--scheduler", "serial", "--every", "2", "--horizon", "4", "--folds", "2",
            "--fold-by", "day", "--adaptive", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    # the summary is one line; the only other one is the regular-hours note of the automatic session filter
    summary_lines = [x for x in lines if x.startswith("search penalty")]
    assert len(summary_lines) == 1 and len(lines) == 2 and lines[0].startswith("search: regular hours")
    line = summary_lines[0]
    assert "on 3 day(s)" in line and "walk-forward OOS" in line
    summary = json.loads((out / "summary.json").read_text())
    assert summary["days"] == 3 and summary["walk_forward"]["folds"][0]["test_orders"] > 0
    table = pd.read_parquet(out / "results.parquet")
    assert set(table["day"]) == {0, 1, 2}
    assert main(argv) == 0
    assert "0 run" in capsys.readouterr().out


def test_cli_errors_are_one_line(tmp_path, capsys):
    from sorlib.cli import main

    assert main(["search", "--grid", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sorlib search: error:") and "\n" not in err
    assert main(["search", "--scheduler", "bogus", "--out", str(tmp_path / "o")]) == 2
    assert "unknown scheduler" in capsys.readouterr().err


def test_make_executor():
    assert make_executor("serial").name == "serial"
    assert make_executor("processes", 2).workers == 2
    assert isinstance(make_executor("tcp://127.0.0.1:8786"), DaskExecutor)
    assert isinstance(make_executor("local-dask"), DaskExecutor)


def test_in_memory_data_gives_the_same_table(spec, serial):
    from sorlib.synth import default_market

    res = _search(default_market(seed=1, venues=3, minutes=40), "serial")
    pd.testing.assert_frame_equal(serial.table, res.table, check_exact=True)
    assert res.summary["data"]["kind"] == "memory"


def test_cost_matrix_equals_the_one_rebuilt_from_the_table():
    """The search builds its CostMatrix from the assembled columns; it must equal ``from_table`` of the
    written table (what a user gets back from results.parquet), on two days in time order."""
    from sorlib.search.walkforward import CostMatrix
    from sorlib.synth import default_market

    days = [default_market(seed=s, venues=3, minutes=30) for s in (2, 3)]
    res = run_search(days, grid="penalty", config=BacktestConfig(**CFG), scheduler="serial", chunk_orders=3,
                     progress=False)
    direct, rebuilt = res.costs, CostMatrix.from_table(res.table)
    pd.testing.assert_frame_equal(direct.orders, rebuilt.orders, check_exact=True)
    pd.testing.assert_frame_equal(direct.points, rebuilt.points, check_exact=True, check_dtype=False)
    assert np.array_equal(direct.router, rebuilt.router)
    assert direct.baselines.keys() == rebuilt.baselines.keys()
    assert all(np.array_equal(direct.baselines[b], rebuilt.baselines[b]) for b in direct.baselines)
    assert (np.diff(direct.orders["arrival_ns"].to_numpy()) >= 0).all()
    assert direct.orders["day"].nunique() == 2


def test_cost_matrix_refuses_a_table_missing_or_repeating_router_rows(serial):
    from sorlib.search.walkforward import CostMatrix

    t = serial.table
    first_router = int(np.flatnonzero((t["strategy"] == "router").to_numpy())[0])
    with pytest.raises(ValueError, match="lacks or repeats"):
        CostMatrix.from_table(t.drop(index=t.index[first_router]))
    with pytest.raises(ValueError, match="lacks or repeats"):
        CostMatrix.from_table(pd.concat([t, t.iloc[[first_router]]], ignore_index=True))


def test_orders_over_a_data_gap_are_reported_not_placed():
    """A 60-minute day with every record between minutes 20 and 49.5 removed; one order every 5 minutes,
    each with 4 minutes. Windows [5k, 5k + 4) min: k = 0..3 end before the gap opens (its last record is
    before minute 20); k = 4..9 overlap it; k = 10, 11 start after it closes (first record after minute
    49.5); k = 12 would end past the data. So 6 placed and 6 reported, each with a 'data gap' reason."""
    from sorlib.synth import generate_market

    md = generate_market(venues=3, seed=4, minutes=60)
    t0 = int(min(md.quotes.ts[0], md.trades.ts[0]))
    cut_lo, cut_hi = t0 + 20 * 60 * 10**9, t0 + int(49.5 * 60 * 10**9)
    gap = md.between(None, cut_lo)
    after = md.between(cut_hi, None)
    from dataclasses import replace

    from sorlib.data.market import Quotes, Trades

    q = Quotes(*(np.concatenate([getattr(gap.quotes, f), getattr(after.quotes, f)])
                 for f in ("ts", "venue", "bid_px", "bid_sz", "ask_px", "ask_sz")))
    t = Trades(*(np.concatenate([getattr(gap.trades, f), getattr(after.trades, f)])
                 for f in ("ts", "venue", "price", "size", "side")))
    cut = replace(md, quotes=q, trades=t)
    cfg = BacktestConfig(order_size=2000, every_minutes=5, horizon_minutes=4, grid={
        "lambda_over": [1.0], "lambda_under": [0.1], "theta_queue": [0.1]})
    res = run_search([cut], config=cfg, scheduler="serial", progress=False)
    assert res.summary["parent_orders"] == 6
    un = res.summary["unplaced_orders"]
    assert len(un) == 6 and all(u["reason"].startswith("data gap") and u["day"] == 0 for u in un)


def test_search_replays_under_the_market_model_and_fee_regime_of_the_backtest():
    """The same orders, grid point, market model (realistic) and fee regime (cap10) through ``run_search``
    (workers build their own books) and ``run_backtest`` must give the same cash per strategy; and the
    fee regime must act (cap10 cuts the 0.0030 $/share taker fees, so Best Ask pays less than under cap30)."""
    from sorlib.synth import generate_market

    md = generate_market(venues=3, seed=8, minutes=40)
    grid = {"lambda_over": [1.0], "lambda_under": [0.1], "theta_queue": [0.1]}
    totals = {}
    for regime in ("cap30", "cap10"):
        cfg = BacktestConfig(order_size=2000, every_minutes=10, horizon_minutes=5, grid=grid,
                             market="realistic", fee_regime=regime)
        bt = run_backtest(md, cfg)
        sr = run_search([md], config=cfg, scheduler="serial", progress=False)
        for name in ("best_ask", "twap", "vwap"):
            assert sr.summary["baselines"][name]["total_cash"] == pytest.approx(
                bt.results["baselines"][name]["total_cash"], rel=1e-12)
        assert sr.summary["optimized"]["total_cash"] == pytest.approx(bt.results["optimized"]["total_cash"],
                                                                      rel=1e-12)
        assert sr.summary["market"]["name"] == "realistic"
        totals[regime] = bt.results["baselines"]["best_ask"]["total_cash"]
    assert totals["cap10"] < totals["cap30"]


@pytest.mark.slow
def test_cli_ck_walk_forward_by_day_processes_and_local_dask_identical(tmp_path, capsys):
    """``sorlib search --mode ck --folds 2 --fold-by day`` on three days, with local processes and with
    ``--scheduler local-dask``: the two results tables and walk-forward summaries must be identical."""
    from sorlib.cli import main
    from sorlib.synth import generate_market, write_databento_mbp1_csv

    days = [str(write_databento_mbp1_csv(generate_market(venues=3, seed=s, minutes=20, date=f"2024-03-1{s}"),
                                         tmp_path / f"day{s}.csv")) for s in (1, 2, 3)]
    outs = {}
    for sched in ("processes", "local-dask"):
        out = tmp_path / sched
        argv = ["search", *days, "--mode", "ck", "--folds", "2", "--fold-by", "day", "--every", "4", "--horizon",
                "3", "--scheduler", sched, "--workers", "2", "--out", str(out), "--no-progress"]
        assert main(argv) == 0, capsys.readouterr().err
        outs[sched] = out
    capsys.readouterr()
    a, b = (pd.read_parquet(outs[s] / "results.parquet") for s in ("processes", "local-dask"))
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    wa, wb = (json.loads((outs[s] / "summary.json").read_text())["walk_forward"] for s in ("processes", "local-dask"))
    assert wa == wb and len(wa["folds"]) == 2
    assert (a["strategy"] == "router").any() and a.loc[a["strategy"] == "router", "total_cash"].gt(0).all()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_start_brings_every_worker_up_before_any_task(spec):
    """The pool spawns workers lazily; a worker still starting when Ctrl-C ends the parent dies unpickling the
    pool's unlinked semaphores with a traceback on the terminal. After start() both workers exist and have run
    their initializer (SIGINT ignored: bit 1 of SigIgn in /proc/PID/status)."""
    with ProcessExecutor(workers=2) as ex:
        ex.start(spec)
        procs = list(ex._pool._processes.values())
        assert len(procs) == 2 and all(p.is_alive() for p in procs)
        for p in procs:
            with open(f"/proc/{p.pid}/status") as f:
                ign = int(next(ln for ln in f if ln.startswith("SigIgn:")).split()[1], 16)
            assert ign & (1 << (signal.SIGINT - 1))
