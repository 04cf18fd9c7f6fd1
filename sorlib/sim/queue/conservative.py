"""The conservative (risk-averse) queue model: only prints advance a resting order.

Level change ``prev → new``: ``front = min(front, new)`` — cancellations never move us up, but the shares
ahead of us are part of what is displayed, so ``front`` never exceeds the level (hftbacktest's risk-averse
model; DESIGN §9).
"""

from __future__ import annotations

from .base import QueueModel, QueueState


class ConservativeQueue(QueueModel):
    name = "conservative"

    def on_level(self, st: QueueState, new: float) -> None:
        self._set(st, min(st.front, float(new)), float(new))
