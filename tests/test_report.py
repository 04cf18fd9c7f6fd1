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
            argv = ["report", "--out", str(out), "--allow-modified"]  # the working tree's notebooks
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


# ------------------------------------------------------------------------------ the verdict on the pages
def test_index_and_pages_open_with_the_verdict(report_dir: Path) -> None:
    from sorlib.metrics import SAVING_SIGN_NOTE, verdict_sentence

    index = (report_dir / "index.html").read_text()
    results = json.loads((report_dir / "results.json").read_text())
    sentence = verdict_sentence(results)
    assert sentence.startswith("The router (spec mode) is ") and "over 2 orders" in sentence
    import html as _html

    assert _html.escape(sentence) in index
    assert "sorlib-verdict" in index and "router's saving against it (bps)" in index
    assert _html.escape(SAVING_SIGN_NOTE) in index  # the sign of a saving, stated
    assert "frozen tape" in index and "in-sample" in index
    assert index.index("sorlib-verdict") < index.index('href="01_data_exploration.html"')  # verdict first
    ck = json.loads((report_dir / "04_cont_kukanov.results.json").read_text())
    assert _html.escape(verdict_sentence(ck)) in index
    for stem, r in (("02_strategy_comparison", results), ("04_cont_kukanov", ck)):
        page = (report_dir / f"{stem}.html").read_text()
        assert _html.escape(verdict_sentence(r)) in page, stem
        assert page.index("sorlib-verdict") < page.index("plotly-graph-div"), f"{stem}: verdict not first"
    assert "sorlib-verdict" in (report_dir / "01_data_exploration.html").read_text()
    for f in ("index.html", "02_strategy_comparison.html"):
        text = (report_dir / f).read_text()
        block = text[text.index("sorlib-verdict"):text.index("sorlib-verdict") + 6000]
        assert "nan" not in re.sub(r"<[^>]+>", " ", block).lower().split(), f


def test_index_lists_every_parameter_used(report_dir: Path) -> None:
    import papermill

    index = (report_dir / "index.html").read_text()
    for nb in NOTEBOOKS:
        for name in papermill.inspect_notebook(str(nb)):
            assert f"{name} = " in index, (nb.name, name)
    assert "REGULAR_HOURS = &#x27;auto&#x27;" in index
    assert "data lie within" in index or "nothing outside regular hours" in index  # the session note


def test_regular_hours_setting_values() -> None:
    from sorlib.report import regular_hours_setting

    assert regular_hours_setting("auto") == "auto" and regular_hours_setting(None) == "auto"
    assert regular_hours_setting(True) is True and regular_hours_setting("on") is True
    assert regular_hours_setting(False) is False and regular_hours_setting("off") is False
    with pytest.raises(ConfigError, match="REGULAR_HOURS"):
        regular_hours_setting("sometimes")


def _ny_ns(hhmm: str) -> int:
    import pandas as pd

    return pd.Timestamp(f"2013-10-07 {hhmm}", tz="America/New_York").value


def test_session_span_and_auto_note_by_hand() -> None:
    from types import SimpleNamespace

    import numpy as np

    from sorlib.report import _hours_note, session_span

    md = SimpleNamespace(quotes=SimpleNamespace(ts=np.array([_ny_ns("08:00"), _ny_ns("10:00")])),
                         trades=SimpleNamespace(ts=np.array([_ny_ns("17:00")])), tz="America/New_York")
    span = session_span(md)
    assert span == {"first": "08:00", "last": "17:00", "outside": 2, "rows": 3}
    note = _hours_note("auto", True, span)
    assert "applied automatically" in note and "08:00–17:00" in note and "67%" in note  # 2 of 3 rows
    off = _hours_note(False, False, span)
    assert "NOT applied" in off and "67%" in off
    inside = _hours_note("auto", False, {"first": "09:30", "last": "15:59", "outside": 0, "rows": 5})
    assert "nothing outside regular hours" in inside


def test_load_market_auto_applies_regular_hours_when_data_extend_beyond(monkeypatch) -> None:
    from dataclasses import replace

    import sorlib.synth as synth
    from sorlib.report import hours_note, load_market

    real = synth.default_market

    def early(seed=0, minutes=None):  # the first 30 minutes, moved 15 minutes earlier: 09:15-09:45
        md = real(seed=seed, minutes=30)
        shift = 15 * 60 * 10**9
        return replace(md, quotes=replace(md.quotes, ts=md.quotes.ts - shift),
                       trades=replace(md.trades, ts=md.trades.ts - shift))

    import numpy as np
    import pandas as pd

    monkeypatch.setattr(synth, "default_market", early)
    kept = load_market(None, synth_minutes=30, regular_hours="auto")
    day = pd.Timestamp(int(kept.quotes.ts.max()), tz="UTC").tz_convert("America/New_York").date()
    open_ns = pd.Timestamp(f"{day} 09:30", tz="America/New_York").value
    assert kept.quotes.ts.min() >= open_ns and "applied automatically" in hours_note(kept)
    shifted = early()
    ts = np.concatenate([shifted.quotes.ts, shifted.trades.ts])
    pct = round(100 * np.count_nonzero(ts < open_ns) / ts.size)  # every row is before 16:00
    assert "09:15–09:44" in hours_note(kept) and f"{pct}% of the rows" in hours_note(kept)
    allday = load_market(None, synth_minutes=30, regular_hours=False)
    assert allday.quotes.ts.min() < open_ns and "NOT applied" in hours_note(allday)
    assert "applied automatically" not in hours_note(load_market(None, synth_minutes=30, regular_hours=True))


def test_float_format_has_separators_and_no_scientific_notation() -> None:
    from sorlib.report import float_format

    assert float_format(22_929_875.5) == "22,929,875.50"
    assert float_format(13.05164) == "13.0516"
    assert float_format(1501.66667) == "1,501.6667"
    assert float_format(0.00005) == "0.00005"
    assert float_format(0.0) == "0.0000"


# --------------------------------------------------------------------------------- pristine notebooks
def _clean_notebook(d: Path, name: str = "05_ok.ipynb", params: str = "X = 1", body: str = "print(X)") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    p = nbformat.v4.new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}"), p, nbformat.v4.new_code_cell(body)]
    d.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(d / name))
    return d / name


def test_notebook_with_outputs_is_refused_naming_it(tmp_path: Path, capsys) -> None:
    path = _clean_notebook(tmp_path / "nbs")
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nb.cells[2].execution_count = 1
    nbformat.write(nb, str(path))
    rc = main(["report", "--out", str(tmp_path / "out"), "--notebooks", str(tmp_path / "nbs")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert "05_ok.ipynb is modified" in err and "outputs" in err and "--allow-modified" in err
    assert not (tmp_path / "out" / "index.html").exists()


def test_pristine_against_git_head_and_manifest(tmp_path: Path, monkeypatch) -> None:
    import sorlib.report as rep

    path = _clean_notebook(tmp_path / "nbs")
    committed = path.read_text()
    assert rep.pristine_problem(path)[0] is None  # not in git, no manifest: outputs only
    # git: the same cells with other ids/metadata are pristine; another source is not; absent is not
    monkeypatch.setattr(rep, "committed_version", lambda p: ("git", committed, "HEAD abc1234"))
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[0].id, nb.metadata["widgets"] = "other-id", {"state": {}}
    nbformat.write(nb, str(path))
    assert rep.pristine_problem(path) == (None, "git HEAD abc1234")
    nb.cells[1].source = "X = 2"
    nbformat.write(nb, str(path))
    problem, _ = rep.pristine_problem(path)
    assert problem == "its cells differ from the committed version (HEAD abc1234)"
    monkeypatch.setattr(rep, "committed_version", lambda p: ("git", None, "HEAD abc1234"))
    assert "not committed" in rep.pristine_problem(path)[0]
    # manifest (installed copies): fingerprints written at packaging time
    monkeypatch.setattr(rep, "committed_version", lambda p: ("none", None, ""))
    rep.write_pristine_manifest(tmp_path / "nbs")
    assert rep.pristine_problem(path) == (None, rep.PRISTINE_MANIFEST)
    nb.cells[2].source = "print(X + 1)"
    nbformat.write(nb, str(path))
    assert "differ from the fingerprint" in rep.pristine_problem(path)[0]


def test_git_committed_version_reads_head(tmp_path: Path) -> None:
    from sorlib.report import committed_version

    kind, text, ref = committed_version(REPO / "pyproject.toml")
    if kind == "none":
        pytest.skip("not a git checkout")
    assert kind == "git" and ref.startswith("HEAD") and "[project]" in (text or "")
    assert committed_version(tmp_path / "x.ipynb")[0] == "none"


def test_parameter_reaches_every_notebook_that_declares_it(tmp_path: Path, capsys) -> None:
    d = tmp_path / "nbs"
    _clean_notebook(d, "05_a.ipynb", "X = 1\nY = 2", "print(X, Y)")
    _clean_notebook(d, "06_b.ipynb", "X = 1", "print(X)")
    _clean_notebook(d, "07_c.ipynb", "Z = 3", "print(Z)")
    rc = main(["report", "--out", str(tmp_path / "out"), "--notebooks", str(d), "-p", "X", "5", "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "report: -p X -> 05_a, 06_b" in out
    index = (tmp_path / "out" / "index.html").read_text()
    assert '<code class="set">X = 5</code>' in index and '<code class="">Y = 2</code>' in index
    assert '<code class="">Z = 3</code>' in index
    assert "No results JSON was written" in index
    executed = nbformat.read(str(tmp_path / "out" / "06_b.ipynb"), as_version=4)
    assert any("5" in o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)


def test_regular_hours_option_conflicts_with_p(tmp_path: Path, capsys) -> None:
    _clean_notebook(tmp_path / "nbs", params="REGULAR_HOURS = 'auto'")
    rc = main(["report", "--out", str(tmp_path / "out"), "--notebooks", str(tmp_path / "nbs"),
               "--regular-hours", "on", "-p", "REGULAR_HOURS", "False"])
    err = capsys.readouterr().err
    assert rc == 2 and "REGULAR_HOURS given twice" in err
