"""``sorlib report``: run every notebook headless (papermill) and export them to offline HTML."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

from ._common import HelpFormatter


def register(sub) -> None:
    p = sub.add_parser("report", help="run the notebooks headless into HTML reports (papermill + nbconvert)",
                       formatter_class=HelpFormatter)
    p.add_argument("data", nargs="?", metavar="DATA",
                   help="market data file passed to the notebooks as DATA; default: the embedded synthetic day")
    p.add_argument("--out", default="reports", help="output directory")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="notebook parameter (repeatable): reaches every notebook whose parameters cell declares NAME "
                        "(the command lists them); a NAME no notebook declares is an error. VALUE is read as "
                        "JSON/Python literal, else a string")
    p.add_argument("--regular-hours", choices=("auto", "on", "off"), default=None,
                   help="REGULAR_HOURS of every notebook: keep 09:30-16:00 New York time (on), everything (off), "
                        "or 09:30-16:00 whenever the data extend beyond it (auto; the default, noted on every page)")
    p.add_argument("--allow-modified", action="store_true",
                   help="run notebooks that differ from their committed version or carry outputs (default: "
                        "refuse, naming the notebook)")
    p.add_argument("--show-code", action="store_true", help="keep the code cells in the HTML")
    p.add_argument("--notebooks", default=None, metavar="DIR",
                   help="directory of notebooks (default: notebooks/ of the checkout, else the copies installed "
                        "with the package)")
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
    hours = {None: None, "auto": "auto", "on": True, "off": False}[args.regular_hours]
    res = run_report(args.data, args.out, params, show_code=args.show_code, notebooks=args.notebooks,
                     progress=progress, regular_hours=hours, allow_modified=args.allow_modified)
    for name, stems in res.took.items():
        print(f"report: -p {name} -> {', '.join(stems)}")
    modified = [s for s, v in res.pristine.items() if v.startswith("MODIFIED")]
    if modified:
        print(f"report: ran modified notebook(s) (--allow-modified): {', '.join(modified)}")
    print(f"report: {len(res.html)} notebook(s) -> {res.index}"
          + (f"; results {', '.join(str(p) for p in res.results.values())}" if res.results else ""))
    return 0
