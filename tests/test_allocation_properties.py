"""Property tests: the exact solver against the brute-force references on random venues."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sorlib.allocation import (
    EmptySplitPolicy,
    Venue,
    allocate,
    allocate_exhaustive,
    allocate_exhaustive_uncapped,
    compute_cost,
    reference_price,
    route_with_policy,
    warmup,
)

warmup()
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=False)

# asks near each other: a coarse grid (many exact ties) or arbitrary floats (float-noise near-ties)
asks = st.one_of(
    st.integers(-4, 4).map(lambda k: 100.0 + 0.01 * k),
    st.floats(99.9, 100.1, allow_nan=False),
    st.sampled_from([1 / 3, 0.1, 0.2, 0.3]),
)
fees = st.one_of(
    st.sampled_from([-0.001, -0.0005, 0.0, 0.0009, 0.003]), st.integers(-20, 40).map(lambda k: k / 1e4)
)
rebates = st.sampled_from([-0.0015, 0.0, 0.002, 0.0025, 0.003])
sizes = st.one_of(st.integers(0, 3000), st.integers(0, 30).map(lambda k: 100 * k))
venue = st.builds(Venue, ask=asks, ask_size=sizes, fee=fees, rebate=rebates)
params = st.tuples(*[st.sampled_from([0.0, 0.0005, 0.01, 0.05, 0.1, 2.0, 10.0])] * 3)

# the reference is exponential: keep R = S/step small enough with many venues
MAX_UNITS = {1: 30, 2: 30, 3: 30, 4: 20, 5: 14}


@st.composite
def cases(draw):
    n = draw(st.integers(1, 5))
    vs = draw(st.lists(venue, min_size=n, max_size=n))
    step = draw(st.sampled_from([100, 100, 100, 50, 200, 250]))
    total = sum(v.ask_size for v in vs)
    units = draw(
        st.one_of(
            st.integers(0, MAX_UNITS[n]),  # anywhere
            st.integers(max(total // step - 3, 0), total // step + 2),
        )
    )  # around the display
    units = min(units, MAX_UNITS[n])
    odd = draw(st.sampled_from([0] * 6 + [1, step // 2]))  # sometimes not a multiple of step
    return vs, units * step + odd, step, draw(params)


@settings(max_examples=2000, **SETTINGS)
@given(cases())
def test_solver_equals_reference(case):
    venues, S, step, (lo, lu, th) = case
    ref_split, ref_cost = allocate_exhaustive(S, venues, lo, lu, th, step)
    split, cost = allocate(S, venues, lo, lu, th, step)
    if math.isinf(ref_cost):
        assert (split, cost) == ([], math.inf)
        return
    assert cost == ref_cost or math.isclose(cost, ref_cost, rel_tol=1e-9)
    assert split == ref_split  # same tie-breaking, bit for bit
    assert cost == ref_cost
    assert sum(split) == S
    assert all(q % step == 0 and 0 <= q <= v.ask_size for q, v in zip(split, venues, strict=True))
    assert compute_cost(split, venues, S, lo, lu, th) == cost


@st.composite
def small_cases(draw):
    n = draw(st.integers(1, 4))
    vs = draw(
        st.lists(
            st.builds(Venue, ask=asks, ask_size=st.integers(0, 900), fee=fees, rebate=rebates),
            min_size=n,
            max_size=n,
        )
    )
    units = draw(st.integers(0, {1: 12, 2: 12, 3: 9, 4: 7}[n]))
    return vs, units * 100 + draw(st.sampled_from([0] * 8 + [50])), draw(params), draw(st.booleans())


@settings(max_examples=600, **SETTINGS)
@given(small_cases())
def test_uncapped_solver_equals_bruteforce(case):
    venues, S, (lo, lu, th), priced = case
    rp = reference_price(venues) if priced else 0.0
    if not math.isfinite(rp):
        rp = 0.0
    ref_split, ref_cost = allocate_exhaustive_uncapped(S, venues, lo, lu, th, remainder_price=rp)
    split, cost = allocate(S, venues, lo, lu, th, mode="uncapped", remainder_price=rp)
    if math.isinf(ref_cost):
        assert (split, cost) == ([], math.inf)
        return
    assert math.isclose(cost, ref_cost, rel_tol=1e-9, abs_tol=1e-9)
    assert split == ref_split
    assert sum(split) == S and all(q % 100 == 0 and q >= 0 for q in split)
    assert compute_cost(split, venues, S, lo, lu, th, remainder_price=rp) == cost


@settings(max_examples=400, **SETTINGS)
@given(cases(), st.sampled_from(list(EmptySplitPolicy)))
def test_policy_invariants(case, policy):
    venues, S, step, (lo, lu, th) = case
    split = route_with_policy(S, venues, lo, lu, th, policy, step)
    assert len(split) == len(venues) and all(q >= 0 for q in split)
    assert sum(split) <= max(S, 0)
    assert all(q <= v.ask_size for q, v in zip(split, venues, strict=True))
    exact = allocate(S, venues, lo, lu, th, step)[0]
    if exact:
        assert split == exact
    elif policy == EmptySplitPolicy.WAIT:
        assert sum(split) == 0
    elif policy == EmptySplitPolicy.TAKE_DISPLAYED:
        target = min(max(S, 0) // step, sum(v.ask_size // step for v in venues)) * step
        assert sum(split) == target
        if target:
            assert split == allocate_exhaustive(target, venues, lo, lu, th, step)[0]
    else:
        assert sum(1 for q in split if q) <= 1
