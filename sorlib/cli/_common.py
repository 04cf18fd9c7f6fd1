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
