"""Price impact of our marketable fills, with decay: every venue's replayed ask and bid ladders shift up.

**Square-root law.** After this parent order has taken ``Q`` shares with marketable orders (child orders
and the clean-up; resting fills are passive and move nothing), the impact curve is

    I(Q) = Y · σ · √(Q / V)        ($/share)

with ``σ`` the daily volatility **in $/share** (the standard deviation of the daily price change) and ``V``
the daily volume (shares), both estimated from the data by :func:`estimate_impact_inputs` unless given.
``Y`` is of order one: 0.5–1 across markets (Tóth et al. 2011, "Anomalous price impact and the critical
nature of liquidity", PRX; Bouchaud, Bonart, Donier & Gould, *Trades, Quotes and Prices*, 2018); the
default 0.7 is the middle of that range, not a fit. ``Q`` is cumulative over the parent order (each new
parent order starts at 0 and at no impact: orders are replayed independently).

**What a fill pays.** A fill of the shares ``(Qa, Qb]`` walks the curve: on top of the displayed price it
pays the shift in force ``R(t)`` plus the average climb over its own shares,

    path(Qa, Qb) = Y·σ/√V · [ (2/3)·(Qb^{3/2} − Qa^{3/2}) / (Qb − Qa) − √Qa ]   ($/share)

so one sweep of ``Q`` shares pays ``(2/3)·I(Q)`` per share on average (double ``Q`` → √2 times more).
Each fill adds the increment ``ΔI = I(Qb) − I(Qa)`` to the shift at its time ``tᵢ``, which then decays:

    R(t) = Σᵢ ΔIᵢ · [ p + (1 − p) · G(t − tᵢ) ]      (p = permanent fraction, G(0) = 1)

**Decay kernel G.** ``"power_law"`` (default): ``G(τ) = (1 + τ/τ₀)^(−γ)``, γ = 0.5, τ₀ set so that
``G(half_life) = 1/2`` (τ₀ = half_life / (2^{1/γ} − 1)); ``"exponential"`` (Obizhaeva–Wang resilience):
``G(τ) = 2^(−τ/half_life)``. The power law is the default because the impact is square-root: Gatheral
(2010, "No-dynamic-arbitrage and market impact", Quantitative Finance 10(7)) showed that exponential decay
is consistent (no price manipulation) only with *linear* impact; in the propagator model an impact
``∝ v^δ`` (v = trading rate) with ``G ∝ τ^(−γ)`` and δ = γ = 1/2 gives the square-root dependence on ``Q``
whatever the duration. Exponential decay is offered for comparison and for the half-life tests.
The half-life default, 60 s, is an assumption (impact relaxes over seconds to minutes), not a fit.
The permanent fraction defaults to 0 (all transient within the parent order).

Pure functions take and return arrays; :class:`ImpactState` is one parent order's running state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..data.market import NS_PER_SECOND, MarketData
from ..errors import ConfigError

DECAYS = ("power_law", "exponential")
SESSION_SECONDS = 6.5 * 3600  # a US regular session, 09:30–16:00


def sqrt_impact(q, sigma: float, volume: float, y: float):
    """``I(Q) = y·σ·√(Q/V)`` ($/share; σ in $/share, V and Q in shares)."""
    return y * sigma * np.sqrt(np.asarray(q, float) / volume)


def path_impact(q_a, q_b, sigma: float, volume: float, y: float):
    """Average extra price ($/share) over the shares ``(q_a, q_b]`` climbing the square-root curve from
    ``I(q_a)``: ``y·σ/√V·[(2/3)(q_b^{3/2} − q_a^{3/2})/(q_b − q_a) − √q_a]`` (0 when ``q_b = q_a``)."""
    a = np.asarray(q_a, float)
    b = np.asarray(q_b, float)
    d = b - a
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = np.where(d > 0, (2.0 / 3.0) * (b ** 1.5 - a ** 1.5) / np.where(d > 0, d, 1.0) - np.sqrt(a), 0.0)
    return y * sigma / math.sqrt(volume) * avg


def decay_kernel(dt_seconds, kind: str = "power_law", half_life_seconds: float = 60.0, exponent: float = 0.5):
    """``G(τ)``, the share of a transient impact left after ``τ`` seconds (τ < 0 counts as 0).

    exponential: ``2^(−τ/h)``; power_law: ``(1 + τ/τ₀)^(−γ)`` with ``τ₀ = h/(2^{1/γ} − 1)``, so
    ``G(h) = 1/2`` in both."""
    tau = np.maximum(np.asarray(dt_seconds, float), 0.0)
    h = float(half_life_seconds)
    if kind == "exponential":
        return np.exp2(-tau / h)
    if kind == "power_law":
        tau0 = h / (2.0 ** (1.0 / exponent) - 1.0)
        return (1.0 + tau / tau0) ** (-exponent)
    raise ConfigError(f"impact decay must be one of {list(DECAYS)}, got {kind!r}")


@dataclass(frozen=True)
class ImpactInputs:
    """Daily volatility ``sigma_daily`` ($/share), daily volume ``volume_daily`` (shares), the reference
    price ($/share, median print) so σ can be read as a fraction, and the bars they came from."""

    sigma_daily: float
    volume_daily: float
    price: float
    bars: int

    @property
    def sigma_fraction(self) -> float:
        """σ as a fraction of the price (e.g. 0.015 = 1.5 % a day)."""
        return self.sigma_daily / self.price


def estimate_impact_inputs(md: MarketData, bar_seconds: float = 60.0) -> ImpactInputs:
    """Daily σ ($/share) and daily volume (shares) from the prints.

    σ: standard deviation of the changes of the last print price between consecutive ``bar_seconds``
    bars (bars without prints carry the last price), scaled to a 6.5-hour session:
    ``σ_bar · √(23,400 s / bar_seconds)``. V: shares printed, scaled from the span of the data (first to
    last record) to 6.5 hours (a full regular day counts once)."""
    t = md.trades
    if len(t) < 2:
        raise ConfigError("the impact model needs prints to estimate daily volatility and volume; give "
                          "sigma_daily ($/share) and volume_daily (shares) instead")
    order = np.argsort(t.ts, kind="stable")
    ts, px = t.ts[order], t.price[order]
    bar = int(round(bar_seconds * NS_PER_SECOND))
    idx = (ts - ts[0]) // bar
    last = np.flatnonzero(np.r_[idx[1:] != idx[:-1], True])  # last print of each bar with prints
    full = np.full(int(idx[-1]) + 1, np.nan)
    full[idx[last]] = px[last]
    full = _carry(full)
    steps = np.diff(full)
    sigma_bar = float(np.std(steps, ddof=1)) if steps.size >= 2 else 0.0
    sigma = sigma_bar * math.sqrt(SESSION_SECONDS / bar_seconds)
    q_ts = md.quotes.ts
    lo = min(int(ts[0]), int(q_ts.min())) if len(q_ts) else int(ts[0])
    hi = max(int(ts[-1]), int(q_ts.max())) if len(q_ts) else int(ts[-1])
    span = max((hi - lo) / NS_PER_SECOND, bar_seconds)
    volume = float(t.size.sum()) * max(SESSION_SECONDS / span, 1.0)
    return ImpactInputs(sigma_daily=sigma, volume_daily=volume, price=float(np.median(px)), bars=int(full.size))


def _carry(x: np.ndarray) -> np.ndarray:
    """Forward-fill NaNs (the first value is finite)."""
    idx = np.where(np.isfinite(x), np.arange(x.size), 0)
    return x[np.maximum.accumulate(idx)]


@dataclass(frozen=True)
class ImpactModel:
    """Square-root impact with decay (module docstring). Units: ``y`` dimensionless, ``sigma_daily``
    $/share, ``volume_daily`` shares (None: estimated from the data when the model is resolved),
    ``half_life_seconds`` s, ``exponent`` γ of the power law, ``permanent_fraction`` p in [0, 1]."""

    enabled: bool = False
    y: float = 0.7
    sigma_daily: float | None = None
    volume_daily: float | None = None
    decay: str = "power_law"
    half_life_seconds: float = 60.0
    exponent: float = 0.5
    permanent_fraction: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise ConfigError(f"impact 'enabled' must be true or false, got {self.enabled!r}")
        _check("y", self.y, 0, 10, "(dimensionless)")
        if self.sigma_daily is not None:
            _check("sigma_daily", self.sigma_daily, 0, 1e6, "$/share")
        if self.volume_daily is not None:
            _check("volume_daily", self.volume_daily, 1, 1e13, "shares")
            if not self.volume_daily > 0:
                raise ConfigError("impact 'volume_daily' must be > 0 shares")
        if self.decay not in DECAYS:
            raise ConfigError(f"impact decay must be one of {list(DECAYS)}, got {self.decay!r}")
        _check("half_life_seconds", self.half_life_seconds, 1e-6, 1e6, "s")
        _check("exponent", self.exponent, 0.01, 5, "(power-law γ)")
        _check("permanent_fraction", self.permanent_fraction, 0, 1, "(fraction)")

    @property
    def resolved(self) -> bool:
        return self.sigma_daily is not None and self.volume_daily is not None

    def resolve(self, md: MarketData | None) -> ImpactModel:
        """This model with σ and V filled in from ``md`` (:func:`estimate_impact_inputs`) where None."""
        if not self.enabled or self.resolved:
            return self
        if md is None:
            raise ConfigError("the impact model needs the market data (or sigma_daily and volume_daily)")
        est = estimate_impact_inputs(md)
        return replace(self, sigma_daily=self.sigma_daily if self.sigma_daily is not None else est.sigma_daily,
                       volume_daily=self.volume_daily if self.volume_daily is not None else est.volume_daily)

    def state(self) -> ImpactState:
        """A fresh per-parent-order state (no impact yet)."""
        if not self.resolved:
            raise ConfigError("resolve the impact model (sigma_daily, volume_daily) before replaying")
        return ImpactState(self)

    def parameters(self) -> dict:
        return {"enabled": self.enabled, "y": self.y, "sigma_daily_usd": self.sigma_daily,
                "volume_daily_shares": self.volume_daily, "decay": self.decay,
                "half_life_seconds": self.half_life_seconds, "exponent": self.exponent,
                "permanent_fraction": self.permanent_fraction}


class ImpactState:
    """One parent order's impact: ``q`` shares taken so far, increments ``ΔIᵢ`` at times ``tᵢ`` (ns)."""

    __slots__ = ("m", "q", "_t", "_d", "_coef", "_g")

    def __init__(self, model: ImpactModel) -> None:
        self.m = model
        self.q = 0.0
        self._t: list[int] = []
        self._d: list[float] = []
        self._coef = model.y * float(model.sigma_daily) / math.sqrt(float(model.volume_daily))
        h, gam = float(model.half_life_seconds), float(model.exponent)
        if model.decay == "exponential":
            self._g = lambda tau: 2.0 ** (-tau / h)
        else:
            tau0 = h / (2.0 ** (1.0 / gam) - 1.0)
            self._g = lambda tau: (1.0 + tau / tau0) ** (-gam)

    def shift(self, t_ns: int) -> float:
        """``R(t)`` ($/share): the price shift in force at ``t_ns`` from the fills so far (:func:`decay_kernel`,
        evaluated here with scalars: a parent order has tens of fills)."""
        if not self._d:
            return 0.0
        p = self.m.permanent_fraction
        g = self._g
        return math.fsum(d * (p + (1.0 - p) * g(max(t_ns - ti, 0) / NS_PER_SECOND))
                         for ti, d in zip(self._t, self._d, strict=True))

    def take(self, t_ns: int, qty: int) -> float:
        """Record a marketable fill of ``qty`` shares at ``t_ns``; returns its extra price ($/share):
        ``R(t) + path(Q, Q + qty)`` (:func:`path_impact`)."""
        extra = self.shift(t_ns)
        qa, qb = self.q, self.q + float(qty)
        if qb > qa:
            extra += self._coef * ((2.0 / 3.0) * (qb ** 1.5 - qa ** 1.5) / (qb - qa) - math.sqrt(qa))
        self._t.append(int(t_ns))
        self._d.append(self._coef * (math.sqrt(qb) - math.sqrt(qa)))
        self.q = qb
        return extra


def _check(name: str, v, lo: float, hi: float, unit: str) -> None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or not lo <= v <= hi:
        raise ConfigError(f"impact '{name}' must be a number in [{lo:g}, {hi:g}] {unit}, got {v!r}")
