"""Options and helpers shared by sub-commands."""

from __future__ import annotations

import argparse
import json
import tomllib
from pathlib import Path

from ..errors import ConfigError


def add_data_args(p: argparse.ArgumentParser, nargs: str = "?") -> None:
    p.add_argument("data", nargs=nargs, metavar="DATA",
                   help="market data file (Databento CSV/DBN, AlgoSeek zip, TAQ CSV); "
                        "default: the embedded synthetic day")
    p.add_argument("--format", default="auto", choices=["auto", "databento", "algoseek", "taq"],
                   help="input format (default: detected)")
    p.add_argument("--regular-hours", action="store_true",
                   help="keep only 09:30-16:00 New York time")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic day and bootstraps (default 0)")


def add_config_args(p: argparse.ArgumentParser, every: float | None, every_help: str) -> None:
    """The :class:`~sorlib.backtest.BacktestConfig` options shared by ``backtest`` and ``search``."""
    p.add_argument("--order-size", type=int, default=5000, help="parent order size, shares")
    p.add_argument("--venues", default=None, help="TOML file of venue profiles (fees in $/share)")
    p.add_argument("--mode", default="spec", choices=["spec", "uncapped", "ck"],
                   help="spec: the task's capped allocator; uncapped: excess rests at the bid; "
                        "ck: the Cont-Kukanov market + limit model")
    p.add_argument("--ck-horizon", type=float, default=30.0, metavar="SECONDS",
                   help="ck mode: decision horizon T (limit orders rest this long)")
    p.add_argument("--every", type=float, default=every, metavar="MINUTES", help=every_help)
    p.add_argument("--horizon", type=float, default=10.0, metavar="MINUTES",
                   help="time each parent order has before the clean-up")
    p.add_argument("--empty-policy", default="take_displayed",
                   choices=["wait", "take_displayed", "best_ask_fallback"],
                   help="what the router does when no split sums to the remainder")
    p.add_argument("--twap-bucket", type=float, default=60.0, metavar="SECONDS", help="TWAP/VWAP bucket length")
    p.add_argument("--vwap-weights", default="traded", choices=["traded", "displayed"],
                   help="VWAP venue weights: traded volume (lookback) or displayed size")
    p.add_argument("--rest-seconds", type=float, default=30.0,
                   help="uncapped mode: how long resting limit orders live before re-deciding")


def config_from_args(args: argparse.Namespace, **extra):
    """The :class:`~sorlib.backtest.BacktestConfig` of the options of :func:`add_config_args`."""
    from ..backtest import BacktestConfig

    return BacktestConfig(order_size=args.order_size, mode=args.mode, every_minutes=args.every,
                          horizon_minutes=args.horizon, empty_policy=args.empty_policy,
                          twap_bucket_seconds=args.twap_bucket, vwap_weights=args.vwap_weights,
                          rest_seconds=args.rest_seconds, ck_horizon_seconds=args.ck_horizon, seed=args.seed,
                          **extra)


def load_data(path: str | None, fmt: str = "auto", regular_hours: bool = False, seed: int = 0):
    """The market data at ``path``, or the embedded synthetic default day when ``path`` is None."""
    if path is None:
        from ..synth import default_market

        md = default_market(seed=seed)
    else:
        from ..data import load

        md = load(path, format=fmt)
    return md.regular_hours() if regular_hours else md


def read_grid(spec: str) -> str | dict:
    """A named grid or a TOML/JSON file ``{lambda_over = [...], lambda_under = [...], theta_queue = [...]}``."""
    if spec in ("penalty", "bps"):
        return spec
    p = Path(spec)
    if not p.is_file():
        raise ConfigError(f"--grid {spec!r}: not 'penalty', 'bps' or an existing TOML/JSON file")
    try:
        doc = json.loads(p.read_text()) if p.suffix == ".json" else tomllib.loads(p.read_text())
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{p}: cannot parse grid file: {e}") from None
    return doc.get("grid", doc)
