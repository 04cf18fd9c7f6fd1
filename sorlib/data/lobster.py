"""LOBSTER reader: a message file (events with order ids) plus its order-book file, as distributed.

Input: the LOBSTER zip as downloaded (holding ``TICKER_YYYY-MM-DD_START_END_message_L.csv`` and
``..._orderbook_L.csv``), or the message or order-book CSV itself (its sibling is found by name). Ticker,
date and level count come from the file names (keep LOBSTER's names).

Message file (headerless, 6 columns): ``time`` (seconds after midnight, New York time, decimals to ns),
``type`` (1 add, 2 partial cancel, 3 delete, 4 visible execution, 5 hidden execution, 6 cross trade,
7 trading halt), ``order_id``, ``size`` (shares), ``price`` ($ x 10000), ``direction`` (1 buy / −1 sell
resting order). Order-book file (headerless, 4 x L columns): row *i* is the book after message *i*; per
level ``ask_px, ask_sz, bid_px, bid_sz``; an unoccupied level has price 9999999999 (ask) / −9999999999
(bid) and size 0.

Mapping to :class:`~sorlib.data.market.MarketData`:

* venue: one venue, key :data:`LOBSTER_VENUE` = 2 (named ``XNAS``) — the same key as Databento's
  XNAS.ITCH ``publisher_id``, so Nasdaq parameters fitted on Databento data apply;
* time: ``date`` midnight in America/New_York + ``time`` seconds, converted to ns UTC;
* quotes: one row per message, the order-book row (L levels; dummy levels empty: NaN price, size 0);
  crossed/locked rows and stub levels are handled as for every reader (:mod:`sorlib.data.load`);
* trades: types 4 (visible) and 5 (hidden) executions, aggressor side = −direction (a visible execution
  of a resting buy order was a sell aggressor, −1); type 6 cross trades with side 0. Hidden executions
  are marked in the order-event table (``EXEC_HIDDEN``) and counted in the report notes.

The :class:`~sorlib.data.order_events.OrderEvents` table (:func:`read_lobster_with_orders`) maps types
1→ADD, 2→CANCEL, 3→DELETE, 4→EXEC, 5→EXEC_HIDDEN, 6/7→OTHER; ``side`` = direction (0 for halts);
``level_before`` = the displayed size at (side, price) in the previous order-book row (0 when the price is
inside the shown levels but unoccupied, −1 when it lies beyond the file's L levels); for the first row it
is the first book row's size minus the event's own change. ``best_bid``/``best_ask`` = the book row after
the event. Orders resting before the file start appear only through their cancels/executions.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import DataError
from . import order_events as oe
from ._csv import _ZIP_ERRORS, Where, _check_text, _diagnose, fmt, open_source, stat_source
from .market import LoadReport, MarketData, Quotes, Trades
from .validate import (
    MAX_PRICE,
    MAX_SIZE,
    crossed_locked,
    parse_date,
    reference_price,
    stub_levels,
    time_order,
)

LOBSTER_VENUE = 2  #: venue key of LOBSTER data (Nasdaq; equals Databento's XNAS.ITCH publisher_id)
VENUE_NAME = "XNAS"
TZ = "America/New_York"
DUMMY_PRICE = 9_999_999_999  # ask dummy; the bid dummy is its negative
PRICE_UNITS = 10_000  # price units per $
MSG_COLUMNS = ["time", "type", "order_id", "size", "price", "direction"]
_NAME_RE = re.compile(r"(?P<ticker>[^_/\\]+)_(?P<date>\d{4}-\d{2}-\d{2})_(?P<start>\d+)_(?P<end>\d+)_"
                      r"(?P<kind>message|orderbook)_(?P<levels>\d+)\.csv$", re.IGNORECASE)
_ACTION = np.array([oe.OTHER, oe.ADD, oe.CANCEL, oe.DELETE, oe.EXEC, oe.EXEC_HIDDEN, oe.OTHER, oe.OTHER], np.int8)
_HELP = "a LOBSTER message file has 6 fields per line: time, type, order_id, size, price, direction"


def book_columns(levels: int) -> list[str]:
    """Names of the order-book file's columns: ``ask_px_1, ask_sz_1, bid_px_1, bid_sz_1, ask_px_2, ...``."""
    return [f"{c}_{k}" for k in range(1, levels + 1) for c in ("ask_px", "ask_sz", "bid_px", "bid_sz")]


# ------------------------------------------------------------------------------------------ detection
def is_lobster(path: str | Path) -> bool:
    """True for a LOBSTER message/order-book CSV (by name) or a zip holding a LOBSTER message file."""
    p = Path(path)
    if _NAME_RE.search(p.name):
        return True
    if p.suffix.lower() != ".zip" or not p.is_file():
        return False
    try:
        with zipfile.ZipFile(p) as z:
            return any((m := _NAME_RE.search(n)) and m["kind"].lower() == "message" for n in z.namelist())
    except _ZIP_ERRORS:
        return False


def _sources(path: str | Path) -> tuple[str, bytes, str, bytes, re.Match]:
    """(message label, bytes, order-book label, bytes, name match) of a LOBSTER zip or CSV pair."""
    p, _ = _open(path)
    if p.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(p) as z:
                names = [n for n in z.namelist() if not n.endswith("/")]
                msgs = [n for n in names if (m := _NAME_RE.search(n)) and m["kind"].lower() == "message"]
                if len(msgs) != 1:
                    raise DataError(f"a LOBSTER zip must hold exactly one message file "
                                    f"(TICKER_DATE_START_END_message_L.csv), found {len(msgs)}: "
                                    f"{', '.join(msgs) or ', '.join(names)}", path=str(p))
                book = _sibling(msgs[0])
                if book not in names:
                    raise DataError(f"the zip has {msgs[0]} but not its order-book file {book}; both are needed",
                                    path=str(p))
                mdata, bdata = z.read(msgs[0]), z.read(book)
        except _ZIP_ERRORS as e:
            raise DataError(f"corrupt or truncated zip file ({e}); re-download it", path=str(p)) from None
        return f"{p}:{msgs[0]}", mdata, f"{p}:{book}", bdata, _NAME_RE.search(msgs[0])
    m = _NAME_RE.search(p.name)
    if m is None:
        raise DataError("not a LOBSTER file name (expected TICKER_YYYY-MM-DD_START_END_message_L.csv or a LOBSTER "
                        "zip); rename it so that its order-book sibling can be found", path=str(p))
    if m["kind"].lower() == "message":
        msg_p, book_p = p, p.with_name(_sibling(p.name))
    else:
        msg_p, book_p = p.with_name(_sibling(p.name, to="message")), p
    if not msg_p.exists() or not book_p.exists():
        missing = msg_p if not msg_p.exists() else book_p
        raise DataError(f"the matching LOBSTER {'message' if missing is msg_p else 'order-book'} file {missing.name} "
                        "is missing; put both files in the same folder", path=str(p))
    return str(msg_p), _read(msg_p), str(book_p), _read(book_p), m


def _open(path: str | Path) -> tuple[Path, None]:
    """Existence, type, permission and size checks (a zip is only stat-ed here; CSVs via ``open_source``)."""
    p = Path(path)
    if p.suffix.lower() != ".zip":
        open_source(p)
        return p, None
    st = stat_source(p)
    if not p.is_file():
        raise DataError("not a regular file; give a LOBSTER zip or CSV", path=str(p))
    if st.st_size == 0:
        raise DataError("empty file (0 bytes): no records", path=str(p))
    return p, None


def _read(p: Path) -> bytes:
    open_source(p)
    return p.read_bytes()


def _sibling(name: str, to: str = "orderbook") -> str:
    frm = "message" if to == "orderbook" else "orderbook"
    head, _, tail = name.rpartition(f"_{frm}_")
    return f"{head}_{to}_{tail}"


# -------------------------------------------------------------------------------------------- parsing
def _parse(label: str, data: bytes, names: list[str], types: dict) -> pa.Table:
    """Headerless CSV bytes → table; a wrong field count or a non-number is a located DataError."""
    if not data.strip():
        raise DataError("empty file: no records", path=label)
    if not data.isascii() or b"\x00" in data:  # fast path: plain ASCII has no bad bytes to locate
        _check_text(Path(label), data)
    first = data.split(b"\n", 1)[0].rstrip(b"\r")
    n_first = first.count(b",") + 1
    if n_first != len(names):
        what = _HELP if names == MSG_COLUMNS else (f"a LOBSTER order-book file with {len(names) // 4} level(s) "
                                                   f"has {len(names)} fields per line (4 per level)")
        raise DataError(f"{n_first} field(s) on the line; {what}", path=label, row=1)
    read = pacsv.ReadOptions(column_names=names, block_size=1 << 24)
    conv = pacsv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=False)
    try:
        table = pacsv.read_csv(pa.BufferReader(data), read_options=read, convert_options=conv)
    except pa.ArrowInvalid as e:
        raise _diagnose(Path(label), data, str(e), names, 0) from None
    for c in names:
        if table.column(c).null_count:
            i = int(np.flatnonzero(~table.column(c).is_valid().to_numpy(zero_copy_only=False))[0])
            raise DataError("empty field (every field must hold a number)", path=label, row=i + 1, column=c)
    return table


def _check_messages(w: Where, typ, oid, size, price, direction, t) -> None:
    """Value checks of the message file (first offending line reported)."""
    checks = [
        (~np.isfinite(t) | (t < 0) | (t >= 86_400 * 2), "time", "time {v} is not seconds after midnight (0..172800)", t),
        ((typ < 1) | (typ > 7), "type", "event type {v} is unknown (LOBSTER types are 1..7)", typ),
        ((direction != 1) & (direction != -1), "direction", "direction {v} must be 1 (buy) or -1 (sell)", direction),
        (oid < 0, "order_id", "negative order_id {v}", oid),
        ((size < 0) | (size > MAX_SIZE), "size", "size {v} must be whole shares in 0..100,000,000", size),
        ((typ != 7) & ((price <= 0) | (price >= MAX_PRICE * PRICE_UNITS)), "price",
         "price {v} must be > 0 and below $1,000,000 x 10000 (prices are $ x 10000)", price),
        (np.isin(typ, (1, 4)) & (size == 0), "size", "size {v}: an add or an execution needs at least 1 share", size),
    ]
    for bad, col, msg, arr in checks:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise w.error(msg.format(v=fmt(arr[i])), i, col)


def _book_arrays(w: Where, raw: np.ndarray, levels: int) -> tuple[np.ndarray, ...]:
    """Order-book matrix (n, 4L) → bid_px, bid_sz, ask_px, ask_sz ($ floats with NaN, int shares) + raw prices."""
    ask_raw, ask_sz, bid_raw, bid_sz = (raw[:, j::4] for j in range(4))
    names = book_columns(levels)
    ask_e, bid_e = ask_raw >= DUMMY_PRICE, bid_raw <= -DUMMY_PRICE
    for bad, j, msg in (
        (~ask_e & ((ask_raw <= 0) | (ask_raw >= MAX_PRICE * PRICE_UNITS)), 0, "ask price {v} must be > 0 (or the dummy 9999999999)"),
        (~bid_e & ((bid_raw <= 0) | (bid_raw >= MAX_PRICE * PRICE_UNITS)), 2, "bid price {v} must be > 0 (or the dummy -9999999999)"),
        ((ask_sz < 0) | (ask_sz > MAX_SIZE), 1, "ask size {v} must be whole shares in 0..100,000,000"),
        ((bid_sz < 0) | (bid_sz > MAX_SIZE), 3, "bid size {v} must be whole shares in 0..100,000,000"),
    ):
        if bad.any():
            i, k = (int(x[0]) for x in np.nonzero(bad))
            src = (ask_raw, ask_sz, bid_raw, bid_sz)[j]
            raise w.error(msg.format(v=fmt(src[i, k])), i, names[4 * k + j])
    ask_px = np.where(ask_e, np.nan, ask_raw / PRICE_UNITS)
    bid_px = np.where(bid_e, np.nan, bid_raw / PRICE_UNITS)
    return (bid_px, np.where(bid_e, 0, bid_sz), ask_px, np.where(ask_e, 0, ask_sz),
            np.where(bid_e, 0, bid_raw), np.where(ask_e, 0, ask_raw))


def _level_at(px_raw: np.ndarray, sz: np.ndarray, occupied: np.ndarray, price: np.ndarray, bid: bool) -> np.ndarray:
    """Displayed shares at ``price`` (raw units) in each book row of one side; 0 when inside the shown range
    but unoccupied; −1 when beyond the last shown level of a full (all L levels occupied) side."""
    eq = (px_raw == price[:, None]) & occupied
    found = eq.any(axis=1)
    shown = np.where(eq, sz, 0).sum(axis=1)
    full = occupied[:, -1]
    worst = px_raw[:, -1]
    beyond = full & ((price < worst) if bid else (price > worst))
    return np.where(found, shown, np.where(beyond, -1, 0)).astype(np.int64)


def _levels_in_rows(rows: np.ndarray, price: np.ndarray, direction: np.ndarray, bid_raw, bid_sz, ask_raw,
                    ask_sz) -> np.ndarray:
    """Displayed shares at (direction's side, price) in book rows ``rows`` (one row per event)."""
    b = _level_at(bid_raw[rows], bid_sz[rows], bid_raw[rows] > 0, price, True)
    a = _level_at(ask_raw[rows], ask_sz[rows], ask_raw[rows] > 0, price, False)
    return np.where(direction == 1, b, a)


# ----------------------------------------------------------------------------------------------- read
def read_lobster(path: str | Path, **kw) -> MarketData:
    """Read a LOBSTER zip or message/order-book CSV into :class:`MarketData` (one venue, L levels)."""
    return read_lobster_with_orders(path, **kw)[0]


def read_lobster_with_orders(path: str | Path, *, symbol: str | None = None,
                             date: str | None = None) -> tuple[MarketData, oe.OrderEvents]:
    """Read a LOBSTER file pair into (:class:`MarketData`, :class:`~sorlib.data.order_events.OrderEvents`).

    Ticker and date come from the file name; ``symbol``/``date`` (YYYY-MM-DD), as in :func:`sorlib.load`,
    must name them (a LOBSTER file holds one instrument on one day) or are refused.
    """
    import pandas as pd

    mlabel, mdata, blabel, bdata, m = _sources(path)
    ticker, day = m["ticker"], m["date"]
    if symbol is not None and symbol.upper() != ticker.upper():
        raise DataError(f"--symbol {symbol}: the file holds {ticker} only", path=str(path))
    if date is not None and parse_date(date) != day:
        raise DataError(f"--date {date}: the file holds {day} only (New York time)", path=str(path))
    try:
        midnight = pd.Timestamp(day)
    except ValueError:
        raise DataError(f"the file name's date {day!r} is not a valid YYYY-MM-DD date", path=str(path)) from None
    # -- messages
    i64 = pa.int64()
    msg = _parse(mlabel, mdata, MSG_COLUMNS, {"time": pa.float64(), "type": i64, "order_id": i64, "size": i64,
                                              "price": i64, "direction": i64})
    t, typ, oid, size, price, direction = (msg.column(c).to_numpy() for c in MSG_COLUMNS)
    wm = Where(mlabel, 0)
    _check_messages(wm, typ, oid, size, price, direction, t)
    # -- order book
    first = bdata.split(b"\n", 1)[0]
    nb = first.count(b",") + 1
    levels = nb // 4
    if nb % 4 or levels == 0:
        raise DataError(f"{nb} field(s) on the line; a LOBSTER order-book file has 4 fields per level "
                        "(ask_px, ask_sz, bid_px, bid_sz)", path=blabel, row=1)
    if m and int(m["levels"]) != levels:
        raise DataError(f"the file name says {m['levels']} level(s) but the line has {nb} fields "
                        f"({levels} level(s) x 4)", path=blabel, row=1)
    names = book_columns(levels)
    book = _parse(blabel, bdata, names, dict.fromkeys(names, i64))
    if book.num_rows != msg.num_rows:
        raise DataError(f"the order-book file has {book.num_rows:,} rows but the message file {msg.num_rows:,}; "
                        "each message needs its book row (use the two files of one LOBSTER download)",
                        path=blabel, row=min(book.num_rows, msg.num_rows) + 1)
    raw = np.column_stack([book.column(c).to_numpy() for c in names])
    bid_px, bid_sz, ask_px, ask_sz, bid_raw, ask_raw = _book_arrays(Where(blabel, 0), raw, levels)
    # -- times: seconds after New York midnight → ns UTC
    local_ns = np.rint(t * 1e9).astype(np.int64)
    try:
        idx = pd.DatetimeIndex(midnight.to_datetime64() + local_ns.astype("timedelta64[ns]"))
        ts = idx.tz_localize(TZ).as_unit("ns").asi8
    except Exception as e:  # noqa: BLE001 - ambiguous/nonexistent local times (DST switch at 01:00-03:00)
        raise DataError(f"cannot place the times in {TZ} ({e})", path=mlabel) from None
    report = LoadReport(source=str(path), format=f"lobster/level-{levels}")
    report.rows_read = len(t)
    order, unsorted = time_order(ts)
    report.count("unsorted_time", unsorted)
    cols = [ts, typ, oid, size, price, direction, bid_px, bid_sz, ask_px, ask_sz, bid_raw, ask_raw]
    if order is not None:
        cols = [c[order] for c in cols]
    ts, typ, oid, size, price, direction, bid_px, bid_sz, ask_px, ask_sz, bid_raw, ask_raw = cols
    events = _events(str(path), ts, typ, oid, size, price, direction, bid_px, bid_raw, bid_sz, ask_px, ask_raw,
                     ask_sz)
    md = _market(report, ts, typ, size, price, direction, bid_px, bid_sz, ask_px, ask_sz, ticker, day, events)
    return md, events


def _events(source: str, ts, typ, oid, size, price, direction, bid_px, bid_raw, bid_sz, ask_px, ask_raw,
            ask_sz) -> oe.OrderEvents:
    """The order-event table (see the module docstring for ``level_before``)."""
    n = len(ts)
    booked = typ <= 5
    prev = np.maximum(np.arange(n) - 1, 0)
    level = _levels_in_rows(prev, price, direction, bid_raw, bid_sz, ask_raw, ask_sz)
    if n:  # first row: the book after it, minus its own change
        delta = {1: size[0], 2: -size[0], 3: -size[0], 4: -size[0]}.get(int(typ[0]), 0)
        after = _levels_in_rows(np.array([0]), price[:1], direction[:1], bid_raw, bid_sz, ask_raw, ask_sz)[0]
        level[0] = after - delta if after >= 0 else -1
    level = np.where(booked, level, -1)
    side = np.where(typ == 7, 0, direction).astype(np.int8)
    px = np.where(typ == 7, np.nan, price / PRICE_UNITS)
    return oe.OrderEvents(ts=ts, venue=np.full(n, LOBSTER_VENUE, np.int32), order_id=oid, action=_ACTION[typ],
                          side=side, price=px, size=size, level_before=level, best_bid=bid_px[:, 0],
                          best_ask=ask_px[:, 0], source=source)


def _market(report: LoadReport, ts, typ, size, price, direction, bid_px, bid_sz, ask_px, ask_sz, ticker, day,
            events: oe.OrderEvents) -> MarketData:
    """Quotes (every book row, repair policy applied), prints and notes."""
    n = len(ts)
    venue = np.full(n, LOBSTER_VENUE, np.int32)
    tm = (typ == 4) | (typ == 5) | (typ == 6)
    tside = np.where(typ == 6, 0, -direction).astype(np.int8)
    trades = Trades(ts[tm], venue[tm], price[tm] / PRICE_UNITS, size[tm], tside[tm])
    if "eligible" in getattr(Trades, "__dataclass_fields__", {}):  # hidden executions never reach the shown book
        trades = replace(trades, eligible=typ[tm] != 5)
    bid_px, bid_sz, ask_px, ask_sz = bid_px.copy(), bid_sz.copy(), ask_px.copy(), ask_sz.copy()
    stub_levels(bid_px, bid_sz, ask_px, ask_sz, reference_price(trades.price, bid_px[:, 0], ask_px[:, 0]), report)
    crossed, locked = crossed_locked(bid_px[:, 0], ask_px[:, 0])
    report.count("crossed_book", int(crossed.sum()))
    report.count("locked_book", int(locked.sum()))
    quotes = Quotes(ts, venue, bid_px, bid_sz, ask_px, ask_sz)
    if (crossed | locked).any():
        quotes = quotes.take(~(crossed | locked))
    report.quote_rows, report.trade_rows = len(quotes), len(trades)
    kinds = {k: int(np.count_nonzero(typ == k)) for k in range(1, 8)}
    report.notes.append(f"LOBSTER {ticker} {day}: messages by type " +
                        ", ".join(f"{k}:{v:,}" for k, v in kinds.items() if v))
    if kinds[5]:
        report.notes.append(f"{kinds[5]:,} hidden execution(s) (type 5) are prints (aggressor = -direction); "
                            "the order-event table marks them EXEC_HIDDEN")
    added = np.unique(events.order_id[events.action == oe.ADD])
    touched = np.unique(events.order_id[np.isin(events.action, (oe.CANCEL, oe.DELETE, oe.EXEC))])
    pre = int(np.setdiff1d(touched, added, assume_unique=True).size)
    if pre:
        report.notes.append(f"{pre:,} order id(s) rest from before the file start (cancels/executions without an add)")
    return MarketData(quotes, trades, report, venue_names={LOBSTER_VENUE: VENUE_NAME}, symbol=ticker)


__all__ = ["LOBSTER_VENUE", "MSG_COLUMNS", "book_columns", "is_lobster", "read_lobster", "read_lobster_with_orders"]
