"""LOBSTER reader: a hand-built message + order-book pair with hand-derived outcomes, located errors, and the
real samples (``SORLIB_REAL_DATA``) checked against an independent message-driven reconstruction."""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sorlib.data import load, load_with_orders, read_lobster_with_orders
from sorlib.data import order_events as oe
from sorlib.data.load import detect_format
from sorlib.data.lobster import LOBSTER_VENUE
from sorlib.errors import DataError

STEM = "TEST_2012-06-21_34200000_57600000"

# Hand-built level-2 day. Before the first message the book is: asks 100.02 x 100 (order 5, resting from
# before the file), 100.03 x 200; best bid 100.00 x 300. Each message and the book row after it:
MESSAGES = [
    "34200.000000001,1,11,50,1000100,1",    # 1 add buy 50 @ 100.01: new best bid (level was empty: 0)
    "34200.5,4,11,20,1000100,1",             # 2 visible exec 20 of buy order 11: a SELL aggressor print
    "34201,2,5,40,1000200,-1",               # 3 partial cancel 40 of ask order 5 (rests from before the file)
    "34201.25,5,0,10,1000150,-1",            # 4 hidden exec of a sell order @ 100.015: a BUY aggressor print
    "34202,3,5,60,1000200,-1",               # 5 delete the rest (60) of order 5: level 100.02 gone
    "34203,1,12,100,999000,1",               # 6 add buy @ 99.90: beyond the two shown bid levels (unknown)
    "34204,7,0,0,-1,-1",                     # 7 trading halt
]
# ask1, ask1 size, bid1, bid1 size, ask2, ask2 size, bid2, bid2 size
BOOK = [
    "1000200,100,1000100,50,1000300,200,1000000,300",
    "1000200,100,1000100,30,1000300,200,1000000,300",
    "1000200,60,1000100,30,1000300,200,1000000,300",
    "1000200,60,1000100,30,1000300,200,1000000,300",
    "1000300,200,1000100,30,1000500,500,1000000,300",  # a deeper ask level (100.05) comes into view
    "1000300,200,1000100,30,1000500,500,1000000,300",
    "1000300,200,1000100,30,1000500,500,1000000,300",
]


def _zip(tmp: Path, messages=MESSAGES, book=BOOK, levels: int = 2, name: str = "sample.zip") -> Path:
    p = tmp / name
    with zipfile.ZipFile(p, "w") as z:
        z.writestr(f"{STEM}_message_{levels}.csv", "\n".join(messages) + "\n")
        z.writestr(f"{STEM}_orderbook_{levels}.csv", "\n".join(book) + "\n")
        z.writestr("LOBSTER_SampleFiles_ReadMe.txt", "readme")
    return p


def test_hand_built_pair(tmp_path):
    """Every field derived by hand from the comments above.

    level_before: row 1 is the first row (book after it 50 at 100.01 minus its own +50 = 0); later rows read
    the previous book row: 50 (row 2), 100 at ask 100.02 (row 3), 0 at 100.015 (inside the shown asks,
    unoccupied, row 4), 60 (row 5), −1 for 99.90 (below both shown bids of a full side, row 6), −1 for the
    halt. Prints: row 2 a sell aggressor (−1) @ 100.01 x 20, row 4 a buy aggressor (+1) @ 100.015 x 10.
    Time: 34200 s after New York midnight on 2012-06-21 (EDT, UTC−4) is 13:30:00 UTC.
    """
    md, ev = read_lobster_with_orders(_zip(tmp_path))
    assert len(ev) == 7 and len(md.quotes) == 7 and md.symbol == "TEST"
    t0 = pd.Timestamp("2012-06-21T13:30:00Z").value
    assert ev.ts.tolist() == [t0 + 1, t0 + 500_000_000, t0 + 10**9, t0 + 1_250_000_000, t0 + 2 * 10**9,
                              t0 + 3 * 10**9, t0 + 4 * 10**9]
    assert (ev.venue == LOBSTER_VENUE).all() and LOBSTER_VENUE == 2
    assert ev.action.tolist() == [oe.ADD, oe.EXEC, oe.CANCEL, oe.EXEC_HIDDEN, oe.DELETE, oe.ADD, oe.OTHER]
    assert ev.side.tolist() == [1, 1, -1, -1, -1, 1, 0]
    assert ev.order_id.tolist() == [11, 11, 5, 0, 5, 12, 0]
    assert ev.size.tolist() == [50, 20, 40, 10, 60, 100, 0]
    assert ev.price[:6].tolist() == [100.01, 100.01, 100.02, 100.015, 100.02, 99.9] and np.isnan(ev.price[6])
    assert ev.level_before.tolist() == [0, 50, 100, 0, 60, -1, -1]
    assert ev.best_bid.tolist() == [100.01] * 7
    assert ev.best_ask.tolist() == [100.02] * 4 + [100.03] * 3
    t = md.trades
    assert t.price.tolist() == [100.01, 100.015] and t.size.tolist() == [20, 10] and t.side.tolist() == [-1, 1]
    assert t.ts.tolist() == [t0 + 500_000_000, t0 + 1_250_000_000]
    if getattr(t, "eligible", None) is not None:  # the hidden execution never reached the shown book
        assert t.eligible.tolist() == [True, False]
    q = md.quotes
    assert q.levels == 2 and q.ask_px[4].tolist() == [100.03, 100.05] and q.ask_sz[4].tolist() == [200, 500]
    assert q.bid_px[2].tolist() == [100.01, 100.0] and q.bid_sz[2].tolist() == [30, 300]
    assert ev.slice_time(t0 + 10**9, t0 + 2 * 10**9).order_id.tolist() == [5, 0]
    assert len(ev.slice_time(None, t0)) == 0 and len(ev.slice_time(t0, None)) == 7


def test_dummy_levels_are_empty_and_unknown_only_beyond_a_full_side(tmp_path):
    """One bid level shown of two (the second is the −9999999999 dummy): the side is not full, so a price
    below the only bid is known to be empty (level_before 0, not −1); the dummy ask 9999999999 is NaN/0."""
    msgs = ["36000,1,1,10,500000,1", "36001,1,2,5,490000,1"]
    book = ["510000,100,500000,10,9999999999,0,-9999999999,0",
            "510000,100,500000,10,9999999999,0,490000,5"]
    md, ev = read_lobster_with_orders(_zip(tmp_path, msgs, book))
    assert ev.level_before.tolist() == [0, 0]
    assert np.isnan(md.quotes.ask_px[:, 1]).all() and (md.quotes.ask_sz[:, 1] == 0).all()
    assert np.isnan(md.quotes.bid_px[0, 1]) and md.quotes.bid_px[1, 1] == 49.0


def test_cross_trade_and_crlf(tmp_path):
    """A type-6 cross trade is a print with unknown aggressor (0) and an OTHER event with no book level;
    Windows line ends read the same."""
    msgs = ["36000,1,1,10,500000,1", "36001,6,77,300,505000,-1"]
    book = ["510000,100,500000,10", "510000,100,500000,10"]
    p = tmp_path / "x.zip"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr(f"{STEM}_message_1.csv", "\r\n".join(msgs) + "\r\n")
        z.writestr(f"{STEM}_orderbook_1.csv", "\r\n".join(book) + "\r\n")
    md, ev = read_lobster_with_orders(p)
    assert ev.action.tolist() == [oe.ADD, oe.OTHER] and ev.level_before.tolist() == [0, -1]
    assert md.trades.price.tolist() == [50.5] and md.trades.size.tolist() == [300] and md.trades.side.tolist() == [0]


def test_csv_pair_auto_detect_and_load(tmp_path):
    """The message CSV alone is enough (its order-book sibling is found by name); ``load`` detects it."""
    (tmp_path / f"{STEM}_message_2.csv").write_text("\n".join(MESSAGES) + "\n")
    (tmp_path / f"{STEM}_orderbook_2.csv").write_text("\n".join(BOOK) + "\n")
    for p in (tmp_path / f"{STEM}_message_2.csv", tmp_path / f"{STEM}_orderbook_2.csv", _zip(tmp_path)):
        assert detect_format(p) == "lobster"
        md = load(p)
        assert md.report.format == "lobster/level-2" and len(md.quotes) == 7
        md2, ev = load_with_orders(p)
        assert ev.level_before.tolist() == [0, 50, 100, 0, 60, -1, -1]


@pytest.mark.parametrize("messages,book,match", [
    ([m.rsplit(",", 1)[0] for m in MESSAGES], BOOK, r"line 1: 5 field\(s\).*6 fields"),  # a missing column
    (MESSAGES[:2] + [MESSAGES[2] + ",7"] + MESSAGES[3:], BOOK, r"message_2.csv, line 3: malformed line"),
    (MESSAGES[:1] + ["34200.5,4,11,20,abc,1"] + MESSAGES[2:], BOOK, r"line 2, column 'price': unparsable value 'abc'"),
    (MESSAGES, BOOK[:-1], r"orderbook_2.csv, line 7: the order-book file has 6 rows but the message file 7"),
    (MESSAGES[:3] + ["34201.25,9,0,10,1000150,-1"] + MESSAGES[4:], BOOK, r"line 4, column 'type': event type 9"),
    (MESSAGES[:1] + ["34200.5,4,11,20,1000100,0"] + MESSAGES[2:], BOOK, r"line 2, column 'direction'"),
    (MESSAGES, BOOK[:4] + [BOOK[4] + ",1"] + BOOK[5:], r"orderbook_2.csv, line 5: malformed line"),
    (MESSAGES, [b.rsplit(",", 1)[0] for b in BOOK], r"orderbook_2.csv, line 1: 7 field\(s\)"),
    (MESSAGES, BOOK[:1] + ["1000200,-5,1000100,30,1000300,200,1000000,300"] + BOOK[2:],
     r"line 2, column 'ask_sz_1': ask size -5"),
])
def test_bad_input_is_one_located_line(tmp_path, messages, book, match):
    with pytest.raises(DataError, match=match) as e:
        read_lobster_with_orders(_zip(tmp_path, messages, book))
    assert "\n" not in str(e.value)


def test_symbol_and_date_must_match_the_file(tmp_path):
    """A LOBSTER file holds one ticker on one day: ``symbol``/``date`` naming others are refused."""
    p = _zip(tmp_path)
    assert load(p, symbol="test", date="2012-06-21").symbol == "TEST"
    with pytest.raises(DataError, match="--symbol AAPL: the file holds TEST only"):
        load(p, symbol="AAPL")
    with pytest.raises(DataError, match="--date 2012-06-22: the file holds 2012-06-21 only"):
        load(p, date="2012-06-22")


def test_zip_without_book_and_bad_names(tmp_path):
    p = tmp_path / "x.zip"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr(f"{STEM}_message_2.csv", "\n".join(MESSAGES))
    with pytest.raises(DataError, match="not its order-book file"):
        read_lobster_with_orders(p)
    (tmp_path / f"{STEM}_message_2.csv").write_text("\n".join(MESSAGES))
    with pytest.raises(DataError, match="order-book file .* is missing"):
        read_lobster_with_orders(tmp_path / f"{STEM}_message_2.csv")


# ------------------------------------------------------------------------------------------- real data
ROOT = Path(os.environ["SORLIB_REAL_DATA"]) if os.environ.get("SORLIB_REAL_DATA") else None
SAMPLES = ["AAPL_2012-06-21_1", "AMZN_2012-06-21_1", "GOOG_2012-06-21_1", "GOOG_2012-06-21_10"]
ROWS = {"AAPL_2012-06-21_1": 118_497, "AMZN_2012-06-21_1": 57_515, "GOOG_2012-06-21_1": 49_482,
        "GOOG_2012-06-21_10": 147_916}  # SOURCES.md
# share of rows whose whole shown book the message replay determines (measured: AAPL 74.6%, AMZN 75.7%,
# GOOG-1 77.4%, GOOG-10 100%; on a level-1 file the next level is unseen whenever the touch is used up)
CHECKED = {"AAPL_2012-06-21_1": 0.74, "AMZN_2012-06-21_1": 0.75, "GOOG_2012-06-21_1": 0.77,
           "GOOG_2012-06-21_10": 0.9999}


def _real(name: str) -> Path:
    if ROOT is None:
        pytest.skip("SORLIB_REAL_DATA is not set")
    return ROOT / "lobster_samples" / f"LOBSTER_SampleFile_{name}.zip"


def _replay(ev: oe.OrderEvents, book_bid: np.ndarray, book_bsz: np.ndarray, book_ask: np.ndarray,
            book_asz: np.ndarray) -> tuple[int, int, int]:
    """Independent reconstruction of the shown book from the messages (plain dicts, no reader internals).

    A level-L LOBSTER message file holds the events inside the top L levels only. So each side tracks the
    levels it can know (price → shares): seeded from the first book row with the first message undone,
    then every message changes its level by ±size (ADD +, CANCEL/DELETE/EXEC −, hidden executions 0).
    More than L tracked levels: the worst drop out of view (and out of the file). Fewer than L while the
    book row shows more: the deeper levels that came into view are *learned* from that row (the only use
    of the book file); a row where a side's touch itself had to be learned is not counted as checked.
    Every other row's whole shown book (all L levels, prices and sizes) must equal the book file's row.
    Returns (rows checked, rows disagreeing, rows with a learned touch).
    """
    n_lv = book_bid.shape[1]
    books = {1: (book_bid, book_bsz), -1: (book_ask, book_asz)}

    def shown(side: int, row: int) -> list[tuple[float, int]]:
        px, sz = books[side][0][row], books[side][1][row]
        return [(round(float(p), 4), int(q)) for p, q in zip(px, sz, strict=True) if np.isfinite(p)]

    def ordered(side: int, lv: dict) -> list[float]:
        return sorted(lv, reverse=side == 1)

    change = {oe.ADD: 1, oe.CANCEL: -1, oe.DELETE: -1, oe.EXEC: -1}
    lvs = {side: dict(shown(side, 0)) for side in (1, -1)}
    s0, p0 = int(ev.side[0]), round(float(ev.price[0]), 4)  # undo the first message on the seed
    lvs[s0][p0] = lvs[s0].get(p0, 0) - change.get(int(ev.action[0]), 0) * int(ev.size[0])
    lvs[s0] = {p: q for p, q in lvs[s0].items() if q > 0}
    checked = bad = learned_touch = 0
    for i in range(len(ev)):
        a, s = int(ev.action[i]), int(ev.side[i])
        if a in change:
            lv = lvs[s]
            p = round(float(ev.price[i]), 4)
            q = lv.get(p, 0) + change[a] * int(ev.size[i])
            assert q >= 0, f"row {i}: level {p} would hold {q} shares"
            if q:
                lv[p] = q
            else:
                lv.pop(p, None)
        independent = True
        for side in (1, -1):
            lv = lvs[side]
            for p in ordered(side, lv)[n_lv:]:  # pushed out of view: the file no longer reports it
                del lv[p]
            book = shown(side, i)
            if len(lv) < len(book):  # deeper levels came into view: learn them from this row
                if not lv:
                    independent = False
                worst = ordered(side, lv)[-1] if lv else None
                for p, q in book:
                    if worst is None or (p < worst if side == 1 else p > worst):
                        lv[p] = q
        if not independent:
            learned_touch += 1
            continue
        checked += 1
        mine = {side: [(p, lvs[side][p]) for p in ordered(side, lvs[side])] for side in (1, -1)}
        bad += mine[1] != shown(1, i) or mine[-1] != shown(-1, i)
    return checked, bad, learned_touch


@pytest.mark.real
@pytest.mark.slow
@pytest.mark.parametrize("name", SAMPLES)
def test_real_samples_load_and_agree_with_the_book_file(name):
    """Each sample loads (timed); the touch rebuilt from its messages agrees with the order-book file at
    every row it can determine, and the reader's ``level_before`` (previous book row) equals the size
    after the event read from the same row's book minus the event's own change (two routes, one answer)."""
    p = _real(name)
    t0 = time.perf_counter()
    md, ev = load_with_orders(p)
    elapsed = time.perf_counter() - t0
    print(f"{name}: {len(ev):,} messages loaded in {elapsed:.2f} s")
    assert len(ev) == ROWS[name] and len(md.quotes) == ROWS[name]
    assert elapsed < 10  # GOOG level 10 (148k messages, 34 MB book) takes ~1.5 s here
    assert (np.diff(ev.ts) >= 0).all()
    local = pd.DatetimeIndex(pd.to_datetime(ev.ts[[0, -1]], utc=True)).tz_convert("America/New_York")
    assert local[0] >= pd.Timestamp("2012-06-21 09:30", tz="America/New_York")
    assert local[-1] < pd.Timestamp("2012-06-21 16:00", tz="America/New_York")
    q = md.quotes
    np.testing.assert_array_equal(ev.best_bid, q.bid_px[:, 0])
    checked, bad, learned = _replay(ev, q.bid_px, q.bid_sz, q.ask_px, q.ask_sz)
    print(f"{name}: book rebuilt from messages checked at {checked:,} of {len(ev):,} rows "
          f"({checked / len(ev):.2%}), {bad} disagree, {learned} rows with the touch learned from the book")
    assert bad == 0
    assert checked / len(ev) > CHECKED[name]
    # level_before from the previous row == level after (this row) minus the event's change
    known = ev.level_before >= 0
    assert known.mean() > 0.99
    delta = np.select([ev.action == oe.ADD, np.isin(ev.action, (oe.CANCEL, oe.DELETE, oe.EXEC))],
                      [ev.size, -ev.size], 0)
    after = ev.level_before + delta
    side_px = np.where(ev.side[:, None] == 1, q.bid_px, q.ask_px)  # this row's book, the event's side
    side_sz = np.where(ev.side[:, None] == 1, q.bid_sz, q.ask_sz)
    hit = np.isclose(side_px, ev.price[:, None], rtol=0, atol=1e-7)
    found = hit.any(axis=1)
    np.testing.assert_array_equal(after[known & found], (side_sz * hit).sum(axis=1)[known & found])
    assert (after[known & ~found] == 0).all()  # the level is gone (or hidden-only) after the event
    # executions: prints carry aggressor = −(resting side)
    ex = np.isin(ev.action, (oe.EXEC, oe.EXEC_HIDDEN))
    np.testing.assert_array_equal(md.trades.side, -ev.side[ex])
    np.testing.assert_array_equal(md.trades.size, ev.size[ex])
