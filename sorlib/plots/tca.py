"""Figures of transaction-cost analysis and schedules (notebook 06): the Almgren–Chriss efficient frontier and
trajectories, the implementation-shortfall breakdown per strategy, savings with intervals, markouts per venue,
participation. Every function returns a ``go.Figure``; the numbers come from :mod:`sorlib.tca` and
:mod:`sorlib.schedules`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..schedules import ac_cost_variance, ac_kappa, ac_trajectory
from ..tca import COMPONENTS
from .colors import series_color, strategy_color, strategy_line, venue_colors
from .style import finish

#: Display names and colours of the shortfall's parts (:data:`sorlib.tca.COMPONENTS`).
PART_LABELS = {"delay": "delay", "trading_drift": "trading: drift", "trading_spread": "trading: spread",
               "trading_impact": "trading: impact", "opportunity_drift": "opportunity: drift",
               "opportunity_spread": "opportunity: clean-up spread", "opportunity_impact": "opportunity: clean-up impact",
               "fees": "fees"}
PART_COLORS = {"delay": "#8c564b", "trading_drift": "#9ecae1", "trading_spread": "#3182bd",
               "trading_impact": "#08519c", "opportunity_drift": "#fdae6b", "opportunity_spread": "#e6550d",
               "opportunity_impact": "#a63603", "fees": "#7f7f7f"}
KIND_LABELS = {0: "marketable", 1: "resting", 2: "clean-up"}

__all__ = ["KIND_LABELS", "PART_COLORS", "PART_LABELS", "frontier_figure", "markout_figure", "participation_figure",
           "schedule_savings_figure", "tca_breakdown_figure", "trajectory_explorer", "trajectory_figure"]


def frontier_figure(X: float, T: float, sigma: float, eta: float, lambdas=None, marks=(0.0, 1e-6)) -> go.Figure:
    """The Almgren–Chriss efficient frontier: expected cost ($) against its standard deviation ($) as the risk
    aversion λ (1/$) varies (:func:`sorlib.schedules.ac_cost_variance`), with the points of ``marks`` labelled
    (λ = 0 is TWAP)."""
    lam = np.asarray(lambdas if lambdas is not None else np.r_[0.0, np.logspace(-9, -2, 57)], float)
    ev = np.array([ac_cost_variance(X, T, sigma, eta, float(v)) for v in lam])
    fig = go.Figure(go.Scatter(x=np.sqrt(ev[:, 1]), y=ev[:, 0], mode="lines+markers", name="frontier",
                               marker=dict(size=5, color="#1f77b4"), customdata=np.c_[lam, [ac_kappa(sigma, eta, v) * T
                                                                                          for v in lam]],
                               hovertemplate="λ = %{customdata[0]:.3g} 1/USD (κT = %{customdata[1]:.2f})<br>"
                               "std %{x:,.2f} USD, expected cost %{y:,.2f} USD<extra></extra>"))
    for i, m in enumerate(marks):
        e, v = ac_cost_variance(X, T, sigma, eta, float(m))
        name = "TWAP (λ = 0)" if m == 0 else f"λ = {m:g} 1/USD"
        fig.add_trace(go.Scatter(x=[np.sqrt(v)], y=[e], mode="markers", name=name,
                                 marker=dict(size=12, symbol="diamond", color=series_color(i + 1)),
                                 hovertemplate=name + ": std %{x:,.2f} USD, expected cost %{y:,.2f} USD<extra></extra>"))
    fig.update_layout(title=f"Almgren–Chriss efficient frontier: {X:,.0f} shares in {T:,.0f} s",
                      xaxis_title="standard deviation of cost (USD)", yaxis_title="expected impact cost (USD)")
    fig.update_xaxes(tickformat=",.0f")
    fig.update_yaxes(tickformat=",.2f")
    return finish(fig, height=440)


def trajectory_figure(X: float, T: float, sigma: float, eta: float, lambdas=(0.0, 1e-6, 1e-5, 1e-4, 1e-3)) -> go.Figure:
    """Optimal holdings x(t) (shares still to trade, either side) over the horizon for several risk aversions
    λ (1/$)."""
    t = np.linspace(0, T, 121)
    fig = go.Figure()
    for i, lam in enumerate(lambdas):
        k = ac_kappa(sigma, eta, float(lam))
        fig.add_trace(go.Scatter(x=t, y=ac_trajectory(X, T, sigma, eta, float(lam), t), mode="lines",
                                 name=f"λ = {lam:g} (κT = {k * T:.2f})", line_color=series_color(i),
                                 hovertemplate="%{x:.0f} s: %{y:,.0f} shares left<extra></extra>"))
    fig.update_layout(title="Almgren–Chriss trajectories: shares still to trade", xaxis_title="time since arrival (s)",
                      yaxis_title="shares still to trade")
    fig.update_yaxes(tickformat=",.0f")
    return finish(fig, height=420)


def tca_breakdown_figure(summaries: dict[str, pd.DataFrame], title: str | None = None) -> go.Figure:
    """Stacked bars of the mean implementation shortfall per order (bps of the arrival notional) by part, one
    bar per strategy (``summaries``: strategy → :func:`sorlib.tca.cost_summary`), and the total with its 95%
    bootstrap interval as a black marker. Parts below zero (e.g. the spread earned by resting fills) stack
    downwards."""
    names = list(summaries)
    fig = go.Figure()
    for part in COMPONENTS:
        ys, lo, hi = [], [], []
        for n in names:
            r = summaries[n].set_index("part").loc[part]
            ys.append(r["mean_bps"])
            lo.append(r["ci95_lo"])
            hi.append(r["ci95_hi"])
        if not np.any(np.abs(np.nan_to_num(ys)) > 0):
            continue
        fig.add_trace(go.Bar(x=names, y=ys, name=PART_LABELS[part], marker_color=PART_COLORS[part],
                             customdata=np.c_[lo, hi],
                             hovertemplate="%{x}: " + PART_LABELS[part] + " %{y:.2f} bps "
                             "(95% interval %{customdata[0]:.2f} to %{customdata[1]:.2f})<extra></extra>"))
    tot = [summaries[n].set_index("part").loc["total"] for n in names]
    mean = np.array([t["mean_bps"] for t in tot], float)
    lo = np.array([t["ci95_lo"] for t in tot], float)
    hi = np.array([t["ci95_hi"] for t in tot], float)
    fig.add_trace(go.Scatter(x=names, y=mean, mode="markers", name="total (95% interval)",
                             marker=dict(color="black", size=9, symbol="diamond"),
                             error_y=dict(type="data", symmetric=False, array=np.nan_to_num(hi - mean),
                                          arrayminus=np.nan_to_num(mean - lo), color="black"),
                             hovertemplate="%{x}: total %{y:.2f} bps<extra></extra>"))
    n_orders = int(tot[0]["orders"]) if tot else 0
    fig.update_layout(barmode="relative", title=title or f"Implementation shortfall by part, mean over {n_orders} "
                      "orders (bps of the arrival notional)", xaxis_title="strategy",
                      yaxis_title="bps of arrival notional (positive = worse for the order's side)")
    return finish(fig, height=520, legend="below")


def schedule_savings_figure(comparison: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Mean per-order saving of each strategy against the comparison's reference (:func:`sorlib.tca.compare`;
    bps, positive = better for the orders' side: paid less on a buy, received more on a sell) with the
    bootstrap 95% interval."""
    c = comparison[comparison["strategy"] != comparison.attrs.get("reference")]
    m = c["saving_mean_bps"].to_numpy(float)
    err = dict(type="data", symmetric=False, array=np.nan_to_num(c["saving_ci95_hi"].to_numpy(float) - m),
               arrayminus=np.nan_to_num(m - c["saving_ci95_lo"].to_numpy(float)))
    fig = go.Figure(go.Bar(x=c["strategy"], y=m, error_y=err, marker_color=[strategy_color(n, i) for i, n in enumerate(c["strategy"])],
                           hovertemplate="%{x}: %{y:.2f} bps<extra></extra>"))
    ref = comparison.attrs.get("reference", "the reference")
    fig.update_layout(title=title or f"Saving against {ref} (mean per order, 95% bootstrap interval)",
                      xaxis_title="strategy", yaxis_title=f"saving vs {ref}, bps (positive = better for the order's side)",
                      showlegend=False)
    return finish(fig, height=420)


def markout_figure(markouts: dict[str, pd.DataFrame], venue_names: dict[int, str] | None = None,
                   kinds=(0, 1)) -> go.Figure:
    """Share-weighted mean markouts (bps, the order's side, :mod:`sorlib.tca`: positive = the mid moved our way
    after the fill — up after a buy, down after a sell) against the
    horizon, one panel per strategy, one line per venue (``markouts``: strategy →
    :func:`sorlib.tca.venue_markouts`, grouped by venue and kind; fills of ``kinds`` pooled per venue)."""
    names = list(markouts)
    venue_names = venue_names or {}
    venues = sorted({int(v) for df in markouts.values() for v in df["venue"]})
    colors = venue_colors(venues, venue_names)
    fig = make_subplots(rows=1, cols=len(names), shared_yaxes=True, subplot_titles=names)
    for i, n in enumerate(names, start=1):
        df = markouts[n]
        df = df[df["kind"].isin(kinds)]
        cols = [c for c in df.columns if c.startswith("markout_")]
        hs = [float(c[len("markout_"):-len("s_bps")]) for c in cols]
        for v in venues:
            g = df[df["venue"] == v]
            if g.empty:
                continue
            w = g["shares"].to_numpy(float)
            ys = []
            for c in cols:
                x = g[c].to_numpy(float)
                ok = np.isfinite(x)
                ys.append(float(np.dot(w[ok], x[ok]) / w[ok].sum()) if ok.any() and w[ok].sum() > 0 else np.nan)
            name = venue_names.get(v, str(v))
            fig.add_trace(go.Scatter(x=hs, y=ys, mode="lines+markers", name=name, legendgroup=name,
                                     showlegend=i == 1, line_color=colors[v],
                                     hovertemplate=f"{n}, {name}: " + "%{x:g} s: %{y:.2f} bps<extra></extra>"),
                          1, i)
        fig.update_xaxes(type="log", tickvals=hs, ticktext=[f"{h:g}" for h in hs], title_text="horizon (s)",
                         row=1, col=i)
    fig.update_yaxes(title_text="markout, bps (+ = mid moved our way: up after a buy, down after a sell)",
                     row=1, col=1)
    fig.add_hline(y=0, line_color="#999", line_width=1)
    fig.update_layout(title="Markouts per venue: the NBBO mid after each child fill against its price, for the "
                            "order's side")
    return finish(fig, height=440, legend="below")


def participation_figure(profiles: dict[str, pd.DataFrame]) -> go.Figure:
    """Pooled participation (our child-order fills ÷ market prints, %) per bucket of time since arrival, one line
    per strategy (``profiles``: strategy → :func:`sorlib.tca.participation_profile`)."""
    fig = go.Figure()
    for i, (n, p) in enumerate(profiles.items()):
        fig.add_trace(go.Scatter(x=p["bucket_start_s"], y=p["participation_pct"], mode="lines+markers", name=n,
                                 line=strategy_line(n) if strategy_color(n) else dict(color=series_color(i)),
                                 hovertemplate=n + ": from %{x:.0f} s, %{y:.1f}%<extra></extra>"))
    fig.update_layout(title="Participation: our child-order fills as a share of the market's prints",
                      xaxis_title="start of bucket, seconds since arrival", yaxis_title="participation (%)")
    return finish(fig, height=420)


def trajectory_explorer(X: float, T: float, sigma: float, eta: float, risk_aversion: float = 1e-6):
    """A λ slider (1/$, log scale) that redraws :func:`trajectory_figure` for TWAP and the chosen λ (JupyterLab;
    needs ipywidgets)."""
    import ipywidgets as w

    slider = w.FloatLogSlider(value=max(risk_aversion, 1e-9), base=10, min=-9, max=-2, step=0.25,
                              description="λ (1/USD)", continuous_update=False)
    out = w.Output()

    def draw(change=None) -> None:
        with out:
            out.clear_output(wait=True)
            trajectory_figure(X, T, sigma, eta, (0.0, float(slider.value))).show()

    slider.observe(draw, names="value")
    draw()
    return w.VBox([slider, out])
