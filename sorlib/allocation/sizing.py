"""Child-order sizing rules: maximum child size, participation cap, lot size and minimum trade size.

A *child order* is one non-zero quantity of a strategy's decision on one venue: a marketable quantity
(``Decision.market[i]``) or a resting one (``Decision.limit[i]``); each venue gets at most one of each per
decision, so the maximum child size caps what one venue gets per decision. Units: shares, percent, seconds.

Rules (:class:`SizingRules`, validated at construction; per-venue overrides by venue key in ``venue``):

* **maximum child size** ``max_child`` (shares): every child ≤ it.
* **lot size** (shares; only with ``lots=True``): every child is a multiple of the venue's lot — the
  per-venue override, else the global ``lot_size``, else the venue profile's ``lot_size``
  (:class:`~sorlib.venues.VenueProfile`; the shipped table has 1 = odd lots allowed). ``lots=False``: lot 1.
* **minimum trade size** (shares): every child ≥ it — the per-venue override, else
  ``max(min_trade, the venue profile's min_size)``.
* **odd-lot rule**: a child whose size equals the parent order's whole remainder at that decision (the
  last child, which completes the order) is exempt from the lot and minimum rules; it still respects the
  maximum child size and the participation cap.
* **participation cap** ``participation_pct`` (percent, (0, 100]) over a trailing window of
  ``participation_window_seconds`` (seconds): at a decision at time t, the decision's child orders in total
  (market + limit) plus this parent order's own fills stamped in ``[t − W, t]`` may not exceed
  ``floor(pct/100 · V)``, V = the market's printed volume (shares) stamped in ``[t − W, t]``
  (``view.past.trades``; the tape never contains our own fills, so they are counted on our side only, not in
  V). Resting orders are counted when placed (their later fills then count in the window).
* **the deadline clean-up** (the engine's market order for whatever is left) is exempt from the maximum
  child size and the participation cap; :func:`sorlib.strategies.base.Strategy.cleanup_take` gives a sweep that
  keeps the lot rule except for a final odd lot.

Resolution per venue is :meth:`SizingRules.limits` → :class:`ChildLimits` arrays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError

#: "no maximum" as an int64 share count
NO_MAX = 2**62


def _whole(name: str, v: Any, lo: int = 1, hi: int = 100_000_000, unit: str = "shares") -> int | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | np.integer | float) or not float(v).is_integer():
        raise ConfigError(f"{name} must be a whole number of {unit}, got {v!r}")
    v = int(v)
    if not lo <= v <= hi:
        raise ConfigError(f"{name} must be in [{lo:,}, {hi:,}] {unit}, got {v:,}")
    return v


@dataclass(frozen=True)
class VenueLimits:
    """Per-venue overrides (shares; None = use the global rule / the venue profile)."""

    lot_size: int | None = None
    min_size: int | None = None
    max_child: int | None = None

    def __post_init__(self) -> None:
        for f in ("lot_size", "min_size", "max_child"):
            object.__setattr__(self, f, _whole(f"venue {f}", getattr(self, f)))


@dataclass(frozen=True)
class ChildLimits:
    """Resolved per-venue limits ``(K,)`` int64 in shares: ``lot`` (≥ 1), ``min`` (a multiple of ``lot``,
    ≥ ``lot``), ``max`` (``NO_MAX`` = none)."""

    lot: np.ndarray
    min: np.ndarray
    max: np.ndarray

    def feasible(self, q: np.ndarray, remaining: int) -> np.ndarray:
        """Boolean: is each per-venue quantity ``q`` ``(K,)`` a valid child (0 = no child)? Lot and minimum,
        except a child equal to the parent's ``remaining`` (odd-lot rule); maximum always."""
        q = np.asarray(q, np.int64)
        ok_lot = (q % self.lot == 0) & (q >= self.min)
        return (q == 0) | ((ok_lot | (q == int(remaining))) & (q <= self.max))


@dataclass(frozen=True)
class SizingRules:
    """Child-order sizing rules (module docstring). Units: shares, percent, seconds.

    ``max_child`` shares (None: no maximum), ``participation_pct`` percent in (0, 100] (None: no cap),
    ``participation_window_seconds`` in (0, 86,400], ``min_trade`` shares (None: the venue's ``min_size``),
    ``lots`` on/off, ``lot_size`` shares (global lot; None: each venue profile's ``lot_size``), ``venue``
    per-venue :class:`VenueLimits` (or dicts) by venue key. ``profile_limits``: ``{key: (lot_size,
    min_size)}`` from the venue profiles, set by :meth:`with_profiles`.
    """

    max_child: int | None = None
    participation_pct: float | None = None
    participation_window_seconds: float = 60.0
    min_trade: int | None = None
    lots: bool = False
    lot_size: int | None = None
    venue: Mapping[int, VenueLimits] = field(default_factory=dict)
    profile_limits: Mapping[int, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "max_child", _whole("max child size", self.max_child))
        object.__setattr__(self, "min_trade", _whole("minimum trade size", self.min_trade))
        object.__setattr__(self, "lot_size", _whole("lot size", self.lot_size, hi=1_000_000))
        p = self.participation_pct
        if p is not None:
            if isinstance(p, bool) or not isinstance(p, int | float | np.floating) or not (0 < p <= 100):
                raise ConfigError(f"participation cap must be a percent in (0, 100], got {p!r}")
            object.__setattr__(self, "participation_pct", float(p))
        w = self.participation_window_seconds
        if isinstance(w, bool) or not isinstance(w, int | float | np.floating) or not (0 < w <= 86_400):
            raise ConfigError(f"participation window must be in (0, 86400] seconds, got {w!r}")
        if not isinstance(self.lots, bool | np.bool_):
            raise ConfigError(f"lots must be True or False (on/off), got {self.lots!r}")
        if self.lot_size is not None and not self.lots:
            raise ConfigError("a lot size needs lots on (lots=True / --lots on)")
        ven = {}
        for k, v in dict(self.venue).items():
            ven[int(k)] = v if isinstance(v, VenueLimits) else VenueLimits(**dict(v))
        object.__setattr__(self, "venue", ven)
        object.__setattr__(self, "profile_limits", {int(k): (int(a), int(b)) for k, (a, b)
                                                    in dict(self.profile_limits).items()})
        if self.max_child is not None and self.min_trade is not None and self.min_trade > self.max_child:
            raise ConfigError(f"minimum trade size {self.min_trade:,} exceeds the max child size "
                              f"{self.max_child:,} shares")

    @property
    def window_ns(self) -> int:
        return int(round(self.participation_window_seconds * 1e9))

    @property
    def is_trivial(self) -> bool:
        """True when no rule can bind (every strategy then behaves exactly as without rules)."""
        return (self.max_child is None and self.participation_pct is None and self.min_trade is None
                and not self.lots and not self.venue
                and all(m <= 1 for _, m in self.profile_limits.values()))

    def with_profiles(self, profiles: Sequence[Any]) -> SizingRules:
        """A copy whose per-venue defaults are the profiles' ``lot_size`` and ``min_size`` (shares)."""
        from dataclasses import replace

        return replace(self, profile_limits={int(p.key): (int(p.lot_size), int(p.min_size)) for p in profiles})

    def limits(self, venue_keys: Sequence[int] | np.ndarray) -> ChildLimits:
        """Per-venue :class:`ChildLimits` for ``venue_keys`` (module docstring's resolution order). The minimum
        is rounded up to the lot; a venue whose maximum is below its minimum is a :class:`ConfigError`."""
        keys = [int(k) for k in np.asarray(venue_keys).tolist()]
        lot, mn, mx = (np.empty(len(keys), np.int64) for _ in range(3))
        for i, key in enumerate(keys):
            over = self.venue.get(key, VenueLimits())
            plot, pmin = self.profile_limits.get(key, (1, 1))
            lt = (over.lot_size or self.lot_size or plot) if self.lots else 1
            m = over.min_size if over.min_size is not None else max(self.min_trade or 1, pmin)
            x = over.max_child if over.max_child is not None else (self.max_child or NO_MAX)
            m = -(-m // lt) * lt
            if x < m:
                raise ConfigError(f"venue {key}: max child {x:,} is below its minimum child {m:,} shares "
                                  f"(lot {lt:,}); no child could ever be sent there")
            lot[i], mn[i], mx[i] = lt, m, x
        return ChildLimits(lot, mn, mx)


def participation_budget(pct: float | None, market_volume: float, own_volume: float) -> int:
    """Shares a decision may still send under a ``pct`` % cap: ``floor(pct/100 · market_volume) −
    own_volume``, at least 0 (``market_volume``, ``own_volume`` in shares over the trailing window);
    ``NO_MAX`` when ``pct`` is None. Example: 10 % of 4,250 shares with 300 already bought → 125."""
    if pct is None:
        return NO_MAX
    return max(int(math.floor(pct / 100.0 * float(market_volume) + 1e-9)) - int(own_volume), 0)
