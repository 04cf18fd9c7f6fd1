"""A search over 20 file days on ``local-dask``: every task reads its day through the day cache, each worker
keeps at most ``SORLIB_WORKER_DAYS`` days built, and the results equal the ``processes`` scheduler's and the
``serial`` one's bit for bit (the serial run holds every day: ``SORLIB_WORKER_DAYS`` above the day count)."""

from __future__ import annotations

import pandas as pd
import pytest

from sorlib.backtest import BacktestConfig
from sorlib.search import run_search
from sorlib.search.executors import DaskExecutor, worker_info
from sorlib.synth import generate_market, write_databento_mbp1_csv

DAYS = 20


@pytest.fixture(scope="module")
def days(tmp_path_factory) -> list[str]:
    d = tmp_path_factory.mktemp("days")
    return [str(write_databento_mbp1_csv(generate_market(venues=3, seed=s, minutes=30,
                                                         date=f"2024-03-{1 + s:02d}"), d / f"day{s:02d}.csv"))
            for s in range(DAYS)]


def _search(days, scheduler, **kw):
    cfg = BacktestConfig(order_size=3000, every_minutes=10.0, horizon_minutes=5.0)
    return run_search(days, grid={"lambda_over": [0.0, 0.05], "lambda_under": [0.0, 0.05], "theta_queue": [0.0]}, config=cfg,
                      scheduler=scheduler, workers=2, chunk_orders=2, progress=False, **kw)


@pytest.mark.slow
def test_twenty_days_local_dask_equals_processes_and_serial(days, tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setenv("SORLIB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SORLIB_WORKER_DAYS", "100")
    serial = _search(days, "serial")
    monkeypatch.setenv("SORLIB_WORKER_DAYS", "2")
    procs = _search(days, "processes")
    ex = DaskExecutor("local-dask", workers=2)
    try:
        dask = _search(days, ex)
        infos = ex.call_everywhere(worker_info)
    finally:
        ex.close()
    assert serial.table["day"].nunique() == DAYS
    for other in (procs, dask):
        pd.testing.assert_frame_equal(serial.table, other.table, check_exact=True)
        pd.testing.assert_frame_equal(serial.grid, other.grid, check_exact=True)
        assert serial.summary["best_parameters"] == other.summary["best_parameters"]
    # every worker held at most 2 of the 20 days (the lazy many-day store), and each loaded the spec once
    held = [n for info in infos for n in info["resident_days"].values()]
    assert held and max(held) <= 2, infos
    assert all(info["loads"] == 1 for info in infos), infos
    # the days were read through the day cache (one entry per day file)
    assert len(list((tmp_path / "cache").glob("*.sdc"))) == DAYS
