"""Benchmark: slider latency of the what-if panels in a real JupyterLab, from key press to redrawn figures.

Run: ``python benchmarks/bench_browser_sliders.py [--moves N] [--notebooks 02 03 04] [--out DIR]``.

Needs JupyterLab (a dependency), Playwright for Python (``pip install playwright``, in the ``dev`` extras)
and Debian's Chromium (``apt-get install -y chromium``; ``playwright install`` is not needed: the browser is
launched from ``--chromium``, default ``/usr/bin/chromium``).

For each notebook it writes a temporary copy with ``INTERACTIVE = True`` set right after the parameters cell,
starts JupyterLab on 127.0.0.1 (free port, random token, ``expose_app_in_browser``) in that folder, opens the
copy in headless Chromium with a window whose notebook column is about 1,000 px wide, runs all cells, and
then for every live (not disabled) slider of the panel — in notebook 02/03 for each router mode, chosen with
the panel's toggle — focuses the slider handle and presses an arrow key N times. Each move is timed in the
page: from the ``keydown`` to the last mutation of the panel's plotly figures after the status line
("recomputed in … ms", the server-side time, also recorded) changed, once the figures stayed quiet for
``--quiet`` ms. It prints p50 and p95 per slider (browser and server), saves a screenshot of each panel in
``--out`` and exits 1 when a browser p95 is over the 200 ms target. Everything it starts (JupyterLab, its
kernels, Chromium) is stopped at the end, also on errors and Ctrl-C; the whole run is bounded by ``--timeout``.
"""

from __future__ import annotations

import argparse
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
from pathlib import Path

import nbformat
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {"02": "02_strategy_comparison.ipynb", "03": "03_parameter_search.ipynb",
             "04": "04_cont_kukanov.ipynb"}
TARGET_MS = 200.0
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]

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
  const after = st.plot.filter(t => t >= st.keydown);
  const last = after.length ? after[after.length - 1] : st.status[st.status.length - 1];
  if (now - Math.max(last, st.status[st.status.length - 1]) < quiet) return null;
  return {status_ms: st.status[0] - st.keydown, redraw_ms: Math.max(last, st.status[0]) - st.keydown,
          mutations: after.length, text: st.statusText};
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(folder: Path, keys: list[str], replace: list[list[str]] | None = None) -> list[Path]:
    """Copies of the notebooks with ``INTERACTIVE = True`` injected after the parameters cell (and each
    ``[NB, OLD, NEW]`` of ``replace`` applied to notebook NB's code: to measure a proposed edit)."""
    out = []
    for k in keys:
        nb = nbformat.read(str(ROOT / "notebooks" / NOTEBOOKS[k]), as_version=4)
        for nb_key, old, new in replace or []:
            if nb_key == k:
                hits = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
                if not hits:
                    raise SystemExit(f"--replace: {old!r} is not in notebook {k}")
                for c in hits:
                    c.source = c.source.replace(old, new)
        i = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
        nb.cells.insert(i + 1, nbformat.v4.new_code_cell("INTERACTIVE = True  # injected by bench_browser_sliders"))
        path = folder / NOTEBOOKS[k]
        nbformat.write(nb, str(path))
        out.append(path)
    return out


class Lab:
    """A JupyterLab server in its own process group (stopped with its kernels by :meth:`close`)."""

    def __init__(self, folder: Path) -> None:
        self.port, self.token = _free_port(), secrets.token_hex(16)
        self.log = open(folder / "jupyterlab.log", "w")  # noqa: SIM115 - closed in close()
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "JUPYTER_CONFIG_DIR": str(folder / ".jupyter"),
               "JUPYTERLAB_SETTINGS_DIR": str(folder / ".lab-settings"),
               "JUPYTERLAB_WORKSPACES_DIR": str(folder / ".lab-workspaces")}
        notes = folder / ".lab-settings" / "@jupyterlab" / "apputils-extension"
        notes.mkdir(parents=True, exist_ok=True)  # no "get notified about Jupyter news?" pop-up over the panel
        (notes / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={folder}", "--LabApp.expose_app_in_browser=True",
             "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
             "--allow-root"],
            cwd=folder, stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    tail = Path(self.log.name).read_text()[-2000:]
                    raise RuntimeError(f"JupyterLab did not start:\n{tail}") from None
                time.sleep(0.5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        if self.proc.poll() is None:
            try:  # the server's process group: the server and the kernels it started
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.log.close()


def _wait(page, js: str, timeout_s: float, what: str, arg=None):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        v = page.evaluate(js, arg)
        if v:
            return v
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def run_notebook(page, lab: Lab, name: str, timeout_s: float) -> None:
    page.goto(f"{lab.url}/lab/tree/{name}?token={lab.token}&reset", wait_until="domcontentloaded")
    _wait(page, "() => window.jupyterapp && document.querySelector('.jp-Notebook') && "
                "window.jupyterapp.shell.currentWidget && window.jupyterapp.shell.currentWidget.sessionContext"
                " && window.jupyterapp.shell.currentWidget.sessionContext.session && "
                "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel && "
                "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
          120, "the notebook and its kernel")
    page.evaluate("() => { window.jupyterapp.commands.execute('application:toggle-left-area');"
                  " const sb = document.querySelector('#jp-left-stack'); }")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    time.sleep(1.0)
    # done: the kernel is idle, no cell waits ([*]) and the panel (or an error) is on the page
    _wait(page, """() => {
        const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
        const busy = Array.from(document.querySelectorAll('.jp-InputArea-prompt'))
                          .some(p => p.textContent.includes('*'));
        return k.status === 'idle' && !busy &&
               (document.querySelector('.sorlib-status') || document.querySelector('.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"] pre'));
    }""", timeout_s, f"{name} to run")
    err = page.evaluate("() => Array.from(document.querySelectorAll('.jp-OutputArea-output'))"
                        ".map(o => o.textContent).find(t => /Traceback|Error:/.test(t)) || null")
    if err and not page.query_selector(".sorlib-status"):
        raise RuntimeError(f"{name} failed: {err[-800:]}")
    _wait(page, "() => document.querySelectorAll('.sorlib-status').length && "
                "document.querySelector('.sorlib-status').closest('.jp-OutputArea-output')"
                ".querySelectorAll('.js-plotly-plot .main-svg').length >= 4", 120, "the panel's figures")


def _panel(page):
    return page.evaluate_handle("() => document.querySelector('.sorlib-status').closest('.jp-OutputArea-output')")


def _sliders(page) -> list[dict]:
    return page.evaluate("""(panel) => Array.from(panel.querySelectorAll('.widget-slider')).map((s, i) => ({
        i, label: (s.querySelector('.widget-label') || {}).textContent || '',
        disabled: s.classList.contains('mod-disabled') || !!s.querySelector('.noUi-target[disabled]')
                  || (s.querySelector('.noUi-handle') || {}).getAttribute?.('tabindex') === null}))""",
                         _panel(page))


def move(page, index: int, key: str, quiet_ms: float, timeout_s: float = 30.0) -> dict:
    handle = page.evaluate_handle("([panel, i]) => panel.querySelectorAll('.widget-slider')[i]"
                                  ".querySelector('.noUi-handle')", [_panel(page), index])
    handle.focus()
    page.keyboard.press(key)
    return _wait(page, _RESULT_JS, timeout_s, "the redraw", quiet_ms)


def screenshot(page, path: Path, width: int) -> None:
    """The whole panel (the window is made tall enough for it, then restored)."""
    height = int(page.evaluate("(p) => p.getBoundingClientRect().height", _panel(page))) + 200
    page.set_viewport_size({"width": width, "height": max(height, 1000)})
    time.sleep(0.5)
    _panel(page).as_element().screenshot(path=str(path))
    page.set_viewport_size({"width": width, "height": 1000})


def truncated_labels(page) -> list[str]:
    """Texts of the panel's labels that do not fit their box (cut or with an ellipsis)."""
    return page.evaluate("(p) => Array.from(p.querySelectorAll('.widget-label, .widget-label-basic'))"
                         ".filter(l => l.scrollWidth > l.clientWidth + 1).map(l => l.textContent)", _panel(page))


def _server_ms(text: str) -> float:
    try:
        return float(text.rsplit("recomputed in", 1)[1].split("ms")[0])
    except (IndexError, ValueError):
        return float("nan")


def bench_panel(page, label: str, moves: int, quiet_ms: float, rows: list) -> None:
    page.evaluate(_INSTALL_JS, _panel(page))
    for s in _sliders(page):
        name = s["label"].strip() or f"slider {s['i']}"
        if s["disabled"]:
            print(f"  {label:18s} {name:34s} disabled (inert in this mode)")
            continue
        browser, status, server = [], [], []
        key = "ArrowRight"
        for _ in range(moves):  # always to a new value (no memo hit) until the end of the track
            at = page.evaluate("([panel, i]) => { const h = panel.querySelectorAll('.widget-slider')[i]"
                               ".querySelector('.noUi-handle'); return [h.getAttribute('aria-valuenow'), "
                               "h.getAttribute('aria-valuemin'), h.getAttribute('aria-valuemax')]; }",
                               [_panel(page), s["i"]])
            if at[0] is not None and at[0] == (at[2] if key == "ArrowRight" else at[1]):
                key = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
            r = move(page, s["i"], key, quiet_ms)
            browser.append(r["redraw_ms"])
            status.append(r["status_ms"])
            server.append(_server_ms(r["text"]))
        b50, b95 = np.percentile(browser, [50, 95])
        s50, s95 = np.nanpercentile(server, [50, 95]) if np.isfinite(server).any() else (np.nan, np.nan)
        t50, t95 = np.percentile(status, [50, 95])
        print(f"  {label:12s} {name:32s} redrawn p50 {b50:5.0f} p95 {b95:5.0f} ms | status shown p50 {t50:5.0f} "
              f"p95 {t95:5.0f} | server p50 {s50:4.0f} p95 {s95:4.0f} ms -> {'under' if b95 < TARGET_MS else 'OVER'}")
        rows.append({"panel": label, "slider": name, "browser_p50": b50, "browser_p95": b95, "status_p50": t50,
                     "status_p95": t95, "server_p50": s50, "server_p95": s95, "moves": moves})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=10, help="key presses per slider")
    ap.add_argument("--notebooks", nargs="+", default=list(NOTEBOOKS), choices=list(NOTEBOOKS))
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "sorlib_bench_browser",
                    help="screenshots and the results JSON go here")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    ap.add_argument("--width", type=int, default=1180, help="browser window width, px (notebook column ~1,000)")
    ap.add_argument("--quiet", type=float, default=400.0, help="ms without figure mutations that end a move")
    ap.add_argument("--timeout", type=float, default=1500.0, help="seconds per notebook run")
    ap.add_argument("--replace", nargs=3, action="append", metavar=("NB", "OLD", "NEW"),
                    help="replace OLD by NEW in notebook NB's code before running (measure a proposed edit)")
    args = ap.parse_args()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("needs Playwright for Python: pip install playwright (or pip install -e '.[dev]')", file=sys.stderr)
        return 2
    if not Path(args.chromium).exists():
        print(f"no Chromium at {args.chromium}: apt-get install -y chromium", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="sorlib-bench-") as tmp:
        folder = Path(tmp)
        paths = prepare(folder, args.notebooks, args.replace)
        lab = Lab(folder)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=FLAGS)
                try:
                    page = browser.new_page(viewport={"width": args.width, "height": 1000})
                    for path in paths:
                        t = time.perf_counter()
                        run_notebook(page, lab, path.name, args.timeout)
                        width = page.evaluate("(p) => p.getBoundingClientRect().width", _panel(page))
                        print(f"{path.name}: ran in {time.perf_counter() - t:.0f} s; panel column {width:.0f} px")
                        shot = args.out / f"{path.stem}_panel.png"
                        screenshot(page, shot, args.width)
                        print(f"  screenshot {shot}")
                        for label in truncated_labels(page):
                            print(f"  TRUNCATED label: {label!r}")
                        toggle = page.evaluate("(panel) => Array.from(panel.querySelectorAll("
                                               "'.widget-toggle-buttons button')).map(b => b.textContent.trim())",
                                               _panel(page))
                        for mode in toggle or [None]:
                            if mode is not None:
                                page.evaluate(_INSTALL_JS, _panel(page))
                                page.evaluate("([panel, m]) => { const st = window.__sorlibBench;"
                                              " st.keydown = performance.now(); st.plot = []; st.status = [];"
                                              " Array.from(panel.querySelectorAll('.widget-toggle-buttons "
                                              "button')).find(b => b.textContent.trim() === m).click(); }",
                                              [_panel(page), mode])
                                r = _wait(page, _RESULT_JS, 120, f"mode {mode} redraw", args.quiet)
                                print(f"  {path.stem[:2]} switch to {mode}: browser {r['redraw_ms']:.0f} ms, "
                                      f"server {_server_ms(r['text']):.0f} ms")
                                screenshot(page, args.out / f"{path.stem}_{mode}.png", args.width)
                            label = path.stem[:2] + (f" {mode}" if mode else "")
                            bench_panel(page, label, args.moves, args.quiet, rows)
                finally:
                    browser.close()
        finally:
            lab.close()
    (args.out / "results.json").write_text(json.dumps(rows, indent=1))
    worst = max((r["browser_p95"] for r in rows), default=float("nan"))
    print(f"worst browser p95 {worst:.0f} ms over {len(rows)} sliders; results in {args.out / 'results.json'}")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
