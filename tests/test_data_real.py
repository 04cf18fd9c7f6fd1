"""Real samples (folder from SORLIB_REAL_DATA; see its SOURCES.md): facts the readers must reproduce."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sorlib.data import load, read_dbn, venue_facts
from sorlib.engine import Book
from sorlib.errors import DataError

pytestmark = pytest.mark.real

ROOT = Path(os.environ["SORLIB_REAL_DATA"]) if os.environ.get("SORLIB_REAL_DATA") else None


@pytest.fixture(scope="module")
def real() -> Path:
    if ROOT is None:
        pytest.skip("SORLIB_REAL_DATA is not set")
    return ROOT


DB = "databento_fixtures"
# fixtures where no instant has a bid and an ask: valid files, load() reads them with a note; routing refuses them
ONE_SIDED = {f"{DB}/DBEQ.BASIC/test_data.mbp-1.dbn.zst", f"{DB}/DBEQ.BASIC/test_data.mbp-10.dbn.zst",
             f"{DB}/EQUS.MINI/test_data.bbo-1s.dbn.zst"}


# file, records, publishers, levels, trades
@pytest.mark.parametrize("rel,n,pubs,levels,trades", [
    (f"{DB}/DBEQ.BASIC/test_data.mbp-1.dbn.zst", 4, {39, 40, 42}, 1, 0),
    (f"{DB}/DBEQ.BASIC/test_data.mbp-10.dbn.zst", 4, {39, 40, 42}, 10, 0),
    (f"{DB}/DBEQ.BASIC/test_data.tbbo.dbn.zst", 4, {40}, 1, 4),
    (f"{DB}/EQUS.MINI/test_data.mbp-1.dbn.zst", 4, {95}, 1, 0),
    (f"{DB}/EQUS.MINI/test_data.tbbo.dbn.zst", 4, {95}, 1, 4),
    (f"{DB}/EQUS.MINI/test_data.bbo-1s.dbn.zst", 4, {95}, 1, 0),
    (f"{DB}/XNAS.ITCH/test_data.mbp-1.dbn.zst", 4, {2}, 1, 0),
    (f"{DB}/XNAS.ITCH/test_data.mbp-10.dbn.zst", 4, {2}, 10, 0),
    (f"{DB}/XNAS.ITCH/test_data.tbbo.dbn.zst", 4, {2}, 1, 4),
    (f"{DB}/GLBX.MDP3/test_data.mbp-1.v3.dbn.zst", 2, {1}, 1, 0),
    (f"{DB}/GLBX.MDP3/test_data.mbp-10.v3.dbn.zst", 2, {1}, 10, 0),
    (f"{DB}/GLBX.MDP3/test_data.tbbo.v3.dbn.zst", 2, {1}, 1, 2),
])
def test_databento_dbn_fixtures(real, rel, n, pubs, levels, trades):
    md = load(real / rel)
    if rel in ONE_SIDED:
        assert any(n.startswith("no two-sided quote") for n in md.report.notes), md.report.notes
        with pytest.raises(DataError, match="no two-sided quote"):
            Book.from_market(md)
    assert md.report.rows_read == n and len(md.quotes) == n and len(md.trades) == trades
    assert set(md.venues.tolist()) == pubs and md.quotes.levels == levels
    assert np.all(np.diff(md.quotes.ts) >= 0)
    venue_facts(md)  # runs on every fixture


def test_dbeq_mbp1_facts(real):
    md = load(real / DB / "DBEQ.BASIC/test_data.mbp-1.dbn.zst")  # one ask, no bid: loads, cannot be routed
    q = md.quotes
    priced = np.isfinite(q.ask_px[:, 0])
    assert priced.sum() == 1 and q.venue[priced][0] == 40
    assert q.ask_px[priced, 0][0] == 314.62 and q.ask_sz[priced, 0][0] == 2100
    assert np.isnan(q.bid_px).all() and md.symbol == "QQQ"
    assert md.venue_names == {39: "DBEQ.BASIC.XCHI", 40: "DBEQ.BASIC.XCIS", 42: "DBEQ.BASIC.EPRL"}


def test_equs_mini_best_prices(real):
    q = load(real / DB / "EQUS.MINI/test_data.mbp-1.dbn.zst").quotes
    assert np.nanmax(q.bid_px[:, 0]) == 307.89 and np.nanmin(q.ask_px[:, 0]) == 307.94
    assert 1500 in q.bid_sz[:, 0] and 600 in q.ask_sz[:, 0]
    bbo = read_dbn(real / DB / "EQUS.MINI/test_data.bbo-1s.dbn.zst").quotes  # ts_event undefined → ts_recv
    assert pd.Timestamp(int(bbo.ts[0]), tz="UTC").strftime("%H:%M:%S") == "09:33:15"


@pytest.mark.parametrize("rel", [f"{DB}/DBEQ.BASIC/test_data.trades.dbn.zst", f"{DB}/XNAS.ITCH/test_data.mbo.dbn.zst",
                                 f"{DB}/EQUS.MINI/test_data.definition.dbn.zst"])
def test_dbn_without_quotes_is_refused(real, rel):
    with pytest.raises(DataError, match="has no quote records; supported schemas"):
        load(real / rel, format="databento")  # auto-detect reads an MBO file as a book (sorlib.data.mbo)


def test_blockhouse_mbp10_csv(real):
    md = load(real / "blockhouse_xnas_arl_20250717/mbp.csv")
    assert md.report.rows_read == 3928 and len(md.quotes) == 3928 and md.quotes.levels == 10
    assert len(md.trades) == 46 and md.symbol == "ARL" and md.venues.tolist() == [2]
    # no crossed/locked book, sorted, no duplicates; file lines 3920-3922 (16:00:00.54-16:00:01.40 New York)
    # show an ask at $2,147.48 (level 1, then level 0 twice) on a ~$13 stock: emptied as stub quotes
    assert md.report.repairs == {"stub_quote": 3}
    assert np.nanmax(md.quotes.ask_px) == 21.47  # the highest real (pre-market) ask
    assert any("one venue only" in s for s in md.report.notes)
    assert md.report.format == "databento-csv/mbp-10"
    first = pd.Timestamp(int(md.quotes.ts[0]), tz="UTC")
    assert first == pd.Timestamp("2025-07-17T07:05:09.035627674Z")
    assert np.isnan(md.quotes.bid_px[0]).all()  # the R (clear) record
    assert 1 < np.nanmedian(md.quotes.bid_px[:, 0]) < 100


def test_blockhouse_mbo_is_refused_as_mbp_and_read_as_mbo(real):
    with pytest.raises(DataError, match="MBO"):
        load(real / "blockhouse_xnas_arl_20250717/mbo.csv", format="databento")
    assert load(real / "blockhouse_xnas_arl_20250717/mbo.csv").report.format == "databento-csv/mbo"


def test_l1_day_head_sample(real):
    md = load(real / "blockhouse_l1_day_excerpt/l1_day_head_sample.csv")
    assert len(md.quotes) == 5 and md.quotes.levels == 10 and md.symbol == "AAPL"
    assert md.quotes.ts[0] == pd.Timestamp("2024-08-01T13:36:32.491911683Z").value
    assert md.quotes.ts[-1] == pd.Timestamp("2024-08-01T13:36:32.491912675Z").value
    assert md.quotes.bid_px[0, 0] == 222.81 and md.quotes.ask_px[0, 0] == 222.83
    assert (md.trades.side == -1).all() and md.trades.price[0] == 222.81


# ticker/day, quote rows, RTH quote rows, trade rows, quote venues, suspicious quotes, trade price range ($)
ALGOSEEK_DAYS = [
    ("ibm/20131007", 109_067, 107_998, 24_293, "BCJKNPQWXYZ", 1, (181.0, 184.0)),
    ("ibm/20131008", 125_750, 124_242, 33_381, "BCJKMNPQWXYZ", 1, (178.0, 183.0)),
    ("ibm/20131009", 135_492, 133_896, 27_042, "BCJKNPQWXYZ", 0, (178.5, 182.5)),
    ("ibm/20131010", 105_428, 104_222, 22_415, "BCJKNPQWXYZ", 1, (182.0, 185.5)),
    ("ibm/20131011", 99_852, 98_628, 19_264, "BCJKMNPQWXYZ", 0, (183.5, 187.0)),
    ("bac/20131007", 476_855, 472_252, 88_172, "BCJKNPQWXYZ", 0, (13.5, 14.2)),
    ("aig/20131007", 1_079_935, 1_079_366, 25_351, "BCJKNPQWXYZ", 0, (48.0, 49.8)),
]


@pytest.mark.parametrize("day,nq,nq_rth,nt,qven,sus,prange", ALGOSEEK_DAYS, ids=[d[0] for d in ALGOSEEK_DAYS])
def test_algoseek_days(real, day, nq, nq_rth, nt, qven, sus, prange):
    md = load(real / "lean_algoseek_tick" / f"{day}_quote.zip")
    r = md.report
    rep = r.repairs
    assert r.format == "algoseek" and md.symbol == day.split("/")[0].upper()
    assert r.rows_read == nq + nt and len(md.trades) == nt  # no trade is flagged suspicious
    assert rep.get("suspicious_quote", 0) == sus and "suspicious_trade" not in rep
    # accounting: every quote row is the source minus counted drops plus counted expiry rows
    assert len(md.quotes) == (nq - sus - rep.get("duplicate_record", 0) - rep.get("crossed_book", 0)
                              - rep.get("locked_book", 0) + rep.get("stale_quote_expired", 0))
    assert "".join(sorted(chr(v) for v in np.unique(md.quotes.venue))) == qven
    assert {chr(v) for v in np.unique(md.trades.venue)} >= set("DNQPKZBJY")  # 13 trade venues incl. D
    assert len(np.unique(md.trades.venue)) == 13
    assert any("venue D has trades but no quotes" in s for s in r.notes)
    # times: 04:00-20:00 New York; regular hours keep 09:30-16:00
    local = pd.to_datetime(md.quotes.ts, utc=True).tz_convert("America/New_York")
    assert local.min().hour == 4 and (local.max().hour, local.max().minute) <= (20, 0)
    rth = md.regular_hours()
    rl = pd.to_datetime(rth.quotes.ts, utc=True).tz_convert("America/New_York")
    assert rl.min() >= rl.min().normalize() + pd.Timedelta(hours=9, minutes=30)
    assert rl.max() < rl.min().normalize() + pd.Timedelta(hours=16)
    # the regular-hours share of source rows (SOURCES.md) bounds the loaded rows in regular hours
    lo = nq_rth - rep.get("duplicate_record", 0) - sus
    assert lo <= len(rth.quotes) <= nq_rth + rep.get("stale_quote_expired", 0)
    lo_p, hi_p = prange
    assert lo_p <= rth.trades.price.min() and rth.trades.price.max() <= hi_p
    assert lo_p - 1 <= np.nanmin(rth.quotes.bid_px) and np.nanmax(rth.quotes.ask_px) <= hi_p + 1
    f = venue_facts(rth)
    assert abs(sum(v["quote_share"] for v in f["venues"]) - 1) < 1e-9
    nyse = next(v for v in f["venues"] if v["venue"] == ord("N"))
    assert nyse["time_at_best_bid"] > 0.2 and 0 < nyse["median_spread"] < 0.2
