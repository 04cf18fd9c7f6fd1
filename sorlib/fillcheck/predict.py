"""Run a queue model as a hypothetical resting order on each candidate's removed-world stream.

The hypothetical order has the real order's arrival, side, price, size and queue ahead Q
(``QueueState.join(Q)``), and rests over the real order's lifetime (:mod:`.events`). Steps drive it exactly as
:func:`sorlib.engine.replay._advance_resting` drives a resting order, one event at a time:

* sync / level step (new level ``L'``): ``model.on_level`` (conservative: ``front = min(front, L')``;
  probabilistic: :class:`sorlib.sim.queue.ProbQueue` — prints since the last change are subtracted first);
* print of ``q`` at our price: ``on_print``: ``front −= min(front, q)``; ``int(q − used)`` shares reach us;
* through (an execution at a worse price on our side): everything left fills, ``front = 0``;
* owner's partial cancel of ``c``: the hypothetical order's size shrinks by ``c`` (never below its fills).

Models (:class:`ModelSpec`): ``conservative``, ``power`` / ``power2`` / ``power3`` (exponent ``n``), ``log``,
``log2``, ``simple`` (the seed's model: at each print at or through our price, Binomial(left, 0.9·(1 −
position)) shares with the conservative position, drawn from ``rng_for(seed, order_id, venue, t)``), and
``paper`` (Cont–Kukanov: fill = :func:`sorlib.sim.queue.paper.paper_fill` (L, Q, ξ) = min(L, (ξ − Q)⁺), ξ =
outflow of the level while resting = other orders' executions + cancels/deletes at our price; stamped when ξ
passes Q). The numba kernel repeats the formulas of :mod:`sorlib.sim.queue` (the tests check it against those
classes step for step).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from ..errors import ConfigError
from ..sim.queue import SimpleQueue, rng_for
from .events import K_LEVEL, K_OUTFLOW, K_OWN_CANCEL, K_PRINT, K_SYNC, K_THROUGH, Candidates, Streams

#: model kinds and their kernel codes
KINDS = {"conservative": 0, "power": 1, "log": 2, "power2": 3, "log2": 4, "power3": 5, "paper": 6, "simple": 7}
#: kinds with a free exponent n
POWERED = ("power", "power2", "power3")
#: the default line-up: (label, kind, n)
DEFAULT_MODELS = ("conservative", "power:2", "log", "power3:2", "simple", "paper")


@dataclass(frozen=True)
class ModelSpec:
    """One model to validate: ``kind`` (:data:`KINDS`), ``n`` (exponent of the powered kinds, > 0),
    ``label`` (its name in the outputs; default ``kind`` or ``kind:n``), ``seed`` (``simple`` draws)."""

    kind: str
    n: float = 2.0
    label: str = ""
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"unknown queue model {self.kind!r}; choose from {', '.join(KINDS)}")
        if not (isinstance(self.n, int | float) and math.isfinite(self.n) and self.n > 0):
            raise ConfigError(f"queue model {self.kind}: the exponent must be a finite number > 0, got {self.n!r}")
        if not self.label:
            object.__setattr__(self, "label", f"{self.kind}:{self.n:g}" if self.kind in POWERED else self.kind)


def parse_models(text: str | list | tuple, seed: int = 0) -> list[ModelSpec]:
    """``"conservative,power:2,log,power3:1.5,simple,paper"`` (or a list of such items / specs) → specs."""
    items = [s.strip() for s in text.split(",")] if isinstance(text, str) else list(text)
    out = []
    for it in items:
        if isinstance(it, ModelSpec):
            out.append(it)
            continue
        if not it:
            raise ConfigError("empty model name in the model list (e.g. 'conservative,power:2,paper')")
        kind, _, n = it.partition(":")
        if n and kind not in POWERED:
            raise ConfigError(f"model {kind!r} takes no exponent (only {', '.join(POWERED)} do); got {it!r}")
        try:
            nv = float(n) if n else 2.0
        except ValueError:
            raise ConfigError(f"model {it!r}: the exponent after ':' must be a number") from None
        out.append(ModelSpec(kind, nv, seed=seed))
    labels = [m.label for m in out]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"a model is listed twice: {', '.join(labels)}")
    return out


@dataclass(frozen=True)
class Prediction:
    """``fills[c, h]``: predicted shares filled by horizon h; ``step_fill``: shares filled at each stream step."""

    fills: np.ndarray
    step_fill: np.ndarray


def predict(st: Streams, cands: Candidates, spec: ModelSpec, horizons_s, n: np.ndarray | None = None,
            sel: np.ndarray | None = None) -> Prediction:
    """Run ``spec`` on every candidate's stream; fills at each horizon (seconds after arrival). ``n``: a
    per-candidate exponent (e.g. fitted per venue) instead of ``spec.n``; ``sel``: run only these candidates
    (the others predict 0)."""
    hz = _horizon_ends(cands, horizons_s)
    code = KINDS[spec.kind]
    nn = np.full(len(cands), float(spec.n)) if n is None else np.asarray(n, np.float64)
    sel = np.arange(len(cands)) if sel is None else np.asarray(sel, np.int64)
    fills, step_fill, pos = _run(st.start, st.t, st.kind, st.qty, cands.ahead.astype(np.float64), cands.size, hz,
                                 0 if code == 7 else code, nn, sel)
    if code == 7:
        fills, step_fill = _simple(st, cands, hz, pos, spec.seed, sel)
    return Prediction(fills, step_fill)


def _horizon_ends(cands: Candidates, horizons_s) -> np.ndarray:
    h = np.round(np.asarray(horizons_s, np.float64) * 1e9).astype(np.int64)
    return cands.ts[:, None] + h[None, :]


def _simple(st: Streams, cands: Candidates, hz: np.ndarray, pos: np.ndarray, seed: int, sel: np.ndarray):
    """The simple model's seeded draws at the print / through steps (positions from the conservative run)."""
    nc, nh = hz.shape
    fills = np.zeros((nc, nh), np.int64)
    step_fill = np.zeros(st.t.shape[0], np.int64)
    hit = np.flatnonzero((st.kind == K_PRINT) | (st.kind == K_THROUGH))
    owner = np.searchsorted(st.start, hit, side="right") - 1
    keep = np.isin(owner, sel)
    hit, owner = hit[keep], owner[keep]
    cap = cands.size.astype(np.int64).copy()
    filled = np.zeros(nc, np.int64)
    cancels = np.flatnonzero(st.kind == K_OWN_CANCEL)
    c_owner = np.searchsorted(st.start, cancels, side="right") - 1
    ci = 0
    for j, c in zip(hit.tolist(), owner.tolist(), strict=True):
        while ci < cancels.size and cancels[ci] < j:  # owner cancels before this step
            cc = int(c_owner[ci])
            cap[cc] = max(cap[cc] - int(st.qty[cancels[ci]]), filled[cc])
            ci += 1
        left = int(cap[c] - filled[c])
        if left <= 0:
            continue
        t = int(st.t[j])
        f = SimpleQueue(rng_for(seed, int(cands.order_id[c]), int(cands.venue[c]), t)).fill(left, float(pos[j]))
        if f:
            step_fill[j] = f
            filled[c] += f
            fills[c] += f * (t <= hz[c])
    return fills, step_fill


@nb.njit(cache=True)
def _prob(code, front, back, n):
    front, back = max(front, 0.0), max(back, 0.0)
    if code == 1:
        fb = back ** n if back > 0 else 0.0
        ff = front ** n if front > 0 else 0.0
        p = fb / (fb + ff) if fb + ff > 0 else 1.0
    elif code == 2:
        fb, ff = math.log1p(back), math.log1p(front)
        p = fb / (fb + ff) if fb + ff > 0 else 1.0
    elif code == 3:
        tot = (back + front) ** n if back + front > 0 else 0.0
        p = (back ** n if back > 0 else 0.0) / tot if tot > 0 else 1.0
    elif code == 4:
        tot = math.log1p(back + front)
        p = math.log1p(back) / tot if tot > 0 else 1.0
    else:
        tot = front + back
        p = 1.0 - (front / tot) ** n if tot > 0 else 1.0
    return min(max(p, 0.0), 1.0)


@nb.njit(cache=True)
def _run(start, t, kind, qty, ahead, size, hz, code, nn, sel):
    """Kernel of :func:`predict` (module docstring); also returns the position before each step."""
    nc, nh = hz.shape
    fills = np.zeros((nc, nh), np.int64)
    step_fill = np.zeros(t.shape[0], np.int64)
    pos = np.zeros(t.shape[0], np.float64)
    for c in sel:
        n = nn[c]
        front = ahead[c]
        level = ahead[c]
        printed = 0.0
        cap = size[c]
        filled = 0
        xi = 0.0
        for j in range(start[c], start[c + 1]):
            k = kind[j]
            q = qty[j]
            pos[j] = front / level if level > 0 else 0.0
            f = 0
            if k == K_SYNC or k == K_LEVEL:
                new = q
                chg = level - new - printed
                if code == 0 or code == 6 or chg < 0:
                    nf = min(front, new)
                else:
                    back = max(level - printed - front, 0.0)
                    p = _prob(code, front, back, n)
                    nf = front - (1.0 - p) * chg + min(back - p * chg, 0.0)
                front = min(max(nf, 0.0), max(new, 0.0))
                level = max(new, 0.0)
                printed = 0.0
            elif k == K_PRINT:
                printed += q
                used = min(front, q)
                front -= used
                xi += q
                if code != 6:
                    f = min(cap - filled, int(q - used))
            elif k == K_THROUGH:
                front = 0.0
                f = cap - filled
            elif k == K_OWN_CANCEL:
                cap = max(cap - int(q), filled)
            elif k == K_OUTFLOW:
                xi += q
            if code == 6 and k != K_THROUGH:
                target = int(min(float(cap), max(xi - ahead[c], 0.0)))
                f = max(target - filled, 0)
            if f > 0:
                step_fill[j] = f
                filled += f
                for h in range(nh):
                    if t[j] <= hz[c, h]:
                        fills[c, h] += f
    return fills, step_fill, pos
