"""Behaviours a mutation audit found unpinned (issue 21): each test's expected values are derived by hand in
its docstring or by an independent method (a closed form evaluated with ``math``, an enumeration written
here), never by rerunning the code under test. ``tests/mutation_check.py`` plants a bug of each kind.
"""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import numpy as np
import pytest
from test_engine import S, make_md

from sorlib import tca
from sorlib.allocation.sizing import participation_budget
from sorlib.ck import fast_placement
from sorlib.engine import Book
from sorlib.engine.replay import Children, Execution
from sorlib.risk.controls import MARKOUT_HORIZONS, ExposureLimit, VenueScoring
from sorlib.risk.guard import _cap_ladder
from sorlib.risk.scoring import VenueScorer
from sorlib.schedules import AlmgrenChriss, TWAPSchedule
from sorlib.strategies import ParentOrder
from sorlib.strategies.view import Fills


# ------------------------------------------------------------------------------ schedules: per-bucket targets
def _targets(schedule, size: int, horizon_s: int, bucket_s: int) -> list[int]:
    """The schedule's cumulative target in each bucket, asked 1 s after the bucket starts."""
    order = ParentOrder(0, 0, horizon_s * S, size)
    view = SimpleNamespace(order=order, t_ns=0)
    schedule.begin(view)
    out = []
    for b in range(math.ceil(horizon_s / bucket_s)):
        view.t_ns = (b * bucket_s + 1) * S
        out.append(schedule.target(view))
    return out


def test_twap_schedule_targets_are_ceil_of_even_shares():
    """1,000 shares over 420 s in 60-s buckets (n = 7): by bucket b, ceil(1000·(b+1)/7) =
    ceil(142.86, 285.71, 428.57, 571.43, 714.29, 857.14, 1000) = 143, 286, 429, 572, 715, 858, 1000."""
    assert _targets(TWAPSchedule(60.0), 1000, 420, 60) == [143, 286, 429, 572, 715, 858, 1000]


def test_almgren_chriss_targets_follow_the_sinh_closed_form():
    """σ = 0.01 $/√s, η = 0.009 $·s/share², λ = 1e-3 /$: κ = √(λσ²/η) = √(1e-7/0.009) = 1/300 s⁻¹, so over
    T = 600 s κT = 2. Holdings x(t) = X·sinh(κ(T − t))/sinh(κT); bucket b (60 s) targets S − x(60(b+1)),
    rounded up. By hand at the middle (end of bucket 4, t = 300 s): x = 10,000·sinh(1)/sinh(2) =
    10,000·1.175201/3.626860 = 3,240.27 → target ceil(6,759.73) = 6,760; the last bucket: all 10,000.
    Every bucket is checked against ``math.sinh`` directly (the code evaluates an exponential form)."""
    X, T, kappa = 10_000, 600, 1 / 300
    got = _targets(AlmgrenChriss(1e-3, 60.0, sigma=0.01, eta=0.009), X, T, 60)
    want = [math.ceil(X - X * math.sinh(kappa * (T - 60 * (b + 1))) / math.sinh(kappa * T) - 1e-9)
            for b in range(10)]
    assert got[4] == 6760 and got[-1] == X
    assert got == want
    # front-loaded against TWAP: every intermediate target is above the even schedule's
    assert all(g > math.ceil(X * (b + 1) / 10) for b, g in enumerate(got[:-1]))


# ---------------------------------------------------------------- CK fast solver: one share next to a kink
def _brute(S_: int, Q, xi, h, f, r, lu, lo, theta=0.0):
    """Every integer (M, L) in C (0 ≤ M, L_k; M + L_k ≤ S; M + ΣL ≥ S) with the cost written out here:
    V = mean over samples of (h+f)·M − Σ(h+r_k)·min(L_k, (ξ_k−Q_k)⁺) + λ_u·(S−A)⁺ + λ_o·(A−S)⁺ + θ·(M+ΣL+(S−A)⁺)."""
    xi = np.asarray(xi, float).reshape(len(xi), -1)
    K = xi.shape[1]
    a = np.maximum(xi - np.asarray(Q, float), 0.0)
    best = []
    for M in range(S_ + 1):
        for L in itertools.product(range(S_ - M + 1), repeat=K):
            if M + sum(L) < S_:
                continue
            fl = np.minimum(np.array(L, float), a)
            A = M + fl.sum(axis=1)
            v = ((h + f) * M - fl @ (h + np.asarray(r, float)) + lu * np.maximum(S_ - A, 0)
                 + lo * np.maximum(A - S_, 0) + theta * (M + sum(L) + np.maximum(S_ - A, 0))).mean()
            best.append((float(v), M, L))
    best.sort()
    return best


def test_ck_fast_one_venue_stops_exactly_at_an_odd_kink():
    """ξ ∈ {0, 7, 13, 20}, Q = 0, S = 20, h = 0.01, f = 0.003, r = 0.002, λ_u = 0.03: the critical ratio
    p = (2h+f+r)/(λ_u+h+r) = 0.025/0.042 = 0.595 ∈ (F(7), F(13)] = (0.5, 0.75] → L* = 13, M* = 7.
    By hand V(7, 13) = 0.013·7 − 0.012·(0+7+13+13)/4 + 0.03·(13+6+0+0)/4 = 0.091 − 0.099 + 0.1425 = 0.1345;
    one share either side: V(8, 12) = 0.104 − 0.093 + 0.1275 = 0.1385, V(6, 14) = 0.078 − 0.102 + 0.165 =
    0.141 — the answer is the kink itself, to the share."""
    xi = np.array([0.0, 7.0, 13.0, 20.0])
    p = fast_placement(20, [0], xi, 0.01, 0.003, [0.002], 0.03, 1.0)
    assert (p.M, p.L[0]) == (7.0, 13.0)
    assert p.cost == pytest.approx(0.1345, abs=1e-12)
    best = _brute(20, [0], xi, 0.01, 0.003, [0.002], 0.03, 1.0)
    assert best[0][1:] == (7, (13,)) and best[0][0] == pytest.approx(0.1345, abs=1e-12)
    assert best[1][0] - best[0][0] > 1e-3  # unique optimum


def test_ck_fast_two_venues_equals_integer_enumeration_to_the_share():
    """Two venues, outflows beyond the queues at odd kinks (a₁ ∈ {3, 9, 14}, a₂ ∈ {5, 11, 16} with Q = 2, 1),
    S = 17, λ_u = 0.06, λ_o = 0.05: the enumeration's unique minimiser (next best $0.001 dearer) is M = 3,
    L = (9, 5) — both limit sizes on a kink of their venue — and the fast solver returns it to the share."""
    Q = [2.0, 1.0]
    xi = np.array([[5.0, 6.0], [11.0, 12.0], [16.0, 17.0], [5.0, 17.0], [16.0, 6.0], [11.0, 6.0]])
    args = (0.01, 0.003, np.array([0.002, -0.001]), 0.06, 0.05)
    best = _brute(17, Q, xi, *args)
    assert best[0][1:] == (3, (9, 5))
    assert best[1][0] - best[0][0] > 5e-4  # the optimum is unique
    p = fast_placement(17, Q, xi, *args)
    assert (int(p.M), tuple(int(x) for x in p.L)) == (best[0][1], best[0][2])
    assert p.cost == pytest.approx(best[0][0], abs=1e-12)


# --------------------------------------------------------------- venue scoring: the horizons are seconds
class _LinearMid:
    """A stand-in for :class:`~sorlib.strategies.view.Past`: the NBBO mid rises 1 cent per second from
    $100.00 at t = 0 (``nbbo_mid`` is the only method the markouts read)."""

    def nbbo_mid(self, times, max_age_ns=None):
        return 100.0 + 0.01 * np.asarray(times, float) / S


def test_markout_horizons_are_1_5_30_60_seconds():
    """One own fill of 100 shares at t = 10 s on venue 7. With the mid rising 1 ¢/s from $100, the mid at
    the fill is 100.10 and h seconds later 100.10 + 0.01·h, so the markout is 0.01·h/100.10·1e4 bps:
    0.999, 4.995, 29.97, 59.94 bps for h = 1, 5, 30, 60 s. Each is known exactly h seconds after the fill
    (not a nanosecond earlier): at t = 10 s + 5 s − 1 ns only the 1-s markout exists."""
    assert MARKOUT_HORIZONS == (1.0, 5.0, 30.0, 60.0)
    sc = VenueScorer(VenueScoring(), np.array([7]), np.array([0]))
    t0 = 10 * S
    fills = Fills(np.zeros(1, np.int64), np.array([t0]), np.array([7], np.int32), np.array([100]),
                  np.array([100.10]), np.zeros(1), np.zeros(1, np.int8))
    sc.ingest(0, fills, None, t0)
    assert sorted(m[0] - m[1] for m in sc.marks) == [1 * S, 5 * S, 30 * S, 60 * S]
    past = _LinearMid()
    sc.ingest(0, fills, past, t0 + 5 * S - 1)
    s = sc.score(t0 + 5 * S - 1, 100.0)
    assert s["markout_1s"][0] == pytest.approx(0.01 / 100.10 * 1e4, rel=1e-9)
    assert all(math.isnan(s[f"markout_{h}s"][0]) for h in (5, 30, 60))
    sc.ingest(0, fills, past, t0 + 60 * S)
    s = sc.score(t0 + 60 * S, 100.0)
    for h in (1, 5, 30, 60):
        assert s[f"markout_{h}s"][0] == pytest.approx(0.01 * h / 100.10 * 1e4, rel=1e-9), h


# ------------------------------------------------------------------------- caps are ceilings (rounded down)
def test_exposure_pct_cap_rounds_down():
    """12.5 % of 1,005 shares = 125.625 → 125 (rounding to nearest or up would allow 126); an exact
    whole cap stays: 12.5 % of 1,000 = 125."""
    assert ExposureLimit(pct=12.5).share_cap(1005) == 125
    assert ExposureLimit(pct=12.5).share_cap(1000) == 125
    assert ExposureLimit(pct=12.5, shares=120).share_cap(1005) == 120


def test_participation_budget_rounds_down():
    """10 % of 4,257 printed shares = 425.7 → 425, minus 300 already bought → 125 (not 126)."""
    assert participation_budget(10.0, 4257, 300) == 125
    assert participation_budget(10.0, 4257, 500) == 0


def test_exposure_usd_cap_rounds_down_level_by_level():
    """$1,000 of notional on an ask ladder 10.03 × 500, 10.04 × 500: floor(1000/10.03) = floor(99.70) = 99
    shares at level 0 ($992.97), leaving $7.03 < 10.04 → 0 at level 1. A venue under no cap keeps its ladder."""
    px = np.array([[10.03, 10.04], [10.05, 10.06]])
    avail = np.array([[500, 500], [300, 300]], np.int64)
    out = _cap_ladder(px, avail, np.array([2**62, 2**62]), np.array([1000.0, np.inf]))
    assert out.tolist() == [[99, 0], [300, 300]]
    out = _cap_ladder(px, avail, np.array([250, 2**62]), np.array([np.inf, np.inf]))
    assert out.tolist() == [[250, 0], [300, 300]]


# ---------------------------------------------------------------------------------------------- TCA
# The tape of tests/test_tca.py (seconds; venue 1 and 2, one level each):
#   t=0  V1 9.99/10.01  V2 9.98/10.02   mid 10.00 (P_d)     t=1  V1 10.00/10.02          mid 10.01
#   t=2  V2 re-sent                      mid 10.01           t=4  V2 10.01/10.03          mid 10.015
#   t=8  V1 10.02/10.04                  mid 10.025 (P_end before a 10-s deadline)
TAPE = [(0, 1, 9.99, 100, 10.01, 300), (0, 2, 9.98, 100, 10.02, 200), (1, 1, 10.00, 100, 10.02, 300),
        (2, 2, 9.98, 100, 10.02, 200), (4, 2, 10.01, 100, 10.03, 200), (8, 1, 10.02, 100, 10.04, 500)]


@pytest.fixture(scope="module")
def book():
    return Book.from_market(make_md(TAPE, [(1, 1, 10.02, 100, 1)]))


def _ex(fills: list[tuple], children: list[tuple], unfilled: int = 0) -> Execution:
    """A hand-built execution of one parent order (600 shares, t = 0 .. 10 s, P_d = 10.00). ``fills``:
    (t s, venue, qty, price, kind); ``children``: (decided s, reached s, venue, qty); fee 0.003 $/share."""
    f = Fills(np.zeros(len(fills), np.int64), np.array([int(x[0] * S) for x in fills], np.int64),
              np.array([x[1] for x in fills], np.int32), np.array([x[2] for x in fills], np.int64),
              np.array([x[3] for x in fills], float), np.full(len(fills), 0.003),
              np.array([x[4] for x in fills], np.int8))
    n = len(children)
    ch = Children(np.zeros(n, np.int64), np.array([int(c[0] * S) for c in children], np.int64),
                  np.array([int(c[1] * S) for c in children], np.int64), np.array([c[2] for c in children], np.int32),
                  np.array([c[3] for c in children], np.int64), np.array([c[3] for c in children], np.int64),
                  np.zeros(n, np.int8))
    return Execution("hand", {}, (ParentOrder(0, 0, 10 * S, 600),), f, np.array([10.00]),
                     beyond_book=np.zeros(1, np.int64), unfilled=np.array([unfilled], np.int64),
                     impact_cost=np.zeros(1), children=ch, fill_impact=np.zeros(len(fills)))


def test_tca_delay_runs_to_the_first_child_orders_arrival_not_its_decision(book):
    """The docstring: m_1 is the mid "when the first child order reached the market". A child decided at
    t = 0 (mid 10.00) reaches V1 after 1 s of latency (mid 10.01) and takes 300 @ 10.02; the clean-up buys
    300 @ 10.04 at the 10-s deadline (book of t = 8, mid 10.025). By hand: delay = 300·(10.01 − 10.00) = 3.00
    (measured to the decision it would be 0); trading drift = 300·(10.01 − 10.01) = 0; spread = 300·(10.02 −
    10.01) = 3.00; opportunity drift = 300·(10.025 − 10.00) = 7.50, spread = 300·(10.04 − 10.025) = 4.50;
    fees = 600·0.003 = 1.80; IS = 300·0.02 + 300·0.04 + 1.80 = 19.80 = the sum."""
    ex = _ex([(1, 1, 300, 10.02, 0), (10, 1, 300, 10.04, 2)], [(0, 1, 1, 300)])
    c = tca.order_costs(ex, book).iloc[0]
    assert c["first_child_ns"] == 1 * S and c["first_child_mid"] == pytest.approx(10.01, abs=1e-12)
    want = {"delay": 3.00, "trading_drift": 0.0, "trading_spread": 3.00, "opportunity_drift": 7.50,
            "opportunity_spread": 4.50, "fees": 1.80, "total": 19.80}
    for k, v in want.items():
        assert c[f"{k}_usd"] == pytest.approx(v, abs=1e-9), k


def test_tca_parts_add_up_with_shares_left_unfilled(book):
    """The same child fill, no clean-up, 300 shares never bought (no ask visible): Perold's opportunity
    cost U·(P_end − P_d) = 300·(10.025 − 10.00) = 7.50 is the opportunity drift; IS = 300·(10.02 − 10.00) +
    7.50 + 300·0.003 = 6.00 + 7.50 + 0.90 = 14.40 = delay 3.00 + spread 3.00 + 7.50 + fees 0.90."""
    ex = _ex([(1, 1, 300, 10.02, 0)], [(0, 1, 1, 300)], unfilled=300)
    c = tca.order_costs(ex, book).iloc[0]
    assert c["unfilled_shares"] == 300 and c["end_mid"] == pytest.approx(10.025, abs=1e-12)
    want = {"delay": 3.00, "trading_drift": 0.0, "trading_spread": 3.00, "opportunity_drift": 7.50,
            "opportunity_spread": 0.0, "fees": 0.90, "opportunity": 7.50, "total": 14.40}
    for k, v in want.items():
        assert c[f"{k}_usd"] == pytest.approx(v, abs=1e-9), k
    assert sum(c[f"{k}_usd"] for k in tca.COMPONENTS) == pytest.approx(c["total_usd"], abs=1e-12)
