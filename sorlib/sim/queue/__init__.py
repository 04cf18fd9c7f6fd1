"""Queue models for resting limit orders (one file per model; interface in :mod:`.base`).

* :class:`ConservativeQueue` — risk-averse: prints advance us, cancels never do;
* :class:`ProbQueue` — probabilistic: power, log, power2, log2, power3 probability functions;
* :class:`SimpleQueue` — the seed's model: fill probability 0.9·(1 − position), seeded;
* ``paper`` — Cont–Kukanov's min(L, (ξ − Q)⁺) at cancellation (:func:`paper_fill`; settled by the replay).

:func:`make_queue_model` builds the model a :class:`QueueFill` names.
"""

from __future__ import annotations

from .base import (
    PROBABILISTIC_MODELS,
    QUEUE_MODELS,
    QueueFill,
    QueueModel,
    QueueModelName,
    QueueState,
    fill_from_prints,
    fill_parts,
)
from .conservative import ConservativeQueue
from .paper import paper_fill
from .probabilistic import PROBS, ProbQueue
from .simple import SimpleQueue, fill_probability, rng_for, slippage


def make_queue_model(cfg: QueueFill, power: float | None = None) -> QueueModel:
    """The level-change model of ``cfg`` (``power`` overrides ``cfg.power``, e.g. a venue's fitted bias).
    ``simple`` advances its queue position like ``conservative``; its fills are drawn by :class:`SimpleQueue`.
    ``paper`` keeps a conservative queue position too (unused: the order is settled by :func:`paper_fill`)."""
    if cfg.model in PROBABILISTIC_MODELS:
        return ProbQueue(cfg.model, cfg.power if power is None else power)
    return ConservativeQueue()


__all__ = ["ConservativeQueue", "PROBABILISTIC_MODELS", "PROBS", "ProbQueue", "QUEUE_MODELS", "QueueFill",
           "QueueModel", "QueueModelName", "QueueState", "SimpleQueue", "fill_from_prints", "fill_probability",
           "fill_parts", "make_queue_model", "paper_fill", "rng_for", "slippage"]
