"""Write a :class:`~sorlib.data.MarketData` as a zstd-compressed Databento DBN file (MBP-1 or MBP-10).

For benchmark-sized days: a 20 M-record MBP-10 day is ~7 GB as raw records and ~45 GB as a CSV; as
``.dbn.zst`` it is written chunk by chunk (``chunk`` records at a time, so memory beyond the record table
stays bounded) and compresses ~5-10x.

Records are those of :func:`~.writer.mbp1_records` (the same actions, sides, trade matching, sequence
numbers and ``ts_recv = ts_event + 20 µs`` as the CSV), laid out as DBN v3 ``MBP1Msg``/``MBP10Msg``
(``databento_dbn``'s record dtypes), behind a DBN metadata header (dataset ``SORLIB.SYNTH``, the day's
symbol, ``stype_out`` instrument id).

``levels=10`` adds synthetic depth behind the generated touch (the generator models level 0 only): level
``k`` (1..9) of a side sits ``k`` ticks ($0.01) behind level 0, with a seeded size of 100-1,900 shares
(``depth_seed``; one draw per chunk of records, so the file is a function of the arguments); a side empty
at level 0 is empty at every level. Reading the file back gives level 0 identical to ``md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._io import atomic_writer
from ..data.market import MarketData
from .writer import RECV_DELAY_NS, UNDEF_PRICE, mbp1_records

TICK_FIXED = 10_000_000  # $0.01 in fixed-point units (1e-9 $)
CHUNK = 1_000_000  # records per write (and per depth draw)


def _record_dtype(levels: int) -> np.dtype:
    import databento_dbn as dbn

    return np.dtype((dbn.MBP10Msg if levels == 10 else dbn.MBP1Msg)._dtypes)


def _metadata(md: MarketData, levels: int, start: int, end: int) -> bytes:
    import databento_dbn as dbn

    meta = dbn.Metadata(dataset="SORLIB.SYNTH", schema=dbn.Schema.MBP_10 if levels == 10 else dbn.Schema.MBP_1,
                        start=int(start), end=int(end), stype_in=dbn.SType.RAW_SYMBOL,
                        stype_out=dbn.SType.INSTRUMENT_ID, symbols=[md.symbol or "SYNT"], partial=[],
                        not_found=[], mappings=[])
    return bytes(meta.encode())


def _fixed(px: np.ndarray) -> np.ndarray:
    """$ → int64 fixed-point (1e-9 $); NaN → the undefined price."""
    empty = np.isnan(px)
    return np.where(empty, UNDEF_PRICE, np.round(np.nan_to_num(px) * 1e9).astype(np.int64))


def _fill(rec: np.ndarray, r: dict, lo: int, hi: int, levels: int, rng: np.random.Generator) -> None:
    n = hi - lo
    ts = r["ts"][lo:hi]
    rec["length"] = rec.dtype.itemsize // 4
    rec["rtype"] = 0x0A if levels == 10 else 0x01
    rec["publisher_id"] = r["venue"][lo:hi]
    rec["instrument_id"] = 1
    rec["ts_event"] = ts
    rec["ts_recv"] = ts + RECV_DELAY_NS
    rec["price"] = _fixed(r["price"][lo:hi])
    for name in ("size", "flags", "ts_in_delta", "sequence"):
        rec[name] = r[name][lo:hi]
    rec["action"] = r["action"][lo:hi].view("S1")
    rec["side"] = r["side"][lo:hi].view("S1")
    for side, sgn in (("bid", -1), ("ask", 1)):
        px0 = _fixed(r[f"{side}_px"][lo:hi])
        sz0 = r[f"{side}_sz"][lo:hi]
        empty = px0 == UNDEF_PRICE
        for k in range(levels):
            if k == 0:
                px, sz = px0, sz0
            else:
                px = np.where(empty, UNDEF_PRICE, px0 + sgn * k * TICK_FIXED)
                sz = np.where(empty, 0, rng.integers(1, 20, n) * 100)
            rec[f"{side}_px_{k:02d}"] = px
            rec[f"{side}_sz_{k:02d}"] = sz
            rec[f"{side}_ct_{k:02d}"] = (sz + 199) // 200


def write_databento_dbn(md: MarketData, path: str | Path, *, levels: int = 1, depth_seed: int = 0,
                        chunk: int = CHUNK, compress_level: int = 1) -> Path:
    """Write ``md`` as a ``.dbn.zst`` (``levels`` 1: MBP-1, 10: MBP-10); atomic (temporary file + rename)."""
    import zstandard

    if levels not in (1, 10):
        raise ValueError(f"levels must be 1 or 10, got {levels}")
    r = mbp1_records(md)
    n = len(r["ts"])
    dtype = _record_dtype(levels)
    path = Path(path)
    with atomic_writer(path) as f:
        with zstandard.ZstdCompressor(level=compress_level).stream_writer(f, closefd=False) as z:
            z.write(_metadata(md, levels, r["ts"][0] if n else 0, r["ts"][-1] + 1 if n else 1))
            for i, lo in enumerate(range(0, n, chunk)):
                hi = min(n, lo + chunk)
                rec = np.zeros(hi - lo, dtype)
                _fill(rec, r, lo, hi, levels, np.random.default_rng([depth_seed, i]))
                z.write(rec.tobytes())
    return path


def write_databento_dbn_parts(parts, path: str | Path, *, start_ns: int, end_ns: int, levels: int = 1,
                              depth_seed: int = 0, chunk: int = CHUNK, compress_level: int = 1) -> Path:
    """Write consecutive pieces of one day (an iterable of :class:`MarketData`, each later than the one
    before, made lazily: e.g. 30-minute sessions of :func:`~.model.generate_market`) as one ``.dbn.zst``, so a
    day too big to generate in memory at once (100 M records) is held one piece at a time.

    ``start_ns`` / ``end_ns``: the file's time range (metadata, UTC ns). The records are those
    :func:`write_databento_dbn` writes for each piece (sequence numbers restart per piece); the depth draws
    continue one per chunk across pieces. Returns the path and leaves the piece count to the caller."""
    import zstandard

    if levels not in (1, 10):
        raise ValueError(f"levels must be 1 or 10, got {levels}")
    dtype = _record_dtype(levels)
    path = Path(path)
    i, head = 0, False
    with atomic_writer(path) as f:
        with zstandard.ZstdCompressor(level=compress_level).stream_writer(f, closefd=False) as z:
            for md in parts:
                if not head:
                    z.write(_metadata(md, levels, start_ns, end_ns))
                    head = True
                r = mbp1_records(md)
                del md
                n = len(r["ts"])
                for lo in range(0, n, chunk):
                    hi = min(n, lo + chunk)
                    rec = np.zeros(hi - lo, dtype)
                    _fill(rec, r, lo, hi, levels, np.random.default_rng([depth_seed, i]))
                    z.write(rec.tobytes())
                    i += 1
    return path


__all__ = ["write_databento_dbn", "write_databento_dbn_parts"]
