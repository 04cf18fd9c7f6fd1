"""Probabilistic queue models: a size decrease that no print explains happened behind us with probability p.

On a level change ``prev → new`` with ``t`` = prints at our price since the last change (DESIGN §9, after
hftbacktest's ``models/queue.rs``): ``chg = prev − new − t`` — the prints were already taken off ``front`` by
:meth:`~.base.QueueModel.on_print`, so they are subtracted first and never counted again as cancels.

* ``chg < 0`` (the queue grew, or prints exceed the decrease): ``front = min(front, new)``;
* else, with ``back = prev − t − front`` and ``p = prob(front, back)``:
  ``front = min(front − (1 − p)·chg + min(back − p·chg, 0), new)`` — the expected part of the decrease ahead
  of us, plus whatever the back could not absorb.

``back`` here is ``prev − t − front``, not hftbacktest's ``prev − front``: the prints took ``t`` shares off
the front of the level, so just before the cancellations the level held ``prev − t``; with ``prev − front``
the shares already printed would count as a queue behind us that could absorb cancels (e.g. a 100-share
level, we at its back, a 50-share print: ``front`` = 50 and nobody is behind us, yet ``prev − front`` = 50).

Probability functions (``p`` = the decrease was behind us):

* ``power``: ``f(back) / (f(back) + f(front))``, ``f(x) = x^n`` (``probabilistic`` is its former name);
* ``log``: the same with ``f(x) = ln(1 + x)``;
* ``power2`` / ``log2``: ``f(back) / f(back + front)``;
* ``power3``: ``1 − (front / (front + back))^n`` — exactly P(cancel behind us) when cancels fall at relative
  queue positions u ∈ [0, 1] (0 = front) with CDF ``u^n``: n = 1 uniform, n > 1 mostly at the back. That is
  the venue's *cancel position bias* that :func:`sorlib.sim.calibrate.fit_cancel_bias_mbo` fits.

When ``front + back = 0`` (nothing displayed ahead or behind) ``p = 1``.
"""

from __future__ import annotations

import math

from .base import QueueModel, QueueState


def _pow(x: float, n: float) -> float:
    return x ** n if x > 0 else 0.0


def prob_power(front: float, back: float, n: float) -> float:
    fb, ff = _pow(back, n), _pow(front, n)
    return fb / (fb + ff) if fb + ff > 0 else 1.0


def prob_log(front: float, back: float, n: float = 1.0) -> float:
    fb, ff = math.log1p(max(back, 0.0)), math.log1p(max(front, 0.0))
    return fb / (fb + ff) if fb + ff > 0 else 1.0


def prob_power2(front: float, back: float, n: float) -> float:
    tot = _pow(back + front, n)
    return _pow(back, n) / tot if tot > 0 else 1.0


def prob_log2(front: float, back: float, n: float = 1.0) -> float:
    tot = math.log1p(max(back + front, 0.0))
    return math.log1p(max(back, 0.0)) / tot if tot > 0 else 1.0


def prob_power3(front: float, back: float, n: float) -> float:
    tot = front + back
    return 1.0 - (front / tot) ** n if tot > 0 else 1.0


PROBS = {"power": prob_power, "probabilistic": prob_power, "log": prob_log, "power2": prob_power2,
         "log2": prob_log2, "power3": prob_power3}


class ProbQueue(QueueModel):
    """A probabilistic model: ``kind`` one of :data:`PROBS`, ``n`` the power (> 0)."""

    def __init__(self, kind: str = "power", n: float = 2.0) -> None:
        self.name, self.n, self._p = kind, float(n), PROBS[kind]

    def prob(self, front: float, back: float) -> float:
        """P(a decrease happened behind us), in [0, 1]."""
        return min(max(self._p(max(front, 0.0), max(back, 0.0), self.n), 0.0), 1.0)

    def on_level(self, st: QueueState, new: float) -> None:
        new = float(new)
        chg = st.level - new - st.printed
        if chg < 0:
            self._set(st, min(st.front, new), new)
            return
        back = max(st.level - st.printed - st.front, 0.0)
        p = self.prob(st.front, back)
        self._set(st, st.front - (1.0 - p) * chg + min(back - p * chg, 0.0), new)
