"""``sorlib report``: the notebooks run headless into offline HTML, an index and the results JSON.

The report is generated ONCE per test session (:func:`report_dir`, small parameters) and shared with
``test_notebooks.py`` and ``test_report_browser.py`` — across pytest-xdist workers too (a file lock in
the run's shared temporary directory).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from pathlib import Path

import nbformat
import pytest

from sorlib.cli import main
from sorlib.cli.report import parse_value
from sorlib.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))

#: Small parameters: the first hour of the synthetic day, an order every 30 minutes, a tiny custom grid.
SMALL = {
    "SYNTH_MINUTES": "60",
    "EVERY_MINUTES": "30",
    "INTERACTIVE_EVERY_MINUTES": "30",
    "CUSTOM_GRID": json.dumps({"lambda_over": [0.0], "lambda_under": [0.001, 0.01], "theta_queue": [0.0, 0.01]}),
}


def _shared_root(tmp_path_factory) -> Path:
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def report_dir(tmp_path_factory) -> Path:
    """``sorlib report --out DIR`` on small parameters, run once per session (whichever worker is first)."""
    root = _shared_root(tmp_path_factory)
    out = root / "sorlib-report"
    with open(root / "sorlib-report.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done, failed = out / ".done", out / ".failed"
        if failed.exists():
            pytest.fail(f"report generation failed in another worker: {failed.read_text()}")
        if not done.exists():
            argv = ["report", "--out", str(out)]
            for k, v in SMALL.items():
                argv += ["-p", k, v]
            rc = main(argv)
            if rc != 0:
                out.mkdir(parents=True, exist_ok=True)
                failed.write_text(f"exit {rc}")
                pytest.fail(f"sorlib report exited {rc}")
            done.write_text("ok")
    return out


def test_report_writes_index_html_per_notebook_and_results(report_dir: Path) -> None:
    assert NOTEBOOKS, "no notebooks in notebooks/"
    index = (report_dir / "index.html").read_text()
    for nb in NOTEBOOKS:
        page = report_dir / f"{nb.stem}.html"
        assert page.is_file() and page.stat().st_size > 100_000, page
        assert f'href="{nb.stem}.html"' in index
        assert (report_dir / nb.name).is_file()  # the executed notebook
    assert 'href="results.json"' in index
    results = json.loads((report_dir / "results.json").read_text())
    assert set(results["savings_vs_baselines_bps"]) == {"best_ask", "twap", "vwap"}
    assert results["parent_orders"] == 2  # 60 minutes, one order every 30, 10-minute horizon
    assert results["data"]["format"] == "synthetic"


def test_report_pages_are_offline_and_hide_code(report_dir: Path) -> None:
    from sorlib.report import cdn_dependencies

    for nb in NOTEBOOKS:
        page = (report_dir / f"{nb.stem}.html").read_text()
        assert not cdn_dependencies(page), nb.name
        assert not re.search(r"<script[^>]+src=[\"']https?://", page), "external script in " + nb.name
        assert "plotly-graph-div" in page
        assert "load_market(" not in page, "code cells should be hidden by default"


def test_cdn_detector() -> None:
    from sorlib.report import cdn_dependencies

    assert cdn_dependencies('<script src="https://cdn.plot.ly/plotly-2.35.2.min.js"></script>')
    assert cdn_dependencies("requirejs.config({paths: {'plotly': ['https://cdn.plot.ly/plotly-2.35.2.min']}})")
    assert not cdn_dependencies('topojsonURL:{valType:"string",dflt:"https://cdn.plot.ly/un/"}')


def _failing_notebook(d: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("X = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# broken"), params, nbformat.v4.new_code_cell("y = X / 0")]
    d.mkdir(parents=True, exist_ok=True)
    path = d / "09_broken.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_failing_notebook_is_a_one_line_error_naming_notebook_and_cell(tmp_path: Path, capsys) -> None:
    _failing_notebook(tmp_path / "nbs")
    rc = main(["report", "--out", str(tmp_path / "out"), "--notebooks", str(tmp_path / "nbs")])
    err = capsys.readouterr().err.strip()
    assert rc != 0
    assert len(err.splitlines()) == 1, err
    assert "09_broken.ipynb" in err and "cell 2" in err and "ZeroDivisionError" in err, err
    assert (tmp_path / "out" / "09_broken.failed.ipynb").is_file()
    assert not (tmp_path / "out" / "09_broken.html").exists()


def test_unknown_parameter_is_rejected_before_running(tmp_path: Path, capsys) -> None:
    _failing_notebook(tmp_path / "nbs")
    rc = main(["report", "--out", str(tmp_path / "out"), "--notebooks", str(tmp_path / "nbs"), "-p", "NOPE", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and "NOPE" in err and len(err.strip().splitlines()) == 1


def test_missing_notebooks_dir_is_a_config_error(tmp_path: Path, monkeypatch) -> None:
    import sorlib.report as rep

    monkeypatch.setattr(rep, "__file__", str(tmp_path / "site-packages" / "sorlib" / "report.py"))
    with pytest.raises(ConfigError, match="non-editable"):
        rep.notebooks_dir()


def test_parameter_values_are_parsed() -> None:
    assert parse_value("30") == 30 and parse_value("0.5") == 0.5
    assert parse_value("None") is None and parse_value("null") is None
    assert parse_value('{"a": [1, 2]}') == {"a": [1, 2]}
    assert parse_value("data/day.csv") == "data/day.csv"


def test_export_hides_code_unless_asked(tmp_path: Path) -> None:
    from sorlib.report import export_html

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("secret_code_marker = 1\nprint('visible output')")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="visible output\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), cell]
    hidden = export_html(nb, tmp_path / "hidden.html").read_text()
    shown = export_html(nb, tmp_path / "shown.html", show_code=True).read_text()
    assert "visible output" in hidden and "secret_code_marker" not in hidden
    assert "secret_code_marker" in shown
    assert "mathjax" not in hidden.lower() or "cdnjs" not in hidden  # no MathJax from a CDN
    assert "require.min.js" not in hidden
