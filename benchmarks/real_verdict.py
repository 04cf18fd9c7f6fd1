"""Does the router beat the baselines out of sample on real data? Walk-forward over the AlgoSeek samples.

Rerun (needs the real samples, see ``../shared/data/real/SOURCES.md``)::

    SORLIB_REAL_DATA=../shared/data/real .venv/bin/python benchmarks/real_verdict.py --market frozen

For each data set — IBM's five days (one fold per day: train on the days before, test on the next),
and the single BAC and AIG days (walk-forward over blocks of parent orders) — and each router mode
(spec, uncapped, ck), it runs ``sorlib.run_search`` over the penalty grid, regular hours only, one
5,000-share parent order every 15 minutes with 10 minutes each, and prints a Markdown table of the
in-sample savings (the best grid point on all orders) and the out-of-sample savings (each test block
priced with the point chosen on its training blocks) against Best Ask, TWAP and VWAP, in bps with the 95%
bootstrap interval and the number of orders. Positive = the router was cheaper. The table goes to stdout
and, with ``--out``, to a JSON file; ``benchmarks/results/real_verdict_<market>.json`` are the committed
runs that the README and notebook 04 show.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from sorlib._io import atomic_write_json
from sorlib.backtest import BacktestConfig
from sorlib.search import run_search
from sorlib.search.walkforward import verdict_frame

SETS = {  # name -> (files under lean_algoseek_tick, walk-forward blocks, folds)
    "IBM (5 days)": ([f"ibm/201310{d:02d}_quote.zip" for d in range(7, 12)], "day", 4),
    "BAC (1 day)": (["bac/20131007_quote.zip"], "order", 4),
    "AIG (1 day)": (["aig/20131007_quote.zip"], "order", 4),
}
MODES = ("spec", "uncapped", "ck")
BASELINES = ("best_ask", "twap", "vwap")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--market", default="frozen", help="market model preset (BacktestConfig.market)")
    ap.add_argument("--modes", default=",".join(MODES), help="comma-separated router modes")
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated data sets")
    ap.add_argument("--every", type=float, default=15.0, help="minutes between parent orders")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args()
    root = os.environ.get("SORLIB_REAL_DATA")
    if not root:
        print("set SORLIB_REAL_DATA to the folder of the real samples", file=sys.stderr)
        return 2
    base = Path(root) / "lean_algoseek_tick"
    out = []
    for name in args.sets.split(","):
        files, by, folds = SETS[name]
        paths = [str(base / f) for f in files]
        for mode in args.modes.split(","):
            cfg = BacktestConfig(order_size=5000, mode=mode, every_minutes=args.every, horizon_minutes=10.0,
                                 market=args.market)
            t = time.perf_counter()
            res = run_search(paths, grid="penalty", config=cfg, folds=folds, fold_by=by, regular_hours=True,
                             scheduler="processes", workers=args.workers, progress=False)
            secs = time.perf_counter() - t
            wf = res.walkforward
            out.append({"data": name, "mode": mode, "market": args.market, "seconds": round(secs, 1),
                        "parent_orders": res.summary["parent_orders"],
                        "unplaced_orders": len(res.summary.get("unplaced_orders", [])),
                        "best_parameters": res.summary["best_parameters"],
                        "in_sample": res.summary["savings_intervals"], "out_of_sample": wf.out_of_sample,
                        "folds": [{"fold": f.fold, "params": f.params, "test_orders": f.test_orders}
                                  for f in wf.folds]})
            print(f"{name} {mode}: {secs:.0f} s", file=sys.stderr, flush=True)
    table = verdict_frame(out)
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---|" * len(table.columns))
    for row in table.itertuples(index=False):
        print("| " + " | ".join(str(v) for v in row) + " |")
    if args.out:
        atomic_write_json(args.out, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
