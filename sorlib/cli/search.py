"""``sorlib search``: the router over a parameter space on many parent orders/days, resumable, parallel."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import add_config_args, add_data_args, config_from_args, read_grid


def register(sub) -> None:
    p = sub.add_parser("search", help="search router parameters (grid, random, walk-forward, adaptive; "
                                      "local processes or Dask)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_data_args(p, nargs="*")
    p.add_argument("--grid", default="penalty", help="'penalty', 'bps' or a TOML/JSON space file "
                                                     "(lists, {log=[lo,hi,n]}, {linspace=[lo,hi,n]}, [random])")
    p.add_argument("--random", type=int, default=None, metavar="N",
                   help="N seeded random draws within the grid's bounds (log-uniform where lo > 0)")
    p.add_argument("--folds", type=int, default=None, metavar="K", help="walk-forward validation with K folds")
    p.add_argument("--window", type=int, default=None, metavar="BLOCKS",
                   help="rolling train window in blocks (default: expanding)")
    p.add_argument("--fold-by", default="order", choices=["order", "day"], help="walk-forward blocks")
    p.add_argument("--adaptive", nargs="?", const="ucb1", default=None, choices=["ucb1", "thompson"],
                   help="evaluate a bandit that adapts the parameters between parent orders")
    p.add_argument("--scheduler", default="processes",
                   help="serial, processes, local-dask, or a Dask scheduler address (tcp://host:8786)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: 2 / the cluster's)")
    add_config_args(p, 5.0, "one parent order every N minutes")
    p.add_argument("--chunk", type=int, default=8, metavar="ORDERS", help="parent orders per task")
    p.add_argument("--out", default="search-results", metavar="DIR",
                   help="results.parquet, grid.csv, summary.json and the resumable task store (DIR/store)")
    p.add_argument("--store", default=None, metavar="DIR",
                   help="task store to resume from / share between searches (default: OUT/store)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    import sys

    from ..search import run_search

    grid = args.grid if args.grid in ("penalty", "bps") else Path(args.grid)
    if isinstance(grid, Path):
        read_grid(args.grid)  # same existence/parse errors as 'sorlib backtest --grid FILE'
    cfg = config_from_args(args)
    res = run_search(args.data or None, grid=grid, random=args.random, config=cfg, folds=args.folds,
                     window=args.window, fold_by=args.fold_by, adaptive=args.adaptive or False,
                     scheduler=args.scheduler, workers=args.workers, out=args.out, store=args.store,
                     chunk_orders=args.chunk,
                     progress=False if args.no_progress else None, seed=args.seed, fmt=args.format,
                     regular_hours=args.regular_hours, venues=args.venues)
    s, st = res.summary, res.stats
    line = (f"search {s['space']['name']}: {st['points']} points ({st['distinct_routers']} distinct routers) x "
            f"{st['parent_orders']} orders on {st['days']} day(s); best {_fmt(s['best_parameters'])} "
            f"(ties {s['grid_ties']}); savings bps "
            + ", ".join(f"{k} {v:+.2f}" for k, v in s["savings_vs_baselines_bps"].items()))
    if res.walkforward is not None:
        line += "; walk-forward OOS " + ", ".join(f"{k} {v['bps']:+.2f}"
                                                  for k, v in res.walkforward.out_of_sample.items())
    if res.adaptive is not None:
        line += f"; adaptive vs fixed {res.adaptive.adaptive_vs_fixed['bps']:+.2f}"
    line += (f"; tasks {st['executed']} run, {st['reused']} reused on {st['scheduler']}, "
             f"{st['wall_seconds']:.1f} s -> {args.out}")
    print(line)
    sys.stdout.flush()
    return 0


def _fmt(p: dict) -> str:
    return "{" + ", ".join(f"{k}={v:g}" for k, v in p.items()) + "}"
