"""``sorlib backtest``: the router over a parameter grid vs Best Ask, TWAP and VWAP."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._io import atomic_write_json
from ._common import add_data_args, load_data, read_grid


def register(sub) -> None:
    p = sub.add_parser("backtest", help="route a parent order (or many) and compare with the baselines",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_data_args(p)
    p.add_argument("--order-size", type=int, default=5000, help="parent order size, shares")
    p.add_argument("--venues", default=None, help="TOML file of venue profiles (fees in $/share)")
    p.add_argument("--grid", default="penalty", help="'penalty', 'bps' or a TOML/JSON grid file")
    p.add_argument("--mode", default="spec", choices=["spec", "uncapped", "ck"],
                   help="spec: the task's capped allocator; uncapped: excess rests at the bid; "
                        "ck: the Cont-Kukanov market + limit model")
    p.add_argument("--ck-horizon", type=float, default=30.0, metavar="SECONDS",
                   help="ck mode: decision horizon T (limit orders rest this long)")
    p.add_argument("--every", type=float, default=None, metavar="MINUTES",
                   help="one parent order every N minutes (default: a single order at the data start)")
    p.add_argument("--horizon", type=float, default=10.0, metavar="MINUTES",
                   help="time each parent order has before the clean-up")
    p.add_argument("--empty-policy", default="take_displayed",
                   choices=["wait", "take_displayed", "best_ask_fallback"],
                   help="what the router does when no split sums to the remainder")
    p.add_argument("--twap-bucket", type=float, default=60.0, metavar="SECONDS", help="TWAP/VWAP bucket length")
    p.add_argument("--vwap-weights", default="traded", choices=["traded", "displayed"],
                   help="VWAP venue weights: traded volume (lookback) or displayed size")
    p.add_argument("--rest-seconds", type=float, default=30.0,
                   help="uncapped mode: how long resting limit orders live before re-deciding")
    p.add_argument("--out", default="results.json", help="results JSON path")
    p.add_argument("--plots", default=None, metavar="DIR", help="write comparison plots (HTML, PNG) here")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..backtest import BacktestConfig, run_backtest
    from ..venues import VenueTable

    table = VenueTable.load(args.venues)
    md = load_data(args.data, args.format, args.regular_hours, args.seed)
    cfg = BacktestConfig(order_size=args.order_size, mode=args.mode, grid=read_grid(args.grid),
                         every_minutes=args.every, horizon_minutes=args.horizon,
                         empty_policy=args.empty_policy, twap_bucket_seconds=args.twap_bucket,
                         vwap_weights=args.vwap_weights, rest_seconds=args.rest_seconds,
                         ck_horizon_seconds=args.ck_horizon, seed=args.seed)
    res = run_backtest(md, cfg, table, progress=sys.stderr.isatty())
    res.results["data"] = {"source": md.report.source, "format": md.report.format, "symbol": md.symbol,
                           "venues": [md.venue_name(v) for v in md.venues]}
    atomic_write_json(args.out, res.results)
    r = res.results
    print(f"router {r['best_parameters']} over {r['parent_orders']} parent order(s): "
          f"avg {r['optimized']['avg_fill_px']:.4f} $/sh; savings bps "
          + ", ".join(f"{k} {v:+.2f}" for k, v in r["savings_vs_baselines_bps"].items())
          + f"; grid ties {r['grid_ties']}/{len(r['grid'])} -> {args.out}")
    if args.plots:
        from ..plots import write_backtest_plots

        paths = write_backtest_plots(res, md, Path(args.plots))
        print(f"plots: {', '.join(str(p) for p in paths)}")
    return 0
