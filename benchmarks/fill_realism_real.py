"""How does each realism layer change the answer on a real day? The realism ladder of notebook 05 on AlgoSeek.

Rerun (needs the real samples, see ``../shared/data/real/SOURCES.md``)::

    SORLIB_REAL_DATA=../shared/data/real .venv/bin/python benchmarks/fill_realism_real.py \\
        --out benchmarks/results/fill_realism_ibm.json

On one AlgoSeek day (default IBM 2013-10-08), regular hours only (09:30-16:00 New York time), one 5,000-share
parent order every 15 minutes with 10 minutes each, it runs :func:`sorlib.realism.run_ladder`: the router
(spec, uncapped and ck modes, penalty grid) against Best Ask, TWAP and VWAP under the frozen tape, each
market model alone (latency, impact, fade, queue) and all together (realistic). It prints the savings
ladder, the cheapest strategy per layer and the child-order sizes as Markdown, and with ``--out`` writes
the tidy table as JSON — derived results only (no market data): ``benchmarks/results/fill_realism_ibm.json``
is the committed run that notebook 05 and the README show.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

from sorlib._io import atomic_write_json
from sorlib.backtest import BacktestConfig
from sorlib.realism import (
    LAYERS,
    REGENERATE,
    RESULTS_FILE,
    cheapest_frame,
    claims_text,
    fewer_larger_frame,
    ladder_document,
    run_ladder,
    savings_frame,
)
from sorlib.report import hours_note, load_market

MODES = ("spec", "uncapped", "ck")


def markdown(df: pd.DataFrame) -> str:
    def cell(v) -> str:
        return f"{v:.2f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--day", default="ibm/20131008_quote.zip", help="quote file under lean_algoseek_tick/")
    ap.add_argument("--modes", default=",".join(MODES), help="comma-separated router modes")
    ap.add_argument("--layers", default=",".join(LAYERS), help="comma-separated market layers")
    ap.add_argument("--every", type=float, default=15.0, help="minutes between parent orders")
    ap.add_argument("--horizon", type=float, default=10.0, help="minutes each parent order has")
    ap.add_argument("--order-size", type=int, default=5000, help="shares per parent order")
    ap.add_argument("--grid", default="penalty", help="router parameter grid")
    ap.add_argument("--seed", type=int, default=0, help="seed of the bootstrap intervals (and the ck solver)")
    ap.add_argument("--out", default=None, help="write the ladder as JSON here")
    args = ap.parse_args()
    root = os.environ.get("SORLIB_REAL_DATA")
    if not root:
        print("set SORLIB_REAL_DATA to the folder of the real samples", file=sys.stderr)
        return 2
    rel = f"lean_algoseek_tick/{args.day}"
    path = Path(root) / rel
    t0 = time.perf_counter()
    md = load_market(str(path), regular_hours=True)
    cfg = BacktestConfig(order_size=args.order_size, every_minutes=args.every, horizon_minutes=args.horizon,
                         grid=args.grid, seed=args.seed)
    ladder = run_ladder(md, cfg, layers=args.layers.split(","), modes=args.modes.split(","),
                        progress=lambda s: print(f"{s} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr,
                                                 flush=True))
    secs = time.perf_counter() - t0
    table = ladder.table
    print(markdown(savings_frame(table)))
    print()
    print(markdown(cheapest_frame(table)))
    print()
    print(markdown(fewer_larger_frame(table)))
    print()
    print(claims_text(table))
    if args.out:
        date = pd.Timestamp(int(md.quotes.ts[0]), unit="ns", tz="UTC").tz_convert(md.tz).date().isoformat()
        data = {"file": rel, "format": md.report.format, "symbol": md.symbol, "date": date,
                "venues": [md.venue_name(v) for v in md.venues], "quote_rows": len(md.quotes),
                "trades": len(md.trades), "session": hours_note(md), "regular_hours": True}
        command = (REGENERATE if sys.argv[1:] == ["--out", RESULTS_FILE] else
                   "SORLIB_REAL_DATA=../shared/data/real .venv/bin/python " + " ".join(sys.argv))
        atomic_write_json(args.out, ladder_document(ladder, data, command=command, seconds=round(secs, 1)))
    print(f"{secs:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
