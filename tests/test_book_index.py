"""The compact replay Book: its snapshot index points at the loaded quote rows (no copy of the quotes), its keys,
mids and touch flags come from compiled passes; every expected value below is worked out by hand."""

from __future__ import annotations

import numpy as np

from sorlib.data.market import LoadReport, MarketData, Quotes, Trades
from sorlib.engine import Book

S = 1_000_000_000


def _md(rows, trades=()):
    """rows: (t_seconds, venue, bid, bid_sz, ask, ask_sz), kept in the given (time) order."""
    q = Quotes(np.array([int(r[0] * S) for r in rows], np.int64), np.array([r[1] for r in rows], np.int32),
               np.array([[r[2]] for r in rows], float), np.array([[r[3]] for r in rows], np.int64),
               np.array([[r[4]] for r in rows], float), np.array([[r[5]] for r in rows], np.int64))
    t = Trades(np.array([int(r[0] * S) for r in trades], np.int64), np.array([r[1] for r in trades], np.int32),
               np.array([r[2] for r in trades], float), np.array([r[3] for r in trades], np.int64),
               np.array([r[4] for r in trades], np.int8)) if trades else Trades.empty()
    return MarketData(q, t, LoadReport("test", "test"))


ROWS = [  # loaded row: (t, venue, bid, bid size, ask, ask size)
    (0, 1, 9.98, 100, 10.02, 200),    # 0
    (0, 1, 9.99, 100, 10.01, 300),    # 1  same time and venue: keep="last" keeps this one, drops row 0
    (1, 2, 9.97, 50, 10.00, 100),     # 2
    (2, 1, 9.99, 100, np.nan, 0),     # 3  venue 1's ask side empties
    (3, 2, 9.96, 50, 10.03, 100),     # 4
]


def test_index_points_at_the_loaded_rows_and_record_ids_are_their_ranks():
    """Snapshots at t = 0, 1, 2, 3 s. keep="last" keeps rows 1, 2, 3, 4 (row 0 is replaced at the same time), so
    venue 1 (column 0) is at row 1, 1, 3, 3 and venue 2 (column 1) at -1, 2, 2, 4 — indices of the loaded rows. The
    kept rows' ranks (the record numbers of the snapshot-rule quotes) are row − 1."""
    book = Book.from_market(_md(ROWS))
    assert book.times.tolist() == [0, S, 2 * S, 3 * S]
    assert book.row.tolist() == [[1, -1], [1, 2], [3, 2], [3, 4]]
    assert book.row.dtype == np.int32
    assert book.ask_px is not None and book.ask_px.shape[0] == 5  # the loaded arrays, not a copy of kept rows
    assert book.kept_rows.tolist() == [1, 2, 3, 4]
    assert book.record_ids(np.array([1, -1, 4])).tolist() == [0, -1, 3]
    first = Book.from_market(_md(ROWS), keep="first")  # keeps row 0 instead of row 1
    assert first.row.tolist() == [[0, -1], [0, 2], [3, 2], [3, 4]]


def test_ask_keys_mids_and_touch_flags():
    """ask_key: round(ask · 1e8) where the level shows shares, the int64 minimum elsewhere (row 3: no ask).
    Mids: t=0 only venue 1 (9.99/10.01) → 10.00; t=1 best bid 9.99, best ask 10.00 → 9.995; t=2 venue 1 has no
    ask, venue 2 asks 10.00, best bid 9.99 → 9.995; t=3 venue 2 asks 10.03, best bid 9.99 → 10.01.
    Every snapshot shows some ask, so last_ask_index is 0, 1, 2, 3."""
    book = Book.from_market(_md(ROWS))
    none = np.iinfo(np.int64).min
    assert book.ask_key[:, 0].tolist() == [1_002_000_000, 1_001_000_000, 1_000_000_000, none, 1_003_000_000]
    assert book.ask_shown is book.ask_sz  # no size without a price: the loaded sizes are used as they are
    mids = book.tape.nbbo_mids()
    np.testing.assert_allclose(mids, [10.00, 9.995, 9.995, 10.01], rtol=0, atol=1e-12)
    assert book.two_sided.tolist() == [True, True, True, True]
    assert book.last_ask_index.tolist() == [0, 1, 2, 3]
    assert book.full_from == 1  # venue 2 first quotes at t = 1


def test_a_size_without_a_price_is_not_shown():
    """A level with size 500 but no price (a malformed row) shows 0 shares: ask_shown is then its own array."""
    rows = [(0, 1, 9.99, 100, 10.01, 300), (1, 1, 9.99, 100, np.nan, 500)]
    book = Book.from_market(_md(rows))
    assert book.ask_shown is not book.ask_sz
    assert book.ask_shown[:, 0].tolist() == [300, 0]
