"""The robustness verdict as a forest plot: one row per assumption variant, per baseline a marker at the
router's saving (bps, positive = the router paid less) with its 95% bootstrap interval, and the zero line.

The input is the table of :func:`sorlib.search.verdict.run_verdict` (``VerdictResult.table``, or
:func:`~sorlib.search.verdict.load_verdict` of a ``robustness*.json``): columns ``variant``,
``{oos,is}_{bps,lo,hi}_{baseline}`` and ``verdict_withheld``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..metrics import strategy_label
from .colors import strategy_color
from .style import finish

__all__ = ["robustness_figure"]

_OFFSET = 0.22  # vertical spacing of a row's baselines (row units)


def robustness_figure(table: pd.DataFrame, sample: str = "oos", baselines: tuple[str, ...] = ("best_ask", "twap",
                                                                                              "vwap"),
                      title: str | None = None) -> go.Figure:
    """Forest plot of ``table`` (``sample``: ``"oos"`` out of sample, ``"is"`` in sample). Variants run top
    to bottom in table order; a variant whose verdict is withheld (clean-up dominated) is labelled so and
    drawn with open markers; a variant that repeats another's model says which."""
    n = len(table)
    ypos = np.arange(n)[::-1].astype(float)  # first variant on top
    labels = []
    for _, r in table.iterrows():
        text = str(r["variant"])
        if isinstance(r.get("same_model_as"), str) and r["same_model_as"]:
            text += f" (= {r['same_model_as']})"
        if bool(r.get("verdict_withheld", False)):
            text += " (no verdict)"
        labels.append(text)
    withheld = table.get("verdict_withheld", pd.Series(False, index=table.index)).astype(bool).to_numpy()
    fig = go.Figure()
    for j, b in enumerate(baselines):
        col = f"{sample}_bps_{b}"
        if col not in table:
            continue
        x = table[col].to_numpy(float)
        lo, hi = table[f"{sample}_lo_{b}"].to_numpy(float), table[f"{sample}_hi_{b}"].to_numpy(float)
        err = dict(type="data", symmetric=False, array=np.where(np.isfinite(hi), hi - x, 0.0),
                   arrayminus=np.where(np.isfinite(lo), x - lo, 0.0), thickness=1.5, width=4)
        y = ypos + (1 - j) * _OFFSET
        text = [f"{lab}<br>vs {strategy_label(b)}: {_num(v)} bps [{_num(a)}, {_num(c)}]"
                for lab, v, a, c in zip(labels, x, lo, hi, strict=True)]
        fig.add_trace(go.Scatter(
            x=x, y=y, mode="markers", name=f"vs {strategy_label(b)}", error_x=err, text=text,
            hovertemplate="%{text}<extra></extra>",
            marker=dict(color=strategy_color(b), size=8,
                        symbol=["circle-open" if w else "circle" for w in withheld])))
    fig.add_vline(x=0, line_width=1, line_color="black")
    which = "out of sample (walk-forward)" if sample == "oos" else "in sample (best grid point)"
    fig.update_layout(title=title or f"Router savings under each assumption variant, {which}, 95% intervals",
                      xaxis_title="saving, bps (positive = router cheaper)",
                      yaxis=dict(tickmode="array", tickvals=list(ypos), ticktext=labels, range=[-0.6, n - 0.4]))
    return finish(fig, height=max(320, 120 + 34 * n), legend="below")


def _num(v: float) -> str:
    return "—" if not math.isfinite(v) else f"{v:+.2f}"
