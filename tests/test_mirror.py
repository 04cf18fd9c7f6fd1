"""The mirror image of a market (sorlib.data.mirror) and the sell = mirrored buy identity of the replay.

``mirror_market`` is checked by hand on a two-row tape and as an involution on the synthetic day. The replay
identity: a sell on a day must cost, per order and to the cent, the mirror of a buy of the same shares on
the day's mirror image about a centre C' *different from the library's own* C (which the engine uses to
replay sells; with the same C the comparison would be the same computation twice). With prices p ↦ C' − p a
buy fill of q at p' paying fee f is a sell fill at C' − p', so the sell's cost is Σ (−(C' − p') + f)·q.

What this proves: the engine's sell path (mirror about its C, replay the buy, map prices, impact and sides
back, merge by order) agrees with an independent mirror about another centre, for every strategy and
market preset — so the engine is also translation-invariant in price (no rule depends on the price level
beyond what the test sets equal: the impact model's σ and V are resolved once on the real day and given to
both replays). What it does not prove: that a mirrored buy is the right model of a sell — that is what the
hand-derived sell fills (tests/test_sides.py) check; nor that ``mirror_market`` itself is right (the
hand-built case below does). The fade model's lot-rounding draw is keyed by the price (:mod:`sorlib.sim.fade`),
so with ``lot_shares`` > 1 a sell sees other (equally distributed) draws than a buy on a mirror about another
centre: the cross-centre comparison sets ``lot_shares`` = 1 (no draw), and the default draws are checked
against the same centre.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from sorlib.data.market import LoadReport, MarketData, Quotes, Trades
from sorlib.data.mirror import mirror_center, mirror_market
from sorlib.engine import Book, replay
from sorlib.engine.replay import mirror_book
from sorlib.metrics import order_table
from sorlib.sim import market_model
from sorlib.strategies import TWAP, VWAP, BestAsk, ContKukanov, ParentOrder, Router

sys.path.insert(0, str(Path(__file__).parent))
from test_end_to_end import ORDER, VENUES, _tape  # noqa: E402  (the engine tests' hand-built tape)

S = 1_000_000_000
PRESETS = ("frozen", "latency", "impact", "fade", "realistic")
STRATEGIES = {
    "spec": lambda: Router(mode="spec"),
    "uncapped": lambda: Router(mode="uncapped", rest_seconds=10),
    "ck": lambda: ContKukanov(horizon_seconds=10, lookback_minutes=1, n_iter=300),
    "best_ask": BestAsk,
    "twap": lambda: TWAP(20),
    "vwap": lambda: VWAP("traded", 20),
}


def test_mirror_market_by_hand():
    """Venue 1 bids 9.99 x 100 / offers 10.01 x 300 (two levels: 9.98 x 50 / 10.02 x 70); a buyer-initiated
    print of 20 @ 10.01 and an unknown-side print. About C = 20: the mirror's bids are 20 − 10.01 = 9.99 x 300
    and 20 − 10.02 = 9.98 x 70, its asks 20 − 9.99 = 10.01 x 100 and 20 − 9.98 = 10.02 x 50; the print is at
    9.99, seller-initiated; the unknown side stays 0; times, venues, sizes and eligibility are kept."""
    q = Quotes(np.array([5], np.int64), np.array([1], np.int32), np.array([[9.99, 9.98]]),
               np.array([[100, 50]], np.int64), np.array([[10.01, 10.02]]), np.array([[300, 70]], np.int64))
    t = Trades(np.array([6, 7], np.int64), np.array([1, 1], np.int32), np.array([10.01, 10.0]),
               np.array([20, 5], np.int64), np.array([1, 0], np.int8), np.array([True, False]))
    m = mirror_market(MarketData(q, t, LoadReport("x", "y")), 20.0)
    assert m.quotes.bid_px.tolist() == [[9.99, 9.98]] and m.quotes.bid_sz.tolist() == [[300, 70]]
    assert m.quotes.ask_px.tolist() == [[10.01, 10.02]] and m.quotes.ask_sz.tolist() == [[100, 50]]
    assert m.trades.price.tolist() == [9.99, 10.0] and m.trades.side.tolist() == [-1, 0]
    assert m.trades.size.tolist() == [20, 5] and m.trades.eligible.tolist() == [True, False]
    assert m.quotes.ts.tolist() == [5] and m.trades.ts.tolist() == [6, 7]


@pytest.fixture(scope="module")
def day():
    from sorlib.synth import generate_market

    return generate_market(venues=3, seed=2, minutes=5)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


def test_mirror_is_an_involution_to_the_bit(day):
    """mirror(mirror(day, C), C) == day, every array bit for bit (prices on the 1e-8 grid); C is twice the
    day's first quoted price on the cent grid (the first row's bid), so that price maps onto itself."""
    c = mirror_center(day)
    assert round(c / 0.02) * 0.02 == pytest.approx(c, abs=1e-9)  # two ticks: the cent grid maps onto itself
    twice = mirror_market(mirror_market(day, c), c)
    for part in ("quotes", "trades"):
        a, b = getattr(day, part), getattr(twice, part)
        for name, x in vars(a).items():
            if x is not None:
                assert _same(x, getattr(b, name)), (part, name)
    first = day.quotes.bid_px[np.flatnonzero(np.isfinite(day.quotes.bid_px[:, 0]))[0], 0]
    assert c == pytest.approx(2 * first, abs=1e-9)


def test_centre_reads_only_the_first_record(day):
    """C is known before any order arrives: rewriting every record after the first quote time (prices + 1 $,
    as tests/test_lookahead.py does) leaves it unchanged — so a sell's view (prices C − p) cannot leak the
    future through C."""
    sys.path.insert(0, str(Path(__file__).parent))
    from test_lookahead import rewrite_after

    assert mirror_center(rewrite_after(day, int(day.quotes.ts[0]))) == mirror_center(day)


def _mirrored_cost(ex, center: float, n: int) -> np.ndarray:
    """Per order: the cost of the sells that mirror ``ex``'s buys about ``center`` ($): Σ (−(C − p) + f)·q."""
    f = ex.fills
    return np.bincount(f.order_id, weights=(-(center - f.price) + f.fee) * f.qty, minlength=n)[:n]


def _check(md: MarketData, sells: list[ParentOrder], market: dict | str, center: float, venues=None) -> tuple:
    """Sell on ``md`` vs buy on mirror(md, center): per-order costs to the cent, same shares per kind."""
    buys = [ParentOrder(o.order_id, o.arrival_ns, o.deadline_ns, o.size) for o in sells]
    mm = market_model(market).resolve(md)  # σ, V from the real day for both replays
    book = Book.from_market(md, venues)
    mirror = Book.from_market(mirror_market(md, center), venues)
    kinds = np.zeros(3)
    for name, make in STRATEGIES.items():
        sell = replay(book, make(), sells, market=mm)
        buy = replay(mirror, make(), buys, market=mm)
        got = order_table(sell)["total_cash"].to_numpy()
        want = _mirrored_cost(buy, center, len(sells))
        assert np.abs(got - want).max() < 0.005, (market, name, got, want)  # to the cent per order
        assert (sell.unfilled == buy.unfilled).all() and (sell.beyond_book == buy.beyond_book).all()
        assert np.array_equal(np.bincount(sell.fills.kind, sell.fills.qty, 3), np.bincount(buy.fills.kind,
                                                                                            buy.fills.qty, 3))
        assert (sell.fills.side == -1).all()
        kinds += np.bincount(sell.fills.kind, sell.fills.qty, 3)
    return center, kinds


@pytest.mark.parametrize("preset", PRESETS)
def test_sell_costs_the_mirror_of_a_buy_on_the_synthetic_day(day, preset):
    """Two sells (3,000 and 2,000 shares, 60 s each) on the synthetic day; the mirror centre C' = the library's
    C + 2.00 $ (fade draws off, module docstring)."""
    t0 = int(day.quotes.ts[0])
    sells = [ParentOrder(0, t0 + 90 * S, t0 + 150 * S, 3000, -1), ParentOrder(1, t0 + 180 * S, t0 + 240 * S, 2000, -1)]
    c_lib = mirror_book(Book.from_market(day))[0]
    _, kinds = _check(day, sells, {"preset": preset, "fade": {"lot_shares": 1}}, c_lib + 2.0)
    assert kinds[0] > 0  # marketable sells were taken


@pytest.mark.parametrize("preset", PRESETS)
def test_sell_costs_the_mirror_of_a_buy_on_the_engine_tape(preset):
    """The engine tests' tape (tests/test_end_to_end.py): a 500-share sell over 10 s, C' = C + 1.00 $."""
    book = _tape()
    sells = [ParentOrder(0, ORDER.arrival_ns, ORDER.deadline_ns, 500, -1)]
    _check(book.market, sells, {"preset": preset, "fade": {"lot_shares": 1}}, mirror_book(book)[0] + 1.0, VENUES)


def test_default_fade_draws_match_against_the_library_centre(day):
    """With the fade preset's own lot rounding (draws keyed by the price), a sell equals the mirror of a buy on
    the mirror about the library's centre C (the engine's sell path maps back exactly what it replayed)."""
    t0 = int(day.quotes.ts[0])
    sells = [ParentOrder(0, t0 + 90 * S, t0 + 150 * S, 3000, -1)]
    c_lib = mirror_book(Book.from_market(day))[0]
    _check(day, sells, "fade", c_lib)


def _real(name: str):
    import os

    root = os.environ.get("SORLIB_REAL_DATA")
    if not root:
        pytest.skip("SORLIB_REAL_DATA is not set")
    from sorlib.data import load

    return load(Path(root) / name)


@pytest.mark.real
@pytest.mark.slow
@pytest.mark.parametrize("name, preset", [("lean_algoseek_tick/ibm/20131007_quote.zip", "frozen"),
                                          ("lean_algoseek_tick/ibm/20131007_quote.zip", "realistic"),
                                          ("lobster_samples/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip", "frozen")])
def test_real_days_mirror_exactly(name, preset):
    """Real days (AlgoSeek IBM, one level; LOBSTER GOOG, ten levels): the mirror is an involution to the bit, and
    hourly 5,000-share sells cost the mirror of buys on the mirror about C + 2.00 $, to the cent, for every
    strategy (realistic: fade draws off, module docstring)."""
    md = _real(name)
    if "algoseek" in name:
        md = md.regular_hours()
    c = mirror_center(md)
    twice = mirror_market(mirror_market(md, c), c)
    for a in ("bid_px", "ask_px", "bid_sz", "ask_sz"):
        assert _same(getattr(md.quotes, a), getattr(twice.quotes, a)), a
    assert _same(md.trades.price, twice.trades.price) and _same(md.trades.side, twice.trades.side)
    from sorlib.backtest import parent_orders

    buys = parent_orders(Book.from_market(md), 5000, every_minutes=60, horizon_minutes=10)
    sells = [ParentOrder(o.order_id, o.arrival_ns, o.deadline_ns, o.size, -1) for o in buys]
    _check(md, sells, {"preset": preset, "fade": {"lot_shares": 1}}, c + 2.0)
