"""The desk's real child fills: an executions file (CSV or Parquet) checked against its orders file.

Columns (extra columns are ignored):

| column | required | meaning |
|---|---|---|
| `time` | yes | fill time, the forms of the orders file (ISO with a zone, integer ns UTC, or ISO without a zone = New York time) |
| `order_id` | yes | the parent order (must be an ``order_id`` of the orders file) |
| `venue` | yes | the venue: its name (``XNAS``, any case) or numeric key, one of the market data's venues |
| `side` | yes | ``buy`` / ``sell`` (``B``/``S``), the same as its order's |
| `quantity` | yes | shares, a whole number in 1 .. 100,000,000 |
| `price` | yes | $/share > 0 |
| `fee` | one of the two | $/share paid (+ fee, − rebate), as in the simulated fills |
| `liquidity` | one of the two | ``R`` (removed: the venue's taker fee) or ``A`` (added: minus its maker rebate), from the venue table; used where `fee` is absent or empty |

Every bad value is one located :class:`~sorlib.errors.DataError` (file, line, column, what, how to fix).
The venues and their fees come from the caller (the engine's venue profiles), so this module stays in the
data layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._csv import Where, raw_numbers
from .orders import (
    NAIVE_TZ,
    OrdersTable,
    _text,
    parse_prices,
    parse_quantity,
    parse_sides,
    parse_times,
    read_table,
    where_text,
)

REQUIRED = ["time", "order_id", "venue", "side", "quantity", "price"]


@dataclass(frozen=True)
class ExecutionsTable:
    """Validated real fills, one entry per row in file order: ``order_row`` (row of the parent order in the
    :class:`~sorlib.data.orders.OrdersTable`), ``time_ns`` (UTC ns), ``venue`` (key), ``side`` (±1),
    ``quantity`` (shares), ``price`` and ``fee`` ($/share; fee + taker fee, − maker rebate), ``passive``
    (True where the liquidity flag is ``A``: the fill added liquidity; else it is counted as taking)."""

    path: str
    order_row: np.ndarray
    time_ns: np.ndarray
    venue: np.ndarray
    side: np.ndarray
    quantity: np.ndarray
    price: np.ndarray
    fee: np.ndarray
    passive: np.ndarray
    where: Where

    def __len__(self) -> int:
        return int(self.time_ns.shape[0])

    def locate(self, i: int) -> str:
        """``FILE line N`` of row ``i`` (``record N`` for Parquet)."""
        return f"{self.path} {where_text(self.where, i)}"

    def frame(self, orders: OrdersTable) -> pd.DataFrame:
        """The fills as a DataFrame with their order id."""
        return pd.DataFrame({"order_id": orders.order_id[self.order_row],
                             "time": pd.to_datetime(self.time_ns, unit="ns", utc=True), "venue": self.venue,
                             "side": np.where(self.side > 0, "buy", "sell"), "quantity": self.quantity,
                             "price": self.price, "fee": self.fee})


def read_executions(path: str | Path, orders: OrdersTable, venues: dict[int, str],
                    fees: dict[int, tuple[float, float]] | None = None, *, tz: str = NAIVE_TZ) -> ExecutionsTable:
    """Read and validate an executions file (module docstring).

    ``venues``: key → name of the venues the fills may name; ``fees``: key → (taker fee, maker rebate),
    $/share, needed when the file gives ``liquidity`` instead of ``fee``."""
    table, where = read_table(path, REQUIRED, "desk executions")
    cols = table.column_names
    if "fee" not in cols and "liquidity" not in cols:
        raise where.error("missing column fee or liquidity: give fee ($/share, + fee, - rebate) or liquidity "
                          "(A = added, R = removed) for every fill")
    t, _ = parse_times(table, "time", where, tz=tz)
    rows = _order_rows(table, where, orders)
    venue = _venues(table, where, venues)
    side = parse_sides(table, where)
    wrong = side != orders.side[rows]
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        o = int(rows[i])
        raise where.error(f"side {'buy' if side[i] > 0 else 'sell'} differs from order "
                          f"{orders.order_id[o]!r}'s side {'buy' if orders.side[o] > 0 else 'sell'} "
                          f"({orders.locate(o)}); fix the side or the order_id", i, "side")
    qty = parse_quantity(table, where)
    px = parse_prices(table, where, "price", required=True)
    fee = _fees(table, where, venue, fees or {})
    flags = _text(table, "liquidity") if "liquidity" in cols else [None] * len(t)
    passive = np.array([(f or "").upper() == "A" for f in flags], bool)
    return ExecutionsTable(str(path), rows, t, venue, side, qty, px, fee, passive, where)


def _order_rows(table, where: Where, orders: OrdersTable) -> np.ndarray:
    index = orders.index_of()
    vals = _text(table, "order_id")
    out = np.zeros(len(vals), np.int64)
    for i, v in enumerate(vals):
        if v is not None and v not in index and v.endswith(".0") and v[:-2] in index:
            v = v[:-2]
        if v is None or v not in index:
            got = "empty order_id" if v is None else f"order_id {v!r} is not in the orders file {orders.path}"
            raise where.error(f"{got}; every fill must name one of its orders", i, "order_id")
        out[i] = index[v]
    return out


def _venues(table, where: Where, venues: dict[int, str]) -> np.ndarray:
    by_name = {str(n).upper(): int(k) for k, n in venues.items()}
    known = ", ".join(f"{n} ({k})" for k, n in sorted(venues.items()))
    vals = _text(table, "venue")
    out = np.zeros(len(vals), np.int64)
    for i, v in enumerate(vals):
        key = by_name.get((v or "").upper())
        if key is None and v is not None and v.lstrip("-").isdigit() and int(v) in venues:
            key = int(v)
        if key is None:
            got = "empty venue" if v is None else f"unknown venue {v!r}"
            raise where.error(f"{got}; the data's venues are {known} (name or key)", i, "venue")
        out[i] = key
    return out


def _fees(table, where: Where, venue: np.ndarray, fees: dict[int, tuple[float, float]]) -> np.ndarray:
    n = len(venue)
    fee = raw_numbers(table, "fee", where).astype(float) if "fee" in table.column_names else np.full(n, np.nan)
    bad = np.abs(np.nan_to_num(fee)) > 1.0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise where.error(f"fee {fee[i]:g} $/share is absurd (fees are $/share, e.g. 0.003); check the unit",
                          i, "fee")
    need = np.isnan(fee)
    if not need.any():
        return fee
    flags = _text(table, "liquidity") if "liquidity" in table.column_names else [None] * n
    for i in np.flatnonzero(need):
        f = (flags[i] or "").upper()
        if f not in ("A", "R"):
            got = "no fee and no liquidity flag" if not f else f"unknown liquidity flag {flags[i]!r}"
            raise where.error(f"{got} (give fee in $/share, or liquidity A = added or R = removed)", int(i),
                              "liquidity" if f else "fee")
        k = int(venue[i])
        if k not in fees:
            raise where.error(f"no fee schedule for venue {k}; give fee in $/share", int(i), "liquidity")
        taker, rebate = fees[k]
        fee[i] = taker if f == "R" else -rebate
    return fee


__all__ = ["ExecutionsTable", "read_executions"]
