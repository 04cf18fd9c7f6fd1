"""Exploration figures of multi-venue market data (notebook 01): activity, spreads, sizes, outflows.

Every function takes a :class:`~sorlib.data.MarketData` and returns a ``go.Figure`` (or a small
``DataFrame`` for tables). Venues are shown by their readable names, in key order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..data.market import NS_PER_SECOND, MarketData

TICK = 0.01  # $; spreads are shown in ticks

_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#17becf")


def _venue_colors(md: MarketData) -> dict[int, str]:
    return {int(v): _PALETTE[i % len(_PALETTE)] for i, v in enumerate(md.venues)}


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
    for v in md.venues:
        m = q.venue == v
        counts = np.bincount(((q.ts[m] - t0) // width).astype(np.int64), minlength=nb)[:nb]
        fig.add_trace(go.Scatter(x=x, y=counts / bin_minutes, name=md.venue_name(v), mode="lines",
                                 line_color=colors[int(v)]))
    fig.update_layout(title=f"Quote update rate (updates per minute, {bin_minutes:g}-min bins)",
                      yaxis_title="updates / minute", template="plotly_white", height=380)
    return fig


def spread_figure(md: MarketData, max_ticks: int = 5) -> go.Figure:
    """Share of each venue's two-sided quote updates by own spread in ticks (1, 2, …, ``max_ticks``+)."""
    q = md.quotes
    fig = go.Figure()
    labels = [str(i) for i in range(1, max_ticks)] + [f"{max_ticks}+"]
    colors = _venue_colors(md)
    for v in md.venues:
        m = q.venue == v
        b, a = q.bid_px[m, 0], q.ask_px[m, 0]
        ok = np.isfinite(a) & np.isfinite(b)
        ticks = np.clip(np.rint((a[ok] - b[ok]) / TICK).astype(np.int64), 1, max_ticks)
        share = np.bincount(ticks, minlength=max_ticks + 1)[1:] / max(ok.sum(), 1)
        fig.add_trace(go.Bar(x=labels, y=share, name=md.venue_name(v), marker_color=colors[int(v)]))
    fig.update_layout(title="Venue spread (share of two-sided quote updates)", xaxis_title="spread, ticks",
                      yaxis_title="share", yaxis_tickformat=".0%", barmode="group", template="plotly_white",
                      height=380)
    return fig


def touch_size_figure(md: MarketData) -> go.Figure:
    """Displayed size at the touch (level 0) per venue and side, shares (box plots, log scale)."""
    q = md.quotes
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=("bid size", "ask size"))
    colors = _venue_colors(md)
    for v in md.venues:
        m = q.venue == v
        for col, (px, sz) in enumerate(((q.bid_px, q.bid_sz), (q.ask_px, q.ask_sz)), start=1):
            ok = np.isfinite(px[m, 0]) & (sz[m, 0] > 0)
            fig.add_trace(go.Box(y=_sample(sz[m, 0][ok]), name=md.venue_name(v), marker_color=colors[int(v)],
                                 boxpoints=False, showlegend=False), 1, col)
    fig.update_yaxes(type="log", title_text="shares", row=1, col=1)
    fig.update_layout(title="Displayed size at the touch (per quote update)", template="plotly_white",
                      height=380)
    return fig


def best_price_time_figure(md: MarketData, facts: dict | None = None) -> go.Figure:
    """Share of the session each venue spends at the best bid / best ask (ties count for every venue)."""
    from ..data import venue_facts

    facts = facts or venue_facts(md)
    rows = facts["venues"]
    names = [r["name"] for r in rows]
    fig = go.Figure([go.Bar(x=names, y=[r["time_at_best_bid"] for r in rows], name="at best bid"),
                     go.Bar(x=names, y=[r["time_at_best_ask"] for r in rows], name="at best ask")])
    fig.update_layout(title="Time at the best price (share of the session, time-weighted)",
                      yaxis_tickformat=".0%", barmode="group", template="plotly_white", height=360)
    return fig


def trades_figure(md: MarketData) -> go.Figure:
    """Prints per venue: number of trades and volume (shares), split by aggressor side."""
    t = md.trades
    names = [md.venue_name(v) for v in md.venues]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("trades", "volume (shares)"))
    for side, label, color in ((1, "buyer-initiated", "#2ca02c"), (-1, "seller-initiated", "#d62728"),
                               (0, "unknown side", "#7f7f7f")):
        sel = t.side == side
        if not sel.any():
            continue
        n = [int(((t.venue == v) & sel).sum()) for v in md.venues]
        vol = [int(t.size[(t.venue == v) & sel].sum()) for v in md.venues]
        fig.add_trace(go.Bar(x=names, y=n, name=label, marker_color=color, legendgroup=label), 1, 1)
        fig.add_trace(go.Bar(x=names, y=vol, name=label, marker_color=color, legendgroup=label,
                             showlegend=False), 1, 2)
    fig.update_layout(title="Trades per venue", barmode="stack", template="plotly_white", height=360)
    return fig


def bid_queue_outflows(md: MarketData, T_ns: int) -> dict[int, np.ndarray]:
    """Best-bid queue outflow per venue over consecutive windows of ``T_ns`` (shares per window).

    Uses ``sorlib.ck.outflow.bid_queue_outflows`` when that module exists; otherwise this fallback:
    outflow = seller-initiated print volume on the venue + cancellations at the bid, where a
    cancellation is a bid size decrease at an unchanged bid price beyond the seller prints reported on
    the venue since its previous quote (so an execution that also shrinks the displayed bid counts
    once). Windows start at the first record of the data; the last, partial window is dropped.
    """
    try:
        from ..ck.outflow import bid_queue_outflows as ck_outflows  # type: ignore[import-not-found]
    except ImportError:
        ck_outflows = None
    if ck_outflows is not None:
        res = ck_outflows(md, T_ns)
        if isinstance(res, dict):
            return {int(k): np.asarray(v, float) for k, v in res.items()}
    q, t = md.quotes, md.trades
    t0 = _t0(md)
    t_end = max(int(q.ts.max()) if len(q) else t0, int(t.ts.max()) if len(t) else t0)
    n_win = int((t_end - t0) // T_ns)
    out: dict[int, np.ndarray] = {}
    for v in md.venues:
        tm = (t.venue == v) & (t.side < 0)
        tts, tsz = t.ts[tm], t.size[tm].astype(float)
        csum = np.concatenate([[0.0], np.cumsum(tsz)])
        qm = q.venue == v
        qts, bpx, bsz = q.ts[qm], q.bid_px[qm, 0], q.bid_sz[qm, 0].astype(float)
        dec = np.zeros(qts.shape[0])
        if qts.size > 1:
            same = (bpx[1:] == bpx[:-1]) & np.isfinite(bpx[1:])
            drop = np.where(same, np.maximum(bsz[:-1] - bsz[1:], 0.0), 0.0)
            # seller prints in (previous quote, this quote]
            prints = csum[np.searchsorted(tts, qts[1:], "right")] - csum[np.searchsorted(tts, qts[:-1], "right")]
            dec[1:] = np.maximum(drop - prints, 0.0)
        flow = np.zeros(max(n_win, 0))
        if n_win > 0:
            for ts_, w in ((tts, tsz), (qts, dec)):
                b = (ts_ - t0) // T_ns
                ok = (b >= 0) & (b < n_win)
                flow += np.bincount(b[ok].astype(np.int64), weights=w[ok], minlength=n_win)[:n_win]
        out[int(v)] = flow
    return out


def outflow_figure(md: MarketData, window_seconds: float = 60.0) -> go.Figure:
    """Distribution of best-bid queue outflow per venue over windows of ``window_seconds`` (shares),
    next to the venue's median displayed bid size — the ξ of Cont–Kukanov (see :func:`bid_queue_outflows`)."""
    flows = bid_queue_outflows(md, int(window_seconds * NS_PER_SECOND))
    colors = _venue_colors(md)
    fig = go.Figure()
    for v in md.venues:
        xi = flows.get(int(v), np.zeros(0))
        fig.add_trace(go.Box(y=xi, name=md.venue_name(v), marker_color=colors[int(v)], boxmean=True,
                             boxpoints=False))
    q = md.quotes
    med = [float(np.median(q.bid_sz[(q.venue == v) & (q.bid_sz[:, 0] > 0), 0]))
           if ((q.venue == v) & (q.bid_sz[:, 0] > 0)).any() else np.nan for v in md.venues]
    fig.add_trace(go.Scatter(x=[md.venue_name(v) for v in md.venues], y=med, mode="markers",
                             marker=dict(symbol="line-ew-open", size=28, color="black"),
                             name="median displayed bid"))
    fig.update_layout(title=f"Best-bid queue outflow per {window_seconds:g} s window (shares)",
                      yaxis_title="shares", template="plotly_white", height=400)
    return fig


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
