"""Widget plumbing shared by the what-if panels (:mod:`.comparison`, :mod:`.ck_placement`).

Nothing here imports ``ipywidgets`` at module import: headless runs (papermill, ``sorlib report``) never
build a widget. Slider labels are never truncated (``description_width: initial``, units spelt out as
``USD/share`` and ``shares``), a parameter that cannot change the result in the current mode is
``disabled`` with its one-line reason beside it, and the status line shows "—" until a first move has
been timed (never ``nan``). Every row fits a 1,000 px notebook column.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator

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


def live_figures(figs: dict[str, go.Figure]):
    """``(figures, widget)``: copies of ``figs`` :data:`FIGURE_WIDTH_PX` wide (what the live figures show,
    updated in place by :func:`restyle` / :func:`sync_widget`) and the :class:`~._live.LiveFigures` widget
    that draws them (:func:`show` sends the changed ones); a clear error without ``anywidget``."""
    try:
        from ._live import LiveFigures
    except ImportError as e:
        raise ConfigError(f"live figures need anywidget: pip install anywidget ({e})") from None
    figures = {n: _live_layout(go.Figure(f)) for n, f in figs.items()}
    return figures, LiveFigures(figures)


def _live_layout(fig: go.Figure) -> go.Figure:
    """``fig`` :data:`FIGURE_WIDTH_PX` wide, its tick labels never hidden: plotly then need not measure every
    label at each redraw to hide the ones past the figure's edge (none is, at this fixed size)."""
    fig.update_layout(width=FIGURE_WIDTH_PX, autosize=False)
    fig.update_xaxes(ticklabeloverflow="allow")
    fig.update_yaxes(ticklabeloverflow="allow")
    return fig


def show(widget, figures: dict[str, go.Figure], names: Iterable[str], status: str | None = None) -> None:
    """Send the figures ``names`` (and the ``status`` HTML, None: unchanged) to the live-figures ``widget``
    in one message (``widget`` None: no widget, nothing to do)."""
    if widget is not None:
        widget.show(figures, names, status)


def sync_widget(widget: go.Figure, fig: go.Figure) -> None:
    """Copy ``fig``'s traces, title and meta into the figure ``widget`` (a ``go.Figure`` or ``FigureWidget``)
    in one batch (same trace layout: data only; else the traces are replaced)."""
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


def restyle(fig: go.Figure, traces: dict[int, dict], title: str | None = None) -> bool:
    """Update the given traces (index → props) and the title of ``fig`` in one batch, only the properties
    whose value changed; returns whether anything changed (else the figure need not be redrawn)."""
    changed_any = False
    with fig.batch_update():
        for i, props in traces.items():
            trace = fig.data[i]
            changed = {k: v for k, v in props.items() if not _same(trace[k], v)}
            if changed:
                trace.update(changed)
                changed_any = True
        if title is not None and fig.layout.title.text != title:
            fig.layout.title.text = title
            changed_any = True
    return changed_any


def slider_value(value: float) -> float:
    """A slider's value to 9 significant digits: the browser's and Python's ``10 ** exponent`` then key the
    same memoised point (the readouts show 4 digits)."""
    return float(f"{float(value):.9g}")


def log_stop(c, value: float, steps: int) -> float | None:
    """The value ``|steps|`` key presses move log slider ``c`` (a ``FloatLogSlider``) to from ``value``
    (``steps`` > 0: right; a value below the track, e.g. 0, sits at its min): the exponent snapped to the
    slider's step grid, as a key press moves it. None past the track's end."""
    e = math.log10(max(float(value), 10 ** c.min))
    e = c.min + round((e + steps * c.step - c.min) / c.step) * c.step
    return slider_value(10 ** e) if c.min - 1e-9 <= e <= c.max + 1e-9 else None


def format_ms(ms: float | None) -> str:
    """``"123 ms"``, or ``"—"`` when nothing was timed yet (never ``nan``)."""
    return f"{ms:.0f} ms" if ms is not None and math.isfinite(ms) else "—"


def status_html(head: str, ms: float | None, note: str | None = None) -> str:
    """The status line above the figures: ``head`` and the time of the last recomputation (and ``note``)."""
    tail = f" ({note})" if note else ""
    return f"<div class='sorlib-status'>{head} · recomputed in {format_ms(ms)}{tail}</div>"


def recomputing_html(head: str) -> str:
    """The status line while a long move recomputes (the figures still show the last point)."""
    return f"<div class='sorlib-status'>{head} · <b>recomputing…</b></div>"


@contextlib.contextmanager
def recomputing(widget, html: str, after_s: float) -> Iterator[None]:
    """While the block runs: once it has taken ``after_s`` seconds, show ``html`` (the "recomputing…"
    status) in the live-figures ``widget`` (``after_s`` <= 0: at once; ``widget`` None: nothing). A block
    that ends sooner sends nothing: a short move's browser draws its result only. The timer thread sets the
    status under a lock the block's end also takes, so it never lands after the block has ended."""
    if widget is None:
        yield
        return
    if after_s <= 0:
        widget.status = html
        yield
        return
    lock, done = threading.Lock(), [False]

    def fire() -> None:
        with lock:
            if not done[0]:
                widget.status = html

    timer = threading.Timer(after_s, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            done[0] = True
        timer.cancel()


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


def panel(rows: list, status, figures, note: str | None = None):
    """The panel: an optional note, the control rows, the status line (a widget; None: the live figures
    show it, their ``status``) and the live figures (the widget of :func:`live_figures`), ≤ 1,000 px wide."""
    import ipywidgets as w

    figures.layout.width = "100%"
    head = [w.HTML(f"<i>{note}</i>", layout=w.Layout(width="100%"))] if note else []
    return w.VBox(head + [w.VBox(rows), *([status] if status is not None else []), figures],
                  layout=w.Layout(width=PANEL_WIDTH, max_width=PANEL_MAX_WIDTH))
