"""The Cont–Kukanov router: a market order plus limit orders on every venue's bid queue.

At each decision (every ``horizon_seconds`` T) with S shares left, the router observes each venue's bid
queue Q_k (displayed size at its best bid, shares) and draws outflow samples ξ_k — the depletion of that
venue's best-bid queue over the past windows of length T within ``lookback_minutes``, all stamped before
the decision (:func:`sorlib.ck.outflow.bid_queue_flow`; no look-ahead). It solves
``min_X E[v(X, ξ)]`` (:func:`sorlib.ck.optimal_placement`, DESIGN §5) with the half-spread h of the NBBO,
the taker fee f of the cheapest venue (ask + fee), the venues' maker rebates r_k, and
λ_u = ``lambda_under``, λ_o = ``lambda_over``, θ = ``theta_queue`` ($/share). M (rounded to whole shares)
is bought at once, cheapest asks first; each L_k joins venue k's bid. At the next decision (or the
deadline) every limit order is settled by the paper's rule with the outflow *realised* in the data while it
rested, fill = min(L_k, (ξ_k − Q_k)⁺), the rest is cancelled and the remainder re-decided. Over-booking
(Σ L_k > S − M) is allowed; fills beyond the remainder are not taken (the other orders are assumed
cancelled the moment the parent order completes). The clean-up buys what is left at the deadline.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from .base import Decision, MarketView, ParentOrder, Strategy, sweep_cheapest


class ContKukanov(Strategy):
    name = "ck"
    settles_resting = True

    def __init__(self, lambda_over: float = 0.05, lambda_under: float = 0.05, theta_queue: float = 0.0005,
                 horizon_seconds: float = 30.0, lookback_minutes: float = 30.0, method: str = "sa",
                 n_iter: int = 20_000, seed: int = 0) -> None:
        for name, v in (("lambda_over", lambda_over), ("lambda_under", lambda_under),
                        ("theta_queue", theta_queue)):
            if not (v >= 0 and np.isfinite(v)):
                raise ConfigError(f"{name} must be a finite number >= 0 ($/share), got {v}")
        if not horizon_seconds > 0 or not lookback_minutes * 60 >= horizon_seconds:
            raise ConfigError("need horizon_seconds > 0 and a lookback of at least one horizon")
        if method not in ("sa", "saa"):
            raise ConfigError(f"Cont-Kukanov method must be 'sa' or 'saa', got {method!r}")
        self.lambda_over, self.lambda_under, self.theta_queue = lambda_over, lambda_under, theta_queue
        self.horizon_ns = int(round(horizon_seconds * 1e9))
        self.interval_ns = self.horizon_ns
        self.lookback_ns = int(round(lookback_minutes * 60e9))
        self.method, self.n_iter, self.seed = method, int(n_iter), int(seed)
        self._flows_for: int | None = None
        self._flows: dict = {}
        self.last_placement = None

    def begin(self, order: ParentOrder, book) -> None:
        if self._flows_for != id(book):  # the outflow event index does not depend on the order: build once
            from ..ck.outflow import bid_queue_flow

            if book.market is None:
                raise ConfigError("the Cont-Kukanov router needs a Book built with Book.from_market")
            self._flows = {int(v): bid_queue_flow(book.market, int(v)) for v in book.venues}
            self._flows_for = id(book)

    def outflow_samples(self, t_ns: int, venues: np.ndarray) -> np.ndarray:
        """``(N, K)`` outflow samples (shares) over the windows of length T that end at or before ``t_ns``."""
        n = max(self.lookback_ns // self.horizon_ns, 1)
        t1 = t_ns - np.arange(n, dtype=np.int64)[::-1] * self.horizon_ns
        t0 = t1 - self.horizon_ns
        return np.stack([self._flows[int(v)].outflow(t0, t1) for v in venues], axis=1)

    def decide(self, view: MarketView) -> Decision:
        from ..ck import optimal_placement

        k = view.ask_px.shape[0]
        S = view.remaining
        touch, avail = view.ask_px[:, 0], view.ask_avail[:, 0]
        quoted = np.isfinite(view.bid_px) & (view.bid_sz > 0)
        if not quoted.any() or not np.isfinite(touch).any():
            return Decision(sweep_cheapest(view.ask_px, view.ask_avail, view.fee, S))
        best_ask = float(np.nanmin(touch))
        half = max((best_ask - float(np.nanmax(view.bid_px))) / 2, 0.0)
        allin = np.where(avail > 0, touch + view.fee, np.inf)
        f = float(view.fee[int(np.argmin(allin))]) if np.isfinite(allin).any() else float(np.max(view.fee))
        live = np.flatnonzero(quoted)
        xi = self.outflow_samples(view.t_ns, view.book.venues[live])
        pl = optimal_placement(float(S), view.bid_sz[live].astype(float), xi, half, f, view.rebate[live],
                               self.lambda_under, self.lambda_over, self.theta_queue, method=self.method,
                               **({"n_iter": self.n_iter, "seed": self.seed} if self.method == "sa" else {}))
        self.last_placement = pl
        m = int(min(round(pl.M), S))
        limit = np.zeros(k, np.int64)
        limit[live] = np.floor(np.asarray(pl.L) + 1e-9).astype(np.int64)
        return Decision(sweep_cheapest(view.ask_px, view.ask_avail, view.fee, m), limit)

    def resting_fill(self, venue: int, qty: int, queue_ahead: float, placed_ns: int, cancel_ns: int) -> int:
        xi = float(self._flows[int(venue)].outflow(placed_ns, cancel_ns)[0])
        return int(min(qty, max(xi - queue_ahead, 0.0)))

    def params(self) -> dict:
        return {"lambda_over": self.lambda_over, "lambda_under": self.lambda_under,
                "theta_queue": self.theta_queue, "mode": "ck", "horizon_seconds": self.horizon_ns / 1e9,
                "method": self.method}
