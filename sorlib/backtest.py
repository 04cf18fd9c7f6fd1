"""One backtest: parent orders, the router over a parameter grid, the three baselines, metrics.

This is what ``sorlib backtest`` runs and what the notebooks call.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .data.market import NS_PER_SECOND, MarketData
from .engine.book import Book
from .engine.replay import Execution, replay
from .errors import ConfigError
from .metrics import order_table, savings_bps, summary
from .strategies import TWAP, VWAP, BestAsk, ContKukanov, ParentOrder, Router, Strategy
from .venues import VenueTable

#: DESIGN §8. Values in $/share.
GRIDS: dict[str, dict[str, list[float]]] = {
    "penalty": {"lambda_over": [2.0, 5.0, 10.0], "lambda_under": [0.01, 0.05, 0.1],
                "theta_queue": [0.01, 0.05, 0.1]},
    "bps": {"lambda_over": [0.0005, 0.001, 0.002], "lambda_under": [0.0005, 0.001, 0.002],
            "theta_queue": [0.00005, 0.0001, 0.0002]},
}
PARAMS = ("lambda_over", "lambda_under", "theta_queue")


def grid_points(grid: str | dict) -> list[dict[str, float]]:
    """The combinations of a named grid (``"penalty"``, ``"bps"``) or of ``{param: [values]}``."""
    if isinstance(grid, str):
        if grid not in GRIDS:
            raise ConfigError(f"unknown grid {grid!r}: use one of {sorted(GRIDS)} or a file")
        grid = GRIDS[grid]
    missing = [p for p in PARAMS if p not in grid]
    if missing:
        raise ConfigError(f"grid lacks {missing}; give lists for {list(PARAMS)} ($/share)")
    for p in PARAMS:
        vals = grid[p]
        if not isinstance(vals, list | tuple) or not vals or any(
                isinstance(v, bool) or not isinstance(v, int | float) or v < 0 for v in vals):
            raise ConfigError(f"grid '{p}' must be a non-empty list of numbers >= 0 ($/share), got {vals!r}")
    return [dict(zip(PARAMS, combo, strict=True)) for combo in itertools.product(*(grid[p] for p in PARAMS))]


@dataclass
class BacktestConfig:
    """Settings of one backtest. Sizes in shares, times in minutes (from data start when relative)."""

    order_size: int = 5000
    mode: str = "spec"
    grid: str | dict = "penalty"
    every_minutes: float | None = None  # None: one parent order at the data start
    horizon_minutes: float = 10.0
    empty_policy: str = "take_displayed"
    step: int = 100
    twap_bucket_seconds: float = 60.0
    vwap_weights: str = "traded"
    rest_seconds: float = 30.0
    ck_horizon_seconds: float = 30.0
    seed: int = 0
    extra: dict = field(default_factory=dict)

    def validate(self) -> None:
        if not (isinstance(self.order_size, int | np.integer) and self.order_size > 0):
            raise ConfigError(f"order size must be a whole number of shares > 0, got {self.order_size}")
        if self.mode not in ("spec", "uncapped", "ck"):
            raise ConfigError(f"mode must be 'spec', 'uncapped' or 'ck', got {self.mode!r}")
        if self.every_minutes is not None and not self.every_minutes > 0:
            raise ConfigError(f"--every must be > 0 minutes, got {self.every_minutes}")
        if not self.horizon_minutes > 0:
            raise ConfigError(f"horizon must be > 0 minutes, got {self.horizon_minutes}")


def parent_orders(book: Book, size: int, every_minutes: float | None = None, horizon_minutes: float = 10.0,
                  arrivals_ns: list[int] | None = None) -> list[ParentOrder]:
    """Parent orders over the book's time span.

    By default one order arriving at the first snapshot at which every venue has quoted; with
    ``every_minutes`` one order every N minutes from then on whose window fits in the data; or explicit
    ``arrivals_ns``. Each order must be done within ``horizon_minutes`` (capped at the data's end).
    """
    if book.times.shape[0] == 0:
        raise ConfigError("the data has no quotes to route against")
    t0 = int(book.times[book.first_full_index])
    t_end = int(book.times[-1]) + 1
    horizon = int(round(horizon_minutes * 60 * NS_PER_SECOND))
    if arrivals_ns is None:
        if every_minutes is None:
            arrivals_ns = [t0]
        else:
            every = int(round(every_minutes * 60 * NS_PER_SECOND))
            arrivals_ns = list(range(t0, t_end - horizon + 1, every)) or [t0]
    return [ParentOrder(i, int(a), min(int(a) + horizon, t_end), int(size)) for i, a in enumerate(arrivals_ns)]


def baselines(cfg: BacktestConfig) -> dict[str, Strategy]:
    return {"best_ask": BestAsk(), "twap": TWAP(cfg.twap_bucket_seconds),
            "vwap": VWAP(cfg.vwap_weights, cfg.twap_bucket_seconds)}


def router_for(cfg: BacktestConfig, params: dict[str, float]) -> Strategy:
    """The router of ``cfg.mode`` with one grid point's parameters ($/share)."""
    if cfg.mode == "ck":
        return ContKukanov(**params, horizon_seconds=cfg.ck_horizon_seconds, seed=cfg.seed)
    return Router(**params, mode=cfg.mode, step=cfg.step, empty_policy=cfg.empty_policy,
                  rest_seconds=cfg.rest_seconds)


@dataclass
class BacktestResult:
    """Everything a backtest produced: the results JSON (``results``), the grid table and executions."""

    results: dict
    grid: pd.DataFrame
    router: Execution
    baselines: dict[str, Execution]


def run_backtest(data: MarketData | Book, cfg: BacktestConfig | None = None,
                 venue_table: VenueTable | None = None, progress: bool = False) -> BacktestResult:
    """Run the router over the grid and the baselines on the same parent orders; see :mod:`sorlib.metrics`."""
    cfg = cfg or BacktestConfig()
    cfg.validate()
    book = data if isinstance(data, Book) else Book.from_market(data, venue_table)
    orders = parent_orders(book, cfg.order_size, cfg.every_minutes, cfg.horizon_minutes)
    points = grid_points(cfg.grid)
    rows, executions = [], []
    it = points
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(points, desc="grid", unit="combo")
    for p in it:
        ex = replay(book, router_for(cfg, p), orders)
        executions.append(ex)
        s = summary(ex)
        rows.append({**p, **{k: v for k, v in s.items() if k != "venue_shares"}})
    grid = pd.DataFrame(rows)
    best_i = int(np.argmin(grid["total_cash"].to_numpy()))  # first of ties in grid order
    best_cash = grid["total_cash"].iloc[best_i]
    ties = int(np.isclose(grid["total_cash"].to_numpy(), best_cash, rtol=0, atol=1e-6).sum())
    router_ex = executions[best_i]
    base_ex = {name: replay(book, strat, orders) for name, strat in baselines(cfg).items()}
    opt = summary(router_ex)
    results = {
        "best_parameters": {k: float(grid[k].iloc[best_i]) for k in PARAMS},
        "optimized": opt,
        "baselines": {n: summary(e) for n, e in base_ex.items()},
        "savings_vs_baselines_bps": {},
        "savings_intervals": {},
        "grid_ties": ties,
        "parent_orders": len(orders),
        "config": {k: v for k, v in asdict(cfg).items() if k != "extra"},
        "grid": grid.to_dict(orient="records"),
    }
    for n, e in base_ex.items():
        s = savings_bps(router_ex, e, seed=cfg.seed)
        results["savings_vs_baselines_bps"][n] = s["bps"]
        results["savings_intervals"][n] = s
    return BacktestResult(results=results, grid=grid, router=router_ex, baselines=base_ex)


def orders_frame(result: BacktestResult) -> pd.DataFrame:
    """Per-order table of every strategy (router first), with a ``strategy`` column."""
    frames = [order_table(result.router).assign(strategy="router")]
    frames += [order_table(e).assign(strategy=n) for n, e in result.baselines.items()]
    return pd.concat(frames, ignore_index=True)
