"""The ``sorlib`` command line: one module per sub-command, each with ``register(subparsers)``.

Every failure ends in ONE line on stderr, ``sorlib CMD: error: what, where, how to fix``, and no
traceback: user mistakes (:class:`~sorlib.errors.SorlibError`, and argparse's own usage errors) exit
with status 2, an interrupt (Ctrl-C) with 130, a crashed worker process with 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import SorlibError

# sub-command name -> module in this package (each defines register(subparsers))
_COMMANDS = ("inspect", "synth", "backtest", "report", "search", "calibrate", "validate-fills",
             "verdict")


class UsageError(Exception):
    """An argparse error (unknown option, bad value), reported as one line by :func:`main`."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog


class Parser(argparse.ArgumentParser):
    """``ArgumentParser`` whose errors raise :class:`UsageError` instead of printing a usage block."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(self.prog, message)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="sorlib", description="Smart order routing research workbook.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMANDS:
        importlib.import_module(f".{name.replace('-', '_')}", __name__).register(sub)
    return parser


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as e:
        argv = sys.argv[1:] if argv is None else argv
        cmd = next((a for a in argv if not a.startswith("-")), None)
        prog = f"sorlib {cmd}" if e.prog == "sorlib" and cmd in _COMMANDS else e.prog
        print(f"{prog}: error: {_one_line(e)} (see '{prog} --help')", file=sys.stderr)
        return 2
    prog = f"sorlib {args.command}"
    try:
        return int(args.func(args) or 0)
    except SorlibError as e:
        print(f"{prog}: error: {_one_line(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        hint = getattr(args, "interrupt_hint", "")
        print(f"{prog}: interrupted{'; ' + hint if hint else ''}", file=sys.stderr)
        return 130
    except _broken_pool() as e:
        print(f"{prog}: error: a worker process died ({_one_line(e) or type(e).__name__}); "
              "re-run with --scheduler serial to see why", file=sys.stderr)
        return 1


def _broken_pool() -> type[BaseException]:
    from concurrent.futures.process import BrokenProcessPool

    return BrokenProcessPool


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
