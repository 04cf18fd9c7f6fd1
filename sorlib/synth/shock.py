"""Injected shocks for the synthetic day: a price jump or a trading halt (``generate_market(..., shock=)``).

* ``Shock(kind="jump", at_minute=120, size_pct=8, duration_minutes=10)``: every quote and trade price
  stamped in ``[start + at, start + at + duration)`` is multiplied by ``1 + size_pct/100`` and rounded to the
  0.01 $ tick (bids down, asks up, so a 1-tick spread never crosses); after the window prices return to the
  generated path. ``size_pct`` may be negative (a drop), in (−50, 100] percent, not 0.
* ``Shock(kind="halt", at_minute=120, duration_minutes=5)``: every venue's book is cleared at the halt
  start (one record per venue with no bid and no ask), and no quote or trade is stamped inside the window;
  each venue's next generated record reopens it.

The shock is applied to the generated records, after the event loop: no random number is drawn, so the
shocked day is deterministic per seed and identical to the unshocked one outside the window; no shock
(the default) leaves the day bit-identical. ``parse_shock("jump:120:8:10")`` / ``"halt:120:5"`` reads the
``sorlib synth --shock`` text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..data.market import MarketData, Quotes, Trades
from ..errors import ConfigError

SHOCK_KINDS = ("jump", "halt")
S = 1_000_000_000


@dataclass(frozen=True)
class Shock:
    """A price jump or a halt (module docstring). Minutes from the day's start; percent."""

    kind: str = "jump"
    at_minute: float = 120.0
    size_pct: float = 8.0
    duration_minutes: float = 10.0

    def __post_init__(self) -> None:
        if self.kind not in SHOCK_KINDS:
            raise ConfigError(f"shock kind must be one of {SHOCK_KINDS}, got {self.kind!r}")
        for name, v, lo, hi in (("at_minute", self.at_minute, 0, 1440),
                                ("duration_minutes", self.duration_minutes, 0, 1440)):
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or not lo <= v <= hi:
                raise ConfigError(f"shock {name} must be in [{lo}, {hi}] minutes, got {v!r}")
        if self.duration_minutes <= 0:
            raise ConfigError(f"shock duration_minutes must be > 0 minutes, got {self.duration_minutes!r}")
        v = self.size_pct
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ConfigError(f"shock size_pct must be a finite percent, got {v!r}")
        if self.kind == "jump" and not (-50 < v <= 100 and v != 0):
            raise ConfigError(f"a jump's size_pct must be in (-50, 100] percent and not 0, got {v:g}")

    def window_ns(self, t0_ns: int) -> tuple[int, int]:
        a = int(t0_ns) + int(round(self.at_minute * 60 * S))
        return a, a + int(round(self.duration_minutes * 60 * S))


def parse_shock(text: str) -> Shock:
    """``"jump:AT:SIZE_PCT:DURATION"`` or ``"halt:AT:DURATION"`` (minutes from the start, percent)."""
    parts = str(text).split(":")
    try:
        if parts[0] == "jump" and len(parts) == 4:
            return Shock("jump", float(parts[1]), float(parts[2]), float(parts[3]))
        if parts[0] == "halt" and len(parts) == 3:
            return Shock("halt", float(parts[1]), 0.0, float(parts[2]))
    except ValueError:
        pass
    raise ConfigError(f"--shock must be jump:AT_MIN:SIZE_PCT:DURATION_MIN or halt:AT_MIN:DURATION_MIN "
                      f"(e.g. jump:120:8:10), got {text!r}")


def apply_shock(md: MarketData, shock: Shock, t0_ns: int) -> MarketData:
    """``md`` with ``shock`` applied (module docstring); ``t0_ns`` is the day's start."""
    a, b = shock.window_ns(t0_ns)
    q, tr = md.quotes, md.trades
    if shock.kind == "jump":
        f = 1.0 + shock.size_pct / 100.0
        inq = ((q.ts >= a) & (q.ts < b))[:, None]
        bid = np.where(inq, np.floor(q.bid_px * f * 100 + 1e-6) / 100, q.bid_px)
        ask = np.where(inq, np.ceil(q.ask_px * f * 100 - 1e-6) / 100, q.ask_px)
        int_ = (tr.ts >= a) & (tr.ts < b)
        px = np.where(int_, np.round(tr.price * f * 100) / 100, tr.price)
        return replace(md, quotes=replace(q, bid_px=bid, ask_px=ask), trades=replace(tr, price=px))
    keep = (q.ts < a) | (q.ts >= b)
    venues = np.unique(q.venue[q.ts < a]) if (q.ts < a).any() else np.unique(q.venue)
    n, lv = venues.shape[0], q.bid_px.shape[1]
    pos = int(np.searchsorted(q.ts, a, side="left"))
    cut = np.flatnonzero(keep)
    before, after = cut[cut < pos], cut[cut >= pos]

    def cat(arr, fill):
        add = np.full((n,) + arr.shape[1:], fill, arr.dtype)
        return np.concatenate([arr[before], add, arr[after]])

    quotes = Quotes(np.concatenate([q.ts[before], np.full(n, a, np.int64), q.ts[after]]),
                    np.concatenate([q.venue[before], venues.astype(q.venue.dtype), q.venue[after]]),
                    cat(q.bid_px, np.nan), cat(q.bid_sz, 0), cat(q.ask_px, np.nan), cat(q.ask_sz, 0))
    assert quotes.bid_px.shape[1] == lv
    tk = (tr.ts < a) | (tr.ts >= b)
    trades = Trades(tr.ts[tk], tr.venue[tk], tr.price[tk], tr.size[tk], tr.side[tk])
    return replace(md, quotes=quotes, trades=trades)
