"""Figures of the fill validation (notebook 07): a :class:`~sorlib.fillcheck.FillValidation` in, a
``go.Figure`` out. One colour per queue model, the same in every figure; the real orders in black."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..fillcheck import BUCKET_LABELS, FillValidation
from .colors import PALETTE, dodge, series_style
from .style import finish

__all__ = ["bias_figure", "calibration_figure", "fillcheck_figures", "markout_figure", "model_color", "show_verdict",
           "bracket_frame", "summary_frame", "verdict_html"]

_KIND_SLOT = {"conservative": 0, "power": 1, "log": 2, "power2": 3, "log2": 4, "power3": 5, "simple": 6,
              "paper": 7}
REAL_COLOR, BASELINE_COLOR = "#000000", "#999999"


def model_color(label: str) -> str:
    """Colour of a model label (``power:2`` and ``power:fit`` share the power colour; fits are dashed)."""
    if label == "real":
        return REAL_COLOR
    if label == "arrivals":
        return BASELINE_COLOR
    return PALETTE[_KIND_SLOT.get(label.split(":")[0], 8)]


def _styles(models) -> dict[str, tuple[dict, dict]]:
    """(line, marker) of each model, in the order drawn (:func:`~sorlib.plots.colors.series_style`): models that
    predict alike (conservative, power, log) stay visible — a wide solid line under narrower dashed ones, each
    with its own marker; the colour stays the model's (a fit shares its kind's colour)."""
    out = {}
    for i, m in enumerate(models):
        line, marker = series_style(i)
        out[m] = ({**line, "color": model_color(m)}, {**marker, "color": model_color(m)})
    return out


def calibration_figure(res: FillValidation, horizon: float | None = None, sample: str | None = None,
                       cls: str | None = None) -> go.Figure:
    """Predicted against realised fill rate (%) per Q/L bucket, one line per model, and the diagonal (a
    perfectly calibrated model), over the candidates of class ``cls`` (default: the headline class)."""
    h = max(res.horizons) if horizon is None else horizon
    s, c = sample or res.score_sample, cls or res.candidates
    rows = res.bucket_rows(s, h, c)
    fig = go.Figure()
    top = max([100 * max(r["realised"], r["predicted"]) for r in rows] + [1.0]) * 1.05
    fig.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", name="perfect calibration",
                             line=dict(color=BASELINE_COLOR, dash="dot"), hoverinfo="skip"))
    order = {b: i for i, b in enumerate(BUCKET_LABELS)}
    styles = _styles(res.models)
    for m in res.models:
        g = sorted((r for r in rows if r["model"] == m), key=lambda r: order[r["bucket"]])
        if not g:
            continue
        line, marker = styles[m]  # x is the realised rate, the same for every model: never dodged
        fig.add_trace(go.Scatter(
            x=[100 * r["realised"] for r in g], y=[100 * r["predicted"] for r in g], mode="lines+markers",
            name=m, line=line, marker=marker, text=[r["bucket"] for r in g],
            customdata=[[r["n"], r["shares"]] for r in g],
            hovertemplate=f"{m}<br>Q/L %{{text}}: realised %{{x:.1f}}%, predicted %{{y:.1f}}%<br>"
                          "%{customdata[0]:,} orders, %{customdata[1]:,} shares<extra></extra>"))
    fig.update_layout(title=f"Calibration at {h:g} s ({s} orders, {c}): predicted vs realised fill rate per "
                            "Q/L bucket", xaxis_title="realised fill rate (% of shares posted)",
                      yaxis_title="predicted fill rate (%)", hovermode="x unified")  # every model at a bucket
    fig.update_xaxes(unifiedhovertitle_text="realised %{x:.1f}%")
    return finish(fig, height=480)


def bias_figure(res: FillValidation, sample: str | None = None, cls: str | None = None) -> go.Figure:
    """Bias (predicted − realised fill rate, points) and calibration error (points) by horizon, per model, over
    the candidates of class ``cls`` (default: the headline class)."""
    s, c = sample or res.score_sample, cls or res.candidates
    fig = make_subplots(rows=1, cols=2, subplot_titles=["bias (points; > 0 = over-credits)",
                                                        "calibration error (points)"], horizontal_spacing=0.1)
    styles = _styles(res.models)
    hs = sorted({r["horizon_s"] for r in res.table(s, cls=c)})
    step = min((b - a for a, b in zip(hs, hs[1:], strict=False)), default=10.0)
    for i, m in enumerate(res.models):
        g = sorted((r for r in res.table(s, cls=c) if r["model"] == m), key=lambda r: r["horizon_s"])
        h = [r["horizon_s"] for r in g]
        x = [v + dodge(i, len(res.models), 0.2 * step) for v in h]  # models side by side at each horizon
        line, marker = styles[m]
        for col, key in ((1, "bias_pp"), (2, "calib_pp")):
            fig.add_trace(go.Scatter(x=x, y=[r[key] for r in g], mode="lines+markers", name=m, legendgroup=m,
                                     showlegend=col == 1, line=line, marker=marker, customdata=h,
                                     hovertemplate=f"{m}, %{{customdata:g}} s: %{{y:.2f}} points<extra></extra>"),
                          row=1, col=col)
    fig.add_hline(y=0, line=dict(color=BASELINE_COLOR, width=1), row=1, col=1)
    fig.update_xaxes(title_text="horizon (s after arrival)", tickmode="array", tickvals=hs, ticktext=[f"{v:g}" for v in hs],
                     unifiedhovertitle_text="%{customdata:g} s")
    fig.update_layout(title=f"Bias and calibration error by horizon ({s} orders, {c})", hovermode="x unified")
    return finish(fig, height=440)


def markout_figure(res: FillValidation) -> go.Figure:
    """Share-weighted mid move after real fills, each model's fills and the candidates' arrivals (bps, from
    the resting order's side: negative = adverse selection), at each markout horizon."""
    fig = go.Figure()
    for r in res.markouts:
        keys = [k for k in r if k.endswith("s") and k not in ("fills", "shares")]
        who = r["who"]
        ys = [r[k] for k in keys]
        # the arrivals' markout (the baseline) is often within ±0.05 bps of zero: a bar too small to see, so
        # its value is written on it ("n/a" when no mid was there at that horizon)
        base = who == "arrivals"
        label = [("n/a" if y != y else f"{y:+.2f}" if abs(y) >= 0.01 else f"{y:+.3f}") for y in ys] if base else None
        fig.add_trace(go.Bar(x=keys, y=[0.0 if y != y and base else y for y in ys], name=who,
                             marker_color=model_color(who), text=label, textposition="outside", cliponaxis=False,
                             textfont=dict(color=BASELINE_COLOR, size=11),
                             marker_pattern_shape="/" if who.endswith(":fit") else "",
                             hovertemplate=f"{who} (%{{customdata:,}} fills): %{{x}} "
                                           + ("%{text}" if base else "%{y:.2f}") + " bps<extra></extra>",
                             customdata=[r["fills"]] * len(keys)))
    fig.add_hline(y=0, line=dict(color=BASELINE_COLOR, width=1), layer="below")
    fig.update_layout(barmode="group", title="Markouts of passive fills: real vs model (bps, resting order's side)",
                      xaxis_title="time after the fill", yaxis_title="mid move (bps; < 0 = adverse)")
    return finish(fig, height=440)


def fillcheck_figures(res: FillValidation) -> dict[str, go.Figure]:
    """Every figure of the validation, by name."""
    return {"calibration": calibration_figure(res), "bias": bias_figure(res), "markouts": markout_figure(res)}


def summary_frame(res: FillValidation, sample: str | None = None, cls: str | None = None):
    """The summary rows of one sample and class (default: the headline) as a table (rates in %, errors in
    points)."""
    import pandas as pd

    df = pd.DataFrame(res.table(sample, cls=cls))
    if df.empty:
        return df
    df[["realised", "predicted"]] *= 100
    return df.rename(columns={"realised": "realised %", "predicted": "predicted %"}).drop(columns="sample")


def bracket_frame(a: FillValidation, *others: FillValidation, horizon: float | None = None):
    """Calibration error and bias (points) of every model under two or more validations of the same orders that
    differ in ``own_prints`` (reassign: the default; drop: a lower bound, keep: an upper bound of what the models
    should fill), side by side."""
    import pandas as pd

    h = max(a.horizons) if horizon is None else horizon
    rows = []
    for m in a.models:
        row = {"model": m}
        for r in (a, *others):
            x = next((x for x in r.table(horizon=h) if x["model"] == m), None)
            own = r.info.get("own_prints", "reassign")
            row[f"calib {h:g}s ({own})"] = x["calib_pp"] if x else float("nan")
            row[f"bias {h:g}s ({own})"] = x["bias_pp"] if x else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


_OWN_TEXT = {"reassign": "leave the prints the orders queued behind them would have received (reassign)",
             "drop": "are removed from the prints (drop)", "keep": "stay on the tape as prints (keep)"}


def _other_class(res: FillValidation) -> str:
    """The class reported beside the headline: ``improved`` unless it is the headline (then ``joined``)."""
    return "joined" if res.candidates == "improved" else "improved"


def verdict_html(res: FillValidation, note: str = "") -> str:
    """The page's headline: the verdict sentence, every model's calibration error and bias at each horizon over
    the headline class, the same with realised/predicted fill rates over the class reported separately
    (:func:`_other_class`), the candidates scored and excluded, the notes, and where the data came from."""
    import html

    hs = list(res.horizons)
    other = _other_class(res)
    head = "".join(f"<th>calib {h:g} s</th><th>bias {h:g} s</th>" for h in hs)
    head2 = "".join(f"<th>calib {h:g} s</th><th>real / pred {h:g} s (%)</th>" for h in hs)
    body, body2 = [], []
    for m in res.models:
        cells, cells2 = "", ""
        for h in hs:
            r = next((r for r in res.table(horizon=h) if r["model"] == m), None)
            cells += (f"<td>{r['calib_pp']:.2f}</td><td>{r['bias_pp']:+.2f}</td>" if r and r["n"] else
                      "<td>—</td><td>—</td>")
            o = next((r for r in res.table(horizon=h, cls=other) if r["model"] == m), None)
            cells2 += (f"<td>{o['calib_pp']:.2f}</td><td>{100 * o['realised']:.1f} / {100 * o['predicted']:.1f}"
                       "</td>" if o and o["n"] else "<td>—</td><td>—</td>")
        body.append(f"<tr><td>{html.escape(m)}</td>{cells}</tr>")
        body2.append(f"<tr><td>{html.escape(m)}</td>{cells2}</tr>")
    ex = res.exclusions.get(f"{max(hs):g}s", {})
    left = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in ex.items() if k != "scored" and v)
    n_other = res.by_class.get(other, {}).get("exclusions", {}).get(f"{max(hs):g}s", {}).get("scored", 0)
    notes = "".join(f"<li>{html.escape(t)}</li>" for t in res.notes)
    return ("<div class='sorlib-verdict'><style>.sorlib-verdict table{border-collapse:collapse;"
            "font-variant-numeric:tabular-nums}.sorlib-verdict th,.sorlib-verdict td{border-bottom:1px solid #ccc;"
            "padding:.25em .6em;text-align:right}.sorlib-verdict .sentence{font-size:1.1em;font-weight:600}</style>"
            f"<p class='sentence'>{html.escape(res.verdict())}</p>"
            f"<div style='overflow-x:auto'><table><tr><th>model (points; {html.escape(res.candidates)})</th>{head}"
            f"</tr>{''.join(body)}</table></div>"
            f"<p>{res.info.get(res.candidates, res.info.get('candidates', 0)):,} candidate orders "
            f"({html.escape(res.candidates)}); scored at {max(hs):g} s: "
            f"{ex.get('scored', 0):,}{'; excluded: ' + html.escape(left) if left else ''}. Sample: "
            f"{res.score_sample}; the real order's own executions {_OWN_TEXT.get(res.info.get('own_prints'), '')}"
            ".</p>"
            f"<p>Reported separately: the {html.escape(other)} orders ({n_other:,} scored at {max(hs):g} s).</p>"
            f"<div style='overflow-x:auto'><table><tr><th>model ({html.escape(other)})</th>{head2}</tr>"
            f"{''.join(body2)}</table></div>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + (f"<p><i>{html.escape(note)}</i></p>" if note else "") + "</div>")


def show_verdict(res: FillValidation, note: str = "") -> None:
    """Display :func:`verdict_html` in a notebook."""
    from IPython.display import HTML, display

    display(HTML(verdict_html(res, note)))
