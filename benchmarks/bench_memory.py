"""Benchmark: peak memory (RSS) per quote row of loading a day, building its replay Book and backtesting it.

Run: ``python benchmarks/bench_memory.py [--rows 5000000] [--levels 1 10] [--keep DIR]``. Writes a seeded
synthetic 8-venue day of about ``--rows`` records (``sorlib synth --scale``, a zstd DBN file, MBP-1 or MBP-10) to
a temporary folder (deleted afterwards unless ``--keep``), then runs each stage in a fresh process and reads
its peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``):

* ``parse``: ``sorlib.load(file)`` with the day cache off (``SORLIB_CACHE_DIR=off``): the first load of a file;
* ``load``: ``sorlib.load(file)`` from the columnar day cache (warmed first; a cache in the temporary folder);
* ``book``: load + :meth:`sorlib.engine.Book.from_market`;
* ``backtest``: load + book + :func:`sorlib.backtest.run_backtest` (default config: spec router grid and the
  three baselines).

Printed per stage: peak RSS (MB), the same less the interpreter with sorlib imported (``base``), and bytes per
row of the file for both. Issue 19's targets: backtest peak ≤ 200 B per MBP-1 row, ≤ 500 B per MBP-10 row.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROWS_PER_SCALE = 191_500  # sorlib synth: about scale x 191,500 records (quotes + prints) per 8-venue day

SYNTH = "import sys; from sorlib.cli import main; sys.exit(main(sys.argv[1:]))"  # the ``sorlib`` command

STAGE = r"""
import json, resource, sys, time
import sorlib
from sorlib.backtest import run_backtest
from sorlib.engine import Book
stage, path = sys.argv[1], sys.argv[2]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
rows = 0
if stage != "base":
    md = sorlib.load(path)
    rows = len(md.quotes) + len(md.trades)
    if stage in ("book", "backtest"):
        book = Book.from_market(md)
    if stage == "backtest":
        run_backtest(book)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_kb": peak, "base_kb": base, "rows": rows, "seconds": time.perf_counter() - t}))
"""


def run_stage(stage: str, path: Path, cache: str) -> dict:
    env = {**os.environ, "SORLIB_CACHE_DIR": "off" if stage == "parse" else cache}
    out = subprocess.run([sys.executable, "-c", STAGE, "load" if stage == "parse" else stage, str(path)],
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--levels", type=int, nargs="+", default=[1, 10], choices=[1, 10])
    ap.add_argument("--stages", nargs="+", default=["parse", "load", "book", "backtest"])
    ap.add_argument("--keep", default=None, help="folder to write the synthetic days to and keep")
    args = ap.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="sorlib-mem-"))
    folder.mkdir(parents=True, exist_ok=True)
    scale = max(args.rows / ROWS_PER_SCALE, 0.01)
    try:
        for levels in args.levels:
            path = folder / f"mem-{args.rows}-s{scale:.3f}-L{levels}.dbn.zst"
            if not path.exists():
                subprocess.run([sys.executable, "-c", SYNTH, "synth", "--venues", "8", "--scale", f"{scale:.3f}",
                                "--levels", str(levels), "--out", str(path)], check=True, capture_output=True)
            cache = str(folder / "day-cache")
            run_stage("load", path, cache)  # warm the day cache
            base = run_stage("base", path, cache)["peak_kb"]
            print(f"\nMBP-{levels}: {path.name}")
            print(f"{'stage':<10}{'rows':>11}{'peak MB':>10}{'B/row':>8}{'above base B/row':>18}{'seconds':>9}")
            for stage in args.stages:
                r = run_stage(stage, path, cache)
                peak = r["peak_kb"] * 1024
                n = max(r["rows"], 1)
                print(f"{stage:<10}{r['rows']:>11,}{peak / 2**20:>10.0f}{peak / n:>8.0f}"
                      f"{(peak - base * 1024) / n:>18.0f}{r['seconds']:>9.1f}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
