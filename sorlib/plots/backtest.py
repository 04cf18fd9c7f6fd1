"""Plotly figures of backtests (the notebooks and the CLI call these; each returns a ``go.Figure``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..engine.replay import KIND_CLEANUP, Execution
from ..metrics import strategy_label
from .colors import CLEANUP_COLOR, STRATEGY_COLORS, strategy_line, venue_colors
from .style import SHORT, finish, label, log_axis

#: Strategy colours (kept under this name for callers; the map lives in :mod:`sorlib.plots.colors`).
COLORS = STRATEGY_COLORS


def shown_name(name: str) -> str:
    """A strategy's name in figures: the baselines in words (``best_ask`` → Best Ask), the router as given."""
    return name if name.startswith("router") else strategy_label(name)


def _executions(result) -> dict[str, Execution]:
    return {"router": result.router, **result.baselines}


def cumulative_figure(result, order_id: int | None = None) -> go.Figure:
    """Cumulative shares and cash (USD) over time since arrival, per strategy, for one parent order
    (default: the first) — the clean-up shows as the final jump at the deadline."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        subplot_titles=("shares filled", "cash paid, fees included (USD)"))
    for name, ex in _executions(result).items():
        oid = ex.orders[0].order_id if order_id is None else order_id
        order = next(o for o in ex.orders if o.order_id == oid)
        f = ex.fills
        m = f.order_id == oid
        t = (f.ts[m] - order.arrival_ns) / 1e9
        o = np.argsort(t, kind="stable")
        x = np.concatenate([[0.0], t[o]])
        line = strategy_line(name)  # dash + width: coinciding lines (router and Best Ask) both stay visible
        name = shown_name(name)
        fig.add_trace(go.Scatter(x=x, y=np.concatenate([[0], np.cumsum(f.qty[m][o])]), name=name,
                                 mode="lines", line_shape="hv", line=line, legendgroup=name,
                                 hovertemplate="%{x:.1f} s: %{y:,.0f} shares<extra>" + name + "</extra>"), 1, 1)
        fig.add_trace(go.Scatter(x=x, y=np.concatenate([[0.0], np.cumsum(f.cash[m][o])]), name=name,
                                 mode="lines", line_shape="hv", line=line, legendgroup=name,
                                 showlegend=False,
                                 hovertemplate="%{x:.1f} s: %{y:,.2f} USD<extra>" + name + "</extra>"), 2, 1)
    fig.update_xaxes(title_text="time since arrival (seconds)", row=2, col=1)
    fig.update_yaxes(title_text="shares", tickformat="~s", row=1, col=1)
    fig.update_yaxes(title_text="USD", tickformat=",.0f", row=2, col=1)
    fig.update_layout(title="Parent order progress")
    return finish(fig, height=540)


def venue_split_figure(result, venue_names: dict[int, str] | None = None) -> go.Figure:
    """Shares bought per venue and strategy (stacked; clean-up shown as its own segment)."""
    venue_names = venue_names or {}
    execs = _executions(result)
    keys = [int(v) for v in np.unique(np.concatenate([e.fills.venue for e in execs.values()]))]
    colors = venue_colors(keys, venue_names)
    fig = go.Figure()
    for v in keys:
        ys = []
        for e in execs.values():
            m = (e.fills.venue == v) & (e.fills.kind != KIND_CLEANUP)
            ys.append(int(e.fills.qty[m].sum()))
        name = venue_names.get(v, str(v))
        fig.add_trace(go.Bar(x=[shown_name(n) for n in execs], y=ys, name=name, marker_color=colors[v],
                             hovertemplate="%{x}: %{y:,} shares on " + name + "<extra></extra>"))
    fig.add_trace(go.Bar(x=[shown_name(n) for n in execs], name="clean-up", marker_color=CLEANUP_COLOR,
                         y=[int(e.fills.qty[e.fills.kind == KIND_CLEANUP].sum()) for e in execs.values()],
                         hovertemplate="%{x}: %{y:,} shares in the clean-up<extra></extra>"))
    fig.update_layout(barmode="stack", title="Venue split: shares bought per venue", xaxis_title="strategy",
                      yaxis_title="shares bought", yaxis_tickformat="~s")
    return finish(fig, height=440)


def fill_size_figure(result) -> go.Figure:
    """Distribution of child fill sizes (clean-up excluded): fewer, larger fills vs many small ones."""
    fig = go.Figure()
    values = []
    for name, e in _executions(result).items():
        m = e.fills.kind != KIND_CLEANUP
        values.append(e.fills.qty[m])
        fig.add_trace(go.Box(y=e.fills.qty[m], name=f"{shown_name(name)} (n={int(m.sum())})",
                             marker_color=COLORS.get(name), boxmean=True))
    log_axis(fig, values, "y")
    fig.update_layout(title="Child fill sizes, clean-up excluded (log scale)", xaxis_title="strategy (fills)",
                      yaxis_title="fill size (shares)", showlegend=False)
    return finish(fig, height=440)


def savings_figure(results: dict) -> go.Figure:
    """Router savings vs each baseline (bps, pooled) with the bootstrap 95% interval of the per-order mean."""
    iv = results["savings_intervals"]
    names = list(iv)
    mean = [iv[n]["mean_bps"] for n in names]
    lo = [iv[n]["ci95"][0] for n in names]
    hi = [iv[n]["ci95"][1] for n in names]
    err = dict(type="data", symmetric=False,
               array=[h - m if np.isfinite(h) else 0 for h, m in zip(hi, mean, strict=True)],
               arrayminus=[m - lo_ if np.isfinite(lo_) else 0 for lo_, m in zip(lo, mean, strict=True)])
    fig = go.Figure(go.Bar(x=[shown_name(n) for n in names], y=mean, error_y=err, marker_color=[COLORS.get(n) for n in names],
                           name="savings", hovertemplate="vs %{x}: %{y:.2f} bps<extra></extra>"))
    fig.update_layout(title=f"Router savings vs each baseline (mean over {iv[names[0]]['orders']} orders, "
                      "95% bootstrap interval)", xaxis_title="baseline",
                      yaxis_title="savings, bps (positive = router cheaper)", showlegend=False)
    return finish(fig, height=420)


def grid_heatmap(grid, value: str = "total_cash") -> go.Figure:
    """Heatmaps of ``value`` over lambda_under × theta_queue, one panel per lambda_over."""
    los = sorted(grid["lambda_over"].unique())
    fig = make_subplots(rows=1, cols=len(los), subplot_titles=[f"λ_o = {v:g} USD/share" for v in los],
                        shared_yaxes=True)
    zmin, zmax = float(grid[value].min()), float(grid[value].max())
    for i, lo in enumerate(los, start=1):
        g = grid[grid["lambda_over"] == lo].pivot_table(index="theta_queue", columns="lambda_under", values=value)
        fig.add_trace(go.Heatmap(z=g.to_numpy(), x=[f"{c:g}" for c in g.columns], y=[f"{r:g}" for r in g.index],
                                 zmin=zmin, zmax=zmax, coloraxis="coloraxis", name=f"λ_o = {lo:g}",
                                 hovertemplate="λ_u = %{x} USD/share<br>θ = %{y} USD/share<br>"
                                 + label(value) + " = %{z:,.4g}<extra></extra>"), 1, i)
        fig.update_xaxes(title_text=SHORT["lambda_under"], type="category", row=1, col=i)
    fig.update_yaxes(title_text=SHORT["theta_queue"], type="category", row=1, col=1)
    fig.update_layout(title=f"{label(value)} over the parameter grid",
                      coloraxis={"colorscale": "Viridis", "colorbar": {"title": {"text": label(value)}}})
    return finish(fig, height=400)


def backtest_figures(result, venue_names: dict[int, str] | None = None) -> dict[str, go.Figure]:
    return {"cumulative": cumulative_figure(result), "venue_split": venue_split_figure(result, venue_names),
            "fill_sizes": fill_size_figure(result), "savings": savings_figure(result.results),
            "grid": grid_heatmap(result.grid)}


def write_backtest_plots(result, md=None, out_dir: str | Path = "plots") -> list[Path]:
    """Write each figure as self-contained offline HTML (plotly.js embedded), and PNG when a Chrome-based
    renderer (kaleido) works on this machine. Returns the written paths."""
    from .._io import atomic_write_text

    out = Path(out_dir)
    names = md.venue_names if md is not None else None
    paths = []
    png_ok = True
    for name, fig in backtest_figures(result, names).items():
        paths.append(atomic_write_text(out / f"{name}.html", fig.to_html(include_plotlyjs=True, full_html=True)))
        if png_ok:
            try:
                png = fig.to_image(format="png", width=1000, height=fig.layout.height or 450)
            except Exception:  # no kaleido/Chrome here: HTML only
                png_ok = False
            else:
                from .._io import atomic_write_bytes

                paths.append(atomic_write_bytes(out / f"{name}.png", png))
    return paths
