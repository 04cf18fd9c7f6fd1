"""Timing helper shared by the benchmark scripts (run as ``python benchmarks/bench_*.py``)."""

from __future__ import annotations

import statistics
import time


def timed(fn, repeats: int) -> float:
    """Median wall time of ``repeats`` calls of ``fn``, seconds."""
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def timed_turns(runs: dict, repeats: int) -> dict:
    """Median wall time (seconds) of each ``runs[name]()``, the runs taking turns in each of ``repeats`` rounds
    (a slow spell of a shared machine then hits every run alike: fairer ratios than one run after another)."""
    out: dict = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            t = time.perf_counter()
            fn()
            out[name].append(time.perf_counter() - t)
    return {name: statistics.median(v) for name, v in out.items()}
