"""Work done while the panel is idle: the points a slider's next key press will probably ask for.

A slider moved by arrow keys steps to a neighbouring stop, most often the next one in the same direction.
:class:`Prefetcher` runs a list of such jobs in one background thread, one after the other, while nothing
else runs; the panel's own recomputation (:meth:`Prefetcher.foreground`) always comes first: it asks the
job to stop at its next stopping point (between two parent orders) and waits for it there, then runs with the
lock held. What a stopped job had finished (whole parent orders) stays cached and is reused.

Only a panel built with widgets starts the thread (headless runs never do); it is a daemon thread and waits
on a condition when there is nothing to do.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

#: A job gets ``stop()`` (true once the foreground wants the lock) and returns nothing.
Job = Callable[[Callable[[], bool]], None]


class Prefetcher:
    """Runs :meth:`schedule`'d jobs in a background thread; :meth:`foreground` pre-empts them."""

    def __init__(self) -> None:
        self.lock = threading.RLock()  # held by whoever computes (the foreground or one job)
        self._cond = threading.Condition()
        self._jobs: list[Job] = []
        self._generation = 0
        self._thread: threading.Thread | None = None
        self.done = 0  # jobs run to the end (a count, for tests and the benchmarks)
        self.errors: list[BaseException] = []  # a job's exception (the job is dropped; the panel carries on)

    def schedule(self, jobs: list[Job], delay_s: float = 0.0) -> None:
        """Replace the pending jobs by ``jobs``, run in order while idle from ``delay_s`` seconds on (time
        for the browser to draw the last move first); starts the thread on first use."""
        with self._cond:
            self._generation += 1
            self._jobs = list(jobs)
            self._start_at = time.monotonic() + delay_s
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sorlib-prefetch", daemon=True)
                self._thread.start()
            self._cond.notify()

    def preempt(self, wait_s: float = 0.0) -> bool:
        """Drop the pending jobs and ask a running one to stop at its next stopping point; with ``wait_s`` > 0
        wait up to that many seconds for it to get there (True: no job runs any more). The foreground does not
        take :attr:`lock` unless it has to compute, but a job still running beside it shares the interpreter
        (the GIL) with it and roughly doubles a memoised move's time: a job stops within one decision of its
        replay, so waiting for it is the shorter way."""
        with self._cond:
            self._generation += 1
            self._jobs = []
            if wait_s > 0 and self._busy:
                return self._cond.wait_for(lambda: not self._busy, wait_s)
            return not self._busy

    @contextlib.contextmanager
    def foreground(self) -> Iterator[None]:
        """Hold the lock for a foreground computation: pending jobs are dropped and a running one stops at
        its next stopping point first."""
        self.preempt()
        with self.lock:
            yield

    def idle(self, timeout_s: float = 30.0) -> bool:
        """Wait until no job is pending or running (True), or ``timeout_s`` passed (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._jobs and not self._busy, timeout_s)

    _busy = False
    _start_at = 0.0

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._jobs))
                wait = self._start_at - time.monotonic()
                if wait > 0:  # woken early by a new schedule or foreground: look again
                    self._cond.wait(wait)
                    continue
                job, gen = self._jobs.pop(0), self._generation
                self._busy = True
            try:
                with self.lock:
                    if self._generation == gen:
                        job(lambda g=gen: self._generation != g)
                        self.done += 1
            except Exception as e:  # noqa: BLE001 - a failed guess must not stop the panel
                self.errors.append(e)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


__all__ = ["Job", "Prefetcher"]


def neighbour_stops(order: list[tuple[str, int]], stop: Callable[[str, int], object]) -> list[tuple[str, object]]:
    """``(slider, value)`` for each ``(slider, steps)`` of ``order`` once, in order: ``stop(slider, steps)`` is the
    value that many key presses move the slider to, ``None`` past the end of its track (left out)."""
    out, seen = [], set()
    for name, steps in order:
        if (name, steps) in seen:
            continue
        seen.add((name, steps))
        value = stop(name, steps)
        if value is not None:
            out.append((name, value))
    return out
