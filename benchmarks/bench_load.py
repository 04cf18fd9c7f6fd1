"""Benchmark: sorlib's Databento MBP-1 CSV loader against a bare ``pyarrow.csv.read_csv`` of the same file.

Generates (numpy, seeded) a multi-publisher MBP-1 CSV with pretty prices and ISO-8601 ns timestamps in a
temporary directory, then times both readers (best of ``--repeat`` runs). Target: ratio <= 2.

    python benchmarks/bench_load.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
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
