"""Streaming conversion of a Databento DBN file (MBP-1 / MBP-10 / TBBO) into a day-cache entry, in bounded memory.

The whole-file reader (:func:`~sorlib.data.databento.read_dbn`) holds every record's columns at once
(~490 bytes per MBP-10 record at its peak). Here the file is decoded twice, :data:`CHUNK` records at a time,
and the entry is written array by array through :class:`~sorlib.data.cache.EntryWriter`:

* pass 1 — decode and check each chunk (:func:`~sorlib.data.databento._dbn_columns`), drop exact duplicates
  (:class:`Dedup`), and gather what the repairs need from the whole day: the record and trade counts, the
  trade prices (their median is the stub-quote reference, 8 bytes per trade), the feed latencies (spilled to a
  temporary file, medians by :func:`spilled_medians`), instruments, dates and time order;
* pass 2 — decode again and write each chunk's repaired quote and trade rows (the same repairs, in the same
  order, as :func:`~sorlib.data.databento._assemble`), keeping :func:`~sorlib.data.validate.check_usable`'s
  facts as running counts (:class:`Usable`).

Memory: two chunks' columns plus the trade prices (16 bytes per trade at the median) and small per-venue tables:
peak anonymous RSS 267 / 269 / 373 MB measured on 2.4 M / 7.4 M / 67 M-record MBP-10 days (``bench_bigday``),
where the whole-file parse needs ~480 bytes per record.

Exactness: the entry equals the whole-file parse array by array (tests/test_cache_stream.py). Two repairs
need the whole day and are exact here only because the records are in time order: duplicates are identical
in ``ts_event``, so they sit in one run of equal times (the kept rows of the last time stamp are carried into
the next chunk), and no sort is needed. A file this path cannot convert exactly — ``ts_event`` out of order,
several instruments or dates, no trades, no quote row, a record that fails a check, one-sided or thin data —
is declined: :func:`~sorlib.data.cache.cached` then runs the whole-file parse, which gives the same result (or
the same error) as before.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ._csv import Where
from .databento import (
    _A,
    _B,
    _R,
    _T,
    F_BAD_TS_RECV,
    F_MAYBE_BAD_BOOK,
    QUOTE_SCHEMAS,
    TZ,
    _check_complete,
    _dbn_columns,
    _Progress,
    open_dbn,
    publisher_name,
)
from .market import LoadReport
from .validate import THIN_ROWS, crossed_locked, duplicate_mask, stub_levels

CHUNK = 100_000  # records per decoded chunk (MBP-10: 37 MB raw; measured build peak 337 MB RSS in all)
_DIGIT = 1 << 16  # radix of the exact median select


class Decline(Exception):
    """This file cannot be converted exactly in streaming passes: the whole-file parse must run."""


def dbn_streamer(path, fmt: str, symbol: str | None, date: str | None, kw: dict, progress: bool | None):
    """The ``stream`` callable :func:`~sorlib.data.cache.cached` takes for ``path`` (None when it does not
    apply: another format, ``symbol``/``date`` chosen, or extra reader options)."""
    name = Path(path).name.lower()
    if fmt != "databento" or not name.endswith((".dbn", ".dbn.zst")) or symbol or date or kw:
        return None

    def stream(writer, key: str) -> bool:
        try:
            write_dbn_entry(path, writer, key, progress=progress)
        except Decline:
            return False
        return True

    return stream


# ------------------------------------------------------------------------------------------- dedup
def dedup_fields(c: dict) -> list[np.ndarray]:
    """A decoded chunk's columns in :func:`~sorlib.data.databento._assemble`'s duplicate-check order."""
    return [c["ts"], c["venue"], c["action"], c["side"], c["flags"], c["price"], c["size"], *c["extra"], c["ids"],
            c["bid_px"], c["ask_px"], c["bid_sz"], c["ask_sz"]]


class Dedup:
    """Exact duplicate removal chunk by chunk for records in time order.

    A duplicate is identical to an earlier record in every field, its time included; in time order all records
    of one time stamp are contiguous, so the earlier copy is in the same chunk or among the kept records of the
    previous chunk's last time stamp, which are carried (:func:`~sorlib.data.validate.duplicate_mask` runs on
    carry + chunk)."""

    def __init__(self) -> None:
        self.carry: list[np.ndarray] | None = None

    def keep(self, fields: list[np.ndarray]) -> np.ndarray:
        """Mask of the chunk's records that are not duplicates (``fields[0]`` is the time, non-decreasing)."""
        ts = fields[0]
        keep = ~duplicate_mask(fields)
        k = 0 if self.carry is None else len(self.carry[0])
        if k:  # the chunk's first records at the carried time stamp may copy a carried record
            h = int(np.searchsorted(ts, self.carry[0][0], side="right"))
            if h:
                both = [np.concatenate([a, b[:h]]) for a, b in zip(self.carry, fields, strict=True)]
                keep[:h] = ~duplicate_mask(both)[k:]
        tail = keep & (ts == ts[-1])
        new = [a[tail] for a in fields]
        if k and self.carry[0][0] == ts[-1]:  # the whole chunk is on the carried time stamp
            new = [np.concatenate([a, b]) for a, b in zip(self.carry, new, strict=True)]
        self.carry = new
        return keep


# ------------------------------------------------------------------------------------------ medians
def spilled_medians(d: np.ndarray, v: np.ndarray, chunk: int = 1 << 22) -> dict[int, float]:
    """``np.median(d[v == k])`` for every key ``k`` of ``v``, exactly, in bounded memory.

    ``d``: int64 values ≥ 0 (e.g. a memory-mapped spill file), ``v``: int keys (0..65535). A radix select:
    four passes, each a histogram of the next 16 bits among the values whose higher bits equal the rank's
    prefix, for the two middle ranks ``(c−1)//2`` and ``c//2`` of each key; the median is their ``np.mean``
    (as ``np.median`` takes it)."""
    counts = np.zeros(_DIGIT, np.int64)
    for s in range(0, len(v), chunk):
        counts += np.bincount(np.asarray(v[s:s + chunk]), minlength=_DIGIT)
    keys = np.flatnonzero(counts)
    if keys.size == 0:
        return {}
    c = counts[keys]
    rank = np.stack([(c - 1) // 2, c // 2])  # (2, K) 0-based ranks still to find within the prefix
    prefix = np.zeros_like(rank)
    kk = keys.size
    for shift in (48, 32, 16, 0):
        hist = np.zeros((2, kk * _DIGIT), np.int64)
        for s in range(0, len(d), chunk):
            dd = np.asarray(d[s:s + chunk], np.int64)
            vi = np.searchsorted(keys, np.asarray(v[s:s + chunk]))
            digit = (dd >> shift) & (_DIGIT - 1)
            for j in (0, 1):
                m = slice(None) if shift == 48 else (dd >> (shift + 16)) == prefix[j, vi]
                hist[j] += np.bincount(vi[m] * _DIGIT + digit[m], minlength=kk * _DIGIT)
        cum = np.cumsum(hist.reshape(2, kk, _DIGIT), axis=2)
        pick = np.argmax(cum > rank[:, :, None], axis=2)
        below = np.where(pick > 0, np.take_along_axis(cum, np.maximum(pick - 1, 0)[:, :, None], 2)[:, :, 0], 0)
        rank -= below
        prefix = (prefix << 16) | pick
    out = {}
    for i, k in enumerate(keys.tolist()):
        a, b = int(prefix[0, i]), int(prefix[1, i])
        out[k] = float(np.mean(np.array([a] if c[i] % 2 else [a, b], np.int64)))
    return out


# ------------------------------------------------------------------------------------------ usable
class Usable:
    """:func:`~sorlib.data.validate.check_usable`'s facts as running counts over the quote and trade rows.

    Two-sidedness after each quote row is the number of venues whose latest row shows a bid (an ask), carried
    across chunks per venue; the time both sides were shown is summed in integer ns (exact, as the float sum
    of integer gaps is below 2**53)."""

    def __init__(self) -> None:
        self.last = np.zeros((2, _DIGIT), np.int64)  # per venue: its latest row shows a bid / an ask
        self.total = np.zeros(2, np.int64)
        self.any_two, self.last_two, self.two_ns = False, False, 0
        self.first_ts = self.last_ts = None
        self.nq = self.nt = self.outside = 0
        self.venues: set[int] = set()  # of the quote rows
        self.trade_venues: set[int] = set()

    def quotes(self, ts: np.ndarray, venue: np.ndarray, bid0: np.ndarray, ask0: np.ndarray) -> None:
        if not len(ts):
            return
        ok = []
        order = np.argsort(venue, kind="stable")
        v = venue[order]
        first = np.r_[True, v[1:] != v[:-1]]
        last = np.r_[v[1:] != v[:-1], True]
        for j, px in enumerate((bid0, ask0)):
            has = np.isfinite(px).astype(np.int64)
            h = has[order]
            prev = np.empty(len(ts), np.int64)
            prev[order] = np.where(first, self.last[j, v], np.r_[0, h[:-1]])
            cnt = self.total[j] + np.cumsum(has - prev)
            self.last[j, v[last]] = h[last]
            self.total[j] = cnt[-1]
            ok.append(cnt > 0)
        two = ok[0] & ok[1]
        self.any_two |= bool(two.any())
        if self.last_ts is not None and self.last_two:
            self.two_ns += int(ts[0]) - self.last_ts
        self.two_ns += int(np.diff(ts)[two[:-1]].sum())
        self.last_two, self.last_ts = bool(two[-1]), int(ts[-1])
        self.first_ts = int(ts[0]) if self.first_ts is None else self.first_ts
        self.nq += len(ts)
        self.venues.update(np.unique(venue).tolist())
        self._hours(ts)

    def trades(self, ts: np.ndarray, venue: np.ndarray) -> None:
        self.nt += len(ts)
        self.trade_venues.update(np.unique(venue).tolist())
        self._hours(ts)

    def _hours(self, ts: np.ndarray) -> None:
        if len(ts):
            local = pd.DatetimeIndex(pd.to_datetime(ts, utc=True)).tz_convert(TZ)
            minute = local.hour.to_numpy() * 60 + local.minute.to_numpy()
            self.outside += int(np.count_nonzero((minute < 9 * 60 + 30) | (minute >= 16 * 60)))

    def notes(self) -> list[str]:
        """The notes ``check_usable`` appends; :class:`Decline` for the rare cases it words from the rows
        (no two-sided quote, few rows: small or degenerate files, parsed whole)."""
        if self.nq < THIN_ROWS or not self.any_two:
            raise Decline
        out = []
        if len(self.venues) == 1:
            out.append(f"thin: one venue only ({publisher_name(next(iter(self.venues)))}): nothing to route between")
        if self.nt == 0:
            out.append("thin: no trades (VWAP weights and queue outflows have nothing to learn from)")
        if self.last_ts > self.first_ts:
            share = float(np.float64(self.two_ns) / np.float64(self.last_ts - self.first_ts))
            if share < 0.5:
                out.append(f"thin: a bid and an ask are both shown during only {share:.0%} of the file's span")
        outside = float(np.float64(self.outside) / np.float64(self.nq + self.nt))
        if outside >= 0.2:
            out.append(f"{outside:.0%} of rows are outside regular hours (09:30-16:00 {TZ}); "
                       "--regular-hours keeps only those")
        return out


# ------------------------------------------------------------------------------------------ passes
def _chunks(path: str, schema: str, progress, label: str):
    """``(base, columns)`` of every decoded and checked chunk (``base``: records before it)."""
    store, _ = open_dbn(path)
    bar = _Progress(progress, label) if progress is not False else None
    n = 0
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*truncated.*")
            for a in store.to_ndarray(count=CHUNK):
                if len(a) == 0:
                    continue
                yield n, _dbn_columns(a, Where(path, None), n, schema)
                n += len(a)
                if bar is not None:
                    bar.update(len(a))
    finally:
        if bar is not None:
            bar.close()
    yield -1, store  # the store, for the completeness check and the metadata


class _Day:
    """Pass 1's facts about the whole day."""

    def __init__(self) -> None:
        self.n = self.kept = self.trades = 0
        self.last_ts = None
        self.ids: dict[int, set[int]] = {}
        self.trade_px: list[np.ndarray] = []
        self.dtypes: dict | None = None
        self.levels = 0
        self.names: tuple = ()
        self.store = None
        self.symbols: set[str] = set()  # non-empty symbol texts (CSV)


def _pass1(p: str, schema: str, spill: Path, progress, source=None) -> _Day:
    """``source``: the chunk generator (:func:`_chunks`, or the CSV one of :mod:`.csv_stream`)."""
    day, dedup = _Day(), Dedup()
    all_trades, no_trades = schema == "tbbo", schema.startswith("bbo")
    with open(spill / "d", "wb") as fd, open(spill / "v", "wb") as fv:
        for base, c in (source or _chunks)(p, schema, progress, f"{Path(p).name} (pass 1/2)"):
            if base < 0:
                day.store = c
                break
            ts = c["ts"]
            if bool((ts[1:] < ts[:-1]).any()) or (day.last_ts is not None and ts[0] < day.last_ts):
                raise Decline  # ts_event out of order: the whole-file parse sorts
            day.last_ts = int(ts[-1])
            if day.dtypes is None:
                day.names, day.levels = c["names"], c["bid_px"].shape[1]
                day.first_ts = int(ts[0])
                day.dtypes = {k: c[k].dtype for k in ("ts", "price", "size", "bid_px", "bid_sz")}
            for vi in np.unique((c["venue"] << 32) | c["ids"]).tolist():  # (venue, instrument id) pairs
                day.ids.setdefault(vi >> 32, set()).add(vi & 0xFFFFFFFF)
            day.symbols.update(c.get("symbols", ()))
            recv = c.get("recv")
            if recv is None and "ts_recv" in c["names"]:
                recv = c["extra"][0]
            if recv is not None:
                recv = recv.astype(np.int64)
                d = recv - ts
                ok = (recv >= 0) & (d > 0)
                fd.write(d[ok].tobytes())
                fv.write(c["venue"][ok].astype(np.int32).tobytes())
            keep = dedup.keep(dedup_fields(c))
            day.n += len(ts)
            day.kept += int(keep.sum())
            if not no_trades:
                tm = keep if all_trades else keep & (c["action"] == _T)
                day.trade_px.append(c["price"][tm])
    if any(len(s) > 1 for s in day.ids.values()) or len(day.symbols) > 1:
        raise Decline  # several instruments: the whole-file parse names them
    if day.n == 0 or _ny_date(day.first_ts) != _ny_date(day.last_ts):
        raise Decline  # several trading dates (or none): likewise
    return day


def _ny_date(t: int) -> str:
    return pd.Timestamp(int(t), tz="UTC").tz_convert(TZ).strftime("%Y-%m-%d")


def write_dbn_entry(path, writer, key: str, *, progress: bool | None = False) -> None:
    """Convert DBN file ``path`` into the cache entry ``writer`` (two passes); :class:`Decline` when it
    cannot be done exactly (see the module doc). Any error of the file also declines: the whole-file parse
    reports it, worded as always."""
    p = str(path)
    try:
        store, schema = open_dbn(path)
    except Exception:  # noqa: BLE001 - reported by the whole-file parse
        raise Decline from None
    if schema not in QUOTE_SCHEMAS:
        raise Decline
    with tempfile.TemporaryDirectory(prefix=".spill-", dir=writer.path.parent) as tmp:
        spill = Path(tmp)
        try:
            day = _pass1(p, schema, spill, progress)
            _check_complete(day.store, p)
        except Decline:
            raise
        except Exception:  # noqa: BLE001 - a bad record / truncated file: the whole-file parse reports it
            raise Decline from None
        ref, nt, feed = day_facts(day, spill)
    _pass2(p, schema, day, ref, nt, writer, key, feed, store, progress)



def day_facts(day: _Day, spill: Path) -> tuple[float, int, dict[int, float]]:
    """After pass 1: the stub-quote reference (median trade price, $), the trade count and the per-venue feed
    latency medians (µs) from the spilled delays; declines a day without trades (the stub reference would be
    the median mid of every row)."""
    trade_px = np.concatenate(day.trade_px) if day.trade_px else np.empty(0)
    day.trade_px = []
    if trade_px.size == 0:
        raise Decline
    ref, nt = float(np.median(trade_px[np.isfinite(trade_px)])), len(trade_px)
    del trade_px
    dv = np.memmap(spill / "d", np.int64, "r") if (spill / "d").stat().st_size else np.empty(0, np.int64)
    vv = np.memmap(spill / "v", np.int32, "r") if (spill / "v").stat().st_size else np.empty(0, np.int32)
    return ref, nt, {k: m / 1e3 for k, m in spilled_medians(dv, vv).items()}

def _pass2(p, schema, day: _Day, ref: float, nt: int, writer, key, feed, store, progress, source=None,
           fmt: str | None = None) -> None:
    """Write the entry; ``source``/``fmt``: the CSV chunk generator and report format (DBN when None)."""
    lv, dt = (day.levels,), day.dtypes
    writer.layout({"q_ts": (dt["ts"], (), day.kept), "q_venue": (np.int32, (), day.kept),
                   "q_bid_px": (dt["bid_px"], lv, day.kept), "q_bid_sz": (dt["bid_sz"], lv, day.kept),
                   "q_ask_px": (dt["bid_px"], lv, day.kept), "q_ask_sz": (dt["bid_sz"], lv, day.kept),
                   "t_ts": (dt["ts"], (), nt), "t_venue": (np.int32, (), nt), "t_price": (dt["price"], (), nt),
                   "t_size": (dt["size"], (), nt), "t_side": (np.int8, (), nt)})
    dedup, use = Dedup(), Usable()
    count = dict.fromkeys(("dup", "bad_ts", "bad", "stub", "crossed", "locked"), 0)
    stub_note = ""
    all_trades, no_trades = schema == "tbbo", schema.startswith("bbo")
    for base, c in (source or _chunks)(p, schema, progress, f"{Path(p).name} (pass 2/2)"):
        if base < 0:
            break
        keep = dedup.keep(dedup_fields(c))
        count["dup"] += int(len(keep) - keep.sum())
        ts, action, side, flags, price, size = (c[k][keep] for k in ("ts", "action", "side", "flags", "price", "size"))
        venue = c["venue"][keep].astype(np.int32)
        bid_px, bid_sz, ask_px, ask_sz = (c[k][keep] for k in ("bid_px", "bid_sz", "ask_px", "ask_sz"))
        c.clear()
        tm = np.zeros(len(ts), bool) if no_trades else (np.ones(len(ts), bool) if all_trades else action == _T)
        tside = np.where(side == _B, 1, np.where(side == _A, -1, 0)).astype(np.int8)
        for name, a in (("t_ts", ts), ("t_venue", venue), ("t_price", price), ("t_size", size), ("t_side", tside)):
            writer.append(name, a[tm])
        use.trades(ts[tm], venue[tm])
        count["bad_ts"] += int(np.count_nonzero(flags & F_BAD_TS_RECV))
        bad = (flags & F_MAYBE_BAD_BOOK) != 0
        count["bad"] += int(bad.sum())
        empty = bad | (action == _R)
        bid_px[empty], ask_px[empty] = np.nan, np.nan
        bid_sz[np.isnan(bid_px)] = 0
        ask_sz[np.isnan(ask_px)] = 0
        rep = LoadReport(source=p, format="")
        stub_levels(bid_px, bid_sz, ask_px, ask_sz, ref, rep)
        count["stub"] += rep.repairs.get("stub_quote", 0)
        stub_note = stub_note or "".join(rep.notes)
        crossed, locked = crossed_locked(bid_px[:, 0], ask_px[:, 0])
        count["crossed"] += int(crossed.sum())
        count["locked"] += int(locked.sum())
        qk = ~(crossed | locked)
        for name, a in (("q_ts", ts), ("q_venue", venue), ("q_bid_px", bid_px), ("q_bid_sz", bid_sz),
                        ("q_ask_px", ask_px), ("q_ask_sz", ask_sz)):
            writer.append(name, a[qk])
        use.quotes(ts[qk], venue[qk], bid_px[qk, 0], ask_px[qk, 0])
    if count["dup"] != day.n - day.kept:
        raise Decline  # pass 2 must see the rows pass 1 counted (the layout's lengths)
    report = LoadReport(source=p, format=fmt or f"databento-dbn/{schema}", rows_read=day.n)
    if store is not None and store.dataset:
        report.notes.append(f"dataset {store.dataset}")
    report.count("duplicate_record", count["dup"])
    if count["bad_ts"]:
        report.notes.append(f"{count['bad_ts']} record(s) flagged F_BAD_TS_RECV (no effect: ts_event is used)")
    report.count("bad_book_flag", count["bad"])
    report.count("stub_quote", count["stub"])
    if stub_note:
        report.notes.append(stub_note)
    report.count("crossed_book", count["crossed"])
    report.count("locked_book", count["locked"])
    report.quote_rows, report.trade_rows = use.nq, use.nt
    report.notes.extend(use.notes())
    venues = sorted(use.venues | use.trade_venues)
    writer.finish(key, {"report": report.to_dict(), "venue_names": {str(v): publisher_name(v) for v in venues},
                        "symbol": _symbol(day, store) if store is not None else next(iter(day.symbols), None),
                        "tz": TZ,
                        "feed_latency_us": {str(k): float(v) for k, v in feed.items()}})


def _symbol(day: _Day, store) -> str | None:
    """:func:`~sorlib.data.databento.read_dbn`'s day symbol: the mapped name of the one instrument id, else the
    store's one symbol."""
    ids = sorted(set().union(*day.ids.values()))
    id_names: dict[int, str] = {}
    for raw, intervals in (store.mappings or {}).items():
        for iv in intervals:
            if str(iv.get("symbol", "")).isdigit():
                id_names[int(iv["symbol"])] = str(raw)
    name = id_names.get(ids[0]) if len(ids) == 1 else None
    if name is None:
        syms = [s for s in (store.symbols or []) if s and s != "ALL_SYMBOLS"]
        name = syms[0] if len(syms) == 1 else None
    return name
