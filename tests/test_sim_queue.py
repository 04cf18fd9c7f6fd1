"""Queue models (sorlib.sim.queue), the replay's resting fills, fee regimes and venue-profile fields.

Expected values are derived by hand in the docstrings."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine import make_md

from sorlib.engine.book import Book
from sorlib.engine.replay import KIND_REST, replay
from sorlib.errors import ConfigError
from sorlib.sim.queue import (
    QUEUE_MODELS,
    ConservativeQueue,
    ProbQueue,
    QueueFill,
    QueueState,
    SimpleQueue,
    fill_from_prints,
    fill_parts,
    make_queue_model,
)
from sorlib.strategies.base import Decision, ParentOrder, Strategy
from sorlib.venues import VenueProfile, VenueTable, apply_fee_regime

S = 1_000_000_000


class RestAtBid(Strategy):
    """Rests ``qty`` at venue 0's bid at the first decision, then waits (decides again only after 1000 s)."""

    name = "rest"

    def __init__(self, qty):
        self.qty = qty
        self.done = False

    def decide(self, view):
        k = view.bid_px.shape[0]
        if self.done:
            return Decision.nothing(k, wake_ns=view.t_ns + 1000 * S)
        self.done = True
        lim = np.zeros(k, np.int64)
        lim[0] = self.qty
        return Decision(np.zeros(k, np.int64), lim, wake_ns=view.t_ns + 1000 * S)

    def params(self):
        return {}


def _rested(md, cfg, qty=15):
    ex = replay(Book.from_market(md), RestAtBid(qty), [ParentOrder(0, 0, 100 * S, qty)], fill_model=cfg)
    f = ex.fills
    return int(f.qty[f.kind == KIND_REST].sum())


# the hand-built case: a print at our level followed by the level shrinking by the same amount
DOUBLE_COUNT = dict(
    rows=[(0, 1, 10.00, 100, 10.01, 100), (2, 1, 10.00, 50, 10.01, 100), (4, 1, 10.00, 10, 10.01, 100),
          (6, 1, 10.00, 10, 10.01, 100)],
    trades=[(1, 1, 10.00, 50, -1), (3, 1, 10.00, 40, -1)])


def test_prints_are_not_counted_again_as_cancels():
    """We rest 15 at 10.00 behind 100. t=1: a 50-share sell print → front 50 (it went to the 50 ahead).
    t=2: the level shows 50 — the print, no cancel: chg = 100 − 50 − 50 = 0, front stays 50. t=3: a 40-share
    print → front 10, nothing reaches us. t=4: level 10, chg = 50 − 10 − 40 = 0. So 0 shares fill.

    The old rule treated the 100 → 50 drop as a cancel on top of the print: with power 2, front = 50 and 50
    behind, half of the 50 'cancelled' ahead → front 25; the 40-share print then consumed 25 and filled
    min(15, 40 − 25) = 15 shares. Every probabilistic model must give 0 here."""
    md = make_md(DOUBLE_COUNT["rows"], DOUBLE_COUNT["trades"])
    for name in ("probabilistic", "power", "log", "power2", "log2", "power3"):
        assert _rested(md, QueueFill(model=name, power=2.0)) == 0, name
    assert _rested(md, QueueFill(model="conservative")) == 0


def test_old_rule_would_have_filled_15():
    """The same sequence through the pre-fix arithmetic (prints then the full drop as a cancel) gives 15:
    an independent re-computation of the bug the test above guards against."""
    front, level = 100.0, 100.0
    front -= 50                       # print of 50
    behind = level - front            # 50: the printed shares wrongly still counted behind us
    share = front ** 2 / (front ** 2 + behind ** 2)
    front = min(front - share * (100 - 50), 50)   # 25
    filled = min(15, 40 - front)      # print of 40
    assert filled == 15


def test_cancels_move_us_up_by_the_probability_rule():
    """Level 100, we at the back (front 100); it shrinks to 60 without prints: chg = 40, back = 0.
    power: p = f(0)/(f(0)+f(100)) = 0 → front = 100 − 40 + min(0 − 0, 0) = 60. Then a front-of-queue check
    with back > 0: front 30, level 60 (back 30), shrink to 40 (chg 20): power n=1 p = 30/60 = ½ → front = 30 − 10
    = 20; power3 n=2: p = 1 − (30/60)² = ¾ → 30 − 5 = 25; log: p = ln31/(ln31+ln31) = ½ → 20; power2 n=1:
    p = 30/60 = ½ → 20; conservative: min(30, 40) = 30."""
    for name in ("power", "power3", "log", "power2", "log2"):
        m = make_queue_model(QueueFill(model=name, power=2.0))
        s = QueueState.join(100)
        m.on_level(s, 60)
        assert s.front == pytest.approx(60) and s.level == 60
    cases = {("power", 1.0): 20, ("power3", 2.0): 25, ("log", 1.0): 20, ("power2", 1.0): 20}
    for (name, n), want in cases.items():
        s = QueueState(front=30, level=60)
        ProbQueue(name, n).on_level(s, 40)
        assert s.front == pytest.approx(want), name
    s = QueueState(front=30, level=60)
    ConservativeQueue().on_level(s, 40)
    assert s.front == 30


def test_trade_through_fills_everything_and_prints_above_do_not_touch_us():
    """A sell print above our price (10.01 > 10.00) does nothing; one below (9.99) traded through us: all 70 fill."""
    s = QueueState.join(500)
    m = ConservativeQueue()
    assert fill_from_prints(m, s, 70, 10.00, np.array([10.01]), np.array([900])) == 0 and s.front == 500
    assert fill_from_prints(m, s, 70, 10.00, np.array([9.99]), np.array([1])) == 70 and s.front == 0


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["conservative", "power", "log", "power2", "log2", "power3"]),
       st.floats(0.1, 5.0), st.integers(1, 5000), st.integers(1, 2000),
       st.lists(st.tuples(st.booleans(), st.integers(0, 3000)), max_size=30))
def test_invariants(name, n, level, qty, events):
    """Any sequence of prints (True) and level changes (False): 0 <= front <= level, filled <= qty."""
    m = make_queue_model(QueueFill(model=name, power=n))
    s = QueueState.join(level)
    filled = 0
    for is_print, x in events:
        if is_print:
            filled += fill_from_prints(m, s, qty - filled, 10.0, np.array([10.0]), np.array([x]))
        else:
            m.on_level(s, x)
        assert 0 <= s.front <= max(s.level, 0) + 1e-9 or (is_print and s.front <= s.level)
        assert s.front >= 0
        assert filled <= qty


def test_config_is_validated():
    with pytest.raises(ConfigError, match="'conservative', 'probabilistic'"):
        QueueFill(model="optimistic")
    with pytest.raises(ConfigError, match="power"):
        QueueFill(model="power3", power=float("nan"))
    with pytest.raises(ConfigError, match="seed"):
        QueueFill(model="simple", seed=-1)
    assert set(QUEUE_MODELS) >= {"conservative", "power", "log", "power2", "log2", "power3", "simple"}


def test_simple_model_probability_and_slippage_and_determinism():
    """0.9·(1 − x): x = 0 → 0.9, x = ½ → 0.45, x = 1 → 0; slippage 0.0005·200/400 = 0.00025 of the price."""
    from sorlib.sim.queue import fill_probability, slippage

    assert [fill_probability(x) for x in (0, 0.5, 1)] == [0.9, 0.45, 0.0]
    assert slippage(200, 400) == pytest.approx(0.00025)
    a = [SimpleQueue(np.random.default_rng(7)).fill(1000, 0.5) for _ in range(3)]
    assert a[0] == a[1] == a[2]
    assert SimpleQueue(np.random.default_rng(1)).fill(1000, 1.0) == 0
    md = make_md(DOUBLE_COUNT["rows"], DOUBLE_COUNT["trades"])
    r1 = _rested(md, QueueFill(model="simple", seed=3), qty=1000)
    assert r1 == _rested(md, QueueFill(model="simple", seed=3), qty=1000)


def test_fee_regimes():
    """cap10: XNAS 0.0030/0.0029 → fee 0.0010, rebate 0.0029 − 0.0020 = 0.0009; NYSE 0.0030/0.0020 → 0.0010/0;
    an inverted venue (−0.0005/−0.0010) is unchanged; cap30 changes none of the defaults; idempotent."""
    t = VenueTable.load()
    x = apply_fee_regime(t.profile(2), "cap10")
    assert (x.taker_fee, x.maker_rebate) == (0.001, pytest.approx(0.0009))
    assert apply_fee_regime(x, "cap10") == x
    n = apply_fee_regime(t.profile(9), "cap10")
    assert (n.taker_fee, n.maker_rebate) == (0.001, 0.0)
    assert apply_fee_regime(t.profile(6), "cap10") == t.profile(6)
    assert all(apply_fee_regime(t.profile(k), "cap30") == t.profile(k) for k in t.keys())
    with pytest.raises(ConfigError, match="cap30"):
        apply_fee_regime(t.profile(2), "cap5")


def test_profile_fields_are_validated(tmp_path):
    with pytest.raises(ConfigError, match="fade_fraction"):
        VenueProfile(key=1, name="x", fade_fraction=1.5)
    with pytest.raises(ConfigError, match="fill_prob_by_position"):
        VenueProfile(key=1, name="x", fill_prob_by_position=(0.1, 0.2))
    f = tmp_path / "v.toml"
    f.write_text("[venue.2]\nqueue_cancel_bias = 2.5\nfill_prob_by_position = [0.9, 0.8, 0.7, 0.6, 0.5]\n")
    p = VenueTable.load(f).profile(2)
    assert p.queue_cancel_bias == 2.5 and p.fill_prob_by_position == (0.9, 0.8, 0.7, 0.6, 0.5)


def test_positive_control_a_further_print_reaches_us():
    """The same sequence plus a 40-share print at t=5: front is 10, so 30 shares reach us and all 15 fill
    (under every model: no cancel happened, they all agree)."""
    md = make_md(DOUBLE_COUNT["rows"], [*DOUBLE_COUNT["trades"], (5, 1, 10.00, 40, -1)])
    for name in ("conservative", "power", "log", "power2", "log2", "power3"):
        assert _rested(md, QueueFill(model=name)) == 15, name


def test_paper_and_haircut_are_named_and_validated():
    """``paper`` is one of the queue models; ``haircut`` must be a fraction in (0, 1]; floor(h × fill)."""
    assert "paper" in QUEUE_MODELS and QueueFill(model="paper").model == "paper"
    for bad in (0.0, -0.5, 1.5, float("nan"), True, "half"):
        with pytest.raises(ConfigError, match="haircut"):
            QueueFill(haircut=bad)
    h = QueueFill(haircut=0.5)
    assert (h.credit(15), h.credit(7), h.credit(1), QueueFill().credit(7)) == (7, 3, 0, 7)
    assert QueueFill(haircut=0.3).credit(10) == 3  # 0.3 · 10 = 2.9999999999999996 in floats, still 3


# Venue 1 bids 10.00×100 from t=0; we rest 15 behind it. t=1: a 115-share sell print at 10.00 (100 to the queue
# ahead, 15 reach us); t=2: the level re-sent.
AT_PRICE = dict(rows=[(0, 1, 10.00, 100, 10.01, 100), (2, 1, 10.00, 100, 10.01, 100)],
                trades=[(1, 1, 10.00, 115, -1)])


def test_haircut_half_credits_half_of_each_fill_floored():
    """Conservative model: the 115-share print fills all 15 (115 − 100 ahead). haircut 0.5 credits
    floor(7.5) = 7; the other 8 leave the resting order (the clean-up buys them at the deadline)."""
    md = make_md(AT_PRICE["rows"], AT_PRICE["trades"])
    assert _rested(md, QueueFill()) == 15
    assert _rested(md, QueueFill(haircut=0.5)) == 7
    assert _rested(md, QueueFill(model="power", haircut=0.5)) == 7


def test_ineligible_prints_fill_nothing():
    """The same tape with the print marked not book-eligible (e.g. an AlgoSeek average-price report): it
    cannot reach our order, so 0 fill; marked eligible it fills the 15 of the test above."""
    md = make_md(AT_PRICE["rows"], AT_PRICE["trades"])
    off = replace(md, trades=replace(md.trades, eligible=np.array([False])))
    on = replace(md, trades=replace(md.trades, eligible=np.array([True])))
    assert _rested(off, QueueFill()) == 0
    assert _rested(on, QueueFill()) == 15
    # the same print through our price (9.99) is ignored too when ineligible
    thr = make_md(AT_PRICE["rows"], [(1, 1, 9.99, 5, -1)])
    assert _rested(thr, QueueFill()) == 15
    assert _rested(replace(thr, trades=replace(thr.trades, eligible=np.array([False]))), QueueFill()) == 0


def test_print_below_our_price_fills_only_when_the_venue_bid_was_at_or_above_it():
    """We rest 15 at 10.00 behind 100. t=1 venue 1's quote row shows its bid at 9.98 (its level is below ours:
    on NBBO-only rows the venue's own 10.00 queue is not known); t=2 a 5-share sell print at 9.98 there: it
    cannot be placed against our level, so it is ignored → 0 (before this rule: a trade-through, all 15).
    Control: the t=1 row keeps the bid at 10.00×100 and the print is at 9.99 — the venue's bid just before it
    was at our price, so the print traded through us: all 15 fill, recorded as a trade-through."""
    low = make_md([(0, 1, 10.00, 100, 10.01, 100), (1, 1, 9.98, 50, 10.01, 100), (3, 1, 9.98, 50, 10.01, 100)],
                  [(2, 1, 9.98, 5, -1)])
    assert _rested(low, QueueFill()) == 0
    ok = make_md([(0, 1, 10.00, 100, 10.01, 100), (1, 1, 10.00, 100, 10.01, 100), (3, 1, 9.99, 50, 10.01, 100)],
                 [(2, 1, 9.99, 5, -1)])
    ex = replay(Book.from_market(ok), RestAtBid(15), [ParentOrder(0, 0, 100 * S, 15)], fill_model=QueueFill())
    rest = ex.fills.kind == KIND_REST
    assert ex.fills.qty[rest].tolist() == [15] and ex.fill_through[rest].tolist() == [1]


def test_fill_parts_splits_at_price_and_through_fills():
    """Front 100: a 130 print at 10.00 gives 30 at our price; then a print at 9.99 fills the 20 left through
    it — unless ``through_ok`` says the venue's bid was below us (then ignored: 30, 0); an ineligible print
    is skipped entirely (0, 0)."""
    m = ConservativeQueue()
    px, sz = np.array([10.00, 9.99]), np.array([130, 1])
    assert fill_parts(m, QueueState.join(100), 50, 10.00, px, sz) == (30, 20)
    assert fill_parts(m, QueueState.join(100), 50, 10.00, px, sz, through_ok=np.array([True, False])) == (30, 0)
    assert fill_parts(m, QueueState.join(100), 50, 10.00, px, sz, eligible=np.array([False, False])) == (0, 0)
