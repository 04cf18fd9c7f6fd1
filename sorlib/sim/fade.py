"""Quote fade across venues: when we take at venue A, the others pull part of their size at that price.

Liquidity providers quoting on several venues see our fill at A and cancel part of what they show at the
same price elsewhere before our other child orders get there. IEX reported fills as low as 84 % of the
displayed size when routing to NYSE's displayed quotes (DESIGN §9, "Venue quality"), so the default faded
``fraction`` is 0.16. Rule, per parent order:

* a fill of ours at venue A at ask price ``p`` (time ``t_A``) fades every *other* venue B that shows an ask
  level at ``p`` in the quote it has in force at ``t_A + reaction``: ``fraction_B · displayed_B(p)`` shares
  vanish there in whole lots of ``lot_shares`` (providers cancel whole orders; default 100, the US round
  lot): ``x = fraction·displayed/lot`` lots rounded down or up with probability ``x − ⌊x⌋`` (so the expected
  fade is exactly the fraction), the draw a hash of (``seed``, parent order, venue, quote row, price) — once
  per quote of B and price;
* the fade applies to whatever reaches B at or after ``t_A + reaction`` while B's quote is that same quote;
  it is restored when B's quote next changes (any new record of B);
* the fillable size at B is then ``max(0, displayed − taken − faded)`` per level.

``reaction_us`` (default 0 µs) is how long the providers need: they are co-located and faster than our
orders, so with the default every order reaching B after our fill at A meets the faded quote (with latency
on, child orders sent together arrive in latency order; without it, in venue order).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..data.market import MarketData
from ..data.snapshots import last_row_at
from ..errors import ConfigError

IEX_FILL_RATE = 0.84  # fills as low as 84 % of displayed size hitting NYSE (IEX; DESIGN §9)


def fade_shares(displayed, fraction, lot: int = 1, u=0.5):
    """Shares that vanish, int64: ``lot · (⌊x⌋ + [u < x − ⌊x⌋])`` with ``x = fraction · displayed / lot`` and
    ``u`` a uniform draw in [0, 1) (``u = 0.5``: round half up), never more than displayed."""
    x = np.asarray(fraction, float) * np.asarray(displayed, float) / lot
    fl = np.floor(x + 1e-9)
    n = fl + (np.asarray(u, float) < (x - fl) - 1e-9)
    return np.minimum(n.astype(np.int64) * int(lot), np.asarray(displayed, np.int64))


def _fade_one(displayed: int, fraction: float, lot: int, u: float) -> int:
    """:func:`fade_shares` for one level (scalars)."""
    x = fraction * displayed / lot
    fl = math.floor(x + 1e-9)
    return min((fl + (u < (x - fl) - 1e-9)) * lot, displayed)


def unit_hash(*keys: int) -> float:
    """A uniform number in [0, 1) from integers (splitmix64 over the keys): the seeded draws of this module."""
    m = (1 << 64) - 1
    h = 0x9E3779B97F4A7C15
    for k in keys:
        h = (h ^ (int(k) & m)) & m
        h = (h + 0x9E3779B97F4A7C15) & m
        h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & m
        h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & m
        h ^= h >> 31
    return (h >> 11) / float(1 << 53)


@dataclass(frozen=True)
class FadeModel:
    """Fade of the other venues' displayed ask size at the price we took (module docstring).

    ``fraction``: share of the displayed size that vanishes, [0, 1], default 1 − 0.84 = 0.16;
    ``by_venue``: venue key → its own fraction (e.g. :func:`estimate_fade`); ``reaction_us``: delay (µs)
    after our fill before the others have pulled, default 0; ``lot_shares``: the fade comes in whole lots of
    this many shares, [1, 10⁶], default 100; ``seed``: of the lot rounding draws."""

    enabled: bool = False
    fraction: float = round(1.0 - IEX_FILL_RATE, 10)
    by_venue: Mapping[int, float] = field(default_factory=dict)
    reaction_us: float = 0.0
    lot_shares: int = 100
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise ConfigError(f"fade 'enabled' must be true or false, got {self.enabled!r}")
        for what, v in [("fraction", self.fraction)] + [(f"fraction of venue {k}", v)
                                                       for k, v in dict(self.by_venue).items()]:
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or not 0 <= v <= 1:
                raise ConfigError(f"fade {what} must be a number in [0, 1], got {v!r}")
        r = self.reaction_us
        if isinstance(r, bool) or not isinstance(r, int | float) or not math.isfinite(r) or not 0 <= r <= 1e7:
            raise ConfigError(f"fade 'reaction_us' must be a number in [0, 1e7] µs, got {r!r}")
        for what, v, hi in (("lot_shares", self.lot_shares, 1_000_000), ("seed", self.seed, 2**32 - 1)):
            if isinstance(v, bool) or not isinstance(v, int) or not (what == "seed" or v >= 1) or not 0 <= v <= hi:
                raise ConfigError(f"fade '{what}' must be a whole number in [{0 if what == 'seed' else 1}, {hi}], "
                                  f"got {v!r}")
        object.__setattr__(self, "by_venue", {int(k): float(v) for k, v in dict(self.by_venue).items()})

    def fractions(self, venues) -> np.ndarray:
        """``(K,)`` fraction per venue (zeros when disabled)."""
        if not self.enabled:
            return np.zeros(len(venues))
        return np.array([self.by_venue.get(int(v), self.fraction) for v in venues], float)

    def state(self, venues, order_id: int = 0) -> FadeState:
        """A fresh per-parent-order state (nothing faded)."""
        return FadeState(self.fractions(venues), int(round(self.reaction_us * 1e3)), self.lot_shares,
                         (self.seed, int(order_id)))

    def parameters(self) -> dict:
        return {"enabled": self.enabled, "fraction": self.fraction, "reaction_us": self.reaction_us,
                "lot_shares": self.lot_shares, "seed": self.seed,
                "by_venue": {str(k): v for k, v in sorted(self.by_venue.items())}}


class FadeState:
    """One parent order's fades: per venue position, the quote row they apply to and
    ``{price key: (shares, effective ns)}``."""

    __slots__ = ("frac", "reaction_ns", "lot", "key", "by_venue")

    def __init__(self, fractions: np.ndarray, reaction_ns: int = 0, lot: int = 1, key: tuple = (0, 0)) -> None:
        self.frac = np.asarray(fractions, float)
        self.reaction_ns = int(reaction_ns)
        self.lot = int(lot)
        self.key = tuple(int(x) for x in key)  # (seed, parent order) of the rounding draws
        self.by_venue: dict[int, tuple[int, dict[int, tuple[int, int]]]] = {}

    def register(self, t_ns: int, k_from: int, keys, rows: np.ndarray, ask_key: np.ndarray,
                 ask_sz: np.ndarray, ids: np.ndarray | None = None) -> None:
        """Our fill at venue position ``k_from`` at ``t_ns`` at the price keys ``keys``; ``rows`` ``(K,)``: each
        venue's quote row in force at ``t_ns + reaction`` (−1: none), into ``ask_key``/``ask_sz`` ``(n, L)``;
        ``ids`` ``(K,)``: the numbers of those quote records that seed the rounding draws (None: ``rows``)."""
        eff = int(t_ns) + self.reaction_ns
        keys = list(keys)
        for b in range(rows.shape[0]):
            r = int(rows[b])
            if b == k_from or r < 0 or self.frac[b] <= 0:
                continue
            shown: dict[int, int] = {}
            for key, sz in zip(ask_key[r].tolist(), ask_sz[r].tolist(), strict=True):
                if sz > 0:
                    shown[key] = shown.get(key, 0) + sz
            cur = self.by_venue.get(b)
            d = cur[1] if cur is not None and cur[0] == r else {}
            for key in keys:
                s = shown.get(key, 0)
                if s > 0 and key not in d:
                    u = unit_hash(*self.key, b, r if ids is None else int(ids[b]), key) if self.lot > 1 else 0.5
                    d[key] = (_fade_one(s, float(self.frac[b]), self.lot, u), eff)
            if d:
                self.by_venue[b] = (r, d)

    def removed(self, k: int, row: int, t_ns: int, row_keys: np.ndarray) -> np.ndarray | None:
        """Shares faded per level ``(L,)`` of venue ``k``'s quote ``row`` for an order reaching it at ``t_ns``
        (None: nothing faded — no fade, or the venue's quote has changed since)."""
        cur = self.by_venue.get(k)
        if cur is None or cur[0] != int(row):
            return None
        out = np.zeros(row_keys.shape[0], np.int64)
        for lv, key in enumerate(row_keys.tolist()):
            f = cur[1].get(key)
            if f is not None and t_ns >= f[1]:
                out[lv] = f[0]
        return out if out.any() else None


def estimate_fade(md: MarketData, window_us: float = 5000.0) -> dict[int, float]:
    """Venue key → mean fraction of its displayed ask size at price ``p`` gone ``window_us`` after a
    buyer-initiated print at ``p`` on *another* venue, over the (print, venue) pairs where the venue showed
    ``p`` just before the print: ``1 − min(1, size(t + w) / size(t−))``, size at ``p`` over all its levels (a
    quote that moved away from ``p`` counts as a full drop). Prints with unknown side are left out. This
    counts every reason the size left (trades there too), so it is an upper bound on pure fade."""
    q, tr = md.quotes, md.trades
    buy = np.asarray(tr.side) > 0
    w = int(round(window_us * 1e3))
    out: dict[int, float] = {}
    if not buy.any() or len(q) == 0:
        return out
    ts, venue, px = tr.ts[buy], tr.venue[buy], tr.price[buy]
    for b in np.unique(q.venue):
        other = venue != b
        if not other.any():
            continue
        t0 = ts[other]
        p = px[other]
        r0 = last_row_at(q, t0 - 1, int(b))
        r1 = last_row_at(q, t0 + w, int(b))
        ok = r0 >= 0
        s0 = _size_at(q.ask_px, q.ask_sz, r0, p)
        s1 = _size_at(q.ask_px, q.ask_sz, r1, p)
        m = ok & (s0 > 0)
        if m.any():
            out[int(b)] = float(np.mean(1.0 - np.minimum(1.0, s1[m] / s0[m])))
    return out


def _size_at(ask_px: np.ndarray, ask_sz: np.ndarray, rows: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Shares displayed at price ``p`` (within 1e-8 $) in each row (0 for row −1)."""
    r = np.maximum(rows, 0)
    hit = np.abs(ask_px[r] - p[:, None]) < 1e-8
    s = np.where(hit, ask_sz[r], 0).sum(axis=1).astype(float)
    return np.where(rows >= 0, s, 0.0)

