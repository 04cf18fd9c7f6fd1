"""The placement memo of :func:`sorlib.ck.optimal_placement` (:func:`sorlib.ck.solve.placement_memo`): inside
it, an exact repeat of a solve is answered from the memo with the solver's own answer; anything that differs
(an input, a parameter, SA's seed) is solved; outside it nothing is memoised."""

from __future__ import annotations

import threading

import numpy as np

from sorlib.ck import optimal_placement
from sorlib.ck.solve import PlacementMemo, placement_memo

RNG = np.random.default_rng(7)
XI = RNG.integers(0, 900, size=(40, 3)).astype(float)
Q = np.array([200.0, 350.0, 120.0])
R = np.array([0.002, 0.0025, 0.001])
ARGS = (1000.0, Q, XI, 0.005, 0.003, R)


def _same(a, b) -> None:
    assert a.M == b.M and a.cost == b.cost and a.method == b.method
    np.testing.assert_array_equal(a.L, b.L)


def test_a_repeat_is_answered_from_the_memo_with_the_solvers_answer() -> None:
    plain = optimal_placement(*ARGS, 0.05, 0.02, 0.0005, method="fast")
    memo = PlacementMemo()
    with placement_memo(memo):
        first = optimal_placement(*ARGS, 0.05, 0.02, 0.0005, method="fast")
        again = optimal_placement(*ARGS, 0.05, 0.02, 0.0005, method="fast")
    assert (memo.misses, memo.hits) == (1, 1) and again.info.get("memo") and "memo" not in first.info
    _same(first, plain)
    _same(again, plain)
    again.L[:] = -1.0  # a copy: the memo's answer is untouched
    with placement_memo(memo):
        _same(optimal_placement(*ARGS, 0.05, 0.02, 0.0005, method="fast"), plain)


def test_anything_that_differs_is_solved() -> None:
    memo = PlacementMemo()
    with placement_memo(memo):
        optimal_placement(*ARGS, 0.05, 0.02, 0.0005, method="fast")
        for lu in (0.02, 0.2):  # the parameters
            _same(optimal_placement(*ARGS, lu, 0.02, 0.0005, method="fast"),
                  _plain(*ARGS, lu, 0.02, 0.0005, method="fast"))
        xi2 = XI.copy()
        xi2[0, 0] += 1.0  # one sample of one venue
        optimal_placement(1000.0, Q, xi2, 0.005, 0.003, R, 0.05, 0.02, 0.0005, method="fast")
        optimal_placement(999.0, Q, XI, 0.005, 0.003, R, 0.05, 0.02, 0.0005, method="fast")  # the size
        a = optimal_placement(*ARGS, 0.05, 0.02, 0.0005, method="sa", n_iter=300, seed=1)
        b = optimal_placement(*ARGS, 0.05, 0.02, 0.0005, method="sa", n_iter=300, seed=2)  # SA's seed
    assert memo.hits == 0 and memo.misses == 7 and len(memo) == 7
    _same(a, _plain(*ARGS, 0.05, 0.02, 0.0005, method="sa", n_iter=300, seed=1))
    _same(b, _plain(*ARGS, 0.05, 0.02, 0.0005, method="sa", n_iter=300, seed=2))


def _plain(*args, **kw):
    with placement_memo(None):
        return optimal_placement(*args, **kw)


def test_no_memo_outside_the_block_nor_in_another_thread() -> None:
    memo = PlacementMemo()
    with placement_memo(memo):
        optimal_placement(*ARGS, 0.05, 0.02, 0.0005, method="fast")
        t = threading.Thread(target=lambda: optimal_placement(*ARGS, 0.05, 0.02, 0.0005, method="fast"))
        t.start()
        t.join()
    optimal_placement(*ARGS, 0.05, 0.02, 0.0005, method="fast")
    assert (memo.misses, memo.hits) == (1, 0)


def test_the_memo_keeps_its_most_recent_answers() -> None:
    memo = PlacementMemo(size=2)
    with placement_memo(memo):
        for lu in (0.01, 0.02, 0.03, 0.03, 0.01):
            optimal_placement(*ARGS, lu, 0.02, 0.0005, method="fast")
    assert len(memo) == 2 and memo.hits == 1 and memo.misses == 4
