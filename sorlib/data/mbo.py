"""Databento MBO (market-by-order) reader, CSV or DBN: the book rebuilt from order events per publisher.

Records (one instrument; ``symbol=``/``date=`` pick one of several as in :mod:`sorlib.data.databento`):
``action`` A add, C cancel (``size`` = shares cancelled), M modify (new ``price``/``size``), R clear the
publisher's book, T trade (``side`` = aggressor, N when hidden), F fill of a resting order, N none;
``side`` B bid / A ask / N none; ``price`` fixed-point int (1e-9 $) or decimal dollars (detected as in the
MBP reader); ``flags`` bit 7 ``F_LAST`` closes an event.

Book rules (Databento's): every order is kept by ``order_id``; adds, cancels, modifies and clears change the
book; T and F do not — each fill is followed by a C of the filled shares that does. Time = ``ts_event``.
The file is processed in its own (``ts_recv``) order; outputs are then stable-sorted by ``ts_event``.

Outputs:

* :class:`~sorlib.data.market.MarketData`: one venue per ``publisher_id``; a quote row per publisher after
  each record carrying ``F_LAST`` (after every record when the file has no ``F_LAST`` at all) whose top
  ``levels`` (default 10) levels changed — the full book state, as for MBP-10; prints = T records
  (aggressor ``B`` → +1, ``A`` → −1, ``N`` → 0);
* :class:`~sorlib.data.order_events.OrderEvents` (:func:`read_mbo_with_orders`): A→ADD; C→CANCEL (the order
  keeps shares) or DELETE (its last shares); M→MODIFY (price/size = new ones); R→CLEAR; F→EXEC (resting
  side, shares filled) — the fill's own C is folded into it (the EXEC row removes the shares; the C gives
  no row; counted as "fill cancels folded" in the notes); T with side N→EXEC_HIDDEN (side 0, order 0);
  other T and N→OTHER. ``level_before`` = the publisher's displayed shares at (side, price) before the
  record (−1 for rows without side or price); ``best_bid``/``best_ask`` = its touch after the record.
  Cancels or fills of orders never added (resting before the file start) keep their row; the book is not
  changed and they are counted in the notes. Adds flagged ``F_SNAPSHOT`` (a Databento book snapshot) are
  ADD rows stamped with the snapshot time — resting orders, not arrivals (counted in the notes).

Not handled: top-of-book-only publishers (IEX, NYSE National in DBEQ.BASIC), whose adds replace a whole
side; their books would be wrong, so such files should be read as MBP-1 instead.

Speed: one compiled pass (:mod:`sorlib.data._mbo_book`, numba): about 1 s per 10^6 records, plus ~1.5 s
to load the compiled kernel once per process.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..errors import DataError
from . import order_events as oe
from ._csv import (
    Where,
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
from .databento import (
    F_LAST,
    F_SNAPSHOT,
    PRICE_SCALE,
    UNDEF_PRICE,
    UNDEF_TS,
    _check_complete,
    _feed_latency_us,
    _looks_fixed_point,
    open_dbn,
    publisher_name,
)
from .market import LoadReport, MarketData, Quotes, Trades
from .validate import (
    MAX_PRICE,
    MAX_SIZE,
    crossed_locked,
    pick_instrument,
    pick_session,
    reference_price,
    stub_levels,
    time_order,
)

REQUIRED = ["ts_event", "publisher_id", "action", "side", "price", "size", "order_id"]
_OPTIONAL = ["ts_recv", "flags", "instrument_id", "symbol", "sequence"]
_A, _C, _M, _R, _T, _F, _N = (ord(c) for c in "ACMRTFN")
_BID, _ASK = ord("B"), ord("A")
UNDEF = UNDEF_PRICE  # price key of "no price"
MBO_SCHEMA_ID = 0  # DBN metadata schema code of mbo


# ------------------------------------------------------------------------------------------ detection
def is_mbo(path: str | Path) -> bool:
    """True for a Databento MBO CSV (``order_id`` and ``action`` columns, no book levels) or an MBO DBN."""
    p = Path(path)
    name = p.name.lower()
    if name.endswith((".dbn", ".dbn.zst")):
        return dbn_schema_id(p) == MBO_SCHEMA_ID
    try:
        names = header_names(first_line(p))
    except DataError:
        return False
    return "order_id" in names and "action" in names and "bid_px_00" not in names and "ts_event" in names


def dbn_schema_id(path: str | Path) -> int | None:
    """The schema code in a DBN file's metadata header (0 mbo, 1 mbp-1, 2 mbp-10, ...; None if unreadable)."""
    try:
        with pa.input_stream(str(path), compression="detect") as f:
            head = f.read(26)
    except (OSError, pa.ArrowException):
        return None
    if len(head) < 26 or head[:3] != b"DBN":
        return None
    return int.from_bytes(head[24:26], "little")


# ----------------------------------------------------------------------------------------------- read
def read_mbo(path: str | Path, **kw) -> MarketData:
    """Read a Databento MBO CSV or DBN file into :class:`MarketData` (book rebuilt from orders)."""
    return read_mbo_with_orders(path, **kw)[0]


def read_mbo_with_orders(path: str | Path, *, symbol: str | None = None, date: str | None = None,
                         levels: int = 10, price_scale: float | None = None) -> tuple[MarketData, oe.OrderEvents]:
    """Read a Databento MBO CSV/DBN into (:class:`MarketData`, :class:`~sorlib.data.order_events.OrderEvents`).

    ``levels``: book levels per quote row (1..50). ``price_scale`` ($ per CSV price unit) overrides the
    fixed-point/decimal detection. ``symbol``/``date`` as in :func:`sorlib.data.load`.
    """
    if not 1 <= int(levels) <= 50:
        raise DataError(f"levels={levels}: choose 1..50 book levels", path=str(path))
    name = Path(path).name.lower()
    if name.endswith((".dbn", ".dbn.zst")):
        cols, fmt_name = _dbn_columns(path, symbol, date)
    else:
        cols, fmt_name = _csv_columns(path, symbol, date, price_scale)
    report = LoadReport(source=str(path), format=fmt_name)
    report.rows_read = len(cols["ts"])
    return _assemble(report, cols, int(levels))


def _csv_columns(path, symbol, date, price_scale) -> tuple[dict, str]:
    p = str(path)
    open_source(path)
    names = header_names(first_line(path))
    if "bid_px_00" in names:
        raise DataError("this is a Databento MBP file (book levels bid_px_00...), not MBO; read it with "
                        "format 'databento'", path=p)
    require_columns(names, REQUIRED, p, "Databento MBO")
    optional = [c for c in _OPTIONAL if c in names]
    dict_t = pa.dictionary(pa.int32(), pa.string())
    types = {c: dict_t for c in ("action", "side", "symbol") if c in names}
    table, hdr = read_csv_table(path, include=list(dict.fromkeys(REQUIRED + optional)), column_types=types)
    w = Where(p, hdr)
    ts, empty = timestamps(table, "ts_event", w, missing=float(UNDEF_TS))
    if empty.any():
        raise w.error("missing timestamp (ts_event is empty)", int(np.flatnonzero(empty)[0]), "ts_event")
    recv = None
    if "ts_recv" in optional:
        r, r_empty = timestamps(table, "ts_recv", w, missing=float(UNDEF_TS))
        recv = np.where(r_empty, -1, r)
    raw_px = raw_numbers(table, "price", w)
    if price_scale is None:
        price_scale = PRICE_SCALE if _looks_fixed_point({"price": raw_px}) else 1.0
    pkey = _price_keys(raw_px, price_scale)
    oid = _order_ids(raw_numbers(table, "order_id", w, integer=True), w)
    cols = dict(
        ts=ts, recv=recv,
        venue=whole_numbers(raw_numbers(table, "publisher_id", w, integer=True), w, "publisher_id", lo=0, hi=65535,
                            what="publisher_id", fill=None),
        order_id=oid, action=strings_to_codes(table.column("action")), side=strings_to_codes(table.column("side")),
        pkey=pkey, size=whole_numbers(raw_numbers(table, "size", w, integer=True), w, "size", lo=0, hi=MAX_SIZE,
                                      what="size"),
        flags=(whole_numbers(raw_numbers(table, "flags", w, integer=True), w, "flags", lo=0, hi=255, what="flags")
               if "flags" in optional else np.zeros(len(ts), np.int64)),
    )
    ids = (whole_numbers(raw_numbers(table, "instrument_id", w, integer=True), w, "instrument_id", lo=0,
                         hi=2**32 - 1, what="instrument_id", fill=-1) if "instrument_id" in optional else None)
    symbols = None
    if "symbol" in optional:
        symbols = np.char.strip(table.column("symbol").cast(pa.string()).to_numpy(zero_copy_only=False).astype(str))
    _validate(cols, w)
    keep = pick_instrument(p, ids, cols["venue"], symbols, {}, symbol)
    cols = _select(p, cols, keep, date)
    if symbols is not None:
        vals = np.unique(symbols[keep] if keep is not None else symbols)
        vals = vals[vals != ""]
        cols["symbol"] = str(vals[0]) if vals.size == 1 else None
    return cols, "databento-csv/mbo" + ("/fixed" if price_scale == PRICE_SCALE else "")


def _price_keys(raw: np.ndarray, scale: float) -> np.ndarray:
    """Raw prices (``scale`` $ per unit) → integer keys in 1e-9 $ units; empty or undefined → ``UNDEF``."""
    f = raw.astype(np.float64)
    undef = np.isnan(f) | (f >= 9.2e18)
    if raw.dtype.kind in "iu" and scale == PRICE_SCALE:
        key = raw.astype(np.int64)
    else:
        ratio = scale / PRICE_SCALE
        ratio = float(round(ratio)) if abs(ratio - round(ratio)) < 1e-6 * ratio else ratio
        key = np.rint(np.where(undef, 0.0, f) * ratio).astype(np.int64)
    key[undef] = UNDEF
    return key


def _order_ids(raw: np.ndarray, w: Where) -> np.ndarray:
    """``order_id`` (uint64 in Databento) as int64: ids above 2^63−1 wrap to negative values (identity kept)."""
    if raw.dtype.kind == "u":
        return raw.view(np.int64)
    if raw.dtype.kind == "f":
        return whole_numbers(raw, w, "order_id", lo=0, hi=2**53, what="order_id", fill=0)
    return raw.astype(np.int64)


def _dbn_columns(path, symbol, date) -> tuple[dict, str]:
    p = str(path)
    store, schema = open_dbn(path)
    if schema != "mbo":
        raise DataError(f"DBN schema {schema!r} is not mbo; read it with format 'databento'", path=p)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*truncated.*")
            a = store.to_ndarray()
    except Exception as e:  # noqa: BLE001
        raise DataError(f"DBN decode failed (truncated or corrupt file): {str(e).splitlines()[0]}", path=p) from None
    if len(a) == 0:
        raise DataError("no records", path=p)
    _check_complete(store, p)
    w = Where(p, None)
    ts = a["ts_event"].astype(np.int64)
    cols = dict(ts=ts, recv=a["ts_recv"].astype(np.int64), venue=a["publisher_id"].astype(np.int64),
                order_id=a["order_id"].astype(np.uint64).view(np.int64), action=a["action"].view(np.uint8).copy(),
                side=a["side"].view(np.uint8).copy(), pkey=a["price"].astype(np.int64),
                size=a["size"].astype(np.int64), flags=a["flags"].astype(np.int64))
    if (cols["size"] > MAX_SIZE).any():
        i = int(np.flatnonzero(cols["size"] > MAX_SIZE)[0])
        raise w.error(f"size {cols['size'][i]} is too large (maximum {MAX_SIZE:,})", i, "size")
    _validate(cols, w)
    ids = a["instrument_id"].astype(np.int64)
    id_names: dict[int, str] = {}
    for raw, intervals in (store.mappings or {}).items():
        for iv in intervals:
            if str(iv.get("symbol", "")).isdigit():
                id_names[int(iv["symbol"])] = str(raw)
    keep = pick_instrument(p, ids, cols["venue"], None, id_names, symbol)
    cols = _select(p, cols, keep, date)
    kept = np.unique(ids[keep] if keep is not None else ids)
    cols["symbol"] = id_names.get(int(kept[0])) if kept.size == 1 else None
    return cols, "databento-dbn/mbo"


def _select(p: str, cols: dict, keep: np.ndarray | None, date: str | None) -> dict:
    """Rows of one instrument and one New York trading date (see :func:`pick_instrument`/``pick_session``)."""
    if keep is not None:
        cols = {k: (v[keep] if isinstance(v, np.ndarray) else v) for k, v in cols.items()}
    day = pick_session(p, cols["ts"], "America/New_York", date)
    if day is not None:
        cols = {k: (v[day] if isinstance(v, np.ndarray) else v) for k, v in cols.items()}
    return cols


def _validate(cols: dict, w: Where) -> None:
    """Actions, sides, prices and sizes by record kind (first offending row reported)."""
    act, side, pkey, size = cols["action"], cols["side"], cols["pkey"], cols["size"]
    bad = ~np.isin(act, [_A, _C, _M, _R, _T, _F, _N])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise w.error(f"unknown action {chr(act[i]) if act[i] else '(empty)'!r} (MBO actions: A add, C cancel, "
                      "M modify, R clear, T trade, F fill, N none)", i, "action")
    bad = ~np.isin(side, [_BID, _ASK, ord("N")])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise w.error(f"unknown side {chr(side[i]) if side[i] else '(empty)'!r} (B bid, A ask, N none)", i, "side")
    booked = np.isin(act, [_A, _M, _F])
    bad = booked & (side != _BID) & (side != _ASK)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise w.error(f"action {chr(act[i])} needs side B or A, found {chr(side[i])!r}", i, "side")
    priced = booked | (act == _T)
    with np.errstate(invalid="ignore"):
        bad = priced & ((pkey == UNDEF) | (pkey <= 0) | (pkey >= MAX_PRICE / PRICE_SCALE))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        v = "empty" if pkey[i] == UNDEF else f"{pkey[i] * PRICE_SCALE:g} $"
        raise w.error(f"price {v} on action {chr(act[i])} (needs a price > 0 and below $1,000,000)", i, "price")
    bad = np.isin(act, [_A, _T, _F]) & (size == 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise w.error(f"size 0 on action {chr(act[i])} (needs at least 1 share)", i, "size")


# ------------------------------------------------------------------------------------------- the book
def _replay(cols: dict, levels: int, report: LoadReport) -> tuple[dict, tuple]:
    """Replay the records in file order (compiled kernel :func:`sorlib.data._mbo_book.replay`) → event
    columns (price keys in 1e-9 $) and quote snapshots (ts, venue, bid keys, bid shares, ask keys, ask shares)."""
    import pandas as pd

    from . import _mbo_book

    n = len(cols["ts"])
    vals_v, vi = np.unique(cols["venue"], return_inverse=True)
    pk = cols["pkey"]
    defined = pk != UNDEF
    prices = np.unique(pk[defined])
    pi = np.full(n, -1, np.int64)
    pi[defined] = np.searchsorted(prices, pk[defined])
    vi = vi.ravel().astype(np.int64)
    oi = np.empty(n, np.int64)  # one index per (publisher, order_id), hash-factorised per publisher
    order_venue = []
    for v in range(len(vals_v)):
        rows = np.flatnonzero(vi == v)
        codes, uniq = pd.factorize(cols["order_id"][rows])
        oi[rows] = codes + len(order_venue)
        order_venue.extend([v] * len(uniq))
    order_venue = np.asarray(order_venue, np.int64)
    side = np.where(cols["side"] == _BID, 1, np.where(cols["side"] == _ASK, -1, 0)).astype(np.int8)
    any_last = bool(np.any(cols["flags"] & F_LAST))
    emit_ok = (cols["flags"] & F_LAST) != 0 if any_last else np.ones(n, bool)
    (keep, act, e_side, e_pi, e_size, e_lvl, e_bb, e_ba, s_rec, s_bp, s_bq, s_ap, s_aq,
     counters) = _mbo_book.replay(vi, oi, cols["action"], side, pi, cols["size"], emit_ok,
                                  order_venue, len(vals_v), max(len(prices), 1), levels)
    if not any_last:
        report.notes.append("no record carries F_LAST: the book is shown after every record")
    for name, c in zip(_mbo_book.COUNTER_NAMES, counters.tolist(), strict=True):
        if c:
            report.notes.append(f"{name}: {c:,}")

    def keys(idx: np.ndarray) -> np.ndarray:
        out = np.full(idx.shape, UNDEF, np.int64)
        ok = idx >= 0
        out[ok] = prices[idx[ok]]
        return out

    ev = dict(keep=keep, action=act, side=e_side, pkey=keys(e_pi), size=e_size, level_before=e_lvl,
              best_bid=keys(e_bb), best_ask=keys(e_ba))
    snaps = (cols["ts"][s_rec], cols["venue"][s_rec], keys(s_bp), s_bq, keys(s_ap), s_aq)
    return ev, snaps


def _dollars(key: np.ndarray) -> np.ndarray:
    """Price keys (1e-9 $ units; UNDEF = none) → $ float64 (NaN = none), correctly rounded."""
    out = key.astype(np.float64) / 1e9
    out[key == UNDEF] = np.nan
    return out


def _quotes(snaps: tuple) -> Quotes:
    """Snapshots (ts, venue, bid keys, bid shares, ask keys, ask shares) → :class:`Quotes` ($, NaN = empty)."""
    ts, venue, bk, bq, ak, aq = snaps
    return Quotes(ts.astype(np.int64), venue.astype(np.int32), _dollars(bk), bq, _dollars(ak), aq)


def _assemble(report: LoadReport, cols: dict, levels: int) -> tuple[MarketData, oe.OrderEvents]:
    """Replay the book, then build (time-sorted) quotes, prints and the event table."""
    n = len(cols["ts"])
    if n == 0:
        raise DataError("no records", path=report.source)
    snap_adds = int(np.count_nonzero((cols["action"] == _A) & ((cols["flags"] & F_SNAPSHOT) != 0)))
    if snap_adds:
        report.notes.append(f"{snap_adds:,} add(s) flagged F_SNAPSHOT: orders resting at the snapshot time, "
                            "not arrivals (their ADD rows are stamped with the snapshot time)")
    vs_first, first = np.unique(cols["venue"], return_index=True)
    cold = [publisher_name(int(v)) for v, i in zip(vs_first, first, strict=True) if cols["action"][i] != _R]
    if cold:
        report.notes.append(f"{', '.join(cold)}: the records do not start with a book clear (R): orders resting "
                            "before the file start are missing from the rebuilt book until they trade or cancel")
    acts = {chr(c): int(k) for c, k in zip(*np.unique(cols["action"], return_counts=True), strict=True)}
    report.notes.append("MBO records by action: " + ", ".join(f"{k} {v:,}" for k, v in sorted(acts.items())))
    ev, snaps = _replay(cols, levels, report)
    keep = ev.pop("keep")
    ts = cols["ts"]
    events = oe.OrderEvents(ts=ts[keep], venue=cols["venue"][keep].astype(np.int32),
                            order_id=cols["order_id"][keep], action=ev["action"][keep], side=ev["side"][keep],
                            price=_dollars(ev["pkey"][keep]), size=ev["size"][keep],
                            level_before=ev["level_before"][keep], best_bid=_dollars(ev["best_bid"][keep]),
                            best_ask=_dollars(ev["best_ask"][keep]), source=report.source)
    order, unsorted = time_order(events.ts)
    report.count("unsorted_time", unsorted)
    if order is not None:
        events = events.take(order)
    # prints: T records
    tm = cols["action"] == _T
    tside = np.where(cols["side"] == _BID, 1, np.where(cols["side"] == _ASK, -1, 0)).astype(np.int8)
    trades = Trades(ts[tm], cols["venue"][tm].astype(np.int32), _dollars(cols["pkey"][tm]), cols["size"][tm],
                    tside[tm])
    if "eligible" in getattr(Trades, "__dataclass_fields__", {}):  # hidden (side N) trades: not the shown book
        trades = replace(trades, eligible=trades.side != 0)
    if trades.ts.size > 1 and (np.diff(trades.ts) < 0).any():
        trades = trades.take(np.argsort(trades.ts, kind="stable"))
    quotes = _quotes(snaps)
    qo, _ = time_order(quotes.ts)
    if qo is not None:
        quotes = quotes.take(qo)
    stub_levels(quotes.bid_px, quotes.bid_sz, quotes.ask_px, quotes.ask_sz,
                reference_price(trades.price, quotes.bid_px[:, 0], quotes.ask_px[:, 0]), report)
    crossed, locked = crossed_locked(quotes.bid_px[:, 0], quotes.ask_px[:, 0])
    report.count("crossed_book", int(crossed.sum()))
    report.count("locked_book", int(locked.sum()))
    if (crossed | locked).any():
        quotes = quotes.take(~(crossed | locked))
    report.quote_rows, report.trade_rows = len(quotes), len(trades)
    vs = np.unique(cols["venue"])
    names = {int(v): publisher_name(int(v)) for v in vs}
    feed = _feed_latency_us(ts, cols["recv"], cols["venue"]) if cols.get("recv") is not None else {}
    md = MarketData(quotes, trades, report, venue_names=names, symbol=cols.get("symbol"), feed_latency_us=feed)
    return md, events


__all__ = ["MBO_SCHEMA_ID", "dbn_schema_id", "is_mbo", "read_mbo", "read_mbo_with_orders"]
