"""Cold start: ``sorlib --help`` and ``sorlib COMMAND --help`` import no heavy module.

Measured on the 2-core CI box (Dec 2026): ``sorlib --help`` 1.5 s before (the search sub-command pulled in
``sorlib.search`` → dask, distributed, numba, pandas at parser build time), 0.06 s after. The tests below
check the cause — which modules a fresh interpreter has imported after printing the help — never a time.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("databento", "databento_dbn", "numba", "pandas", "plotly", "dask", "distributed", "pyarrow", "scipy",
         "matplotlib", "tqdm")

_PROBE = """
import contextlib, io, json, sys
from sorlib.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main({argv!r})
    except SystemExit:
        pass
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))
"""


def _imported(argv: list[str]) -> set[str]:
    out = subprocess.run([sys.executable, "-c", _PROBE.format(argv=argv)], capture_output=True, text=True,
                         check=True, timeout=120)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("argv", [["--help"], ["inspect", "--help"], ["backtest", "--help"],
                                  ["search", "--help"], ["synth", "--help"]])
def test_help_imports_no_heavy_module(argv):
    """Printing help builds every sub-parser; none may import a heavy library at module level."""
    heavy = _imported(argv) & set(HEAVY)
    assert not heavy, f"sorlib {' '.join(argv)} imported {sorted(heavy)}"


def test_probe_sees_heavy_imports():
    """The probe itself can fail: a command that reads data imports the readers (numpy, pyarrow) — guards
    against a probe that always reports an empty set."""
    mods = _imported(["inspect", "/nonexistent/file.csv"])
    assert {"numpy", "pyarrow"} <= mods


def test_search_help_constant_matches_space():
    """``cli/search.py`` copies MAX_EXTENSIONS to avoid importing ``sorlib.search``; the copy must agree."""
    from sorlib.cli import search as cli_search
    from sorlib.search import space

    assert cli_search.MAX_EXTENSIONS == space.MAX_EXTENSIONS
