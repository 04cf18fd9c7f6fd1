"""Benchmark: sorlib's replay against a peer, hftbacktest, on the same day.

Install the peer with ``pip install -e '.[bench]'`` (hftbacktest 2.4.4 declares ``numpy<2.3`` and pip downgrades
numpy; it runs on numpy 2.4, so ``pip install -U 'numpy>=2.4'`` afterwards restores the project's numpy).

Run: ``python benchmarks/bench_peer.py [--data LOBSTER.zip] [--repeats N]``. Both tools replay the LOBSTER AAPL
level-1 sample (2012-06-21, one venue), read once by :func:`sorlib.load`; hftbacktest gets the same quotes and
prints converted to its event array (``hftbacktest.types.event_dtype``): per quote row one depth event per side
whose touch changed (plus a size-0 event clearing the old price when the price moved), one trade event per
print. ``events`` below is that array's length; events/s = events / seconds of one run, so every line's rate
shares one denominator and "slower" is the ratio of seconds. Times are CPU seconds of this process (a shared
machine's other load does not inflate them; both tools run on one thread), the best of ``--repeats`` runs, the
tools taking turns. Numba kernels of both are compiled (or loaded from numba's cache) before timing. Lines:

* **take**: a 5,000-share buy every 5 minutes. hftbacktest: an IOC limit buy at the best ask every 5 minutes
  (``HashMapMarketDepthBacktest``, no latency, partial fills; its backtester build is not timed). sorlib:
  :class:`~sorlib.strategies.BestAsk` on parent orders of 5,000 shares every 5 minutes with a 5-minute window
  (it takes the touch at every quote update until done, carrying the liquidity it took across records; the
  clean-up buys the rest at the deadline) — a heavier job, not a lighter one. Best Ask declares its policy,
  so the engine runs its compiled decision loop (:mod:`sorlib.engine.touch`; tests/test_touch_fast.py pins
  the same fills as the generic loop).
* **take-py**: the same sorlib job through the generic loop (a Best Ask subclass, so a Python ``decide`` and
  view at every snapshot of the orders' windows): what any other strategy pays per decision. Same fills.
* **replay**: the day walked with no order taking anything. hftbacktest: ``elapse`` to the end (every event
  applied to its depth, no strategy callback; build not timed). sorlib keeps no mutable depth to apply events
  to: its event walk is the book build (:meth:`~sorlib.engine.Book.from_market`, every venue's record in force
  at every snapshot, compiled), so this line times that build plus a replay of one parent order spanning the
  day whose strategy sends nothing and asks to be woken at its deadline (the engine jumps there: no Python call
  per snapshot; nothing taken, nothing resting, so no per-event carry; the clean-up buys its 1 share).
* **watch**: a different workload, printed so it is not hidden: the same day-long order with a Python
  strategy called at every one of the day's snapshots (reads the touch, sends nothing): the per-decision
  floor of sorlib's generic loop (view, call, decision), against the same hftbacktest ``elapse``.

Also printed: each tool's load + book build (sorlib: ``sorlib.load`` — from the day cache after the first
load of the file; the first call in a process also imports the readers — and ``Book.from_market``, a second
build: the first in a process also loads numba's cached kernels; hftbacktest: the conversion and backtester
build) against the take replay.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

import sorlib
from sorlib.backtest import parent_orders
from sorlib.engine import Book, replay
from sorlib.strategies import BestAsk
from sorlib.strategies.base import Decision, ParentOrder, Strategy

DATA = Path(os.environ.get("SORLIB_REAL_DATA", "/work/shared/data/real")) / \
    "lobster_samples/LOBSTER_SampleFile_AAPL_2012-06-21_1.zip"
EVERY_NS = 300 * 10**9  # 5 minutes
SIZE = 5000


class Watch(Strategy):
    """Looks at every snapshot's view (touch ask and size) and sends nothing: the per-decision floor."""

    name = "watch"

    def decide(self, view):
        _ = float(view.ask_px[0, 0]), int(view.ask_avail[0, 0])
        return Decision.nothing(view.ask_px.shape[0])


class Sleep(Strategy):
    """Sends nothing and asks to be woken at the order's deadline: the engine walks the window without a call."""

    name = "sleep"

    def decide(self, view):
        return Decision.nothing(view.ask_px.shape[0], wake_ns=view.order.deadline_ns)


class PyBestAsk(BestAsk):
    """Best Ask through the engine's generic loop (``decide`` overridden with the same body: same fills)."""

    def decide(self, view):
        return self.route(view, view.remaining)


def hft_events(md) -> np.ndarray:
    """The quotes (touch) and prints of ``md`` as an hftbacktest event array, time order (module docstring)."""
    from hftbacktest.types import (
        BUY_EVENT,
        DEPTH_EVENT,
        EXCH_EVENT,
        LOCAL_EVENT,
        SELL_EVENT,
        TRADE_EVENT,
        event_dtype,
    )

    q, t = md.quotes, md.trades
    ts = np.asarray(q.ts, np.int64)
    parts = []
    for px, sz, flag in ((q.bid_px[:, 0], q.bid_sz[:, 0], BUY_EVENT), (q.ask_px[:, 0], q.ask_sz[:, 0], SELL_EVENT)):
        px = np.where(np.isfinite(px), px, 0.0)
        sz = np.where(px > 0, sz, 0).astype(float)
        prev_px, prev_sz = np.r_[0.0, px[:-1]], np.r_[0.0, sz[:-1]]
        moved = px != prev_px
        clear = moved & (prev_px > 0)  # the old touch price empties
        show = (moved | (sz != prev_sz)) & (px > 0)
        ev = EXCH_EVENT | LOCAL_EVENT | DEPTH_EVENT | flag
        parts.append((ts[clear], np.full(clear.sum(), ev, np.uint64), prev_px[clear], np.zeros(clear.sum()), 0))
        parts.append((ts[show], np.full(show.sum(), ev, np.uint64), px[show], sz[show], 1))
    side = np.where(t.side > 0, BUY_EVENT, SELL_EVENT).astype(np.uint64)
    parts.append((np.asarray(t.ts, np.int64), EXCH_EVENT | LOCAL_EVENT | TRADE_EVENT | side,
                  np.asarray(t.price, float), np.asarray(t.size, float), 2))
    n = sum(p[0].shape[0] for p in parts)
    out = np.zeros(n, event_dtype)
    tsa = np.concatenate([p[0] for p in parts])
    rank = np.concatenate([np.full(p[0].shape[0], p[4]) for p in parts])  # clears before shows at one time
    order = np.lexsort((rank, tsa))
    out["exch_ts"] = tsa[order]
    out["local_ts"] = tsa[order]
    out["ev"] = np.concatenate([p[1] for p in parts])[order]
    out["px"] = np.concatenate([p[2] for p in parts])[order]
    out["qty"] = np.concatenate([p[3] for p in parts])[order]
    return out


def hft_backtester(events: np.ndarray):
    from hftbacktest import BacktestAsset, HashMapMarketDepthBacktest

    asset = (BacktestAsset().data([events]).linear_asset(1.0).constant_order_latency(0, 0).risk_adverse_queue_model()
             .partial_fill_exchange().trading_value_fee_model(0.0, 0.0).tick_size(0.01).lot_size(1.0)
             .last_trades_capacity(0))
    return HashMapMarketDepthBacktest([asset])


def hft_kernels():
    """The two hftbacktest jobs as numba functions (hftbacktest strategies are njit functions)."""
    from hftbacktest.order import IOC, LIMIT
    from numba import njit

    @njit
    def take(hbt, every_ns, size, steps):
        oid = 0
        bought = 0.0
        for _ in range(steps):
            if hbt.elapse(every_ns) != 0:
                break
            ask = hbt.depth(0).best_ask
            if np.isfinite(ask) and ask > 0:
                oid += 1
                hbt.submit_buy_order(0, oid, ask, size, IOC, LIMIT, False)
            hbt.clear_inactive_orders(0)
        bought = hbt.position(0)
        hbt.close()
        return bought

    @njit
    def walk(hbt, span_ns):
        hbt.elapse(span_ns)
        hbt.close()
        return hbt.current_timestamp

    return take, walk


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    t0 = time.process_time()
    md = sorlib.load(args.data)
    t_load_first = time.process_time() - t0  # the first call in a process also imports the readers
    t0 = time.process_time()
    md = sorlib.load(args.data)
    t_load = time.process_time() - t0
    t0 = time.process_time()
    book = Book.from_market(md)
    t_book_cold = time.process_time() - t0  # includes loading the compiled kernels from numba's cache
    t0 = time.process_time()
    events = hft_events(md)
    t_conv = time.process_time() - t0
    n_ev = events.shape[0]
    start, end = int(book.times[0]), int(book.times[-1])
    span = end - start + 1
    steps = span // EVERY_NS + 1
    take_orders = parent_orders(book, SIZE, EVERY_NS / 60e9, EVERY_NS / 60e9)
    day = [ParentOrder(0, start, end + 1, 1)]

    take_k, walk_k = hft_kernels()
    take_k(hft_backtester(events[:2000]), EVERY_NS, float(SIZE), 2)  # compile
    walk_k(hft_backtester(events[:2000]), 10**9)
    for s in (BestAsk(), PyBestAsk()):
        replay(book, s, take_orders[:1])  # warm up sorlib's kernels
    hb_build = []
    parts = {}

    def hft(job):
        def run():
            t = time.process_time()
            hbt = hft_backtester(events)
            hb_build.append(time.process_time() - t)
            return take_k(hbt, EVERY_NS, float(SIZE), steps) if job == "take" else walk_k(hbt, span + EVERY_NS)
        return run

    def walk_day():
        t = time.process_time()
        b = Book.from_market(md)
        t_b = time.process_time() - t
        replay(b, Sleep(), day)
        parts.setdefault("build", []).append(t_b)
        parts.setdefault("sleep", []).append(time.process_time() - t - t_b)

    jobs = {"take": (hft("take"), lambda: replay(book, BestAsk(), take_orders)),
            "take-py": (hft("take"), lambda: replay(book, PyBestAsk(), take_orders)),
            "replay": (hft("replay"), walk_day),
            "watch": (hft("replay"), lambda: replay(book, Watch(), day))}
    res = {}
    for job, (fh, fs) in jobs.items():
        th, tsl = [], []
        for _ in range(args.repeats):
            t = time.process_time()
            fh()
            th.append(time.process_time() - t - hb_build[-1])
            t = time.process_time()
            fs()
            tsl.append(time.process_time() - t)
        res[job] = min(th), min(tsl)
    fa, fb = replay(book, BestAsk(), take_orders).fills, replay(book, PyBestAsk(), take_orders).fills
    same = all(np.array_equal(getattr(fa, c), getattr(fb, c)) for c in ("ts", "venue", "qty", "price", "kind"))

    print(f"{Path(args.data).name}: {len(md.quotes):,} quote rows, {len(md.trades):,} prints, "
          f"{len(book.times):,} snapshots, {n_ev:,} events, {len(take_orders)} orders of {SIZE:,} shares every 5 min")
    print(f"\n{'job':<9}{'hftbacktest ev/s':>18}{'sorlib ev/s':>15}{'sorlib slower':>15}   sorlib runs")
    what = {"take": "Best Ask, compiled touch loop", "take-py": "Best Ask, generic loop (Python decide per "
            "snapshot; same fills: " + ("yes" if same else "NO") + ")",
            "replay": f"book build {min(parts['build']):.3f} s + day walk, no call per snapshot "
                      f"{min(parts['sleep']):.4f} s",
            "watch": f"different workload: a Python call at each of {len(book.times):,} snapshots"}
    for job, (th, tsl) in res.items():
        print(f"{job:<9}{n_ev / th:>18,.0f}{n_ev / tsl:>15,.0f}{tsl / th:>14.2f}x   {what[job]}")
    hb = min(hb_build)
    t_build = min(parts["build"])
    print(f"\nload + book build: sorlib {t_load:.4f} + {t_build:.4f} s = {t_load + t_build:.4f} s (first load in the "
          f"process {t_load_first:.2f} s, first build {t_book_cold:.2f} s) vs take replay {res['take'][1]:.4f} s "
          f"(generic loop {res['take-py'][1]:.3f} s): {'met' if t_load + t_build <= res['take'][1] else 'NOT met'}; "
          f"hftbacktest conversion {t_conv:.2f} s + build {hb:.4f} s vs take {res['take'][0]:.4f} s")


if __name__ == "__main__":
    main()
