"""All the live figures of a what-if panel in one widget (``anywidget``), redrawn together in one browser task.

A panel used to show one plotly ``FigureWidget`` per figure. In JupyterLab every ``FigureWidget`` update
is its own message, handled in its own browser task (so a frame is rendered between figures), and after
each redraw the widget diffs plotly's full data and layout and sends both back to the kernel: with four
figures a slider move spent about three times as long in the browser as plotly's own redraws.

:class:`LiveFigures` holds each figure as its plotly JSON (``specs``: name → JSON text, numpy arrays as
base64 typed arrays). A move assigns the figures that changed in one trait update, so the browser gets one
message and redraws only those figures (``Plotly.react``), one after the other in the same task, and of
those only the ones in view: a changed figure out of view is redrawn when it is scrolled into view (just
before it enters, when scrolled at a usual pace); the view sends back only its 'drawn' report. The JSON is the state of the widget: a second view (or a reloaded page) draws the current
figures. The page gets plotly.js from the plotly package's own ``plotly.min.js`` (the version plotly.py
writes JSON for), loaded by the widget's module without touching a ``window.Plotly`` of the page.

Imported only when a panel is built (``ipywidgets`` and ``anywidget`` are needed then, not before).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import anywidget
import numpy as np
import plotly
import plotly.graph_objects as go
import traitlets
from _plotly_utils.utils import is_homogeneous_array, is_skipped_key, to_typed_array_spec
from plotly.io.json import to_json_plotly

_PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

# Runs plotly.min.js (a UMD bundle) with a private ``module``, then restores the page's window.Plotly.
_PRELUDE = "const __sorlibPagePlotly = globalThis.Plotly;\nconst module = {exports: {}};\n"
_AFTER_BUNDLE = """
const Plotly = module.exports;
if (__sorlibPagePlotly === undefined) { delete globalThis.Plotly; } else { globalThis.Plotly = __sorlibPagePlotly; }
"""

# One view: the status (HTML, optional) above a div per figure. On a change of ``status`` its HTML is
# replaced; on a change of ``specs`` the figures whose JSON changed and that intersect the viewport (kept by
# an IntersectionObserver: ``inView``) are redrawn in order, in the task that received the message (microtasks
# only between them: one rendered frame for all). The others are left stale (``data-stale`` on their div) and
# redrawn when they come near the viewport: a second observer with a margin of NEAR_PX px (on the scrolling
# ancestor, so the margin is not clipped by it) redraws a stale figure just before it enters, and the first one
# redraws it on entry (a jump). The first draw draws every figure (their heights lay the page out). A move that
# sets both (one message, :meth:`LiveFigures.show`) updates the status first. Each redraw's time (JSON parse +
# Plotly.react, ms) is kept in ``globalThis.__sorlibLiveTimes`` (the last 200: name, at, ms and why: load,
# move or scroll) and each update's figures in view / redrawn / left stale in ``globalThis.__sorlibLiveUpdates``
# (the last 200), for the browser benchmark.
_VIEW_JS = """
const NEAR_PX = 400;
function keep(key, entry) {
  const log = (globalThis[key] = globalThis[key] || []);
  log.push(entry);
  if (log.length > 200) log.shift();
}
function scroller(el) {  // the nearest ancestor that scrolls (JupyterLab's notebook), or null: the viewport
  for (let p = el.parentElement; p; p = p.parentElement) {
    const y = getComputedStyle(p).overflowY;
    if ((y === "auto" || y === "scroll") && p.scrollHeight > p.clientHeight) return p;
  }
  return null;
}
function render({ model, el }) {
  el.classList.add("sorlib-figures");
  const status = document.createElement("div");
  status.className = "sorlib-live-status";
  el.appendChild(status);
  const divs = new Map(), shown = new Map(), inView = new Set(), near = new Set();
  for (const name of model.get("names")) {
    const div = document.createElement("div");
    div.className = "sorlib-figure";
    div.dataset.figure = name;
    el.appendChild(div);
    divs.set(name, div);
  }
  const setStatus = () => {
    const html = model.get("status");
    if (status.innerHTML !== html) status.innerHTML = html;
  };
  const stale = (name) => { const s = model.get("specs")[name]; return s !== undefined && s !== shown.get(name); };
  // after the last queued redraw of an update, once the browser has painted it: tell the kernel
  // (``LiveFigures.on_drawn``); redraws on scrolling send nothing
  let queue = Promise.resolve(), pending = 0, first = true;
  const drawn = () => { model.send({event: "drawn", seq: model.get("seq")}); };
  const redraw = async (names, why) => {
    const specs = model.get("specs");
    for (const [name, div] of divs) {
      if (!names.has(name)) continue;
      const spec = specs[name];
      if (spec === undefined || spec === shown.get(name)) { delete div.dataset.stale; continue; }
      shown.set(name, spec);
      const t0 = performance.now();
      const fig = JSON.parse(spec);
      await Plotly.react(div, fig.data, fig.layout, fig.config || {});
      delete div.dataset.stale;
      keep("__sorlibLiveTimes", {name, at: t0, ms: performance.now() - t0, why});
    }
  };
  const draw = () => {  // an update from the kernel: redraw now what is in view, mark the rest stale
    pending += 1;
    queue = queue.then(async () => {
      const all = first, names = new Set(), t0 = performance.now();
      first = false;
      let left = 0;
      for (const [name, div] of divs) {
        if (!stale(name)) continue;
        if (all || inView.has(name)) names.add(name);
        else { div.dataset.stale = "1"; left += 1; }
      }
      keep("__sorlibLiveUpdates", {at: t0, seq: model.get("seq"), in_view: all ? divs.size : inView.size,
                                  redrawn: names.size, stale: left});
      await redraw(names, all ? "load" : "move");
    }).catch((err) => console.error("sorlib live figures:", err)).finally(() => {
      pending -= 1;
      if (pending === 0) requestAnimationFrame(() => setTimeout(drawn, 0));
    });
  };
  const track = (set) => (entries) => {  // keep ``set`` and redraw the stale figures that entered it
    const names = new Set();
    for (const e of entries) {
      const name = e.target.dataset.figure;
      if (e.isIntersecting) { set.add(name); if (stale(name) && !first) names.add(name); } else set.delete(name);
    }
    if (names.size) queue = queue.then(() => redraw(names, "scroll"))
      .catch((err) => console.error("sorlib live figures:", err));
  };
  let observers = [], tries = 0;
  const observe = () => {  // once the view is in the page (its scrolling ancestor is known then)
    if (!el.isConnected && tries++ < 600) { requestAnimationFrame(observe); return; }
    const root = scroller(el);
    observers = [new IntersectionObserver(track(inView), {root}),
                 new IntersectionObserver(track(near), {root, rootMargin: `${NEAR_PX}px 0px`})];
    for (const o of observers) divs.forEach((div) => o.observe(div));
  };
  const onStatus = () => { setStatus(); draw(); };
  model.on("change:status", onStatus);
  model.on("change:specs", draw);
  setStatus();
  draw();
  observe();
  return () => {
    model.off("change:status", onStatus);
    model.off("change:specs", draw);
    observers.forEach((o) => o.disconnect());
    divs.forEach((div) => Plotly.purge(div));
  };
}
export default { render };
"""

#: The CSS of the widget: each figure's layout and paint stay inside its box (cheaper redraws in a long page).
_CSS = (".sorlib-figures { width: 100%; } .sorlib-figure { contain: layout paint; } "
        ".sorlib-live-status { contain: layout; }")


def figure_json(fig: go.Figure) -> str:
    """``fig`` as plotly JSON text (numpy arrays as base64 typed arrays, NaN as null), no validation: the
    text ``to_json_plotly(fig.to_plotly_json())`` gives, without its deep copy of the whole figure (the
    template included: most of a move's serialisation time)."""
    return to_json_plotly({"data": _plain(fig._data), "layout": _plain(fig._layout)})


def _plain(obj, key: str | None = None):
    """A copy of the containers of ``obj`` (a figure's data or layout) with every numeric numpy array as a
    base64 typed array (plotly's ``convert_to_base64`` rule, same skipped keys); leaves are shared."""
    if isinstance(obj, dict):
        return {k: _plain(v, k) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray) and not is_skipped_key(key or "") and is_homogeneous_array(obj):
        return to_typed_array_spec(obj)
    return obj


class LiveFigures(anywidget.AnyWidget):
    """Live figures by name, drawn in that order below an optional status (HTML); :meth:`show` sends the
    figures that changed and the status in one message."""

    _esm = _PRELUDE + _PLOTLY_JS.read_text(encoding="utf-8") + _AFTER_BUNDLE + _VIEW_JS
    _css = _CSS
    names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    specs = traitlets.Dict().tag(sync=True)
    #: HTML shown above the figures (the panel's status line and summary table; "" shows nothing).
    status = traitlets.Unicode("").tag(sync=True)
    #: Count of the updates sent (:meth:`push`): a view says which one it has drawn (:meth:`on_drawn`).
    seq = traitlets.Int(0).tag(sync=True)
    #: How many of the views' reports of the latest update drawn were acted on (:meth:`on_drawn`).
    drawn_reports = 0

    def __init__(self, figures: dict[str, go.Figure], status: str = "") -> None:
        super().__init__(names=list(figures), specs={n: figure_json(f) for n, f in figures.items()}, status=status)

    def show(self, figures: dict[str, go.Figure], names: Iterable[str], status: str | None = None) -> None:
        """Send the figures ``names`` of ``figures`` and the ``status`` HTML (None: unchanged) in one
        message (nothing changed: nothing sent)."""
        self.push(self.encode(figures, names), status)

    @staticmethod
    def encode(figures: dict[str, go.Figure], names: Iterable[str]) -> dict[str, str]:
        """The JSON of the figures ``names`` of ``figures`` (what :meth:`push` sends)."""
        return {n: figure_json(figures[n]) for n in names}

    def push(self, specs: dict[str, str], status: str | None = None) -> None:
        """Send figures' JSON (:meth:`encode`) and the ``status`` HTML (None: unchanged) in one message."""
        with self.hold_sync():
            if status is not None:
                self.status = status
            if specs:
                self.specs = {**self.specs, **specs}
            if status is not None or specs:
                self.seq += 1

    def on_drawn(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` when a view has drawn (and painted) the latest update sent; a view's report
        of an older update (a newer one is on its way) is ignored."""
        def handle(_widget, content, _buffers) -> None:
            if isinstance(content, dict) and content.get("event") == "drawn" and content.get("seq") == self.seq:
                self.drawn_reports += 1
                callback()
        self.on_msg(handle)
