"""The ``sorlib`` command line: one module per sub-command, each with ``register(subparsers)``.

User mistakes (:class:`~sorlib.errors.SorlibError`) print one line on stderr and exit with status 2;
no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import SorlibError

# sub-command name -> module in this package (each defines register(subparsers))
_COMMANDS = ("inspect", "synth", "backtest", "report", "search")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sorlib", description="Smart order routing research workbook.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMANDS:
        try:
            module = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as e:  # a sub-command not built yet in this checkout
            if e.name == f"{__name__}.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SorlibError as e:
        print(f"sorlib {args.command}: error: {e}".replace("\n", " "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"sorlib {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
