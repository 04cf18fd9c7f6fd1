"""``sorlib verdict``: the walk-forward verdict under every assumption variant (fill rule, clean-up rule,
market layers, latency scale), as one table and one sentence per baseline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._io import check_output_dir
from ..errors import ConfigError
from ._common import MAX_ORDER_SIZE, add_data_args, real, show_progress, whole


def register(sub) -> None:
    p = sub.add_parser("verdict", help="the walk-forward verdict under each assumption variant (robustness table)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_data_args(p, nargs="*")
    p.add_argument("--mode", default="ck", choices=["spec", "uncapped", "ck"], help="router mode")
    p.add_argument("--variants", default="all", metavar="NAMES",
                   help="'all' or comma-separated variant names (sorlib.search.variants.VARIANTS)")
    p.add_argument("--grid", default="penalty", help="'penalty', 'bps' or a TOML/JSON grid file")
    p.add_argument("--folds", type=whole(1, 1000, "folds"), default=4, metavar="K",
                   help="walk-forward folds, 1..1000")
    p.add_argument("--fold-by", default=None, choices=["order", "day"],
                   help="walk-forward blocks (default: day with 2 or more DATA files, else order)")
    p.add_argument("--window", type=whole(1, 1000, "blocks"), default=None, metavar="BLOCKS",
                   help="rolling train window in blocks (default: expanding)")
    p.add_argument("--extend-grid", action="store_true",
                   help="extend the grid past any edge a chosen point lies on (see 'sorlib search --extend-grid')")
    p.add_argument("--order-size", type=whole(1, MAX_ORDER_SIZE, "shares"), default=5000,
                   help=f"parent order size, shares, 1..{MAX_ORDER_SIZE:,}")
    p.add_argument("--every", type=real(0.01, 1440, "minutes", lo_open=False), default=15.0, metavar="MINUTES",
                   help="one parent order every N minutes, [0.01, 1440] min")
    p.add_argument("--horizon", type=real(0, 1440, "minutes"), default=10.0, metavar="MINUTES",
                   help="time each parent order has before the clean-up, (0, 1440] min")
    p.add_argument("--venues", default=None, help="TOML file of venue profiles (fees in $/share)")
    p.add_argument("--scheduler", default="processes", choices=["serial", "processes", "local-dask"],
                   help="where the replays run")
    p.add_argument("--workers", type=whole(1, 256, "workers"), default=None,
                   help="processes / local-dask: worker processes, 1..256 (default 2)")
    p.add_argument("--out", default="verdict-results", metavar="DIR",
                   help="robustness.json, robustness.csv and the task store (DIR/store)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def check_args(args) -> str:
    """Options that cannot work, before any replay; returns the walk-forward split."""
    from ..search.variants import select_variants

    select_variants(args.variants)  # unknown names: one line
    if args.date is not None:
        raise ConfigError("--date does not apply to 'sorlib verdict': each DATA file is one day; pass the files of "
                          "the days")
    if args.symbol is not None and not args.data:
        raise ConfigError("--symbol selects an instrument of DATA files; give DATA paths")
    if args.workers is not None and args.scheduler == "serial":
        raise ConfigError("--workers applies only to --scheduler processes or local-dask; drop --workers")
    by = args.fold_by or ("day" if len(args.data or []) >= 2 else "order")
    if by == "day" and len(args.data or []) < args.folds + 1:
        raise ConfigError(f"--fold-by day with {args.folds} folds needs at least {args.folds + 1} DATA files (one day "
                          f"each), got {len(args.data or [])}; pass more days, use fewer --folds or --fold-by order")
    for i, path in enumerate(args.data or [], 1):
        if not Path(path).is_file():
            raise ConfigError(f"DATA day {i} of {len(args.data)}: {path}: no such file; fix the path or drop it")
    return by


def run(args) -> int:
    from ..backtest import BacktestConfig
    from ..search.verdict import run_verdict

    by = check_args(args)
    grid = args.grid if args.grid in ("penalty", "bps") else Path(args.grid)
    if not isinstance(grid, str):
        from ..search.space import resolve_space

        resolve_space(grid)  # the grid file's errors before any work
    check_output_dir(args.out, "--out")
    cfg = BacktestConfig(order_size=args.order_size, every_minutes=args.every, horizon_minutes=args.horizon,
                         seed=args.seed)
    cfg.validate()
    args.interrupt_hint = f"finished replays are kept in {Path(args.out) / 'store'}; run the same command to resume"
    res = run_verdict(args.data or None, mode=args.mode, variants=args.variants, config=cfg, grid=grid,
                      folds=args.folds, fold_by=by, window=args.window, extend_grid=args.extend_grid,
                      scheduler=args.scheduler, workers=args.workers, out=args.out,
                      progress=show_progress(args), seed=args.seed, fmt=args.format,
                      regular_hours=args.regular_hours, venues=args.venues, symbol=args.symbol,
                      log=lambda s: print(s, flush=True))
    from ._tables import printed, variant_table

    print(printed(variant_table(res)))
    for line in res.lines.values():
        print(line)
    for s in res.skipped:
        print(f"sorlib verdict: warning: variant {s['variant']} skipped: {s['reason']}", file=sys.stderr)
    print(f"-> {Path(args.out) / 'robustness.json'}, {Path(args.out) / 'robustness.csv'} "
          f"({res.settings['seconds']:.1f} s, {res.settings['distinct_models']} distinct market model(s))")
    sys.stdout.flush()
    return 0

