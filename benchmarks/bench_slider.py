"""Benchmark: one slider move of the notebooks' what-if panel (router replay + in-place figure update).

Run: ``python benchmarks/bench_slider.py [--moves N] [--every MINUTES]``. On the default synthetic day,
builds :class:`sorlib.interactive.WhatIf` with live ``FigureWidget`` s (no frontend attached: updates
are serialised as in a kernel, nothing is drawn), warms up, then times N moves to *new* parameter
points (no memo hits) per mode and prints the median and max ms and whether the median is under the
200 ms target. Exit status 1 when a median is over the target.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from sorlib.interactive import WhatIf
from sorlib.synth import default_market

TARGET_MS = 200.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moves", type=int, default=15, help="timed slider moves per mode")
    ap.add_argument("--every", type=float, default=30.0, help="one parent order every N minutes")
    args = ap.parse_args()

    t = time.perf_counter()
    md = default_market(seed=0)
    view = WhatIf(md, every_minutes=args.every)
    view.widget()  # builds the FigureWidgets and the caches (book, orders, baselines)
    print(f"setup {time.perf_counter() - t:.2f} s: {view.describe()}")
    worst = 0.0
    for mode in ("spec", "uncapped"):
        view.update(mode=mode, lambda_under=0.0123, theta_queue=0.0042)  # warm-up (numba, first replay)
        values = np.geomspace(1e-4, 0.5, args.moves)
        ms = [view.update(lambda_under=float(v), theta_queue=float(v) / 3) for v in values]
        hit = view.update(lambda_under=float(values[0]), theta_queue=float(values[0]) / 3)  # memoised point
        med = statistics.median(ms)
        worst = max(worst, med)
        print(f"{mode:9s}: median {med:6.1f} ms, max {max(ms):6.1f} ms over {len(ms)} moves "
              f"(memo hit {hit:.1f} ms) -> {'under' if med < TARGET_MS else 'OVER'} {TARGET_MS:.0f} ms")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
