"""Benchmark: sorlib's Databento MBP-1 CSV loader against a bare ``pyarrow.csv.read_csv`` of the same file.

Generates (numpy, seeded) a multi-publisher MBP-1 CSV with pretty prices and ISO-8601 ns timestamps in a
temporary directory, then times both readers (best of ``--repeat`` runs). Target: ratio <= 2.

    python benchmarks/bench_load.py [--rows 1000000] [--repeat 3]

``--csv-build ROWS [ROWS ...]``: instead, the streamed day-cache build of a Databento **MBP-10 CSV**
(:mod:`sorlib.data.csv_stream`) at each size. Per size, each step in a fresh Python process: generate an
8-venue synthetic day with ``sorlib synth``'s rate scale (``scale = ROWS / 220,000``) written as a zstd MBP-10
DBN file (:mod:`sorlib.synth.dbn`: synthetic depth behind the touch), transcode it to a zstd-compressed pretty
CSV (ISO times, decimal prices) with the ``databento`` package's own writer (``DBNStore.to_csv``, the DBN is
then deleted), then ``load(csv)`` into an empty cache folder (``SORLIB_CACHE_DIR``) — it must report a streamed
build. Printed per size: rows, zstd CSV bytes, seconds (wall and CPU), wall seconds per M rows, peak
anonymous RSS (``/proc/self/status`` ``RssAnon`` sampled every 20 ms: the memory the build cannot give back;
``ru_maxrss`` also counts the mapped cache pages) and cache entry bytes. ``--whole`` also times the whole-file
parse (``load(csv, cache=False)``) of each size for comparison (its memory grows with the file: mind the
machine). Files are written under ``--dir`` and deleted afterwards.

    python benchmarks/bench_load.py --csv-build 1.5e6 4.5e6 [--whole] [--dir /tmp]
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
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv

HEADER = ("ts_recv,ts_event,rtype,publisher_id,instrument_id,action,side,depth,price,size,flags,ts_in_delta,"
          "sequence,bid_px_00,ask_px_00,bid_sz_00,ask_sz_00,bid_ct_00,ask_ct_00,symbol")


def make_csv(path: Path, rows: int, seed: int = 7) -> None:
    """Write a deterministic MBP-1 CSV with ``rows`` records from 4 publishers (vectorised with pyarrow)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(seed)
    t0 = np.datetime64("2024-08-01T13:30:00", "ns").astype(np.int64)
    ts_event = t0 + np.cumsum(rng.integers(1, 50_000, rows))
    ts_recv = ts_event + rng.integers(1_000, 200_000, rows)
    by_recv = np.argsort(ts_recv, kind="stable")  # Databento files are in ts_recv order
    ts_event, ts_recv = ts_event[by_recv], ts_recv[by_recv]
    pub = rng.choice(np.array([2, 39, 40, 42]), rows)
    mid_c = 22_250 + np.cumsum(rng.integers(-1, 2, rows))  # cents
    half = rng.integers(1, 3, rows)
    bid, ask = (mid_c - half) / 100, (mid_c + half) / 100
    action = rng.choice(np.array(list("AACMT")), rows)
    side = rng.choice(np.array(list("AB")), rows)
    price = np.where(side == "B", bid, ask)

    def iso(ns: np.ndarray) -> pa.Array:  # 2024-08-01T13:36:32.491911683Z
        return pc.strftime(pa.array(ns, pa.timestamp("ns")), format="%Y-%m-%dT%H:%M:%SZ")

    def txt(a) -> pa.Array:
        return pc.cast(pa.array(a), pa.string())

    cols = [iso(ts_recv), iso(ts_event), txt(np.ones(rows, int)), txt(pub), txt(np.full(rows, 38)),
            pa.array(action), pa.array(side), txt(np.zeros(rows, int)), txt(price),
            txt(rng.integers(1, 500, rows)), txt(np.full(rows, 130)), txt(rng.integers(1_000, 200_000, rows)),
            txt(np.arange(rows)), txt(bid), txt(ask), txt(rng.integers(1, 2000, rows)),
            txt(rng.integers(1, 2000, rows)), txt(rng.integers(1, 9, rows)), txt(rng.integers(1, 9, rows)),
            pa.array(np.full(rows, "AAPL"))]
    lines = pc.binary_join_element_wise(*cols, ",")
    with open(path, "wb") as f:
        f.write((HEADER + "\n").encode())
        step = 250_000
        for i in range(0, rows, step):
            f.write(("\n".join(lines[i:i + step].to_pylist()) + "\n").encode())


def best_time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


ROWS_PER_SCALE = 220_000  # records of an 8-venue synthetic day per unit of rate scale (sorlib synth --scale)


def _anon_mb() -> float:
    """This process's anonymous RSS now (MB; /proc/self/status ``RssAnon``)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _step(name: str, file: str) -> dict:
    """One step of ``--csv-build`` in this process (module docstring): ``gen`` writes ``file`` + ``.dbn.zst``
    then the CSV ``file``; ``build`` / ``whole`` load it. Returns its facts."""
    out: dict = {}
    peak, stop = [_anon_mb()], threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            peak[0] = max(peak[0], _anon_mb())

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0, c0 = time.perf_counter(), time.process_time()
    if name == "gen":
        from dataclasses import replace

        import databento as db

        from sorlib.synth import ModelParams, generate_market
        from sorlib.synth.dbn import write_databento_dbn

        scale = float(os.environ["BENCH_ROWS"]) / ROWS_PER_SCALE
        base = ModelParams()
        md = generate_market(venues=8, seed=0, params=replace(base, book_rate=base.book_rate * scale,
                                                               trade_rate=base.trade_rate * scale))
        dbn = Path(file).with_suffix("").with_suffix(".dbn.zst")  # day.mbp-10.csv.zst -> day.mbp-10.dbn.zst
        write_databento_dbn(md, dbn, levels=10)
        del md
        db.DBNStore.from_file(str(dbn)).to_csv(file, pretty_px=True, pretty_ts=True, map_symbols=False,
                                               compression="zstd")
        dbn.unlink()
    else:
        from sorlib.data import load

        md = load(file, cache=name == "build", progress=False)
        out.update(records=md.report.rows_read, quote_rows=len(md.quotes), trades=len(md.trades),
                   levels=int(md.quotes.ask_px.shape[1]), cache=md.report.cache)
    out["seconds"] = time.perf_counter() - t0
    out["cpu_seconds"] = time.process_time() - c0
    stop.set()
    th.join()
    out["peak_anon_mb"] = max(peak[0], _anon_mb())
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _run_step(name: str, file: Path, work: Path, rows: float) -> dict:
    env = dict(os.environ, SORLIB_CACHE_DIR=str(work / "cache"), BENCH_ROWS=str(rows))
    p = subprocess.run([sys.executable, __file__, "--step", name, "--file", str(file)], env=env,
                       capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(f"step {name} failed:\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def csv_build(sizes: list[float], root: str | None, whole: bool) -> None:
    """``--csv-build`` (module docstring): one line per size and step."""
    for rows in sizes:
        work = Path(tempfile.mkdtemp(prefix="csvbuild-", dir=root))
        file = work / "day.mbp-10.csv.zst"
        try:
            _run_step("gen", file, work, rows)
            zst = file.stat().st_size
            steps = ["build"] + (["whole"] if whole else [])
            for name in steps:
                shutil.rmtree(work / "cache", ignore_errors=True)
                r = _run_step(name, file, work, rows)
                n = r["records"]
                entry = sum(f.stat().st_size for f in (work / "cache").glob("*")) if name == "build" else 0
                if name == "build" and "streamed" not in r["cache"]:
                    raise SystemExit(f"the build did not stream: {r['cache']}")
                print(f"{name:<6} {n:>11,} rows (MBP-{r['levels']}, {r['quote_rows']:,} quote rows, {r['trades']:,} "
                      f"trades), CSV {zst / 1e6:,.0f} MB zstd: {r['seconds']:.1f} s wall, {r['cpu_seconds']:.1f} s "
                      f"CPU ({r['seconds'] / n * 1e6:.2f} s per M rows), peak anonymous {r['peak_anon_mb']:,.0f} MB "
                      f"({r['peak_anon_mb'] * 2**20 / n:,.0f} B/row), ru_maxrss {r['peak_rss_mb']:,.0f} MB"
                      + (f", entry {entry / 1e6:,.0f} MB; {r['cache']}" if entry else ""), flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--csv-build", type=float, nargs="+", metavar="ROWS",
                    help="the streamed day-cache build of an MBP-10 CSV of about ROWS rows (module docstring)")
    ap.add_argument("--whole", action="store_true", help="with --csv-build: also the whole-file parse")
    ap.add_argument("--dir", default=None, help="with --csv-build: where the files go (default: the temp dir)")
    ap.add_argument("--step", choices=["gen", "build", "whole"], help=argparse.SUPPRESS)
    ap.add_argument("--file", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.step:
        print(json.dumps(_step(args.step, args.file)))
        return 0
    if args.csv_build:
        csv_build(args.csv_build, args.dir, args.whole)
        return 0
    from sorlib.data import load

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mbp1.csv"
        t = time.perf_counter()
        make_csv(path, args.rows)
        print(f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s")
        load(path)  # warm-up (imports)
        t_pa = best_time(lambda: pacsv.read_csv(path), args.repeat)
        t_sor = best_time(lambda: load(path), args.repeat)
        md = load(path)
        print(f"pyarrow.csv.read_csv : {t_pa:.3f} s")
        print(f"sorlib.data.load     : {t_sor:.3f} s  ({len(md.quotes):,} quote rows, {len(md.trades):,} trades, "
              f"repairs {md.report.repairs})")
        print(f"ratio                : {t_sor / t_pa:.2f}x (target <= 2x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
