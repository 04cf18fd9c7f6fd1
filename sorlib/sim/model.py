"""``MarketModel``: latency, impact and fade together, and the named presets.

=============  ====================================================================================
preset         what is on
=============  ====================================================================================
``frozen``     nothing: orders reach every venue at once, taking moves no price, no venue pulls size —
               the recorded tape as it was (bit-identical to the engine without a market model)
``latency``    each venue profile's ``latency_us``
``impact``     square-root impact, power-law decay (half-life 60 s), Y = 0.7, σ and V from the data
``fade``       other venues lose 16 % of their displayed size at a price we took
``queue``      resting orders advance by the probabilistic power3 queue model (cancel-position exponent
               n = 2, or each venue profile's fitted ``queue_cancel_bias``) instead of the conservative
               one: the probabilistic models validate best against real resting orders
               (``sorlib validate-fills``; conservative, power, log and power3 within 0.05 points of each
               other, ``paper`` and ``simple`` far off)
``realistic``  all four (recommended for comparing schedules: a sweep is no longer free)
=============  ====================================================================================

Every preset prices the deadline clean-up beyond the visible book by the ``depth`` rule
(:mod:`sorlib.sim.cleanup`); ``{"cleanup": {"rule": "flat"}}`` restores the old flat price.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ..data.market import MarketData
from ..errors import ConfigError
from .cleanup import CleanupModel
from .fade import FadeModel
from .impact import ImpactModel
from .latency import LatencyModel
from .queue import QueueFill

MARKET_PRESETS = ("frozen", "latency", "impact", "fade", "queue", "realistic")


@dataclass(frozen=True)
class MarketModel:
    """How the replayed market reacts to our orders: ``latency``, ``impact``, ``fade`` (each with its own
    ``enabled`` switch and parameters), the ``queue`` model of resting orders (conservative in the recorded
    tape), the ``cleanup`` rule beyond the visible book (:class:`~sorlib.sim.cleanup.CleanupModel`) and the
    ``name`` reported with the results."""

    name: str = "frozen"
    latency: LatencyModel = field(default_factory=LatencyModel)
    impact: ImpactModel = field(default_factory=ImpactModel)
    fade: FadeModel = field(default_factory=FadeModel)
    queue: QueueFill = field(default_factory=QueueFill)
    cleanup: CleanupModel = field(default_factory=CleanupModel)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"market model name must be a non-empty string, got {self.name!r}")
        for what, v, cls in (("latency", self.latency, LatencyModel), ("impact", self.impact, ImpactModel),
                             ("fade", self.fade, FadeModel), ("queue", self.queue, QueueFill),
                             ("cleanup", self.cleanup, CleanupModel)):
            if isinstance(v, Mapping):
                object.__setattr__(self, what, cls(**_strip(v)))
            elif not isinstance(v, cls):
                raise ConfigError(f"market model '{what}' must be a {cls.__name__}, got {v!r}")

    @classmethod
    def preset(cls, name: str) -> MarketModel:
        """One of :data:`MARKET_PRESETS` (module docstring)."""
        if name not in MARKET_PRESETS:
            raise ConfigError(f"unknown market model {name!r}; use one of {', '.join(MARKET_PRESETS)}")
        on = {"latency": name in ("latency", "realistic"), "impact": name in ("impact", "realistic"),
              "fade": name in ("fade", "realistic")}
        queue = QueueFill("power3", 2.0, venue_power=True) if name in ("queue", "realistic") else QueueFill()
        return cls(name=name, latency=LatencyModel(enabled=on["latency"]), impact=ImpactModel(enabled=on["impact"]),
                   fade=FadeModel(enabled=on["fade"]), queue=queue)

    @property
    def frozen(self) -> bool:
        """Latency, impact and fade off: the recorded tape (whatever the queue model of resting orders)."""
        return not (self.latency.enabled or self.impact.enabled or self.fade.enabled)

    @property
    def label(self) -> str:
        """How reports name it: ``"frozen tape"`` for the recorded tape with the conservative queue model,
        else ``"simulated market (NAME)"``."""
        if self.frozen and self.queue == QueueFill():
            return "frozen tape"
        return f"simulated market ({self.name})"

    def resolve(self, md: MarketData | None) -> MarketModel:
        """Estimated inputs filled in from ``md`` (impact σ and V when not given)."""
        imp = self.impact.resolve(md)
        return self if imp is self.impact else replace(self, impact=imp)

    def parameters(self) -> dict:
        """``{"latency": {...}, "impact": {...}, "fade": {...}, "queue": {...}, "cleanup": {...}}`` with units in
        the key names."""
        return {"latency": self.latency.parameters(), "impact": self.impact.parameters(),
                "fade": self.fade.parameters(),
                "queue": {"model": self.queue.model, "power": self.queue.power,
                          "venue_power": self.queue.venue_power, "seed": self.queue.seed,
                          "haircut": self.queue.haircut},
                "cleanup": self.cleanup.parameters()}

    def to_dict(self) -> dict:
        """``{"name", "parameters"}`` — the results JSON's ``market`` entry."""
        return {"name": self.name, "parameters": self.parameters()}


def market_model(spec: str | Mapping | MarketModel | None) -> MarketModel:
    """A :class:`MarketModel` from a preset name, a model, or a dict (``dataclasses.asdict`` of one, as the
    search workers receive it; a ``"preset"`` key starts from that preset). None → ``frozen``."""
    if spec is None:
        return MarketModel.preset("frozen")
    if isinstance(spec, MarketModel):
        return spec
    if isinstance(spec, str):
        return MarketModel.preset(spec)
    if isinstance(spec, Mapping):
        d = dict(spec)
        base = MarketModel.preset(d.pop("preset")) if "preset" in d else MarketModel()
        parts = {}
        for what in ("latency", "impact", "fade", "queue"):
            if what in d:
                v = d.pop(what)
                cur = getattr(base, what)
                parts[what] = replace(cur, **_strip(v)) if isinstance(v, Mapping) else v
        if "cleanup" in d:  # built afresh: its defaults depend on the rule, not on the preset
            v = d.pop("cleanup")
            parts["cleanup"] = CleanupModel(**_strip(v)) if isinstance(v, Mapping) else \
                CleanupModel(rule=v) if isinstance(v, str) else v
        if "name" in d:
            parts["name"] = d.pop("name")
        if d:
            raise ConfigError(f"unknown market model key(s) {sorted(d)}; allowed: preset, name, latency, impact, "
                              "fade, queue, cleanup")
        return replace(base, **parts)
    raise ConfigError(f"market model must be one of {', '.join(MARKET_PRESETS)}, a MarketModel or a dict; "
                      f"got {spec!r}")


def _strip(v: Mapping) -> dict:
    """Parameter dict → constructor keywords (the unit-suffixed names of :meth:`parameters` accepted)."""
    alias = {"sigma_daily_usd": "sigma_daily", "volume_daily_shares": "volume_daily", "by_venue_us": "by_venue",
             "tick_usd": "tick"}
    return {alias.get(k, k): v for k, v in dict(v).items() if k != "estimated"}  # "estimated": a record only
