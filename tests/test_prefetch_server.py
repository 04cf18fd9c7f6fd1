"""Server-side speed of the comparison panel's moves (issue 22): history lookups shared by every replay and
check (:class:`sorlib.whatif.order_cache.PastMemo`), a move that waits for a background replay to stop
instead of sharing the interpreter with it, checks that stop when asked. Each shortcut is checked against
the plain computation (a :class:`~sorlib.strategies.view.Past` of the book, :func:`sorlib.engine.replay.replay`)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from sorlib.backtest import BacktestConfig, router_for
from sorlib.engine import Book
from sorlib.engine.replay import replay
from sorlib.strategies.view import Past
from sorlib.whatif.order_cache import OrderReplays, PastMemo, _MemoPast, _Stopped, decides_alike
from sorlib.whatif.prefetch import Prefetcher

#: Where the CK router posts limit orders on the synthetic day, USD/share.
LIMIT_POINT = {"lambda_over": 0.01, "lambda_under": 0.05, "theta_queue": 0.0005}


@pytest.fixture(scope="module")
def book():
    from sorlib.synth import default_market

    return Book.from_market(default_market(seed=0, minutes=60))


class _CountingPast:
    """A Past stand-in that counts its calls (a tape and a clock, like the engine's)."""

    def __init__(self, tape, t_ns: int, calls: list) -> None:
        self._tape, self.t_ns, self._calls = tape, t_ns, calls

    def outflows(self, ks, t0, t1):
        self._calls.append((self.t_ns, tuple(ks)))
        return np.full((len(t0), len(ks)), float(self.t_ns))


def test_past_memo_answers_one_call_once_per_tape_and_clock() -> None:
    memo, calls, tape, other = PastMemo(), [], object(), object()
    t0, t1 = np.array([0, 10]), np.array([10, 20])
    a = _MemoPast(_CountingPast(tape, 5, calls), memo).outflows([0, 2], t0, t1)
    b = _MemoPast(_CountingPast(tape, 5, calls), memo).outflows([0, 2], t0, t1)  # another view, same tape and t
    assert calls == [(5, (0, 2))] and np.array_equal(a, b)
    b[0, 0] = -1.0  # a copy is handed out: the memo keeps its own
    assert _MemoPast(_CountingPast(tape, 5, calls), memo).outflows([0, 2], t0, t1)[0, 0] == 5.0
    _MemoPast(_CountingPast(tape, 6, calls), memo).outflows([0, 2], t0, t1)  # another clock
    _MemoPast(_CountingPast(other, 5, calls), memo).outflows([0, 2], t0, t1)  # another tape
    _MemoPast(_CountingPast(tape, 5, calls), memo).outflows([0, 1], t0, t1)  # other arguments
    assert len(calls) == 4 and len(memo) == 4


def test_past_memo_is_emptied_past_its_limit() -> None:
    memo, calls, tape = PastMemo(limit=3), [], object()
    for t in range(10):
        _MemoPast(_CountingPast(tape, t, calls), memo).outflows([0], np.array([0]), np.array([1]))
    assert len(memo) <= 4 and len(calls) == 10


def test_shared_lookups_equal_the_books_own(book) -> None:
    memo = PastMemo()
    t = int(book.times[len(book.times) // 2])
    t1 = t - np.arange(4, dtype=np.int64)[::-1] * 30_000_000_000
    for _ in range(2):  # the second answer comes from the memo
        got = _MemoPast(Past(book.tape, t), memo).outflows([0, 1], t1 - 30_000_000_000, t1)
        np.testing.assert_array_equal(got, Past(book.tape, t).outflows([0, 1], t1 - 30_000_000_000, t1))
    assert len(memo) == 1


def _ck(size: int, **params):
    return router_for(BacktestConfig(order_size=size, mode="ck"), {**LIMIT_POINT, **params})


def test_replays_sharing_lookups_equal_plain_replays(book) -> None:
    from sorlib.backtest import parent_orders

    orders = parent_orders(book, 5000, 10.0, 10.0)
    cache = OrderReplays(book)
    for lu in (0.05, 0.01, 0.2):  # later points read the lookups the earlier ones stored
        got = cache.get(("ck", 5000), (lu,), lambda lu=lu: _ck(5000, lambda_under=lu), orders)
        want = replay(book, _ck(5000, lambda_under=lu), orders)
        for col in ("order_id", "ts", "venue", "qty", "price", "fee", "kind"):
            np.testing.assert_array_equal(getattr(got.fills, col), getattr(want.fills, col), err_msg=col)
    assert len(cache.past) > 0


def test_a_check_stops_when_asked(book) -> None:
    from sorlib.backtest import parent_orders

    order = parent_orders(book, 5000, 10.0, 10.0)[0]
    cache = OrderReplays(book)
    cache.order(("ck", 5000), ("a",), lambda: _ck(5000), order)
    entry = next(iter(cache._by_order[(("ck", 5000), order.order_id)].values()))
    assert entry.trace
    with pytest.raises(_Stopped):
        decides_alike(_ck(5000), entry, stop=lambda: True)
    assert decides_alike(_ck(5000), entry, stop=lambda: False)
    # a background get stopped while checking keeps nothing of that order
    assert cache.get(("ck", 5000), ("b",), lambda: _ck(5000, lambda_over=0.02), [order], lambda: True) is None
    assert cache.cached(("ck", 5000), ("b",), [order]) == 0


def test_preempt_waits_for_a_running_job_to_stop() -> None:
    pf = Prefetcher()
    started, finished = threading.Event(), threading.Event()

    def job(stop) -> None:
        started.set()
        while not stop():
            time.sleep(0.001)
        time.sleep(0.05)  # the rest of its "decision"
        finished.set()

    pf.schedule([job])
    assert started.wait(10)
    assert pf.preempt(wait_s=10.0) and finished.is_set()
    assert pf.idle(10) and not pf.errors


def test_preempt_gives_up_after_its_wait_on_a_job_that_does_not_stop() -> None:
    pf = Prefetcher()
    started, release = threading.Event(), threading.Event()

    def hog(stop) -> None:
        started.set()
        release.wait(20)

    pf.schedule([hog])
    assert started.wait(10)
    t = time.perf_counter()
    assert not pf.preempt(wait_s=0.1)
    assert 0.09 <= time.perf_counter() - t < 5
    assert pf.preempt() is False  # no wait: says a job still runs
    release.set()
    assert pf.idle(10)
