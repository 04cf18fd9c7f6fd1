"""Bad, hostile or unusual market-data files (mostly through ``sorlib inspect``).

Every file is built by hand: a small two-venue Databento MBP-1 CSV (:func:`_base`) with one field
changed, or a tiny AlgoSeek zip / DBN file. Thresholds: prices finite, > 0 and < $1,000,000/share; sizes
whole shares in 0..100,000,000; times in the years 1990-2099; stub quotes beyond 10x / under 1/10 of the
median trade price.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from conftest import MBP1_HEADER, mbp1_row

from . import Case

T = "2024-08-01T13:36:3{}.000000000Z"  # 09:36:3x New York
COL = {c: i for i, c in enumerate(MBP1_HEADER)}


def _rows() -> list[list[str]]:
    """Five records on venues 2 and 39: quotes 10.00 x 10.02 / 10.01 x 10.03 and one trade at 10.02."""
    return [
        mbp1_row(T.format(0), 2, "A", "B", "10.00", 100, "10.00", "10.02", 100, 200, 1),
        mbp1_row(T.format(1), 39, "A", "A", "10.03", 300, "10.01", "10.03", 100, 300, 2),
        mbp1_row(T.format(2), 2, "T", "B", "10.02", 50, "10.00", "10.02", 100, 150, 3),
        mbp1_row(T.format(3), 39, "C", "B", "10.01", 100, "9.99", "10.03", 100, 300, 4),
        mbp1_row(T.format(4), 2, "A", "A", "10.02", 10, "10.00", "10.02", 100, 160, 5),
    ]


def _text(header: list[str] | str, rows: list[list[str]]) -> str:
    head = header if isinstance(header, str) else ",".join(header)
    return "\n".join([head] + [",".join(r) for r in rows]) + "\n"


def _csv(tmp: Path, rows: list[list[str]] | None = None, *, name: str = "day.csv", header=MBP1_HEADER) -> Path:
    p = tmp / name
    p.write_text(_text(header, _rows() if rows is None else rows))
    return p


def _set(row: int, col: str, value: str, cmd: str = "inspect", extra: tuple[str, ...] = ()):
    """A builder: the base file with field ``col`` of record ``row`` (0-based; file line row + 2) replaced."""
    def build(tmp: Path) -> list[str]:
        rows = _rows()
        rows[row][COL[col]] = value
        return [cmd, str(_csv(tmp, rows)), *extra]
    return build


def _inspect(rows_fn, *extra: str, header=MBP1_HEADER):
    return lambda tmp: ["inspect", str(_csv(tmp, rows_fn(), header=header)), *extra]


# ---------------------------------------------------------------------------------------- file shapes
def _padded_header(tmp):
    return ["inspect", str(_csv(tmp, header=", ".join(f" {c} " for c in MBP1_HEADER)))]


def _quoted_bom_header(tmp):
    p = tmp / "day.csv"
    p.write_bytes(b"\xef\xbb\xbf" + _text(",".join(f'"{c}"' for c in MBP1_HEADER), _rows()).encode())
    return ["inspect", str(p)]


def _dup_column(tmp):
    return ["inspect", str(_csv(tmp, [r + ["10.00"] for r in _rows()], header=MBP1_HEADER + ["bid_px_00"]))]


def _nul(tmp):
    p = tmp / "day.csv"
    text = _text(MBP1_HEADER, _rows()).encode()
    lines = text.split(b"\n")
    lines[3] = lines[3].replace(b"AAPL", b"AA\x00L")  # file line 4, the symbol field (20)
    p.write_bytes(b"\n".join(lines))
    return ["inspect", str(p)]


def _bad_utf8(tmp):
    p = tmp / "day.csv"
    lines = _text(MBP1_HEADER, _rows()).encode().split(b"\n")
    lines[4] = lines[4].replace(b"AAPL", b"AAP\xff")  # file line 5, the symbol field (20)
    p.write_bytes(b"\n".join(lines))
    return ["inspect", str(p)]


def _truncated_zstd(tmp):
    import zstandard

    rows = [mbp1_row(f"2024-08-01T13:36:{i // 1000:02d}.{i % 1000:03d}000000Z", 2, "A", "B", "10.00", 100,
                     "10.00", "10.02", 100 + i, 200, i) for i in range(3000)]
    blob = zstandard.ZstdCompressor().compress(_text(MBP1_HEADER, rows).encode())
    p = tmp / "day.csv.zst"
    p.write_bytes(blob[: len(blob) // 2])
    return ["inspect", str(p)]


def _year_2300(tmp):
    """2,700 good records (lines 2-2,701), then on line 2,702 a time in the year 2300 (beyond the ns range)."""
    rows = [mbp1_row(f"2024-08-01T13:{30 + i // 600:02d}:{i // 10 % 60:02d}.{i % 10}00000000Z", 2 + 37 * (i % 2),
                     "A", "B", "10.00", 100, "10.00", "10.02", 100, 200, i) for i in range(2700)]
    rows.append(mbp1_row("2300-01-01T00:00:00.000000000Z", 2, "A", "B", "10.00", 100, "10.00", "10.02", 100, 200, 9))
    return ["inspect", str(_csv(tmp, rows))]


def _bbo_empty_event(tmp):
    """A bbo-1s record (rtype 195) may leave ts_event empty: ts_recv is used."""
    rows = _rows()
    rows[3][COL["ts_event"]], rows[3][COL["rtype"]] = "", "195"
    return ["inspect", str(_csv(tmp, rows))]


def _ms_times(tmp):
    rows = _rows()
    for i, r in enumerate(rows):
        r[0] = r[1] = str(1_722_519_390_000 + i)  # milliseconds, not nanoseconds
    return ["inspect", str(_csv(tmp, rows))]


def _permission(tmp):
    """An unreadable file. Root ignores chmod 000, so then use a write-only procfs file (root cannot read it)."""
    p = _csv(tmp)
    p.chmod(0)
    try:
        with open(p, "rb"):
            pass
    except PermissionError:
        return ["inspect", str(p)]
    p.unlink()
    p.symlink_to("/proc/sys/vm/compact_memory")
    return ["inspect", str(p)]


def _fifo(tmp):
    p = tmp / "day.csv"
    os.mkfifo(p)
    return ["inspect", str(p)]


def _directory(tmp):
    (tmp / "day.csv").mkdir()
    return ["inspect", str(tmp / "day.csv")]


# ------------------------------------------------------------------------------ instruments and dates
def _two_symbols(cmd: str = "inspect", extra: tuple[str, ...] = ()):
    def build(tmp):
        rows = _rows()
        for r in rows[1::2]:  # records 2 and 4 (venue 39) are another stock
            r[COL["symbol"]], r[COL["instrument_id"]] = "MSFT", "99"
        return [cmd, str(_csv(tmp, rows)), *extra]
    return build


def _two_ids_one_venue(tmp):
    hdr = [c for c in MBP1_HEADER if c != "symbol"]
    rows = [r[:-1] for r in _rows()]
    rows[2][COL["instrument_id"]] = "99"  # venue 2 quotes ids 38 and 99
    return ["inspect", str(_csv(tmp, rows, header=hdr))]


def _id_per_venue(tmp):
    hdr = [c for c in MBP1_HEADER if c != "symbol"]
    rows = [r[:-1] for r in _rows()]
    for r in rows[1::2]:
        r[COL["instrument_id"]] = "99"  # venue 39 always 99, venue 2 always 38: one stock, venue-local ids
    return ["inspect", str(_csv(tmp, rows, header=hdr))]


def _two_dates(cmd: str = "inspect", extra: tuple[str, ...] = ()):
    def build(tmp):
        rows = _rows() + [mbp1_row(T.format(5).replace("08-01", "08-02"), 2, "A", "B", "10.10", 100, "10.10",
                                   "10.12", 100, 200, 6)]
        return [cmd, str(_csv(tmp, rows)), *extra]
    return build


def _late_evening_same_date(tmp):
    """19:59 New York is 23:59 UTC and 20:00 is 00:00 UTC the next day: still one New York date."""
    rows = _rows()
    for i, r in enumerate(rows):
        r[0] = r[1] = f"2024-08-01T23:5{5 + i}:00.000000000Z" if i < 3 else f"2024-08-02T00:0{i}:00.000000000Z"
    return ["inspect", str(_csv(tmp, rows))]


# ---------------------------------------------------------------------------------------- thin books
def _one_row(two_sided: bool):
    def build(tmp):
        row = mbp1_row(T.format(0), 2, "A", "B", "10.00", 100, "10.00", "10.02" if two_sided else "", 100,
                       200 if two_sided else 0, 1)
        return ["inspect", str(_csv(tmp, [row]))]
    return build


def _bid_and_ask_on_other_venues(tmp):
    """Venue 2 shows only bids, venue 39 only asks: the market is still two-sided."""
    rows = [mbp1_row(T.format(0), 2, "A", "B", "10.00", 100, "10.00", "", 100, 0, 1),
            mbp1_row(T.format(1), 39, "A", "A", "10.02", 100, "", "10.02", 0, 100, 2)]
    return ["inspect", str(_csv(tmp, rows))]


def _dbn_one_sided(tmp):
    import databento_dbn as d

    meta = d.Metadata(dataset="XNAS.ITCH", schema=d.Schema.MBP_1, start=0, stype_in=d.SType.RAW_SYMBOL,
                      stype_out=d.SType.INSTRUMENT_ID, end=None, symbols=["TEST"], partial=[], not_found=[],
                      mappings=[])
    out = meta.encode()
    for i in range(3):  # asks only, like the DBEQ.BASIC fixture
        lv = d.BidAskPair(bid_px=d.UNDEF_PRICE, ask_px=100_010_000_000, bid_sz=0, ask_sz=200, bid_ct=0, ask_ct=1)
        out += bytes(d.MBP1Msg(publisher_id=2, instrument_id=1, ts_event=1_722_519_392_000_000_000 + i,
                               price=100_010_000_000, size=200, action=d.Action("A"), side=d.Side("A"), depth=0,
                               flags=128, ts_recv=1_722_519_392_000_000_100 + i, ts_in_delta=0, sequence=i,
                               levels=lv))
    p = tmp / "x.mbp-1.dbn"
    p.write_bytes(out)
    return ["inspect", str(p)]


def _dbn_truncated(tmp):
    _dbn_one_sided(tmp)
    p = tmp / "x.mbp-1.dbn"
    p.write_bytes(p.read_bytes()[:-30])
    return ["inspect", str(p)]


def _stub_ask(tmp):
    rows = _rows()
    rows[4][COL["ask_px_00"]] = "2147.48"  # a placeholder order on a $10 stock
    return ["inspect", str(_csv(tmp, rows))]


# --------------------------------------------------------------------------------------- duplicates
def _dup(change: str | None):
    """Record 2 written twice; ``change`` alters the copy's flags, or makes the copy differ elsewhere."""
    def build(tmp):
        rows = _rows()
        copy = list(rows[1])
        if change == "flags":
            copy[COL["flags"]] = "0"
        rows.insert(2, copy)
        return ["inspect", str(_csv(tmp, rows))]
    return build


def _mbp10(tmp, deep_differs: bool):
    head = MBP1_HEADER[:13]
    per = ("bid_px", "ask_px", "bid_sz", "ask_sz", "bid_ct", "ask_ct")
    header = head + [f"{f}_{k:02d}" for k in range(10) for f in per]
    vals = []
    for k in range(10):
        vals += [f"{10.00 - k / 100:.2f}", f"{10.02 + k / 100:.2f}", "100", "200", "1", "1"]
    base = [T.format(0), T.format(0), "10", "2", "38", "A", "B", "0", "10.00", "100", "130", "0", "1"]
    rows = [base + vals, base + vals, [T.format(1), T.format(1)] + base[2:] + vals]
    if deep_differs:
        rows[1] = list(rows[1])
        rows[1][13 + 5 * 6 + 2] = "300"  # level 5 bid size of the second record
    return ["inspect", str(_csv(tmp, rows, header=header))]


# ------------------------------------------------------------------------------------------- AlgoSeek
def _algoseek(tmp: Path, quotes: list[list], trades: list[list] | None, corrupt_trades: bool = False) -> Path:
    d = tmp / "ibm"
    d.mkdir()

    def write(name, rows):
        with zipfile.ZipFile(d / name, "w") as z:
            z.writestr(name.replace(".zip", ".csv"), "\n".join(",".join(map(str, r)) for r in rows) + "\n")

    write("20131007_quote.zip", quotes)
    if corrupt_trades:
        (d / "20131007_trade.zip").write_bytes(b"PK\x03\x04" + os.urandom(64))
    elif trades is not None:
        write("20131007_trade.zip", trades)
    return d / "20131007_quote.zip"


MS = 34_200_000  # 09:30:00.000 after midnight, ms
QUOTES = [[MS, 1817500, 300, 0, 0, "N", 1, 0], [MS + 1, 0, 0, 1818000, 200, "Q", 1, 0]]
TRADES = [[MS + 2, 1817500, 100, "N", 2000, 0]]


def _algo(quotes=QUOTES, trades=TRADES, corrupt=False):
    return lambda tmp: ["inspect", str(_algoseek(tmp, quotes, trades, corrupt))]


def _algo_quote(i: int, value) -> list[list]:
    q = [list(r) for r in QUOTES]
    q[0][i] = value
    return q


# ------------------------------------------------------------------------------------------ the list
INSPECT = [
    # file shapes and encodings
    Case("inspect-header-padded-with-spaces", _padded_header, "ok", r"rows read: 5"),
    Case("inspect-quoted-header-with-bom", _quoted_bom_header, "ok", r"rows read: 5"),
    Case("inspect-duplicate-column", _dup_column, "error", r"line 1: column\(s\) bid_px_00 appear more than once"),
    Case("inspect-nul-byte", _nul, "error", r"day\.csv, line 4: NUL byte .* field 20"),
    Case("inspect-invalid-utf8", _bad_utf8, "error", r"line 5: invalid UTF-8 byte 0xff .* field 20"),
    Case("inspect-truncated-zstd", _truncated_zstd, "error", r"day\.csv\.zst: cannot decompress.*truncated or corrupt"),
    Case("inspect-permission-denied", _permission, "error", r"permission denied"),
    Case("inspect-fifo", _fifo, "error", r"not a regular file"),
    Case("inspect-directory", _directory, "error", r"is a directory"),
    Case("inspect-dbn-truncated", _dbn_truncated, "error", r"x\.mbp-1\.dbn: .*(truncated|corrupt|decode)"),
    # prices
    Case("inspect-nan-price", _set(1, "bid_px_00", "NaN"), "error", r"line 3, column 'bid_px_00': nan is not a number"),
    Case("inspect-inf-price", _set(2, "ask_px_00", "inf"), "error", r"line 4, column 'ask_px_00': inf is not a number"),
    Case("inspect-zero-price", _set(3, "ask_px_00", "0"), "error", r"line 5, column 'ask_px_00': price 0 must be > 0"),
    Case("inspect-negative-price", _set(0, "bid_px_00", "-10.00"), "error", r"line 2, .*price -10 must be > 0"),
    Case("inspect-1e12-price", _set(4, "ask_px_00", "1e12"), "error",
         r"line 6, column 'ask_px_00': price 1000000000000 is absurd \(must be below 1,000,000"),
    Case("inspect-int64-max-price-in-decimal-file", _set(4, "ask_px_00", "9223372036854775807"), "error",
         r"line 6, column 'ask_px_00': price 9223372036854775807 is the fixed-point 'no price' value"),
    Case("inspect-trade-without-price", _set(2, "price", ""), "error",
         r"line 4, column 'price': empty price on a trade"),
    Case("inspect-trade-price-nan", _set(2, "price", "nan"), "error", r"line 4, column 'price': nan is not a number"),
    Case("inspect-stub-ask-2147", _stub_ask, "repaired", r"repairs: stub_quote 1\b.*\n(.*\n)*note: stub quotes"),
    # sizes
    Case("inspect-size-1e9", _set(1, "ask_sz_00", "1000000000"), "error",
         r"line 3, column 'ask_sz_00': size 1000000000 is too large \(maximum 100,000,000\)"),
    Case("inspect-size-int64-max", _set(1, "bid_sz_00", "9223372036854775807"), "error",
         r"line 3, column 'bid_sz_00': size 9223372036854775807 is too large"),
    Case("inspect-size-2-pow-63", _set(2, "size", "9223372036854775808"), "error",
         r"line 4, column 'size': size 9223372036854775808 is too large"),
    Case("inspect-negative-size", _set(3, "ask_sz_00", "-5"), "error", r"line 5, column 'ask_sz_00': negative size -5"),
    Case("inspect-fractional-size", _set(2, "size", "5.5"), "error",
         r"line 4, column 'size': fractional size 5.5 \(must be a whole number\)"),
    Case("inspect-fractional-level-size", _set(0, "bid_sz_00", "100.25"), "error",
         r"line 2, column 'bid_sz_00': fractional size 100.25"),
    Case("inspect-whole-size-written-as-decimal", _set(0, "bid_sz_00", "100.0"), "ok", r"rows read: 5"),
    Case("inspect-trade-of-zero-shares", _set(2, "size", "0"), "error", r"line 4, column 'size': trade of 0 shares"),
    # times
    Case("inspect-empty-ts-event", _set(3, "ts_event", ""), "error", r"line 5, column 'ts_event': missing timestamp"),
    Case("inspect-empty-ts-event-on-bbo-record", _bbo_empty_event, "ok", r"rows read: 5"),
    Case("inspect-year-2300-on-line-2702", _year_2300, "error",
         r"line 2702, column 'ts_event': timestamp '2300-01-01T00:00:00.000000000Z' is out of range"),
    Case("inspect-integer-times-in-ms", _ms_times, "error",
         r"line 2, column 'ts_event': timestamp 1722519390000 \(1970-01-01T00:28:42.*out of range"),
    # identifiers
    Case("inspect-negative-publisher-id", _set(1, "publisher_id", "-3"), "error",
         r"line 3, column 'publisher_id': negative publisher_id -3"),
    Case("inspect-publisher-id-too-large", _set(1, "publisher_id", "70000"), "error",
         r"publisher_id 70000 is too large \(maximum 65,535\)"),
    Case("inspect-flags-out-of-range", _set(1, "flags", "300"), "error", r"column 'flags': flags 300 is too large"),
    # one instrument
    Case("inspect-two-symbols-interleaved", _two_symbols(), "error",
         r"2 instruments interleaved in one file: AAPL \(3 rows\), MSFT \(2 rows\); pick one with --symbol"),
    Case("inspect-two-symbols-pick-one", _two_symbols(extra=("--symbol", "MSFT")), "ok",
         r"note: kept 2 of 5 records(.*\n)*symbol: MSFT"),
    Case("inspect-two-symbols-pick-by-instrument-id", _two_symbols(extra=("--symbol", "38")), "ok", r"symbol: AAPL"),
    Case("inspect-symbol-not-in-file", _two_symbols(extra=("--symbol", "IBM")), "error",
         r"--symbol IBM: no rows for it; the file holds AAPL \(3 rows\), MSFT \(2 rows\)"),
    Case("inspect-two-instrument-ids-on-one-venue", _two_ids_one_venue, "error",
         r"2 instruments interleaved.*instrument_id 38 \(4 rows\), instrument_id 99 \(1 rows\)"),
    Case("inspect-one-instrument-id-per-venue", _id_per_venue, "ok", r"rows read: 5"),
    # one session
    Case("inspect-two-dates", _two_dates(), "error",
         r"spans 2 trading dates \(America/New_York time\): 2024-08-01 \(5 rows\), 2024-08-02 \(1 rows\); "
         r"pick one with --date"),
    Case("inspect-two-dates-pick-one", _two_dates(extra=("--date", "2024-08-01")), "ok", r"kept 5 of 6 records"),
    Case("inspect-date-not-in-file", _two_dates(extra=("--date", "2024-08-05")), "error",
         r"--date 2024-08-05: no rows on that date"),
    Case("inspect-date-bad-format", _two_dates(extra=("--date", "Aug 1")), "error", r"--date 'Aug 1': expected YYYY-MM-DD"),
    Case("inspect-evening-past-utc-midnight-is-one-date", _late_evening_same_date, "ok", r"rows read: 5"),
    # a usable book
    Case("inspect-one-row-one-sided", _one_row(False), "ok",  # a valid file: described, routing refused
         r"note: no two-sided quote: .*\(1 quote row\(s\), 1 with a bid and 0 with an ask\)"),
    Case("inspect-one-row-two-sided-is-thin", _one_row(True), "ok",
         r"note: thin: one venue only(.*\n)*note: thin: only 1 quote row\(s\)\nnote: thin: no trades"),
    Case("inspect-bid-and-ask-on-different-venues", _bid_and_ask_on_other_venues, "ok", r"rows read: 2"),
    Case("inspect-dbn-asks-only", _dbn_one_sided, "ok", r"note: no two-sided quote"),
    Case("backtest-dbn-asks-only", lambda tmp: ["backtest", _dbn_one_sided(tmp)[1]], "error",
         r"x\.mbp-1\.dbn: no two-sided quote"),
    # duplicates: every field counts, flags and deeper levels included
    Case("inspect-exact-duplicate", _dup(None), "repaired", r"repairs: duplicate_record 1\n"),
    Case("inspect-duplicate-but-flags-differ", _dup("flags"), "ok", r"rows read: 6 .*quote rows: 6.*\nrepairs: none"),
    Case("inspect-mbp10-exact-duplicate", lambda tmp: _mbp10(tmp, False), "repaired", r"repairs: duplicate_record 1\n"),
    Case("inspect-mbp10-duplicate-but-level-5-differs", lambda tmp: _mbp10(tmp, True), "ok",
         r"quote rows: 3 .*\nrepairs: none"),
    # AlgoSeek
    Case("inspect-algoseek-ok", _algo(), "ok", r"format: algoseek"),
    Case("inspect-algoseek-corrupt-sibling-trade-zip", _algo(corrupt=True), "error",
         r"20131007_trade\.zip: corrupt or truncated zip file"),
    Case("inspect-algoseek-time-beyond-the-day", _algo(quotes=_algo_quote(0, 90_000_000)), "error",
         r"20131007_quote\.zip, line 1, column 'f0': time 90000000 ms after midnight is outside the day"),
    Case("inspect-algoseek-absurd-price", _algo(quotes=_algo_quote(1, 10**16)), "error",
         r"line 1, column 'f1': price 1000000000000 is absurd"),
    Case("inspect-algoseek-negative-price", _algo(quotes=_algo_quote(1, -1817500)), "error",
         r"line 1, column 'f1': price -181.75 must be > 0"),
    Case("inspect-algoseek-fractional-size", _algo(quotes=_algo_quote(2, "300.5")), "error",
         r"line 1, column 'f2': fractional size 300.5"),
    Case("inspect-algoseek-wrong-symbol", lambda tmp: _algo()(tmp) + ["--symbol", "AAPL"], "error",
         r"--symbol AAPL: this file holds IBM only"),
]

OTHERS = [
    Case("backtest-two-symbols-interleaved", _two_symbols("backtest", ("--every", "5")), "error",
         r"2 instruments interleaved in one file: AAPL \(3 rows\), MSFT \(2 rows\)"),
    Case("backtest-nan-price", _set(1, "ask_px_00", "nan", "backtest", ("--every", "5")), "error",
         r"line 3, column 'ask_px_00': nan is not a number"),
    Case("backtest-one-row-one-sided", lambda tmp: ["backtest", _one_row(False)(tmp)[1], "--every", "5"], "error",
         r"no two-sided quote"),
    Case("backtest-fractional-size", _set(2, "size", "5.5", "backtest", ("--every", "5")), "error",
         r"line 4, column 'size': fractional size 5.5"),
    Case("search-two-dates", _two_dates("search", ("--scheduler", "serial", "--out", "out")), "error",
         r"spans 2 trading dates"),
    Case("search-zero-price", _set(3, "ask_px_00", "0", "search", ("--scheduler", "serial", "--out", "out")), "error",
         r"line 5, column 'ask_px_00': price 0 must be > 0"),
    Case("search-size-2-pow-63", _set(2, "size", "9223372036854775808", "search", ("--scheduler", "serial", "--out", "out")),
         "error", r"size 9223372036854775808 is too large"),
]

CASES: list[Case] = INSPECT + OTHERS

CASES += [
    Case("search-two-symbols-pick-one", _two_symbols("search", ("--symbol", "AAPL", "--scheduler", "serial",
                                                                "--out", "out", "--every", "1")), "ok"),
    Case("search-date-does-not-apply", _two_dates("search", ("--date", "2024-08-01", "--scheduler", "serial",
                                                            "--out", "out")), "error", r"--date does not apply"),
    Case("backtest-two-symbols-pick-one", _two_symbols("backtest", ("--symbol", "AAPL", "--out", "r.json")), "ok"),
]
