"""Search spaces: named grids, ranges, random draws, files, validation; the router's decision key."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sorlib.backtest import GRIDS, BacktestConfig, grid_points, router_for
from sorlib.errors import ConfigError
from sorlib.search.space import (
    SearchSpace,
    expand_range,
    grid_space,
    load_space,
    random_space,
    random_within,
    resolve_space,
)


@pytest.mark.parametrize("name", sorted(GRIDS))
def test_named_grids_match_backtest(name):
    space = grid_space(name)
    assert len(space) == 27
    assert space.dicts() == grid_points(name)
    assert resolve_space(name).points == space.points


def test_ranges_lists_log_linspace_scalar():
    assert expand_range({"log": [0.001, 0.1, 3]}, "x") == pytest.approx([0.001, 0.01, 0.1])
    assert expand_range({"linspace": [0.0, 1.0, 5]}, "x") == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert expand_range(2, "x") == [2.0]
    space = grid_space({"lambda_over": 5.0, "lambda_under": [0.01, 0.02], "theta_queue": {"linspace": [0, 0.1, 3]}})
    assert len(space) == 6
    assert space.points[0] == (5.0, 0.01, 0.0)
    assert space.bounds()["theta_queue"] == (0.0, 0.1)


def test_duplicates_are_dropped_in_order():
    space = grid_space({"lambda_over": [1, 1, 2], "lambda_under": [0.1], "theta_queue": [0.1]})
    assert space.points == ((1.0, 0.1, 0.1), (2.0, 0.1, 0.1))


def test_random_is_seeded_and_within_bounds():
    dists = {"lambda_over": {"loguniform": [1.0, 20.0]}, "lambda_under": {"uniform": [0.0, 0.2]},
             "theta_queue": [0.01, 0.05]}
    a, b = random_space(dists, 50, seed=3), random_space(dists, 50, seed=3)
    assert a.points == b.points and len(a) == 50
    assert random_space(dists, 50, seed=4).points != a.points
    arr = np.array(a.points)
    assert (arr[:, 0] >= 1.0).all() and (arr[:, 0] <= 20.0).all()
    assert (arr[:, 1] >= 0).all() and (arr[:, 1] <= 0.2).all()
    assert set(arr[:, 2]) <= {0.01, 0.05}
    # log-uniform: about half the draws below the geometric mean
    assert 0.3 < np.mean(arr[:, 0] < np.sqrt(20.0)) < 0.7


def test_random_within_named_grid_bounds():
    space = resolve_space("penalty", random=40, seed=1)
    assert len(space) == 40 and space.name == "random(penalty)"
    lo, hi = np.array(space.points).min(axis=0), np.array(space.points).max(axis=0)
    assert (lo >= [2.0, 0.01, 0.01]).all() and (hi <= [10.0, 0.1, 0.1]).all()
    assert random_within(grid_space("bps"), 5, seed=2).points == resolve_space("bps", random=5, seed=2).points


def test_files_toml_json(tmp_path):
    t = tmp_path / "g.toml"
    t.write_text("lambda_over = [1.0, 2.0]\nlambda_under = {log = [0.01, 0.1, 2]}\ntheta_queue = 0.05\n")
    assert load_space(t).points == ((1.0, 0.01, 0.05), (1.0, 0.1, 0.05), (2.0, 0.01, 0.05), (2.0, 0.1, 0.05))
    j = tmp_path / "g.json"
    j.write_text(json.dumps({"grid": {"lambda_over": [1], "lambda_under": [2], "theta_queue": [3]}}))
    assert resolve_space(str(j)).points == ((1.0, 2.0, 3.0),)
    r = tmp_path / "r.toml"
    r.write_text("[random]\nn = 7\nseed = 5\nlambda_over = {loguniform = [1.0, 10.0]}\n"
                 "lambda_under = {uniform = [0.0, 0.1]}\ntheta_queue = {uniform = [0.0, 0.1]}\n")
    s = load_space(r)
    assert len(s) == 7 and s.points == load_space(r).points
    assert isinstance(resolve_space(s), SearchSpace)


@pytest.mark.parametrize("doc, fragment", [
    ({"lambda_over": [1], "lambda_under": [1]}, "lacks ['theta_queue']"),
    ({"lambda_over": [-1], "lambda_under": [1], "theta_queue": [1]}, ">= 0"),
    ({"lambda_over": [1], "lambda_under": [1], "theta_queue": {"log": [0, 1, 3]}}, "lo > 0"),
    ({"lambda_over": [1], "lambda_under": [1], "theta_queue": {"linspace": [2, 1, 3]}}, "swap"),
    ({"lambda_over": [1], "lambda_under": [1], "theta_queue": {"log": [1, 2]}}, "three numbers"),
    ({"lambda_over": [1], "lambda_under": [1], "theta_queue": []}, "empty list"),
    ({"lambda_over": [1], "lambda_under": [1], "theta_queue": ["a"]}, "finite number"),
    ({"lambda_over": [1], "lambda_under": [1], "theta_queue": [1], "gamma": [1]}, "unknown key"),
    ({"random": {"lambda_over": [1], "lambda_under": [1], "theta_queue": [1]}}, "needs n"),
    ({"random": {"n": 0, "lambda_over": [1], "lambda_under": [1], "theta_queue": [1]}}, "n >= 1"),
    ({"random": {"n": 2, "lambda_over": {"normal": [0, 1]}, "lambda_under": [1], "theta_queue": [1]}},
     "loguniform"),
])
def test_validation_messages(tmp_path, doc, fragment):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(doc))
    with pytest.raises(ConfigError) as e:
        load_space(p)
    assert fragment in str(e.value)
    assert str(p) in str(e.value)  # says where


def test_unparsable_and_missing_files(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("lambda_over = [1,\n")
    with pytest.raises(ConfigError, match="cannot parse"):
        load_space(p)
    with pytest.raises(ConfigError, match="no such space file"):
        resolve_space(str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="unknown grid"):
        grid_space("nope")


def test_decision_key_spec_ignores_parameters():
    cfg = BacktestConfig(mode="spec")
    for name in GRIDS:
        keys = {router_for(cfg, p).decision_key() for p in grid_points(name)}
        assert len(keys) == 1


def test_decision_key_uncapped_uses_only_the_sum():
    cfg = BacktestConfig(mode="uncapped")
    keys = [router_for(cfg, p).decision_key() for p in grid_points("penalty")]
    assert len(set(keys)) == 6  # lambda_under + theta_queue: 0.02, 0.06, 0.11, 0.1, 0.15, 0.2
    a = router_for(cfg, {"lambda_over": 2.0, "lambda_under": 0.01, "theta_queue": 0.05}).decision_key()
    b = router_for(cfg, {"lambda_over": 9.0, "lambda_under": 0.05, "theta_queue": 0.01}).decision_key()
    c = router_for(cfg, {"lambda_over": 2.0, "lambda_under": 0.01, "theta_queue": 0.06}).decision_key()
    assert a == b and a != c
    assert len({router_for(cfg, p).decision_key() for p in grid_points("bps")}) == 9
    other = BacktestConfig(mode="uncapped", rest_seconds=10.0)
    assert router_for(other, grid_points("penalty")[0]).decision_key() != keys[0]


def test_decision_key_fallback_for_routers_without_one():
    from sorlib.search.run import decision_key

    cfg = BacktestConfig(mode="ck")
    pts = grid_points("bps")
    keys = [decision_key(router_for(cfg, p)) for p in pts]
    assert len(set(keys)) == len(pts)  # nothing collapses unless identical
    assert decision_key(router_for(cfg, pts[0])) == keys[0]
    assert decision_key(router_for(BacktestConfig(mode="ck", seed=1), pts[0])) != keys[0]
