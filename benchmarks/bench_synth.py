"""Benchmark: generating the synthetic day, writing it as MBP-1 CSV, and reading the default-day cache.

    python benchmarks/bench_synth.py [--venues 5] [--minutes 390] [--repeat 3] [--figures]

Prints the first call (numba compile or on-disk cache load + one day), the best-of-``--repeat`` time of a
full day (target < 5 s for 6.5 h x 5 venues) with rows and rows/s, the CSV write times (pretty and raw),
and the ``default_market`` cache write and read.  ``--figures`` also prints the calibration figures of the
day (the numbers recorded in ``sorlib/synth/calibration.py``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sorlib.synth import default_market, generate_market, write_databento_mbp1_csv


def best_time(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def figures(md) -> dict[str, object]:
    """Quote/trade counts, venue shares, median displayed size and spreads (same definitions as the docs)."""
    q, t = md.quotes, md.trades
    spread = np.round((q.ask_px[:, 0] - q.bid_px[:, 0]) * 100)
    spread = spread[~np.isnan(spread)]
    grid = q.ts[0] + np.arange(60, int((q.ts[-1] - q.ts[0]) / 1e9) - 60) * 10**9
    bb, aa = [], []
    for v in md.venues:
        m = q.venue == v
        i = np.searchsorted(q.ts[m], grid, side="right") - 1
        bb.append(q.bid_px[m, 0][i])
        aa.append(q.ask_px[m, 0][i])
    nbbo = np.round((np.min(aa, 0) - np.max(bb, 0)) * 100)
    mid = (np.min(aa, 0) + np.max(bb, 0)) / 2
    name = md.venue_name
    return {
        "quote rows": len(q),
        "trades": len(t),
        "quote share": {name(k): round(v, 3) for k, v in
                        pd.Series(q.venue).value_counts(normalize=True).items()},
        "trade share": {name(k): round(v, 3) for k, v in
                        pd.Series(t.venue).value_counts(normalize=True).items()},
        "median displayed (bid, sh)": {name(v): float(np.median(q.bid_sz[q.venue == v, 0]))
                                       for v in md.venues},
        "trade size median/mean/p99": (float(np.median(t.size)), round(float(t.size.mean()), 1),
                                       float(np.percentile(t.size, 99))),
        "venue spread ticks (share 1/2/3+)": (round(float(np.mean(spread == 1)), 3),
                                              round(float(np.mean(spread == 2)), 3),
                                              round(float(np.mean(spread >= 3)), 3)),
        "NBBO 1 tick share (1 s grid)": round(float(np.mean(nbbo == 1)), 3),
        "1-min realised daily vol": round(float(np.diff(np.log(mid[::60])).std() * np.sqrt(390)), 4),
        "price open/close/min/max": (mid[0], mid[-1], mid.min(), mid.max()),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--venues", type=int, default=5)
    ap.add_argument("--minutes", type=float, default=390.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--figures", action="store_true", help="print the calibration figures of the day")
    args = ap.parse_args(argv)
    kw = dict(venues=args.venues, seed=args.seed, minutes=args.minutes)

    t = time.perf_counter()
    generate_market(**kw)
    print(f"first call (numba compile/cache load + one day): {time.perf_counter() - t:.2f} s")
    t_gen, md = best_time(lambda: generate_market(**kw), args.repeat)
    rows = len(md.quotes) + len(md.trades)
    print(f"generate {args.venues} venues x {args.minutes:g} min: {t_gen:.3f} s, {rows:,} rows "
          f"({len(md.quotes):,} book updates + {len(md.trades):,} trades), {rows / t_gen:,.0f} rows/s "
          f"(target < 5 s)")
    with tempfile.TemporaryDirectory() as tmp:
        for pretty in (True, False):
            path = Path(tmp) / f"day-{pretty}.csv"
            t_w, _ = best_time(lambda p=path, pr=pretty: write_databento_mbp1_csv(md, p, pretty=pr),
                               args.repeat)
            print(f"write MBP-1 CSV ({'pretty' if pretty else 'raw'}): {t_w:.3f} s, "
                  f"{path.stat().st_size / 1e6:.1f} MB, {rows / t_w:,.0f} rows/s")
        cache = Path(tmp) / "cache"
        t = time.perf_counter()
        default_market(cache_dir=cache, **kw)
        t_first = time.perf_counter() - t
        t_read, _ = best_time(lambda: default_market(cache_dir=cache, **kw), args.repeat)
        size = sum(p.stat().st_size for p in cache.iterdir())
        print(f"default_market: generate + write cache {t_first:.3f} s ({size / 1e6:.1f} MB .npz); "
              f"cache read {t_read:.3f} s ({t_gen / t_read:.1f}x faster than generating)")
    if args.figures:
        for k, v in figures(md).items():
            print(f"  {k}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
