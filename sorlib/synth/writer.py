"""Write a :class:`~sorlib.data.MarketData` as a Databento MBP-1 CSV (what ``sorlib synth`` produces).

Columns: ``ts_recv,ts_event,rtype,publisher_id,instrument_id,action,side,depth,price,size,flags,
ts_in_delta,sequence,bid_px_00,ask_px_00,bid_sz_00,ask_sz_00,bid_ct_00,ask_ct_00,symbol``.

* ``ts_event`` = the MarketData time; ``ts_recv = ts_event + RECV_DELAY_NS`` (one constant, so the file's
  ``ts_recv`` order is its ``ts_event`` order); ``ts_in_delta`` a nominal per-venue gateway delay.
  Pretty: ISO-8601 UTC with 9 fractional digits and ``Z``; raw: integer ns since the epoch.
* prices: pretty decimals with 9 places, or raw int64 fixed-point (1 unit = 1e-9 $); an empty level is an
  empty field (pretty) or ``9223372036854775807`` (raw) with size 0 and count 0.
* ``rtype`` 1, ``depth`` 0, ``sequence`` a per-venue counter, ``bid_ct_00``/``ask_ct_00`` = ceil(size/200).
* each quote row becomes one record carrying the venue's book *after* it in the level fields.  Its
  ``action``/``side``/``price``/``size`` are derived from the change against the venue's previous row:
  size up at the same price or a better price → ``A``; size down or the level removed (price worse or
  empty) → ``C``; both sides changed → ``M``.
* a trade becomes a ``T`` record (``side`` = aggressor: ``B`` buyer lifted the ask, ``A`` seller hit the
  bid; ``flags`` 0, as more records of the same event follow).  As in Databento MBP-1 a ``T`` record's
  book is unchanged, so a quote row at the trade's time and venue that changes nothing is taken to be that
  trade's record (this is how :func:`~sorlib.data.databento.read_databento` and the generator represent
  it, so reading the file back gives the same arrays); an unmatched trade gets its own record carrying the
  venue's last book, placed before the quote rows of the same time.

Only level 0 is written (MBP-1) when the quotes carry more levels.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from .._io import atomic_write_bytes
from ..data.market import MarketData

HEADER = ["ts_recv", "ts_event", "rtype", "publisher_id", "instrument_id", "action", "side", "depth",
          "price", "size", "flags", "ts_in_delta", "sequence", "bid_px_00", "ask_px_00", "bid_sz_00",
          "ask_sz_00", "bid_ct_00", "ask_ct_00", "symbol"]
UNDEF_PRICE = 9223372036854775807
RECV_DELAY_NS = 20_000
F_LAST = 128
#: nominal ts_in_delta (ns) by publisher id; other venues get 15 us
TS_IN_DELTA = {2: 9_000, 9: 14_000, 5: 11_000, 8: 12_000, 6: 13_000, 7: 16_000, 3: 17_000, 4: 18_000}
_A, _C, _M, _T, _B, _S, _N = (ord(c) for c in "ACMTBAN")  # _S: the ask side
_CHARS = np.array([chr(c) for c in range(256)], dtype=object)


def _changed(p0: np.ndarray, s0: np.ndarray, p1: np.ndarray, s1: np.ndarray) -> np.ndarray:
    same_px = (p0 == p1) | (np.isnan(p0) & np.isnan(p1))
    return ~same_px | (s0 != s1)


def _derive_quote_events(venue: np.ndarray, bp: np.ndarray, bs: np.ndarray, ap: np.ndarray,
                         as_: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per quote row: (changed_any, action, side, price, size) against the venue's previous row."""
    n = len(venue)
    order = np.argsort(venue, kind="stable")
    prev = np.full(n, -1, np.int64)
    same = np.zeros(n, bool)
    same[1:] = venue[order][1:] == venue[order][:-1]
    prev[order[1:][same[1:]]] = order[:-1][same[1:]]
    first = prev < 0
    pi = np.where(first, 0, prev)
    nan = np.full(n, np.nan)
    zero = np.zeros(n, np.int64)
    pbp = np.where(first, nan, bp[pi]) if n else nan
    pbs = np.where(first, zero, bs[pi]) if n else zero
    pap = np.where(first, nan, ap[pi]) if n else nan
    pas = np.where(first, zero, as_[pi]) if n else zero
    bch = _changed(pbp, pbs, bp, bs)
    ach = _changed(pap, pas, ap, as_)
    action = np.full(n, _M, np.uint8)
    side = np.full(n, _N, np.uint8)
    price = np.full(n, np.nan)
    size = np.zeros(n, np.int64)
    for ch, other, sgn, p0, s0, p1, s1, code in ((bch, ach, 1.0, pbp, pbs, bp, bs, _B),
                                                   (ach, bch, -1.0, pap, pas, ap, as_, _S)):
        m = ch & ~other
        if not m.any():
            continue
        same_px = (p0 == p1)
        up = same_px & (s1 > s0)
        down = same_px & (s1 < s0)
        better = ~same_px & ~np.isnan(p1) & (np.isnan(p0) | (sgn * (p1 - p0) > 0))
        # worse price, or emptied: the old level was removed
        removed = ~same_px & ~better
        side[m] = code
        a = np.where(up | better, _A, _C).astype(np.uint8)
        px = np.where(removed, p0, p1)
        sz = np.where(up, s1 - s0, np.where(down, s0 - s1, np.where(better, s1, s0)))
        action[m], price[m], size[m] = a[m], px[m], sz[m]
    both = bch & ach
    action[both], side[both], price[both], size[both] = _M, _B, bp[both], bs[both]
    return bch | ach, action, side, price, size


def _match_trades(q_ts, q_venue, candidate, t_ts, t_venue) -> tuple[np.ndarray, np.ndarray]:
    """Pair the k-th trade of each (ts, venue) with the k-th unchanged quote row of that (ts, venue).

    Returns (trade index -> quote row or -1, quote row -> trade index or -1).
    """
    ci = np.flatnonzero(candidate)
    qf = pd.DataFrame({"ts": q_ts[ci], "v": q_venue[ci], "qi": ci})
    qf["k"] = qf.groupby(["ts", "v"], sort=False).cumcount()
    tf = pd.DataFrame({"ts": t_ts, "v": t_venue, "ti": np.arange(len(t_ts))})
    tf["k"] = tf.groupby(["ts", "v"], sort=False).cumcount()
    m = tf.merge(qf, on=["ts", "v", "k"], how="inner")
    t2q = np.full(len(t_ts), -1, np.int64)
    q2t = np.full(len(q_ts), -1, np.int64)
    t2q[m["ti"].to_numpy()] = m["qi"].to_numpy()
    q2t[m["qi"].to_numpy()] = m["ti"].to_numpy()
    return t2q, q2t


def _fmt_prices(px: np.ndarray, pretty: bool) -> pa.Array:
    """$ floats -> pretty decimal strings (9 places; null when NaN) or raw fixed-point int64."""
    empty = np.isnan(px)
    fixed = np.where(empty, 0, np.round(np.nan_to_num(px) * 1e9)).astype(np.int64)
    if not pretty:
        return pa.array(np.where(empty, UNDEF_PRICE, fixed), pa.int64())
    uniq, inv = np.unique(fixed, return_inverse=True)
    text = np.array([f"{'-' if u < 0 else ''}{abs(u) // 10**9}.{abs(u) % 10**9:09d}" for u in uniq.tolist()],
                    dtype=object)
    return pa.array(text[inv.reshape(-1)], pa.string(), mask=empty)


def _fmt_ts(ns: np.ndarray, pretty: bool) -> pa.Array:
    if not pretty:
        return pa.array(ns, pa.int64())
    s = np.datetime_as_string(ns.astype("datetime64[ns]"), unit="ns")
    return pa.array(np.char.add(s, "Z").astype(object), pa.string())


def build_mbp1_table(md: MarketData, *, pretty: bool = True, instrument_id: int = 1) -> pa.Table:
    """The MBP-1 records of ``md`` as an Arrow table with the Databento columns (see module docstring)."""
    r = mbp1_records(md)
    ts, venue, action, side, price, size, flags, seq = (r[k] for k in ("ts", "venue", "action", "side", "price",
                                                                        "size", "flags", "sequence"))
    bp, ap, bs, as_, delta = r["bid_px"], r["ask_px"], r["bid_sz"], r["ask_sz"], r["ts_in_delta"]
    n = len(ts)
    cols = {
        "ts_recv": _fmt_ts(ts + RECV_DELAY_NS, pretty),
        "ts_event": _fmt_ts(ts, pretty),
        "rtype": pa.array(np.ones(n, np.int64)),
        "publisher_id": pa.array(venue),
        "instrument_id": pa.array(np.full(n, instrument_id, np.int64)),
        "action": pa.array(_CHARS[action], pa.string()),
        "side": pa.array(_CHARS[side], pa.string()),
        "depth": pa.array(np.zeros(n, np.int64)),
        "price": _fmt_prices(price, pretty),
        "size": pa.array(size),
        "flags": pa.array(flags),
        "ts_in_delta": pa.array(delta),
        "sequence": pa.array(seq),
        "bid_px_00": _fmt_prices(bp, pretty),
        "ask_px_00": _fmt_prices(ap, pretty),
        "bid_sz_00": pa.array(bs),
        "ask_sz_00": pa.array(as_),
        "bid_ct_00": pa.array((bs + 199) // 200),
        "ask_ct_00": pa.array((as_ + 199) // 200),
        "symbol": pa.array(np.full(n, md.symbol or "", object), pa.string()),
    }
    return pa.table(cols)


def mbp1_records(md: MarketData) -> dict[str, np.ndarray]:
    """The MBP-1 records of ``md`` as numpy arrays (see the module docstring): ``ts`` (ns), ``venue``,
    ``action``/``side`` (uint8 character codes), ``price`` ($, NaN = none), ``size``, ``flags``,
    ``sequence``, ``ts_in_delta`` (ns), ``bid_px``/``ask_px`` ($) and ``bid_sz``/``ask_sz`` (level 0)."""
    q, t = md.quotes, md.trades
    bp, ap = q.bid_px[:, 0].astype(float), q.ask_px[:, 0].astype(float)
    bs, as_ = q.bid_sz[:, 0].astype(np.int64), q.ask_sz[:, 0].astype(np.int64)
    bs = np.where(np.isnan(bp), 0, bs)
    as_ = np.where(np.isnan(ap), 0, as_)
    changed, action, side, price, size = _derive_quote_events(q.venue, bp, bs, ap, as_)
    t2q, q2t = _match_trades(q.ts, q.venue, ~changed, t.ts, t.venue)
    tside = np.where(t.side > 0, _B, np.where(t.side < 0, _S, _N)).astype(np.uint8)
    matched = q2t >= 0
    mt = q2t[matched]
    action[matched], side[matched] = _T, tside[mt]
    price[matched], size[matched] = t.price[mt], t.size[mt]
    flags = np.where(matched, 0, F_LAST).astype(np.int64)
    # unmatched trades: own record with the venue's last book before them
    lone = np.flatnonzero(t2q < 0)
    nl = lone.size
    l_bp, l_ap = np.full(nl, np.nan), np.full(nl, np.nan)
    l_bs, l_as = np.zeros(nl, np.int64), np.zeros(nl, np.int64)
    for v in np.unique(t.venue[lone]) if nl else []:
        tv = lone[t.venue[lone] == v]
        qv = np.flatnonzero(q.venue == v)
        j = np.searchsorted(q.ts[qv], t.ts[tv], side="left") - 1
        ok = j >= 0
        rows = qv[j[ok]]
        pos = np.searchsorted(lone, tv[ok])
        l_bp[pos], l_ap[pos], l_bs[pos], l_as[pos] = bp[rows], ap[rows], bs[rows], as_[rows]
    # merge: by time; at equal time lone trades first; otherwise original order
    ts = np.concatenate([q.ts, t.ts[lone]]).astype(np.int64)
    kind = np.concatenate([np.ones(len(q), np.int8), np.zeros(nl, np.int8)])
    idx = np.concatenate([np.arange(len(q)), np.arange(nl)])
    order = np.lexsort((idx, kind, ts))

    def cat(a, b):
        return np.concatenate([a, b])[order]

    ts = ts[order]
    venue = cat(q.venue.astype(np.int64), t.venue[lone].astype(np.int64))
    action = cat(action, np.full(nl, _T, np.uint8))
    side = cat(side, tside[lone])
    price = cat(price, t.price[lone].astype(float))
    size = cat(size, t.size[lone].astype(np.int64))
    flags = cat(flags, np.zeros(nl, np.int64))
    bp, ap = cat(bp, l_bp), cat(ap, l_ap)
    bs, as_ = cat(bs, l_bs), cat(as_, l_as)
    n = len(ts)
    # per-venue sequence numbers
    vo = np.argsort(venue, kind="stable")
    starts = np.r_[0, np.flatnonzero(np.diff(venue[vo])) + 1]
    counts = np.diff(np.r_[starts, n])
    seq = np.empty(n, np.int64)
    seq[vo] = np.arange(n) - np.repeat(starts, counts) + 1
    delta = np.array([TS_IN_DELTA.get(int(v), 15_000) for v in range(int(venue.max(initial=0)) + 1)])
    return {"ts": ts, "venue": venue, "action": action, "side": side, "price": price, "size": size,
            "flags": flags, "sequence": seq, "ts_in_delta": delta[venue] if n else np.zeros(0, np.int64),
            "bid_px": bp, "ask_px": ap, "bid_sz": bs, "ask_sz": as_}


def write_databento_mbp1_csv(md: MarketData, path: str | Path, *, pretty: bool = True) -> Path:
    """Write ``md`` to ``path`` as a Databento MBP-1 CSV (atomically); returns the path.

    ``pretty=True``: ISO timestamps and decimal prices; ``pretty=False``: integer ns and fixed-point prices.
    """
    table = build_mbp1_table(md, pretty=pretty)
    buf = io.BytesIO()
    buf.write((",".join(HEADER) + "\n").encode())
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    return atomic_write_bytes(path, buf.getvalue())
