"""One venue's displayed ask as the allocation layer sees it.

Units: ``ask``, ``fee`` and ``rebate`` in $/share (a negative ``fee`` is a taker rebate, a negative
``rebate`` a maker fee); ``ask_size`` in shares.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..venues import VenueProfile


@dataclass(frozen=True)
class Venue:
    """A venue's best ask at one snapshot plus its trading terms.

    ``ask`` may be NaN/inf only when ``ask_size == 0`` (an empty level: no share can execute there).
    ``ask_size`` must be a non-negative whole number of shares.
    """

    ask: float
    ask_size: int
    fee: float = 0.0
    rebate: float = 0.0
    name: str | None = None
    key: int | None = None

    def __post_init__(self) -> None:
        size = self.ask_size
        if isinstance(size, bool) or int(size) != size or size < 0:
            raise ValueError(
                f"Venue {self.name or self.key or ''}: ask_size must be a whole number >= 0, got {size!r}"
            )
        object.__setattr__(self, "ask_size", int(size))
        for f in ("ask", "fee", "rebate"):
            object.__setattr__(self, f, float(getattr(self, f)))
        if self.ask_size > 0 and not math.isfinite(self.ask):
            raise ValueError(
                f"Venue {self.name or self.key or ''}: ask {self.ask} is not finite but ask_size > 0"
            )
        if not (math.isfinite(self.fee) and math.isfinite(self.rebate)):
            raise ValueError(f"Venue {self.name or self.key or ''}: fee and rebate must be finite")

    @property
    def cost_per_share(self) -> float:
        """``ask + fee`` in $/share: what one executed share costs."""
        return self.ask + self.fee

    @classmethod
    def from_profile(cls, profile: VenueProfile, ask: float, ask_size: int) -> Venue:
        """A venue from a :class:`~sorlib.venues.VenueProfile` (its taker fee / maker rebate) and a quote."""
        return cls(
            ask=ask,
            ask_size=ask_size,
            fee=profile.taker_fee,
            rebate=profile.maker_rebate,
            name=profile.name,
            key=profile.key,
        )


def venues_from_arrays(
    ask: Any,
    ask_size: Any,
    fee: Any = 0.0,
    rebate: Any = 0.0,
    names: Sequence[str] | None = None,
    keys: Sequence[int] | None = None,
) -> list[Venue]:
    """Build a list of :class:`Venue` from parallel arrays (scalars ``fee``/``rebate`` broadcast)."""
    a, s, f, r = np.broadcast_arrays(
        np.asarray(ask, float), np.asarray(ask_size), np.asarray(fee, float), np.asarray(rebate, float)
    )
    return [
        Venue(
            float(a[i]),
            int(s[i]),
            float(f[i]),
            float(r[i]),
            None if names is None else names[i],
            None if keys is None else keys[i],
        )
        for i in range(a.shape[0])
    ]


def venue_arrays(venues: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(ask, ask_size, fee, rebate)`` as float64/int64/float64/float64 arrays, validated.

    Accepts :class:`Venue` or any object with the attributes ``ask``, ``ask_size``, ``fee``, ``rebate``.
    Raises ``ValueError`` for a negative or fractional size, a non-finite fee/rebate, or a non-finite
    ask on a venue that displays shares.
    """
    n = len(venues)
    ask = np.empty(n)
    size = np.empty(n, dtype=np.int64)
    fee = np.empty(n)
    reb = np.empty(n)
    for i, v in enumerate(venues):
        s = v.ask_size
        if isinstance(s, bool) or int(s) != s or s < 0:
            raise ValueError(f"venue {i}: ask_size must be a whole number >= 0, got {s!r}")
        ask[i], size[i], fee[i], reb[i] = float(v.ask), int(s), float(v.fee), float(v.rebate)
    bad = ~np.isfinite(fee) | ~np.isfinite(reb) | ((size > 0) & ~np.isfinite(ask))
    if bad.any():
        raise ValueError(f"venue {int(np.argmax(bad))}: non-finite ask (with ask_size > 0), fee or rebate")
    return ask, size, fee, reb


def check_params(*params: float) -> tuple[float, ...]:
    """The penalty parameters as floats; ``ValueError`` unless all are finite."""
    out = tuple(float(p) for p in params)
    if not all(math.isfinite(p) for p in out):
        raise ValueError(f"penalty parameters must be finite, got {params}")
    return out
