""":func:`optimal_placement`: one entry point to the Cont–Kukanov solvers.

``"fast"`` — the compiled local search on the exact sample-average cost (:mod:`sorlib.ck.fast`; the router's
choice: well under a millisecond per decision, within the tolerance stated there of the exact optimum);
``"sa"`` — the paper's stochastic approximation (:mod:`sorlib.ck.sa`, the reference it replaces);
``"saa"`` — the exact sample-average solver (:mod:`sorlib.ck.saa`, LP then MILP); ``"brute"`` — a grid
(``K ≤ 3``, test oracle).
"""

from __future__ import annotations

from .fast import fast_placement
from .placement import Placement
from .sa import brute_placement, sa_placement
from .saa import saa_placement

__all__ = ["METHODS", "optimal_placement"]

METHODS = ("fast", "sa", "saa", "brute")


def optimal_placement(S: float, Q, xi_samples, h: float, f: float, r, lambda_u: float, lambda_o: float,
                      theta: float = 0.0, method: str = "sa", *, n_iter: int | None = None, seed: int = 0,
                      **kwargs) -> Placement:
    """Minimise ``V`` (mean of :func:`sorlib.ck.model.placement_cost` over ``xi_samples``) over ``C``.

    ``method``: one of :data:`METHODS` (module docstring). ``xi_samples`` has shape ``(N, K)`` (or ``(N,)``
    for one venue); ``Q``, ``r`` shape ``(K,)``. ``n_iter`` and ``seed`` are SA's (the other methods are
    deterministic and ignore them); extra keyword arguments go to the chosen solver.
    """
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
