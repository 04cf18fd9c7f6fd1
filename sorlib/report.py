"""Headless reports: run the notebooks in ``notebooks/`` with papermill, export them to offline HTML.

:func:`run_report` executes every notebook (kernel ``python3``; parameters merged over each notebook's
``parameters`` cell — a parameter is passed only to the notebooks that declare it), writes
``<out>/<name>.ipynb`` (executed) and ``<out>/<name>.html`` (nbconvert, code hidden unless
``show_code``; plotly.js embedded once per page, no CDN, no require.js, no MathJax) and
``<out>/index.html`` linking them and the results JSON that notebook 02 writes (``RESULTS_JSON``).
Every file is written atomically, and the report as one set: the notebooks run into a staging folder
inside ``<out>``, then (under a lock on ``<out>``) the old ``index.html`` is removed, the pages moved in,
pages of the previous report that this one lacks removed, and the new ``index.html`` written last — an
interrupted run never leaves an index next to pages of another run. A failing cell raises :class:`NotebookError` naming the notebook and
the cell; the partly executed notebook is kept as ``<out>/<name>.failed.ipynb``.

The notebooks call :func:`setup_notebook` and :func:`load_market` first, and open their page with
:func:`show_verdict` (the summary table and its sentence, from :func:`sorlib.metrics.verdict_table` and
:func:`sorlib.metrics.verdict_sentence`) or, without a backtest, :func:`show_data_summary`.

**Regular hours.** Every notebook declares ``REGULAR_HOURS`` (``"auto"``, True or False; default
``"auto"``): with ``"auto"`` :func:`load_market` keeps 09:30–16:00 New York time whenever the data extend
beyond it (a real AlgoSeek day runs 04:00–20:00), and the note saying so — applied or not, and why — is
shown at the top of every page, in the results JSON (``data.session``) and on the index.

**Pristine notebooks.** A report runs the notebooks *as committed*. Before running, each notebook is
checked (:func:`pristine_problem`): it must carry no outputs or execution counts (a JupyterLab autosave
leaves them), and its cells (type, source, tags) and kernel must equal the committed version — ``git show
HEAD:<path>`` when the notebooks live in a git checkout (an uncommitted notebook counts as modified), else
the SHA-256 fingerprints in ``pristine.json`` beside them (:func:`write_pristine_manifest`, written when the
notebooks are packaged), else outputs only. A modified notebook stops the run with one line naming it,
unless ``allow_modified`` (``sorlib report --allow-modified``); the index says which check each notebook
passed.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ._io import atomic_write_json, atomic_write_text, check_output_dir, dir_lock, file_mode, output_error
from .errors import ConfigError, SorlibError

RESULTS_NAME = "results.json"
#: The parameter through which the report asks notebook 02 to write the results JSON.
RESULTS_PARAMETER = "RESULTS_JSON"

_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block extra_css -%}
<style>
/* printed lines wrap between words, never mid-word; a line longer than the column scrolls in its own box */
body .jp-OutputArea-output pre{white-space:pre-wrap!important;word-break:normal!important;
  overflow-wrap:normal!important;word-wrap:normal!important}
body .jp-OutputArea-output{overflow-x:auto;max-width:100%}
</style>
{%- endblock extra_css -%}
"""


class NotebookError(SorlibError):
    """A notebook cell failed during a report run (``notebook``, ``cell_index``, ``ename``, ``evalue``)."""

    def __init__(self, notebook: str, cell_index: int | None, ename: str, evalue: str,
                 saved: Path | None = None) -> None:
        self.notebook, self.cell_index, self.ename, self.evalue = notebook, cell_index, ename, evalue
        where = f"cell {cell_index}" if cell_index is not None else "an unknown cell"
        first = (evalue or "").strip().splitlines()[0] if (evalue or "").strip() else ""
        extra = f" (executed copy: {saved})" if saved else ""
        super().__init__(f"notebook {notebook} failed at {where}: {ename}: {first}{extra}")


# ----------------------------------------------------------------------------------- inside notebooks
def setup_notebook(renderer: str = "plotly_mimetype+sorlib_offline") -> None:
    """Plotly output that renders live in JupyterLab (the plotly mimetype) *and* in exported offline HTML:
    the ``sorlib_offline`` renderer is plotly's ``notebook`` renderer (plotly.js embedded once per
    notebook) without its MathJax ``<script src>`` from a CDN. Also shows every pandas table in the one table
    style of :mod:`sorlib.plots.tables` (units, no NaN, New York time, a scroll box)."""
    import pandas as pd
    import plotly.io as pio

    if "sorlib_offline" not in pio.renderers:
        pio.renderers["sorlib_offline"] = _offline_renderer()
    pio.renderers.default = renderer
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.precision", 4)
    pd.set_option("display.float_format", float_format)
    from .plots.tables import install

    install()  # every DataFrame shown on a page in the one table style (sorlib.plots.tables)


def float_format(x: float) -> str:
    """How pages print floats: thousands separators and no scientific notation for dollar totals
    (``22929875.5`` → ``22,929,875.50``), 4 decimals for prices and bps, small values (λ's) positional
    (``5e-05`` → ``0.00005``)."""
    import numpy as np

    if not np.isfinite(x):
        return str(x)
    if abs(x) >= 10_000:
        return f"{x:,.2f}"
    if x == 0 or abs(x) >= 0.01:
        return f"{x:,.4f}"
    return np.format_float_positional(x, precision=3, fractional=False, trim="-")


def _offline_renderer():
    from plotly.io._base_renderers import NotebookRenderer

    class OfflineNotebookRenderer(NotebookRenderer):
        """The notebook renderer with ``include_mathjax=False`` (figures need no MathJax here)."""

        def to_mimebundle(self, fig_dict):
            from plotly.io import to_html

            html = to_html(fig_dict, config=self.config, include_plotlyjs=False, include_mathjax=False,
                           full_html=False, default_width="100%", default_height=525, validate=False)
            return {"text/html": html}

    return OfflineNotebookRenderer(connected=False)


def load_market(data: str | None = None, seed: int = 0, synth_minutes: float | None = None,
                fmt: str = "auto", regular_hours: bool | str = "auto"):
    """The notebooks' data: the file ``data`` (any supported format), or the embedded synthetic day
    (``seed``; only the first ``synth_minutes`` minutes from 09:30 when given — small test runs).

    ``regular_hours``: True keeps 09:30–16:00 New York time, False keeps everything, ``"auto"`` keeps
    09:30–16:00 whenever the data extend beyond it. The decision and its reason are appended to
    ``md.report.notes`` (read it with :func:`hours_note`)."""
    from dataclasses import replace

    setting = regular_hours_setting(regular_hours)
    if data in (None, "", "None"):
        from .synth import default_market

        md = default_market(seed=int(seed)) if synth_minutes is None else default_market(
            seed=int(seed), minutes=float(synth_minutes))
    else:
        from .data import load

        md = load(data, format=fmt)
    span = session_span(md)
    apply = setting is True or (setting == "auto" and span["outside"] > 0)
    note = _hours_note(setting, apply, span)
    if apply:
        md = md.regular_hours()
    return replace(md, report=replace(md.report, notes=[*md.report.notes, note]))


#: Marker of the regular-hours note in ``md.report.notes``.
HOURS_NOTE_PREFIX = "Session: "


def regular_hours_setting(value) -> bool | str:
    """``REGULAR_HOURS`` as True, False or ``"auto"`` (also accepts on/off, yes/no, true/false, 1/0)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("auto", "none", ""):
        return "auto"
    if text in ("true", "on", "yes", "1"):
        return True
    if text in ("false", "off", "no", "0"):
        return False
    raise ConfigError(f"REGULAR_HOURS = {value!r}: expected \"auto\", True or False")


def session_span(md) -> dict:
    """First and last time of the data in New York time (``"HH:MM"``), and how many of its quote and
    trade rows fall outside 09:30–16:00 there (``outside`` of ``rows``)."""
    import numpy as np
    import pandas as pd

    ts = np.concatenate([md.quotes.ts, md.trades.ts])
    if ts.size == 0:
        return {"first": None, "last": None, "outside": 0, "rows": 0}
    local = pd.to_datetime(ts, utc=True).tz_convert(md.tz)
    sec = local.hour * 3600 + local.minute * 60 + local.second
    outside = int(np.count_nonzero((sec < 9 * 3600 + 30 * 60) | (sec >= 16 * 3600)))
    return {"first": local.min().strftime("%H:%M"), "last": local.max().strftime("%H:%M"),
            "outside": outside, "rows": int(ts.size)}


def _hours_note(setting, apply: bool, span: dict) -> str:
    shown = '"auto"' if setting == "auto" else str(setting)
    ran = f"the data run {span['first']}–{span['last']} New York time" if span["rows"] else "the data are empty"
    pct = 100.0 * span["outside"] / span["rows"] if span["rows"] else 0.0
    if apply and setting == "auto":
        text = (f"regular hours applied automatically (REGULAR_HOURS = {shown}): {ran} and {pct:.0f}% of "
                "the rows fall outside 09:30–16:00, where the books are thin and a clean-up would be priced "
                "off them; only 09:30–16:00 is kept (set REGULAR_HOURS = False, or sorlib report "
                "--regular-hours off, to keep them).")
    elif apply:
        text = (f"regular hours applied (REGULAR_HOURS = {shown}): {ran}; {pct:.0f}% of the rows, outside "
                "09:30–16:00, were removed.")
    elif span["outside"]:
        text = (f"regular hours NOT applied (REGULAR_HOURS = {shown}): {ran} and {pct:.0f}% of the rows, "
                "outside 09:30–16:00, are kept — pre- and post-market books are thin, expect a large "
                "clean-up.")
    else:
        text = f"{ran}, within 09:30–16:00: nothing outside regular hours (REGULAR_HOURS = {shown})."
    return HOURS_NOTE_PREFIX + text


def hours_note(md) -> str:
    """The regular-hours note :func:`load_market` recorded (without its prefix); ``""`` if none."""
    for n in reversed(getattr(md.report, "notes", []) or []):
        if str(n).startswith(HOURS_NOTE_PREFIX):
            return str(n)[len(HOURS_NOTE_PREFIX):]
    return ""


# ------------------------------------------------------------------------------- the pages' headline
_VERDICT_CSS = """<style>
.sorlib-verdict table{border-collapse:collapse;margin:.4em 0;font-variant-numeric:tabular-nums}
.sorlib-verdict th,.sorlib-verdict td{border-bottom:1px solid #ccc;padding:.25em .6em;text-align:right}
.sorlib-verdict th:first-child,.sorlib-verdict td:first-child{text-align:left}
.sorlib-verdict .sentence{font-size:1.1em;font-weight:600;margin:.5em 0}
.sorlib-verdict .facts,.sorlib-verdict .notes{color:#444;font-size:.92em;margin:.3em 0}
.sorlib-verdict .warn{color:#8a4b00}
</style>"""


#: how each clean-up rule (:mod:`sorlib.sim.cleanup`) prices the shares beyond the visible book, for the headline
CLEANUP_PRICE = {"depth": "each venue's depth profile D(δ) = a·δ^b from the data before the deadline",
                 "flat": "the worst visible ask + 1 tick", "ladder": "one more tick per 100 shares"}


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def verdict_html(results: dict, session: str = "", sample: str | None = None, title: str | None = None,
                 market_model: str = "frozen tape") -> str:
    """The headline block of a page: facts (orders, in/out of sample, market model, mode), the table of
    :func:`sorlib.metrics.verdict_table`, the sentence of :func:`sorlib.metrics.verdict_sentence`, what
    the sign of a saving means, and warnings (regular hours, unplaced orders, clean-up beyond the book)."""
    from .metrics import SAVING_SIGN_NOTE, verdict_sentence, verdict_table
    from .tables import params_text

    table = verdict_table(results, sample=sample, market_model=market_model)
    f = table.attrs
    n = f["orders"]
    params = results.get("best_parameters") or {}
    shown = params_text({k: float(v) for k, v in params.items()}) if params else ""  # "λ over 2, … USD/share"
    model = f["market_model"] + (" (the replay consumes the displayed liquidity it takes; other traders do not "
                                 "react to our orders)" if f["market_model"] == "frozen tape" else "")
    rule = ((results.get("market") or {}).get("parameters") or {}).get("cleanup", {}).get("rule", "flat")  # older: flat
    facts = (f"{n:,} parent order{'' if n == 1 else 's'} · figures {f['sample']} · market model: {model} · "
             f"clean-up beyond the visible book: {CLEANUP_PRICE.get(rule, rule)} · "
             f"mode: {f['mode']}" + (f" · router parameters {shown}" if shown else ""))
    notes = [SAVING_SIGN_NOTE + " Average all-in price: cash including fees and the clean-up ÷ shares. "
             "Implementation shortfall: mean over orders of (average price − arrival mid) ÷ arrival mid. The "
             "saving is pooled over the orders (Σ cash); its interval is a seeded percentile bootstrap over "
             "orders of the mean per-order saving."]
    warns, infos = [], []
    if session:
        (warns if "applied" in session else infos).append(_cap(session))
    unplaced = results.get("unplaced_orders") or []
    if unplaced:
        reasons = sorted({str(u.get("reason", "")) for u in unplaced if isinstance(u, dict)})
        warns.append(f"{len(unplaced):,} scheduled parent order(s) could not be placed and are not in these "
                     f"figures ({'; '.join(reasons[:3])}).")
    beyond = {k: v for k, v in (results.get("cleanup_beyond_book_shares") or {}).items() if v}
    if beyond:
        from .metrics import strategy_label

        warns.append(f"Clean-up shares bought beyond the visible book (priced by the '{rule}' clean-up rule): "
                     + ", ".join(f"{strategy_label(k)} {int(v):,}" for k, v in beyond.items()) + ".")
    from .metrics import cleanup_check, strategy_label

    check = cleanup_check(results)
    if check["flagged"]:
        warns.append("Clean-up dominated (more than " + f"{100 * check['threshold']:g}% of the ordered shares bought by "
                     "the deadline clean-up): " + ", ".join(f"{strategy_label(k)} {100 * check['share'][k]:.1f}%"
                                                             for k in check["flagged"])
                     + (". The verdict is withheld." if check["withheld"] else "."))
    warns += edge_notes(results)
    head = f"<h3>{html.escape(title)}</h3>" if title else ""
    return (f'{_VERDICT_CSS}<div class="sorlib-verdict">{head}'
            f'<p class="facts">{html.escape(facts)}</p>'
            f'{table.to_html(index=False, escape=True, border=0)}'
            f'<p class="sentence">{html.escape(verdict_sentence(results))}</p>'
            + "".join(f'<p class="notes warn">{html.escape(w)}</p>' for w in warns)
            + "".join(f'<p class="notes">{html.escape(t)}</p>' for t in [*infos, *notes]) + "</div>")


def edge_notes(results: dict) -> list[str]:
    """Warnings for a search's chosen points on the grid's edge (``edges`` of the best point, each
    walk-forward fold's ``edges``; :func:`sorlib.search.space.point_edges`) and the ``--extend-grid`` outcome."""
    seen: dict[tuple, list[str]] = {}
    for e in results.get("edges") or []:
        seen.setdefault((e["parameter"], e["side"], e["value"]), []).append("in-sample best")
    for f in (results.get("walk_forward") or {}).get("folds") or []:
        for e in f.get("edges") or []:
            seen.setdefault((e["parameter"], e["side"], e["value"]), []).append(f"fold {f['fold']}")
    from .tables import code_label

    out = [f"Grid edge: {code_label(p)} = {v:g} USD/share is the {'lowest' if side == 'low' else 'highest'} value "
           "searched and was chosen "
           f"({', '.join(who)}); the optimum may lie outside the grid (sorlib search --extend-grid)."
           for (p, side, v), who in seen.items()]
    ext = results.get("grid_extension")
    if ext:
        out.append(f"The grid was extended (--extend-grid): {ext['status']} after {ext['rounds']} round(s). "
                   + str(ext.get("note", "")))
    return out


def show_verdict(results: dict, md=None, sample: str | None = None, title: str | None = None):
    """Display :func:`verdict_html` in the notebook (``md``: the data, for its regular-hours note)."""
    from IPython.display import HTML, display

    display(HTML(verdict_html(results, hours_note(md) if md is not None else "", sample=sample, title=title)))


def data_summary_html(md) -> str:
    """The headline of a page without a backtest: what was loaded, its session, and the regular-hours note."""
    span = session_span(md)
    r = md.report
    rows = [("source", "the embedded synthetic day" if r.format == "synthetic" else r.source),
            ("format", r.format), ("symbol", md.symbol or "—"),
            ("New York time", f"{span['first']}–{span['last']}" if span["rows"] else "—"),
            ("venues", f"{len(md.venues):,}"), ("quote rows", f"{len(md.quotes):,}"),
            ("trades", f"{len(md.trades):,}")]
    body = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    sentence = (f"{md.symbol or 'The instrument'} on {len(md.venues)} venue(s): {len(md.quotes):,} quote rows and "
                f"{len(md.trades):,} trades between {span['first']} and {span['last']} New York time. No strategy "
                "is compared on this page; the verdicts are in notebooks 02 (router) and 04 (Cont–Kukanov).")
    note = hours_note(md)
    return (f'{_VERDICT_CSS}<div class="sorlib-verdict"><table><tbody>{body}</tbody></table>'
            f'<p class="sentence">{html.escape(sentence)}</p>'
            + (f'<p class="notes{" warn" if "applied" in note else ""}">{html.escape(_cap(note))}</p>'
               if note else "") + "</div>")


def show_data_summary(md):
    from IPython.display import HTML, display

    display(HTML(data_summary_html(md)))


def slider_sample_note(data, order_size: int, every_minutes: float, horizon_minutes: float,
                       headline_orders: int) -> str:
    """The sentence that says the slider panel's figures come from a different set of parent orders than
    the headline (or the same), with both counts."""
    from .backtest import parent_orders
    from .engine import Book

    book = data if isinstance(data, Book) else Book.from_market(data)
    n = len(parent_orders(book, int(order_size), float(every_minutes), float(horizon_minutes)))
    if n == headline_orders:
        return (f"The panel below uses the headline's {n:,} parent orders (one every {every_minutes:g} minutes); "
                "it opens at the headline's mode and parameters, where its figures equal the headline's.")
    return (f"The panel below uses a different, smaller sample: {n:,} parent order{'' if n == 1 else 's'} (one every "
            f"{every_minutes:g} minutes, so that a slider move redraws fast), not the {headline_orders:,} orders of "
            f"the headline table. Its savings differ from the headline for that reason: read them as a "
            f"{n:,}-order slider sample, not as the verdict.")


def show_note(text: str):
    from IPython.display import HTML, display

    display(HTML(f'<p style="font-weight:600;color:#8a4b00">{html.escape(text)}</p>'))


# ----------------------------------------------------------------------------------------- the runner
def notebooks_dir() -> Path:
    """The notebooks this package runs: ``notebooks/`` of the checkout it runs from, else the copies
    installed with the package (``sorlib/_notebooks/``); a ConfigError when there are neither."""
    here = Path(__file__).resolve()
    for d in (here.parents[1] / "notebooks", here.parent / "_notebooks"):
        if d.is_dir() and any(d.glob("*.ipynb")):
            return d
    raise ConfigError(f"no notebooks found at {here.parents[1] / 'notebooks'}: sorlib seems installed without "
                      "its repository (non-editable); run from a checkout (pip install -e .) or pass --notebooks DIR")


def find_notebooks(directory: str | Path | None = None) -> list[Path]:
    """The ``*.ipynb`` files of ``directory`` (default :func:`notebooks_dir`), sorted by name."""
    d = Path(directory) if directory is not None else notebooks_dir()
    nbs = sorted(p for p in d.glob("*.ipynb") if not p.name.startswith("."))
    if not nbs:
        raise ConfigError(f"no notebooks (*.ipynb) in {d}")
    return nbs


def _declared_parameters(path: Path) -> dict[str, str]:
    """Name → default (source text) of the notebook's ``parameters`` cell."""
    import papermill

    try:
        return {k: str(v.get("default")) for k, v in papermill.inspect_notebook(str(path)).items()}
    except Exception as e:  # not JSON, not a notebook, no kernelspec...: name the file
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ConfigError(f"{path}: cannot read the notebook's parameters ({first}); "
                          "check it opens in Jupyter and has a kernelspec") from None


# ------------------------------------------------------------------------------- pristine notebooks
#: Fingerprints of the pristine notebooks, beside them (written when packaging, see write_pristine_manifest).
PRISTINE_MANIFEST = "pristine.json"


def notebook_fingerprint(nb) -> str:
    """SHA-256 of what a notebook *does*: its kernel and, per cell, the type, source and tags (ids,
    widths and other metadata that JupyterLab rewrites on save are ignored; outputs are checked apart)."""
    import hashlib

    cells = [[c.cell_type, c.source, sorted(c.get("metadata", {}).get("tags", []))] for c in nb.cells]
    kernel = (nb.metadata.get("kernelspec") or {}).get("name")
    return hashlib.sha256(json.dumps([kernel, cells], ensure_ascii=False).encode()).hexdigest()


def _read_nb(text_or_path):
    import nbformat

    if isinstance(text_or_path, Path):
        return nbformat.read(str(text_or_path), as_version=4)
    return nbformat.reads(text_or_path, as_version=4)


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(["git", *args], cwd=str(cwd), capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None


def committed_version(path: Path) -> tuple[str, str | None, str]:
    """The committed text of notebook ``path``, read-only: ``("git", text, "HEAD abc1234")`` in a git
    checkout (``text`` None when HEAD has no such file), else ``("none", None, "")``."""
    path = Path(path).resolve()
    top = _git(["rev-parse", "--show-toplevel"], path.parent)
    if top is None or top.returncode != 0 or not top.stdout.strip():
        return "none", None, ""
    root = Path(top.stdout.strip()).resolve()
    rel = path.relative_to(root).as_posix()
    head = _git(["rev-parse", "--short", "HEAD"], root)
    ref = f"HEAD {head.stdout.strip()}" if head is not None and head.returncode == 0 else "HEAD"
    shown = _git(["show", f"HEAD:{rel}"], root)
    return "git", (shown.stdout if shown is not None and shown.returncode == 0 else None), ref


def write_pristine_manifest(directory: str | Path) -> Path:
    """Record the fingerprints of ``directory``'s notebooks in ``directory/pristine.json`` (a packaging
    step: installed copies are then checked against it, outside a git checkout)."""
    from ._io import atomic_write_json

    d = Path(directory)
    doc = {p.name: notebook_fingerprint(_read_nb(p)) for p in find_notebooks(d)}
    return atomic_write_json(d / PRISTINE_MANIFEST, {"fingerprints": doc})


def pristine_problem(path: Path) -> tuple[str | None, str]:
    """``(problem, basis)``: why notebook ``path`` is not the pristine one (None if it is), and what it was
    compared with. Checks, in order: no outputs or execution counts; equal to ``git show HEAD:path`` (cells'
    type, source, tags and the kernel; see :func:`notebook_fingerprint`) in a git checkout, else to the
    fingerprint in ``pristine.json`` beside it, else outputs only."""
    path = Path(path)
    try:
        nb = _read_nb(path)
    except Exception as e:
        return f"cannot be read ({type(e).__name__})", "—"
    for c in nb.cells:
        if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None):
            return "it carries outputs or execution counts (saved from Jupyter?)", "no outputs"
    kind, text, ref = committed_version(path)
    if kind == "git":
        if text is None:
            return f"it is not committed ({ref} has no such file)", ref
        try:
            same = notebook_fingerprint(_read_nb(text)) == notebook_fingerprint(nb)
        except Exception:
            same = False
        return (None if same else f"its cells differ from the committed version ({ref})"), f"git {ref}"
    manifest = path.parent / PRISTINE_MANIFEST
    if manifest.is_file():
        try:
            prints = json.loads(manifest.read_text()).get("fingerprints", {})
        except (OSError, ValueError, AttributeError):
            prints = {}
        if path.name not in prints:
            return f"it is not listed in {manifest}", PRISTINE_MANIFEST
        if prints[path.name] != notebook_fingerprint(nb):
            return f"its cells differ from the fingerprint in {manifest}", PRISTINE_MANIFEST
        return None, PRISTINE_MANIFEST
    return None, "no outputs (no committed copy to compare with)"


def export_html(nb, path: Path, show_code: bool = False) -> Path:
    """Write notebook ``nb`` as standalone offline HTML to ``path`` (atomic). Raises when the page would
    fetch plotly.js from a CDN."""
    import jinja2
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", extra_loaders=[jinja2.DictLoader({"sorlib.html.j2": _TEMPLATE})])
    exporter.template_file = "sorlib.html.j2"
    exporter.exclude_input = not show_code
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb)
    if cdn_dependencies(body):
        raise SorlibError(f"{path.name}: the page would load scripts from a CDN "
                          f"({cdn_dependencies(body)[0]}); call sorlib.report.setup_notebook() in the notebook")
    return atomic_write_text(path, body)


_CDN_RE = re.compile(r"""(?:<script[^>]*\bsrc\s*=\s*["']|['"]plotly['"]\s*:\s*\[?\s*['"]|import\s*["'])"""
                     r"""(https?://[^"']+)""")


def cdn_dependencies(page: str) -> list[str]:
    """URLs of scripts the page would fetch from the network: ``<script src=...>``, a require.js path for
    plotly or an ES-module import — e.g. plotly.js from ``cdn.plot.ly`` or MathJax from cdnjs.

    The embedded plotly.js bundle itself mentions ``https://cdn.plot.ly/`` as the default of its
    ``topojsonURL`` option (only used by geo maps); that is not a dependency and is not reported.
    """
    return _CDN_RE.findall(page)


@dataclass
class ReportResult:
    """What :func:`run_report` wrote."""

    out: Path
    index: Path
    html: list[Path] = field(default_factory=list)
    notebooks: list[Path] = field(default_factory=list)
    results_json: Path | None = None
    index_text: str = field(default="", repr=False)
    #: notebook stem → every parameter it ran with (name → value as source text)
    parameters: dict[str, dict[str, str]] = field(default_factory=dict)
    #: parameter name given by the caller → stems of the notebooks that took it
    took: dict[str, list[str]] = field(default_factory=dict)
    #: notebook stem → what it was checked against ("git HEAD abc1234", ...), or "MODIFIED: why"
    pristine: dict[str, str] = field(default_factory=dict)
    #: notebook stem → results JSON it wrote
    results: dict[str, Path] = field(default_factory=dict)


def _title(nb, default: str) -> str:
    for c in nb.cells:
        if c.cell_type == "markdown":
            for line in c.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return default


def run_report(data: str | None = None, out: str | Path = "reports", parameters: dict | None = None,
               show_code: bool = False, notebooks: str | Path | list | None = None, progress: bool | str = True,
               kernel: str = "python3", timeout: float | None = None, regular_hours: bool | str | None = None,
               allow_modified: bool = False) -> ReportResult:
    """Execute the notebooks with papermill and write ``out``/{name}.html, {name}.ipynb, index.html.

    ``data``: a market data file (None: the embedded synthetic day), passed as ``DATA``; ``parameters``
    override the notebooks' ``parameters`` cells — each reaches every notebook that declares it, and a name
    no notebook declares is an error. ``regular_hours`` (``"auto"`` when None) goes to every notebook as
    ``REGULAR_HOURS``. Notebooks that differ from their pristine version (:func:`pristine_problem`) stop
    the run before anything executes, unless ``allow_modified``.
    """
    out = Path(out).resolve()
    check_output_dir(out, "--out")
    paths = [Path(p) for p in notebooks] if isinstance(notebooks, list) else find_notebooks(notebooks)
    declared = {p: _declared_parameters(p) for p in paths}
    params = dict(parameters or {})
    if regular_hours is not None and "REGULAR_HOURS" in params:
        raise ConfigError("REGULAR_HOURS given twice (--regular-hours and -p REGULAR_HOURS); give one")
    if "REGULAR_HOURS" in params or regular_hours is not None:
        regular_hours_setting(params.get("REGULAR_HOURS", regular_hours))  # fail early on a bad value
    given = sorted(params)
    if data is not None:
        if not Path(data).exists():
            raise ConfigError(f"{data}: no such data file")
        params["DATA"] = str(Path(data).resolve())
    unknown = sorted(k for k in params if k != "DATA" and not any(k in d for d in declared.values()))
    if unknown:
        known = sorted(set().union(*declared.values()))
        raise ConfigError(f"unknown notebook parameter(s) {unknown}; the notebooks declare {known}")
    if any("REGULAR_HOURS" in d for d in declared.values()):
        params.setdefault("REGULAR_HOURS", "auto" if regular_hours is None else regular_hours_setting(regular_hours))
    pristine, modified = {}, []
    for p in paths:
        problem, basis = pristine_problem(p)
        if problem:
            modified.append((p, problem))
        pristine[p.stem] = f"MODIFIED, run with --allow-modified: {problem}" if problem else f"pristine ({basis})"
    if modified and not allow_modified:
        (p, problem), more = modified[0], [q.name for q, _ in modified[1:]]
        raise ConfigError(f"notebook {p} is modified: {problem}"
                          + (f" (also modified: {', '.join(more)})" if more else "")
                          + "; restore the committed version (or clear its outputs), or pass --allow-modified")
    try:
        out.mkdir(parents=True, exist_ok=True)
        _remove_dead_staging(out)
        stage = Path(tempfile.mkdtemp(prefix=f"{_STAGING}{os.getpid()}-", dir=out))
    except OSError as e:
        raise output_error(out, e) from None
    try:
        res = _run_into(stage, out, paths, declared, params, data, show_code, progress, kernel, timeout, pristine)
        res.took = {k: [p.stem for p in paths if k in declared[p]] for k in given}
        _publish(stage, out, res)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return res


_STAGING = ".staging-"
_MANIFEST = ".sorlib-report.json"


def _remove_dead_staging(out: Path) -> None:
    """Staging folders left by report runs that were killed (their pid is gone)."""
    for d in out.glob(f"{_STAGING}*"):
        try:
            pid = int(d.name[len(_STAGING):].split("-", 1)[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except (ValueError, PermissionError, OSError):
            continue


def _run_into(stage: Path, out: Path, paths: list[Path], declared: dict, params: dict, data: str | None,
              show_code: bool, progress: bool | str, kernel: str, timeout: float | None,
              pristine: dict | None = None) -> ReportResult:
    """Execute and export every notebook into ``stage``; a failing notebook is kept as ``out/NAME.failed.ipynb``."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError
    from tqdm.auto import tqdm

    res = ReportResult(out=out, index=out / "index.html", pristine=dict(pristine or {}))
    entries = []
    results_files: dict[str, Path] = {}
    bar = tqdm(paths, desc="notebooks", unit="nb", disable=progress is not True, leave=False)
    for i, path in enumerate(bar, 1):
        bar.set_postfix_str(path.name)
        if progress == "lines":
            print(f"report: notebook {i}/{len(paths)} {path.name}", flush=True)
        mine = {k: v for k, v in params.items() if k in declared[path]}
        if RESULTS_PARAMETER in declared[path]:  # the first notebook writes results.json, later ones NAME.results.json
            name = RESULTS_NAME if not results_files else f"{path.stem}.{RESULTS_NAME}"
            results_files[path.stem] = stage / name
            mine.setdefault(RESULTS_PARAMETER, str(stage / name))
        if "INTERACTIVE" in declared[path]:
            mine.setdefault("INTERACTIVE", False)  # headless: never build widgets
        executed = stage / path.name
        try:
            papermill.execute_notebook(str(path), str(executed), parameters=mine, kernel_name=kernel,
                                       progress_bar=False, cwd=str(stage), execution_timeout=timeout,
                                       log_output=False, extra_arguments=["--IPKernelApp.log_level=ERROR"])
        except PapermillExecutionError as e:
            bar.close()
            failed = out / f"{path.stem}.failed.ipynb"
            try:
                os.chmod(executed, file_mode())
                os.replace(executed, failed)
            except OSError:
                failed = None
            raise NotebookError(path.name, _source_cell_index(failed or executed, e.cell_index), e.ename,
                                e.evalue, failed) from None
        os.chmod(executed, file_mode())
        nb = nbformat.read(str(executed), as_version=4)
        export_html(nb, stage / f"{path.stem}.html", show_code)
        res.notebooks.append(out / path.name)
        res.html.append(out / f"{path.stem}.html")
        shown = {**mine, **({RESULTS_PARAMETER: str(out / results_files[path.stem].name)}
                            if path.stem in results_files else {})}  # where it ends up, not the staging folder
        used = {k: (repr(shown[k]) if k in shown else v) for k, v in declared[path].items()}
        res.parameters[path.stem] = used
        entries.append((path.stem, _title(nb, path.stem), used, set(mine)))
    bar.close()
    written = {}
    for stem, f in results_files.items():
        if f.is_file():
            os.chmod(f, file_mode())
            written[stem] = f
            res.results[stem] = out / f.name
    res.results_json = out / RESULTS_NAME if (stage / RESULTS_NAME).is_file() else None
    res.index_text = _index_html(entries, written, data, res.pristine)
    return res


def _publish(stage: Path, out: Path, res: ReportResult) -> None:
    """Move the staged pages into ``out`` as one set, under the folder's lock: the old ``index.html`` is
    removed first and the new one written last, and the pages of the previous report that this one did
    not produce are removed (listed in ``out/.sorlib-report.json``). A run killed before this point
    leaves ``out`` untouched; one killed during it leaves no ``index.html``."""
    new = sorted(p.name for p in stage.iterdir() if p.is_file())
    with dir_lock(out):
        try:
            (out / "index.html").unlink(missing_ok=True)
            try:
                old = json.loads((out / _MANIFEST).read_text()).get("files", [])
            except (OSError, ValueError, AttributeError):
                old = []
            for name in old:
                if name not in new and name != "index.html" and "/" not in str(name):
                    (out / name).unlink(missing_ok=True)
            for name in new:
                os.replace(stage / name, out / name)
                (out / f"{Path(name).stem}.failed.ipynb").unlink(missing_ok=True)
        except OSError as e:
            raise output_error(out, e) from None
        atomic_write_json(out / _MANIFEST, {"files": [*new, "index.html"]})
        atomic_write_text(res.index, res.index_text)


def _source_cell_index(executed: Path, cell_index: int | None) -> int | None:
    """Index of the failing cell in the *source* notebook (papermill's index counts its injected cell)."""
    if cell_index is None:
        return None
    try:
        import nbformat

        nb = nbformat.read(str(executed), as_version=4)
        injected = sum(1 for c in nb.cells[:cell_index] if "injected-parameters" in c.metadata.get("tags", []))
        return cell_index - injected
    except Exception:  # pragma: no cover - best effort
        return cell_index


_INDEX_CSS = """body{font-family:system-ui,sans-serif;max-width:72em;margin:2em auto;padding:0 1em;line-height:1.5}
.params{font-size:.85em;color:#333}.params code{background:#f3f3f3;padding:0 .25em;border-radius:3px}
.params code.set{background:#fff1c2;font-weight:600}
li{margin-bottom:.8em}.pristine{font-size:.85em;color:#555}.modified{color:#b00020;font-weight:600}"""


def _index_html(entries: list, results: dict[str, Path], data: str | None, pristine: dict | None = None) -> str:
    """The index: the verdict of every results JSON first, then the pages with every parameter they ran
    with (the ones the report set highlighted) and the pristine check each notebook passed."""
    pristine = pristine or {}
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    titles = {e[0]: e[1] for e in entries}
    verdicts, session = [], ""
    for stem, path in results.items():
        try:
            r = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        session = session or str(((r.get("data") or {}).get("session")) or "")
        verdicts.append(f'<h3><a href="{html.escape(stem)}.html">{html.escape(titles.get(stem, stem))}</a></h3>'
                        + verdict_html(r, str(((r.get("data") or {}).get("session")) or ""))
                        + f'<p class="params">Results JSON: <a href="{html.escape(path.name)}">'
                        f"{html.escape(path.name)}</a></p>")
    if not verdicts:
        verdicts.append("<p>No results JSON was written (no notebook with a backtest ran), so there is no "
                        "verdict on this index.</p>")
    robustness = robustness_html(titles)
    items = []
    for stem, title, used, set_here in entries:
        shown = " ".join(f'<code class="{"set" if k in set_here else ""}">{html.escape(k)} = {html.escape(v)}</code>'
                         for k, v in used.items()) or "none"
        check = pristine.get(stem, "")
        cls = "pristine modified" if check.startswith("MODIFIED") else "pristine"
        items.append(f'<li><a href="{html.escape(stem)}.html">{html.escape(title)}</a> '
                     f"<small>({html.escape(stem)}.ipynb)</small>"
                     + (f'<div class="{cls}">notebook: {html.escape(check)}</div>' if check else "")
                     + f'<div class="params">parameters: {shown}</div></li>')
    src = html.escape(str(data)) if data else "the embedded synthetic day"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sorlib report</title>
<style>{_INDEX_CSS}</style>
</head><body>
<h1>sorlib report</h1>
<p>Data: {src}. Generated {now}.</p>
<h2>Verdict</h2>
{chr(10).join(verdicts)}
{robustness}
<h2>Pages</h2>
<p class="params">Every parameter each notebook ran with; highlighted: set by this report (the rest are the
notebook's defaults).</p>
<ol>
{chr(10).join(items)}
</ol>
</body></html>
"""


def robustness_html(titles: dict | None = None) -> str:
    """The index's robustness section: the committed robustness verdict (``benchmarks/results/robustness_*.json``,
    :func:`sorlib.search.verdict.committed_robustness`) as its sentences and a table of out-of-sample savings
    per variant (bps, 95% interval; positive = the router paid less), linking to notebook 04's forest plot;
    ``""`` when the repository has none."""
    from .metrics import format_bps, format_interval, strategy_label
    from .search.verdict import committed_robustness
    from .tables import code_label

    found = committed_robustness()
    if found is None:
        return ""
    path, rob = found
    base = ("best_ask", "twap", "vwap")
    head = "".join(f"<th>vs {html.escape(strategy_label(b))} (bps, 95% interval)</th>" for b in base)
    rows = []
    for (_, r), rec in zip(rob.table.iterrows(), rob.records, strict=True):
        cells = "".join(
            f"<td>{html.escape(format_bps(r[f'oos_bps_{b}']))} "
            f"({html.escape(format_interval([r[f'oos_lo_{b}'], r[f'oos_hi_{b}']], int(r[f'oos_n_{b}'])))})</td>"
            for b in base)
        name = str(r["variant"]) + (f" (= {r['same_model_as']})" if isinstance(r["same_model_as"], str) else "")
        flag = " — no verdict (clean-up dominated)" if bool(r["verdict_withheld"]) else ""
        sides = sorted({f"{code_label(e['parameter'])} {e['side']}" for e in rec["edges"]})  # "λ under low"
        edges = f"{int(r['choices_on_edge'])} of {int(r['choices'])}" + (f" ({', '.join(sides)})" if sides else "")
        rows.append(f"<tr><td>{html.escape(name + flag)}</td>{cells}<td>{100 * float(r['cleanup_share_oos']):.1f}</td>"
                    f"<td>{edges}</td></tr>")
    stem = "04_cont_kukanov"
    link = (f' The forest plot is on <a href="{stem}.html">{html.escape((titles or {}).get(stem, stem))}</a>.'
            if titles and stem in titles else "")
    s = rob.settings
    return (f"<h2>Robustness of the verdict</h2><p>From {html.escape(path.name)}: {html.escape(str(s['mode']))} mode, "
            f"{s['folds']} walk-forward folds by {html.escape(str(s['fold_by']))}, one row per assumption variant "
            f"(sorlib.search.variants); out-of-sample savings, positive = the router paid less.{link}</p>"
            + "".join(f'<p class="sentence">{html.escape(t)}</p>' for t in rob.lines.values())
            + f"<table><thead><tr><th>variant</th>{head}<th>clean-up (% of shares)</th><th>choices on a grid edge (in-sample + folds)</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def write_results(result, md, path: str | Path | None) -> Path | None:
    """Write ``result.results`` (a :class:`~sorlib.backtest.BacktestResult`) plus the data's identity
    as strict JSON at ``path`` (atomic), as ``sorlib backtest`` does; nothing when ``path`` is None."""
    if path in (None, "", "None"):
        return None
    from ._io import atomic_write_json

    doc = dict(result.results)
    doc.setdefault("market_model", "frozen tape")
    doc["data"] = {"source": md.report.source, "format": md.report.format, "symbol": md.symbol,
                   "venues": [md.venue_name(v) for v in md.venues], "session": hours_note(md)}
    return atomic_write_json(path, doc)
