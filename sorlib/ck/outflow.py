"""Outflow ``ξ`` of each venue's best-bid queue, estimated from :class:`~sorlib.data.market.MarketData`.

Events, per venue, from its quote rows (top level) and prints (all vectorised numpy):

* **trades at the bid**: prints with ``side == -1`` (seller-initiated) — or ``side == 0`` (unknown) —
  whose price equals the bid in force before them (the venue's last quote row stamped strictly earlier;
  a print stamped with the same time as a quote row belongs to the interval that row closes);
* **unexplained decreases**, at each quote row ``i`` against row ``i−1``: same bid price → the size
  decrease ``max(sz_{i−1} − sz_i, 0)``; bid price down or level emptied (NaN) → the whole previous
  queue ``sz_{i−1}``; bid price up (or a level appearing) → 0, a new queue starts. With
  ``combine="max"`` (default) the trades of the interval are netted out — the event is
  ``max(d_i − t_i, 0)``, so interval outflow is ``max(d_i, t_i)`` and a trade that the quote update also
  shows is not counted twice; ``combine="sum"`` adds both (for feeds whose quotes do not reflect prints).

Every event carries the bid price of the queue it depleted. ``track="level"`` (default) counts, in a
window ``[t0, t1)``, only events of the queue at the price that was the best bid just before ``t0`` (the
queue a limit order joining at ``t0`` sits in: depletion of a higher, newer queue does not advance it);
``track="touch"`` counts the best queue whatever its price. Sizes in shares (float64 arrays).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numba as nb
import numpy as np
from scipy import stats

from ..data.market import MarketData

__all__ = ["BidQueueFlow", "bid_queue_flow", "bid_queue_outflows", "realised_outflow", "outflow_matrix",
           "outflow_samples", "OutflowDistribution", "fit_outflow"]

_PX_SCALE = 1e8  # prices compared on a 1e-8 $ grid


def _pkey(px: np.ndarray) -> np.ndarray:
    out = np.full(px.shape, np.iinfo(np.int64).min, dtype=np.int64)
    ok = np.isfinite(px)
    out[ok] = np.round(px[ok] * _PX_SCALE).astype(np.int64)
    return out


@dataclass(frozen=True)
class BidQueueFlow:
    """One venue's depletion events of its best-bid queue: time ``ts`` (ns, sorted), ``size`` (shares),
    ``key`` (bid price of the depleted queue on a 1e-8 $ grid), and the quote rows ``quote_ts``/``bid_key``
    to look up the best bid in force at any time. Build with :func:`bid_queue_flow`."""

    venue: int
    ts: np.ndarray
    size: np.ndarray
    key: np.ndarray
    quote_ts: np.ndarray
    bid_key: np.ndarray

    def level_before(self, t: np.ndarray) -> np.ndarray:
        """Bid key in force just before ``t`` (last quote row stamped ``< t``; the first row if none)."""
        i = np.searchsorted(self.quote_ts, t, side="left") - 1
        if self.bid_key.size == 0:
            return np.full(np.shape(t), np.iinfo(np.int64).min, dtype=np.int64)
        return self.bid_key[np.maximum(i, 0)]

    @cached_property
    def _by_level(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Events sorted by (price key, time) and the running sum of their sizes (built on first use)."""
        order = np.lexsort((self.ts, self.key))
        return (np.ascontiguousarray(self.key[order]), np.ascontiguousarray(self.ts[order]),
                np.concatenate([[0.0], np.cumsum(self.size[order])]))

    @cached_property
    def _cum(self) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum(self.size)])

    def outflow(self, t0, t1, track: str = "level") -> np.ndarray:
        """Outflow (shares) in each window ``[t0, t1)`` (arrays or scalars of ns). The event index is
        built once per flow; a query costs two binary searches per window (compiled)."""
        t0 = np.atleast_1d(np.asarray(t0, dtype=np.int64))
        t1 = np.ascontiguousarray(np.broadcast_to(np.asarray(t1, dtype=np.int64), t0.shape))
        if self.ts.size == 0:
            return np.zeros(t0.shape, dtype=float)
        if track == "touch":
            cs = self._cum
            return cs[np.searchsorted(self.ts, t1, "left")] - cs[np.searchsorted(self.ts, t0, "left")]
        if track != "level":
            raise ValueError("track must be 'level' or 'touch'")
        k_s, t_s, cs = self._by_level
        return _level_outflow(k_s, t_s, cs, np.ascontiguousarray(self.level_before(t0)), t0, t1)


@nb.njit(cache=True)
def _lower(x, v, lo, hi):  # pragma: no cover - compiled
    """First index ``i`` in ``[lo, hi)`` with ``x[i] >= v`` (``hi`` if none)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if x[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@nb.njit(cache=True)
def _level_outflow(k_s, t_s, cs, lvl, t0, t1):  # pragma: no cover - compiled
    """Per window: the summed size of the events of queue ``lvl[i]`` stamped in ``[t0[i], t1[i])``."""
    n = k_s.shape[0]
    out = np.zeros(t0.shape[0])
    for i in range(t0.shape[0]):
        a = _lower(k_s, lvl[i], 0, n)
        if a == n or k_s[a] != lvl[i]:
            continue
        b = _lower(k_s, lvl[i] + 1, a, n)
        out[i] = cs[_lower(t_s, t1[i], a, b)] - cs[_lower(t_s, t0[i], a, b)]
    return out


def outflow_samples(flows, venues, t0, t1, track: str = "level") -> np.ndarray:
    """Joint outflow samples ``(N, K)`` (shares): column ``k`` is ``flows[venues[k]].outflow(t0, t1)`` for the
    ``N`` windows ``[t0, t1)`` — the batched query of a router that keeps one :class:`BidQueueFlow` per venue
    (``flows``: a mapping venue → flow) and asks for the same windows on every venue."""
    t0 = np.atleast_1d(np.asarray(t0, dtype=np.int64))
    out = np.empty((t0.shape[0], len(venues)))
    for j, v in enumerate(venues):
        out[:, j] = flows[int(v)].outflow(t0, t1, track=track)
    return out


def bid_queue_flow(md: MarketData, venue: int, *, before_ns: int | None = None,
                   combine: str = "max") -> BidQueueFlow:
    """Depletion events of ``venue``'s best-bid queue (module docstring), from data stamped
    ``< before_ns`` when given."""
    if combine not in ("max", "sum"):
        raise ValueError("combine must be 'max' or 'sum'")
    q, t = md.quotes, md.trades
    qm = q.venue == venue
    tm = (t.venue == venue) & (t.side <= 0)
    if before_ns is not None:
        qm &= q.ts < before_ns
        tm &= t.ts < before_ns
    qts = q.ts[qm]
    order = np.argsort(qts, kind="stable")
    qts = qts[order]
    bp = q.bid_px[qm, 0][order]
    bs = q.bid_sz[qm, 0][order].astype(float)
    bkey = _pkey(bp)
    n = qts.size
    if n == 0:
        e = np.empty(0)
        return BidQueueFlow(int(venue), np.empty(0, np.int64), e, np.empty(0, np.int64), qts, bkey)
    # quote decreases, row i vs i-1 (i = 1..n-1)
    prev_ok = np.isfinite(bp[:-1])
    same = prev_ok & (bkey[1:] == bkey[:-1])
    down = prev_ok & (~np.isfinite(bp[1:]) | (bp[1:] < bp[:-1])) & ~same
    d = np.where(same, np.maximum(bs[:-1] - bs[1:], 0.0), np.where(down, bs[:-1], 0.0))
    # trades: interval index i (row i−1 is the queue hit); i = n means after the last row
    tts, tpx, tsz = t.ts[tm], t.price[tm], t.size[tm].astype(float)
    i = np.searchsorted(qts, tts, side="left")
    ok = i >= 1
    ref = np.where(ok, bkey[np.maximum(i - 1, 0)], np.iinfo(np.int64).min)
    hit = ok & (_pkey(tpx) == ref) & np.isfinite(bp[np.maximum(i - 1, 0)])
    tts, tsz, ti, tref = tts[hit], tsz[hit], i[hit], ref[hit]
    t_int = np.bincount(ti, weights=tsz, minlength=n + 1)[1:n]  # trades per interval 1..n-1
    extra = np.maximum(d - t_int, 0.0) if combine == "max" else d
    qe = extra > 0
    ts = np.concatenate([tts, qts[1:][qe]])
    size = np.concatenate([tsz, extra[qe]])
    key = np.concatenate([tref, bkey[:-1][qe]])
    o = np.argsort(ts, kind="stable")
    return BidQueueFlow(int(venue), ts[o], size[o], key[o], qts, bkey)


def realised_outflow(md: MarketData, venue: int, t0_ns: int, t1_ns: int, *, track: str = "level",
                     combine: str = "max") -> float:
    """Outflow (shares) realised on ``venue``'s best-bid queue in ``[t0_ns, t1_ns)`` — the ``ξ`` that fills
    a limit order joining at ``t0`` by the rule ``min(L, (ξ − Q)⁺)``. For many calls build a
    :class:`BidQueueFlow` once with :func:`bid_queue_flow` and call its ``outflow``."""
    flow = bid_queue_flow(md, venue, before_ns=t1_ns, combine=combine)
    return float(flow.outflow(t0_ns, t1_ns, track=track)[0])


def bid_queue_outflows(md: MarketData, T_ns: int, *, venues=None, step_ns: int | None = None,
                       before_ns: int | None = None, start_ns: int | None = None, track: str = "level",
                       combine: str = "max") -> dict[int, np.ndarray]:
    """Empirical outflow samples per venue over windows of ``T_ns`` ns.

    Windows ``[e − T, e)`` end at ``e = E, E − step, E − 2·step, …`` (``step_ns`` default ``T_ns``:
    non-overlapping; smaller: sliding) with ``E = before_ns`` (or one ns after the last record) and
    start no earlier than ``start_ns`` (or the first record); they are returned in time order and are
    the same for every venue, so ``np.column_stack`` of the arrays gives joint samples ``(N, K)`` (see
    :func:`outflow_matrix`). Only data stamped ``< before_ns`` is used (no look-ahead).
    """
    if T_ns <= 0:
        raise ValueError("T_ns must be > 0")
    step = int(step_ns) if step_ns is not None else int(T_ns)
    if step <= 0:
        raise ValueError("step_ns must be > 0")
    allts = np.concatenate([md.quotes.ts, md.trades.ts])
    if before_ns is not None:
        allts = allts[allts < before_ns]
    vs = md.venues if venues is None else np.asarray(venues, dtype=np.int32)
    if allts.size == 0:
        return {int(v): np.empty(0) for v in vs}
    E = int(before_ns) if before_ns is not None else int(allts.max()) + 1
    B = int(start_ns) if start_ns is not None else int(allts.min())
    nwin = (E - int(T_ns) - B) // step + 1 if E - T_ns >= B else 0
    ends = E - step * np.arange(nwin, dtype=np.int64)[::-1]
    starts = ends - int(T_ns)
    out = {}
    for v in vs:
        flow = bid_queue_flow(md, int(v), before_ns=before_ns, combine=combine)
        out[int(v)] = flow.outflow(starts, ends, track=track) if nwin else np.empty(0)
    return out


def outflow_matrix(samples: dict[int, np.ndarray], venues) -> np.ndarray:
    """Joint samples ``(N, K)`` in the order of ``venues`` from :func:`bid_queue_outflows`."""
    return np.column_stack([np.asarray(samples[int(v)], dtype=float) for v in venues])


@dataclass(frozen=True)
class OutflowDistribution:
    """A fitted outflow law (shares): ``cdf(x) = P(ξ ≤ x)``, lower ``quantile(p)``, ``sample(rng, n)``."""

    name: str
    params: dict
    _data: np.ndarray | None = None
    _frozen: object | None = None

    def cdf(self, x):
        if self._frozen is not None:
            return self._frozen.cdf(x)
        return np.searchsorted(self._data, x, side="right") / self._data.size

    def quantile(self, p):
        if self._frozen is not None:
            return self._frozen.ppf(p)
        n = self._data.size
        k = np.ceil(np.asarray(p) * n - 1e-9 * n).astype(np.int64) - 1
        return self._data[np.clip(k, 0, n - 1)]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self._frozen is not None:
            return np.asarray(self._frozen.rvs(size=n, random_state=rng), dtype=float)
        return rng.choice(self._data, size=n, replace=True)

    @property
    def mean(self) -> float:
        return float(self._frozen.mean()) if self._frozen is not None else float(self._data.mean())


def fit_outflow(samples, dist: str = "empirical") -> OutflowDistribution:
    """Fit an outflow law to samples (shares) by the method of moments.

    ``"empirical"`` (the samples themselves), ``"poisson"`` (``μ = mean``), ``"gamma"`` (shape
    ``mean²/var``, scale ``var/mean``), ``"negbin"`` (``n = mean²/(var − mean)``, ``p = mean/var``; falls back
    to Poisson when ``var ≤ mean``). Degenerate samples (zero variance) fall back to the empirical law.
    """
    x = np.sort(np.asarray(samples, dtype=float).ravel())
    if x.size == 0:
        raise ValueError("no outflow samples")
    m, var = float(x.mean()), float(x.var(ddof=1)) if x.size > 1 else 0.0
    if dist == "empirical" or (dist in ("gamma", "negbin") and var <= 0) or m <= 0:
        return OutflowDistribution("empirical", {"n": int(x.size)}, x)
    if dist == "poisson" or (dist == "negbin" and var <= m):
        return OutflowDistribution("poisson", {"mu": m}, None, stats.poisson(m))
    if dist == "gamma":
        k, s = m * m / var, var / m
        return OutflowDistribution("gamma", {"shape": k, "scale": s}, None, stats.gamma(k, scale=s))
    if dist == "negbin":
        n_, p_ = m * m / (var - m), m / var
        return OutflowDistribution("negbin", {"n": n_, "p": p_}, None, stats.nbinom(n_, p_))
    raise ValueError(f"unknown dist {dist!r}")
