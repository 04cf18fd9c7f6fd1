"""The columnar day cache: a loaded :class:`MarketData` written once, memory-mapped on later loads.

:func:`sorlib.data.load` parses a file (validation and repairs included) the first time and stores the
result here; later loads of the same file with the same reader options map the stored arrays (no parse,
no copy: pages are read on first touch; the mapping is private copy-on-write, so arrays are writable and a
write never reaches the file).

**Key** — ``sha256`` over: :data:`CACHE_VERSION`, the reader options (format, symbol, date, extra keywords)
and, for the data file and its companions (the AlgoSeek ``_trade``/``_quote`` sibling, the LOBSTER
``message``/``orderbook`` sibling), the resolved path, size, ``mtime_ns`` and a BLAKE2b hash of the first
and last MiB. Why not the full content hash: hashing a 5 GB day costs ~5 s on every load (more than the
cached load itself); size + ``mtime_ns`` catch every ordinary rewrite (a download, an editor, ``cp``), and
the head/tail hash catches a same-size replacement made with a preserved mtime (``cp -p``, ``rsync -t``).
Not caught: a same-size edit in the middle of the file that also restores the nanosecond mtime — delete the
cache folder (or pass ``cache=False``) after such surgery.

**Location** — ``$SORLIB_CACHE_DIR`` when set; else ``<file dir>/.sorlib-cache/`` when that folder can be
created and written (its nearest existing folder has a write bit, even for root);
else the user cache folder ``$XDG_CACHE_HOME/sorlib/days`` (``~/.cache/sorlib/days``),
e.g. for the read-only ``/work/shared/data/real``. ``SORLIB_CACHE_DIR=off`` disables the cache.

**Housekeeping** — at most :data:`KEEP_PER_SOURCE` entries per source file are kept (the most recently
used; a read refreshes an entry's mtime); building one deletes the older ones of that file.

**Streaming build** — a Databento DBN file (no ``symbol``/``date``/extra options) is converted chunk by
chunk by :mod:`.dbn_stream` through :class:`EntryWriter` (peak anonymous memory 270–370 MB measured from 2.4 M
to 67 M MBP-10 records, of which 16 bytes per trade; the entry equals the whole-file parse array by array), and a
Databento MBP-1/MBP-10 CSV likewise by :mod:`.csv_stream`; a file they cannot convert exactly is parsed whole, as
before. The status line says ``streamed``.

**File layout** (one file ``<name>-<path hash>-<key16>.sdc`` per entry; little-endian)::

    b"SORLIBC1" | array 0 | array 1 | ... (each 64-byte aligned) | header JSON |
    footer: header offset u64, header length u64, header crc32 u32, 0 u32, b"SORLIBC1"

The header holds the full key, the metadata (report, venue names, symbol, tz, feed latencies) and per array
its offset, dtype, shape and ``crc32``. A load checks the magic at both ends, the header checksum, the
version and key, that every array lies inside the file, and every array's ``crc32`` (~2.7 GB/s, i.e.
~0.12 s per million MBP-10 rows; ``SORLIB_CACHE_VERIFY=0`` skips this one check); any mismatch means the entry
is rebuilt, never trusted. Writes go to a
temporary file in the cache folder, array by array, then ``os.replace`` — a crash leaves the old entry or
none.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import mmap
import os
import struct
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._io import file_mode
from .market import LoadReport, MarketData, Quotes, Trades

CACHE_VERSION = 1
MAGIC = b"SORLIBC1"
SUFFIX = ".sdc"
_FOOTER = struct.Struct("<QQII8s")
_ALIGN = 64
_EDGE = 1 << 20  # bytes hashed at each end of a source file
KEEP_PER_SOURCE = 4  # entries kept per source file (most recently used); older ones are deleted on a build
_COMPANIONS = (("_quote", "_trade"), ("_trade", "_quote"), ("message", "orderbook"), ("orderbook", "message"))


class CacheInvalid(Exception):
    """A cache file that must not be trusted (truncated, corrupt, another key or version)."""


@dataclass(frozen=True)
class CacheStatus:
    """How :func:`cached` obtained the data: ``action`` is ``"read"``, ``"built"``, ``"rebuilt"`` (an entry
    was invalid: ``reason``) or ``"off"``; ``path`` the cache file (None when off or unwritable)."""

    action: str
    path: Path | None = None
    reason: str = ""
    seconds: float = 0.0
    streamed: bool = False  # built chunk by chunk in bounded memory (:mod:`.dbn_stream`)

    def line(self, source: str) -> str:
        """The one line ``sorlib inspect`` / ``backtest`` print."""
        if self.action == "read":
            return f"cache: read {source} from {self.path} ({self.seconds:.2f} s)"
        if self.action in ("built", "rebuilt"):
            why = f" (the old entry was invalid: {self.reason})" if self.action == "rebuilt" else ""
            how = ", streamed" if self.streamed else ""
            return f"cache: built {self.path} from {source} ({self.seconds:.2f} s{how}){why}"
        return f"cache: not used for {source}" + (f" ({self.reason})" if self.reason else "")


# ------------------------------------------------------------------------------------------- location
def _writable_dir(d: Path) -> bool:
    a = d
    while not a.exists() and a != a.parent:
        a = a.parent
    # the write bits count even for root: a folder made read-only on purpose (shared data) is left alone
    return a.is_dir() and os.access(a, os.W_OK | os.X_OK) and bool(a.stat().st_mode & 0o222)


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/sorlib/days`` (``~/.cache/sorlib/days``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sorlib" / "days"


def cache_dir_for(path: str | Path) -> Path | None:
    """The cache folder for data file ``path`` (None when ``SORLIB_CACHE_DIR=off``); see the module doc."""
    env = os.environ.get("SORLIB_CACHE_DIR", "")
    if env.lower() in ("off", "0", "none", "false"):
        return None
    if env:
        return Path(env)
    beside = Path(path).resolve().parent / ".sorlib-cache"
    return beside if _writable_dir(beside) else user_cache_dir()


# ------------------------------------------------------------------------------------------------ key
def _fingerprint(p: Path) -> dict:
    st = p.stat()
    h = hashlib.blake2b(digest_size=16)
    with open(p, "rb") as f:
        h.update(f.read(_EDGE))
        if st.st_size > 2 * _EDGE:
            f.seek(st.st_size - _EDGE)
            h.update(f.read(_EDGE))
    return {"path": str(p.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "edges": h.hexdigest()}


def _companions(p: Path) -> list[Path]:
    out = []
    for a, b in _COMPANIONS:
        if a in p.name:
            q = p.with_name(p.name.replace(a, b))
            if q != p and q.is_file():
                out.append(q)
    return out


@functools.lru_cache(maxsize=1)
def reader_digest() -> str:
    """BLAKE2b of the source of the readers (``sorlib/data/*.py``): a changed reader or repair policy
    invalidates every entry (a development checkout never serves data parsed by older code)."""
    h = hashlib.blake2b(digest_size=16)
    for f in sorted(Path(__file__).parent.glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def cache_key(path: str | Path, options: dict) -> str:
    """Hex ``sha256`` of the version, :func:`reader_digest`, the reader ``options`` (``repr``, sorted) and
    the fingerprints of the file and its companions (size, ``mtime_ns``, head/tail hash)."""
    p = Path(path)
    files = [p, *_companions(p)]
    extra = options.get("trades_path")
    if extra:
        files.append(Path(extra))
    doc = {"v": CACHE_VERSION, "code": reader_digest(), "options": repr(sorted(options.items())),
           "files": [_fingerprint(f) for f in files]}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _source_prefix(path: str | Path) -> str:
    """``<file name>-<hash of its resolved path>``: the entries of one source file (files of one name in
    several folders, e.g. ``aig/20131007_quote.zip`` and ``ibm/20131007_quote.zip``, stay apart)."""
    p = Path(path)
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in p.name)[:80]
    return f"{stem}-{hashlib.blake2b(str(p.resolve()).encode(), digest_size=4).hexdigest()}"


def entry_path(path: str | Path, key: str, directory: Path) -> Path:
    return directory / f"{_source_prefix(path)}-{key[:16]}{SUFFIX}"


def prune(path: str | Path, directory: Path, keep: int = KEEP_PER_SOURCE) -> list[Path]:
    """Delete all but the ``keep`` most recently used entries of one source file (other reader options,
    older versions of the file or of sorlib's readers); returns the deleted paths."""
    entries = sorted(directory.glob(f"{_source_prefix(path)}-*{SUFFIX}"), key=_mtime, reverse=True)
    gone = []
    for e in entries[keep:]:
        with contextlib.suppress(OSError):
            e.unlink()
            gone.append(e)
    return gone


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


# ---------------------------------------------------------------------------------------------- write
def _arrays(md: MarketData) -> dict[str, np.ndarray]:
    q, t = md.quotes, md.trades
    out = {"q_ts": q.ts, "q_venue": q.venue, "q_bid_px": q.bid_px, "q_bid_sz": q.bid_sz, "q_ask_px": q.ask_px,
           "q_ask_sz": q.ask_sz, "t_ts": t.ts, "t_venue": t.venue, "t_price": t.price, "t_size": t.size,
           "t_side": t.side}
    if t.eligible is not None:
        out["t_eligible"] = np.asarray(t.eligible)
    return out


def _meta(md: MarketData) -> dict:
    return {"report": md.report.to_dict(), "venue_names": {str(k): v for k, v in md.venue_names.items()},
            "symbol": md.symbol, "tz": md.tz,
            "feed_latency_us": {str(k): float(v) for k, v in md.feed_latency_us.items()}}


def write_entry(md: MarketData, target: Path, key: str) -> Path:
    """Write ``md`` to ``target`` atomically (temporary file + ``os.replace``), array by array."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC)
            pos = len(MAGIC)
            index = {}
            for name, a in _arrays(md).items():
                a = np.ascontiguousarray(a)
                pad = -pos % _ALIGN
                f.write(b"\0" * pad)
                pos += pad
                buf = memoryview(a).cast("B") if a.size else b""
                f.write(buf)
                index[name] = {"offset": pos, "dtype": a.dtype.str, "shape": list(a.shape),
                               "crc32": zlib.crc32(buf)}
                pos += a.nbytes
            header = json.dumps({"version": CACHE_VERSION, "key": key, "arrays": index, "meta": _meta(md)},
                                allow_nan=False).encode()
            f.write(header)
            f.write(_FOOTER.pack(pos, len(header), zlib.crc32(header), 0, MAGIC))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


class EntryWriter:
    """Write one entry piece by piece, in bounded memory (the streaming builds: :mod:`.dbn_stream`).

    :meth:`layout` reserves each array's region for ``capacity`` rows (dtype and row shape fixed); :meth:`append`
    writes rows at the end of an array's filled part (``os.pwrite``; ``crc32`` kept running); :meth:`finish`
    writes the header (shapes = rows written, which may be fewer than the capacity: the rest of the region
    stays a hole) and the footer. The file is the same format :func:`read_entry` maps."""

    def __init__(self, f, path: Path) -> None:
        self.f, self.path, self.index, self.end = f, Path(path), {}, len(MAGIC)
        self.cap: dict[str, int] = {}
        f.write(MAGIC)
        f.flush()

    def layout(self, specs: dict[str, tuple[np.dtype, tuple[int, ...], int]]) -> None:
        """``specs``: name → (dtype, row shape, capacity rows)."""
        pos = self.end
        for name, (dt, row_shape, cap) in specs.items():
            dt = np.dtype(dt)
            pos += -pos % _ALIGN
            self.index[name] = {"offset": pos, "dtype": dt.str, "shape": [0, *row_shape], "crc32": 0}
            self.cap[name] = cap
            pos += cap * dt.itemsize * int(np.prod(row_shape, dtype=np.int64))
        self.end = pos

    def append(self, name: str, a: np.ndarray) -> None:
        spec = self.index[name]
        a = np.ascontiguousarray(a, np.dtype(spec["dtype"]))
        if list(a.shape[1:]) != spec["shape"][1:] or spec["shape"][0] + len(a) > self.cap[name]:
            raise ValueError(f"cache entry array {name}: rows {a.shape} do not fit the layout")
        if not a.size:
            return
        buf = memoryview(a).cast("B")
        row_bytes = a.nbytes // len(a)
        at = spec["offset"] + spec["shape"][0] * row_bytes
        while buf:  # pwrite may write less than asked
            k = os.pwrite(self.f.fileno(), buf, at)
            buf, at = buf[k:], at + k
        spec["crc32"] = zlib.crc32(memoryview(a).cast("B"), spec["crc32"])
        spec["shape"][0] += len(a)

    def finish(self, key: str, meta: dict) -> None:
        header = json.dumps({"version": CACHE_VERSION, "key": key, "arrays": self.index, "meta": meta},
                            allow_nan=False).encode()
        os.pwrite(self.f.fileno(), header + _FOOTER.pack(self.end, len(header), zlib.crc32(header), 0, MAGIC),
                  self.end)


def stream_entry(target: Path, key: str, stream) -> bool:
    """``stream(writer, key)`` fills an :class:`EntryWriter` on a temporary file; True when it wrote a whole
    entry (then moved to ``target`` atomically), False when it declined (nothing is left behind)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    ok = False
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as f:
            ok = bool(stream(EntryWriter(f, Path(tmp)), key))
        if ok:
            os.replace(tmp, target)
    finally:
        if not ok:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return ok


# ----------------------------------------------------------------------------------------------- read
def read_entry(target: Path, key: str | None = None, *, verify: bool = True) -> MarketData:
    """Map the entry at ``target``; :class:`CacheInvalid` when it is truncated, corrupt, of another
    version or (``key`` given) another key. ``verify`` checks every array's ``crc32``."""
    try:
        with open(target, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < len(MAGIC) + _FOOTER.size:
                raise CacheInvalid(f"truncated ({size} bytes)")
            mm = _map(f.fileno())
    except OSError as e:
        raise CacheInvalid(f"unreadable ({e.strerror or e})") from None
    hoff, hlen, hcrc, _, magic = _FOOTER.unpack_from(mm, size - _FOOTER.size)
    if mm[:len(MAGIC)] != MAGIC or magic != MAGIC:
        raise CacheInvalid("no sorlib cache magic at both ends (truncated or not a cache file)")
    if hoff + hlen != size - _FOOTER.size:
        raise CacheInvalid("footer does not match the file length (truncated)")
    header = mm[hoff:hoff + hlen]
    if zlib.crc32(header) != hcrc:
        raise CacheInvalid("header checksum mismatch (corrupt)")
    try:
        doc = json.loads(header)
    except ValueError:
        raise CacheInvalid("header is not JSON (corrupt)") from None
    if doc.get("version") != CACHE_VERSION:
        raise CacheInvalid(f"cache version {doc.get('version')} (this sorlib writes {CACHE_VERSION})")
    if key is not None and doc.get("key") != key:
        raise CacheInvalid("key mismatch (another file or other reader options)")
    arrays = {}
    for name, spec in doc["arrays"].items():
        dt, shape, off = np.dtype(spec["dtype"]), tuple(spec["shape"]), int(spec["offset"])
        count = int(np.prod(shape, dtype=np.int64))
        if off + count * dt.itemsize > hoff:
            raise CacheInvalid(f"array {name} extends past the data section (corrupt)")
        a = np.frombuffer(mm, dt, count, off).reshape(shape)
        if verify and zlib.crc32(memoryview(a).cast("B") if a.size else b"") != spec["crc32"]:
            raise CacheInvalid(f"array {name} checksum mismatch (corrupt)")
        arrays[name] = a
    return _market(arrays, doc["meta"])


def _map(fd: int) -> mmap.mmap:
    """The whole entry, private copy-on-write (writable arrays); read-only when the kernel refuses a private
    writable mapping that large (ENOMEM: without swap, one bigger than RAM — a 100 M-record MBP-10 entry is
    34 GB): the arrays are then read-only, a write raises instead of reaching the file."""
    try:
        return mmap.mmap(fd, 0, access=mmap.ACCESS_COPY)
    except OSError as e:
        if e.errno != errno.ENOMEM:
            raise
        return mmap.mmap(fd, 0, access=mmap.ACCESS_READ)


def _market(a: dict[str, np.ndarray], meta: dict) -> MarketData:
    r = meta["report"]
    report = LoadReport(source=r["source"], format=r["format"], rows_read=r["rows_read"], quote_rows=r["quote_rows"],
                        trade_rows=r["trade_rows"], repairs=dict(r["repairs"]), notes=list(r["notes"]))
    quotes = Quotes(a["q_ts"], a["q_venue"], a["q_bid_px"], a["q_bid_sz"], a["q_ask_px"], a["q_ask_sz"])
    trades = Trades(a["t_ts"], a["t_venue"], a["t_price"], a["t_size"], a["t_side"], a.get("t_eligible"))
    return MarketData(quotes, trades, report, venue_names={int(k): v for k, v in meta["venue_names"].items()},
                      symbol=meta["symbol"], tz=meta["tz"],
                      feed_latency_us={int(k): float(v) for k, v in meta["feed_latency_us"].items()})


# ---------------------------------------------------------------------------------------------- entry
def cached(path: str | Path, options: dict, build, *, directory: Path | None = None,
           verify: bool | None = None, stream=None) -> tuple[MarketData, CacheStatus]:
    """``build()`` (the full parse) once per (file, options); later calls map the stored entry.

    ``stream`` (optional, ``stream(writer, key) -> bool``): builds the entry chunk by chunk in bounded
    memory (:func:`stream_entry`); when it declines (a file it cannot convert exactly in one streaming pass)
    ``build()`` runs as usual.

    ``directory`` defaults to :func:`cache_dir_for`. An invalid entry is rebuilt; a cache folder that
    cannot be written only costs the speed-up (the status says why), never the load. ``verify`` (default:
    True unless ``$SORLIB_CACHE_VERIFY=0``) checks every array's checksum — it reads the whole entry
    (~0.2 s per GB); without it the magic, footer, header checksum, key and array bounds are still checked
    and pages are read only when used.
    """
    import time

    t0 = time.perf_counter()
    if verify is None:
        verify = os.environ.get("SORLIB_CACHE_VERIFY", "1") != "0"
    directory = directory if directory is not None else cache_dir_for(path)
    if directory is None:
        return build(), CacheStatus("off", reason="SORLIB_CACHE_DIR=off")
    if not Path(path).is_file():  # missing, a folder, a pipe (never opened here: it would block)
        return build(), CacheStatus("off", reason="not a regular file")
    try:
        key = cache_key(path, options)
    except OSError:  # missing / unreadable file: the reader reports it as a located DataError
        return build(), CacheStatus("off", reason="the file cannot be fingerprinted")
    target = entry_path(path, key, directory)
    reason = ""
    if target.is_file():
        try:
            md = read_entry(target, key, verify=verify)
            with contextlib.suppress(OSError):  # most recently used: kept by prune()
                os.utime(target)
            return md, CacheStatus("read", target, seconds=time.perf_counter() - t0)
        except CacheInvalid as e:
            reason = str(e)
    if stream is not None:
        try:
            if stream_entry(target, key, stream):
                prune(path, directory)
                md = read_entry(target, key, verify=False)  # just written and checksummed while streaming
                return md, CacheStatus("rebuilt" if reason else "built", target, reason, time.perf_counter() - t0,
                                       streamed=True)
        except OSError:  # read-only or full disk: the whole parse below reports what the write costs
            pass
    md = build()
    try:
        write_entry(md, target, key)
        prune(path, directory)
    except (OSError, ValueError) as e:  # read-only or full disk; metadata JSON cannot hold
        return md, CacheStatus("off", reason=f"cannot write {target}: {getattr(e, 'strerror', None) or e}")
    return md, CacheStatus("rebuilt" if reason else "built", target, reason, time.perf_counter() - t0)


__all__ = ["CACHE_VERSION", "KEEP_PER_SOURCE", "CacheInvalid", "CacheStatus", "EntryWriter", "cache_dir_for",
           "cache_key", "cached", "entry_path", "prune", "read_entry", "stream_entry", "user_cache_dir",
           "write_entry"]
