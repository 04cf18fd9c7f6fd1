"""The realism ladder (``sorlib.realism``, notebook 05): its rows against plain backtests, the market of each
layer, the tidy table the figures read, and the JSON round trip of the committed real-day run."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from sorlib.backtest import BacktestConfig, run_backtest
from sorlib.engine import Book
from sorlib.errors import ConfigError
from sorlib.realism import (
    COLUMNS,
    LAYERS,
    cheapest_frame,
    claims_text,
    committed_results_path,
    fewer_larger_frame,
    ladder_document,
    layer_effects,
    load_ladder_json,
    run_ladder,
    savings_frame,
)
from sorlib.sim import MarketModel

#: two values of each inert parameter: spec and uncapped replay fewer points than the grid (realism._backtest)
GRID = {"lambda_over": [0.05, 2.0], "lambda_under": [0.01, 0.05], "theta_queue": [0.0005]}
MODES = ("spec", "uncapped", "ck")


@pytest.fixture(scope="module")
def book():
    from sorlib.synth import default_market

    return Book.from_market(default_market(seed=0, minutes=60))


@pytest.fixture(scope="module")
def cfg():
    return BacktestConfig(every_minutes=20.0, horizon_minutes=10.0, grid=GRID, seed=3)


@pytest.fixture(scope="module")
def ladder(book, cfg):
    return run_ladder(book, cfg, modes=MODES)


def test_frozen_rows_equal_a_plain_backtest(ladder, book, cfg) -> None:
    """An independent path: ``run_backtest(market="frozen")`` per mode gives the ladder's frozen rows."""
    from dataclasses import replace

    t = ladder.table
    for mode in MODES:
        r = run_backtest(book, replace(cfg, mode=mode, market="frozen")).results
        rows = t[(t["mode"] == mode) & (t["layer"] == "frozen")].set_index("strategy")
        assert list(rows.index) == ["router", "best_ask", "twap", "vwap"]
        assert (rows["orders"] == r["parent_orders"]).all()
        router = rows.loc["router"]
        for p, v in r["best_parameters"].items():
            assert router[p] == v, (mode, p)
        assert router["grid_ties"] == r["grid_ties"] and router["grid_points"] == len(r["grid"])
        mine = ladder.results[(mode, "frozen")]
        assert mine["grid"] == r["grid"] and mine["config"] == r["config"]  # every grid point, as replayed
        assert mine["savings_intervals"] == r["savings_intervals"] and mine["impact_cost"] == r["impact_cost"]
        assert router["total_cash_usd"] == r["optimized"]["total_cash"]
        assert router["shortfall_bps"] == pytest.approx(r["optimized"]["shortfall_bps_mean"], abs=1e-12)
        assert math.isnan(router["saving_bps"])
        for b, iv in r["savings_intervals"].items():
            row = rows.loc[b]
            assert row["total_cash_usd"] == r["baselines"][b]["total_cash"]
            assert row["saving_bps"] == iv["bps"] and row["saving_mean_bps"] == iv["mean_bps"]
            assert [row["saving_lo_bps"], row["saving_hi_bps"]] == iv["ci95"]
            assert row["impact_bps"] == 0.0 and row["impact_usd"] == 0.0  # frozen: no impact paid
        ranks = rows["total_cash_usd"].rank(method="min").astype(int)
        assert (rows["cost_rank"] == ranks).all()


def test_realistic_rows_equal_a_plain_backtest(ladder, book, cfg) -> None:
    """The same under the realistic market, for the modes whose identical grid points are replayed once."""
    from dataclasses import replace

    for mode in ("spec", "uncapped"):
        r = run_backtest(book, replace(cfg, mode=mode, market="realistic")).results
        mine = ladder.results[(mode, "realistic")]
        for key in ("best_parameters", "grid", "grid_ties", "optimized", "baselines", "savings_intervals",
                    "impact_cost", "market", "config"):
            assert mine[key] == r[key], (mode, key)


def test_each_layer_row_names_its_market(ladder) -> None:
    t = ladder.table
    assert list(dict.fromkeys(t["layer"])) == list(LAYERS)
    assert list(dict.fromkeys(t["mode"])) == list(MODES)
    assert len(t) == len(MODES) * len(LAYERS) * 4
    for layer in LAYERS:
        rows = t[t["layer"] == layer]
        assert (rows["market"] == layer).all(), layer
        assert (rows["market_model"] == MarketModel.preset(layer).label).all(), layer
    for (mode, layer), r in ladder.results.items():
        assert r["market"]["name"] == layer and r["config"]["mode"] == mode and r["config"]["market"] == layer
    # impact is paid only under the layers with the impact model
    paid = t.groupby("layer")["impact_usd"].max()
    assert paid["impact"] > 0 and paid["realistic"] > 0
    assert paid[["frozen", "latency", "fade", "queue"]].eq(0).all()


def test_baseline_rows_do_not_depend_on_the_router_mode(ladder) -> None:
    t = ladder.table
    base = t[t["strategy"] != "router"]
    cols = ["total_cash_usd", "children_per_order", "mean_child_shares", "impact_bps"]
    first = base[base["mode"] == MODES[0]][["layer", "strategy", *cols]].reset_index(drop=True)
    for mode in MODES[1:]:
        other = base[base["mode"] == mode][["layer", "strategy", *cols]].reset_index(drop=True)
        pd.testing.assert_frame_equal(first, other)


def test_tidy_table_has_what_the_figures_need(ladder) -> None:
    from sorlib.plots import realism_figures

    t = ladder.table
    assert tuple(t.columns) == COLUMNS
    assert t["strategy"].isin(["router", "best_ask", "twap", "vwap"]).all()
    assert (t["children_per_order"] > 0).all() and (t["mean_child_shares"] > 0).all()
    assert (t["mean_child_shares"] <= 5000).all()
    figs = realism_figures(t, where=" (test)")
    assert set(figs) == {"savings", "cost", "children"}
    for name, fig in figs.items():
        assert len(fig.data) > 0, name
        text = json.dumps(fig.to_plotly_json(), default=str)
        assert "$" not in text, name
    sav = figs["savings"]
    assert len(sav.data) == 3 * len(MODES)  # one bar series per baseline and mode
    assert all(len(tr.x) == len(LAYERS) for tr in sav.data)
    assert all(fig.layout.yaxis.title.text for fig in figs.values())  # units on the axes
    children = figs["children"]
    assert [tr.name for tr in children.data if tr.showlegend] == ["router (spec)", "router (uncapped)",
                                                                   "router (ck)", "Best Ask", "TWAP", "VWAP"]


def test_claims_and_summaries_are_generated_from_the_table(ladder) -> None:
    t = ladder.table
    sf = savings_frame(t)
    assert len(sf) == len(MODES) * len(LAYERS) and "vs Best Ask: 95% interval" in sf.columns
    ch = cheapest_frame(t)
    assert set(ch["Best Ask cheapest?"]) <= {"yes", "no", "tie"}
    fl = fewer_larger_frame(t)
    assert len(fl) == len(MODES) * len(LAYERS) * 3
    eff = layer_effects(t)
    assert not eff.loc[eff["layer"] == "frozen tape", "changed anything"].any()
    assert eff.loc[eff["layer"] == "+ impact", "changed anything"].all()
    text = claims_text(t)
    assert "Best Ask achieves the lowest total cost" in text and "fewer, larger trades" in text
    # the numbers in the text are the table's
    spec = t[(t["mode"] == "spec") & (t["layer"] == "frozen") & (t["strategy"] == "router")].iloc[0]
    assert f"router {spec['children_per_order']:.1f} children/order" in text


def test_layers_are_checked(book, cfg) -> None:
    with pytest.raises(ConfigError, match="unknown realism layer"):
        run_ladder(book, cfg, layers=("frozen", "tsunami"))
    with pytest.raises(ConfigError):
        run_ladder(book, cfg, layers=())


def test_json_round_trip(ladder, tmp_path) -> None:
    from sorlib._io import atomic_write_json

    doc = ladder_document(ladder, {"file": "synthetic", "regular_hours": True}, seconds=1.0)
    path = atomic_write_json(tmp_path / "ladder.json", doc)
    text = path.read_text()
    assert "NaN" not in text  # strict JSON
    table, meta = load_ladder_json(path)
    pd.testing.assert_frame_equal(table, ladder.table, check_dtype=False)
    assert meta["data"]["file"] == "synthetic" and meta["config"]["modes"] == list(MODES)
    with pytest.raises(ConfigError, match="regenerate"):
        load_ladder_json(tmp_path / "missing.json")


def test_committed_real_day_ladder() -> None:
    """The committed IBM run (benchmarks/fill_realism_real.py): derived results only, every layer and mode."""
    path = committed_results_path()
    if not path.is_file():
        pytest.skip(f"{path} not present")
    table, meta = load_ladder_json(path)
    assert tuple(table.columns) == COLUMNS
    assert list(dict.fromkeys(table["layer"])) == list(LAYERS)
    assert {"spec", "ck"} <= set(table["mode"])
    assert meta["data"]["regular_hours"] is True and meta["data"]["file"].endswith("_quote.zip")
    assert "fill_realism_real.py" in meta["command"]
    assert (table["market"] == table["layer"]).all()
    assert np.isfinite(table.loc[table["strategy"] != "router", "saving_bps"]).all()
