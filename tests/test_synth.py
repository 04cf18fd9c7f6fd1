"""The synthetic multi-venue market: invariants, calibration, the MBP-1 writer, the cache and the CLI."""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sorlib.cli import main
from sorlib.data.market import LoadReport, MarketData, Quotes, Trades
from sorlib.errors import ConfigError
from sorlib.synth import VENUE_ORDER, ModelParams, default_market, generate_market, write_databento_mbp1_csv
from sorlib.synth.writer import HEADER, UNDEF_PRICE, build_mbp1_table

HOUR_NS = 3600 * 10**9


@pytest.fixture(scope="module")
def day() -> MarketData:
    return generate_market(venues=5, seed=0)


@pytest.fixture(scope="module")
def short() -> MarketData:
    return generate_market(venues=5, seed=3, minutes=20)


def _arrays(md: MarketData) -> list[np.ndarray]:
    q, t = md.quotes, md.trades
    return [q.ts, q.venue, q.bid_px, q.bid_sz, q.ask_px, q.ask_sz, t.ts, t.venue, t.price, t.size, t.side]


def _same(a: MarketData, b: MarketData, exact: bool = True) -> None:
    for x, y in zip(_arrays(a), _arrays(b), strict=True):
        assert x.shape == y.shape and x.dtype == y.dtype
        if x.dtype.kind == "f" and not exact:
            np.testing.assert_allclose(x, y, rtol=1e-15, atol=0)
        else:
            np.testing.assert_array_equal(x, y)


def _check_book(md: MarketData) -> None:
    q = md.quotes
    for px in (q.bid_px, q.ask_px, md.trades.price):
        v = px[~np.isnan(px)] * 100
        np.testing.assert_allclose(v, np.round(v), rtol=0, atol=1e-6)
    both = ~np.isnan(q.bid_px[:, 0]) & ~np.isnan(q.ask_px[:, 0])
    assert (q.ask_px[both, 0] > q.bid_px[both, 0] + 0.005).all(), "crossed or locked venue book"
    for sz, px in ((q.bid_sz, q.bid_px), (q.ask_sz, q.ask_px)):
        assert sz.dtype == np.int64 and (sz >= 0).all()
        assert (sz[np.isnan(px)] == 0).all() and (sz[~np.isnan(px)] > 0).all()
    assert (np.diff(q.ts) >= 0).all() and (np.diff(md.trades.ts) >= 0).all()


# ----------------------------------------------------------------------------------------- the model
def test_deterministic_per_seed():
    a = generate_market(venues=3, seed=11, minutes=15)
    b = generate_market(venues=3, seed=11, minutes=15)
    _same(a, b)
    c = generate_market(venues=3, seed=12, minutes=15)
    assert len(c.quotes) != len(a.quotes) or not np.array_equal(c.quotes.bid_sz, a.quotes.bid_sz)


def test_book_invariants(day):
    _check_book(day)
    assert day.quotes.levels == 1
    assert (day.quotes.bid_sz % 100 == 0).all() and (day.trades.size % 100 == 0).all()
    assert (day.trades.size > 0).all() and set(np.unique(day.trades.side)) == {-1, 1}


def test_publishers_and_span(day):
    assert list(day.venues) == sorted(VENUE_ORDER[:5])
    assert set(np.unique(day.trades.venue)) == set(VENUE_ORDER[:5])
    assert day.venue_name(2) == "XNAS"
    start = pd.Timestamp("2024-03-15 09:30", tz="America/New_York").value
    assert day.quotes.ts[0] == start and day.quotes.ts[-1] < start + int(6.5 * HOUR_NS)
    assert day.quotes.ts[-1] > start + int(6.4 * HOUR_NS)
    assert len(day.regular_hours().quotes) == len(day.quotes)


def test_trades_at_the_touch(day):
    q, t = day.quotes, day.trades
    for v in day.venues:
        qi = np.flatnonzero(q.venue == v)
        tv = t.venue == v
        j = np.searchsorted(q.ts[qi], t.ts[tv], side="left") - 1  # the book just before the trade
        assert (j >= 0).all()
        rows = qi[j]
        buy = t.side[tv] > 0
        np.testing.assert_array_equal(t.price[tv][buy], q.ask_px[rows[buy], 0])
        np.testing.assert_array_equal(t.price[tv][~buy], q.bid_px[rows[~buy], 0])
        # a trade never takes more than the touch displayed
        shown = np.where(buy, q.ask_sz[rows, 0], q.bid_sz[rows, 0])
        assert (t.size[tv] <= shown).all()


def _bid_outflows(md: MarketData, venue: int, window_s: float) -> np.ndarray:
    """Best-bid queue outflow per window: size decreases at an unchanged bid + the size of removed levels."""
    q = md.quotes
    m = np.flatnonzero(q.venue == venue)
    bp, bs, ts = q.bid_px[m, 0], q.bid_sz[m, 0], q.ts[m]
    dec = np.zeros(len(m))
    same = bp[1:] == bp[:-1]
    dec[1:] = np.where(same, np.maximum(bs[:-1] - bs[1:], 0), np.where(bp[1:] < bp[:-1], bs[:-1], 0))
    w = (ts - ts[0]) // int(window_s * 1e9)
    return np.bincount(w, weights=dec)


def test_queue_outflows_plausible(day):
    for v in VENUE_ORDER[:5]:
        xi = _bid_outflows(day, v, 10.0)
        assert xi.mean() > 0 and np.median(xi) > 0
        assert np.percentile(xi, 99) > 2.5 * np.median(xi)  # heavy-ish right tail
        assert pd.Series(xi).skew() > 0.3
        assert (xi % 100 == 0).all()
    # the busiest venue has the largest flow
    assert _bid_outflows(day, 2, 10.0).mean() > _bid_outflows(day, VENUE_ORDER[4], 10.0).mean()


def test_calibration_orders_of_magnitude(day):
    q, t = day.quotes, day.trades
    assert 100_000 <= len(q) <= 300_000
    assert 15_000 <= len(t) <= 40_000
    qs = pd.Series(q.venue).value_counts(normalize=True)
    ts = pd.Series(t.venue).value_counts(normalize=True)
    for shares in (qs, ts):
        assert shares.index[0] == VENUE_ORDER[0]  # XNAS, the primary, leads
        assert 0.30 <= shares.iloc[0] <= 0.60 and shares.iloc[-1] < 0.2
    # displayed sizes: a few hundred shares per venue, mostly round lots; trades mostly 100 shares
    med = [np.median(q.bid_sz[q.venue == v, 0]) for v in VENUE_ORDER[:5]]
    assert all(100 <= m <= 2000 for m in med) and med[0] == max(med)
    assert np.median(t.size) == 100 and np.percentile(t.size, 99) >= 300
    # venue spreads mostly 1-2 ticks; NBBO mostly 1 tick
    spread = np.round((q.ask_px[:, 0] - q.bid_px[:, 0]) * 100)
    spread = spread[~np.isnan(spread)]
    assert np.median(spread) == 1 and np.mean(spread <= 2) > 0.95
    grid = q.ts[0] + np.arange(60, 23_340) * 10**9
    bb, aa = [], []
    for v in day.venues:
        m = q.venue == v
        i = np.searchsorted(q.ts[m], grid, side="right") - 1
        bb.append(q.bid_px[m, 0][i])
        aa.append(q.ask_px[m, 0][i])
    nbbo = np.round((np.min(aa, 0) - np.max(bb, 0)) * 100)
    assert (nbbo >= 1).all() and np.mean(nbbo == 1) > 0.8
    mid = (np.min(aa, 0) + np.max(bb, 0)) / 2
    vol = np.diff(np.log(mid[::60])).std() * np.sqrt(390)
    assert 0.003 < vol < 0.03 and 40 < mid.min() and mid.max() < 90


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), venues=st.integers(1, 8), minutes=st.floats(0.5, 8.0),
       start=st.sampled_from(["04:00", "09:30", "12:15", "15:55"]))
def test_any_seed_gives_a_clean_book(seed, venues, minutes, start):
    md = generate_market(venues=venues, seed=seed, minutes=minutes, start=start)
    _check_book(md)
    assert set(md.venues) <= set(VENUE_ORDER[:venues]) and len(np.unique(md.quotes.venue)) == venues


def test_busy_day_grows_its_buffers():
    """A volatile day overflows the first buffer estimate; the rerun is complete and still deterministic."""
    params = ModelParams(daily_vol=0.15)
    a = generate_market(venues=5, seed=1, minutes=10, params=params)
    _check_book(a)
    _same(a, generate_market(venues=5, seed=1, minutes=10, params=params))
    assert len(a.quotes) > 2 * len(generate_market(venues=5, seed=1, minutes=10).quotes)


@pytest.mark.parametrize("kw, msg", [
    (dict(venues=0), "venues"), (dict(venues=9), "venues"), (dict(start="9h30"), "HH:MM"),
    (dict(start="24:00"), "HH:MM"), (dict(minutes=0), "minutes"), (dict(date="15/03/2024x"), "date"),
    (dict(seed=-1), "seed"),
])
def test_bad_options(kw, msg):
    with pytest.raises(ConfigError, match=msg):
        generate_market(**kw)


# ----------------------------------------------------------------------------------------- the writer
def test_csv_pretty_with_pandas(short, tmp_path):
    path = write_databento_mbp1_csv(short, tmp_path / "d.csv")
    df = pd.read_csv(path, dtype={"ts_recv": str, "ts_event": str})
    assert list(df.columns) == HEADER and len(df) == len(short.quotes)
    assert df.ts_event.str.fullmatch(r"2024-03-15T\d\d:\d\d:\d\d\.\d{9}Z").all()
    ts = pd.to_datetime(df.ts_event).astype("int64").to_numpy()
    np.testing.assert_array_equal(ts, short.quotes.ts)
    assert (pd.to_datetime(df.ts_recv) > pd.to_datetime(df.ts_event)).all()
    assert set(df.rtype) == {1} and set(df.depth) == {0} and set(df.action) <= set("ACMT")
    assert set(df.side) <= set("ABN")
    np.testing.assert_array_equal(df.bid_px_00.to_numpy(), short.quotes.bid_px[:, 0])
    np.testing.assert_array_equal(df.ask_sz_00.to_numpy(), short.quotes.ask_sz[:, 0])
    tr = df[df.action == "T"]
    assert len(tr) == len(short.trades)
    np.testing.assert_array_equal(tr.price.to_numpy(), short.trades.price)
    np.testing.assert_array_equal(np.where(tr.side == "B", 1, -1), short.trades.side)
    # buyer-initiated trades print at the ask shown on their record, seller-initiated at the bid
    np.testing.assert_array_equal(np.where(tr.side == "B", tr.ask_px_00, tr.bid_px_00), tr.price)
    # sequence: a per-venue counter
    assert (df.groupby("publisher_id").sequence.diff().dropna() == 1).all()
    # empty ask on each venue's opening bid row
    assert df.ask_px_00.isna().sum() == 5 and (df.ask_sz_00[df.ask_px_00.isna()] == 0).all()


def test_csv_raw_with_pandas(short, tmp_path):
    path = write_databento_mbp1_csv(short, tmp_path / "d.csv", pretty=False)
    df = pd.read_csv(path)
    assert df.ts_event.dtype == np.int64 and df.bid_px_00.dtype == np.int64
    np.testing.assert_array_equal(df.ts_event.to_numpy(), short.quotes.ts)
    empty = np.isnan(short.quotes.ask_px[:, 0])
    assert (df.ask_px_00.to_numpy()[empty] == UNDEF_PRICE).all()
    np.testing.assert_array_equal(df.ask_px_00.to_numpy()[~empty],
                                  np.round(short.quotes.ask_px[~empty, 0] * 1e9).astype(np.int64))


def test_writer_actions_from_book_changes():
    """A/C/M/T are derived from each venue's successive books; a trade without a book row gets its own."""
    ts = np.array([1000, 2000, 3000, 4000, 5000, 5800, 6000], np.int64)
    q = Quotes(ts, np.full(7, 2, np.int32),
               np.array([[10.0], [10.0], [10.0], [10.01], [10.0], [10.0], [10.0]]),
               np.array([[100], [100], [300], [100], [500], [400], [300]], np.int64),
               np.array([[np.nan], [10.02], [10.02], [10.02], [10.02], [10.02], [10.03]]),
               np.array([[0], [100], [100], [100], [100], [100], [200]], np.int64))
    t = Trades(np.array([5500], np.int64), np.array([2], np.int32), np.array([10.0]),
               np.array([100], np.int64), np.array([-1], np.int8))
    md = MarketData(q, t, LoadReport("test", "test"), symbol="X")
    tab = build_mbp1_table(md, pretty=True).to_pandas()
    assert list(tab.action) == ["A", "A", "A", "A", "C", "T", "C", "M"]
    assert list(tab.side) == ["B", "A", "B", "B", "B", "A", "B", "B"]
    assert list(tab["size"]) == [100, 100, 200, 100, 100, 100, 100, 300]
    assert list(tab.price) == ["10.000000000", "10.020000000", "10.000000000", "10.010000000",
                               "10.010000000", "10.000000000", "10.000000000", "10.000000000"]
    assert tab.bid_sz_00.iloc[5] == 500  # the lone trade carries the book before it


def test_write_is_fast_and_atomic(day, tmp_path):
    path = tmp_path / "day.csv"
    t0 = time.perf_counter()
    write_databento_mbp1_csv(day, path)
    assert time.perf_counter() - t0 < 10
    assert [p.name for p in tmp_path.iterdir()] == ["day.csv"]


def _reader():
    try:
        from sorlib.data import load
    except ImportError:  # pragma: no cover - the reader lives in another module
        pytest.skip("sorlib.data.load not available")
    return load


@pytest.mark.parametrize("raw", [False, True])
def test_round_trip_through_the_databento_reader(raw, tmp_path):
    read = _reader()
    out = tmp_path / "synth.csv"
    argv = ["synth", "--venues", "5", "--seed", "4", "--minutes", "30", "--out", str(out)]
    assert main(argv + (["--raw"] if raw else [])) == 0
    back = read(out)
    md = generate_market(venues=5, seed=4, minutes=30)
    assert len(back.venues) >= 5 and back.report.repairs == {}
    # fixed-point prices: the reader divides by 1/1e-9 (= 999999999.9999999), 1 ulp off; pretty is exact
    _same(md, back, exact=not raw)


def test_round_trip_lone_trades(short, tmp_path):
    """MarketData whose quotes lack the trades' book rows still round-trips its trades."""
    read = _reader()
    q = short.quotes
    dup = np.zeros(len(q), bool)
    same_v = q.venue[1:] == q.venue[:-1]
    for v in np.unique(q.venue):
        m = np.flatnonzero(q.venue == v)
        a, b = m[1:], m[:-1]
        dup[a] = ((q.bid_px[a, 0] == q.bid_px[b, 0]) & (q.bid_sz[a, 0] == q.bid_sz[b, 0])
                  & (q.ask_px[a, 0] == q.ask_px[b, 0]) & (q.ask_sz[a, 0] == q.ask_sz[b, 0]))
    assert same_v.any() and dup.sum() == len(short.trades)
    md = MarketData(q.take(~dup), short.trades, short.report, symbol="SYNT")
    path = write_databento_mbp1_csv(md, tmp_path / "lone.csv")
    back = read(path)
    for a in ("ts", "venue", "price", "size", "side"):
        np.testing.assert_array_equal(getattr(back.trades, a), getattr(md.trades, a))
    assert len(back.quotes) == len(q)  # each lone T record is also a book row, as in Databento


# ----------------------------------------------------------------------------------------- cache, CLI
def test_default_market_cache(tmp_path, monkeypatch):
    t0 = time.perf_counter()
    a = default_market(seed=1, venues=4, cache_dir=tmp_path, minutes=120)
    t_gen = time.perf_counter() - t0
    files = list(tmp_path.glob("synth-*.npz"))
    assert len(files) == 1
    t0 = time.perf_counter()
    b = default_market(seed=1, venues=4, cache_dir=tmp_path, minutes=120)
    t_read = time.perf_counter() - t0
    _same(a, b)
    assert any("cache" in n for n in b.report.notes) and b.venue_names == a.venue_names
    assert t_read < max(t_gen, 0.05)
    # another key -> another file; the env var picks the directory
    monkeypatch.setenv("SORLIB_CACHE", str(tmp_path / "env"))
    default_market(seed=2, venues=4, minutes=5)
    assert len(list((tmp_path / "env").glob("synth-*.npz"))) == 1
    # a damaged cache file is regenerated
    files[0].write_bytes(b"not a zip")
    c = default_market(seed=1, venues=4, cache_dir=tmp_path, minutes=120)
    _same(a, c)


def test_cli_synth(tmp_path, capsys):
    out = tmp_path / "sub" / "x.csv"
    assert main(["synth", "--venues", "3", "--seed", "2", "--start", "10:00", "--minutes", "10",
                 "--out", str(out)]) == 0
    line = capsys.readouterr().out.strip().splitlines()[0]  # then the per-venue table (sorlib.cli._tables)
    assert "3 venue(s)" in line and str(out) in line and "10:00:00" in line
    df = pd.read_csv(out)
    assert sorted(df.publisher_id.unique()) == sorted(VENUE_ORDER[:3])
    assert main(["synth", "--minutes", "5", "--out", str(out), "--raw"]) == 0
    assert pd.read_csv(out).ts_event.dtype == np.int64


@pytest.mark.parametrize("args, msg", [
    (["--venues", "9"], "--venues must be between 1 and 8"),
    (["--venues", "0"], "--venues must be between 1 and 8"),
    (["--start", "25:00"], "HH:MM"),
    (["--start", "930"], "HH:MM"),
    (["--minutes", "-5"], "--minutes"),
    (["--seed", "-1"], "--seed"),
    (["--out", "x.parquet"], ".csv"),
])
def test_cli_synth_errors(args, msg, tmp_path, capsys):
    argv = ["synth", "--minutes", "1", "--out", str(tmp_path / "e.csv"), *args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("sorlib synth: error:") and msg in err
    assert not os.path.exists(tmp_path / "e.csv")
