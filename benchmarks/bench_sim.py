"""Benchmark: the market simulation's cost — one replay under the ``realistic`` preset against the frozen
replay of the same parent orders, side by side in one run.

Run: ``python benchmarks/bench_sim.py [--repeats N] [--every MINUTES]``. On the embedded default day (5 venues,
6.5 h), parent orders of 5,000 shares every ``--every`` minutes (default 30) with 10-minute windows; per
strategy it prints the median wall time of one replay frozen and realistic, their ratio (target ≤ 3×), and the
number of decisions each made (the simulated market changes what a strategy does, e.g. fades make it wait
for new size, so a ratio above the per-decision overhead can be behaviour, not cost).
"""

from __future__ import annotations

import argparse
import time

from _timing import timed

from sorlib.backtest import parent_orders
from sorlib.engine import Book, replay
from sorlib.sim import MarketModel
from sorlib.strategies import TWAP, VWAP, BestAsk, Router
from sorlib.synth import default_market


def counting(cls):
    """``cls`` with a decision counter (class attribute ``n``)."""

    class Counted(cls):
        n = 0

        def decide(self, view):
            type(self).n += 1
            return super().decide(view)

    return Counted


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--every", type=float, default=30.0)
    args = ap.parse_args()
    md = default_market(seed=0)
    book = Book.from_market(md)
    orders = parent_orders(book, 5000, args.every, 10)
    t0 = time.perf_counter()
    realistic = MarketModel.preset("realistic").resolve(md)  # impact inputs estimated once, as run_backtest does
    t_resolve = time.perf_counter() - t0
    frozen = MarketModel.preset("frozen")
    replay(book, Router(mode="uncapped"), orders[:1])  # warm up numba kernels
    sig, vol, src = realistic.impact.inputs_at(orders[-1].arrival_ns)  # per order, from the data before it
    print(f"default day: {len(orders)} parent orders of 5,000 shares, 10-minute windows; realistic inputs "
          f"prepared in {t_resolve * 1e3:.0f} ms (last order: σ = ${sig:.3f}/share/day, "
          f"V = {vol:,.0f} shares/day, {src})")
    print(f"\n{'strategy':<18}{'frozen (ms)':>13}{'realistic (ms)':>16}{'ratio':>8}{'decisions f / r':>18}")
    strategies = {"router spec": (Router, dict(mode="spec")), "router uncapped": (Router, dict(mode="uncapped")),
                  "best_ask": (BestAsk, {}), "twap": (TWAP, {}), "vwap": (VWAP, {})}
    ratios = []
    for name, (cls, kw) in strategies.items():
        c = counting(cls)
        times, counts = [], []
        for mm in (frozen, realistic):
            c.n = 0
            replay(book, c(**kw), orders, market=mm)
            counts.append(c.n)
            times.append(timed(lambda mm=mm, cls=cls, kw=kw: replay(book, cls(**kw), orders, market=mm),
                               args.repeats))
        ratios.append(times[1] / times[0])
        print(f"{name:<18}{times[0] * 1e3:>13.1f}{times[1] * 1e3:>16.1f}{ratios[-1]:>7.2f}x"
              f"{f'{counts[0]} / {counts[1]}':>18}")
    print(f"\nworst ratio {max(ratios):.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
