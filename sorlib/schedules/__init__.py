"""Parent-order schedules: how many shares to release in each interval, separate from the venue split.

A schedule answers one question at each decision time t: how many shares of the parent order should be
done by now (``target(view)``, cumulative shares, 0..S). The window [arrival, deadline) is cut into buckets
of ``bucket_seconds`` (Δ); the amount due by the *end* of bucket b is released at its start (as the TWAP
baseline does), so ``target`` is constant within a bucket. Any schedule combines with any venue allocator
through :class:`sorlib.strategies.Scheduled`: at each decision ``due = min(target − filled, remaining)`` and
the allocator (router spec/uncapped, Best Ask, a sweep, Cont–Kukanov) splits ``due`` across venues. What a
bucket could not buy carries into the next; the deadline clean-up buys the rest.

* :class:`TWAPSchedule` — even: ``ceil(S·(b+1)/n)`` (``n`` buckets).
* :class:`VWAPSchedule` — volume-weighted by the traded volume of the same-length window before arrival.
* :class:`AlmgrenChriss` — the optimal trajectory of Almgren & Chriss (2000) for risk aversion λ (1/$):
  holdings ``x(t) = X·sinh(κ(T−t))/sinh(κT)``, ``κ² = λσ²/η`` (:func:`ac_trajectory`), with σ and η estimated
  from the data before arrival (:func:`estimate_sigma`, :func:`estimate_eta`); its efficient frontier is
  :func:`efficient_frontier`.
* :class:`Adaptive` — a base schedule shifted ahead or behind by market conditions measured before each
  bucket (spread, displayed depth, queue imbalance, recent volatility).

Units: shares, seconds, $/share; σ in $/share/√s, η in $·s/share² (a temporary impact of η·v $/share when
trading at v shares/s), λ in 1/$ (risk aversion: the weight of the variance, $², against the expected cost,
$). Schedules use only what a :class:`~sorlib.strategies.view.MarketView` holds (the market up to the
decision), so they cannot look ahead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError

NS = 1_000_000_000
SCHEDULES = ("twap", "vwap", "ac", "adaptive")

__all__ = ["SCHEDULES", "Adaptive", "AlmgrenChriss", "Schedule", "TWAPSchedule", "VWAPSchedule", "ac_cost_variance",
           "ac_kappa", "ac_trajectory", "efficient_frontier", "estimate_eta", "estimate_sigma", "make_schedule",
           "mid_series"]


# --------------------------------------------------------------------------------- Almgren–Chriss (pure)
def ac_kappa(sigma: float, eta: float, risk_aversion: float) -> float:
    """κ = √(λσ²/η) in 1/s (σ $/share/√s, η $·s/share², λ 1/$); 0 when λ = 0 (risk neutral)."""
    if not (sigma >= 0 and eta > 0 and risk_aversion >= 0) or not all(map(math.isfinite, (sigma, eta, risk_aversion))):
        raise ConfigError(f"Almgren-Chriss needs sigma >= 0, eta > 0, risk aversion >= 0 (finite); got "
                          f"sigma={sigma}, eta={eta}, lambda={risk_aversion}")
    return math.sqrt(risk_aversion * sigma * sigma / eta)


def ac_trajectory(X: float, T: float, sigma: float, eta: float, risk_aversion: float, t: Any) -> np.ndarray:
    """Optimal holdings (shares still to buy) at times ``t`` (s, clipped to [0, T]):
    ``x(t) = X·sinh(κ(T−t))/sinh(κT)``, κ = :func:`ac_kappa`; as λ → 0, ``X·(1 − t/T)`` (TWAP).

    Evaluated as ``X·e^{−κt}·(1 − e^{−2κ(T−t)})/(1 − e^{−2κT})`` (no overflow for large κT), and by the linear
    limit when κT < 1e-8."""
    if not T > 0:
        raise ConfigError(f"horizon T must be > 0 seconds, got {T}")
    t = np.clip(np.asarray(t, float), 0.0, T)
    k = ac_kappa(sigma, eta, risk_aversion)
    if k * T < 1e-8:
        return X * (1.0 - t / T)
    return X * np.exp(-k * t) * (-np.expm1(-2 * k * (T - t))) / (-np.expm1(-2 * k * T))


def ac_cost_variance(X: float, T: float, sigma: float, eta: float, risk_aversion: float) -> tuple[float, float]:
    """Expected temporary-impact cost ($) and variance ($²) of the AC trajectory (no permanent impact):
    ``E = η∫v²dt = η·X²·κ·(coth(κT) + κT/sinh²(κT))/2``, ``Var = σ²∫x²dt = σ²·X²·(coth(κT) − κT/sinh²(κT))/(2κ)``;
    in the limit κ → 0: ``E = ηX²/T``, ``Var = σ²X²T/3`` (TWAP)."""
    k = ac_kappa(sigma, eta, risk_aversion)
    a = k * T
    if a < 1e-3:  # series: f = 1/3 − 2a²/45, g = 1/a² + a²/45 (∫x² = X²T·f, ∫v² = X²κ²T·g)
        return eta * X * X / T * (1 + a**4 / 45), sigma**2 * X * X * T * (1 / 3 - 2 * a * a / 45)
    coth = 1.0 / math.tanh(a)
    s2 = 0.0 if a > 350 else 1.0 / math.sinh(a) ** 2
    return eta * X * X * k * (coth + a * s2) / 2, sigma**2 * X * X * (coth - a * s2) / (2 * k)


def efficient_frontier(X: float, T: float, sigma: float, eta: float, lambdas: Any) -> tuple[np.ndarray, np.ndarray]:
    """Expected cost ($) and variance ($²) of the AC optimum for each risk aversion in ``lambdas`` (1/$):
    two arrays (:func:`ac_cost_variance`). As λ grows the variance falls and the expected cost rises."""
    lam = np.asarray(lambdas, float).ravel()
    out = np.array([ac_cost_variance(X, T, sigma, eta, float(v)) for v in lam]).reshape(-1, 2)
    return out[:, 0], out[:, 1]


def mid_series(view: Any, since_ns: int, until_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """NBBO mids ($) at the snapshots stamped in [since, until) and ≤ the view's time: ``(times ns, mids)``
    (only two-sided snapshots)."""
    q = view.past.quotes(since_ns, until_ns)
    if q.times.shape[0] == 0:
        return q.times, np.empty(0)
    with np.errstate(invalid="ignore", all="ignore"):
        bid = np.nanmax(np.where(np.isfinite(q.bid_px), q.bid_px, -np.inf), axis=1)
        ask = np.nanmin(np.where(np.isfinite(q.ask_px[..., 0]), q.ask_px[..., 0], np.inf), axis=1)
    ok = np.isfinite(bid) & np.isfinite(ask) & (ask >= bid)
    return q.times[ok], (bid[ok] + ask[ok]) / 2


def estimate_sigma(times_ns: np.ndarray, mids: np.ndarray, sample_seconds: float = 5.0) -> float:
    """Volatility σ ($/share/√s) from mids: the mid sampled every ``sample_seconds`` (last value at or before
    each grid time), ``σ = √(mean(Δmid²)/sample_seconds)``; NaN with fewer than two samples."""
    if times_ns.shape[0] < 2:
        return math.nan
    step = int(round(sample_seconds * NS))
    grid = np.arange(int(times_ns[0]), int(times_ns[-1]) + 1, step)
    if grid.shape[0] < 2:
        return math.nan
    m = mids[np.searchsorted(times_ns, grid, side="right") - 1]
    d = np.diff(m)
    return float(math.sqrt(float(np.mean(d * d)) / sample_seconds))


def estimate_eta(half_spread: float, depth: float, bucket_seconds: float) -> float:
    """Temporary-impact coefficient η ($·s/share²) from the book: the displayed touch depth ``D`` (shares,
    all venues) is consumed per spread width (2·``half_spread`` $) and refills once per bucket (Δ s), so
    trading at v shares/s (v·Δ shares per bucket) walks the book by 2h·vΔ/D $ and pays half of it on average:
    ``η = h·Δ/D``. (The AC fixed cost ε = h + fee does not change the trajectory; permanent impact γ = 0, so
    η̃ = η − γτ/2 = η.)"""
    if not (depth > 0 and half_spread > 0):
        return math.nan
    return float(half_spread * bucket_seconds / depth)


# ------------------------------------------------------------------------------------------ schedules
class Schedule:
    """Base: buckets of ``bucket_seconds`` over [arrival, deadline); subclasses give ``fraction(b)``, the share
    of the order due by the end of bucket b (non-decreasing, 1 at the last bucket)."""

    name = "schedule"

    def __init__(self, bucket_seconds: float = 60.0) -> None:
        if not (isinstance(bucket_seconds, int | float) and math.isfinite(bucket_seconds) and bucket_seconds > 0):
            raise ConfigError(f"schedule bucket length must be > 0 seconds, got {bucket_seconds}")
        self.bucket_ns = int(round(bucket_seconds * NS))

    def begin(self, view: Any) -> None:
        o = view.order
        span = max(o.deadline_ns - o.arrival_ns, 1)
        self._n = max(1, math.ceil(span / self.bucket_ns))

    def bucket(self, view: Any) -> int:
        return int(min((view.t_ns - view.order.arrival_ns) // self.bucket_ns, self._n - 1))

    def next_change_ns(self, view: Any) -> int:
        """When the target next changes: the start of the next bucket (ns)."""
        return int(view.order.arrival_ns + ((view.t_ns - view.order.arrival_ns) // self.bucket_ns + 1) * self.bucket_ns)

    def fraction(self, b: int, view: Any) -> float:
        raise NotImplementedError

    def target(self, view: Any) -> int:
        """Cumulative shares due by now: ``min(S, ceil(S·fraction(b) − 1e-9))``."""
        S = view.order.size
        return min(S, int(math.ceil(S * self.fraction(self.bucket(view), view) - 1e-9)))

    def params(self) -> dict:
        return {"schedule": self.name, "schedule_bucket_seconds": self.bucket_ns / NS}


class TWAPSchedule(Schedule):
    """Even schedule: ``ceil(S·(b+1)/n)`` shares by the start of bucket b (exactly the TWAP baseline's)."""

    name = "twap"

    def target(self, view: Any) -> int:
        return math.ceil(view.order.size * (self.bucket(view) + 1) / self._n)

    def fraction(self, b: int, view: Any) -> float:
        return (b + 1) / self._n


class VWAPSchedule(Schedule):
    """Volume-weighted: bucket b's weight is the market's traded volume in the matching bucket of the
    same-length window just before arrival (even weights when it traded nothing); exactly the VWAP baseline's
    schedule."""

    name = "vwap"

    def begin(self, view: Any) -> None:
        super().begin(view)
        o = view.order
        span = o.deadline_ns - o.arrival_ns
        past = view.past.trades(o.arrival_ns - span, o.arrival_ns)
        b = np.minimum((past.ts - (o.arrival_ns - span)) // self.bucket_ns, self._n - 1)
        w = np.bincount(b.astype(np.int64), weights=past.size, minlength=self._n)[: self._n]
        self._cum = np.cumsum(w) / w.sum() if w.sum() > 0 else np.arange(1, self._n + 1) / self._n

    def fraction(self, b: int, view: Any) -> float:
        return float(self._cum[b])


@dataclass
class _ACInputs:
    sigma: float
    eta: float
    source: str


class AlmgrenChriss(Schedule):
    """Almgren–Chriss optimal schedule for risk aversion ``risk_aversion`` λ (1/$).

    At arrival σ ($/share/√s) is estimated from the NBBO mid over the ``lookback_minutes`` before arrival
    (:func:`estimate_sigma`) and η ($·s/share²) from the median half-spread and touch depth then
    (:func:`estimate_eta`), unless given. By the start of bucket b the target is ``S − x(t_{b+1})``,
    ``t_{b+1} = min((b+1)·Δ, T)`` (:func:`ac_trajectory`). λ = 0, or no usable estimate, gives TWAP."""

    name = "ac"

    def __init__(self, risk_aversion: float = 1e-6, bucket_seconds: float = 60.0, sigma: float | None = None,
                 eta: float | None = None, lookback_minutes: float = 30.0) -> None:
        super().__init__(bucket_seconds)
        if not (isinstance(risk_aversion, int | float) and math.isfinite(risk_aversion) and risk_aversion >= 0):
            raise ConfigError(f"Almgren-Chriss risk aversion must be a finite number >= 0 (1/$), got {risk_aversion}")
        for nm, v in (("sigma", sigma), ("eta", eta)):
            if v is not None and not (math.isfinite(v) and v >= 0):
                raise ConfigError(f"Almgren-Chriss {nm} must be finite and >= 0, got {v}")
        if not lookback_minutes > 0:
            raise ConfigError(f"lookback must be > 0 minutes, got {lookback_minutes}")
        self.risk_aversion = float(risk_aversion)
        self.sigma, self.eta = sigma, eta
        self.lookback_ns = int(round(lookback_minutes * 60 * NS))
        self.inputs: _ACInputs | None = None

    def begin(self, view: Any) -> None:
        super().begin(view)
        a = view.order.arrival_ns
        sigma, eta = self.sigma, self.eta
        if sigma is None or eta is None:
            times, mids = mid_series(view, a - self.lookback_ns, a)
            if sigma is None:
                sigma = estimate_sigma(times, mids)
            if eta is None:
                h, d = _book_stats(view, a - self.lookback_ns, a)
                eta = estimate_eta(h, d, self.bucket_ns / NS)
        ok = math.isfinite(sigma) and math.isfinite(eta) and eta > 0
        self.inputs = _ACInputs(sigma if ok else 0.0, eta if ok else 1.0, "given/estimated" if ok else "fallback TWAP")
        T = (view.order.deadline_ns - a) / NS
        ends = np.minimum((np.arange(self._n) + 1) * self.bucket_ns / NS, T)
        x = ac_trajectory(1.0, T, self.inputs.sigma, self.inputs.eta, self.risk_aversion, ends)
        self._cum = 1.0 - x
        self._cum[-1] = 1.0

    def fraction(self, b: int, view: Any) -> float:
        return float(self._cum[b])

    def params(self) -> dict:
        return {**super().params(), "ac_risk_aversion": self.risk_aversion}


def _book_stats(view: Any, since_ns: int, until_ns: int) -> tuple[float, float]:
    """Median NBBO half-spread ($) and median displayed touch depth (shares, ask + bid summed over venues,
    halved) at the snapshots in [since, until) before the view's time."""
    q = view.past.quotes(since_ns, until_ns)
    if q.times.shape[0] == 0:
        return math.nan, math.nan
    with np.errstate(invalid="ignore", all="ignore"):
        bid = np.nanmax(np.where(np.isfinite(q.bid_px), q.bid_px, -np.inf), axis=1)
        ask = np.nanmin(np.where(np.isfinite(q.ask_px[..., 0]), q.ask_px[..., 0], np.inf), axis=1)
    ok = np.isfinite(bid) & np.isfinite(ask) & (ask >= bid)
    if not ok.any():
        return math.nan, math.nan
    depth = (q.ask_sz[..., 0].sum(axis=1) + q.bid_sz.sum(axis=1)) / 2
    return float(np.median((ask[ok] - bid[ok]) / 2)), float(np.median(depth[ok]))


class Adaptive(Schedule):
    """A base schedule (``base``: ``"twap"`` or ``"ac"``) shifted by market conditions.

    At the first decision of each bucket, with data stamped before it only (the view), the score

        s = clip(w · [ln(h_ref/h) + ln(D/D_ref) + I + ln(σ/σ_ref)], −1, 1)

    compares the NBBO half-spread h ($), the touch depth D (shares, bid + ask over venues, halved), the
    queue imbalance I = (bid size − ask size)/(bid size + ask size) at the best prices (∈ [−1, 1]; > 0 means
    buying pressure, a rising price is likelier) and the volatility σ of the mid over the last
    ``vol_window_seconds`` with their medians over the ``lookback_minutes`` before arrival (``_ref``). Tight
    spreads, deep books, bid-heavy queues and high volatility (more risk in waiting) speed the order up. The
    bucket's target is ``base target + s·max_shift·S`` clipped to [0, S] (``max_shift``: fraction of the
    order, default 0.1); it is kept for the whole bucket."""

    name = "adaptive"

    def __init__(self, base: str = "twap", bucket_seconds: float = 60.0, max_shift: float = 0.1,
                 weight: float = 0.5, lookback_minutes: float = 30.0, vol_window_seconds: float = 60.0,
                 risk_aversion: float = 1e-6) -> None:
        super().__init__(bucket_seconds)
        if base not in ("twap", "ac"):
            raise ConfigError(f"adaptive base schedule must be 'twap' or 'ac', got {base!r}")
        if not (0 <= max_shift <= 1):
            raise ConfigError(f"adaptive max_shift must be a fraction of the order in [0, 1], got {max_shift}")
        if not (weight >= 0 and math.isfinite(weight)):
            raise ConfigError(f"adaptive weight must be finite and >= 0, got {weight}")
        if not (lookback_minutes > 0 and vol_window_seconds > 0):
            raise ConfigError("adaptive lookback (minutes) and volatility window (seconds) must be > 0")
        self.base_name = base
        self.base: Schedule = (TWAPSchedule(bucket_seconds) if base == "twap"
                               else AlmgrenChriss(risk_aversion, bucket_seconds, lookback_minutes=lookback_minutes))
        self.max_shift, self.weight = float(max_shift), float(weight)
        self.lookback_ns = int(round(lookback_minutes * 60 * NS))
        self.vol_ns = int(round(vol_window_seconds * NS))
        self.scores: list[tuple[int, float]] = []

    def _conditions(self, view: Any, since_ns: int, until_ns: int) -> tuple[float, float, float]:
        h, d = _book_stats(view, since_ns, until_ns)
        times, mids = mid_series(view, since_ns, until_ns)
        return h, d, estimate_sigma(times, mids, 1.0)

    def begin(self, view: Any) -> None:
        super().begin(view)
        self.base.begin(view)
        a = view.order.arrival_ns
        self._ref = self._conditions(view, a - self.lookback_ns, a)
        self._bucket, self._target = -1, 0
        self.scores = []

    def score(self, view: Any) -> float:
        """The score s ∈ [−1, 1] at the view's time (class docstring); 0 when a term cannot be measured."""
        t = view.t_ns
        h, d, vol = self._conditions(view, t - self.vol_ns, t + 1)
        hr, dr, vr = self._ref
        terms = []
        for num, den in ((hr, h), (d, dr), (vol, vr)):
            terms.append(math.log(num / den) if num > 0 and den > 0 and math.isfinite(num / den) else 0.0)
        bp, ap = view.bid_px, view.ask_px[:, 0]
        if np.isfinite(bp).any() and np.isfinite(ap).any():
            bb, ba = np.nanmax(bp), np.nanmin(ap)
            bs = float(view.bid_sz[np.isfinite(bp) & (np.abs(bp - bb) < 1e-9)].sum())
            asz = float(view.ask_avail[np.isfinite(ap) & (np.abs(ap - ba) < 1e-9), 0].sum())
            terms.append((bs - asz) / (bs + asz) if bs + asz > 0 else 0.0)
        return float(np.clip(self.weight * sum(terms), -1.0, 1.0))

    def target(self, view: Any) -> int:
        b = self.bucket(view)
        if b != self._bucket:
            s = self.score(view)
            self.scores.append((b, s))
            S = view.order.size
            self._bucket = b
            self._target = int(min(S, max(0, self.base.target(view) + math.floor(s * self.max_shift * S))))
        return self._target

    def fraction(self, b: int, view: Any) -> float:
        return self.target(view) / view.order.size

    def params(self) -> dict:
        return {**super().params(), "adaptive_base": self.base_name, "adaptive_max_shift": self.max_shift}


def make_schedule(name: str, bucket_seconds: float = 60.0, risk_aversion: float = 1e-6) -> Schedule:
    """The schedule called ``name`` (:data:`SCHEDULES`) with ``bucket_seconds`` (s) and, for ``ac``,
    ``risk_aversion`` λ (1/$)."""
    if name == "twap":
        return TWAPSchedule(bucket_seconds)
    if name == "vwap":
        return VWAPSchedule(bucket_seconds)
    if name == "ac":
        return AlmgrenChriss(risk_aversion, bucket_seconds)
    if name == "adaptive":
        return Adaptive("twap", bucket_seconds, risk_aversion=risk_aversion)
    raise ConfigError(f"schedule must be one of {', '.join(SCHEDULES)}; got {name!r}")
