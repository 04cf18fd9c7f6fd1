"""Robustness verdict (issue 17 item 4): the variant registry, the runner on a small synthetic day, the
summary sentence on a hand-built table, the forest plot."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from sorlib.backtest import BacktestConfig
from sorlib.errors import ConfigError
from sorlib.search import DataSpec, run_search
from sorlib.search.variants import VARIANTS, distinct_models, select_variants
from sorlib.search.verdict import load_verdict, run_verdict, summary_lines
from sorlib.sim.model import MarketModel

NAN = math.nan


# ------------------------------------------------------------------------------------------- registry
def test_registry_names_are_unique_and_every_spec_builds_a_market_model() -> None:
    assert len(VARIANTS) >= 8
    names = [v.name for v in VARIANTS]
    assert len(names) == len(set(names))
    assert {v.group for v in VARIANTS} == {"fill rule", "clean-up rule", "market layers", "latency scale"}
    for v in VARIANTS:
        assert v.description and "\n" not in v.description
        assert v.unavailable() is None, f"{v.name}: {v.unavailable()}"
        assert isinstance(v.model(), MarketModel)
        BacktestConfig(market=v.market).validate()


def test_variants_change_what_they_say() -> None:
    m = {v.name: v.model() for v in VARIANTS}
    assert m["frozen"].frozen and m["frozen"].queue.model == "conservative"
    assert m["+latency"].latency.enabled and not m["+latency"].impact.enabled and not m["+latency"].fade.enabled
    assert m["+impact"].impact.enabled and not m["+impact"].latency.enabled
    assert m["+fade"].fade.enabled and not m["+fade"].impact.enabled
    assert m["latency-x3"].latency.scale == 3.0 and m["latency-x0"].latency.scale == 0.0
    assert m["fill-conservative"].queue.model == "conservative" and m["fill-paper"].queue.model == "paper"
    assert m["fill-haircut-50"].queue.haircut == 0.5 and m["fill-haircut-50"].queue.model == m["realistic"].queue.model
    assert {m[n].cleanup.rule for n in ("cleanup-depth", "cleanup-flat", "cleanup-ladder")} == {"depth", "flat",
                                                                                                 "ladder"}


def test_same_models_are_grouped() -> None:
    """cleanup-depth (the default rule), realistic and latency-x1 (scale 1, the default) are the realistic
    preset: one replay for the three; fill-power joins them only if the preset's queue is that power model
    (it was until the preset moved to power3); every other variant is its own model."""
    groups = distinct_models(list(VARIANTS))
    sizes = {tuple(v.name for v in vs) for _, vs in groups}
    power_is_default = {v.name: v for v in VARIANTS}["fill-power"].model().queue == MarketModel.preset("realistic").queue
    same = ("fill-power", "cleanup-depth", "realistic", "latency-x1") if power_is_default else \
        ("cleanup-depth", "realistic", "latency-x1")
    assert same in sizes
    assert len(groups) == len(VARIANTS) - (len(same) - 1)


def test_select_variants() -> None:
    assert [v.name for v in select_variants("all")] == [v.name for v in VARIANTS]
    assert [v.name for v in select_variants("frozen, realistic")] == ["frozen", "realistic"]
    with pytest.raises(ConfigError, match=r"unknown variant\(s\) nope"):
        select_variants("frozen,nope")
    with pytest.raises(ConfigError, match="given twice"):
        select_variants("frozen,frozen")
    with pytest.raises(ConfigError, match="comma-separated"):
        select_variants("frozen,,realistic")


# ---------------------------------------------------------------------------------------------- runner
SMALL = dict(mode="ck", config=BacktestConfig(order_size=2000, every_minutes=6.0, horizon_minutes=4.0),
             grid={"lambda_over": [0.05], "lambda_under": [0.01, 0.05], "theta_queue": [0.001]}, folds=2,
             fold_by="order", scheduler="serial")


@pytest.fixture(scope="module")
def spec() -> DataSpec:
    return DataSpec.synthetic(seed=1, venues=3, minutes=60)


@pytest.fixture(scope="module")
def small(spec, tmp_path_factory):
    out = tmp_path_factory.mktemp("verdict")
    return run_verdict(spec, variants="frozen,realistic,latency-x1", out=out, **SMALL), out


def test_runner_table_files_and_shared_models(small, spec) -> None:
    """Three names, two models: latency-x1 is realistic's model, so its row repeats realistic's numbers and
    says so. The frozen row equals a plain walk-forward search with market="frozen" (the variant's spec
    reaches the replays)."""
    res, out = small
    t = res.table
    assert list(t["variant"]) == ["frozen", "realistic", "latency-x1"]
    assert list(t["same_model_as"].fillna("")) == ["", "", "realistic"]
    assert res.settings["distinct_models"] == 2
    num = [c for c in t.columns if c.startswith(("oos_", "is_"))]
    assert np.array_equal(t.loc[1, num].to_numpy(float), t.loc[2, num].to_numpy(float), equal_nan=True)
    direct = run_search(spec, grid=SMALL["grid"], config=BacktestConfig(order_size=2000, every_minutes=6.0,
                                                                        horizon_minutes=4.0, mode="ck",
                                                                        market="frozen"),
                        folds=2, fold_by="order", scheduler="serial", progress=False)
    for b, s in direct.walkforward.out_of_sample.items():
        assert t.loc[0, f"oos_bps_{b}"] == s["bps"] and t.loc[0, f"oos_n_{b}"] == s["orders"]
        assert [t.loc[0, f"oos_lo_{b}"], t.loc[0, f"oos_hi_{b}"]] == s["ci95"]
        assert t.loc[0, f"is_bps_{b}"] == direct.summary["savings_intervals"][b]["bps"]
    # the in-sample clean-up share from the summary totals (an independent sum)
    opt = direct.summary["optimized"]
    assert math.isclose(t.loc[0, "cleanup_share_is"], opt["cleanup_shares"] / opt["ordered"])
    assert 0 <= t.loc[0, "cleanup_share_oos"] <= 1
    # files: JSON round trip and CSV
    doc = json.loads((out / "robustness.json").read_text())
    assert [r["variant"] for r in doc["variants"]] == list(t["variant"]) and doc["lines"] == res.lines
    back = load_verdict(out / "robustness.json")
    pd.testing.assert_frame_equal(back.table, t)
    csv = pd.read_csv(out / "robustness.csv")
    assert list(csv["variant"]) == list(t["variant"]) and np.allclose(csv["oos_bps_twap"], t["oos_bps_twap"])
    assert set(res.lines) == {"best_ask", "twap", "vwap"}
    assert all(line.startswith("CK is cheaper than ") and "of 2 distinct variants" in line for line in res.lines.values())


def test_forest_plot(small) -> None:
    from sorlib.plots.colors import strategy_color
    from sorlib.plots.verdict import robustness_figure

    t = small[0].table.copy()
    t.loc[0, "verdict_withheld"] = True
    fig = robustness_figure(t)
    assert [tr.name for tr in fig.data] == ["vs Best Ask", "vs TWAP", "vs VWAP"]
    assert [tr.marker.color for tr in fig.data] == [strategy_color(b) for b in ("best_ask", "twap", "vwap")]
    assert list(fig.layout.yaxis.ticktext) == ["frozen (no verdict)", "realistic", "latency-x1 (= realistic)"]
    assert list(fig.data[0].marker.symbol) == ["circle-open", "circle", "circle"]
    assert np.allclose(fig.data[1].x, t["oos_bps_twap"])
    assert any(s.x0 == 0 and s.x1 == 0 for s in fig.layout.shapes)  # the zero line


# ------------------------------------------------------------------------------------------- sentence
def _table(rows: list[tuple]) -> pd.DataFrame:
    """rows: (variant, same_model_as, withheld, bps, lo, hi) for Best Ask; TWAP and VWAP copy them."""
    recs = []
    for name, same, withheld, bps, lo, hi in rows:
        r = {"variant": name, "same_model_as": same, "verdict_withheld": withheld}
        for b in ("best_ask", "twap", "vwap"):
            r.update({f"oos_bps_{b}": bps, f"oos_lo_{b}": lo, f"oos_hi_{b}": hi})
        recs.append(r)
    return pd.DataFrame(recs)


def test_summary_line_on_a_hand_built_table() -> None:
    """Counted by hand: a (cheaper, excludes), b (cheaper, its lower end −1e−9 < 0: includes), c (dearer,
    excludes), d (level), e (NaN: not counted), f (a repeat of a: not counted), g (withheld: not counted,
    named) -> 4 variants: cheaper in 2, dearer in 1, level in 1; excludes zero in 2 (1 cheaper, 1 dearer)."""
    t = _table([("a", None, False, 1.84, 0.40, 3.25), ("b", None, False, 0.5, -1e-9, 1.0),
                ("c", None, False, -0.07, -0.0742, -0.0043), ("d", None, False, 0.0, -0.2, 0.2),
                ("e", None, False, NAN, NAN, NAN), ("f", "a", False, 1.84, 0.40, 3.25),
                ("g", None, True, 9.0, 8.0, 10.0)])
    lines = summary_lines(t, "ck")
    assert lines["best_ask"] == (
        "CK is cheaper than Best Ask out of sample in 2 of 4 distinct variants (dearer in 1, level in 1); the 95% interval "
        "excludes zero in 2 (1 cheaper, 1 dearer). 1 variant gives no verdict (more than 50% of the router's "
        "shares bought by the deadline clean-up: g).")
    assert lines["twap"].startswith("CK is cheaper than TWAP out of sample in 2 of 4 distinct variants")
    one = summary_lines(_table([("a", None, False, -1.0, -2.0, 0.5)]), "uncapped")
    assert one["vwap"] == ("The router (uncapped mode) is cheaper than VWAP out of sample in 0 of 1 distinct variant "
                           "(dearer in 1); the 95% interval excludes zero in 0.")
    none = summary_lines(_table([("g", None, True, 1.0, 0.5, 1.5)]), "ck")
    assert none["best_ask"].startswith("No variant gives an out-of-sample saving against Best Ask.")


def test_report_index_shows_the_committed_robustness_verdict(small, monkeypatch) -> None:
    from pathlib import Path

    import sorlib.search.verdict as verdict
    from sorlib.report import robustness_html

    res = small[0]
    monkeypatch.setattr(verdict, "committed_robustness", lambda name=None: None)
    assert robustness_html() == ""
    monkeypatch.setattr(verdict, "committed_robustness", lambda name=None: (Path("robustness_test.json"), res))
    page = robustness_html({"04_cont_kukanov": "04 — CK"})
    assert "robustness_test.json" in page and '<a href="04_cont_kukanov.html">' in page
    for line in res.lines.values():
        assert line in page.replace("&#x27;", "'")
    assert "latency-x1 (= realistic)" in page and page.count("<tr>") == 1 + len(res.table)


def test_replays_are_shared_by_model_not_by_spelling(small, spec) -> None:
    """cleanup-depth spells out the default clean-up rule; realistic is the bare preset: the same model, so a
    run of cleanup-depth on the store of the runs above replays nothing."""
    res, out = small
    again = run_verdict(spec, variants="cleanup-depth", store=out / "store", **SMALL)
    assert again.records[0]["tasks"]["executed"] == 0 and again.records[0]["tasks"]["reused"] > 0
    num = [c for c in again.table.columns if c.startswith(("oos_", "is_"))]
    assert np.array_equal(again.table.loc[0, num].to_numpy(float), res.table.loc[1, num].to_numpy(float),
                          equal_nan=True)
