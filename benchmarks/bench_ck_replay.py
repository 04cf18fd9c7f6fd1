"""Benchmark: the Cont–Kukanov router on the default day — the fast decision against today's SA path.

Run: ``python benchmarks/bench_ck_replay.py [--repeats 5] [--grid-points 27] [--sa-backtest]``. One run
prints, side by side:

1. one replay of the task's 5,000-share parent order (10-minute window), median ms over ``--repeats``,
   for the fast path (``method="fast"``, :mod:`sorlib.ck.fast`), the SA path the router used until now
   (``method="sa"``, 20,000 iterations) and the exact SAA (``method="saa"``), with the ratio SA / fast
   (target ≥ 10×); the same for the 77 parent orders of ``every_minutes=5``;
2. ``run_backtest`` of the 27-point penalty grid plus the three baselines over those 77 orders, CK with
   the fast path against ``mode="uncapped"`` on the same orders, and the ratio (target ≤ 10×);
   ``--sa-backtest`` also times the CK backtest with SA (slow: about two minutes);
3. the expected cost of every decision the fast router made in (1) and in the backtest's first
   ``--grid-points`` grid points, against the exact sample-average optimum of the same inputs
   (:func:`sorlib.ck.saa_placement`): the largest gap in $ and relative, and how many decisions exceed the
   stated tolerance — gap ≤ max(0.1 % of |V*|, $0.10) per decision.

The strategy is given its method through ``ContKukanov(method=...)``; a strategy that does not list
``"fast"`` among its methods yet gets it set after construction (the solver call is the same).
"""

from __future__ import annotations

import argparse
import contextlib
import time

import numpy as np
from _timing import timed

import sorlib.backtest as bt
import sorlib.ck as ck
from sorlib.backtest import BacktestConfig, grid_points, parent_orders, run_backtest
from sorlib.engine import Book, replay
from sorlib.errors import ConfigError
from sorlib.strategies import ContKukanov
from sorlib.synth import default_market

REL_TOL, ABS_TOL = 1e-3, 0.10  # the stated tolerance: gap <= max(REL_TOL * |V*|, ABS_TOL) $ per decision


def ck_router(method: str, **params) -> ContKukanov:
    try:
        return ContKukanov(method=method, **params)
    except ConfigError:  # the strategy does not accept this method name yet: same call, set afterwards
        s = ContKukanov(**params)
        s.method = method
        return s


@contextlib.contextmanager
def backtest_method(method: str):
    """``run_backtest`` builds its CK routers with ``method``."""
    orig = bt.ContKukanov
    bt.ContKukanov = lambda **kw: ck_router(method, **kw)  # type: ignore[assignment]
    try:
        yield
    finally:
        bt.ContKukanov = orig


@contextlib.contextmanager
def recording():
    """Record the inputs of every ``optimal_placement`` call made by the router."""
    calls: list[tuple] = []
    orig = ck.optimal_placement

    def rec(*args, **kwargs):
        calls.append((args, {k: v for k, v in kwargs.items() if k in ("method",)}))
        return orig(*args, **kwargs)

    ck.optimal_placement = rec
    try:
        yield calls
    finally:
        ck.optimal_placement = orig



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--grid-points", type=int, default=27, help="grid points whose decisions are checked vs SAA")
    ap.add_argument("--sa-backtest", action="store_true", help="also time the 27-point CK backtest with SA")
    args = ap.parse_args()
    md = default_market(seed=0)
    book = Book.from_market(md)
    one = parent_orders(book, 5000, None, 10)
    many = parent_orders(book, 5000, 5, 5)
    for m in ("fast", "sa", "saa"):  # JIT and caches warm
        replay(book, ck_router(m), one)
    print(f"default day, {len(book.venues)} venues; one 5,000-share order (10 min) and {len(many)} orders "
          f"(every 5 min, 5-min windows)")
    print(f"\n{'CK replay':<24}{'1 order, median ms':>20}{f'{len(many)} orders, s':>16}")
    res = {}
    for m, reps in (("fast", args.repeats), ("sa", args.repeats), ("saa", max(1, args.repeats // 2))):
        a = timed(lambda m=m: replay(book, ck_router(m), one), args.repeats)
        b = timed(lambda m=m: replay(book, ck_router(m), many), 1 if m != "fast" else reps)
        res[m] = (a, b)
        print(f"{'method=' + m:<24}{a * 1e3:>20.2f}{b:>16.3f}")
    print(f"{'ratio sa / fast':<24}{res['sa'][0] / res['fast'][0]:>19.1f}x{res['sa'][1] / res['fast'][1]:>15.1f}x"
          "   (target >= 10x)")
    print(f"{'ratio saa / fast':<24}{res['saa'][0] / res['fast'][0]:>19.1f}x{res['saa'][1] / res['fast'][1]:>15.1f}x")

    cfg = {"every_minutes": 5, "horizon_minutes": 5}
    t_unc = timed(lambda: run_backtest(book, BacktestConfig(mode="uncapped", **cfg)), 1)
    with backtest_method("fast"):
        t_ck = timed(lambda: run_backtest(book, BacktestConfig(mode="ck", **cfg)), 1)
    print(f"\n{'27-point grid + baselines':<30}{'s':>10}{'vs uncapped':>14}")
    print(f"{'run_backtest uncapped':<30}{t_unc:>10.2f}{1.0:>13.1f}x")
    print(f"{'run_backtest ck (fast)':<30}{t_ck:>10.2f}{t_ck / t_unc:>13.1f}x   (target <= 10x)")
    if args.sa_backtest:
        with backtest_method("sa"):
            t_sa = timed(lambda: run_backtest(book, BacktestConfig(mode="ck", **cfg)), 1)
        print(f"{'run_backtest ck (sa)':<30}{t_sa:>10.2f}{t_sa / t_unc:>13.1f}x   (fast is {t_sa / t_ck:.1f}x faster)")

    # decisions of the fast router vs the exact SAA optimum of the same inputs
    with recording() as calls:
        replay(book, ck_router("fast"), one)
        for p in grid_points("penalty")[:args.grid_points]:
            replay(book, ck_router("fast", **p), many)
    gaps, rels, vstar, t_fast, t_saa, n_milp = [], [], [], [], [], 0
    for a, _ in calls:
        t = time.perf_counter()
        fp = ck.fast_placement(*a)
        t_fast.append(time.perf_counter() - t)
        t = time.perf_counter()
        ex = ck.saa_placement(*a)
        t_saa.append(time.perf_counter() - t)
        n_milp += ex.info["stage"] == "milp"
        vstar.append(ex.cost)
        gaps.append(fp.cost - ex.cost)
        rels.append((fp.cost - ex.cost) / max(abs(ex.cost), 1e-12))
    gaps, rels = np.array(gaps), np.array(rels)
    over = int(np.sum(gaps > np.maximum(REL_TOL * np.abs(np.array(vstar)), ABS_TOL)))
    print(f"\ndecisions checked against the exact SAA: {len(calls):,} (1 order + {min(args.grid_points, 27)} grid "
          f"points x {len(many)} orders; {n_milp} needed the MILP)")
    print(f"  fast - SAA cost, $ per decision: max {gaps.max():.3g}, median {np.median(gaps):.3g}; "
          f"relative max {rels.max():.3g}")
    print(f"  tolerance: gap <= max({REL_TOL:.1%} of |V*|, ${ABS_TOL:.2f}); decisions over it: {over}")
    print(f"  solver time per decision, median ms: fast {np.median(t_fast) * 1e3:.3f}, "
          f"saa {np.median(t_saa) * 1e3:.2f} ({np.median(t_saa) / np.median(t_fast):.0f}x)")


if __name__ == "__main__":
    main()
