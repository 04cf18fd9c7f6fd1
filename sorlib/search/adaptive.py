"""Adaptive parameters: a bandit that picks the router's parameters before each parent order.

Arms are the grid's distinct routers (points with the same
:meth:`~sorlib.strategies.Router.decision_key` route identically, so they are one arm, shown as the
first such point). Before parent order ``i`` the policy picks an arm; the reward of that order is its
savings vs a baseline in bps, ``(cash_baseline − cash_router)/cash_baseline·10⁴`` (= −(router − baseline)
cost in bps), and it is revealed only when the order is **complete** (its deadline ≤ the arrival of the
order being decided). The policy sees only the rewards of the arms it played (bandit feedback).

Policies (seeded, deterministic):

* ``"ucb1"`` — untried arms first, then ``argmax mean_a + c·s·√(2 ln n / n_a)``, ``s`` the spread (std)
  of all rewards observed so far (UCB1 on an unknown reward scale);
* ``"thompson"`` — Gaussian Thompson sampling: draw ``mean_a + s/√n_a · z`` per arm.

Evaluation, out of sample: orders are cut at ``train_fraction``; the best **fixed** grid point is chosen
on the train orders completed before the first test order (least total router cash), and the bandit
(which runs online over every order from the start) is compared with it and with the baselines on the
test orders.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import ConfigError
from .walkforward import CostMatrix, choose_point, savings

__all__ = ["POLICIES", "AdaptiveResult", "Thompson", "UCB1", "online_choices", "run_adaptive"]


class _Policy:
    def __init__(self, n_arms: int, c: float = 1.0, seed: int = 0) -> None:
        if n_arms < 1:
            raise ValueError("a bandit needs at least one arm")
        self.n = n_arms
        self.c = float(c)
        self.rng = np.random.default_rng(seed)
        self.count = np.zeros(n_arms, np.int64)
        self.total = np.zeros(n_arms)
        self.pending = np.zeros(n_arms, np.int64)
        self.seen: list[float] = []

    def _scale(self) -> float:
        s = float(np.std(self.seen)) if len(self.seen) > 1 else 0.0
        return s if s > 0 else 1.0

    def _untried(self) -> int | None:
        fresh = np.flatnonzero(self.count == 0)
        if fresh.size == 0:
            return None
        return int(fresh[np.argmin(self.pending[fresh])])  # fewest plays awaiting their outcome, first on ties

    def _index(self) -> np.ndarray:
        raise NotImplementedError

    def select(self) -> int:
        arm = self._untried()
        if arm is None:
            arm = int(np.argmax(self._index()))
        self.pending[arm] += 1
        return arm

    def update(self, arm: int, reward: float) -> None:
        self.pending[arm] -= 1
        self.count[arm] += 1
        self.total[arm] += reward
        self.seen.append(float(reward))


class UCB1(_Policy):
    """UCB1 with the exploration bonus scaled by the observed reward spread."""

    def _index(self) -> np.ndarray:
        n = int(self.count.sum())
        return self.total / self.count + self.c * self._scale() * np.sqrt(2 * math.log(n) / self.count)


class Thompson(_Policy):
    """Gaussian Thompson sampling (seeded)."""

    def _index(self) -> np.ndarray:
        return self.total / self.count + self._scale() / np.sqrt(self.count) * self.rng.standard_normal(self.n)


POLICIES = {"ucb1": UCB1, "thompson": Thompson}


def online_choices(rewards: np.ndarray, arrival_ns: np.ndarray, deadline_ns: np.ndarray, policy: _Policy,
                   observe=None) -> np.ndarray:
    """Arm chosen for each order (orders in arrival order), learning only from completed orders.

    ``rewards[a, j]`` is arm ``a``'s reward on order ``j``; the policy is told ``rewards[choice_j, j]``
    only once ``deadline_ns[j] <= arrival_ns[i]`` for the order ``i`` being decided. ``observe(i, j)``,
    when given, is called for every reward revealed before deciding order ``i`` (tests use it).
    """
    n = rewards.shape[1]
    if np.any(np.diff(arrival_ns) < 0):
        raise ValueError("orders must be in arrival order")
    choices = np.empty(n, np.int64)
    running: list[tuple[int, int]] = []
    for i in range(n):
        while running and running[0][0] <= arrival_ns[i]:
            _, j = heapq.heappop(running)
            if observe is not None:
                observe(i, j)
            policy.update(int(choices[j]), float(rewards[choices[j], j]))
        choices[i] = policy.select()
        heapq.heappush(running, (int(deadline_ns[i]), i))
    return choices


@dataclass
class AdaptiveResult:
    """The bandit's choices and its out-of-sample comparison with the best fixed point and the baselines."""

    policy: str
    baseline: str
    arms: list[dict]
    choices: list[int]
    test_orders: int
    fixed_point: int
    fixed_params: dict[str, float]
    adaptive_vs_baselines: dict[str, dict]
    fixed_vs_baselines: dict[str, dict]
    adaptive_vs_fixed: dict
    arm_counts_test: list[int]
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def run_adaptive(cm: CostMatrix, policy: str = "ucb1", baseline: str = "best_ask", train_fraction: float = 0.5,
                 c: float = 1.0, seed: int = 0) -> AdaptiveResult:
    """Run the bandit over every order and evaluate it on the orders after ``train_fraction``."""
    if policy not in POLICIES:
        raise ConfigError(f"adaptive policy must be one of {sorted(POLICIES)}, got {policy!r}")
    if baseline not in cm.baselines:
        raise ConfigError(f"adaptive reward baseline {baseline!r} not in {sorted(cm.baselines)}")
    if not 0 < train_fraction < 1:
        raise ConfigError(f"train fraction must be in (0, 1), got {train_fraction}")
    n = cm.router.shape[1]
    cut = int(round(n * train_fraction))
    if not 0 < cut < n:
        raise ConfigError(f"adaptive evaluation needs orders on both sides of the cut, have {n}; "
                          "use a smaller --every or more data")
    groups = cm.points["group"].to_numpy() if "group" in cm.points else np.arange(len(cm.points))
    _, first = np.unique(groups, return_index=True)
    reps = np.sort(first)  # one representative point per distinct router, in grid order
    cash = cm.router[reps]
    base = cm.baselines[baseline]
    rewards = (base[None, :] - cash) / base[None, :] * 1e4
    arrival, deadline = cm.orders["arrival_ns"].to_numpy(), cm.orders["deadline_ns"].to_numpy()
    choices = online_choices(rewards, arrival, deadline, POLICIES[policy](len(reps), c, seed))
    test = np.arange(cut, n)
    train = np.arange(cut)
    train = train[deadline[train] <= arrival[cut]]
    if train.size == 0:
        raise ConfigError("no train order completes before the first test order; lower the train fraction")
    fixed = choose_point(cm.router[:, train])
    ad_cash = cash[choices[test], test]
    fx_cash = cm.router[fixed, test]
    counts = np.bincount(choices[test], minlength=len(reps))
    return AdaptiveResult(
        policy=policy, baseline=baseline,
        arms=[{"point": int(cm.points["point"].iloc[r]), **cm.params(int(r))} for r in reps],
        choices=[int(x) for x in choices], test_orders=int(test.size),
        fixed_point=int(cm.points["point"].iloc[fixed]), fixed_params=cm.params(fixed),
        adaptive_vs_baselines={b: savings(ad_cash, v[test], seed) for b, v in cm.baselines.items()},
        fixed_vs_baselines={b: savings(fx_cash, v[test], seed) for b, v in cm.baselines.items()},
        adaptive_vs_fixed=savings(ad_cash, fx_cash, seed),
        arm_counts_test=[int(x) for x in counts],
        settings={"train_fraction": train_fraction, "c": c, "seed": seed, "train_orders": int(train.size)})
