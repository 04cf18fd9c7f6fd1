""":func:`optimal_placement`: one entry point to the Cont–Kukanov solvers.

``"fast"`` — the compiled local search on the exact sample-average cost (:mod:`sorlib.ck.fast`; the router's
choice: well under a millisecond per decision, within the tolerance stated there of the exact optimum);
``"sa"`` — the paper's stochastic approximation (:mod:`sorlib.ck.sa`, the reference it replaces);
``"saa"`` — the exact sample-average solver (:mod:`sorlib.ck.saa`, LP then MILP); ``"brute"`` — a grid
(``K ≤ 3``, test oracle).
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Iterator

import numpy as np

from .fast import fast_placement
from .placement import Placement
from .sa import brute_placement, sa_placement
from .saa import saa_placement

__all__ = ["METHODS", "PlacementMemo", "optimal_placement", "placement_memo"]

METHODS = ("fast", "sa", "saa", "brute")


class PlacementMemo:
    """Answers of :func:`optimal_placement` by their exact inputs (every array's bytes, every number, the
    method and its options), the ``size`` most recently used. Every solver is a deterministic function of
    those inputs (SA of its seed too), so a hit is the answer the solver would give; it is handed out as a
    copy (``L`` copied), its ``info`` that of the first solve plus ``memo: True``. Used through
    :func:`placement_memo` by the what-if panels, where a slider move re-asks many identical decisions."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._d: OrderedDict = OrderedDict()
        self.hits = self.misses = 0
        self._lock = threading.Lock()

    def get(self, key) -> Placement | None:
        with self._lock:
            got = self._d.get(key)
            if got is None:
                self.misses += 1
                return None
            self._d.move_to_end(key)
            self.hits += 1
        return dataclasses.replace(got, L=np.array(got.L, copy=True), info={**got.info, "memo": True})

    def put(self, key, pl: Placement) -> None:
        with self._lock:
            self._d[key] = dataclasses.replace(pl, L=np.array(pl.L, copy=True), info=dict(pl.info))
            while len(self._d) > self.size:
                self._d.popitem(last=False)

    def __len__(self) -> int:
        return len(self._d)


_active = threading.local()


@contextlib.contextmanager
def placement_memo(memo: PlacementMemo | None) -> Iterator[PlacementMemo | None]:
    """Within the block (in this thread), :func:`optimal_placement` answers from ``memo`` when it has the exact
    inputs and stores what it solves there (None: no memo)."""
    before = getattr(_active, "memo", None)
    _active.memo = memo
    try:
        yield memo
    finally:
        _active.memo = before


def _num(x) -> tuple:
    a = np.asarray(x, dtype=float)
    return a.shape, a.tobytes()


def _memo_key(S, Q, xi, h, f, r, lambda_u, lambda_o, theta, method, n_iter, seed, kwargs) -> tuple | None:
    try:
        key = (_num(S), _num(Q), _num(xi), _num(h), _num(f), _num(r), _num(lambda_u), _num(lambda_o),
               _num(theta), method, n_iter if method == "sa" else None, seed if method == "sa" else None,
               tuple(sorted(kwargs.items())))
        hash(key)
    except (TypeError, ValueError):  # an input that is not numeric or an option that is not hashable: no memo
        return None
    return key


def optimal_placement(S: float, Q, xi_samples, h: float, f: float, r, lambda_u: float, lambda_o: float,
                      theta: float = 0.0, method: str = "sa", *, n_iter: int | None = None, seed: int = 0,
                      **kwargs) -> Placement:
    """Minimise ``V`` (mean of :func:`sorlib.ck.model.placement_cost` over ``xi_samples``) over ``C``.

    ``method``: one of :data:`METHODS` (module docstring). ``xi_samples`` has shape ``(N, K)`` (or ``(N,)``
    for one venue); ``Q``, ``r`` shape ``(K,)``. ``n_iter`` and ``seed`` are SA's (the other methods are
    deterministic and ignore them); extra keyword arguments go to the chosen solver. Inside
    :func:`placement_memo` the answer may come from its memo (the same answer).
    """
    memo = getattr(_active, "memo", None)
    if memo is None:
        return _solve(S, Q, xi_samples, h, f, r, lambda_u, lambda_o, theta, method, n_iter, seed, kwargs)
    key = _memo_key(S, Q, xi_samples, h, f, r, lambda_u, lambda_o, theta, method, n_iter, seed, kwargs)
    got = memo.get(key) if key is not None else None
    if got is None:
        got = _solve(S, Q, xi_samples, h, f, r, lambda_u, lambda_o, theta, method, n_iter, seed, kwargs)
        if key is not None:
            memo.put(key, got)
    return got


def _solve(S, Q, xi_samples, h, f, r, lambda_u, lambda_o, theta, method, n_iter, seed, kwargs) -> Placement:
    if method == "fast":
        return fast_placement(S, Q, xi_samples, h, f, r, lambda_u, lambda_o, theta, **kwargs)
    if method == "sa":
        return sa_placement(S, Q, xi_samples, h, f, r, lambda_u, lambda_o, theta, n_iter=n_iter, seed=seed,
                            **kwargs)
    if method == "saa":
        return saa_placement(S, Q, xi_samples, h, f, r, lambda_u, lambda_o, theta, **kwargs)
    if method == "brute":
        return brute_placement(S, Q, xi_samples, h, f, r, lambda_u, lambda_o, theta, **kwargs)
    raise ValueError(f"unknown method {method!r} (expected one of {', '.join(map(repr, METHODS))})")
