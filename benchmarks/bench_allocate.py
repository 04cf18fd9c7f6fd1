"""Benchmark: exact solver ``allocate`` vs the reference ``allocate_exhaustive``.

Run: ``python benchmarks/bench_allocate.py [--repeats N]``.  Prints the numba compile/load time of the
first call (not included in the timings), the median times at 4 venues × 5,000 shares (each venue
displaying ≥ 2,000) side by side with their ratio (target ≥ 1000×), and ``allocate`` alone at 5 and 8
venues.
"""

from __future__ import annotations

import argparse
import statistics
import time

from sorlib.allocation import Venue, allocate, allocate_exhaustive, warmup

PARAMS = (2.0, 0.05, 0.1)  # lambda_over, lambda_under, theta_queue (irrelevant in spec mode)


def venues(n: int) -> list[Venue]:
    """n venues around $100 with displayed sizes 2,000–3,400 and mixed fee schedules."""
    fees = [0.0030, 0.0009, -0.0010, 0.0030, 0.0020]
    return [
        Venue(
            ask=100.00 + 0.01 * ((3 * i) % 5),
            ask_size=2000 + 200 * ((i * 7) % 8),
            fee=fees[i % len(fees)],
            rebate=0.002,
            name=f"V{i}",
        )
        for i in range(n)
    ]


def median_time(fn, repeats: int, inner: int = 1) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t) / inner)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="repeats of the exhaustive search (default 5)")
    ap.add_argument("--size", type=int, default=5000, help="order size in shares (default 5000)")
    args = ap.parse_args()

    t = time.perf_counter()
    warmup()
    print(
        f"numba first call (compile, or load from cache): {time.perf_counter() - t:.2f} s (not timed below)"
    )

    v4 = venues(4)
    S = args.size
    print(f"\n4 venues x {S:,} shares, displayed {[v.ask_size for v in v4]}")
    ref = allocate_exhaustive(S, v4, *PARAMS)
    fast = allocate(S, v4, *PARAMS)
    assert fast == ref, (fast, ref)
    print(f"  split {fast[0]}  cost ${fast[1]:,.4f}  (identical to the reference)")
    t_ref = median_time(lambda: allocate_exhaustive(S, v4, *PARAMS), args.repeats)
    t_fast = median_time(lambda: allocate(S, v4, *PARAMS), 25, inner=200)
    print(f"  {'allocate_exhaustive':>20}: {t_ref * 1e3:10.2f} ms   (median of {args.repeats})")
    print(f"  {'allocate':>20}: {t_fast * 1e3:10.4f} ms   (median of 25 x 200 calls)")
    print(f"  {'speed-up':>20}: {t_ref / t_fast:10,.0f} x   (target >= 1000 x)")

    print("\nallocate alone:")
    for n in (5, 8):
        vn = venues(n)
        split, cost = allocate(S, vn, *PARAMS)
        tn = median_time(lambda vn=vn: allocate(S, vn, *PARAMS), 25, inner=200)
        print(f"  {n} venues x {S:,} shares: {tn * 1e3:8.4f} ms   split {split}")


if __name__ == "__main__":
    main()
