"""Format detection, the one entry point :func:`load`, and the shared CSV / validation machinery.

Validation (errors: :class:`~sorlib.errors.DataError` naming file, line — header = line 1 — and column):

* missing file, 0-byte file, header-only file → ``no records``;
* missing required columns (which ones, and what the format expects);
* a line with fewer/more fields than the header (e.g. a truncated last line);
* unparsable numbers or timestamps (row, column and the offending value);
* negative sizes.

Repair policy (every repair is counted in :attr:`LoadReport.repairs` under the key shown; nothing is
dropped silently):

| key | policy |
|---|---|
| `duplicate_record` | a record identical in every column read to an earlier one is dropped (Databento CSV/DBN: all records; TAQ/AlgoSeek: quote rows only — identical prints in the same millisecond are distinct trades, so trades are never de-duplicated) |
| `unsorted_time` | number of rows whose time is earlier than some previous row's; all rows are then stable-sorted by time (equal times keep file order). Databento files are in `ts_recv` order and sorlib uses `ts_event`, so multi-venue files usually count some |
| `crossed_book` | a quote row whose own level-0 bid > ask (within one venue) is dropped; the venue's previous state stays valid until its next row |
| `locked_book` | the same for bid == ask |
| `bad_book_flag` | Databento `F_MAYBE_BAD_BOOK` (flags 1<<2, unrecoverable gap): the row is kept with its book emptied — the venue shows no liquidity until its next clean update |
| `suspicious_quote` | AlgoSeek quote rows with the `suspicious` flag are dropped |
| `suspicious_trade` | the same for AlgoSeek trade rows |
| `stale_own_side_cleared` | one-sided rows (AlgoSeek): a fresh bid (ask) at or through the venue's own carried ask (bid) empties that carried side; the row is changed, not dropped |
| `stale_quote_expired` | NBBO rows (AlgoSeek): a new national best bid `p` proves every other venue's carried bid above `p` gone (asks likewise); each such venue gets one added row with that side empty, stamped with the time of the row that proved it |

Notes (no repair): Databento ``F_BAD_TS_RECV`` (1<<3) is only noted — sorlib times records by
``ts_event``; records whose ``ts_event`` is undefined (bbo-* schemas) use ``ts_recv``.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..errors import DataError
from .market import MarketData

FORMATS = ("auto", "databento", "algoseek", "taq")

_NUM_RE = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
_INT_RE = r"^\s*[-+]?\d+\s*$"


# --------------------------------------------------------------------------------------------- reading
def open_source(path: str | Path) -> tuple[Path, bytes | None]:
    """Check ``path`` exists and is non-empty; for a ``.zip`` return the single member's bytes."""
    p = Path(path)
    if not p.exists():
        raise DataError("file not found", path=str(p))
    if p.is_dir():
        raise DataError("is a directory; give one data file", path=str(p))
    if p.stat().st_size == 0:
        raise DataError("empty file (0 bytes): no records", path=str(p))
    if p.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(p) as z:
                names = [n for n in z.namelist() if not n.endswith("/")]
                if len(names) != 1:
                    raise DataError(f"zip must hold exactly one CSV, found {len(names)} members", path=str(p))
                data = z.read(names[0])
        except zipfile.BadZipFile as e:
            raise DataError(f"not a readable zip file ({e})", path=str(p)) from None
        if not data:
            raise DataError("empty file (0 bytes): no records", path=str(p))
        return p, data
    return p, None


def first_line(path: str | Path) -> str:
    """The first line of a (possibly zipped or compressed) text file, decoded leniently."""
    p, data = open_source(path)
    if data is not None:
        return data[:65536].split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r")
    with pa.input_stream(str(p), compression="detect") as f:
        return f.read(65536).split(b"\n", 1)[0].decode("utf-8", "replace").rstrip("\r")


def _stream(p: Path, data: bytes | None):
    return pa.BufferReader(data) if data is not None else pa.input_stream(str(p), compression="detect")


def _all_lines(p: Path, data: bytes | None) -> list[bytes]:
    if data is None:
        with _stream(p, None) as f:
            data = f.read()
    return data.split(b"\n")


def read_csv_table(path: str | Path, *, header: bool = True, names: list[str] | None = None,
                   column_types: dict | None = None, include: list[str] | None = None,
                   expected_fields: int | None = None) -> tuple[pa.Table, int]:
    """Read a CSV (plain, compressed or single-member zip) with pyarrow; errors become :class:`DataError`.

    Returns the table and the number of header lines (0 or 1), so that row ``i`` is file line
    ``i + 1 + header_lines``.
    """
    p, data = open_source(path)
    read = pacsv.ReadOptions(autogenerate_column_names=False, column_names=None if header else names,
                             block_size=1 << 22)
    conv = pacsv.ConvertOptions(column_types=column_types or {}, include_columns=include or [],
                                strings_can_be_null=False)
    try:
        table = pacsv.read_csv(_stream(p, data), read_options=read, convert_options=conv)
    except pa.ArrowInvalid as e:
        raise _diagnose(p, data, str(e), header) from None
    if table.num_rows == 0:
        raise DataError("no records (the file has a header but no data rows)" if header else "no records",
                        path=str(p))
    if expected_fields is not None and not header and table.num_columns < expected_fields:
        raise DataError(f"expected {expected_fields} fields per line, found {table.num_columns}",
                        path=str(p), row=1)
    return table, int(header)


def _diagnose(p: Path, data: bytes | None, msg: str, header: bool) -> DataError:
    """Turn a pyarrow parse/convert error into a located, one-line DataError (slow path, errors only)."""
    msg1 = msg.replace("\n", " ")
    m = re.search(r"Expected (\d+) columns, got (\d+)", msg1)
    if m:
        want = int(m.group(1))
        lines = _all_lines(p, data)
        for i, raw in enumerate(lines):
            if not raw.strip():
                continue
            n = raw.decode("utf-8", "replace").count(",") + 1
            if n != want:
                last = i == len(lines) - 1 or all(not x.strip() for x in lines[i + 1:])
                what = "truncated last line" if (last and n < want) else "malformed line"
                return DataError(f"{what}: expected {want} fields like the header, found {n}",
                                 path=str(p), row=i + 1)
        return DataError(f"malformed CSV: {msg1}", path=str(p))
    m = re.search(r"column #(\d+): CSV conversion error to (\w+): invalid value '([^']*)'", msg1)
    if m:
        col, typ, val = int(m.group(1)), m.group(2), m.group(3)
        lines = _all_lines(p, data)
        start = 1 if header else 0
        name = lines[0].decode("utf-8", "replace").rstrip("\r").split(",")[col] if header else str(col)
        for i in range(start, len(lines)):
            fields = lines[i].decode("utf-8", "replace").rstrip("\r").split(",")
            if len(fields) > col and fields[col] == val:
                return DataError(f"unparsable value {val!r} (expected {_kind(typ)})", path=str(p),
                                 row=i + 1, column=name)
        return DataError(f"unparsable value {val!r} (expected {_kind(typ)})", path=str(p), column=name)
    if "Empty CSV file" in msg1:
        return DataError("empty file: no records", path=str(p))
    return DataError(f"unreadable CSV: {msg1}", path=str(p))


def _kind(typ: str) -> str:
    return {"int64": "an integer", "double": "a number"}.get(typ, typ)


def require_columns(names: list[str], required: list[str], path: str, what: str) -> None:
    missing = [c for c in required if c not in names]
    if missing:
        raise DataError(f"missing required column(s) {', '.join(missing)}; a {what} file needs "
                        f"{', '.join(required)}", path=path)


def _first_bad(col: pa.ChunkedArray, regex: str) -> tuple[int, str]:
    s = pc.cast(col, pa.string())
    ok = pc.or_(pc.match_substring_regex(s, regex), pc.equal(pc.utf8_length(s), 0))
    ok = pc.fill_null(ok, True)
    bad = np.flatnonzero(~ok.to_numpy(zero_copy_only=False))
    i = int(bad[0]) if bad.size else 0
    return i, str(s[i].as_py())


def numeric(table: pa.Table, name: str, path: str, hdr: int, *, integer: bool = False,
            fill: float | int | None = None) -> np.ndarray:
    """Column ``name`` as float64 (NaN for empty fields) or int64 (``integer``; empty → ``fill``)."""
    col = table.column(name)
    t = col.type
    if pa.types.is_null(t):
        n = len(col)
        return np.full(n, fill if fill is not None else 0, np.int64) if integer else np.full(n, np.nan)
    if not (pa.types.is_integer(t) or pa.types.is_floating(t)):
        i, v = _first_bad(col, _INT_RE if integer else _NUM_RE)
        raise DataError(f"unparsable value {v!r} (expected {'an integer' if integer else 'a number'})",
                        path=path, row=i + 1 + hdr, column=name)
    if integer:
        if pa.types.is_floating(t):
            arr = col.to_numpy()
            fin = np.isfinite(arr)
            frac = fin & (arr != np.round(arr))
            if frac.any():
                i = int(np.flatnonzero(frac)[0])
                raise DataError(f"unparsable value {arr[i]!r} (expected an integer)", path=path,
                                row=i + 1 + hdr, column=name)
            if (~fin).any():
                if fill is None:
                    i = int(np.flatnonzero(~fin)[0])
                    raise DataError("empty value (expected an integer)", path=path, row=i + 1 + hdr,
                                    column=name)
                arr = np.where(fin, arr, fill)
            return arr.astype(np.int64)
        if col.null_count:
            if fill is None:
                i = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])
                raise DataError("empty value (expected an integer)", path=path, row=i + 1 + hdr, column=name)
            col = pc.fill_null(col, fill)
        return col.to_numpy().astype(np.int64, copy=False)
    if pa.types.is_integer(t) and col.null_count:
        col = pc.cast(col, pa.float64())
    return col.to_numpy()


def timestamps(table: pa.Table, name: str, path: str, hdr: int) -> np.ndarray:
    """Column ``name`` as int64 ns since the epoch (UTC): ISO-8601 text or integer nanoseconds."""
    col = table.column(name)
    t = col.type
    if col.null_count:
        i = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])
        raise DataError("missing timestamp", path=path, row=i + 1 + hdr, column=name)
    if pa.types.is_timestamp(t):
        if t.unit != "ns":
            col = pc.cast(col, pa.timestamp("ns", t.tz))
        return col.cast(pa.int64()).to_numpy()
    if pa.types.is_integer(t):
        return col.to_numpy().astype(np.int64, copy=False)
    # strings: try an explicit ISO-8601 parse, then locate the first bad value
    s = pc.cast(col, pa.string())
    try:
        return pc.cast(s, pa.timestamp("ns", "UTC")).cast(pa.int64()).to_numpy()
    except pa.ArrowInvalid:
        pass
    iso = r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:?\d\d)?$"
    i, v = _first_bad(s, iso)
    raise DataError(f"unparsable timestamp {v!r} (expected ISO-8601 UTC like 2024-08-01T13:36:32.491911683Z "
                    "or integer ns since the epoch)", path=path, row=i + 1 + hdr, column=name)


def check_nonnegative(arr: np.ndarray, name: str, path: str, hdr: int, rows: np.ndarray | None = None) -> None:
    neg = arr < 0
    if neg.any():
        i = int(np.flatnonzero(neg)[0])
        line = (int(rows[i]) if rows is not None else i) + 1 + hdr
        raise DataError(f"negative size {int(arr[i])}", path=path, row=line, column=name)


def strings_to_codes(col: pa.ChunkedArray) -> np.ndarray:
    """Single-character text column → uint8 character codes (0 for empty/null), vectorised."""
    out = np.zeros(len(col), np.uint8)
    pos = 0
    for chunk in col.chunks:
        n = len(chunk)
        if n:
            enc = chunk.dictionary_encode() if not pa.types.is_dictionary(chunk.type) else chunk
            lut = np.array([ord(v[0]) if v else 0 for v in enc.dictionary.to_pylist()] + [0], np.uint8)
            idx = enc.indices.fill_null(len(lut) - 1).to_numpy(zero_copy_only=False)
            out[pos:pos + n] = lut[idx]
        pos += n
    return out


# ----------------------------------------------------------------------------------- repairs (shared)
def _u64(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind == "f":
        a = np.where(np.isnan(a), np.nan, a + 0.0)  # canonical NaN, -0.0 → 0.0
        return a.view(np.uint64)
    if a.dtype.kind in "SU":
        return np.unique(a, return_inverse=True)[1].astype(np.uint64)
    return a.astype(np.int64, copy=False).view(np.uint64) if a.dtype.itemsize == 8 else a.astype(np.uint64)


def duplicate_mask(columns: list[np.ndarray], verify: list[np.ndarray] | None = None) -> np.ndarray:
    """True for rows identical to an earlier row in every column of ``columns`` and ``verify``.

    Vectorised: rows are hashed on ``columns`` (1-D arrays); rows sharing a hash are then compared
    exactly on all of ``columns`` and ``verify`` (1-D or 2-D arrays).
    """
    n = len(columns[0])
    mask = np.zeros(n, bool)
    if n < 2:
        return mask
    h = np.full(n, 0x9E3779B97F4A7C15, np.uint64)
    for c in columns:
        v = _u64(np.ascontiguousarray(c)) * np.uint64(0xBF58476D1CE4E5B9)
        h ^= v + np.uint64(0x9E3779B97F4A7C15) + (h << np.uint64(6)) + (h >> np.uint64(2))
    import pandas as pd

    cand = np.flatnonzero(pd.Series(h).duplicated(keep=False).to_numpy())  # hash table, no sort
    if cand.size == 0:
        return mask

    data: dict = {}
    for c in [*columns, *(verify or [])]:
        c = np.asarray(c)[cand]
        for j in range(c.shape[1] if c.ndim == 2 else 1):
            data[len(data)] = c[:, j] if c.ndim == 2 else c
    dup = pd.DataFrame(data).duplicated(keep="first").to_numpy()
    mask[cand[dup]] = True
    return mask


def time_order(ts: np.ndarray) -> tuple[np.ndarray | None, int]:
    """Stable sort order for ``ts`` (None when already sorted) and the number of rows out of order."""
    if ts.size < 2:
        return None, 0
    d = ts[1:] < ts[:-1]
    if not d.any():
        return None, 0
    out_of_order = int(np.count_nonzero(ts[1:] < np.maximum.accumulate(ts)[:-1]))
    return np.argsort(ts, kind="stable"), out_of_order


def crossed_locked(bid0: np.ndarray, ask0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of rows whose own top of book is crossed (bid > ask) or locked (bid == ask)."""
    both = np.isfinite(bid0) & np.isfinite(ask0)
    return both & (bid0 > ask0), both & (bid0 == ask0)


# --------------------------------------------------------------------------------------- detection
def detect_format(path: str | Path) -> str:
    """``databento`` (CSV with ts_event/ts_recv header, or .dbn[.zst]), ``algoseek`` or ``taq``."""
    p = Path(path)
    name = p.name.lower()
    if name.endswith((".dbn", ".dbn.zst")):
        return "databento"
    line = first_line(p)
    fields = [f.strip() for f in line.split(",")]
    if "ts_event" in fields or "ts_recv" in fields:
        return "databento"
    if re.fullmatch(r"\d{8}_(quote|trade)\.(zip|csv)", name) or (
            len(fields) in (6, 8) and all(re.fullmatch(r"-?\d+|[A-Z]", f) for f in fields)):
        return "algoseek"
    raise DataError("cannot tell the format: not a Databento CSV/DBN (no ts_event column) nor an AlgoSeek "
                    "tick file; pass --format taq with a TaqLayout, or --format databento|algoseek",
                    path=str(p))


def load(path: str | Path, format: str = "auto", **kw) -> MarketData:
    """Read one market-data file into :class:`MarketData`.

    ``format``: ``auto`` (detect), ``databento`` (MBP-1/MBP-10/TBBO/BBO CSV or DBN), ``algoseek``
    (Lean/AlgoSeek tick zip; the sibling trade/quote zip is loaded too) or ``taq`` (needs
    ``layout=TaqLayout(...)``). Extra keywords go to the reader.
    """
    if format not in FORMATS:
        raise DataError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}", path=str(path))
    fmt = detect_format(path) if format == "auto" else format
    if fmt == "databento":
        from .databento import read_databento

        return read_databento(path, **kw)
    from .taq import ALGOSEEK, read_taq

    if fmt == "algoseek":
        kw.setdefault("layout", ALGOSEEK)
        return read_taq(path, **kw)
    if "layout" not in kw:
        raise DataError("format 'taq' needs a column layout (layout=TaqLayout(...))", path=str(path))
    return read_taq(path, **kw)


__all__ = ["FORMATS", "crossed_locked", "detect_format", "duplicate_mask", "load", "read_csv_table",
           "time_order"]
