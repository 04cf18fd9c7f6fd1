"""Value checks and repairs shared by every reader (thresholds, de-duplication, sorting, one instrument,
one session, a usable book). The policy is tabled in :mod:`sorlib.data.load`.

Thresholds (errors, one line naming file, line and column):

* prices: finite, ``> 0`` and ``< MAX_PRICE`` ($1,000,000/share); an empty field is an empty level;
* sizes: whole numbers of shares in ``0 .. MAX_SIZE`` (100,000,000); a trade has at least 1 share;
* times: years 1990-2099 UTC (integer times are nanoseconds since the epoch).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from ._csv import Where, fmt
from .market import LoadReport, MarketData, Quotes

MAX_PRICE = 1_000_000.0  # $/share, exclusive
MAX_SIZE = 100_000_000  # shares, inclusive
STUB_FACTOR = 10.0  # a level priced over 10x (or under 1/10) the file's reference price is a stub quote
THIN_ROWS = 100  # fewer quote rows than this is noted as thin


# -------------------------------------------------------------------------------------------- values
def check_prices(px: np.ndarray, where: Where, column: str, *, required: np.ndarray | None = None,
                 sentinel: int | None = None) -> None:
    """Prices ($) must be finite, > 0 and < MAX_PRICE; NaN is an empty field, allowed unless ``required``.

    ``sentinel`` (the fixed-point undefined price read as a decimal number) gets its own message.
    """
    present = ~np.isnan(px)
    with np.errstate(invalid="ignore"):
        bad = present & ~((px > 0) & (px < MAX_PRICE))
    if required is not None:
        bad |= required & ~present
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    v = px[i]
    if np.isnan(v):
        msg = "empty price on a trade (a trade needs a price)"
    elif sentinel is not None and v == float(sentinel):
        msg = (f"price {sentinel} is the fixed-point 'no price' value in a file of decimal prices; "
               "leave the field empty for an empty level")
    elif v <= 0:
        msg = f"price {fmt(v)} must be > 0 (leave the field empty for an empty level)"
    else:
        msg = f"price {fmt(v)} is absurd (must be below {MAX_PRICE:,.0f} $/share); check the price scale"
    raise where.error(msg, i, column)


# ------------------------------------------------------------------------------------ repairs (shared)
def _u64(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind == "f":
        a = np.where(np.isnan(a), np.nan, a + 0.0)  # canonical NaN, -0.0 → 0.0
        return a.view(np.uint64)
    if a.dtype.kind in "SUO":
        return np.unique(a, return_inverse=True)[1].astype(np.uint64)
    return a.astype(np.int64, copy=False).view(np.uint64) if a.dtype.itemsize == 8 else a.astype(np.uint64)


def duplicate_mask(columns: list[np.ndarray]) -> np.ndarray:
    """True for rows identical to an earlier row in every column (1-D or 2-D arrays: every level).

    Vectorised: rows are hashed on every field of every column; rows sharing a hash are then compared
    exactly on all fields (NaN equals NaN), so a hash collision never drops a row.
    """
    fields = []
    for c in columns:
        c = np.asarray(c)
        fields.extend([c[:, j] for j in range(c.shape[1])] if c.ndim == 2 else [c])
    n = len(fields[0])
    mask = np.zeros(n, bool)
    if n < 2:
        return mask
    h = np.full(n, 0x9E3779B97F4A7C15, np.uint64)
    with np.errstate(over="ignore"):
        for c in fields:
            v = _u64(np.ascontiguousarray(c)) * np.uint64(0xBF58476D1CE4E5B9)
            h ^= v + np.uint64(0x9E3779B97F4A7C15) + (h << np.uint64(6)) + (h >> np.uint64(2))
    cand = np.flatnonzero(pd.Series(h).duplicated(keep=False).to_numpy())  # hash table, no sort
    if cand.size == 0:
        return mask
    dup = pd.DataFrame({j: c[cand] for j, c in enumerate(fields)}).duplicated(keep="first").to_numpy()
    mask[cand[dup]] = True
    return mask


def time_order(ts: np.ndarray) -> tuple[np.ndarray | None, int]:
    """Stable sort order for ``ts`` (None when already sorted) and the number of rows out of order."""
    if ts.size < 2:
        return None, 0
    if not (ts[1:] < ts[:-1]).any():
        return None, 0
    out_of_order = int(np.count_nonzero(ts[1:] < np.maximum.accumulate(ts)[:-1]))
    return np.argsort(ts, kind="stable"), out_of_order


def crossed_locked(bid0: np.ndarray, ask0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of rows whose own top of book is crossed (bid > ask) or locked (bid == ask)."""
    both = np.isfinite(bid0) & np.isfinite(ask0)
    return both & (bid0 > ask0), both & (bid0 == ask0)


def stub_levels(bid_px, bid_sz, ask_px, ask_sz, ref: float, report: LoadReport) -> None:
    """Empty (in place) every level priced over ``STUB_FACTOR`` x ``ref`` or under ``ref / STUB_FACTOR``.

    Such levels are placeholder ("stub") orders, e.g. an ask at $2,147.48 on a $13 stock; a router or a
    clean-up sweep must never price shares there. Counted per quote row changed as ``stub_quote``.
    """
    if not (np.isfinite(ref) and ref > 0):
        return
    lo, hi = ref / STUB_FACTOR, ref * STUB_FACTOR
    with np.errstate(invalid="ignore"):
        sb = (bid_px < lo) | (bid_px > hi)
        sa = (ask_px < lo) | (ask_px > hi)
    rows = sb.any(axis=1) | sa.any(axis=1)
    if rows.any():
        bid_px[sb], bid_sz[sb], ask_px[sa], ask_sz[sa] = np.nan, 0, np.nan, 0
        report.count("stub_quote", int(rows.sum()))
        report.notes.append(f"stub quotes: levels outside {fmt(round(lo, 4))}..{fmt(round(hi, 2))} $ "
                            f"(1/{fmt(STUB_FACTOR)} to {fmt(STUB_FACTOR)}x the median price {fmt(round(ref, 4))} $) "
                            "emptied")


def reference_price(trade_px: np.ndarray, bid0: np.ndarray, ask0: np.ndarray) -> float:
    """Median trade price, or with no trades the median level-0 mid of two-sided rows (NaN if neither)."""
    tp = trade_px[np.isfinite(trade_px)]
    if tp.size:
        return float(np.median(tp))
    both = np.isfinite(bid0) & np.isfinite(ask0)
    return float(np.median((bid0[both] + ask0[both]) / 2)) if both.any() else float("nan")


# --------------------------------------------------------------------------------- instrument, session
def pick_instrument(path: str, ids: np.ndarray | None, venue: np.ndarray, symbols: np.ndarray | None,
                    names: dict[int, str], symbol: str | None) -> np.ndarray | None:
    """Row mask of the one instrument of a file (None: keep every row).

    Instruments are told apart by ``symbols`` (non-empty texts) when given, else by ``ids`` (a venue
    quoting two ids is two instruments; one id per venue is taken as the same stock quoted under
    venue-local ids). Two or more instruments without ``symbol`` is an error listing them; ``symbol`` picks
    one by symbol or by instrument id.
    """
    n = len(venue)
    if symbols is not None and (symbols != "").any():
        keys, counts = np.unique(symbols[symbols != ""], return_counts=True)
        listing = [f"{k} ({c:,} rows)" for k, c in zip(keys.tolist(), counts.tolist(), strict=True)]
        several = len(keys) > 1
    elif ids is not None:
        keys, counts = np.unique(ids, return_counts=True)
        listing = [(f"{names[k]} (instrument_id {k}; {c:,} rows)" if k in names else f"instrument_id {k} ({c:,} rows)")
                   for k, c in zip(keys.tolist(), counts.tolist(), strict=True)]
        per_venue = pd.DataFrame({"v": venue, "i": ids}).drop_duplicates().groupby("v").size()
        several = bool((per_venue > 1).any())
    else:
        if symbol is not None:
            raise DataError(f"--symbol {symbol}: the file has no symbol or instrument_id column", path=path)
        return None
    if symbol is None:
        if several:
            raise DataError(f"{len(keys)} instruments interleaved in one file: {', '.join(listing)}; pick one with "
                            f"--symbol (sorlib.load(..., symbol=...))", path=path)
        return None
    mask = np.zeros(n, bool)
    if symbols is not None:
        mask |= np.char.upper(symbols.astype(str)) == symbol.upper()
    if ids is not None:
        if symbol.isdigit():
            mask |= ids == int(symbol)
        for k, nm in names.items():
            if nm.upper() == symbol.upper():
                mask |= ids == k
    if not mask.any():
        raise DataError(f"--symbol {symbol}: no rows for it; the file holds {', '.join(listing)}", path=path)
    return mask


def parse_date(date: str) -> str:
    """``YYYY-MM-DD`` (or ``YYYYMMDD``) → ``YYYY-MM-DD``; ConfigError otherwise."""
    try:
        return pd.Timestamp(date).strftime("%Y-%m-%d") if len(date) in (8, 10) and date[:4].isdigit() else ""
    except ValueError:
        return ""


def pick_session(path: str, ts: np.ndarray, tz: str, date: str | None) -> np.ndarray | None:
    """Row mask of one trading date (local date in ``tz``) of ``ts`` (None: keep every row).

    A file spanning two or more local dates without ``date`` is an error listing the dates and their rows.
    """
    if date is not None:
        d = parse_date(date)
        if not d:
            raise ConfigError(f"--date {date!r}: expected YYYY-MM-DD")
        date = d
    if ts.size == 0:
        return None
    lo, hi = (pd.Timestamp(int(x), tz="UTC").tz_convert(tz).strftime("%Y-%m-%d") for x in (ts.min(), ts.max()))
    if lo == hi and date is None:
        return None
    days = pd.DatetimeIndex(pd.to_datetime(ts, utc=True)).tz_convert(tz).strftime("%Y-%m-%d").to_numpy()
    if date is None:
        keys, counts = np.unique(days, return_counts=True)
        listing = ", ".join(f"{k} ({c:,} rows)" for k, c in zip(keys.tolist(), counts.tolist(), strict=True))
        raise DataError(f"the file spans {len(keys)} trading dates ({tz} time): {listing}; pick one with "
                        "--date YYYY-MM-DD (sorlib.load(..., date=...)) or split the file by date", path=path)
    mask = days == date
    if not mask.any():
        raise DataError(f"--date {date}: no rows on that date ({tz} time); the file holds "
                        f"{', '.join(np.unique(days).tolist())}", path=path)
    return mask


# ------------------------------------------------------------------------------------- a usable book
def two_sided_rows(q: Quotes) -> np.ndarray:
    """Mask of quote rows after which some venue shows a bid and some venue an ask (carried states)."""
    n = len(q)
    if n == 0:
        return np.zeros(0, bool)
    out = []
    for px in (q.bid_px[:, 0], q.ask_px[:, 0]):
        has = np.isfinite(px).astype(np.int64)
        prev = np.zeros(n, np.int64)
        order = np.argsort(q.venue, kind="stable")  # per venue, rows in time order
        v = q.venue[order]
        h = has[order]
        same = np.r_[False, v[1:] == v[:-1]]
        prev[order] = np.where(same, np.r_[0, h[:-1]], 0)
        out.append(np.cumsum(has - prev) > 0)  # number of venues showing that side, after each row
    return out[0] & out[1]


def _one_sided(md: MarketData) -> str:
    """Why the data have no two-sided quote at all (text), or "" when some row is two-sided."""
    q = md.quotes
    if len(q) and two_sided_rows(q).any():
        return ""
    sides = "no quote rows" if len(q) == 0 else (
        f"{len(q):,} quote row(s), {int(np.isfinite(q.bid_px[:, 0]).sum()):,} with a bid and "
        f"{int(np.isfinite(q.ask_px[:, 0]).sum()):,} with an ask")
    return f"no two-sided quote: at no time does any venue show a bid while some venue shows an ask ({sides})"


def require_two_sided(md: MarketData) -> None:
    """Refuse to price or route data with no two-sided quote at all (a valid file, e.g. a pre-open extract,
    but nothing to trade against)."""
    why = _one_sided(md)
    if why:
        raise DataError(f"{why}; nothing can be priced or routed — use a longer extract with book updates",
                        path=md.report.source)


def check_usable(md: MarketData) -> None:
    """Note what is thin: no two-sided quote at all (the file loads; routing it is refused, see
    :func:`require_two_sided`), one venue, few rows, no trades."""
    q, t, r = md.quotes, md.trades, md.report
    two = two_sided_rows(q)
    if len(q) == 0:
        require_two_sided(md)  # no quote rows at all: nothing to describe either
    if not two.any():
        r.notes.append(_one_sided(md) + "; nothing can be priced or routed (inspect only)")
    qv = np.unique(q.venue)
    if qv.size == 1:
        r.notes.append(f"thin: one venue only ({md.venue_name(int(qv[0]))}): nothing to route between")
    if len(q) < THIN_ROWS:
        r.notes.append(f"thin: only {len(q):,} quote row(s)")
    if len(t) == 0:
        r.notes.append("thin: no trades (VWAP weights and queue outflows have nothing to learn from)")
    ts = q.ts
    if ts.size > 1 and ts[-1] > ts[0]:
        dt = np.diff(ts).astype(np.float64)
        share = float(dt[two[:-1]].sum() / (ts[-1] - ts[0]))
        if share < 0.5 and two.any():
            r.notes.append(f"thin: a bid and an ask are both shown during only {share:.0%} of the file's span")
    local = pd.DatetimeIndex(pd.to_datetime(np.concatenate([q.ts, t.ts]), utc=True)).tz_convert(md.tz)
    minute = local.hour.to_numpy() * 60 + local.minute.to_numpy()
    outside = float(np.mean((minute < 9 * 60 + 30) | (minute >= 16 * 60)))
    if outside >= 0.2:
        r.notes.append(f"{outside:.0%} of rows are outside regular hours (09:30-16:00 {md.tz}); "
                       "--regular-hours keeps only those")
