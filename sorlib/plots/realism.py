"""Figures of the realism ladder (notebook 05): the table of :func:`sorlib.realism.realism_ladder` in, a
``go.Figure`` out. Layers on the x axis in ladder order (frozen tape, + latency, …, realistic)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..realism import LAYER_LABELS, strategy_name
from .colors import STRATEGY_COLORS, dodge, series_style
from .style import finish

__all__ = ["ROUTER_MODE_COLORS", "realism_children_figure", "realism_cost_figure", "realism_figures",
           "realism_savings_figure"]

#: The router's colour per mode (the baselines keep :data:`~sorlib.plots.colors.STRATEGY_COLORS`).
ROUTER_MODE_COLORS = {"spec": STRATEGY_COLORS["router"], "ck": STRATEGY_COLORS["ck"], "uncapped": "#b30059"}

def _layers(table: pd.DataFrame) -> list[str]:
    return [LAYER_LABELS.get(x, x) for x in dict.fromkeys(table["layer"])]


def _series(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame, str | None]]:
    """(name, rows in layer order, colour): the router of each mode, then each baseline once (the baselines do
    not depend on the router's mode: their rows are taken from the first mode)."""
    modes = list(dict.fromkeys(table["mode"]))
    out = []
    for m in modes:
        r = table[(table["mode"] == m) & (table["strategy"] == "router")]
        out.append((strategy_name("router", m), r, ROUTER_MODE_COLORS.get(m)))
    first = table[table["mode"] == modes[0]]
    for b in dict.fromkeys(first.loc[first["strategy"] != "router", "strategy"]):
        out.append((strategy_name(b, modes[0]), first[first["strategy"] == b], STRATEGY_COLORS.get(b)))
    return out


def realism_savings_figure(table: pd.DataFrame, title: str | None = None) -> go.Figure:
    """The router's saving against each baseline under each layer: mean per-order saving (bps; positive =
    router cheaper) with its bootstrap 95% interval, one panel per router mode."""
    modes = list(dict.fromkeys(table["mode"]))
    fig = make_subplots(rows=1, cols=len(modes), shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=[f"router: {m} mode" for m in modes])
    seen = set()
    for i, m in enumerate(modes, start=1):
        t = table[(table["mode"] == m) & (table["strategy"] != "router")]
        for b in dict.fromkeys(t["strategy"]):
            g = t[t["strategy"] == b]
            x = [LAYER_LABELS.get(v, v) for v in g["layer"]]
            mean = g["saving_mean_bps"].to_numpy(float)
            lo, hi = g["saving_lo_bps"].to_numpy(float), g["saving_hi_bps"].to_numpy(float)
            err = dict(type="data", symmetric=False, array=np.nan_to_num(hi - mean), arrayminus=np.nan_to_num(mean - lo))
            name = f"vs {strategy_name(b, m)}"
            fig.add_trace(go.Bar(x=x, y=mean, error_y=err, name=name, legendgroup=name, showlegend=name not in seen,
                                 marker_color=STRATEGY_COLORS.get(b),
                                 customdata=np.column_stack([g["saving_bps"].to_numpy(float), lo, hi]),
                                 hovertemplate=f"{m} router {name}<br>%{{x}}: mean %{{y:.2f}} bps per order "
                                 "(95%: %{customdata[1]:.2f} to %{customdata[2]:.2f}); pooled "
                                 "%{customdata[0]:.2f} bps<extra></extra>"), 1, i)
            seen.add(name)
        fig.add_hline(y=0, line_color="black", line_width=1, row=1, col=i)
        fig.update_xaxes(title_text="market layer", type="category", categoryorder="array",
                         categoryarray=_layers(table), row=1, col=i)
    n = int(table["orders"].iloc[0]) if len(table) else 0
    fig.update_yaxes(title_text="router's saving, bps (positive = router cheaper)", row=1, col=1)
    fig.update_layout(barmode="group", title=title or f"Router savings under each market layer (mean over {n} "
                      "orders, 95% bootstrap interval)")
    return finish(fig, height=460, legend="below")


def realism_cost_figure(table: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Implementation shortfall (mean per order, bps vs the arrival mid) of every strategy under each layer —
    the lowest marker is the cheapest strategy — and the impact each paid (bps per order)."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("implementation shortfall (mean per order)", "impact paid (mean per order)"))
    layers = _layers(table)
    series = _series(table)
    for i, (name, g, color) in enumerate(series):
        shown = [LAYER_LABELS.get(v, v) for v in g["layer"]]
        # numeric x, each series dodged a little: strategies of equal cost under a layer stay side by side
        x = [layers.index(v) + dodge(i, len(series)) for v in shown]
        line, marker = series_style(i)  # the widest line first, underneath
        for col, y in ((1, "shortfall_bps"), (2, "impact_bps")):
            fig.add_trace(go.Scatter(x=x, y=g[y], name=name, legendgroup=name, showlegend=col == 1,
                                     mode="lines+markers", line=dict(color=color, **line),
                                     marker=dict(color=color, **marker), customdata=shown,
                                     hovertemplate=f"{name}, %{{customdata}}: %{{y:.3f}} bps<extra></extra>"), 1, col)
    fig.update_xaxes(title_text="market layer", tickmode="array", tickvals=list(range(len(layers))), ticktext=layers,
                     range=[-0.5, len(layers) - 0.5], unifiedhovertitle_text="%{customdata}")
    fig.update_layout(hovermode="x unified")  # one hover lists every strategy under the layer
    fig.update_yaxes(title_text="shortfall vs arrival mid (bps)", row=1, col=1)
    fig.update_yaxes(title_text="impact paid (bps of notional)", row=1, col=2)
    fig.update_layout(title=title or "Cost of each strategy under each market layer (lower = cheaper)")
    return finish(fig, height=460, legend="below")


def realism_children_figure(table: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Child orders per parent order and mean child size (shares) of every strategy under each layer — does
    the router send fewer, larger child orders than the baselines?"""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=("child orders per parent order", "mean child order size"))
    for name, g, color in _series(table):
        x = [LAYER_LABELS.get(v, v) for v in g["layer"]]
        for col, y, unit in ((1, "children_per_order", "children/order"), (2, "mean_child_shares", "shares")):
            fig.add_trace(go.Bar(x=x, y=g[y], name=name, legendgroup=name, showlegend=col == 1, marker_color=color,
                                 hovertemplate=f"{name}<br>%{{x}}: %{{y:.1f}} {unit}<extra></extra>"), 1, col)
    fig.update_xaxes(title_text="market layer", type="category", categoryorder="array", categoryarray=_layers(table))
    fig.update_yaxes(title_text="child orders per parent order (count)", row=1, col=1)
    fig.update_yaxes(title_text="mean child order size (shares)", row=1, col=2)
    fig.update_layout(barmode="group", title=title or "Fewer, larger trades? Child orders under each market "
                      "layer (clean-up excluded)")
    return finish(fig, height=460, legend="below")


def realism_figures(table: pd.DataFrame, where: str = "") -> dict[str, go.Figure]:
    """The three figures of the ladder (``where``: appended to each title, e.g. ``" — IBM 2013-10-08"``)."""
    n = int(table["orders"].iloc[0]) if len(table) else 0
    return {"savings": realism_savings_figure(table, f"Router savings under each market layer (mean over {n} "
                                                     f"orders, 95% bootstrap interval){where}"),
            "cost": realism_cost_figure(table, f"Cost of each strategy under each market layer (lower = "
                                               f"cheaper){where}"),
            "children": realism_children_figure(table, "Fewer, larger trades? Child orders under each market "
                                                       f"layer (clean-up excluded){where}")}
