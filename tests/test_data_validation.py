"""Validation errors (one line, located), counted repairs, sort invariants and the snapshot rule."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import MBP1_HEADER, mbp1_row
from hypothesis import given, settings
from hypothesis import strategies as st

from sorlib.data import Quotes, load, snapshot_index, venue_state_at
from sorlib.data.validate import duplicate_mask
from sorlib.errors import DataError

TS = "2024-08-01T13:36:32.00000000{}Z"


def _rows(n=3):
    return [mbp1_row(TS.format(i), 2, "A", "B", "10.00", 1, "10.00", "10.01", 5, 5, i) for i in range(n)]


def _err(path, **kw) -> str:
    with pytest.raises(DataError) as e:
        load(path, **kw)
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_missing_columns(write_csv):
    header = [c for c in MBP1_HEADER if c not in ("ask_px_00", "size")]
    rows = [[v for c, v in zip(MBP1_HEADER, r, strict=True) if c in header] for r in _rows()]
    msg = _err(write_csv("m.csv", header, rows))
    assert "missing required column(s) size, ask_px_00" in msg and "needs ts_event" in msg


def test_unparsable_number(write_csv):
    rows = _rows()
    rows[1][13] = "10.0x"
    msg = _err(write_csv("n.csv", MBP1_HEADER, rows))
    assert "n.csv, line 3, column 'bid_px_00': unparsable value '10.0x'" in msg


def test_unparsable_integer(write_csv):
    rows = _rows()
    rows[2][9] = "ten"
    msg = _err(write_csv("n.csv", MBP1_HEADER, rows))
    assert "line 4, column 'size': unparsable value 'ten'" in msg


def test_unparsable_timestamp(write_csv):
    rows = _rows()
    rows[1][1] = "2024-08-01 noon"
    msg = _err(write_csv("t.csv", MBP1_HEADER, rows))
    assert "line 3, column 'ts_event': unparsable timestamp '2024-08-01 noon'" in msg


def test_negative_size(write_csv):
    rows = _rows()
    rows[2][16] = "-5"
    msg = _err(write_csv("s.csv", MBP1_HEADER, rows))
    assert "line 4, column 'ask_sz_00': negative size -5" in msg


def test_empty_and_header_only(tmp_path, write_csv):
    (tmp_path / "zero.csv").write_bytes(b"")
    assert "empty file (0 bytes): no records" in _err(tmp_path / "zero.csv", format="databento")
    assert "no records" in _err(write_csv("h.csv", MBP1_HEADER, []))
    assert "file not found" in _err(tmp_path / "nope.csv", format="databento")


@pytest.mark.parametrize("newline", [True, False])
def test_truncated_last_line(write_csv, newline):
    rows = _rows()
    rows[-1] = rows[-1][:7]
    msg = _err(write_csv("tr.csv", MBP1_HEADER, rows, newline_at_end=newline))
    assert "line 4: truncated last line: expected 20 fields like the header, found 7" in msg


def test_short_line_in_the_middle(write_csv):
    rows = _rows()
    rows[0] = rows[0][:5]
    assert "line 2: malformed line: expected 20 fields" in _err(write_csv("mid.csv", MBP1_HEADER, rows))


def test_repairs_counted(write_csv):
    rows = _rows(4)
    rows.append(list(rows[1]))  # exact duplicate
    rows[2][1] = TS.format(0)  # out of order (earlier than row 1)
    rows[3][13], rows[3][14] = "10.02", "10.01"  # crossed
    rows[0][13], rows[0][14] = "10.01", "10.01"  # locked
    md = load(write_csv("r.csv", MBP1_HEADER, rows))
    assert md.report.repairs == {"duplicate_record": 1, "unsorted_time": 1, "crossed_book": 1, "locked_book": 1}
    assert md.report.rows_read == 5 and len(md.quotes) == 2
    assert np.all(np.diff(md.quotes.ts) >= 0)


@settings(max_examples=40, deadline=None)
@given(st.permutations(list(range(8))))
def test_any_permutation_sorts_back(tmp_path_factory, perm):
    d = tmp_path_factory.mktemp("perm")
    rows = [mbp1_row(str(1_700_000_000_000_000_000 + 10 * i), 2 + i % 3, "T" if i % 2 else "A", "B",
                     f"{10 + i / 100:.2f}", i + 1, f"{10 + i / 100:.2f}", f"{10.5 + i / 100:.2f}", i + 1, 2 * i + 1, i)
            for i in range(8)]
    for name, rs in (("a.csv", rows), ("b.csv", [rows[j] for j in perm])):
        (d / name).write_text("\n".join(",".join(r) for r in [MBP1_HEADER, *rs]) + "\n")
    a, b = load(d / "a.csv"), load(d / "b.csv")
    for f in ("ts", "venue", "bid_px", "ask_px", "bid_sz", "ask_sz"):
        np.testing.assert_array_equal(getattr(a.quotes, f), getattr(b.quotes, f))
    for f in ("ts", "venue", "price", "size", "side"):
        np.testing.assert_array_equal(getattr(a.trades, f), getattr(b.trades, f))


def test_duplicate_mask_exact():
    a = np.array([1, 2, 1, 1, 3])
    b = np.array([1.0, np.nan, 1.0, 2.0, np.nan])
    deep = np.array([[0, 0], [0, 0], [0, 0], [0, 0], [0, 1]])
    assert duplicate_mask([a, b, deep]).tolist() == [False, False, True, False, False]


def _quotes(ts, venue, ask):
    ask = np.asarray(ask, float)[:, None]
    n = len(ts)
    return Quotes(np.asarray(ts, np.int64), np.asarray(venue, np.int32), ask - 0.01, np.ones((n, 1), np.int64),
                  ask, np.full((n, 1), 100, np.int64))


def test_snapshot_rule_first_message_per_venue_per_ts():
    q = _quotes([1, 1, 1, 1, 2, 2], [7, 9, 7, 9, 9, 9], [10.0, 10.1, 10.2, 10.3, 10.4, 10.5])
    assert snapshot_index(q).tolist() == [0, 1, 4]


def test_venue_state_at_last_quote_persists():
    q = _quotes([1, 3, 5], [7, 9, 7], [10.0, 10.1, 9.9])
    book = venue_state_at(q, [0, 1, 4, 5, 100])
    assert book.venues.tolist() == [7, 9]
    assert book.row.tolist() == [[-1, -1], [0, -1], [0, 1], [2, 1], [2, 1]]
    np.testing.assert_array_equal(book.ask_px[:, 0], [np.nan, 10.0, 10.0, 9.9, 9.9])
    np.testing.assert_array_equal(book.best_ask(), [np.nan, 10.0, 10.0, 9.9, 9.9])
    assert book.ask_sz[0].tolist() == [0, 0]


# ----------------------------------------------------------------- de-duplication: every field counts
def _dup_rows(change):
    """Records 1 and 2 identical except for what ``change`` alters in record 2."""
    rows = _rows(2)
    rows[1] = list(rows[0])
    change(rows[1])
    return rows


@pytest.mark.parametrize("field,value,dups", [
    (None, None, 1),  # identical in every field: one duplicate dropped
    (10, "0", 0),  # flags 130 vs 0
    (10, "128", 0),  # flags 130 vs 128 (one bit)
    (12, "7", 0),  # sequence
    (16, "6", 0),  # ask size at level 0
])
def test_duplicates_compare_every_field(write_csv, field, value, dups):
    def change(r):
        if field is not None:
            r[field] = value
    md = load(write_csv("d.csv", MBP1_HEADER, _dup_rows(change)))
    assert md.report.repairs.get("duplicate_record", 0) == dups
    assert md.report.rows_read == 2 and len(md.quotes) == 2 - dups


def test_duplicates_compare_every_book_level(write_csv):
    header = MBP1_HEADER[:13] + [f"{f}_{k:02d}" for k in range(10) for f in ("bid_px", "ask_px", "bid_sz", "ask_sz")]
    levels = []
    for k in range(10):
        levels += [f"{10.00 - k / 100:.2f}", f"{10.02 + k / 100:.2f}", "100", "200"]
    base = [TS.format(0), TS.format(0), "10", "2", "38", "A", "B", "0", "10.00", "100", "130", "0", "1"]
    same, deep = base + levels, base + levels
    deep = list(deep)
    deep[13 + 9 * 4 + 3] = "201"  # level 9 ask size only
    md = load(write_csv("d10.csv", header, [same, list(same), deep]))
    assert md.report.repairs == {"duplicate_record": 1}  # the exact copy; the level-9 change is kept
    assert md.quotes.ask_sz[:, 9].tolist() == [200, 201]


def test_duplicate_mask_flags_and_levels():
    ts = np.array([5, 5, 5, 5])
    flags = np.array([130, 130, 0, 130])
    book = np.array([[1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 4]])  # row 3 differs at the deepest level
    assert duplicate_mask([ts, flags, book]).tolist() == [False, True, False, False]


def test_unreadable_file_is_one_line(tmp_path, write_csv, monkeypatch):
    p = write_csv("r.csv", MBP1_HEADER, _rows())
    real_open = open

    def deny(file, *a, **k):
        if str(file) == str(p):
            raise PermissionError(13, "Permission denied")
        return real_open(file, *a, **k)

    monkeypatch.setattr("builtins.open", deny)
    assert "r.csv: permission denied: cannot read the file; check its permissions" in _err(p)


def test_year_2300_is_located(write_csv):
    rows = _rows(3)
    rows[2][1] = "2300-01-01T00:00:00Z"
    assert "line 4, column 'ts_event': timestamp '2300-01-01T00:00:00Z' is out of range" in _err(
        write_csv("y.csv", MBP1_HEADER, rows))


def test_symbol_and_date_select(write_csv):
    rows = _rows(4)
    rows[1][19] = rows[3][19] = "MSFT"
    rows[3][0] = rows[3][1] = "2024-08-02T13:36:32.000000003Z"
    p = write_csv("s.csv", MBP1_HEADER, rows)
    assert "2 instruments interleaved in one file: AAPL (2 rows), MSFT (2 rows)" in _err(p)
    assert "spans 2 trading dates" in _err(p, symbol="MSFT")
    md = load(p, symbol="MSFT", date="2024-08-01")
    assert md.symbol == "MSFT" and md.report.rows_read == 1 and md.quotes.ts.tolist() == [1722519392000000001]


def test_two_sided_across_venues_and_stub(write_csv):
    rows = _rows(4)
    rows[0][14], rows[0][16] = "", "0"  # record 1: bid only
    # records 2-4 two-sided: mids 10.005, 10.005, 505.005 -> median 10.005, stub bounds 1.0005 .. 100.05
    rows[3][14] = "1000.00"  # record 4: a stub ask, emptied
    md = load(write_csv("b.csv", MBP1_HEADER, rows))
    assert md.report.repairs == {"stub_quote": 1}
    assert np.isnan(md.quotes.ask_px[3, 0]) and md.quotes.ask_sz[3, 0] == 0 and md.quotes.bid_px[3, 0] == 10.0


def test_bid_and_ask_on_different_venues_is_two_sided(write_csv):
    rows = _rows(2)
    rows[0][14], rows[0][16] = "", "0"  # venue 2: bid only
    rows[1][3], rows[1][13], rows[1][15] = "39", "", "0"  # venue 39: ask only
    md = load(write_csv("c.csv", MBP1_HEADER, rows))
    assert len(md.quotes) == 2 and md.report.repairs == {}
    rows[1][3] = "2"  # the same venue: its ask-only row replaces its bid-only state
    md = load(write_csv("c2.csv", MBP1_HEADER, rows))  # a valid file: loads with a note, cannot be routed
    assert any(n.startswith("no two-sided quote") for n in md.report.notes)
    from sorlib.engine import Book

    with pytest.raises(DataError, match="no two-sided quote"):
        Book.from_market(md)
