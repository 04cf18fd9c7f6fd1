"""``Book.from_market``'s compiled path for time-ordered quotes (no whole-day copies: the snapshot rule as a mask
and the index filled straight from the loaded — possibly memory-mapped — arrays) against independent
references: :func:`~sorlib.data.snapshots.snapshot_index` (a lexsort) for the kept rows, and a brute-force
Python loop for ``Book.row`` (at every distinct time, each venue's latest kept row at or before it)."""

from __future__ import annotations

import numpy as np
import pytest

from sorlib.data.market import LoadReport, MarketData, Quotes, Trades
from sorlib.data.snapshots import snapshot_index
from sorlib.engine.book import Book
from sorlib.errors import DataError


def _market(seed: int, n: int = 400, venues=(2, 9, 300)) -> MarketData:
    """Time-ordered quotes with many ties (several rows of one venue at one time), one-sided rows and trades."""
    rng = np.random.default_rng(seed)
    ts = np.sort(rng.integers(0, n // 4, n)).astype(np.int64) * 1000 + 1_710_509_400_000_000_000
    venue = rng.choice(np.array(venues, np.int32), n)
    mid = 100 + np.cumsum(rng.normal(0, 0.01, n))
    bid = np.round(mid - 0.01, 2)[:, None]
    ask = np.round(mid + 0.01, 2)[:, None]
    bid[rng.random(n) < 0.1] = np.nan
    sz = rng.integers(1, 9, (n, 1)) * 100
    q = Quotes(ts, venue, bid, np.where(np.isnan(bid), 0, sz), ask, sz.copy())
    k = np.sort(rng.choice(n, 30, replace=False))
    t = Trades(ts[k], venue[k], ask[k, 0], np.full(30, 100, np.int64), rng.choice(np.array([-1, 0, 1], np.int8), 30))
    return MarketData(q, t, LoadReport(source="x", format="test"))


def _brute_row(q: Quotes, kept: np.ndarray, times: np.ndarray, venues: np.ndarray) -> np.ndarray:
    out = np.full((len(times), len(venues)), -1, np.int64)
    for j, t in enumerate(times):
        for c, v in enumerate(venues):
            rows = [i for i in kept if q.ts[i] <= t and q.venue[i] == v]
            out[j, c] = rows[-1] if rows else -1
    return out


@pytest.mark.parametrize("keep", ["first", "last"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compiled_index_equals_references(seed, keep):
    md = _market(seed)
    b = Book.from_market(md, keep=keep)
    want_kept = snapshot_index(md.quotes, keep)
    assert len(want_kept) < len(md.quotes)  # ties: the rule drops rows
    np.testing.assert_array_equal(b.kept_rows, want_kept)
    np.testing.assert_array_equal(b.venues, [2, 9, 300])
    np.testing.assert_array_equal(b.times, np.unique(md.quotes.ts))
    np.testing.assert_array_equal(b.row, _brute_row(md.quotes, want_kept, b.times, b.venues))
    assert b.row.dtype == np.int32


@pytest.mark.parametrize("keep", ["first", "last"])
def test_compiled_path_equals_general_path(keep, monkeypatch):
    """The general path (lexsort snapshot rule, copied kept rows, per-venue searches; taken when rows are not
    time-ordered) gives the same book, unknown trade sides (inferred against the kept rows) included."""
    import sorlib.engine.book as bk

    md = _market(5)
    assert (md.trades.side == 0).any()
    fast = Book.from_market(md, keep=keep)
    monkeypatch.setattr(bk, "_sorted", lambda a: False)
    slow = Book.from_market(md, keep=keep)
    for name in ("times", "venues", "row", "kept_rows", "trades_side", "trades_ts"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)
    assert (fast.trades_side != 0).sum() > (md.trades.side != 0).sum()  # some sides were inferred


def test_every_row_kept_shares_the_arrays():
    """Distinct (time, venue) rows: every row kept (``kept_rows`` None), the book's quote arrays are the loaded
    ones (no copy) and ``row`` is the brute-force index."""
    md = _market(3, n=60)
    q = md.quotes
    _, first = np.unique(np.stack([q.ts, q.venue]), axis=1, return_index=True)
    q = q.take(np.sort(first))
    md = MarketData(q, md.trades, md.report)
    b = Book.from_market(md)
    assert b.kept_rows is None and b.ask_px is q.ask_px
    np.testing.assert_array_equal(b.row, _brute_row(q, np.arange(len(q)), b.times, b.venues))


def test_one_sided_day_still_refused():
    md = _market(4)
    q = md.quotes
    one = Quotes(q.ts, q.venue, np.full_like(q.bid_px, np.nan), np.zeros_like(q.bid_sz), q.ask_px, q.ask_sz)
    with pytest.raises(DataError, match="no two-sided quote"):
        Book.from_market(MarketData(one, md.trades, md.report))


def test_big_ask_key_is_file_backed_and_equal(monkeypatch):
    """Beyond ``KEY_SPILL_BYTES`` ``Book.ask_key`` lives in a mapped, unlinked temporary file (not anonymous
    memory): the same keys as :func:`price_key` of the shown levels (size > 0, finite price; else int64 min),
    and a backtest on it gives the identical results document."""
    import json
    import mmap

    import sorlib.engine.book as bk
    from sorlib.backtest import BacktestConfig, run_backtest
    from sorlib.synth import generate_market

    md = generate_market(venues=3, seed=11, minutes=30)
    cfg = BacktestConfig(order_size=3000, every_minutes=5.0, horizon_minutes=3.0)
    plain = Book.from_market(md)
    want = np.where((md.quotes.ask_sz > 0) & np.isfinite(md.quotes.ask_px), bk.price_key(md.quotes.ask_px),
                    np.iinfo(np.int64).min)
    assert isinstance(plain.ask_key.base, np.ndarray) or plain.ask_key.base is None
    monkeypatch.setattr(bk, "KEY_SPILL_BYTES", 0)
    spilled = Book.from_market(md)
    key = spilled.ask_key
    base = key
    while getattr(base, "base", None) is not None:
        base = base.base
    assert isinstance(base, mmap.mmap)
    np.testing.assert_array_equal(key, want)
    np.testing.assert_array_equal(plain.ask_key, want)
    doc = [json.dumps(run_backtest(b, cfg, progress=False).results, sort_keys=True, default=str)  # NaN == NaN
           for b in (spilled, plain)]
    assert doc[0] == doc[1]
