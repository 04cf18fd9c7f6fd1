"""Liquidity consumption in the replay (engine/replay.py, module docstring).

Rule under test: shares an order took are tracked per venue per ask price; at each new record of that
venue a price no longer displayed is forgotten, a price still displayed keeps min(taken, displayed); the
size available is max(0, displayed − taken). Identical re-sends, bid-only updates and trade records
restore nothing; a size increase restores exactly the increase; a new price restores.
"""

from __future__ import annotations

import numpy as np
from conftest import MBP1_HEADER, mbp1_row
from hypothesis import given, settings
from hypothesis import strategies as st

import sorlib
from sorlib.data.market import LoadReport, MarketData, Quotes, Trades
from sorlib.engine import Book, replay
from sorlib.engine.book import price_key
from sorlib.engine.replay import KIND_CLEANUP, KIND_TAKE, available, carry_taken
from sorlib.strategies import Decision, ParentOrder, Strategy

S = 1_000_000_000
A, B = 2, 9  # publisher ids: venue A offers, venue B only bids (its records add snapshots)


class TakeAll(Strategy):
    """Takes every available share of every venue's ladder at each decision (every snapshot, or every
    ``every_s`` seconds)."""

    name = "take_all"

    def __init__(self, every_s: float = 0.0) -> None:
        self.interval_ns = int(every_s * S)

    def decide(self, view):
        want = np.minimum(view.ask_avail.sum(axis=1), view.remaining)
        out = np.zeros(len(want), np.int64)
        left = view.remaining
        for k in range(len(want)):
            out[k] = min(int(want[k]), left)
            left -= out[k]
        return Decision(out)


def _ts(sec: float) -> str:
    return f"2024-08-01T13:36:{int(sec):02d}.{int(round((sec % 1) * 1e9)):09d}Z"


def _csv_day(write_csv, records):
    """records: (t_s, pub, action, side, price, size, bid, bid_sz, ask, ask_sz) → MarketData via sorlib.load."""
    rows = [mbp1_row(_ts(t), pub, act, side, px, sz, bid, ask, bsz, asz, seq=i + 1)
            for i, (t, pub, act, side, px, sz, bid, bsz, ask, asz) in enumerate(records)]
    return sorlib.load(write_csv("tape.csv", MBP1_HEADER, rows))


def _run(md, size, deadline_s=20, strategy=None):
    """One order from the first snapshot; the clean-up beyond the book by the ``flat`` rule (worst visible ask +
    1 tick), which the hand-derived prices below assume (:mod:`sorlib.sim.cleanup`; ``depth`` is the default)."""
    book = Book.from_market(md)
    t0 = int(book.times[0])
    ex = replay(book, strategy or TakeAll(), [ParentOrder(0, t0, t0 + deadline_s * S, size)],
                market={"cleanup": {"rule": "flat"}})
    f = ex.fills
    return ex, f.qty[f.kind == KIND_TAKE].sum(), f


# ---------------------------------------------------------------------------------------- hand-built tapes
def test_resend_bid_update_and_trade_restore_nothing(write_csv):
    """Venue A: 10.00 × 300 at t=1 (all 300 taken), then an identical re-send (t=2), a bid-only update
    (t=3, bid 200), and a trade record hitting the bid (t=4, ask unchanged). None brings the 300 back: 300
    taken shares; the 700 left go to the clean-up beyond the visible book at 10.00 + 0.01 = 10.01."""
    md = _csv_day(write_csv, [
        (1, A, "A", "A", "10.00", 300, "9.99", 100, "10.00", 300),
        (2, A, "A", "A", "10.00", 300, "9.99", 100, "10.00", 300),   # identical re-send
        (3, A, "A", "B", "9.99", 100, "9.99", 200, "10.00", 300),    # bid-only update
        (4, A, "T", "A", "9.99", 50, "9.99", 150, "10.00", 300),     # a print at the bid; ask unchanged
        (5, B, "A", "B", "9.90", 10, "9.90", 10, "", 0),            # another venue's record
    ])
    ex, took, f = _run(md, 1000)
    assert took == 300
    c = f.kind == KIND_CLEANUP
    assert f.qty[c].sum() == 700 and np.allclose(f.price[c], 10.01)
    assert int(ex.beyond_book.sum()) == 700


def test_size_increase_restores_exactly_the_increase(write_csv):
    """A: 10.00 × 300 (t=1: take 300), × 450 (t=2: +150), × 400 (t=3: a decrease, nothing; taken capped to
    400), × 500 (t=4: +100 over 400). Taken: 300 + 150 + 100 = 550."""
    md = _csv_day(write_csv, [
        (1, A, "A", "A", "10.00", 300, "9.99", 100, "10.00", 300),
        (2, A, "A", "A", "10.00", 150, "9.99", 100, "10.00", 450),
        (3, A, "C", "A", "10.00", 50, "9.99", 100, "10.00", 400),
        (4, A, "A", "A", "10.00", 100, "9.99", 100, "10.00", 500),
    ])
    _, took, f = _run(md, 5000)
    assert took == 550
    assert f.qty[(f.kind == KIND_TAKE)].tolist() == [300, 150, 100]


def test_price_change_restores(write_csv):
    """A: 10.00 × 300 (t=1: take 300), 10.01 × 200 (t=2: 10.00 gone → forgotten; take 200 @ 10.01),
    10.00 × 300 again (t=3: a new queue at 10.00: take 300). Taken: 800."""
    md = _csv_day(write_csv, [
        (1, A, "A", "A", "10.00", 300, "9.99", 100, "10.00", 300),
        (2, A, "C", "A", "10.00", 300, "9.99", 100, "10.01", 200),
        (3, A, "A", "A", "10.00", 300, "9.99", 100, "10.00", 300),
    ])
    _, took, f = _run(md, 5000)
    assert took == 800
    m = f.kind == KIND_TAKE
    assert f.price[m].tolist() == [10.00, 10.01, 10.00]


def make_md(rows, levels=1):
    """rows: (t_s, venue, bid, bid_sz, [ask px...], [ask sz...]) → MarketData (no trades)."""
    rows = sorted(rows, key=lambda r: r[0])
    ask_px = np.full((len(rows), levels), np.nan)
    ask_sz = np.zeros((len(rows), levels), np.int64)
    for i, r in enumerate(rows):
        ask_px[i, :len(r[4])] = r[4]
        ask_sz[i, :len(r[5])] = r[5]
    q = Quotes(np.array([int(r[0] * S) for r in rows], np.int64), np.array([r[1] for r in rows], np.int32),
               np.array([[r[2]] + [np.nan] * (levels - 1) for r in rows]),
               np.array([[r[3]] + [0] * (levels - 1) for r in rows], np.int64), ask_px, ask_sz)
    return MarketData(q, Trades.empty(), LoadReport("test", "test"))


def test_deeper_levels_follow_the_same_rule():
    """Two-level ladders on one venue. t=0: [10.00 × 300, 10.01 × 200] → take 500. t=1: [10.01 × 200,
    10.02 × 100]: 10.00 forgotten, 10.01 still shows 200 = taken → 0, 10.02 new → take 100. t=2: [10.00 × 100,
    10.01 × 250, 10.02 × 100]: 10.00 new → 100, 10.01: 250 − 200 = 50, 10.02: 100 − 100 = 0 → take 150.
    Total 750."""
    md = make_md([(0, 1, 9.99, 100, [10.00, 10.01], [300, 200]),
                  (1, 1, 9.99, 100, [10.01, 10.02], [200, 100]),
                  (2, 1, 9.99, 100, [10.00, 10.01, 10.02], [100, 250, 100])], levels=3)
    _, took, f = _run(md, 5000)
    assert took == 750
    m = f.kind == KIND_TAKE
    assert list(zip(f.price[m].round(2).tolist(), f.qty[m].tolist(), strict=True)) == [
        (10.00, 300), (10.01, 200), (10.02, 100), (10.00, 100), (10.01, 50)]


def test_records_between_two_decisions_count():
    """A strategy deciding every 10 s. Venue 1: 10.00 × 300 at t=0 (take 300); t=3: the ask moves to 10.01
    (10.00 forgotten, though no decision sees it); t=5: 10.00 × 300 again; venue 2's record at t=10 wakes the
    strategy: 300 available. And: 10.00 × 300 at t=0 (take 300), × 100 at t=3 (taken capped to 100), × 300 at
    t=5: 300 − 100 = 200 available at t=10."""
    other = (10, 2, 9.90, 10, [], [])
    md = make_md([(0, 1, 9.99, 100, [10.00], [300]), (3, 1, 9.99, 100, [10.01], [100]),
                  (5, 1, 9.99, 100, [10.00], [300]), other])
    _, took, _ = _run(md, 5000, strategy=TakeAll(every_s=10))
    assert took == 600
    md = make_md([(0, 1, 9.99, 100, [10.00], [300]), (3, 1, 9.99, 100, [10.00], [100]),
                  (5, 1, 9.99, 100, [10.00], [300]), other])
    _, took, _ = _run(md, 5000, strategy=TakeAll(every_s=10))
    assert took == 500


class Idle(Strategy):
    name = "idle"

    def __init__(self, first: int) -> None:
        self.first, self.done = first, False

    def begin(self, view):
        self.done = False

    def decide(self, view):
        out = np.zeros(len(view.venues), np.int64)
        if not self.done:
            out[0], self.done = self.first, True
        return Decision(out)


def test_cleanup_uses_the_same_rule():
    """Take 300 of 10.00 × 300 at t=0; the same quote is re-sent at t=1 and at t=2 it shows 400 (+100). The
    clean-up at the deadline (t=3) buys 100 @ 10.00, then the other 600 beyond the book @ 10.01."""
    md = make_md([(0, 1, 9.99, 100, [10.00], [300]), (1, 1, 9.99, 100, [10.00], [300]),
                  (2, 1, 9.99, 100, [10.00], [400])])
    ex, took, f = _run(md, 1000, deadline_s=3, strategy=Idle(300))
    c = f.kind == KIND_CLEANUP
    assert took == 300
    assert list(zip(f.price[c].round(2).tolist(), f.qty[c].tolist(), strict=True)) == [(10.00, 100), (10.01, 600)]
    assert ex.beyond_book.tolist() == [600]


def test_pure_rule_functions():
    """carry_taken: 10.00 taken 300; records 10.00 × 250 then × 400 → min(300, 250, 400) = 250; a record
    without 10.00 forgets it. available: 400 − 250 = 150 at 10.00, 10.01 untouched."""
    k = int(price_key(10.00))
    keys = price_key(np.array([[10.00, 10.01], [10.00, 10.01]]))
    got = carry_taken({k: 300}, keys, np.array([[250, 10], [400, 10]]))
    assert got == {k: 250}
    assert carry_taken({k: 300}, price_key(np.array([[10.01, np.nan]])), np.array([[100, 0]])) == {}
    assert available(price_key(np.array([10.00, 10.01])), np.array([400, 20]), got).tolist() == [150, 20]


# ---------------------------------------------------------------------------------------- invariant
ladders = st.lists(
    st.tuples(st.integers(0, 30), st.integers(1, 2), st.integers(0, 2), st.integers(0, 400), st.integers(0, 400)),
    min_size=1, max_size=40)


def _bound(book: Book, k: int) -> dict[float, int]:
    """Independent bound per ask price of venue position k over its records in time order: each stretch of
    consecutive records showing price p (size > 0) yields its first size plus every later increase."""
    rows = [int(r) for r in np.unique(book.row[:, k]) if r >= 0]
    total: dict[float, int] = {}
    prev: dict[float, int] = {}
    for r in rows:
        shown = {round(float(p), 2): int(s) for p, s in zip(book.ask_px[r], book.ask_sz[r], strict=True)
                 if np.isfinite(p) and s > 0}
        for p, s in shown.items():
            total[p] = total.get(p, 0) + max(s - prev.get(p, 0), 0)
        prev = shown
    return total


@settings(max_examples=80, deadline=None)
@given(ladders)
def test_taking_everything_gets_exactly_first_size_plus_increases(rows):
    """Taking all that is available at every snapshot, an order takes at each (venue, price) exactly the
    size first shown plus every later increase while the price stays displayed (a price that disappears
    and comes back starts afresh) — never an identical re-send again."""
    data = [(t, v, 9.90, 100, [(1000 + c) / 100, (1001 + c) / 100], [s0, s1]) for t, v, c, s0, s1 in rows]
    md = make_md(data, levels=2)
    book = Book.from_market(md)
    ex = replay(book, TakeAll(), [ParentOrder(0, 0, 100 * S, 10_000_000)])
    f = ex.fills
    m = f.kind == KIND_TAKE
    for k, v in enumerate(book.venues):
        got: dict[float, int] = {}
        for p, q in zip(f.price[m & (f.venue == v)], f.qty[m & (f.venue == v)], strict=True):
            got[round(float(p), 2)] = got.get(round(float(p), 2), 0) + int(q)
        want = {p: q for p, q in _bound(book, k).items() if q > 0}
        assert got == want
