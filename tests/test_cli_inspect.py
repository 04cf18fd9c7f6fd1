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


def assert_clean_table_text(out: str) -> None:
    """What a CLI table must never print: NaN/NA/None cells, printed dicts, raw floats (5+ decimals) or
    share counts with decimals ("600.0"), dollars instead of USD."""
    import re

    assert not re.search(r"\bnan\b", out, re.IGNORECASE) and not re.search(r"<NA>|\bNone\b", out), out
    assert "{'" not in out and "{\"" not in out, out
    assert not re.search(r"\d\.\d{5,}", out), out
    assert "$" not in out, out


def test_inspect_table_is_in_the_house_style(mbp1_csv, capsys):
    """Venue 2 traded 21 shares and venue 39 15 (fixture rows 3-5), so their volume shares are 21/36 = 58.3 %
    and 15/36 = 41.7 %; venue 39's median spread is 222.84 − 222.80 = 0.0400 USD/share and venue 2's median
    bid 421 shares (whole numbers, no decimals). The all-venues row has no medians: em dashes, one footnote."""
    assert main(["inspect", str(mbp1_csv)]) == 0
    out = capsys.readouterr().out
    assert_clean_table_text(out)
    head = next(line for line in out.splitlines() if line.lstrip().startswith("Venue ID"))
    assert "Volume (shares)" in head and "Median spread (USD/share)" in head and "Median bid (shares)" in head
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.split()[:1] in (["2"], ["39"])}
    assert "58.3" in rows["2"] and "421" in rows["2"] and "421.0" not in out
    assert "41.7" in rows["39"] and "0.0400" in rows["39"] and "15" in rows["39"]
    total = next(line for line in out.splitlines() if "all venues" in line)
    assert total.split()[0] == "—" and "—" in total.split()[-1]
    assert any(line.startswith("— per venue only") for line in out.splitlines())
