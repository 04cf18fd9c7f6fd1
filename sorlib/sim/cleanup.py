"""The deadline clean-up beyond the visible book: what the shares no venue displays cost.

At the deadline the engine sweeps every venue's *visible* ask ladder (:mod:`sorlib.engine.replay`, rule 4);
whatever is left is priced here by one of three rules (``CleanupModel.rule``). Units: prices $/share,
sizes shares, ``tick`` $ (0.01), times s.

**Visible.** A venue's quote in force at the deadline is visible when it is fresh — its last update is at
most ``stale_seconds`` old — or when its touch ask equals the lowest touch ask over all venues' quotes in
force (the national best: an NBBO-only feed such as AlgoSeek's sends nothing while the best is unchanged, so
a quote still at the best is confirmed, however old). A stale quote behind the best (AlgoSeek carries a
venue's last quote while it is off the best, and nothing says when it leaves) is neither swept nor used as
the anchor of the beyond-book price. When no quote is visible at the deadline, the freshest quote showing an
ask is the anchor only (not swept). ``stale_seconds`` defaults to 60 s for ``depth`` and ``ladder``; for
``flat`` it defaults to off (every quote in force is visible), so ``flat`` reproduces the old numbers.

**Rules** for the ``R`` shares left after the visible sweep:

* ``flat`` (the old rule): all R at the worst ask visible at the last snapshot before the deadline that shows
  one, plus one tick, at the venue showing it.
* ``ladder`` (the sceptic's variant): with ``A`` the worst visible ask (deepest displayed level over the
  visible venues), share block i = 0, 1, … of ``ladder_shares`` (default 100) pays ``A + (i + 1)·tick``:
  one more tick per 100 shares.
* ``depth`` (default): each visible venue k has hidden depth beyond its deepest displayed level following its
  cumulative depth profile ``D_k(δ) = a_k·δ^b_k`` (shares within δ ticks of its touch, the touch being δ = 1,
  so ``a_k`` is the typical touch size). Tick δ beyond the venue's visible extent ``n_k`` (δ > n_k, price
  ``touch_k + (δ − 1)·tick``) holds ``max(1, round(a_k·(δ^b_k − (δ − 1)^b_k)))`` shares. The R shares take
  these hidden levels cheapest first over the venues (all-in price: price + taker fee; ties by venue order).
  The profile comes from the venue's records in the ``lookback_seconds`` (default 1800 s) before the
  deadline (only records stamped before it; the one in force when the window is empty):

  - *depth data* (a record with two or more displayed ask levels): least squares of ``log D`` on ``log δ``
    over every displayed level of those records (``δ = 1 + round((p − touch)/tick)``, D the cumulative size
    up to that level), ``b`` clipped to [0.1, 3];
  - *no depth data* (one level, e.g. AlgoSeek, TAQ): the stated default ``b = 1`` and ``a`` = the median
    displayed touch ask size (> 0) of those records — each further tick holds the venue's median touch size.

When no visible venue has a profile (no quote visible at the deadline), ``depth`` prices the shares as
``flat`` does from the anchor below. The anchor of ``flat`` and ``ladder`` (and of that fallback): the worst
(deepest) displayed ask over the visible venues; when none is visible, the freshest quote showing an ask;
when no venue shows an ask at the deadline, the worst ask of the last snapshot before it that showed one;
when none ever did, the shares stay unbought (``Execution.unfilled``). With staleness off (``flat``'s
default) the anchor is exactly the old rule: the worst ask of the last snapshot at or before the deadline's
that shows one.

The engine adds the impact model per fill when it is on (the clean-up's fills climb the same curve).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError

CLEANUP_RULES = ("depth", "flat", "ladder")
DEFAULT_STALE_SECONDS = 60.0
B_RANGE = (0.1, 3.0)
MAX_TICKS = 10_000  # hidden ticks walked per venue at most (a computing guard: $100 at a 0.01 $ tick)
MAX_FILLS = 200  # more hidden levels than this are reported as one fill per venue (average price)


@dataclass(frozen=True)
class CleanupModel:
    """How the clean-up prices shares beyond the visible book (module docstring).

    ``rule``: ``"depth"`` | ``"flat"`` | ``"ladder"``; ``stale_seconds``: a quote older than this (s) at the
    deadline is not visible (None: 60 s for depth and ladder, off for flat); ``ladder_shares``: shares per
    extra tick of the ladder rule; ``lookback_seconds``: window (s) before the deadline the depth profile is
    fitted on; ``tick``: price increment ($)."""

    rule: str = "depth"
    stale_seconds: float | None = None
    ladder_shares: int = 100
    lookback_seconds: float = 1800.0
    tick: float = 0.01

    def __post_init__(self) -> None:
        if self.rule not in CLEANUP_RULES:
            raise ConfigError(f"clean-up rule must be one of {list(CLEANUP_RULES)}, got {self.rule!r}")
        s = self.stale_seconds
        if s is not None and not (_num(s) and 0 < s <= 86_400):
            raise ConfigError(f"clean-up 'stale_seconds' must be a number in (0, 86400] s or None, got {s!r}")
        n = self.ladder_shares
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1_000_000:
            raise ConfigError(f"clean-up 'ladder_shares' must be a whole number in [1, 1000000] shares, got {n!r}")
        if not (_num(self.lookback_seconds) and 0 < self.lookback_seconds <= 86_400):
            raise ConfigError("clean-up 'lookback_seconds' must be a number in (0, 86400] s, "
                              f"got {self.lookback_seconds!r}")
        if not (_num(self.tick) and 0 < self.tick <= 100):
            raise ConfigError(f"clean-up 'tick' must be a number in (0, 100] $, got {self.tick!r}")

    @property
    def stale_after(self) -> float | None:
        """The staleness bound in force (s; None: off)."""
        if self.stale_seconds is not None:
            return float(self.stale_seconds)
        return None if self.rule == "flat" else DEFAULT_STALE_SECONDS

    def parameters(self) -> dict:
        return {"rule": self.rule, "stale_seconds": self.stale_after, "ladder_shares": self.ladder_shares,
                "lookback_seconds": self.lookback_seconds, "tick_usd": self.tick}


def visible(ask_touch: np.ndarray, age_s: np.ndarray, stale_after: float | None) -> np.ndarray:
    """``(K,)`` bool: a venue's quote is visible (module docstring) — it shows an ask (finite touch) and is at
    most ``stale_after`` s old or at the lowest touch ask over the venues (``age_s``: NaN = no quote)."""
    a = np.asarray(ask_touch, float)
    ok = np.isfinite(a)
    if stale_after is None or not ok.any():
        return ok
    best = np.min(a[ok])
    with np.errstate(invalid="ignore"):
        fresh = np.asarray(age_s, float) <= stale_after
    return ok & (fresh | (np.abs(a - best) <= 1e-8))


# ------------------------------------------------------------------------------------------ profiles
def depth_points(ask_px: np.ndarray, ask_sz: np.ndarray, tick: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """``(δ, D)`` over every displayed level of records ``(n, L)``: ``δ = 1 + round((p − touch)/tick)`` ticks,
    ``D`` the cumulative shares up to that level (level 0 is the touch; empty levels skipped)."""
    px = np.atleast_2d(np.asarray(ask_px, float))
    sz = np.atleast_2d(np.asarray(ask_sz, float))
    ok = np.isfinite(px) & (sz > 0)
    touch = px[:, :1]
    cum = np.cumsum(np.where(ok, sz, 0.0), axis=1)
    with np.errstate(invalid="ignore"):
        d = 1.0 + np.round((px - touch) / tick)
    ok &= np.isfinite(d) & (d >= 1) & np.isfinite(touch)
    return d[ok], cum[ok]


def fit_power_law(delta, depth) -> tuple[float, float]:
    """``(a, b)`` of ``D = a·δ^b`` by least squares of ``log D`` on ``log δ`` (points with δ ≥ 1, D > 0)."""
    x = np.log(np.asarray(delta, float))
    y = np.log(np.asarray(depth, float))
    b, loga = np.polyfit(x, y, 1)
    return float(math.exp(loga)), float(b)


def venue_profile(ask_px: np.ndarray, ask_sz: np.ndarray, tick: float = 0.01) -> tuple[float, float, str] | None:
    """``(a, b, source)`` of one venue's depth profile from its records ``(n, L)`` (module docstring):
    ``"fit"`` when they show two or more ask levels, else ``"default"`` (b = 1, a = median touch size);
    None when no record shows an ask size."""
    d, cum = depth_points(ask_px, ask_sz, tick)
    if d.size == 0:
        return None
    if np.unique(d).size >= 2:
        a, b = fit_power_law(d, cum)
        return a, float(np.clip(b, *B_RANGE)), "fit"
    sz = np.atleast_2d(np.asarray(ask_sz, float))[:, 0]
    px = np.atleast_2d(np.asarray(ask_px, float))[:, 0]
    s = sz[np.isfinite(px) & (sz > 0)]
    if s.size == 0:  # sizes shown only off the first column (an empty touch slot): their cumulative sizes
        s = np.asarray(cum, float)[np.asarray(cum, float) > 0]
    if s.size == 0:
        return None
    return float(np.median(s)), 1.0, "default"


def hidden_shares(a: float, b: float, delta: int) -> int:
    """Shares the profile puts at tick ``δ`` (≥ 2): ``max(1, round(a·(δ^b − (δ − 1)^b)))``."""
    return max(1, int(round(a * (delta ** b - (delta - 1) ** b))))


# ------------------------------------------------------------------------------------------- pricing
def flat_fills(anchor: float, qty: int, tick: float = 0.01) -> list[tuple[int, float]]:
    """``[(qty, price)]``: all at ``anchor + tick``."""
    return [(int(qty), float(anchor) + tick)] if qty > 0 else []


def ladder_fills(anchor: float, qty: int, block: int = 100, tick: float = 0.01) -> list[tuple[int, float]]:
    """``[(qty, price)]``: block i of ``block`` shares at ``anchor + (i + 1)·tick`` (the last block partial)."""
    out, i, left = [], 0, int(qty)
    while left > 0:
        q = min(block, left)
        out.append((q, float(anchor) + (i + 1) * tick))
        left -= q
        i += 1
    return out


def depth_fills(touch, extent, profiles, fee, qty: int, tick: float = 0.01, max_ticks: int = MAX_TICKS,
                max_fills: int = MAX_FILLS) -> list[tuple[int, int, float]]:
    """``[(venue position, qty, price)]``: ``qty`` shares walked over the venues' hidden levels cheapest first
    (all-in price + fee; ties by venue order). ``touch`` ($) and ``extent`` (δ of the deepest visible level)
    per venue; ``profiles[k]`` ``(a, b)`` or None (no hidden depth). Empty when no venue has a profile.

    Bounds (a computing guard, far beyond any real order): at most ``max_ticks`` hidden ticks per venue — what
    is still left then is bought at the most expensive level reached; more than ``max_fills`` levels are
    reported as one fill per venue at its share-weighted average price."""
    ks = [k for k, pr in enumerate(profiles) if pr is not None and math.isfinite(touch[k])]
    if not ks or qty <= 0:
        return []
    n = 64
    while True:
        n = min(n, max_ticks)
        parts = []
        for k in ks:
            a, b = profiles[k]
            d = np.arange(int(extent[k]) + 1, int(extent[k]) + 1 + n, dtype=float)
            q = np.maximum(1, np.round(a * (d ** b - (d - 1) ** b))).astype(np.int64)
            px = np.round(touch[k] + (d - 1) * tick, 8)
            parts.append((np.full(n, k), q, px, np.round(px + fee[k], 8)))
        kk, q, px, allin = (np.concatenate(x) for x in zip(*parts, strict=True))
        if q.sum() >= qty or n >= max_ticks:
            break
        n *= 4
    order = np.lexsort((kk, allin))
    kk, q, px = kk[order], q[order], px[order]
    before = np.cumsum(q) - q
    take = np.clip(int(qty) - before, 0, q)
    short = int(qty) - int(take.sum())
    if short > 0:  # the max_ticks guard: the rest at the most expensive level reached
        take[-1] += short
    sel = np.flatnonzero(take > 0)
    out = [(int(kk[i]), int(take[i]), float(px[i])) for i in sel]
    if len(out) <= max_fills:
        return out
    agg: dict[int, list[float]] = {}
    for k, t, p in out:
        v = agg.setdefault(k, [0, 0.0])
        v[0] += t
        v[1] += t * p
    return [(k, int(v[0]), v[1] / v[0]) for k, v in agg.items()]


def _num(x) -> bool:
    return not isinstance(x, bool) and isinstance(x, int | float) and math.isfinite(x)
