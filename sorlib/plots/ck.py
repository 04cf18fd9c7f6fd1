"""Figures of the Cont–Kukanov model (notebook 04; DESIGN §5). Every ``*_figure`` returns a ``go.Figure``.

Units: ``h`` (half-spread), ``f`` (taker fee), ``r_k`` (maker rebates), ``λ_u`` (``lambda_under``),
``λ_o`` (``lambda_over``), ``θ`` (``theta_queue``) in USD/share; ``S``, ``Q_k``, ``M``, ``L_k``, ``ξ_k`` in
shares; the expected cost ``V`` in USD (against the mid). Figure text spells money ``USD`` (two ``$`` in
one Plotly string would be typeset by MathJax); venue colours come from :mod:`sorlib.plots.colors`. The compute helpers (``placement_sweep``,
``single_venue_sweep``, ``cost_slice``) return plain tables so tests can check the plotted numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..ck import expected_cost_batch, optimal_placement, single_venue_optimum
from ..engine.replay import KIND_CLEANUP, KIND_REST, KIND_TAKE
from .colors import FILL_KIND_COLORS, REGIME_COLORS, series_color, venue_colors
from .style import finish, log_ticks

__all__ = ["SWEEP_PARAMS", "cost_slice", "cost_slice_figure", "fill_kinds_figure", "fill_kinds_frame",
           "is_convex", "overbooking_figure", "placement_bar_figure", "placement_figure", "placement_sweep",
           "single_venue_figure", "single_venue_sweep"]

#: Parameters a placement sweep can vary, with their axis labels.
SWEEP_PARAMS = {"lambda_u": "λ_u, under-fill penalty (USD/share)", "lambda_o": "λ_o, over-fill penalty (USD/share)",
                "theta": "θ, queue-risk penalty (USD/share)", "S": "S, order size (shares)"}


def _names(K: int, names) -> list[str]:
    return [str(n) for n in names] if names is not None else [f"venue {k}" for k in range(K)]


# ------------------------------------------------------------------------------------ K venues: placements
def placement_sweep(param: str, values, S: float, Q, xi, h: float, f: float, r, lambda_u: float,
                    lambda_o: float, theta: float = 0.0, *, names=None, method: str = "sa",
                    n_iter: int | None = 5000, seed: int = 0) -> pd.DataFrame:
    """Optimal placements (:func:`sorlib.ck.optimal_placement`) as one parameter varies over ``values``.

    ``param`` is one of :data:`SWEEP_PARAMS`; the others stay at the given values. One row per value:
    ``x`` (the varied value), ``S``, ``M``, ``L <name>`` per venue (shares), ``sum_L`` = Σ L_k,
    ``S_minus_M``, ``overbooking`` = Σ L_k − (S − M) (≥ 0 on ``C``), ``cost`` = V (USD) on the samples.
    """
    if param not in SWEEP_PARAMS:
        raise ValueError(f"param must be one of {list(SWEEP_PARAMS)}, got {param!r}")
    Q = np.atleast_1d(np.asarray(Q, dtype=float))
    names = _names(Q.size, names)
    base = {"S": float(S), "lambda_u": float(lambda_u), "lambda_o": float(lambda_o), "theta": float(theta)}
    kw = {"n_iter": n_iter, "seed": seed} if method == "sa" else {}
    rows = []
    for v in np.asarray(values, dtype=float):
        p = {**base, param: float(v)}
        pl = optimal_placement(p["S"], Q, xi, h, f, r, p["lambda_u"], p["lambda_o"], p["theta"], method=method,
                               **kw)
        L = np.asarray(pl.L, dtype=float)
        row = {"x": float(v), "S": p["S"], "M": float(pl.M)}
        row.update({f"L {n}": float(x) for n, x in zip(names, L, strict=True)})
        row.update({"sum_L": float(L.sum()), "S_minus_M": p["S"] - float(pl.M),
                    "overbooking": float(L.sum()) - (p["S"] - float(pl.M)), "cost": float(pl.cost)})
        rows.append(row)
    df = pd.DataFrame(rows)
    df.attrs.update(param=param, method=method, names=names)
    return df


def _log_axis(x: np.ndarray) -> str:
    x = np.asarray(x, dtype=float)
    return "log" if x.size > 1 and np.all(x > 0) and x.max() / x.min() > 20 else "linear"


def _x_axis(fig: go.Figure, x: np.ndarray, title: str, **selector) -> None:
    """Title the x axis; a log axis when ``x`` spans more than 20×, with every tick labelled in full."""
    kind = _log_axis(x)
    fig.update_xaxes(title_text=title, type=kind, **selector)
    if kind == "log":
        vals, text = log_ticks(float(np.min(x)), float(np.max(x)))
        fig.update_xaxes(tickmode="array", tickvals=vals, ticktext=text, **selector)


def placement_figure(sweep: pd.DataFrame, title: str | None = None) -> go.Figure:
    """M and each L_k (shares) against the swept parameter, with S dotted: how the split moves."""
    param = sweep.attrs.get("param", "lambda_u")
    names = sweep.attrs.get("names") or [c[2:] for c in sweep.columns if c.startswith("L ")]
    x = sweep["x"].to_numpy()
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=sweep["M"], name="M (market order)", mode="lines+markers",
                             line=dict(color="black", width=3)))
    colors = venue_colors(list(names))
    for n in names:
        fig.add_trace(go.Scatter(x=x, y=sweep[f"L {n}"], name=f"L {n}", mode="lines+markers",
                                 line=dict(color=colors[n])))
    fig.add_trace(go.Scatter(x=x, y=sweep["S"], name="S (order size)", mode="lines",
                             line=dict(color="#7f7f7f", dash="dot")))
    _x_axis(fig, x, SWEEP_PARAMS[param])
    fig.update_yaxes(title_text="shares", tickformat="~s")
    method = sweep.attrs.get("method", "sa")
    what = SWEEP_PARAMS[param].split(" (")[0]
    fig.update_layout(title=title or f"Optimal market order M and limit orders L_k against {what} ({method})",
                      hovermode="x unified")
    return finish(fig, height=450)


def overbooking_figure(sweep: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Σ L_k against S − M (shares): the gap is the over-booking across venues (M + Σ L_k − S ≥ 0)."""
    param = sweep.attrs.get("param", "lambda_o")
    x = sweep["x"].to_numpy()
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=x, y=sweep["S_minus_M"], name="S − M (shares still to buy)", mode="lines+markers",
                             line=dict(color="black", dash="dash")), secondary_y=False)
    fig.add_trace(go.Scatter(x=x, y=sweep["sum_L"], name="Σ L_k (limit shares posted)", mode="lines+markers",
                             line=dict(color="#1f77b4", width=3), fill="tonexty",
                             fillcolor="rgba(31,119,180,0.15)"), secondary_y=False)
    ratio = np.where(sweep["S_minus_M"] > 0, sweep["sum_L"] / sweep["S_minus_M"].where(sweep["S_minus_M"] > 0),
                     np.nan)
    fig.add_trace(go.Scatter(x=x, y=ratio, name="Σ L_k / (S − M)", mode="lines",
                             line=dict(color="#9467bd", dash="dot")), secondary_y=True)
    _x_axis(fig, x, SWEEP_PARAMS[param])
    fig.update_yaxes(title_text="shares", tickformat="~s", secondary_y=False)
    fig.update_yaxes(title_text="over-booking ratio Σ L_k / (S − M)", secondary_y=True, rangemode="tozero",
                     showgrid=False, tickformat=".2~f")
    what = SWEEP_PARAMS[param].split(" (")[0]
    fig.update_layout(title=title or f"Over-booking across venues against {what}", hovermode="x unified",
                      legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom"))
    return finish(fig, height=420, legend="keep")


def placement_bar_figure(M: float, L, S: float, names=None, title: str | None = None) -> go.Figure:
    """One placement as bars (shares): M, each L_k and Σ L_k, with S − M dashed."""
    L = np.atleast_1d(np.asarray(L, dtype=float))
    names = _names(L.size, names)
    x = ["M (market)"] + [f"L {n}" for n in names] + ["Σ L_k"]
    y = [float(M)] + [float(v) for v in L] + [float(L.sum())]
    vc = venue_colors(list(names))
    colors = ["black"] + [vc[n] for n in names] + ["#7f7f7f"]
    fig = go.Figure(go.Bar(x=x, y=y, marker_color=colors, name="placement",
                           text=[f"{round(v) + 0:d}" for v in y], textposition="outside",
                           hovertemplate="%{x}: %{y:,.0f} shares<extra></extra>"))
    fig.add_trace(go.Scatter(x=[x[1], x[-1]], y=[S - M, S - M], mode="lines", name="S − M",
                             line=dict(color="black", dash="dash"),
                             hovertemplate="S − M = %{y:,.0f} shares<extra></extra>"))
    fig.update_layout(title=title or f"Placement for S = {S:,.0f} shares: M + Σ L_k = {M + L.sum():,.0f}",
                      xaxis_title="order (M: market; L: limit order per venue)", yaxis_title="shares",
                      showlegend=False)
    return finish(fig, height=400)


# -------------------------------------------------------------------------------- one venue: closed form
def single_venue_sweep(S: float, Q: float, samples, h: float, f: float, r: float, lambda_u: float,
                       theta: float = 0.0, *, lambda_u_values=None, Q_values=None,
                       scale_values=None) -> dict[str, pd.DataFrame]:
    """The closed-form single-venue optimum (:func:`sorlib.ck.single_venue_optimum`) along three axes.

    ``"lambda_u"``: over ``lambda_u_values`` at the given ``Q``; ``"Q"``: over queue sizes ``Q_values``
    at the given ``λ_u``; ``"outflow"``: the samples multiplied by ``scale_values`` (x = their mean,
    shares). Each table has ``x``, ``M``, ``L``, ``cost``, ``regime``, ``lambda_low``, ``lambda_high``,
    ``p``. ``attrs`` holds the thresholds at the given point (``lambda_low``, ``lambda_high``).
    """
    xs = np.asarray(samples, dtype=float).ravel()
    base = single_venue_optimum(S, Q, xs, h, f, r, lambda_u, 0.0, theta)
    if lambda_u_values is None:
        lam_lo = max(h + f - theta, 1e-4) * 0.5
        hi = base.lambda_high if np.isfinite(base.lambda_high) else 10 * max(base.lambda_low, lam_lo)
        lambda_u_values = np.geomspace(lam_lo, max(hi * 3, lam_lo * 10), 41)
    if Q_values is None:
        Q_values = np.linspace(0.0, max(float(np.quantile(xs, 0.95)), Q * 2, 1.0), 41)
    if scale_values is None:
        scale_values = np.geomspace(0.25, 4.0, 41)

    def row(x, res):
        return {"x": float(x), "M": res.M, "L": res.L, "cost": res.cost, "regime": res.regime, "p": res.p,
                "lambda_low": res.lambda_low, "lambda_high": res.lambda_high}

    out = {
        "lambda_u": pd.DataFrame([row(v, single_venue_optimum(S, Q, xs, h, f, r, float(v), 0.0, theta))
                                  for v in np.asarray(lambda_u_values, float)]),
        "Q": pd.DataFrame([row(q, single_venue_optimum(S, float(q), xs, h, f, r, lambda_u, 0.0, theta))
                           for q in np.asarray(Q_values, float)]),
        "outflow": pd.DataFrame([row(c * xs.mean(), single_venue_optimum(S, Q, xs * c, h, f, r, lambda_u, 0.0,
                                                                          theta))
                                 for c in np.asarray(scale_values, float)]),
    }
    for df in out.values():
        df.attrs.update(lambda_low=base.lambda_low, lambda_high=base.lambda_high, S=float(S), Q=float(Q),
                        lambda_u=float(lambda_u), theta=float(theta))
    return out


def single_venue_figure(sweeps: dict[str, pd.DataFrame], venue: str = "", title: str | None = None) -> go.Figure:
    """Three panels of L* (shares, markers coloured by regime): against λ_u with the thresholds
    λ_low < λ_high marked (compared with λ_u + θ), against the queue size Q and against the mean outflow."""
    a = sweeps["lambda_u"].attrs
    lo, hi, th = a["lambda_low"], a["lambda_high"], a.get("theta", 0.0)
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.07, subplot_titles=(
        f"L* against λ_u (Q = {a['Q']:,.0f})", f"L* against queue size Q (λ_u = {a['lambda_u']:.4g})",
        f"L* against mean outflow E[ξ] (λ_u = {a['lambda_u']:.4g})"))
    xlabels = (SWEEP_PARAMS["lambda_u"], "Q, bid queue ahead (shares)", "E[ξ], mean outflow over T (shares)")
    for col, (key, xlabel) in enumerate(zip(("lambda_u", "Q", "outflow"), xlabels, strict=True), start=1):
        df = sweeps[key]
        fig.add_trace(go.Scatter(x=df["x"], y=df["L"], mode="lines", line=dict(color="#7f7f7f", width=1),
                                 name=f"L* vs {key}", showlegend=False, hoverinfo="skip"), 1, col)
        for reg, color in REGIME_COLORS.items():
            m = df["regime"] == reg
            fig.add_trace(go.Scatter(x=df["x"][m], y=df["L"][m], mode="markers", marker=dict(color=color, size=7),
                                     name=f"{reg} regime", legendgroup=reg, showlegend=col == 1,
                                     customdata=df["M"][m],
                                     hovertemplate="x=%{x:.4g}<br>L*=%{y:.0f}<br>M*=%{customdata:.0f}"
                                                   "<extra>" + reg + "</extra>"), 1, col)
        fig.update_xaxes(title_text=xlabel, row=1, col=col)
    _x_axis(fig, sweeps["lambda_u"]["x"].to_numpy(), xlabels[0], row=1, col=1)
    for val, label, dash in ((lo, "λ_low", "dash"), (hi, "λ_high", "dot")):
        x = val - th  # thresholds are compared with λ_u + θ; drawn as λ_u values
        if np.isfinite(x) and x > 0:
            fig.add_trace(go.Scatter(x=[x, x], y=[0.0, a["S"]], mode="lines", name=f"{label} − θ = {x:.3g} USD/share",
                                     line=dict(color="black", dash=dash, width=1.5)), 1, 1)
    fig.update_yaxes(title_text="L*, limit shares (M* = S − L*)", row=1, col=1)
    fig.update_layout(title=title or f"Single venue {venue}: closed-form optimum and its three regimes "
                      f"(S = {a['S']:,.0f} shares)", meta={"lambda_low": lo, "lambda_high": hi, "theta": th})
    return finish(fig, height=440, legend="below")


# --------------------------------------------------------------------------------- convexity: a 1-D slice
def cost_slice(k: int, M: float, L, S: float, Q, xi, h: float, f: float, r, lambda_u: float, lambda_o: float,
               theta: float = 0.0, n: int = 201) -> pd.DataFrame:
    """``V`` (USD) along ``L_k ∈ [0, S − M]`` with ``M`` and the other ``L_j`` held at the given point:
    columns ``L_k`` (shares), ``V`` (USD), ``dV`` = V − V(L_k = 0)."""
    L = np.atleast_1d(np.asarray(L, dtype=float)).copy()
    grid = np.linspace(0.0, max(S - M, 0.0), n)
    Ls = np.repeat(L[None, :], n, axis=0)
    Ls[:, k] = grid
    V = expected_cost_batch(np.full(n, float(M)), Ls, xi, S, Q, h, f, r, lambda_u, lambda_o, theta)
    return pd.DataFrame({"L_k": grid, "V": V, "dV": V - V[0]})


def is_convex(values, rtol: float = 1e-9) -> bool:
    """Whether a function sampled on an evenly spaced grid is convex (second differences ≥ −tol)."""
    v = np.asarray(values, dtype=float)
    if v.size < 3:
        return True
    tol = rtol * max(1.0, float(np.abs(v).max()))
    return bool(np.all(np.diff(v, 2) >= -tol))


def cost_slice_figure(k: int, M: float, L, S: float, Q, xi, h: float, f: float, r, lambda_u: float,
                      lambda_o_values, theta: float = 0.0, names=None, n: int = 201,
                      title: str | None = None) -> go.Figure:
    """``V(L_k) − V(0)`` (USD) along venue *k*'s limit order, one curve per λ_o; each is labelled with
    whether λ_o ≤ h + r_k (the convex case) and whether the sampled curve is convex."""
    r_arr = np.broadcast_to(np.asarray(r, dtype=float), np.atleast_1d(np.asarray(Q)).shape)
    names = _names(r_arr.size, names)
    bound = h + float(r_arr[k])
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=(
        "V(L_k) − V(0), USD", "slope dV/dL_k, USD/share (convex ⇔ non-decreasing)"))
    checks = []
    for i, lo in enumerate(np.asarray(lambda_o_values, dtype=float)):
        df = cost_slice(k, M, L, S, Q, xi, h, f, r, lambda_u, float(lo), theta, n)
        conv = is_convex(df["V"])
        side = "≤" if lo <= bound else ">"
        checks.append({"lambda_o": float(lo), "below_bound": bool(lo <= bound), "convex": conv})
        line = dict(color=series_color(i), dash="solid" if lo <= bound else "dash")
        name = f"λ_o = {lo:.4g} {side} h + r_k ({'convex' if conv else 'not convex'})"
        fig.add_trace(go.Scatter(x=df["L_k"], y=df["dV"], mode="lines", line=line, name=name, legendgroup=name),
                      1, 1)
        x, v = df["L_k"].to_numpy(), df["V"].to_numpy()
        slope = np.diff(v) / np.diff(x) if x.size > 1 and x[-1] > x[0] else np.zeros(0)
        fig.add_trace(go.Scatter(x=0.5 * (x[1:] + x[:-1]), y=slope, mode="lines", line=line, name=name,
                                 legendgroup=name, showlegend=False), 1, 2)
    for col in (1, 2):
        fig.update_xaxes(title_text=f"L_k, limit order on {names[k]} (shares)", row=1, col=col)
    fig.update_yaxes(title_text="V(L_k) − V(0) (USD)", row=1, col=1)
    fig.update_yaxes(title_text="dV/dL_k (USD/share)", row=1, col=2)
    fig.update_layout(title=title or f"V along L_k for {names[k]} (M = {M:,.0f}, other L_j fixed; "
                      f"h + r_k = {bound:.4g} USD/share)", meta={"bound": bound, "checks": checks})
    return finish(fig, height=440, legend="below")


# ------------------------------------------------------------------------------------------ replay results
_KINDS = {KIND_TAKE: "market (take)", KIND_REST: "limit (rested, filled)", KIND_CLEANUP: "clean-up"}
_KIND_COLORS = {KIND_TAKE: FILL_KIND_COLORS["take"], KIND_REST: FILL_KIND_COLORS["rest"],
                KIND_CLEANUP: FILL_KIND_COLORS["cleanup"]}


def fill_kinds_frame(result) -> pd.DataFrame:
    """Shares and fills per strategy and fill kind (take / rest / clean-up) of a backtest result."""
    rows = []
    for name, ex in {"router": result.router, **result.baselines}.items():
        f = ex.fills
        total = int(f.qty.sum())
        for kind, label in _KINDS.items():
            m = f.kind == kind
            q = int(f.qty[m].sum())
            rows.append({"strategy": name, "kind": label, "shares": q, "fills": int(m.sum()),
                         "share_of_total": q / total if total else np.nan})
    return pd.DataFrame(rows)


def fill_kinds_figure(result, title: str | None = None) -> go.Figure:
    """Shares bought per fill kind and strategy (stacked): how much the router gets by resting."""
    df = fill_kinds_frame(result)
    fig = go.Figure()
    for kind, label in _KINDS.items():
        d = df[df["kind"] == label]
        fig.add_trace(go.Bar(x=d["strategy"], y=d["shares"], name=label, marker_color=_KIND_COLORS[kind],
                             customdata=d["fills"], hovertemplate="%{y:,} shares in %{customdata:,} fills"))
    fig.update_layout(barmode="stack", title=title or "Shares bought per fill kind", xaxis_title="strategy",
                      yaxis_title="shares bought", yaxis_tickformat="~s")
    return finish(fig, height=420)

