"""Benchmark: slider latency of the what-if panels in a real JupyterLab, from key press to redrawn figures.

Run: ``python benchmarks/bench_browser_sliders.py [--moves N] [--notebooks 02 03 04] [--out DIR]``.

Needs JupyterLab (a dependency), Playwright for Python (``pip install playwright``, in the ``dev`` extras)
and Debian's Chromium (``apt-get install -y chromium``; ``playwright install`` is not needed: the browser is
launched from ``--chromium``, default ``/usr/bin/chromium``).

For each notebook it writes a temporary copy with ``INTERACTIVE = True`` set right after the parameters cell,
starts JupyterLab on 127.0.0.1 (free port, random token, ``expose_app_in_browser``) in that folder, opens the
copy in headless Chromium with a window whose notebook column is about 1,000 px wide, runs all cells, and
then for every live (not disabled) slider of the panel — in notebook 02/03 for each router mode, chosen with
the panel's toggle — focuses the slider handle and presses an arrow key N times (turning back at the end of
the track), with the panel's top at the window's top (its sliders, status, table and first figure in view:
a move redraws at once only the figures in view, the others when they are scrolled in). Each move is timed
in the page: from the ``keydown`` to the last mutation of the panel's plotly
figures after the status line ("recomputed in … ms", the server-side time, also recorded) changed, once the
figures stayed quiet for ``--quiet`` ms. It prints p50 and p95 per slider (browser, server, the browser's side — key press to redrawn minus the
server's time: messages, status, redraws — and plotly's redraws alone, timed by the panel's view) and how many
of the moves changed the figures (a one-step move that leaves every route unchanged redraws nothing), how
many of the panel's figures were in view, redrawn and left stale per move, and per panel the scroll-in cost
(a move, then a jump to a figure it left stale: scroll → that figure redrawn, p50/p95), saves
a screenshot of each panel in ``--out`` and exits 1 when a browser p95 is over the 200 ms target.
Everything it starts (JupyterLab, its kernels, Chromium) is stopped at the end, also on errors and Ctrl-C.

A move that replays the router first shows "recomputing…" in the status line, then the figures and
"recomputed in … ms": a move is timed to the last of those (``status_ms`` is the first feedback). The
comparison panel replays the next key press's likely points while idle (:mod:`sorlib.whatif.prefetch`);
``--no-prefetch`` turns that off, ``--start lambda_over=0.01,theta_queue=0.0005`` opens the panels of
notebooks 02/03 at that point instead of the headline's (where the CK router posts limit orders).
``--load`` runs one extra CPU-bound process (a busy loop) the whole time; the output starts with the load
and the load average, and ends with the load average again (other users of the machine show there too).

``tests/test_jupyterlab_browser.py`` drives notebook 02's panel with the same helpers (:func:`lab_page`,
:func:`run_notebook`, :func:`move`, :func:`figure_data` …).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import numpy as np
from _cpu_load import cpu_load, load_text

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {"02": "02_strategy_comparison.ipynb", "03": "03_parameter_search.ipynb",
             "04": "04_cont_kukanov.ipynb"}
TARGET_MS = 200.0
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
#: Browser window (px): the notebook column is then about 1,000 px wide.
WINDOW = {"width": 1180, "height": 1000}

# In the page: time every move from keydown to the last plotly mutation after the status changed.
_INSTALL_JS = """(panel) => {
  const st = {keydown: null, plot: [], status: [], statusText: null};
  window.__sorlibBench = st;
  document.addEventListener('keydown', () => { st.keydown = performance.now(); st.plot = []; st.status = []; },
                            true);
  const plots = new MutationObserver(() => { if (st.keydown !== null) st.plot.push(performance.now()); });
  panel.querySelectorAll('.js-plotly-plot').forEach(p => plots.observe(p, {subtree: true, childList: true,
                                                                           attributes: true}));
  const status = panel.querySelector('.sorlib-status');
  st.statusText = status ? status.textContent : null;
  const stObs = new MutationObserver(() => {
    const s = panel.querySelector('.sorlib-status');
    if (s && s.textContent !== st.statusText) { st.statusText = s.textContent; st.status.push(performance.now()); }
  });
  stObs.observe(panel, {subtree: true, childList: true, characterData: true});
  return !!status;
}"""

_RESULT_JS = """(quiet) => {
  const st = window.__sorlibBench, now = performance.now();
  if (st.keydown === null || st.status.length === 0) return null;
  if (st.statusText && st.statusText.includes('recomputing')) return null;  // the move's replay is running
  const after = st.plot.filter(t => t >= st.keydown);
  const last = after.length ? after[after.length - 1] : st.status[st.status.length - 1];
  if (now - Math.max(last, st.status[st.status.length - 1]) < quiet) return null;
  const done = st.status[st.status.length - 1];  // the last status: "recomputed in …" (a first may say "recomputing…")
  // the view's own timings of the move's redraws, and its updates: figures in view / redrawn / left stale
  const draws = (globalThis.__sorlibLiveTimes || []).filter(d => d.at >= st.keydown && d.why !== 'scroll');
  const ups = (globalThis.__sorlibLiveUpdates || []).filter(u => u.at >= st.keydown);
  const up = ups.length ? ups[ups.length - 1] : null;
  return {status_ms: st.status[0] - st.keydown, redraw_ms: Math.max(last, done) - st.keydown,
          mutations: after.length, text: st.statusText, statuses: st.status.length,
          draw_ms: draws.reduce((a, d) => a + d.ms, 0), figures_drawn: draws.length,
          figures_in_view: up ? up.in_view : null, figures: panel_figures(),
          figures_stale: document.querySelectorAll('.sorlib-figure[data-stale]').length};
  function panel_figures() { return document.querySelectorAll('.sorlib-figure').length; }
}"""

_SLIDERS_JS = """(panel) => Array.from(panel.querySelectorAll('.widget-slider')).map((s, i) => {
  const h = s.querySelector('.noUi-handle');
  return {i, label: ((s.querySelector('.widget-label') || {}).textContent || '').trim(),
          disabled: s.classList.contains('mod-disabled') || !!s.querySelector('.noUi-target[disabled]')
                    || !h || h.getAttribute('tabindex') === null,
          value: h && h.getAttribute('aria-valuenow'), min: h && h.getAttribute('aria-valuemin'),
          max: h && h.getAttribute('aria-valuemax'),
          readout: ((s.querySelector('.widget-readout') || {}).textContent || '').trim(),
          reason: (s.closest('.widget-hbox') || s).textContent.replace(s.textContent, '').trim()};
})"""

# The data of every figure of the panel (x and y of each trace, as JSON text, one string per figure).
_FIGURE_DATA_JS = """(panel) => Array.from(panel.querySelectorAll('.js-plotly-plot'))
  .map(gd => JSON.stringify((gd.data || []).map(t => [t.x, t.y])))"""


# Scroll the first stale figure of the panel into view (a jump) → its name and the time (ms, page clock).
_SCROLL_IN_JS = """([panel, name]) => {
  const div = panel.querySelector(name ? `.sorlib-figure[data-figure="${name}"]` : '.sorlib-figure[data-stale]');
  if (!div) return null;
  const t0 = performance.now();
  div.scrollIntoView({block: 'center'});
  return {name: div.dataset.figure, t0};
}"""

# The scroll-in redraw of figure ``name`` started after ``t0``: ms from the scroll to its end (null: not yet).
_SCROLLED_JS = """([name, t0]) => {
  const d = (globalThis.__sorlibLiveTimes || []).find(d => d.name === name && d.at >= t0 && d.why === 'scroll');
  return d ? {ms: d.at + d.ms - t0, plotly_ms: d.ms} : null;
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _panel_patch(start: dict[str, float] | None, prefetch: bool) -> list[str]:
    """Lines that make the comparison panel open at ``start`` (parameter → USD/share) and/or not prefetch."""
    if not start and prefetch:
        return []
    return ["import sorlib.whatif.comparison as _bench_c  # injected: the panel's start point / prefetch",
            "_bench_widget = _bench_c.WhatIf.widget",
            "def _bench_open(self, **kw):",
            f"    self.params.update({dict(start or {})!r})",
            f"    self.prefetch = {bool(prefetch)!r}",
            "    return _bench_widget(self, **kw)",
            "_bench_c.WhatIf.widget = _bench_open"]


def prepare(folder: Path, keys: list[str], replace: list[list[str]] | None = None,
            params: dict[str, str] | None = None, start: dict[str, float] | None = None,
            prefetch: bool = True) -> list[Path]:
    """Copies of the notebooks in ``folder`` with ``INTERACTIVE = True`` (and each ``NAME = value`` of
    ``params``) set right after the parameters cell, and each ``[NB, OLD, NEW]`` of ``replace`` applied to
    notebook NB's code (to measure a proposed edit); ``start``/``prefetch``: the comparison panel opens at
    that point / replays likely next points while idle (:func:`_panel_patch`)."""
    lines = ["INTERACTIVE = True  # injected by bench_browser_sliders",
             *(f"{k} = {v}" for k, v in (params or {}).items()), *_panel_patch(start, prefetch)]
    out = []
    for k in keys:
        nb = nbformat.read(str(ROOT / "notebooks" / NOTEBOOKS[k]), as_version=4)
        _replace(nb, k, replace or [])
        i = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
        nb.cells.insert(i + 1, nbformat.v4.new_code_cell("\n".join(lines)))
        path = folder / NOTEBOOKS[k]
        nbformat.write(nb, str(path))
        out.append(path)
    return out


def _replace(nb, key: str, replace: list[list[str]]) -> None:
    for nb_key, old, new in replace:
        if nb_key != key:
            continue
        hits = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
        if not hits:
            raise SystemExit(f"--replace: {old!r} is not in notebook {key}")
        for c in hits:
            c.source = c.source.replace(old, new)


class Lab:
    """A JupyterLab server in its own process group; :meth:`close` stops it and every process it started
    (the kernels run in sessions of their own: they are found as its children and stopped too)."""

    def __init__(self, folder: Path) -> None:
        self.port, self.token = _free_port(), secrets.token_hex(16)
        self.log = open(folder / "jupyterlab.log", "w")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(self._command(folder), cwd=folder, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=self._env(folder), start_new_session=True)
        try:
            self._wait_up(90.0)
        except BaseException:
            self.close()
            raise

    def _command(self, folder: Path) -> list[str]:
        return [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={folder}",
                "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--allow-root"]

    @staticmethod
    def _env(folder: Path) -> dict[str, str]:
        notes = folder / ".lab-settings" / "@jupyterlab" / "apputils-extension"
        notes.mkdir(parents=True, exist_ok=True)  # no "get notified about Jupyter news?" pop-up over the panel
        (notes / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
        return {**os.environ, "PYTHONWARNINGS": "ignore", "JUPYTER_CONFIG_DIR": str(folder / ".jupyter"),
                "JUPYTERLAB_SETTINGS_DIR": str(folder / ".lab-settings"),
                "JUPYTERLAB_WORKSPACES_DIR": str(folder / ".lab-workspaces")}

    def _wait_up(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2):
                    return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    tail = Path(self.log.name).read_text()[-2000:]
                    raise RuntimeError(f"JupyterLab did not start:\n{tail}") from None
                time.sleep(0.5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        """SIGTERM to the server's process group (the server shuts its kernels down), SIGKILL after 15 s;
        then any child process still running (a kernel) is killed."""
        import psutil  # a dependency of ipykernel

        try:
            children = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        _stop_group(self.proc)
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        self.log.close()


def _stop_group(proc: subprocess.Popen) -> None:
    for sig, wait_s in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait_s)


@contextlib.contextmanager
def lab_page(folder: Path, chromium: str, window: dict | None = None) -> Iterator[tuple[object, Lab]]:
    """``(page, lab)``: JupyterLab serving ``folder`` and a headless Chromium page; both stopped on exit
    (also on errors)."""
    from playwright.sync_api import sync_playwright

    lab = Lab(folder)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=FLAGS)
            try:
                yield browser.new_page(viewport=dict(window or WINDOW)), lab
            finally:
                browser.close()
    finally:
        lab.close()


def _wait(page, js: str, timeout_s: float, what: str, arg=None):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        v = page.evaluate(js, arg)
        if v:
            return v
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")


_KERNEL_JS = "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"


def run_notebook(page, lab: Lab, name: str, timeout_s: float) -> None:
    """Open ``name`` in JupyterLab, run all its cells and wait for the panel's figures (or raise with the
    notebook's error)."""
    page.goto(f"{lab.url}/lab/tree/{name}?token={lab.token}&reset", wait_until="domcontentloaded")
    _wait(page, "() => { try { return !!document.querySelector('.jp-Notebook') && "
                f"{_KERNEL_JS}.status === 'idle'; }} catch (e) {{ return false; }} }}",
          120, "the notebook and its kernel")
    page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    time.sleep(1.0)
    # done: the kernel is idle, no cell waits ([*]) and the panel (or an error) is on the page
    _wait(page, f"""() => {{
        const busy = Array.from(document.querySelectorAll('.jp-InputArea-prompt'))
                          .some(p => p.textContent.includes('*'));
        return {_KERNEL_JS}.status === 'idle' && !busy && (document.querySelector('.sorlib-status') ||
               document.querySelector('.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"] pre'));
    }}""", timeout_s, f"{name} to run")
    err = page.evaluate("() => Array.from(document.querySelectorAll('.jp-OutputArea-output'))"
                        ".map(o => o.textContent).find(t => /Traceback|Error:/.test(t)) || null")
    if err and not page.query_selector(".sorlib-status"):
        raise RuntimeError(f"{name} failed: {err[-800:]}")
    _wait(page, "() => document.querySelectorAll('.sorlib-status').length && "
                "document.querySelector('.sorlib-status').closest('.jp-OutputArea-output')"
                ".querySelectorAll('.js-plotly-plot .main-svg').length >= 4", 120, "the panel's figures")


def panel(page):
    """The panel's output element (a JS handle)."""
    return page.evaluate_handle("() => document.querySelector('.sorlib-status').closest('.jp-OutputArea-output')")


def sliders(page) -> list[dict]:
    """The panel's sliders in order: ``i``, ``label``, ``disabled``, ``value``/``min``/``max`` (as the
    handle reports them, rounded: a log slider's exponent, a selection slider's index), ``readout`` (the
    value shown) and ``reason`` (the text beside it)."""
    return page.evaluate(_SLIDERS_JS, panel(page))


def figure_data(page) -> list[str]:
    """The x and y data of every trace of every figure of the panel (one JSON text per figure)."""
    return page.evaluate(_FIGURE_DATA_JS, panel(page))


def status_text(page) -> str:
    return page.evaluate("(p) => p.querySelector('.sorlib-status').textContent", panel(page))


def install_timer(page) -> None:
    """Start timing moves in the page (keydown → last figure mutation after the status changed)."""
    page.evaluate(_INSTALL_JS, panel(page))


def _handle(page, index: int):
    return page.evaluate_handle("([panel, i]) => panel.querySelectorAll('.widget-slider')[i]"
                                ".querySelector('.noUi-handle')", [panel(page), index])


def press(page, index: int, key: str, scroll: bool = True) -> None:
    """Focus slider ``index``'s handle (``scroll``: bringing it into view) and press ``key`` (a move by
    keyboard)."""
    page.evaluate("([h, scroll]) => h.focus({preventScroll: !scroll})", [_handle(page, index), scroll])
    page.keyboard.press(key)


def show_panel_top(page) -> None:
    """Scroll the panel's top to the window's top: its sliders, status, table and first figures in view (as
    a user who moves its sliders sees it)."""
    page.evaluate("(p) => p.scrollIntoView({block: 'start'})", panel(page))
    time.sleep(0.2)  # the views' visibility observers report (next frames)


def drag(page, index: int, dx: float) -> None:
    """Drag slider ``index``'s handle ``dx`` px to the right with the mouse."""
    box = _handle(page, index).bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y, steps=5)
    page.mouse.up()


def move(page, index: int, key: str, quiet_ms: float, timeout_s: float = 30.0, scroll: bool = True) -> dict:
    """Press ``key`` on slider ``index`` and wait for the redraw (:func:`install_timer` first) →
    ``redraw_ms``, ``status_ms`` (keydown → status shown), ``mutations`` of the figures and the status text."""
    press(page, index, key, scroll)
    return _wait(page, _RESULT_JS, timeout_s, "the redraw", quiet_ms)


def stale_figures(page) -> list[str]:
    """The names of the panel's figures left stale by a move (out of view: redrawn when scrolled in)."""
    return page.evaluate("(p) => Array.from(p.querySelectorAll('.sorlib-figure[data-stale]'))"
                         ".map(d => d.dataset.figure)", panel(page))


def scroll_in(page, name: str | None = None, timeout_s: float = 30.0) -> dict | None:
    """Scroll figure ``name`` (None: the first stale one) into view (a jump) and wait for its redraw on
    scrolling in → ``name``, ``ms`` (scroll → redrawn) and ``plotly_ms`` (its redraw alone); None when no
    figure is stale."""
    start = page.evaluate(_SCROLL_IN_JS, [panel(page), name])
    if start is None:
        return None
    done = _wait(page, _SCROLLED_JS, timeout_s, f"figure {start['name']} redrawn on scrolling in",
                 [start["name"], start["t0"]])
    return {"name": start["name"], **done}


def draw_stale(page) -> None:
    """Scroll every stale figure into view in turn (each redrawn then): the page shows the kernel's figures."""
    while scroll_in(page) is not None:
        pass


def figure_in_view(page, name: str) -> bool:
    """Whether figure ``name`` of the panel shows any pixel in the window (its box against the window's and
    every scrolling ancestor's, measured here: not the view's own bookkeeping)."""
    return page.evaluate("""([p, name]) => {
      const r = p.querySelector(`.sorlib-figure[data-figure="${name}"]`).getBoundingClientRect();
      let top = Math.max(r.top, 0), bottom = Math.min(r.bottom, window.innerHeight);
      for (let a = p.parentElement; a; a = a.parentElement) {
        const y = getComputedStyle(a).overflowY;
        if (y === 'auto' || y === 'scroll') {
          const b = a.getBoundingClientRect(); top = Math.max(top, b.top); bottom = Math.min(bottom, b.bottom);
        }
      }
      return bottom > top;
    }""", [panel(page), name])


def figure_names(page) -> list[str]:
    """The panel's figures in order (the index of :func:`figure_data`)."""
    return page.evaluate("(p) => Array.from(p.querySelectorAll('.sorlib-figure')).map(d => d.dataset.figure)",
                         panel(page))


def modes(page) -> list[str]:
    """The router modes the panel's toggle offers (none for notebook 04's panel)."""
    return page.evaluate("(p) => Array.from(p.querySelectorAll('.widget-toggle-buttons button'))"
                         ".map(b => b.textContent.trim())", panel(page))


def active_mode(page) -> str | None:
    return page.evaluate("(p) => ((p.querySelector('.widget-toggle-buttons button.mod-active') || {})"
                         ".textContent || '').trim() || null", panel(page))


def switch_mode(page, mode: str, quiet_ms: float, timeout_s: float = 120.0) -> dict | None:
    """Click ``mode`` on the toggle and wait for the redraw (None when it is the mode shown already)."""
    if active_mode(page) == mode:
        return None
    install_timer(page)
    page.evaluate("([p, m]) => { const st = window.__sorlibBench; st.keydown = performance.now(); st.plot = [];"
                  " st.status = []; Array.from(p.querySelectorAll('.widget-toggle-buttons button'))"
                  ".find(b => b.textContent.trim() === m).click(); }", [panel(page), mode])
    return _wait(page, _RESULT_JS, timeout_s, f"mode {mode} redraw", quiet_ms)


def screenshot(page, path: Path, width: int) -> None:
    """The whole panel (the window is made tall enough for it, then restored)."""
    height = int(page.evaluate("(p) => p.getBoundingClientRect().height", panel(page))) + 200
    page.set_viewport_size({"width": width, "height": max(height, 1000)})
    time.sleep(0.5)
    panel(page).as_element().screenshot(path=str(path))
    page.set_viewport_size({"width": width, "height": 1000})


def truncated_labels(page) -> list[str]:
    """Texts of the panel's labels that do not fit their box (cut or with an ellipsis)."""
    return page.evaluate("(p) => Array.from(p.querySelectorAll('.widget-label, .widget-label-basic'))"
                         ".filter(l => l.scrollWidth > l.clientWidth + 1).map(l => l.textContent)", panel(page))


def server_ms(text: str) -> float:
    """The server-side ms of a status line ("… recomputed in 57 ms"), NaN when there is none."""
    try:
        return float(text.rsplit("recomputed in", 1)[1].split("ms")[0])
    except (IndexError, ValueError):
        return float("nan")


# ------------------------------------------------------------------------------------------- the benchmark
def _moves(page, s: dict, moves: int, quiet_ms: float) -> list[dict]:
    """``moves`` arrow-key moves of slider ``s``, each to a new value (turning back at the track's end)."""
    out, key = [], "ArrowRight"
    for _ in range(moves):
        now = next(x for x in sliders(page) if x["i"] == s["i"])
        if now["value"] is not None and now["value"] == (now["max"] if key == "ArrowRight" else now["min"]):
            key = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
        out.append(move(page, s["i"], key, quiet_ms))
    return out


def _row(label: str, name: str, results: list[dict]) -> dict:
    browser = [r["redraw_ms"] for r in results]
    server = [server_ms(r["text"]) for r in results]
    b50, b95 = np.percentile(browser, [50, 95])
    s50, s95 = np.nanpercentile(server, [50, 95]) if np.isfinite(server).any() else (np.nan, np.nan)
    # the browser's share of a move: key press to redrawn minus the kernel's recomputation (the rest: the
    # messages both ways, the status and table, plotly's redraws), and plotly's redraws alone (the view's timings)
    side = np.array(browser) - np.array(server)
    o50, o95 = np.nanpercentile(side, [50, 95]) if np.isfinite(side).any() else (np.nan, np.nan)
    draw = [r.get("draw_ms", np.nan) for r in results if r.get("figures_drawn")]
    d50, d95 = np.percentile(draw, [50, 95]) if draw else (np.nan, np.nan)
    redrawn = [r["redraw_ms"] for r in results if r["mutations"] > 0]
    return {"panel": label, "slider": name, "browser_p50": b50, "browser_p95": b95, "server_p50": s50,
            "server_p95": s95, "browser_side_p50": o50, "browser_side_p95": o95, "plotly_p50": d50,
            "plotly_p95": d95, "figures_per_move": float(np.mean([r.get("figures_drawn", 0) for r in results])),
            "figures_in_view_per_move": float(np.mean([r.get("figures_in_view") or 0 for r in results])),
            "figures_stale_after_move": float(np.mean([r.get("figures_stale", 0) for r in results])),
            "figures": max((r.get("figures", 0) for r in results), default=0),
            "moves": len(results), "redrawn_moves": len(redrawn),
            "redrawn_max": max(redrawn, default=float("nan")),
            "prepared_moves": sum("while idle" in (r["text"] or "") for r in results)}


def _slowest(ms: float) -> str:
    return f" (slowest of those {ms:.0f} ms)" if np.isfinite(ms) else ""


def bench_panel(page, label: str, moves: int, quiet_ms: float, rows: list) -> None:
    """Time ``moves`` moves of every live slider of the panel, its top at the window's top; print and append
    one row per slider (and one for the scroll-in of the figures out of view, :func:`bench_scroll_in`)."""
    show_panel_top(page)
    install_timer(page)
    for s in sliders(page):
        name = s["label"] or f"slider {s['i']}"
        if s["disabled"]:
            print(f"  {label:12s} {name:32s} disabled: {s['reason'] or '(no reason shown)'}")
            continue
        r = _row(label, name, _moves(page, s, moves, quiet_ms))
        print(f"  {label:12s} {name:32s} redrawn p50 {r['browser_p50']:4.0f} p95 {r['browser_p95']:4.0f} ms | "
              f"server p50 {r['server_p50']:4.0f} p95 {r['server_p95']:4.0f} ms | browser side (redrawn - server) "
              f"p50 {r['browser_side_p50']:4.0f} p95 {r['browser_side_p95']:4.0f} ms, of which plotly p50 "
              f"{r['plotly_p50']:4.0f} p95 {r['plotly_p95']:4.0f} ms | per move {r['figures_in_view_per_move']:.1f} "
              f"of {r['figures']} figures in view, {r['figures_per_move']:.1f} redrawn, "
              f"{r['figures_stale_after_move']:.1f} stale after it | "
              f"figures changed in "
              f"{r['redrawn_moves']}/{r['moves']} moves{_slowest(r['redrawn_max'])}, "
              f"{r['prepared_moves']} replayed while idle "
              f"-> {'under' if r['browser_p95'] < TARGET_MS else 'OVER'}")
        rows.append(r)
    live = [s for s in sliders(page) if not s["disabled"]]
    if live:
        rows.append(bench_scroll_in(page, label, live, moves, quiet_ms))


def bench_scroll_in(page, label: str, live: list[dict], trials: int, quiet_ms: float) -> dict:
    """The cost of a figure left stale by a move: ``trials`` times, a move of a live slider (in turn; the
    window shows the slider then) and a jump (``scrollIntoView``) to the first figure it left stale, timed
    from the scroll to that figure's redraw (the view's own clock); prints p50/p95 and returns the row."""
    ms, plotly_ms, none = [], [], 0
    for t in range(trials):
        s = live[t % len(live)]
        show_panel_top(page)
        now = next(x for x in sliders(page) if x["i"] == s["i"])
        key = "ArrowLeft" if now["value"] is not None and now["value"] == now["max"] else "ArrowRight"
        move(page, s["i"], key, quiet_ms)
        r = scroll_in(page)
        if r is None:
            none += 1
            continue
        ms.append(r["ms"])
        plotly_ms.append(r["plotly_ms"])
    p50, p95 = np.percentile(ms, [50, 95]) if ms else (np.nan, np.nan)
    q50, q95 = np.percentile(plotly_ms, [50, 95]) if plotly_ms else (np.nan, np.nan)
    print(f"  {label:12s} {'scroll-in of a stale figure':32s} scrolled in -> redrawn p50 {p50:4.0f} p95 {p95:4.0f} ms "
          f"(of which plotly p50 {q50:4.0f} p95 {q95:4.0f} ms) over {len(ms)} jumps; {none} of {trials} moves "
          "left no figure stale")
    return {"panel": label, "slider": "scroll-in", "scroll_in_p50": p50, "scroll_in_p95": p95,
            "scroll_in_plotly_p50": q50, "scroll_in_plotly_p95": q95, "scroll_ins": len(ms), "no_stale": none}


def bench_notebook(page, lab: Lab, path: Path, args, rows: list) -> None:
    """Run one notebook, check and screenshot its panel, then time its sliders in every mode."""
    t = time.perf_counter()
    run_notebook(page, lab, path.name, args.timeout)
    width = page.evaluate("(p) => p.getBoundingClientRect().width", panel(page))
    print(f"{path.name}: ran in {time.perf_counter() - t:.0f} s; panel column {width:.0f} px")
    shot = args.out / f"{path.stem}_panel.png"
    screenshot(page, shot, args.width)
    print(f"  screenshot {shot}")
    for text in truncated_labels(page):
        print(f"  TRUNCATED label: {text!r}")
    for mode in modes(page) or [None]:
        if mode is not None:
            r = switch_mode(page, mode, args.quiet)
            if r is not None:
                print(f"  {path.stem[:2]} switch to {mode}: browser {r['redraw_ms']:.0f} ms, "
                      f"server {server_ms(r['text']):.0f} ms")
                screenshot(page, args.out / f"{path.stem}_{mode}.png", args.width)
        bench_panel(page, path.stem[:2] + (f" {mode}" if mode else ""), args.moves, args.quiet, rows)


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=10, help="key presses per slider")
    ap.add_argument("--notebooks", nargs="+", default=list(NOTEBOOKS), choices=list(NOTEBOOKS))
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "sorlib_bench_browser",
                    help="screenshots and the results JSON go here")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    ap.add_argument("--width", type=int, default=WINDOW["width"], help="browser window width, px "
                    "(notebook column ~1,000)")
    ap.add_argument("--quiet", type=float, default=400.0, help="ms without figure mutations that end a move")
    ap.add_argument("--timeout", type=float, default=1500.0, help="seconds per notebook run")
    ap.add_argument("--start", default="", metavar="P=V,...",
                    help="open the comparison panels (02, 03) at this point, e.g. lambda_over=0.01,theta_queue=0.0005")
    ap.add_argument("--no-prefetch", action="store_true", help="the comparison panel replays nothing while idle")
    ap.add_argument("--load", action="store_true", help="run one extra CPU-bound process (busy loop) throughout")
    ap.add_argument("--replace", nargs=3, action="append", metavar=("NB", "OLD", "NEW"),
                    help="replace OLD by NEW in notebook NB's code before running (measure a proposed edit)")
    return ap.parse_args()


def main() -> int:
    args = _args()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        print("needs Playwright for Python: pip install playwright (or pip install -e '.[dev]')", file=sys.stderr)
        return 2
    if not Path(args.chromium).exists():
        print(f"no Chromium at {args.chromium}: apt-get install -y chromium", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    start = {k: float(v) for k, v in (kv.split("=", 1) for kv in args.start.split(",") if kv)}
    with cpu_load(args.load) as load, tempfile.TemporaryDirectory(prefix="sorlib-bench-") as tmp:
        print(load)
        print(f"comparison panels open at {start or 'the headline point'}; prefetch "
              f"{'off' if args.no_prefetch else 'on'}; {args.moves} key presses per slider")
        paths = prepare(Path(tmp), args.notebooks, args.replace, start=start, prefetch=not args.no_prefetch)
        with lab_page(Path(tmp), args.chromium, {"width": args.width, "height": 1000}) as (page, lab):
            for path in paths:
                bench_notebook(page, lab, path, args, rows)
        end_load = load_text()
    meta = {"load": load, "load_at_end": end_load, "start": start, "prefetch": not args.no_prefetch}
    (args.out / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    worst = max((r["browser_p95"] for r in rows if "browser_p95" in r), default=float("nan"))
    print(f"at the end: {end_load}")
    print(f"worst browser p95 {worst:.0f} ms over {sum('browser_p95' in r for r in rows)} sliders (moves redraw "
          f"the figures in view; the others when scrolled in: scroll-in rows); results in {args.out / 'results.json'}")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
