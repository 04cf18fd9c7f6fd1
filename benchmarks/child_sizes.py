"""Does the router favour fewer, larger trades? Child orders per parent order and mean child size (shares)
for the router and the baselines on the default synthetic day, without and with sizing rules.

A child order = one non-zero market or limit quantity of one decision on one venue (the deadline clean-up is
counted apart). Run: ``.venv/bin/python benchmarks/child_sizes.py``."""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np

from sorlib.backtest import BacktestConfig, baselines, order_schedule, router_for
from sorlib.engine import Book, replay
from sorlib.engine.replay import KIND_CLEANUP
from sorlib.strategies import Strategy
from sorlib.synth import default_market


class Recorder(Strategy):
    """Delegates to ``inner`` and records every child order (order id, t, venue position, qty)."""

    def __init__(self, inner: Strategy) -> None:
        self.inner, self.name = inner, inner.name
        self.interval_ns, self.overbooks = inner.interval_ns, inner.overbooks
        self.children: list[tuple[int, int, int, int]] = []

    def begin(self, view):
        self.inner.begin(view)

    def decide(self, view):
        d = self.inner.decide(view)
        self.interval_ns = self.inner.interval_ns
        for arr in (d.market, d.limit):
            if arr is not None:
                for i in np.flatnonzero(np.asarray(arr) > 0):
                    self.children.append((view.order.order_id, view.t_ns, int(i), int(arr[i])))
        return d

    def params(self):
        return self.inner.params()


def run(cfg: BacktestConfig, book: Book) -> dict[str, tuple[float, float, float, float]]:
    orders, _ = order_schedule(book, cfg.order_size, cfg.every_minutes, cfg.horizon_minutes)
    strategies = {"router": router_for(cfg, {"lambda_over": 5.0, "lambda_under": 0.05, "theta_queue": 0.05},
                                       book.profiles), **baselines(cfg, book.profiles)}
    out = {}
    for name, s in strategies.items():
        rec = Recorder(s)
        ex = replay(book, rec, orders)
        q = np.array([c[3] for c in rec.children])
        cleanup = ex.fills.qty[ex.fills.kind == KIND_CLEANUP].sum()
        cash = float(ex.fills.cash.sum())
        out[name] = (len(q) / len(orders), float(q.mean()) if len(q) else 0.0,
                     float(cleanup) / len(orders), cash / (len(orders) * cfg.order_size))
    return out


if __name__ == "__main__":
    book = Book.from_market(default_market(seed=0))
    base = BacktestConfig(every_minutes=float(sys.argv[1]) if len(sys.argv) > 1 else 30.0, horizon_minutes=10.0)
    rows = [("none", base), ("max child 500", replace(base, max_child=500)),
            ("10% participation (60 s)", replace(base, participation_pct=10.0)),
            ("max child 500 + 10% participation", replace(base, max_child=500, participation_pct=10.0))]
    print("| rules | strategy | child orders / parent | mean child size (shares) | clean-up shares / parent |"
          " avg price $/share |")
    print("|---|---|---|---|---|---|")
    for label, cfg in rows:
        for name, (n, m, c, px) in run(cfg, book).items():
            print(f"| {label} | {name} | {n:.1f} | {m:.0f} | {c:.0f} | {px:.4f} |", flush=True)
