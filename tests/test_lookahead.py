"""No look-ahead, by construction: rewriting the future never changes a decision already taken.

For every concrete Strategy subclass anywhere in :mod:`sorlib` (discovered, so strategies added later are
checked too; the risk guard included), replay a small multi-venue tape; then for decision times t_i, rewrite every quote and print stamped
after t_i (other prices, sizes and aggressor sides), replay again and require the decisions at t ≤ t_i to
be identical. A deliberately peeking strategy shows that the check can fail.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import replace

import numpy as np
import pytest

import sorlib
from sorlib.allocation import SizingRules
from sorlib.engine import Book, replay
from sorlib.risk import RiskControls
from sorlib.strategies import TWAP, Decision, ParentOrder, Router, Strategy

S = 1_000_000_000

#: every control that reads the past: venue scores (own fills, fades, markouts), exposure, LULD band, halt gap,
#: kill switch, latency-aware cost
ALL_CONTROLS = dict(scoring={}, exposure={"pct": 40}, luld_band_pct=5, halt_gap_seconds=30, kill_bps=50,
                    latency={"mode": "cost"})

#: constructor arguments per class name (a callable builds fresh ones per replay, for wrapped strategies);
#: a class not listed is built with its defaults
VARIANTS: dict[str, list] = {
    "Router": [dict(mode="spec"), dict(mode="uncapped", rest_seconds=10, lookback_minutes=1, lambda_under=0.001,
                                       theta_queue=0.0)],
    "ContKukanov": [dict(horizon_seconds=10, lookback_minutes=1, n_iter=300)],
    "TWAP": [dict(bucket_seconds=20)],
    # schedules x allocators (sorlib.schedules), and child-order sizing rules (participation reads the past)
    "Scheduled": [dict(schedule="adaptive", allocator="router", bucket_seconds=20),
                  dict(schedule="ac", allocator="best_ask", bucket_seconds=20, risk_aversion=1e-4),
                  dict(schedule="vwap", allocator="sweep", bucket_seconds=20,
                       sizing=SizingRules(max_child=300, participation_pct=20, min_trade=100, lots=True,
                                          lot_size=100))],
    "VWAP": [dict(weights="traded", bucket_seconds=20), dict(weights="displayed", bucket_seconds=20)],
    "RiskGuard": [lambda: dict(strategy=Router(mode="uncapped", rest_seconds=10, lookback_minutes=1),
                               controls=RiskControls.from_dict(ALL_CONTROLS)),
                  lambda: dict(strategy=TWAP(bucket_seconds=20), controls=RiskControls.from_dict(ALL_CONTROLS),
                               latency_us={0: 200_000, 1: 5_000})],
}


def strategy_classes() -> list[type[Strategy]]:
    """Every concrete Strategy subclass defined in a module of :mod:`sorlib` (``__main__`` modules skipped)."""
    found = {}
    for mod in pkgutil.walk_packages(sorlib.__path__, "sorlib."):
        if mod.name.endswith("__main__"):
            continue
        m = importlib.import_module(mod.name)
        for _, cls in inspect.getmembers(m, inspect.isclass):
            if (issubclass(cls, Strategy) and cls is not Strategy and cls.__module__ == mod.name
                    and not inspect.isabstract(cls)):
                found[cls.__qualname__] = cls
    return [found[k] for k in sorted(found)]


def cases() -> list:
    out = []
    for cls in strategy_classes():
        for i, kw in enumerate(VARIANTS.get(cls.__name__, [{}])):
            out.append(pytest.param(cls, kw, id=f"{cls.__name__}-{i}"))
    return out


@pytest.fixture(scope="module")
def md():
    from sorlib.synth import generate_market

    return generate_market(venues=3, seed=2, minutes=5)


def orders_for(md) -> list[ParentOrder]:
    t0 = int(md.quotes.ts[0])
    return [ParentOrder(0, t0 + 90 * S, t0 + 150 * S, 3000), ParentOrder(1, t0 + 180 * S, t0 + 240 * S, 2000)]


def rewrite_after(md, t_ns: int):
    """The same tape with every record stamped after ``t_ns`` changed: prices + 1.00 $, sizes × 3 + 7,
    aggressor sides flipped (timestamps and venues kept)."""
    q, tr = md.quotes, md.trades
    fq, ft = (q.ts > t_ns)[:, None], tr.ts > t_ns
    grow = lambda a, m: np.where(m & (a > 0), a * 3 + 7, a)  # noqa: E731
    quotes = replace(q, bid_px=np.where(fq, q.bid_px + 1.0, q.bid_px), ask_px=np.where(fq, q.ask_px + 1.0, q.ask_px),
                     bid_sz=grow(q.bid_sz, fq), ask_sz=grow(q.ask_sz, fq))
    trades = replace(tr, price=np.where(ft, tr.price + 1.0, tr.price), size=grow(tr.size, ft),
                     side=np.where(ft, -tr.side, tr.side).astype(tr.side.dtype))
    return replace(md, quotes=quotes, trades=trades)


def decisions(make, md, orders) -> list[tuple]:
    """Every decision of a fresh ``make(book)`` over ``orders``: (order, t, market, limit, wake)."""
    book = Book.from_market(md)
    strat = make(book)
    log: list[tuple] = []
    decide = strat.decide

    def recording(view):
        d = decide(view)
        log.append((view.order.order_id, int(view.t_ns), tuple(np.asarray(d.market).tolist()),
                    None if d.limit is None else tuple(np.asarray(d.limit).tolist()), d.wake_ns))
        return d

    strat.decide = recording
    replay(book, strat, orders)
    return log


def check_no_lookahead(make, md, orders, n_times: int = 6) -> int:
    """Raise AssertionError when a decision at t ≤ t_i changes after rewriting the data stamped after t_i,
    for ``n_times`` decision times t_i spread over all decisions. Returns the number of decisions checked."""
    base = decisions(make, md, orders)
    assert base, "the strategy took no decision on this tape"
    times = np.array(sorted({d[1] for d in base}))
    for ti in times[np.unique(np.linspace(0, len(times) - 1, n_times).astype(int))]:
        again = decisions(make, rewrite_after(md, int(ti)), orders)
        before = [d for d in base if d[1] <= ti]
        after = [d for d in again if d[1] <= ti]
        assert before == after, (f"decisions at or before t={int(ti)} changed when the data after it was "
                                 f"rewritten: first difference "
                                 f"{next((a, b) for a, b in zip(before + [None], after + [None], strict=False) if a != b)}")
    return len(base)


def test_every_strategy_class_is_covered():
    names = {c.__name__ for c in strategy_classes()}
    assert names >= {"BestAsk", "ContKukanov", "Router", "TWAP", "VWAP", "Scheduled", "RiskGuard"}


@pytest.mark.parametrize("cls, kwargs", cases())
def test_no_strategy_looks_ahead(md, cls, kwargs):
    n = check_no_lookahead(lambda book: cls(**(kwargs() if callable(kwargs) else kwargs)), md, orders_for(md))
    assert n >= 2


class Peeker(Strategy):
    """Cheats: handed the Book, buys 100 shares whenever the next print is more than 0.50 $ above the best
    ask (never in the data: prints trade inside the quotes; always once the future is shifted up 1.00 $)."""

    name = "peeker"

    def __init__(self, book: Book) -> None:
        self.book = book

    def decide(self, view) -> Decision:
        out = np.zeros(len(view.venues), np.int64)
        i = int(np.searchsorted(self.book.trades_ts, view.t_ns, side="right"))
        touch = np.where(view.ask_avail[:, 0] > 0, view.ask_px[:, 0], np.inf)
        if i < len(self.book.trades_px) and np.isfinite(touch).any() and \
                self.book.trades_px[i] > touch.min() + 0.5:
            out[int(np.argmin(touch))] = min(100, view.remaining, int(view.ask_avail[int(np.argmin(touch)), 0]))
        return Decision(out)


def test_the_check_catches_a_peeking_strategy(md):
    with pytest.raises(AssertionError, match="changed when the data after it was rewritten"):
        check_no_lookahead(Peeker, md, orders_for(md))


def test_the_view_holds_nothing_after_its_time(md):
    """Every accessor of ``view.past`` returns records stamped at or before the view's time, even when asked
    for a window reaching beyond it."""
    book = Book.from_market(md)
    seen = []

    class Probe(Strategy):
        name = "probe"

        def decide(self, view):
            far = view.t_ns + 3600 * S
            tr, qh = view.past.trades(None, far), view.past.quotes(view.t_ns - 10 * S, far)
            xi = view.past.outflow(0, np.array([view.t_ns - 5 * S, view.t_ns]), far)
            seen.append((view.t_ns, tr.ts.max(initial=0), qh.times.max(initial=0), xi))
            # the batch accessors: times asked beyond t are clipped to t (the snapshot in force at t)
            p = view.past
            asked = np.array([view.t_ns - 7 * S, view.t_ns, far])
            assert p.quote_times(view.t_ns - 10 * S, far).tolist() == qh.times.tolist()
            assert p.trade_prices(None, far).tolist() == tr.price.tolist()
            assert p.trade_volume(view.t_ns - 10 * S, far) == int(p.trades(view.t_ns - 10 * S, far).size.sum())
            top = p.quotes(view.t_ns - 10 * S, far, levels=1)
            assert np.array_equal(top.ask_px[..., 0], qh.ask_px[..., 0], equal_nan=True)
            at = p.book_at(asked)
            assert at.times.max() <= view.t_ns and np.array_equal(at.ask_px[1], at.ask_px[2], equal_nan=True)
            if len(qh.times):
                assert np.array_equal(at.ask_px[2], qh.ask_px[-1], equal_nan=True) and at.times[2] == qh.times[-1]
            t3, px3, _ = p.ask_at(asked, [0, 1, 2])
            assert np.array_equal(px3[2], at.ask_px[2, 2], equal_nan=True) and t3.tolist() == at.times.tolist()
            mid = p.nbbo_mid(asked)
            assert np.array_equal(mid[1:], np.full(2, mid[2]), equal_nan=True)
            if len(qh.times) and np.isfinite(qh.bid_px[-1]).any() and np.isfinite(qh.ask_px[-1, :, 0]).any():
                assert mid[2] == 0.5 * (np.nanmax(qh.bid_px[-1]) + np.nanmin(qh.ask_px[-1, :, 0]))
            return Decision.nothing(len(view.venues), view.t_ns + 20 * S)

    replay(book, Probe(), orders_for(md))
    assert len(seen) >= 4
    from sorlib.ck.outflow import bid_queue_flow

    for t, tmax, qmax, xi in seen:
        assert tmax <= t and qmax <= t
        # the outflow equals the one measured on the data stamped at or before t alone
        alone = bid_queue_flow(md, int(book.venues[0]), before_ns=t + 1).outflow([t - 5 * S, t], t + 1)
        assert xi.tolist() == alone.tolist()
