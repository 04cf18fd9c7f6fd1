"""Shared look of every figure: human axis labels with units, readable log ticks, legends that fit, no
fixed width, and no ``$`` reaching MathJax.

Plotly hands any text holding two ``$`` (a title like ``"V in $, λ in $/share"``) to MathJax, which in
JupyterLab and HTML reports renders it as broken maths or hides it. The figures therefore spell money as
``USD``; :func:`finish` replaces any ``$`` that still arrives (a caller's title, a venue name) by the
full-width ``＄`` (U+FF04), which MathJax ignores.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import plotly.graph_objects as go

__all__ = ["LABELS", "TEMPLATE", "finish", "label", "log_axis", "log_ticks", "no_tex", "si", "time_label"]

TEMPLATE = "plotly_white"
SAFE_DOLLAR = "\uff04"

#: Readable axis labels (with units) of the columns the figures plot.
LABELS: dict[str, str] = {
    "lambda_over": "λ_o, over-fill penalty (USD/share)",
    "lambda_under": "λ_u, under-fill penalty (USD/share)",
    "theta_queue": "θ, queue-risk penalty (USD/share)",
    "total_cash": "total cash paid (USD)",
    "cost_vs_best_bps": "cost above the grid's best (bps)",
    "shortfall_bps": "implementation shortfall (bps)",
    "savings_bps": "savings (bps)",
    "avg_fill_px": "average fill price (USD/share)",
    "cleanup_cash": "clean-up cash (USD)",
    "cleanup_shares": "clean-up (shares)",
    "fills": "fills (count)",
    "shares": "shares",
}

#: Short labels of the search parameters (panel titles, category axes).
SHORT: dict[str, str] = {"lambda_over": "λ_o (USD/share)", "lambda_under": "λ_u (USD/share)",
                         "theta_queue": "θ (USD/share)"}


def label(column: str) -> str:
    """Readable label of a column: from :data:`LABELS`, else the name with spaces (``_bps`` -> ``(bps)``)."""
    if column in LABELS:
        return LABELS[column]
    for suffix, unit in (("_bps", "bps"), ("_usd", "USD"), ("_cash", "USD"), ("_shares", "shares")):
        if column.endswith(suffix):
            return f"{column[: -len(suffix)].replace('_', ' ')} ({unit})"
    return column.replace("_", " ")


def time_label(tz: str | None) -> str:
    """``"time (New York)"`` for ``America/New_York``; the zone's city otherwise."""
    if not tz:
        return "time (UTC)"
    city = str(tz).rsplit("/", 1)[-1].replace("_", " ")
    return f"time ({city})"


def si(x: float) -> str:
    """A count in short form: 1, 20, 500, 1k, 2.5k, 10k, 1M."""
    x = float(x)
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            v = x / div
            return f"{v:.3g}{suffix}"
    return f"{x:.3g}"


def log_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Tick values and labels for a log axis spanning ``[lo, hi]`` (> 0): decades, plus 2 and 5 within each
    decade when the data span less than a factor of 1000 — every tick labelled in full (``200``, ``5k``), never a
    bare ``2`` or ``5``."""
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= 0:
        return [1.0, 10.0], ["1", "10"]
    lo = max(lo, hi * 1e-9, 1e-12)
    d0, d1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    if d1 == d0:
        d1 += 1
    steps = (1, 2, 5) if hi / lo < 1000 else (1,)
    vals = [m * 10.0 ** d for d in range(d0, d1 + 1) for m in steps]
    vals = [v for v in vals if lo / 1.0001 <= v * 2.5 and v / 2.5 <= hi * 1.0001] or vals
    return vals, [si(v) for v in vals]


def log_axis(fig: go.Figure, values: Iterable, axis: str = "y", **selector) -> None:
    """Set the axes chosen by ``selector`` (``row``/``col``) to log with readable ticks for ``values``."""
    v = np.concatenate([np.ravel(np.asarray(a, float)) for a in values]) if values else np.zeros(0)
    v = v[np.isfinite(v) & (v > 0)]
    lo, hi = (float(v.min()), float(v.max())) if v.size else (1.0, 10.0)
    vals, text = log_ticks(lo, hi)
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    update(type="log", tickmode="array", tickvals=vals, ticktext=text, showticklabels=True,
           minor=dict(showgrid=False), **selector)


def no_tex(text):
    """``text`` with every ``$`` replaced by the full-width ``＄`` (strings only; others unchanged)."""
    return text.replace("$", SAFE_DOLLAR) if isinstance(text, str) and "$" in text else text


def _scrub(obj, path=()):
    """Paths (tuples) of strings (or lists of strings) holding ``$`` in a plotly JSON-like object, with
    their safe text."""
    if isinstance(obj, str):
        if "$" in obj:
            yield path, no_tex(obj)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _scrub(v, (*path, k))
    elif isinstance(obj, (list, tuple)) or (isinstance(obj, np.ndarray) and obj.dtype.kind in "OU"):
        seq = list(obj)
        if any(isinstance(x, (dict, list, tuple, np.ndarray)) for x in seq):
            for i, x in enumerate(seq):
                yield from _scrub(x, (*path, i))
        elif any(isinstance(x, str) and "$" in x for x in seq):
            yield path, [no_tex(x) for x in seq]


def _legend_entries(fig: go.Figure) -> list[str]:
    """Names of the legend's entries (one per legend group)."""
    seen: dict[str, str] = {}
    single = len(fig.data) == 1
    for t in fig.data:
        show = getattr(t, "showlegend", False) if "showlegend" in t else False
        if show is False or (show is None and (single or t.type in ("heatmap", "parcoords"))):
            continue
        seen.setdefault(str(t.legendgroup or t.name), str(t.name))
    return list(seen.values())


def _legend_rows(names: list[str], width: float = 900.0) -> int:
    """Rows a horizontal legend of ``names`` needs at ``width`` px."""
    rows, used = 1, 0.0
    for name in names:
        w = 40 + 6.5 * len(name)
        if used and used + w > width:
            rows, used = rows + 1, 0.0
        used += w
    return rows


def finish(fig: go.Figure, height: int = 420, legend: str = "auto") -> go.Figure:
    """The common layout: white template, width from the container (autosize), ``height`` px, and the
    legend under the plot (horizontal) when it has more than five entries or ``legend="below"``; then every
    ``$`` left in any text is made safe from MathJax (:func:`no_tex`)."""
    fig.update_layout(template=TEMPLATE, autosize=True, width=None, height=height,
                      margin=dict(l=70, r=30, t=80, b=60))
    names = _legend_entries(fig)
    if fig.layout.showlegend is not False and names and (legend == "below" or (legend == "auto"
                                                                             and len(names) > 5)):
        extra = 24 * _legend_rows(names)
        fig.update_layout(legend=dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0,
                                      xanchor="left", font=dict(size=11)),
                          height=height + extra, margin=dict(b=70 + extra))
    js = fig.to_plotly_json()
    for i, trace in enumerate(js.get("data", [])):
        for path, safe in _scrub(trace):
            fig.data[i][path] = safe
    for path, safe in _scrub(js.get("layout", {})):
        if path and path[0] == "template":
            continue
        fig.layout[path] = safe
    return fig
