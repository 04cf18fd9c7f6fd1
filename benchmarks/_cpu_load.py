"""One extra CPU-bound process for the slider benchmarks' ``--load`` (issue 22: latency measured with the
machine also running one other CPU-bound process), and the load line their output starts with."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

#: A pure-Python busy loop (one core's worth of work; not pinned to any core).
_BUSY = "while True:\n    pass\n"


def load_text() -> str:
    """``"load average 1.52 / 1.37 / 1.40 (1, 5, 15 min) on 2 CPUs"``."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1, 5, 15 min) on {os.cpu_count()} CPUs"


@contextlib.contextmanager
def cpu_load(on: bool) -> Iterator[str]:
    """With ``on``: a busy-loop Python process runs for the whole block (stopped at its end, also on errors);
    yields a line describing the load (the busy loop's pid, or "none", and the load average then)."""
    if not on:
        yield f"extra load: none; {load_text()}"
        return
    proc = subprocess.Popen([sys.executable, "-c", _BUSY], stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        yield f"extra load: one CPU-bound busy-loop process (pid {proc.pid}, not pinned); {load_text()} at start"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
