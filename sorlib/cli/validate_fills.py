"""``sorlib validate-fills``: queue models checked against what happened to real resting orders."""

from __future__ import annotations

import argparse
import math

from ..errors import ConfigError
from ._common import seed_type

MAX_HORIZON_S = 3600.0


def register(sub) -> None:
    p = sub.add_parser("validate-fills", help="check the queue models against real resting orders (LOBSTER, MBO)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("data", metavar="DATA",
                   help="order-level data: a LOBSTER zip or message/order-book CSV, or a Databento MBO CSV/DBN")
    p.add_argument("--format", default="auto", choices=["auto", "lobster", "mbo"], help="input format")
    p.add_argument("--symbol", default=None, metavar="SYMBOL", help="ticker, when the file name carries none")
    p.add_argument("--date", default=None, metavar="YYYY-MM-DD", help="trading date, when the file name carries none")
    p.add_argument("--horizons", default="10,30,60", metavar="S,S,...",
                   help=f"seconds after arrival at which fills are compared, each in (0, {MAX_HORIZON_S:g}]")
    p.add_argument("--models", default="conservative,power:2,log,power3:2,simple,paper", metavar="M,M,...",
                   help="queue models: conservative, power[:n], power2[:n], power3[:n], log, log2, simple, paper")
    p.add_argument("--fit", action="store_true",
                   help="also fit power and power3 per venue on the first half of the day; score on the second")
    p.add_argument("--own-prints", default="reassign", choices=["reassign", "drop", "keep"],
                   help="what the real order's executions leave on the tape. reassign: the print the orders "
                        "queued behind it would have received (price-time priority); drop: nothing (lower "
                        "bound); keep: the whole execution (upper bound)")
    p.add_argument("--candidates", default="joined", choices=["joined", "improved", "all"],
                   help="orders scored in the headline (the others are reported beside it). joined: orders that "
                        "joined a displayed queue at the best; improved: orders that set a new best price alone "
                        "(no queue to predict from once removed); all: both together")
    p.add_argument("--seed", type=seed_type, default=0, help="seed of the simple model's draws")
    p.add_argument("--out", default="fill_validation", metavar="DIR",
                   help="folder for fill_validation.json and the CSV tables")
    p.set_defaults(func=run)


def parse_horizons(text: str) -> tuple[float, ...]:
    """``"10,30,60"`` → (10.0, 30.0, 60.0); each a number of seconds in (0, 3600], no repeats."""
    out = []
    for item in text.split(","):
        try:
            v = float(item)
        except ValueError:
            raise ConfigError(f"--horizons: {item.strip()!r} is not a number of seconds; give e.g. 10,30,60") from None
        if not (math.isfinite(v) and 0 < v <= MAX_HORIZON_S):
            raise ConfigError(f"--horizons: each horizon must be in (0, {MAX_HORIZON_S:g}] seconds, got {item.strip()}")
        out.append(v)
    if len(set(out)) != len(out):
        raise ConfigError(f"--horizons: a horizon is given twice ({text}); list each once")
    return tuple(sorted(out))


def run(args) -> int:
    from .._io import check_output_dir
    from ..data import load_with_orders
    from ..fillcheck import parse_models, validate_fills

    horizons = parse_horizons(args.horizons)
    try:
        models = parse_models(args.models, seed=args.seed)
    except ConfigError as e:
        raise ConfigError(f"--models: {e}") from None
    check_output_dir(args.out, "--out")
    md, events = load_with_orders(args.data, args.format, symbol=args.symbol, date=args.date)
    res = validate_fills(events, md, models, horizons, fit=args.fit, own_prints=args.own_prints, seed=args.seed,
                         candidates=args.candidates, source=str(args.data))
    paths = res.write(args.out)
    h = max(horizons)
    print(f"validate-fills: {res.info['candidates']:,} candidate orders from {args.data} ({res.info['joined']:,} "
          f"joined a queue, {res.info['improved']:,} set a new best alone); headline {args.candidates}: "
          f"{res.exclusions[f'{h:g}s']['scored']:,} scored at {h:g} s, own prints {args.own_prints}; "
          f"sample {res.score_sample}")
    _print_table(res, horizons, res.candidates, "bias")
    other = "joined" if res.candidates == "improved" else "improved"
    n_other = res.by_class[other]["exclusions"][f"{h:g}s"]["scored"]
    print(f"reported separately, {other} ({n_other:,} scored at {h:g} s): calibration error, realised/predicted %")
    _print_table(res, horizons, other, "rates")
    for note in res.notes:
        print(f"note: {note}")
    print(res.verdict())
    print(f"-> {', '.join(str(p) for p in paths)}")
    return 0


def _print_table(res, horizons, cls: str, what: str) -> None:
    """One line per model: calibration error and bias (``what`` 'bias') or realised/predicted % ('rates')."""
    second = (lambda T: f"bias {T:g}s") if what == "bias" else (lambda T: f"real/pred {T:g}s")
    print(f"{'model':<14}" + "".join(f"{f'calib {T:g}s':>11}{second(T):>16}" for T in horizons))
    for m in res.models:
        cells = ""
        for T in horizons:
            r = next(r for r in res.table(horizon=T, cls=cls) if r["model"] == m)
            if not r["n"]:
                cells += f"{'-':>11}{'-':>16}"
                continue
            two = (f"{r['bias_pp']:+.2f}" if what == "bias" else
                   f"{100 * r['realised']:.1f}/{100 * r['predicted']:.1f}")
            cells += f"{r['calib_pp']:>11.2f}{two:>16}"
        print(f"{m:<14}{cells}")
