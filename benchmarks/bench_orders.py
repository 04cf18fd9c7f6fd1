"""Benchmark: many-order backtests scale linearly in the number of parent orders.

Run: ``python benchmarks/bench_orders.py [--counts 500 5000] [--mode spec]``. On the embedded default day
(5 venues, 6.5 h) runs :func:`sorlib.backtest.run_backtest` — the 27-point penalty grid plus Best Ask, TWAP
and VWAP, 5,000-share orders with 10-minute windows, arrivals spread evenly over the day — for each count
and prints wall and CPU seconds and parent orders per CPU second (CPU time is what a busy shared machine
does not inflate; the run is single-process). Linear scaling shows as equal orders/s (ratio ≈ 1).
Grid points whose routers route identically (equal ``decision_key()``; in spec mode all 27) are replayed
once, so a spec backtest costs about four replays per order (router + three baselines).
"""

from __future__ import annotations

import argparse
import time

from sorlib.backtest import BacktestConfig, parent_orders, run_backtest
from sorlib.engine import Book
from sorlib.synth import default_market


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--counts", type=int, nargs="+", default=[500, 5000])
    ap.add_argument("--mode", default="spec")
    args = ap.parse_args()
    md = default_market(seed=0)
    book = Book.from_market(md)
    span_min = (int(book.times[-1]) - int(book.times[book.first_two_sided_index])) / 60e9 - 10.0
    run_backtest(book, BacktestConfig(mode=args.mode, horizon_minutes=2))  # warm up numba kernels
    print(f"{'orders':>8}{'wall s':>10}{'CPU s':>10}{'orders/CPU s':>14}")
    rates = []
    for n in args.counts:
        cfg = BacktestConfig(mode=args.mode, every_minutes=span_min / n, horizon_minutes=10.0)
        n_orders = len(parent_orders(book, cfg.order_size, cfg.every_minutes, cfg.horizon_minutes))
        t, c = time.perf_counter(), time.process_time()
        run_backtest(book, cfg)
        dt, dc = time.perf_counter() - t, time.process_time() - c
        rates.append(n_orders / dc)
        print(f"{n_orders:>8,}{dt:>10.1f}{dc:>10.1f}{rates[-1]:>14.1f}", flush=True)
    if len(rates) > 1:
        print(f"orders/s ratio (last / first): {rates[-1] / rates[0]:.2f} (1.0 = linear)")


if __name__ == "__main__":
    main()
