"""``sorlib report``: run every notebook headless (papermill) and export them to offline HTML."""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("report", help="run the notebooks headless into HTML reports (papermill + nbconvert)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("data", nargs="?", metavar="DATA",
                   help="market data file passed to the notebooks as DATA; default: the embedded synthetic day")
    p.add_argument("--out", default="reports", help="output directory")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="notebook parameter (repeatable); VALUE is read as JSON/Python literal, else a string")
    p.add_argument("--show-code", action="store_true", help="keep the code cells in the HTML")
    p.add_argument("--notebooks", default=None, metavar="DIR",
                   help="directory of notebooks (default: notebooks/ of the checkout)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress (default: a bar on stderr when it is a terminal, else a line per notebook)")
    p.set_defaults(func=run)


def parse_value(text: str):
    """A ``-p`` value: JSON, else a Python literal (None, True, tuples…), else the raw string."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def run(args) -> int:
    from .._io import check_output_dir
    from ..errors import ConfigError
    from ..report import run_report

    check_output_dir(args.out, "--out")
    if args.notebooks is not None and not Path(args.notebooks).is_dir():
        raise ConfigError(f"--notebooks {args.notebooks}: no such folder; give a folder of *.ipynb files")
    params = {name: parse_value(value) for name, value in args.parameter}
    progress = False if args.no_progress else (True if sys.stderr.isatty() else "lines")
    res = run_report(args.data, args.out, params, show_code=args.show_code, notebooks=args.notebooks,
                     progress=progress)
    print(f"report: {len(res.html)} notebook(s) -> {res.index}"
          + (f"; results {res.results_json}" if res.results_json else ""))
    return 0
