"""Benchmark: one replay of the task's 5,000-share order, and the 27-point grid backtest.

Run: ``python benchmarks/bench_replay.py [--repeats N]``. On the embedded default day (5 venues, 6.5 h),
prints side by side: building the replay Book (once per data set), one replay of a single 5,000-share
parent order (10-minute window) per strategy, one replay of the router over a parent order every 5 minutes
(5-minute windows), and ``run_backtest`` — the 27-point penalty grid plus the three baselines over the same
orders — in spec and uncapped mode, with its ratio to one router replay. ``sorlib search`` (see
bench_search.py) runs the same grid faster by replaying identical routers once and using both cores.
"""

from __future__ import annotations

import argparse

from _timing import timed

from sorlib.backtest import BacktestConfig, parent_orders, run_backtest
from sorlib.engine import Book, replay
from sorlib.strategies import TWAP, VWAP, BestAsk, ContKukanov, Router
from sorlib.synth import default_market


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    md = default_market(seed=0)
    t_book = timed(lambda: Book.from_market(md), args.repeats)
    book = Book.from_market(md)
    one = parent_orders(book, 5000, None, 10)
    many = parent_orders(book, 5000, 5, 5)
    replay(book, Router(mode="uncapped"), one)  # warm up numba kernels
    print(f"default day: {len(md.quotes):,} quote rows, {len(md.trades):,} trades, {len(book.venues)} venues; "
          f"Book build {t_book * 1e3:.0f} ms")
    print(f"\n{'strategy':<22}{'1 order (ms)':>14}{f'{len(many)} orders (ms)':>18}")
    strategies = {"router spec": Router(mode="spec"), "router uncapped": Router(mode="uncapped"),
                  "best_ask": BestAsk(), "twap": TWAP(), "vwap": VWAP(), "ck (fast)": ContKukanov()}
    router_many = {}
    for name, s in strategies.items():
        a = timed(lambda s=s: replay(book, s, one), args.repeats)
        reps = 1 if name.startswith("ck") else args.repeats
        b = timed(lambda s=s: replay(book, s, many), reps)
        router_many[name] = b
        print(f"{name:<22}{a * 1e3:>14.1f}{b * 1e3:>18.0f}")
    print(f"\n{'27-point grid + baselines':<30}{'seconds':>10}{'vs 1 router replay':>22}")
    for mode in ("spec", "uncapped"):
        t = timed(lambda m=mode: run_backtest(book, BacktestConfig(every_minutes=5, horizon_minutes=5, mode=m)), 1)
        print(f"{'run_backtest ' + mode:<30}{t:>10.2f}{t / router_many['router ' + mode]:>21.1f}x")


if __name__ == "__main__":
    main()
