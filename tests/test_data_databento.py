"""Databento MBP-1 / MBP-10 CSV and DBN readers on generated files."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import MBP1_HEADER, mbp1_row
from hypothesis import given, settings
from hypothesis import strategies as st

from sorlib.data import load, read_databento_csv
from sorlib.data.databento import F_MAYBE_BAD_BOOK, publisher_name
from sorlib.errors import DataError

T0 = 1722519392000000000  # 2024-08-01T13:36:32Z


def test_mbp1_pretty_csv(mbp1_csv):
    md = load(mbp1_csv)
    q, t = md.quotes, md.trades
    assert md.report.format.startswith("databento-csv/mbp-1")
    assert md.report.rows_read == 6 and len(q) == 6 and q.levels == 1
    assert md.symbol == "AAPL"
    assert md.venue_names == {2: "XNAS.ITCH", 39: "DBEQ.BASIC.XCHI"}
    assert q.ts[0] == T0 + 1 and q.bid_px[0, 0] == 222.81 and q.ask_sz[0, 0] == 36
    # trades: A = seller aggressor (-1), B = buyer aggressor (+1), N = unknown (0)
    assert t.price.tolist() == [222.81, 222.84, 222.84]
    assert t.side.tolist() == [-1, 1, 0] and t.size.tolist() == [21, 10, 5]
    assert t.venue.tolist() == [2, 39, 39]
    # R clears the book: an empty row (NaN prices, zero sizes)
    assert np.isnan(q.bid_px[-1, 0]) and np.isnan(q.ask_px[-1, 0]) and q.bid_sz[-1, 0] == 0
    assert md.report.repairs == {}


def test_integer_ns_and_fixed_point_match_pretty(mbp1_csv, write_csv):
    rows = [line.split(",") for line in mbp1_csv.read_text().splitlines()[1:]]
    raw = []
    for r in rows:
        r = list(r)
        for i in (0, 1):  # ISO → integer ns
            r[i] = str(np.datetime64(r[i].rstrip("Z"), "ns").astype(np.int64))
        for i in (8, 13, 14):  # pretty → fixed point, empty → undefined
            r[i] = str(round(float(r[i]) * 1e9)) if r[i] else "9223372036854775807"
        raw.append(r)
    a, b = load(mbp1_csv), load(write_csv("raw.csv", MBP1_HEADER, raw))
    assert "fixed" in b.report.format
    for x, y in [(a.quotes.ts, b.quotes.ts), (a.quotes.bid_px, b.quotes.bid_px), (a.quotes.ask_px, b.quotes.ask_px),
                 (a.quotes.ask_sz, b.quotes.ask_sz), (a.trades.price, b.trades.price)]:
        np.testing.assert_array_equal(x, y)


@settings(max_examples=30, deadline=None)
# one file's prices lie within 2x of each other (wider spreads are stub quotes) and below $1,000,000
@given(st.integers(1, 49_999_999).flatmap(lambda lo: st.lists(st.integers(lo, 2 * lo), min_size=1, max_size=20)))
def test_fixed_point_and_pretty_give_identical_dollars(tmp_path_factory, cents):
    d = tmp_path_factory.mktemp("fx")
    pretty, raw = [], []
    for i, c in enumerate(cents):
        px = f"{c // 100}.{c % 100:02d}"
        ask = f"{(c + 1) // 100}.{(c + 1) % 100:02d}"
        pretty.append(mbp1_row(str(T0 + i), 2, "A", "B", px, 1, px, ask, 1, 1, i))
        raw.append(mbp1_row(str(T0 + i), 2, "A", "B", str(c * 10**7), 1, str(c * 10**7), str((c + 1) * 10**7),
                            1, 1, i))
    (d / "p.csv").write_text("\n".join(",".join(r) for r in [MBP1_HEADER, *pretty]) + "\n")
    (d / "r.csv").write_text("\n".join(",".join(r) for r in [MBP1_HEADER, *raw]) + "\n")
    a, b = read_databento_csv(d / "p.csv"), read_databento_csv(d / "r.csv", price_scale=1e-9)
    np.testing.assert_array_equal(a.quotes.bid_px, b.quotes.bid_px)
    np.testing.assert_array_equal(a.quotes.ask_px, b.quotes.ask_px)
    np.testing.assert_array_equal(a.quotes.bid_px[:, 0], np.array(cents) / 100)


def _mbp10_header(blockhouse: bool) -> list[str]:
    head = MBP1_HEADER[:13]
    per = ("bid_px", "bid_sz", "bid_ct", "ask_px", "ask_sz", "ask_ct") if blockhouse else \
        ("bid_px", "ask_px", "bid_sz", "ask_sz", "bid_ct", "ask_ct")
    return head + [f"{f}_{k:02d}" for k in range(10) for f in per]


@pytest.mark.parametrize("blockhouse", [False, True])
def test_mbp10_by_name_any_level_order_extra_columns(write_csv, blockhouse):
    header = _mbp10_header(blockhouse)
    rows = []
    for i in range(3):
        vals = {}
        for k in range(10):
            vals.update({f"bid_px_{k:02d}": f"{100 - k * 0.01 - i * 0.01:.2f}", f"ask_px_{k:02d}": f"{100.01 + k * 0.01:.2f}",
                         f"bid_sz_{k:02d}": str(100 + k), f"ask_sz_{k:02d}": str(200 + k),
                         f"bid_ct_{k:02d}": "1", f"ask_ct_{k:02d}": "2"})
        vals["ask_px_09"], vals["ask_sz_09"] = "", "0"  # an empty deep level
        base = [str(T0 + i), str(T0 + i), "10", "2", "38", "A", "B", "0", "99.99", "5", "130", "0", str(i)]
        rows.append(base + [vals[c] for c in header[13:]])
    if blockhouse:  # leading unnamed index column, trailing symbol and order_id
        header = [""] + header + ["symbol", "order_id"]
        rows = [[str(i)] + r + ["ARL", str(1000 + i)] for i, r in enumerate(rows)]
    md = load(write_csv("mbp10.csv", header, rows))
    q = md.quotes
    assert q.levels == 10 and len(q) == 3
    assert q.bid_px[2, 0] == 99.98 and q.bid_px[0, 9] == 99.91 and q.ask_sz[1, 3] == 203
    assert np.isnan(q.ask_px[0, 9]) and q.ask_sz[0, 9] == 0
    assert md.symbol == ("ARL" if blockhouse else None)


def _recs():
    return [
        dict(ts=T0 + 10, pub=2, action="A", side="B", price=100_000_000_000, size=5, bid_px=100_000_000_000,
             ask_px=100_010_000_000, bid_sz=300, ask_sz=200, seq=1),
        dict(ts=T0 + 5, pub=40, action="A", side="A", price=100_020_000_000, size=5, bid_px=99_990_000_000,
             ask_px=100_020_000_000, bid_sz=100, ask_sz=400, seq=2),
        dict(ts=T0 + 20, pub=2, action="T", side="B", price=100_010_000_000, size=7, bid_px=100_000_000_000,
             ask_px=100_010_000_000, bid_sz=300, ask_sz=200, seq=3),
        dict(ts=T0 + 30, pub=40, action="R", side="N", seq=4),
    ]


@pytest.mark.parametrize("name,schema", [("a.mbp-1.dbn", "mbp-1"), ("a.mbp-10.dbn.zst", "mbp-10")])
def test_dbn_reader(write_dbn, name, schema):
    md = load(write_dbn(name, schema, _recs()))
    q, t = md.quotes, md.trades
    assert md.report.format == f"databento-dbn/{schema}" and md.symbol == "TEST"
    assert q.levels == (1 if schema == "mbp-1" else 10)
    assert q.ts.tolist() == [T0 + 5, T0 + 10, T0 + 20, T0 + 30]  # stable-sorted by ts_event
    assert md.report.repairs == {"unsorted_time": 1}
    assert q.venue.tolist() == [40, 2, 2, 40]
    assert q.bid_px[1, 0] == 100.0 and q.ask_px[1, 0] == 100.01 and q.ask_sz[0, 0] == 400
    assert np.isnan(q.ask_px[3]).all()
    assert t.price.tolist() == [100.01] and t.side.tolist() == [1] and t.size.tolist() == [7]
    assert md.venue_names[40] == "DBEQ.BASIC.XCIS"


def test_dbn_tbbo_every_record_is_a_trade(write_dbn):
    recs = [dict(r, action="T") for r in _recs()[:3]]
    md = load(write_dbn("x.tbbo.dbn", "tbbo", recs))
    assert len(md.trades) == 3 and len(md.quotes) == 3


def test_dbn_bad_book_flag_empties_row(write_dbn):
    recs = _recs()[:3]
    recs[0]["flags"] = 128 | F_MAYBE_BAD_BOOK
    md = load(write_dbn("x.dbn", "mbp-1", recs))
    assert md.report.repairs["bad_book_flag"] == 1
    row = int(np.flatnonzero(md.quotes.ts == T0 + 10)[0])
    assert np.isnan(md.quotes.bid_px[row, 0]) and md.quotes.bid_sz[row, 0] == 0


def test_dbn_unsupported_schema(tmp_path):
    import databento_dbn as d

    meta = d.Metadata(dataset="XNAS.ITCH", schema=d.Schema.TRADES, start=0, stype_in=d.SType.RAW_SYMBOL,
                      stype_out=d.SType.INSTRUMENT_ID, end=None, symbols=["X"], partial=[], not_found=[],
                      mappings=[])
    p = tmp_path / "t.trades.dbn"
    p.write_bytes(meta.encode())
    with pytest.raises(DataError, match=r"schema 'trades' has no quote records; supported schemas: mbp-1"):
        load(p)


def test_publisher_names():
    assert publisher_name(95) == "EQUS.MINI" and publisher_name(1) == "GLBX.MDP3"
    assert publisher_name(60000) == "60000"
