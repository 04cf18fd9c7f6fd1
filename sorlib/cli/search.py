"""``sorlib search``: the router over a parameter space on many parent orders/days, resumable, parallel."""

from __future__ import annotations

import sys
from pathlib import Path

from .._io import check_output_dir
from ..errors import ConfigError
from ._common import (
    HelpFormatter,
    add_config_args,
    add_data_args,
    add_risk_args,
    choice_text,
    config_from_args,
    regular_hours_flag,
    result_warnings,
    show_progress,
    whole,
)

#: ``sorlib.search.space.MAX_EXTENSIONS`` (not imported here: ``sorlib --help`` must stay cheap;
#: tests/test_cold_start.py checks the two agree)
MAX_EXTENSIONS = 6


def register(sub) -> None:
    p = sub.add_parser("search", help="search router parameters (grid, random, walk-forward, adaptive; "
                                      "local processes or Dask)",
                       formatter_class=HelpFormatter)
    add_data_args(p, nargs="*", hours_auto=True)
    p.add_argument("--grid", default="penalty", help="'penalty', 'bps' or a TOML/JSON space file "
                                                     "(lists, {log=[lo,hi,n]}, {linspace=[lo,hi,n]}, [random])")
    p.add_argument("--random", type=whole(1, 100_000, "draws"), default=None, metavar="N",
                   help="N seeded random draws within the grid's bounds (log-uniform where lo > 0), 1..100,000")
    p.add_argument("--folds", type=whole(2, 1000, "folds"), default=None, metavar="K",
                   help="walk-forward validation with K folds, 2..1000")
    p.add_argument("--window", type=whole(1, 1000, "blocks"), default=None, metavar="BLOCKS",
                   help="with --folds: rolling train window in blocks (default: expanding)")
    p.add_argument("--fold-by", default=None, choices=["order", "day"],
                   help="with --folds: walk-forward blocks (default order)")
    p.add_argument("--adaptive", nargs="?", const="ucb1", default=None, choices=["ucb1", "thompson"],
                   help="evaluate a bandit that adapts the parameters between parent orders")
    p.add_argument("--scheduler", default="processes",
                   help="serial, processes, local-dask, or a Dask scheduler address (tcp://host:8786)")
    p.add_argument("--workers", type=whole(1, 256, "workers"), default=None,
                   help="processes / local-dask: worker processes, 1..256 (default 2)")
    p.add_argument("--extend-grid", action="store_true",
                   help="when a chosen point (best, or a fold's training choice) lies on an edge of the grid along a "
                        "parameter that can matter in the mode, add the next value beyond it (the axis' own spacing, "
                        f"never below 0) and search again, reusing stored replays, until every choice is interior or "
                        f"{MAX_EXTENSIONS} values were added on that side")
    add_config_args(p, 5.0, "one parent order every N minutes")
    p.add_argument("--side", choices=("buy", "sell"), default="buy",
                   help="side of the parent orders (a sell is replayed on the mirrored market, as in backtest)")
    add_risk_args(p)
    p.add_argument("--chunk", type=whole(1, 100_000, "orders"), default=8, metavar="ORDERS",
                   help="parent orders per task")
    p.add_argument("--out", default="search-results", metavar="DIR",
                   help="results.parquet, grid.csv, summary.json and the resumable task store (DIR/store)")
    p.add_argument("--store", default=None, metavar="DIR",
                   help="task store to resume from / share between searches (default: OUT/store)")
    p.set_defaults(func=run)


def _is_dask_address(s: str) -> bool:
    return "://" in s or (":" in s and s.rsplit(":", 1)[1].isdigit())


def check_args(args) -> None:
    """Options that do not apply to this run are errors (checked before any work)."""
    if args.folds is None:
        for opt, v in (("--window", args.window), ("--fold-by", args.fold_by)):
            if v is not None:
                raise ConfigError(f"{opt} applies only with --folds K; add --folds or drop {opt}")
    if args.workers is not None and (args.scheduler == "serial" or _is_dask_address(args.scheduler)):
        raise ConfigError(f"--workers applies only to --scheduler processes or local-dask (a {args.scheduler!r} "
                          "scheduler has its own workers); drop --workers")
    if args.date is not None:  # a search reads one day per file
        raise ConfigError("--date does not apply to 'sorlib search': each DATA file is one day; pass the files "
                          "of the days to search (or use 'sorlib backtest --date')")
    if args.symbol is not None and not args.data:
        raise ConfigError("--symbol selects an instrument of DATA files; give DATA paths (the synthetic day has "
                          "one instrument)")
    if args.extend_grid and args.random is not None:
        raise ConfigError("--extend-grid extends a product grid; it does not apply to --random draws; drop one")
    if args.fold_by == "day" and len(args.data or []) < 2:
        raise ConfigError("--fold-by day needs at least 2 DATA files (one day each); use --fold-by order")


def run(args) -> int:
    from ..search import run_search
    from ..search.space import resolve_space

    cfg = config_from_args(args)
    cfg.side = getattr(args, "side", "buy")
    cfg.validate()
    check_args(args)
    resolve_space(args.grid, args.random, args.seed)  # the space file's errors before any work
    check_output_dir(args.out, "--out")
    if args.store is not None:
        check_output_dir(args.store, "--store")
    if not _is_dask_address(args.scheduler):  # a cluster reads paths on its workers' file systems
        for i, path in enumerate(args.data or [], 1):
            if not Path(path).is_file():
                raise ConfigError(f"DATA day {i} of {len(args.data)}: {path}: no such file; fix the path or drop it")
    args.interrupt_hint = (f"finished tasks are kept in {args.store or Path(args.out) / 'store'}; "
                           "run the same command again to resume")
    progress = show_progress(args)
    hours = regular_hours_flag(args.regular_hours)
    if hours == "auto" and args.data:
        print("search: regular hours kept automatically: only 09:30-16:00 New York time of each DATA day is "
              "searched (--regular-hours off keeps everything)", flush=True)
    res = run_search(args.data or None, grid=args.grid if args.grid in ("penalty", "bps") else Path(args.grid),
                     random=args.random, config=cfg, folds=args.folds, window=args.window,
                     fold_by=args.fold_by or "order", adaptive=args.adaptive or False, scheduler=args.scheduler,
                     workers=args.workers, out=args.out, store=args.store, chunk_orders=args.chunk,
                     progress=progress, seed=args.seed, fmt=args.format, regular_hours=hours is not False,
                     venues=args.venues, symbol=args.symbol, extend_grid=args.extend_grid)
    s, st = res.summary, res.stats
    line = (f"search {s['space']['name']}: {st['points']} points ({st['distinct_routers']} distinct routers) x "
            f"{st['parent_orders']} orders on {st['days']} day(s); best {choice_text(cfg, s['best_parameters'])} "
            f"(ties {s['grid_ties']}); savings bps "
            + ", ".join(f"{k} {v:+.2f}" for k, v in s["savings_vs_baselines_bps"].items()))
    if res.walkforward is not None:
        line += "; walk-forward OOS " + ", ".join(f"{k} {v['bps']:+.2f}"
                                                  for k, v in res.walkforward.out_of_sample.items())
    if res.adaptive is not None:
        line += f"; adaptive vs fixed {res.adaptive.adaptive_vs_fixed['bps']:+.2f}"
    if "risk_event_counts" in s:
        line += "; risk events " + (", ".join(f"{k} {v}" for k, v in s["risk_event_counts"].items()) or "none")
    line += (f"; tasks {st['executed']} run, {st['reused']} reused on {st['scheduler']}, "
             f"{st['wall_seconds']:.1f} s -> {args.out}")
    print(line)
    for text in edge_lines(res):
        print(text)
    for w in [*st.get("warnings", []), *result_warnings(s, str(Path(args.out) / "summary.json"))]:
        print(f"sorlib search: warning: {w}", file=sys.stderr)
    sys.stdout.flush()
    return 0


def edge_lines(res) -> list[str]:
    """Screen lines: the grid edges the chosen points lie on (``summary.json`` ``edges``, each fold's
    ``edges``) and what ``--extend-grid`` did (``grid_extension``)."""
    from ..search.run import all_edges

    lines = []
    by_edge: dict[tuple, list[str]] = {}
    for e in all_edges(res):
        by_edge.setdefault((e["parameter"], e["side"], e["value"]), []).append(e["choice"])
    for (p, side, v), who in by_edge.items():
        lines.append(f"grid edge: {p} = {v:g} is the {'lowest' if side == 'low' else 'highest'} value searched and "
                     f"was chosen ({', '.join(who)}); the optimum may lie beyond the grid")
    ext = res.summary.get("grid_extension")
    if ext:
        added = {p: d for p, d in ext["added"].items() if d["low"] or d["high"]}
        grown = "; ".join(f"{p} +{d['low']} below, +{d['high']} above" for p, d in added.items()) or "nothing added"
        lines.append(f"--extend-grid: {ext['status']} after {ext['rounds']} round(s) ({grown}; cap "
                     f"{ext['cap_per_axis_side']} per side)")
    elif by_edge:
        lines.append("  rerun with --extend-grid to extend the grid along those parameters")
    return lines


