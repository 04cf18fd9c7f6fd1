"""``sorlib backtest``: the router over a parameter grid vs Best Ask, TWAP and VWAP."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._io import atomic_write_json
from ._common import add_config_args, add_data_args, config_from_args, load_data, read_grid


def register(sub) -> None:
    p = sub.add_parser("backtest", help="route a parent order (or many) and compare with the baselines",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_data_args(p)
    add_config_args(p, None, "one parent order every N minutes (default: a single order at the data start)")
    p.add_argument("--grid", default="penalty", help="'penalty', 'bps' or a TOML/JSON grid file")
    p.add_argument("--out", default="results.json", help="results JSON path")
    p.add_argument("--plots", default=None, metavar="DIR", help="write comparison plots (HTML, PNG) here")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..backtest import run_backtest
    from ..venues import VenueTable

    table = VenueTable.load(args.venues)
    md = load_data(args.data, args.format, args.regular_hours, args.seed)
    cfg = config_from_args(args, grid=read_grid(args.grid))
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
