"""Outflow estimation on small hand-built books with known answers."""

import numpy as np
import pytest

from sorlib.ck.outflow import (
    bid_queue_flow,
    bid_queue_outflows,
    fit_outflow,
    outflow_matrix,
    outflow_samples,
    realised_outflow,
)
from sorlib.data.market import LoadReport, MarketData, Quotes, Trades


def _md(quotes, trades):
    """quotes: (ts, venue, bid_px, bid_sz); trades: (ts, venue, px, sz, side)."""
    q = np.array(quotes, dtype=float).reshape(-1, 4)
    t = np.array(trades, dtype=float).reshape(-1, 5)
    n = q.shape[0]
    Q = Quotes(q[:, 0].astype(np.int64), q[:, 1].astype(np.int32), q[:, 2:3].copy(),
               q[:, 3:4].astype(np.int64), np.full((n, 1), 20.0), np.full((n, 1), 100, np.int64))
    T = Trades(t[:, 0].astype(np.int64), t[:, 1].astype(np.int32), t[:, 2].copy(), t[:, 3].astype(np.int64),
               t[:, 4].astype(np.int8))
    return MarketData(Q, T, LoadReport("test", "test"))


QUOTES = [(0, 1, 10.00, 500), (10, 1, 10.00, 400), (20, 1, 10.00, 450), (30, 1, 9.99, 300),
          (40, 1, 10.01, 200), (50, 1, 10.01, 150),
          (0, 2, 5.00, 100), (25, 2, np.nan, 0), (35, 2, 5.00, 80)]
TRADES = [(5, 1, 10.02, 70, 1),     # buyer-initiated: ignored
          (10, 1, 10.00, 60, -1),   # at the bid, same stamp as the quote that shows it
          (12, 1, 9.98, 10, -1),    # not at the bid: ignored
          (45, 1, 10.01, 20, -1),   # at the new (higher) bid
          (36, 2, 5.00, 30, 0)]     # unknown side at the bid: counted
MD = _md(QUOTES, TRADES)


def test_events_touch_and_level():
    fl = bid_queue_flow(MD, 1)
    # 60 traded + 40 unexplained at t=10; 450 (price down) at t=30; 20 traded + 30 at t=45/50
    assert fl.outflow(0, 60, track="touch")[0] == pytest.approx(100 + 450 + 50)
    assert fl.outflow(0, 60, track="level")[0] == pytest.approx(100 + 450)
    assert fl.outflow(35, 60, track="level")[0] == 0.0  # queue at 9.99: never depleted after
    assert fl.outflow(35, 60, track="touch")[0] == pytest.approx(50)
    assert realised_outflow(MD, 1, 0, 60) == pytest.approx(550)
    assert realised_outflow(MD, 1, 0, 60, combine="sum") == pytest.approx(60 + 100 + 450)
    assert bid_queue_flow(MD, 1, combine="sum").outflow(0, 60, track="touch")[0] == pytest.approx(680)


def test_level_cleared_and_unknown_side():
    fl = bid_queue_flow(MD, 2)
    # level emptied at 25 → whole queue 100; then a new queue of 80 with an unknown-side print of 30
    # at the bid (the quote does not show it: 30 counted as a trade)
    assert fl.outflow(0, 30, track="touch")[0] == pytest.approx(100)
    assert fl.outflow(30, 60, track="touch")[0] == pytest.approx(30)


def test_windows_and_no_lookahead():
    s = bid_queue_outflows(MD, 30, before_ns=60, track="touch")
    np.testing.assert_allclose(s[1], [100, 500])
    s = bid_queue_outflows(MD, 30, before_ns=60)  # level: [30, 60) tracks 10.00, depleted at t=30
    np.testing.assert_allclose(s[1], [100, 450])
    np.testing.assert_allclose(s[2], [100, 0])
    X = outflow_matrix(s, [1, 2])
    assert X.shape == (2, 2)
    # sliding windows, most recent window ends at before_ns
    s = bid_queue_outflows(MD, 30, step_ns=10, before_ns=60, track="touch")
    assert s[1].size == 4  # ends 30, 40, 50, 60
    # no look-ahead: the answer does not depend on data at or after before_ns
    a = bid_queue_outflows(MD, 30, before_ns=35)
    b = bid_queue_outflows(MD.between(None, 35), 30, before_ns=35)
    np.testing.assert_allclose(a[1], b[1])
    np.testing.assert_allclose(a[1], [550])


def test_fit_outflow():
    rng = np.random.default_rng(0)
    x = rng.poisson(300, 4000)
    for dist in ("empirical", "poisson", "gamma", "negbin"):
        d = fit_outflow(x, dist)
        assert abs(d.mean - x.mean()) < 1.0
        med = d.quantile(0.5)
        assert d.cdf(med) >= 0.5 - 1e-9
        assert abs(med - np.median(x)) < 5
        s = d.sample(np.random.default_rng(1), 1000)
        assert s.shape == (1000,)
    assert fit_outflow(rng.gamma(2.0, 100, 3000), "negbin").name == "negbin"
    assert fit_outflow([5, 5, 5], "gamma").name == "empirical"
    with pytest.raises(ValueError):
        fit_outflow(x, "weibull")


def test_large_day_is_vectorised():
    rng = np.random.default_rng(2)
    n = 200_000
    ts = np.sort(rng.integers(0, 10**12, n))
    px = 100 + np.cumsum(rng.integers(-1, 2, n)) * 0.01
    q = np.column_stack([ts, rng.integers(1, 4, n), px, rng.integers(1, 1000, n)])
    md = _md(q, [(1, 1, 100.0, 10, -1)])
    import time

    t = time.perf_counter()
    s = bid_queue_outflows(md, 10**9, step_ns=10**8)
    assert time.perf_counter() - t < 10
    assert all(v.size == s[1].size for v in s.values()) and s[1].size > 9000


def _outflow_reference(flow, t0, t1):
    """The level-tracked outflow by its definition: per window, the events of the queue in force just
    before ``t0`` stamped in ``[t0, t1)``."""
    lvl = flow.level_before(t0)
    return np.array([flow.size[(flow.key == k) & (flow.ts >= a) & (flow.ts < b)].sum()
                     for k, a, b in zip(lvl, t0, t1, strict=True)])


def test_indexed_query_equals_the_definition():
    from sorlib.synth import default_market

    md = default_market(seed=0)
    rng = np.random.default_rng(0)
    lo, hi = int(md.quotes.ts.min()) - 10**9, int(md.quotes.ts.max()) + 10**9
    flows = {int(v): bid_queue_flow(md, int(v)) for v in md.venues}
    t0 = rng.integers(lo, hi, 300)
    t1 = t0 + rng.integers(0, 10**11, 300)
    for fl in flows.values():
        np.testing.assert_array_equal(fl.outflow(t0, t1), _outflow_reference(fl, t0, t1))
        assert fl.outflow(int(t0[0]), int(t1[0]))[0] == _outflow_reference(fl, t0[:1], t1[:1])[0]
    venues = list(flows)[::-1]
    xi = outflow_samples(flows, venues, t0, t1)
    assert xi.shape == (300, len(venues))
    np.testing.assert_array_equal(xi[:, 0], flows[venues[0]].outflow(t0, t1))
