"""The default synthetic day, generated once and cached as a compressed ``.npz``.

Cache directory: the ``cache_dir`` argument, else ``$SORLIB_CACHE``, else ``<repo>/data/.cache`` (next to
the package when it runs from a checkout; ``~/.cache/sorlib`` for an installed package).  The file name
hashes the generator's options, its :class:`~.calibration.ModelParams` and :data:`MODEL_VERSION`, so a
model change never serves a stale day.  Writes are atomic; an unreadable cache file is regenerated.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from .._io import atomic_write_bytes
from ..data.market import LoadReport, MarketData, Quotes, Trades
from .calibration import MODEL_VERSION, ModelParams

_ARRAYS = ("q_ts", "q_venue", "q_bid_px", "q_bid_sz", "q_ask_px", "q_ask_sz",
           "t_ts", "t_venue", "t_price", "t_size", "t_side")


def default_cache_dir() -> Path:
    """``$SORLIB_CACHE``, else ``<repo>/data/.cache`` for a checkout, else ``~/.cache/sorlib``."""
    env = os.environ.get("SORLIB_CACHE")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").is_file():
        return repo / "data" / ".cache"
    return Path.home() / ".cache" / "sorlib"


def cache_key(**options) -> str:
    """A short hash of the generator options, the model parameters and :data:`MODEL_VERSION`."""
    params = options.pop("params", None) or ModelParams()
    text = json.dumps({"v": MODEL_VERSION, "opts": sorted(options.items()), "params": repr(params.key())},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _save(md: MarketData, path: Path) -> None:
    q, t = md.quotes, md.trades
    arrays = dict(q_ts=q.ts, q_venue=q.venue, q_bid_px=q.bid_px, q_bid_sz=q.bid_sz, q_ask_px=q.ask_px,
                  q_ask_sz=q.ask_sz, t_ts=t.ts, t_venue=t.venue, t_price=t.price, t_size=t.size,
                  t_side=t.side)
    meta = {"report": md.report.to_dict(), "venue_names": {str(k): v for k, v in md.venue_names.items()},
            "symbol": md.symbol, "tz": md.tz}
    buf = io.BytesIO()
    np.savez_compressed(buf, meta=np.array(json.dumps(meta)), **arrays)
    atomic_write_bytes(path, buf.getvalue())


def _load(path: Path) -> MarketData:
    with np.load(path, allow_pickle=False) as z:
        a = {k: z[k] for k in _ARRAYS}
        meta = json.loads(str(z["meta"]))
    r = meta["report"]
    report = LoadReport(source=r["source"], format=r["format"], rows_read=r["rows_read"],
                        quote_rows=r["quote_rows"], trade_rows=r["trade_rows"], repairs=dict(r["repairs"]),
                        notes=list(r["notes"]) + [f"read from cache {path.name}"])
    quotes = Quotes(a["q_ts"], a["q_venue"], a["q_bid_px"], a["q_bid_sz"], a["q_ask_px"], a["q_ask_sz"])
    trades = Trades(a["t_ts"], a["t_venue"], a["t_price"], a["t_size"], a["t_side"])
    return MarketData(quotes, trades, report, venue_names={int(k): v for k, v in meta["venue_names"].items()},
                      symbol=meta["symbol"], tz=meta["tz"])


def default_market(seed: int = 0, venues: int = 5, cache_dir: str | Path | None = None, *,
                   start: str = "09:30", minutes: float = 390, date: str = "2024-03-15",
                   symbol: str = "SYNT", params: ModelParams | None = None) -> MarketData:
    """The default synthetic day (:func:`~.model.generate_market` with these options), cached on disk.

    The first call generates (~0.1 s, plus ~1 s of numba start-up in a fresh process) and writes
    ``<cache_dir>/synth-<key>.npz`` (~1.5 MB); later calls read it back (~40 ms, no numba import).
    """
    options = dict(seed=int(seed), venues=int(venues), start=start, minutes=float(minutes), date=date,
                   symbol=symbol)
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = directory / f"synth-{cache_key(params=params, **options)}.npz"
    if path.is_file():
        try:
            return _load(path)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError):
            pass  # unreadable (e.g. truncated by hand): regenerate and overwrite
    from .model import generate_market  # numba: imported only when generating

    md = generate_market(venues=venues, seed=seed, start=start, minutes=minutes, date=date, symbol=symbol,
                         params=params)
    try:
        _save(md, path)
    except OSError:
        md.report.notes.append(f"could not write the cache {path}")
    return md
