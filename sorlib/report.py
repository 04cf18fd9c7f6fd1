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

The notebooks call :func:`setup_notebook` and :func:`load_market` first.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import os
import re
import shutil
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
    notebook) without its MathJax ``<script src>`` from a CDN. Also widens pandas tables."""
    import pandas as pd
    import plotly.io as pio

    if "sorlib_offline" not in pio.renderers:
        pio.renderers["sorlib_offline"] = _offline_renderer()
    pio.renderers.default = renderer
    pd.set_option("display.width", 160)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.precision", 4)


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
                fmt: str = "auto", regular_hours: bool = False):
    """The notebooks' data: the file ``data`` (any supported format), or the embedded synthetic day
    (``seed``; only the first ``synth_minutes`` minutes from 09:30 when given — small test runs)."""
    if data in (None, "", "None"):
        from .synth import default_market

        md = default_market(seed=int(seed)) if synth_minutes is None else default_market(
            seed=int(seed), minutes=float(synth_minutes))
    else:
        from .data import load

        md = load(data, format=fmt)
    return md.regular_hours() if regular_hours else md


# ----------------------------------------------------------------------------------------- the runner
def notebooks_dir() -> Path:
    """``notebooks/`` of the checkout this package runs from (a ConfigError for an installed package)."""
    d = Path(__file__).resolve().parents[1] / "notebooks"
    if not d.is_dir() or not any(d.glob("*.ipynb")):
        raise ConfigError(f"no notebooks found at {d}: sorlib seems installed without its repository "
                          "(non-editable); run from a checkout (pip install -e .) or pass --notebooks DIR")
    return d


def find_notebooks(directory: str | Path | None = None) -> list[Path]:
    """The ``*.ipynb`` files of ``directory`` (default :func:`notebooks_dir`), sorted by name."""
    d = Path(directory) if directory is not None else notebooks_dir()
    nbs = sorted(p for p in d.glob("*.ipynb") if not p.name.startswith("."))
    if not nbs:
        raise ConfigError(f"no notebooks (*.ipynb) in {d}")
    return nbs


def _declared_parameters(path: Path) -> set[str]:
    import papermill

    try:
        return set(papermill.inspect_notebook(str(path)))
    except Exception as e:  # not JSON, not a notebook, no kernelspec...: name the file
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ConfigError(f"{path}: cannot read the notebook's parameters ({first}); "
                          "check it opens in Jupyter and has a kernelspec") from None


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


def _title(nb, default: str) -> str:
    for c in nb.cells:
        if c.cell_type == "markdown":
            for line in c.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return default


def run_report(data: str | None = None, out: str | Path = "reports", parameters: dict | None = None,
               show_code: bool = False, notebooks: str | Path | list | None = None, progress: bool | str = True,
               kernel: str = "python3", timeout: float | None = None) -> ReportResult:
    """Execute the notebooks with papermill and write ``out``/{name}.html, {name}.ipynb, index.html.

    ``data``: a market data file (None: the embedded synthetic day), passed as ``DATA``; ``parameters``
    override the notebooks' ``parameters`` cells (a name no notebook declares is an error).
    """
    out = Path(out).resolve()
    check_output_dir(out, "--out")
    paths = [Path(p) for p in notebooks] if isinstance(notebooks, list) else find_notebooks(notebooks)
    declared = {p: _declared_parameters(p) for p in paths}
    params = dict(parameters or {})
    if data is not None:
        if not Path(data).exists():
            raise ConfigError(f"{data}: no such data file")
        params["DATA"] = str(Path(data).resolve())
    unknown = sorted(k for k in params if k != "DATA" and not any(k in d for d in declared.values()))
    if unknown:
        known = sorted(set().union(*declared.values()))
        raise ConfigError(f"unknown notebook parameter(s) {unknown}; the notebooks declare {known}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        _remove_dead_staging(out)
        stage = Path(tempfile.mkdtemp(prefix=f"{_STAGING}{os.getpid()}-", dir=out))
    except OSError as e:
        raise output_error(out, e) from None
    try:
        res = _run_into(stage, out, paths, declared, params, data, show_code, progress, kernel, timeout)
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
              show_code: bool, progress: bool | str, kernel: str, timeout: float | None) -> ReportResult:
    """Execute and export every notebook into ``stage``; a failing notebook is kept as ``out/NAME.failed.ipynb``."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError
    from tqdm.auto import tqdm

    results_path = stage / RESULTS_NAME
    res = ReportResult(out=out, index=out / "index.html")
    entries = []
    bar = tqdm(paths, desc="notebooks", unit="nb", disable=progress is not True, leave=False)
    for i, path in enumerate(bar, 1):
        bar.set_postfix_str(path.name)
        if progress == "lines":
            print(f"report: notebook {i}/{len(paths)} {path.name}", flush=True)
        mine = {k: v for k, v in params.items() if k in declared[path]}
        if RESULTS_PARAMETER in declared[path]:
            mine.setdefault(RESULTS_PARAMETER, str(results_path))
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
        entries.append((path.stem, _title(nb, path.stem), mine))
    bar.close()
    if results_path.is_file():
        os.chmod(results_path, file_mode())
        res.results_json = out / RESULTS_NAME
    res.index_text = _index_html(entries, results_path if results_path.is_file() else None, data)
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


def _index_html(entries: list[tuple[str, str, dict]], results: Path | None, data: str | None) -> str:
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    items = []
    for stem, title, params in entries:
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items()
                          if k not in (RESULTS_PARAMETER, "INTERACTIVE")) or "defaults"
        items.append(f'<li><a href="{html.escape(stem)}.html">{html.escape(title)}</a> '
                     f'<small>({html.escape(stem)}.ipynb; parameters: {html.escape(shown)})</small></li>')
    summary = ""
    if results is not None:
        try:
            r = json.loads(results.read_text())
            sav = ", ".join(f"{k} {v:+.2f}" for k, v in r.get("savings_vs_baselines_bps", {}).items()
                            if isinstance(v, int | float))
            summary = (f"<p>Router savings vs baselines (bps, pooled over {r.get('parent_orders')} parent "
                       f"orders): {html.escape(sav)}; best parameters {html.escape(str(r.get('best_parameters')))}"
                       f"; grid ties {r.get('grid_ties')}/{len(r.get('grid', []))}.</p>")
        except (OSError, ValueError):
            summary = ""
        res_link = f'<p>Results JSON: <a href="{results.name}">{results.name}</a></p>'
    else:
        res_link = "<p>No results JSON was written (notebook 02 did not run).</p>"
    src = html.escape(str(data)) if data else "the embedded synthetic day"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sorlib report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;line-height:1.5}}</style>
</head><body>
<h1>sorlib report</h1>
<p>Data: {src}. Generated {now}.</p>
<ol>
{chr(10).join(items)}
</ol>
{res_link}
{summary}
</body></html>
"""


def write_results(result, md, path: str | Path | None) -> Path | None:
    """Write ``result.results`` (a :class:`~sorlib.backtest.BacktestResult`) plus the data's identity
    as strict JSON at ``path`` (atomic), as ``sorlib backtest`` does; nothing when ``path`` is None."""
    if path in (None, "", "None"):
        return None
    from ._io import atomic_write_json

    doc = dict(result.results)
    doc["data"] = {"source": md.report.source, "format": md.report.format, "symbol": md.symbol,
                   "venues": [md.venue_name(v) for v in md.venues]}
    return atomic_write_json(path, doc)
