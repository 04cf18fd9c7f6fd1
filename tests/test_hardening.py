"""Hardening: sorlib installed where it cannot write (numba's function cache), many-order backtests.

The read-only install is reproduced for real: the ``sorlib`` package is copied to a temporary folder,
made read-only (``chmod a-w``), and run with a home whose cache folder is read-only too. As root, chmod
does not stop writes, so the run goes through ``unshare --user``: inside a new user namespace the
process keeps its real uid for ownership but loses the capability to override file modes, so the
read-only folders are read-only to it (the situation of another user). A control run of the same copy
without :func:`sorlib._numba.ensure_cache_dir` must crash with numba's "no locator available" error,
which proves the set-up reproduces the bug the fallback fixes.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import sorlib

PKG = Path(sorlib.__file__).parent

SCRIPT = """
import os, sys
sys.path.insert(0, {root!r})
import sorlib
assert sorlib.__file__.startswith({root!r}), sorlib.__file__
from sorlib.allocation import Venue, allocate
from sorlib.backtest import BacktestConfig, run_backtest
from sorlib.engine import Book
from sorlib.synth import generate_market
from sorlib.venues import default_venues
split, _ = allocate(1000, [Venue(ask=10.0, ask_size=500, fee=0.003, rebate=0.002)] * 2, 0, 0, 0)
assert list(split) == [500, 500], split
md = generate_market(seed=1, minutes=15)
table = default_venues()
res = run_backtest(Book.from_market(md, table), BacktestConfig(order_size=2000, horizon_minutes=5,
                   grid={{"lambda_over": [5.0], "lambda_under": [0.05], "theta_queue": [0.05]}}), table)
print("CACHE", os.environ.get("NUMBA_CACHE_DIR"), res.results["parent_orders"])
"""


def _unprivileged() -> list[str]:
    """Command prefix that makes file modes binding (``unshare --user`` when we run as root)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("unshare") is None:
        pytest.skip("running as root without `unshare`: cannot make a read-only folder binding")
    probe = subprocess.run(["unshare", "--user", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"running as root and user namespaces are not allowed: {probe.stderr.decode().strip()}")
    return ["unshare", "--user"]


def _read_only_copy(tmp_path: Path, with_fix: bool) -> Path:
    root = tmp_path / ("fixed" if with_fix else "unfixed")
    shutil.copytree(PKG, root / "sorlib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if not with_fix:  # the control: the package as it was before the fallback
        init = root / "sorlib" / "__init__.py"
        text = init.read_text()
        call = "\nensure_cache_dir()"
        assert text.count(call) == 1
        init.write_text(text.replace(call, "\n"))
    for p in [root, *root.rglob("*")]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return root


def _run(tmp_path: Path, with_fix: bool) -> subprocess.CompletedProcess:
    prefix = _unprivileged()
    root = _read_only_copy(tmp_path, with_fix)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    home.chmod(0o555)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "PYTHONPATH")}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), TMPDIR=str(tmpdir),
               PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([*prefix, sys.executable, "-c", SCRIPT.format(root=str(root))],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)


def _restore(tmp_path: Path) -> None:
    for p in tmp_path.rglob("*"):  # let pytest clean up
        p.chmod(p.stat().st_mode | stat.S_IWUSR)


@pytest.mark.slow
def test_read_only_install_runs_a_backtest_with_a_fallback_numba_cache(tmp_path):
    """Without the fallback the read-only copy dies on numba's cache; with it, it routes and backtests
    (allocation kernels, the view's kernels, the CK outflow) and the cache lands in ``$TMPDIR``."""
    try:
        control = _run(tmp_path, with_fix=False)
        assert control.returncode != 0 and "no locator available" in control.stderr, (
            "the set-up does not reproduce numba's crash:\n" + control.stderr[-2000:])
        fixed = _run(tmp_path, with_fix=True)
        assert fixed.returncode == 0, fixed.stderr[-3000:]
        caches = list((tmp_path / "tmp").glob("sorlib-numba-*"))  # uid as seen inside the namespace
        assert len(caches) == 1 and f"CACHE {caches[0]} 1" in fixed.stdout, fixed.stdout
        assert any(caches[0].rglob("*.nbi")), "numba wrote no cache index in the fallback folder"
    finally:
        _restore(tmp_path)


def test_numba_cache_dir_left_alone_when_writable_or_set(tmp_path, monkeypatch):
    """A writable package folder, or a user's own NUMBA_CACHE_DIR, is never overridden."""
    from sorlib._numba import ensure_cache_dir

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    pkg = tmp_path / "pkg"
    for sub in ("allocation", "ck"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    assert ensure_cache_dir(pkg) is None
    assert "NUMBA_CACHE_DIR" not in os.environ
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    (pkg / "ck" / "__pycache__").rmdir()
    (pkg / "ck" / "__pycache__").write_text("not a folder")  # in-tree caching impossible, even for root
    assert ensure_cache_dir(pkg) is None
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "mine")


def test_numba_cache_falls_back_when_the_package_folder_cannot_hold_a_cache(tmp_path, monkeypatch):
    """A ``__pycache__`` that cannot be a folder (a file in its place; binding even for root) sends the
    cache to ``$XDG_CACHE_HOME/sorlib/numba``."""
    from sorlib._numba import ensure_cache_dir

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    pkg = tmp_path / "pkg"
    (pkg / "ck").mkdir(parents=True)
    (pkg / "ck" / "__init__.py").write_text("")
    (pkg / "ck" / "__pycache__").write_text("not a folder")
    got = ensure_cache_dir(pkg)
    assert got == str(tmp_path / "cache" / "sorlib" / "numba")
    assert os.environ["NUMBA_CACHE_DIR"] == got
    import numba.core.config

    assert numba.core.config.CACHE_DIR == got
    monkeypatch.setattr(numba.core.config, "CACHE_DIR", "")


# ---------------------------------------------------------------------------------------- many orders
def _tiny_book():
    from sorlib.engine import Book
    from sorlib.synth import generate_market

    return Book.from_market(generate_market(seed=3, minutes=20))


def test_backtest_replays_each_distinct_router_once_and_matches_direct_replays(monkeypatch):
    """Grid points with equal ``decision_key()`` are replayed once. Independent check: each grid row's
    total cash equals a direct :func:`~sorlib.engine.replay` of that point's own router, every execution
    carries its own point's parameters, and the replay count is (distinct keys + 3 baselines): uncapped
    routers with the same ``lambda_under + theta_queue`` share a key (0.01 + 0.03 = 0.03 + 0.01), the
    third point (0.05 + 0.03) does not, and ``lambda_over`` never enters the key."""
    import sorlib.backtest as bt
    from sorlib.engine import replay
    from sorlib.metrics import summary

    book = _tiny_book()
    grid = {"lambda_over": [1.0, 2.0], "lambda_under": [0.01, 0.03, 0.05], "theta_queue": [0.03, 0.01]}
    cfg = bt.BacktestConfig(mode="uncapped", grid=grid, every_minutes=2, horizon_minutes=3, order_size=1500)
    calls = []
    monkeypatch.setattr(bt, "replay", lambda *a, **k: calls.append(a[1]) or replay(*a, **k))
    res = bt.run_backtest(book, cfg)
    points = bt.grid_points(grid)
    sums = {round(p["lambda_under"] + p["theta_queue"], 12) for p in points}
    assert len(sums) == 4  # 0.04 (twice), 0.02, 0.06, 0.08
    keys = {tuple(bt.router_for(cfg, p).decision_key()) for p in points}
    assert len(calls) == len(keys) + 3 < len(points) + 3
    orders = bt.parent_orders(book, cfg.order_size, cfg.every_minutes, cfg.horizon_minutes)
    for i, p in enumerate(points):
        direct = summary(replay(book, bt.router_for(cfg, p, book.profiles), orders))
        assert res.grid["total_cash"].iloc[i] == pytest.approx(direct["total_cash"], rel=0, abs=1e-9)
    assert res.router.params["lambda_over"] == res.results["best_parameters"]["lambda_over"]
    assert res.router.params["lambda_under"] == res.results["best_parameters"]["lambda_under"]


def test_backtest_progress_counts_every_grid_point_even_when_shared():
    """The tqdm total is (grid points + 3) × orders and a shared replay still advances the bar by its orders."""
    import sorlib.backtest as bt

    book = _tiny_book()
    cfg = bt.BacktestConfig(grid={"lambda_over": [1.0, 2.0], "lambda_under": [0.01], "theta_queue": [0.01]},
                            every_minutes=3, horizon_minutes=3, order_size=1000)
    n = len(bt.parent_orders(book, cfg.order_size, cfg.every_minutes, cfg.horizon_minutes))
    seen = {}

    class Bar:
        def __init__(self, total, **kw):
            seen["total"], seen["n"] = total, 0

        def update(self, k=1):
            seen["n"] += k

        def close(self):
            pass

    import tqdm.auto

    orig = tqdm.auto.tqdm
    tqdm.auto.tqdm = Bar
    try:
        bt.run_backtest(book, cfg, progress=True)
    finally:
        tqdm.auto.tqdm = orig
    assert seen == {"total": 5 * n, "n": 5 * n}


# ----------------------------------------------------------------------------------------- Dask ports
def test_local_dask_takes_a_free_dashboard_port_when_8787_is_taken(recwarn):
    """Two runs on one machine: with 8787 held, the local cluster's dashboard goes to another free port
    without distributed's "Port 8787 is already in use" warning."""
    import socket

    from sorlib.search.executors import DaskExecutor
    from sorlib.search.run import data_spec

    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        holder.bind(("", 8787))
        holder.listen()
    except OSError:
        pass  # already taken by someone else: the situation under test all the same
    ex = DaskExecutor("local-dask", workers=1)
    try:
        ex.start(data_spec(None, seed=0))
        link = ex._cluster.dashboard_link
        assert ":8787/" not in link, link
    finally:
        ex.close()
        holder.close()
    assert not [w for w in recwarn if "8787" in str(w.message)]
