"""Risk-control settings: validated dataclasses with their units (module :mod:`sorlib.risk`).

Every control is off unless given. :class:`RiskControls` bundles them; ``RiskControls()`` (all off) makes
:class:`~sorlib.risk.RiskGuard` a pass-through (decisions bit-identical to the wrapped strategy's).

Units: percent (``pct``), shares, dollars ($ notional; $/share for costs), seconds, minutes, basis points.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

from ..errors import ConfigError

#: markout horizons (seconds) measured by the venue scores
MARKOUT_HORIZONS = (1.0, 5.0, 30.0, 60.0)
LATENCY_MODES = ("cap", "cost")


def _num(name: str, v, lo: float, hi: float, unit: str, *, lo_open: bool = True, none: bool = False):
    if v is None and none:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(float(v)):
        raise ConfigError(f"{name} must be a finite number ({unit}), got {v!r}")
    v = float(v)
    if (v <= lo if lo_open else v < lo) or v > hi:
        raise ConfigError(f"{name} must be in {'(' if lo_open else '['}{lo:g}, {hi:g}] {unit}, got {v:g}")
    return v


def _whole(name: str, v, lo: int, hi: int, unit: str):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float) or not float(v).is_integer():
        raise ConfigError(f"{name} must be a whole number of {unit}, got {v!r}")
    v = int(v)
    if not lo <= v <= hi:
        raise ConfigError(f"{name} must be in [{lo:,}, {hi:,}] {unit}, got {v:,}")
    return v


def _build(cls, v, what: str):
    if v is None or isinstance(v, cls):
        return v
    if isinstance(v, Mapping):
        names = {f.name for f in fields(cls)}
        bad = sorted(set(v) - names)
        if bad:
            raise ConfigError(f"{what}: unknown key(s) {bad}; allowed: {sorted(names)}")
        return cls(**dict(v))
    raise ConfigError(f"{what} must be a {cls.__name__} or a dict, got {type(v).__name__}")


@dataclass(frozen=True)
class ExposureLimit:
    """Per-venue exposure cap of one parent order: its fills at a venue never exceed the least of
    ``pct`` percent of the parent order's size (shares, rounded down), ``shares`` shares, and ``usd`` dollars
    of notional (price × shares, fees excluded, at the prices the decision sees). At least one is given."""

    pct: float | None = None
    shares: int | None = None
    usd: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "pct", _num("exposure pct", self.pct, 0, 100, "percent", none=True))
        object.__setattr__(self, "shares", _whole("exposure shares", self.shares, 1, 100_000_000, "shares"))
        object.__setattr__(self, "usd", _num("exposure usd", self.usd, 0, 1e12, "$", none=True))
        if self.pct is None and self.shares is None and self.usd is None:
            raise ConfigError("an exposure limit needs pct (percent), shares or usd ($)")

    def share_cap(self, order_size: int) -> int:
        """The share part of the cap for a parent order of ``order_size`` shares (``2**62``: none)."""
        caps = [2**62]
        if self.pct is not None:
            caps.append(int(math.floor(self.pct / 100.0 * order_size + 1e-9)))
        if self.shares is not None:
            caps.append(self.shares)
        return min(caps)


@dataclass(frozen=True)
class VenueScoring:
    """Venue reliability scores from the strategy's own past fills and the quotes before each decision.

    Components per venue (only data stamped at or before the decision): ``fill_rate`` = shares filled /
    shares sent by marketable child orders (whose arrival is past); ``fade_rate`` = share of the displayed
    touch size at the decision that vanished from the tape by the order's arrival (decision + the venue's
    latency); markouts = the NBBO mid move (bps, buyer's side, − = adverse) 1, 5, 30 and 60 s after each
    own fill (known once the horizon has passed). The cost added to the venue's all-in price ($/share):

    ``miss_cost · ((1 − fill_rate) + fade_rate) + markout_weight · max(0, −markout(h)) · 1e-4 · mid``,

    capped at ``max_cost``; ``h`` = ``markout_horizon_seconds``. Rates are shrunk toward a perfect venue
    with ``prior_shares`` pseudo-shares (fill_rate = (filled + prior) / (sent + prior))."""

    miss_cost: float = 0.01  # $/share per unit of miss (1 − fill rate) and of fade rate
    markout_weight: float = 1.0  # dimensionless, [0, 100]
    markout_horizon_seconds: float = 5.0  # one of MARKOUT_HORIZONS
    prior_shares: float = 100.0  # shares, [0, 1e9]
    max_cost: float = 0.05  # $/share

    def __post_init__(self) -> None:
        object.__setattr__(self, "miss_cost", _num("scoring miss_cost", self.miss_cost, 0, 10, "$/share",
                                                   lo_open=False))
        object.__setattr__(self, "markout_weight", _num("scoring markout_weight", self.markout_weight, 0, 100,
                                                        "(dimensionless)", lo_open=False))
        h = _num("scoring markout_horizon_seconds", self.markout_horizon_seconds, 0, 60, "seconds")
        if h not in MARKOUT_HORIZONS:
            raise ConfigError(f"scoring markout_horizon_seconds must be one of {MARKOUT_HORIZONS} s, got {h:g}")
        object.__setattr__(self, "markout_horizon_seconds", h)
        object.__setattr__(self, "prior_shares", _num("scoring prior_shares", self.prior_shares, 0, 1e9, "shares",
                                                      lo_open=False))
        object.__setattr__(self, "max_cost", _num("scoring max_cost", self.max_cost, 0, 10, "$/share",
                                                  lo_open=False))


@dataclass(frozen=True)
class LatencyAware:
    """Venue latency in the allocation: each venue's displayed touch is discounted by its estimated
    probability ``s_k`` of still being there when an order reaches it (after ``latency_us · latency_scale``).

    ``s_k`` = mean over the snapshots of the last ``lookback_seconds`` (those whose horizon has passed) of the
    fraction of the venue's touch ask size still displayed at that price one latency later (1 when the ask
    improved, 0 when it moved away); recomputed on a fixed clock every ``refresh_seconds`` (from data up to
    that tick). ``mode="cap"``: the allocator sees ``floor(s_k · displayed)`` shares; ``"cost"``: it pays
    ``miss_cost · (1 − s_k)`` $/share more there. ``max_quote_age_seconds``: a venue whose book has not changed
    for longer is skipped (None: never)."""

    mode: str = "cap"
    lookback_seconds: float = 300.0
    refresh_seconds: float = 30.0
    latency_scale: float = 1.0
    miss_cost: float = 0.01  # $/share (mode "cost")
    max_quote_age_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in LATENCY_MODES:
            raise ConfigError(f"latency-aware mode must be one of {LATENCY_MODES}, got {self.mode!r}")
        object.__setattr__(self, "lookback_seconds", _num("latency lookback_seconds", self.lookback_seconds, 0,
                                                          86_400, "seconds"))
        object.__setattr__(self, "refresh_seconds", _num("latency refresh_seconds", self.refresh_seconds, 0,
                                                         3600, "seconds"))
        object.__setattr__(self, "latency_scale", _num("latency latency_scale", self.latency_scale, 0, 1000,
                                                       "(dimensionless)", lo_open=False))
        object.__setattr__(self, "miss_cost", _num("latency miss_cost", self.miss_cost, 0, 10, "$/share",
                                                   lo_open=False))
        object.__setattr__(self, "max_quote_age_seconds", _num("latency max_quote_age_seconds",
                                                               self.max_quote_age_seconds, 0, 86_400, "seconds",
                                                               none=True))


@dataclass(frozen=True)
class RiskControls:
    """Every risk control of :class:`~sorlib.risk.RiskGuard` (None = that control off).

    * ``exposure``: :class:`ExposureLimit` per venue and parent order;
    * ``scoring``: :class:`VenueScoring` (cost on unreliable venues);
    * ``latency``: :class:`LatencyAware` (discount displayed size by its survival over the venue's latency);
    * ``luld_band_pct`` (percent, e.g. 5 Tier 1 / 10 Tier 2): stop routing while the NBBO mid is more than
      this far from the reference price, the mean trade price of the last ``luld_reference_minutes``
      (5 min); the reference is frozen while halted and routing resumes when the mid is back inside the band,
      or after ``luld_max_pause_minutes`` (5 min, the LULD pause) with a fresh reference;
    * ``halt_gap_seconds``: no quote record from any venue for longer than this is a halt; routing resumes
      ``halt_gap_seconds`` after quotes resume. Independently, a venue whose book is cleared (no bid and no
      ask) gets nothing until it quotes again, and with every venue cleared routing stops;
    * ``kill_bps``: kill switch — once the realised slippage of a parent order's fills (average price incl.
      fees vs the arrival NBBO mid, bps) exceeds this, no more child orders for it (the engine's deadline
      clean-up still completes it);
    * ``recheck_seconds``: while halted, the guard looks again this often (seconds).
    """

    exposure: ExposureLimit | None = None
    scoring: VenueScoring | None = None
    latency: LatencyAware | None = None
    luld_band_pct: float | None = None
    luld_reference_minutes: float = 5.0
    luld_max_pause_minutes: float = 5.0
    halt_gap_seconds: float | None = None
    kill_bps: float | None = None
    recheck_seconds: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "exposure", _build(ExposureLimit, self.exposure, "risk exposure"))
        object.__setattr__(self, "scoring", _build(VenueScoring, self.scoring, "risk scoring"))
        object.__setattr__(self, "latency", _build(LatencyAware, self.latency, "risk latency"))
        object.__setattr__(self, "luld_band_pct", _num("LULD band", self.luld_band_pct, 0, 100, "percent",
                                                       none=True))
        object.__setattr__(self, "luld_reference_minutes", _num("LULD reference window",
                                                                self.luld_reference_minutes, 0, 390, "minutes"))
        object.__setattr__(self, "luld_max_pause_minutes", _num("LULD maximum pause", self.luld_max_pause_minutes,
                                                                0, 390, "minutes"))
        object.__setattr__(self, "halt_gap_seconds", _num("halt gap", self.halt_gap_seconds, 0, 86_400, "seconds",
                                                          none=True))
        object.__setattr__(self, "kill_bps", _num("kill switch", self.kill_bps, 0, 10_000, "bps", none=True))
        object.__setattr__(self, "recheck_seconds", _num("recheck interval", self.recheck_seconds, 0, 3600,
                                                         "seconds"))

    @classmethod
    def from_dict(cls, d: Mapping | RiskControls | None) -> RiskControls | None:
        """``d`` as :class:`RiskControls` (None stays None); unknown keys are a :class:`ConfigError`."""
        return _build(cls, d, "risk")

    @property
    def is_off(self) -> bool:
        """True when no control is on (the guard then passes every decision through unchanged)."""
        return (self.exposure is None and self.scoring is None and self.latency is None
                and self.luld_band_pct is None and self.halt_gap_seconds is None and self.kill_bps is None)

    def to_dict(self) -> dict:
        return asdict(self)
