"""The columnar day cache (:mod:`sorlib.data.cache`): a cached load equals a fresh parse array by array;
a damaged entry is rebuilt; a changed file or changed reader options invalidate.

The reference in every comparison is ``load(..., cache=False)`` — the readers without the cache — so the
cache is checked against an independent path, field by field (``Quotes``/``Trades`` arrays with dtypes and
NaN positions, the ``LoadReport`` counts, repairs and notes, venue names, symbol, tz, feed latencies).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from sorlib.data import load
from sorlib.data.cache import CacheInvalid, read_entry
from sorlib.synth import generate_market, write_databento_mbp1_csv

REAL = Path(os.environ["SORLIB_REAL_DATA"]) if os.environ.get("SORLIB_REAL_DATA") else None


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("SORLIB_CACHE_DIR", str(d))
    return d


@pytest.fixture(scope="module")
def synth_csv(tmp_path_factory) -> Path:
    md = generate_market(venues=3, seed=7, minutes=20)
    return write_databento_mbp1_csv(md, tmp_path_factory.mktemp("synth") / "day.csv")


def assert_same(a, b) -> None:
    """Every field of two MarketData: arrays equal in dtype, shape and value (NaN == NaN)."""
    for part in ("quotes", "trades"):
        pa_, pb = getattr(a, part), getattr(b, part)
        for name in pa_.__dataclass_fields__:
            x, y = getattr(pa_, name), getattr(pb, name)
            if x is None or y is None:
                assert x is None and y is None, f"{part}.{name}"
                continue
            assert x.dtype == y.dtype and x.shape == y.shape, f"{part}.{name}"
            np.testing.assert_array_equal(x, y, err_msg=f"{part}.{name}")
    assert a.report.to_dict() == b.report.to_dict()
    assert (a.venue_names, a.symbol, a.tz, a.feed_latency_us) == (b.venue_names, b.symbol, b.tz, b.feed_latency_us)


def _roundtrip(path: Path, **kw):
    fresh = load(path, cache=False, **kw)
    built = load(path, **kw)
    assert built.report.cache.startswith("cache: built"), built.report.cache
    again = load(path, **kw)
    assert again.report.cache.startswith(f"cache: read {path} from "), again.report.cache
    assert_same(fresh, built)
    assert_same(fresh, again)
    return fresh, again


def test_synthetic_csv_roundtrip(synth_csv, cache_dir):
    fresh, again = _roundtrip(synth_csv)
    assert len(fresh.quotes) > 1000 and len(fresh.trades) > 10  # a real day, not an empty one
    entries = list(cache_dir.glob("*.sdc"))
    assert len(entries) == 1
    assert isinstance(again.quotes.bid_px.base, object) and again.quotes.bid_px.flags.writeable
    again.quotes.bid_px[0, 0] = -1.0  # copy-on-write mapping: the file is not changed
    assert_same(fresh, load(synth_csv))


def test_default_location_beside_the_file_or_user_cache(synth_csv, tmp_path, monkeypatch):
    """Without SORLIB_CACHE_DIR: ``<file dir>/.sorlib-cache``; a read-only folder falls back to
    ``$XDG_CACHE_HOME/sorlib/days``."""
    monkeypatch.delenv("SORLIB_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = tmp_path / "ro"
    folder.mkdir()
    f = folder / "day.csv"
    f.write_bytes(synth_csv.read_bytes())
    folder.chmod(0o555)
    try:
        md = load(f)
        assert str(tmp_path / "xdg" / "sorlib" / "days") in md.report.cache
    finally:
        folder.chmod(0o755)
    g = tmp_path / "rw" / "day.csv"
    g.parent.mkdir()
    g.write_bytes(synth_csv.read_bytes())
    md = load(g)
    assert str(g.parent / ".sorlib-cache") in md.report.cache


@pytest.mark.parametrize("damage", ["truncate", "flip_array_byte", "flip_header_byte", "garbage"])
def test_damaged_entry_is_rebuilt(synth_csv, cache_dir, damage):
    fresh = load(synth_csv, cache=False)
    load(synth_csv)
    (entry,) = cache_dir.glob("*.sdc")
    data = bytearray(entry.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip_array_byte":
        data[200] ^= 0xFF  # inside the first array (q_ts): only the array checksum can see it
    elif damage == "flip_header_byte":
        data[-60] ^= 0x01  # inside the JSON header, before the 32-byte footer
    else:
        data = bytearray(b"not a cache file at all" * 10)
    entry.write_bytes(bytes(data))
    with pytest.raises(CacheInvalid):
        read_entry(entry)
    md = load(synth_csv)
    assert md.report.cache.startswith("cache: built") and "invalid" in md.report.cache, md.report.cache
    assert_same(fresh, md)
    assert load(synth_csv).report.cache.startswith("cache: read")


def test_verify_off_still_checks_structure(synth_csv, cache_dir, monkeypatch):
    """``SORLIB_CACHE_VERIFY=0`` skips the per-array checksums (a flipped data byte goes unseen) but a
    truncated entry is still rebuilt."""
    load(synth_csv)
    (entry,) = cache_dir.glob("*.sdc")
    data = bytearray(entry.read_bytes())
    data[200] ^= 0xFF
    entry.write_bytes(bytes(data))
    monkeypatch.setenv("SORLIB_CACHE_VERIFY", "0")
    assert load(synth_csv).report.cache.startswith("cache: read")
    entry.write_bytes(bytes(data[:-10]))
    assert load(synth_csv).report.cache.startswith("cache: built")


def test_changed_file_invalidates(synth_csv, tmp_path, cache_dir):
    """Same size, same mtime, a different price in the last MiB (the tail hash) → a new parse."""
    f = tmp_path / "day.csv"
    text = synth_csv.read_bytes()
    f.write_bytes(text)
    load(f)
    st = f.stat()
    lines = text.split(b"\n")
    i = len(lines) - 3
    fields = lines[i].split(b",")
    j = 13  # bid_px_00 of the last rows
    old = fields[j]
    new = old[:-1] + (b"1" if old[-1:] != b"1" else b"2")
    assert len(new) == len(old)
    fields[j] = new
    lines[i] = b",".join(fields)
    f.write_bytes(b"\n".join(lines))
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert f.stat().st_size == st.st_size and f.stat().st_mtime_ns == st.st_mtime_ns
    md = load(f)
    assert md.report.cache.startswith("cache: built"), md.report.cache
    assert_same(load(f, cache=False), md)
    assert len(list(cache_dir.glob("*.sdc"))) == 2


def test_reader_options_are_part_of_the_key(synth_csv, cache_dir):
    a = load(synth_csv)
    b = load(synth_csv, date="2024-03-15")  # the same rows, other options: its own entry
    assert b.report.cache.startswith("cache: built")
    c = load(synth_csv, price_scale=0.5)  # prices halved by the reader option, never served from a's entry
    assert c.report.cache.startswith("cache: built")
    np.testing.assert_allclose(c.trades.price, a.trades.price * 0.5)
    assert len(list(cache_dir.glob("*.sdc"))) == 3


def test_at_most_four_entries_per_source_file(synth_csv, tmp_path, cache_dir):
    """Six reader-option variants of one file leave its 4 most recently used entries; a same-named file in
    another folder keeps its own."""
    import time

    for scale in (1.0, 0.5, 0.25, 2.0, 0.125, 4.0):
        assert load(synth_csv, price_scale=scale).report.cache.startswith("cache: built")
        time.sleep(0.01)  # distinct mtimes
    assert len(list(cache_dir.glob("*.sdc"))) == 4
    assert load(synth_csv, price_scale=4.0).report.cache.startswith("cache: read")  # the newest survive
    assert load(synth_csv, price_scale=0.25).report.cache.startswith("cache: read")
    assert load(synth_csv, price_scale=1.0).report.cache.startswith("cache: built")  # the oldest went
    other = tmp_path / "elsewhere" / synth_csv.name
    other.parent.mkdir()
    other.write_bytes(synth_csv.read_bytes())
    assert load(other).report.cache.startswith("cache: built")
    assert len(list(cache_dir.glob("*.sdc"))) == 5


def test_cache_off_and_errors_untouched(synth_csv, tmp_path, monkeypatch):
    monkeypatch.setenv("SORLIB_CACHE_DIR", "off")
    md = load(synth_csv)
    assert md.report.cache.startswith("cache: not used")
    monkeypatch.setenv("SORLIB_CACHE_DIR", str(tmp_path / "c"))
    from sorlib.errors import DataError

    with pytest.raises(DataError, match="file not found"):
        load(tmp_path / "missing.csv", format="databento")
    bad = tmp_path / "bad.csv"
    bad.write_text(synth_csv.read_text().replace("\n", "\nnot,a,row\n", 1).rsplit("\n", 3)[0])
    with pytest.raises(DataError):
        load(bad)
    assert not list((tmp_path / "c").glob("*.sdc"))  # a failed parse caches nothing
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # never opened by the cache (that would block): the reader's own error
    with pytest.raises(DataError, match="not a regular file"):
        load(fifo, format="databento")


# ------------------------------------------------------------------------------------------------- real
REAL_FILES = [
    ("databento_fixtures/XNAS.ITCH/test_data.mbp-10.dbn.zst", {}),
    ("lean_algoseek_tick/aig/20131007_quote.zip", {}),
    ("lobster_samples/LOBSTER_SampleFile_AAPL_2012-06-21_1.zip", {}),
]


@pytest.mark.parametrize(("rel", "kw"), REAL_FILES)
def test_real_roundtrip(rel, kw, cache_dir):
    if REAL is None:
        pytest.skip("SORLIB_REAL_DATA is not set")
    fresh, again = _roundtrip(REAL / rel, **kw)
    assert len(fresh.quotes) > 0


def test_algoseek_sibling_is_part_of_the_key(cache_dir, tmp_path):
    """The quote zip's load reads the sibling trade zip: replacing the trade zip alone invalidates."""
    if REAL is None:
        pytest.skip("SORLIB_REAL_DATA is not set")
    src = REAL / "lean_algoseek_tick" / "aig"
    for name in ("20131007_quote.zip", "20131007_trade.zip"):
        (tmp_path / name).write_bytes((src / name).read_bytes())
    q = tmp_path / "20131007_quote.zip"
    assert load(q).report.cache.startswith("cache: built")
    assert load(q).report.cache.startswith("cache: read")
    (tmp_path / "20131007_trade.zip").unlink()
    md = load(q)
    assert md.report.cache.startswith("cache: built")
    assert len(md.trades) == 0


# ------------------------------------------------------------------------------------- synthetic DBN days
def test_synthetic_mbp10_dbn_roundtrip(tmp_path, cache_dir):
    """``sorlib.synth.dbn`` writes MBP-10 DBN that the DBN reader reads back with level 0 equal to the
    generated day (no repair needed), depth k ticks behind the touch, and the cache serves it unchanged."""
    from sorlib.synth.dbn import write_databento_dbn

    md = generate_market(venues=3, seed=3, minutes=15)
    f = write_databento_dbn(md, tmp_path / "day.mbp-10.dbn.zst", levels=10, depth_seed=5)
    fresh, again = _roundtrip(f)
    assert fresh.report.format == "databento-dbn/mbp-10" and fresh.report.repairs == {}
    np.testing.assert_array_equal(fresh.quotes.ts, md.quotes.ts)
    np.testing.assert_array_equal(fresh.quotes.bid_px[:, 0], md.quotes.bid_px[:, 0])
    np.testing.assert_array_equal(fresh.quotes.ask_sz[:, 0], md.quotes.ask_sz[:, 0])
    np.testing.assert_array_equal(fresh.trades.price, md.trades.price)
    two = np.isfinite(fresh.quotes.bid_px[:, 0])
    # level k of the bid is k cents below level 0 (fixed-point exact, then / 1e9)
    np.testing.assert_allclose(fresh.quotes.bid_px[two, 9], fresh.quotes.bid_px[two, 0] - 0.09, atol=1e-9)
    assert (fresh.quotes.bid_sz[two, 1:] >= 100).all() and (fresh.quotes.bid_sz[~two] == 0).all()


def test_cli_synth_scale_dbn_then_inspect_uses_cache(tmp_path, cache_dir, capsys):
    """``sorlib synth --scale 2 --levels 10 --out X.dbn.zst`` doubles the record rate; ``sorlib inspect`` says
    it built the cache the first time and read it the second (stderr; stdout unchanged)."""
    from sorlib.cli import main

    f = tmp_path / "s.dbn.zst"
    base = generate_market(venues=2, seed=0, minutes=10)
    assert main(["synth", "--venues", "2", "--minutes", "10", "--scale", "2", "--levels", "10", "--out", str(f)]) == 0
    assert "MBP-10 DBN" in capsys.readouterr().out
    md = load(f, cache=False)
    assert md.quotes.levels == 10
    assert 1.6 < len(md.quotes) / len(base.quotes) < 2.4  # twice the book-update rate (Poisson noise)
    outs = []
    for _ in range(2):
        assert main(["inspect", str(f)]) == 0
        outs.append(capsys.readouterr())
    assert outs[0].err.startswith("cache: built ") and outs[1].err.startswith(f"cache: read {f} from ")
    assert outs[0].out == outs[1].out
    assert main(["synth", "--levels", "10", "--out", str(tmp_path / "x.csv")]) == 2
    assert "give a .dbn.zst --out" in capsys.readouterr().err


@pytest.mark.parametrize("block", [1000, 368 * 3, 1 << 24])
def test_dbn_completeness_check_streams_in_blocks(tmp_path, block):
    """The DBN completeness check reads the body in blocks (bounded memory); a record cut anywhere — here
    100 bytes short of the end, across block boundaries that do and do not align with the 368-byte MBP-10
    records — is still an error, and a whole file passes."""
    import databento as db
    import zstandard

    from sorlib.data.databento import _check_complete
    from sorlib.errors import DataError
    from sorlib.synth.dbn import write_databento_dbn

    z = write_databento_dbn(generate_market(venues=2, seed=4, minutes=3), tmp_path / "d.dbn.zst", levels=10)
    raw = zstandard.ZstdDecompressor().stream_reader(z.read_bytes()).read()
    whole, cut = tmp_path / "whole.dbn", tmp_path / "cut.dbn"
    whole.write_bytes(raw)
    cut.write_bytes(raw[:-100])
    _check_complete(db.DBNStore.from_file(whole), str(whole), block=block)
    with pytest.raises(DataError, match="last record is incomplete"):
        _check_complete(db.DBNStore.from_file(cut), str(cut), block=block)


def _dbn_records(tmp_path, levels=10):
    """A small synthetic MBP DBN file decoded to (header bytes, record array)."""
    import zstandard

    from sorlib.synth.dbn import _record_dtype, write_databento_dbn

    z = write_databento_dbn(generate_market(venues=2, seed=6, minutes=3), tmp_path / "d.dbn.zst", levels=levels)
    raw = zstandard.ZstdDecompressor().stream_reader(z.read_bytes()).read()
    head = 8 + int.from_bytes(raw[4:8], "little")
    return raw[:head], np.frombuffer(raw[head:], _record_dtype(levels)).copy()


def test_dbn_chunked_decode_equals_one_chunk(tmp_path, monkeypatch):
    """Decoding a DBN file 7 records at a time gives exactly the arrays of decoding it whole."""
    import sorlib.data.databento as dbn

    head, rec = _dbn_records(tmp_path)
    f = tmp_path / "x.mbp-10.dbn"
    f.write_bytes(head + rec.tobytes())
    monkeypatch.setattr(dbn, "DBN_CHUNK", 10**6)
    whole = load(f, cache=False)
    monkeypatch.setattr(dbn, "DBN_CHUNK", 7)
    assert len(rec) > 50
    assert_same(whole, load(f, cache=False))


@pytest.mark.parametrize("chunk", [7, 10**6])
def test_dbn_error_names_the_record_across_chunks(tmp_path, monkeypatch, chunk):
    """A negative level-3 bid in record 40 (1-based) is reported as record 40, whether the file is decoded
    whole or 7 records at a time (record 40 is then the 5th of the 6th chunk)."""
    import sorlib.data.databento as dbn
    from sorlib.errors import DataError

    head, rec = _dbn_records(tmp_path)
    rec[39]["bid_px_03"] = -2_000_000_000  # -$2 in fixed point
    f = tmp_path / "bad.mbp-10.dbn"
    f.write_bytes(head + rec.tobytes())
    monkeypatch.setattr(dbn, "DBN_CHUNK", chunk)
    with pytest.raises(DataError, match=r"record 40: price -2 must be > 0") as e:
        load(f, cache=False)
    assert "bid_px_03" in str(e.value)


def test_dbn_progress_lines_and_bar(tmp_path, capsys, monkeypatch):
    """``progress=None`` (piped): one stderr line per 30 s of decoding with the records so far; ``True``: a
    tqdm bar; neither changes what is read."""
    import sorlib.data.databento as dbn

    p = dbn._Progress(None, "day.dbn")
    p.update(5)
    assert capsys.readouterr().err == ""  # under 30 s: silent
    p.last -= 31.0
    p.update(7)
    err = capsys.readouterr().err
    assert err.startswith("load: 12 records of day.dbn decoded, ") and err.count("\n") == 1
    head, rec = _dbn_records(tmp_path, levels=1)
    f = tmp_path / "x.mbp-1.dbn"
    f.write_bytes(head + rec.tobytes())
    monkeypatch.setattr(dbn, "DBN_CHUNK", 100)
    plain = load(f, cache=False)
    assert_same(plain, load(f, cache=False, progress=True))
    assert_same(plain, load(f, cache=False, progress=None))
