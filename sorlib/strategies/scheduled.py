"""Any schedule with any venue allocator: ``Scheduled(schedule, allocator)``.

The rule: at each decision, ``due = min(schedule.target(view) − filled, remaining)`` shares
(:mod:`sorlib.schedules`: TWAP, VWAP, Almgren–Chriss, adaptive); when ``due ≤ 0`` nothing is sent until the
schedule's next bucket; otherwise the allocator splits ``due`` across venues with its own model
(``allocator.route(view, due)``). Allocators: ``"router"`` (the task's spec router), ``"uncapped"`` (the
uncapped router), ``"best_ask"`` (the single cheapest venue's touch), ``"sweep"`` (the venues' ladders
cheapest first — what the TWAP/VWAP baselines do), ``"ck"`` (Cont–Kukanov market + limit placement), or any
strategy instance with a ``route(view, qty)`` method. So "TWAP schedule + router split" is
``Scheduled("twap", "router")`` and ``Scheduled("twap", "sweep")`` is the TWAP baseline itself. Child-order
sizing rules (``sizing``) are handed to the allocator. The strategy decides as often as its allocator
(``interval_ns``) and settles resting orders the allocator's way.
"""

from __future__ import annotations

from ..allocation.sizing import SizingRules
from ..errors import ConfigError
from ..schedules import Schedule, make_schedule
from .base import Decision, Strategy, sizing_params
from .best_ask import BestAsk
from .ck import ContKukanov
from .router import Router
from .view import MarketView

ALLOCATORS = ("router", "uncapped", "best_ask", "sweep", "ck")


class _Sweep(Strategy):
    """Allocator: buy the amount due sweeping all venues' ladders cheapest first (ask + fee)."""

    name = "sweep"

    def route(self, view: MarketView, qty: int) -> Decision:
        return Decision(self.sweep(view, qty))

    def decide(self, view: MarketView) -> Decision:
        return self.route(view, view.remaining)


def make_allocator(name: str, **kwargs) -> Strategy:
    """The allocator called ``name`` (:data:`ALLOCATORS`), built with ``kwargs``."""
    if name == "router":
        return Router(mode="spec", **kwargs)
    if name == "uncapped":
        return Router(mode="uncapped", **kwargs)
    if name == "best_ask":
        return BestAsk(**kwargs)
    if name == "sweep":
        return _Sweep()
    if name == "ck":
        return ContKukanov(**kwargs)
    raise ConfigError(f"allocator must be one of {', '.join(ALLOCATORS)} or a strategy with route(); got {name!r}")


class Scheduled(Strategy):
    """A parent-order schedule combined with a venue allocator (module docstring)."""

    name = "scheduled"

    def __init__(self, schedule: Schedule | str = "twap", allocator: Strategy | str = "router",
                 sizing: SizingRules | None = None, bucket_seconds: float = 60.0,
                 risk_aversion: float = 1e-6) -> None:
        self.schedule = make_schedule(schedule, bucket_seconds, risk_aversion) if isinstance(schedule, str) else schedule
        if not isinstance(self.schedule, Schedule):
            raise ConfigError(f"schedule must be a Schedule or one of the names; got {schedule!r}")
        self.allocator = make_allocator(allocator) if isinstance(allocator, str) else allocator
        if not callable(getattr(self.allocator, "route", None)):
            raise ConfigError(f"allocator {self.allocator!r} has no route(view, qty) method")
        self.interval_ns = self.allocator.interval_ns
        self.overbooks = self.allocator.overbooks
        self.set_sizing(sizing)

    def set_sizing(self, rules: SizingRules | None) -> Strategy:
        super().set_sizing(rules)
        if hasattr(self, "allocator"):
            self.allocator.set_sizing(rules)
        return self

    def begin(self, view: MarketView) -> None:
        self.schedule.begin(view)
        self.allocator.begin(view)

    def decide(self, view: MarketView) -> Decision:
        due = min(self.schedule.target(view) - view.filled, view.remaining)
        if due <= 0:
            return Decision.nothing(view.ask_px.shape[0], self.schedule.next_change_ns(view))
        return self.allocator.route(view, int(due))

    def decision_key(self) -> tuple:
        """Schedule parameters plus the allocator's decision key (or its type and parameters)."""
        inner = (tuple(self.allocator.decision_key()) if hasattr(self.allocator, "decision_key")
                 else (type(self.allocator).__name__, *sorted(self.allocator.params().items())))
        return ("scheduled", *sorted(self.schedule.params().items()), *inner, *sorted(sizing_params(self).items()))

    def params(self) -> dict:
        return {**self.allocator.params(), **self.schedule.params(), "allocator": self.allocator.name}
