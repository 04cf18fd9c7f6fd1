"""Replay engine: invariants (hypothesis), liquidity consumption, clean-up, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sorlib.data.market import LoadReport, MarketData, Quotes, Trades
from sorlib.data.snapshots import snapshot_index
from sorlib.engine import Book, replay
from sorlib.engine.replay import KIND_CLEANUP, KIND_REST
from sorlib.metrics import order_table, summary
from sorlib.strategies import TWAP, VWAP, BestAsk, ParentOrder, Router

S = 1_000_000_000


def make_md(rows, trades=()):
    """rows: (t_seconds, venue, bid, bid_sz, ask, ask_sz); trades: (t, venue, px, sz, side)."""
    rows = sorted(rows, key=lambda r: r[0])
    q = Quotes(np.array([int(r[0] * S) for r in rows], np.int64), np.array([r[1] for r in rows], np.int32),
               np.array([[r[2]] for r in rows], float), np.array([[r[3]] for r in rows], np.int64),
               np.array([[r[4]] for r in rows], float), np.array([[r[5]] for r in rows], np.int64))
    trades = sorted(trades, key=lambda r: r[0])
    t = Trades(np.array([int(r[0] * S) for r in trades], np.int64), np.array([r[1] for r in trades], np.int32),
               np.array([r[2] for r in trades], float), np.array([r[3] for r in trades], np.int64),
               np.array([r[4] for r in trades], np.int8)) if trades else Trades.empty()
    return MarketData(q, t, LoadReport("test", "test"))


def test_displayed_liquidity_is_not_taken_twice():
    # one venue shows 300 @ 10.00 and keeps re-sending the same quote at the same time stamps? no:
    # it never updates, while another venue's updates create snapshots.
    md = make_md([(0, 1, 9.99, 100, 10.00, 300)] + [(t, 2, 9.98, 100, 10.05, 0) for t in range(1, 50)])
    book = Book.from_market(md)
    ex = replay(book, BestAsk(), [ParentOrder(0, 0, 60 * S, 1000)])
    taken = ex.fills.qty[(ex.fills.venue == 1) & (ex.fills.kind != KIND_CLEANUP)].sum()
    assert taken == 300  # not 300 at every snapshot
    assert ex.fills.qty[ex.fills.kind == KIND_CLEANUP].sum() == 700


def test_identical_resend_does_not_restore_liquidity_but_new_size_does():
    """Venue 1 shows 300 @ 10.00 at t=0 (Best Ask takes all 300), re-sends the same quote at t=5 (nothing
    comes back), then shows 500 @ 10.00 at t=7: 500 − 300 taken = 200 more. Venue 2 offers nothing.
    Non-clean-up shares: 300 + 200 = 500."""
    md = make_md([(0, 1, 9.99, 100, 10.00, 300), (5, 1, 9.99, 100, 10.00, 300), (6, 2, 9.9, 1, 10.5, 0),
                  (7, 1, 9.99, 100, 10.00, 500)])
    ex = replay(Book.from_market(md), BestAsk(), [ParentOrder(0, 0, 60 * S, 600)])
    assert ex.fills.qty[ex.fills.kind != KIND_CLEANUP].sum() == 500


def test_cleanup_beyond_visible_depth_priced_one_tick_worse():
    """The ``flat`` clean-up rule (asked for explicitly; ``depth`` is the default): 100 @ 10.00 visible, the
    other 400 at the worst visible ask + 1 tick = 10.01."""
    md = make_md([(0, 1, 9.99, 100, 10.00, 100)])
    ex = replay(Book.from_market(md), BestAsk(), [ParentOrder(0, 0, 10 * S, 500)], market={"cleanup": {"rule": "flat"}})
    f = ex.fills
    assert f.qty.sum() == 500
    c = f.kind == KIND_CLEANUP
    assert f.qty[c].sum() == 400 and np.allclose(f.price[c], 10.01)


def test_resting_limit_fills_only_after_queue_ahead():
    # bid 9.99 x 200 ahead of us; 150 then 100 sold at the bid: 50 reach us
    md = make_md([(0, 1, 9.99, 200, 10.01, 100), (1, 1, 9.99, 200, 10.01, 100), (2, 1, 9.99, 200, 10.01, 100)],
                 trades=[(0.5, 1, 9.99, 150, -1), (1.5, 1, 9.99, 100, -1)])
    book = Book.from_market(md)

    class Passive(Router):
        def decide(self, view):
            from sorlib.strategies import Decision
            lim = np.zeros(1, np.int64)
            lim[0] = view.remaining
            return Decision(np.zeros(1, np.int64), lim)

    ex = replay(book, Passive(mode="uncapped", rest_seconds=100), [ParentOrder(0, 0, 10 * S, 100)])
    rest = ex.fills.kind == KIND_REST
    assert ex.fills.qty[rest].sum() == 50
    assert np.allclose(ex.fills.price[rest], 9.99)
    assert np.allclose(ex.fills.fee[rest], -book.maker_rebate[0])


quote_rows = st.lists(
    st.tuples(st.integers(0, 120), st.integers(1, 4), st.integers(995, 1005), st.integers(0, 800),
              st.integers(1, 4), st.integers(0, 900)),
    min_size=1, max_size=60)


def _md_from(draw_rows):
    rows = []
    for t, v, bid_c, bsz, spread, asz in draw_rows:
        rows.append((t, v, bid_c / 100, bsz, (bid_c + spread) / 100, asz))
    trades = [(t + 0.5, v, bid_c / 100, 100, -1) for t, v, bid_c, *_ in draw_rows[::3]]
    return make_md(rows, trades)


@settings(max_examples=60, deadline=None)
@given(quote_rows, st.integers(1, 40).map(lambda x: x * 100), st.sampled_from(["best_ask", "twap", "vwap",
                                                                                  "spec", "uncapped"]))
def test_invariants_filled_plus_remaining_equals_ordered(rows, size, which):
    md = _md_from(rows)
    book = Book.from_market(md)
    strat = {"best_ask": BestAsk(), "twap": TWAP(20), "vwap": VWAP("traded", 20),
             "spec": Router(mode="spec"), "uncapped": Router(mode="uncapped", rest_seconds=10)}[which]
    orders = [ParentOrder(0, 0, 60 * S, size), ParentOrder(1, 30 * S, 100 * S, size)]
    ex = replay(book, strat, orders)
    f = ex.fills
    t = order_table(ex)
    # every parent order ends at exactly its size (clean-up included) — never over, never under — unless no
    # ask was visible at any snapshot before its deadline: then the rest is counted unfilled, never priced
    assert (t["shares"] + ex.unfilled == t["size"]).all()
    for o, u in zip(orders, ex.unfilled, strict=True):
        j_last = int(np.searchsorted(book.times, o.deadline_ns, side="left")) - 1
        assert (u > 0) == (j_last < 0 or book.last_ask_index[j_last] < 0)
    assert np.isfinite(f.price).all()
    assert (f.ts <= np.array([orders[i].deadline_ns for i in f.order_id])).all()
    assert (f.qty > 0).all()
    # cash = Σ price × qty + fees
    assert np.isclose(summary(ex)["total_cash"], float((f.price * f.qty).sum() + (f.fee * f.qty).sum()))
    assert_takes_within_display(ex, book)


def test_replay_is_deterministic():
    from sorlib.synth import generate_market

    md = generate_market(venues=3, seed=3, minutes=20)
    book = Book.from_market(md)
    orders = [ParentOrder(0, int(book.times[0]), int(book.times[0]) + 300 * S, 3000)]
    a = replay(book, Router(mode="uncapped"), orders)
    b = replay(book, Router(mode="uncapped"), orders)
    for name in ("ts", "venue", "qty", "price", "fee", "kind"):
        assert np.array_equal(getattr(a.fills, name), getattr(b.fills, name))


def test_snapshot_rule_first_and_last():
    q = make_md([(1, 7, 1, 1, 2, 1), (1, 7, 1, 2, 2, 1), (1, 8, 1, 1, 2, 1), (2, 7, 1, 1, 2, 1),
                 (2, 7, 1, 3, 2, 1)]).quotes
    assert snapshot_index(q, "first").tolist() == [0, 2, 3]
    assert snapshot_index(q, "last").tolist() == [1, 2, 4]
    with pytest.raises(ValueError):
        snapshot_index(q, "middle")


def test_twap_follows_even_schedule():
    rows = [(t, 1, 9.99, 1000, 10.00, 100_000) for t in range(0, 300)]
    ex = replay(Book.from_market(make_md(rows)), TWAP(60), [ParentOrder(0, 0, 300 * S, 1000)])
    f = ex.fills
    by_bucket = np.bincount((f.ts // (60 * S)).astype(int), weights=f.qty, minlength=5)
    assert by_bucket.tolist() == [200, 200, 200, 200, 200]


def test_unknown_trade_sides_inferred_by_quote_rule():
    md = make_md([(0, 1, 9.99, 100, 10.01, 100)],
                 trades=[(1, 1, 9.99, 100, 0), (2, 1, 10.01, 100, 0), (3, 1, 10.00, 100, 0), (4, 1, 9.98, 5, 0),
                         (5, 1, 10.01, 7, -1)])
    book = Book.from_market(md)
    assert book.trades_side.tolist() == [-1, 1, 0, -1, -1]  # known sides are kept as given


class _Idle(BestAsk):
    """Buys nothing: everything goes to the clean-up."""

    name = "idle"

    def decide(self, view):
        from sorlib.strategies import Decision

        return Decision.nothing(len(view.venues))


def test_cleanup_without_visible_ask_uses_the_last_one_before_the_deadline():
    """Venue 1 offers 10.00 × 100 at t=0, shows no ask from t=5, offers at 11.00 only at t=20, after the
    deadline (t=10). The clean-up of 500 shares sees no ask at t=5 and prices all 500 beyond the book at the
    last ask visible before the deadline: 10.00 + 0.01 = 10.01 (not the later 11.00)."""
    md = make_md([(0, 1, 9.99, 100, 10.00, 100), (5, 1, 9.99, 100, np.nan, 0), (20, 1, 9.99, 100, 11.00, 100)])
    ex = replay(Book.from_market(md), _Idle(), [ParentOrder(0, 0, 10 * S, 500)])
    f = ex.fills
    assert f.qty.tolist() == [500] and np.allclose(f.price, 10.01) and f.ts.tolist() == [10 * S]
    assert ex.beyond_book.tolist() == [500] and ex.unfilled.tolist() == [0]


def test_cleanup_without_any_ask_before_the_deadline_reports_unfilled_shares():
    """Venue 1 only bids until t=20 (after the deadline t=10): no price is known, so nothing is bought and
    the 500 shares are counted unfilled (no NaN price is ever recorded)."""
    md = make_md([(0, 1, 9.99, 100, np.nan, 0), (20, 1, 9.99, 100, 11.00, 100)])
    ex = replay(Book.from_market(md), _Idle(), [ParentOrder(0, 0, 10 * S, 500)])
    assert len(ex.fills) == 0
    assert ex.unfilled.tolist() == [500] and ex.beyond_book.tolist() == [0]


def test_an_order_arriving_before_the_data_sees_no_future_quote():
    """An order arriving at t=0 when the first quote is stamped t=5: ``begin`` gets empty ladders (the quote
    at t=5 is not known yet), the arrival mid is unknown, and the first decision is at t=5."""
    md = make_md([(5, 1, 9.99, 100, 10.00, 300)])
    seen = []

    class Probe(BestAsk):
        def begin(self, view):
            seen.append(("begin", view.t_ns, bool(np.isfinite(view.ask_px).any())))

        def decide(self, view):
            seen.append(("decide", view.t_ns, bool(np.isfinite(view.ask_px).any())))
            return super().decide(view)

    ex = replay(Book.from_market(md), Probe(), [ParentOrder(0, 0, 10 * S, 100)])
    assert seen == [("begin", 0, False), ("decide", 5 * S, True)]
    assert np.isnan(ex.arrival_mid[0])


def test_settings_outside_their_choices_are_config_errors():
    from sorlib.errors import ConfigError
    from sorlib.sim.queue import QueueFill

    with pytest.raises(ConfigError, match="'conservative', 'probabilistic'"):
        QueueFill(model="optimistic")
    with pytest.raises(ConfigError, match="power"):
        QueueFill(power=0)
    with pytest.raises(ConfigError, match="'wait', 'take_displayed', 'best_ask_fallback'"):
        Router(empty_policy="skip")
    with pytest.raises(ConfigError, match="'expected_fill', 'task'"):
        Router(uncapped_value="exact")
    with pytest.raises(ConfigError, match="'spec', 'uncapped'"):
        Router(mode="ck")
    with pytest.raises(ConfigError, match="'traded', 'displayed'"):
        VWAP(weights="volume")
    assert Router(empty_policy="wait").params()["empty_policy"] == "wait"


def test_view_shows_own_fills_and_past_quotes():
    """Venue 1 offers 10.00 × 100 at t=0 and 10.01 × 100 at t=2; a strategy buying 100 at each decision sees,
    at t=2, its own fill of t=0 (100 @ 10.00) and the two snapshots t=0 and t=2 (asks 10.00, 10.01)."""
    md = make_md([(0, 1, 9.99, 100, 10.00, 100), (2, 1, 9.99, 100, 10.01, 100)])
    seen = []

    class Buy100(BestAsk):
        def decide(self, view):
            f, q = view.own_fills(), view.past.quotes()
            seen.append((view.t_ns, f.qty.tolist(), f.price.tolist(), q.times.tolist(), q.ask_px[:, 0, 0].tolist()))
            return super().decide(view)

    replay(Book.from_market(md), Buy100(), [ParentOrder(0, 0, 10 * S, 200)])
    assert seen == [(0, [], [], [0], [10.00]), (2 * S, [100], [10.00], [0, 2 * S], [10.00, 10.01])]


def assert_takes_within_display(ex, book) -> None:
    """Marketable fills never exceed what the venue displayed at the quote they met."""
    f = ex.fills
    take = f.kind == 0
    for oid in (0, 1):
        for v in np.unique(f.venue[take & (f.order_id == oid)]):
            m = take & (f.order_id == oid) & (f.venue == v)
            for ts in np.unique(f.ts[m]):
                j = book.index_at(ts)
                k = int(np.searchsorted(book.venues, v))
                assert f.qty[m & (f.ts == ts)].sum() <= book.ask_sz[book.row[j, k], 0]
