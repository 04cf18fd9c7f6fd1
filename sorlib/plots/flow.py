"""Figures of the desk's own orders (:mod:`sorlib.flow`): per-order shortfall of every strategy (and of the
real fills), and the router's savings per symbol with their intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..metrics import strategy_label
from .colors import series_color, strategy_color
from .style import finish

__all__ = ["order_shortfall_figure", "symbol_savings_figure"]

_REAL_COLOR = "#444444"


def _label(name: str) -> str:
    return "real fills" if name == "real" else strategy_label(name)


def order_shortfall_figure(rows: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Implementation shortfall (bps of the arrival notional; positive = cost for the order's side) of every
    order, one bar group per order (x: ``order_id side quantity``), one bar per strategy of ``rows``
    (:attr:`sorlib.flow.FlowResult.rows`; ``real`` = the desk's fills, when given)."""
    first = rows.drop_duplicates("order_id")
    names = {r.order_id: f"{r.order_id} {r.side} {int(r.quantity):,}" for r in first.itertuples()}
    fig = go.Figure()
    for i, (s, g) in enumerate(rows.groupby("strategy", sort=False)):
        color = _REAL_COLOR if s == "real" else strategy_color(s, i)
        fig.add_trace(go.Bar(x=[names[o] for o in g["order_id"]], y=g["shortfall_bps"], name=_label(s),
                             marker_color=color, customdata=np.c_[g["unfilled"].to_numpy(), g["symbol"].to_numpy()],
                             hovertemplate=f"{_label(s)}, " + "%{x} (%{customdata[1]}): %{y:.2f} bps, "
                                                               "%{customdata[0]:,} unfilled<extra></extra>"))
    fig.update_layout(barmode="group", title=title or "Implementation shortfall per order (unfilled shares at "
                      "the deadline mid)", xaxis_title="order (id, side, shares)",
                      yaxis_title="shortfall, bps of arrival notional (+ = cost)")
    fig.add_hline(y=0, line_color="#999", line_width=1)
    return finish(fig, height=460, legend="below")


def symbol_savings_figure(savings: dict, title: str | None = None) -> go.Figure:
    """The router's saving against each baseline (bps of the baseline's cost, :mod:`sorlib.metrics`; positive =
    better for the order's side) per symbol and in total, with the bootstrap 95% interval of the per-order mean
    (``savings``: :attr:`sorlib.flow.FlowResult.savings`)."""
    groups = [("all symbols", savings["total"]), *sorted(savings["by_symbol"].items())]
    if len(groups) == 2:  # one symbol: the total is the symbol
        groups = groups[1:]
    baselines = list(savings["total"])
    fig = go.Figure()
    for i, b in enumerate(baselines):
        bps = np.array([g[b]["bps"] for _, g in groups], float)
        mean = np.array([g[b]["mean_bps"] for _, g in groups], float)
        lo = np.array([g[b]["ci95"][0] for _, g in groups], float)
        hi = np.array([g[b]["ci95"][1] for _, g in groups], float)
        err = dict(type="data", symmetric=False, array=np.nan_to_num(hi - mean), arrayminus=np.nan_to_num(mean - lo))
        fig.add_trace(go.Bar(x=[n for n, _ in groups], y=mean, error_y=err, name=f"vs {strategy_label(b)}",
                             marker_color=strategy_color(b, i) or series_color(i), customdata=bps,
                             hovertemplate=f"vs {strategy_label(b)}, " + "%{x}: mean %{y:.2f} bps "
                                           "(pooled %{customdata:.2f})<extra></extra>"))
    fig.update_layout(barmode="group", title=title or "Router saving per symbol (mean per order, 95% bootstrap "
                      "interval)", xaxis_title="symbol", yaxis_title="saving, bps (+ = router better)")
    fig.add_hline(y=0, line_color="#999", line_width=1)
    return finish(fig, height=420, legend="below")
