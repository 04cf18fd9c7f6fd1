"""``sorlib backtest --orders FILE [--executions FILE]``: a run writes the JSON and the per-order CSV; every
bad input is one located line on stderr and exit 2 (the style of tests/test_bad_input.py)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from sorlib.cli import main

# the synthetic day (no DATA): 2024-03-15, 09:30-16:00 New York = 13:30-20:00 UTC, symbol SYNT
OK = "time,side,quantity,order_id\n2024-03-15T10:00:00,buy,300,A\n2024-03-15T11:00:00-04:00,sell,200,B\n"
FILLS = "time,order_id,venue,side,quantity,price,liquidity\n2024-03-15T10:00:05,A,XNAS,buy,100,60.00,R\n"

CASES = [
    ("missing-column", "time,quantity\n2024-03-15T10:00:00,5\n", None, [],
     r"orders\.csv: missing required column\(s\) side"),
    ("unknown-side", "time,side,quantity\n2024-03-15T10:00:00,hold,5\n", None, [],
     r"orders\.csv, line 2, column 'side': unknown side 'hold'"),
    ("negative-quantity", "time,side,quantity\n2024-03-15T10:00:00,buy,-5\n", None, [],
     r"orders\.csv, line 2, column 'quantity': negative quantity -5"),
    ("time-outside", "time,side,quantity\n2024-03-15T10:00:00,buy,5\n2024-03-16T10:00:00,buy,5\n", None, [],
     r"order '2' \(.*orders\.csv line 3\): time 2024-03-16T14:00:00\+00:00 is outside the data of SYNT"),
    ("unknown-symbol", "time,side,quantity,symbol\n2024-03-15T10:00:00,buy,5,IBM\n", None, [],
     r"order '1' \(.*orders\.csv line 2\): unknown symbol 'IBM'; the data hold SYNT"),
    ("unknown-venue", OK, FILLS.replace("XNAS", "ARCA"), [],
     r"fills\.csv, line 2, column 'venue': unknown venue 'ARCA'; the data's venues are"),
    ("unknown-order", OK, FILLS.replace(",A,", ",Q,"), [],
     r"fills\.csv, line 2, column 'order_id': order_id 'Q' is not in the orders file"),
    ("order-size-too", OK, None, ["--order-size", "100"], r"--order-size sets the fixed schedule, which --orders"),
    ("horizon-too", OK, None, ["--horizon", "10"], r"--horizon sets the fixed schedule"),
    ("side-too", OK, None, ["--side", "buy"], r"--side sets the fixed schedule"),
    ("plots", OK, None, ["--plots", "p"], r"--plots does not apply with --orders"),
    ("symbol", OK, None, ["--symbol", "X"], r"--symbol does not apply with --orders"),
]


def _run(argv, capsys):
    try:
        rc = main(argv)
    except SystemExit as e:
        rc = e.code
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_orders_inputs(case, tmp_path, capsys, monkeypatch):
    _, orders, fills, extra, match = case
    monkeypatch.chdir(tmp_path)
    (tmp_path / "orders.csv").write_text(orders)
    argv = ["backtest", "--orders", "orders.csv", "--grid", "penalty", *extra]
    if fills is not None:
        (tmp_path / "fills.csv").write_text(fills)
        argv += ["--executions", "fills.csv"]
    rc, out, err = _run(argv, capsys)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2, (rc, err)
    assert "Traceback" not in out + err
    assert len(lines) == 1 and lines[0].startswith("sorlib backtest: error: "), err
    assert re.search(match, lines[0]), lines[0]
    assert not (tmp_path / "results.json").exists()


def test_executions_need_orders(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, _, err = _run(["backtest", "--executions", "fills.csv"], capsys)
    assert rc == 2 and "--executions applies only with --orders FILE" in err


def test_orders_run_writes_json_and_csv(tmp_path, capsys, monkeypatch):
    """Two orders on the synthetic day, one real fill: 2 orders x (4 strategies + real) CSV rows; the JSON's
    savings are the CSV's shortfalls pooled by hand over the baseline's compared cost (sorlib.metrics: cash +
    unfilled shares at the deadline mid): Σ(IS_base − IS_router) / Σ|cost_base| · 1e4; and the difference of
    compared costs is the difference of IS per order."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "orders.csv").write_text(OK)
    (tmp_path / "fills.csv").write_text(FILLS)
    rc, out, err = _run(["backtest", "--orders", "orders.csv", "--executions", "fills.csv", "--grid", "penalty",
                         "--out", "r.json"], capsys)
    assert rc == 0, err
    assert "caveat: the routers do not see the real fills' impact" in out
    rows = pd.read_csv(tmp_path / "r_orders.csv")
    assert len(rows) == 10 and set(rows.strategy) == {"router", "best_ask", "twap", "vwap", "real"}
    r = json.loads((tmp_path / "r.json").read_text())
    w = rows.pivot(index="order_id", columns="strategy", values="shortfall_usd")
    c = rows.pivot(index="order_id", columns="strategy", values="compared_cost_usd")
    for b in ("best_ask", "twap", "vwap"):
        assert r["savings_vs_baselines_bps"][b] == pytest.approx((w[b] - w["router"]).sum() / c[b].abs().sum() * 1e4,
                                                                 abs=1e-6)
        assert ((c[b] - c["router"]) - (w[b] - w["router"])).abs().max() < 1e-6
    assert r["real"]["volume_share_pct"]["max"] > 0


@pytest.mark.slow
def test_folder_of_two_symbols(tmp_path, capsys, monkeypatch):
    """DATA = a folder with two Databento CSVs written by ``sorlib synth`` (SYNT seed 0, SYNB seed 1, 20 min,
    plus a README that is skipped); orders of both symbols replay on their own day, on worker processes."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "days"
    folder.mkdir()
    for seed, sym in ((0, "SYNT"), (1, "SYNB")):
        assert main(["synth", "--seed", str(seed), "--symbol", sym, "--minutes", "20",
                     "--out", str(folder / f"{sym}.csv")]) == 0
    (folder / "README.md").write_text("not data\n")
    (tmp_path / "orders.csv").write_text("time,side,quantity,symbol,horizon_seconds\n"
                                         "2024-03-15T09:35:00,buy,300,SYNT,120\n"
                                         "2024-03-15T09:36:00,sell,400,SYNB,120\n"
                                         "2024-03-15T09:40:00,buy,200,SYNB,120\n")
    capsys.readouterr()
    rc, out, err = _run(["backtest", str(folder), "--orders", "orders.csv", "--grid", "penalty", "--out", "r.json"],
                        capsys)
    assert rc == 0, err
    rows = pd.read_csv(tmp_path / "r_orders.csv")
    router = rows[rows.strategy == "router"].set_index("order_id")
    assert router["symbol"].to_dict() == {1: "SYNT", 2: "SYNB", 3: "SYNB"}
    assert router["side"].tolist() == ["buy", "sell", "buy"]
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["symbols"] == ["SYNB", "SYNT"] and set(r["savings_by_symbol"]) == {"SYNB", "SYNT"}
    assert "SYNB 2024-03-15" in out and "SYNT 2024-03-15" in out
