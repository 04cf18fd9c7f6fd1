"""Parameter-search benchmark: the 27-point penalty grid, one parent order every 5 minutes over the
default synthetic day, in spec and uncapped mode.

Prints, per mode: one router replay over the orders (s), the whole search serially in this process,
with 1 and 2 worker processes (pools already started and data loaded: steady-state throughput; and
cold, including the pool start), the ratio search / one replay (target < 10x) and the 1 -> 2 worker
speed-up (target >= 1.7x).

The 1- and 2-worker searches run alternately (after two warm-up runs each), so both see the same
machine; times are the best of ``--repeat`` runs, and the median of the per-pair ratios is printed
beside the best-of ratio as a measure of noise (on a shared 2-vCPU VM a short search is easily slowed
by the host).

    python benchmarks/bench_search.py [--repeat 10] [--grid penalty] [--every 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from sorlib.allocation import warmup
from sorlib.backtest import BacktestConfig, baselines, parent_orders, router_for
from sorlib.engine import Book, replay
from sorlib.search import DataSpec, ProcessExecutor, run_search
from sorlib.search.space import resolve_space
from sorlib.synth import default_market


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--grid", default="penalty")
    ap.add_argument("--every", type=float, default=5.0)
    args = ap.parse_args()
    warmup()
    spec = DataSpec.synthetic(seed=0)
    book = Book.from_market(default_market(seed=0))
    space = resolve_space(args.grid)
    rows = []
    for mode in ("spec", "uncapped"):
        cfg = BacktestConfig(mode=mode, every_minutes=args.every)
        orders = parent_orders(book, cfg.order_size, cfg.every_minutes, cfg.horizon_minutes)
        router = router_for(cfg, space.dicts()[0])
        t_replay = best_of(lambda router=router, orders=orders: replay(book, router, orders), args.repeat)
        t_base = sum(best_of(lambda s=s, orders=orders: replay(book, s, orders), 1)
                     for s in baselines(cfg).values())

        def search(scheduler, cfg=cfg):
            return run_search(spec, grid=space, config=cfg, scheduler=scheduler, progress=False)

        t_serial = best_of(lambda: search("serial"), args.repeat)
        cold = {}
        with ProcessExecutor(workers=1) as e1, ProcessExecutor(workers=2) as e2:
            for w, ex in ((1, e1), (2, e2)):
                t = time.perf_counter()
                res = search(ex)
                cold[w] = time.perf_counter() - t
            for ex in (e1, e2, e1, e2):  # warm-up
                search(ex)
            times = {1: [], 2: []}
            for _ in range(args.repeat):  # alternate, so both worker counts see the same machine
                for w, ex in ((1, e1), (2, e2)):
                    t = time.perf_counter()
                    search(ex)
                    times[w].append(time.perf_counter() - t)
        warm = {w: min(v) for w, v in times.items()}
        pair = statistics.median(a / b for a, b in zip(times[1], times[2], strict=True))
        rows.append(dict(mode=mode, orders=len(orders), points=len(space), routers=res.stats["distinct_routers"],
                         tasks=res.stats["tasks"], replay=t_replay, baselines=t_base,
                         naive=len(space) * t_replay + t_base, serial=t_serial, w1=warm[1], w2=warm[2],
                         cold1=cold[1], cold2=cold[2], pair=pair))
    print(f"search benchmark: grid {args.grid} ({len(space)} points), default day, an order every {args.every:g} min, "
          f"{os.cpu_count()} cores, best of {args.repeat}")
    hdr = (f"{'mode':<9}{'orders':>7}{'routers':>8}{'tasks':>6}{'1 replay':>10}{'naive':>8}{'serial':>9}"
           f"{'1 worker':>10}{'2 workers':>10}{'cold 2w':>9}{'2w/replay':>10}{'speed-up':>9}{'median':>8}")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        print(f"{r['mode']:<9}{r['orders']:>7}{r['routers']:>8}{r['tasks']:>6}{r['replay']:>9.3f}s"
              f"{r['naive']:>7.2f}s{r['serial']:>8.3f}s{r['w1']:>9.3f}s{r['w2']:>9.3f}s{r['cold2']:>8.2f}s"
              f"{r['w2'] / r['replay']:>9.1f}x{r['w1'] / r['w2']:>8.2f}x{r['pair']:>7.2f}x")
    print("naive = 27 replays of the router + one of each baseline, serial; 1/2 workers = process pool already "
          "started with the data loaded; cold = including the pool start; 2w/replay target < 10x; "
          "speed-up = best 1 worker / best 2 workers, target >= 1.7x; median = median of the alternating pairs' ratios")


if __name__ == "__main__":
    main()
