"""Benchmark: ``sorlib validate-fills`` on the whole GOOG level-10 LOBSTER sample (147,916 messages).

Times, on one process: reading the file (:func:`sorlib.data.load_with_orders`), and validating every model of
the default line-up plus the per-venue fit of power and power3 (:func:`sorlib.fillcheck.validate_fills` with
``fit=True``, horizons 10/30/60 s, the default ``own_prints="reassign"``) — the first call compiles the numba kernels (cached on disk afterwards),
so the median of ``--repeat`` runs is printed as well as the first. Target: load + validate under 120 s.

    SORLIB_REAL_DATA=../shared/data/real .venv/bin/python benchmarks/bench_validate_fills.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import timed  # noqa: E402

FILE = "lobster_samples/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"
TARGET_S = 120.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help=f"the LOBSTER file (default $SORLIB_REAL_DATA/{FILE})")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    path = a.data or (os.path.join(os.environ["SORLIB_REAL_DATA"], FILE) if os.environ.get("SORLIB_REAL_DATA")
                      else None)
    if path is None or not Path(path).is_file():
        print("bench_validate_fills: set SORLIB_REAL_DATA (or --data) to the real samples folder", file=sys.stderr)
        return 2
    from sorlib.data import load_with_orders
    from sorlib.fillcheck import validate_fills

    t = time.perf_counter()
    md, ev = load_with_orders(path)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    res = validate_fills(ev, md, fit=True)
    first_s = time.perf_counter() - t
    med_s = timed(lambda: validate_fills(ev, md, fit=True), a.repeat)
    total = load_s + med_s
    print(f"{len(ev):,} messages, {res.info['candidates']:,} candidate orders, {len(res.models)} models x "
          f"{len(res.horizons)} horizons (+ fit of power and power3)")
    print(f"load {load_s:.2f} s; validate first call {first_s:.2f} s (compiles), median of {a.repeat} "
          f"{med_s:.2f} s; load + validate {total:.2f} s (target < {TARGET_S:g} s)")
    print(res.verdict())
    return 0 if total < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
