"""``sorlib report``: run every notebook headless (papermill) and export them to offline HTML."""

from __future__ import annotations

import argparse
import ast
import json
import sys


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
    from ..report import run_report

    params = {name: parse_value(value) for name, value in args.parameter}
    res = run_report(args.data, args.out, params, show_code=args.show_code, notebooks=args.notebooks,
                     progress=sys.stderr.isatty())
    print(f"report: {len(res.html)} notebook(s) -> {res.index}"
          + (f"; results {res.results_json}" if res.results_json else ""))
    return 0
