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

Validation and repairs follow the policy table in :mod:`sorlib.data.load`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataError
from .load import (
    check_nonnegative,
    crossed_locked,
    duplicate_mask,
    first_line,
    numeric,
    open_source,
    read_csv_table,
    require_columns,
    strings_to_codes,
    time_order,
    timestamps,
)
from .market import LoadReport, MarketData, Quotes, Trades

UNDEF_PRICE = 9223372036854775807  # int64 max: Databento's "no price"
UNDEF_TS = 18446744073709551615  # uint64 max: Databento's "no timestamp"
PRICE_SCALE = 1e-9  # one fixed-point unit in dollars

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


def read_databento(path: str | Path, **kw) -> MarketData:
    """Read a Databento CSV or DBN file (chosen by suffix)."""
    name = Path(path).name.lower()
    if name.endswith((".dbn", ".dbn.zst")):
        return read_dbn(path, **kw)
    return read_databento_csv(path, **kw)


# ------------------------------------------------------------------------------------------------ CSV
def read_databento_csv(path: str | Path, *, price_scale: float | None = None) -> MarketData:
    """Read a Databento MBP-1/MBP-10/TBBO/BBO CSV (pretty or raw; optional ``symbol``; extra columns ignored).

    ``price_scale`` ($ per price unit) overrides the detection: fixed-point (1e-9) when an integer price
    column holds a magnitude >= 1e6 (or the undefined price), else decimal dollars.
    """
    p = str(path)
    open_source(path)
    names = [c.strip() for c in first_line(path).split(",")]
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
    optional = [c for c in ("ts_recv", "instrument_id", "depth", "flags", "sequence", "symbol") if c in names]
    include = list(dict.fromkeys(_REQUIRED + optional + lvl_cols))
    dict_t = pa.dictionary(pa.int32(), pa.string())
    types = {c: dict_t for c in ("action", "side", "symbol") if c in names}
    table, hdr = read_csv_table(path, include=include, column_types=types)
    n = table.num_rows

    ts = _csv_times(table, p, hdr)
    venue = numeric(table, "publisher_id", p, hdr, integer=True)
    action = strings_to_codes(table.column("action"))
    side = strings_to_codes(table.column("side"))
    flags = numeric(table, "flags", p, hdr, integer=True, fill=0) if "flags" in names else np.zeros(n, np.int64)
    size = numeric(table, "size", p, hdr, integer=True, fill=0)
    check_nonnegative(size, "size", p, hdr)

    px_names = ["price"] + [c for c in lvl_cols if "_px_" in c]
    if price_scale is None:
        price_scale = PRICE_SCALE if _looks_fixed_point(table, px_names) else 1.0
    px = {c: _price(table, c, p, hdr, price_scale) for c in px_names}
    sz = {}
    for c in lvl_cols:
        if "_sz_" in c:
            sz[c] = numeric(table, c, p, hdr, integer=True, fill=0)
            check_nonnegative(sz[c], c, p, hdr)
    bid_px = _stack([px[f"bid_px_{k:02d}"] for k in range(levels)])
    ask_px = _stack([px[f"ask_px_{k:02d}"] for k in range(levels)])
    bid_sz = _stack([sz[f"bid_sz_{k:02d}"] for k in range(levels)])
    ask_sz = _stack([sz[f"ask_sz_{k:02d}"] for k in range(levels)])

    extra = [numeric(table, c, p, hdr, integer=True, fill=-1)
             for c in ("ts_recv", "instrument_id", "depth", "sequence") if c in optional and c != "ts_recv"]
    if "ts_recv" in optional:
        extra.append(timestamps(table, "ts_recv", p, hdr))
    symbol = None
    if "symbol" in names:
        vc = pc.value_counts(table.column("symbol").cast(pa.string())).to_pylist()
        vc = [d for d in vc if d["values"]]
        if vc:
            symbol = max(vc, key=lambda d: d["counts"])["values"]
    report = LoadReport(source=p, format=f"databento-csv/mbp-{levels}" + ("/fixed" if price_scale != 1 else ""))
    return _assemble(report, ts=ts, venue=venue, action=action, side=side, flags=flags, price=px["price"],
                     size=size, bid_px=bid_px, bid_sz=bid_sz, ask_px=ask_px, ask_sz=ask_sz, extra=extra,
                     all_trades=False, symbol=symbol)


def _csv_times(table: pa.Table, p: str, hdr: int) -> np.ndarray:
    col = table.column("ts_event")
    if col.null_count and "ts_recv" in table.column_names:  # bbo-* CSVs: ts_event may be empty
        ts_recv = timestamps(table, "ts_recv", p, hdr)
        null = col.is_null().to_numpy(zero_copy_only=False)
        if null.all():
            return ts_recv
        good = timestamps(table.filter(pa.array(~null)), "ts_event", p, hdr)
        out = ts_recv.copy()
        out[~null] = good
        return out
    return timestamps(table, "ts_event", p, hdr)


def _looks_fixed_point(table: pa.Table, cols: list[str]) -> bool:
    for c in cols:
        t = table.column(c).type
        if pa.types.is_integer(t):
            mm = pc.min_max(table.column(c)).as_py()
            lo, hi = mm["min"], mm["max"]
            if lo is not None and max(abs(lo), abs(hi)) >= 1_000_000:
                return True
    return False


def _price(table: pa.Table, c: str, p: str, hdr: int, scale: float) -> np.ndarray:
    col = table.column(c)
    if pa.types.is_integer(col.type):
        v = col.to_numpy(zero_copy_only=False)
        if v.dtype.kind != "f":
            undef = v == UNDEF_PRICE
            out = v.astype(np.float64)
        else:  # nulls present → float with NaN
            undef = np.isnan(v)
            out = v
        out = _scale(out, scale)
        out[undef] = np.nan
        return out
    v = numeric(table, c, p, hdr)
    return _scale(v, scale)


def _stack(levels: list[np.ndarray]) -> np.ndarray:
    """``(n, L)`` array of per-level columns (a view, not a copy, for one level)."""
    return levels[0][:, None] if len(levels) == 1 else np.column_stack(levels)


def _scale(v: np.ndarray, scale: float) -> np.ndarray:
    """Raw → $: divide by the integer 1/scale when it is one (correctly rounded), else multiply."""
    if scale == 1:
        return v
    inv = 1.0 / scale
    return v / round(inv) if abs(inv - round(inv)) < 1e-6 * inv else v * scale


# ------------------------------------------------------------------------------------------------ DBN
def read_dbn(path: str | Path) -> MarketData:
    """Read a DBN file (``.dbn`` or ``.dbn.zst``) of schema mbp-1, mbp-10, tbbo or bbo-1s/bbo-1m."""
    p = str(path)
    open_source(path)
    import databento as db

    try:
        store = db.DBNStore.from_file(p)
        schema = str(store.schema) if store.schema is not None else None
    except Exception as e:  # noqa: BLE001 - the decoder raises several types
        raise DataError(f"not a readable DBN file ({str(e).splitlines()[0] if str(e) else type(e).__name__})",
                        path=p) from None
    if schema not in QUOTE_SCHEMAS:
        raise DataError(f"DBN schema {schema!r} has no quote records; supported schemas: "
                        f"{', '.join(QUOTE_SCHEMAS)}", path=p)
    try:
        a = store.to_ndarray()
    except Exception as e:  # noqa: BLE001
        raise DataError(f"DBN decode failed: {str(e).splitlines()[0]}", path=p) from None
    if len(a) == 0:
        raise DataError("no records", path=p)
    names = a.dtype.names
    levels = 0
    while f"bid_px_{levels:02d}" in names:
        levels += 1
    ts = a["ts_event"].astype(np.uint64)
    undef = ts == np.uint64(UNDEF_TS)
    ts = ts.astype(np.int64)
    if undef.any():
        ts[undef] = a["ts_recv"].astype(np.int64)[undef]
    n = len(a)
    action = a["action"].view(np.uint8) if "action" in names else np.zeros(n, np.uint8)
    side = a["side"].view(np.uint8)

    def dollars(x: np.ndarray) -> np.ndarray:
        out = x.astype(np.float64) / 1e9
        out[x == UNDEF_PRICE] = np.nan
        return out

    bid_px = _stack([dollars(a[f"bid_px_{k:02d}"]) for k in range(levels)])
    ask_px = _stack([dollars(a[f"ask_px_{k:02d}"]) for k in range(levels)])
    bid_sz = _stack([a[f"bid_sz_{k:02d}"].astype(np.int64) for k in range(levels)])
    ask_sz = _stack([a[f"ask_sz_{k:02d}"].astype(np.int64) for k in range(levels)])
    extra = [a[c] for c in ("ts_recv", "instrument_id", "sequence", "depth") if c in names]
    symbol = None
    syms = [s for s in (store.symbols or []) if s and s != "ALL_SYMBOLS"]
    if len(syms) == 1:
        symbol = syms[0]
    report = LoadReport(source=p, format=f"databento-dbn/{schema}")
    if store.dataset:
        report.notes.append(f"dataset {store.dataset}")
    return _assemble(report, ts=ts, venue=a["publisher_id"].astype(np.int64), action=action, side=side,
                     flags=a["flags"].astype(np.int64), price=dollars(a["price"]),
                     size=a["size"].astype(np.int64), bid_px=bid_px, bid_sz=bid_sz, ask_px=ask_px,
                     ask_sz=ask_sz, extra=extra, all_trades=schema == "tbbo", no_trades=schema.startswith("bbo"),
                     symbol=symbol)


# ------------------------------------------------------------------------------------------- assembly
def _assemble(report: LoadReport, *, ts, venue, action, side, flags, price, size, bid_px, bid_sz, ask_px,
              ask_sz, extra, all_trades: bool, symbol: str | None, no_trades: bool = False) -> MarketData:
    """Shared tail of the CSV and DBN readers: de-duplicate, sort, split trades, apply the repair policy."""
    n = len(ts)
    report.rows_read = n
    # 1. exact duplicates (hash on the core fields and level 0, verified on every field and level)
    # hash on the fields that tell records apart; the candidates are then verified on every field
    key = [ts, venue, action, side, price, size, *extra]
    dup = duplicate_mask(key, verify=[flags, bid_px, ask_px, bid_sz, ask_sz])
    report.count("duplicate_record", int(dup.sum()))
    keep = ~dup if dup.any() else None
    cols = [ts, venue, action, side, flags, price, size, bid_px, bid_sz, ask_px, ask_sz]
    if keep is not None:
        cols = [c[keep] for c in cols]
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
    # 4. quotes: clears and bad-book rows are empty books
    bad_ts = int(np.count_nonzero(flags & F_BAD_TS_RECV))
    if bad_ts:
        report.notes.append(f"{bad_ts} record(s) flagged F_BAD_TS_RECV (no effect: ts_event is used)")
    bad = (flags & F_MAYBE_BAD_BOOK) != 0
    report.count("bad_book_flag", int(bad.sum()))
    empty = bad | (action == _R)
    if empty.any():
        bid_px, ask_px = bid_px.copy(), ask_px.copy()
        bid_sz, ask_sz = bid_sz.copy(), ask_sz.copy()
        bid_px[empty], ask_px[empty] = np.nan, np.nan
        bid_sz[empty], ask_sz[empty] = 0, 0
    bid_sz = np.where(np.isnan(bid_px), 0, bid_sz)
    ask_sz = np.where(np.isnan(ask_px), 0, ask_sz)
    crossed, locked = crossed_locked(bid_px[:, 0], ask_px[:, 0])
    report.count("crossed_book", int(crossed.sum()))
    report.count("locked_book", int(locked.sum()))
    qkeep = ~(crossed | locked)
    quotes = Quotes(ts, venue, bid_px, bid_sz, ask_px, ask_sz)
    if not qkeep.all():
        quotes = quotes.take(qkeep)
    report.quote_rows, report.trade_rows = len(quotes), len(trades)
    names = {int(v): publisher_name(v) for v in np.unique(np.concatenate([quotes.venue, trades.venue]))}
    return MarketData(quotes, trades, report, venue_names=names, symbol=symbol)

