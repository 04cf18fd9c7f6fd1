"""The search holds one copy of a day's per-record arrays, as the backtest does (issue 19).

A file day is read through the day cache (:mod:`sorlib.data.cache`: the arrays are views of a memory map). The
search keeps 09:30-16:00 of each day (``regular_hours``); ``MarketData.regular_hours()`` takes the rows by a
boolean mask — a second, anonymous copy of every array (~330 bytes per MBP-10 record; a 100 M-record day could not
be searched in 24 GB). :func:`sorlib.search.executors.session_rows` keeps the same rows as views (or the data
themselves when nothing is outside the session). Checked here: equal rows to ``regular_hours()`` (the reference)
on hand-made edge cases, the search's book arrays still mapped from the cache file (fails on a copy), and equal
search results with either.
"""

from __future__ import annotations

import mmap

import numpy as np
import pandas as pd
import pytest

from sorlib.backtest import BacktestConfig
from sorlib.data.market import LoadReport, MarketData, Quotes, Trades
from sorlib.search import executors as ex
from sorlib.search import run as search_run
from sorlib.search import run_search
from sorlib.search.executors import DataSpec, session_rows, worker_books
from sorlib.synth import generate_market
from sorlib.synth.dbn import write_databento_dbn


def _ns(stamp: str) -> int:
    return pd.Timestamp(stamp, tz="America/New_York").value


def _md(stamps: list[str], trade_stamps: list[str] | None = None) -> MarketData:
    ts = np.array([_ns(s) for s in stamps], np.int64)
    n = ts.size
    px = 100 + np.arange(n, dtype=float)[:, None] / 100
    q = Quotes(ts, np.full(n, 2, np.int32), px - 0.01, np.full((n, 1), 100, np.int64), px + 0.01,
               np.arange(1, n + 1, dtype=np.int64)[:, None] * 100)
    tts = np.array([_ns(s) for s in (trade_stamps or [])], np.int64)
    m = tts.size
    t = Trades(tts, np.full(m, 2, np.int32), 100 + np.arange(m) / 10, np.arange(1, m + 1, dtype=np.int64),
               np.ones(m, np.int8))
    return MarketData(q, t, LoadReport(source="x", format="test"))


def _assert_same_rows(got: MarketData, want: MarketData) -> None:
    for name in ("ts", "venue", "bid_px", "bid_sz", "ask_px", "ask_sz"):
        np.testing.assert_array_equal(getattr(got.quotes, name), getattr(want.quotes, name), err_msg=name)
        assert getattr(got.quotes, name).dtype == getattr(want.quotes, name).dtype
    for name in ("ts", "venue", "price", "size", "side"):
        np.testing.assert_array_equal(getattr(got.trades, name), getattr(want.trades, name), err_msg=name)


def test_session_rows_edges_equal_regular_hours():
    """Open inclusive, close exclusive, to the nanosecond (counted by hand: 3 quotes and 2 prints in session);
    the rows kept are views of the data's arrays, not copies."""
    md = _md(["2024-03-15 09:29:59.999999999", "2024-03-15 09:30:00", "2024-03-15 12:00",
              "2024-03-15 15:59:59.999999999", "2024-03-15 16:00:00"],
             ["2024-03-15 08:00", "2024-03-15 09:30:00", "2024-03-15 15:59:59.999999999", "2024-03-15 17:00"])
    got, want = session_rows(md), md.regular_hours()
    assert len(got.quotes) == 3 and len(got.trades) == 2
    _assert_same_rows(got, want)
    assert np.shares_memory(got.quotes.ask_px, md.quotes.ask_px)
    assert np.shares_memory(got.trades.price, md.trades.price)


def test_session_rows_in_session_is_the_data_itself():
    md = _md(["2024-03-15 09:30", "2024-03-15 10:00", "2024-03-15 15:59"], ["2024-03-15 11:00"])
    assert session_rows(md) is md
    _assert_same_rows(session_rows(md), md.regular_hours())


@pytest.mark.parametrize("stamps, trades", [
    # one run across midnight (post-market of one day, session of the next): still one slice
    (["2024-03-14 19:00", "2024-03-15 03:00", "2024-03-15 10:00", "2024-03-15 11:00"], ["2024-03-15 10:30"]),
    # two sessions (two days in one file): the reference's copy
    (["2024-03-14 10:00", "2024-03-14 17:00", "2024-03-15 10:00"], ["2024-03-14 11:00", "2024-03-15 11:00"]),
    # across the DST change (Sunday 2024-03-10): sessions of Friday and Monday
    (["2024-03-08 15:00", "2024-03-09 12:00", "2024-03-10 12:00", "2024-03-11 09:45"], []),
    # nothing in session
    (["2024-03-15 08:00", "2024-03-15 17:00"], ["2024-03-15 08:30"]),
    # no prints
    (["2024-03-15 09:00", "2024-03-15 09:45"], []),
])
def test_session_rows_equal_regular_hours(stamps, trades):
    md = _md(stamps, trades)
    _assert_same_rows(session_rows(md), md.regular_hours())


def test_session_rows_unordered_rows_take_the_reference():
    md = _md(["2024-03-15 11:00", "2024-03-15 09:00", "2024-03-15 10:00"], ["2024-03-15 10:30"])
    _assert_same_rows(session_rows(md), md.regular_hours())


def _mapped(a: np.ndarray) -> bool:
    """``a`` is a view of a memory map (the day cache's), not anonymous memory of its own."""
    while isinstance(a, np.ndarray):
        if a.flags.owndata:
            return False
        a = a.base
    return isinstance(a.obj if isinstance(a, memoryview) else a, mmap.mmap)


@pytest.fixture(scope="module")
def day_file(tmp_path_factory):
    """An MBP-10 DBN day with 30 minutes of pre-market rows (09:00-10:00): the search's regular hours drop them."""
    md = generate_market(venues=3, seed=4, start="09:00", minutes=60)
    return str(write_databento_dbn(md, tmp_path_factory.mktemp("day") / "day.mbp-10.dbn.zst", levels=10))


@pytest.fixture
def cache_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SORLIB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(ex, "_CACHE", {})
    monkeypatch.setattr(search_run, "_INPUTS", {})


def _cfg(**kw) -> BacktestConfig:
    return BacktestConfig(order_size=3000, every_minutes=10.0, horizon_minutes=5.0, **kw)


@pytest.mark.parametrize("fee_regime", ["cap30", "cap10"])
def test_search_book_keeps_the_day_cache_mapped(day_file, cache_env, monkeypatch, fee_regime):
    """The search's book of a file day (regular hours applied: some rows were outside) holds the day cache's mapped
    arrays, as the backtest's does, and the replays use that book's arrays: no second resident copy. With the
    ask-key spill threshold patched to 0, the replay's ask key is file-backed too. The old code (``regular_hours()``
    copying every array) fails the first assertion."""
    import sorlib.engine.book as bk
    from sorlib.cli._common import load_data

    monkeypatch.setattr(bk, "KEY_SPILL_BYTES", 0)
    spec = DataSpec.files([day_file], regular_hours=True)
    book = worker_books(spec)[0]
    assert len(book.market.quotes) < len(load_data(day_file, regular_hours="off").quotes)  # pre-market dropped
    for name in ("ask_px", "ask_sz", "bid_px", "bid_sz", "trades_px", "trades_ts"):
        assert _mapped(getattr(book, name)), f"search book {name} is a resident copy"
    search_run._plan_day(spec.ref(), 0, search_run._cfg_dict(_cfg(fee_regime=fee_regime)))
    rbook, _ = search_run._replay_inputs(spec, 0, _cfg(fee_regime=fee_regime))
    assert (rbook is book) == (rbook.profiles == book.profiles)  # cap30 leaves these venues' fees, cap10 cuts them
    for name in ("ask_px", "ask_sz", "bid_px", "bid_sz", "row", "times"):
        assert np.shares_memory(getattr(rbook, name), getattr(book, name)), name
    assert rbook.two_sided is book.two_sided  # derived arrays computed for the plan are not built twice
    assert _mapped(rbook.ask_key)  # spilled to its unlinked file (threshold 0)


def test_search_results_equal_with_copied_regular_hours(day_file, cache_env, monkeypatch, tmp_path):
    """The same search with the rows taken by ``regular_hours()`` (copies) gives the same table and summary."""
    grid = {"lambda_over": [0.0, 0.05], "lambda_under": [0.0], "theta_queue": [0.0]}

    def search():
        ex._CACHE.clear()
        search_run._INPUTS.clear()
        return run_search([day_file], grid=grid, config=_cfg(), scheduler="serial", progress=False,
                          chunk_orders=2, regular_hours=True)

    views = search()
    monkeypatch.setattr(ex, "session_rows", lambda md: md.regular_hours())
    copies = search()
    assert views.stats["parent_orders"] >= 3
    pd.testing.assert_frame_equal(views.table, copies.table, check_exact=True)
    a, b = ({**r.summary, "stats": {k: v for k, v in r.stats.items() if k != "wall_seconds"}}
            for r in (views, copies))
    assert a == b
