"""The replay's resting-order path (sorlib.engine.replay._advance_resting) against a brute-force reference.

The replay keeps, per resting order, a cursor into its venue's prints (cached per book) and skips the quote
step while the venue's row is unchanged. The reference below is the direct rule: at every step it rescans
all prints since the order's last step with a mask (venue, seller-initiated, book-eligible), builds the
queue model again and applies the quote row every time. Both must give identical fills, bit for bit."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from sorlib.engine.book import Book
from sorlib.engine.replay import replay
from sorlib.sim.queue import QueueFill, QueueState, SimpleQueue, fill_parts, make_queue_model, rng_for
from sorlib.strategies import ContKukanov
from sorlib.strategies.base import ParentOrder
from sorlib.synth import default_market

R = importlib.import_module("sorlib.engine.replay")
M = 60_000_000_000  # ns per minute


def _reference(book, resting, rows, t, order, rec, rebate, remaining, cfg):
    """The direct per-step rule (see the module docstring); ``r.trade_pos`` is the first print not yet seen."""
    end = int(np.searchsorted(book.trades_ts, t, side="right"))
    for r in resting:
        if r.qty <= 0 or remaining <= 0:
            continue
        v = book.venues[r.k]
        n = getattr(book.profiles[r.k], "queue_cancel_bias", None) if cfg.venue_power else None
        model = make_queue_model(cfg, n)
        if r.queue is None:
            r.queue = QueueState.join(r.ahead)
        st = r.queue
        if end > r.trade_pos:
            sl = slice(r.trade_pos, end)
            sel = (book.trades_venue[sl] == v) & (book.trades_side[sl] < 0)
            if book.trades_eligible is not None:
                sel &= book.trades_eligible[sl]
            if sel.any():
                px, sz = book.trades_px[sl][sel], book.trades_sz[sl][sel]
                ok = R._through_ok(book, r.k, book.trades_ts[sl][sel], px, r.price)
                left = min(r.qty, remaining)
                if cfg.model == "simple":
                    pos = st.position
                    fill_parts(model, st, left, r.price, px, sz, through_ok=ok)
                    below = (px < r.price - 1e-9) & ok
                    hit = bool(((np.abs(px - r.price) <= 1e-9) | below).any())
                    filled = SimpleQueue(rng_for(cfg.seed, order.order_id, int(v), t)).fill(left, pos) if hit else 0
                    at, thr = (0, filled) if below.any() else (filled, 0)
                else:
                    at, thr = fill_parts(model, st, left, r.price, px, sz, through_ok=ok)
                for q, through in ((at, False), (thr, True)):
                    got = min(cfg.credit(q), remaining)
                    rec.add(order.order_id, int(t), int(v), got, r.price, -float(rebate[r.k]), R.KIND_REST,
                            through=through)
                    r.qty -= q
                    remaining -= got
            r.trade_pos = end
        row = rows[r.k]
        if row >= 0:
            bpx, bsz = book.bid_px[row, 0], float(book.bid_sz[row, 0])
            if not np.isfinite(bpx) or bpx < r.price - 1e-9:
                st.front, st.level, st.printed = 0.0, 0.0, 0.0
            elif abs(bpx - r.price) <= 1e-9 and bsz != st.level:
                model.on_level(st, bsz)
        r.ahead, r.level_sz = st.front, st.level
    return remaining


@pytest.fixture(scope="module")
def book():
    return Book.from_market(default_market(seed=0, minutes=60))


def _orders(book, side):
    t0 = int(book.times[0])
    return [ParentOrder(i, t0 + i * 20 * M + 1, t0 + i * 20 * M + 15 * M, 5000, side) for i in range(3)]


def _same(a, b):
    arrays = [(getattr(a.fills, f), getattr(b.fills, f)) for f in vars(a.fills)]
    arrays += [(a.fill_through, b.fill_through), (a.fill_impact, b.fill_impact), (a.unfilled, b.unfilled),
               (a.beyond_book, b.beyond_book)]
    return all(np.array_equal(x, y) for x, y in arrays)


@pytest.mark.parametrize("market,side,qf", [
    ("frozen", 1, None), ("realistic", 1, None), ("realistic", -1, None),
    ("frozen", 1, QueueFill(model="simple", seed=3)), ("frozen", -1, QueueFill(model="power3", venue_power=True)),
    ("realistic", 1, QueueFill(model="log", haircut=0.5))])
def test_resting_fills_match_the_brute_force_rule(book, monkeypatch, market, side, qf):
    """A CK router that posts limit orders (λ_over = λ_under = 0.01, θ_queue = 0.0005 $/share) on three orders
    of 5000 shares every 20 min: the fast path and the reference give the same fills, and resting fills
    happen (so the comparison is not vacuous)."""
    def run():
        ck = ContKukanov(lambda_over=0.01, lambda_under=0.01, theta_queue=0.0005)
        return replay(book, ck, _orders(book, side), fill_model=qf, market=market)

    fast = run()
    monkeypatch.setattr(R, "_advance_resting", _reference)
    ref = run()
    assert (ref.fills.kind == R.KIND_REST).sum() > 10
    assert _same(fast, ref)


def test_venue_prints_are_the_masked_prints(book):
    """The cached per-venue index equals the mask (venue, side < 0, eligible) over all prints, in order."""
    for k in range(book.venues.shape[0]):
        idx, ts = R._venue_prints(book, k)
        sel = (book.trades_venue == book.venues[k]) & (book.trades_side < 0)
        if book.trades_eligible is not None:
            sel &= book.trades_eligible
        assert np.array_equal(idx, np.flatnonzero(sel)) and np.array_equal(ts, book.trades_ts[sel])
        assert R._venue_prints(book, k)[0] is idx  # built once per book
