"""Exploration figures of multi-venue market data (notebook 01): activity, spreads, sizes, outflows.

Every function takes a :class:`~sorlib.data.MarketData` and returns a ``go.Figure`` (or a small
``DataFrame`` for tables). Venues are shown by their readable names, in key order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..ck.outflow import bid_queue_outflows
from ..data.market import NS_PER_SECOND, MarketData
from .colors import venue_colors
from .style import finish, log_axis, time_label

TICK = 0.01  # USD; spreads are shown in ticks


def _venue_colors(md: MarketData) -> dict[int, str]:
    """The venue colours of :mod:`sorlib.plots.colors` (the same venue has the same colour everywhere)."""
    return {int(k): c for k, c in venue_colors(md).items()}


def quote_venues(md: MarketData) -> np.ndarray:
    """Venue keys with at least one quote row (sorted): the venues quote charts show. Venues with prints
    but no quotes (e.g. a trade reporting facility) appear only in trade charts."""
    return np.unique(md.quotes.venue).astype(np.int32)


def _t0(md: MarketData) -> int:
    ts = [a[0] for a in (md.quotes.ts, md.trades.ts) if a.size]
    return int(min(ts)) if ts else 0


def _sample(a: np.ndarray, n: int = 4000, seed: int = 0) -> np.ndarray:
    """At most ``n`` values of ``a`` (a seeded sample keeps box plots light in HTML reports)."""
    if a.size <= n:
        return a
    return np.sort(np.random.default_rng(seed).choice(a, n, replace=False))


def quote_rate_figure(md: MarketData, bin_minutes: float = 5.0) -> go.Figure:
    """Quote updates per minute per venue over the day (bins of ``bin_minutes``)."""
    q = md.quotes
    t0 = _t0(md)
    width = int(bin_minutes * 60 * NS_PER_SECOND)
    nb = max(int((q.ts.max() - t0) // width) + 1, 1) if len(q) else 1
    x = pd.to_datetime(t0 + np.arange(nb) * width, utc=True).tz_convert(md.tz)
    fig = go.Figure()
    colors = _venue_colors(md)
    for v in quote_venues(md):
        m = q.venue == v
        counts = np.bincount(((q.ts[m] - t0) // width).astype(np.int64), minlength=nb)[:nb]
        fig.add_trace(go.Scatter(x=x, y=counts / bin_minutes, name=md.venue_name(v), mode="lines",
                                 line_color=colors[int(v)],
                                 hovertemplate="%{x|%H:%M}: %{y:,.1f} quote updates per minute"))
    fig.update_layout(title=f"Quote update rate per venue ({bin_minutes:g}-minute bins)",
                      xaxis_title=time_label(md.tz), yaxis_title="quote updates per minute",
                      hovermode="x unified")
    return finish(fig, height=400)


def spread_figure(md: MarketData, max_ticks: int = 5) -> go.Figure:
    """Share of each venue's two-sided quote updates by own spread in ticks (1, 2, …, ``max_ticks``+)."""
    q = md.quotes
    fig = go.Figure()
    labels = [str(i) for i in range(1, max_ticks)] + [f"{max_ticks}+"]
    colors = _venue_colors(md)
    for v in quote_venues(md):
        m = q.venue == v
        b, a = q.bid_px[m, 0], q.ask_px[m, 0]
        ok = np.isfinite(a) & np.isfinite(b)
        if not ok.any():  # one-sided only: no spread to show
            continue
        ticks = np.clip(np.rint((a[ok] - b[ok]) / TICK).astype(np.int64), 1, max_ticks)
        share = np.bincount(ticks, minlength=max_ticks + 1)[1:] / max(ok.sum(), 1)
        fig.add_trace(go.Bar(x=labels, y=share, name=md.venue_name(v), marker_color=colors[int(v)],
                             hovertemplate="spread %{x} ticks: %{y:.1%} of updates"))
    fig.update_layout(title="Own spread of each venue (share of its two-sided quote updates)",
                      xaxis_title=f"quoted spread, ticks (1 tick = {TICK:g} USD)",
                      yaxis_title="share of quote updates (%)", yaxis_tickformat=".0%", barmode="group")
    return finish(fig, height=400)


def touch_size_figure(md: MarketData) -> go.Figure:
    """Displayed size at the touch (level 0) per venue and side, shares (box plots, log scale)."""
    q = md.quotes
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=("bid side", "ask side"))
    colors = _venue_colors(md)
    values = []
    for v in quote_venues(md):
        m = q.venue == v
        for col, (px, sz) in enumerate(((q.bid_px, q.bid_sz), (q.ask_px, q.ask_sz)), start=1):
            ok = np.isfinite(px[m, 0]) & (sz[m, 0] > 0)
            y = _sample(sz[m, 0][ok])
            values.append(y)
            fig.add_trace(go.Box(y=y, name=md.venue_name(v), marker_color=colors[int(v)], boxpoints=False,
                                 showlegend=False, legendgroup=md.venue_name(v)), 1, col)
    for col in (1, 2):  # both panels log, both with tick labels
        log_axis(fig, values, "y", row=1, col=col)
    fig.update_yaxes(title_text="displayed size at the touch (shares)", row=1, col=1)
    fig.update_xaxes(title_text="venue", tickangle=-40)
    fig.update_layout(title="Displayed size at the best bid and ask per quote update (log scale)")
    return finish(fig, height=460)


def best_price_time_figure(md: MarketData, facts: dict | None = None) -> go.Figure:
    """Share of the session each venue spends at the best bid / best ask (ties count for every venue)."""
    from ..data import venue_facts

    facts = facts or venue_facts(md)
    quoting = {int(v) for v in quote_venues(md)}
    rows = [r for r in facts["venues"] if int(r["venue"]) in quoting]
    names = [r["name"] for r in rows]
    colors = _venue_colors(md)
    bar = [colors[int(r["venue"])] for r in rows]
    fig = go.Figure([go.Bar(x=names, y=[r["time_at_best_bid"] for r in rows], name="at best bid",
                            marker=dict(color=bar, line=dict(color=bar, width=1.5)),
                            hovertemplate="%{x}: at the best bid %{y:.1%} of the session<extra></extra>"),
                     go.Bar(x=names, y=[r["time_at_best_ask"] for r in rows], name="at best ask (hatched)",
                            marker=dict(color="white", line=dict(color=bar, width=1.5),
                                        pattern=dict(shape="/", fgcolor=bar, solidity=0.45)),
                            hovertemplate="%{x}: at the best ask %{y:.1%} of the session<extra></extra>")])
    fig.update_layout(title="Time each venue spends at the best price (time-weighted; ties count for every venue)",
                      xaxis_title="venue", yaxis_title="share of the session (%)", yaxis_tickformat=".0%",
                      barmode="group", xaxis_tickangle=-40)
    return finish(fig, height=420)


def trades_figure(md: MarketData) -> go.Figure:
    """Prints per venue: number of trades and volume (shares), split by aggressor side."""
    t = md.trades
    keys = np.unique(t.venue).astype(np.int32) if len(t) else md.venues
    names = [md.venue_name(v) for v in keys]
    colors = _venue_colors(md)
    bar = [colors[int(v)] for v in keys]
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08,
                        subplot_titles=("number of trades", "traded volume (shares)"))
    # bars in the venue's colour; the aggressor side is the fill: solid, hatched, dotted (grey legend keys)
    sides = [(side, label, pattern) for side, label, pattern in ((1, "buyer-initiated", ""),
                                                                  (-1, "seller-initiated", "/"),
                                                                  (0, "unknown side", "."))
             if (t.side == side).any()]
    for side, label, pattern in sides:
        sel = t.side == side
        pattern = pattern if len(sides) > 1 else ""
        n = [int(((t.venue == v) & sel).sum()) for v in keys]
        vol = [int(t.size[(t.venue == v) & sel].sum()) for v in keys]
        marker = dict(color=bar if not pattern else "white", line=dict(color=bar, width=1),
                      pattern=dict(shape=pattern, fgcolor=bar, solidity=0.5))
        fig.add_trace(go.Bar(x=names, y=n, name=label, marker=marker, legendgroup=label, showlegend=False,
                             hovertemplate="%{x}: %{y:,} trades, " + label + "<extra></extra>"), 1, 1)
        fig.add_trace(go.Bar(x=names, y=vol, name=label, marker=marker, legendgroup=label, showlegend=False,
                             hovertemplate="%{x}: %{y:,} shares, " + label + "<extra></extra>"), 1, 2)
        if len(sides) > 1:  # a grey legend key per side (the bars' colours are the venues')
            fig.add_trace(go.Bar(x=[None], y=[None], name=label, legendgroup=label, showlegend=True,
                                 marker=dict(color="#555555" if not pattern else "white",
                                             line=dict(color="#555555", width=1),
                                             pattern=dict(shape=pattern, fgcolor="#555555", solidity=0.5))),
                          1, 1)
    what = "by aggressor side" if len(sides) > 1 else f"({sides[0][1]})" if sides else ""
    fig.update_yaxes(title_text="trades (count)", tickformat="~s", row=1, col=1)
    fig.update_yaxes(title_text="volume (shares)", tickformat="~s", row=1, col=2)
    fig.update_xaxes(title_text="venue", tickangle=-40)
    fig.update_layout(title=f"Trades per venue {what}".strip(), barmode="stack")
    return finish(fig, height=440)


def outflow_figure(md: MarketData, window_seconds: float = 60.0) -> go.Figure:
    """Distribution of best-bid queue outflow per venue over windows of ``window_seconds`` (shares),
    next to the venue's median displayed bid size — the ξ of Cont–Kukanov (:func:`sorlib.ck.outflow.bid_queue_outflows`)."""
    flows = bid_queue_outflows(md, int(window_seconds * NS_PER_SECOND))
    colors = _venue_colors(md)
    fig = go.Figure()
    shown = quote_venues(md)
    for v in shown:
        xi = flows.get(int(v), np.zeros(0))
        fig.add_trace(go.Box(y=xi, name=md.venue_name(v), marker_color=colors[int(v)], boxmean=True,
                             boxpoints=False, showlegend=False))
    q = md.quotes
    med = [float(np.median(q.bid_sz[(q.venue == v) & (q.bid_sz[:, 0] > 0), 0]))
           if ((q.venue == v) & (q.bid_sz[:, 0] > 0)).any() else np.nan for v in shown]
    fig.add_trace(go.Scatter(x=[md.venue_name(v) for v in shown], y=med, mode="markers",
                             marker=dict(symbol="line-ew-open", size=28, color="black"),
                             name="median displayed bid size",
                             hovertemplate="%{x}: median displayed bid %{y:,.0f} shares<extra></extra>"))
    fig.update_layout(title=f"Best-bid queue outflow ξ per {window_seconds:g}-second window "
                      "(box: quartiles, dashed: mean)", xaxis_title="venue",
                      yaxis_title=f"outflow per {window_seconds:g} s window (shares)", yaxis_tickformat="~s",
                      xaxis_tickangle=-40, legend=dict(orientation="h", x=1, xanchor="right", y=1.0,
                                                      yanchor="bottom"))
    return finish(fig, height=440, legend="keep")


def outflow_summary(md: MarketData, window_seconds: float = 60.0) -> pd.DataFrame:
    """Per venue: number of windows and the median, p90 and mean best-bid queue outflow (shares) over
    windows of ``window_seconds``, with the venue's median displayed bid size (shares)."""
    flows = bid_queue_outflows(md, int(window_seconds * NS_PER_SECOND))
    q = md.quotes
    rows = []
    for v in md.venues:
        xi = flows.get(int(v), np.zeros(0))
        sz = q.bid_sz[(q.venue == v) & (q.bid_sz[:, 0] > 0), 0]
        rows.append({"venue": md.venue_name(v), "windows": int(xi.size),
                     "median": float(np.median(xi)) if xi.size else np.nan,
                     "p90": float(np.percentile(xi, 90)) if xi.size else np.nan,
                     "mean": float(xi.mean()) if xi.size else np.nan,
                     "median_bid_size": float(np.median(sz)) if sz.size else np.nan})
    return pd.DataFrame(rows).set_index("venue")


def venue_table_frame(md: MarketData, facts: dict | None = None) -> pd.DataFrame:
    """The per-venue facts of :func:`sorlib.data.venue_facts` as a table (one row per venue)."""
    from ..data import venue_facts

    facts = facts or venue_facts(md)
    df = pd.DataFrame(facts["venues"]).set_index("name")
    return df.drop(columns=["venue"], errors="ignore")


def load_report_frame(md: MarketData) -> pd.DataFrame:
    """What the loader did: rows read and every repair or removal (count), as a two-column table."""
    r = md.report.to_dict()
    rows = [("source", r["source"]), ("format", r["format"]), ("rows read", r["rows_read"]),
            ("quote rows", r["quote_rows"]), ("trade rows", r["trade_rows"])]
    rows += [(f"repair: {k}", v) for k, v in r["repairs"].items()] or [("repairs", "none")]
    rows += [("note", n) for n in r["notes"]]
    return pd.DataFrame(rows, columns=["item", "value"]).set_index("item")


def data_figures(md: MarketData, window_seconds: float = 60.0) -> dict[str, go.Figure]:
    """All exploration figures of notebook 01, by name."""
    from ..data import venue_facts

    facts = venue_facts(md)
    return {"quote_rate": quote_rate_figure(md), "spread": spread_figure(md), "touch_size": touch_size_figure(md),
            "best_price_time": best_price_time_figure(md, facts), "trades": trades_figure(md),
            "outflow": outflow_figure(md, window_seconds)}


def facts_table(facts: dict):
    """:func:`sorlib.data.venue_facts` as one table in the house style (:mod:`.tables`): per venue its quote
    updates, trades and volume (shares) with their shares of the total (%), the median spread (USD/share), the
    median displayed bid/ask size (shares) and the share of the session at the best bid/ask (%); then "all"."""
    import pandas as pd

    from .tables import table

    pct = lambda x: None if x is None else 100.0 * x  # noqa: E731
    rows = [{"venue": r["name"], "quote updates": r["quote_updates"], "quotes (%)": pct(r["quote_share"]),
             "trades": r["trades"], "trades (%)": pct(r["trade_share"]), "volume (shares)": r["volume"],
             "volume (%)": pct(r["volume_share"]), "median spread (USD/share)": r["median_spread"],
             "median bid size (shares)": r["median_bid_size"], "median ask size (shares)": r["median_ask_size"],
             "time at best bid (%)": pct(r["time_at_best_bid"]), "time at best ask (%)": pct(r["time_at_best_ask"])}
            for r in facts["venues"]]
    tot = facts["totals"]
    rows.append({"venue": "all", "quote updates": tot["quote_updates"], "quotes (%)": 100.0, "trades": tot["trades"],
                 "trades (%)": 100.0, "volume (shares)": tot["volume"], "volume (%)": 100.0})
    frame = pd.DataFrame(rows)
    for c in ("quote updates", "trades", "volume (shares)"):
        frame[c] = frame[c].astype("int64")
    return table(frame, decimals={"median spread (USD/share)": 4},
                 na="the 'all' row sums counts; spreads, sizes and time at the best are per venue")
