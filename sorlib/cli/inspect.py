"""``sorlib inspect PATH``: read a market-data file, print the load report and per-venue facts."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser("inspect", help="read a market-data file; print the load report and venue facts",
                              description="Read one market-data file (Databento CSV/DBN, AlgoSeek tick zip, "
                                          "TAQ-style CSV), then print what was read and repaired and a "
                                          "per-venue table of stylised facts.")
    p.add_argument("path", metavar="PATH", help="data file (.csv, .csv.zst, .dbn, .dbn.zst, .zip)")
    p.add_argument("--format", default="auto", choices=["auto", "databento", "algoseek", "taq"],
                   help="input format (default: detect)")
    p.add_argument("--json", action="store_true", help="print one JSON object (keys: report, totals, venues)")
    p.add_argument("--regular-hours", action="store_true",
                   help="keep 09:30-16:00 exchange time only (facts are computed on that window)")
    p.add_argument("--symbol", default=None, metavar="SYMBOL",
                   help="the instrument to keep (symbol or instrument_id) when the file holds several")
    p.add_argument("--date", default=None, metavar="YYYY-MM-DD",
                   help="the trading date to keep (New York time) when the file spans several")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.facts import format_report, venue_facts
    from ..data.load import load
    from ._tables import facts_table, printed

    md = load(args.path, format=args.format, symbol=args.symbol, date=args.date,
              progress=True if sys.stderr.isatty() else None)
    if md.report.cache:  # stderr: --json output stays one JSON object
        print(md.report.cache, file=sys.stderr)
    if args.regular_hours:
        md = md.regular_hours()
    facts = venue_facts(md)
    facts["regular_hours"] = bool(args.regular_hours)
    if args.json:
        print(json.dumps(facts, allow_nan=False))
    else:
        print(format_report(facts["report"]))
        if args.regular_hours:
            print("window: regular hours 09:30-16:00 " + md.tz)
        if facts.get("symbol"):
            print(f"symbol: {facts['symbol']}")
        print()
        print(printed(facts_table(facts)))
    return 0
