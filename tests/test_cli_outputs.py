"""Outputs and processes of the command line: atomic and consistent output folders, a full disk, file
modes, Ctrl-C, and search workers that die with their parent. Subprocess tests are bounded in time."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sorlib import _io
from sorlib.cli import main

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _descendants(pid: int) -> list[int]:
    parent: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    out, todo = [], [pid]
    while todo:
        me = todo.pop()
        kids = [c for c, p in parent.items() if p == me]
        out += kids
        todo += kids
    return out


def _start_search(tmp_path: Path, *extra: str) -> subprocess.Popen:
    """A search long enough (300 random points, minutes of work) that the tests' signals always reach it
    mid-run: a 27-point search could finish between the readiness check and the signal and exit 0 during
    interpreter shutdown (seen in a fresh-clone CI run once the replay got faster)."""
    argv = [sys.executable, "-m", "sorlib.cli", "search", "--mode", "uncapped", "--every", "1", "--random", "300",
            "--out", str(tmp_path / "o"), "--no-progress", *extra]
    # SIGINT at its default, as a terminal starts a command: a child inherits an ignored SIGINT, and then
    # Python installs no KeyboardInterrupt handler (two fresh-clone runs saw the search ignore the signal when
    # the test process had SIGINT ignored).
    return subprocess.Popen(argv, cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for(cond, timeout: float) -> bool:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if cond():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigkill_of_search_leaves_no_worker_process(tmp_path):
    p = _start_search(tmp_path)
    kids: list[int] = []
    try:
        # the pool is up once the first task is stored (workers + forkserver + resource tracker)
        assert _wait_for(lambda: any((tmp_path / "o" / "store" / "parts").glob("*/*.json")), 60), \
            p.stderr.read() if p.poll() is not None else "no task finished in 60 s"
        kids = _descendants(p.pid)
        assert len(kids) >= 2, kids
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
        assert _wait_for(lambda: not any(_alive(k) for k in kids), 10), \
            f"still running after the parent was killed: {[k for k in kids if _alive(k)]}"
    finally:
        for k in [p.pid, *_descendants(p.pid), *kids]:
            if _alive(k):
                os.kill(k, signal.SIGKILL)
        p.wait(10)


def _ignores_sigint(pid: int) -> bool:
    """True when process ``pid`` has SIGINT ignored (``SigIgn`` in /proc/PID/status: bit 1 = signal 2)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            line = next(ln for ln in f if ln.startswith("SigIgn:"))
    except (OSError, StopIteration):
        return True  # gone: nothing left to interrupt
    return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))


def _ready_for_ctrl_c(p: subprocess.Popen, store: Path) -> bool:
    """The search is mid-run and every helper process is past its start-up: a task is stored, and each
    descendant (pool workers, forkserver, resource tracker) has set SIGINT to ignored, so the terminal's
    Ctrl-C reaches only the parent. A worker still importing would print its own KeyboardInterrupt."""
    kids = _descendants(p.pid)
    return (p.poll() is None and any((store / "parts").glob("*/*.json")) and len(kids) >= 2
            and all(_ignores_sigint(k) for k in kids) and not (store.parent / "summary.json").exists())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_during_search_is_one_line_and_exit_130(tmp_path):
    p = _start_search(tmp_path)
    try:  # a readiness signal (state read from /proc), not a sleep: robust on a busy machine
        assert _wait_for(lambda: _ready_for_ctrl_c(p, tmp_path / "o" / "store"), 120), \
            p.stderr.read() if p.poll() is not None else "the search's workers were not ready within 120 s"
        os.killpg(p.pid, signal.SIGINT)  # what a terminal does: the whole process group
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)
    assert p.returncode == 130, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines == [f"sorlib search: interrupted; finished tasks are kept in {tmp_path / 'o' / 'store'}; "
                     "run the same command again to resume"], err
    assert not (tmp_path / "o" / "summary.json").exists()


_WRITER = r"""
import sys, pandas as pd
from sorlib.search.run import SearchResult, write_outputs
tag, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    res = SearchResult(table=pd.DataFrame({"tag": [tag] * 50, "i": range(50)}),
                       grid=pd.DataFrame({"tag": [tag], "i": [i]}), summary={"tag": tag, "i": i}, space=None)
    write_outputs(res, out)
"""


def _consistent(out: Path) -> bool:
    import hashlib

    s = json.loads((out / "summary.json").read_text())
    return all(hashlib.sha256((out / name).read_bytes()).hexdigest() == h for name, h in s["run"]["sha256"].items())


def test_two_writers_of_one_out_folder_never_mix_their_files(tmp_path):
    out = tmp_path / "o"
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, tag, str(out), "60"], env=ENV)
             for tag in ("A", "B")]
    seen, mixed = 0, 0  # a reader that honours the folder's lock sees one run's files, or no summary
    t0 = time.monotonic()
    while any(p.poll() is None for p in procs) and time.monotonic() - t0 < 120:
        if (out / "summary.json").exists():
            with _io.dir_lock(out):
                if (out / "summary.json").exists():
                    seen += 1
                    mixed += not _consistent(out)
        time.sleep(0.002)
    for p in procs:
        assert p.wait(120) == 0
    assert mixed == 0, f"{mixed} of {seen} reads mixed two runs' files"
    s = json.loads((out / "summary.json").read_text())
    import pandas as pd

    assert set(pd.read_csv(out / "grid.csv")["tag"]) == {s["tag"]}
    assert set(pd.read_parquet(out / "results.parquet")["tag"]) == {s["tag"]}
    assert _consistent(out)
    assert not list(out.glob(".*.tmp"))


def _enospc_on(call: int):
    calls = {"n": 0}
    real = _io._write_all

    def write(f, data):
        calls["n"] += 1
        if calls["n"] == call:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(f, data)
    return write


def test_full_disk_during_search_outputs_is_one_line_and_leaves_no_summary(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["search", "--every", "120", "--horizon", "5", "--scheduler", "serial", "--out", "o"]
    assert main(argv) == 0
    first = json.loads((tmp_path / "o" / "summary.json").read_text())["run"]["id"]
    out = capsys.readouterr().out
    assert out.startswith("search: ") and "task(s) to run" in out  # the progress line when not a terminal
    # the rerun reuses every task; the 2nd output file (grid.csv) hits a full disk
    monkeypatch.setattr(_io, "_write_all", _enospc_on(2))
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sorlib search: error: cannot write o/grid.csv: no space left"), err
    assert not (tmp_path / "o" / "summary.json").exists()  # the folder does not look complete
    assert not list((tmp_path / "o").glob(".*.tmp"))
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 0 and _consistent(tmp_path / "o")
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["run"]["id"] != first


def test_full_disk_during_backtest_leaves_the_old_results(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.json").write_text("old")
    monkeypatch.setattr(_io, "_write_all", _enospc_on(1))
    assert main(["backtest", "--horizon", "2", "--out", "r.json"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["sorlib backtest: error: cannot write r.json: no space left on device; free some space or "
                   "choose another output path"]
    assert (tmp_path / "r.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_outputs_honour_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        p = _io.atomic_write_text(tmp_path / "x.json", "{}")
    finally:
        os.umask(old)
    assert p.stat().st_mode & 0o777 == mode


def test_output_checks_name_the_option_and_the_blocking_file(tmp_path):
    from sorlib.errors import OutputError

    blocker = tmp_path / "f"
    blocker.write_text("x")
    with pytest.raises(OutputError, match=r"--plots .*/f/a/b: .*/f is a regular file, not a folder"):
        _io.check_output_dir(blocker / "a" / "b", "--plots")
    with pytest.raises(OutputError, match="is a directory"):
        _io.check_output_file(tmp_path, "--out")
    assert _io.check_output_file(tmp_path / "new" / "deeper" / "r.json") == tmp_path / "new" / "deeper" / "r.json"
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_report_publish_swaps_the_page_set(tmp_path):
    """The pages of a report replace the previous report's as one set: stale pages go, index.html last."""
    from sorlib import report

    out = tmp_path / "out"
    out.mkdir()
    for name in ("index.html", "01_a.html", "01_a.ipynb", "99_old.html", "notes.txt"):
        (out / name).write_text("old")
    (out / report._MANIFEST).write_text(json.dumps({"files": ["01_a.html", "01_a.ipynb", "99_old.html",
                                                             "index.html"]}))
    (out / "01_a.failed.ipynb").write_text("old failure")
    stage = out / ".staging-1-x"
    stage.mkdir()
    for name in ("01_a.html", "01_a.ipynb"):
        (stage / name).write_text("new")
    res = report.ReportResult(out=out, index=out / "index.html", index_text="new index")
    report._publish(stage, out, res)
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == ["01_a.html", "01_a.ipynb", "index.html", "notes.txt"]  # not ours: kept
    assert {n: (out / n).read_text() for n in names} == {"01_a.html": "new", "01_a.ipynb": "new",
                                                         "index.html": "new index", "notes.txt": "old"}
    assert json.loads((out / report._MANIFEST).read_text())["files"] == ["01_a.html", "01_a.ipynb", "index.html"]


def test_backtest_warning_lines():
    from sorlib.cli.backtest import result_warnings

    r = {"parent_orders": 3, "unplaced_orders": [{"arrival": "2024-03-15T15:55:00", "reason": "after the last quote"},
                                                 {"arrival": "2024-03-15T15:56:00", "reason": "after the last quote"},
                                                 {"arrival": "2024-03-15T09:30:00", "reason": "no quotes yet"}],
         "cleanup_beyond_book_shares": {"router": 0, "twap": 1200}}
    assert result_warnings(r, "r.json") == [
        "3 of 6 parent orders not placed: after the last quote x2, no quotes yet x1; see r.json",
        "clean-up bought shares past the visible book (priced at the worst visible ask + 1 tick): twap 1,200 "
        "shares; see r.json"]
    assert result_warnings({"parent_orders": 3}, "r.json") == []  # before the backtest adds these keys


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigkill_of_report_leaves_no_kernel_and_no_page(tmp_path):
    """``sorlib report`` killed while a notebook runs: its kernel goes with it, and the output folder holds
    no page (the pages are staged and only moved in when every notebook has run)."""
    p = subprocess.Popen([sys.executable, "-m", "sorlib.cli", "report", "--allow-modified", "--out", str(tmp_path / "o")],
                         cwd=tmp_path, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    kids: list[int] = []
    try:
        assert _wait_for(lambda: bool(_descendants(p.pid)), 60), "no kernel started in 60 s"
        time.sleep(1.0)
        kids = _descendants(p.pid)
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
        assert _wait_for(lambda: not any(_alive(k) for k in kids), 20), \
            f"still running after the report was killed: {[k for k in kids if _alive(k)]}"
        assert not list((tmp_path / "o").glob("*.html"))
    finally:
        for k in [p.pid, *kids]:
            if _alive(k):
                os.kill(k, signal.SIGKILL)
