"""Market simulation: how the replayed market reacts to our orders (one model per file).

The engine (:mod:`sorlib.engine.replay`) asks these models, per parent order:

* :mod:`.latency` — when a child order decided at ``t`` reaches venue k (``t + latency_k``), so it meets
  that venue's book as it is then; :func:`estimate_latency` from Databento ``ts_recv − ts_event``;
* :mod:`.impact` — how much our marketable fills push every venue's prices up (square-root law, transient
  part decaying with a power-law or exponential kernel, optional permanent part);
  daily σ and volume per order from the data before its arrival (:class:`CausalImpactInputs`; no look-ahead);
* :mod:`.fade` — how much of the other venues' displayed size at the price we took vanishes before our
  orders reach them; :func:`estimate_fade` from the data;
* :mod:`.queue` — where a resting limit order stands in its queue (conservative, probabilistic power / log /
  power2 / log2 / power3, and the seed's simple model); :mod:`.calibrate` fits per-venue parameters;
* :mod:`.cleanup` — what the deadline clean-up pays beyond the visible book (``depth`` profile per venue,
  ``ladder``, the old ``flat``) and which quotes count as visible (stale ones do not);
* :mod:`.model` — :class:`MarketModel`, the three together, and the presets ``frozen`` (everything off: the
  recorded tape as it was), ``latency``, ``impact``, ``fade`` and ``realistic`` (all on).

Nothing here imports the engine or the strategies (layer rank 4); every model is deterministic.
"""

from __future__ import annotations

from .cleanup import CLEANUP_RULES, CleanupModel, fit_power_law, venue_profile
from .fade import FadeModel, FadeState, estimate_fade, fade_shares, unit_hash
from .impact import (
    CausalImpactInputs,
    ImpactInputs,
    ImpactModel,
    ImpactState,
    decay_kernel,
    estimate_impact_inputs,
    path_impact,
    sqrt_impact,
)
from .latency import LatencyModel, estimate_latency
from .model import MARKET_PRESETS, MarketModel, market_model
from .queue import (
    QUEUE_MODELS,
    ConservativeQueue,
    ProbQueue,
    QueueFill,
    QueueModel,
    QueueState,
    SimpleQueue,
    make_queue_model,
)

__all__ = [
    "CLEANUP_RULES", "MARKET_PRESETS", "CausalImpactInputs", "CleanupModel", "FadeModel", "FadeState", "ImpactInputs", "ImpactModel", "ImpactState", "LatencyModel",
    "MarketModel", "decay_kernel", "estimate_fade", "estimate_impact_inputs", "estimate_latency", "fade_shares",
    "fit_power_law", "market_model", "path_impact", "sqrt_impact", "unit_hash", "venue_profile",
    # queue models (sorlib.sim.queue)
    "QUEUE_MODELS", "ConservativeQueue", "ProbQueue", "QueueFill", "QueueModel", "QueueState", "SimpleQueue",
    "make_queue_model",
]
