"""Streaming DBN → day cache (:mod:`sorlib.data.dbn_stream`): the entry built chunk by chunk equals the
whole-file parse array by array, whatever the chunk size.

The reference is always ``load(..., cache=False)`` — the whole-file reader, which holds the day in memory and
applies every repair over all of it at once — compared with :func:`test_data_cache.assert_same` (dtypes,
shapes, NaN positions, report counts and notes, venue names, symbol, feed latencies). The files are
synthetic MBP-10 DBN days with damage placed on purpose where chunk borders fall: duplicate records (some
straddling a border, in runs of equal time stamps longer than a chunk), bad-book and bad-``ts_recv`` flags,
a clear-book record, stub levels, crossed and locked rows and irregular feed delays. Chunks of 7 and 50
records force hundreds of borders; 10**6 is one chunk.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_data_cache import _dbn_records, assert_same

import sorlib.data.dbn_stream as stream
from sorlib.data import load
from sorlib.data.databento import F_BAD_TS_RECV, F_MAYBE_BAD_BOOK
from sorlib.data.validate import duplicate_mask
from sorlib.errors import DataError


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("SORLIB_CACHE_DIR", str(d))
    return d


def _damaged(tmp_path, seed: int = 0):
    """(header bytes, records) of a synthetic 2-venue MBP-10 day with every kind of damage the repairs fix."""
    head, rec = _dbn_records(tmp_path)
    rng = np.random.default_rng(seed)
    n = len(rec)
    # irregular feed delays 1..500 µs (their per-venue medians are the feed latencies); one undefined ts_recv
    rec["ts_recv"] = rec["ts_event"] + rng.integers(1_000, 500_000, n).astype(np.uint64)
    rec["ts_recv"][5] = np.iinfo(np.uint64).max
    # a run of 120 records on one time stamp (longer than a 50-record chunk), with duplicates inside it
    rec["ts_event"][200:320] = rec["ts_event"][200]
    rec["flags"][rng.choice(n, 9, replace=False)] |= F_MAYBE_BAD_BOOK
    rec["flags"][rng.choice(n, 5, replace=False)] |= F_BAD_TS_RECV
    rec["action"][77] = ord("R")
    q = np.flatnonzero((rec["action"] != ord("T")) & (rec["ask_px_00"] < 2**62) & (rec["bid_px_00"] < 2**62))
    rec["ask_px_05"][q[10]] = rec["ask_px_00"][q[10]] * 40  # a stub level (40x the price)
    rec["bid_px_00"][q[20]] = rec["ask_px_00"][q[20]] + 10_000_000  # crossed by a cent
    rec["bid_px_00"][q[30]] = rec["ask_px_00"][q[30]]  # locked
    # duplicates: copies right after their originals, in runs and at many positions (borders of 7 and 50)
    dup_at = np.sort(np.r_[rng.choice(n, 40, replace=False), 210, 211, 212, 300, 48, 49, 6, 13])
    rec = np.insert(rec, dup_at + 1, rec[dup_at])
    rec = np.insert(rec, 251, rec[250])  # a triple: the copy of a copy
    rec = np.insert(rec, 251, rec[250])
    return head, rec


def _write(path, head, rec):
    path.write_bytes(head + rec.tobytes())
    return path


@pytest.mark.parametrize("chunk", [7, 50, 10**6])
def test_streamed_entry_equals_whole_parse(tmp_path, cache_dir, monkeypatch, chunk):
    """Every repair the whole-file reader makes is made identically when the file is streamed in chunks; the
    test data trigger each of them (counts checked to be non-zero, so a repair that stops firing is seen)."""
    head, rec = _damaged(tmp_path)
    f = _write(tmp_path / "d.mbp-10.dbn", head, rec)
    fresh = load(f, cache=False)
    r = fresh.report.repairs
    assert r["duplicate_record"] == 50 and r["bad_book_flag"] >= 8 and r["stub_quote"] >= 1
    assert r["crossed_book"] >= 1 and r["locked_book"] >= 1
    assert any("F_BAD_TS_RECV" in s for s in fresh.report.notes)
    assert len(set(fresh.feed_latency_us.values())) == 2  # two venues, irregular delays: two medians
    monkeypatch.setattr(stream, "CHUNK", chunk)
    built = load(f)
    assert "streamed" in built.report.cache, built.report.cache
    assert_same(fresh, built)
    again = load(f)
    assert again.report.cache.startswith("cache: read")
    assert_same(fresh, again)


def test_out_of_order_file_is_declined_and_parsed_whole(tmp_path, cache_dir, monkeypatch):
    """ts_event out of order needs a whole-day sort: the streaming build declines, the whole-file parse builds
    the entry (no 'streamed'), and the result is still the reference."""
    head, rec = _damaged(tmp_path)
    rec["ts_event"][400], rec["ts_event"][401] = rec["ts_event"][401] + 1, rec["ts_event"][400]
    f = _write(tmp_path / "u.mbp-10.dbn", head, rec)
    fresh = load(f, cache=False)
    assert fresh.report.repairs["unsorted_time"] >= 1
    monkeypatch.setattr(stream, "CHUNK", 50)
    built = load(f)
    assert built.report.cache.startswith("cache: built") and "streamed" not in built.report.cache
    assert_same(fresh, built)


def test_several_instruments_same_error(tmp_path, cache_dir):
    """A venue quoting two instrument ids: the same error message as the whole-file parse (the stream
    declines; the whole parse names the instruments)."""
    head, rec = _damaged(tmp_path)
    v0 = rec["publisher_id"] == rec["publisher_id"][0]
    rec["instrument_id"][np.flatnonzero(v0)[::3]] += 1
    f = _write(tmp_path / "i.mbp-10.dbn", head, rec)
    with pytest.raises(DataError) as e1:
        load(f, cache=False)
    with pytest.raises(DataError) as e2:
        load(f)
    assert "instruments interleaved" in str(e1.value) and str(e1.value) == str(e2.value)


def test_bad_record_same_error(tmp_path, cache_dir, monkeypatch):
    """A negative level-3 bid in record 90: the cached load raises the whole parse's error, naming record 90."""
    head, rec = _damaged(tmp_path)
    rec["bid_px_03"][89] = -5
    f = _write(tmp_path / "b.mbp-10.dbn", head, rec)
    monkeypatch.setattr(stream, "CHUNK", 7)
    with pytest.raises(DataError) as e1:
        load(f, cache=False)
    with pytest.raises(DataError) as e2:
        load(f)
    assert "record 90" in str(e1.value) and str(e1.value) == str(e2.value)


@pytest.mark.parametrize("chunk", [1, 3, 10])
def test_dedup_carry_equals_whole_mask(chunk):
    """:class:`Dedup` over chunks equals :func:`duplicate_mask` over the whole (sorted) column set, including
    copies whose originals are several chunks back inside one long run of equal times."""
    rng = np.random.default_rng(1)
    ts = np.sort(rng.integers(0, 4, 60))
    a = rng.integers(0, 2, 60)
    lv = rng.integers(0, 2, (60, 2)).astype(float)
    lv[:, 1] = 1.0
    lv[::7, 1] = np.nan  # NaN equals NaN
    want = ~duplicate_mask([ts, a, lv])
    d = stream.Dedup()
    got = np.concatenate([d.keep([ts[s:s + chunk], a[s:s + chunk], lv[s:s + chunk]]) for s in range(0, 60, chunk)])
    assert want.sum() < 40  # many duplicates
    np.testing.assert_array_equal(got, want)


def test_spilled_medians_equal_numpy():
    """The radix-select median per key equals ``np.median`` exactly: odd and even counts, a key with one
    value, values sharing their high bits, values near 2**62, read in small chunks."""
    rng = np.random.default_rng(2)
    d = np.concatenate([rng.integers(1, 10**6, 1001), rng.integers(2**62 - 1000, 2**62, 500), [7],
                        (1 << 40) + rng.integers(0, 3, 300)]).astype(np.int64)
    v = np.concatenate([np.full(1001, 3), np.full(500, 9), [65535], np.full(300, 11)]).astype(np.int32)
    order = rng.permutation(len(d))
    d, v = d[order], v[order]
    got = stream.spilled_medians(d, v, chunk=97)
    want = {int(k): float(np.median(d[v == k])) for k in np.unique(v)}
    assert got == want
    assert stream.spilled_medians(np.empty(0, np.int64), np.empty(0, np.int32)) == {}


def test_dbn_parts_writer_is_the_pieces_in_order(tmp_path, cache_dir):
    """``write_databento_dbn_parts`` (the 100 M-record benchmark day, generated piece by piece) writes one
    file whose quotes and trades are the pieces' in order (level 0 as generated), and it streams into the
    cache equal to the whole parse."""
    import pandas as pd

    from sorlib.synth import generate_market
    from sorlib.synth.dbn import write_databento_dbn_parts

    def pieces():
        yield generate_market(venues=2, seed=1, start="10:00", minutes=4)
        yield generate_market(venues=2, seed=2, start="10:04", minutes=4)

    parts = list(pieces())
    t0, t1 = (pd.Timestamp(f"2024-03-15 {t}", tz="America/New_York").value for t in ("10:00", "10:08"))
    f = write_databento_dbn_parts(pieces(), tmp_path / "p.mbp-10.dbn.zst", start_ns=t0, end_ns=t1, levels=10)
    fresh = load(f, cache=False)
    np.testing.assert_array_equal(fresh.quotes.ts, np.concatenate([p.quotes.ts for p in parts]))
    np.testing.assert_array_equal(fresh.quotes.ask_px[:, 0], np.concatenate([p.quotes.ask_px[:, 0] for p in parts]))
    np.testing.assert_array_equal(fresh.trades.size, np.concatenate([p.trades.size for p in parts]))
    built = load(f)
    assert "streamed" in built.report.cache
    assert_same(fresh, built)


def test_streamed_build_progress(tmp_path, cache_dir, capsys, monkeypatch):
    """``progress=True``: a tqdm bar (records/s) per pass on stderr; the default (False) prints nothing."""
    head, rec = _damaged(tmp_path)
    f = _write(tmp_path / "g.mbp-10.dbn", head, rec)
    monkeypatch.setattr(stream, "CHUNK", 100)
    load(f)
    assert capsys.readouterr().err == ""
    for e in cache_dir.glob("*.sdc"):
        e.unlink()
    assert "streamed" in load(f, progress=True).report.cache
    err = capsys.readouterr().err
    assert "g.mbp-10.dbn (pass 1/2)" in err and "g.mbp-10.dbn (pass 2/2)" in err and "rec/s" in err


def test_entry_too_big_for_a_private_mapping_is_mapped_read_only(tmp_path, cache_dir, monkeypatch):
    """The kernel refuses a private writable mapping bigger than RAM without swap (ENOMEM; seen on a 34 GB
    100 M-record entry): the entry is then mapped read-only — the same arrays, read-only, never rebuilt."""
    import errno
    import mmap

    import sorlib.data.cache as cache

    head, rec = _damaged(tmp_path)
    f = _write(tmp_path / "m.mbp-10.dbn", head, rec)
    fresh = load(f, cache=False)
    load(f)
    real = mmap.mmap

    def no_private(fd, length, access=None):
        if access == mmap.ACCESS_COPY:
            raise OSError(errno.ENOMEM, "Cannot allocate memory")
        return real(fd, length, access=access)

    monkeypatch.setattr(cache.mmap, "mmap", no_private)
    md = load(f)
    assert md.report.cache.startswith("cache: read")
    assert_same(fresh, md)
    assert not md.quotes.ask_px.flags.writeable


# ------------------------------------------------------------------------------------------- CSV source
def _damaged_csv(tmp_path, pretty: bool, seed: int = 0):
    """The damaged MBP-10 day as a Databento CSV, written by the ``databento`` package (an independent
    writer): pretty (ISO times, decimal dollars) or raw (integer ns, fixed-point prices)."""
    import databento as db

    head, rec = _damaged(tmp_path, seed)
    f = _write(tmp_path / f"src{seed}.mbp-10.dbn", head, rec)
    out = tmp_path / f"d{int(pretty)}.mbp-10.csv"
    db.DBNStore.from_file(str(f)).to_csv(out, pretty_px=pretty, pretty_ts=pretty, map_symbols=False)
    return out


@pytest.mark.parametrize("pretty", [True, False])
@pytest.mark.parametrize("chunk", [7, 50, 10**6])
def test_streamed_csv_equals_whole_parse(tmp_path, cache_dir, monkeypatch, chunk, pretty):
    """A Databento CSV (decimal or fixed-point prices) streamed in chunks of 7 / 50 rows / one chunk gives the
    whole-file CSV parse array by array, every repair firing (counts checked non-zero)."""
    import sorlib.data.csv_stream as cs

    f = _damaged_csv(tmp_path, pretty)
    fresh = load(f, cache=False)
    r = fresh.report.repairs
    assert fresh.report.format == "databento-csv/mbp-10" + ("" if pretty else "/fixed")
    assert r["duplicate_record"] == 50 and r["bad_book_flag"] >= 8 and r["stub_quote"] >= 1
    assert r["crossed_book"] >= 1 and r["locked_book"] >= 1
    assert len(set(fresh.feed_latency_us.values())) == 2
    monkeypatch.setattr(cs, "CHUNK", chunk)
    built = load(f)
    assert "streamed" in built.report.cache, built.report.cache
    assert_same(fresh, built)
    assert_same(fresh, load(f))


def test_csv_bad_row_same_error(tmp_path, cache_dir, monkeypatch):
    """A negative level-3 bid size on line 91 (row 90): the cached (streaming) load raises the whole parse's
    located error, naming line 91 and the column."""
    import sorlib.data.csv_stream as cs

    f = _damaged_csv(tmp_path, True)
    lines = f.read_text().splitlines(keepends=True)
    names = lines[0].strip().split(",")
    fields = lines[90].split(",")
    fields[names.index("bid_sz_03")] = "-5"
    lines[90] = ",".join(fields)
    f.write_text("".join(lines))
    monkeypatch.setattr(cs, "CHUNK", 7)
    with pytest.raises(DataError) as e1:
        load(f, cache=False)
    with pytest.raises(DataError) as e2:
        load(f)
    assert "line 91" in str(e1.value) and "bid_sz_03" in str(e1.value), str(e1.value)
    assert str(e1.value) == str(e2.value)
    assert not list(cache_dir.glob("*.sdc"))


def test_csv_decimal_late_in_fixed_point_file_declines(tmp_path, cache_dir, monkeypatch):
    """The price scale is decided over the whole file: one decimal price on the last line makes the whole file
    decimal dollars (no '/fixed'); the stream, reading chunks of 50, must give the same (it declines or agrees)."""
    import sorlib.data.csv_stream as cs

    f = _damaged_csv(tmp_path, False)
    text = f.read_text()
    f.write_text(text.rstrip("\n") + "\n")
    lines = f.read_text().splitlines(keepends=True)
    names = lines[0].strip().split(",")
    fields = lines[-1].split(",")
    fields[names.index("bid_px_09")] = "1.5"
    lines[-1] = ",".join(fields)
    f.write_text("".join(lines))
    monkeypatch.setattr(cs, "CHUNK", 50)
    try:
        fresh = load(f, cache=False)
    except DataError as e:
        with pytest.raises(DataError) as e2:
            load(f)
        assert str(e) == str(e2.value)
        return
    assert_same(fresh, load(f))


def test_csv_zst_streams_and_type_change_declines(tmp_path, cache_dir, monkeypatch):
    """A zstd-compressed CSV streams (equal to the whole parse). With 4 KiB blocks and ``sequence`` left empty
    on the first 100 rows, the first block types the column null and a later block holds integers: pyarrow's
    streaming reader cannot widen a type, so the build declines and the whole parse (which unifies the types
    of all blocks) builds the entry — not streamed, still equal."""
    import zstandard

    import sorlib.data.csv_stream as cs

    f = _damaged_csv(tmp_path, True)
    lines = f.read_text().splitlines(keepends=True)
    k = lines[0].strip().split(",").index("sequence")
    for i in range(1, 101):
        fields = lines[i].split(",")
        fields[k] = ""
        lines[i] = ",".join(fields)
    g = tmp_path / "z.mbp-10.csv.zst"
    g.write_bytes(zstandard.ZstdCompressor().compress("".join(lines).encode()))
    fresh = load(g, cache=False)
    monkeypatch.setattr(cs, "CHUNK", 50)
    built = load(g)
    assert "streamed" in built.report.cache
    assert_same(fresh, built)
    for e in cache_dir.glob("*.sdc"):
        e.unlink()
    monkeypatch.setattr(cs, "BLOCK", 4096)
    again = load(g)
    assert again.report.cache.startswith("cache: built") and "streamed" not in again.report.cache
    assert_same(fresh, again)
