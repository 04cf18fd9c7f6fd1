"""The documentation site builds without a single warning, and the front doors point at real pages.

`mkdocs build --strict` turns every warning into a failure: a link to a missing page or anchor, a page left
out of the navigation, a docstring mkdocstrings cannot parse. The build is run into a temporary folder
(never the working tree's site/). The other checks read files only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)\s#]+)(#[^)\s]*)?\)")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("mkdocs", reason="mkdocs not installed (pip install -e '.[dev]')")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    warnings = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "WARNING" in ln or "ERROR" in ln]
    assert proc.returncode == 0 and not warnings, "mkdocs build --strict failed:\n" + "\n".join(
        warnings or (proc.stdout + proc.stderr).splitlines()[-30:])
    return out


@pytest.mark.slow
def test_site_builds_strict_with_every_page(site: Path) -> None:
    """Every page of the navigation exists in the built site (the strict build already failed on warnings)."""
    for page in ["index.html", "getting-started/index.html", "reference/cli/index.html", "models/index.html",
                 "benchmarks/index.html", "results/index.html", "api/index.html", "api/backtest/index.html"]:
        assert (site / page).is_file(), page


@pytest.mark.slow
def test_generated_sections_are_filled(site: Path) -> None:
    """The build hook replaced its markers: one option table per sub-command, the top-level API names; and the
    docstrings' Sphinx roles were turned into code (a raw ':func:' would show on the page)."""
    from sorlib.cli import _COMMANDS

    cli = (site / "reference/cli/index.html").read_text()
    assert "generated:" not in cli
    for cmd in _COMMANDS:
        assert re.search(rf'<h3 id="sorlib-{cmd}"><code>sorlib {cmd}</code>', cli), f"no option table for {cmd}"
    assert "--order-size" in cli and "--probe-horizon" in cli
    api = (site / "api/index.html").read_text()
    assert "sorlib.run_backtest" in api and "generated:" not in api
    for page in (site / "api").glob("*/index.html"):
        assert ":func:" not in page.read_text() and ":class:" not in page.read_text(), page


def _links(md: Path) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2) or "") for m in LINK.finditer(md.read_text())
            if not m.group(1).startswith(("http://", "https://", "mailto:"))]


def test_readme_links_resolve() -> None:
    """Every relative link and image of README.md and notebooks/README.md names a file in the repository."""
    for md in (ROOT / "README.md", ROOT / "notebooks" / "README.md"):
        for target, _ in _links(md):
            assert (md.parent / target).exists(), f"{md.name}: broken link {target}"


def test_readme_is_a_front_door() -> None:
    """The README stays short and points at the docs: the two commands, a screenshot, results, benchmarks."""
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 130
    for needed in ("make report", "make test", "docs/img/", "docs/results.md", "docs/benchmarks.md"):
        assert needed in text, needed


def test_notebooks_readme_lists_every_notebook() -> None:
    """notebooks/README.md names each notebooks/*.ipynb, and names no notebook that does not exist."""
    text = (ROOT / "notebooks" / "README.md").read_text()
    files = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    named = set(re.findall(r"\b(\d\d_[A-Za-z0-9_]+\.ipynb)", text))
    assert files - named == set(), f"not listed: {sorted(files - named)}"
    assert named - files == set(), f"listed but missing: {sorted(named - files)}"
