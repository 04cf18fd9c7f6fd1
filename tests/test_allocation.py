"""Unit tests of the allocation layer: cost formula, reference search, exact solver, policies, ladders."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest

from sorlib.allocation import (
    EmptySplitPolicy,
    Venue,
    allocate,
    allocate_exhaustive,
    allocate_exhaustive_uncapped,
    compute_cost,
    ladder_cost,
    min_cost_split,
    reference_price,
    route_with_policy,
    venues_from_arrays,
    warmup,
)

PENALTY_GRID = list(itertools.product([2.0, 5.0, 10.0], [0.01, 0.05, 0.1], [0.01, 0.05, 0.1]))
BPS_GRID = list(itertools.product([0.0005, 0.001, 0.002], [0.0005, 0.001, 0.002], [0.00005, 0.0001, 0.0002]))


@pytest.fixture(scope="module", autouse=True)
def _compiled():
    warmup()


def both(S, venues, lo=0.5, lu=0.5, th=0.5, step=100):
    ref = allocate_exhaustive(S, venues, lo, lu, th, step)
    fast = allocate(S, venues, lo, lu, th, step)
    assert fast == ref
    return fast


# ------------------------------------------------------------------------------------------ compute_cost
def test_cost_formula_by_hand():
    v = [Venue(100.0, 300, fee=0.003, rebate=0.002), Venue(100.02, 100, fee=-0.001, rebate=0.0)]
    # venue 0: 300 executed at 100.003, 200 rest earn 0.002; venue 1: 100 executed at 100.019
    split = [500, 100]
    cash = 300 * 100.003 - 200 * 0.002 + 100 * 100.019
    under = 1000 - 400
    expected = cash + 0.1 * under + 0.05 * under + 0.0
    assert compute_cost(split, v, 1000, 2.0, 0.05, 0.1) == pytest.approx(expected, rel=1e-15)
    over = 400 - 300
    assert compute_cost(split, v, 300, 2.0, 0.05, 0.1) == pytest.approx(
        cash + 0.1 * over + 2.0 * over, rel=1e-15
    )
    # remainder_price values the unexecuted shares
    base = compute_cost(split, v, 1000, 2.0, 0.05, 0.1)
    assert compute_cost(split, v, 1000, 2.0, 0.05, 0.1, remainder_price=100.0) == pytest.approx(
        base + 100 * under
    )


def test_cost_zero_allocation_ignores_missing_price():
    v = [Venue(float("nan"), 0), Venue(10.0, 100)]
    assert compute_cost([0, 100], v, 100, 1, 1, 1) == 1000.0


def test_cost_rejects_bad_input():
    v = [Venue(10.0, 100)]
    with pytest.raises(ValueError):
        compute_cost([100, 0], v, 100, 0, 0, 0)
    with pytest.raises(ValueError):
        compute_cost([-100], v, 100, 0, 0, 0)
    with pytest.raises(ValueError):
        compute_cost([100], v, 100, math.nan, 0, 0)


# -------------------------------------------------------------------------------------------- venues
def test_venue_validation_and_coercion():
    v = Venue(100, 200, 0, 0, name="X", key=1)
    assert isinstance(v.ask, float) and v.ask_size == 200 and v.cost_per_share == 100.0
    assert Venue(float("nan"), 0).ask_size == 0
    with pytest.raises(ValueError):
        Venue(100.0, -1)
    with pytest.raises(ValueError):
        Venue(100.0, 10.5)
    with pytest.raises(ValueError):
        Venue(float("nan"), 100)
    with pytest.raises(ValueError):
        Venue(100.0, 100, fee=float("inf"))
    vs = venues_from_arrays([1.0, 2.0], [100, 200], fee=0.001, names=["a", "b"])
    assert [x.fee for x in vs] == [0.001, 0.001] and vs[1].name == "b"


def test_venue_from_profile():
    from sorlib.venues import VenueProfile

    v = Venue.from_profile(VenueProfile(key=7, name="Z", taker_fee=0.0009, maker_rebate=0.0), 50.0, 300)
    assert (v.fee, v.rebate, v.key, v.name, v.ask_size) == (0.0009, 0.0, 7, "Z", 300)


# -------------------------------------------------------------------------------------- edge cases
def test_no_venues():
    assert both(0, []) == ([], 0.0)
    assert both(100, []) == ([], math.inf)
    assert allocate(100, [], 0, 0, 0, mode="uncapped") == ([], math.inf)


def test_zero_order():
    v = [Venue(100.0, 500), Venue(101.0, 0)]
    assert both(0, v) == ([0, 0], 0.0)


def test_all_zero_sizes():
    v = [Venue(100.0, 0), Venue(101.0, 0), Venue(float("nan"), 0)]
    assert both(100, v) == ([], math.inf)
    assert both(0, v) == ([0, 0, 0], 0.0)


def test_one_venue():
    v = [Venue(100.0, 700, fee=0.003)]
    assert both(500, v) == ([500], 500 * 100.003)
    assert both(700, v) == ([700], 700 * 100.003)
    assert both(800, v) == ([], math.inf)


def test_not_a_multiple_of_step_and_odd_display():
    v = [Venue(100.0, 250), Venue(100.5, 1000)]
    assert both(150, v) == ([], math.inf)
    assert both(200, v)[0] == [200, 0]
    assert both(300, v)[0] == [200, 100]  # 250 displayed only allows 0/100/200
    assert both(250, v, step=50)[0] == [250, 0]
    assert both(-100, v) == ([], math.inf)


def test_total_displayed_below_order_is_empty():
    v = [Venue(100.0, 400), Venue(100.01, 400)]
    assert both(5000, v) == ([], math.inf)


def test_exact_ties_go_to_the_lexicographically_smallest_split():
    v = [Venue(100.0, 200), Venue(100.0, 200)]
    assert both(200, v) == ([0, 200], 20000.0)  # the reference keeps the first of equal costs
    v3 = [Venue(10.0, 300), Venue(10.0, 300), Venue(10.0, 300)]
    assert both(300, v3)[0] == [0, 0, 300]


def test_float_noise_ties_reproduced_bit_for_bit():
    # mathematically [0,300,0] and [100,200,0] tie (both 100.0); in floats the reference finds
    # 99.99999999999999 for [100,200,0] first and keeps it. The exact solver must do the same.
    third = 1 / 3
    v = [Venue(third, 300), Venue(third, 300), Venue(100.01, 200)]
    split, cost = both(300, v, 0, 0, 0)
    assert split == [100, 200, 0] and cost == 99.99999999999999
    assert compute_cost(split, v, 300, 0, 0, 0) == cost


def test_invalid_arguments():
    v = [Venue(100.0, 500)]
    for bad in (0, -100, 2.5):
        with pytest.raises(ValueError):
            allocate(100, v, 0, 0, 0, step=bad)
        with pytest.raises(ValueError):
            allocate_exhaustive(100, v, 0, 0, 0, step=bad)
    with pytest.raises(ValueError):
        allocate(100, v, 0, 0, 0, mode="capped")
    with pytest.raises(ValueError):
        allocate(100, v, math.inf, 0, 0)


def test_cheapest_first_with_fees_and_rebates():
    v = [
        Venue(100.00, 1000, fee=0.0030, rebate=0.0020),
        Venue(100.00, 1000, fee=-0.0010, rebate=-0.0015),
        Venue(100.001, 1000, fee=0.0009),
    ]
    split, _ = both(1500, v)
    assert split == [0, 1000, 500]  # inverted venue (taker rebate) first, then the low-fee venue


# ------------------------------------------------------------------------------- the parameter grids
def _grid_venues():
    return [
        Venue(100.00, 800, 0.0030, 0.0020),
        Venue(100.01, 1500, 0.0009, 0.0),
        Venue(99.99, 600, 0.0030, 0.0025),
        Venue(100.02, 3000, -0.0010, -0.0015),
    ]


@pytest.mark.parametrize("grid", [PENALTY_GRID, BPS_GRID], ids=["penalty", "bps"])
def test_spec_mode_whole_grid_ties(grid):
    """The known flaw: in spec mode E == S always, so the penalties never change split or cost."""
    v = _grid_venues()
    results = {tuple(allocate(3000, v, lo, lu, th)[0]) for lo, lu, th in grid}
    costs = {allocate(3000, v, lo, lu, th)[1] for lo, lu, th in grid}
    assert len(results) == 1 and len(costs) == 1
    assert allocate_exhaustive(3000, v, *grid[0]) == allocate(3000, v, *grid[-1])


def _ladder_venues():
    # one cheap venue plus venues at increasing premiums; resting happens on venue 0 (largest rebate)
    premiums = [0.0, 0.01, 0.05, 0.09, 0.105, 0.14, 0.19]
    return [Venue(100.0 + p, 500, fee=0.003, rebate=0.002 if i == 0 else 0.0) for i, p in enumerate(premiums)]


def test_uncapped_mode_parameters_matter():
    """Uncapped + remainder valued at the best price: the split depends on theta_queue + lambda_under.

    A venue at premium p over the best is taken iff p < theta_queue + lambda_under - rebate(0.002).
    Overfill is impossible (Σ split = S), so lambda_over never matters, and theta/lambda_under act
    only through their sum: the 27-point grid has 6 distinct sums, hence exactly 6 distinct splits.
    """
    v = _ladder_venues()
    rp = reference_price(v)
    by_sum: dict[float, set] = {}
    for lo, lu, th in PENALTY_GRID:
        split, cost = allocate(5000, v, lo, lu, th, mode="uncapped", remainder_price=rp)
        assert sum(split) == 5000 and cost == compute_cost(split, v, 5000, lo, lu, th, remainder_price=rp)
        by_sum.setdefault(round(lu + th, 12), set()).add(tuple(split))
    assert all(len(s) == 1 for s in by_sum.values())  # lambda_over (and lu vs th) never matter
    distinct = {next(iter(s)) for s in by_sum.values()}
    assert len(by_sum) == 6 and len(distinct) == 6  # no tie between different penalty levels
    taken = {k: sum(1 for q in next(iter(s)) if q > 0) for k, s in by_sum.items()}
    assert taken == {0.02: 2, 0.06: 3, 0.1: 4, 0.11: 5, 0.15: 6, 0.2: 7}


def test_uncapped_mode_with_task_formula_is_degenerate():
    """remainder_price=0 (the task's formula): resting is ~free, so the optimum buys as little as possible."""
    v = _ladder_venues()
    splits = {tuple(allocate(5000, v, lo, lu, th, mode="uncapped")[0]) for lo, lu, th in PENALTY_GRID}
    assert len(splits) == 1
    (split,) = splits
    assert split == (5000, 0, 0, 0, 0, 0, 0)  # 500 executed, 4,500 resting on the max-rebate venue


def test_uncapped_matches_bruteforce_small():
    v = [
        Venue(100.0, 150, 0.003, 0.002),
        Venue(100.02, 300, 0.0009, 0.0),
        Venue(float("nan"), 0, 0.003, 0.003),
    ]
    for rp in (0.0, reference_price(v)):
        for S in (0, 100, 300, 600, 800):
            fast = allocate(S, v, 2.0, 0.05, 0.1, mode="uncapped", remainder_price=rp)
            ref = allocate_exhaustive_uncapped(S, v, 2.0, 0.05, 0.1, remainder_price=rp)
            assert fast[0] == ref[0] and fast[1] == pytest.approx(ref[1], rel=1e-12)
    assert allocate(150, v, 0, 0, 0, mode="uncapped") == ([], math.inf)


# ------------------------------------------------------------------------------------------- policy
def test_policies_when_displayed_is_short():
    v = [Venue(100.00, 250, 0.003), Venue(99.99, 300, 0.003), Venue(100.05, 1000, 0.003), Venue(99.0, 0)]
    assert route_with_policy(5000, v, 0, 0, 0, "wait") == [0, 0, 0, 0]
    # 200 + 300 + 1000 = 1500 usable in steps of 100
    assert route_with_policy(5000, v, 0, 0, 0, "take_displayed") == [200, 300, 1000, 0]
    assert route_with_policy(5000, v, 0, 0, 0) == [200, 300, 1000, 0]  # default
    assert route_with_policy(5000, v, 0, 0, 0, EmptySplitPolicy.BEST_ASK_FALLBACK) == [0, 300, 0, 0]
    # take_displayed on a reduced size keeps cheapest-first
    assert route_with_policy(450, v, 0, 0, 0, "take_displayed") == [100, 300, 0, 0]
    assert route_with_policy(450, v, 0, 0, 0, "best_ask_fallback") == [0, 300, 0, 0]


def test_policy_uses_exact_split_when_it_exists():
    v = [Venue(100.00, 1000), Venue(99.99, 1000)]
    for p in EmptySplitPolicy:
        assert route_with_policy(1500, v, 0, 0, 0, p) == allocate(1500, v, 0, 0, 0)[0] == [500, 1000]


def test_policy_edge_cases():
    v = [Venue(100.0, 0), Venue(float("nan"), 0)]
    for p in EmptySplitPolicy:
        assert route_with_policy(500, v, 0, 0, 0, p) == [0, 0]
        assert route_with_policy(0, [Venue(1.0, 100)], 0, 0, 0, p) == [0]
        assert route_with_policy(100, [], 0, 0, 0, p) == []
    small = [Venue(100.0, 50)]
    assert route_with_policy(500, small, 0, 0, 0, "take_displayed") == [0]  # below one step
    assert route_with_policy(500, small, 0, 0, 0, "best_ask_fallback") == [50]  # whole shares
    assert route_with_policy(30, small, 0, 0, 0, "best_ask_fallback") == [30]
    with pytest.raises(ValueError):
        route_with_policy(100, small, 0, 0, 0, "next_snapshot")


# ------------------------------------------------------------------------------------------- ladders
def test_ladder_cost_basic():
    p, s = [10.0, 10.5, 11.0], [100, 200, 300]
    assert ladder_cost(p, s, 0) == 0.0
    assert ladder_cost(p, s, 50) == 500.0
    assert ladder_cost(p, s, 250, fee=0.01) == pytest.approx(100 * 10.01 + 150 * 10.51)
    assert ladder_cost(p, s, 600) == pytest.approx(1000 + 2100 + 3300)
    assert ladder_cost(p, s, 601) == math.inf
    assert ladder_cost(p, s, 700, partial=True) == pytest.approx(6400)
    np.testing.assert_allclose(ladder_cost(p, s, np.array([0, 100, 300])), [0, 1000, 3100])
    assert ladder_cost([10.0, np.nan], [100, 0], 100) == 1000.0  # empty level
    assert ladder_cost([], [], 0) == 0.0 and ladder_cost([], [], 1) == math.inf


def test_ladder_cost_broadcast_over_venues():
    p = np.array([[10.0, 10.1], [9.9, 10.3]])
    s = np.array([[100, 100], [50, 500]])
    got = ladder_cost(p, s, np.array([150, 150]), fee=np.array([0.0, 0.01]))
    np.testing.assert_allclose(got, [100 * 10 + 50 * 10.1, 50 * 9.91 + 100 * 10.31])


def test_min_cost_split_with_ladders_matches_bruteforce():
    rng = np.random.default_rng(3)
    step, R = 100, 8
    books = [(np.sort(rng.uniform(99.9, 100.1, 4)), rng.integers(0, 400, 4)) for _ in range(3)]
    fees = [0.003, 0.0009, -0.001]
    table = np.array(
        [
            [ladder_cost(p, s, k * step, f) for k in range(R + 1)]
            for (p, s), f in zip(books, fees, strict=True)
        ]
    )
    units, cost = min_cost_split(table)
    best = min(
        (sum(table[i, k] for i, k in enumerate(ks)), ks)
        for ks in itertools.product(range(R + 1), repeat=3)
        if sum(ks) == R and all(np.isfinite(table[i, k]) for i, k in enumerate(ks))
    )
    assert cost == pytest.approx(best[0]) and sum(units) == R
    assert min_cost_split(np.full((2, 3), np.inf)) == ([], math.inf)


# --------------------------------------------------------------------------------------------- speed
def test_fast_at_scale():
    v = [Venue(100 + 0.01 * i, 2000 + 137 * i, 0.003 - 0.0005 * (i % 3), 0.002) for i in range(8)]
    t = time.perf_counter()
    split, cost = allocate(5000, v, 0.5, 0.5, 0.5)
    assert time.perf_counter() - t < 0.5
    assert sum(split) == 5000 and cost == compute_cost(split, v, 5000, 0.5, 0.5, 0.5)


def test_order_size_must_be_whole():
    v = [Venue(100.0, 500)]
    assert allocate(300.0, v, 0, 0, 0) == allocate_exhaustive(300.0, v, 0, 0, 0) == ([300], 30000.0)
    for fn in (allocate, allocate_exhaustive, allocate_exhaustive_uncapped):
        with pytest.raises(ValueError):
            fn(250.5, v, 0, 0, 0)
    with pytest.raises(ValueError):
        route_with_policy(250.5, v, 0, 0, 0)
