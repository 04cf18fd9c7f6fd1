"""Adaptive parameters: the bandit learns only from orders completed before the one it decides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sorlib.backtest import PARAMS
from sorlib.errors import ConfigError
from sorlib.search.adaptive import UCB1, Thompson, online_choices, run_adaptive
from sorlib.search.walkforward import CostMatrix

MIN = 60 * 10**9


def _times(n: int, every_min: float = 5, horizon_min: float = 12):
    arrival = (np.arange(n) * every_min * MIN).astype(np.int64)
    return arrival, arrival + int(horizon_min * MIN)


def _rewards(n: int = 60, arms: int = 4, seed: int = 0, best: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r = rng.normal(0, 1, (arms, n))
    r[best] += 1.5
    return r


@pytest.mark.parametrize("policy", [UCB1, Thompson])
def test_observes_only_completed_orders(policy):
    rewards = _rewards()
    arrival, deadline = _times(rewards.shape[1])
    seen = []

    def observe(i, j):
        assert j < i and deadline[j] <= arrival[i]
        seen.append((i, j))

    online_choices(rewards, arrival, deadline, policy(4, seed=1), observe)
    assert seen and max(j for _, j in seen) < rewards.shape[1] - 2  # the last orders are never revealed


@pytest.mark.parametrize("policy", [UCB1, Thompson])
def test_future_outcomes_cannot_change_past_choices(policy):
    rewards = _rewards()
    arrival, deadline = _times(rewards.shape[1])
    ref = online_choices(rewards, arrival, deadline, policy(4, seed=3))
    rng = np.random.default_rng(9)
    for i in (0, 5, 17, 40):
        fut = deadline > arrival[i]  # not completed when order i is decided (includes i itself)
        r = rewards.copy()
        r[:, fut] = rng.normal(0, 100, (4, fut.sum()))
        got = online_choices(r, arrival, deadline, policy(4, seed=3))
        np.testing.assert_array_equal(got[: i + 1], ref[: i + 1])


def test_ucb_finds_the_best_arm_and_is_deterministic():
    rewards = _rewards(n=300, best=2)
    arrival, deadline = _times(300)
    a = online_choices(rewards, arrival, deadline, UCB1(4, seed=0))
    b = online_choices(rewards, arrival, deadline, UCB1(4, seed=0))
    np.testing.assert_array_equal(a, b)
    assert np.bincount(a[150:], minlength=4).argmax() == 2
    t = online_choices(rewards, arrival, deadline, Thompson(4, seed=0))
    assert np.bincount(t[150:], minlength=4).argmax() == 2


def _matrix(n=60, p=6, seed=0):
    rng = np.random.default_rng(seed)
    arrival, deadline = _times(n)
    orders = pd.DataFrame({"day": 0, "order_id": np.arange(n), "arrival_ns": arrival, "deadline_ns": deadline})
    points = pd.DataFrame({"point": np.arange(p), "group": np.arange(p) // 2,  # pairs share a router
                           **{k: np.linspace(0.01, 0.1, p) for k in PARAMS}})
    base = 300_000 + rng.normal(0, 50, n)
    router = np.repeat(base[None, :] + rng.normal(0, 20, (p // 2, n)), 2, axis=0)
    return CostMatrix(orders, points, router, {"best_ask": base + 5, "twap": base + 15})


def test_run_adaptive_report_and_fixed_point_from_train_only():
    cm = _matrix()
    res = run_adaptive(cm, "ucb1", train_fraction=0.5, seed=0)
    assert len(res.arms) == 3 and [a["point"] for a in res.arms] == [0, 2, 4]
    assert res.test_orders == 30 and sum(res.arm_counts_test) == 30
    assert set(res.adaptive_vs_baselines) == {"best_ask", "twap"}
    assert res.settings["train_orders"] < 30  # purged: train orders still running at the cut
    # perturbing test orders leaves the fixed point (chosen in sample) unchanged
    router = cm.router.copy()
    router[:, 30:] += np.random.default_rng(1).normal(0, 1000, (6, 30))
    again = run_adaptive(CostMatrix(cm.orders, cm.points, router, cm.baselines), "ucb1", seed=0)
    assert again.fixed_point == res.fixed_point
    assert again.choices[:31] == res.choices[:31]  # order 30 is decided before any test outcome is known


def test_run_adaptive_errors():
    cm = _matrix()
    with pytest.raises(ConfigError, match="policy"):
        run_adaptive(cm, "greedy")
    with pytest.raises(ConfigError, match="baseline"):
        run_adaptive(cm, baseline="nope")
    with pytest.raises(ConfigError, match="fraction"):
        run_adaptive(cm, train_fraction=1.5)
