"""Risk-control figures and plot-ready tables (:mod:`sorlib.risk`).

Inputs are either a :class:`~sorlib.risk.RiskGuard` after a replay or a backtest's results dict (keys
``risk_events``, ``risk_event_counts``, ``venue_scores``). Tables: :func:`risk_events_frame`,
:func:`venue_scores_frame`, :func:`event_counts_frame`; figures: :func:`risk_events_figure` (a timeline of
every control that acted, one row per rule) and :func:`venue_score_figure` (a score component per venue
over time).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..risk import RiskGuard
from ..tables import code_label
from .colors import venue_colors
from .style import finish, no_tex, time_label

#: US equities: every figure's clock
_TZ = "America/New_York"

__all__ = ["event_counts_frame", "risk_events_figure", "risk_events_frame", "venue_score_figure",
           "venue_scores_frame"]

_UNITS = {"cost": "score cost (USD/share)", "fill_rate": "fill rate (share of sent)",
          "fade_rate": "fade rate (share of displayed)", "survival": "touch survival over latency",
          "markout_1s": "markout 1 s (bps)", "markout_5s": "markout 5 s (bps)",
          "markout_30s": "markout 30 s (bps)", "markout_60s": "markout 60 s (bps)"}


def risk_events_frame(source: RiskGuard | dict) -> pd.DataFrame:
    """Events as a table: ``time`` (UTC datetime), ``order``, ``venue``, ``rule``, ``detail``; time order."""
    if isinstance(source, RiskGuard):
        df = source.events_frame()
    else:
        df = pd.DataFrame(source.get("risk_events") or [], columns=["time", "order", "venue", "rule", "detail"])
    df = df.copy()
    df["time"] = pd.to_datetime(df["time"], utc=True, format="ISO8601")
    return df.sort_values(["time", "order"], kind="stable").reset_index(drop=True)


def venue_scores_frame(source: RiskGuard | dict) -> pd.DataFrame:
    """The venue-score log: ``time`` (UTC), ``order``, ``venue`` and the components (``fill_rate``,
    ``fade_rate``, ``markout_*s`` in bps, ``cost`` in $/share, ``survival``)."""
    if isinstance(source, RiskGuard):
        df = source.scores_frame().drop(columns=["time_ns"], errors="ignore")
    else:
        df = pd.DataFrame(source.get("venue_scores") or [])
    if len(df):
        df["time"] = pd.to_datetime(df["time"], utc=True, format="ISO8601")
        df["venue"] = df["venue"].astype(str)
    return df


def event_counts_frame(source: RiskGuard | dict) -> pd.DataFrame:
    """``rule``, ``count``: how often each control acted."""
    counts = source.event_counts() if isinstance(source, RiskGuard) else (source.get("risk_event_counts") or {})
    return pd.DataFrame(sorted(counts.items()), columns=["rule", "count"])


def risk_events_figure(source: RiskGuard | dict, title: str = "Risk controls that acted") -> go.Figure:
    """A timeline: one marker per event at its time, one row per rule (hover: order, venue, detail)."""
    df = risk_events_frame(source)
    fig = go.Figure()
    for rule, g in df.groupby("rule", sort=True):
        shown = code_label(rule)  # the data keep the rule's code ("luld_halt"), the reader sees "LULD halt"
        fig.add_trace(go.Scatter(x=g["time"].dt.tz_convert(_TZ).dt.tz_localize(None), y=[shown] * len(g),
                                 mode="markers", name=f"{shown} ({len(g)})",
                                 customdata=[[no_tex(str(x)) for x in row] for row in g[["order", "venue", "detail"]].values.tolist()],
                                 hovertemplate="%{x}<br>order %{customdata[0]}, venue %{customdata[1]}"
                                               "<br>%{customdata[2]}<extra></extra>"))
    fig.update_layout(title=title if len(df) else title + " (none)", xaxis_title=time_label(_TZ),
                      yaxis_title="control that acted")
    return finish(fig)


def _venue_name(v, venue_names: dict[int, str] | None) -> str:
    """A venue of the score log (an integer key of a RiskGuard, or a name in a results dict) as its name."""
    try:
        return (venue_names or {}).get(int(v), str(v))
    except (TypeError, ValueError):
        return str(v)


def venue_score_figure(source: RiskGuard | dict, component: str = "cost",
                       title: str | None = None, venue_names: dict[int, str] | None = None) -> go.Figure:
    """``component`` of each venue's score over time, New York time (a step line per venue, as logged at
    decisions), each venue in its colour of :mod:`~sorlib.plots.colors` and named by ``venue_names``."""
    df = venue_scores_frame(source)
    fig = go.Figure()
    if len(df) and component not in df.columns:
        raise ValueError(f"no score component {component!r}; have {sorted(set(df.columns) - {'time', 'order', 'venue'})}")
    names = {v: _venue_name(v, venue_names) for v in (df["venue"].unique() if len(df) else [])}
    colors = venue_colors(sorted(set(names.values())))  # by name: the same colour as every other figure
    for venue, g in (df.groupby("venue", sort=True) if len(df) else []):
        name = names[venue]
        fig.add_trace(go.Scatter(x=g["time"].dt.tz_convert(_TZ).dt.tz_localize(None), y=g[component], mode="lines",
                                 line_shape="hv", name=name,
                                 line_color=colors[name]))
    label = _UNITS.get(component, component)
    fig.update_layout(title=title or f"Venue scores: {label}", xaxis_title=time_label(_TZ), yaxis_title=label)
    return finish(fig)
