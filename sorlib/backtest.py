"""One backtest: parent orders, the router over a parameter grid, the three baselines, metrics.

This is what ``sorlib backtest`` runs and what the notebooks call.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from .allocation import EmptySplitPolicy
from .data.market import NS_PER_SECOND, MarketData
from .engine.book import Book
from .engine.replay import Execution, replay
from .errors import ConfigError
from .metrics import cleanup_check, comparable_cost, impact_cost, order_table, savings_bps, summary
from .sim.model import market_model
from .strategies import TWAP, VWAP, BestAsk, ContKukanov, ParentOrder, Router, Strategy
from .strategies.base import check_choice
from .strategies.vwap import VWAP_WEIGHTS
from .tca import tca_results
from .venues import FEE_REGIMES, VenueTable, apply_fee_regime

#: DESIGN §8. Values in $/share.
GRIDS: dict[str, dict[str, list[float]]] = {
    "penalty": {"lambda_over": [2.0, 5.0, 10.0], "lambda_under": [0.01, 0.05, 0.1],
                "theta_queue": [0.01, 0.05, 0.1]},
    "bps": {"lambda_over": [0.0005, 0.001, 0.002], "lambda_under": [0.0005, 0.001, 0.002],
            "theta_queue": [0.00005, 0.0001, 0.0002]},
}
PARAMS = ("lambda_over", "lambda_under", "theta_queue")


def grid_points(grid: str | dict) -> list[dict[str, float]]:
    """The combinations of a named grid (``"penalty"``, ``"bps"``) or of ``{param: [values]}``."""
    if isinstance(grid, str):
        if grid not in GRIDS:
            raise ConfigError(f"unknown grid {grid!r}: use one of {sorted(GRIDS)} or a file")
        grid = GRIDS[grid]
    missing = [p for p in PARAMS if p not in grid]
    if missing:
        raise ConfigError(f"grid lacks {missing}; give lists for {list(PARAMS)} ($/share)")
    for p in PARAMS:
        vals = grid[p]
        if not isinstance(vals, list | tuple) or not vals or any(
                isinstance(v, bool) or not isinstance(v, int | float) or v < 0 for v in vals):
            raise ConfigError(f"grid '{p}' must be a non-empty list of numbers >= 0 ($/share), got {vals!r}")
    return [dict(zip(PARAMS, combo, strict=True)) for combo in itertools.product(*(grid[p] for p in PARAMS))]


MODES = ("spec", "uncapped", "ck")
#: ``BacktestConfig.side`` → the parent orders' side (+1 buy, −1 sell).
SIDES = {"buy": 1, "sell": -1}


@dataclass
class BacktestConfig:
    """Settings of one backtest. Sizes in shares, times in minutes (from data start when relative).

    ``max_gap_seconds``: a stretch longer than this without any quote record from any venue is a data gap
    (a halt, the night); a parent order whose window overlaps one is not placed (reported)."""

    order_size: int = 5000
    side: str = "buy"  # side of the fixed schedule's parent orders: "buy" or "sell"
    mode: str = "spec"
    grid: str | dict = "penalty"
    every_minutes: float | None = None  # None: one parent order at the data start
    horizon_minutes: float = 10.0
    empty_policy: str = "take_displayed"
    step: int = 100
    twap_bucket_seconds: float = 60.0
    vwap_weights: str = "traded"
    rest_seconds: float = 30.0
    ck_horizon_seconds: float = 30.0
    seed: int = 0
    max_gap_seconds: float = 60.0
    market: str | dict = "frozen"  # market model: a preset of sorlib.sim (frozen, latency, impact, fade, realistic)
    fee_regime: str = "cap30"  # access-fee cap: "cap30" ($0.0030/sh) or "cap10" ($0.0010/sh), sorlib.venues
    # child-order sizing (sorlib.allocation.sizing), applied to the router and every baseline:
    max_child: int | None = None  # shares per child order
    participation_pct: float | None = None  # percent of the trailing window's printed volume
    participation_window_seconds: float = 60.0  # seconds
    min_trade: int | None = None  # shares (the venue profile's min_size when larger)
    lots: bool = False  # round lots: each venue profile's lot_size, or lot_size (shares)
    lot_size: int | None = None  # shares; needs lots
    # parent-order schedule of the router (sorlib.schedules); None: the router trades the whole remainder
    schedule: str | None = None  # "twap", "vwap", "ac", "adaptive"
    ac_risk_aversion: float = 1e-6  # Almgren-Chriss lambda, 1/$
    # risk controls of the router (sorlib.risk.RiskControls or its dict); None: off (bit-identical results)
    risk: object = None
    extra: dict = field(default_factory=dict)

    def risk_controls(self):
        """The validated :class:`~sorlib.risk.RiskControls` of ``risk`` (None when off)."""
        from .risk import RiskControls

        r = RiskControls.from_dict(self.risk)
        return None if r is None or r.is_off else r

    def sizing_rules(self):
        """The :class:`~sorlib.allocation.SizingRules` of these settings (validated), or None when none bind."""
        from .allocation import SizingRules

        r = SizingRules(max_child=self.max_child, participation_pct=self.participation_pct,
                        participation_window_seconds=self.participation_window_seconds, min_trade=self.min_trade,
                        lots=bool(self.lots), lot_size=self.lot_size)
        return None if r.is_trivial else r

    def validate(self) -> None:
        if not (isinstance(self.order_size, int | np.integer) and self.order_size > 0):
            raise ConfigError(f"order size must be a whole number of shares > 0, got {self.order_size}")
        check_choice("side", self.side, SIDES)
        check_choice("mode", self.mode, MODES)
        check_choice("empty policy", self.empty_policy, [p.value for p in EmptySplitPolicy])
        check_choice("VWAP weights", self.vwap_weights, VWAP_WEIGHTS)
        market_model(self.market)  # a ConfigError names the presets
        check_choice("fee regime", self.fee_regime, list(FEE_REGIMES))
        if self.every_minutes is not None and not self.every_minutes > 0:
            raise ConfigError(f"--every must be > 0 minutes, got {self.every_minutes}")
        if not self.horizon_minutes > 0:
            raise ConfigError(f"horizon must be > 0 minutes, got {self.horizon_minutes}")
        if not (isinstance(self.max_gap_seconds, int | float) and self.max_gap_seconds > 0):
            raise ConfigError(f"max_gap_seconds must be > 0 seconds, got {self.max_gap_seconds}")
        if not isinstance(self.lots, bool):
            raise ConfigError(f"lots must be True or False, got {self.lots!r}")
        self.sizing_rules()
        if self.schedule is not None:
            from .schedules import SCHEDULES

            check_choice("schedule", self.schedule, SCHEDULES)
        if not (isinstance(self.ac_risk_aversion, int | float) and np.isfinite(self.ac_risk_aversion)
                and self.ac_risk_aversion >= 0):
            raise ConfigError(f"Almgren-Chriss risk aversion must be a finite number >= 0 (1/$), "
                              f"got {self.ac_risk_aversion}")
        self.risk_controls()


@dataclass(frozen=True)
class UnplacedOrder:
    """A scheduled parent order that was not placed: its arrival (ns) and why."""

    arrival_ns: int
    reason: str

    def to_dict(self) -> dict:
        """``{"arrival": ISO-8601 UTC, "reason": text}`` (the results JSON's ``unplaced_orders`` entries)."""
        return {"arrival": pd.Timestamp(int(self.arrival_ns), unit="ns", tz="UTC").isoformat(), "reason": self.reason}


def _hms(t_ns: int) -> str:
    return pd.Timestamp(int(t_ns), unit="ns", tz="UTC").strftime("%H:%M:%S")


def order_schedule(book: Book, size: int, every_minutes: float | None = None, horizon_minutes: float = 10.0,
                   arrivals_ns: list[int] | None = None, max_gap_seconds: float = 60.0, side: int = 1,
                   ) -> tuple[list[ParentOrder], list[UnplacedOrder]]:
    """Parent orders over the book's time span, and those that cannot be placed.

    The schedule starts at the first two-sided NBBO (the first snapshot at which some venue bids and some
    venue offers; venues that quote later join when they quote): one order there by default; with
    ``every_minutes`` one every N minutes from then on whose window fits in the data; or explicit
    ``arrivals_ns``. Each order must be done within ``horizon_minutes`` (capped at the data's end).
    An order is not placed — returned in the second list with the reason — when the NBBO is not two-sided at
    its arrival (``"no two-sided NBBO at arrival"``) or its window [arrival, deadline) overlaps a data gap,
    a stretch of more than ``max_gap_seconds`` without any quote record (``"data gap HH:MM:SS–HH:MM:SS"``,
    UTC, the last record before and the first after). Placed orders are numbered 0, 1, … in time order;
    every one has ``side`` (+1 buy, −1 sell) and no limit price.
    """
    if book.times.shape[0] == 0:
        raise ConfigError("the data has no quotes to route against")
    t_end = int(book.times[-1]) + 1
    horizon = int(round(horizon_minutes * 60 * NS_PER_SECOND))
    if arrivals_ns is None:
        if book.first_two_sided_index < 0:
            raise ConfigError("the data never shows a two-sided NBBO (some venue bidding and some venue "
                              "offering at once): there is nothing to route against")
        t0 = int(book.times[book.first_two_sided_index])
        if every_minutes is None:
            arrivals_ns = [t0]
        else:
            every = int(round(every_minutes * 60 * NS_PER_SECOND))
            arrivals_ns = list(range(t0, t_end - horizon + 1, every)) or [t0]
    gap_start, gap_end = book.gaps(int(round(max_gap_seconds * NS_PER_SECOND)))
    placed: list[ParentOrder] = []
    unplaced: list[UnplacedOrder] = []
    for a in (int(x) for x in arrivals_ns):
        deadline = min(a + horizon, t_end)
        j = book.index_at(a)
        if j < 0 or not book.two_sided[j]:
            unplaced.append(UnplacedOrder(a, "no two-sided NBBO at arrival"))
            continue
        hit = np.flatnonzero((gap_start < deadline) & (gap_end > a))
        if hit.size:
            g = int(hit[0])
            unplaced.append(UnplacedOrder(a, f"data gap {_hms(gap_start[g])}–{_hms(gap_end[g])}"))
            continue
        placed.append(ParentOrder(len(placed), a, deadline, int(size), int(side)))
    return placed, unplaced


def parent_orders(book: Book, size: int, every_minutes: float | None = None, horizon_minutes: float = 10.0,
                  arrivals_ns: list[int] | None = None, max_gap_seconds: float = 60.0) -> list[ParentOrder]:
    """The placed parent orders of :func:`order_schedule` (those that cannot be placed are left out)."""
    return order_schedule(book, size, every_minutes, horizon_minutes, arrivals_ns, max_gap_seconds)[0]


def _sizing(cfg: BacktestConfig, profiles):
    r = cfg.sizing_rules()
    return r.with_profiles(profiles) if r is not None and profiles is not None else r


def baselines(cfg: BacktestConfig, profiles=None) -> dict[str, Strategy]:
    """Best Ask, TWAP and VWAP with ``cfg``'s child-order sizing rules (``profiles``: the venues'
    :class:`~sorlib.venues.VenueProfile` s, whose ``lot_size``/``min_size`` are the per-venue defaults)."""
    rules = _sizing(cfg, profiles)
    return {"best_ask": BestAsk(sizing=rules), "twap": TWAP(cfg.twap_bucket_seconds, sizing=rules),
            "vwap": VWAP(cfg.vwap_weights, cfg.twap_bucket_seconds, sizing=rules)}


def router_for(cfg: BacktestConfig, params: dict[str, float], profiles=None) -> Strategy:
    """The router of ``cfg.mode`` with one grid point's parameters ($/share), ``cfg``'s sizing rules, and,
    with ``cfg.schedule``, under that schedule (:class:`~sorlib.strategies.Scheduled`: the schedule releases
    shares per bucket of ``twap_bucket_seconds``, the router splits them)."""
    rules = _sizing(cfg, profiles)
    if cfg.mode == "ck":
        r = ContKukanov(**params, horizon_seconds=cfg.ck_horizon_seconds, seed=cfg.seed, sizing=rules)
    else:
        r = Router(**params, mode=cfg.mode, step=cfg.step, empty_policy=cfg.empty_policy,
                   rest_seconds=cfg.rest_seconds, sizing=rules)
    if cfg.schedule is not None:
        from .strategies import Scheduled

        r = Scheduled(cfg.schedule, r, sizing=rules, bucket_seconds=cfg.twap_bucket_seconds,
                      risk_aversion=cfg.ac_risk_aversion)
    risk = cfg.risk_controls()
    if risk is None:
        return r
    from .risk import RiskGuard

    return RiskGuard(r, risk, profiles)


@dataclass
class BacktestResult:
    """Everything a backtest produced: the results JSON (``results``), the grid table and executions."""

    results: dict
    grid: pd.DataFrame
    router: Execution
    baselines: dict[str, Execution]


def check_orders(book: Book, orders, max_gap_seconds: float = 60.0) -> list[ParentOrder]:
    """The user's parent orders (``run_backtest(orders=...)``) checked against ``book``; every problem is a
    :class:`~sorlib.errors.ConfigError` naming the order id: not a :class:`ParentOrder`, a repeated id, no
    shares, a deadline not after its arrival, an arrival outside the data (before its first or after its last
    quote record), no two-sided NBBO at arrival, or a window [arrival, deadline) over a data gap (more than
    ``max_gap_seconds`` without any quote record). Unlike the fixed schedule's (:func:`order_schedule`,
    reported as unplaced), such orders are errors: the user asked for them. A deadline after the data's last
    quote record is capped at that record + 1 ns, as the schedule's are. Returned in the order given."""
    out = list(orders)
    if not out:
        raise ConfigError("no parent orders given: pass at least one ParentOrder")
    if book.times.shape[0] == 0:
        raise ConfigError("the data has no quotes to route against")
    t0, t_end = int(book.times[0]), int(book.times[-1]) + 1
    gap_start, gap_end = book.gaps(int(round(max_gap_seconds * NS_PER_SECOND)))
    seen: set[int] = set()
    for o in out:
        if not isinstance(o, ParentOrder):
            raise ConfigError(f"parent orders must be ParentOrder objects, got {type(o).__name__}")
        where = f"order {o.order_id}"
        if o.order_id in seen:
            raise ConfigError(f"{where}: order id repeated; give every parent order its own order_id")
        seen.add(o.order_id)
        if not (isinstance(o.size, int | np.integer) and o.size > 0):
            raise ConfigError(f"{where}: size must be a whole number of shares > 0, got {o.size!r}")
        if o.deadline_ns <= o.arrival_ns:
            raise ConfigError(f"{where}: deadline {_iso(o.deadline_ns)} is not after its arrival {_iso(o.arrival_ns)}")
        if o.arrival_ns < t0 or o.arrival_ns >= t_end:
            raise ConfigError(f"{where}: arrival {_iso(o.arrival_ns)} is outside the data ({_iso(t0)} to "
                              f"{_iso(t_end)}); move it inside or load the day it belongs to")
        j = book.index_at(o.arrival_ns)
        if j < 0 or not book.two_sided[j]:
            raise ConfigError(f"{where}: no two-sided NBBO at its arrival {_iso(o.arrival_ns)}; arrive later")
        hit = np.flatnonzero((gap_start < o.deadline_ns) & (gap_end > o.arrival_ns))
        if hit.size:
            g = int(hit[0])
            raise ConfigError(f"{where}: its window crosses a data gap {_hms(gap_start[g])}–{_hms(gap_end[g])} "
                              f"(UTC); end it before the gap or raise max_gap_seconds")
    return [o if o.deadline_ns <= t_end else replace(o, deadline_ns=t_end) for o in out]


def _iso(t_ns: int) -> str:
    return pd.Timestamp(int(t_ns), unit="ns", tz="UTC").isoformat()


def run_backtest(data: MarketData | Book, cfg: BacktestConfig | None = None,
                 venue_table: VenueTable | None = None, progress: bool | str = False,
                 orders: list[ParentOrder] | None = None) -> BacktestResult:
    """Run the router over the grid and the baselines on the same parent orders; see :mod:`sorlib.metrics`.

    ``progress``: one tqdm bar (``"lines"``: plain lines, :class:`_LineProgress`) over (grid points + baselines) × parent orders. Grid points whose routers
    have equal ``decision_key()`` route identically (spec mode: all of them) and are replayed once. Besides the task's keys the
    results hold ``unplaced_orders`` (``[{"arrival": ISO UTC, "reason": ...}]``, see :func:`order_schedule`),
    ``market`` (``{"name", "parameters"}`` of the market model, :mod:`sorlib.sim`), ``impact_cost`` (strategy →
    :func:`~sorlib.metrics.impact_cost`), ``cleanup_beyond_book_shares`` and ``unfilled_shares`` (strategy →
    shares; ``router`` = the best grid point) and ``tca`` (:func:`sorlib.tca.tca_results` of every strategy:
    per-order shortfall and its parts, per-venue fill rates and markouts, participation).

    ``orders``: the user's parent orders (either side, optional limit prices; :func:`check_orders`) instead of
    the fixed schedule of ``cfg`` (``order_size``, ``side``, ``every_minutes``, ``horizon_minutes``); a bad
    order raises :class:`~sorlib.errors.ConfigError` naming its id. Sells are replayed on the mirrored
    market (:mod:`sorlib.engine.replay`); costs and savings follow :mod:`sorlib.metrics`' sign convention."""
    cfg = cfg or BacktestConfig()
    cfg.validate()
    book = data if isinstance(data, Book) else Book.from_market(data, venue_table)
    book = replace(book, profiles=tuple(apply_fee_regime(p, cfg.fee_regime) for p in book.profiles))
    if orders is not None:
        orders, unplaced = check_orders(book, orders, cfg.max_gap_seconds), []
    else:
        orders, unplaced = order_schedule(book, cfg.order_size, cfg.every_minutes, cfg.horizon_minutes,
                                          max_gap_seconds=cfg.max_gap_seconds, side=SIDES[cfg.side])
    if not orders:
        reasons = sorted({u.reason for u in unplaced})
        raise ConfigError(f"no parent order could be placed ({len(unplaced)} scheduled): " + "; ".join(reasons[:3])
                          + " (times UTC); keep regular hours (--regular-hours on), raise --max-gap SECONDS, or "
                            "shorten --horizon")
    points = grid_points(cfg.grid)
    base = baselines(cfg, book.profiles)
    mm = market_model(cfg.market).resolve(book.market)  # estimated inputs (impact σ, V) once for every replay
    bar = None
    if progress == "lines":  # logs and pipes: a plain line at the start and at most every 30 s
        bar = _LineProgress((len(points) + len(base)) * len(orders), "backtest", "order replays")
    elif progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=(len(points) + len(base)) * len(orders), desc="backtest", unit="order")
    tick = bar.update if bar is not None else None
    rows, executions, guards = [], [], []
    done: dict[tuple, tuple[Execution, Strategy]] = {}  # decision key -> the one replay of that router
    try:
        for p in points:
            strat = router_for(cfg, p, book.profiles)
            key = _decision_key(strat)
            if key is not None and key in done:  # routes identically to an earlier grid point: reuse
                ex, strat = replace(done[key][0], params=strat.params()), done[key][1]
                if tick is not None:
                    tick(len(orders))
            else:
                ex = replay(book, strat, orders, progress=tick, market=mm)
                if key is not None:
                    done[key] = (ex, strat)
            executions.append(ex)
            guards.append(strat)
            s = summary(ex, book)
            rows.append({**p, **{k: v for k, v in s.items() if k != "venue_shares"}})
        base_ex = {name: replay(book, strat, orders, progress=tick, market=mm) for name, strat in base.items()}
    finally:
        if bar is not None:
            bar.close()
    grid = pd.DataFrame(rows)
    costs = np.array([comparable_cost(r) for r in rows])  # cash, + unfilled shares at the deadline mid (metrics)
    best_i = int(np.argmin(costs))  # first of ties in grid order
    ties = int(np.isclose(costs, costs[best_i], rtol=0, atol=1e-6).sum())
    router_ex = executions[best_i]
    opt = summary(router_ex, book)
    every_ex = {"router": router_ex, **base_ex}
    results = {
        "best_parameters": {k: float(grid[k].iloc[best_i]) for k in PARAMS},
        "optimized": opt,
        "baselines": {n: summary(e, book) for n, e in base_ex.items()},
        "savings_vs_baselines_bps": {},
        "savings_intervals": {},
        "grid_ties": ties,
        "parent_orders": len(orders),
        "unplaced_orders": [u.to_dict() for u in unplaced],
        "cleanup_beyond_book_shares": {n: int(np.sum(e.beyond_book)) for n, e in every_ex.items()},
        "unfilled_shares": {n: int(np.sum(e.unfilled)) for n, e in every_ex.items()},
        "market": mm.to_dict(),
        "market_model": mm.label,
        "impact_cost": {n: impact_cost(e, seed=cfg.seed) for n, e in every_ex.items()},
        "tca": tca_results(every_ex, book, seed=cfg.seed, bucket_seconds=cfg.twap_bucket_seconds),
        "config": {k: v for k, v in asdict(cfg).items() if k != "extra"},
        **_risk_results(guards[best_i], book),
        "grid": grid.to_dict(orient="records"),
    }
    for n, e in base_ex.items():
        s = savings_bps(router_ex, e, seed=cfg.seed, book=book)
        results["savings_vs_baselines_bps"][n] = s["bps"]
        results["savings_intervals"][n] = s
    results["cleanup_check"] = cleanup_check(results)  # clean-up share per strategy; verdict withheld above 50%
    if any(o.side < 0 for o in orders):  # say how the sells were replayed (absent for buys: results unchanged)
        from .engine.replay import mirror_book

        results["sells"] = {"orders": sum(o.side < 0 for o in orders), "mirror_center_usd": mirror_book(book)[0],
                            "note": "sells replayed as buys on the mirrored market (prices C - p, bids and asks "
                                    "swapped); costs are minus the proceeds net of fees (sorlib.metrics)"}
    return BacktestResult(results=results, grid=grid, router=router_ex, baselines=base_ex)


class _LineProgress:
    """Progress as plain stdout lines (no carriage returns): one at the start, then at most one per
    ``every`` seconds (logs, pipes)."""

    def __init__(self, total: int, desc: str, unit: str, every: float = 30.0) -> None:
        import time

        self.total, self.done, self.desc, self.every = total, 0, desc, every
        self.t0 = self.last = time.monotonic()
        print(f"{desc}: {total:,} {unit} to run", flush=True)

    def update(self, n: int = 1) -> None:
        import time

        self.done += n
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            print(f"{self.desc}: {self.done:,}/{self.total:,} ({100 * self.done / max(self.total, 1):.0f}%), "
                  f"{now - self.t0:.0f} s", flush=True)

    def close(self) -> None:
        pass


def _decision_key(strategy: Strategy) -> tuple | None:
    """The strategy's ``decision_key()`` (routers with equal keys route identically, see
    :meth:`~sorlib.strategies.Router.decision_key`), or None when it has none (never shared)."""
    return tuple(strategy.decision_key()) if hasattr(strategy, "decision_key") else None


def _risk_results(strategy: Strategy, book: Book) -> dict:
    """``risk_events`` (``[{time ISO, order, venue, rule, detail}]``), ``risk_event_counts`` (rule → count) and
    ``venue_scores`` (records of the venue-score log) of the best grid point's router when it ran under a
    :class:`~sorlib.risk.RiskGuard`; empty (no keys) otherwise, so results without controls stay as before."""
    from .risk import RiskGuard

    if not isinstance(strategy, RiskGuard):
        return {}
    names = {int(p.key): p.name for p in book.profiles}
    scores = strategy.scores_frame()
    if len(scores):
        scores = scores.assign(time=scores["time"].map(lambda x: x.isoformat()),
                               venue=scores["venue"].map(lambda v: names.get(int(v), str(v)))).drop(columns="time_ns")
    return {"risk_events": strategy.events_frame(names).to_dict(orient="records"),
            "risk_event_counts": strategy.event_counts(),
            "venue_scores": scores.to_dict(orient="records"),
            "risk_controls": strategy.controls.to_dict()}


def orders_frame(result: BacktestResult) -> pd.DataFrame:
    """Per-order table of every strategy (router first), with a ``strategy`` column."""
    frames = [order_table(result.router).assign(strategy="router")]
    frames += [order_table(e).assign(strategy=n) for n, e in result.baselines.items()]
    return pd.concat(frames, ignore_index=True)
