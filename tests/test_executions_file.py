"""The executions file reader (sorlib.data.executions): venues by name or key, fees from liquidity flags,
checks against the orders file, located errors."""

from __future__ import annotations

import numpy as np
import pytest

from sorlib.data.executions import read_executions
from sorlib.data.orders import read_orders
from sorlib.errors import DataError

VENUES = {2: "XNAS", 9: "XNYS"}
FEES = {2: (0.0030, 0.0029), 9: (0.0030, 0.0020)}  # (taker fee, maker rebate), $/share


@pytest.fixture
def orders(tmp_path):
    p = tmp_path / "orders.csv"
    p.write_text("time,side,quantity,order_id\n2024-03-15T10:00:00,buy,500,A\n2024-03-15T10:00:00,sell,300,B\n")
    return read_orders(p)


def _write(tmp_path, text):
    p = tmp_path / "fills.csv"
    p.write_text(text)
    return p


def test_fees_from_flags_and_columns(tmp_path, orders):
    """R = the taker fee, A = minus the maker rebate; an explicit fee wins over the flag."""
    p = _write(tmp_path, "time,order_id,venue,side,quantity,price,fee,liquidity\n"
                         "2024-03-15T10:00:01,A,xnas,buy,200,100.01,,R\n"
                         "2024-03-15T10:00:02,A,9,B,300,100.00,,A\n"
                         "2024-03-15T10:00:03,B,XNYS,sell,300,99.99,0.001,R\n")
    e = read_executions(p, orders, VENUES, FEES)
    assert e.order_row.tolist() == [0, 0, 1]
    assert e.venue.tolist() == [2, 9, 9]
    assert e.side.tolist() == [1, 1, -1]
    assert np.allclose(e.fee, [0.0030, -0.0020, 0.001], rtol=0, atol=1e-15)
    assert e.frame(orders)["order_id"].tolist() == ["A", "A", "B"]


BAD = [
    ("time,order_id,venue,side,quantity\n2024-03-15T10:00:01,A,XNAS,buy,1\n", None, None,
     r"missing required column\(s\) price"),
    ("time,order_id,venue,side,quantity,price\n2024-03-15T10:00:01,A,XNAS,buy,1,100\n", None, None,
     r"missing column fee or liquidity"),
    ("time,order_id,venue,side,quantity,price,fee\n2024-03-15T10:00:01,Z,XNAS,buy,1,100,0\n", 2, "order_id",
     r"order_id 'Z' is not in the orders file"),
    ("time,order_id,venue,side,quantity,price,fee\n2024-03-15T10:00:01,A,ARCA,buy,1,100,0\n", 2, "venue",
     r"unknown venue 'ARCA'; the data's venues are XNAS \(2\), XNYS \(9\)"),
    ("time,order_id,venue,side,quantity,price,fee\n2024-03-15T10:00:01,A,XNAS,sell,1,100,0\n", 2, "side",
     r"side sell differs from order 'A'"),
    ("time,order_id,venue,side,quantity,price,fee\n2024-03-15T10:00:01,A,XNAS,buy,-1,100,0\n", 2, "quantity",
     r"negative quantity"),
    ("time,order_id,venue,side,quantity,price,fee\n2024-03-15T10:00:01,A,XNAS,buy,1,0,0\n", 2, "price",
     r"must be > 0"),
    ("time,order_id,venue,side,quantity,price,liquidity\n2024-03-15T10:00:01,A,XNAS,buy,1,100,X\n", 2,
     "liquidity", r"unknown liquidity flag 'X'"),
    ("time,order_id,venue,side,quantity,price,fee\n2024-03-15T10:00:01,A,XNAS,buy,1,100,3\n", 2, "fee",
     r"absurd"),
]


@pytest.mark.parametrize("text,line,column,match", BAD, ids=[b[3][:24] for b in BAD])
def test_bad_rows_are_located(tmp_path, orders, text, line, column, match):
    p = _write(tmp_path, text)
    with pytest.raises(DataError, match=match) as e:
        read_executions(p, orders, VENUES, FEES)
    assert e.value.path == str(p) and e.value.row == line and e.value.column == column
