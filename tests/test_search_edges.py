"""Grid edges (issue 17 item 5): which edge a chosen point lies on, along the axes that can matter in the
mode; the next value beyond an edge; and the extension loop, on constructed cost matrices whose optimum is
known by hand."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from sorlib.errors import ConfigError
from sorlib.search.space import (
    extend_until_interior,
    extend_value,
    grid_axes,
    grid_space,
    point_edges,
    random_space,
)
from sorlib.search.walkforward import CostMatrix, walk_forward

PARAMS = ("lambda_over", "lambda_under", "theta_queue")
PENALTY = {"lambda_over": [2.0, 5.0, 10.0], "lambda_under": [0.01, 0.05, 0.1], "theta_queue": [0.01, 0.05, 0.1]}


def _points(axes: dict, group=None) -> pd.DataFrame:
    rows = list(itertools.product(*(axes[p] for p in PARAMS)))
    df = pd.DataFrame(rows, columns=list(PARAMS))
    df.insert(0, "point", np.arange(len(df)))
    keys = [group(*r) if group else r for r in rows]  # distinct router per distinct key
    first = {k: g for g, k in enumerate(dict.fromkeys(keys))}
    df.insert(1, "group", [first[k] for k in keys])
    return df


def _row(df: pd.DataFrame, lo: float, lu: float, th: float) -> int:
    m = (df["lambda_over"] == lo) & (df["lambda_under"] == lu) & (df["theta_queue"] == th)
    return int(np.flatnonzero(m.to_numpy())[0])


def test_edges_follow_the_axes_that_can_matter_in_each_mode() -> None:
    """The IBM choice (λo 2, λu 0.01, θ 0.01) is the low corner of the penalty grid on all three axes.
    ck: every point is its own router -> all three edges. uncapped: routers differ only by λu + θ (the
    decision key), so λo cannot matter -> λu and θ. spec: one router for the whole grid -> none."""
    ck = _points(PENALTY)
    i = _row(ck, 2.0, 0.01, 0.01)
    assert point_edges(ck, i) == [{"parameter": p, "side": "low", "value": v}
                                  for p, v in (("lambda_over", 2.0), ("lambda_under", 0.01), ("theta_queue", 0.01))]
    unc = _points(PENALTY, lambda lo, lu, th: lu + th)
    assert [e["parameter"] for e in point_edges(unc, _row(unc, 2.0, 0.01, 0.01))] == ["lambda_under", "theta_queue"]
    spec = _points(PENALTY, lambda lo, lu, th: "spec")
    assert point_edges(spec, i) == []
    # interior on two axes, high on the third
    assert point_edges(ck, _row(ck, 5.0, 0.05, 0.1)) == [{"parameter": "theta_queue", "side": "high", "value": 0.1}]


def test_single_value_axes_and_non_product_spaces_have_no_edges() -> None:
    one = _points({"lambda_over": [1.0], "lambda_under": [0.01, 0.05], "theta_queue": [0.0]})
    assert point_edges(one, 0) == [{"parameter": "lambda_under", "side": "low", "value": 0.01}]
    rnd = random_space({p: {"uniform": [0.0, 1.0]} for p in PARAMS}, 5, seed=3)
    assert grid_axes(rnd) is None
    df = pd.DataFrame(rnd.points, columns=list(PARAMS))
    df.insert(0, "point", range(5))
    df.insert(1, "group", range(5))
    assert point_edges(df, 0) == []
    assert grid_axes(grid_space("penalty")) == PENALTY


@pytest.mark.parametrize(("values", "side", "expected"), [
    ([0.01, 0.05, 0.1], "low", 0.005),  # geometric, finest ratio 0.1/0.05 = 2: 0.01 / 2
    ([0.01, 0.05, 0.1], "high", 0.2),
    ([2.0, 5.0, 10.0], "high", 20.0),  # finest ratio 10/5 = 2
    ([2.0, 5.0, 10.0], "low", 1.0),
    ([0.005, 0.05], "low", 0.0005),  # two positive values: geometric, ratio 10
    ([0.02, 0.05, 0.08], "low", 0.0),  # evenly spaced: linear, 0.02 - 0.03 clamped at 0
    ([0.02, 0.05, 0.08], "high", 0.11),
    ([0.0, 0.05, 0.1], "low", None),  # already at 0: penalties never go below
    ([0.0, 0.05, 0.1], "high", 0.15),
    ([0.3], "low", None),  # one value: a setting, not searched
])
def test_extend_value_continues_the_axis_spacing(values, side, expected) -> None:
    got = extend_value(values, side)
    assert got == expected if expected is None else math.isclose(got, expected, rel_tol=1e-12)


def _cost(lo: float, lu: float, th: float) -> float:
    """$ per order above a common base: squared log-distance to λu* = 0.003 (below the grid), λo* = 4
    and θ* = 0.05 (inside it)."""
    if min(lo, lu, th) <= 0:
        return math.inf  # the log-distance to a positive optimum from 0 is infinite
    return (math.log(lu / 0.003) ** 2 + math.log(lo / 4.0) ** 2 + math.log(th / 0.05) ** 2)


def _matrix(space, n: int = 10) -> CostMatrix:
    """n orders, one per day (day = order); each order's cash = 1000 + order index + _cost(point): every
    training block ranks the points the same way."""
    pts = _points({p: sorted({pt[i] for pt in space.points}) for i, p in enumerate(PARAMS)})
    orders = pd.DataFrame({"day": np.arange(n), "order_id": np.zeros(n, int),
                           "arrival_ns": np.arange(n) * 10**12, "deadline_ns": np.arange(n) * 10**12 + 10**9})
    extra = np.array([_cost(*r) for r in pts[list(PARAMS)].to_numpy()])
    router = 1000.0 + np.arange(n)[None, :] + extra[:, None]
    return CostMatrix(orders, pts, router, {"best_ask": np.full(n, 1000.0 + 5)})


def _evaluate(log: list):
    def evaluate(space):
        cm = _matrix(space)
        best = int(np.argmin(cm.router.sum(axis=1)))
        wf = walk_forward(cm, folds=3, by="day")
        log.append(grid_axes(space)["lambda_under"])
        edges = [{"choice": "in-sample", **e} for e in point_edges(cm.points, best)]
        edges += [{"choice": f"fold {f.fold}", **e} for f in wf.folds for e in f.edges]
        return (best, wf), edges
    return evaluate


def test_extension_walks_until_the_choice_is_interior() -> None:
    """Hand-derived: on the penalty grid the best λu is 0.01 (|ln(0.01/0.003)| = 1.20 < ln(0.05/0.003)),
    the low edge; λo 5 (|ln 5/4| = 0.22 < |ln 2/4| = 0.69) and θ 0.05 are interior. λu's finest ratio is 2,
    so the grid gains 0.005 (choice 0.005: 0.51 < 1.20, still the edge), then 0.0025 (|ln(0.0025/0.003)| =
    0.18: the edge again), then 0.00125 (0.88 > 0.18: 0.0025 is now interior) -> 4 rounds, 3 values added
    below, status interior; every fold chooses 0.0025 on its own training block."""
    log: list = []
    (best, wf), info = extend_until_interior(grid_space("penalty"), _evaluate(log), cap=6)
    assert log == [[0.01, 0.05, 0.1], [0.005, 0.01, 0.05, 0.1], [0.0025, 0.005, 0.01, 0.05, 0.1],
                   [0.00125, 0.0025, 0.005, 0.01, 0.05, 0.1]]
    assert info["status"] == "interior" and info["rounds"] == 4 and info["still_on_edge"] == []
    assert info["added"]["lambda_under"] == {"low": 3, "high": 0}
    assert info["added"]["lambda_over"] == {"low": 0, "high": 0}
    assert [f.params["lambda_under"] for f in wf.folds] == [0.0025] * 3
    assert all(f.edges == [] for f in wf.folds)
    assert "shared" in info["note"]


def test_extension_tries_the_bound_0_after_the_cap() -> None:
    """cap = 2: 0.005 and 0.0025 are added; the choice 0.0025 is still the low edge, so the bound 0 is added
    (its cost |ln(0/0.003)|² is infinite) and 0.0025 becomes interior -> 4 rounds, status interior."""
    log: list = []
    (best, wf), info = extend_until_interior(grid_space("penalty"), _evaluate(log), cap=2)
    assert log[-1] == [0.0, 0.0025, 0.005, 0.01, 0.05, 0.1]
    assert info["status"] == "interior" and info["rounds"] == 4 and info["still_on_edge"] == []
    assert [f.params["lambda_under"] for f in wf.folds] == [0.0025] * 3


def test_extension_stops_at_the_bound_0_and_says_so() -> None:
    """λu cost (λu + 0.0001)·100 $ per order grows with λu: the best is always the lowest value. cap = 1:
    0.005 is added (round 2), then the bound 0 (round 3), where the choice stays -> status 'at the bound 0'."""
    def cost(lo, lu, th):
        return (lu + 0.0001) * 100 + math.log(lo / 4.0) ** 2 + math.log(th / 0.05) ** 2

    def evaluate(space):  # the same cost on every order; the choice is the in-sample best
        pts = space.points
        best = min(range(len(pts)), key=lambda i: cost(*pts[i]))
        cm = _matrix(space)
        cm.router[:] = 1000.0 + np.array([cost(*r) for r in cm.points[list(PARAMS)].to_numpy()])[:, None]
        i = int(np.argmin(cm.router.sum(axis=1)))
        assert tuple(cm.points[list(PARAMS)].to_numpy()[i]) == tuple(pts[best])
        return i, [{"choice": "in-sample", **e} for e in point_edges(cm.points, i)]

    _, info = extend_until_interior(grid_space("penalty"), evaluate, cap=1)
    assert info["status"] == "at the bound 0" and info["rounds"] == 3
    assert info["still_on_edge"] == [{"parameter": "lambda_under", "side": "low", "value": 0.0,
                                      "reason": "at the domain bound 0 (a penalty cannot be negative)"}]


def test_extension_needs_a_product_grid() -> None:
    rnd = random_space({p: {"uniform": [0.0, 1.0]} for p in PARAMS}, 5, seed=3)
    with pytest.raises(ConfigError, match="product grid"):
        extend_until_interior(rnd, _evaluate([]))
    with pytest.raises(ConfigError, match=">= 1"):
        extend_until_interior(grid_space("penalty"), _evaluate([]), cap=0)


@pytest.mark.slow
def test_run_search_extend_grid_reuses_stored_replays_and_reports(tmp_path, capsys) -> None:
    """On a small synthetic day (uncapped mode, 2 folds, cap 1): every choice's edges are in summary.json and
    the folds; the extension's outcome is recorded; a rerun on the same store replays nothing. The CLI prints
    a line per edge and the extension's status."""
    import json

    from sorlib.backtest import BacktestConfig
    from sorlib.cli import main
    from sorlib.search import DataSpec, run_search
    from sorlib.search.run import all_edges

    spec = DataSpec.synthetic(seed=1, venues=3, minutes=24)
    cfg = BacktestConfig(every_minutes=2.0, horizon_minutes=4.0, mode="uncapped")
    kw = dict(grid="penalty", config=cfg, scheduler="serial", chunk_orders=4, progress=False, folds=2,
              extend_grid=True, max_extensions=1, store=tmp_path / "store")
    res = run_search(spec, **kw)
    ext = res.summary["grid_extension"]
    assert ext["status"] in ("interior", "cap reached", "at the bound 0") and ext["rounds"] >= 1
    assert ext["added"]["lambda_over"] == {"low": 0, "high": 0}  # λo cannot matter in uncapped mode
    final = ext["final_axes"]
    assert len(res.space) == math.prod(len(v) for v in final.values())
    if ext["status"] == "interior":
        assert all_edges(res) == []
    else:
        assert ext["still_on_edge"] and all_edges(res)
    again = run_search(spec, **kw)
    assert again.stats["executed"] == 0 and again.summary["grid_extension"]["final_axes"] == final
    assert again.summary["best_parameters"] == res.summary["best_parameters"]
    out = tmp_path / "o"
    rc = main(["search", "--scheduler", "serial", "--every", "90", "--horizon", "10", "--mode", "uncapped",
               "--folds", "2", "--out", str(out), "--no-progress", "--extend-grid"])
    text = capsys.readouterr().out
    assert rc == 0 and "--extend-grid: " in text
    s = json.loads((out / "summary.json").read_text())
    assert "edges" in s and "grid_extension" in s and all("edges" in f for f in s["walk_forward"]["folds"])


def test_a_tie_along_an_axis_is_not_an_edge() -> None:
    """ck grid, cost $ = 10·λu + 0·λo + θ: flat along λo, so the first point in grid order (λo = 2, the low
    end) wins a tie with λo = 5 — an interior point does as well, no edge. λu = θ = 0.01 are strict minima
    (their inward neighbours cost 0.4 and 0.04 $ more): edges."""
    ck = _points(PENALTY)
    cost = 10 * ck["lambda_under"].to_numpy() + ck["theta_queue"].to_numpy()
    i = int(np.argmin(cost))
    assert (ck.loc[i, "lambda_over"], ck.loc[i, "lambda_under"], ck.loc[i, "theta_queue"]) == (2.0, 0.01, 0.01)
    assert point_edges(ck, i, cost) == [{"parameter": "lambda_under", "side": "low", "value": 0.01},
                                        {"parameter": "theta_queue", "side": "low", "value": 0.01}]
    assert [e["parameter"] for e in point_edges(ck, i)] == list(PARAMS)  # without costs: every axis
