"""Venue reliability scores from the strategy's own past fills and the quotes before each decision.

:class:`VenueScorer` keeps, across the parent orders of one replay, *observations*, each stamped with the
time it became known: a marketable child order's fill (known when it reached the venue and its fills are
recorded), the fade of the touch it aimed at (known at its arrival), and the markout of each own fill at
1, 5, 30 and 60 s (known once the horizon has passed). :meth:`VenueScorer.score` at time ``t`` aggregates the
observations known at or before ``t`` only, so orders replayed one after another (and overlapping in time)
never see each other's future. Definitions: :class:`~sorlib.risk.controls.VenueScoring`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..strategies.view import Fills, Past
from .controls import MARKOUT_HORIZONS, VenueScoring

S = 1_000_000_000
_H_NS = tuple(int(h * S) for h in MARKOUT_HORIZONS)
_H_MIN = min(_H_NS)
_MID_AGE_NS = 300 * S  # a markout's mid comes from a snapshot at most 5 minutes old
_FADE_BACK_NS = 5 * S  # a fade's touch comes from a snapshot at most 5 s before the decision


def nbbo_mid(past: Past, x_ns: int, cache: dict | None = None) -> float:
    """The NBBO mid ($) of the snapshot in force at ``x_ns`` (≤ the view's time), NaN when one side is empty
    or no snapshot is found within 5 minutes before it (:meth:`Past.nbbo_mid` with a 300-s age limit)."""
    if cache is not None and x_ns in cache:
        return cache[x_ns]
    mid = float(past.nbbo_mid(np.array([int(x_ns)]), _MID_AGE_NS)[0])
    if cache is not None:
        cache[x_ns] = mid
    return mid


@dataclass(slots=True)
class _Child:
    order_id: int
    k: int
    t_ns: int
    sent: int
    n_before: int  # own fills of the order before this decision's child orders were sent


class VenueScorer:
    """Observations and scores per venue (module docstring). ``venues``: venue keys ``(K,)``; ``lat_ns``:
    each venue's order latency (ns) — the horizon of the fade."""

    def __init__(self, cfg: VenueScoring, venues: np.ndarray, lat_ns: np.ndarray) -> None:
        self.cfg = cfg
        self.venues = np.asarray(venues)
        self.keys: list[int] = [int(v) for v in self.venues.tolist()]
        self.pos = {v: i for i, v in enumerate(self.keys)}
        self.lat_ns = np.asarray(lat_ns, np.int64)
        self._lat: list[int] = self.lat_ns.tolist()
        self.children: list[_Child] = []  # sent, fills not yet attributed
        self.fades: list[tuple[int, int, int]] = []  # (k, decision t, arrival t) awaiting the tape
        self.marks: list[tuple[int, int, int, int, int]] = []  # (due, fill ts, k, qty, horizon index)
        # observations: known_at (ns, int64) and values (float) in growing buffers
        K = self.venues.shape[0]
        self.obs_fill = _Buffer(K)  # key k: sent, filled
        self.obs_fade = _Buffer(K)  # key k: displayed, gone
        self.obs_mark = _Buffer(K * len(_H_NS))  # key k·4 + horizon: qty, qty·bps
        self.seen: dict[int, int] = {}  # order id -> fills already taken in
        self._fade_due = 2**62  # the earliest arrival among the queued fades (ns)
        self._mark_due = 2**62  # the earliest horizon among the queued markouts (ns)
        self._cache = None  # (observation counts, time, components) once every observation was known
        self._part_cache: dict[str, tuple] = {}  # per buffer: (its row count, its components) once all known
        self._h = f"markout_{cfg.markout_horizon_seconds:g}s"  # the markout the cost uses
        self._last = None  # (components, mid used, scores) of the last call

    # ----------------------------------------------------------------------------------- observations
    def ingest(self, order_id: int, fills: Fills, past: Past | None, t_ns: int, final: bool = False) -> None:
        """Take in ``order_id``'s fills (all of them so far, in recording order) and attribute them to its
        earlier child orders; with ``past`` (time ``t_ns``) resolve the fades and markouts now known.
        ``final``: the order is over (every one of its child orders has been filled or not)."""
        n0 = self.seen.get(order_id, 0)
        n = len(fills)
        if n > n0:
            self._queue_marks(fills, n0, n)
            self.seen[order_id] = n
        if self.children:
            self._attribute(order_id, fills, n, t_ns, final)
        if past is not None:
            self._resolve(past, t_ns)

    def _queue_marks(self, fills: Fills, n0: int, n: int) -> None:
        """The markouts of fills ``n0 … n-1``, one per horizon, each due at the fill's time + horizon (ns)."""
        for v, ts, q in zip(fills.venue[n0:n].tolist(), fills.ts[n0:n].tolist(), fills.qty[n0:n].tolist(),
                            strict=True):
            k = self.pos.get(v)
            if k is None:
                continue
            for hi, h in enumerate(_H_NS):
                self.marks.append((ts + h, ts, k, q, hi))
            self._mark_due = min(self._mark_due, ts + _H_MIN)

    def _attribute(self, order_id: int, fills: Fills, n: int, t_ns: int, final: bool) -> None:
        """A fill-rate observation (and a queued fade) per child order of ``order_id`` decided before ``t_ns``
        (every one when ``final``): its taking fills at its venue from its decision on, among the ``n``."""
        due = [c for c in self.children if c.order_id == order_id and (final or c.t_ns < t_ns)]
        if not due:
            return
        self.children = [] if len(due) == len(self.children) else \
            [c for c in self.children if c.order_id != order_id or (not final and c.t_ns >= t_ns)]
        lo = min(c.n_before for c in due)
        kind, ven, ts, qty = (a[lo:n].tolist() for a in (fills.kind, fills.venue, fills.ts, fills.qty))
        known, keys, vals = [], [], []
        for c in due:
            key = self.keys[c.k]
            mine = [i for i in range(c.n_before - lo, n - lo) if kind[i] == 0 and ven[i] == key and ts[i] >= c.t_ns]
            filled = sum(qty[i] for i in mine)
            arrive = c.t_ns + self._lat[c.k]
            known.append(max(arrive, max(ts[i] for i in mine)) if mine else arrive)
            keys.append(c.k)
            vals.append((c.sent, min(filled, c.sent)))
            if arrive > c.t_ns:
                self.fades.append((c.k, c.t_ns, arrive))
                self._fade_due = min(self._fade_due, arrive)
        self.obs_fill.add_many(known, keys, vals)

    def sent(self, order_id: int, t_ns: int, market: np.ndarray, n_fills: int) -> None:
        """Record a decision's marketable child orders (shares per venue) sent at ``t_ns``."""
        for k, q in enumerate(np.asarray(market).tolist()):
            if q > 0:
                self.children.append(_Child(int(order_id), k, int(t_ns), int(q), int(n_fills)))

    def _resolve(self, past: Past, t: int) -> None:
        """Fades and markouts whose horizon has passed by ``t``, observations added in the order they were
        queued (every book and mid they need read in one batch: :meth:`Past.ask_at`, :meth:`Past.nbbo_mid`)."""
        if self.fades and self._fade_due <= t:
            due = [f for f in self.fades if f[2] <= t]
            self.fades = [f for f in self.fades if f[2] > t]
            self._fade_due = min((f[2] for f in self.fades), default=2**62)
            self._add_fades(past, due)
        if self.marks and self._mark_due <= t:
            due = [m for m in self.marks if m[0] <= t]
            self.marks = [m for m in self.marks if m[0] > t]
            self._mark_due = min((m[0] for m in self.marks), default=2**62)
            self._add_marks(past, due)

    def _add_fades(self, past: Past, due: list[tuple[int, int, int]]) -> None:
        """Fade observations of ``due`` ``(k, decision t, arrival t)``: the touch at the decision (a snapshot at
        most 5 s old, with a price and shares) against the venue's ladder at the arrival."""
        n = len(due)
        ks = [f[0] for f in due]
        times, px, sz = (a.tolist() for a in past.ask_at([f[1] for f in due] + [f[2] for f in due], ks + ks))
        ts, keys, vals = [], [], []
        for i, (k, t0, t1) in enumerate(due):
            p0, s0 = px[i][0], sz[i][0]
            if times[i] >= t0 - _FADE_BACK_NS and math.isfinite(p0) and s0 > 0:
                ts.append(t1)
                keys.append(k)
                vals.append((s0, max(s0 - _touch_left(p0, s0, px[n + i], sz[n + i]), 0)))
        self.obs_fade.add_many(ts, keys, vals)

    def _add_marks(self, past: Past, due: list[tuple[int, int, int, int, int]]) -> None:
        """Markout observations of ``due`` ``(due t, fill t, k, qty, horizon index)``: ``qty · (m1 − m0) / m0 ·
        1e4`` (bps·shares) from the NBBO mids at the fill and at the horizon, both finite and ``m0 > 0``."""
        mids = past.nbbo_mid([v for m in due for v in (m[1], m[0])], _MID_AGE_NS).tolist()
        nh = len(_H_NS)
        ts, keys, vals = [], [], []
        for i, (at, _, k, q, hi) in enumerate(due):
            m0, m1 = mids[2 * i], mids[2 * i + 1]
            if math.isfinite(m0) and math.isfinite(m1) and m0 > 0:
                ts.append(at)
                keys.append(k * nh + hi)
                vals.append((q, q * (m1 - m0) / m0 * 1e4))
        self.obs_mark.add_many(ts, keys, vals)

    # ---------------------------------------------------------------------------------------- scores
    def score(self, t_ns: int, mid: float) -> dict[str, np.ndarray]:
        """Per-venue components ``(K,)`` from the observations known at or before ``t_ns``: ``children``,
        ``sent``, ``filled`` (shares), ``fill_rate``, ``fade_rate``, ``markout_1s`` … ``markout_60s`` (bps, NaN
        without fills), and ``cost`` ($/share; ``mid`` the NBBO mid now, for the markout term)."""
        key = (self.obs_fill.n, self.obs_fade.n, self.obs_mark.n)
        c = self._cache
        base = c[2] if c is not None and c[0] == key and c[1] <= t_ns else self._components(t_ns, key)
        m = mid if math.isfinite(mid) else 0.0
        last = self._last
        if last is not None and last[0] is base and last[1] == m:
            return last[2]  # nothing changed: the same answer (callers never modify it)
        out = dict(base)
        out["cost"] = self._cost(base, m)
        self._last = (base, m, out)
        return out

    def _cost(self, base: dict[str, np.ndarray], mid: float) -> np.ndarray:
        """``(K,)`` $/share: ``min(max(miss_cost·((1 − fill_rate) + fade_rate) + markout_weight·(adverse·mid), 0),
        max_cost)``, ``adverse = max(−markout(h), 0)·1e-4`` (0 without fills), venue by venue."""
        cfg = self.cfg
        w, miss, cap = cfg.markout_weight, cfg.miss_cost, cfg.max_cost
        out = []
        for mo, fr, fd in zip(base[self._h].tolist(), base["fill_rate"].tolist(), base["fade_rate"].tolist(),
                              strict=True):
            adverse = (max(-mo, 0.0) if math.isfinite(mo) else 0.0) * 1e-4
            out.append(min(max(miss * ((1.0 - fr) + fd) + w * (adverse * mid), 0.0), cap))
        return np.array(out, float)

    def _components(self, t_ns: int, key: tuple) -> dict[str, np.ndarray]:
        out = {**self._part("fill", self.obs_fill, t_ns, self._fill_part),
               **self._part("fade", self.obs_fade, t_ns, self._fade_part),
               **self._part("mark", self.obs_mark, t_ns, _mark_part)}
        if max(self.obs_fill.max_t, self.obs_fade.max_t, self.obs_mark.max_t) <= t_ns:
            self._cache = (key, t_ns, out)  # every observation is known: the same answer at any later time
        return out

    def _part(self, name: str, buf: _Buffer, t_ns: int, build) -> dict[str, np.ndarray]:
        """``build(buf.sums(t_ns))``, kept while ``buf`` gains no row once all its rows are known."""
        got = self._part_cache.get(name)
        if got is not None and got[0] == buf.n and t_ns >= buf.max_t:
            return got[1]
        part = build(buf.sums(t_ns))
        if t_ns >= buf.max_t:
            self._part_cache[name] = (buf.n, part)
        return part

    def _fill_part(self, f: list[list[float]]) -> dict[str, np.ndarray]:
        """``children``, ``sent``, ``filled`` (shares) and ``fill_rate`` per venue from the fill sums."""
        prior = self.cfg.prior_shares
        return {"children": np.array([int(r[0]) for r in f], np.int64),
                "sent": np.array([int(r[1]) for r in f], np.int64),
                "filled": np.array([int(r[2]) for r in f], np.int64),
                "fill_rate": np.array([(r[2] + prior) / max(r[1] + prior, 1e-12) for r in f])}

    def _fade_part(self, d: list[list[float]]) -> dict[str, np.ndarray]:
        """``fade_rate`` per venue: shares gone / (shares displayed + prior)."""
        prior = self.cfg.prior_shares
        return {"fade_rate": np.array([r[2] / max(r[1] + prior, 1e-12) for r in d])}


def _mark_part(m: list[list[float]]) -> dict[str, np.ndarray]:
    """``markout_1s`` … ``markout_60s`` per venue (bps, qty-weighted; NaN without a weight) from the sums of key
    ``k·4 + horizon``."""
    nh = len(_H_NS)
    return {f"markout_{h:g}s": np.array([r[2] / r[1] if r[1] > 0 else math.nan for r in m[hi::nh]])
            for hi, h in enumerate(MARKOUT_HORIZONS)}


def _touch_left(p0: float, s0: int, px: list[float], sz: list[int]) -> int:
    """Shares of a touch of ``s0`` at ``p0`` ($) still there on the ladder ``px``/``sz``: all of them when the
    best ask improved below ``p0``, else what shows at ``p0`` (1e-9 $ tolerance; NaN levels never match)."""
    if math.isfinite(px[0]) and px[0] < p0 - 1e-9:
        return s0
    return sum(s for p, s in zip(px, sz, strict=True) if math.isfinite(p) and abs(p - p0) < 1e-9)


class _Buffer:
    """Rows ``(known_at ns, key, (a, b))`` appended in order, with running per-key sums ``[count, Σa, Σb]``
    (Python floats, added in row order) so that :meth:`sums` at a time past every row is O(keys); the rows go
    to arrays only when a sum must leave some out (observations not known yet)."""

    __slots__ = ("t", "k", "v", "n", "tot", "max_t", "_at", "_ak", "_av", "_an")

    def __init__(self, keys: int) -> None:
        self.t: list[int] = []
        self.k: list[int] = []
        self.v: list[tuple] = []
        self.n = 0
        self.tot = [[0.0, 0.0, 0.0] for _ in range(keys)]
        self.max_t = -(2**62)
        self._at = np.empty(0, np.int64)  # the rows as arrays, the first _an of them
        self._ak = np.empty(0, np.int64)
        self._av = np.empty((0, 2))
        self._an = 0

    def add_many(self, ts: list[int], keys: list[int], values: list[tuple]) -> None:
        """Rows ``(ts[i], keys[i], values[i])`` in this order (the sums add them one at a time, in order)."""
        self.t += ts
        self.k += keys
        self.v += values
        self.n += len(ts)
        tot = self.tot
        for key, (a, b) in zip(keys, values, strict=True):
            row = tot[key]
            row[0] += 1.0
            row[1] += a
            row[2] += b
        m = max(ts, default=self.max_t)
        if m > self.max_t:
            self.max_t = int(m)

    def sums(self, t_ns: int) -> list[list[float]]:
        """Per key ``[rows known at or before t_ns, Σa, Σb]`` over those rows (floats; read only)."""
        if t_ns >= self.max_t:
            return self.tot
        if self._an < self.n:  # bring the arrays up to date (amortised: only the new rows)
            new = slice(self._an, self.n)
            self._at = np.concatenate([self._at, np.asarray(self.t[new], np.int64)])
            self._ak = np.concatenate([self._ak, np.asarray(self.k[new], np.int64)])
            self._av = np.concatenate([self._av, np.asarray(self.v[new], float).reshape(-1, 2)])
            self._an = self.n
        m = self._at <= t_ns
        keys = self._ak[m]
        out = np.empty((len(self.tot), 3))
        out[:, 0] = np.bincount(keys, minlength=out.shape[0])
        for j in range(2):
            out[:, j + 1] = np.bincount(keys, weights=self._av[:, j][m], minlength=out.shape[0])
        return out.tolist()
