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


def nbbo_mid(past: Past, x_ns: int, cache: dict | None = None) -> float:
    """The NBBO mid ($) of the snapshot in force at ``x_ns`` (≤ the view's time), NaN when one side is empty
    or no snapshot is found within 5 minutes before it (it looks 0.2 s, 5 s, then 300 s back)."""
    if cache is not None and x_ns in cache:
        return cache[x_ns]
    mid = float("nan")
    for back in (S // 5, 5 * S, 300 * S):
        qh = past.quotes(int(x_ns) - back, int(x_ns) + 1)
        if qh.times.shape[0]:
            bid = qh.bid_px[-1]
            ask = qh.ask_px[-1, :, 0]
            if np.isfinite(bid).any() and np.isfinite(ask).any():
                mid = 0.5 * (float(np.nanmax(bid)) + float(np.nanmin(ask)))
            break
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
        self.mids: dict[int, float] = {}
        self._cache = None

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
            self.seen[order_id] = n
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
        self.children = keep
        if past is not None:
            self._resolve(past, t_ns)

    def sent(self, order_id: int, t_ns: int, market: np.ndarray, n_fills: int) -> None:
        """Record a decision's marketable child orders (shares per venue) sent at ``t_ns``."""
        for k in np.flatnonzero(np.asarray(market) > 0):
            self.children.append(_Child(int(order_id), int(k), int(t_ns), int(market[k]), int(n_fills)))

    def _resolve(self, past: Past, t: int) -> None:
        if self.fades:
            keep = []
            for k, t0, t1 in self.fades:
                if t1 > t:
                    keep.append((k, t0, t1))
                    continue
                qh = past.quotes(t0 - 5 * S, t1 + 1)
                i0 = int(np.searchsorted(qh.times, t0, side="right")) - 1
                if i0 < 0:
                    continue
                p0, s0 = qh.ask_px[i0, k, 0], int(qh.ask_sz[i0, k, 0])
                if not np.isfinite(p0) or s0 <= 0:
                    continue
                px1, sz1 = qh.ask_px[-1, k], qh.ask_sz[-1, k]
                if np.isfinite(px1[0]) and px1[0] < p0 - 1e-9:
                    left = s0  # the ask improved: nothing we aimed at vanished
                else:
                    left = int(sz1[np.isfinite(px1) & (np.abs(px1 - p0) < 1e-9)].sum())
                self.obs_fade.add(t1, k, (s0, max(s0 - left, 0)))
            self.fades = keep
        if self.marks:
            keep = []
            for due, ts, k, q, hi in self.marks:
                if due > t:
                    keep.append((due, ts, k, q, hi))
                    continue
                m0, m1 = nbbo_mid(past, ts, self.mids), nbbo_mid(past, due, self.mids)
                if np.isfinite(m0) and np.isfinite(m1) and m0 > 0:
                    self.obs_mark.add(due, k * len(_H_NS) + hi, (q, q * (m1 - m0) / m0 * 1e4))
            self.marks = keep

    # ---------------------------------------------------------------------------------------- scores
    def score(self, t_ns: int, mid: float) -> dict[str, np.ndarray]:
        """Per-venue components ``(K,)`` from the observations known at or before ``t_ns``: ``children``,
        ``sent``, ``filled`` (shares), ``fill_rate``, ``fade_rate``, ``markout_1s`` … ``markout_60s`` (bps, NaN
        without fills), and ``cost`` ($/share; ``mid`` the NBBO mid now, for the markout term)."""
        key = (self.obs_fill.n, self.obs_fade.n, self.obs_mark.n)
        c = self._cache
        out = dict(c[2]) if c is not None and c[0] == key and c[1] <= t_ns else self._components(t_ns, key)
        cfg = self.cfg
        mo = out[f"markout_{cfg.markout_horizon_seconds:g}s"]
        adverse = np.where(np.isfinite(mo), np.maximum(-mo, 0.0), 0.0) * 1e-4 * (mid if np.isfinite(mid) else 0.0)
        cost = cfg.miss_cost * ((1.0 - out["fill_rate"]) + out["fade_rate"]) + cfg.markout_weight * adverse
        out["cost"] = np.clip(cost, 0.0, cfg.max_cost)
        return out

    def _components(self, t_ns: int, key: tuple) -> dict[str, np.ndarray]:
        K = self.venues.shape[0]
        cfg = self.cfg
        out: dict[str, np.ndarray] = {}
        f = self.obs_fill.sums(t_ns)
        out["children"] = f[:, 0].astype(np.int64)
        out["sent"], out["filled"] = f[:, 1].astype(np.int64), f[:, 2].astype(np.int64)
        out["fill_rate"] = (f[:, 2] + cfg.prior_shares) / np.maximum(f[:, 1] + cfg.prior_shares, 1e-12)
        d = self.obs_fade.sums(t_ns)
        out["fade_rate"] = d[:, 2] / np.maximum(d[:, 1] + cfg.prior_shares, 1e-12)
        m = self.obs_mark.sums(t_ns).reshape(K, len(_H_NS), 3)
        for hi, h in enumerate(MARKOUT_HORIZONS):
            w = m[:, hi, 1]
            out[f"markout_{h:g}s"] = np.where(w > 0, m[:, hi, 2] / np.where(w > 0, w, 1.0), np.nan)
        if max(self.obs_fill.max_t, self.obs_fade.max_t, self.obs_mark.max_t) <= t_ns:
            self._cache = (key, t_ns, out)  # every observation is known: the same answer at any later time
        return dict(out)


class _Buffer:
    """Rows ``(known_at ns, key, values[w])`` appended one at a time (amortised doubling), with running
    per-key sums ``[count, Σ values]`` so that :meth:`sums` at a time past every row is O(keys)."""

    __slots__ = ("t", "k", "v", "n", "tot", "max_t")

    def __init__(self, w: int, keys: int) -> None:
        self.t = np.empty(64, np.int64)
        self.k = np.empty(64, np.int64)
        self.v = np.empty((64, w))
        self.n = 0
        self.tot = np.zeros((keys, w + 1))
        self.max_t = -(2**62)

    def add(self, t: int, key: int, values) -> None:
        if self.n == self.t.shape[0]:
            self.t = np.concatenate([self.t, np.empty_like(self.t)])
            self.k = np.concatenate([self.k, np.empty_like(self.k)])
            self.v = np.concatenate([self.v, np.empty_like(self.v)])
        self.t[self.n], self.k[self.n] = t, key
        self.v[self.n] = values
        self.n += 1
        self.tot[key, 0] += 1
        self.tot[key, 1:] += values
        self.max_t = max(self.max_t, int(t))

    def sums(self, t_ns: int) -> np.ndarray:
        """``(keys, 1 + w)``: per key the number of rows known at or before ``t_ns`` and their values' sums."""
        if t_ns >= self.max_t:
            return self.tot.copy()
        m = self.t[: self.n] <= t_ns
        keys = self.k[: self.n][m]
        out = np.empty_like(self.tot)
        out[:, 0] = np.bincount(keys, minlength=out.shape[0])
        for j in range(self.v.shape[1]):
            out[:, j + 1] = np.bincount(keys, weights=self.v[: self.n, j][m], minlength=out.shape[0])
        return out
