"""The task's router: split the remainder across venues with the cost model of :mod:`sorlib.allocation`.

At each decision the venues are the touch asks (price $, shares still available after what this order
took, taker fee and maker rebate in $/share) and the allocator returns a split of the remainder in lots
of ``step`` shares. ``mode="spec"`` is the task's capped allocator (each venue at most what it displays,
exact sum); ``mode="uncapped"`` lets a venue receive more than it displays: the displayed part is taken
at once and the excess rests as a limit buy at that venue's best bid for ``rest_seconds`` (filled by the
queue model, cancelled at the next decision). How the allocator values a resting share is
``uncapped_value``:

* ``"expected_fill"`` (default): a resting order of ``r`` shares behind the bid queue ``Q`` fills
  ``E[min(r, (ξ − Q)⁺)]`` shares, ξ the venue's seller-initiated print volume over ``rest_seconds`` —
  sampled from the ``lookback_minutes`` before the decision (no look-ahead), the same prints that fill it
  in the replay. Filled resting shares cost ``bid − rebate``; the unfilled ones must be bought later at the
  best ask + fee and pay ``lambda_under + theta_queue`` each. Venue i's cost of ``k`` lots is then
  ``exe·(ask+fee) + F(rest)·(bid−rebate) + (rest − F(rest))·(ref + lambda_under + theta_queue)`` with
  ``exe = min(k·step, displayed)``, ``rest = k·step − exe``, and the exact knapsack picks the split. A
  resting share is worth it while its marginal fill probability p satisfies
  ``p·(ref − bid + rebate) > (1 − p)·(lambda_under + theta_queue)``, so the penalties move the answer.
* ``"task"``: the task's cost formula with the unexecuted shares priced at the best ask + fee
  (``remainder_price``; see :mod:`sorlib.allocation.solver`): fills are not modelled and the penalties
  act only at whole-tick price premiums.

``lambda_over`` never matters here: the executed total cannot exceed the split, which sums to the
remainder. When no split is feasible, ``empty_policy`` decides
(see :mod:`sorlib.allocation.policy`).

Child-order sizing rules (``sizing``, :mod:`sorlib.allocation.sizing`) act inside the allocation: the
quantity is first capped by the participation budget; venue i's grid becomes ``lcm(step, lot_i)`` shares
and the exact knapsack optimises over feasible children only (spec: :func:`~sorlib.allocation.route_limited`;
uncapped: the cost table with every infeasible size priced inf, where the displayed part taken at once and the
resting part are two children — each a lot multiple in [min, max] — and the taken part is the displayed size
rounded down to the lot).
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import numpy as np

from ..allocation import (
    EmptySplitPolicy,
    Venue,
    allocate_arrays,
    min_cost_split,
    route_limited,
    route_with_policy,
    uncapped_table,
)
from ..allocation.sizing import SizingRules
from ..errors import ConfigError
from .base import Decision, Strategy, check_choice, sizing_params
from .view import MarketView

Mode = Literal["spec", "uncapped"]
UncappedValue = Literal["expected_fill", "task"]


class Router(Strategy):
    name = "router"

    def __init__(self, lambda_over: float = 5.0, lambda_under: float = 0.05, theta_queue: float = 0.05,
                 mode: Mode = "spec", step: int = 100, empty_policy: str = "take_displayed",
                 rest_seconds: float = 30.0, uncapped_value: UncappedValue = "expected_fill",
                 lookback_minutes: float = 10.0, sizing: SizingRules | None = None) -> None:
        mode = check_choice("router mode", mode, get_args(Mode))
        empty_policy = check_choice("empty policy", empty_policy, [p.value for p in EmptySplitPolicy])
        uncapped_value = check_choice("uncapped_value", uncapped_value, get_args(UncappedValue))
        for name, v in (("lambda_over", lambda_over), ("lambda_under", lambda_under),
                        ("theta_queue", theta_queue)):
            if not (v >= 0 and np.isfinite(v)):
                raise ConfigError(f"{name} must be a finite number >= 0 ($/share), got {v}")
        if step < 1:
            raise ConfigError(f"step must be >= 1 share, got {step}")
        self.lambda_over, self.lambda_under, self.theta_queue = lambda_over, lambda_under, theta_queue
        self.mode, self.step, self.empty_policy = mode, int(step), empty_policy
        self.interval_ns = 0 if mode == "spec" else int(round(rest_seconds * 1e9))
        self.rest_seconds = rest_seconds
        self.uncapped_value = uncapped_value
        self.lookback_ns = int(round(lookback_minutes * 60e9))
        self.set_sizing(sizing)

    def decide(self, view: MarketView) -> Decision:
        return self.route(view, view.remaining)

    def route(self, view: MarketView, qty: int) -> Decision:
        """Split ``qty`` (≤ ``view.remaining``) shares across the venues (the allocator API of
        :class:`~sorlib.strategies.scheduled.Scheduled`; :meth:`decide` routes the whole remainder)."""
        if self.sizing is not None:
            return self._route_limited(view, qty)
        if qty != view.remaining:
            from dataclasses import replace

            view = replace(view, remaining=int(qty))
        k = view.ask_px.shape[0]
        px, avail = view.ask_px[:, 0], view.ask_avail[:, 0]
        live = np.flatnonzero(np.isfinite(px) & ((avail > 0) | (self.mode == "uncapped")))
        if self.mode == "uncapped":
            live = live[np.isfinite(view.bid_px[live]) | (avail[live] > 0)]
        if live.size == 0:
            return Decision.nothing(k)
        params = (self.lambda_over, self.lambda_under, self.theta_queue)
        lots = view.remaining // self.step * self.step
        if self.mode == "uncapped" and lots > 0:
            # unexecuted shares will have to be bought later: price them at today's best ask + fee
            ref = px[live] + view.fee[live]
            ref = float(ref[avail[live] > 0].min()) if (avail[live] > 0).any() else float(ref.min())
            if self.uncapped_value == "task":
                split, _ = allocate_arrays(lots, px[live], avail[live], view.fee[live], view.rebate[live],
                                           *params, self.step, "uncapped", remainder_price=ref)
            else:
                units, _ = min_cost_split(self._expected_table(view, live, lots, ref))
                split = [u * self.step for u in units]
        else:
            venues = [Venue(ask=float(px[i]), ask_size=int(avail[i]), fee=float(view.fee[i]),
                            rebate=float(view.rebate[i])) for i in live]
            policy = self.empty_policy if self.mode == "spec" else "best_ask_fallback"
            split = route_with_policy(view.remaining, venues, *params, policy=policy, step=self.step)
        market = np.zeros(k, np.int64)
        limit = np.zeros(k, np.int64)
        for i, s in zip(live, split, strict=False):
            take = min(int(s), int(avail[i]))
            market[i] = take
            limit[i] = int(s) - take
        return Decision(market, limit if limit.any() else None)

    def _route_limited(self, view: MarketView, qty: int) -> Decision:
        """:meth:`route` under the sizing rules (module docstring)."""
        k = view.ask_px.shape[0]
        lim = self.child_limits(view)
        qty = min(int(qty), view.remaining, self.child_budget(view))
        px, avail = view.ask_px[:, 0], view.ask_avail[:, 0]
        grid = self._grid(lim)
        market = np.zeros(k, np.int64)
        limit = np.zeros(k, np.int64)
        if self.mode == "spec":
            live = np.flatnonzero(np.isfinite(px) & (avail > 0))
            if live.size == 0 or qty <= 0:
                return Decision.nothing(k)
            split = route_limited(qty, px[live], avail[live], view.fee[live], grid[live], lim.min[live],
                                  lim.max[live], view.remaining, self.empty_policy)
            market[live] = split
            return Decision(market)
        live = np.flatnonzero(np.isfinite(px) & (np.isfinite(view.bid_px) | (avail > 0)))
        lots = qty // self.step * self.step
        if live.size == 0 or lots <= 0:
            return Decision.nothing(k)
        a = avail // lim.lot * lim.lot  # the displayed part a venue may take at once: whole lots
        ref = px[live] + view.fee[live]
        ref = float(ref[avail[live] > 0].min()) if (avail[live] > 0).any() else float(ref.min())
        if self.uncapped_value == "task":
            table = uncapped_table(lots // self.step, self.step, px[live], a[live], view.fee[live],
                                   view.rebate[live], self.lambda_under, self.theta_queue, ref)
        else:
            table = self._expected_table(view, live, lots, ref, a)
        q = np.arange(lots // self.step + 1, dtype=np.int64) * self.step
        exe = np.minimum(q[None, :], a[live][:, None])
        rest = q[None, :] - exe
        mn, mx = lim.min[live][:, None], lim.max[live][:, None]
        ok = (q[None, :] % grid[live][:, None] == 0) & ((exe == 0) | ((exe >= mn) & (exe <= mx))) & (
            (rest == 0) | ((rest >= mn) & (rest <= mx)))
        ok[:, 0] = True
        units, _ = min_cost_split(np.where(ok, table, np.inf))
        for i, u in zip(live, units, strict=False):
            s = int(u) * self.step
            market[i] = min(s, int(a[i]))
            limit[i] = s - market[i]
        return Decision(market, limit if limit.any() else None)

    def _grid(self, lim) -> np.ndarray:
        """Each venue's share grid ``lcm(step, lot)`` under the limits ``lim`` (kept while they are the same)."""
        got = getattr(self, "_grid_cache", None)
        if got is None or got[0] is not lim:
            got = (lim, np.array([math.lcm(self.step, int(v)) for v in lim.lot], np.int64))
            self._grid_cache = got
        return got[1]

    def _expected_table(self, view: MarketView, live: np.ndarray, lots: int, ref: float,
                        avail: np.ndarray | None = None) -> np.ndarray:
        """``T[i, k]``: expected $ cost of sending k lots to venue ``live[i]`` (see module docstring);
        ``avail``: the shares takeable at once per venue (default: the touch's available size)."""
        avail = view.ask_avail[:, 0] if avail is None else avail
        step = self.step
        q = np.arange(lots // step + 1, dtype=np.int64) * step
        window = int(round(self.rest_seconds * 1e9))
        t0 = view.t_ns - self.lookback_ns
        past = view.past.trades(t0, view.t_ns)  # the lookback window [t - lookback, t)
        ts, ven, sz = past.ts, past.venue, past.size
        sell = past.side < 0
        n_win = max(self.lookback_ns // window, 1)
        pen = self.lambda_under + self.theta_queue
        table = np.empty((live.shape[0], q.shape[0]))
        for row, i in enumerate(live):
            ask, fee = float(view.ask_px[i, 0]), float(view.fee[i])
            exe = np.minimum(q, int(avail[i]))
            rest = q - exe
            bid, queue = float(view.bid_px[i]), float(view.bid_sz[i])
            if np.isfinite(bid):
                m = sell & (ven == view.venues[i])
                xi = np.bincount(((ts[m] - t0) // window).astype(np.int64), weights=sz[m],
                                 minlength=n_win)[:n_win]
                beyond = np.maximum(xi - queue, 0.0)
                filled = np.minimum(rest[None, :], beyond[:, None]).mean(axis=0)
                rest_cost = filled * (bid - float(view.rebate[i])) + (rest - filled) * (ref + pen)
            else:
                rest_cost = np.where(rest > 0, np.inf, 0.0)
            table[row] = np.where(exe > 0, exe * (ask + fee), 0.0) + np.where(rest > 0, rest_cost, 0.0)
        return table

    def decision_key(self) -> tuple:
        """What decides this router's child orders: routers with equal keys route identically.

        Spec mode: the penalties never change a split, so none is in the key. Uncapped mode:
        ``lambda_over`` never matters and ``lambda_under``/``theta_queue`` act only through their float sum
        ($/share), the very value :meth:`_expected_table` and the ``"task"`` table compute.
        Parameter searches replay one router per distinct key and fan the result out.
        """
        sz = tuple(sorted(sizing_params(self).items()))
        if self.mode == "spec":
            return ("spec", self.step, self.empty_policy) + sz
        return ("uncapped", self.step, self.interval_ns, self.uncapped_value, self.lookback_ns,
                float(self.lambda_under + self.theta_queue)) + sz

    def params(self) -> dict:
        return {"lambda_over": self.lambda_over, "lambda_under": self.lambda_under,
                "theta_queue": self.theta_queue, "mode": self.mode, "step": self.step,
                "empty_policy": self.empty_policy, **sizing_params(self)}
