"""Child-order sizing: the rules, the constrained knapsack against a brute force over feasible splits only,
and every strategy's child orders on replayed tapes (lot, minimum, maximum, participation cap)."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sorlib.allocation import (
    NO_MAX,
    SizingRules,
    VenueLimits,
    allocate_exhaustive_limited,
    ladder_costs,
    limited_split,
    linear_costs,
    participation_budget,
    route_limited,
    sweep_limited,
)
from sorlib.errors import ConfigError

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ------------------------------------------------------------------------------------------- the rules
def test_rules_validate_at_construction():
    for bad in (dict(max_child=0), dict(max_child=1.5), dict(participation_pct=0), dict(participation_pct=101),
                dict(participation_window_seconds=0), dict(min_trade=-1), dict(lot_size=100),
                dict(max_child=100, min_trade=200), dict(lots="yes")):
        with pytest.raises(ConfigError):
            SizingRules(**bad)
    with pytest.raises(ConfigError):
        SizingRules(lots=True, lot_size=100, max_child=50).limits([1])  # no lot fits under the maximum


def test_resolution_order_per_venue():
    """Venue 1 overrides everything; venue 2 takes the global lot 100 and max(min_trade 150, profile 1) = 150,
    rounded up to the lot = 200; venue 3 has profile (lot 10, min 300) but the global lot wins: lot 100,
    min max(150, 300) = 300; lots off → lot 1."""
    r = SizingRules(max_child=1000, min_trade=150, lots=True, lot_size=100,
                    venue={1: VenueLimits(lot_size=50, min_size=50, max_child=400)},
                    profile_limits={3: (10, 300)})
    lim = r.limits([1, 2, 3])
    assert lim.lot.tolist() == [50, 100, 100]
    assert lim.min.tolist() == [50, 200, 300]
    assert lim.max.tolist() == [400, 1000, 1000]
    lim = SizingRules(lots=True, profile_limits={3: (10, 25)}).limits([3, 4])
    assert lim.lot.tolist() == [10, 1] and lim.min.tolist() == [30, 1] and lim.max.tolist() == [NO_MAX] * 2
    assert SizingRules().is_trivial and not SizingRules(max_child=5).is_trivial


def test_participation_budget_by_hand():
    """10 % of 4,250 printed shares = 425, less 300 already bought = 125; never negative."""
    assert participation_budget(10.0, 4250, 300) == 125
    assert participation_budget(10.0, 1000, 300) == 0
    assert participation_budget(None, 0, 0) == NO_MAX


def test_limited_split_by_hand():
    """A 10.003 all-in x 300 shown, B 10.011 x 400. 500 shares, lots of 100, at most 200 per child: A 200
    and B 300 (the unconstrained optimum A 300 / B 200 breaks the maximum): 2,000.60 + 3,003.30 = 5,003.90.
    A minimum of 400 on B allows A 100 + B 400: 1,000.30 + 4,004.40 = 5,004.70. With lots of 300 on A as well,
    nothing sums to 500 exactly (A ∈ {0, 300}, B ∈ {0, 400}); up to 500 the largest feasible total is B's 400."""
    c = linear_costs([10.0, 10.01], [300, 400], [0.003, 0.001])
    split, cost = limited_split(500, c, [100, 100], [100, 100], [200, NO_MAX], 500)
    assert split == [200, 300] and cost == pytest.approx(5003.90)
    split, cost = limited_split(500, c, [100, 100], [100, 400], [200, NO_MAX], 500)
    assert split == [100, 400] and cost == pytest.approx(5004.70)
    assert limited_split(500, c, [300, 100], [300, 400], [NO_MAX, NO_MAX], 500) == ([], math.inf)
    split, _ = limited_split(500, c, [300, 100], [300, 400], [NO_MAX, NO_MAX], 500, exact=False)
    assert split == [0, 400]


def test_odd_lot_rule_completes_the_order():
    """Remainder 50 with lots of 100 and a minimum of 100: only the completing child of 50 is allowed, on the
    cheaper venue A; a remainder of 150 up to 150 takes 100 (a lot) — 150 in one child needs A 150 ≤ 300 and
    is allowed too, so the largest total, 150, wins."""
    c = linear_costs([10.0, 10.01], [300, 400], [0.003, 0.001])
    assert limited_split(50, c, [100, 100], [100, 100], [NO_MAX] * 2, 50, exact=False)[0] == [50, 0]
    assert limited_split(150, c, [100, 100], [100, 100], [NO_MAX] * 2, 150, exact=False)[0] == [150, 0]
    # not the parent's remainder: the odd part stays
    assert limited_split(150, c, [100, 100], [100, 100], [NO_MAX] * 2, 5000, exact=False)[0] == [100, 0]


# ---------------------------------------------------------------------- solver = brute force (feasible only)
cents = st.integers(-3, 3).map(lambda k: 100.0 + 0.01 * k)
fees = st.integers(-10, 30).map(lambda k: k / 1e4)


@st.composite
def limited_cases(draw):
    n = draw(st.integers(1, 3))
    lot = [draw(st.sampled_from([1, 2, 3, 5, 10])) for _ in range(n)]
    mn = [draw(st.integers(1, 12)) for _ in range(n)]
    mx = [draw(st.sampled_from([NO_MAX, 4, 8, 12, 20])) for _ in range(n)]
    mn = [min(m, x) for m, x in zip(mn, mx, strict=True)]
    qty = draw(st.integers(0, {1: 30, 2: 24, 3: 16}[n]))
    remaining = draw(st.sampled_from([qty, qty, qty + draw(st.integers(1, 20))]))
    ladder = draw(st.booleans())
    if ladder:
        px = np.array([[draw(cents), draw(cents) + 0.02] for _ in range(n)])
        av = np.array([[draw(st.integers(0, 15)), draw(st.integers(0, 15))] for _ in range(n)])
        cost_of = ladder_costs(px, av, np.array([draw(fees) for _ in range(n)]))
    else:
        cost_of = linear_costs([draw(cents) for _ in range(n)], [draw(st.integers(0, 30)) for _ in range(n)],
                               [draw(fees) for _ in range(n)])
    return qty, cost_of, lot, mn, mx, remaining, draw(st.booleans())


@settings(max_examples=400, **SETTINGS)
@given(limited_cases())
def test_limited_solver_equals_bruteforce_over_feasible_splits(case):
    qty, cost_of, lot, mn, mx, remaining, exact = case
    ref = allocate_exhaustive_limited(qty, cost_of, lot, mn, mx, remaining, exact=exact)
    got = limited_split(qty, cost_of, lot, mn, mx, remaining, exact=exact)
    assert got[0] == ref[0]
    if math.isinf(ref[1]):
        assert math.isinf(got[1])
        return
    assert got[1] == pytest.approx(ref[1], rel=1e-12, abs=1e-9)
    for q, lt, m, x in zip(got[0], lot, mn, mx, strict=True):  # never violates lot / min / max
        assert q == 0 or (q <= x and ((q % lt == 0 and q >= m) or q == remaining))
    assert sum(got[0]) <= qty and (not exact or sum(got[0]) == qty)


@settings(max_examples=200, **SETTINGS)
@given(st.lists(st.tuples(cents, st.integers(0, 900), fees), min_size=1, max_size=4),
       st.sampled_from([100, 200]), st.integers(1, 2000), st.sampled_from(["wait", "take_displayed",
                                                                          "best_ask_fallback"]))
def test_route_limited_respects_display_and_rules(vs, mx, qty, policy):
    ask, size, fee = (np.array(x) for x in zip(*vs, strict=True))
    split = route_limited(qty, ask, size, fee, [100] * len(vs), [100] * len(vs), [mx] * len(vs), qty, policy)
    assert sum(split) <= qty
    for q, s in zip(split, size, strict=True):
        assert q <= s and q <= mx and (q % 100 == 0 or q == qty)


def test_sweep_limited_greedy_path_caps_each_venue():
    """Lots and minimums of 1: the greedy walk with per-venue maxima. 500 shares, A 10.003 x 300, B 10.011 x 400,
    max 200 each: A 200, B 200 (400 in all, the largest feasible)."""
    px, av = np.array([[10.0], [10.01]]), np.array([[300], [400]])
    take = sweep_limited(px, av, np.array([0.003, 0.001]), 500, [1, 1], [1, 1], [200, 200], 500)
    assert take.tolist() == [200, 200]


# ---------------------------------------------------------------------- every strategy, replayed
S = 1_000_000_000


@lru_cache(maxsize=4)
def _book(seed: int):
    from sorlib.engine import Book
    from sorlib.synth import generate_market

    return Book.from_market(generate_market(venues=3, seed=seed, minutes=4))


def _strategies(rules: SizingRules) -> list:
    from sorlib.strategies import TWAP, VWAP, BestAsk, ContKukanov, Router, Scheduled

    return [Router(mode="spec", sizing=rules),
            Router(mode="uncapped", rest_seconds=10, lookback_minutes=1, lambda_under=0.001, theta_queue=0.0,
                   sizing=rules),
            BestAsk(sizing=rules), TWAP(bucket_seconds=20, sizing=rules),
            VWAP(weights="traded", bucket_seconds=20, sizing=rules),
            VWAP(weights="displayed", bucket_seconds=20, sizing=rules),
            ContKukanov(horizon_seconds=10, lookback_minutes=1, sizing=rules),
            Scheduled("ac", "router", sizing=rules, bucket_seconds=20, risk_aversion=1e-4),
            Scheduled("adaptive", "ck", sizing=rules, bucket_seconds=20)]


rules_st = st.builds(
    SizingRules,
    max_child=st.sampled_from([None, 150, 300, 700]),
    participation_pct=st.sampled_from([None, 5.0, 25.0]),
    participation_window_seconds=st.sampled_from([10.0, 60.0]),
    min_trade=st.sampled_from([None, 50, 100]),
    lots=st.just(True),
    lot_size=st.sampled_from([None, 50, 100]),
    profile_limits=st.sampled_from([{}, {2: (100, 100)}]),
).filter(lambda r: r.max_child is None or r.min_trade is None or r.min_trade <= r.max_child)


@settings(max_examples=6, phases=[Phase.explicit, Phase.reuse, Phase.generate], **SETTINGS)  # replays: no shrinking
@given(st.integers(0, 1), rules_st)
def test_no_child_order_breaks_the_rules(seed, rules):
    """Every child order of every strategy: a lot multiple in [min, max] (or the whole remainder, the odd-lot
    rule, still ≤ max), and per decision that sends any, Σ children + own fills in [t − W, t] ≤
    floor(pct/100·V[t − W, t]). (Resting fills arriving after a decision can push the window over the cap; the
    next decisions then send nothing until it clears.)"""
    from sorlib.engine import replay
    from sorlib.strategies import ParentOrder, Strategy

    book = _book(seed)
    t0 = int(book.times[0])
    orders = [ParentOrder(0, t0 + 90 * S, t0 + 150 * S, 3000), ParentOrder(1, t0 + 160 * S, t0 + 230 * S, 1550)]
    bad: list[str] = []

    class Check(Strategy):
        def __init__(self, inner):
            self.inner, self.name = inner, inner.name
            self.interval_ns, self.overbooks = inner.interval_ns, inner.overbooks

        def begin(self, view):
            self.inner.begin(view)

        def decide(self, view):
            d = self.inner.decide(view)
            lim = rules.limits(view.venues)
            total = 0
            for arr in (d.market, d.limit):
                if arr is None:
                    continue
                arr = np.asarray(arr, np.int64)
                total += int(arr.sum())
                if not lim.feasible(arr, view.remaining).all():
                    bad.append(f"{self.name} t={view.t_ns} {arr.tolist()} rem={view.remaining} "
                               f"lot={lim.lot.tolist()} min={lim.min.tolist()} max={lim.max.tolist()}")
            if rules.participation_pct is not None and total > 0:  # sending nothing cannot undo past fills
                w = rules.window_ns
                v = view.past.trades(view.t_ns - w, view.t_ns + 1).size.sum()
                f = view.own_fills()
                own = f.qty[(f.ts >= view.t_ns - w) & (f.ts <= view.t_ns)].sum()
                if total + own > math.floor(rules.participation_pct / 100 * v + 1e-9):
                    bad.append(f"{self.name} participation: {total} + {own} > {rules.participation_pct}% of {v}")
            return d

    for strat in _strategies(rules):
        replay(book, Check(strat), orders)
    assert not bad, bad[:5]


def test_no_rules_is_bit_identical():
    """Trivial rules (nothing binds) leave every strategy exactly as without rules."""
    from sorlib.engine import replay
    from sorlib.strategies import ParentOrder

    book = _book(0)
    t0 = int(book.times[0])
    orders = [ParentOrder(0, t0 + 90 * S, t0 + 150 * S, 3000)]
    for a, b in zip(_strategies(SizingRules()), _strategies(None), strict=True):
        fa, fb = replay(book, a, orders).fills, replay(book, b, orders).fills
        assert np.array_equal(fa.qty, fb.qty) and np.array_equal(fa.price, fb.price) and np.array_equal(fa.ts, fb.ts)


def test_cleanup_buys_whole_lots_then_one_odd_lot():
    """A strategy that never trades leaves 300 shares to the clean-up. Venue 1 shows 150 @ 10.00, venue 2
    400 @ 10.01 (no fees). Without rules the sweep takes 150 + 150. With 100-share lots venue 1 can give
    only 100 (the largest lot multiple within 150), so venue 2 gives 200: 100 @ 10.00 + 200 @ 10.01.
    Remaining 250 instead: lots give 100 + 100 and the last 50 is one odd lot on the cheapest venue that
    still shows them (venue 1, 50 left @ 10.00): 150 @ 10.00 + 100 @ 10.01."""
    from sorlib.data.market import LoadReport, MarketData, Quotes, Trades
    from sorlib.engine import Book, replay
    from sorlib.strategies import Decision, ParentOrder, Strategy
    from sorlib.venues import VenueTable

    class Idle(Strategy):
        def decide(self, view):
            return Decision.nothing(view.ask_px.shape[0])

    q = Quotes(np.zeros(2, np.int64), np.array([1, 2], np.int32), np.array([[9.99], [9.99]]),
               np.array([[100], [100]], np.int64), np.array([[10.00], [10.01]]), np.array([[150], [400]], np.int64))
    table = VenueTable({"taker_fee": 0.0, "maker_rebate": 0.0}, {})
    book = Book.from_market(MarketData(q, Trades.empty(), LoadReport("hand-built", "test")), table)

    def bought(size, rules):
        ex = replay(book, Idle().set_sizing(rules), [ParentOrder(0, 0, 10**9, size)])
        return {int(v): int(ex.fills.qty[ex.fills.venue == v].sum()) for v in (1, 2)}

    assert bought(300, None) == {1: 150, 2: 150}
    assert bought(300, SizingRules(lots=True, lot_size=100)) == {1: 100, 2: 200}
    assert bought(250, SizingRules(lots=True, lot_size=100)) == {1: 150, 2: 100}
