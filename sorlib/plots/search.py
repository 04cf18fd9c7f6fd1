"""Figures of a parameter search (notebook 03): cost over a grid, parallel coordinates, sensitivity.

The input is a grid table — one row per parameter combination with the columns ``lambda_over``,
``lambda_under``, ``theta_queue`` ($/share) and metrics such as ``total_cash`` ($), as in
``BacktestResult.grid``. :func:`add_relative_cost` adds ``cost_vs_best_bps``, the cost of each point
above the grid's best, in bps — the quantity the figures show by default (0 everywhere = the grid ties).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .style import SHORT, finish
from .style import label as axis_label

PARAMS = ("lambda_over", "lambda_under", "theta_queue")


def add_relative_cost(grid: pd.DataFrame, value: str = "total_cash") -> pd.DataFrame:
    """A copy of ``grid`` with ``cost_vs_best_bps`` = (value / min(value) − 1) × 10⁴."""
    g = grid.copy()
    best = float(g[value].min())
    g["cost_vs_best_bps"] = (g[value] / best - 1.0) * 1e4 if best else np.nan
    return g


def best_rows(grid: pd.DataFrame, value: str = "total_cash", n: int = 5) -> pd.DataFrame:
    """The ``n`` cheapest grid points (stable: ties keep grid order), with the tie count in ``ties``."""
    g = add_relative_cost(grid, value)
    g["ties"] = int(np.isclose(g[value], g[value].min(), rtol=0, atol=1e-6).sum())
    return g.sort_values(value, kind="stable").head(n)


def cost_heatmap(grid: pd.DataFrame, value: str = "cost_vs_best_bps", title: str | None = None) -> go.Figure:
    """Heatmaps of ``value`` over lambda_under × theta_queue, one panel per lambda_over value."""
    g = add_relative_cost(grid) if value == "cost_vs_best_bps" and value not in grid else grid
    los = sorted(g["lambda_over"].unique())
    fig = make_subplots(rows=1, cols=len(los), subplot_titles=[f"λ_o = {v:g} USD/share" for v in los],
                        shared_yaxes=True, horizontal_spacing=0.04)
    zmin, zmax = float(g[value].min()), float(g[value].max())
    if zmax - zmin < 1e-9:  # a tie everywhere: keep the colour scale readable
        zmax = zmin + 1e-6
    for i, lo in enumerate(los, start=1):
        p = g[g["lambda_over"] == lo].pivot_table(index="theta_queue", columns="lambda_under", values=value)
        z = p.to_numpy()
        fig.add_trace(go.Heatmap(z=z, x=[f"{c:g}" for c in p.columns], y=[f"{r:g}" for r in p.index],
                                 zmin=zmin, zmax=zmax, coloraxis="coloraxis",
                                 text=np.vectorize(lambda x: f"{x:.3g}")(z), texttemplate="%{text}",
                                 name=f"λ_o = {lo:g}",
                                 hovertemplate="λ_o = " + f"{lo:g}" + " USD/share<br>λ_u = %{x} USD/share<br>"
                                 "θ = %{y} USD/share<br>" + axis_label(value) + " = %{z:.4g}<extra></extra>"), 1, i)
        fig.update_xaxes(title_text=SHORT["lambda_under"], type="category", row=1, col=i)
    fig.update_yaxes(title_text=SHORT["theta_queue"], type="category", row=1, col=1)
    fig.update_layout(title=title or f"{axis_label(value)} over the grid",
                      coloraxis={"colorscale": "Viridis", "colorbar": {"title": {"text": axis_label(value)}}})
    return finish(fig, height=380)


def parallel_coordinates(grid: pd.DataFrame, value: str = "cost_vs_best_bps", title: str | None = None) -> go.Figure:
    """One line per grid point through the three parameters (log10 axes) and ``value`` (colour too)."""
    g = add_relative_cost(grid) if value == "cost_vs_best_bps" and value not in grid else grid
    dims = []
    for p in PARAMS:
        vals = g[p].to_numpy(float)
        lv = np.log10(np.where(vals > 0, vals, np.nan))
        uniq = np.unique(vals)
        dims.append(dict(label=f"{SHORT[p]}, log scale", values=np.nan_to_num(lv, nan=-9.0),
                         tickvals=[np.log10(u) if u > 0 else -9.0 for u in uniq],
                         ticktext=[f"{u:g}" for u in uniq]))
    v = g[value].to_numpy(float)
    dims.append(dict(label=axis_label(value), values=v))
    rng = (float(v.min()), float(v.max()) if v.max() > v.min() else float(v.min()) + 1e-6)
    fig = go.Figure(go.Parcoords(dimensions=dims, line=dict(color=v, colorscale="Viridis", cmin=rng[0],
                                                           cmax=rng[1], showscale=True,
                                                           colorbar=dict(title=dict(text=axis_label(value))))))
    fig.update_layout(title=title or f"Grid points: parameters and {axis_label(value)}")
    fig = finish(fig, height=400)
    fig.update_layout(margin=dict(l=80, r=80, t=110, b=40))  # room for the axis labels above the lines
    return fig


def sensitivity_frame(grid: pd.DataFrame, value: str = "cost_vs_best_bps") -> pd.DataFrame:
    """Per parameter and value: mean, min and max of ``value`` over the other parameters, and the
    parameter's range effect (max − min of the means), the figure of merit of its sensitivity."""
    g = add_relative_cost(grid) if value == "cost_vs_best_bps" and value not in grid else grid
    rows = []
    for p in PARAMS:
        s = g.groupby(p)[value].agg(["mean", "min", "max"]).reset_index().rename(columns={p: "value"})
        s.insert(0, "parameter", p)
        s["effect"] = float(s["mean"].max() - s["mean"].min())
        rows.append(s)
    return pd.concat(rows, ignore_index=True)


def sensitivity_figure(grid: pd.DataFrame, value: str = "cost_vs_best_bps", title: str | None = None) -> go.Figure:
    """For each parameter: ``value`` averaged over the other two (line) and its min–max range (band)."""
    s = sensitivity_frame(grid, value)
    fig = make_subplots(rows=1, cols=3, shared_yaxes=True, subplot_titles=[
        f"{SHORT[p].split(' (')[0]}: effect {s[s.parameter == p]['effect'].iloc[0]:.3g}" for p in PARAMS])
    for i, p in enumerate(PARAMS, start=1):
        d = s[s["parameter"] == p]
        x = [f"{v:g}" for v in d["value"]]
        fig.add_trace(go.Scatter(x=x + x[::-1], y=list(d["max"]) + list(d["min"])[::-1], fill="toself",
                                 fillcolor="rgba(31,119,180,0.15)", line=dict(width=0), hoverinfo="skip",
                                 showlegend=i == 1, name="min–max over the others"), 1, i)
        fig.add_trace(go.Scatter(x=x, y=d["mean"], mode="lines+markers", line_color="#1f77b4",
                                 showlegend=i == 1, name="mean"), 1, i)
        fig.update_xaxes(type="category", title_text=SHORT[p], row=1, col=i)
    fig.update_yaxes(title_text=axis_label(value), row=1, col=1)
    fig.update_layout(title=title or f"Sensitivity of {axis_label(value)} to each parameter")
    return finish(fig, height=380)


def search_figures(grid: pd.DataFrame, value: str = "cost_vs_best_bps", label: str = "") -> dict[str, go.Figure]:
    """Heatmap, parallel coordinates and sensitivity of one grid table, by name."""
    suffix = f" — {label}" if label else ""
    return {"heatmap": cost_heatmap(grid, value, f"{axis_label(value)} over the grid{suffix}"),
            "parallel": parallel_coordinates(grid, value, f"Grid points{suffix}"),
            "sensitivity": sensitivity_figure(grid, value, f"Sensitivity{suffix}")}
