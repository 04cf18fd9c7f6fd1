"""``sorlib backtest``: the router over a parameter grid vs Best Ask, TWAP and VWAP."""

from __future__ import annotations

import sys
from pathlib import Path

from .._io import atomic_write_json, check_output_dir, check_output_file
from ._common import (
    HelpFormatter,
    add_config_args,
    add_data_args,
    add_risk_args,
    choice_text,
    config_from_args,
    load_data,
    read_grid,
    result_warnings,
    show_progress,
)
from ._orders import add_orders_args, run_orders, wants_orders


def register(sub) -> None:
    p = sub.add_parser("backtest", help="route a parent order (or many) and compare with the baselines",
                       formatter_class=HelpFormatter)
    add_data_args(p, hours_auto=True)
    add_config_args(p, None, "one parent order every N minutes (default: a single order at the data start)")
    p.add_argument("--grid", default="penalty",
                   help="'penalty', 'bps' or a TOML/JSON grid file (lists, {log=[lo,hi,n]}, {linspace=[lo,hi,n]})")
    p.add_argument("--side", choices=("buy", "sell"), default="buy",
                   help="side of the fixed schedule's parent orders (a sell is replayed on the mirrored market)")
    p.add_argument("--out", default="results.json", help="results JSON path")
    p.add_argument("--plots", default=None, metavar="DIR", help="write comparison plots (HTML, PNG) here")
    add_risk_args(p)
    add_orders_args(p)
    p.set_defaults(func=run)


def run(args) -> int:
    if wants_orders(args):  # the desk's orders file instead of the fixed schedule (sorlib.flow)
        return run_orders(args)
    from ..backtest import grid_points, parent_orders, run_backtest
    from ..engine.book import Book
    from ..venues import VenueTable

    # everything the user gave is checked before the data are loaded
    cfg = config_from_args(args, grid=read_grid(args.grid))
    cfg.side = getattr(args, "side", "buy")
    cfg.validate()
    check_output_file(args.out, "--out")
    if args.plots:
        check_output_dir(args.plots, "--plots")
    table = VenueTable.load(args.venues)
    md = load_data(args.data, args.format, args.regular_hours, args.seed, prog="sorlib backtest",
                   **{k: getattr(args, k) for k in ("symbol", "date") if getattr(args, k, None) is not None})
    table.require_present(md.venues, {int(v): md.venue_name(v) for v in md.venues})
    book = Book.from_market(md, table)
    if md.report.cache:  # the day cache (sorlib.data.cache), once the data are known to be usable
        print(md.report.cache, flush=True)
    n_orders = len(parent_orders(book, cfg.order_size, cfg.every_minutes, cfg.horizon_minutes))
    n_points = len(grid_points(cfg.grid))
    print(f"backtest: {n_orders:,} parent order(s) x {n_points} grid point(s) + 3 baselines, mode {cfg.mode}",
          flush=True)
    res = run_backtest(book, cfg, table, progress=show_progress(args))
    res.results["data"] = {"source": md.report.source, "format": md.report.format, "symbol": md.symbol,
                           "venues": [md.venue_name(v) for v in md.venues]}
    atomic_write_json(args.out, res.results)
    r = res.results
    print(f"router {choice_text(cfg, r['best_parameters'])} over {r['parent_orders']} parent order(s): "
          f"avg {r['optimized']['avg_fill_px']:.4f} $/sh; savings bps "
          + ", ".join(f"{k} {v:+.2f}" for k, v in r["savings_vs_baselines_bps"].items())
          + f"; grid ties {r['grid_ties']}/{len(r['grid'])} -> {args.out}")
    if "risk_event_counts" in r:
        counts = r["risk_event_counts"]
        print("risk events: " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "none")
              + f" (risk_events, venue_scores in {args.out})")
    for line in result_warnings(r, args.out):
        print(f"sorlib backtest: warning: {line}", file=sys.stderr)
    if args.plots:
        from ..plots import write_backtest_plots

        paths = write_backtest_plots(res, md, Path(args.plots))
        print(f"plots: {', '.join(str(p) for p in paths)}")
    return 0

