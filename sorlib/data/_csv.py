"""Shared CSV reading for the Databento and TAQ readers: opening, header parsing, located parse errors.

Files may be plain, compressed (``.zst``, ``.gz``, ``.bz2``, detected by suffix) or a zip holding one CSV.
Every failure a user can cause becomes one :class:`~sorlib.errors.DataError` naming the file and, when it
is about one field, the line (header = line 1) and column. Before parsing, the whole text is checked for
NUL bytes and invalid UTF-8 (both are errors naming the line). Header names are parsed as CSV (quotes
allowed), with surrounding spaces and a UTF-8 byte-order mark removed. Fields follow RFC 4180 (quotes
around any field, a comma or doubled quote inside one). Only empty fields — ``,,`` or a quoted ``""`` — are
missing values: ``NaN``, ``inf`` or ``NA`` in a numeric column are reported, never read as empty.
"""

from __future__ import annotations

import csv
import os
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..errors import DataError

_NUM_RE = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_INT_RE = r"^\s*[-+]?\d+\s*$"
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError)


@dataclass(frozen=True)
class Where:
    """Locates row ``i`` of a table: file line ``i + 1 + hdr`` (CSV) or ``record i + 1`` (``hdr`` None)."""

    path: str
    hdr: int | None = 1

    def error(self, message: str, i: int | None = None, column: str | None = None) -> DataError:
        if i is not None and self.hdr is None:
            return DataError(f"record {i + 1}: {message}", path=self.path, column=column)
        return DataError(message, path=self.path, row=None if i is None else int(i) + 1 + self.hdr,
                         column=column)


def fmt(x) -> str:
    """A number as a user wrote it: ``5.5``, ``1000000000``, ``nan`` (no numpy reprs)."""
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return str(int(x)) if np.isfinite(x) and x == int(x) and abs(x) < 1e21 else repr(x)
    return str(int(x)) if isinstance(x, (int, np.integer)) else str(x)


# --------------------------------------------------------------------------------------------- opening
def stat_source(p: Path) -> os.stat_result:
    """``p.stat()``, or the one-line :class:`DataError` for a missing or unreadable path."""
    try:
        return p.stat()
    except FileNotFoundError:
        raise DataError("file not found", path=str(p)) from None
    except OSError as e:
        raise DataError(f"cannot read the file ({e.strerror or e})", path=str(p)) from None


def open_source(path: str | Path) -> tuple[Path, bytes | None]:
    """Check ``path`` is a readable, non-empty regular file; for a ``.zip`` return its single member."""
    p = Path(path)
    st = stat_source(p)
    if stat.S_ISDIR(st.st_mode):
        raise DataError("is a directory; give one data file", path=str(p))
    if not stat.S_ISREG(st.st_mode):
        raise DataError("not a regular file (a pipe, socket or device); give a data file", path=str(p))
    try:
        with open(p, "rb") as f:
            f.read(1)
    except PermissionError:
        raise DataError("permission denied: cannot read the file; check its permissions", path=str(p)) from None
    except OSError as e:
        raise DataError(f"cannot read the file ({e.strerror or e})", path=str(p)) from None
    if st.st_size == 0:
        raise DataError("empty file (0 bytes): no records", path=str(p))
    if p.suffix.lower() != ".zip":
        return p, None
    try:
        with zipfile.ZipFile(p) as z:
            names = [n for n in z.namelist() if not n.endswith("/")]
            if len(names) != 1:
                raise DataError(f"zip must hold exactly one CSV, found {len(names)} members", path=str(p))
            data = z.read(names[0])
    except _ZIP_ERRORS as e:
        raise DataError(f"corrupt or truncated zip file ({e}); re-download or re-create it", path=str(p)) from None
    if not data:
        raise DataError("empty file (0 bytes): no records", path=str(p))
    return p, data


def read_bytes(path: str | Path) -> tuple[Path, bytes]:
    """The whole decompressed content of a data file (plain, ``.zst``/``.gz``/``.bz2`` or one-member zip)."""
    p, data = open_source(path)
    if data is not None:
        return p, data
    try:
        with pa.input_stream(str(p), compression="detect") as f:
            return p, f.read()
    except (OSError, pa.ArrowException) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DataError(f"cannot decompress or read the file ({msg}): it is truncated or corrupt", path=str(p)) from None


def first_line(path: str | Path) -> str:
    """The first line of a (possibly zipped or compressed) text file, decoded leniently."""
    p, data = open_source(path)
    if data is None:
        try:
            with pa.input_stream(str(p), compression="detect") as f:
                data = f.read(65536)
        except (OSError, pa.ArrowException) as e:
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise DataError(f"cannot decompress or read the file ({msg}): it is truncated or corrupt",
                            path=str(p)) from None
    return data[:65536].split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r")


def header_names(line: str) -> list[str]:
    """Column names of a CSV header line: quotes removed, spaces and a UTF-8 byte-order mark stripped."""
    fields = next(csv.reader([line.lstrip("\ufeff")]), [])
    return [f.replace("\ufeff", "").strip() for f in fields]


def _check_text(p: Path, data: bytes) -> None:
    """NUL bytes and invalid UTF-8 are errors naming the line and column."""
    nul = data.find(b"\x00")
    bad = nul if nul >= 0 else None
    what = "NUL byte (the file is binary or corrupt)"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        if bad is None or e.start < bad:
            bad, what = e.start, f"invalid UTF-8 byte 0x{data[e.start]:02x} (save the file as UTF-8)"
    if bad is None:
        return
    line_start = data.rfind(b"\n", 0, bad) + 1
    field = data.count(b",", line_start, bad) + 1
    raise DataError(f"{what} in field {field}", path=str(p), row=data.count(b"\n", 0, bad) + 1)


# --------------------------------------------------------------------------------------------- parsing
def read_csv_table(path: str | Path, *, header: bool = True, names: list[str] | None = None,
                   column_types: dict | None = None, include: list[str] | None = None) -> tuple[pa.Table, int]:
    """Read a CSV with pyarrow; every error becomes a located :class:`DataError`.

    With ``header`` the names are :func:`header_names` of the first line (``include``/``column_types``
    use those cleaned names); without, ``names`` name the fields. Returns the table and the number of
    header lines (0 or 1): row ``i`` is file line ``i + 1 + header_lines``.
    """
    p, data = read_bytes(path)
    _check_text(p, data)
    if header:
        names = header_names(data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r"))
        dup = sorted({c for c in names if names.count(c) > 1 and c in (include or names)})
        if dup:
            raise DataError(f"column(s) {', '.join(dup)} appear more than once in the header; keep one",
                            path=str(p), row=1)
        seen: dict[str, int] = {}
        cols = []
        for c in names:  # unused duplicate names get a suffix so that pyarrow accepts them
            seen[c] = seen.get(c, 0) + 1
            cols.append(c if seen[c] == 1 else f"{c}.{seen[c]}")
        names = cols
    read = pacsv.ReadOptions(column_names=names, skip_rows=int(header), block_size=1 << 22)
    conv = pacsv.ConvertOptions(column_types=column_types or {}, include_columns=include or [],
                                null_values=[""], strings_can_be_null=False, quoted_strings_can_be_null=True)
    try:
        table = pacsv.read_csv(pa.BufferReader(data), read_options=read, convert_options=conv)
    except pa.ArrowInvalid as e:
        raise _diagnose(p, data, str(e), names or [], int(header)) from None
    if table.num_rows == 0:
        raise DataError("no records (the file has a header but no data rows)" if header else "no records",
                        path=str(p))
    return table, int(header)


def _diagnose(p: Path, data: bytes, msg: str, names: list[str], hdr: int) -> DataError:
    """Turn a pyarrow parse/convert error into a located, one-line DataError (slow path, errors only)."""
    msg1 = msg.replace("\n", " ")
    lines = data.split(b"\n")
    m = re.search(r"Expected (\d+) columns, got (\d+)", msg1)
    if m:
        want = int(m.group(1))
        for i, raw in enumerate(lines):
            if not raw.strip():
                continue
            n = len(next(csv.reader([raw.decode("utf-8", "replace")]), []))
            if n != want:
                last = all(not x.strip() for x in lines[i + 1:])
                what = "truncated last line" if (last and n < want) else "malformed line"
                return DataError(f"{what}: expected {want} fields like {'the header' if hdr else 'line 1'}, "
                                 f"found {n}", path=str(p), row=i + 1)
        return DataError(f"malformed CSV: {msg1}", path=str(p))
    m = re.search(r"column #(\d+): CSV conversion error to ([\w\[\], =/]+?): invalid value", msg1)
    if m:
        col, typ = int(m.group(1)), m.group(2)
        name = names[col] if col < len(names) else str(col)
        pattern = {"int64": _INT_RE, "double": _NUM_RE}.get(typ)
        for i in range(hdr, len(lines)):
            fields = next(csv.reader([lines[i].decode("utf-8", "replace").rstrip("\r")]), [])
            if len(fields) <= col:
                continue
            v = fields[col]
            bad = (v != "" and not re.match(pattern, v)) if pattern else v != "" and _bad_time(v)
            if bad:
                return DataError(f"unparsable value {v!r} (expected {_kind(typ)})", path=str(p), row=i + 1,
                                 column=name)
        return DataError(f"unparsable value in column {name!r} (expected {_kind(typ)})", path=str(p))
    if "Empty CSV file" in msg1:
        return DataError("empty file: no records", path=str(p))
    return DataError(f"unreadable CSV: {msg1}", path=str(p))


def _bad_time(v: str) -> bool:
    try:
        pa.scalar(v).cast(pa.timestamp("ns", "UTC"))
        return False
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return True


def _kind(typ: str) -> str:
    if typ.startswith("timestamp"):
        return "an ISO-8601 time"
    return {"int64": "an integer", "double": "a number", "string": "text"}.get(typ, typ)


def require_columns(names: list[str], required: list[str], path: str, what: str) -> None:
    missing = [c for c in required if c not in names]
    if missing:
        raise DataError(f"missing required column(s) {', '.join(missing)}; a {what} file needs "
                        f"{', '.join(required)}", path=path)


# ------------------------------------------------------------------------------------------ typed columns
def _first_bad(col: pa.ChunkedArray, regex: str) -> tuple[int, str]:
    s = pc.cast(col, pa.string())
    ok = pc.or_(pc.match_substring_regex(s, regex), pc.equal(pc.utf8_length(s), 0))
    ok = pc.fill_null(ok, True)
    bad = np.flatnonzero(~ok.to_numpy(zero_copy_only=False))
    i = int(bad[0]) if bad.size else 0
    return i, str(s[i].as_py())


def raw_numbers(table: pa.Table, name: str, where: Where, *, integer: bool = False) -> np.ndarray:
    """Column ``name`` as numbers: int64/uint64 as read, else float64 with NaN for empty fields.

    Text that is not a number is an error; so is ``NaN`` or ``inf`` written in the file (only an empty
    field means "missing").
    """
    col = table.column(name)
    t = col.type
    if pa.types.is_null(t):
        return np.full(len(col), np.nan)
    if not (pa.types.is_integer(t) or pa.types.is_floating(t)):
        i, v = _first_bad(col, _INT_RE if integer else _NUM_RE)
        raise where.error(f"unparsable value {v!r} (expected {'an integer' if integer else 'a number'})", i, name)
    if pa.types.is_integer(t) and not col.null_count:
        return col.to_numpy()
    arr = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
    if pa.types.is_floating(t):
        valid = col.is_valid().to_numpy(zero_copy_only=False)
        nonfinite = valid & ~np.isfinite(arr)
        if nonfinite.any():
            i = int(np.flatnonzero(nonfinite)[0])
            raise where.error(f"{fmt(arr[i])} is not a number (leave the field empty when there is no value)",
                              i, name)
    return arr


def whole_numbers(raw: np.ndarray, where: Where, column: str, *, lo: int, hi: int, what: str,
                  fill: int | None = 0) -> np.ndarray:
    """Check ``raw`` holds whole numbers in ``[lo, hi]`` (empty → ``fill``, or an error when None); int64.

    The first offending row is reported: empty (when required), fractional, below ``lo`` or above ``hi``.
    """
    a = raw
    if a.dtype.kind == "f":
        empty = np.isnan(a)
        frac = ~empty & (a != np.floor(a))
    else:
        empty = np.zeros(a.shape, bool)
        frac = empty
    with np.errstate(invalid="ignore"):
        low = ~empty & (a < lo) if not (a.dtype.kind == "u" and lo <= 0) else np.zeros(a.shape, bool)
        high = ~empty & (a > hi)
    bad = frac | low | high | (empty if fill is None else False)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        v = a[i]
        if empty[i]:
            msg = f"empty {what} (expected a whole number)"
        elif frac[i]:
            msg = f"fractional {what} {fmt(v)} (must be a whole number)"
        elif low[i]:
            msg = f"negative {what} {fmt(v)}" if v < 0 else f"{what} {fmt(v)} is too small (minimum {lo:,})"
        else:
            msg = f"{what} {fmt(v)} is too large (maximum {hi:,})"
        raise where.error(msg, i, column)
    if a.dtype.kind == "f":
        a = np.where(empty, fill or 0, a)
    return a.astype(np.int64)


def strings_to_codes(col: pa.ChunkedArray) -> np.ndarray:
    """Single-character text column → uint8 character codes (0 for empty/null), vectorised."""
    out = np.zeros(len(col), np.uint8)
    pos = 0
    for chunk in col.chunks:
        n = len(chunk)
        if n:
            enc = chunk.dictionary_encode() if not pa.types.is_dictionary(chunk.type) else chunk
            lut = np.array([min(ord(v[0]), 255) if v else 0 for v in enc.dictionary.to_pylist()] + [0], np.uint8)
            idx = enc.indices.fill_null(len(lut) - 1).to_numpy(zero_copy_only=False)
            out[pos:pos + n] = lut[idx]
        pos += n
    return out


# ------------------------------------------------------------------------------------------------ times
TS_MIN = 631_152_000 * 10**9  # 1990-01-01T00:00:00Z, ns since the epoch
TS_MAX = 4_102_444_800 * 10**9  # 2100-01-01T00:00:00Z (exclusive)
_ISO = r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:?\d\d)?$"
_TS_HELP = "ISO-8601 UTC like 2024-08-01T13:36:32.491911683Z or integer ns since the epoch"


def _iso(ns: int) -> str:
    return str(np.datetime64(int(ns), "ns")) + "Z"


def check_time_range(ts: np.ndarray, where: Where, column: str, valid: np.ndarray | None = None) -> None:
    """Times (ns since the epoch) must fall in 1990-01-01 .. 2099-12-31 UTC; ``valid`` masks rows to check."""
    bad = (ts < TS_MIN) | (ts >= TS_MAX)
    if valid is not None:
        bad &= valid
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        v = int(ts[i])
        shown = _iso(v) if -2**62 < v < 2**62 else fmt(v)
        raise where.error(f"timestamp {fmt(v)} ({shown}) is out of range (expected years 1990-2099; "
                          "integer times must be nanoseconds since the epoch)", i, column)


def timestamps(table: pa.Table, name: str, where: Where, *, missing: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Column ``name`` as int64 ns since the epoch (UTC) and a mask of empty fields.

    ISO-8601 text or integer nanoseconds; years 1990-2099. Empty fields (and ``missing``, e.g. the
    undefined-time sentinel) are returned masked; the caller decides whether they are allowed.
    """
    col = table.column(name)
    t = col.type
    n = len(col)
    empty = col.is_null().to_numpy(zero_copy_only=False) if col.null_count else np.zeros(n, bool)
    if pa.types.is_null(t):
        return np.zeros(n, np.int64), np.ones(n, bool)
    if pa.types.is_timestamp(t):
        col = pc.cast(col, pa.timestamp("ns", t.tz)) if t.unit != "ns" else col
        ts = pc.fill_null(col.cast(pa.int64()), 0).to_numpy()
    elif pa.types.is_integer(t) or pa.types.is_floating(t):
        raw = raw_numbers(table, name, where, integer=True)
        if raw.dtype.kind == "f":
            if missing is not None:
                empty = empty | (raw == missing)
            frac = ~empty & ~np.isnan(raw) & (raw != np.floor(raw))
            if frac.any():
                i = int(np.flatnonzero(frac)[0])
                raise where.error(f"unparsable timestamp {fmt(raw[i])} (expected {_TS_HELP})", i, name)
            big = ~empty & (np.abs(np.nan_to_num(raw)) >= 2.0**63)
            if big.any():
                i = int(np.flatnonzero(big)[0])
                raise where.error(f"timestamp {fmt(raw[i])} is out of range (expected years 1990-2099; "
                                  "integer times must be nanoseconds since the epoch)", i, name)
            ts = np.where(empty, 0, np.nan_to_num(raw)).astype(np.int64)
        else:
            ts = raw.astype(np.int64)
    else:
        s = pc.cast(col, pa.string())
        try:
            ts = pc.fill_null(pc.cast(s, pa.timestamp("ns", "UTC")).cast(pa.int64()), 0).to_numpy()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            i = _first_bad_time(s)
            v = str(s[i].as_py())
            year = v[:4]
            if re.match(_ISO, v) and year.isdigit() and not 1990 <= int(year) <= 2099:
                raise where.error(f"timestamp {v!r} is out of range (expected years 1990-2099)", i, name) from None
            raise where.error(f"unparsable timestamp {v!r} (expected {_TS_HELP})", i, name) from None
    check_time_range(ts, where, name, valid=~empty)
    return ts, empty


def _first_bad_time(s: pa.ChunkedArray) -> int:
    """Index of the first text time that is not ISO-8601 or does not fit ns (years 1678-2261); slow path."""
    ok = pc.fill_null(pc.or_(pc.match_substring_regex(s, _ISO), pc.equal(pc.utf8_length(s), 0)), True)
    ok = ok.to_numpy(zero_copy_only=False)
    years = pc.utf8_slice_codeunits(pc.fill_null(s, "2000"), 0, 4)
    num = pc.match_substring_regex(years, r"^\d{4}$").to_numpy(zero_copy_only=False)
    y = np.where(num, np.array([int(x) if x.isdigit() else 2000 for x in years.to_pylist()]), 2000)
    ok &= (y >= 1678) & (y <= 2261)
    bad = np.flatnonzero(~ok)
    if bad.size:
        return int(bad[0])
    for i, v in enumerate(s.to_pylist()):  # valid shape and year, but not a date (e.g. month 13)
        if v and _bad_time(v):
            return i
    return 0
