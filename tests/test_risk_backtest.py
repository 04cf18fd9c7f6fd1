"""Risk controls end to end: the synthetic shock option, BacktestConfig.risk and its results keys, CLI options."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from sorlib.backtest import BacktestConfig, run_backtest
from sorlib.errors import ConfigError
from sorlib.synth import Shock, generate_market, parse_shock

S = 1_000_000_000
ONE = {"lambda_over": [5.0], "lambda_under": [0.05], "theta_queue": [0.05]}


@pytest.fixture(scope="module")
def days():
    base = generate_market(venues=3, seed=4, minutes=40)
    jump = generate_market(venues=3, seed=4, minutes=40, shock=Shock("jump", 20, 8, 5))
    return base, jump


def test_no_shock_is_the_same_day(days):
    base, _ = days
    again = generate_market(venues=3, seed=4, minutes=40, shock=None)
    for a, b in ((base.quotes, again.quotes), (base.trades, again.trades)):
        for n in a.__dataclass_fields__:
            x, y = getattr(a, n), getattr(b, n)
            if x is None or y is None:  # optional columns (e.g. Trades.eligible) absent on both
                assert x is None and y is None, n
                continue
            assert np.array_equal(x, y, equal_nan=np.asarray(x).dtype.kind == "f"), n


def test_a_jump_scales_prices_inside_its_window_only(days):
    """+8 % from minute 20 for 5 minutes: bids floor(1.08·b), asks ceil(1.08·a) to the cent; outside the window
    the records are the generated ones, and the same seed gives the same shocked day."""
    base, jump = days
    t0 = int(base.quotes.ts[0])
    a, b = t0 + 20 * 60 * S, t0 + 25 * 60 * S
    q0, q1 = base.quotes, jump.quotes
    assert np.array_equal(q0.ts, q1.ts)
    inside = (q0.ts >= a) & (q0.ts < b)
    assert np.array_equal(q0.ask_px[~inside], q1.ask_px[~inside], equal_nan=True)
    ok = inside & np.isfinite(q0.ask_px[:, 0])
    assert np.allclose(q1.ask_px[ok, 0], np.ceil(q0.ask_px[ok, 0] * 1.08 * 100 - 1e-6) / 100)
    assert np.allclose(q1.bid_px[ok, 0], np.floor(q0.bid_px[ok, 0] * 1.08 * 100 + 1e-6) / 100)
    t_in = (base.trades.ts >= a) & (base.trades.ts < b)
    assert np.allclose(jump.trades.price[t_in], np.round(base.trades.price[t_in] * 108) / 100)
    again = generate_market(venues=3, seed=4, minutes=40, shock=Shock("jump", 20, 8, 5))
    assert np.array_equal(again.quotes.ask_px, q1.ask_px, equal_nan=True)


def test_a_halt_clears_the_books_and_silences_the_window(days):
    base, _ = days
    halt = generate_market(venues=3, seed=4, minutes=40, shock=Shock("halt", 20, 0, 3))
    t0 = int(base.quotes.ts[0])
    a, b = t0 + 20 * 60 * S, t0 + 23 * 60 * S
    q = halt.quotes
    at = q.ts == a
    assert at.sum() >= 3 and np.isnan(q.ask_px[at]).all() and np.isnan(q.bid_px[at]).all()
    assert not ((q.ts > a) & (q.ts < b)).any() and not ((halt.trades.ts >= a) & (halt.trades.ts < b)).any()


@pytest.mark.parametrize("text, err", [("jump:120:8", "jump:AT_MIN"), ("jump:120:0:5", "not 0"), ("halt:1:0", "> 0"),
                                       ("spike:1:2:3", "jump:AT_MIN"), ("jump:x:8:10", "jump:AT_MIN")])
def test_bad_shocks_are_rejected(text, err):
    with pytest.raises(ConfigError, match=err):
        parse_shock(text)


def test_parse_shock():
    assert parse_shock("jump:120:8:10") == Shock("jump", 120, 8, 10)
    assert parse_shock("halt:60:5") == Shock("halt", 60, 0, 5)


def test_backtest_reports_risk_events_on_a_shock_day(days):
    """On the +8 % day with a 5 % LULD band every parent order alive at the jump records a ``luld_halt``; the
    results carry risk_events (ISO time, order, venue, rule, detail), counts and the venue-score table."""
    _, jump = days
    cfg = BacktestConfig(every_minutes=5, horizon_minutes=5, grid=ONE, schedule="twap",
                         risk={"luld_band_pct": 5, "scoring": {}, "exposure": {"pct": 60}})
    r = run_backtest(jump, cfg).results
    assert r["risk_event_counts"].get("luld_halt", 0) >= 1
    halts = [e for e in r["risk_events"] if e["rule"] == "luld_halt"]
    assert halts[0]["venue"] == "all" and halts[0]["time"].startswith("2024-03-15T13:5")  # the jump: 09:50 ET
    assert set(r["venue_scores"][0]) >= {"time", "order", "venue", "fill_rate", "fade_rate", "markout_1s",
                                         "markout_60s", "cost"}
    assert r["config"]["risk"]["luld_band_pct"] == 5


def test_backtest_without_risk_is_unchanged(days):
    base, _ = days
    cfg = dict(every_minutes=10, horizon_minutes=5, grid=ONE)
    a = run_backtest(base, BacktestConfig(**cfg)).results
    b = run_backtest(base, BacktestConfig(**cfg, risk={})).results  # every control off
    assert "risk_events" not in a and "risk_events" not in b
    assert a["optimized"] == b["optimized"]
    with pytest.raises(ConfigError, match="LULD band"):
        BacktestConfig(risk={"luld_band_pct": -1}).validate()


def _args(**kw):
    from sorlib.cli._common import add_config_args, add_risk_args

    p = argparse.ArgumentParser()
    add_config_args(p, None, "every")
    add_risk_args(p)
    argv = []
    for k, v in kw.items():
        argv += [f"--{k.replace('_', '-')}", str(v)]
    return p.parse_args(argv)


def test_cli_options_make_risk_controls():
    from sorlib.cli._common import config_from_args

    args = _args(exposure_pct=30, exposure_usd=50000, score_venues="on", luld_band=5, halt_gap=10, kill_bps=25,
                 latency_aware="cost")
    args.seed, args.data, args.format = 0, None, "auto"
    r = config_from_args(args).risk_controls()
    assert r.exposure.pct == 30 and r.exposure.usd == 50000 and r.scoring is not None
    assert r.luld_band_pct == 5 and r.halt_gap_seconds == 10 and r.kill_bps == 25 and r.latency.mode == "cost"
    args = _args()
    args.seed, args.data, args.format = 0, None, "auto"
    assert config_from_args(args).risk is None


@pytest.mark.parametrize("opt, val", [("exposure_pct", 0), ("exposure_pct", 101), ("exposure_shares", 0),
                                      ("luld_band", -5), ("kill_bps", "nan"), ("halt_gap", 0)])
def test_cli_rejects_out_of_range_risk_options(opt, val):
    with pytest.raises(SystemExit):
        _args(**{opt: val})


def test_risk_tables_and_figures(days):
    from sorlib.plots.risk import (
        event_counts_frame,
        risk_events_figure,
        risk_events_frame,
        venue_score_figure,
        venue_scores_frame,
    )

    _, jump = days
    cfg = BacktestConfig(every_minutes=10, horizon_minutes=5, grid=ONE, schedule="twap",
                         risk={"luld_band_pct": 5, "scoring": {}})
    r = run_backtest(jump, cfg).results
    ev, sc, n = risk_events_frame(r), venue_scores_frame(r), event_counts_frame(r)
    assert len(ev) == int(n["count"].sum()) and ev["time"].is_monotonic_increasing
    assert {"fill_rate", "cost"} <= set(sc.columns) and len(sc)
    assert len(risk_events_figure(r).data) == len(n)
    assert len(venue_score_figure(r, "fill_rate").data) == sc["venue"].nunique()
    empty = {"risk_events": [], "venue_scores": [], "risk_event_counts": {}}
    assert len(risk_events_figure(empty).data) == 0 and len(venue_score_figure(empty).data) == 0


# ------------------------------------------------------------------------------------------ search
def test_search_reports_risk_events_on_a_shock_day(days, tmp_path, capsys):
    """``sorlib search --luld-band 5`` on the +8 % day: the summary carries the best point's halt events (with
    their day; at most MAX_RISK_EVENTS listed, the rest counted) and the risk settings, which reach the workers
    through ``BacktestConfig(**asdict(cfg))``."""
    import json

    from sorlib.cli import main
    from sorlib.synth import write_databento_mbp1_csv

    _, jump = days
    path = write_databento_mbp1_csv(jump, tmp_path / "jump.csv")
    out = tmp_path / "out"
    argv = ["search", str(path), "--scheduler", "serial", "--every", "5", "--horizon", "5", "--schedule", "twap",
            "--luld-band", "5", "--kill-bps", "50", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    line = capsys.readouterr().out
    assert "risk events" in line and "luld_halt" in line
    s = json.loads((out / "summary.json").read_text())
    assert s["risk_event_counts"].get("luld_halt", 0) >= 1
    assert s["risk_events_omitted"] == 0 and len(s["risk_events"]) == sum(s["risk_event_counts"].values())
    halts = [e for e in s["risk_events"] if e["rule"] == "luld_halt"]
    assert halts[0]["day"] == 0 and halts[0]["venue"] == "all" and halts[0]["time"].startswith("2024-03-15T13:5")
    assert s["config"]["risk"]["luld_band_pct"] == 5 and s["risk_controls"]["kill_bps"] == 50
    cfg = BacktestConfig(**{k: v for k, v in s["config"].items()})
    assert cfg.risk_controls().luld_band_pct == 5  # the asdict round trip the workers rely on


def test_search_with_scores_equals_the_backtest_and_keeps_baseline_tasks(days, tmp_path):
    """Venue scores learn across a day's parent orders, so with scoring a router task is the whole day: the
    search's router equals the backtest's (cash and events). Risk settings are in the router's task key only:
    the baselines' stored tasks of a run without controls are reused."""
    from sorlib.search import run_search

    _, jump = days
    plain = BacktestConfig(every_minutes=5, horizon_minutes=5, grid=ONE, schedule="twap")
    cfg = BacktestConfig(every_minutes=5, horizon_minutes=5, grid=ONE, schedule="twap",
                         risk={"scoring": {}, "luld_band_pct": 5, "exposure": {"pct": 50}})
    store = tmp_path / "store"
    a = run_search([jump], config=plain, scheduler="serial", progress=False, store=store, chunk_orders=2)
    assert "risk_event_counts" not in a.summary
    b = run_search([jump], config=cfg, scheduler="serial", progress=False, store=store, chunk_orders=2)
    assert b.stats["reused"] == a.stats["tasks"] - sum(1 for _ in range(-(-a.stats["parent_orders"] // 2)))
    assert b.stats["executed"] == 1  # the router: one whole-day task
    bt = run_backtest(jump, cfg).results
    assert b.summary["optimized"]["total_cash"] == pytest.approx(bt["optimized"]["total_cash"], rel=1e-12)
    assert b.summary["risk_event_counts"] == bt["risk_event_counts"]
    assert [e["rule"] for e in b.summary["risk_events"]] == [e["rule"] for e in bt["risk_events"]]


@pytest.mark.parametrize("extra, msg", [(["--adaptive", "--score-venues", "on"], "does not apply with --adaptive"),
                                        (["--luld-band", "0"], "--luld-band"),
                                        (["--latency-aware", "sometimes"], "--latency-aware")])
def test_search_rejects_risk_options_that_do_not_apply(tmp_path, capsys, extra, msg):
    from sorlib.cli import main

    code = main(["search", "--scheduler", "serial", "--out", str(tmp_path / "o"), "--no-progress", *extra])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert msg in err and "\n" not in err and not (tmp_path / "o" / "summary.json").exists()


def test_search_summary_lists_at_most_max_risk_events():
    from sorlib.risk import RiskControls
    from sorlib.search.run import MAX_RISK_EVENTS, _risk_summary

    ev = [{"day": 0, "time": f"2024-03-15T14:{i // 60:02d}:{i % 60:02d}+00:00", "order": i, "venue": "all",
           "rule": "halt_gap" if i % 2 else "luld_halt", "detail": ""} for i in range(MAX_RISK_EVENTS + 50)][::-1]
    s = _risk_summary(ev, RiskControls(luld_band_pct=5))
    assert len(s["risk_events"]) == MAX_RISK_EVENTS and s["risk_events_omitted"] == 50
    assert s["risk_events"][0]["order"] == 0 and sum(s["risk_event_counts"].values()) == MAX_RISK_EVENTS + 50
