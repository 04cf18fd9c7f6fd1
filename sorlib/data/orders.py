"""The desk's own parent orders: an orders file (CSV or Parquet) read into a validated columnar table.

Columns (names as written; extra columns are ignored):

| column | required | meaning |
|---|---|---|
| `time` | yes | arrival: ISO-8601 with a zone (``2024-03-15T10:05:00-04:00``, ``...Z``), or integer ns since the epoch (UTC). An ISO time **without** a zone is New York time (the data's zone, ``America/New_York``) |
| `side` | yes | ``buy`` or ``sell`` (any case; ``B`` / ``S`` accepted) |
| `quantity` | yes | shares, a whole number in 1 .. 100,000,000 |
| `limit_price` | no | $/share > 0; empty = no limit (a market order) |
| `deadline` | no | time the order must be done by (same forms as `time`), after `time` |
| `horizon_seconds` | no | seconds from `time` to the deadline, > 0; used when `deadline` is absent or empty; default 600 s (:data:`DEFAULT_HORIZON_SECONDS`), at most 86,400 s |
| `symbol` | when DATA holds several symbols | the instrument the order trades |
| `order_id` | no | unique text label; default the row number (1, 2, … in file order) |

Every bad value is one :class:`~sorlib.errors.DataError` naming the file, the line (header = line 1;
Parquet: the record) and the column, what is wrong and how to fix it (the wording of :mod:`sorlib.data._csv`).
The reader returns an :class:`OrdersTable` (arrays), not engine objects: :mod:`sorlib.flow` turns rows into
parent orders once it knows the market data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataError
from ._csv import (
    _ISO,
    Where,
    check_time_range,
    first_line,
    fmt,
    header_names,
    raw_numbers,
    read_csv_table,
    require_columns,
    stat_source,
    timestamps,
    whole_numbers,
)
from .validate import MAX_SIZE, check_prices

#: Seconds an order has when the file gives neither ``deadline`` nor ``horizon_seconds``.
DEFAULT_HORIZON_SECONDS = 600.0
#: Longest ``horizon_seconds`` accepted (one day): an order is replayed within one trading day.
MAX_HORIZON_SECONDS = 86_400.0
#: Zone of ISO times written without one (the zone of US equity data).
NAIVE_TZ = "America/New_York"
_SIDES = {"buy": 1, "b": 1, "sell": -1, "s": -1}
_TEXT = ("time", "deadline", "side", "symbol", "order_id", "venue", "liquidity")
_ZONED = r"(Z|[+-]\d\d:?\d\d)$"
_TIME_HELP = ("ISO-8601 like 2024-03-15T10:05:00-04:00 (no zone = New York time) or integer ns since the epoch")

REQUIRED = ["time", "side", "quantity"]


# --------------------------------------------------------------------------------------- shared reading
def read_table(path: str | Path, required: list[str], what: str) -> tuple[pa.Table, Where]:
    """A CSV (text columns of :data:`_TEXT` kept as text) or Parquet (``.parquet``/``.pq``) file as a table,
    with the :class:`Where` that locates its rows; missing ``required`` columns are an error."""
    p = Path(path)
    if p.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        stat_source(p)
        try:
            table = pq.read_table(p)
        except (OSError, pa.ArrowException) as e:
            raise DataError(f"cannot read the Parquet file ({str(e).splitlines()[0]}); re-create it",
                            path=str(p)) from None
        if table.num_rows == 0:
            raise DataError("no records", path=str(p))
        where = Where(str(p), hdr=None)
    else:
        names = header_names(first_line(p))
        types = {c: pa.string() for c in names if c in _TEXT}
        table, hdr = read_csv_table(p, column_types=types)
        where = Where(str(p), hdr=hdr)
    require_columns(table.column_names, required, str(p), what)
    return table, where


def _text(table: pa.Table, name: str) -> list:
    """Column ``name`` as Python values (str; None for empty), stripped."""
    vals = pc.cast(table.column(name), pa.string()).to_pylist() if not pa.types.is_null(table.column(name).type) \
        else [None] * table.num_rows
    return [None if v is None or not v.strip() else v.strip() for v in vals]


def parse_times(table: pa.Table, name: str, where: Where, *, required: bool = True,
                tz: str = NAIVE_TZ) -> tuple[np.ndarray, np.ndarray]:
    """Column ``name`` as int64 ns since the epoch (UTC) and a mask of empty fields.

    ISO-8601 with a zone, integer ns (UTC), or ISO without a zone read in ``tz`` (New York); a Parquet
    timestamp without a zone is ``tz`` too. Years 1990-2099. ``required``: an empty field is an error."""
    col = table.column(name)
    t = col.type
    if pa.types.is_timestamp(t) and t.tz is None:
        s = pd.Series(col.to_pandas()).dt.tz_localize(tz, ambiguous="raise", nonexistent="raise")
        empty = s.isna().to_numpy()
        ts = np.where(empty, 0, s.dt.tz_convert("UTC").to_numpy(dtype="datetime64[ns]").astype("int64"))
        ts = ts.astype(np.int64)
    elif not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        ts, empty = timestamps(table, name, where)
    else:
        ts, empty = _text_times(_text(table, name), where, name, tz)
    if required and empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise where.error(f"empty {name} (expected {_TIME_HELP})", i, name)
    check_time_range(ts, where, name, valid=~empty)
    return ts, empty


def _text_times(vals: list, where: Where, name: str, tz: str) -> tuple[np.ndarray, np.ndarray]:
    n = len(vals)
    ts = np.zeros(n, np.int64)
    empty = np.array([v is None for v in vals], bool)
    for i, v in enumerate(vals):
        if v is None:
            continue
        if re.fullmatch(r"[-+]?\d+", v):
            x = int(v)
            if not -2**63 <= x < 2**63:
                raise where.error(f"timestamp {v} is out of range (expected years 1990-2099; integer times must "
                                  "be nanoseconds since the epoch)", i, name)
            ts[i] = x
            continue
        if not re.match(_ISO, v):
            raise where.error(f"unparsable time {v!r} (expected {_TIME_HELP})", i, name)
        try:
            stamp = pd.Timestamp(v)
            if stamp.tzinfo is None:
                stamp = stamp.tz_localize(tz, ambiguous="raise", nonexistent="raise")
            ts[i] = stamp.tz_convert("UTC").value
        except (ValueError, OverflowError) as e:
            raise where.error(f"unparsable time {v!r} ({str(e).splitlines()[0]}; expected {_TIME_HELP})",
                              i, name) from None
    return ts, empty


def parse_sides(table: pa.Table, where: Where, name: str = "side") -> np.ndarray:
    """Column ``side`` as int8: +1 buy, −1 sell (``buy``/``sell``/``B``/``S``, any case)."""
    vals = _text(table, name)
    out = np.zeros(len(vals), np.int8)
    for i, v in enumerate(vals):
        s = _SIDES.get((v or "").lower())
        if s is None:
            got = "empty side" if v is None else f"unknown side {v!r}"
            raise where.error(f"{got} (expected buy or sell; B and S are accepted)", i, name)
        out[i] = s
    return out


def parse_quantity(table: pa.Table, where: Where, name: str = "quantity") -> np.ndarray:
    """Column ``quantity``: whole shares in 1 .. 100,000,000 (int64)."""
    raw = raw_numbers(table, name, where, integer=True)
    return whole_numbers(raw, where, name, lo=1, hi=MAX_SIZE, what="quantity", fill=None)


def parse_prices(table: pa.Table, where: Where, name: str, *, required: bool) -> np.ndarray:
    """Column ``name`` in $/share (> 0, < 1,000,000; NaN where empty unless ``required``)."""
    if name not in table.column_names:
        return np.full(table.num_rows, np.nan)
    px = raw_numbers(table, name, where).astype(np.float64)
    check_prices(px, where, name, required=np.ones(len(px), bool) if required else None)
    return px


def parse_ids(table: pa.Table, where: Where, name: str = "order_id") -> np.ndarray:
    """Column ``order_id`` as text labels (object array), every one present and unique."""
    vals = _text(table, name)
    seen: dict[str, int] = {}
    for i, v in enumerate(vals):
        if v is None:
            raise where.error("empty order_id (give every order an id, or drop the column to number the rows)",
                              i, name)
        if v.endswith(".0") and re.fullmatch(r"\d+\.0", v):  # a Parquet float column of whole ids
            v = v[:-2]
            vals[i] = v
        if v in seen:
            raise where.error(f"order_id {v!r} appears twice (first at {where_text(where, seen[v])}); "
                              "order ids must be unique", i, name)
        seen[v] = i
    return np.array(vals, dtype=object)


def where_text(where: Where, i: int) -> str:
    """``line N`` (CSV, header = line 1) or ``record N`` (Parquet) of row ``i``."""
    return f"record {i + 1}" if where.hdr is None else f"line {i + 1 + where.hdr}"


# ------------------------------------------------------------------------------------------ the table
@dataclass(frozen=True)
class OrdersTable:
    """Validated parent orders of an orders file, one entry per row in file order.

    ``order_id`` text labels; ``time_ns`` / ``deadline_ns`` ns since the epoch (UTC); ``side`` +1 buy,
    −1 sell; ``quantity`` shares; ``limit_price`` $/share (NaN = none); ``symbol`` text (None when the file
    has no ``symbol`` column); ``where`` locates row ``i`` (:meth:`locate`)."""

    path: str
    order_id: np.ndarray
    time_ns: np.ndarray
    deadline_ns: np.ndarray
    side: np.ndarray
    quantity: np.ndarray
    limit_price: np.ndarray
    symbol: np.ndarray
    where: Where

    def __len__(self) -> int:
        return int(self.time_ns.shape[0])

    def locate(self, i: int) -> str:
        """``FILE line N`` of row ``i`` (``record N`` for Parquet)."""
        return f"{self.path} {where_text(self.where, i)}"

    def index_of(self) -> dict[str, int]:
        """Row of each order id."""
        return {str(k): i for i, k in enumerate(self.order_id)}

    def frame(self) -> pd.DataFrame:
        """The orders as a DataFrame (times as UTC timestamps, side as ``buy``/``sell``)."""
        return pd.DataFrame({
            "order_id": self.order_id, "symbol": self.symbol,
            "time": pd.to_datetime(self.time_ns, unit="ns", utc=True),
            "deadline": pd.to_datetime(self.deadline_ns, unit="ns", utc=True),
            "side": np.where(self.side > 0, "buy", "sell"), "quantity": self.quantity,
            "limit_price": self.limit_price})


def read_orders(path: str | Path, *, tz: str = NAIVE_TZ) -> OrdersTable:
    """Read and validate an orders file (module docstring); ISO times without a zone are in ``tz``."""
    table, where = read_table(path, REQUIRED, "desk orders")
    cols = table.column_names
    t, _ = parse_times(table, "time", where, tz=tz)
    side = parse_sides(table, where)
    qty = parse_quantity(table, where)
    limit = parse_prices(table, where, "limit_price", required=False)
    deadline = _deadlines(table, where, t, tz)
    if "symbol" in cols:
        sym = _text(table, "symbol")
        if None in sym:
            raise where.error("empty symbol (name the instrument of every order)", sym.index(None), "symbol")
        symbol = np.array(sym, dtype=object)
    else:
        symbol = np.full(len(t), None, dtype=object)
    ids = parse_ids(table, where) if "order_id" in cols else np.array([str(i + 1) for i in range(len(t))],
                                                                       dtype=object)
    return OrdersTable(str(path), ids, t, deadline, side, qty, limit, symbol, where)


def _deadlines(table: pa.Table, where: Where, t: np.ndarray, tz: str) -> np.ndarray:
    """``deadline`` where given, else ``time + horizon_seconds`` (default 600 s); must be after ``time``."""
    n = len(t)
    have = np.zeros(n, bool)
    out = np.zeros(n, np.int64)
    if "deadline" in table.column_names:
        d, empty = parse_times(table, "deadline", where, required=False, tz=tz)
        have = ~empty
        out[have] = d[have]
        late = have & (d <= t)
        if late.any():
            i = int(np.flatnonzero(late)[0])
            raise where.error("deadline is not after the order's time; give a later deadline", i, "deadline")
    horizon = np.full(n, DEFAULT_HORIZON_SECONDS)
    if "horizon_seconds" in table.column_names:
        h = raw_numbers(table, "horizon_seconds", where).astype(float)
        bad = ~np.isnan(h) & ~((h > 0) & (h <= MAX_HORIZON_SECONDS))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise where.error(f"horizon_seconds {fmt(h[i])} must be in (0, {MAX_HORIZON_SECONDS:,.0f}] seconds",
                              i, "horizon_seconds")
        horizon = np.where(np.isnan(h), DEFAULT_HORIZON_SECONDS, h)
    fill = t + np.round(horizon * 1e9).astype(np.int64)
    out[~have] = fill[~have]
    check_time_range(out, where, "horizon_seconds")
    return out


__all__ = ["DEFAULT_HORIZON_SECONDS", "NAIVE_TZ", "OrdersTable", "parse_ids", "parse_prices", "parse_quantity",
           "parse_sides", "parse_times", "read_orders", "read_table", "where_text"]
