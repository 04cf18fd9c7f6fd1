"""``run_search``: the router over a search space and the baselines, on many parent orders and days.

Plan: per day, the parent orders (:func:`sorlib.backtest.parent_orders`, computed where the data live)
are cut into chunks of ``chunk_orders``. Grid points whose routers have the same
:meth:`~sorlib.strategies.Router.decision_key` are replayed once and the result is fanned out to each of
them; baselines, which have no parameters, are replayed once. Tasks = (distinct router or baseline,
day, chunk). Completed tasks are written to the :class:`~.store.ResultStore` as they finish and are
skipped on the next run. The table is assembled in a fixed order and totals use exact sums
(``math.fsum``), so serial, process and Dask runs — fresh or resumed — give identical results.

Sells (``config.side = "sell"``): the plans carry the side and the workers replay them as
:func:`~sorlib.backtest.run_backtest` does (:func:`sorlib.engine.replay.replay` on the worker's book of the day,
whose mirrored book is built once, on the first sell, and kept with it). Grid points are ranked and savings
computed on the per-order ``cost`` of :mod:`sorlib.metrics` (cash, plus unfilled shares at the deadline mid;
a sell's cost is minus its proceeds), as in the backtest.
"""

from __future__ import annotations

import contextlib
import io
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import atomic_write_bytes, atomic_write_json, dir_lock, output_error
from ..backtest import PARAMS, SIDES, BacktestConfig, baselines, router_for
from ..errors import ConfigError
from ..metrics import cleanup_check, comparable_cost
from ..sim.model import market_model
from .adaptive import AdaptiveResult, run_adaptive
from .executors import DataSpec, Executor, make_executor, resident_days, worker_books
from .space import MAX_EXTENSIONS, SearchSpace, extend_until_interior, point_edges, resolve_space
from .store import ResultStore, task_key
from .walkforward import CostMatrix, WalkForwardResult, savings, walk_forward

__all__ = ["ROW_COLUMNS", "SearchIncomplete", "SearchResult", "all_edges", "data_spec", "decision_key", "run_search"]

#: per-order columns of a task's rows (see :func:`sorlib.metrics.order_table`); $, shares, ns, bps. ``cost``
#: ($): what grid points and savings compare (cash + unfilled shares at the deadline mid, metrics)
ROW_COLUMNS = ("order_id", "arrival_ns", "deadline_ns", "size", "side", "shares", "total_cash", "cleanup_shares",
               "cleanup_cash", "fees", "fills", "arrival_mid", "avg_fill_px", "shortfall_bps", "unfilled", "cost")
_INT_COLUMNS = ("order_id", "arrival_ns", "deadline_ns", "size", "side", "shares", "cleanup_shares", "fills",
                "unfilled")
BASELINES = ("best_ask", "twap", "vwap")
#: risk events listed in the summary (the best grid point's, in time order); the rest are counted
MAX_RISK_EVENTS = 200


class SearchIncomplete(RuntimeError):
    """The search stopped before every task ran (``max_tasks`` reached); what finished is stored."""

    def __init__(self, message: str, stats: dict) -> None:
        super().__init__(message)
        self.stats = stats


@dataclass
class SearchResult:
    """What :func:`run_search` produced.

    ``table``: one row per (strategy/grid point, day, parent order) with the :data:`ROW_COLUMNS`;
    ``grid``: one row per grid point (parameters, its distinct-router ``group``, totals, savings bps vs
    each baseline); ``summary``: the JSON written as ``summary.json``; ``costs``: the per-order cash of
    every grid point and baseline (:class:`~.walkforward.CostMatrix`, what validation works on).
    """

    table: pd.DataFrame
    grid: pd.DataFrame
    summary: dict
    space: SearchSpace
    walkforward: WalkForwardResult | None = None
    adaptive: AdaptiveResult | None = None
    stats: dict = field(default_factory=dict)
    costs: CostMatrix | None = None

    @property
    def best_params(self) -> dict[str, float]:
        return dict(self.summary["best_parameters"])


# ----------------------------------------------------------------------------------------------- tasks
def _plan_day(spec: DataSpec, day: int, cfg: dict) -> dict[str, list]:
    """Worker side: one day's parent orders as ``(order_id, arrival_ns, deadline_ns, size)``, with the side
    (−1) appended for sells (``"orders"``; a buy's plan and task keys stay as they were), and the scheduled
    orders that could not be placed (``"unplaced"``: ``{"day", "arrival", "reason"}``)."""
    from ..backtest import order_schedule

    book = worker_books(spec)[day]
    c = BacktestConfig(**cfg)
    side = SIDES[c.side]
    placed, unplaced = order_schedule(book, c.order_size, c.every_minutes, c.horizon_minutes,
                                      max_gap_seconds=c.max_gap_seconds, side=side)
    return {"orders": [[o.order_id, o.arrival_ns, o.deadline_ns, o.size] + ([o.side] if side < 0 else [])
                       for o in placed],
            "unplaced": [{"day": day, **u.to_dict()} for u in unplaced]}


def run_task(spec: DataSpec, day: int, cfg: dict, strategy: str, params: dict,
             orders: tuple[tuple[int, ...], ...]) -> dict[str, np.ndarray]:
    """Worker side: replay one strategy on one chunk of parent orders (:func:`_plan_day`'s tuples; sells are
    replayed on the mirrored market by :func:`~sorlib.engine.replay.replay`, as in the backtest); the
    :data:`ROW_COLUMNS` as arrays (and, for a router under risk controls, ``risk_events``: every event of the
    replay, with the day)."""
    from ..engine.replay import replay
    from ..metrics import order_columns
    from ..risk import RiskGuard
    from ..strategies.base import ParentOrder

    c = BacktestConfig(**cfg)
    book, market = _replay_inputs(spec, day, c)
    strat = router_for(c, params, book.profiles) if strategy == "router" else baselines(c, book.profiles)[strategy]
    cols = order_columns(replay(book, strat, [ParentOrder(*o) for o in orders], market=market), book)
    out = {k: cols[k] for k in ROW_COLUMNS}
    if isinstance(strat, RiskGuard):  # the router under risk controls: every event, with the day
        names = {int(p.key): p.name for p in book.profiles}
        out["risk_events"] = [{"day": day, **e} for e in strat.events_frame(names).to_dict(orient="records")]
    return out


_INPUTS: dict = {}


def _replay_inputs(spec: DataSpec, day: int, c: BacktestConfig):
    """Worker side: the day's book under ``c.fee_regime`` and ``c.market`` resolved on it (estimated σ and
    volume), built once per worker and setting, as :func:`~sorlib.backtest.run_backtest` does."""
    from dataclasses import fields, replace

    from ..sim.model import market_model
    from ..venues import apply_fee_regime

    key = (spec.digest, day, c.fee_regime, repr(c.market))
    if key not in _INPUTS:
        while len(_INPUTS) >= resident_days():  # bounded like the worker's days (many-day searches)
            _INPUTS.pop(next(iter(_INPUTS)))
        book = worker_books(spec)[day]
        profiles = tuple(apply_fee_regime(p, c.fee_regime) for p in book.profiles)
        if profiles != book.profiles:  # else the day's book itself: one set of its derived per-record arrays
            derived = {k: v for k, v in vars(book).items() if k not in {f.name for f in fields(book)}}
            book = replace(book, profiles=profiles)
            vars(book).update(derived)  # its cached properties (ask_key, two_sided, ...) do not use the profiles
        _INPUTS[key] = (book, market_model(c.market).resolve(book.market))
    return _INPUTS[key]


#: BacktestConfig fields already in a task's key (through its parent orders, the router's decision key or
#: the baselines' parameters) or that do not act on a replay.
#: ``risk`` is in the router's decision key (:meth:`RiskGuard.decision_key`: every control's setting) and does
#: not act on the baselines, so their stored tasks are shared with runs without risk controls.
_KEYED = frozenset({"order_size", "every_minutes", "horizon_minutes", "max_gap_seconds", "mode", "step",
                    "empty_policy", "rest_seconds", "ck_horizon_seconds", "twap_bucket_seconds",
                    "vwap_weights", "grid", "extra", "risk"})


def _replay_settings(cfgd: dict) -> list[dict]:
    """The settings that change a replay but are not in its task key otherwise (market model, fee regime,
    sizing rules, schedule, ...): those differing from their defaults, so stores of default runs keep
    their keys."""
    default = _cfg_dict(BacktestConfig())
    extra = {k: v for k, v in cfgd.items() if k not in _KEYED and v != default.get(k)}
    return [extra] if extra else []


def _plans(ex: Executor, ensure_started, st: ResultStore | None, spec: DataSpec, n_days: int,
           cfgd: dict) -> tuple[dict[int, list[tuple[int, int, int, int]]], list[dict]]:
    """Parent orders per day (from the store when planned before, else computed on the workers), and the
    scheduled orders that could not be placed, with their reasons."""
    sell = {"side": cfgd["side"]} if cfgd.get("side", "buy") != "buy" else {}  # buys keep their old keys
    keys = {d: task_key("plan", spec.digest, d, {**{k: cfgd[k] for k in ("order_size", "every_minutes",
                                                                        "horizon_minutes", "max_gap_seconds")},
                                                 **sell})
            for d in range(n_days)}
    plans: dict[int, dict] = {}
    for d, k in keys.items():
        got = st.get(k) if st is not None else None
        if got is not None and "unplaced" in got["rows"]:
            plans[d] = got["rows"]
    missing = [d for d in range(n_days) if d not in plans]
    if missing:
        ensure_started()
        for d, plan in ex.imap(_plan_day, [(spec.ref(), d, cfgd) for d in missing]):
            day = missing[d]
            plans[day] = plan
            if st is not None:
                st.put(keys[day], {"plan": day}, plan)
    unplaced = [u for d in range(n_days) for u in plans[d]["unplaced"]]
    return {d: [tuple(o) for o in p["orders"]] for d, p in plans.items()}, unplaced


def _check_validation(plans: dict, folds, window, fold_by: str, adaptive) -> None:
    """Fail before any replay when the walk-forward/adaptive settings cannot work on these orders."""
    from .walkforward import split_folds

    if not folds and not adaptive:
        return
    rows = [(d, o[0], o[1], o[2]) for d, orders in plans.items() for o in orders]
    orders = pd.DataFrame(rows, columns=["day", "order_id", "arrival_ns", "deadline_ns"]).sort_values(
        ["arrival_ns", "day", "order_id"], kind="stable")
    if folds:
        split_folds(orders, folds, window, fold_by)
    if adaptive and len(orders) < 4:
        raise ConfigError(f"--adaptive needs at least 4 parent orders, have {len(orders)}; use a smaller --every")


def decision_key(strategy) -> tuple:
    """The strategy's ``decision_key()`` when it has one (:class:`~sorlib.strategies.Router`), else its type
    and every public scalar attribute (parameters, seed, horizons): only identical strategies collapse."""
    if hasattr(strategy, "decision_key"):
        return tuple(strategy.decision_key())
    attrs = sorted((k, v) for k, v in vars(strategy).items()
                   if not k.startswith("_") and isinstance(v, int | float | str | bool | type(None)))
    return (type(strategy).__name__, *(f"{k}={v!r}" for k, v in attrs))


def _cfg_dict(cfg: BacktestConfig) -> dict:
    d = asdict(cfg)
    d.pop("grid")
    return d


class _Progress:
    """Task progress: a tqdm bar on stderr (``show=True``, removed when done so an error line stands
    alone), or ``show="lines"``: a plain line on stdout at the start and at most every 30 s (logs, pipes)."""

    def __init__(self, show: bool | str, total: int, initial: int, stats: dict) -> None:
        self.total, self.done, self.bar, self.lines = total, initial, None, show == "lines"
        self.t0 = self.last = time.monotonic()
        if show is True:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=initial, desc="search", unit="task", leave=False)
        elif self.lines:
            print(f"search: {total - initial} task(s) to run ({initial} reused) on {stats['scheduler']} "
                  f"({stats['workers']} worker(s))", flush=True)

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.lines and time.monotonic() - self.last >= 30.0:
            self.last = time.monotonic()
            print(f"search: {self.done}/{self.total} tasks, {self.last - self.t0:.0f} s", flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _data_venues(spec: DataSpec, day: int) -> list[int]:
    """Worker side: the venue keys present in one day's data."""
    return [int(v) for v in worker_books(spec)[day].venues]


def _venue_warnings(ex: Executor, ensure_started, spec: DataSpec, n_days: int, venues: str | None) -> list[str]:
    """An error (:class:`ConfigError`, naming the venues present) for venues that the ``--venues`` file lists
    but no day of the data contains; returns no warning otherwise."""
    if venues is None or n_days == 0:
        return []
    from ..venues import VenueTable

    listed = VenueTable.load(venues).user_keys
    if not listed:
        return []
    ensure_started()
    seen: set[int] = set()
    for _, keys in ex.imap(_data_venues, [(spec.ref(), d) for d in range(n_days)]):
        seen.update(keys)
    VenueTable.load(venues).require_present(sorted(seen))
    return []


# ---------------------------------------------------------------------------------------------- inputs
def data_spec(data: Any = None, fmt: str = "auto", regular_hours: bool = False, seed: int = 0,
              venues: str | None = None, symbol: str | None = None) -> DataSpec:
    """A :class:`DataSpec` from: None (the synthetic day of ``seed``), a path or list of paths (one day
    each), ``MarketData``/``Book`` objects (in memory), or a spec."""
    if isinstance(data, DataSpec):
        return data
    items = [] if data is None else list(data) if isinstance(data, list | tuple) else [data]
    if not items:
        return DataSpec.synthetic(seed=seed, venues_file=venues, regular_hours=regular_hours)
    if all(isinstance(x, str | Path) for x in items):
        return DataSpec.files(items, fmt, regular_hours, venues, symbol)
    if symbol is not None:
        raise ConfigError("symbol selects an instrument of DATA files; in-memory data are already one instrument")
    if any(isinstance(x, str | Path) for x in items):
        raise ConfigError("mix of file paths and in-memory data; pass one kind")
    return DataSpec.memory(items, venues)


# ------------------------------------------------------------------------------------------------ main
def run_search(data: Any = None, *, grid: str | dict | SearchSpace | Path | None = None,
               random: int | None = None, config: BacktestConfig | None = None, folds: int | None = None,
               window: int | None = None, fold_by: str = "order", adaptive: bool | str = False,
               scheduler: str | Executor = "processes", workers: int | None = None,
               out: str | Path | None = None, store: str | Path | None = None, chunk_orders: int = 8,
               progress: bool | None = None, max_tasks: int | None = None, seed: int = 0,
               fmt: str = "auto", regular_hours: bool = False, venues: str | None = None,
               symbol: str | None = None, extend_grid: bool = False,
               max_extensions: int = MAX_EXTENSIONS) -> SearchResult:
    """Search router parameters (see module docstring).

    Args:
        data: None (synthetic day), path(s) (one day each), in-memory days, or a :class:`DataSpec`.
        grid: ``"penalty"``, ``"bps"``, a TOML/JSON file, ``{param: range}`` or a :class:`SearchSpace`
            (default: ``config.grid``); ``random=N`` draws N points within its bounds (seeded by ``seed``).
        config: order size (shares), mode, ``every_minutes`` (default here: 5), horizon, … .
        folds/window/fold_by: walk-forward validation (K folds; rolling window in blocks; by order/day).
        adaptive: True or a policy name (``"ucb1"``, ``"thompson"``): evaluate a bandit over the grid.
        scheduler/workers: ``serial``, ``processes``, ``local-dask``, a Dask address, or an Executor.
        out: directory for ``results.parquet``, ``grid.csv``, ``summary.json`` and (unless ``store`` is
            given) the resumable store ``out/store``; None keeps everything in memory.
        chunk_orders: parent orders per task; max_tasks: stop after running this many (tests).
        extend_grid: when the chosen point (in-sample best, or a walk-forward fold's training choice) lies on
            an edge of the grid along an axis that can matter (``summary["edges"]``, each fold's ``edges``;
            :func:`~.space.point_edges`), add the next value beyond that edge (:func:`~.space.extend_value`:
            the axis' own spacing, never below 0) and search again, reusing every stored replay, until
            every choice is interior or ``max_extensions`` values were added on that side
            (``summary["grid_extension"]`` says which). The candidate set is shared by the folds; each
            fold still chooses on its own training block only.
    """
    if extend_grid:
        return _extended_search(locals(), max_extensions)
    t_start = time.perf_counter()
    cfg = config or BacktestConfig(every_minutes=5.0)
    cfg.validate()
    if isinstance(chunk_orders, bool) or not isinstance(chunk_orders, int) or chunk_orders < 1:
        raise ConfigError(f"chunk size must be >= 1 parent order, got {chunk_orders!r}")
    risk = cfg.risk_controls()
    if adaptive and risk is not None and risk.scoring is not None:
        raise ConfigError("venue scoring (--score-venues on) does not apply with --adaptive: the scores learn from "
                          "the router's own fills across parent orders, and the bandit switches grid points between "
                          "orders, so each point's scores would come from orders it did not trade; drop one of them")
    space = resolve_space(cfg.grid if grid is None else grid, random, seed)
    spec = data_spec(data, fmt, regular_hours, seed, venues, symbol)
    cfgd = _cfg_dict(cfg)
    points = space.dicts()
    try:
        routers = [router_for(cfg, p) for p in points]
    except ConfigError as e:
        raise ConfigError(f"search space {space.name!r}: {e}") from None
    keys = [decision_key(r) for r in routers]
    group_of = {k: g for g, k in enumerate(dict.fromkeys(keys))}
    groups = [group_of[k] for k in keys]
    reps = {g: points[keys.index(k)] for k, g in group_of.items()}
    base_params = {n: s.params() for n, s in baselines(cfg).items()}
    store_dir = Path(store) if store is not None else (Path(out) / "store" if out is not None else None)
    st = ResultStore(store_dir) if store_dir is not None else None
    show = sys.stderr.isatty() if progress is None else progress
    stats_warnings: list[str] = []

    ex = make_executor(scheduler, workers)
    stats: dict[str, Any] = {"scheduler": ex.name, "workers": ex.workers, "points": len(points),
                             "distinct_routers": len(group_of), "executed": 0, "reused": 0,
                             "warnings": stats_warnings}
    parts: dict[str, dict[str, list]] = {}
    started = False

    def ensure_started() -> None:
        nonlocal started
        if not started:
            ex.start(spec)
            started = True

    owned = not isinstance(scheduler, Executor)  # an Executor passed in stays open for the caller
    with ex if owned else contextlib.nullcontext(ex):
        n_days = int(spec.days or 0)
        ref = spec.ref()
        plans, unplaced = _plans(ex, ensure_started, st, spec, n_days, cfgd)
        stats["unplaced_orders"] = len(unplaced)
        stats_warnings += _venue_warnings(ex, ensure_started, spec, n_days, venues)
        _check_validation(plans, folds, window, fold_by, adaptive)
        tasks: list[tuple[str, dict, tuple]] = []  # (key, description, args)
        layout: dict[tuple[str, int], list[str]] = {}  # (strategy id, day) -> chunk keys in order
        strategies = [(f"router/{g}", "router", reps[g], {"decision": list(k)}) for k, g in group_of.items()]
        strategies += [(n, n, {}, {"params": base_params[n]}) for n in base_params]
        settings = _replay_settings(cfgd)
        # venue scores carry across a replay's parent orders: with scoring, a router task is a whole day (the
        # scores then learn as in the backtest); every other control acts per parent order
        whole_day = risk is not None and risk.scoring is not None
        for day in range(n_days):
            orders = plans[day]
            chunks = [tuple(orders[i:i + chunk_orders]) for i in range(0, len(orders), chunk_orders)]
            for sid, kind, params, desc in strategies:
                for ch in ([tuple(orders)] if whole_day and kind == "router" and orders else chunks):
                    key = task_key(spec.digest, day, kind, desc, [list(o) for o in ch], *settings)
                    layout.setdefault((sid, day), []).append(key)
                    tasks.append((key, {"strategy": kind, "day": day, **desc, "orders": len(ch)},
                                  (ref, day, cfgd, kind, params, ch)))
        stats["tasks"] = len(tasks)
        stats["parent_orders"] = sum(len(p) for p in plans.values())
        stats["days"] = n_days
        todo = []
        have = st.keys() if st is not None else set()
        for key, desc, args in dict((t[0], t) for t in tasks).values():  # one task per distinct key
            got = st.get(key) if key in have else None
            if got is not None:
                parts[key] = got["rows"]
                stats["reused"] += 1
            else:
                todo.append((key, desc, args))
        todo.sort(key=lambda t: -t[1]["orders"])  # short chunks last: less idle time at the end (stable)
        if todo:
            ensure_started()
        limit = len(todo) if max_tasks is None else min(max_tasks, len(todo))
        bar = _Progress(show, stats["reused"] + len(todo), stats["reused"], stats) if todo else None
        run = ex.imap(run_task, [a for _, _, a in todo[:limit]]) if limit else iter(())
        try:
            for i, rows in run:
                key, desc, _ = todo[i]
                if st is not None:
                    st.put(key, desc, {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in rows.items()})
                parts[key] = rows
                stats["executed"] += 1
                if bar is not None:
                    bar.update(1)
        finally:
            if hasattr(run, "close"):
                run.close()
            if bar is not None:
                bar.close()
    if stats["executed"] < len(todo):
        stats["wall_seconds"] = time.perf_counter() - t_start
        raise SearchIncomplete(f"stopped after {stats['executed']} of {len(todo)} tasks; run again to resume",
                               stats)

    table, base_cols, group_cols = _assemble(parts, layout, points, groups, n_days)
    stats["wall_seconds"] = time.perf_counter() - t_start
    res = _summarise(table, base_cols, group_cols, points, groups, space, cfg, spec, stats, seed)
    res.summary["unplaced_orders"] = unplaced
    if risk is not None:
        best_group = groups[res.summary["best_point"]]
        res.summary.update(_risk_summary([e for d in range(n_days) for k in layout.get((f"router/{best_group}", d), [])
                                          for e in parts[k].get("risk_events", [])], risk))
    mm = market_model(cfg.market)
    res.summary["market"] = mm.to_dict()
    res.summary["market_model"] = mm.label
    if folds:
        res.walkforward = walk_forward(res.costs, folds, window, fold_by, seed=seed)
        res.summary["walk_forward"] = res.walkforward.to_dict()
    if adaptive:
        policy = adaptive if isinstance(adaptive, str) else "ucb1"
        res.adaptive = run_adaptive(res.costs, policy, seed=seed)
        res.summary["adaptive"] = res.adaptive.to_dict()
    if out is not None:
        write_outputs(res, out)
    return res


def all_edges(res: SearchResult) -> list[dict]:
    """Every grid edge a chosen point lies on: the in-sample best's (``"choice": "in-sample"``) and each
    walk-forward fold's training choice (``"choice": "fold K"``)."""
    out = [{"choice": "in-sample", **e} for e in res.summary.get("edges", [])]
    if res.walkforward is not None:
        out += [{"choice": f"fold {f.fold}", **e} for f in res.walkforward.folds for e in f.edges]
    return out


def _extended_search(args: dict, cap: int) -> SearchResult:
    """:func:`run_search` with ``extend_grid``: search, extend the axes whose edge a choice lies on, again.

    Replays are reused through the task store (``store``, else ``out/store``, else a temporary one)."""
    import tempfile

    if args["random"] is not None:
        raise ConfigError("--extend-grid extends a product grid; it does not apply to --random draws")
    cfg = args["config"] or BacktestConfig(every_minutes=5.0)
    space = resolve_space(cfg.grid if args["grid"] is None else args["grid"])
    out, store = args["out"], args["store"]
    tmp = tempfile.TemporaryDirectory(prefix="sorlib-extend-") if store is None and out is None else None
    kw = {k: v for k, v in args.items() if k not in ("grid", "random", "out", "store", "extend_grid",
                                                      "max_extensions", "cap")}
    kw["store"] = store if store is not None else (Path(out) / "store" if out is not None else tmp.name)
    owned = not isinstance(args["scheduler"], Executor)  # one pool for every round: workers keep their data
    ex = make_executor(args["scheduler"], args["workers"]) if owned else args["scheduler"]
    kw["scheduler"], kw["workers"] = ex, None

    def evaluate(current: SearchSpace) -> tuple[SearchResult, list[dict]]:
        res = run_search(grid=current, out=None, **kw)
        return res, all_edges(res)

    try:
        with ex if owned else contextlib.nullcontext(ex):
            res, info = extend_until_interior(space, evaluate, cap)
    finally:
        if tmp is not None:
            tmp.cleanup()
    res.summary["grid_extension"] = info
    if out is not None:
        write_outputs(res, out)
    return res


def _risk_summary(events: list[dict], risk) -> dict:
    """``risk_event_counts`` (rule -> count, every event), ``risk_events`` (the first :data:`MAX_RISK_EVENTS` in
    time order: day, time ISO UTC, order, venue, rule, detail), ``risk_events_omitted`` and ``risk_controls``
    of the best grid point's router."""
    counts: dict[str, int] = {}
    for e in events:
        counts[e["rule"]] = counts.get(e["rule"], 0) + 1
    events = sorted(events, key=lambda e: (e["time"], e["day"], e["order"]))
    return {"risk_event_counts": dict(sorted(counts.items())), "risk_events": events[:MAX_RISK_EVENTS],
            "risk_events_omitted": max(len(events) - MAX_RISK_EVENTS, 0), "risk_controls": risk.to_dict()}


def _stored(c: dict, k: str):
    """Column ``k`` of a task's rows; rows stored before sides and unfilled costs were recorded (buys) lack
    ``side`` (+1), ``unfilled`` and ``cost``: they are read as fully filled buys (cost = cash)."""
    if k in c:
        return c[k]
    n = len(c["order_id"])
    return {"side": np.ones(n), "unfilled": np.zeros(n)}.get(k, c["total_cash"])


def _columns(chunks: list[dict], day: int) -> dict[str, np.ndarray]:
    out = {k: np.concatenate([np.asarray(_stored(c, k), dtype=np.int64 if k in _INT_COLUMNS else np.float64)
                              for c in chunks]) for k in ROW_COLUMNS}
    out["day"] = np.full(out["order_id"].shape[0], day, np.int64)
    return out


def _assemble(parts, layout, points, groups, n_days: int) -> tuple[pd.DataFrame, dict, dict]:
    """The long table in a fixed order: baselines, then grid points in grid order; days; orders.
    Also the columns of each baseline and of each distinct router (group), which share one order sequence."""
    def block(sid: str) -> dict[str, np.ndarray]:
        days = [_columns([parts[k] for k in layout[(sid, d)]], d) for d in range(n_days)]
        return {k: np.concatenate([d[k] for d in days]) for k in days[0]}

    blocks: list[tuple[str, int, int, tuple, dict]] = []  # (strategy, point, group, params, columns)
    for n in BASELINES:
        if (n, 0) in layout:
            blocks.append((n, -1, -1, (np.nan,) * len(PARAMS), block(n)))
    per_group = {g: block(f"router/{g}") for g in sorted(set(groups))}
    for i, (p, g) in enumerate(zip(points, groups, strict=True)):
        blocks.append(("router", i, g, tuple(p[k] for k in PARAMS), per_group[g]))
    sizes = [b[4]["order_id"].shape[0] for b in blocks]
    cols: dict[str, object] = {
        "strategy": np.repeat(np.array([b[0] for b in blocks], dtype=object), sizes),
        "point": np.repeat(np.array([b[1] for b in blocks], np.int64), sizes),
        "group": np.repeat(np.array([b[2] for b in blocks], np.int64), sizes),
    }
    for j, k in enumerate(PARAMS):
        cols[k] = np.repeat(np.array([b[3][j] for b in blocks], np.float64), sizes)
    for k in ("day", *ROW_COLUMNS):
        cols[k] = np.concatenate([b[4][k] for b in blocks])
    return pd.DataFrame(cols), {b[0]: b[4] for b in blocks if b[1] < 0}, per_group


def _totals(c: dict[str, np.ndarray]) -> dict:
    """Totals of one strategy's per-order columns (exact sums: independent of order and chunking), the keys of
    :func:`sorlib.metrics.summary` (``unfilled_shares``, ``unfilled_cash`` and ``total_cost`` only when some
    shares went unfilled; the all-in price for the side, NaN for mixed sides)."""
    shares = int(c["shares"].sum())
    cash = math.fsum(c["total_cash"])
    sides = set(np.unique(c["side"]).tolist())
    avg = (cash / shares if sides == {1} else -cash / shares if sides == {-1} else math.nan) if shares else math.nan
    sf = c["shortfall_bps"][~np.isnan(c["shortfall_bps"])]
    out = {"total_cash": cash, "avg_fill_px": avg, "shares": shares,
           "ordered": int(c["size"].sum()),
           "cleanup_shares": int(c["cleanup_shares"].sum()), "cleanup_cash": math.fsum(c["cleanup_cash"]),
           "fills": int(c["fills"].sum()), "fees": math.fsum(c["fees"]),
           "shortfall_bps_mean": float(math.fsum(sf) / max(sf.size, 1))}
    if int(c["unfilled"].sum()) > 0:
        cost = math.fsum(c["cost"])
        out.update(unfilled_shares=int(c["unfilled"].sum()), unfilled_cash=cost - cash, total_cost=cost)
    return out


def _cost_matrix(base_cols: dict, group_cols: dict, points: list[dict], groups: list[int]) -> CostMatrix:
    """The :class:`CostMatrix` straight from the assembled columns (equal to ``CostMatrix.from_table``)."""
    any_cols = next(iter(group_cols.values()))
    if not all(np.array_equal(c["order_id"], any_cols["order_id"]) and np.array_equal(c["day"], any_cols["day"])
               for c in (*group_cols.values(), *base_cols.values())):  # guaranteed by the task layout
        raise RuntimeError("search blocks do not share one parent-order sequence")
    order = np.lexsort((any_cols["order_id"], any_cols["day"], any_cols["arrival_ns"]))  # time order
    orders = pd.DataFrame({k: any_cols[k][order] for k in ("day", "order_id", "arrival_ns", "deadline_ns")})
    gs = sorted(group_cols)
    cost = np.stack([group_cols[g]["cost"][order] for g in gs])
    router = cost[np.searchsorted(gs, groups)]
    pts = pd.DataFrame({"point": np.arange(len(points), dtype=np.int64), "group": np.asarray(groups, np.int64),
                        **{k: np.array([p[k] for p in points], np.float64) for k in PARAMS}})
    return CostMatrix(orders, pts, router, {n: c["cost"][order] for n, c in base_cols.items()})


def _summarise(table: pd.DataFrame, base_cols: dict, group_cols: dict, points: list[dict], groups: list[int],
               space: SearchSpace, cfg: BacktestConfig, spec: DataSpec, stats: dict, seed: int) -> SearchResult:
    cm = _cost_matrix(base_cols, group_cols, points, groups)
    base_cost = {b: (math.fsum(c), math.fsum(np.abs(c))) for b, c in cm.baselines.items()}
    by_group: dict[int, dict] = {}  # grid points of one group share their rows: total them once
    for g, c in group_cols.items():
        by_group[g] = _totals(c)
        for b, (tb, ab) in base_cost.items():  # pooled saving (metrics.savings_from_cash): ΔΣcost / Σ|cost_B|
            by_group[g][f"savings_bps_{b}"] = (tb - comparable_cost(by_group[g])) / ab * 1e4
    rows = [{"point": i, "group": int(g), **{k: float(p[k]) for k in PARAMS}, **by_group[g]}
            for i, (p, g) in enumerate(zip(points, groups, strict=True))]
    grid = pd.DataFrame(rows)
    cash = np.array([comparable_cost(r) for r in rows])  # cash, + unfilled shares at the deadline mid
    best = int(np.argmin(cash))
    ties = int(np.isclose(cash, cash[best], rtol=0, atol=1e-6).sum())
    bt = {n: _totals(c) for n, c in base_cols.items()}
    intervals = {b: savings(cm.router[best], c, seed) for b, c in cm.baselines.items()}
    summary = {
        "best_parameters": cm.params(best),
        "best_point": best,
        "optimized": {k: v for k, v in rows[best].items() if k not in ("point", "group", *PARAMS)},
        "baselines": bt,
        "savings_vs_baselines_bps": {b: v["bps"] for b, v in intervals.items()},
        "savings_intervals": intervals,
        "grid_ties": ties,
        "space": {"name": space.name, "points": len(space), "distinct_routers": stats["distinct_routers"],
                  **space.description},
        "parent_orders": stats["parent_orders"],
        "days": stats["days"],
        "config": _cfg_dict(cfg),
        "data": spec.describe(),
        "stats": stats,
        "grid": rows,
    }
    summary["cleanup_check"] = cleanup_check(summary)  # the best point's clean-up share; no verdict above 50%
    summary["edges"] = point_edges(cm.points, best, cash)  # grid edges of the best point along axes that can matter
    return SearchResult(table=table, grid=grid, summary=summary, space=space, stats=stats, costs=cm)


def write_outputs(res: SearchResult, out: str | Path) -> dict[str, Path]:
    """``results.parquet`` (the per-order table), ``grid.csv`` and ``summary.json`` in ``out``.

    Each file is written atomically, and the three as one set: under an exclusive lock on ``out``
    (:func:`~sorlib._io.dir_lock`; a concurrent search waits for it) the old ``summary.json`` is removed
    first and the new one written last, carrying a ``run_id`` and the SHA-256 of the other two files. So
    two searches writing one folder never leave files of different runs side by side, and a run killed
    mid-write (or a full disk) leaves no ``summary.json``: the folder does not look complete.
    """
    import hashlib
    import uuid

    out = Path(out)
    buf = io.BytesIO()
    res.table.to_parquet(buf, index=False)
    parquet, grid = buf.getvalue(), res.grid.to_csv(index=False).encode()
    summary = dict(res.summary)
    summary["run"] = {"id": uuid.uuid4().hex, "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                      "sha256": {"results.parquet": hashlib.sha256(parquet).hexdigest(),
                                 "grid.csv": hashlib.sha256(grid).hexdigest()}}
    with dir_lock(out):
        try:
            (out / "summary.json").unlink(missing_ok=True)
        except OSError as e:
            raise output_error(out / "summary.json", e) from None
        paths = {"results": atomic_write_bytes(out / "results.parquet", parquet),
                 "grid": atomic_write_bytes(out / "grid.csv", grid),
                 "summary": atomic_write_json(out / "summary.json", summary)}
    res.summary["run"] = summary["run"]
    return paths
