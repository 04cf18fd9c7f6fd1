"""Walk-forward validation: fold layout, purging, and no leakage from test orders into the choice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sorlib.backtest import PARAMS
from sorlib.errors import ConfigError
from sorlib.search.walkforward import CostMatrix, choose_point, savings, split_folds, walk_forward

MIN = 60 * 10**9


def _orders(n: int, every_min: float = 5, horizon_min: float = 10, days: int = 1) -> pd.DataFrame:
    per = n // days
    rows = []
    for d in range(days):
        for i in range(per):
            a = d * 10**14 + int(i * every_min * MIN)
            rows.append((d, i, a, a + int(horizon_min * MIN)))
    return pd.DataFrame(rows, columns=["day", "order_id", "arrival_ns", "deadline_ns"])


def _matrix(n: int = 40, p: int = 4, seed: int = 0, **kw) -> CostMatrix:
    rng = np.random.default_rng(seed)
    orders = _orders(n, **kw)
    points = pd.DataFrame({"point": np.arange(p), "group": np.arange(p),
                           **{k: np.linspace(0.01, 0.1, p) for k in PARAMS}})
    base = 300_000 + rng.normal(0, 50, len(orders))
    router = base[None, :] + rng.normal(0, 20, (p, len(orders)))
    return CostMatrix(orders, points, router, {"best_ask": base + 10, "twap": base + 20})


def test_expanding_and_rolling_layout():
    orders = _orders(30, every_min=20)  # no overlap between orders: nothing purged
    exp = split_folds(orders, 4)
    assert [t.size for t, _ in exp] == [6, 12, 18, 24]
    assert all(tr.max() < te.min() for tr, te in exp)
    assert np.array_equal(np.concatenate([te for _, te in exp]), np.arange(6, 30))
    roll = split_folds(orders, 4, window=2)
    assert [t.size for t, _ in roll] == [6, 12, 12, 12]
    assert np.array_equal(roll[3][0], np.arange(12, 24))


def test_purge_drops_train_orders_still_running_at_test_start():
    orders = _orders(30, every_min=5, horizon_min=10)
    (train, test), = split_folds(orders, 1)
    first_test = orders["arrival_ns"].iloc[test[0]]
    assert (orders["deadline_ns"].to_numpy()[train] <= first_test).all()
    assert train.size == 15 - 1  # the last train order ends after the first test arrival
    (train2, _), = split_folds(orders, 1, purge=False)
    assert train2.size == 15


def test_fold_by_day():
    orders = _orders(40, days=4)
    folds = split_folds(orders, 3, by="day")
    assert [set(orders["day"].iloc[te]) for _, te in folds] == [{1}, {2}, {3}]
    assert set(orders["day"].iloc[folds[2][0]]) == {0, 1, 2}
    with pytest.raises(ConfigError, match="days"):
        split_folds(orders, 4, by="day")


def test_bad_settings():
    with pytest.raises(ConfigError, match="at least"):
        split_folds(_orders(3), 5)
    with pytest.raises(ConfigError, match="folds"):
        split_folds(_orders(10), 0)
    with pytest.raises(ConfigError, match="window"):
        split_folds(_orders(10), 2, window=0)


def test_choose_point_first_of_ties_and_exact():
    cash = np.array([[3.0, 1.0], [2.0, 2.0], [1.0, 3.0]])
    assert choose_point(cash) == 0
    # exact sums: order of terms cannot flip a choice
    a = np.array([[1e16, 1.0, -1e16], [0.5, 0.0, 0.0]])
    assert choose_point(a) == 1


def test_no_leakage_test_orders_cannot_move_the_choice():
    """Make one point look extremely good on the test block of fold 2 only; fold 2's choice must not move,
    while fold 3 (which trains on those orders) does see it."""
    cm = _matrix()
    wf = walk_forward(cm, folds=3)
    splits = split_folds(cm.orders, 3)
    _, test2 = splits[1]
    target = (wf.folds[1].point + 1) % 4
    router = cm.router.copy()
    router[target, test2] -= 1e6  # would win any choice that saw these orders
    leaky = CostMatrix(cm.orders, cm.points, router, cm.baselines)
    wf2 = walk_forward(leaky, folds=3)
    assert [f.point for f in wf2.folds[:2]] == [f.point for f in wf.folds[:2]]
    assert wf2.folds[1].params == wf.folds[1].params
    assert wf2.folds[2].point == target  # the perturbation is visible once it is in the past
    assert wf2.folds[1].out_of_sample == wf.folds[1].out_of_sample  # the chosen point's row is untouched


def test_no_leakage_purged_orders_cannot_move_the_choice():
    """A train order still running when the test block starts is as unknown as a test order."""
    cm = _matrix(every_min=5, horizon_min=10)
    wf = walk_forward(cm, folds=3)
    train_full = split_folds(cm.orders, 3, purge=False)[0][0]
    train = split_folds(cm.orders, 3)[0][0]
    purged = np.setdiff1d(train_full, train)
    assert purged.size > 0
    router = cm.router.copy()
    router[(wf.folds[0].point + 1) % 4, purged] -= 1e6
    wf2 = walk_forward(CostMatrix(cm.orders, cm.points, router, cm.baselines), folds=3)
    assert wf2.folds[0].point == wf.folds[0].point


def test_no_leakage_on_a_real_search_table():
    """Perturb the test-fold rows of an actual search table: the fold's chosen parameters stay."""
    from sorlib.backtest import BacktestConfig
    from sorlib.search import DataSpec, run_search

    res = run_search(DataSpec.synthetic(seed=1, venues=3, minutes=40), grid="penalty",
                     config=BacktestConfig(every_minutes=2.0, horizon_minutes=4.0, mode="uncapped"),
                     scheduler="serial", folds=2, progress=False)
    cm = CostMatrix.from_table(res.table)
    _, test = split_folds(cm.orders, 2)[0]
    test_keys = set(map(tuple, cm.orders[["day", "order_id"]].to_numpy()[test]))
    t = res.table.copy()
    is_test = [k in test_keys for k in zip(t["day"], t["order_id"], strict=True)]
    rng = np.random.default_rng(5)
    mask = np.array(is_test) & (t["strategy"] == "router").to_numpy()
    t.loc[mask, "total_cash"] *= 1 + rng.uniform(-0.01, 0.01, mask.sum())
    wf = walk_forward(CostMatrix.from_table(t), folds=2)
    assert wf.folds[0].params == res.walkforward.folds[0].params
    assert wf.folds[0].in_sample == res.walkforward.folds[0].in_sample


def test_report_contents():
    cm = _matrix()
    wf = walk_forward(cm, folds=3, seed=1)
    f = wf.folds[0]
    assert set(f.out_of_sample) == {"best_ask", "twap"}
    s = f.out_of_sample["best_ask"]
    assert s["orders"] == f.test_orders and s["ci95"][0] <= s["mean_bps"] <= s["ci95"][1]
    assert wf.out_of_sample["best_ask"]["orders"] == sum(x.test_orders for x in wf.folds)
    frame = wf.frame()
    assert list(frame["fold"]) == [1, 2, 3] and "oos_bps_twap" in frame
    d = wf.to_dict()
    assert d["settings"]["folds"] == 3


def test_savings_matches_metrics_definition():
    base = np.array([100.0, 200.0, 300.0])
    cash = np.array([99.0, 201.0, 297.0])
    s = savings(cash, base)
    assert s["bps"] == pytest.approx((600 - 597) / 600 * 1e4)
    assert s["mean_bps"] == pytest.approx(np.mean((base - cash) / base * 1e4))
