"""Venue reliability scores from the strategy's own past fills and the quotes before each decision.

:class:`VenueScorer` keeps, across the parent orders of one replay, *observations*, each stamped with the
time it became known: a marketable child order's fill (known when it reached the venue and its fills are
recorded), the fade of the touch it aimed at (known at its arrival), and the markout of each own fill at
1, 5, 30 and 60 s (known once the horizon has passed). :meth:`VenueScorer.score` at time ``t`` aggregates the
observations known at or before ``t`` only, so orders replayed one after another (and overlapping in time)
never see each other's future. Definitions: :class:`~sorlib.risk.controls.VenueScoring`.
"""

from __future__ import annotations

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


@dataclass
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
        self.pos = {int(v): i for i, v in enumerate(self.venues.tolist())}
        self.lat_ns = np.asarray(lat_ns, np.int64)
        self.children: list[_Child] = []  # sent, fills not yet attributed
        self.fades: list[tuple[int, int, int]] = []  # (k, decision t, arrival t) awaiting the tape
        self.marks: list[tuple[int, int, int, int, int]] = []  # (due, fill ts, k, qty, horizon index)
        # observations: known_at (ns, int64) and values (float) in growing buffers
        K = self.venues.shape[0]
        self.obs_fill = _Buffer(2, K)  # key k: sent, filled
        self.obs_fade = _Buffer(2, K)  # key k: displayed, gone
        self.obs_mark = _Buffer(2, K * len(_H_NS))  # key k·4 + horizon: qty, qty·bps
        self.seen: dict[int, int] = {}  # order id -> fills already taken in
        self._fade_due = 2**62  # the earliest arrival among the queued fades (ns)
        self._mark_due = 2**62  # the earliest horizon among the queued markouts (ns)
        self._cache = None  # (observation counts, time, components) once every observation was known
        self._parts = None  # (components, markout term / mid, miss term) of the last components scored
        self._last = None  # (components, mid used, scores) of the last call

    # ----------------------------------------------------------------------------------- observations
    def ingest(self, order_id: int, fills: Fills, past: Past | None, t_ns: int, final: bool = False) -> None:
        """Take in ``order_id``'s fills (all of them so far, in recording order) and attribute them to its
        earlier child orders; with ``past`` (time ``t_ns``) resolve the fades and markouts now known.
        ``final``: the order is over (every one of its child orders has been filled or not)."""
        n0 = self.seen.get(order_id, 0)
        n = len(fills)
        if n > n0:
            for i in range(n0, n):
                k = self.pos.get(int(fills.venue[i]))
                if k is None:
                    continue
                ts, q = int(fills.ts[i]), int(fills.qty[i])
                for hi, h in enumerate(_H_NS):
                    self.marks.append((ts + h, ts, k, q, hi))
                self._mark_due = min(self._mark_due, ts + _H_MIN)
            self.seen[order_id] = n
        if not self.children:
            if past is not None:
                self._resolve(past, t_ns)
            return
        keep = []
        for c in self.children:
            if c.order_id != order_id or (not final and c.t_ns >= t_ns):
                keep.append(c)
                continue
            sel = np.arange(c.n_before, n)
            sel = sel[(fills.kind[sel] == 0) & (fills.venue[sel] == self.venues[c.k]) & (fills.ts[sel] >= c.t_ns)]
            filled = int(fills.qty[sel].sum())
            arrive = c.t_ns + int(self.lat_ns[c.k])
            known = max(arrive, int(fills.ts[sel].max()) if sel.size else arrive)
            self.obs_fill.add(known, c.k, (c.sent, min(filled, c.sent)))
            if arrive > c.t_ns:
                self.fades.append((c.k, c.t_ns, arrive))
                self._fade_due = min(self._fade_due, arrive)
        self.children = keep
        if past is not None:
            self._resolve(past, t_ns)

    def sent(self, order_id: int, t_ns: int, market: np.ndarray, n_fills: int) -> None:
        """Record a decision's marketable child orders (shares per venue) sent at ``t_ns``."""
        for k in np.flatnonzero(np.asarray(market) > 0):
            self.children.append(_Child(int(order_id), int(k), int(t_ns), int(market[k]), int(n_fills)))

    def _resolve(self, past: Past, t: int) -> None:
        """Fades and markouts whose horizon has passed by ``t``: every book and mid they need is read in one
        batch (:meth:`Past.book_at`, :meth:`Past.nbbo_mid`: one ``searchsorted`` each), observations added in
        the order they were queued."""
        if self.fades and self._fade_due <= t:
            due = [f for f in self.fades if f[2] <= t]
            self.fades = [f for f in self.fades if f[2] > t]
            self._fade_due = min((f[2] for f in self.fades), default=2**62)
            n = len(due)
            ks = np.fromiter((f[0] for f in due), np.int64, n)
            t0 = np.fromiter((f[1] for f in due), np.int64, n)
            t1 = np.fromiter((f[2] for f in due), np.int64, n)
            times, px, sz = past.ask_at(np.concatenate([t0, t1]), np.concatenate([ks, ks]))  # one look-up
            p0, s0 = px[:n, 0], sz[:n, 0]
            px1, sz1 = px[n:], sz[n:]
            use = (times[:n] >= t0 - _FADE_BACK_NS) & np.isfinite(p0) & (s0 > 0)
            improved = np.isfinite(px1[:, 0]) & (px1[:, 0] < p0 - 1e-9)  # NaN compares False, silently
            same = np.isfinite(px1) & (np.abs(px1 - p0[:, None]) < 1e-9)
            left = np.where(improved, s0, np.where(same, sz1, 0).sum(axis=1))
            gone = np.maximum(s0 - left, 0)
            i = np.flatnonzero(use)
            self.obs_fade.add_many(t1[i].tolist(), ks[i].tolist(), list(zip(s0[i].tolist(), gone[i].tolist(),
                                                                            strict=True)))
        if self.marks and self._mark_due <= t:
            due = [m for m in self.marks if m[0] <= t]
            self.marks = [m for m in self.marks if m[0] > t]
            self._mark_due = min((m[0] for m in self.marks), default=2**62)
            n = len(due)
            x = np.fromiter((v for m in due for v in (m[1], m[0])), np.int64, 2 * n)
            mids = past.nbbo_mid(x, _MID_AGE_NS)
            m0, m1 = mids[0::2], mids[1::2]
            q = np.fromiter((m[3] for m in due), np.float64, n)
            ok = np.isfinite(m0) & np.isfinite(m1) & (m0 > 0)
            bps = q * (m1 - m0) / np.where(ok, m0, 1.0) * 1e4  # the same arithmetic as one at a time
            nh = len(_H_NS)
            i = np.flatnonzero(ok).tolist()
            b = bps.tolist()
            self.obs_mark.add_many([due[j][0] for j in i], [due[j][2] * nh + due[j][4] for j in i],
                                   [(due[j][3], b[j]) for j in i])

    # ---------------------------------------------------------------------------------------- scores
    def score(self, t_ns: int, mid: float) -> dict[str, np.ndarray]:
        """Per-venue components ``(K,)`` from the observations known at or before ``t_ns``: ``children``,
        ``sent``, ``filled`` (shares), ``fill_rate``, ``fade_rate``, ``markout_1s`` … ``markout_60s`` (bps, NaN
        without fills), and ``cost`` ($/share; ``mid`` the NBBO mid now, for the markout term)."""
        key = (self.obs_fill.n, self.obs_fade.n, self.obs_mark.n)
        c = self._cache
        base = c[2] if c is not None and c[0] == key and c[1] <= t_ns else self._components(t_ns, key)
        m = mid if np.isfinite(mid) else 0.0
        last = self._last
        if last is not None and last[0] is base and last[1] == m:
            return last[2]  # nothing changed: the same answer (callers never modify it)
        parts = self._parts
        if parts is None or parts[0] is not base:  # the terms that do not depend on the mid, once per base
            cfg = self.cfg
            mo = base[f"markout_{cfg.markout_horizon_seconds:g}s"]
            parts = (base, np.where(np.isfinite(mo), np.maximum(-mo, 0.0), 0.0) * 1e-4,
                     cfg.miss_cost * ((1.0 - base["fill_rate"]) + base["fade_rate"]))
            self._parts = parts
        cfg = self.cfg
        adverse = parts[1] * m
        out = dict(base)
        out["cost"] = np.minimum(np.maximum(parts[2] + cfg.markout_weight * adverse, 0.0), cfg.max_cost)
        self._last = (base, m, out)
        return out

    def _components(self, t_ns: int, key: tuple) -> dict[str, np.ndarray]:
        K = self.venues.shape[0]
        cfg = self.cfg
        out: dict[str, np.ndarray] = {}
        f = self.obs_fill.sums(t_ns)
        counts = f.T.astype(np.int64)  # children, sent, filled (shares)
        out["children"], out["sent"], out["filled"] = counts[0], counts[1], counts[2]
        out["fill_rate"] = (f[:, 2] + cfg.prior_shares) / np.maximum(f[:, 1] + cfg.prior_shares, 1e-12)
        d = self.obs_fade.sums(t_ns)
        out["fade_rate"] = d[:, 2] / np.maximum(d[:, 1] + cfg.prior_shares, 1e-12)
        m = self.obs_mark.sums(t_ns).reshape(K, len(_H_NS), 3)
        w = m[:, :, 1]
        mo = np.where(w > 0, m[:, :, 2] / np.where(w > 0, w, 1.0), np.nan).T.copy()  # (horizon, K)
        for hi, h in enumerate(MARKOUT_HORIZONS):
            out[f"markout_{h:g}s"] = mo[hi]
        if max(self.obs_fill.max_t, self.obs_fade.max_t, self.obs_mark.max_t) <= t_ns:
            self._cache = (key, t_ns, out)  # every observation is known: the same answer at any later time
        return out


class _Buffer:
    """Rows ``(known_at ns, key, values[w])`` appended one at a time, with running per-key sums ``[count,
    Σ values]`` (Python floats, added in row order) so that :meth:`sums` at a time past every row is O(keys);
    the rows go to arrays only when a sum must leave some out (observations not known yet)."""

    __slots__ = ("t", "k", "v", "n", "tot", "max_t", "_at", "_ak", "_av", "_an")

    def __init__(self, w: int, keys: int) -> None:
        self.t: list[int] = []
        self.k: list[int] = []
        self.v: list[tuple] = []
        self.n = 0
        self.tot = [[0.0] * (w + 1) for _ in range(keys)]
        self.max_t = -(2**62)
        self._at = np.empty(0, np.int64)  # the rows as arrays, the first _an of them
        self._ak = np.empty(0, np.int64)
        self._av = np.empty((0, w))
        self._an = 0

    def add(self, t: int, key: int, values: tuple) -> None:
        self.add_many([t], [key], [values])

    def add_many(self, ts: list[int], keys: list[int], values: list[tuple]) -> None:
        """Rows ``(ts[i], keys[i], values[i])`` in this order (the sums add them one at a time, in order)."""
        self.t += ts
        self.k += keys
        self.v += values
        self.n += len(ts)
        tot = self.tot
        for key, vals in zip(keys, values, strict=True):
            row = tot[key]
            row[0] += 1.0
            for j, x in enumerate(vals, 1):
                row[j] += x
        m = max(ts, default=self.max_t)
        if m > self.max_t:
            self.max_t = int(m)

    def sums(self, t_ns: int) -> np.ndarray:
        """``(keys, 1 + w)``: per key the number of rows known at or before ``t_ns`` and their values' sums."""
        if t_ns >= self.max_t:
            return np.array(self.tot, dtype=float)
        if self._an < self.n:  # bring the arrays up to date (amortised: only the new rows)
            new = slice(self._an, self.n)
            self._at = np.concatenate([self._at, np.asarray(self.t[new], np.int64)])
            self._ak = np.concatenate([self._ak, np.asarray(self.k[new], np.int64)])
            self._av = np.concatenate([self._av, np.asarray(self.v[new], float).reshape(-1, self._av.shape[1])])
            self._an = self.n
        m = self._at <= t_ns
        keys = self._ak[m]
        out = np.empty((len(self.tot), self._av.shape[1] + 1))
        out[:, 0] = np.bincount(keys, minlength=out.shape[0])
        for j in range(self._av.shape[1]):
            out[:, j + 1] = np.bincount(keys, weights=self._av[:, j][m], minlength=out.shape[0])
        return out
