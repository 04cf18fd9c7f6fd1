"""Quote fade (sorlib.sim.fade): taking at one venue thins the others' displayed size at that price."""

from __future__ import annotations

import numpy as np
import pytest
from test_engine import S, make_md

from sorlib.engine import Book, replay
from sorlib.engine.replay import KIND_CLEANUP
from sorlib.errors import ConfigError
from sorlib.sim import FadeModel, MarketModel, estimate_fade, fade_shares, unit_hash
from sorlib.strategies import BestAsk, Decision, ParentOrder


def _fade(fraction: float, lot: int = 1, **kw) -> MarketModel:
    return MarketModel(name="fade", fade=FadeModel(enabled=True, fraction=fraction, lot_shares=lot, **kw))


class Spray(BestAsk):
    """Sends, at every decision, what each venue shows at its touch (up to the remainder), venue 1 first."""

    def decide(self, view):
        want = np.minimum(view.ask_avail[:, 0], view.remaining).astype(np.int64)
        return Decision(want)


@pytest.mark.parametrize("fraction,lot,gone", [(0.2, 1, 200), (0.16, 1, 160), (0.2, 100, 200), (0.25, 100, 300)])
def test_taking_at_a_fades_b_at_the_same_price(fraction, lot, gone):
    """A (venue 1) shows 500 @ 10.00, B (venue 2) 1,200 @ 10.00 (1,000 for the first three cases). Our order of
    1,700 is sent to both at t=0; A fills first (venue order) and B then offers only displayed − fade:
    0.2·1,000 = 200, 0.16·1,000 = 160, 2 lots of 100 = 200, 0.25·1,200 = 3 lots = 300."""
    b_size = 1_200 if fraction == 0.25 else 1_000
    md = make_md([(0, 1, 9.99, 100, 10.00, 500), (0, 2, 9.99, 100, 10.00, b_size)])
    ex = replay(Book.from_market(md), Spray(), [ParentOrder(0, 0, 10 * S, 500 + b_size)], market=_fade(fraction, lot))
    f = ex.fills
    take = f.kind != KIND_CLEANUP
    assert f.qty[take & (f.venue == 1)].sum() == 500
    assert f.qty[take & (f.venue == 2)].sum() == b_size - gone
    assert f.qty[f.kind == KIND_CLEANUP].sum() == gone
    frozen = replay(Book.from_market(md), Spray(), [ParentOrder(0, 0, 10 * S, 500 + b_size)]).fills
    assert frozen.qty[(frozen.kind != KIND_CLEANUP) & (frozen.venue == 2)].sum() == b_size


def test_fade_is_only_at_the_price_taken_and_restored_when_b_requotes():
    """A: 500 @ 10.00, B: 1,000 @ 10.00; fade 20 %. At t=0 A fills 500 and B offers 800 (fills 800). At t=1 s B
    re-sends the same quote (a new record): the fade is gone while what we took stays taken
    (min(800, 1,000) = 800), so 200 more are available at B and bought; the last 200 go to the clean-up."""
    rows = [(0, 1, 9.99, 100, 10.00, 500)]
    md = make_md(rows + [(0, 2, 9.98, 100, 10.00, 1_000), (1, 2, 9.98, 100, 10.00, 1_000)])
    seen = []

    class Probe(Spray):
        def decide(self, view):
            seen.append(view.ask_avail[:, 0].tolist())
            return super().decide(view)

    ex = replay(Book.from_market(md), Probe(), [ParentOrder(0, 0, 10 * S, 1_700)], market=_fade(0.2))
    f = ex.fills
    assert seen[0] == [500, 1_000]
    assert seen[-1] == [0, 200]  # after B's new record: the fade is restored
    assert f.qty[(f.venue == 2) & (f.kind != KIND_CLEANUP)].tolist() == [800, 200]
    assert f.qty[f.kind == KIND_CLEANUP].sum() == 200


def test_fade_leaves_other_prices_alone():
    """B's ask is 10.01 (not the 10.00 we took at A): nothing fades there."""
    md = make_md([(0, 1, 9.99, 100, 10.00, 500), (0, 2, 9.99, 100, 10.01, 1_000)])
    ex = replay(Book.from_market(md), Spray(), [ParentOrder(0, 0, 10 * S, 1_500)], market=_fade(0.5))
    f = ex.fills
    assert f.qty[(f.venue == 2) & (f.kind != KIND_CLEANUP)].sum() == 1_000


def test_fade_shares_by_hand():
    assert fade_shares(1_000, 0.16).tolist() == 160
    assert fade_shares(250, 0.5).tolist() == 125
    # lots of 100: x = 0.16·300/100 = 0.48 lots → 0 or 100 shares, up with probability 0.48
    assert fade_shares(300, 0.16, 100, u=0.47).tolist() == 100
    assert fade_shares(300, 0.16, 100, u=0.49).tolist() == 0
    assert fade_shares(100, 1.0, 100, u=0.99).tolist() == 100  # never more than displayed
    draws = np.array([unit_hash(0, 7, b, r) for b in range(20) for r in range(500)])
    assert 0 <= draws.min() and draws.max() < 1 and abs(draws.mean() - 0.5) < 0.02
    assert unit_hash(1, 2, 3) == unit_hash(1, 2, 3) != unit_hash(1, 2, 4)


def test_estimate_fade_by_hand():
    """A buyer-initiated print at venue 1 @ 10.00 at t=1 s. Venue 2 shows 10.00 × 1,000 before it and 10.00 × 600
    2 ms later: a 40 % drop within the 5 ms window. Venue 3 shows 10.00 × 500 and moves its ask to 10.01 at
    t = 1.001 s: a full drop (100 %). Seller-initiated prints count for nothing."""
    md = make_md([(0, 1, 9.99, 100, 10.00, 300), (0, 2, 9.99, 100, 10.00, 1_000), (0, 3, 9.99, 100, 10.00, 500),
                  (1.002, 2, 9.99, 100, 10.00, 600), (1.001, 3, 9.99, 100, 10.01, 500)],
                 trades=[(1, 1, 10.00, 100, 1), (0.5, 1, 9.99, 100, -1)])
    est = estimate_fade(md)
    assert est == {2: pytest.approx(0.4), 3: pytest.approx(1.0)}


@pytest.mark.parametrize("bad", [dict(fraction=1.5), dict(fraction=-0.1), dict(by_venue={2: 2.0}),
                                 dict(reaction_us=-1), dict(lot_shares=0), dict(seed=-1)])
def test_bad_fade_settings_are_config_errors(bad):
    with pytest.raises(ConfigError):
        FadeModel(**bad)
