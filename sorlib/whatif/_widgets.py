"""Widget plumbing shared by the what-if panels (:mod:`.comparison`, :mod:`.ck_placement`).

Nothing here imports ``ipywidgets`` at module import: headless runs (papermill, ``sorlib report``) never
build a widget. Slider labels are never truncated (``description_width: initial``, units spelt out as
``USD/share`` and ``shares``), a parameter that cannot change the result in the current mode is
``disabled`` with its one-line reason beside it, and the status line shows "—" until a first move has
been timed (never ``nan``). Every row fits a 1,000 px notebook column.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

import numpy as np
import plotly.graph_objects as go

from ..errors import ConfigError

#: Labels take the width they need (no "lambda_over $/…"); :func:`align` then gives every slider of a panel
#: the same label width so that the tracks line up.
LABEL_STYLE = {"description_width": "initial"}
#: Upper bound of the width of one label character (13 px UI font), px.
CHAR_PX = 7.5
#: Width of a slider's track and readout, px.
TRACK_PX = 300
#: The panel fits a 1,000 px notebook column; live figures are drawn this wide.
PANEL_WIDTH = "100%"
PANEL_MAX_WIDTH = "1000px"
FIGURE_WIDTH_PX = 980


def figure_widgets(figs: dict[str, go.Figure]) -> dict[str, go.FigureWidget]:
    """Live ``FigureWidget`` s of ``figs``, :data:`FIGURE_WIDTH_PX` wide (a widget does not size itself to
    its column); plotly ≥ 6 needs ``anywidget``: a clear error without it."""
    try:
        return {n: go.FigureWidget(f).update_layout(width=FIGURE_WIDTH_PX, autosize=False)
                for n, f in figs.items()}
    except ImportError as e:
        raise ConfigError(f"live figures need anywidget: pip install anywidget ({e})") from None


def sync_widget(widget: go.FigureWidget, fig: go.Figure) -> None:
    """Copy ``fig``'s traces, title and meta into ``widget`` in one batch (same trace layout: data only)."""
    with widget.batch_update():
        same = len(widget.data) == len(fig.data) and all(
            a.type == b.type for a, b in zip(widget.data, fig.data, strict=True))
        if same:
            for a, b in zip(widget.data, fig.data, strict=True):
                props = b.to_plotly_json()
                props.pop("type", None)
                a.update(props, overwrite=True)
        else:  # e.g. a venue appears in the split: replace the traces
            widget.data = []
            widget.add_traces(list(fig.data))
        widget.layout.title = fig.layout.title
        widget.layout.meta = fig.layout.meta


def _same(current, new) -> bool:
    """Whether a trace property already holds ``new`` (arrays by value, dicts key by key)."""
    if isinstance(new, dict):
        return current is not None and all(_same(current[k], v) for k, v in new.items())
    if isinstance(new, list | tuple | np.ndarray):
        if current is None:
            return False
        a, b = np.asarray(current), np.asarray(new)
        if a.shape != b.shape:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f" and b.dtype.kind == "f"))
    return current == new


def restyle(widget: go.FigureWidget, traces: dict[int, dict], title: str | None = None) -> None:
    """Update the given traces (index → props) and the title in one message to the front end, sending only
    the properties whose value changed (the front end redraws less)."""
    with widget.batch_update():
        for i, props in traces.items():
            trace = widget.data[i]
            changed = {k: v for k, v in props.items() if not _same(trace[k], v)}
            if changed:
                trace.update(changed)
        if title is not None and widget.layout.title.text != title:
            widget.layout.title.text = title


def format_ms(ms: float | None) -> str:
    """``"123 ms"``, or ``"—"`` when nothing was timed yet (never ``nan``)."""
    return f"{ms:.0f} ms" if ms is not None and math.isfinite(ms) else "—"


def status_html(head: str, ms: float | None) -> str:
    """The status line above the figures: ``head`` and the time of the last recomputation."""
    return f"<div class='sorlib-status'>{head} · recomputed in {format_ms(ms)}</div>"


class Timer:
    """``with Timer() as t: ...`` → ``t.ms`` (wall time, milliseconds)."""

    ms: float | None = None

    def __enter__(self) -> Timer:
        self._t = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.ms = (time.perf_counter() - self._t) * 1e3


def slider(kind: str, description: str, value, **kw):
    """An ipywidgets slider (``kind``: ``FloatLogSlider``, ``FloatSlider``, ``IntSlider``,
    ``SelectionSlider``) with an untruncated label and updates on release / key press."""
    import ipywidgets as w

    kw.setdefault("continuous_update", False)
    return getattr(w, kind)(value=value, description=description, style=dict(LABEL_STYLE), **kw)


def label_px(description: str) -> int:
    """A width (px) that holds ``description`` untruncated in the widgets' 13 px font."""
    return int(len(description) * CHAR_PX) + 12


def align(controls: Iterable) -> None:
    """Give every control the label width of the longest label (never less than it needs) and the same
    track, so the sliders line up; each row stays within the 1,000 px column."""
    controls = list(controls)
    px = max(label_px(c.description) for c in controls)
    for c in controls:
        c.style.description_width = f"{px}px"
        c.layout.width = f"{px + TRACK_PX}px"


def log_slider(description: str, value: float, lo: float, hi: float, step: float = 0.05):
    """A base-10 log slider over ``[lo, hi]`` (``value`` clipped into it)."""
    v = min(max(float(value), lo), hi)
    return slider("FloatLogSlider", description, v, base=10, min=math.log10(lo), max=math.log10(hi), step=step,
                  readout_format=".4g")


def labelled(text: str, control, like):
    """``control`` (e.g. a toggle) with ``text`` as its label, aligned with the slider ``like``'s label."""
    import ipywidgets as w

    label = w.HTML(f"<div style='text-align:right;padding-right:8px'>{text}</div>",
                   layout=w.Layout(width=like.style.description_width))
    return w.HBox([label, control], layout=w.Layout(align_items="center"))


def param_row(control, reason=None):
    """One row: the control and, beside it, the one-line reason label (or nothing)."""
    import ipywidgets as w

    items = [control] + ([reason] if reason is not None else [])
    return w.HBox(items, layout=w.Layout(align_items="center", width="100%"))


def reason_label():
    """The (initially empty) one-line reason shown beside a slider."""
    import ipywidgets as w

    return w.HTML("", layout=w.Layout(margin="0 0 0 12px", flex="1 1 auto"))


def set_reasons(controls: dict, labels: dict, disabled: dict[str, str], notes: dict[str, str]) -> None:
    """Disable the controls named in ``disabled`` (name → reason) and enable the others; show the reason,
    or the ``notes`` text for a live control, beside each."""
    for name, c in controls.items():
        c.disabled = name in disabled
        text = disabled.get(name) or notes.get(name) or ""
        style = "color:#777" if name in disabled else "color:#555"
        labels[name].value = f"<span style='{style};font-size:12px'>{text}</span>" if text else ""


def on_any_change(controls: Iterable, callback: Callable[[], None]) -> None:
    """Call ``callback()`` whenever the value of any of ``controls`` changes."""
    for c in controls:
        c.observe(lambda _change: callback(), names="value")


def panel(rows: list, status, figures: list, note: str | None = None):
    """The panel: an optional note, the control rows, the status line and the figures, ≤ 1,000 px wide."""
    import ipywidgets as w

    head = [w.HTML(f"<i>{note}</i>", layout=w.Layout(width="100%"))] if note else []
    return w.VBox(head + [w.VBox(rows), status, w.VBox(figures, layout=w.Layout(width="100%"))],
                  layout=w.Layout(width=PANEL_WIDTH, max_width=PANEL_MAX_WIDTH))
