"""The compiled "take the touch" loop (sorlib/engine/touch.py) gives the generic replay loop's results exactly.

Best Ask without sizing rules declares the policy (``takes_touch_only``) and the engine replays it with
:func:`sorlib.engine.touch.touch_walk`. The reference is the generic loop, reached by a subclass that overrides
``decide`` with the same body (it no longer qualifies): an independent implementation of the same rules (view,
Python decision, ``_execute``, the ``_Taken`` carry). Every output of the replay must be equal, element for
element: fills, child orders, clean-up counts, arrival mids; on random multi-venue multi-level books (prices on
a few ticks so taken prices recur and ties of ask + fee happen across venues), on sells (mirrored book), on a
synthetic day and on the real LOBSTER sample when ``SORLIB_REAL_DATA`` is set.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np
import pytest

import sorlib
from sorlib.backtest import parent_orders
from sorlib.data.market import LoadReport, MarketData, Quotes, Trades
from sorlib.engine import Book, replay
from sorlib.strategies import BestAsk, Decision, ParentOrder
from sorlib.strategies.base import Strategy

rp = importlib.import_module("sorlib.engine.replay")  # the module (sorlib.engine.replay is the function)

S = 1_000_000_000
VENUES = (1, 2, 39, 3, 4)  # taker fees 0.003, 0.003, 0.003, -0.0008, 0.0009 $/share: ties across the first three


class Generic(BestAsk):
    """Best Ask through the engine's generic loop (``decide`` overridden, same body)."""

    def decide(self, view) -> Decision:
        return self.route(view, view.remaining)


@pytest.fixture
def calls(monkeypatch):
    """Counts the compiled loop's calls (so the comparisons below are not vacuous)."""
    n = [0]
    real = rp.touch_walk

    def counted(*a):
        n[0] += 1
        return real(*a)

    monkeypatch.setattr(rp, "touch_walk", counted)
    return n


def random_book(seed: int) -> Book:
    """K venues, L ask levels; prices on 10.00–10.04 (ticks recur), sizes 0–400 (zeros and NaN levels),
    several records at one time (the snapshot rule keeps the last), venues entering late."""
    rng = np.random.default_rng(seed)
    k_n, n_lv, n = int(rng.integers(1, 5)), int(rng.integers(1, 4)), int(rng.integers(40, 160))
    venues = np.array(VENUES[:k_n], np.int32)
    ts = np.sort(rng.integers(0, n // 2 + 1, n)) * (S // 10)
    ven = rng.choice(venues, n)
    ask_px = np.full((n, n_lv), np.nan)
    ask_sz = np.zeros((n, n_lv), np.int64)
    for i in range(n):
        px = 10.00 + 0.01 * int(rng.integers(0, 5))
        for lv in range(n_lv):
            if rng.random() < 0.85:
                ask_px[i, lv] = round(px, 2)
                ask_sz[i, lv] = int(rng.integers(0, 5)) * 100 if rng.random() < 0.9 else 0
            px += 0.01 * int(rng.integers(1, 3))
        if i and ven[i] == ven[i - 1] and rng.random() < 0.2:  # an identical re-send
            ask_px[i], ask_sz[i] = ask_px[i - 1], ask_sz[i - 1]
    bid_px = np.where(np.isfinite(ask_px[:, :1]), ask_px[:, :1] - 0.01, 9.99)
    q = Quotes(ts.astype(np.int64), ven.astype(np.int32), bid_px, np.full((n, 1), 100, np.int64), ask_px, ask_sz)
    return Book.from_market(MarketData(q, Trades.empty(), LoadReport("test", "test")))


def random_orders(book: Book, seed: int) -> list[ParentOrder]:
    """Arrivals from before the first snapshot to after the last, deadlines up to the day's span later (some
    past the end), sizes 1–3000 (some larger than the day shows: clean-up), buys and sells."""
    rng = np.random.default_rng(seed + 1000)
    t0, t1 = int(book.times[0]), int(book.times[-1])
    out = []
    for i in range(8):
        arr = int(rng.integers(t0 - S, t1 + 1))
        out.append(ParentOrder(i, arr, arr + int(rng.integers(1, t1 - t0 + 2 * S)), int(rng.integers(1, 3001)),
                               side=1 if rng.random() < 0.7 else -1))
    return out


def assert_same(a, b) -> None:
    """Every array of two Executions equal, element for element (prices exactly)."""
    for name in ("order_id", "ts", "venue", "qty", "price", "fee", "kind"):
        np.testing.assert_array_equal(getattr(a.fills, name), getattr(b.fills, name), err_msg=name)
    if a.fills.side is None or b.fills.side is None:
        assert a.fills.side is None and b.fills.side is None
    else:
        np.testing.assert_array_equal(a.fills.side, b.fills.side)
    for name in ("order_id", "decided_ns", "ts", "venue", "qty", "displayed", "kind"):
        np.testing.assert_array_equal(getattr(a.children, name), getattr(b.children, name), err_msg=name)
    for name in ("arrival_mid", "beyond_book", "unfilled", "impact_cost", "fill_impact", "fill_through"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_only_plain_best_ask_declares_the_policy():
    """The compiled loop is chosen only for Best Ask itself without sizing rules, on the frozen market and
    without a limit price; a subclass overriding decide, sizing rules or a delegating wrapper do not qualify."""
    from sorlib.allocation.sizing import SizingRules

    assert rp._takes_touch(BestAsk())
    assert not rp._takes_touch(Generic())
    assert not rp._takes_touch(BestAsk(SizingRules(max_child=100)))

    class Wrapper(Strategy):  # delegates attributes like whatif's recorder
        def __init__(self, inner):
            self._inner = inner

        def __getattr__(self, name):
            return getattr(self.__dict__["_inner"], name)

    assert not rp._takes_touch(Wrapper(BestAsk()))
    patched = BestAsk()
    patched.decide = lambda view: BestAsk.decide(patched, view)  # an instance attribute (a recording hook)
    assert not rp._takes_touch(patched)


@pytest.mark.parametrize("seed", range(40))
def test_random_books_same_results(seed, calls):
    book = random_book(seed)
    orders = random_orders(book, seed)
    fast = replay(book, BestAsk(), orders)
    assert calls[0] == len(orders)
    assert_same(fast, replay(book, Generic(), orders))


def test_random_books_exercise_the_rules(calls):
    """Across the random books the compiled loop takes at several prices, carries taken shares across records
    and leaves work to the clean-up (otherwise the comparisons above would prove little)."""
    kinds, n_px = [], 0
    for seed in range(40):
        book = random_book(seed)
        ex = replay(book, BestAsk(), random_orders(book, seed))
        kinds += ex.fills.kind.tolist()
        n_px += len(set(ex.fills.price[ex.fills.kind == rp.KIND_TAKE].tolist()))
    assert kinds.count(rp.KIND_TAKE) > 500 and kinds.count(rp.KIND_CLEANUP) > 20 and n_px > 100


def test_limit_price_and_market_model_take_the_generic_loop(calls):
    """With a limit price or a market model the generic loop runs (the compiled one knows neither)."""
    book = random_book(3)
    o = random_orders(book, 3)[0]
    replay(book, BestAsk(), [ParentOrder(0, o.arrival_ns, o.deadline_ns, 500, limit_price=10.02)])
    replay(book, BestAsk(), [o], market="realistic")
    assert calls[0] == 0


def test_synthetic_day_same_results(calls):
    from sorlib.synth import generate_market

    book = Book.from_market(generate_market(venues=4, seed=5, minutes=30))
    orders = parent_orders(book, 4000, 3.0, 3.0)
    orders += [ParentOrder(len(orders), orders[0].arrival_ns, orders[0].deadline_ns, 4000, side=-1)]
    fast = replay(book, BestAsk(), orders)
    assert calls[0] == len(orders)
    assert_same(fast, replay(book, Generic(), orders))


@pytest.mark.slow
def test_real_lobster_sample_same_results(calls):
    """The bench's job (benchmarks/bench_peer.py: 5,000 shares every 5 minutes) on the LOBSTER AAPL sample."""
    root = os.environ.get("SORLIB_REAL_DATA")
    path = Path(root or ".") / "lobster_samples/LOBSTER_SampleFile_AAPL_2012-06-21_1.zip"
    if not root or not path.exists():
        pytest.skip("SORLIB_REAL_DATA with the LOBSTER AAPL sample not set")
    book = Book.from_market(sorlib.load(path))
    orders = parent_orders(book, 5000, 5.0, 5.0)
    fast = replay(book, BestAsk(), orders)
    assert calls[0] == len(orders) and len(fast.fills) > 1000
    assert_same(fast, replay(book, Generic(), orders))
