"""The strategy-comparison what-if panel of notebooks 02 and 03: the router (mode ``ck``, ``uncapped`` or
``spec``) against Best Ask, TWAP and VWAP on a fixed sample of parent orders, with sliders.

:class:`WhatIf` caches everything that does not depend on the router's parameters — the
:class:`~sorlib.engine.Book` (built once; it also keeps each venue's Cont–Kukanov outflow event index),
the parent orders and the three baselines' executions (per order size) and their per-order tables — and on
a slider move replays only the router (memoised per parameter point; parameters that are inert in the
mode are left out of the memo key), updates only the traces that changed and sends the figures that
changed to the browser in one message (:mod:`._live`: one widget draws all the panel's figures). The
router is replayed per parent order, and an order whose recorded decisions the new point takes again is
reused as it is (:mod:`.order_cache`); while the panel is idle, the points the next key press probably
asks for are replayed in the background (:mod:`.prefetch`). A move sends its figures, status line and
summary table in one message (:mod:`._live` draws them); one that takes longer than
:data:`RECOMPUTING_AFTER_S` says "recomputing…" first; a move whose point was replayed while idle says so in
its status line.

Which parameters act, per mode (the panel disables the others and says why):

* ``spec``: none — the exact-sum split of the task's allocator never changes with the penalties;
* ``uncapped``: ``lambda_under`` and ``theta_queue``, only through their sum; ``lambda_over`` is inert
  (no split buys more than the order, so nothing is ever over-filled);
* ``ck``: all three (λ_o, λ_u, θ of Cont–Kukanov).

Headless runs (papermill) never build widgets: :meth:`WhatIf.figures` returns static figures of the
same view; only :meth:`WhatIf.widget` needs ``ipywidgets`` and ``anywidget``.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..backtest import BacktestConfig, baselines, parent_orders, router_for
from ..data.market import NS_PER_SECOND, MarketData
from ..engine.book import Book
from ..engine.replay import KIND_CLEANUP, Execution, replay
from ..errors import ConfigError
from ..metrics import order_table, savings_from_cash, summary
from ..plots.backtest import fill_size_figure, savings_figure, shown_name, venue_split_figure
from ..plots.colors import strategy_line
from ..plots.style import finish
from ..strategies import ParentOrder
from ..venues import VenueTable
from . import _widgets as ui
from .order_cache import OrderReplays
from .prefetch import Prefetcher, neighbour_stops

DEFAULT_PARAMS = {"lambda_over": 5.0, "lambda_under": 0.05, "theta_queue": 0.05}
PARAMS = ("lambda_over", "lambda_under", "theta_queue")
#: Modes of the panel's toggle, the default first.
MODES = ("ck", "uncapped", "spec")
DEFAULT_MODE = "ck"

#: Per mode: parameter → why it cannot change the result (the panel disables it and shows this).
INERT = {
    "spec": dict.fromkeys(PARAMS, "inert in spec mode: the exact-sum split ignores the penalties"),
    "uncapped": {"lambda_over": "inert in uncapped mode: nothing is ever over-filled"},
    "ck": {},
}
#: Per mode: notes on parameters that act, but not on their own.
NOTES = {"uncapped": dict.fromkeys(("lambda_under", "theta_queue"),
                                   "uncapped mode: acts only via lambda_under + theta_queue"),
         "ck": {"lambda_over": "ck mode: acts only where over-booking pays (lambda_over below a venue's "
                               "h + r); at many points moving it changes nothing"}}
FIGURES = ("progress", "venue_split", "fill_sizes", "savings")
#: Parent order sizes the panel's order-size slider offers (shares); the view's own size is added. The
#: baselines of every offered size are replayed when the panel is built, so a size move replays the router only.
ORDER_SIZES = (500, 1000, 2000, 3000, 5000, 7500, 10000, 15000, 20000)


#: Idle seconds after a move before the panel replays the next key press's likely points (the browser draws
#: the move first, on the same two cores).
PREFETCH_DELAY_S = 0.15
#: Once a browser has reported a redraw (:meth:`._live.LiveFigures.on_drawn`), a move's points start when it
#: says it has drawn and painted that move, or after this many seconds without that word (a slow browser).
PREFETCH_DRAWN_TIMEOUT_S = 0.5
#: A move that has not been drawn after this many seconds says "recomputing…" (a shorter one goes straight
#: to its result: one message, one redraw).
RECOMPUTING_AFTER_S = 0.1
#: A move waits at most this long for a running background replay to reach its next stopping point (one
#: decision of the router, or one order's check); the move then runs alone instead of sharing the interpreter.
PREEMPT_WAIT_S = 0.25


def router_name(mode: str) -> str:
    """The router's name in every figure and table of ``mode``: ``"router (ck)"``."""
    return f"router ({mode})"


# ------------------------------------------------------------------------------------ comparison figures
def progress_figure(executions: dict[str, Execution], points: int = 121) -> go.Figure:
    """Mean over parent orders of the fraction filled and of the cost so far vs the arrival mid (bps of
    the order's notional at the mid), against seconds since arrival; the clean-up is the final jump."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("share of the order filled (mean over orders)",
                                        "cost so far vs arrival mid, bps of notional (mean over orders)"))
    for name, (x, filled, cost) in progress_curves(executions, points).items():
        line = strategy_line(name)  # dash + width: coinciding lines (router and Best Ask, TWAP and VWAP) stay visible
        name = shown_name(name)
        fig.add_trace(go.Scatter(x=x, y=filled, name=name, mode="lines", line_shape="hv", line=line,
                                 legendgroup=name), 1, 1)
        fig.add_trace(go.Scatter(x=x, y=cost, name=name, mode="lines", line_shape="hv", line=line,
                                 legendgroup=name, showlegend=False), 2, 1)
    fig.update_yaxes(tickformat=".0%", title_text="filled (share of order)", row=1, col=1)
    fig.update_yaxes(title_text="cost vs arrival mid (bps)", row=2, col=1)
    fig.update_xaxes(title_text="time since arrival (seconds)", row=2, col=1)
    fig.update_layout(title="Cumulative fills and cost over time", template="plotly_white", margin=dict(t=70))
    return finish(fig, height=540)


def progress_curves(executions: dict[str, Execution], points: int = 121) -> dict[str, tuple]:
    """Per strategy: ``(seconds, mean share filled, mean cost vs arrival mid in bps)`` on a common grid."""
    horizon = max((o.deadline_ns - o.arrival_ns for e in executions.values() for o in e.orders), default=1)
    x = np.linspace(0.0, horizon / NS_PER_SECOND, points)
    return {name: (x, *_progress_curve(ex, x)) for name, ex in executions.items()}


def _progress_curve(ex: Execution, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = ex.fills
    ids = np.array([o.order_id for o in ex.orders], np.int64)
    arr = np.array([o.arrival_ns for o in ex.orders], np.int64)
    size = np.array([o.size for o in ex.orders], float)
    mid = np.asarray(ex.arrival_mid, float)
    pos = np.searchsorted(ids, f.order_id)
    rel = (f.ts - arr[pos]) / NS_PER_SECOND
    ok = np.isfinite(mid[pos])
    share = f.qty / size[pos]
    cost = np.where(ok, ((f.price + f.fee) - mid[pos]) * f.qty / (mid[pos] * size[pos]) * 1e4, 0.0)
    o = np.argsort(rel, kind="stable")
    idx = np.searchsorted(rel[o], x, side="right")
    n = max(len(ids), 1)
    cs = np.concatenate([[0.0], np.cumsum(share[o])])
    cc = np.concatenate([[0.0], np.cumsum(cost[o])])
    return cs[idx] / n, cc[idx] / n


def fills_frame(executions: dict[str, Execution]) -> pd.DataFrame:
    """One row per strategy: fills (clean-up excluded), their mean/median size, clean-up shares and $,
    average all-in price ($/share), total cash ($) and mean implementation shortfall (bps)."""
    return pd.DataFrame.from_dict({name: fills_row(ex) for name, ex in executions.items()}, orient="index")


def fills_row(ex: Execution) -> dict:
    """One row of :func:`fills_frame`."""
    s = summary(ex)
    return {"fills": s["fills"], "mean_fill_size": s["mean_fill_size"], "median_fill_size": s["median_fill_size"],
            "fills_per_order": s["fills"] / max(len(ex.orders), 1), "cleanup_shares": s["cleanup_shares"],
            "cleanup_cash": s["cleanup_cash"], "avg_fill_px": s["avg_fill_px"], "total_cash": s["total_cash"],
            "shortfall_bps": s["shortfall_bps_mean"]}


def cleanup_frame(executions: dict[str, Execution]) -> pd.DataFrame:
    """Per strategy: shares left for the clean-up market order, its cost ($) and share of all cash."""
    df = fills_frame(executions)[["cleanup_shares", "cleanup_cash", "total_cash"]].copy()
    df["cleanup_share_of_cash"] = df["cleanup_cash"] / df["total_cash"]
    return df


def fewer_larger_verdict(executions: dict[str, Execution], router: str = "router") -> str:
    """Whether the router really trades in fewer, larger fills than each baseline — computed, one line each."""
    df = fills_frame(executions)
    r = df.loc[router]
    lines = []
    for name in df.index:
        if name == router:
            continue
        b = df.loc[name]
        fewer = r["fills"] < b["fills"]
        larger = r["mean_fill_size"] > b["mean_fill_size"]
        verdict = "yes" if fewer and larger else "no"
        d_n = (r["fills"] / b["fills"] - 1) * 100 if b["fills"] else float("nan")
        d_s = (r["mean_fill_size"] / b["mean_fill_size"] - 1) * 100 if b["mean_fill_size"] else float("nan")
        shown = shown_name(name)
        lines.append(f"vs {shown}: {verdict} — router {int(r['fills']):,} fills of {r['mean_fill_size']:,.0f} shares "
                     f"on average, {shown} {int(b['fills']):,} of {b['mean_fill_size']:,.0f} shares "
                     f"({_cell('{:+.0f}', d_n)}% fills, {_cell('{:+.0f}', d_s)}% mean size)")
    return "\n".join(lines)


#: Columns of the panel's summary table: frame column → (header with unit, format).
_TABLE = {"fills": ("fills", "{:,.0f}"), "fills_per_order": ("fills / order", "{:.1f}"),
          "mean_fill_size": ("mean fill (shares)", "{:,.0f}"), "median_fill_size": ("median fill (shares)", "{:,.0f}"),
          "cleanup_shares": ("clean-up (shares)", "{:,.0f}"), "cleanup_cash": ("clean-up (USD)", "{:,.0f}"),
          "avg_fill_px": ("avg price (USD/share)", "{:.4f}"), "total_cash": ("total cash (USD)", "{:,.0f}"),
          "shortfall_bps": ("shortfall (bps)", "{:.2f}"), "router_savings_bps": ("router saves (bps)", "{:+.2f}")}


def _cell(spec: str, value: float) -> str:
    """``value`` formatted by ``spec``; "—" for n/a; a value that rounds to zero unsigned ("0.00", not "-0.00")."""
    if not np.isfinite(value):
        return "—"
    text = spec.format(value)
    return text.lstrip("+-") if not any(ch in "123456789" for ch in text) else text


def _table_html(df: pd.DataFrame) -> str:
    """A compact HTML table of :meth:`WhatIf.summary_frame` that fits a 1,000 px column ("—" for n/a)."""
    cols = [c for c in _TABLE if c in df.columns]
    th = "".join(f"<th style='padding:2px 6px;text-align:right'>{_TABLE[c][0]}</th>" for c in cols)
    rows = []
    for name, r in df.iterrows():
        cells = "".join(f"<td style='padding:2px 6px;text-align:right'>{_cell(_TABLE[c][1], r[c])}</td>" for c in cols)
        rows.append(f"<tr><th style='padding:2px 6px;text-align:left;white-space:nowrap'>{shown_name(name)}</th>"
                    f"{cells}</tr>")
    return ("<table class='sorlib-summary' style='font-size:12px;border-collapse:collapse;table-layout:auto'>"
            f"<thead><tr><th></th>{th}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


# ------------------------------------------------------------------------------------------- what-if
@dataclass
class WhatIf:
    """The router vs the baselines on a fixed set of parent orders, for fast parameter what-ifs.

    Args:
        data: market data or a prebuilt :class:`Book` (the Book is built once and kept).
        order_size: default parent order size, shares.
        every_minutes: one parent order every N minutes (``None``: one order at the start).
        horizon_minutes: time each order has before its clean-up.
        mode: router mode, ``"ck"`` (default), ``"uncapped"`` or ``"spec"``.
        max_orders: keep at most this many parent orders (evenly spaced) — bounds the slider latency.
        ck_horizon_seconds: T of the ``ck`` router (it re-decides every T seconds).
        prefetch: with sliders (:meth:`widget`), replay the points the next key press probably asks for while
            the panel is idle (:mod:`.prefetch`; a move there then replays nothing).
        seed: seed of the bootstrap intervals (and of the ``ck`` router's SA solver).
        venue_names: venue key → name for the figures (default: the data's names).
    """

    data: MarketData | Book
    order_size: int = 5000
    every_minutes: float | None = 30.0
    horizon_minutes: float = 10.0
    mode: str = DEFAULT_MODE
    max_orders: int | None = None
    venue_table: VenueTable | None = None
    seed: int = 0
    cache_size: int = 256
    params: dict = field(default_factory=lambda: dict(DEFAULT_PARAMS))
    venue_names: dict | None = None
    ck_horizon_seconds: float = 30.0
    prefetch: bool = True

    def __post_init__(self) -> None:
        self.book = self.data if isinstance(self.data, Book) else Book.from_market(self.data, self.venue_table)
        if self.venue_names is None:
            self.venue_names = {} if isinstance(self.data, Book) else dict(self.data.venue_names)
        self._check_mode(self.mode)
        self._orders: dict[int, list[ParentOrder]] = {}
        self._base: dict[int, dict[str, Execution]] = {}
        self._base_tables: dict[int, dict[str, pd.DataFrame]] = {}
        self._base_rows: dict[int, dict[str, dict]] = {}
        self._router: OrderedDict[tuple, tuple[Execution, pd.DataFrame, dict]] = OrderedDict()
        self._fixed: dict[tuple, tuple[Execution, pd.DataFrame, dict]] = {}  # parameter-free router replays
        self._per_order = OrderReplays(self.book)  # the router's replays per parent order
        self._prefetcher = Prefetcher()  # replays the next key press's points while idle (widget only)
        self._bg_keys: set = set()  # router points replayed by the prefetcher
        self._move: tuple[str, int] | None = None  # (slider, direction) of the last move
        self._last_prepared = False  # the last move found its point replayed while idle
        self._table: str | None = None  # the summary table's HTML as last shown
        self._widgets: dict[str, go.Figure] = {}  # what the live figures show, updated in place
        self._live = None  # the widget that draws them (sorlib.whatif._live.LiveFigures)
        self._shown: tuple | None = None  # (order size, venues of the split) the live figures show
        self._controls: dict = {}  # the parameter sliders (disabled when inert)
        self.controls: dict = {}
        self._reasons: dict = {}
        self.last_ms: float | None = None  # None until a move was timed: the status shows "—"
        self._config(self.order_size, self.mode).validate()

    @staticmethod
    def _check_mode(mode: str) -> None:
        if mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")

    def _config(self, size: int, mode: str) -> BacktestConfig:
        return BacktestConfig(order_size=int(size), mode=mode, ck_horizon_seconds=self.ck_horizon_seconds,
                              seed=self.seed)

    def order_sizes(self) -> list[int]:
        """The sizes the panel's order-size slider offers (:data:`ORDER_SIZES` and the view's own), shares."""
        return sorted({*ORDER_SIZES, int(self.order_size)})

    # ---- which parameters act
    @staticmethod
    def inert(mode: str) -> dict[str, str]:
        """Parameters that cannot change the result in ``mode`` → the reason (empty for ``ck``)."""
        return dict(INERT[mode])

    # ---- cached parts (independent of the router parameters)
    def orders(self, size: int | None = None) -> list[ParentOrder]:
        """The parent orders for ``size`` shares (cached)."""
        size = int(size or self.order_size)
        if size not in self._orders:
            orders = parent_orders(self.book, size, self.every_minutes, self.horizon_minutes)
            if self.max_orders is not None and len(orders) > self.max_orders:
                keep = np.unique(np.linspace(0, len(orders) - 1, self.max_orders).round().astype(int))
                orders = [orders[i] for i in keep]
            self._orders[size] = orders
        return self._orders[size]

    def baselines(self, size: int | None = None) -> dict[str, Execution]:
        """Best Ask, TWAP and VWAP on :meth:`orders` (cached per order size)."""
        size = int(size or self.order_size)
        if size not in self._base:
            orders = self.orders(size)
            self._base[size] = {n: replay(self.book, s, orders) for n, s in baselines(BacktestConfig()).items()}
            self._base_tables[size] = {n: order_table(e, self.book) for n, e in self._base[size].items()}
            self._base_rows[size] = {n: fills_row(e) for n, e in self._base[size].items()}
        return self._base[size]

    def router(self, lambda_over: float, lambda_under: float, theta_queue: float, order_size: int | None = None,
               mode: str | None = None) -> Execution:
        """The router's replay at one parameter point (memoised, LRU of ``cache_size`` points; in a mode where
        every parameter is inert (spec) the replay depends on the order size only and is kept like the
        baselines')."""
        return self._router_entry(lambda_over, lambda_under, theta_queue, order_size, mode)[0]

    def _key(self, lo, lu, tq, size, mode) -> tuple[tuple, dict, bool]:
        """``(memo key, parameter values, fixed)`` of a router point: inert parameters left out of the key;
        ``fixed``: every parameter is inert in ``mode`` (the replay depends on the order size only)."""
        values = {"lambda_over": float(lo), "lambda_under": float(lu), "theta_queue": float(tq)}
        inert = INERT[mode]
        key = (mode, int(size), *(None if p in inert else values[p] for p in PARAMS))
        return key, values, set(inert) >= set(PARAMS)

    def _cached(self, lo, lu, tq, size, mode) -> bool:
        """Whether the router's replay at this point is memoised (a move there replays nothing)."""
        key, _, fixed = self._key(lo, lu, tq, size, mode)
        return key in (self._fixed if fixed else self._router)

    def _router_entry(self, lo, lu, tq, size, mode, stop=None) -> tuple[Execution, pd.DataFrame, dict] | None:
        """The router's replay at one point with its order table and fills row (memoised); None only when
        ``stop()`` (a background job's) turned true before it was complete. A memo hit takes no lock (a
        prefetch job may be running); a replay runs with the prefetcher's lock held."""
        size, mode = int(size or self.order_size), mode or self.mode
        self._check_mode(mode)
        key, values, fixed = self._key(lo, lu, tq, size, mode)
        hit = self._hit(key, fixed)
        if hit is not None:
            return hit
        with self._prefetcher.lock:
            return self._hit(key, fixed) or self._replay_router(key, values, fixed, size, mode, stop)

    def _hit(self, key: tuple, fixed: bool):
        hit = (self._fixed if fixed else self._router).get(key)
        if hit is not None and not fixed:
            with contextlib.suppress(KeyError):  # evicted meanwhile by a prefetch job: still a valid entry
                self._router.move_to_end(key)
        return hit

    def _replay_router(self, key, values, fixed, size, mode, stop):
        cfg = self._config(size, mode)
        cfg.validate()
        if fixed:
            ex = replay(self.book, router_for(cfg, values), self.orders(size))
        else:  # per order: reused where the new point decides alike (sorlib.whatif.order_cache)
            ex = self._per_order.get((mode, size), key, lambda: router_for(cfg, values), self.orders(size), stop)
            if ex is None:
                return None
        entry = (ex, order_table(ex, self.book), fills_row(ex))
        if fixed:
            self._fixed[key] = entry
            return entry
        self._router[key] = entry
        if len(self._router) > self.cache_size:
            self._router.popitem(last=False)
        return entry

    # ---- one what-if
    def run(self, lambda_over: float | None = None, lambda_under: float | None = None,
            theta_queue: float | None = None, order_size: int | None = None,
            mode: str | None = None) -> SimpleNamespace:
        """Router vs baselines at one point → ``.router``, ``.baselines``, ``.executions`` and ``.results``
        (``savings_intervals`` per baseline, in bps). Missing arguments keep the current values. Pending
        prefetch jobs are dropped and a running one stops at its next decision."""
        self._prefetcher.preempt()
        return self._run(lambda_over, lambda_under, theta_queue, order_size, mode)

    def _run(self, lambda_over, lambda_under, theta_queue, order_size, mode) -> SimpleNamespace:
        if mode is not None:
            self._check_mode(mode)
            self.mode = mode
        p = self.params
        p.update({k: ui.slider_value(v) for k, v in (("lambda_over", lambda_over), ("lambda_under", lambda_under),
                                        ("theta_queue", theta_queue)) if v is not None})
        if order_size is not None:
            self.order_size = int(order_size)
        base = self.baselines(self.order_size)
        ex, table, row = self._router_entry(p["lambda_over"], p["lambda_under"], p["theta_queue"],
                                            self.order_size, self.mode)
        sav = {n: savings_from_cash(table["cost"], t["cost"], self.seed)  # unfilled shares at the deadline mid
               for n, t in self._base_tables[self.order_size].items()}
        results = {"savings_intervals": sav, "savings_vs_baselines_bps": {n: s["bps"] for n, s in sav.items()},
                   "parameters": dict(p), "order_size": self.order_size, "mode": self.mode,
                   "inert_parameters": sorted(INERT[self.mode]), "parent_orders": len(ex.orders)}
        rows = {"router": row, **self._base_rows[self.order_size]}
        return SimpleNamespace(router=ex, baselines=base, executions={"router": ex, **base}, results=results,
                               rows=rows)

    def describe(self) -> str:
        """One line saying which parent orders the view uses (shown in the widget)."""
        orders = self.orders()
        every = f"one every {self.every_minutes:g} min" if self.every_minutes else "one at the start"
        return (f"{len(orders)} parent orders ({every}, {self.horizon_minutes:g}-min horizon) of "
                f"{self.order_size:,} shares")

    def titles(self, results: dict) -> dict[str, str]:
        """The figures' titles, each naming the router's mode."""
        m = results["mode"]
        iv = results["savings_intervals"]
        return {"progress": f"Cumulative fills and cost over time — router in {m} mode",
                "venue_split": f"Venue split: shares bought per venue — router in {m} mode",
                "fill_sizes": f"Child fill sizes, clean-up excluded (log scale) — router in {m} mode",
                "savings": f"Router ({m} mode) savings vs each baseline, bps "
                           f"(mean over {next(iter(iv.values()))['orders']} orders, 95% interval)"}

    def figures(self, **params) -> dict[str, go.Figure]:
        """Static figures of the view at ``params`` (headless runs, HTML reports); the router is named
        with its mode (``router (ck)``) in every legend, axis and title."""
        res = self.run(**params)
        figs = {"progress": progress_figure(res.executions),
                "venue_split": venue_split_figure(res, self.venue_names),
                "fill_sizes": fill_size_figure(res),
                "savings": savings_figure(res.results)}
        label = router_name(self.mode)
        for name, fig in figs.items():
            fig.layout.title.text = self.titles(res.results)[name]
            for tr in fig.data:
                if tr.name == "router":
                    tr.name = label
                elif isinstance(tr.name, str) and tr.name.startswith("router ("):
                    tr.name = label + tr.name[len("router"):]
                if name == "venue_split":
                    tr.x = [label if x == "router" else x for x in tr.x]
        return figs

    def summary_frame(self, **params) -> pd.DataFrame:
        """:func:`fills_frame` of the view plus the router's savings vs each strategy (bps, pooled); the
        router's row is named with its mode."""
        return self._summary(self.run(**params))

    def _summary(self, res) -> pd.DataFrame:
        df = pd.DataFrame.from_dict(res.rows, orient="index")
        df["router_savings_bps"] = [np.nan] + [res.results["savings_vs_baselines_bps"][n] for n in df.index[1:]]
        return df.rename(index={"router": router_name(res.results["mode"])})

    # ---- live widgets
    def update(self, **params) -> float:
        """Recompute at ``params`` and update the live figures in place; returns the elapsed ms.

        Only what changed is sent: the router's traces, the split's bars and the savings (the baselines'
        traces stay, unless the order size changed); a new trace layout (a venue appears in the split)
        rebuilds that figure once.
        """
        with ui.Timer() as t:
            self._prefetcher.preempt(PREEMPT_WAIT_S)  # a background replay stops first (it would share the GIL)
            ready = self._will_hit(params)
            busy = self._summary_html(self._table, recomputing=True) if self._live is not None else ""
            with ui.recomputing(self._live, busy, RECOMPUTING_AFTER_S):  # said only if the move is long
                res = self._run(**{k: params.get(k) for k in (*PARAMS, "order_size", "mode")})
                changed = self._redraw(res) if self._widgets else []
                self._show_reasons()
                self._table = _table_html(self._summary(res))
                specs = self._live.encode(self._widgets, changed) if self._live is not None else {}
        self.last_ms = t.ms
        self._last_prepared = ready and self._key_of(params) in self._bg_keys
        if self._live is not None:  # one message: the changed figures, the status line and the table
            self._live.push(specs, self._summary_html(self._table))
        self._prefetch()
        return self.last_ms

    def _point(self, params: dict) -> tuple:
        """``(lambda_over, lambda_under, theta_queue, order size, mode)`` a move to ``params`` asks for."""
        p = {**self.params, **{k: ui.slider_value(v) for k, v in params.items() if k in PARAMS and v is not None}}
        return (p["lambda_over"], p["lambda_under"], p["theta_queue"], int(params.get("order_size") or self.order_size),
                params.get("mode") or self.mode)

    def _key_of(self, params: dict) -> tuple:
        return self._key(*self._point(params))[0]

    def _will_hit(self, params: dict) -> bool:
        """Whether the router's replay at the point ``params`` moves to is memoised already."""
        return self._cached(*self._point(params))

    # ---- the next key press's points, replayed while idle (sorlib.whatif.prefetch)
    def _prefetch(self, delay_s: float | None = None) -> None:
        """Queue the points the next key press probably asks for (a panel with sliders, ``prefetch`` on), to
        start after ``delay_s`` seconds (None: :data:`PREFETCH_DRAWN_TIMEOUT_S` once a browser reports its
        redraws, which then starts them, else :data:`PREFETCH_DELAY_S`)."""
        if self.prefetch and self._controls:
            if delay_s is None:
                reports = self._live is not None and self._live.drawn_reports > 0
                delay_s = PREFETCH_DRAWN_TIMEOUT_S if reports else PREFETCH_DELAY_S
            self._prefetcher.schedule([self._job(params) for params in self._next_points()], delay_s)

    def _job(self, params: dict):
        point = self._point(params)  # the point as of now (the panel's parameters may move on)

        def job(stop) -> None:
            if not self._cached(*point) and self._router_entry(*point, stop=stop) is not None:
                self._bg_keys.add(self._key(*point)[0])
        return job

    def _next_points(self, limit: int = 12, ahead: int = 3) -> list[dict]:
        """Likely next points, most likely first: the slider moved last one stop further the same way, the next
        slider of the panel one stop up (a user going down the panel), the slider moved last two … ``ahead``
        stops further, then one stop back, then every
        live slider one stop either way. A penalty slider's stop is its exponent snapped to the slider's step
        grid (as a key press moves it); order size: the next size offered."""
        names = [n for n in (*PARAMS, "order_size") if n not in INERT[self.mode]]
        order: list[tuple[str, int]] = []
        if self._move is not None and self._move[0] in names:
            name, sign = self._move
            after = names[(names.index(name) + 1) % len(names)]
            order += [(name, sign), (after, +1), *((name, sign * i) for i in range(2, ahead + 1)), (name, -sign)]
        order += [(n, s) for s in (+1, -1) for n in names]
        return [{name: value} for name, value in neighbour_stops(order, self._stop)][:limit]

    def _stop(self, name: str, steps: int):
        """The value ``|steps|`` key presses move slider ``name`` to (``steps`` > 0: right); None past its end."""
        c = self.controls.get(name)
        if c is None:
            return None
        if name == "order_size":
            sizes = self.order_sizes()
            i = sizes.index(int(self.order_size)) + steps
            return sizes[i] if 0 <= i < len(sizes) else None
        return ui.log_stop(c, c.value, steps)

    def _redraw(self, res) -> list[str]:
        """Update the live figures' copies in place to ``res``; the names of the figures that changed."""
        data = _trace_data(res, router_name(self.mode))
        split_venues = len(data["venue_split"])
        same_base = self._shown == (self.order_size, split_venues)
        titles = self.titles(res.results)
        rebuild, changed = None, []
        for name in FIGURES:
            w = self._widgets.get(name)
            if w is None:
                continue
            traces = data[name]
            if len(traces) != len(w.data):
                rebuild = rebuild or self.figures()
                ui.sync_widget(w, rebuild[name])
                changed.append(name)
                continue
            if same_base and name in ("progress", "fill_sizes"):  # the baselines' traces did not change
                traces = traces[:2] if name == "progress" else traces[:1]
            if ui.restyle(w, dict(enumerate(traces)), titles[name]):
                changed.append(name)
        self._shown = (self.order_size, split_venues)
        return changed

    def _summary_html(self, table: str | None = None, recomputing: bool = False) -> str:
        p = self.params
        inert = INERT[self.mode]
        vals = ", ".join(f"{k} = {p[k]:.4g}" + (" (inert)" if k in inert else "") for k in PARAMS)
        head = (f"<b>{self.describe()}</b> — router in <b>{self.mode}</b> mode: {vals} USD/share")
        status = (ui.recomputing_html(head) if recomputing else
                  ui.status_html(head, self.last_ms, "replayed while idle" if self._last_prepared else None))
        return status + (table or _table_html(self.summary_frame()))

    def _show_reasons(self) -> None:
        if self._controls:
            ui.set_reasons(self._controls, self._reasons, INERT[self.mode], NOTES.get(self.mode, {}))

    def _replay_sizes(self) -> None:
        """Replay what does not depend on the penalty sliders at every order size the panel offers, once: the
        baselines, and the router in each mode whose parameters are all inert (spec). A size move then
        replays the router only (and in spec mode nothing)."""
        p = self.params
        for size in self.order_sizes():
            self.baselines(size)
            for mode in MODES:
                if set(INERT[mode]) >= set(PARAMS):
                    self._router_entry(p["lambda_over"], p["lambda_under"], p["theta_queue"], size, mode)

    def widget(self, **params):
        """Sliders (lambda_over, lambda_under, theta_queue on log scales in USD/share, order size in shares,
        mode toggle ck / uncapped / spec) above live figures; a mode's inert sliders are disabled with the
        reason beside them; every change replays the router only and redraws in place."""
        import ipywidgets as w

        figs = self.figures(**params)
        self._widgets, self._live = ui.live_figures(figs)
        self._shown = (self.order_size, len(figs["venue_split"].data))
        p = self.params
        c = {name: ui.log_slider(f"{name} (USD/share)", max(p[name], 1e-5), 1e-5, 10 ** 1.5) for name in PARAMS}
        self._replay_sizes()
        c["order_size"] = ui.slider("SelectionSlider", "order size (shares)", int(self.order_size),
                                    options=[(f"{v:,}", v) for v in self.order_sizes()])
        mode = w.ToggleButtons(options=list(MODES), value=self.mode, style={"button_width": "90px"},
                               tooltips=["Cont–Kukanov: market + limit orders", "uncapped allocator",
                                         "the task's exact-sum allocator"])
        self.controls = {**c, "mode": mode}  # every control of the panel, by name
        self._controls = {n: c[n] for n in PARAMS}
        self._reasons = {n: ui.reason_label() for n in PARAMS}
        self._show_reasons()
        self._table = _table_html(self.summary_frame())
        self._live.status = self._summary_html(self._table)  # the status line and table, above the figures
        self._live.on_drawn(lambda: self._prefetch(0.0))  # the browser has drawn the move: prefetch now

        def on_change(change) -> None:
            name = next((n for n, x in c.items() if x is change["owner"]), None)
            if name is not None and isinstance(change["new"], int | float) and change["new"] != change["old"]:
                self._move = (name, 1 if change["new"] > change["old"] else -1)
            self.update(lambda_over=c["lambda_over"].value, lambda_under=c["lambda_under"].value,
                        theta_queue=c["theta_queue"].value, order_size=c["order_size"].value, mode=mode.value)

        ui.align(c.values())
        for control in [*c.values(), mode]:
            control.observe(on_change, names="value")
        self._prefetch()
        rows = [ui.param_row(ui.labelled("router mode", mode, c["lambda_over"])),
                *(ui.param_row(c[n], self._reasons[n]) for n in PARAMS), ui.param_row(c["order_size"])]
        note = ("Interactive view: a sample of the parent orders (first line of the table); the analysis above "
                "uses all of them. A move replays the router only and redraws what changed.")
        return ui.panel(rows, None, self._live, note)


def _trace_data(res, label: str = "router") -> dict[str, list[dict]]:
    """The data props of every trace of :meth:`WhatIf.figures`, in trace order (same builders' logic)."""
    execs = res.executions
    names = [label if n == "router" else shown_name(n) for n in execs]
    prog = []
    for x, filled, cost in progress_curves(execs).values():
        prog += [{"x": x, "y": filled}, {"x": x, "y": cost}]
    prog[0]["name"] = prog[1]["name"] = label
    keys = np.unique(np.concatenate([e.fills.venue for e in execs.values()]))
    split = []
    for v in keys:
        split.append({"x": names, "y": [int(e.fills.qty[(e.fills.venue == v) & (e.fills.kind != KIND_CLEANUP)].sum())
                                        for e in execs.values()]})
    split.append({"x": names, "y": [int(e.fills.qty[e.fills.kind == KIND_CLEANUP].sum()) for e in execs.values()]})
    sizes = []
    for name, e in zip(names, execs.values(), strict=True):
        m = e.fills.kind != KIND_CLEANUP
        sizes.append({"y": e.fills.qty[m], "name": f"{name} (n={int(m.sum())})"})
    iv = res.results["savings_intervals"]
    mean = np.array([iv[n]["mean_bps"] for n in iv])
    lo = np.array([iv[n]["ci95"][0] for n in iv])
    hi = np.array([iv[n]["ci95"][1] for n in iv])
    err = {"array": np.where(np.isfinite(hi), hi - mean, 0.0), "arrayminus": np.where(np.isfinite(lo), mean - lo, 0.0)}
    return {"progress": prog, "venue_split": split, "fill_sizes": sizes,
            "savings": [{"y": mean, "error_y": err}]}


__all__ = ["DEFAULT_MODE", "DEFAULT_PARAMS", "FIGURES", "INERT", "MODES", "NOTES", "ORDER_SIZES", "PARAMS", "WhatIf",
           "cleanup_frame", "fewer_larger_verdict", "fills_frame", "fills_row", "progress_curves", "progress_figure",
           "router_name"]
