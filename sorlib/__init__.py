"""sorlib — a research workbook for smart order routing.

Load multi-venue market data (or generate the embedded synthetic day), route parent orders with the
Cont–Kukanov-style allocator or the full Cont–Kukanov model, compare with Best Ask, TWAP and VWAP,
search parameters (locally or on Dask) and render papermill reports.

The public API is re-exported here and imported on first use, so ``import sorlib`` stays cheap.
"""

from __future__ import annotations

import importlib

from ._numba import ensure_cache_dir
from .errors import ConfigError, DataError, SorlibError

ensure_cache_dir()  # before any numba kernel is decorated (a read-only install cannot cache next to us)

__version__ = "0.1.0"

_API = {
    # data
    "load": ".data", "MarketData": ".data", "Quotes": ".data", "Trades": ".data", "LoadReport": ".data",
    "venue_facts": ".data",
    # synthetic market
    "generate_market": ".synth", "default_market": ".synth", "write_databento_mbp1_csv": ".synth",
    # venues
    "VenueProfile": ".venues", "VenueTable": ".venues",
    # allocation
    "Venue": ".allocation", "compute_cost": ".allocation", "allocate": ".allocation",
    "allocate_exhaustive": ".allocation", "route_with_policy": ".allocation", "EmptySplitPolicy": ".allocation",
    # engine and strategies
    "Book": ".engine", "replay": ".engine", "ParentOrder": ".strategies", "Strategy": ".strategies",
    "Router": ".strategies", "BestAsk": ".strategies", "TWAP": ".strategies", "VWAP": ".strategies",
    # backtest
    "BacktestConfig": ".backtest", "run_backtest": ".backtest", "GRIDS": ".backtest",
    # parameter search
    "run_search": ".search",
    # Cont–Kukanov model
    "optimal_placement": ".ck", "single_venue_optimum": ".ck",
}

__all__ = ["ConfigError", "DataError", "SorlibError", "__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        value = getattr(importlib.import_module(_API[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sorlib' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
