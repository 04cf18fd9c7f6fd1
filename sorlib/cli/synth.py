"""``sorlib synth``: write the synthetic multi-venue day as a Databento MBP-1 CSV."""

from __future__ import annotations

import argparse
import time

from .._io import check_output_file
from ..errors import ConfigError
from ._common import real, seed_type, whole


def register(sub) -> None:
    p = sub.add_parser("synth", help="generate the synthetic multi-venue day as a Databento MBP-1 CSV",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--venues", type=whole(-2**31, 2**31, "venues"), default=5, metavar="K",
                   help="number of venues, 1..8 (publisher ids 2, 9, 5, 8, 6, 7, 3, 4 in that order)")
    p.add_argument("--seed", type=seed_type, default=0,
                   help="random seed, 0..2**32-1 (same seed -> identical file)")
    p.add_argument("--start", default="09:30", metavar="HH:MM", help="start time, New York")
    p.add_argument("--minutes", type=real(0, 1440, "minutes"), default=390.0, metavar="M",
                   help="length of the day, (0, 1440] minutes")
    p.add_argument("--date", default="2024-03-15", metavar="YYYY-MM-DD", help="trading date")
    p.add_argument("--symbol", default="SYNT", help="symbol column value")
    p.add_argument("--out", default=None, metavar="FILE.csv",
                   help="output: a Databento CSV (.csv) or a zstd DBN file (.dbn.zst, written in chunks) "
                        "(default: data/synth-seed<N>-<K>v.csv)")
    p.add_argument("--shock", default=None, metavar="KIND:...",
                   help="inject a shock: jump:AT:PCT:DUR (prices x (1 + PCT/100) from minute AT for DUR minutes, "
                        "PCT in (-50, 100]) or halt:AT:DUR (books cleared, no records for DUR minutes); minutes "
                        "from --start (default none)")
    p.add_argument("--raw", action="store_true",
                   help="integer ns timestamps and fixed-point prices (x1e9) instead of ISO/decimal")
    p.add_argument("--scale", type=real(0, 1000, "x"), default=1.0, metavar="X",
                   help="multiply the book-update and trade rates by X, (0, 1000] (a busier stock: about "
                        "X x 220,000 records per 8-venue day); write big days as .dbn.zst")
    p.add_argument("--adverse", choices=["calibrated", "v2", "off"], default="calibrated",
                   help="adverse selection of passive fills: calibrated (the embedded day: informed drift fitted "
                        "to real passive-fill markouts, docs/reference/synthetic-day.md), v2 (the day before "
                        "issue 18: each market order moves the price half a tick with probability 0.6) or off")
    p.add_argument("--levels", type=int, choices=[1, 10], default=1,
                   help="book levels per record: 1 (MBP-1) or 10 (MBP-10, synthetic depth behind the touch: "
                        "sorlib.synth.dbn; needs a .dbn.zst --out)")
    p.set_defaults(func=run)


def run(args) -> int:
    import pandas as pd

    from ..synth import generate_market, write_databento_mbp1_csv
    from ..synth.model import check_options

    if not 1 <= args.venues <= 8:
        raise ConfigError(f"--venues must be between 1 and 8 (publisher ids 2, 9, 5, 8, 6, 7, 3, 4), got {args.venues}")
    out = args.out or f"data/synth-seed{args.seed}-{args.venues}v.csv"
    dbn = str(out).lower().endswith(".dbn.zst")
    if not (dbn or str(out).lower().endswith(".csv")):
        raise ConfigError(f"--out must name a .csv file or a .dbn.zst file, got {out!r}")
    if args.levels != 1 and not dbn:
        raise ConfigError("--levels 10 writes MBP-10 records: give a .dbn.zst --out")
    if dbn and args.raw:
        raise ConfigError("--raw applies to CSV output only (DBN is always fixed-point); drop --raw")
    if not args.symbol or len(args.symbol) > 32 or any(c in args.symbol for c in ',"\'\n\r'):
        raise ConfigError(f"--symbol must be 1-32 characters without commas, quotes or line breaks, "
                          f"got {args.symbol!r}")
    try:
        check_options(args.venues, args.minutes, args.start, args.date)
    except ConfigError as e:
        raise ConfigError(f"{e}; see --start HH:MM and --date YYYY-MM-DD") from None
    shock = None
    if args.shock is not None:
        from ..synth import parse_shock

        shock = parse_shock(args.shock)
        if shock.at_minute >= args.minutes:
            raise ConfigError(f"--shock starts at minute {shock.at_minute:g}, after the day's {args.minutes:g} "
                              "minutes; pick AT < --minutes")
    check_output_file(out, "--out")
    t0 = time.perf_counter()
    params = None
    if args.scale != 1:
        from dataclasses import replace

        from ..synth import ModelParams

        base = ModelParams()
        params = replace(base, book_rate=base.book_rate * args.scale, trade_rate=base.trade_rate * args.scale)
    if args.adverse != "calibrated":
        from ..synth import adverse_params

        params = adverse_params(args.adverse, params)
    md = generate_market(venues=args.venues, seed=args.seed, start=args.start, minutes=args.minutes,
                         date=args.date, symbol=args.symbol, shock=shock, params=params)
    if dbn:
        from ..synth.dbn import write_databento_dbn

        path = write_databento_dbn(md, out, levels=args.levels, depth_seed=args.seed)
    else:
        path = write_databento_mbp1_csv(md, out, pretty=not args.raw)
    q, t = md.quotes, md.trades
    lo = pd.Timestamp(int(q.ts.min()), tz="UTC").tz_convert(md.tz)
    hi = pd.Timestamp(int(max(q.ts.max(), t.ts.max() if len(t) else 0)), tz="UTC").tz_convert(md.tz)
    names = ", ".join(md.venue_name(v) for v in pd.unique(q.venue))  # in order of appearance
    print(f"wrote {len(q) + len(t):,} rows ({len(q):,} book updates, {len(t):,} trades) for {args.venues} "
          f"venue(s) [{names}], {lo:%Y-%m-%d %H:%M:%S}-{hi:%H:%M:%S} {lo:%Z}, "
          f"{f'MBP-{args.levels} DBN' if dbn else 'raw' if args.raw else 'pretty'} -> {path} ({path.stat().st_size / 1e6:.1f} MB, "
          f"{time.perf_counter() - t0:.1f} s)")
    from ._tables import printed, written_table

    print(printed(written_table(md)))
    return 0
