"""Notebook 02's what-if panel in a real JupyterLab, driven in headless Debian Chromium by Playwright.

Every live slider moved by keyboard recomputes the panel and changes the data of its plotly figures; a
disabled slider (an inert parameter of the mode) shows its reason and cannot be moved, by keyboard or mouse,
nor change the figures; the panel shows no "nan" and fits the 1,000 px notebook column.

JupyterLab, the notebook's kernel and Chromium are started and stopped by the helpers of
``benchmarks/bench_browser_sliders.py`` (stopped also when a check fails). Skipped, with a message, only
where Chromium or Playwright for Python is missing (CI installs Chromium). To stay short the notebook runs on
the first two hours of the synthetic day (``SYNTH_MINUTES = 120``: the same panel on four parent orders).
The tests share one page and run in file order: ck mode first, then the modes with disabled sliders.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest
from test_report_browser import CHROMIUM

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_browser_sliders as lab  # noqa: E402

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed "
                                 "(apt-get install -y chromium; CI installs it)")]

#: ms without figure mutations after the status line changed that end a move.
QUIET_MS = 300.0
#: The live sliders of the panel in ck mode, in the order they are moved, each with a key that changes the
#: routes from where the moves before left them (λ_o only acts once the router posts limit orders, which a
#: small θ makes it do: θ goes first).
MOVES = [("theta_queue (USD/share)", "Home"), ("lambda_over (USD/share)", "Home"),
         ("lambda_under (USD/share)", "End"), ("order size (shares)", "End")]
PENALTIES = {"lambda_over (USD/share)", "lambda_under (USD/share)", "theta_queue (USD/share)"}


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """Notebook 02 run in JupyterLab, its panel on the page (everything stopped after the module)."""
    pytest.importorskip("playwright.sync_api", reason="Playwright for Python not installed "
                        "(pip install -e '.[dev]')")
    folder = tmp_path_factory.mktemp("jupyterlab")
    (path,) = lab.prepare(folder, ["02"], params={"SYNTH_MINUTES": "120"})
    with lab.lab_page(folder, CHROMIUM) as (pg, server):
        lab.run_notebook(pg, server, path.name, timeout_s=300)
        yield pg


# ------------------------------------------------------------------ every notebook with sliders (issue 22)
def test_every_slider_notebook_is_live_by_default() -> None:
    """JupyterLab users get the sliders without editing: every notebook whose code builds a panel declares
    ``INTERACTIVE = True`` in its parameters cell (sorlib report injects False: headless runs build none)."""
    import nbformat

    for path in sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("0*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        if ".widget()" not in code and "_explorer(" not in code:
            continue
        params = next(c.source for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        assert re.search(r"(?m)^INTERACTIVE = True\b", params), f"{path.name}: sliders off by default"


@pytest.mark.parametrize("key", ["04"])
def test_notebook_panel_sliders_move_the_figures(tmp_path: Path, key: str) -> None:
    """Notebook 04 (which showed no sliders before): run in JupyterLab (its own server, before notebook 02's
    shared page is opened: one Playwright per process at a time), its panel holds live sliders and
    each enabled one, moved to an end by keyboard, changes the data of the panel's figures."""
    pytest.importorskip("playwright.sync_api", reason="Playwright for Python not installed")
    (path,) = lab.prepare(tmp_path, [key], params={"SYNTH_MINUTES": "120"})
    with lab.lab_page(tmp_path, CHROMIUM) as (pg, server):
        lab.run_notebook(pg, server, path.name, timeout_s=300)
        live = [s for s in lab.sliders(pg) if not s["disabled"]]
        assert live, f"notebook {key}: no live slider"
        lab.install_timer(pg)
        for s in live:
            before = lab.figure_data(pg)
            lab.move(pg, s["i"], "Home" if s["value"] != s["min"] else "End", QUIET_MS)
            assert lab.figure_data(pg) != before, f"notebook {key}: {s['label']} left the figures as they were"


def _slider(page, label: str) -> dict:
    return next(s for s in lab.sliders(page) if s["label"] == label)


def _panel_text(page) -> str:
    return page.evaluate("(p) => p.innerText", lab.panel(page))


def test_panel_opens_at_the_headline_fits_the_column_and_shows_no_nan(page) -> None:
    """The panel opens at the headline's mode (notebook 02's MODE = "spec": every penalty disabled with its
    reason); in ck mode every parameter acts, lambda_over with a note that it acts only at some points."""
    assert lab.active_mode(page) == "spec"
    assert {s["label"] for s in lab.sliders(page) if s["disabled"]} == PENALTIES
    width = page.evaluate("(p) => p.getBoundingClientRect().width", lab.panel(page))
    assert width <= 1000, f"the panel is {width:.0f} px wide"
    assert not re.search(r"\bnan\b", _panel_text(page), re.IGNORECASE)
    assert not lab.truncated_labels(page)
    lab.switch_mode(page, "ck", QUIET_MS)
    shown = {s["label"]: s for s in lab.sliders(page)}
    assert not [label for label, s in shown.items() if s["disabled"]], "ck mode: every parameter acts"
    assert "acts only where over-booking pays" in shown["lambda_over (USD/share)"]["reason"]


def test_each_live_slider_moved_by_keyboard_changes_the_figures(page) -> None:
    """Each live slider, moved with the panel's top at the window's top (sliders and the first figures in
    view: a move redraws the figures in view, the others when they are scrolled in), changes the figures."""
    lab.show_panel_top(page)
    lab.install_timer(page)
    live = [s["label"] for s in lab.sliders(page) if not s["disabled"]]
    assert sorted(live) == sorted(label for label, _ in MOVES)
    for label, key in MOVES:
        s = _slider(page, label)
        step = "ArrowLeft" if s["value"] != s["min"] else "ArrowRight"
        r = lab.move(page, s["i"], step, QUIET_MS)  # one step: the panel recomputes at the new value
        assert _slider(page, label)["readout"] != s["readout"] and lab.server_ms(r["text"]) > 0, label
        before = lab.figure_data(page)
        lab.move(page, s["i"], key, QUIET_MS)
        after = lab.figure_data(page)
        assert len(after) == len(before) == 4 and after != before, f"{label}: {key} left the figures as they were"
    assert not re.search(r"\bnan\b", _panel_text(page), re.IGNORECASE)


@pytest.mark.parametrize(("mode", "inert"), [("uncapped", {"lambda_over (USD/share)"}), ("spec", PENALTIES)])
def test_disabled_sliders_show_their_reason_and_cannot_be_moved(page, mode: str, inert: set[str]) -> None:
    lab.switch_mode(page, mode, QUIET_MS)
    shown = {s["label"]: s for s in lab.sliders(page)}
    assert {label for label, s in shown.items() if s["disabled"]} == inert
    for label in inert:
        assert f"inert in {mode} mode" in shown[label]["reason"], shown[label]["reason"]
    lab.draw_stale(page)  # the switch redrew the figures in view; the others are drawn (scrolled in) now
    lab.show_panel_top(page)
    data, status = lab.figure_data(page), lab.status_text(page)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    for label in inert:
        for key in ("ArrowRight", "ArrowLeft", "ArrowRight"):
            lab.press(page, shown[label]["i"], key)
        lab.drag(page, shown[label]["i"], 120)
    time.sleep(1.0)  # a move, had one happened, would have been recomputed and drawn by now
    assert {label: _slider(page, label)["readout"] for label in inert} == {label: shown[label]["readout"]
                                                                          for label in inert}
    assert lab.status_text(page) == status and lab.figure_data(page) == data
    # the live sliders of the mode still move the figures (those in view)
    lab.show_panel_top(page)
    lab.install_timer(page)
    size = _slider(page, "order size (shares)")
    lab.move(page, size["i"], "ArrowLeft" if size["value"] != size["min"] else "ArrowRight", QUIET_MS)
    assert lab.figure_data(page) != data



def test_a_figure_out_of_view_is_redrawn_when_scrolled_in_not_by_the_move(page) -> None:
    """A move redraws the figures in view at once and leaves a figure out of view as it was (no redraw);
    scrolled into view, that figure is redrawn with the move's data: the same data it shows when it is in
    view during a move to the same point (drawn at once then)."""
    lab.draw_stale(page)  # figures left stale by the tests before: drawn first
    lab.show_panel_top(page)
    lab.install_timer(page)
    names = lab.figure_names(page)
    last = names[-1]
    assert len(names) == 4 and lab.figure_in_view(page, names[0]) and not lab.figure_in_view(page, last)
    size = _slider(page, "order size (shares)")
    there, back = ("Home", "End") if size["value"] != size["min"] else ("End", "Home")
    before = lab.figure_data(page)
    r = lab.move(page, size["i"], there, QUIET_MS, scroll=False)
    moved = lab.figure_data(page)
    assert moved[0] != before[0], "the figure in view was not redrawn by the move"
    assert moved[-1] == before[-1] and last in lab.stale_figures(page), "the figure out of view was redrawn"
    assert r["figures_in_view"] < 4 and r["figures_drawn"] < 4
    s = lab.scroll_in(page, last)
    assert s is not None and s["ms"] > 0
    assert lab.figure_in_view(page, last) and last not in lab.stale_figures(page)
    lazy = lab.figure_data(page)[-1]
    assert lazy != before[-1], "scrolled in, the figure still shows the data before the move"
    # with the figure in view (the slider focused without scrolling), a move to the track's other end and
    # back redraws it at once, and back at the same point it shows the data it was drawn with on scrolling in
    lab.move(page, size["i"], back, QUIET_MS, scroll=False)
    assert last not in lab.stale_figures(page) and lab.figure_data(page)[-1] != lazy
    lab.move(page, size["i"], there, QUIET_MS, scroll=False)
    assert last not in lab.stale_figures(page) and lab.figure_data(page)[-1] == lazy
