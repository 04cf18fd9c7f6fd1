"""The notebooks: committed clean and parameterised, executed headless (papermill, small parameters),
deterministic (nbval-lax re-runs the executed copies and compares the ``# NBVAL_CHECK_OUTPUT`` cells)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from test_report import NOTEBOOKS, report_dir  # noqa: F401 - the shared session fixture


def _code(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs_and_with_parameters(path: Path) -> None:
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    for i, c in enumerate(_code(nb)):
        assert c.outputs == [], f"{path.name}: code cell {i} has outputs — clear them before committing"
        assert c.execution_count is None, f"{path.name}: code cell {i} has an execution count"
    tagged = [c for c in _code(nb) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"
    names = {t.id for n in ast.parse(tagged[0].source).body if isinstance(n, ast.Assign) for t in n.targets}
    assert {"DATA", "SEED", "REGULAR_HOURS"} <= names, names
    defaults = {t.id: n.value for n in ast.parse(tagged[0].source).body if isinstance(n, ast.Assign)
                for t in n.targets}
    assert ast.literal_eval(defaults["REGULAR_HOURS"]) == "auto", f"{path.name}: REGULAR_HOURS should default to 'auto'"
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_markdown_has_no_dollar_for_mathjax(path: Path) -> None:
    """A bare ``$`` in markdown starts MathJax in JupyterLab: write USD, or escape it as ``\\$``."""
    nb = nbformat.read(str(path), as_version=4)
    for i, c in enumerate(nb.cells):
        if c.cell_type == "markdown":
            assert not re.search(r"(?<!\\)\$", c.source), f"{path.name}: markdown cell {i} has a bare $"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_page_opens_with_the_headline(path: Path) -> None:
    """The first cell with output (code is hidden in the pages) is the verdict, or the data summary in 01."""
    nb = nbformat.read(str(path), as_version=4)
    first_md = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"][:2]
    headline = [i for i, c in enumerate(nb.cells)
                if c.cell_type == "code" and re.search(r"\b(show_verdict|show_data_summary)\(", c.source)]
    assert headline, f"{path.name}: no headline cell"
    assert first_md[0] == 0 and headline[0] < first_md[1], f"{path.name}: the headline must follow the title"
    assert all(not re.search(r"\.show\(\)|^print\(|display\(", c.source, re.M)
               for c in nb.cells[:headline[0]] if c.cell_type == "code"), f"{path.name}: output before the headline"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_only_call_sorlib(path: Path) -> None:
    nb = nbformat.read(str(path), as_version=4)
    for c in _code(nb):
        for node in ast.walk(ast.parse(c.source)):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
            else:
                continue
            assert all(m.split(".")[0] == "sorlib" for m in mods), f"{path.name} imports {mods}"


def test_notebooks_have_checked_cells() -> None:
    for path in NOTEBOOKS:
        nb = nbformat.read(str(path), as_version=4)
        assert any(c.source.startswith("# NBVAL_CHECK_OUTPUT") for c in _code(nb)), path.name


def test_notebooks_execute_and_are_deterministic(report_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    """Papermill executed every notebook (in the shared report run); nbval-lax re-runs the executed
    copies and compares the outputs of the cells marked ``# NBVAL_CHECK_OUTPUT``."""
    copies = []
    for path in NOTEBOOKS:
        nb = nbformat.read(str(report_dir / path.name), as_version=4)
        errors = [o for c in _code(nb) for o in c.outputs if o.output_type == "error"]
        assert not errors, f"{path.name}: {errors[0]['ename']}"
        for c in nb.cells:  # the re-run must not overwrite the shared report's results JSON
            if "injected-parameters" in c.metadata.get("tags", []):
                c.source = re.sub(r'(?m)^RESULTS_JSON = .*$', "RESULTS_JSON = None", c.source)
        copy = tmp_path / path.name
        nbformat.write(nb, str(copy))
        copies.append(str(copy))
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider",
                           "-p", "no:xdist", "--rootdir", str(tmp_path), *copies],
                          cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert re.search(r"\d+ passed", proc.stdout), proc.stdout[-2000:]


# ------------------------------------------------------------------ the library behind the notebooks
@pytest.fixture(scope="module")
def small_md():
    from sorlib.synth import default_market

    return default_market(seed=0, minutes=60)


def test_whatif_caches_and_updates_figures_in_place(small_md) -> None:
    pytest.importorskip("anywidget")
    from sorlib.interactive import WhatIf

    view = WhatIf(small_md, every_minutes=20, mode="uncapped")
    panel = view.widget()
    assert panel is not None and set(view._widgets) == {"progress", "venue_split", "fill_sizes", "savings"}
    book, base = view.book, view.baselines()
    before = [tuple(t.y) for t in view._widgets["progress"].data]
    widgets = dict(view._widgets)
    view.update(lambda_under=0.0001, theta_queue=0.0)
    view.update(lambda_under=0.5, theta_queue=0.5)
    assert view.book is book and view.baselines() is base  # cached, not recomputed
    assert view._widgets == widgets  # the same figure objects, updated in place
    after = [tuple(t.y) for t in view._widgets["progress"].data]
    assert after[2:] == before[2:]  # baselines' traces unchanged
    # static figures at the same point carry the same router data as the live ones
    static = view.figures()
    assert tuple(static["progress"].data[0].y) == tuple(view._widgets["progress"].data[0].y)
    n = len(view._router)
    view.update(lambda_under=0.5, theta_queue=0.5)
    assert len(view._router) == n  # memoised point


def test_spec_grid_ties_in_the_worked_example() -> None:
    from sorlib.interactive import allocation_example

    ex = allocation_example(order_size=600, grid="penalty", mode="spec")
    assert ex["split"].nunique() == 1 and (ex["penalty"] == 0).all() and (ex["cost"] == ex["cash"]).all()
    assert allocation_example(order_size=1500, grid="bps")["split"].eq("empty").all()
    u = allocation_example(order_size=600, grid="bps", mode="uncapped")
    assert u.groupby(["lambda_under", "theta_queue"])["split"].nunique().max() == 1  # lambda_over irrelevant


def test_exploration_and_search_figures_build(small_md) -> None:
    import pandas as pd

    from sorlib.plots import data_figures, load_report_frame, outflow_summary, search_figures

    figs = data_figures(small_md, window_seconds=60)
    assert all(len(f.data) > 0 for f in figs.values())
    assert len(outflow_summary(small_md)) == len(small_md.venues)
    assert "rows read" in load_report_frame(small_md).index
    grid = pd.DataFrame([{"lambda_over": lo, "lambda_under": lu, "theta_queue": tq, "total_cash": 100 + lu + tq}
                         for lo in (1.0, 2.0) for lu in (0.1, 0.2) for tq in (0.01, 0.02)])
    sf = search_figures(grid)
    assert set(sf) == {"heatmap", "parallel", "sensitivity"}
