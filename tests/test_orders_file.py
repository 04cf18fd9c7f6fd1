"""The orders file reader (sorlib.data.orders): forms of time, side and deadline, and located errors."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sorlib.data.orders import DEFAULT_HORIZON_SECONDS, read_orders
from sorlib.errors import DataError

# 2024-03-15 is in US daylight time: New York = UTC-4, so 10:00 New York = 14:00 UTC.
T14 = 1_710_511_200 * 10**9  # 2024-03-15T14:00:00Z in ns (1710460800 = midnight UTC, + 14 h)


def _write(tmp_path, text: str, name: str = "orders.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_times_sides_deadlines_and_defaults(tmp_path):
    """Naive ISO is New York time, a zone is honoured, integer ns is UTC: all three rows arrive at 14:00Z.
    Deadlines: default 600 s, horizon_seconds 120, an explicit deadline."""
    p = _write(tmp_path, "time,side,quantity,limit_price,horizon_seconds,deadline\n"
                         "2024-03-15T10:00:00,buy,500,,,\n"
                         "2024-03-15T14:00:00Z,S,300,101.5,120,\n"
                         f"{T14},Sell,100,,,2024-03-15 10:30:00-04:00\n")
    t = read_orders(p)
    assert len(t) == 3
    assert t.time_ns.tolist() == [T14] * 3
    assert t.side.tolist() == [1, -1, -1]
    assert t.quantity.tolist() == [500, 300, 100]
    assert np.isnan(t.limit_price[0]) and t.limit_price[1] == 101.5
    assert (t.deadline_ns - t.time_ns).tolist() == [int(DEFAULT_HORIZON_SECONDS * 1e9), 120 * 10**9, 1800 * 10**9]
    assert t.order_id.tolist() == ["1", "2", "3"]  # row numbers by default
    assert t.symbol.tolist() == [None] * 3
    assert t.locate(1) == f"{p} line 3"


def test_parquet_with_ids_and_symbols(tmp_path):
    p = tmp_path / "o.parquet"
    pq.write_table(pa.table({"time": pa.array([T14, T14 + 10**9], pa.int64()), "side": ["b", "BUY"],
                             "quantity": [10, 20], "symbol": ["AAA", "BBB"], "order_id": ["x", "y"]}), p)
    t = read_orders(p)
    assert t.symbol.tolist() == ["AAA", "BBB"] and t.order_id.tolist() == ["x", "y"]
    assert t.locate(0) == f"{p} record 1"


BAD = [
    ("tim,side,quantity\n1,buy,1\n", None, None, r"missing required column\(s\) time"),
    ("time,side,quantity\n2024-03-15T10:00:00,buy,5\n2024-03-15T10:00:00,hold,5\n", 3, "side", r"unknown side 'hold'"),
    ("time,side,quantity\n2024-03-15T10:00:00,buy,-5\n", 2, "quantity", r"negative quantity -5"),
    ("time,side,quantity\n2024-03-15T10:00:00,buy,0\n", 2, "quantity", r"too small"),
    ("time,side,quantity\n2024-03-15T10:00:00,buy,2.5\n", 2, "quantity", r"fractional"),
    ("time,side,quantity\nyesterday,buy,5\n", 2, "time", r"unparsable time 'yesterday'"),
    ("time,side,quantity\n,buy,5\n", 2, "time", r"empty time"),
    ("time,side,quantity,limit_price\n2024-03-15T10:00:00,buy,5,-1\n", 2, "limit_price", r"must be > 0"),
    ("time,side,quantity,horizon_seconds\n2024-03-15T10:00:00,buy,5,0\n", 2, "horizon_seconds", r"must be in \(0"),
    ("time,side,quantity,deadline\n2024-03-15T10:00:00,buy,5,2024-03-15T09:00:00\n", 2, "deadline", r"not after"),
    ("time,side,quantity,order_id\n2024-03-15T10:00:00,buy,5,a\n2024-03-15T10:00:00,buy,5,a\n", 3, "order_id",
     r"appears twice \(first at line 2\)"),
    ("time,side,quantity,symbol\n2024-03-15T10:00:00,buy,5,\n", 2, "symbol", r"empty symbol"),
]


@pytest.mark.parametrize("text,line,column,match", BAD, ids=[b[3][:24] for b in BAD])
def test_bad_rows_are_located(tmp_path, text, line, column, match):
    p = _write(tmp_path, text)
    with pytest.raises(DataError, match=match) as e:
        read_orders(p)
    assert e.value.path == str(p)
    assert e.value.row == line and e.value.column == column
    assert "\n" not in str(e.value)
