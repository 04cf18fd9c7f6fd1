"""MkDocs hook: the parts of the docs that are generated from the code at build time, so they never go stale.

* ``<!-- generated: cli-options -->`` → one table per ``sorlib`` sub-command, every option with its
  metavar, default and help text (ranges and units are in the help), read from ``sorlib.cli.build_parser()``;
  a sub-command added to the CLI appears here by itself.
* ``<!-- generated: api-index -->`` → the names ``import sorlib`` exports (``sorlib._API``), each with the
  module it lives in and a link to that module's API page.
"""

from __future__ import annotations

import argparse
import html
from pathlib import Path

API_DIR = Path(__file__).resolve().parents[1] / "api"


def _cell(text: object) -> str:
    """Markdown-table-safe text: no pipes, no line breaks, no HTML."""
    return html.escape(" ".join(str(text).split())).replace("|", "\\|")


def _code(text: str) -> str:
    return f"`{text}`" if text else ""


def _option_row(action: argparse.Action) -> str:
    if action.option_strings:
        names = ", ".join(_code(s) for s in action.option_strings)
    else:
        names = _code(action.dest.upper() if action.metavar is None else str(action.metavar))
    if action.choices is not None and not isinstance(action.choices, dict):
        value = " \\| ".join(_code(str(c)) for c in action.choices)
    elif action.nargs == 0:
        value = "flag"
    elif isinstance(action.metavar, tuple):
        value = " ".join(_code(m) for m in action.metavar)
    else:
        value = _code(str(action.metavar or action.dest.upper()))
    default = action.default
    shown = "" if default in (None, argparse.SUPPRESS, False, []) else _code(str(default))
    help_text = (action.help or "").replace("%(default)s", str(default)).replace("%%", "%")
    return f"| {names} | {value} | {shown} | {_cell(help_text)} |"


def cli_options() -> str:
    from sorlib.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out: list[str] = []
    for name, p in sub.choices.items():
        out += [f"### `sorlib {name}`", ""]
        if p.description:
            out += [_cell(p.description), ""]
        out += ["| option | value | default | meaning (range, unit) |", "|---|---|---|---|"]
        out += [_option_row(a) for a in p._actions if not isinstance(a, argparse._HelpAction)]
        out.append("")
    return "\n".join(out)


def api_index() -> str:
    import sorlib

    rows = ["| name | defined in (API page) |", "|---|---|"]
    for name, rel in sorlib._API.items():
        module = "sorlib" + rel
        top = module.split(".")[1]
        page = f"[`{module}`]({top}.md)" if (API_DIR / f"{top}.md").exists() else f"`{module}`"
        rows.append(f"| `sorlib.{name}` | {page} |")
    return "\n".join(rows)


GENERATORS = {"<!-- generated: cli-options -->": cli_options, "<!-- generated: api-index -->": api_index}


def on_page_markdown(markdown: str, **kwargs) -> str:
    for marker, make in GENERATORS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, make())
    return markdown
