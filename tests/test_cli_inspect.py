"""``sorlib inspect``: text and JSON output, one-line errors."""

from __future__ import annotations

import json

from sorlib.cli import main


def test_inspect_text(mbp1_csv, capsys):
    assert main(["inspect", str(mbp1_csv)]) == 0
    out = capsys.readouterr().out
    assert "rows read: 6" in out and "repairs: none" in out
    assert "XNAS.ITCH" in out and "DBEQ.BASIC.XCHI" in out and "symbol: AAPL" in out


def test_inspect_json(mbp1_csv, capsys):
    assert main(["inspect", str(mbp1_csv), "--json", "--format", "databento"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["report"]["rows_read"] == 6 and doc["report"]["trade_rows"] == 3
    assert [v["venue"] for v in doc["venues"]] == [2, 39]
    v39 = doc["venues"][1]
    assert v39["trades"] == 2 and v39["volume"] == 15 and abs(v39["median_spread"] - 0.04) < 1e-9
    assert doc["totals"]["quote_updates"] == 6


def test_inspect_regular_hours(mbp1_csv, capsys):
    # 13:36 UTC = 09:36 New York: inside regular hours
    assert main(["inspect", str(mbp1_csv), "--json", "--regular-hours"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["regular_hours"] is True and doc["totals"]["quote_updates"] == 6


def test_inspect_error_is_one_line(write_csv, capsys):
    p = write_csv("bad.csv", ["ts_event", "x"], [["1", "2"]])
    assert main(["inspect", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sorlib inspect: error:" in err and "missing required column(s)" in err
