"""Price impact of our marketable fills, with decay: every venue's replayed ask and bid ladders shift up.

**Square-root law.** After this parent order has taken ``Q`` shares with marketable orders (child orders
and the clean-up; resting fills are passive and move nothing), the impact curve is

    I(Q) = Y · σ · √(Q / V)        ($/share)

with ``σ`` the daily volatility **in $/share** (the standard deviation of the daily price change) and ``V``
the daily volume (shares), both given or estimated from the data **before each parent order's arrival**.

**No look-ahead** (``estimate="causal"``, the default; :class:`CausalImpactInputs`). For an order arriving at
``a`` on a local day (``MarketData.tz``) whose first record (quote or print) is at ``open``, with bars of
``bar_seconds`` (60 s) counted from the day's first print: σ = the standard deviation of the changes of the
last print price between consecutive bars that *ended* at or before ``a`` (bars without prints carry the last
price), × √(23,400 s / bar_seconds); V = the shares printed that day before ``a`` × max(23,400 s / (a −
open), 1). Both need ``min_history_bars`` (30) complete bars; with fewer, the fallback is, in this order:
``fallback_sigma_daily`` / ``fallback_volume_daily`` when given (e.g. the values ``sorlib calibrate`` writes
for an earlier day), else the whole-day estimate of the latest earlier day in the data, else the stated
defaults σ = ``default_sigma_fraction`` (1.5 %, a typical US large-cap day) × the last price known at ``a``
(last print at or before it, else the mid of the last quote row; σ = 0 when no price is known yet) and V =
``default_volume_daily`` (1,000,000 shares). Prefix sums are built once per day, so each order costs
O(log n). ``estimate="whole_day"`` is the old estimator (:func:`estimate_impact_inputs` over all the data,
the future included), kept only to show what the look-ahead changes.
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
ESTIMATES = ("causal", "whole_day")
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


class CausalImpactInputs:
    """σ ($/share) and V (shares) per arrival time from the data before it (module docstring, "No
    look-ahead"). Built once per data set: per local day the bar steps' prefix sums and the cumulative prints."""

    def __init__(self, md: MarketData, model: ImpactModel) -> None:
        import pandas as pd

        self.m = model
        self.used: dict[int, tuple[float, float, str]] = {}  # arrival ns → (σ, V, source) handed out (record)
        self.bar = int(round(model.bar_seconds * NS_PER_SECOND))
        t = md.trades
        order = np.argsort(t.ts, kind="stable")
        self.ts, self.px = t.ts[order], t.price[order].astype(float)
        self.cum = np.r_[0.0, np.cumsum(t.size[order].astype(float))]
        q = md.quotes
        self.q_ts = q.ts
        with np.errstate(invalid="ignore"):
            self.q_mid = 0.5 * (q.bid_px[:, 0] + q.ask_px[:, 0]) if len(q) else np.empty(0)
        allts = np.concatenate([self.ts, q.ts]) if len(q) else self.ts
        self.days: list[dict] = []
        if allts.size == 0:
            return
        local = pd.to_datetime(allts, utc=True).tz_convert(md.tz).normalize()
        for day in local.unique():
            lo = int(day.tz_convert("UTC").value)
            hi = int((day + pd.Timedelta(days=1)).tz_convert("UTC").value)
            i0, i1 = np.searchsorted(self.ts, [lo, hi], side="left")
            inday = (allts >= lo) & (allts < hi)
            self.days.append(self._day(lo, hi, int(allts[inday].min()), int(i0), int(i1)))

    def _day(self, lo: int, hi: int, open_ns: int, i0: int, i1: int) -> dict:
        d = {"lo": lo, "hi": hi, "open": open_ns, "i0": i0, "i1": i1, "whole": None}
        if i1 - i0 < 1:
            return d
        ts, px = self.ts[i0:i1], self.px[i0:i1]
        t0 = int(ts[0])
        idx = (ts - t0) // self.bar
        last = np.flatnonzero(np.r_[idx[1:] != idx[:-1], True])
        full = np.full(int(idx[-1]) + 1, np.nan)
        full[idx[last]] = px[last]
        steps = np.diff(_carry(full))
        d.update(t0=t0, s1=np.r_[0.0, np.cumsum(steps)], s2=np.r_[0.0, np.cumsum(steps * steps)])
        if full.size >= self.m.min_history_bars:
            d["whole"] = self._from(d, full.size, int(ts[-1]) + 1)
        return d

    def _from(self, d: dict, nb: int, a: int) -> tuple[float, float]:
        """σ, V from the first ``nb`` bars of day ``d`` and its prints before ``a``."""
        n = nb - 1  # steps between complete bars; bars past the day's last print are carried (steps of 0)
        m = min(n, d["s1"].size - 1)
        s1, s2 = float(d["s1"][m]), float(d["s2"][m])
        var = max((s2 - s1 * s1 / n) / (n - 1), 0.0) if n >= 2 else 0.0
        sigma = math.sqrt(var) * math.sqrt(SESSION_SECONDS / self.m.bar_seconds)
        shares = float(self.cum[int(np.searchsorted(self.ts, a, side="left"))] - self.cum[d["i0"]])
        span = max((a - d["open"]) / NS_PER_SECOND, self.m.bar_seconds)
        return sigma, max(shares * max(SESSION_SECONDS / span, 1.0), 1.0)

    def at(self, a: int) -> tuple[float, float, str]:
        """``(σ $/share, V shares, source)`` for an order arriving at ``a`` ns; source is ``"before_arrival"``,
        ``"fallback"``, ``"earlier_day"`` or ``"default"``."""
        a = int(a)
        if a not in self.used:
            self.used[a] = self._at(a)
        return self.used[a]

    def summary(self) -> dict:
        """What was handed out so far (the results JSON's ``impact.estimated``): orders, count per source,
        median σ ($/share) and V (shares)."""
        v = list(self.used.values())
        src: dict[str, int] = {}
        for x in v:
            src[x[2]] = src.get(x[2], 0) + 1
        return {"orders": len(v), "sources": dict(sorted(src.items())),
                "sigma_daily_usd_median": float(np.median([x[0] for x in v])) if v else None,
                "volume_daily_shares_median": float(np.median([x[1] for x in v])) if v else None}

    def _at(self, a: int) -> tuple[float, float, str]:
        di = next((i for i, d in enumerate(self.days) if d["lo"] <= a < d["hi"]), None)
        if di is not None and "t0" in self.days[di]:
            d = self.days[di]
            nb = (a - d["t0"]) // self.bar if a > d["t0"] else 0
            if nb >= self.m.min_history_bars:
                return (*self._from(d, int(nb), a), "before_arrival")
        m = self.m
        if m.fallback_sigma_daily is not None and m.fallback_volume_daily is not None:
            return float(m.fallback_sigma_daily), float(m.fallback_volume_daily), "fallback"
        earlier = [d["whole"] for d in self.days if d["hi"] <= a and d["whole"] is not None]
        if earlier:
            return (*earlier[-1], "earlier_day")
        return m.default_sigma_fraction * self._price_before(a), float(m.default_volume_daily), "default"

    def _price_before(self, a: int) -> float:
        """The last print at or before ``a`` ($), else the mid of the last quote row at or before it with one,
        else 0."""
        i = int(np.searchsorted(self.ts, a, side="right"))
        if i > 0:
            return float(self.px[i - 1])
        j = int(np.searchsorted(self.q_ts, a, side="right"))
        mids = self.q_mid[:j]
        ok = np.flatnonzero(np.isfinite(mids))
        return float(mids[ok[-1]]) if ok.size else 0.0


def _carry(x: np.ndarray) -> np.ndarray:
    """Forward-fill NaNs (the first value is finite)."""
    idx = np.where(np.isfinite(x), np.arange(x.size), 0)
    return x[np.maximum.accumulate(idx)]


@dataclass(frozen=True)
class ImpactModel:
    """Square-root impact with decay (module docstring). Units: ``y`` dimensionless, ``sigma_daily``
    $/share, ``volume_daily`` shares (None: estimated from the data when the model is resolved),
    ``half_life_seconds`` s, ``exponent`` γ of the power law, ``permanent_fraction`` p in [0, 1].
    Estimation (σ and V not given): ``estimate`` ``"causal"`` (per order, from the data before its arrival) or
    ``"whole_day"`` (the old look-ahead estimator); ``bar_seconds`` s; ``min_history_bars`` complete bars
    needed; ``fallback_sigma_daily`` $/share and ``fallback_volume_daily`` shares (both or neither), then
    ``default_sigma_fraction`` (of the last price) and ``default_volume_daily`` shares (module docstring)."""

    enabled: bool = False
    y: float = 0.7
    sigma_daily: float | None = None
    volume_daily: float | None = None
    decay: str = "power_law"
    half_life_seconds: float = 60.0
    exponent: float = 0.5
    permanent_fraction: float = 0.0
    estimate: str = "causal"
    bar_seconds: float = 60.0
    min_history_bars: int = 30
    fallback_sigma_daily: float | None = None
    fallback_volume_daily: float | None = None
    default_sigma_fraction: float = 0.015
    default_volume_daily: float = 1_000_000.0

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
        if self.estimate not in ESTIMATES:
            raise ConfigError(f"impact 'estimate' must be one of {list(ESTIMATES)}, got {self.estimate!r}")
        _check("bar_seconds", self.bar_seconds, 1, 3600, "s")
        if isinstance(self.min_history_bars, bool) or not isinstance(self.min_history_bars, int) or \
                not 2 <= self.min_history_bars <= 10_000:
            raise ConfigError(f"impact 'min_history_bars' must be a whole number in [2, 10000], "
                              f"got {self.min_history_bars!r}")
        if (self.fallback_sigma_daily is None) != (self.fallback_volume_daily is None):
            raise ConfigError("impact 'fallback_sigma_daily' ($/share) and 'fallback_volume_daily' (shares) go "
                              "together: give both or neither")
        if self.fallback_sigma_daily is not None:
            _check("fallback_sigma_daily", self.fallback_sigma_daily, 0, 1e6, "$/share")
            _check("fallback_volume_daily", self.fallback_volume_daily, 1, 1e13, "shares")
        _check("default_sigma_fraction", self.default_sigma_fraction, 0, 1, "(fraction of the price)")
        _check("default_volume_daily", self.default_volume_daily, 1, 1e13, "shares")

    @property
    def given(self) -> bool:
        """σ and V both given (used for every order)."""
        return self.sigma_daily is not None and self.volume_daily is not None

    @property
    def resolved(self) -> bool:
        return self.given or getattr(self, "_causal", None) is not None

    def resolve(self, md: MarketData | None) -> ImpactModel:
        """This model ready to replay ``md``: σ and V given, else (``"causal"``) a per-order estimator
        (:class:`CausalImpactInputs`, held by the returned model) or (``"whole_day"``) σ and V filled in by
        :func:`estimate_impact_inputs` where None."""
        if not self.enabled or self.resolved:
            return self
        if md is None:
            raise ConfigError("the impact model needs the market data (or sigma_daily and volume_daily)")
        if self.estimate == "causal":
            out = replace(self)
            object.__setattr__(out, "_causal", CausalImpactInputs(md, self))
            return out
        est = estimate_impact_inputs(md, self.bar_seconds)
        return replace(self, sigma_daily=self.sigma_daily if self.sigma_daily is not None else est.sigma_daily,
                       volume_daily=self.volume_daily if self.volume_daily is not None else est.volume_daily)

    def inputs_at(self, arrival_ns: int | None) -> tuple[float, float, str]:
        """``(σ $/share, V shares, source)`` for a parent order arriving at ``arrival_ns`` (source ``"given"``
        when fixed, else :meth:`CausalImpactInputs.at`)."""
        if self.given:
            return float(self.sigma_daily), float(self.volume_daily), "given"
        causal = getattr(self, "_causal", None)
        if causal is None:
            raise ConfigError("resolve the impact model (sigma_daily, volume_daily) before replaying")
        if arrival_ns is None:
            raise ConfigError("the causal impact model needs each parent order's arrival time")
        return causal.at(arrival_ns)

    def state(self, arrival_ns: int | None = None) -> ImpactState:
        """A fresh per-parent-order state (no impact yet), σ and V for an order arriving at ``arrival_ns``."""
        sigma, volume, _ = self.inputs_at(arrival_ns)
        return ImpactState(self, sigma, volume)

    def parameters(self) -> dict:
        return {"enabled": self.enabled, "y": self.y, "sigma_daily_usd": self.sigma_daily,
                "volume_daily_shares": self.volume_daily, "decay": self.decay,
                "half_life_seconds": self.half_life_seconds, "exponent": self.exponent,
                "permanent_fraction": self.permanent_fraction, "estimate": self.estimate,
                "bar_seconds": self.bar_seconds, "min_history_bars": self.min_history_bars,
                "fallback_sigma_daily": self.fallback_sigma_daily, "fallback_volume_daily": self.fallback_volume_daily,
                "default_sigma_fraction": self.default_sigma_fraction,
                "default_volume_daily": self.default_volume_daily,
                **({"estimated": self._causal.summary()} if getattr(self, "_causal", None) is not None else {})}


class ImpactState:
    """One parent order's impact: ``q`` shares taken so far, increments ``ΔIᵢ`` at times ``tᵢ`` (ns)."""

    __slots__ = ("m", "q", "_t", "_d", "_coef", "_g")

    def __init__(self, model: ImpactModel, sigma: float | None = None, volume: float | None = None) -> None:
        self.m = model
        self.q = 0.0
        self._t: list[int] = []
        self._d: list[float] = []
        sigma = float(model.sigma_daily if sigma is None else sigma)
        volume = float(model.volume_daily if volume is None else volume)
        self._coef = model.y * sigma / math.sqrt(volume)
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
