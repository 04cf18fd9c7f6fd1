"""The rendered reports in a real browser: headless Chromium draws every plotly chart and logs no
JavaScript error. Chromium is driven through the DevTools protocol (``websocket-client``, already a
dependency of jupyter_server); without it, ``--dump-dom`` and the console log are scanned instead.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from test_report import NOTEBOOKS, report_dir  # noqa: F401 - the shared session fixture

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed "
                                "(apt-get install -y chromium; CI installs it)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]

_STATE_JS = r"""JSON.stringify({
  graphs: document.querySelectorAll('.plotly-graph-div').length,
  drawn: Array.from(document.querySelectorAll('.plotly-graph-div'))
              .filter(d => d.querySelector('.main-svg')).length,
  svgs: document.querySelectorAll('.main-svg').length,
  verdict_tables: document.querySelectorAll('.sorlib-verdict table').length,
  sentences: Array.from(document.querySelectorAll('.sorlib-verdict .sentence')).map(e => e.innerText.trim()),
  mathjax: document.querySelectorAll('mjx-container, .MathJax, .MathJax_SVG, script[type^="math/tex"]').length,
  dollar_maths: (document.body.innerText.match(/\$[^$\n]+\$/g) || []).length,
  hidden_titles: Array.from(document.querySelectorAll('.plotly-graph-div')).filter(d => {
      const t = d.layout && d.layout.title && d.layout.title.text;
      const g = d.querySelector('.gtitle');
      return t && !(g && g.textContent.trim());}).length})"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """A headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, user_dir: Path) -> None:
        import websocket

        self.port = _free_port()
        self.proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={user_dir}",
                                      f"--remote-debugging-port={self.port}", "--remote-allow-origins=*",
                                      "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=2) as r:
                    targets = [t for t in json.load(r) if t.get("type") == "page"]
                if targets:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.close()
                raise RuntimeError("Chromium's DevTools endpoint did not come up")
            time.sleep(0.2)
        self.ws = websocket.create_connection(targets[0]["webSocketDebuggerUrl"], timeout=60,
                                              suppress_origin=True, max_size=None)
        self.next_id = 0
        self.events: list[dict] = []
        for method in ("Runtime.enable", "Log.enable", "Page.enable"):
            self.call(method)

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        my = self.next_id
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, method: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(e["method"] == method for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(method)
            self.ws.settimeout(max(deadline - time.monotonic(), 0.1))
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg)

    def render(self, url: str, timeout: float = 60) -> tuple[dict, list[str]]:
        """Load ``url``; wait until every plotly div has drawn (or timeout); → (state, JS errors)."""
        self.events = []
        self.call("Page.navigate", url=url)
        self.wait_event("Page.loadEventFired", timeout)
        deadline = time.monotonic() + timeout
        while True:
            res = self.call("Runtime.evaluate", expression=_STATE_JS, returnByValue=True)
            state = json.loads(res["result"]["value"])
            if state["drawn"] >= state["graphs"] or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        time.sleep(0.5)  # let late errors arrive
        self.call("Runtime.evaluate", expression="0")  # drains pending events
        return state, self.errors()

    def errors(self) -> list[str]:
        out = []
        for e in self.events:
            m, p = e["method"], e.get("params", {})
            if m == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                out.append(d.get("exception", {}).get("description") or d.get("text", "exception"))
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console.error: " + " ".join(str(a.get("value", a.get("description", "")))
                                                         for a in p.get("args", [])))
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")
        return out

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _render_dump_dom(path: Path, user_dir: Path) -> tuple[dict, list[str]]:
    """Fallback without websocket-client: ``--dump-dom`` after a virtual-time budget, and the console log."""
    proc = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={user_dir}", "--enable-logging=stderr", "--v=0",
                           "--virtual-time-budget=10000", "--dump-dom", path.as_uri()],
                          capture_output=True, text=True, timeout=120)
    dom = proc.stdout
    graphs = dom.count('class="plotly-graph-div')
    state = {"graphs": graphs, "drawn": dom.count("js-plotly-plot"), "svgs": dom.count('class="main-svg"'),
             "verdict_tables": dom.count('class="sorlib-verdict"'),
             "sentences": ["?"] * dom.count('class="sentence"'), "mathjax": dom.count("mjx-container"),
             "dollar_maths": 0, "hidden_titles": 0}
    errors = [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln and "Uncaught" in ln]
    return state, errors


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    try:
        import websocket  # noqa: F401
    except ImportError:
        yield None
        return
    b = Browser(tmp_path_factory.mktemp("chromium"))
    try:
        yield b
    finally:
        b.close()


def _render(browser, path: Path, tmp: Path, timeout: float = 60):
    return browser.render(path.as_uri(), timeout) if browser is not None else _render_dump_dom(path, tmp)


def test_error_detection_works(browser, tmp_path: Path) -> None:
    """The checks below are only worth something if a broken page is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><div class='plotly-graph-div'></div><script>undefinedFn();</script></body></html>")
    state, errors = _render(browser, bad, tmp_path / "u", timeout=3)
    assert any("undefinedFn" in e for e in errors), errors
    assert state["graphs"] == 1 and state["drawn"] == 0
    if browser is not None:  # the page checks can fail too
        maths = tmp_path / "maths.html"
        maths.write_text("<html><body><p>V in $ of $S$ shares</p></body></html>")
        state, _ = _render(browser, maths, tmp_path / "u", timeout=3)
        assert state["dollar_maths"] == 1 and state["verdict_tables"] == 0


@pytest.mark.parametrize("name", [p.stem for p in NOTEBOOKS])
def test_report_page_draws_every_chart_without_js_errors(browser, report_dir: Path, tmp_path: Path,  # noqa: F811
                                                         name: str) -> None:
    state, errors = _render(browser, report_dir / f"{name}.html", tmp_path / "u")
    assert state["graphs"] > 0, f"{name}: no plotly charts in the page"
    assert state["drawn"] == state["graphs"], f"{name}: only {state['drawn']}/{state['graphs']} charts drew"
    assert state["svgs"] >= state["graphs"]
    assert not errors, f"{name}: JavaScript errors: {errors[:5]}"
    # the page opens with the summary table and the sentence that reads it; no maths, no lost titles
    assert state["verdict_tables"] >= 1, f"{name}: no summary table"
    assert state["sentences"] and all(len(t) > 20 for t in state["sentences"]), state["sentences"]
    assert state["mathjax"] == 0 and state["dollar_maths"] == 0, f"{name}: text rendered as maths"
    assert state["hidden_titles"] == 0, f"{name}: {state['hidden_titles']} figure title(s) not shown"


def test_index_page_loads(browser, report_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    state, errors = _render(browser, report_dir / "index.html", tmp_path / "u")
    assert not errors, errors
    assert state["verdict_tables"] >= 1 and state["sentences"], "the index opens with the verdict"
    assert state["mathjax"] == 0 and state["dollar_maths"] == 0


# ------------------------------------------------------------------ issue 22: a page a desk can read at 1,000 px
_LAYOUT_JS = r"""JSON.stringify((() => {
  const doc = document.documentElement;
  const scrolls = el => { for (let a = el.parentElement; a; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX; if (o === 'auto' || o === 'scroll') return true; } return false; };
  const wide = Array.from(document.querySelectorAll('table')).filter(t => {
      const box = t.parentElement; return t.scrollWidth > box.clientWidth + 1 && !scrolls(t); })
      .map(t => (t.innerText || '').slice(0, 80));
  const nan = Array.from(document.querySelectorAll('td, th')).map(c => c.innerText.trim())
      .filter(x => /^(nan|NaN|NaT|None|<NA>)$/.test(x));
  const outs = Array.from(document.querySelectorAll('pre, .jp-OutputArea-output, .output_text, table'))
      .map(e => e.innerText || '');
  const dicts = outs.filter(x => x.includes("{'")).map(x => x.slice(0, 120));
  const traces = [];
  document.querySelectorAll('.js-plotly-plot').forEach(el => (el.data || []).forEach(t => {
      const c = (t.line && typeof t.line.color === 'string' && t.line.color) ||
                (t.marker && typeof t.marker.color === 'string' && t.marker.color) || null;
      if (t.name && c) traces.push([String(t.name), c]); }));
  // the one table style: text columns left, numbers right (JupyterLab's CSS right-aligned everything);
  // a column of numbers shows one number of decimals; nothing reads "-0.00"
  const misaligned = [], mixed = [];
  document.querySelectorAll('table.sorlib-table').forEach(t => {
      const cols = {};
      t.querySelectorAll('tbody tr').forEach(tr => Array.from(tr.children).forEach((c, i) => {
          if (c.tagName !== 'TD') return;
          const want = c.classList.contains('num') ? 'right' : 'left';
          if (getComputedStyle(c).textAlign !== want) misaligned.push(c.innerText.slice(0, 40) + ' (' + want + ')');
          const x = c.innerText.trim();
          if (c.classList.contains('num') && /^[−+-]?[\d,]*\.?\d+$/.test(x))
              (cols[i] = cols[i] || new Set()).add(x.includes('.') ? x.split('.')[1].length : 0); }));
      const head = Array.from(t.querySelectorAll('thead th')).map(h => h.innerText.trim());
      Object.entries(cols).forEach(([i, d]) => { if (d.size > 1) mixed.push((head[i] || i) + ': ' + [...d]); }); });
  const minus_zero = Array.from(document.querySelectorAll('td, th')).map(c => c.innerText.trim())
      .filter(x => /(^|[^\d.,])[−-]0(\.0+)?(?![\d.])/.test(x));
  // codes of the data shown as written: a table cell or header that is a snake_case identifier ("best_ask",
  // "luld_halt", "lambda_o"), a parameter name in a headline ("lambda_over=2")
  const codes = Array.from(document.querySelectorAll('table.sorlib-table td, table.sorlib-table th, '
      + '.sorlib-verdict td, .sorlib-verdict th')).map(c => c.innerText.trim())
      .filter(x => /^[a-z][a-z0-9]*(_[a-z0-9]+)+$/.test(x));
  document.querySelectorAll('.sorlib-verdict').forEach(v => codes.push(
      ...((v.innerText || '').match(/\b(lambda|theta)_[a-z]+\b/g) || [])));
  return {page_scroll: doc.scrollWidth - doc.clientWidth, wide: wide, nan: nan, dicts: dicts, traces: traces,
          misaligned: misaligned, mixed: mixed, minus_zero: minus_zero, codes: codes,
          raw_frames: Array.from(document.querySelectorAll('table.dataframe'))
              .filter(t => !t.closest('.sorlib-verdict')).length,
          styled: document.querySelectorAll('table.sorlib-table').length};
})())"""


def _venue_mismatches(traces: list[list[str]]) -> list[str]:
    """Traces named after a known venue (sorlib.plots.colors.venue_id; names of 3+ characters, so fill
    kinds and single letters are not taken for TAQ codes) whose colour is not the venue's colour."""
    from sorlib.plots.colors import venue_color, venue_id

    bad = []
    for name, color in traces:
        if len(name) > 2 and venue_id(name) is not None and color.lower() != venue_color(name).lower():
            bad.append(f"{name}: {color} (map {venue_color(name)})")
    return bad


def test_layout_check_catches_broken_pages(browser, tmp_path: Path) -> None:
    """The 1,000 px checks below fail on a NaN cell, a wide table without a scroll box, a printed dict and a
    venue drawn in another colour (NYSE is slot 0, #1f77b4, in sorlib.plots.colors)."""
    if browser is None:
        pytest.skip("websocket-client missing: the layout checks need the DevTools protocol")
    bad = tmp_path / "bad.html"
    cells = "".join(f"<td>column-{i}-with-long-text</td>" for i in range(60))
    bad.write_text("<html><body><table><tr><td>NaN</td>" + cells + "</tr></table><pre>{'a': 1}</pre>"
                   "<div class='js-plotly-plot' id='p'></div><script>document.getElementById('p').data="
                   "[{name:'NYSE', line:{color:'#ff0000'}}];</script></body></html>")
    state = _layout(browser, bad)
    assert state["nan"] == ["NaN"] and state["wide"] and state["page_scroll"] > 0 and state["dicts"]
    assert _venue_mismatches(state["traces"]) == ["NYSE: #ff0000 (map #1f77b4)"]
    # a house-style table under JupyterLab's rule (right-aligns every cell), a column of 1 and 3 decimals, "-0.00"
    styled = tmp_path / "styled.html"
    lab = ("<style>:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td{text-align:right}</style>"
           "<div class='jp-RenderedHTMLCommon'><div class='sorlib-tablebox'><style>table.sorlib-table td"
           "{text-align:left}table.sorlib-table td.num{text-align:right}</style><table class='sorlib-table'>"
           "<thead><tr><th>model</th><th>x</th></tr></thead><tbody><tr><td>log</td><td class='num'>0.5</td></tr>"
           "<tr><td>paper</td><td class='num'>-0.00</td></tr><tr><td>simple</td><td class='num'>0.125</td></tr>"
           "</tbody></table></div></div>")
    styled.write_text(f"<html><body>{lab}</body></html>")
    state = _layout(browser, styled)
    assert state["misaligned"] == ["log (left)", "paper (left)", "simple (left)"]
    assert state["mixed"] == ["x: 1,2,3"] and state["minus_zero"] == ["-0.00"]
    # codes shown as written (the pages before issue 22's last pass): a strategy key in a cell, a parameter name
    # as a row label, and the headline's "router parameters lambda_over=2"
    coded = tmp_path / "coded.html"
    coded.write_text("<html><body><div class='sorlib-verdict'><p class='facts'>mode: spec · router parameters "
                     "lambda_over=2, lambda_under=0.01</p></div><table class='sorlib-table'><tbody><tr><th>lambda_o</th>"
                     "<td>best_ask</td><td>Best Ask</td><td>λ over 2</td></tr></tbody></table></body></html>")
    assert _layout(browser, coded)["codes"] == ["lambda_o", "best_ask", "lambda_over", "lambda_under"]
    # the same table from sorlib.tables passes: its CSS wins over JupyterLab's
    import pandas as pd

    from sorlib.tables import table

    good = table(pd.DataFrame({"model": ["log", "paper"], "x_ratio": [0.5, -0.0001]})).html()
    styled.write_text(f"<html><body>{lab.split('<div class=' + chr(39) + 'sorlib-tablebox')[0]}{good}</div></body></html>")
    state = _layout(browser, styled)
    assert not state["misaligned"] and not state["mixed"] and not state["minus_zero"], state


def _layout(browser, path: Path) -> dict:
    browser.call("Emulation.setDeviceMetricsOverride", width=1000, height=900, deviceScaleFactor=1, mobile=False)
    browser.render(path.as_uri(), 60)
    res = browser.call("Runtime.evaluate", expression=_LAYOUT_JS, returnByValue=True)
    return json.loads(res["result"]["value"])


@pytest.mark.slow
@pytest.mark.parametrize("name", [p.stem for p in NOTEBOOKS] + ["index"])
def test_report_page_reads_at_1000px(browser, report_dir: Path, name: str) -> None:  # noqa: F811
    """At 1,000 px: nothing cut at the right edge (page scroll width = client width; every table wider
    than its box sits in a scroll box), no NaN cell, no printed dict, every pandas table in the one style
    (no raw ``table.dataframe`` outside the headline block, which has its own formatted table), and every venue-named trace in its colour of sorlib.plots.colors;
    in every house-style table text left and numbers right, one number of decimals per column, no "-0.00"."""
    if browser is None:
        pytest.skip("websocket-client missing: the layout checks need the DevTools protocol")
    state = _layout(browser, report_dir / f"{name}.html")
    assert state["page_scroll"] <= 1, f"{name}: the page is {state['page_scroll']} px wider than 1,000 px"
    assert not state["wide"], f"{name}: tables cut at the edge: {state['wide'][:3]}"
    assert not state["nan"], f"{name}: {len(state['nan'])} NaN cells"
    assert not state["dicts"], f"{name}: printed dicts: {state['dicts'][:3]}"
    assert state["raw_frames"] == 0, f"{name}: {state['raw_frames']} tables not in the house style"
    assert not _venue_mismatches(state["traces"]), f"{name}: {_venue_mismatches(state['traces'])[:5]}"
    assert not state["misaligned"], f"{name}: table cells aligned against the style: {state['misaligned'][:5]}"
    assert not state["mixed"], f"{name}: columns mixing decimals (column: decimals seen): {state['mixed'][:5]}"
    assert not state["minus_zero"], f"{name}: cells reading -0: {state['minus_zero'][:5]}"
    assert not state["codes"], f"{name}: snake_case codes shown to the reader: {state['codes'][:5]}"
