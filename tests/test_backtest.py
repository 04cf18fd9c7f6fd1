"""Backtest orchestration, metrics and the ``sorlib backtest`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sorlib.backtest import GRIDS, BacktestConfig, grid_points, run_backtest
from sorlib.cli import main
from sorlib.engine import Book
from sorlib.errors import ConfigError
from sorlib.metrics import bootstrap_ci, order_table


@pytest.fixture(scope="module")
def book():
    from sorlib.synth import generate_market

    return Book.from_market(generate_market(venues=5, seed=11, minutes=60))


def test_named_grids_have_27_points():
    for name in GRIDS:
        pts = grid_points(name)
        assert len(pts) == 27 and len({tuple(p.values()) for p in pts}) == 27


def test_bad_grid_is_a_config_error():
    with pytest.raises(ConfigError, match="lambda_under"):
        grid_points({"lambda_over": [1.0], "lambda_under": [-1], "theta_queue": [0.1]})
    with pytest.raises(ConfigError, match="unknown grid"):
        grid_points("nope")


def test_spec_mode_grid_ties_and_everyone_fills(book):
    res = run_backtest(book, BacktestConfig(every_minutes=10, horizon_minutes=10))
    r = res.results
    assert r["grid_ties"] == 27  # the task's known flaw: penalties never change a capped exact split
    for ex in [res.router, *res.baselines.values()]:
        t = order_table(ex)
        assert (t["shares"] == t["size"]).all()
    for key in ("best_ask", "twap", "vwap"):
        assert set(r["baselines"][key]) >= {"total_cash", "avg_fill_px"}
        assert np.isfinite(r["savings_vs_baselines_bps"][key])
    assert set(r["best_parameters"]) == {"lambda_over", "lambda_under", "theta_queue"}


def test_uncapped_mode_parameters_matter(book):
    res = run_backtest(book, BacktestConfig(every_minutes=10, horizon_minutes=10, mode="uncapped"))
    cash = res.grid["total_cash"].to_numpy()
    assert res.results["grid_ties"] < 27
    assert len(np.unique(np.round(cash, 6))) > 1
    # lambda_over never matters in uncapped mode: the three lambda_over values of each point tie
    by = res.grid.groupby(["lambda_under", "theta_queue"])["total_cash"].nunique()
    assert (by == 1).all()


def test_bootstrap_interval_covers_mean_and_is_seeded():
    v = np.random.default_rng(0).normal(2.0, 1.0, 200)
    lo, hi = bootstrap_ci(v, seed=1)
    assert lo < v.mean() < hi
    assert (lo, hi) == bootstrap_ci(v, seed=1)


@pytest.mark.parametrize("n", [2, 7, 76, 3000, 70_000])
def test_bootstrap_in_blocks_equals_one_draw_of_all_resamples(n):
    """The blocked bootstrap draws the same resamples as one (n_boot, n) draw (row sums may differ in the
    last bit for long rows, where numpy's reduction blocks differently) and repeats exactly."""
    v = np.random.default_rng(n).normal(0.0, 3.0, n)
    rng = np.random.default_rng(4)
    means = v[rng.integers(0, n, size=(300, n))].mean(axis=1)
    expected = (float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975)))
    got = bootstrap_ci(v, n_boot=300, seed=4)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert got == bootstrap_ci(v, n_boot=300, seed=4)


def test_cli_backtest_writes_json_and_plots(tmp_path):
    out = tmp_path / "r.json"
    rc = main(["backtest", "--out", str(out), "--plots", str(tmp_path / "plots"), "--horizon", "5"])
    assert rc == 0
    r = json.loads(out.read_text())
    assert r["optimized"]["shares"] == 5000
    for b in ("best_ask", "twap", "vwap"):
        assert r["baselines"][b]["shares"] == 5000
    assert len(r["grid"]) == 27
    html = (tmp_path / "plots" / "cumulative.html").read_text()
    import shutil

    if shutil.which("chromium") or shutil.which("google-chrome"):  # kaleido renders PNG through Chrome
        assert (tmp_path / "plots" / "cumulative.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Plotly.newPlot" in html and '<script src="https://cdn.plot.ly' not in html  # works offline


def test_cli_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "g.toml"
    bad.write_text("lambda_over = [1.0]\n")
    assert main(["backtest", "--grid", str(bad), "--out", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "grid lacks" in err
    assert main(["backtest", "--venues", str(tmp_path / "missing.toml")]) == 2
    assert "venue file not found" in capsys.readouterr().err
    assert main(["backtest", "--order-size", "0"]) == 2


@pytest.fixture(scope="module")
def algoseek_ibm():
    import os
    from pathlib import Path

    root = os.environ.get("SORLIB_REAL_DATA")
    if not root:
        pytest.skip("SORLIB_REAL_DATA is not set")
    from sorlib.data import load

    return load(Path(root) / "lean_algoseek_tick" / "ibm" / "20131007_quote.zip").regular_hours()


@pytest.mark.real
@pytest.mark.parametrize("mode", ["spec", "uncapped", "ck"])
def test_backtest_on_algoseek_fills_every_order(algoseek_ibm, mode):
    grid = {"lambda_over": [2.0], "lambda_under": [0.01, 0.1], "theta_queue": [0.01]}
    res = run_backtest(algoseek_ibm, BacktestConfig(mode=mode, grid=grid, every_minutes=60, horizon_minutes=10))
    assert res.results["parent_orders"] >= 6
    for ex in [res.router, *res.baselines.values()]:
        t = order_table(ex)
        assert (t["shares"] == 5000).all()
        assert t["avg_fill_px"].between(180, 185).all()  # IBM traded 181.85-183.31 that day


S = 1_000_000_000


def _book(rows):
    """rows: (t_s, venue, bid, ask) with 100 shares a side; epoch-based times (t=0 is 1970-01-01 00:00 UTC)."""
    from sorlib.data.market import LoadReport, MarketData, Quotes, Trades

    rows = sorted(rows)
    one = lambda i, dt: np.array([[r[i]] for r in rows], dt)  # noqa: E731
    q = Quotes(np.array([int(r[0] * S) for r in rows], np.int64), np.array([r[1] for r in rows], np.int32),
               one(2, float), np.full((len(rows), 1), 100, np.int64), one(3, float),
               np.full((len(rows), 1), 100, np.int64))
    return Book.from_market(MarketData(q, Trades.empty(), LoadReport("t", "t")))


def test_schedule_starts_at_first_two_sided_nbbo_not_when_every_venue_quoted():
    """Venue 1 quotes both sides every 10 s from t=0 to t=3590 s; venue 2 first quotes at t=1200 s.
    Every 5 min with a 5-min horizon, arrivals run from 0 while a + 300 s ≤ 3590 s + 1 ns: 0, 300, …, 3000 →
    11 orders (waiting for venue 2 would give 1200 … 3000 → 7)."""
    from sorlib.backtest import order_schedule, parent_orders

    rows = [(t, 1, 9.99, 10.01) for t in range(0, 3600, 10)] + [(t, 2, 9.98, 10.02) for t in range(1200, 3600, 10)]
    book = _book(rows)
    placed, unplaced = order_schedule(book, 100, 5, 5)
    assert [o.arrival_ns // S for o in placed] == list(range(0, 3001, 300)) and unplaced == []
    assert [o.order_id for o in placed] == list(range(11))
    assert parent_orders(book, 100, 5, 5) == placed


def test_orders_overlapping_a_data_gap_are_not_placed_and_say_why():
    """Quotes every 10 s except between t=1000 s and t=2000 s (a 1000 s gap > 60 s). Windows [a, a + 300 s)
    with a < 2000 and a + 300 > 1000 overlap it: a = 900, 1200, 1500, 1800 are unplaced with reason
    "data gap 00:16:40–00:33:20" (UTC); the 11 − 4 = 7 others are placed and numbered 0..6."""
    from sorlib.backtest import order_schedule

    rows = [(t, 1, 9.99, 10.01) for t in range(0, 3600, 10) if not 1000 < t < 2000]
    placed, unplaced = order_schedule(_book(rows), 100, 5, 5)
    assert [u.arrival_ns // S for u in unplaced] == [900, 1200, 1500, 1800]
    assert {u.reason for u in unplaced} == {"data gap 00:16:40–00:33:20"}
    assert [o.arrival_ns // S for o in placed] == [0, 300, 600, 2100, 2400, 2700, 3000]
    assert [o.order_id for o in placed] == list(range(7))
    assert unplaced[0].to_dict() == {"arrival": "1970-01-01T00:15:00+00:00", "reason": "data gap 00:16:40–00:33:20"}
    # a longer threshold accepts the gap
    assert len(order_schedule(_book(rows), 100, 5, 5, max_gap_seconds=1200)[0]) == 11


def test_orders_without_two_sided_nbbo_at_arrival_are_not_placed():
    """Venue 1 bids only (no ask) from t=0; both sides from t=100 s. Explicit arrivals at 50 s (one-sided)
    and 150 s (two-sided): only the second is placed."""
    from sorlib.backtest import order_schedule

    rows = [(t, 1, 9.99, np.nan) for t in range(0, 100, 10)] + [(t, 1, 9.99, 10.01) for t in range(100, 600, 10)]
    placed, unplaced = order_schedule(_book(rows), 100, horizon_minutes=1, arrivals_ns=[50 * S, 150 * S])
    assert [o.arrival_ns for o in placed] == [150 * S]
    assert [(u.arrival_ns, u.reason) for u in unplaced] == [(50 * S, "no two-sided NBBO at arrival")]


def test_run_backtest_reports_unplaced_orders_and_cleanup_beyond_book():
    rows = [(t, 1, 9.99, 10.01) for t in range(0, 3600, 10) if not 1000 < t < 2000]
    res = run_backtest(_book(rows), BacktestConfig(order_size=300, every_minutes=5, horizon_minutes=5,
                                                   grid={"lambda_over": [1.0], "lambda_under": [0.1],
                                                         "theta_queue": [0.1]}))
    r = res.results
    assert r["parent_orders"] == 7 and len(r["unplaced_orders"]) == 4
    assert r["unplaced_orders"][0] == {"arrival": "1970-01-01T00:15:00+00:00",
                                       "reason": "data gap 00:16:40–00:33:20"}
    assert set(r["cleanup_beyond_book_shares"]) == {"router", "best_ask", "twap", "vwap"}
    assert set(r["unfilled_shares"]) == {"router", "best_ask", "twap", "vwap"}
    json.dumps(r)  # the results stay JSON-serialisable
    with pytest.raises(ConfigError, match="no parent order could be placed"):
        run_backtest(_book(rows), BacktestConfig(every_minutes=5, horizon_minutes=5, max_gap_seconds=1,
                                                 grid={"lambda_over": [1.0], "lambda_under": [0.1],
                                                       "theta_queue": [0.1]}))


def test_progress_is_one_bar_over_strategies_times_orders(book, monkeypatch):
    """2 grid points + 3 baselines over the orders of a 60-min day every 10 min (horizon 10): one bar whose
    total is 5 × orders, fully advanced."""
    import tqdm.auto

    bars = []

    class Bar:
        def __init__(self, total=None, **kw):
            self.total, self.n = total, 0
            bars.append(self)

        def update(self, n=1):
            self.n += n

        def close(self):
            pass

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    grid = {"lambda_over": [1.0], "lambda_under": [0.1, 0.2], "theta_queue": [0.1]}
    res = run_backtest(book, BacktestConfig(every_minutes=10, horizon_minutes=10, grid=grid), progress=True)
    n = res.results["parent_orders"]
    assert len(bars) == 1 and bars[0].total == 5 * n and bars[0].n == 5 * n


def test_config_choices_are_checked():
    for bad in (dict(empty_policy="skip"), dict(vwap_weights="volume"), dict(mode="fast"),
                dict(max_gap_seconds=0)):
        with pytest.raises(ConfigError):
            BacktestConfig(**bad).validate()


@pytest.mark.real
@pytest.mark.parametrize("day", ["20131007", "20131008", "20131009", "20131010", "20131011"])
def test_every_ibm_day_places_26_orders_every_15_minutes(day):
    """Regular hours 09:30–16:00: the schedule starts at the first two-sided NBBO (09:30:00.0xx) and places
    an order every 15 min while its 10-min window fits: 09:30, 09:45, …, 15:45 → 26 orders (before, waiting
    for every venue to quote started 2013-10-11 at 13:30 and gave 10). None is unplaced: no quote gap
    exceeds 60 s on these days."""
    import os
    from pathlib import Path

    from sorlib.backtest import order_schedule
    from sorlib.data import load

    root = os.environ.get("SORLIB_REAL_DATA")
    if not root:
        pytest.skip("SORLIB_REAL_DATA is not set")
    md = load(Path(root) / "lean_algoseek_tick" / "ibm" / f"{day}_quote.zip").regular_hours()
    placed, unplaced = order_schedule(Book.from_market(md), 5000, 15, 10)
    assert len(placed) + len(unplaced) == 26
    assert len(placed) == 26, [u.to_dict() for u in unplaced]


def test_two_sided_nbbo_may_come_from_two_venues():
    """Venue 1 only bids (t=0), venue 2 only offers (t=10): the NBBO is two-sided from the t=10 snapshot on,
    so the first order arrives at 10 s."""
    from sorlib.backtest import parent_orders

    book = _book([(0, 1, 9.99, np.nan), (10, 2, np.nan, 10.01), (700, 1, 9.99, np.nan)])
    assert book.two_sided.tolist() == [False, True, True]
    assert [o.arrival_ns for o in parent_orders(book, 100, horizon_minutes=1, max_gap_seconds=1000)] == [10 * S]
