"""Streaming conversion of a Databento MBP-1 / MBP-10 CSV into a day-cache entry, in bounded memory.

The same two passes as :mod:`.dbn_stream` (exact dedup across chunk borders, running usability facts, spilled
feed-latency medians, :class:`~sorlib.data.cache.EntryWriter`), with the CSV read by pyarrow's streaming
reader (:func:`pyarrow.csv.open_csv`, 4 MiB blocks as the whole-file reader's, gathered into chunks of
:data:`CHUNK` rows). Each chunk goes through the whole-file reader's own conversion,
:func:`~sorlib.data.databento.csv_columns`. Column types: the streaming reader takes them from its first block
and fails on a later block that does not fit (the build then declines); the whole-file reader infers each block
and unifies, so when every block fits the first block's types both read the same types. A column empty all
through the first block (typed null) and filled later therefore declines: such files are parsed whole.

Before the two passes a pass 0 reads the raw bytes (NUL bytes and invalid UTF-8 anywhere in the file are the
whole-file reader's first errors) and the price columns only (whether prices are fixed-point integers or
decimal dollars is decided over the whole file, :func:`~sorlib.data.databento.fixed_point_facts`).

Exactness: the entry equals the whole-file parse array by array (tests/test_cache_stream.py). Anything the
whole-file reader would reject or treat over the whole day at once declines (:class:`~.dbn_stream.Decline`)
and the whole-file parse runs, giving its usual located error: a row failing a check, a type change after
the first block, several instruments, symbols or dates, rows out of time order, zip files.
"""

from __future__ import annotations

import codecs
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ._csv import raw_numbers
from .databento import _Progress, _Shifted, csv_columns, csv_spec, fixed_point_facts
from .dbn_stream import CHUNK, Decline, _pass1, _pass2, day_facts

BLOCK = 1 << 22  # bytes per pyarrow block, as read_csv_table's; the first one fixes the column types
_SCHEMA = "mbp"  # CSV: trades are the action-T rows, every row is a quote row (neither tbbo nor bbo)


def csv_streamer(path, fmt: str, symbol: str | None, date: str | None, kw: dict, progress: bool | None):
    """The ``stream`` callable :func:`~sorlib.data.cache.cached` takes for a Databento CSV ``path`` (None when it
    does not apply: another format, a DBN or zip file, ``symbol``/``date`` chosen, or extra reader options)."""
    name = Path(path).name.lower()
    if fmt != "databento" or name.endswith((".dbn", ".dbn.zst", ".zip")) or symbol or date or kw:
        return None

    def stream(writer, key: str) -> bool:
        try:
            write_csv_entry(path, writer, key, progress=progress)
        except Decline:
            return False
        return True

    return stream


def _reader(path: str, spec: dict, include: list[str]):
    """pyarrow's streaming CSV reader over ``path`` (decompressed by suffix), options as read_csv_table's."""
    read = pacsv.ReadOptions(column_names=spec["names"], skip_rows=1, block_size=BLOCK)
    conv = pacsv.ConvertOptions(column_types=spec["types"], include_columns=include, null_values=[""],
                                strings_can_be_null=False, quoted_strings_can_be_null=True)
    return pacsv.open_csv(pa.input_stream(path, compression="detect"), read_options=read, convert_options=conv)


def _tables(path: str, spec: dict, include: list[str]):
    """``(base, table)`` of :data:`CHUNK` rows each, the last one shorter (``base``: rows before it)."""
    base, held, k = 0, [], 0
    for batch in _reader(path, spec, include):
        held.append(batch)
        k += batch.num_rows
        while k >= CHUNK:
            t = pa.Table.from_batches(held)
            yield base, t.slice(0, CHUNK)
            rest = t.slice(CHUNK)
            base, k = base + CHUNK, k - CHUNK
            held = rest.to_batches() if k else []
    if k:
        yield base, pa.Table.from_batches(held)


def _text_ok(path: str, block: int = 1 << 24) -> None:
    """Decline on a NUL byte or invalid UTF-8 anywhere (the whole-file reader's located text errors)."""
    dec = codecs.getincrementaldecoder("utf-8")()
    with pa.input_stream(path, compression="detect") as f:
        while True:
            b = f.read(block)
            if b and b.find(b"\x00") >= 0:
                raise Decline
            dec.decode(b, final=not b)
            if not b:
                return


def _scale(path: str, spec: dict) -> float:
    """The price scale the whole-file reader detects: 1e-9 (fixed-point) or 1 (decimal dollars)."""
    px = ["price"] + [c for c in spec["lvl_cols"] if "_px_" in c]
    decimal = big = False
    for base, t in _tables(path, spec, px):
        w = _Shifted(path, 1, base)
        d, b = fixed_point_facts({c: raw_numbers(t, c, w) for c in px})
        decimal, big = decimal or d, big or b
    return 1e-9 if big and not decimal else 1.0


def write_csv_entry(path, writer, key: str, *, progress: bool | None = False) -> None:
    """Convert Databento CSV ``path`` into the cache entry ``writer`` (pass 0, then two passes);
    :class:`Decline` when it cannot be done exactly (see the module doc)."""
    p = str(path)
    try:
        spec = csv_spec(path)
        if len(set(spec["names"])) != len(spec["names"]):
            raise Decline  # repeated header names: the whole-file reader words it
        _text_ok(p)
        scale = _scale(p, spec)
    except Decline:
        raise
    except Exception:  # noqa: BLE001 - reported by the whole-file parse
        raise Decline from None
    fmt = f"databento-csv/mbp-{spec['levels']}" + ("/fixed" if scale != 1 else "")

    def source(p: str, schema: str, progress, label: str):
        bar = _Progress(progress, label) if progress is not False else None
        try:
            for base, t in _tables(p, spec, spec["include"]):
                yield base, _chunk(t, _Shifted(p, 1, base), spec, scale)
                if bar is not None:
                    bar.update(t.num_rows)
        finally:
            if bar is not None:
                bar.close()
        yield -1, None

    with tempfile.TemporaryDirectory(prefix=".spill-", dir=writer.path.parent) as tmp:
        spill = Path(tmp)
        try:
            day = _pass1(p, _SCHEMA, spill, progress, source)
        except Decline:
            raise
        except Exception:  # noqa: BLE001 - a bad row / a type change: the whole-file parse reports it
            raise Decline from None
        ref, nt, feed = day_facts(day, spill)
    try:
        _pass2(p, _SCHEMA, day, ref, nt, writer, key, feed, None, progress, source, fmt)
    except Decline:
        raise
    except Exception:  # noqa: BLE001 - the file changed between passes
        raise Decline from None


def _chunk(t: pa.Table, w, spec: dict, scale: float) -> dict:
    """One table of rows → the chunk columns :func:`~.dbn_stream._pass1` / ``_pass2`` take."""
    c, symbols = csv_columns(t, w, spec, scale)
    has_ids = "instrument_id" in spec["optional"]
    c["ids"] = c["extra"][0] if has_ids else np.zeros(len(c["ts"]), np.int64)
    if has_ids and bool((c["ids"] < 0).any()):
        raise Decline  # an empty instrument_id: the whole-file parse counts it as an instrument of its own
    c["names"] = tuple(spec["include"])
    if "ts_recv" in spec["optional"]:
        c["recv"] = c["extra"][3]
    if symbols is not None:
        c["symbols"] = set(np.unique(symbols[symbols != ""]).tolist())
    del c["scale"]
    return c
