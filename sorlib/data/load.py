"""Format detection, the one entry point :func:`load`, and the shared CSV / validation machinery.

Validation (errors: :class:`~sorlib.errors.DataError`, one line naming file, line — header = line 1 — and
column; thresholds in :mod:`sorlib.data.validate`):

* missing, unreadable (permissions), non-regular (pipe, device), 0-byte or header-only file; a corrupt or
  truncated zip or compressed (``.zst``/``.gz``) file;
* a NUL byte or invalid UTF-8 (the line is named);
* missing required columns (which ones, and what the format expects); a required column twice;
* a line with fewer/more fields than the header (e.g. a truncated last line);
* unparsable numbers or timestamps (row, column and the offending value); an empty timestamp (Databento
  bbo-* records may leave ``ts_event`` empty: they use ``ts_recv``);
* prices: ``NaN``/``inf``, <= 0, >= $1,000,000/share, the fixed-point "no price" value in a decimal-price
  file, a trade without a price;
* sizes: fractional, negative, above 100,000,000 shares (e.g. 2^63 is "too large"), a trade of 0 shares;
* times outside the years 1990-2099 (integer times must be nanoseconds);
* ``publisher_id`` outside 0..65535, ``instrument_id`` outside 0..2^32-1, ``flags`` outside 0..255;
* two or more instruments interleaved (listed; pick one with ``symbol=`` / ``--symbol``), or rows on two
  or more trading dates in New York time (listed; pick one with ``date=`` / ``--date YYYY-MM-DD``);
* no two-sided quote at all: at no time does some venue show a bid while some venue shows an ask.

Repair policy (every repair is counted in :attr:`LoadReport.repairs` under the key shown; nothing is
dropped silently):

| key | policy |
|---|---|
| `duplicate_record` | a record identical in every column read — `flags` and every book level included — to an earlier one is dropped (Databento CSV/DBN: all records; TAQ/AlgoSeek: quote rows only — identical prints in the same millisecond are distinct trades, so trades are never de-duplicated) |
| `unsorted_time` | number of rows whose time is earlier than some previous row's; all rows are then stable-sorted by time (equal times keep file order). Databento files are in `ts_recv` order and sorlib uses `ts_event`, so multi-venue files usually count some |
| `stub_quote` | a book level priced over 10x (or under 1/10) the file's median trade price (median two-sided mid without trades) is emptied — a placeholder order such as an ask at $2,147.48 on a $13 stock; counted per quote row changed |
| `crossed_book` | a quote row whose own level-0 bid > ask (within one venue) is dropped; the venue's previous state stays valid until its next row |
| `locked_book` | the same for bid == ask |
| `bad_book_flag` | Databento `F_MAYBE_BAD_BOOK` (flags 1<<2, unrecoverable gap): the row is kept with its book emptied — the venue shows no liquidity until its next clean update |
| `suspicious_quote` | AlgoSeek quote rows with the `suspicious` flag are dropped |
| `suspicious_trade` | the same for AlgoSeek trade rows |
| `stale_own_side_cleared` | one-sided rows (AlgoSeek): a fresh bid (ask) at or through the venue's own carried ask (bid) empties that carried side; the row is changed, not dropped |
| `stale_quote_expired` | NBBO rows (AlgoSeek): a new national best bid `p` proves every other venue's carried bid above `p` gone (asks likewise); each such venue gets one added row with that side empty, stamped with the time of the row that proved it |

Notes (no repair, shown by ``sorlib inspect``): Databento ``F_BAD_TS_RECV`` (1<<3) — sorlib times records
by ``ts_event``; thin data (one venue, fewer than 100 quote rows, no trades, a two-sided best quote during
under half the span; 20% or more of the rows outside regular hours).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import DataError
from ._csv import first_line, header_names
from .market import MarketData
from .order_events import OrderEvents

FORMATS = ("auto", "databento", "algoseek", "taq", "lobster", "mbo")


def detect_format(path: str | Path) -> str:
    """``databento`` (CSV with ts_event/ts_recv header, or .dbn[.zst]), ``algoseek``, ``taq``, ``lobster``
    (a LOBSTER zip or message/order-book CSV, by name) or ``mbo`` (a Databento MBO CSV or DBN)."""
    from .lobster import is_lobster
    from .mbo import is_mbo

    p = Path(path)
    name = p.name.lower()
    if is_lobster(p):
        return "lobster"
    if is_mbo(p):
        return "mbo"
    if name.endswith((".dbn", ".dbn.zst")):
        return "databento"
    fields = header_names(first_line(p))
    if "ts_event" in fields or "ts_recv" in fields:
        return "databento"
    if re.fullmatch(r"\d{8}_(quote|trade)\.(zip|csv)", name) or (
            len(fields) in (6, 8) and all(re.fullmatch(r"-?\d+|[A-Z]", f) for f in fields)):
        return "algoseek"
    raise DataError("cannot tell the format: not a Databento CSV/DBN (no ts_event column) nor an AlgoSeek "
                    "tick file; pass --format taq with a TaqLayout, or --format databento|algoseek",
                    path=str(p))


def load(path: str | Path, format: str = "auto", *, symbol: str | None = None, date: str | None = None,
         cache: bool = True, **kw) -> MarketData:
    """Read one market-data file (one instrument, one trading date) into :class:`MarketData`.

    ``format``: ``auto`` (detect), ``databento`` (MBP-1/MBP-10/TBBO/BBO CSV or DBN), ``algoseek``
    (Lean/AlgoSeek tick zip; the sibling trade/quote zip is loaded too), ``taq`` (needs
    ``layout=TaqLayout(...)``), ``lobster`` (:mod:`sorlib.data.lobster`) or ``mbo`` (Databento MBO CSV/DBN,
    book rebuilt from orders: :mod:`sorlib.data.mbo`). ``symbol`` picks one
    instrument (symbol or instrument id) of a file holding several; ``date`` (``YYYY-MM-DD``, New York
    time) one trading date of a file spanning several. Extra keywords go to the reader.

    ``cache``: the first load stores the parsed, validated and repaired day in the columnar day cache
    (:mod:`sorlib.data.cache`; location ``$SORLIB_CACHE_DIR``, else ``<file dir>/.sorlib-cache``, else
    ``~/.cache/sorlib/days``); later loads of the unchanged file with the same options memory-map it.
    ``md.report.cache`` says which happened. ``progress`` (Databento DBN): records decoded on stderr —
    True a tqdm bar, None a line every 30 s, False (default) nothing.
    """
    if format not in FORMATS:
        raise DataError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}", path=str(path))
    fmt = detect_format(path) if format == "auto" else format
    progress = kw.pop("progress", False)  # how, not what: never part of the cache key
    if fmt == "databento":
        kw_read = {**kw, "progress": progress}
    else:
        kw_read = kw
    if not cache:
        return _parse(path, fmt, symbol, date, kw_read)
    from .cache import cached

    options = {"format": fmt, "symbol": symbol, "date": date, **kw}
    from .csv_stream import csv_streamer
    from .dbn_stream import dbn_streamer

    streamer = dbn_streamer(path, fmt, symbol, date, kw, progress) or csv_streamer(path, fmt, symbol, date, kw,
                                                                                   progress)
    md, status = cached(path, options, lambda: _parse(path, fmt, symbol, date, kw_read), stream=streamer)
    md.report.cache = status.line(str(path))
    return md


def _parse(path: str | Path, fmt: str, symbol: str | None, date: str | None, kw: dict) -> MarketData:
    """The reader of format ``fmt`` (no cache), then :func:`~.validate.check_usable`."""
    from .validate import check_usable

    if fmt == "databento":
        from .databento import read_databento

        md = read_databento(path, symbol=symbol, date=date, **kw)
    elif fmt == "lobster":
        from .lobster import read_lobster

        md = read_lobster(path, symbol=symbol, date=date, **kw)
    elif fmt == "mbo":
        from .mbo import read_mbo

        md = read_mbo(path, symbol=symbol, date=date, **kw)
    else:
        from .taq import ALGOSEEK, read_taq

        if fmt == "algoseek":
            kw.setdefault("layout", ALGOSEEK)
        elif "layout" not in kw:
            raise DataError("format 'taq' needs a column layout (layout=TaqLayout(...))", path=str(path))
        md = read_taq(path, symbol=symbol, session=date, **kw)
    check_usable(md)
    return md


def load_with_orders(path: str | Path, format: str = "auto", *, symbol: str | None = None,
                     date: str | None = None, **kw) -> tuple[MarketData, OrderEvents]:
    """Like :func:`load`, for order-level data: (:class:`MarketData`, :class:`OrderEvents`).

    ``format``: ``auto``, ``lobster`` or ``mbo``. Other formats carry no order ids (DataError).
    """
    from .validate import check_usable

    fmt = detect_format(path) if format == "auto" else format
    if fmt == "lobster":
        from .lobster import read_lobster_with_orders

        md, events = read_lobster_with_orders(path, symbol=symbol, date=date, **kw)
    elif fmt == "mbo":
        from .mbo import read_mbo_with_orders

        md, events = read_mbo_with_orders(path, symbol=symbol, date=date, **kw)
    else:
        raise DataError(f"format {fmt!r} has no order ids; order events need a LOBSTER file or a Databento MBO "
                        "file", path=str(path))
    check_usable(md)
    return md, events


__all__ = ["FORMATS", "detect_format", "load", "load_with_orders"]
