"""Benchmark: server-side time of arrow-key slider moves of notebooks 02, 03 and 04's panels, no browser.

Run: ``python benchmarks/bench_server_sliders.py [--notebooks 02 03 04] [--moves 10] [--gap 0 0.3] [--load]``.

Builds each notebook's live panel the way the notebook does, on the default synthetic day (seed 0): 02 —
:class:`sorlib.whatif.WhatIf` on the book, one parent order every 30 minutes, opened at the headline's
mode and parameters (spec; λ_o 2, λ_u 0.01, θ 0.01 USD/share: ``run_backtest`` with the penalty grid,
computed here); 03 — the same sample opened at the cheapest search's mode and point (uncapped; λ_o 0,
λ_u 0.005, θ 0: computed here with the notebook's grids); 04 — :class:`sorlib.whatif.CKExplorer` with the
fast solver at S 1,000 shares, T 30 s, λ_u 0.05, λ_o 0.05, θ 0.0005 USD/share. Then, as
``bench_browser_sliders`` does (for 02/03 in each router mode, switched through the panel's toggle, modes in
toggle order), every live slider gets ``--moves`` one-stop moves set through the panel's own control (what
a key press does in the browser), turning back at the end of the track, with ``--gap`` seconds idle before
each move (0: back to back, the prefetcher never gets to run; 0.3: about three key presses a second). It
prints p50 / p95 / max of the panel's own timing of each move (``last_ms``: the "recomputed in … ms" of the
status line), the CPU time of the thread that handled the move (``time.thread_time``: what the move costs
without the machine's other load, background replays excluded) and, for 02/03, how many moves found their
point replayed already (while idle).
Nothing is drawn: the live widgets have no front end (the JSON of the changed figures is still built).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _cpu_load import cpu_load, load_text

from sorlib.engine import Book
from sorlib.whatif import MODES, CKExplorer, WhatIf

TARGET_MS = 60.0


def _headline_02(md, book) -> dict:
    from sorlib.backtest import BacktestConfig, run_backtest
    cfg = BacktestConfig(order_size=5000, mode="spec", grid="penalty", every_minutes=5.0, horizon_minutes=10.0,
                         market="frozen", seed=0)
    return dict(run_backtest(book, cfg).results["best_parameters"])


def _headline_03(md) -> tuple[str, dict]:
    from sorlib.backtest import BacktestConfig
    from sorlib.search import run_search
    grids = {"penalty": "penalty", "bps": "bps",
             "custom": {"lambda_over": [0.0, 5.0], "lambda_under": [0.0005, 0.002, 0.005, 0.01, 0.02, 0.05],
                        "theta_queue": [0.0, 0.005, 0.02]}}
    summaries = {}
    for g, grid in grids.items():
        for mode in ("spec", "uncapped"):
            cfg = BacktestConfig(order_size=5000, mode=mode, every_minutes=30.0, horizon_minutes=10.0,
                                 market="frozen", seed=0)
            summaries[(g, mode)] = run_search([md], grid=grid, config=cfg, scheduler="serial", progress=False,
                                              seed=0).summary
    best = min(summaries, key=lambda k: summaries[k]["optimized"]["total_cash"])
    return best[1], dict(summaries[best]["best_parameters"])


def _next_value(c, sign: int):
    """The value one arrow key moves control ``c`` to (``sign`` +1: right), None past the track's end."""
    kind = type(c).__name__
    if kind == "SelectionSlider":
        vals = [v for _, v in c.options] if isinstance(c.options[0], tuple) else list(c.options)
        i = vals.index(c.value) + sign
        return vals[i] if 0 <= i < len(vals) else None
    if kind == "FloatLogSlider":
        e = np.log10(max(float(c.value), 10 ** c.min))
        e = c.min + round((e + sign * c.step - c.min) / c.step) * c.step
        return float(f"{10 ** e:.9g}") if c.min - 1e-9 <= e <= c.max + 1e-9 else None
    v = c.value + sign * c.step
    v = round(v / c.step) * c.step if kind == "FloatSlider" else v
    return v if c.min - 1e-12 <= v <= c.max + 1e-12 else None


def _line(label: str, name: str, ms: list[float], cpu: list[float], extra: str = "") -> dict:
    p50, p95 = np.percentile(ms, [50, 95])
    c50, c95 = np.percentile(cpu, [50, 95])
    print(f"  {label:12s} {name:14s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  max {max(ms):6.1f} ms | CPU p50 {c50:5.1f} "
          f"p95 {c95:5.1f} ms{extra}  -> {'under' if p95 <= TARGET_MS else 'OVER'} {TARGET_MS:.0f} ms", flush=True)
    return {"panel": label, "slider": name, "p50": p50, "p95": p95, "max": max(ms), "cpu_p50": c50, "cpu_p95": c95}


def _keys(label: str, panel, controls: dict, names: list[str], moves: int, gap_s: float, rows: list,
          ready=None) -> None:
    for name in names:
        c = controls[name]
        if getattr(c, "disabled", False):
            continue
        ms, cpu, hits, sign = [], [], 0, +1
        for _ in range(moves):
            nxt = _next_value(c, sign)
            if nxt is None:
                sign = -sign
                nxt = _next_value(c, sign)
            time.sleep(gap_s)
            if ready is not None:
                hits += ready(name, nxt)
            t = time.thread_time()
            c.value = nxt
            cpu.append((time.thread_time() - t) * 1e3)
            ms.append(panel.last_ms)
        rows.append(_line(label, name, ms, cpu, f"  ({hits}/{moves} ready)" if ready is not None else ""))


def comparison(nb: str, md, book, moves: int, gap_s: float, rows: list, start) -> None:
    mode, params = start
    t = time.perf_counter()
    view = WhatIf(book, order_size=5000, every_minutes=30.0, horizon_minutes=10.0, venue_names=md.venue_names,
                  seed=0, mode=mode, params=dict(params))  # the panel updates its params in place
    view.widget()
    print(f"{nb}: panel built in {time.perf_counter() - t:.1f} s at {mode} {params}; {view.describe()}", flush=True)
    for m in MODES:
        if view.mode != m:
            view.controls["mode"].value = m
        _keys(f"{nb} {m}", view, view.controls, ["lambda_over", "lambda_under", "theta_queue", "order_size"],
              moves, gap_s, rows, lambda name, v: view._will_hit({name: v}))
    view._prefetcher.preempt()


def placement(md, book, moves: int, gap_s: float, rows: list) -> None:
    t = time.perf_counter()
    ck = CKExplorer(md, S=1000, T_seconds=30.0, lambda_u=0.05, lambda_o=0.05, theta=0.0005, n_samples=60,
                    method="fast", seed=0, book=book)
    ck.widget()
    print(f"04: panel built in {time.perf_counter() - t:.1f} s; {ck.describe()}", flush=True)
    _keys("04", ck, ck.controls, list(ck.controls), moves, gap_s, rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notebooks", nargs="+", default=["02", "03", "04"], choices=["02", "03", "04"])
    ap.add_argument("--moves", type=int, default=10, help="arrow-key moves per slider (and mode)")
    ap.add_argument("--gap", type=float, nargs="+", default=[0.0, 0.3], help="idle seconds before each move")
    ap.add_argument("--load", action="store_true", help="run one extra CPU-bound process the whole time")
    args = ap.parse_args()
    from sorlib.report import load_market
    md = load_market(None, seed=0, synth_minutes=None, regular_hours="auto")
    book = Book.from_market(md)
    starts = {}
    if "02" in args.notebooks:
        starts["02"] = ("spec", _headline_02(md, book))
    if "03" in args.notebooks:
        starts["03"] = _headline_03(md)
    worst = 0.0
    with cpu_load(args.load) as load:
        print(load, flush=True)
        for gap in args.gap:
            print(f"--- {gap:.2f} s idle before each move", flush=True)
            rows: list = []
            for nb in args.notebooks:
                if nb == "04":
                    placement(md, book, args.moves, gap, rows)
                else:
                    comparison(nb, md, book, args.moves, gap, rows, starts[nb])
            worst = max([worst, *(r["p95"] for r in rows)])
        print(f"at the end: {load_text()}")
    print(f"worst p95 {worst:.1f} ms -> {'under' if worst <= TARGET_MS else 'OVER'} {TARGET_MS:.0f} ms")
    return 0 if worst <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
