"""TAQ-style quote/trade tables (one row = one venue's quote) and the Lean/AlgoSeek tick layout.

A :class:`TaqLayout` names the columns (by header name, or by 0-based position for headerless files),
the price scale, the time unit and origin, the time zone and the trades file. :data:`ALGOSEEK` is the
layout of the Lean/AlgoSeek US-equity tick zips (``YYYYMMDD_quote.zip`` / ``YYYYMMDD_trade.zip``):

* headerless; quotes ``time, bid_px, bid_sz, ask_px, ask_sz, exchange, condition, suspicious``; trades
  ``time, price, size, exchange, condition, suspicious``;
* time = milliseconds since local midnight, New York time; the date comes from the file name;
* prices × 10000 (converted to dollars once, here);
* one side per row: the other side's fields are 0 and mean *no change* — the venue's last value of that
  side is kept (a venue's side is empty until its first update of the day);
* the rows are national-best (NBBO) updates: each NBBO change is written as a bid row naming the venue
  at the best bid and an ask row naming the venue at the best ask (checked on AIG 2013-10-07: rows
  alternate N-bid / Q-ask at the same millisecond; NASDAQ PSX appears on only 37 rows all day). A venue
  is therefore not told when it leaves the best, so a carried quote goes stale. ``nbbo_rows=True`` adds
  the NBBO consistency rule: a new best bid ``p`` empties every other venue's carried bid above ``p``
  (and a new best ask every carried ask below it), emitting one extra row per venue so changed
  (counted ``stale_quote_expired``); a fresh side that crosses or locks the venue's *own* carried other
  side empties that side (counted ``stale_own_side_cleared``). Without the rule, stale bids/asks of
  rarely-quoting venues looked "best" for large parts of the day (PSX at the best bid 24% of AIG's day);
* venue key = ``ord(exchange letter)``; ``D`` (FINRA TRF) only reports trades: its trades are kept and
  the report notes that it has no quotes;
* rows flagged ``suspicious`` are dropped and counted (``suspicious_quote`` / ``suspicious_trade``);
* trade ``condition`` is Lean's packed sale-condition word written in hexadecimal (Lean's
  ``Tick.ParsedSaleCondition`` parses it with ``NumberStyles.HexNumber``; bits = Lean's
  ``TradeConditionFlags``, ``Common/Data/Auxiliary/TradeConditionFlags.cs``, which follows AlgoSeek's
  CTA/UTP sale-condition fields). Every print is kept; ``Trades.eligible`` marks those that could have
  reached a resting order on that venue's displayed book at that moment (:func:`book_eligible`,
  counted ``trade_not_book_eligible``). IBM 2013-10-08 (33,381 prints): ``1`` regular 57%, ``20000020``
  intermarket sweep + trade-through exempt 41%, ``20`` sweep 2%, then a few dozen each of ``20100200``
  (exempt + average price + derivatively priced), ``2000`` (extended hours), ``20000001`` (exempt),
  ``102000``, and single ``40``/``80`` opening/closing prints, ``4000000``/``1000000`` official
  open/close, ``2000000`` prior reference price, ``20040200`` stock-option;
* reading a quote zip also reads the sibling ``*_trade.zip`` (and vice versa) when it exists.

Validation (thresholds in :mod:`sorlib.data.validate`): a price of 0 (or an empty field) is an empty side;
other prices must be finite, > 0 and < $1,000,000/share; sizes whole shares in 0..100,000,000; exchange
codes one letter or digit; midnight-relative times within the file's day. Repairs follow the policy table
in :mod:`sorlib.data.load`. With one-sided rows a crossed or locked state can only come from a stale
carried side, which is cleared (above) rather than the row dropped, so ``crossed_book``/``locked_book``
then count only two-sided rows that cross. The state machine runs in numba (compiled once, cached).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataError
from ._csv import (
    Where,
    check_time_range,
    first_line,
    fmt,
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
    pick_session,
    reference_price,
    stub_levels,
    time_order,
)

Col = str | int

#: exchange letter → venue name (Lean ``Data/equity/readme.md``)
US_EXCHANGES: dict[str, str] = {
    "A": "NYSE MKT", "B": "NASDAQ OMX BX", "C": "National Stock Exchange", "D": "FINRA TRF/ADF",
    "I": "ISE", "J": "Direct Edge A", "K": "Direct Edge X", "M": "Chicago Stock Exchange", "N": "NYSE",
    "P": "NYSE Arca", "Q": "NASDAQ", "T": "NASDAQ", "W": "CBOE Stock Exchange", "X": "NASDAQ OMX PSX",
    "Y": "BATS Y", "Z": "BATS",
}

_UNITS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


@dataclass(frozen=True)
class TaqTradeLayout:
    """Columns of a trades table (names, or 0-based positions when headerless)."""

    time: Col
    price: Col
    size: Col
    exchange: Col
    suspicious: Col | None = None
    n_fields: int | None = None  # headerless files: fields per line
    condition: Col | None = None  # Lean/AlgoSeek packed sale conditions, hexadecimal (module docstring)


#: Lean ``TradeConditionFlags`` bits (bit number → name) that make a print ineligible to fill a resting order
#: on its venue's displayed book at its time stamp: settlement or pricing outside the book (cash, next day,
#: seller's option, derivatively priced, average price, prior reference price, stock-option/contingent,
#: split, bunched, acquisition, distribution, Rule 155, price variation), late or out-of-sequence reports
#: (sold last, out of sequence), single-priced crosses and official prints (opening, closing, reopening,
#: cross, official open/close), stopped orders, and extended-hours / Form T prints. Corrections and
#: cancels are not in the Lean word; AlgoSeek's separate correction records are not in these files.
INELIGIBLE_BITS: dict[int, str] = {
    1: "cash", 2: "next_day", 3: "seller", 6: "opening_prints", 7: "closing_prints", 8: "reopening_prints",
    9: "derivatively_priced", 10: "form_t", 11: "sold_last", 12: "stopped", 13: "extended_hours",
    14: "out_of_sequence", 15: "split", 16: "acquisition", 17: "bunched", 18: "stock_option",
    19: "distribution", 20: "average_price", 21: "cross", 22: "price_variation", 23: "rule_155",
    24: "official_close", 25: "prior_reference_price", 26: "official_open",
}
ISO_BIT, TRADE_THROUGH_EXEMPT_BIT = 5, 29
INELIGIBLE_MASK = sum(1 << b for b in INELIGIBLE_BITS)


def book_eligible(flags: np.ndarray, sweep_exempt_eligible: bool = True) -> np.ndarray:
    """Per print (Lean condition words ``flags``, uint): True when it could have filled a resting order on
    its venue's book at that moment — no bit of :data:`INELIGIBLE_MASK`, and not trade-through exempt
    (bit 29) *unless* it is an intermarket sweep (bit 5) and ``sweep_exempt_eligible``: CTA/UTP mark every
    intermarket-sweep execution exempt (Rule 611), yet a sweep executes against the venue's own book in its
    price priority (it only skips *other* venues' protected quotes), so it can reach us; an exempt print
    without the sweep flag (self-help, benchmark, qualified contingent, …) is not taken as a book execution."""
    f = np.asarray(flags, np.uint64)
    ok = (f & np.uint64(INELIGIBLE_MASK)) == 0
    tte = (f & np.uint64(1 << TRADE_THROUGH_EXEMPT_BIT)) != 0
    if sweep_exempt_eligible:
        tte &= (f & np.uint64(1 << ISO_BIT)) == 0
    return ok & ~tte


@dataclass(frozen=True)
class TaqLayout:
    """How to read a TAQ-style quote table (and its trades). Units: ``price_scale`` in $ per unit."""

    time: Col
    bid_px: Col
    bid_sz: Col
    ask_px: Col
    ask_sz: Col
    exchange: Col
    header: bool = True
    n_fields: int | None = None  # headerless files: fields per line
    suspicious: Col | None = None
    price_scale: float = 1.0
    time_unit: str = "ns"  # unit of integer times: s, ms, us, ns (text times are parsed as ISO-8601)
    time_origin: str = "epoch"  # "epoch" (UTC) or "midnight" (local midnight of the file's date in tz)
    tz: str = "America/New_York"
    one_sided: bool = False  # a zero side means "no change" (carry the venue's last value forward)
    nbbo_rows: bool = False  # rows are national-best updates naming the venue at the best (AlgoSeek)
    trades: TaqTradeLayout | None = None
    quote_tag: str = "_quote"  # file-name part that becomes trade_tag in the sibling trades file
    trade_tag: str = "_trade"
    trades_only: tuple[str, ...] = ()  # exchange letters that print trades but never quote
    venue_names: dict[str, str] = field(default_factory=lambda: dict(US_EXCHANGES))


ALGOSEEK = TaqLayout(
    time=0, bid_px=1, bid_sz=2, ask_px=3, ask_sz=4, exchange=5, suspicious=7, header=False, n_fields=8,
    price_scale=1e-4, time_unit="ms", time_origin="midnight", tz="America/New_York", one_sided=True,
    nbbo_rows=True,
    trades=TaqTradeLayout(time=0, price=1, size=2, exchange=3, suspicious=5, n_fields=6, condition=4),
    trades_only=("D",),
)


def _name(c: Col, header: bool) -> str:
    return c if isinstance(c, str) and header else f"f{int(c)}"


def _file_date(path: Path, date: str | None) -> str:
    if date:
        return date
    m = re.search(r"(?<!\d)(\d{8})(?!\d)", path.name)
    if not m:
        raise DataError("times are relative to midnight but the file name has no YYYYMMDD date; pass date=",
                        path=str(path))
    return m.group(1)


def _to_utc_ns(table: pa.Table, col: str, layout: TaqLayout, path: Path, hdr: int, date: str | None) -> np.ndarray:
    import pandas as pd

    t = table.column(col).type
    w = Where(str(path), hdr)
    if pa.types.is_timestamp(t) or pa.types.is_string(t) or pa.types.is_large_string(t):
        if pa.types.is_timestamp(t) and t.tz is None:  # naive wall-clock times in layout.tz
            naive, _ = timestamps(table, col, w)
            out = pd.DatetimeIndex(naive).tz_localize(layout.tz, ambiguous="NaT", nonexistent="shift_forward").asi8
        else:
            out, empty = timestamps(table, col, w)
            if empty.any():
                raise w.error("missing timestamp", int(np.flatnonzero(empty)[0]), col)
        return out
    if layout.time_unit not in _UNITS:
        raise DataError(f"unknown time unit {layout.time_unit!r} (use s, ms, us or ns)", path=str(path))
    raw = raw_numbers(table, col, w)
    if np.isnan(raw).any():
        raise w.error("missing timestamp", int(np.flatnonzero(np.isnan(raw))[0]), col)
    ns = np.round(raw * _UNITS[layout.time_unit]).astype(np.int64)
    if layout.time_origin == "epoch":
        check_time_range(ns, w, col)
        return ns
    if layout.time_origin != "midnight":
        raise DataError(f"unknown time origin {layout.time_origin!r} (use epoch or midnight)", path=str(path))
    day_ns = 86_400 * 10**9
    bad = (ns < 0) | (ns >= day_ns)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise w.error(f"time {fmt(raw[i])} {layout.time_unit} after midnight is outside the day "
                      f"(0 to {day_ns // _UNITS[layout.time_unit]:,})", i, col)
    day = pd.Timestamp(_file_date(path, date))
    start = day.tz_localize(layout.tz)
    end = (day + pd.Timedelta(days=1)).tz_localize(layout.tz)
    if (end - start) == pd.Timedelta(days=1):  # no DST change that day: one offset
        out = ns + start.value
    else:
        out = pd.DatetimeIndex(ns + day.value).tz_localize(layout.tz, ambiguous="NaT",
                                                          nonexistent="shift_forward").asi8
    check_time_range(out, w, col)
    return out


def _dollars(raw: np.ndarray, scale: float) -> np.ndarray:
    """Raw prices → $; divides by an integer 1/scale when possible (correctly rounded: 1817500 → 181.75)."""
    if scale == 1:
        return raw.astype(np.float64, copy=False)
    inv = 1.0 / scale
    return raw / round(inv) if abs(inv - round(inv)) < 1e-6 else raw * scale


def _prices(table: pa.Table, col: str, w: Where, scale: float, *, zero_is_empty: bool) -> np.ndarray:
    """A price column in $ (NaN = empty side; 0 too when ``zero_is_empty``), checked against the thresholds."""
    px = _dollars(raw_numbers(table, col, w), scale)
    if zero_is_empty:
        px = np.where(px == 0, np.nan, px)
    check_prices(px, w, col, required=None if zero_is_empty else np.ones(len(px), bool))
    return px


def _sizes(table: pa.Table, col: str, w: Where) -> np.ndarray:
    return whole_numbers(raw_numbers(table, col, w, integer=True), w, col, lo=0, hi=MAX_SIZE, what="size")


def _flag(table: pa.Table, col: str, w: Where) -> np.ndarray:
    """A 0/1 (or any integer) flag column → bool (empty = 0)."""
    raw = raw_numbers(table, col, w, integer=True)
    return whole_numbers(raw, w, col, lo=-2**31, hi=2**31, what="flag") != 0


def _conditions(table: pa.Table, col: str, w: Where) -> np.ndarray:
    """The hexadecimal Lean condition words → uint64 (empty = 0, no condition); text that is not
    hexadecimal is an error located at its row."""
    c = pc.fill_null(table.column(col).cast(pa.string()), "")
    uniq, inv = np.unique(np.asarray(c.to_numpy(zero_copy_only=False), dtype=object).astype(str),
                          return_inverse=True)
    vals = np.zeros(uniq.shape[0], np.uint64)
    for i, u in enumerate(uniq.tolist()):
        t = u.strip()
        if t and not re.fullmatch(r"[0-9A-Fa-f]{1,16}", t):
            raise w.error(f"trade condition {u!r} is not a hexadecimal Lean condition word",
                          int(np.flatnonzero(inv == i)[0]), col)
        vals[i] = int(t, 16) if t else 0
    return vals[inv.reshape(-1)]


def _exchange(table: pa.Table, col: str, w: Where) -> np.ndarray:
    c = table.column(col).cast(pa.string())
    ok = pc.fill_null(pc.match_substring_regex(c, r"^[A-Za-z0-9]$"), False).to_numpy(zero_copy_only=False)
    bad = np.flatnonzero(~ok)
    if bad.size:
        i = int(bad[0])
        raise w.error(f"exchange code {c[i].as_py()!r} is not a single letter", i, col)
    return strings_to_codes(c).astype(np.int32)


def _table(path: Path, header: bool, n_fields: int | None, cols: dict[str, Col], what: str) -> tuple[pa.Table, int]:
    names = None
    if not header:
        n = n_fields or (max(int(c) for c in cols.values()) + 1)
        names = [f"f{i}" for i in range(n)]
    want = [_name(c, header) for c in cols.values()]
    if header:
        require_columns(header_names(first_line(path)), want, str(path), what)
    text = {_name(cols[k], header): pa.string() for k in ("exchange", "condition") if k in cols}
    table, hdr = read_csv_table(path, header=header, names=names, include=want, column_types=text)
    return table, hdr


def _sibling(path: Path, src: str, dst: str) -> Path | None:
    if src and src in path.name:
        return path.with_name(path.name.replace(src, dst, 1))
    return None


def read_taq(path: str | Path, layout: TaqLayout = ALGOSEEK, *, trades_path: str | Path | None = None,
             date: str | None = None, symbol: str | None = None, session: str | None = None) -> MarketData:
    """Read a TAQ-style quote file (CSV, optionally zipped) and its trades into :class:`MarketData`.

    Give a quote file (its sibling trades file, e.g. ``*_trade.zip``, is read too when it exists) or a
    trades file (its sibling quote file is read too). ``trades_path`` names the trades file explicitly;
    ``date`` (YYYYMMDD) overrides the date taken from the file name for midnight-relative times.
    ``symbol`` must match the file's symbol (from its name) when both are known; ``session``
    (YYYY-MM-DD, in ``layout.tz``) keeps one trading date of a file spanning several.
    """
    p = Path(path)
    open_source(p)
    quote_path: Path | None = p
    trade_path = Path(trades_path) if trades_path is not None else None
    if layout.trade_tag and layout.trade_tag in p.name and trades_path is None:
        trade_path, quote_path = p, _sibling(p, layout.trade_tag, layout.quote_tag)
        if quote_path is not None and not quote_path.exists():
            quote_path = None
    elif trade_path is None and layout.trades is not None:
        sib = _sibling(p, layout.quote_tag, layout.trade_tag)
        trade_path = sib if sib is not None and sib.exists() else None
    sym = _symbol(p)
    if symbol is not None and sym is not None and symbol.upper() != sym:
        raise DataError(f"--symbol {symbol}: this file holds {sym} only", path=str(p))
    report = LoadReport(source=str(p), format="algoseek" if layout is ALGOSEEK else "taq")
    dfmt = _file_date(p, date) if layout.time_origin == "midnight" else None

    quotes = Quotes.empty(1)
    if quote_path is not None:
        quotes = _read_quotes(quote_path, layout, report, dfmt)
    else:
        report.notes.append("no quote file found next to the trades file")
    trades = Trades.empty()
    if trade_path is not None:
        if layout.trades is None:
            raise DataError("the layout has no trades columns (TaqLayout.trades)", path=str(trade_path))
        open_source(trade_path)
        trades = _read_trades(trade_path, layout, report, dfmt)
        report.notes.append(f"trades from {trade_path.name}")
    elif layout.trades is not None:
        report.notes.append("no trades file found (expected a sibling named with "
                            f"'{layout.trade_tag}' instead of '{layout.quote_tag}')")
    if quote_path is not None and len(trades):
        qv = set(np.unique(quotes.venue).tolist())
        for v in np.unique(trades.venue):
            if int(v) not in qv:
                letter = chr(int(v))
                why = " (a trade-reporting venue)" if letter in layout.trades_only else ""
                report.notes.append(f"venue {letter} has trades but no quotes{why}")
    day = pick_session(str(p), np.concatenate([quotes.ts, trades.ts]), layout.tz, session)
    if day is not None:
        quotes, trades = quotes.take(day[:len(quotes)]), trades.take(day[len(quotes):])
        report.notes.append(f"kept {len(quotes):,} quote and {len(trades):,} trade rows of {session}")
    stub_levels(quotes.bid_px, quotes.bid_sz, quotes.ask_px, quotes.ask_sz,
                reference_price(trades.price, quotes.bid_px[:, 0], quotes.ask_px[:, 0]), report)
    report.quote_rows, report.trade_rows = len(quotes), len(trades)
    keys = np.union1d(np.unique(quotes.venue), np.unique(trades.venue))
    names = {int(k): f"{layout.venue_names.get(chr(int(k)), chr(int(k)))} ({chr(int(k))})" for k in keys}
    return MarketData(quotes, trades, report, venue_names=names, symbol=sym, tz=layout.tz)


def _symbol(p: Path) -> str | None:
    parent = p.parent.name
    if re.fullmatch(r"[a-z.]{1,8}", parent):  # Lean layout: .../<ticker>/<date>_quote.zip
        return parent.upper()
    m = re.search(r"\d{8}_([a-z.]+)_(quote|trade)", p.name, re.I)
    return m.group(1).upper() if m else None


def _read_rows(path: Path, L: TaqLayout, n_fields: int | None, cols: dict[str, Col], what: str,
               report: LoadReport, date: str | None):
    """Shared head of the quote and trade readers: the table, header lines, column names by key,
    UTC times (ns) and venue keys; counts the rows read."""
    table, hdr = _table(path, L.header, n_fields, cols, what)
    n = {k: _name(c, L.header) for k, c in cols.items()}
    report.rows_read += table.num_rows
    ts = _to_utc_ns(table, n["time"], L, path, hdr, date)
    w = Where(str(path), hdr)
    venue = _exchange(table, n["exchange"], w)
    return table, w, n, ts, venue


def _read_quotes(path: Path, L: TaqLayout, report: LoadReport, date: str | None) -> Quotes:
    cols = {"time": L.time, "bid_px": L.bid_px, "bid_sz": L.bid_sz, "ask_px": L.ask_px, "ask_sz": L.ask_sz,
            "exchange": L.exchange}
    if L.suspicious is not None:
        cols["suspicious"] = L.suspicious
    table, w, n, ts, venue = _read_rows(path, L, L.n_fields, cols, "quote", report, date)
    bid_px = _prices(table, n["bid_px"], w, L.price_scale, zero_is_empty=True)
    ask_px = _prices(table, n["ask_px"], w, L.price_scale, zero_is_empty=True)
    bid_sz = _sizes(table, n["bid_sz"], w)
    ask_sz = _sizes(table, n["ask_sz"], w)
    if "suspicious" in n:
        sus = _flag(table, n["suspicious"], w)
        report.count("suspicious_quote", int(sus.sum()))
        if sus.any():
            keep = ~sus
            ts, venue, bid_px, ask_px, bid_sz, ask_sz = (a[keep] for a in (ts, venue, bid_px, ask_px, bid_sz, ask_sz))
    dup = duplicate_mask([ts, venue, bid_px, bid_sz, ask_px, ask_sz])
    report.count("duplicate_record", int(dup.sum()))
    if dup.any():
        keep = ~dup
        ts, venue, bid_px, ask_px, bid_sz, ask_sz = (a[keep] for a in (ts, venue, bid_px, ask_px, bid_sz, ask_sz))
    order, unsorted = time_order(ts)
    report.count("unsorted_time", unsorted)
    if order is not None:
        ts, venue, bid_px, ask_px, bid_sz, ask_sz = (a[order] for a in (ts, venue, bid_px, ask_px, bid_sz, ask_sz))
    if L.one_sided:
        return _one_sided_state(ts, venue, bid_px, bid_sz, ask_px, ask_sz, L.nbbo_rows, report)
    bid_sz = np.where(np.isnan(bid_px), 0, bid_sz)
    ask_sz = np.where(np.isnan(ask_px), 0, ask_sz)
    crossed, locked = crossed_locked(bid_px, ask_px)
    report.count("crossed_book", int(crossed.sum()))
    report.count("locked_book", int(locked.sum()))
    keep = ~(crossed | locked)
    q = Quotes(ts, venue, bid_px[:, None], bid_sz[:, None], ask_px[:, None], ask_sz[:, None])
    return q if keep.all() else q.take(keep)


def _one_sided_state(ts: np.ndarray, venue: np.ndarray, bid_px: np.ndarray, bid_sz: np.ndarray,
                     ask_px: np.ndarray, ask_sz: np.ndarray, nbbo: bool, report: LoadReport) -> Quotes:
    """Per-venue book states from one-sided rows in time order (see the module doc for the rules)."""
    keys, vidx = np.unique(venue, return_inverse=True)
    k = len(keys)
    args = (vidx.astype(np.int64), np.nan_to_num(bid_px, nan=0.0), bid_sz, np.nan_to_num(ask_px, nan=0.0),
            ask_sz, k, nbbo)
    counts = np.zeros(4, np.int64)
    total = _replay(*args, counts, None)
    out_src = np.empty(total, np.int64)
    out_v = np.empty(total, np.int64)
    out = [np.empty(total), np.empty(total, np.int64), np.empty(total), np.empty(total, np.int64)]
    counts[:] = 0
    _replay(*args, counts, (out_src, out_v, *out))
    report.count("crossed_book", int(counts[0]))
    report.count("locked_book", int(counts[1]))
    report.count("stale_own_side_cleared", int(counts[2]))
    report.count("stale_quote_expired", int(counts[3]))
    bp, bs, ap, as_ = out
    return Quotes(ts[out_src], keys[out_v].astype(np.int32), bp[:, None], bs[:, None], ap[:, None], as_[:, None])


def _replay_py(vidx, bpx, bsz, apx, asz, k, nbbo, counts, out):  # pragma: no cover - compiled by numba
    """Sequential state machine over one-sided rows; returns the number of rows emitted.

    Rules: a present side (price > 0) updates the venue's side; an absent side keeps its last value.
    A fresh side that crosses/locks the venue's own carried other side empties that side (stale). With
    ``nbbo`` (rows are national-best updates naming the venue at the best), a fresh best bid ``p`` also
    empties every other venue's carried bid above ``p`` (and asks below the best ask): each such venue
    gets an extra row. A row with both sides present that crosses/locks is dropped.
    """
    bid = np.zeros(k)
    bs = np.zeros(k, np.int64)
    ask = np.zeros(k)
    as_ = np.zeros(k, np.int64)
    changed = np.zeros(k, np.bool_)
    m = 0
    for i in range(vidx.shape[0]):
        v = vidx[i]
        hb = bpx[i] > 0
        ha = apx[i] > 0
        if hb and ha and bpx[i] >= apx[i]:
            if bpx[i] > apx[i]:
                counts[0] += 1
            else:
                counts[1] += 1
            continue
        changed[:] = False
        if hb:
            bid[v] = bpx[i]
            bs[v] = bsz[i]
            if not ha and ask[v] > 0 and ask[v] <= bpx[i]:
                ask[v] = 0.0
                as_[v] = 0
                counts[2] += 1
            if nbbo:
                for u in range(k):
                    if u != v and bid[u] > bpx[i]:
                        bid[u] = 0.0
                        bs[u] = 0
                        changed[u] = True
        if ha:
            ask[v] = apx[i]
            as_[v] = asz[i]
            if not hb and bid[v] > 0 and bid[v] >= apx[i]:
                bid[v] = 0.0
                bs[v] = 0
                counts[2] += 1
            if nbbo:
                for u in range(k):
                    if u != v and ask[u] > 0 and ask[u] < apx[i]:
                        ask[u] = 0.0
                        as_[u] = 0
                        changed[u] = True
        if out is not None:
            out[0][m] = i
            out[1][m] = v
            out[2][m] = bid[v] if bid[v] > 0 else np.nan
            out[3][m] = bs[v]
            out[4][m] = ask[v] if ask[v] > 0 else np.nan
            out[5][m] = as_[v]
        m += 1
        for u in range(k):
            if changed[u]:
                counts[3] += 1
                if out is not None:
                    out[0][m] = i
                    out[1][m] = u
                    out[2][m] = bid[u] if bid[u] > 0 else np.nan
                    out[3][m] = bs[u]
                    out[4][m] = ask[u] if ask[u] > 0 else np.nan
                    out[5][m] = as_[u]
                m += 1
    return m


def _replay(*args):
    """:func:`_replay_py` compiled by numba on first use (cached on disk)."""
    global _replay_jit
    if _replay_jit is None:
        import numba

        _replay_jit = numba.njit(cache=True)(_replay_py)
    return _replay_jit(*args)


_replay_jit = None


def _read_trades(path: Path, L: TaqLayout, report: LoadReport, date: str | None) -> Trades:
    T = L.trades
    assert T is not None
    cols = {"time": T.time, "price": T.price, "size": T.size, "exchange": T.exchange}
    if T.suspicious is not None:
        cols["suspicious"] = T.suspicious
    if T.condition is not None:
        cols["condition"] = T.condition
    table, w, n, ts, venue = _read_rows(path, L, T.n_fields, cols, "trade", report, date)
    price = _prices(table, n["price"], w, L.price_scale, zero_is_empty=False)
    size = _sizes(table, n["size"], w)
    elig = book_eligible(_conditions(table, n["condition"], w)) if "condition" in n else np.ones(len(ts), bool)
    if "suspicious" in n:
        sus = _flag(table, n["suspicious"], w)
        report.count("suspicious_trade", int(sus.sum()))
        if sus.any():
            ts, venue, price, size, elig = (a[~sus] for a in (ts, venue, price, size, elig))
    order, unsorted = time_order(ts)
    report.count("unsorted_time", unsorted)
    if order is not None:
        ts, venue, price, size, elig = (a[order] for a in (ts, venue, price, size, elig))
    if "condition" in n:
        report.count("trade_not_book_eligible", int((~elig).sum()))
    return Trades(ts, venue, price, size, np.zeros(len(ts), np.int8), elig if "condition" in n else None)
