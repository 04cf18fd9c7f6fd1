"""Risk controls around any strategy: venue exposure limits, venue reliability scores, venue latency in the
allocation, circuit breakers (LULD bands, data gaps and cleared books) and a slippage kill switch.

* :class:`RiskControls` (and :class:`ExposureLimit`, :class:`VenueScoring`, :class:`LatencyAware`) — the
  validated settings, with units;
* :class:`RiskGuard` — ``RiskGuard(strategy, controls, profiles)``, a Strategy wrapper that applies them and
  records every :class:`RiskEvent` (``guard.events``) and the venue-score log (``guard.scores_frame()``);
* :func:`touch_survival` — a displayed touch's survival over a venue's latency, from past quotes.

Layer: above the engine; imports strategies, allocation and sim only (never backtest, metrics or search).
"""

from __future__ import annotations

from .controls import MARKOUT_HORIZONS, ExposureLimit, LatencyAware, RiskControls, VenueScoring
from .guard import ALL, RULES, RiskEvent, RiskGuard
from .latency import stale_venues, touch_survival
from .scoring import VenueScorer

__all__ = ["ALL", "MARKOUT_HORIZONS", "RULES", "ExposureLimit", "LatencyAware", "RiskControls", "RiskEvent",
           "RiskGuard", "VenueScorer", "VenueScoring", "stale_venues", "touch_survival"]
