"""What-if analysis behind the notebooks' sliders, comparison figures over many parent orders, and the
worked allocation example of notebook 02.

:class:`WhatIf` caches everything that does not depend on the router's parameters — the
:class:`~sorlib.engine.Book` (built once), the parent orders and the three baselines' executions (per
order size), their per-order tables — and on a slider move recomputes only the router's replay (itself
memoised per parameter point), then updates ``plotly`` ``FigureWidget`` s in place inside
``batch_update`` (one message per figure). On the default synthetic day with one order every 30 minutes
a move costs well under 200 ms (``benchmarks/bench_slider.py``).

Headless runs (papermill) never build widgets: :meth:`WhatIf.figures` returns static figures of the
same view; only :meth:`WhatIf.widget` needs ``ipywidgets`` and ``anywidget`` (plotly ≥ 6 FigureWidget).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .backtest import GRIDS, BacktestConfig, baselines, grid_points, parent_orders, router_for
from .data.market import NS_PER_SECOND, MarketData
from .engine.book import Book
from .engine.replay import KIND_CLEANUP, Execution, replay
from .errors import ConfigError
from .metrics import order_table, savings_from_cash, summary
from .plots.backtest import COLORS, fill_size_figure, savings_figure, venue_split_figure
from .plots.style import finish
from .strategies import ParentOrder
from .venues import VenueTable

DEFAULT_PARAMS = {"lambda_over": 5.0, "lambda_under": 0.05, "theta_queue": 0.05}


# ------------------------------------------------------------------------------------ comparison figures
def progress_figure(executions: dict[str, Execution], points: int = 121) -> go.Figure:
    """Mean over parent orders of the fraction filled and of the cost so far vs the arrival mid (bps of
    the order's notional at the mid), against seconds since arrival; the clean-up is the final jump."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("share of the order filled (mean over orders)",
                                        "cost so far vs arrival mid, bps of notional (mean over orders)"))
    for name, (x, filled, cost) in progress_curves(executions, points).items():
        color = COLORS.get(name)
        fig.add_trace(go.Scatter(x=x, y=filled, name=name, mode="lines", line_shape="hv", line_color=color,
                                 legendgroup=name), 1, 1)
        fig.add_trace(go.Scatter(x=x, y=cost, name=name, mode="lines", line_shape="hv", line_color=color,
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
    out = {}
    for name, ex in executions.items():
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
        out[name] = (x, cs[idx] / n, cc[idx] / n)
    return out


def fills_frame(executions: dict[str, Execution]) -> pd.DataFrame:
    """One row per strategy: fills (clean-up excluded), their mean/median size, clean-up shares and $,
    average all-in price ($/share), total cash ($) and mean implementation shortfall (bps)."""
    rows = {}
    for name, ex in executions.items():
        s = summary(ex)
        rows[name] = {"fills": s["fills"], "mean_fill_size": s["mean_fill_size"],
                      "median_fill_size": s["median_fill_size"],
                      "fills_per_order": s["fills"] / max(len(ex.orders), 1),
                      "cleanup_shares": s["cleanup_shares"], "cleanup_cash": s["cleanup_cash"],
                      "avg_fill_px": s["avg_fill_px"], "total_cash": s["total_cash"],
                      "shortfall_bps": s["shortfall_bps_mean"]}
    return pd.DataFrame.from_dict(rows, orient="index")


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
        lines.append(f"vs {name}: {verdict} — router {int(r['fills'])} fills of {r['mean_fill_size']:.0f} sh "
                     f"on average, {name} {int(b['fills'])} of {b['mean_fill_size']:.0f} sh "
                     f"({d_n:+.0f}% fills, {d_s:+.0f}% mean size)")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- what-if
@dataclass
class WhatIf:
    """The router vs the baselines on a fixed set of parent orders, for fast parameter what-ifs.

    Args:
        data: market data or a prebuilt :class:`Book` (the Book is built once and kept).
        order_size: default parent order size, shares.
        every_minutes: one parent order every N minutes (``None``: one order at the start).
        horizon_minutes: time each order has before its clean-up.
        mode: default router mode, ``"spec"`` or ``"uncapped"``.
        max_orders: keep at most this many parent orders (evenly spaced) — bounds the slider latency.
        seed: seed of the bootstrap intervals.
        venue_names: venue key → name for the figures (default: the data's names).
    """

    data: MarketData | Book
    order_size: int = 5000
    every_minutes: float | None = 30.0
    horizon_minutes: float = 10.0
    mode: str = "spec"
    max_orders: int | None = None
    venue_table: VenueTable | None = None
    seed: int = 0
    cache_size: int = 256
    params: dict = field(default_factory=lambda: dict(DEFAULT_PARAMS))
    venue_names: dict | None = None

    def __post_init__(self) -> None:
        self.book = self.data if isinstance(self.data, Book) else Book.from_market(self.data, self.venue_table)
        if self.venue_names is None:
            self.venue_names = {} if isinstance(self.data, Book) else dict(self.data.venue_names)
        self._orders: dict[int, list[ParentOrder]] = {}
        self._base: dict[int, dict[str, Execution]] = {}
        self._base_tables: dict[int, dict[str, pd.DataFrame]] = {}
        self._router: OrderedDict[tuple, tuple[Execution, pd.DataFrame]] = OrderedDict()
        self._widgets: dict[str, go.FigureWidget] = {}
        self._summary_widget = None
        self.last_ms: float = float("nan")
        BacktestConfig(order_size=int(self.order_size), mode=self.mode).validate()

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
            self._base_tables[size] = {n: order_table(e) for n, e in self._base[size].items()}
        return self._base[size]

    def router(self, lambda_over: float, lambda_under: float, theta_queue: float, order_size: int | None = None,
               mode: str | None = None) -> Execution:
        """The router's replay at one parameter point (memoised, LRU of ``cache_size`` points)."""
        return self._router_entry(lambda_over, lambda_under, theta_queue, order_size, mode)[0]

    def _router_entry(self, lo, lu, tq, size, mode) -> tuple[Execution, pd.DataFrame]:
        size, mode = int(size or self.order_size), mode or self.mode
        key = (float(lo), float(lu), float(tq), size, mode)
        hit = self._router.get(key)
        if hit is not None:
            self._router.move_to_end(key)
            return hit
        cfg = BacktestConfig(order_size=size, mode=mode)
        cfg.validate()
        ex = replay(self.book, router_for(cfg, dict(lambda_over=lo, lambda_under=lu, theta_queue=tq)),
                    self.orders(size))
        entry = (ex, order_table(ex))
        self._router[key] = entry
        if len(self._router) > self.cache_size:
            self._router.popitem(last=False)
        return entry

    # ---- one what-if
    def run(self, lambda_over: float | None = None, lambda_under: float | None = None,
            theta_queue: float | None = None, order_size: int | None = None,
            mode: str | None = None) -> SimpleNamespace:
        """Router vs baselines at one point → ``.router``, ``.baselines``, ``.executions`` and ``.results``
        (``savings_intervals`` per baseline, in bps). Missing arguments keep the current values."""
        p = self.params
        p.update({k: float(v) for k, v in (("lambda_over", lambda_over), ("lambda_under", lambda_under),
                                           ("theta_queue", theta_queue)) if v is not None})
        if order_size is not None:
            self.order_size = int(order_size)
        if mode is not None:
            self.mode = mode
        base = self.baselines(self.order_size)
        ex, table = self._router_entry(p["lambda_over"], p["lambda_under"], p["theta_queue"], self.order_size,
                                       self.mode)
        sav = {n: savings_from_cash(table["total_cash"], t["total_cash"], self.seed)
               for n, t in self._base_tables[self.order_size].items()}
        results = {"savings_intervals": sav, "savings_vs_baselines_bps": {n: s["bps"] for n, s in sav.items()},
                   "parameters": dict(p), "order_size": self.order_size, "mode": self.mode,
                   "parent_orders": len(ex.orders)}
        return SimpleNamespace(router=ex, baselines=base, executions={"router": ex, **base}, results=results)

    def describe(self) -> str:
        """One line saying which parent orders the view uses (shown in the widget)."""
        orders = self.orders()
        every = f"one every {self.every_minutes:g} min" if self.every_minutes else "one at the start"
        return (f"{len(orders)} parent orders ({every}, {self.horizon_minutes:g}-min horizon) of "
                f"{self.order_size:,} shares")

    def figures(self, **params) -> dict[str, go.Figure]:
        """Static figures of the view at ``params`` (headless runs, HTML reports)."""
        res = self.run(**params)
        return {"progress": progress_figure(res.executions),
                "venue_split": venue_split_figure(res, self.venue_names),
                "fill_sizes": fill_size_figure(res),
                "savings": savings_figure(res.results)}

    def summary_frame(self, **params) -> pd.DataFrame:
        """:func:`fills_frame` of the view plus the router's savings vs each strategy (bps, pooled)."""
        res = self.run(**params)
        df = fills_frame(res.executions)
        df["router_savings_bps"] = [np.nan] + [res.results["savings_vs_baselines_bps"][n] for n in df.index[1:]]
        return df

    # ---- live widgets
    def update(self, **params) -> float:
        """Recompute at ``params`` and update the live figures in place; returns the elapsed ms.

        Only trace data are sent (no figure is rebuilt): building plotly figures costs ~10x the replay.
        When the trace layout changes (e.g. a venue appears in the split) the figure is rebuilt once.
        """
        t = time.perf_counter()
        res = self.run(**params)
        if self._widgets:
            rebuild = None
            for name, traces in _trace_data(res).items():
                w = self._widgets.get(name)
                if w is None:
                    continue
                if len(traces) != len(w.data):
                    rebuild = rebuild or self.figures()
                    sync_widget(w, rebuild[name])
                    continue
                with w.batch_update():
                    for tr, props in zip(w.data, traces, strict=True):
                        tr.update(props)
                    if name == "savings":
                        w.layout.title.text = _savings_title(res.results)
        if self._summary_widget is not None:
            self.last_ms = (time.perf_counter() - t) * 1e3
            self._summary_widget.value = self._summary_html()
        self.last_ms = (time.perf_counter() - t) * 1e3
        return self.last_ms

    def _summary_html(self) -> str:
        df = self.summary_frame()
        fmt = {"mean_fill_size": "{:.0f}", "median_fill_size": "{:.0f}", "fills_per_order": "{:.1f}",
               "cleanup_cash": "{:,.0f}", "avg_fill_px": "{:.4f}", "total_cash": "{:,.0f}",
               "shortfall_bps": "{:.2f}", "router_savings_bps": "{:+.2f}"}
        df = df.copy()
        for c, f in fmt.items():
            df[c] = [f.format(v) if np.isfinite(v) else "" for v in df[c]]
        p = self.params
        head = (f"<b>{self.describe()}</b> — mode <code>{self.mode}</code>, lambda_over={p['lambda_over']:.4g}, "
                f"lambda_under={p['lambda_under']:.4g}, theta_queue={p['theta_queue']:.4g} "
                f"(recomputed in {self.last_ms:.0f} ms)")
        return f"<div>{head}</div>" + df.to_html(classes="sorlib-summary")

    def widget(self, **params):
        """Sliders (lambda_over, lambda_under, theta_queue on log scales; order size; mode) above live
        figures; every change re-runs the router replay only and redraws in place."""
        import ipywidgets as w

        try:
            figs = self.figures(**params)
            self._widgets = {n: go.FigureWidget(f) for n, f in figs.items()}
        except ImportError as e:  # plotly >= 6 needs anywidget for FigureWidget
            raise ConfigError(f"live figures need anywidget: pip install anywidget ({e})") from None
        p = self.params
        log = dict(base=10, min=-5, max=1.5, step=0.05, continuous_update=False, readout_format=".4g",
                   style={"description_width": "110px"}, layout=w.Layout(width="480px"))
        s_lo = w.FloatLogSlider(value=max(p["lambda_over"], 1e-5), description="lambda_over $/sh", **log)
        s_lu = w.FloatLogSlider(value=max(p["lambda_under"], 1e-5), description="lambda_under $/sh", **log)
        s_tq = w.FloatLogSlider(value=max(p["theta_queue"], 1e-5), description="theta_queue $/sh", **log)
        s_sz = w.IntSlider(value=self.order_size, min=100, max=20000, step=100, continuous_update=False,
                           description="order size sh", style={"description_width": "110px"},
                           layout=w.Layout(width="480px"))
        s_md = w.ToggleButtons(options=["spec", "uncapped"], value=self.mode, description="mode")
        self._summary_widget = w.HTML(self._summary_html())

        def on_change(_change) -> None:
            self.update(lambda_over=s_lo.value, lambda_under=s_lu.value, theta_queue=s_tq.value,
                        order_size=s_sz.value, mode=s_md.value)

        for s in (s_lo, s_lu, s_tq, s_sz, s_md):
            s.observe(on_change, names="value")
        note = w.HTML("<i>Interactive view: a subset of the parent orders (see the first line of the table) "
                      "so that a move redraws in well under 200 ms; the analysis above uses all of them. "
                      "In spec mode the three parameters cannot change anything (see the worked example).</i>")
        figs_box = w.VBox([self._widgets[n] for n in ("progress", "venue_split", "fill_sizes", "savings")])
        return w.VBox([note, w.HBox([w.VBox([s_lo, s_lu, s_tq]), w.VBox([s_sz, s_md])]), self._summary_widget,
                       figs_box])


def sync_widget(widget: go.FigureWidget, fig: go.Figure) -> None:
    """Copy ``fig``'s traces, title and meta into ``widget`` in one batch (same trace layout: data only)."""
    with widget.batch_update():
        same = len(widget.data) == len(fig.data) and all(
            a.type == b.type for a, b in zip(widget.data, fig.data, strict=True))
        if same:
            for a, b in zip(widget.data, fig.data, strict=True):
                props = b.to_plotly_json()
                props.pop("type", None)
                a.update(props, overwrite=True)
        else:  # e.g. a venue appears in the split: replace the traces
            widget.data = []
            widget.add_traces(list(fig.data))
        widget.layout.title = fig.layout.title
        widget.layout.meta = fig.layout.meta


def _savings_title(results: dict) -> str:
    iv = results["savings_intervals"]
    return f"Router savings vs baselines, bps (mean over {next(iter(iv.values()))['orders']} orders, 95% CI)"


def _trace_data(res) -> dict[str, list[dict]]:
    """The data props of every trace of :meth:`WhatIf.figures`, in trace order (same builders' logic)."""
    execs = res.executions
    prog = []
    for x, filled, cost in progress_curves(execs).values():
        prog += [{"x": x, "y": filled}, {"x": x, "y": cost}]
    keys = np.unique(np.concatenate([e.fills.venue for e in execs.values()]))
    split = []
    for v in keys:
        split.append({"y": [int(e.fills.qty[(e.fills.venue == v) & (e.fills.kind != KIND_CLEANUP)].sum())
                            for e in execs.values()]})
    split.append({"y": [int(e.fills.qty[e.fills.kind == KIND_CLEANUP].sum()) for e in execs.values()]})
    sizes = []
    for name, e in execs.items():
        m = e.fills.kind != KIND_CLEANUP
        sizes.append({"y": e.fills.qty[m], "name": f"{name} (n={int(m.sum())})"})
    iv = res.results["savings_intervals"]
    mean = np.array([iv[n]["mean_bps"] for n in iv])
    lo = np.array([iv[n]["ci95"][0] for n in iv])
    hi = np.array([iv[n]["ci95"][1] for n in iv])
    err = {"array": np.where(np.isfinite(hi), hi - mean, 0.0), "arrayminus": np.where(np.isfinite(lo), mean - lo, 0.0)}
    return {"progress": prog, "venue_split": split, "fill_sizes": sizes,
            "savings": [{"y": mean, "error_y": err}]}


# ------------------------------------------------------------------------------- the worked example
def example_venues():
    """Three venues of the worked example: a maker–taker, a low-fee and an inverted venue ($/share)."""
    from .allocation import Venue

    return [Venue(ask=100.00, ask_size=300, fee=0.0030, rebate=0.0020, name="A maker-taker"),
            Venue(ask=100.01, ask_size=400, fee=0.0009, rebate=0.0, name="B low-fee"),
            Venue(ask=100.01, ask_size=500, fee=-0.0005, rebate=-0.0010, name="C inverted")]


def example_venues_frame(venues=None) -> pd.DataFrame:
    """The worked example's venues as a table (ask and fees in $/share, size in shares)."""
    venues = venues or example_venues()
    return pd.DataFrame([{"venue": v.name, "ask": v.ask, "ask_size": v.ask_size, "fee": v.fee,
                          "rebate": v.rebate} for v in venues]).set_index("venue")


def allocation_example(order_size: int = 600, grid: str | dict = "penalty", mode: str = "spec",
                       venues=None) -> pd.DataFrame:
    """The allocator at every point of ``grid`` on :func:`example_venues`: split, cost, cash and the
    penalty part (cost − cash), $. ``mode="spec"`` uses the task's reference search
    (:func:`~sorlib.allocation.allocate_exhaustive`, checked against the fast :func:`allocate`);
    ``"uncapped"`` the fast solver with unexecuted shares priced at the best ask + fee."""
    from .allocation import allocate, allocate_exhaustive, compute_cost, reference_price

    venues = venues or example_venues()
    ref = reference_price(venues)
    rows = []
    for p in grid_points(grid):
        if mode == "spec":
            split, cost = allocate_exhaustive(order_size, venues, **p)
            fast, fcost = allocate(order_size, venues, **p)
            if split != fast or not (cost == fcost or (np.isinf(cost) and np.isinf(fcost))):
                raise AssertionError(f"fast solver differs from the reference at {p}")
            rp = 0.0
        else:
            split, cost = allocate(order_size, venues, **p, mode="uncapped", remainder_price=ref)
            rp = ref
        if split:
            cash = compute_cost(split, venues, order_size, 0.0, 0.0, 0.0)
            executed = sum(min(s, v.ask_size) for s, v in zip(split, venues, strict=True))
            # the remainder_price term is part of the model's cash estimate, not a penalty
            penalty = cost - cash - rp * max(order_size - executed, 0)
        else:
            cash, executed, penalty = float("nan"), 0, float("nan")
        rows.append({**p, "split": tuple(split) if split else "empty", "executed": executed,
                     "cost": cost, "cash": cash, "penalty": penalty})
    return pd.DataFrame(rows)


__all__ = ["DEFAULT_PARAMS", "GRIDS", "WhatIf", "allocation_example", "cleanup_frame", "example_venues", "example_venues_frame", "fewer_larger_verdict",
           "fills_frame", "progress_curves", "progress_figure"]
