"""Databento MBP-1 / MBP-10 / TBBO / BBO readers: CSV (pretty or fixed-point) and DBN (``.dbn[.zst]``).

Mapping to :class:`~sorlib.data.market.MarketData`:

* time = ``ts_event`` (the matching-engine time; ``ts_recv`` is the capture time and orders the file).
  Records whose ``ts_event`` is undefined (the bbo-* schemas) use ``ts_recv``.
* venue = ``publisher_id``; :data:`PUBLISHERS` (and the ``databento`` package's publisher table) name it.
* every book record becomes one quote row, the venue's book *after* the event (MBP-1 → 1 level, MBP-10 →
  10 levels); TBBO records carry the book just before the trade and are kept as quote rows too.
  Action ``R`` (clear book) gives a row with every level empty.
* action ``T`` records (and every TBBO record) are also trades: ``price``, ``size`` and the aggressor
  ``side`` (Databento: ``B`` = buy aggressor lifting the ask → +1, ``A`` = sell aggressor hitting the
  bid → −1, ``N`` → 0).
* prices become float64 dollars once, here: pretty decimals as parsed, fixed-point integers divided by
  1e9 (a correctly rounded division, so both spellings give identical dollars); the undefined price
  (int64 max) or an empty field is an empty level (NaN price, size 0).

* one instrument and one trading date per load: a file interleaving several (``symbol``/``instrument_id``)
  or spanning several New York dates is refused with the list, unless ``symbol=``/``date=`` picks one.

Validation (thresholds in :mod:`sorlib.data.validate`) and repairs follow the policy table in
:mod:`sorlib.data.load`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..errors import DataError
from ._csv import (
    Where,
    check_time_range,
    first_line,
    header_names,
    open_source,
    raw_numbers,
    read_csv_table,
    require_columns,
    strings_to_codes,
    timestamps,
    whole_numbers,
)
from .market import LoadReport, MarketData, Quotes, Trades
from .validate import (
    MAX_SIZE,
    check_prices,
    crossed_locked,
    duplicate_mask,
    pick_instrument,
    pick_session,
    reference_price,
    stub_levels,
    time_order,
)

UNDEF_PRICE = 9223372036854775807  # int64 max: Databento's "no price"
UNDEF_TS = 18446744073709551615  # uint64 max: Databento's "no timestamp"
PRICE_SCALE = 1e-9  # one fixed-point unit in dollars
DBN_CHUNK = 250_000  # DBN records decoded (and checked) at a time: 92 MB of MBP-10 records

# record flags (bit set in ``flags``)
F_LAST = 1 << 7
F_TOB = 1 << 6
F_SNAPSHOT = 1 << 5
F_MBP = 1 << 4
F_BAD_TS_RECV = 1 << 3
F_MAYBE_BAD_BOOK = 1 << 2

QUOTE_SCHEMAS = ("mbp-1", "mbp-10", "tbbo", "bbo-1s", "bbo-1m")

PUBLISHERS: dict[int, str] = {
    1: "GLBX.MDP3", 2: "XNAS.ITCH", 3: "XBOS.ITCH", 4: "XPSX.ITCH", 5: "BATS.PITCH", 6: "BATY.PITCH",
    7: "EDGA.PITCH", 8: "EDGX.PITCH", 9: "XNYS.PILLAR", 10: "XCIS.PILLAR", 11: "XASE.PILLAR",
    12: "XCHI.PILLAR", 15: "MEMX.MEMOIR", 16: "EPRL.DOM", 39: "DBEQ.BASIC.XCHI", 40: "DBEQ.BASIC.XCIS",
    41: "DBEQ.BASIC.IEXG", 42: "DBEQ.BASIC.EPRL", 95: "EQUS.MINI",
}

_REQUIRED = ["ts_event", "publisher_id", "action", "side", "price", "size",
             "bid_px_00", "ask_px_00", "bid_sz_00", "ask_sz_00"]
_T, _R, _A, _B = ord("T"), ord("R"), ord("A"), ord("B")
_BBO_RTYPES = (0xC3, 0xC4)  # bbo-1s, bbo-1m: ts_event may be undefined
TZ = "America/New_York"  # trading dates are New York dates


def publisher_name(publisher_id: int) -> str:
    """Readable name of a Databento ``publisher_id`` (``str(id)`` when unknown)."""
    pid = int(publisher_id)
    if pid in PUBLISHERS:
        return PUBLISHERS[pid]
    try:
        from databento.common.publishers import Publisher

        return str(Publisher.from_int(pid).value)
    except Exception:  # noqa: BLE001 - unknown id or older package
        return str(pid)


def read_databento(path: str | Path, *, progress: bool | None = None, **kw) -> MarketData:
    """Read a Databento CSV or DBN file (chosen by suffix); ``progress``: see :func:`read_dbn` (DBN only)."""
    name = Path(path).name.lower()
    if name.endswith((".dbn", ".dbn.zst")):
        return read_dbn(path, progress=progress, **kw)
    return read_databento_csv(path, **kw)


class _Progress:
    """Records decoded so far, on stderr: a tqdm bar (records/s) when ``show`` is True, one plain line every
    30 s when it is None (piped output); nothing when False."""

    def __init__(self, show: bool | None, label: str) -> None:
        import time

        self.show, self.label, self.n, self.bar = show, label, 0, None
        self.t0 = self.last = time.monotonic()
        if show:
            from tqdm.auto import tqdm

            self.bar = tqdm(desc=f"decode {label}", unit=" rec", unit_scale=True, leave=False)

    def update(self, k: int) -> None:
        import sys
        import time

        self.n += k
        if self.bar is not None:
            self.bar.update(k)
        elif self.show is None and time.monotonic() - self.last >= 30.0:
            self.last = time.monotonic()
            dt = self.last - self.t0
            print(f"load: {self.n:,} records of {self.label} decoded, {self.n / dt:,.0f} records/s", file=sys.stderr,
                  flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# ------------------------------------------------------------------------------------------------ CSV
def read_databento_csv(path: str | Path, *, price_scale: float | None = None, symbol: str | None = None,
                       date: str | None = None) -> MarketData:
    """Read a Databento MBP-1/MBP-10/TBBO/BBO CSV (pretty or raw; optional ``symbol``; extra columns ignored).

    ``price_scale`` ($ per price unit) overrides the detection: fixed-point (1e-9) when no price column
    holds a decimal number and an integer price column holds a magnitude >= 1e6, else decimal dollars.
    ``symbol`` / ``date`` (YYYY-MM-DD, New York) pick one instrument / trading date of the file.
    """
    p = str(path)
    spec = csv_spec(path)
    table, hdr = read_csv_table(path, include=spec["include"], column_types=spec["types"])
    cols, symbols = csv_columns(table, Where(p, hdr), spec, price_scale)
    price_scale = cols.pop("scale")
    levels, optional = spec["levels"], spec["optional"]
    ids = cols["extra"][0]
    keep = pick_instrument(p, ids if "instrument_id" in optional else None, cols["venue"], symbols, {}, symbol)
    report = LoadReport(source=p, format=f"databento-csv/mbp-{levels}" + ("/fixed" if price_scale != 1 else ""))
    cols, symbols = _select(report, cols, symbols, keep, date)
    name = None
    if symbols is not None:
        vals = np.unique(symbols[symbols != ""])
        name = str(vals[0]) if vals.size == 1 else None
    return _assemble(report, **cols, all_trades=False, symbol=name,
                     recv=cols["extra"][3] if "ts_recv" in optional else None)


def csv_spec(path: str | Path) -> dict:
    """What a Databento CSV's header asks to read: ``names``, ``levels``, ``lvl_cols``, ``optional``, ``include``
    and the pyarrow column ``types``; a :class:`DataError` for an MBO file or missing columns."""
    p = str(path)
    open_source(path)
    names = header_names(first_line(path))
    if "order_id" in names and "bid_px_00" not in names:
        raise DataError("this looks like a Databento MBO (market-by-order) file; sorlib reads MBP-1, MBP-10, "
                        "TBBO and BBO files (book levels bid_px_00/ask_px_00...)", path=p)
    require_columns(names, _REQUIRED, p, "Databento MBP")
    levels = 0
    while f"bid_px_{levels:02d}" in names:
        levels += 1
    lvl_cols = [f"{s}_{k:02d}" for k in range(levels) for s in ("bid_px", "ask_px", "bid_sz", "ask_sz")]
    missing = [c for c in lvl_cols if c not in names]
    if missing:
        raise DataError(f"missing required column(s) {', '.join(missing)} (a book level needs bid_px, "
                        "ask_px, bid_sz and ask_sz)", path=p)
    optional = [c for c in ("ts_recv", "rtype", "instrument_id", "depth", "flags", "sequence", "symbol")
                if c in names]
    include = list(dict.fromkeys(_REQUIRED + optional + lvl_cols))
    dict_t = pa.dictionary(pa.int32(), pa.string())
    types = {c: dict_t for c in ("action", "side", "symbol") if c in names}
    return {"names": names, "levels": levels, "lvl_cols": lvl_cols, "optional": optional, "include": include,
            "types": types}


def csv_columns(table: pa.Table, w: Where, spec: dict, price_scale: float | None) -> tuple[dict, np.ndarray | None]:
    """Rows of a Databento CSV table → checked columns (times ns, prices $, sizes shares, levels ``(n, L)``,
    ``extra`` = instrument id, depth, sequence[, ts_recv with −1 = empty]) and the stripped ``symbol`` texts;
    ``cols["scale"]`` is the price scale used (detected by :func:`_looks_fixed_point` when None)."""
    levels, lvl_cols, optional = spec["levels"], spec["lvl_cols"], spec["optional"]
    n = table.num_rows

    def ints(c: str, lo: int, hi: int, fill: int | None) -> np.ndarray:
        if c not in optional and c not in _REQUIRED:
            return np.full(n, -1 if fill is None else fill, np.int64)
        return whole_numbers(raw_numbers(table, c, w, integer=True), w, c, lo=lo, hi=hi, what=c, fill=fill)

    rtype = ints("rtype", 0, 255, -1)
    ts = _csv_times(table, w, rtype, "ts_recv" in optional)
    venue = ints("publisher_id", 0, 65535, None)
    action = strings_to_codes(table.column("action"))
    side = strings_to_codes(table.column("side"))
    flags = ints("flags", 0, 255, 0)
    size = whole_numbers(raw_numbers(table, "size", w, integer=True), w, "size", lo=0, hi=MAX_SIZE, what="size")
    is_trade = action == _T
    zero = is_trade & (size == 0)
    if zero.any():
        raise w.error("trade of 0 shares (a trade needs a size of at least 1)", int(np.flatnonzero(zero)[0]), "size")

    px_names = ["price"] + [c for c in lvl_cols if "_px_" in c]
    raw_px = {c: raw_numbers(table, c, w) for c in px_names}
    if price_scale is None:
        price_scale = PRICE_SCALE if _looks_fixed_point(raw_px) else 1.0
    px = {}
    for c, raw in raw_px.items():
        px[c] = _dollars(raw, price_scale)
        if c == "price":  # the record's order price: used (and checked) on trades only
            px[c] = np.where(is_trade, px[c], np.nan)
        check_prices(px[c], w, c, required=is_trade if c == "price" else None,
                     sentinel=UNDEF_PRICE if price_scale == 1 else None)
    sz = {c: whole_numbers(raw_numbers(table, c, w, integer=True), w, c, lo=0, hi=MAX_SIZE, what="size")
          for c in lvl_cols if "_sz_" in c}
    bid_px = _stack([px[f"bid_px_{k:02d}"] for k in range(levels)])
    ask_px = _stack([px[f"ask_px_{k:02d}"] for k in range(levels)])
    bid_sz = _stack([sz[f"bid_sz_{k:02d}"] for k in range(levels)])
    ask_sz = _stack([sz[f"ask_sz_{k:02d}"] for k in range(levels)])

    ids = ints("instrument_id", 0, 2**32 - 1, -1)
    extra = [ids, ints("depth", 0, 255, -1), ints("sequence", 0, 2**63 - 1, -1)]
    if "ts_recv" in optional:
        recv, empty = timestamps(table, "ts_recv", w, missing=float(UNDEF_TS))
        extra.append(np.where(empty, -1, recv))
    symbols = None
    if "symbol" in optional:
        symbols = table.column("symbol").cast(pa.string()).to_numpy(zero_copy_only=False).astype(str)
        symbols = np.char.strip(symbols)
    return dict(ts=ts, venue=venue, action=action, side=side, flags=flags, price=px["price"], size=size,
                bid_px=bid_px, bid_sz=bid_sz, ask_px=ask_px, ask_sz=ask_sz, extra=extra, scale=price_scale), symbols


def _select(report: LoadReport, cols: dict, symbols, keep: np.ndarray | None, date: str | None):
    """Keep the rows of one instrument (``keep``) and one trading date (``date``); note what was dropped."""
    n = len(cols["ts"])
    if keep is not None:
        cols = {k: ([a[keep] for a in v] if k == "extra" else v[keep]) for k, v in cols.items()}
        symbols = symbols[keep] if symbols is not None else None
    day = pick_session(report.source, cols["ts"], TZ, date)
    if day is not None:
        cols = {k: ([a[day] for a in v] if k == "extra" else v[day]) for k, v in cols.items()}
        symbols = symbols[day] if symbols is not None else None
    kept = len(cols["ts"])
    if kept < n:
        report.notes.append(f"kept {kept:,} of {n:,} records (the chosen instrument and date)")
    return cols, symbols


def _csv_times(table: pa.Table, w: Where, rtype: np.ndarray, has_recv: bool) -> np.ndarray:
    """``ts_event`` (ns); an empty one is allowed only on bbo-* records, which then use ``ts_recv``."""
    ts, empty = timestamps(table, "ts_event", w, missing=float(UNDEF_TS))
    if not empty.any():
        return ts
    allowed = np.isin(rtype, _BBO_RTYPES) if has_recv else np.zeros(len(ts), bool)
    bad = empty & ~allowed
    if bad.any():
        raise w.error("missing timestamp (ts_event is empty)", int(np.flatnonzero(bad)[0]), "ts_event")
    recv, recv_empty = timestamps(table, "ts_recv", w, missing=float(UNDEF_TS))
    both = empty & recv_empty
    if both.any():
        raise w.error("missing timestamp (ts_event and ts_recv are both empty)", int(np.flatnonzero(both)[0]),
                      "ts_recv")
    return np.where(empty, recv, ts)


def _looks_fixed_point(raw_px: dict[str, np.ndarray]) -> bool:
    """Fixed-point (1e-9) when no price column is decimal and some integer price is >= 1e6 units."""
    decimal, big = fixed_point_facts(raw_px)
    return not decimal and big


def fixed_point_facts(raw_px: dict[str, np.ndarray]) -> tuple[bool, bool]:
    """(some price column holds a decimal number, some price is >= 1e6 units): :func:`_looks_fixed_point`'s
    facts, which combine over chunks of rows by ``or``."""
    if any(a.dtype.kind == "f" and np.any(a[~np.isnan(a)] != np.floor(a[~np.isnan(a)])) for a in raw_px.values()):
        return True, False
    for a in raw_px.values():
        v = a[~np.isnan(a)] if a.dtype.kind == "f" else a
        if v.size and np.max(np.abs(v.astype(np.float64))) >= 1e6:
            return False, True
    return False, False


def _dollars(raw: np.ndarray, scale: float) -> np.ndarray:
    """Raw prices → $ (float64, NaN = empty); the fixed-point undefined price is an empty level."""
    if scale == 1:
        return raw.astype(np.float64)
    undef = raw == (UNDEF_PRICE if raw.dtype.kind in "iu" else float(UNDEF_PRICE))
    out = _scale(raw.astype(np.float64), scale)
    out[undef] = np.nan
    return out


def _stack(levels: list[np.ndarray]) -> np.ndarray:
    """``(n, L)`` array of per-level columns."""
    return levels[0][:, None] if len(levels) == 1 else np.column_stack(levels)


def _scale(v: np.ndarray, scale: float) -> np.ndarray:
    """Raw → $: divide by the integer 1/scale when it is one (correctly rounded), else multiply."""
    if scale == 1:
        return v
    inv = 1.0 / scale
    return v / round(inv) if abs(inv - round(inv)) < 1e-6 * inv else v * scale


# ------------------------------------------------------------------------------------------------ DBN
def open_dbn(path: str | Path):
    """``(DBNStore, schema name or None)`` of a DBN file; a :class:`DataError` naming the file when it cannot
    be decoded. Imports ``databento`` here (slow to import)."""
    p = str(path)
    open_source(path)
    import databento as db

    try:
        store = db.DBNStore.from_file(p)
        return store, (str(store.schema) if store.schema is not None else None)
    except Exception as e:  # noqa: BLE001 - the decoder raises several types
        raise DataError(f"not a readable DBN file ({str(e).splitlines()[0] if str(e) else type(e).__name__})",
                        path=p) from None


def read_dbn(path: str | Path, *, symbol: str | None = None, date: str | None = None,
             progress: bool | None = False) -> MarketData:
    """Read a DBN file (``.dbn`` or ``.dbn.zst``) of schema mbp-1, mbp-10, tbbo or bbo-1s/bbo-1m.

    ``symbol`` / ``date`` (YYYY-MM-DD, New York) pick one instrument / trading date of the file.
    ``progress``: records decoded on stderr — True a tqdm bar, None a line every 30 s, False nothing.
    """
    p = str(path)
    store, schema = open_dbn(path)
    if schema not in QUOTE_SCHEMAS:
        raise DataError(f"DBN schema {schema!r} has no quote records; supported schemas: "
                        f"{', '.join(QUOTE_SCHEMAS)}", path=p)
    parts, fault, n = [], None, 0
    bar = _Progress(progress, Path(p).name) if progress is not False else None
    try:
        with warnings.catch_warnings():  # a truncated file is reported by _check_complete, as one error line
            warnings.filterwarnings("ignore", message=".*truncated.*")
            for a in store.to_ndarray(count=DBN_CHUNK):  # decoded and checked chunk by chunk
                if len(a) == 0:
                    continue
                try:
                    parts.append(_dbn_columns(a, Where(p, None), n, schema))
                except DataError as e:  # reported after the completeness check, as before chunking
                    fault = e
                    break
                n += len(a)
                if bar is not None:
                    bar.update(len(a))
            a = None  # the last decoded chunk: freed before assembly
    except Exception as e:  # noqa: BLE001
        why = (str(e).splitlines() or [type(e).__name__])[0]
        raise DataError(f"DBN decode failed (truncated or corrupt file): {why}", path=p) from None
    finally:
        if bar is not None:
            bar.close()
    if not parts and fault is None:
        raise DataError("no records", path=p)
    _check_complete(store, p)
    if fault is not None:
        raise fault
    names = parts[0]["names"]
    all_trades = schema == "tbbo"
    # one column at a time, each chunk's piece released once joined: the peak is the columns plus one column
    cat = {k: _join([c.pop(k) for c in parts]) for k in list(parts[0]) if k not in ("names", "extra")}
    extra = [_join([c["extra"][j] for c in parts]) for j in range(len(parts[0]["extra"]))]
    parts.clear()
    ts, action, side, price, size, ids, venue = (cat.pop(k) for k in ("ts", "action", "side", "price", "size",
                                                                       "ids", "venue"))
    bid_px, ask_px, bid_sz, ask_sz, flags = (cat.pop(k) for k in ("bid_px", "ask_px", "bid_sz", "ask_sz", "flags"))
    id_names: dict[int, str] = {}
    for raw, intervals in (store.mappings or {}).items():
        for iv in intervals:
            if str(iv.get("symbol", "")).isdigit():
                id_names[int(iv["symbol"])] = str(raw)
    keep = pick_instrument(p, ids, venue, None, id_names, symbol)
    cols = dict(ts=ts, venue=venue, action=action, side=side, flags=flags, price=price,
                size=size, bid_px=bid_px, bid_sz=bid_sz, ask_px=ask_px, ask_sz=ask_sz, extra=extra + [ids])
    report = LoadReport(source=p, format=f"databento-dbn/{schema}")
    cols, _ = _select(report, cols, None, keep, date)
    kept_ids = np.unique(cols["extra"][-1])
    name = id_names.get(int(kept_ids[0])) if kept_ids.size == 1 else None
    if name is None:
        syms = [s for s in (store.symbols or []) if s and s != "ALL_SYMBOLS"]
        name = syms[0] if len(syms) == 1 else None
    if store.dataset:
        report.notes.append(f"dataset {store.dataset}")
    recv = cols["extra"][0].astype(np.int64) if "ts_recv" in names else None
    return _assemble(report, **cols, all_trades=all_trades, no_trades=schema.startswith("bbo"), symbol=name,
                     recv=recv)


@dataclass(frozen=True)
class _Shifted(Where):
    """:class:`Where` for a chunk whose first record is record ``base + 1`` of the file."""

    base: int = 0

    def error(self, message: str, i: int | None = None, column: str | None = None) -> DataError:
        return super().error(message, None if i is None else int(i) + self.base, column)


def _dbn_columns(a: np.ndarray, where: Where, base: int, schema: str) -> dict:
    """One decoded chunk (records ``base + 1 ..`` of the file) → checked, compact columns (copies, never
    views of ``a``): times (ns), prices ($), sizes (shares), levels ``(n, L)``, the identifying extras."""
    w = _Shifted(where.path, where.hdr, base)
    names = a.dtype.names
    levels = 0
    while f"bid_px_{levels:02d}" in names:
        levels += 1
    ts = a["ts_event"].astype(np.uint64)
    undef = ts == np.uint64(UNDEF_TS)
    ts = ts.astype(np.int64)
    if undef.any():
        ts[undef] = a["ts_recv"].astype(np.int64)[undef]
    check_time_range(ts, w, "ts_event")
    n = len(a)
    action = np.array(a["action"]).view(np.uint8) if "action" in names else np.zeros(n, np.uint8)
    side = np.array(a["side"]).view(np.uint8)
    all_trades = schema == "tbbo"
    is_trade = np.ones(n, bool) if all_trades else (action == _T) & (not schema.startswith("bbo"))

    def dollars(c: str, required: np.ndarray | None = None) -> np.ndarray:
        out = _dollars(a[c].astype(np.int64), PRICE_SCALE)
        if required is not None:  # the record's order price: used (and checked) on trades only
            out[~required] = np.nan
        check_prices(out, w, c, required=required)
        return out

    def sizes(c: str) -> np.ndarray:
        return whole_numbers(a[c].astype(np.int64), w, c, lo=0, hi=MAX_SIZE, what="size")

    price = dollars("price", required=is_trade)
    size = sizes("size")
    zero = is_trade & (size == 0)
    if zero.any():
        raise w.error("trade of 0 shares (a trade needs a size of at least 1)", int(np.flatnonzero(zero)[0]), "size")
    return {"names": names, "ts": ts, "action": action, "side": side, "price": price, "size": size,
            "bid_px": _stack([dollars(f"bid_px_{k:02d}") for k in range(levels)]),
            "ask_px": _stack([dollars(f"ask_px_{k:02d}") for k in range(levels)]),
            "bid_sz": _stack([sizes(f"bid_sz_{k:02d}") for k in range(levels)]),
            "ask_sz": _stack([sizes(f"ask_sz_{k:02d}") for k in range(levels)]),
            "extra": [np.array(a[c]) for c in ("ts_recv", "instrument_id", "sequence", "depth") if c in names],
            "ids": a["instrument_id"].astype(np.int64), "venue": a["publisher_id"].astype(np.int64),
            "flags": a["flags"].astype(np.int64)}


def _join(pieces: list[np.ndarray]) -> np.ndarray:
    """Chunks of one column → one array (the single chunk itself, uncopied)."""
    return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


def _check_complete(store, p: str, block: int = 1 << 24) -> None:
    """A DBN body must be whole records (the decoder silently drops a truncated last record).

    Streamed in blocks of ``block`` bytes (memory bounded whatever the file size) when every record has the
    size of the first (MBP files): each block's record starts must carry that size and the body must end on
    a record boundary. Mixed record sizes fall back to walking the lengths over the whole body."""
    try:
        r = store.reader
        head = r.read(8)
        if head[:3] != b"DBN" or len(head) < 8:
            return
        mlen = int.from_bytes(head[4:8], "little")
        if len(r.read(mlen)) < mlen:
            return
        carry, rec, first = b"", 0, None
        while True:
            chunk = r.read(block)
            if not chunk:
                break
            buf = carry + chunk
            if first is None:
                first = buf[0]
                rec = first * 4
                if not rec:
                    break
            body = np.frombuffer(buf, np.uint8)
            full = body.size // rec * rec
            if not (body[:full:rec] == first).all():
                rec = 0  # mixed record sizes: the slow walk below
                break
            carry = bytes(buf[full:])
    except Exception as e:  # noqa: BLE001 - zstd/IO errors of a damaged file
        raise DataError(f"DBN file truncated or corrupt ({str(e).splitlines()[0] if str(e) else type(e).__name__})",
                        path=p) from None
    if first is None or (rec and not carry):
        return
    if rec:
        raise DataError("DBN file truncated or corrupt: the last record is incomplete; re-download the file",
                        path=p)
    _walk_records(store, p)


def _walk_records(store, p: str) -> None:
    """Slow path of :func:`_check_complete`: follow every record's length over the whole body."""
    try:
        data = store.reader.read()
    except Exception as e:  # noqa: BLE001
        raise DataError(f"DBN file truncated or corrupt ({str(e).splitlines()[0] if str(e) else type(e).__name__})",
                        path=p) from None
    body = np.frombuffer(data, np.uint8)[8 + int.from_bytes(data[4:8], "little"):]
    pos, n = 0, body.size
    while pos < n and body[pos]:
        pos += int(body[pos]) * 4
    if pos != n:
        raise DataError("DBN file truncated or corrupt: the last record is incomplete; re-download the file",
                        path=p)


# ------------------------------------------------------------------------------------------- assembly
def _assemble(report: LoadReport, *, ts, venue, action, side, flags, price, size, bid_px, bid_sz, ask_px,
              ask_sz, extra, all_trades: bool, symbol: str | None, no_trades: bool = False,
              recv: np.ndarray | None = None) -> MarketData:
    """Shared tail of the CSV and DBN readers: de-duplicate, sort, split trades, apply the repair policy.

    ``recv``: ``ts_recv`` (ns, −1 = empty) per record, for the per-venue feed latency."""
    n = len(ts)
    feed = _feed_latency_us(ts, recv, venue)
    report.rows_read = n
    # 1. exact duplicates: identical in every field read, flags and every book level included
    dup = duplicate_mask([ts, venue, action, side, flags, price, size, *extra, bid_px, ask_px, bid_sz, ask_sz])
    report.count("duplicate_record", int(dup.sum()))
    cols = [ts, venue, action, side, flags, price, size, bid_px, bid_sz, ask_px, ask_sz]
    if dup.any():
        cols = [c[~dup] for c in cols]
    # 2. stable time sort
    order, unsorted = time_order(cols[0])
    report.count("unsorted_time", unsorted)
    if order is not None:
        cols = [c[order] for c in cols]
    ts, venue, action, side, flags, price, size, bid_px, bid_sz, ask_px, ask_sz = cols
    venue = venue.astype(np.int32)
    # 3. trades
    if no_trades:
        tmask = np.zeros(len(ts), bool)
    else:
        tmask = np.ones(len(ts), bool) if all_trades else action == _T
    tside = np.where(side == _B, 1, np.where(side == _A, -1, 0)).astype(np.int8)
    trades = Trades(ts[tmask], venue[tmask], price[tmask], size[tmask], tside[tmask])
    # 4. quotes: clears and bad-book rows are empty books; stub levels are emptied
    bad_ts = int(np.count_nonzero(flags & F_BAD_TS_RECV))
    if bad_ts:
        report.notes.append(f"{bad_ts} record(s) flagged F_BAD_TS_RECV (no effect: ts_event is used)")
    bad = (flags & F_MAYBE_BAD_BOOK) != 0
    report.count("bad_book_flag", int(bad.sum()))
    # edited in place, no defensive copy (32 bytes per level per record at the peak): both readers hand over
    # freshly built level arrays that nothing else uses
    empty = bad | (action == _R)
    bid_px[empty], ask_px[empty] = np.nan, np.nan
    bid_sz[np.isnan(bid_px)] = 0
    ask_sz[np.isnan(ask_px)] = 0
    stub_levels(bid_px, bid_sz, ask_px, ask_sz, reference_price(trades.price, bid_px[:, 0], ask_px[:, 0]), report)
    crossed, locked = crossed_locked(bid_px[:, 0], ask_px[:, 0])
    report.count("crossed_book", int(crossed.sum()))
    report.count("locked_book", int(locked.sum()))
    qkeep = ~(crossed | locked)
    quotes = Quotes(ts, venue, bid_px, bid_sz, ask_px, ask_sz)
    if not qkeep.all():
        quotes = quotes.take(qkeep)
    report.quote_rows, report.trade_rows = len(quotes), len(trades)
    names = {int(v): publisher_name(v) for v in np.unique(np.concatenate([quotes.venue, trades.venue]))}
    return MarketData(quotes, trades, report, venue_names=names, symbol=symbol, feed_latency_us=feed)


def _feed_latency_us(ts: np.ndarray, recv: np.ndarray | None, venue: np.ndarray) -> dict[int, float]:
    """Median ``ts_recv − ts_event`` (µs) per venue over the records carrying both (a record whose
    ``ts_event`` was empty took ``ts_recv`` and is left out); {} when the file has no ``ts_recv``."""
    if recv is None or len(ts) == 0:
        return {}
    d = np.asarray(recv, np.int64) - np.asarray(ts, np.int64)
    ok = (np.asarray(recv) >= 0) & (d > 0)
    return {int(v): float(np.median(d[ok & (venue == v)])) / 1e3 for v in np.unique(venue[ok])}
