"""Order latency: a child order decided at ``t`` reaches venue k at ``t + latency_k``.

It meets that venue's book as it is then (the snapshot in force at ``t + latency_k``, after the liquidity
this parent order already took there) and fills against it; the routing decision itself still uses only
the data stamped at or before ``t``. Latency is constant per venue: each venue profile's ``latency_us``
(``VenueProfile``, ``venues_default.toml`` / ``--venues``), times ``scale``, unless ``by_venue`` names the
venue. Feed latency measured in the data (:func:`estimate_latency`) is a lower bound on order latency
(an order also travels back): a natural value for ``by_venue``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..data.market import MarketData
from ..errors import ConfigError

MAX_LATENCY_US = 10_000_000.0  # 10 s: the bound of VenueProfile.latency_us


@dataclass(frozen=True)
class LatencyModel:
    """Constant order latency per venue.

    ``enabled``: off → every order reaches every venue at its decision time (the frozen tape).
    ``scale``: multiplier on the venue profiles' ``latency_us`` (dimensionless, [0, 1000]).
    ``by_venue``: venue key → latency (µs, [0, 10⁷]) replacing the profile's (e.g. :func:`estimate_latency`).
    """

    enabled: bool = False
    scale: float = 1.0
    by_venue: Mapping[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise ConfigError(f"latency 'enabled' must be true or false, got {self.enabled!r}")
        if not (_number(self.scale) and 0 <= self.scale <= 1000):
            raise ConfigError(f"latency 'scale' must be a number in [0, 1000], got {self.scale!r}")
        for k, v in dict(self.by_venue).items():
            if not (_number(v) and 0 <= v <= MAX_LATENCY_US):
                raise ConfigError(f"latency of venue {k} must be in [0, {MAX_LATENCY_US:g}] µs, got {v!r}")
        object.__setattr__(self, "by_venue", {int(k): float(v) for k, v in dict(self.by_venue).items()})

    def delays_ns(self, venues, profile_latency_us) -> np.ndarray:
        """``(K,)`` int64 ns: each venue's order latency, ``round(µs · 1000)`` (zeros when disabled)."""
        venues = np.asarray(venues)
        if not self.enabled:
            return np.zeros(venues.shape[0], np.int64)
        us = [self.by_venue.get(int(v), float(p) * self.scale) for v, p in zip(venues, profile_latency_us,
                                                                                strict=True)]
        return np.round(np.asarray(us, float) * 1e3).astype(np.int64)

    def parameters(self) -> dict:
        return {"enabled": self.enabled, "scale": self.scale,
                "by_venue_us": {str(k): v for k, v in sorted(self.by_venue.items())}}


def estimate_latency(md: MarketData) -> dict[int, float]:
    """Venue key → median feed latency ``ts_recv − ts_event`` (µs) over that venue's records.

    Databento records carry both times (the readers keep the medians in ``MarketData.feed_latency_us``);
    data without ``ts_recv`` (AlgoSeek, TAQ, the synthetic day) give ``{}`` — use the venue profiles."""
    return {int(k): float(v) for k, v in sorted(getattr(md, "feed_latency_us", {}).items())}


def _number(x) -> bool:
    return not isinstance(x, bool) and isinstance(x, int | float) and math.isfinite(x)
