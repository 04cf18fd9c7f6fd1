"""Where search tasks run: in this process, in local worker processes, or on a Dask cluster.

A task is ``(strategy, parent-order chunk of one day)`` and returns that chunk's per-order rows. The
market data never travels with a task: each worker loads it **once** from a small picklable
:class:`DataSpec` (file paths and format, or the synthetic generator's options) into a process-global
cache — through the process pool's ``initializer``, or a Dask ``WorkerPlugin`` (with a lazy fallback
for workers that join later). Executors yield results as tasks complete; the caller orders them, so
every executor gives the same table.

* :class:`SerialExecutor` — in this process (debugging, tests).
* :class:`ProcessExecutor` — ``concurrent.futures.ProcessPoolExecutor`` (default: 2 workers,
  ``forkserver`` start with sorlib preloaded where available).
* :class:`DaskExecutor` — a ``distributed.Client`` at an address, or ``"local-dask"`` for a
  ``LocalCluster(n_workers, threads_per_worker=1, processes=True)`` that it starts and closes.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["DaskExecutor", "DataSpec", "Executor", "ProcessExecutor", "SerialExecutor", "make_executor",
           "worker_books"]


# ------------------------------------------------------------------------------------------- data spec
def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _venues_text(venues_file: str | None) -> str:
    from importlib import resources

    text = resources.files("sorlib").joinpath("venues_default.toml").read_text()
    if venues_file is not None:
        p = Path(venues_file)
        if not p.is_file():
            raise ConfigError(f"venue file not found: {p} (give a TOML file of venue profiles)")
        text += "\n#--\n" + p.read_text()
    return text


def _file_identity(path: str) -> dict:
    p = Path(path)
    try:
        st = p.stat()
    except OSError:  # only on the workers' file system: identify it by its path alone
        return {"path": path}
    return {"path": str(p.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


@dataclass(frozen=True)
class DataSpec:
    """How a worker gets the market data: one entry per day (a file, or the synthetic day).

    ``digest`` identifies the data (file path, size and mtime; generator options and model version;
    the venue profiles) in the result store's task keys. ``kind="memory"`` holds already-built
    books; they are shipped once per worker (initializer / plugin), never with tasks.
    """

    kind: str
    paths: tuple[str, ...] = ()
    fmt: str = "auto"
    regular_hours: bool = False
    synth: tuple[tuple[str, Any], ...] = ()
    venues_file: str | None = None
    symbol: str | None = None
    digest: str = ""
    books: tuple | None = field(default=None, repr=False, compare=False)

    @classmethod
    def synthetic(cls, seed: int = 0, venues: int = 5, minutes: float = 390.0, start: str = "09:30",
                  date: str = "2024-03-15", venues_file: str | None = None,
                  regular_hours: bool = False) -> DataSpec:
        """The embedded synthetic day (:func:`sorlib.synth.default_market`, disk-cached per worker)."""
        from ..synth.cache import cache_key

        opts = (("seed", int(seed)), ("venues", int(venues)), ("minutes", float(minutes)), ("start", start),
                ("date", date))
        digest = _digest({"synth": cache_key(**dict(opts), symbol="SYNT"), "rth": regular_hours,
                          "venues": _venues_text(venues_file)})
        return cls("synthetic", synth=opts, regular_hours=regular_hours, venues_file=venues_file, digest=digest)

    @classmethod
    def files(cls, paths: Iterable[str | Path], fmt: str = "auto", regular_hours: bool = False,
              venues_file: str | None = None, symbol: str | None = None) -> DataSpec:
        """Market data files, one day each (read with :func:`sorlib.data.load`, keeping instrument ``symbol``
        when given); same paths on every worker."""
        ps = tuple(str(p) for p in paths)
        if not ps:
            raise ConfigError("no data files given; pass one or more DATA paths, or none for the synthetic day")
        ident = {"files": [_file_identity(p) for p in ps], "fmt": fmt, "rth": regular_hours,
                 "venues": _venues_text(venues_file)}
        if symbol is not None:  # absent from the key otherwise, so existing stores stay valid
            ident["symbol"] = str(symbol)
        return cls("files", paths=ps, fmt=fmt, regular_hours=regular_hours, venues_file=venues_file,
                   symbol=symbol, digest=_digest(ident))

    @classmethod
    def memory(cls, data: Iterable, venues_file: str | None = None) -> DataSpec:
        """Already-loaded days (``MarketData`` or ``Book``); hashed by content."""
        from ..engine.book import Book
        from ..venues import VenueTable

        table = VenueTable.load(venues_file)
        books = tuple(d if isinstance(d, Book) else Book.from_market(d, table) for d in data)
        h = hashlib.sha256()
        for b in books:
            for name in ("times", "venues", "row", "ask_px", "ask_sz", "bid_px", "bid_sz", "trades_ts",
                         "trades_venue", "trades_px", "trades_sz", "trades_side"):
                h.update(memoryview(getattr(b, name)).cast("B"))
            h.update(repr(b.profiles).encode())
        return cls("memory", digest=h.hexdigest()[:24], books=books)

    @property
    def days(self) -> int | None:
        """Number of days when known without loading (files: one per path; synthetic: one)."""
        return {"files": len(self.paths), "synthetic": 1}.get(self.kind, len(self.books or ()))

    def ref(self) -> DataSpec:
        """This spec without in-memory arrays: what travels with each task."""
        return replace(self, books=None)

    def describe(self) -> dict:
        if self.kind == "files":
            return {"kind": "files", "paths": list(self.paths), "format": self.fmt,
                    "regular_hours": self.regular_hours}
        if self.kind == "synthetic":
            return {"kind": "synthetic", **dict(self.synth)}
        return {"kind": "memory", "days": len(self.books or ())}

    def load(self) -> tuple:
        """Build the :class:`~sorlib.engine.Book` of every day (what workers cache)."""
        if self.kind == "memory":
            if self.books is None:
                raise RuntimeError("in-memory data was not preloaded on this worker")
            return self.books
        from ..engine.book import Book
        from ..venues import VenueTable

        table = VenueTable.load(self.venues_file)
        if self.kind == "synthetic":
            from ..synth import default_market

            mds = [default_market(**dict(self.synth))]
            if self.regular_hours:
                mds = [md.regular_hours() for md in mds]
            return tuple(Book.from_market(md, table) for md in mds)
        if len(self.paths) > resident_days():  # many days: each loaded when a task needs it (bounded memory)
            return _LazyDays(self, table)
        return tuple(self.day_book(i, table) for i in range(len(self.paths)))

    def day_book(self, day: int, table) -> Any:
        """The :class:`~sorlib.engine.Book` of file day ``day`` (0-based), read through the day cache."""
        from ..data import load
        from ..engine.book import Book
        from ..errors import DataError, SorlibError

        try:
            md = load(self.paths[day], format=self.fmt, symbol=self.symbol)
        except SorlibError as e:  # name the day: the message travels back from a worker
            raise DataError(f"DATA day {day + 1} of {len(self.paths)}: {e}") from None
        if self.regular_hours:
            md = session_rows(md)  # md.regular_hours(), as views of the mapped day cache when it can be
        return Book.from_market(md, table)


def session_rows(md):
    """:meth:`MarketData.regular_hours <sorlib.data.market.MarketData.regular_hours>` (09:30-16:00 of every local
    day, open inclusive, close exclusive) without copying the rows it keeps when it can: the same rows, equal
    values, but ``md`` itself when every row is in session and views (slices) of its arrays when the rows in
    session are one run of time-ordered quotes and prints (a one-day file). Otherwise ``md.regular_hours()``
    (copies).

    A day read through the day cache (:mod:`sorlib.data.cache`) is memory-mapped; ``regular_hours()`` takes its
    rows by a boolean mask, a second, anonymous copy of every per-record array (about 330 bytes per MBP-10
    record) that the backtest, which keeps the data when nothing is outside the session, does not make."""
    import numpy as np
    import pandas as pd

    from ..engine.book import _sorted

    q, t = md.quotes, md.trades
    qts, tts = np.asarray(q.ts), np.asarray(t.ts)
    if qts.size + tts.size == 0:
        return md
    if not (_sorted(qts) and _sorted(tts)):
        return md.regular_hours()
    first = min(int(a[0]) for a in (qts, tts) if a.size)
    last = max(int(a[-1]) for a in (qts, tts) if a.size)
    # regular_hours() ORs [day + 09:30, day + 16:00) over the local days that hold rows; every local day from the
    # first row's to the last row's: a day without rows adds none (a row inside a day's session is on that day)
    day = pd.Timestamp(first, tz="UTC").tz_convert(md.tz).normalize()
    end = pd.Timestamp(last, tz="UTC").tz_convert(md.tz).normalize()
    spans = []
    while day <= end:
        spans.append(((day + pd.Timedelta(hours=9, minutes=30)).value, (day + pd.Timedelta(hours=16)).value))
        day = (day + pd.Timedelta(hours=36)).normalize()  # the next local day (36 h: across a DST change too)

    def run(ts):  # the rows in session as one slice (ts sorted), or None when they are not one run
        parts = [(int(np.searchsorted(ts, lo, "left")), int(np.searchsorted(ts, hi, "left"))) for lo, hi in spans]
        parts = [(a, b) for a, b in parts if b > a]
        if len(parts) > 1:
            return None
        return slice(*parts[0]) if parts else slice(0, 0)

    qs, ts_ = run(qts), run(tts)
    if qs is None or ts_ is None:
        return md.regular_hours()
    if (qs.start, qs.stop, ts_.start, ts_.stop) == (0, qts.size, 0, tts.size):
        return md  # every row in session: regular_hours() would copy them all
    return replace(md, quotes=q.take(qs), trades=t.take(ts_))


def resident_days() -> int:
    """Most file days a worker keeps built at once (``$SORLIB_WORKER_DAYS``, default 4). A search over more
    days loads each day when a task needs it (from the columnar day cache, :mod:`sorlib.data.cache`: a
    memory map, ~0.3 s per million records) and keeps the most recently used ones."""
    try:
        return max(1, int(os.environ.get("SORLIB_WORKER_DAYS", "4")))
    except ValueError:
        return 4


class _LazyDays:
    """A worker's books of a many-day file spec: ``books[day]`` builds that day on first use and keeps at
    most :func:`resident_days` days (least recently used dropped), so a worker's memory is bounded by a few
    days whatever the number of days searched."""

    def __init__(self, spec: DataSpec, table) -> None:
        self.spec, self.table = spec, table
        self.keep = resident_days()
        self._days: dict[int, Any] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.spec.paths)

    def __getitem__(self, day: int):
        day = range(len(self))[day]  # IndexError like a tuple's
        with self._lock:
            book = self._days.pop(day, None)
            if book is None:
                book = self.spec.day_book(day, self.table)
                while len(self._days) >= self.keep:
                    self._days.pop(next(iter(self._days)))
            self._days[day] = book  # most recently used last
            return book

    def __iter__(self):
        return (self[i] for i in range(len(self)))


_CACHE: dict[str, tuple] = {}
_LOCK = threading.Lock()
LOADS = {"count": 0}  # how many times this process loaded data (tests check "once per worker")


def worker_books(spec: DataSpec) -> tuple:
    """The books of ``spec`` from this process's cache, loading them on first use."""
    books = _CACHE.get(spec.digest)
    if books is None:
        with _LOCK:
            books = _CACHE.get(spec.digest)
            if books is None:
                books = spec.load()
                _CACHE[spec.digest] = books
                LOADS["count"] += 1
    return books


_MEETING = None  # this worker's copy of the pool's start-up barrier (:meth:`ProcessExecutor.start`)


def _meet(_: int = 0) -> int:
    """Wait until every worker of the pool has started and run its initializer (at most 600 s)."""
    try:
        _MEETING.wait(timeout=600)
    except threading.BrokenBarrierError:
        pass
    return os.getpid()


def _init_worker(spec: DataSpec, parent_pid: int | None = None, meeting=None) -> None:
    """Process-pool initializer: die with the parent, leave Ctrl-C to it, load the data once, warm numba.

    A data error is not raised here (that would only show as ``BrokenProcessPool``): the first task
    loads again and raises it, and the error travels back to the caller as itself.
    """
    from ..allocation import warmup
    from ..errors import SorlibError

    global _MEETING
    _MEETING = meeting
    if parent_pid is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and shuts the pool down
        die_with_parent(parent_pid)
    try:
        worker_books(spec)
    except SorlibError:
        pass
    warmup()


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")  # a zombie is dead
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return not os.path.isdir("/proc")  # no /proc entry but /proc exists: gone


def die_with_parent(parent_pid: int, poll_seconds: float = 0.5) -> None:
    """Make this worker process exit when ``parent_pid`` (the process that owns the pool) dies, even by
    SIGKILL: Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` when that process is our direct parent, and a
    daemon thread that polls it (the forkserver start method puts a server process in between)."""
    if os.getppid() == parent_pid and sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the watchdog still runs
            pass
        if os.getppid() != parent_pid:  # died between fork and prctl
            os._exit(1)

    def watch() -> None:
        while _pid_alive(parent_pid):
            time.sleep(poll_seconds)
        os._exit(1)

    threading.Thread(target=watch, name="sorlib-parent-watch", daemon=True).start()


def worker_info() -> dict:
    """This worker's pid, data-load count, days held per many-day spec and peak RSS (MB) (tests, diagnostics)."""
    import resource

    return {"pid": os.getpid(), "loads": LOADS["count"], "cached": sorted(_CACHE),
            "resident_days": {k: len(v._days) for k, v in _CACHE.items() if isinstance(v, _LazyDays)},
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


# ------------------------------------------------------------------------------------------- executors
class Executor:
    """Runs ``fn(*args)`` for many argument tuples; :meth:`imap` yields ``(index, result)`` as they finish."""

    name = "executor"
    workers = 1

    def start(self, data: DataSpec) -> None:  # noqa: B027 - optional hook
        """Make ``data`` available on every worker, loaded once per worker."""

    def imap(self, fn: Callable, args: list[tuple]) -> Iterator[tuple[int, Any]]:
        raise NotImplementedError

    def call_everywhere(self, fn: Callable) -> list:
        """``fn()`` once on every worker (diagnostics)."""
        return [fn()]

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SerialExecutor(Executor):
    """Everything in this process, in order."""

    name = "serial"

    def start(self, data: DataSpec) -> None:
        worker_books(data)

    def imap(self, fn: Callable, args: list[tuple]) -> Iterator[tuple[int, Any]]:
        for i, a in enumerate(args):
            yield i, fn(*a)


def _mp_context(method: str | None):
    if method is None:
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":  # children fork from a server that has imported the heavy modules once
        ctx.set_forkserver_preload(["sorlib.backtest", "sorlib.allocation.solver", "sorlib.search.executors"])
    return ctx


class ProcessExecutor(Executor):
    """Local worker processes (``ProcessPoolExecutor``); the initializer loads the data once per worker."""

    name = "processes"

    def __init__(self, workers: int | None = None, start_method: str | None = None) -> None:
        self.workers = int(workers or min(os.cpu_count() or 1, 2) or 1)
        self.start_method = start_method
        self._pool: ProcessPoolExecutor | None = None
        self._digest = ""

    def start(self, data: DataSpec) -> None:
        if self._pool is not None and self._digest == data.digest:
            return  # already running with this data loaded
        self.close()
        self._digest = data.digest
        ctx = _mp_context(self.start_method)
        meeting = ctx.Barrier(self.workers)
        self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init_worker,
                                         initargs=(data, os.getpid(), meeting))
        # Start every worker now and wait until each has run its initializer: the pool spawns workers lazily,
        # and one still starting when Ctrl-C ends the parent dies unpickling the pool's (unlinked) semaphores
        # with a traceback on the user's terminal. One barrier task per worker: none can take two.
        list(self._pool.map(_meet, range(self.workers)))

    def imap(self, fn: Callable, args: list[tuple]) -> Iterator[tuple[int, Any]]:
        assert self._pool is not None, "call start() first"
        futures: dict[Future, int] = {self._pool.submit(fn, *a): i for i, a in enumerate(args)}
        try:
            for f in as_completed(futures):
                yield futures[f], f.result()
        finally:
            for f in futures:
                f.cancel()

    def call_everywhere(self, fn: Callable) -> list:
        assert self._pool is not None, "call start() first"
        return list(self._pool.map(_call, [fn] * (4 * self.workers)))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is not None and self._pool is not None:  # interrupted or failed: stop the workers now
            for proc in list(getattr(self._pool, "_processes", {}).values()):
                proc.terminate()
        self.close()


def _call(fn: Callable):
    return fn()


class DaskExecutor(Executor):
    """A Dask ``distributed`` cluster: ``"local-dask"`` starts a ``LocalCluster``, else ``address`` is joined.

    Data reach the workers through a ``WorkerPlugin`` that loads the :class:`DataSpec` once per worker
    (workers joining later run it too); tasks carry only the spec's small reference.
    """

    name = "dask"

    def __init__(self, address: str = "local-dask", workers: int | None = None) -> None:
        self.address = address
        self.workers = int(workers or 2)
        self._client = None
        self._cluster = None

    def start(self, data: DataSpec) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - dask[distributed] is a dependency
            raise ConfigError("the Dask scheduler needs 'dask[distributed]': pip install 'dask[distributed]'") from None
        if self._client is None:
            if self.address == "local-dask":
                # ":0": the dashboard on a free port (None falls back to the fixed 8787, which a second run
                # on the same machine finds taken: a warning)
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                             dashboard_address=":0")
                self._client = Client(self._cluster)
            else:
                try:
                    self._client = Client(self.address, timeout="10s")
                except (OSError, TimeoutError) as e:
                    raise ConfigError(f"cannot reach the Dask scheduler at {self.address} ({e}); start it with "
                                      "'dask scheduler' and workers with 'dask worker ADDRESS'") from None
                self.workers = max(len(self._client.scheduler_info().get("workers", {})), 1)
        self._client.register_plugin(_DataPlugin(data), name=f"sorlib-data-{data.digest}")

    def imap(self, fn: Callable, args: list[tuple]) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed

        assert self._client is not None, "call start() first"
        futures = [self._client.submit(fn, *a, pure=False) for a in args]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for f in as_completed(futures):
                yield index[f.key], f.result()
        finally:
            self._client.cancel([f for f in futures if not f.done()])

    def call_everywhere(self, fn: Callable) -> list:
        assert self._client is not None, "call start() first"
        return list(self._client.run(fn).values())

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


try:  # the plugin class needs distributed; the rest of this module does not
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except ImportError:  # pragma: no cover
    _WorkerPlugin = object  # type: ignore[assignment,misc]


class _DataPlugin(_WorkerPlugin):  # type: ignore[misc,valid-type]
    """Loads a :class:`DataSpec` into the worker's cache when the worker starts (or joins)."""

    def __init__(self, spec: DataSpec) -> None:
        self.spec = spec

    def setup(self, worker) -> None:
        _init_worker(self.spec)


def make_executor(scheduler: str | Executor = "processes", workers: int | None = None) -> Executor:
    """``"serial"``, ``"processes"`` (default), ``"local-dask"``, or a Dask scheduler address
    (``tcp://host:8786``); an :class:`Executor` is returned as is."""
    if isinstance(scheduler, Executor):
        return scheduler
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}")
    if scheduler == "serial":
        return SerialExecutor()
    if scheduler == "processes":
        return ProcessExecutor(workers)
    if scheduler == "local-dask":
        return DaskExecutor("local-dask", workers)
    if "://" in scheduler or (":" in scheduler and scheduler.rsplit(":", 1)[1].isdigit()):
        return DaskExecutor(scheduler, workers)
    raise ConfigError(f"unknown scheduler {scheduler!r}: use serial, processes, local-dask or a Dask "
                      "scheduler address such as tcp://host:8786")
