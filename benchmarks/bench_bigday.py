"""Benchmark: a benchmark-sized MBP-10 day through load, the day cache, backtest and search.

For each ``--rows`` target, generates an 8-venue synthetic day with ``sorlib synth``'s rate scale
(``--scale = rows / 220,000``) and writes it as a zstd MBP-10 DBN file (:mod:`sorlib.synth.dbn`), then runs
each phase in a fresh Python process (so peak RSS is the phase's own) and prints seconds, bytes and peak
RSS per million rows (``ru_maxrss``, which counts the day-cache pages a phase maps and touches, and the peak
anonymous RSS, sampled: the memory a phase cannot give back):

* ``parse``   — ``load(file, cache=False)``: decode, validate, repair (what every load cost before the cache);
* ``build``   — ``load(file)`` with an empty cache folder: the parse plus writing the cache entry;
* ``cached``  — ``load(file)`` again: map and checksum the entry;
* ``backtest``— ``sorlib backtest FILE --every 30`` (reads the cache);
* ``search``  — ``sorlib search FILE --scheduler serial --every 60`` (reads the cache; ``--phases ... search``).

``--days N``: instead, a ``local-dask`` search over N synthetic days read through the day cache, once with
every day resident on every worker and once with at most 2 (``SORLIB_WORKER_DAYS``), printing each worker's
peak RSS. Generated files and the cache are deleted afterwards (``--keep`` keeps them).

    python benchmarks/bench_bigday.py --rows 1e6 5e6 [--phases parse build cached backtest search] [--dir /tmp]

One phase alone on a kept day (``--keep``: ``DIR/day.mbp-10.dbn.zst``, its cache ``DIR/cache`` and the frozen code
``DIR/code``; the cache key holds a digest of ``sorlib/data``, so any code with the same ``sorlib/data`` reads it)
prints that phase's JSON line (``records`` only for the load phases; the search phase runs in a fresh
``DIR/search-*`` folder, so it never resumes from an earlier run's task store):

    SORLIB_CACHE_DIR=DIR/cache PYTHONPATH=CODE python benchmarks/bench_bigday.py --phase search \
        --file DIR/day.mbp-10.dbn.zst --dir DIR
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS_PER_SCALE = 220_000  # records of an 8-venue day per unit of --scale (measured: 989,273 at 4.5)
PIECE_ROWS = 2e7  # above this, the day is generated as 13 half-hour pieces (generating holds ~790 B/record)
PIECE_RATE_FIX = 1e8 / 67_160_338  # records asked / DBN records made by the pieces at --rows 1e8 (one run)


class _AnonPeak:
    """Peak anonymous RSS (MB; /proc/self/status ``RssAnon``, sampled every 0.2 s): the memory a phase cannot
    give back, unlike the mapped day-cache pages that ``ru_maxrss`` also counts."""

    def __init__(self) -> None:
        import threading

        self.peak, self.stop = 0.0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @staticmethod
    def now() -> float:
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("RssAnon:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def _run(self) -> None:
        while not self.stop.wait(0.2):
            self.peak = max(self.peak, self.now())

    def close(self) -> float:
        self.stop.set()
        self.thread.join()
        return max(self.peak, self.now())


def _phase(name: str, file: str, work: str) -> dict:
    """Run one phase in this process; returns seconds and facts."""
    anon = _AnonPeak()
    t0 = time.perf_counter()
    out: dict = {}
    if name == "gen":
        from dataclasses import replace

        from sorlib.synth import ModelParams, generate_market
        from sorlib.synth.dbn import write_databento_dbn

        rows = float(os.environ["BENCH_ROWS"])
        base = ModelParams()
        scale = rows / ROWS_PER_SCALE
        params = replace(base, book_rate=base.book_rate * scale, trade_rate=base.trade_rate * scale)
        if rows <= PIECE_ROWS:
            md = generate_market(venues=8, seed=0, params=params)
            write_databento_dbn(md, file, levels=10)
            out["quote_rows"], out["trade_rows"] = len(md.quotes), len(md.trades)
        else:  # 13 half-hour sessions generated and written one at a time (memory: one piece)
            import pandas as pd

            # half-hour sessions hold fewer records per unit of scale than a whole day (measured: 67.2 M DBN
            # records for a 1e8 target): scaled up so the day has about ``rows`` records
            f = PIECE_RATE_FIX
            params = replace(params, book_rate=params.book_rate * f, trade_rate=params.trade_rate * f)

            from sorlib.synth.dbn import write_databento_dbn_parts

            counts = [0, 0]

            def pieces():
                for i in range(13):
                    hh, mm = divmod(9 * 60 + 30 + 30 * i, 60)
                    md = generate_market(venues=8, seed=i, start=f"{hh:02d}:{mm:02d}", minutes=30, params=params)
                    counts[0] += len(md.quotes)
                    counts[1] += len(md.trades)
                    yield md

            t0_, t1_ = (pd.Timestamp(f"2024-03-15 {t}", tz="America/New_York").value for t in ("09:30", "16:00"))
            write_databento_dbn_parts(pieces(), file, start_ns=t0_, end_ns=t1_, levels=10)
            out["quote_rows"], out["trade_rows"] = counts
    elif name in ("parse", "build", "cached"):
        from sorlib.data import load

        md = load(file, cache=name != "parse")
        out["records"] = md.report.rows_read
        out["cache"] = md.report.cache
        if name == "cached":  # touch every page once (the checksum already did)
            out["sum_ts"] = int(md.quotes.ts[-1]) + int(md.trades.ts[-1])
    elif name == "backtest":
        from sorlib.cli import main

        main([ "backtest", file, "--every", "30", "--no-progress", "--out", f"{work}/bt.json"])
    elif name == "search":
        from sorlib.cli import main

        # a fresh output folder each run: an existing one holds the task store, and the search would resume from it
        out_dir = tempfile.mkdtemp(prefix="search-", dir=work)
        main(["search", file, "--scheduler", "serial", "--every", "60", "--no-progress", "--out", out_dir])
        with open(Path(out_dir) / "summary.json") as f:
            st = json.load(f)["stats"]
        out.update(tasks_executed=st["executed"], tasks_reused=st["reused"], parent_orders=st["parent_orders"],
                   out=out_dir)
    out["seconds"] = time.perf_counter() - t0
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["peak_anon_mb"] = anon.close()
    return out


def _run(name: str, file: Path, work: Path, rows: float) -> dict:
    # the phases import a frozen copy of sorlib (see bench): an edit to sorlib/data in the checkout during a
    # long run would change the cache key (the reader digest) between the build and cached phases
    env = dict(os.environ, SORLIB_CACHE_DIR=str(work / "cache"), BENCH_ROWS=str(rows),
               PYTHONPATH=os.pathsep.join([str(work / "code"), os.environ.get("PYTHONPATH", "")]))
    p = subprocess.run([sys.executable, __file__, "--phase", name, "--file", str(file), "--dir", str(work)],
                       env=env, capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(f"phase {name} failed:\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def bench(rows: float, root: Path, phases: list[str], keep: bool) -> list[dict]:
    work = Path(tempfile.mkdtemp(prefix="bigday-", dir=root))
    file = work / "day.mbp-10.dbn.zst"
    out = []
    import sorlib

    shutil.copytree(Path(sorlib.__file__).parent, work / "code" / "sorlib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    try:
        for name in ["gen", *phases]:
            r = _run(name, file, work, rows)
            if name == "gen":
                r["bytes"] = file.stat().st_size
                n = r["quote_rows"] + r["trade_rows"]
            if name == "build":
                r["bytes"] = sum(f.stat().st_size for f in (work / "cache").glob("*.sdc"))
            if "records" in r:
                n = r["records"]
            r.update(phase=name, target_rows=rows)
            out.append(r)
            print(json.dumps(r), file=sys.stderr, flush=True)
        for r in out:
            r["records"] = n
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return out


def bench_days(n_days: int, minutes: float, scale: float, root: Path, keep: bool) -> str:
    """A local-dask search over ``n_days`` synthetic MBP-1 days, with every day resident on every worker
    (``SORLIB_WORKER_DAYS`` = n) and with at most 2: seconds and each worker's peak RSS (MB)."""
    from dataclasses import replace

    from sorlib.backtest import BacktestConfig
    from sorlib.search import run_search
    from sorlib.search.executors import DaskExecutor, worker_info
    from sorlib.synth import ModelParams, generate_market
    from sorlib.synth.dbn import write_databento_dbn

    work = Path(tempfile.mkdtemp(prefix="bigdays-", dir=root))
    base = ModelParams()
    params = replace(base, book_rate=base.book_rate * scale, trade_rate=base.trade_rate * scale)
    lines = [f"{n_days} days x {minutes:g} min (scale {scale:g}) on local-dask, 2 workers:"]
    try:
        paths, records = [], 0
        for d in range(n_days):
            md = generate_market(venues=8, seed=d, minutes=minutes, date=f"2024-04-{1 + d % 28:02d}", params=params)
            records += len(md.quotes) + len(md.trades)
            paths.append(str(write_databento_dbn(md, work / f"day{d:02d}.dbn.zst")))
        os.environ["SORLIB_CACHE_DIR"] = str(work / "cache")
        cfg = BacktestConfig(order_size=5000, every_minutes=max(minutes / 4, 1.0), horizon_minutes=5.0)
        grid = {"lambda_over": [0.0, 0.05], "lambda_under": [0.0, 0.05], "theta_queue": [0.0]}
        for resident in (n_days, 2):
            os.environ["SORLIB_WORKER_DAYS"] = str(resident)
            ex = DaskExecutor("local-dask", workers=2)
            t0 = time.perf_counter()
            try:
                run_search(paths, grid=grid, config=cfg, scheduler=ex, progress=False, chunk_orders=4)
                infos = ex.call_everywhere(worker_info)
            finally:
                ex.close()
            rss = ", ".join(f"{i['peak_rss_mb']:,.0f}" for i in infos)
            lines.append(f"  SORLIB_WORKER_DAYS={resident:<3} {time.perf_counter() - t0:7.1f} s; worker peak RSS MB: {rss} "
                         f"({records:,} records in all)")
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return "\n".join(lines)


def table(rows: list[dict]) -> str:
    lines = [f"{'records':>11} {'phase':<9} {'seconds':>8} {'s / M rec':>9} {'peak RSS MB':>11} {'RSS B/rec':>9} "
             f"{'anon MB':>8} {'anon B/rec':>10} {'file MB':>8} {'file B/rec':>10}"]
    for r in rows:
        m = r["records"] / 1e6
        b = r.get("bytes")
        a = r.get("peak_anon_mb", float("nan"))
        lines.append(f"{r['records']:>11,} {r['phase']:<9} {r['seconds']:>8.2f} {r['seconds'] / m:>9.2f} "
                     f"{r['peak_rss_mb']:>11,.0f} {r['peak_rss_mb'] * 2**20 / r['records']:>9,.0f} "
                     f"{a:>8,.0f} {a * 2**20 / r['records']:>10,.0f} "
                     + (f"{b / 1e6:>8,.1f} {b / r['records']:>10,.1f}" if b else f"{'':>8} {'':>10}"))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=float, nargs="+", default=[1e6, 5e6])
    ap.add_argument("--dir", default=tempfile.gettempdir())
    ap.add_argument("--phases", nargs="+", default=["parse", "build", "cached", "backtest"],
                    choices=["parse", "build", "cached", "backtest", "search"],
                    help="phases after generating (search: a serial search, slow on big days)")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--days", type=int, default=0, metavar="N",
                    help="instead: a local-dask search over N synthetic days (--minutes each, --scale), workers' RSS")
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--scale", type=float, default=4.0)
    ap.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--file", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.phase:
        import sorlib

        out = _phase(a.phase, a.file, a.dir)
        out["sorlib"] = str(Path(sorlib.__file__).parent)
        print(json.dumps(out))
        return
    if a.days:
        print(bench_days(a.days, a.minutes, a.scale, Path(a.dir), a.keep))
        return
    results = []
    for rows in a.rows:
        results += bench(rows, Path(a.dir), a.phases, a.keep)
    print(table(results))


if __name__ == "__main__":
    main()
