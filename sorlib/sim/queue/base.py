"""The queue-model interface: where a resting limit buy stands in its venue's best-bid queue.

A resting order joins the back of the bid level it rests at: ``front`` (shares displayed ahead of it) starts
at the displayed size. Two kinds of market events move it (hftbacktest's ``models/queue.rs`` shape, DESIGN
§9; code derived here):

* a **print** at our price (:meth:`QueueModel.on_print`): ``front −= qty``; the part of a print beyond
  ``front`` fills us. A print *below* our price traded through us: we were first, we fill completely.
* a **level change** from ``prev`` to ``new`` shares at our price (:meth:`QueueModel.on_level`), with ``t`` =
  the prints at our price since the previous level change (:attr:`QueueState.printed`). Each model says how
  much of the decrease was ahead of us; the prints are never counted again as cancels.

Every model keeps ``0 <= front <= level`` (never a negative position, never behind more than is displayed).
Units: shares. Models are stateless objects; the per-order state is a :class:`QueueState`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from ...errors import ConfigError


class QueueModelName(StrEnum):
    """Names of the queue models (:class:`QueueFill` ``model``)."""

    CONSERVATIVE = "conservative"   # risk-averse: only prints advance us
    PROBABILISTIC = "probabilistic"  # the power model, kept under its former name
    POWER = "power"                 # p = f(back)/(f(back)+f(front)), f = x^n
    LOG = "log"                     # the same with f = ln(1 + x)
    POWER2 = "power2"               # p = f(back)/f(back + front), f = x^n
    LOG2 = "log2"                   # the same with f = ln(1 + x)
    POWER3 = "power3"               # p = 1 − (front/(front + back))^n
    SIMPLE = "simple"               # the seed's model: fill probability 0.9·(1 − position), seeded draws
    PAPER = "paper"                 # Cont–Kukanov's rule min(L, (ξ − Q)⁺), settled at cancellation


QUEUE_MODELS: tuple[str, ...] = tuple(m.value for m in QueueModelName)
#: Models whose level-change rule splits a decrease between ahead and behind with a probability.
PROBABILISTIC_MODELS: tuple[str, ...] = ("probabilistic", "power", "log", "power2", "log2", "power3")


@dataclass(frozen=True)
class QueueFill:
    """Queue model settings, validated at construction.

    ``model``: one of :data:`QUEUE_MODELS`; ``power``: n of the power models (> 0, finite; unused by
    ``conservative``, ``log``, ``log2``, ``simple``); ``venue_power``: take n from each venue profile's
    ``queue_cancel_bias`` (fitted by ``sorlib calibrate``; power3's n is the cancel-position exponent) when
    the profile sets it, else ``power``; ``seed``: seed of the ``simple`` model's draws; ``haircut``: the
    fraction in (0, 1] of each fill the model gives that is credited, floor(haircut · fill) shares (1: all;
    0.5: the robustness variant "half the passive fill"; the shares not credited leave the resting order
    and return to the parent order's remainder, re-decided at the next decision).

    ``paper`` (:mod:`.paper`) is not a print model: the order is settled once, at its cancellation, by
    min(L, (ξ − Q)⁺) from the outflow ξ of its venue's best-bid queue realised while it rested."""

    model: str = "conservative"
    power: float = 2.0
    venue_power: bool = False
    seed: int = 0
    haircut: float = 1.0

    def __post_init__(self) -> None:
        name = self.model.value if isinstance(self.model, QueueModelName) else self.model
        if not isinstance(name, str) or name not in QUEUE_MODELS:
            raise ConfigError(f"queue model must be one of {', '.join(repr(m) for m in QUEUE_MODELS)}; "
                              f"got {self.model!r}")
        object.__setattr__(self, "model", name)
        if isinstance(self.power, bool) or not isinstance(self.power, int | float) or not (
                math.isfinite(self.power) and self.power > 0):
            raise ConfigError(f"queue model power must be a finite number > 0, got {self.power!r}")
        if not isinstance(self.venue_power, bool):
            raise ConfigError(f"queue model venue_power must be true or false, got {self.venue_power!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer) or not 0 <= self.seed < 2**32:
            raise ConfigError(f"queue model seed must be a whole number in [0, 2**32), got {self.seed!r}")
        if isinstance(self.haircut, bool) or not isinstance(self.haircut, int | float) or not (
                math.isfinite(self.haircut) and 0 < self.haircut <= 1):
            raise ConfigError(f"queue model haircut must be a fraction in (0, 1] of each fill, got {self.haircut!r}")

    def credit(self, filled: int) -> int:
        """Shares credited of a model fill of ``filled`` shares: floor(haircut · filled) (1e-9 guards the
        floor against binary rounding, e.g. 0.5 · 7 = 3)."""
        return int(math.floor(self.haircut * int(filled) + 1e-9)) if self.haircut < 1 else int(filled)


@dataclass
class QueueState:
    """One resting order's place: ``front`` shares ahead of it, ``level`` shares displayed at its price at
    the last level change, ``printed`` shares printed at its price since then."""

    front: float
    level: float
    printed: float = 0.0

    @classmethod
    def join(cls, displayed: float) -> QueueState:
        """A new order at the back of a level showing ``displayed`` shares."""
        d = max(float(displayed), 0.0)
        return cls(front=d, level=d)

    @property
    def position(self) -> float:
        """Shares ahead as a fraction of the level (0 = at the front; 0 when the level is empty)."""
        return self.front / self.level if self.level > 0 else 0.0


class QueueModel(ABC):
    """How prints and level changes move a resting order (module docstring)."""

    name: str = ""

    def on_print(self, st: QueueState, qty: float) -> float:
        """A print of ``qty`` shares at our price: consumes ``front`` first; returns the shares of it that
        reached us (``qty − front`` when positive, else 0). Same for every model."""
        qty = float(qty)
        st.printed += qty
        used = min(st.front, qty)
        st.front -= used
        return qty - used

    @abstractmethod
    def on_level(self, st: QueueState, new: float) -> None:
        """The level at our price now shows ``new`` shares (was ``st.level``); update ``st.front``, set
        ``st.level = new`` and reset ``st.printed``."""

    def _set(self, st: QueueState, front: float, new: float) -> None:
        st.front = min(max(front, 0.0), max(new, 0.0))
        st.level = max(new, 0.0)
        st.printed = 0.0


def fill_from_prints(model: QueueModel, st: QueueState, qty: int, price: float, trade_px: np.ndarray,
                     trade_sz: np.ndarray, eligible: np.ndarray | None = None,
                     through_ok: np.ndarray | None = None) -> int:
    """Shares of a resting buy of ``qty`` at ``price`` filled by seller-initiated prints ``trade_px`` ($),
    ``trade_sz`` (shares) on its venue, in time order; ``st`` is advanced in place (:func:`fill_parts`)."""
    return sum(fill_parts(model, st, qty, price, trade_px, trade_sz, eligible, through_ok))


def fill_parts(model: QueueModel, st: QueueState, qty: int, price: float, trade_px: np.ndarray,
               trade_sz: np.ndarray, eligible: np.ndarray | None = None,
               through_ok: np.ndarray | None = None) -> tuple[int, int]:
    """``(shares filled by prints at our price, shares filled by a print through it)`` of a resting buy of
    ``qty`` at ``price``; ``st`` is advanced in place.

    Only prints with ``eligible`` True (default all: the print could have reached a resting order on that
    venue's book at that moment, :mod:`sorlib.data.taq`) are looked at. A print above ``price`` does not
    touch us. A print at ``price`` goes through :meth:`QueueModel.on_print`. A print below ``price`` traded
    through us — price priority: we were first, everything left fills (and ``front`` becomes 0) — but only
    where ``through_ok`` is True (default all): the venue's displayed bid just before the print was known
    and at or above our price. Otherwise the print cannot be placed against our level (the venue's bid was
    below us, or unknown) and it is ignored."""
    at, left = 0, int(qty)
    for i in range(trade_px.shape[0]):
        if left <= 0:
            break
        if eligible is not None and not eligible[i]:
            continue
        px = float(trade_px[i])
        if px < price - 1e-9:
            if through_ok is not None and not through_ok[i]:
                continue
            st.front = 0.0
            return at, left
        if px > price + 1e-9:
            continue
        q = min(left, int(model.on_print(st, float(trade_sz[i]))))
        at += q
        left -= q
    return at, 0
