"""Benchmark: the cost of execution controls — a replay with a schedule, child-order sizing rules, venue
scoring and the risk controls, against the plain replay, on the embedded default day (target ≤ 1.5×).

Run: ``python benchmarks/bench_execution.py [--repeats N]``. Parent orders of 5,000 shares every 5 minutes
(5-minute windows) on the default day (5 venues, 6.5 h), the frozen tape. Rows, side by side in one run:

* plain: the spec router alone (``Router()``);
* scheduled + sizing: ``Scheduled("twap", Router(), 60-s buckets)`` with max child 1,000 shares and a 20 %
  participation cap over 60 s;
* + scoring: the same under ``RiskGuard`` with venue scores (``RiskControls(scoring=...)``);
* + all controls: scores, 40 % exposure cap, LULD 5 % band, 30-s halt gap, 50-bps kill switch and the
  latency-aware cap.

Each row prints its median time (the configurations take turns, so a slow spell of the machine hits them
alike), its ratio to the plain replay and to the scheduled replay without risk controls. The acceptance figure
(issue 12) is the ratio **(schedule + sizing + scoring) / plain ≤ 1.5×**, printed last with its verdict; the
ratio to the scheduled replay shows how much of it the risk wrapper alone costs.
"""

from __future__ import annotations

import argparse

from _timing import timed_turns

from sorlib.allocation import SizingRules
from sorlib.backtest import parent_orders
from sorlib.engine import Book, replay
from sorlib.risk import RiskControls, RiskGuard
from sorlib.strategies import Router, Scheduled
from sorlib.synth import default_market


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    md = default_market(seed=0)
    book = Book.from_market(md)
    orders = parent_orders(book, 5000, 5, 5)
    rules = SizingRules(max_child=1000, participation_pct=20).with_profiles(book.profiles)
    sched = lambda: Scheduled("twap", Router(), sizing=rules, bucket_seconds=60)  # noqa: E731
    allc = RiskControls(scoring={}, exposure={"pct": 40}, luld_band_pct=5, halt_gap_seconds=30, kill_bps=50,
                        latency={"mode": "cap"})
    runs = {"plain (spec router)": lambda: Router(),
            "scheduled + sizing": sched,
            "  + scoring": lambda: RiskGuard(sched(), RiskControls(scoring={}), book.profiles),
            "  + all controls": lambda: RiskGuard(sched(), allc, book.profiles)}
    for make in runs.values():  # warm up (numba kernels, the tape's caches)
        replay(book, make(), orders[:2])
    print(f"default day: {len(md.quotes):,} quote rows, {len(book.venues)} venues; {len(orders)} parent orders of "
          f"5,000 shares (5-min windows), frozen tape, median of {args.repeats}")
    times = timed_turns({name: (lambda make=make: replay(book, make(), orders)) for name, make in runs.items()},
                  args.repeats)
    plain, sched_t = times["plain (spec router)"], times["scheduled + sizing"]
    print(f"\n{'replay':<26}{'seconds':>10}{'vs plain':>11}{'vs scheduled':>15}")
    for name, t in times.items():
        print(f"{name:<26}{t:>10.3f}{t / plain:>10.2f}x{t / sched_t:>14.2f}x")
    ratio = times["  + scoring"] / plain
    print(f"\nacceptance (issue 12): (schedule + sizing + scoring) / plain = {ratio:.2f}x, target <= 1.5x: "
          f"{'met' if ratio <= 1.5 else 'NOT met'}; the risk wrapper alone (scoring / scheduled) "
          f"{times['  + scoring'] / sched_t:.2f}x")
    g = runs["  + all controls"]()
    replay(book, g, orders)
    print("\nrisk events (all controls): " + (", ".join(f"{k} {v}" for k, v in g.event_counts().items()) or "none")
          + f"; venue-score rows {len(g.score_rows):,}")


if __name__ == "__main__":
    main()
