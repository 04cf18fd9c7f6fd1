"""The Cont–Kukanov router: a market order plus limit orders on every venue's bid queue.

At each decision (every ``horizon_seconds`` T) with S shares left, the router observes each venue's bid
queue Q_k (displayed size at its best bid, shares) and draws outflow samples ξ_k — the depletion of that
venue's best-bid queue over the past windows of length T within ``lookback_minutes``, all stamped before
the decision (``view.past.outflow``, :func:`sorlib.ck.outflow.bid_queue_flow`; no look-ahead). It solves
``min_X E[v(X, ξ)]`` (:func:`sorlib.ck.optimal_placement`, DESIGN §5) with the half-spread h of the NBBO,
the taker fee f of the cheapest venue (ask + fee), the venues' maker rebates r_k, and
λ_u = ``lambda_under``, λ_o = ``lambda_over``, θ = ``theta_queue`` ($/share). M (rounded to whole shares)
is bought at once, cheapest asks first; each L_k joins venue k's bid and rests there like any resting order:
it fills by the market model's queue model (``MarketModel.queue``; conservative unless the preset says
otherwise) from the venue's prints, stamped when it fills. At the next decision (or the deadline) the rest is
cancelled and the remainder re-decided. The paper's own settlement, fill = min(L_k, (ξ_k − Q_k)⁺) with the
outflow ξ_k *realised* while the order rested, is the queue model ``paper`` (``QueueFill(model="paper")``,
:mod:`sorlib.sim.queue.paper`), for this or any strategy; it is never applied silently. Over-booking
(Σ L_k > S − M, ``overbooks``) is allowed; fills beyond the remainder are not taken (the other orders are
assumed cancelled the moment the parent order completes). The clean-up buys what is left at the deadline.

Child-order sizing rules (``sizing``, :mod:`sorlib.allocation.sizing`): the continuous placement (M, L) is
moved onto the feasible lattice by rounding *down*: M is capped by the participation budget and bought by
the exact constrained sweep (largest feasible total ≤ M, lots in [min, max] per venue), then each L_k (largest
first) is cut to the budget left, rounded down to its venue's lot, capped at the max child and dropped below
the minimum child. The shares cut are re-offered at the next decision (every T). This is a feasible
projection, not the exact optimum of the lattice-constrained problem (that integer program is not solved);
unconstrained, nothing changes.
"""

from __future__ import annotations

import numpy as np

from ..allocation.sizing import SizingRules
from ..errors import ConfigError
from .base import Decision, Strategy, check_choice, sizing_params, sweep_cheapest
from .view import MarketView


class ContKukanov(Strategy):
    name = "ck"
    overbooks = True

    def __init__(self, lambda_over: float = 0.05, lambda_under: float = 0.05, theta_queue: float = 0.0005,
                 horizon_seconds: float = 30.0, lookback_minutes: float = 30.0, method: str = "fast",
                 n_iter: int = 20_000, seed: int = 0, sizing: SizingRules | None = None) -> None:
        for name, v in (("lambda_over", lambda_over), ("lambda_under", lambda_under),
                        ("theta_queue", theta_queue)):
            if not (v >= 0 and np.isfinite(v)):
                raise ConfigError(f"{name} must be a finite number >= 0 ($/share), got {v}")
        if not horizon_seconds > 0 or not lookback_minutes * 60 >= horizon_seconds:
            raise ConfigError("need horizon_seconds > 0 and a lookback of at least one horizon")
        method = check_choice("Cont-Kukanov method", method, ("fast", "sa", "saa"))
        self.lambda_over, self.lambda_under, self.theta_queue = lambda_over, lambda_under, theta_queue
        self.horizon_ns = int(round(horizon_seconds * 1e9))
        self.interval_ns = self.horizon_ns
        self.lookback_ns = int(round(lookback_minutes * 60e9))
        self.method, self.n_iter, self.seed = method, int(n_iter), int(seed)
        self.last_placement = None
        self.set_sizing(sizing)

    def outflow_samples(self, view: MarketView, live: np.ndarray) -> np.ndarray:
        """``(N, K')`` outflow samples (shares) of the venues at positions ``live`` over the windows of
        length T that end at or before ``view.t_ns`` (N = lookback // T windows, oldest first)."""
        n = max(self.lookback_ns // self.horizon_ns, 1)
        t1 = view.t_ns - np.arange(n, dtype=np.int64)[::-1] * self.horizon_ns
        t0 = t1 - self.horizon_ns
        return view.past.outflows(live, t0, t1)

    def decide(self, view: MarketView) -> Decision:
        return self.route(view, view.remaining)

    def route(self, view: MarketView, qty: int) -> Decision:
        """Place ``qty`` (≤ ``view.remaining``) shares: market order plus limit orders (the allocator API of
        :class:`~sorlib.strategies.scheduled.Scheduled`)."""
        from ..ck import optimal_placement

        k = view.ask_px.shape[0]
        S = int(qty)
        touch, avail = view.ask_px[:, 0], view.ask_avail[:, 0]
        quoted = np.isfinite(view.bid_px) & (view.bid_sz > 0)
        if not quoted.any() or not np.isfinite(touch).any():
            return Decision(self.sweep(view, S))
        best_ask = float(np.nanmin(touch))
        half = max((best_ask - float(np.nanmax(view.bid_px))) / 2, 0.0)
        allin = np.where(avail > 0, touch + view.fee, np.inf)
        f = float(view.fee[int(np.argmin(allin))]) if np.isfinite(allin).any() else float(np.max(view.fee))
        live = np.flatnonzero(quoted)
        xi = self.outflow_samples(view, live)
        pl = optimal_placement(float(S), view.bid_sz[live].astype(float), xi, half, f, view.rebate[live],
                               self.lambda_under, self.lambda_over, self.theta_queue, method=self.method,
                               **({"n_iter": self.n_iter, "seed": self.seed} if self.method == "sa" else {}))
        self.last_placement = pl
        m = int(min(round(pl.M), S))
        limit = np.zeros(k, np.int64)
        limit[live] = np.floor(np.asarray(pl.L) + 1e-9).astype(np.int64)
        if self.sizing is None:
            return Decision(sweep_cheapest(view.ask_px, view.ask_avail, view.fee, m), limit)
        lim = self.child_limits(view)
        budget = self.child_budget(view)
        market = self.sweep(view, min(m, budget))
        left = budget - int(market.sum())
        for i in np.argsort(-limit, kind="stable"):
            q = min(int(limit[i]), left, int(lim.max[i]))
            if q != view.remaining:
                q = q // int(lim.lot[i]) * int(lim.lot[i])
                q = q if q >= int(lim.min[i]) else 0
            limit[i] = q
            left -= q
        return Decision(market, limit)

    def params(self) -> dict:
        return {"lambda_over": self.lambda_over, "lambda_under": self.lambda_under,
                "theta_queue": self.theta_queue, "mode": "ck", "horizon_seconds": self.horizon_ns / 1e9,
                "method": self.method, **sizing_params(self)}
