"""End-to-end replays on a hand-built two-venue tape, every fill and every dollar derived by hand.

The tape (times in seconds from t0; fees in $/share):

=====  ================================  ================================
t      venue A (key 1: taker .003,        venue B (key 2: taker .001,
       rebate .002)                       rebate 0)
=====  ================================  ================================
0      bid 9.99 x 100, ask 10.00 x 300    bid 9.99 x 100, ask 10.01 x 400
5      bid 10.04 x 100, ask 10.06 x 300   bid 10.04 x 100, ask 10.05 x 400
=====  ================================  ================================

Prints (buyer-initiated, so no resting bid is ever filled): A 100 @ 10.00 at −8 s, B 300 @ 10.01 at
−3 s (the past), A 300 @ 10.00 at +2 s and B 100 @ 10.01 at +7 s (the future). One parent order buys
500 shares, arriving at 0 with its deadline at 10 s. All-in prices: A 10.003 and B 10.011 at t = 0;
A 10.063 and B 10.051 at t = 5.

Each test's docstring derives the expected fills; these are the numbers a correct replay must print.
"""

from __future__ import annotations

import numpy as np
import pytest

from sorlib.data.market import LoadReport, MarketData, Quotes, Trades
from sorlib.engine import Book, replay
from sorlib.engine.replay import KIND_CLEANUP, KIND_TAKE
from sorlib.metrics import savings_from_cash
from sorlib.strategies import TWAP, VWAP, BestAsk, Decision, ParentOrder, Router, Strategy
from sorlib.venues import VenueTable

S = 1_000_000_000
T0 = 1_700_000_000 * S
VENUES = VenueTable({"taker_fee": 0.0, "maker_rebate": 0.0},
                    {1: {"name": "A", "taker_fee": 0.003, "maker_rebate": 0.002},
                     2: {"name": "B", "taker_fee": 0.001, "maker_rebate": 0.0}})
ORDER = ParentOrder(0, T0, T0 + 10 * S, 500)


def _tape() -> Book:
    rows = [(0, 1, 9.99, 100, 10.00, 300), (0, 2, 9.99, 100, 10.01, 400),
            (5, 1, 10.04, 100, 10.06, 300), (5, 2, 10.04, 100, 10.05, 400)]
    prints = [(-8, 1, 10.00, 100), (-3, 2, 10.01, 300), (2, 1, 10.00, 300), (7, 2, 10.01, 100)]
    q = Quotes(np.array([T0 + r[0] * S for r in rows], np.int64), np.array([r[1] for r in rows], np.int32),
               np.array([[r[2]] for r in rows]), np.array([[r[3]] for r in rows], np.int64),
               np.array([[r[4]] for r in rows]), np.array([[r[5]] for r in rows], np.int64))
    t = Trades(np.array([T0 + p[0] * S for p in prints], np.int64), np.array([p[1] for p in prints], np.int32),
               np.array([p[2] for p in prints]), np.array([p[3] for p in prints], np.int64),
               np.ones(len(prints), np.int8))
    return Book.from_market(MarketData(q, t, LoadReport("hand-built", "test")), VENUES)


@pytest.fixture(scope="module")
def book() -> Book:
    return _tape()


def _fills(ex) -> list[tuple]:
    """(seconds from t0, venue key, shares, price, kind) of every fill, in order."""
    f = ex.fills
    return [(int((int(t) - T0) // S), int(v), int(q), round(float(p), 6), int(k))
            for t, v, q, p, k in zip(f.ts, f.venue, f.qty, f.price, f.kind, strict=True)]


def _cash(ex) -> float:
    return float(ex.fills.cash.sum())


class Nothing(Strategy):
    """Never sends a child order: everything is left to the clean-up."""

    name = "nothing"

    def decide(self, view):
        return Decision.nothing(view.ask_px.shape[0])


def test_spec_router_takes_the_cheapest_exact_split_at_arrival(book):
    """Splits in 100-share steps capped at display and summing to 500: A ∈ {100, 200, 300}, B = 500 − A.
    Cost A·10.003 + B·10.011 is least at A = 300, B = 200: 3,000.90 + 2,002.20 = $5,003.10, all taken
    at t = 0, no clean-up."""
    ex = replay(book, Router(mode="spec"), [ORDER])
    assert _fills(ex) == [(0, 1, 300, 10.00, KIND_TAKE), (0, 2, 200, 10.01, KIND_TAKE)]
    assert _cash(ex) == pytest.approx(5003.10, abs=1e-9)


def test_best_ask_takes_the_touch_then_comes_back(book):
    """t = 0: A is cheapest all-in (10.003 < 10.011): 300 @ 10.00. A's ask then shows nothing more to
    take. t = 5: B is cheapest (10.051 < 10.063): the remaining 200 @ 10.05.
    Cash 300·10.003 + 200·10.051 = 3,000.90 + 2,010.20 = $5,011.10."""
    ex = replay(book, BestAsk(), [ORDER])
    assert _fills(ex) == [(0, 1, 300, 10.00, KIND_TAKE), (5, 2, 200, 10.05, KIND_TAKE)]
    assert _cash(ex) == pytest.approx(5011.10, abs=1e-9)


def test_router_savings_against_best_ask(book):
    """(5,011.10 − 5,003.10) / 5,011.10 × 10⁴ = 8 / 5,011.10 × 10⁴ = 15.964 bps."""
    r = _cash(replay(book, Router(mode="spec"), [ORDER]))
    b = _cash(replay(book, BestAsk(), [ORDER]))
    assert savings_from_cash(np.array([r]), np.array([b]))["bps"] == pytest.approx(8 / 5011.10 * 1e4, rel=1e-12)


def test_cleanup_sweeps_cheapest_first(book):
    """A strategy that sends nothing leaves all 500 to the clean-up at the deadline, against the t = 5
    books: B first (10.051 all-in) for its 400 @ 10.05, then A (10.063) for 100 @ 10.06.
    Cash 400·10.051 + 100·10.063 = 4,020.40 + 1,006.30 = $5,026.70 (index order would pay 5,029.10)."""
    ex = replay(book, Nothing(), [ORDER])
    assert sorted(_fills(ex)) == [(10, 1, 100, 10.06, KIND_CLEANUP), (10, 2, 400, 10.05, KIND_CLEANUP)]
    assert _cash(ex) == pytest.approx(5026.70, abs=1e-9)


def test_twap_two_buckets(book):
    """Two 5-second buckets: target ⌈500·1/2⌉ = 250 by t = 0, 500 by t = 5. t = 0: 250 from A
    (cheapest) @ 10.00. t = 5: A's new price restores its book; the cheapest is now B: 250 @ 10.05.
    Cash 250·10.003 + 250·10.051 = 2,500.75 + 2,512.75 = $5,013.50."""
    ex = replay(book, TWAP(bucket_seconds=5), [ORDER])
    assert _fills(ex) == [(0, 1, 250, 10.00, KIND_TAKE), (5, 2, 250, 10.05, KIND_TAKE)]
    assert _cash(ex) == pytest.approx(5013.50, abs=1e-9)


def test_vwap_weights_come_from_the_past_window_only(book):
    """The 10-second window before arrival holds A 100 at −8 s (bucket 0) and B 300 at −3 s (bucket 1):
    cumulative weights 0.25, 1.0; venue weights A 100, B 300 (the future prints, A 300 and B 100, would
    give 0.75 and the opposite venue weights).
    t = 0: target ⌈500·0.25⌉ = 125: ⌊125·0.25⌋ = 31 to A, ⌊125·0.75⌋ = 93 to B, the last share to the
    cheapest (A): A 32 @ 10.00, B 93 @ 10.01.
    t = 5: target 500, want 375: ⌊375·0.25⌋ = 93 to A, ⌊375·0.75⌋ = 281 to B, the last share to the
    cheapest (B, 10.051): A 93 @ 10.06, B 282 @ 10.05.
    Cash 32·10.003 + 93·10.011 + 93·10.063 + 282·10.051
    = 320.096 + 931.023 + 935.859 + 2,834.382 = $5,021.36."""
    ex = replay(book, VWAP(weights="traded", bucket_seconds=5), [ORDER])
    got = sorted(_fills(ex))
    assert got == sorted([(0, 1, 32, 10.00, KIND_TAKE), (0, 2, 93, 10.01, KIND_TAKE),
                          (5, 1, 93, 10.06, KIND_TAKE), (5, 2, 282, 10.05, KIND_TAKE)])
    assert _cash(ex) == pytest.approx(5021.36, abs=1e-9)


def test_a_router_that_sends_nothing_is_worse_than_the_router(book):
    """The clean-up alone costs $5,026.70 (above) against the router's $5,003.10: a router that routes
    nothing cannot pass for one that routes."""
    assert _cash(replay(book, Router(mode="spec"), [ORDER])) < _cash(replay(book, Nothing(), [ORDER])) - 20
