"""The bad-input catalogue (issue 10): every case ends in a one-line error or a counted repair.

No case may end in a traceback, a hang or a silent wrong number. Cases live in ``tests/badcases/``.
"""

from __future__ import annotations

import re

import pytest
from badcases import Case
from badcases.cli import CASES as CLI_CASES
from badcases.data import CASES as DATA_CASES

from sorlib.cli import main

ALL: list[Case] = DATA_CASES + CLI_CASES


def test_catalogue_size_and_ids():
    ids = [c.id for c in ALL]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert len(ALL) >= 60
    commands = {c.id.split("-", 1)[0] for c in ALL}
    assert {"inspect", "backtest", "search", "synth", "report"} <= commands


@pytest.mark.parametrize("case", ALL, ids=[c.id for c in ALL])
def test_bad_input(case: Case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = case.build(tmp_path)
    try:  # any other exception escaping here is a traceback for the user: the test fails
        rc = main(argv)
    except SystemExit as e:  # argparse's own exit
        rc = e.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if case.outcome == "error":
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert rc == 2, f"exit {rc}; stderr: {err!r}"
        assert len(lines) == 1 and lines[-1].startswith(f"sorlib {argv[0]}: error: "), err
        assert re.search(case.match, lines[-1], re.I), f"{lines[-1]!r} does not match {case.match!r}"
        assert "np.float64" not in err and "np.int64" not in err
    else:
        assert rc == 0, f"exit {rc}; stderr: {err!r}"
        if case.match:
            assert re.search(case.match, out + err, re.I), f"output does not match {case.match!r}"


# ------------------------------------------------------------------------ sorlib verdict (issue 17 item 4)
VERDICT_CASES = [
    (["verdict", "--variants", "frozen,bogus"], r"--variants: unknown variant\(s\) bogus; use 'all' or some of"),
    (["verdict", "--variants", "frozen,frozen"], r"--variants: frozen given twice"),
    (["verdict", "--variants", ""], r"--variants: give 'all' or comma-separated names"),
    (["verdict", "--fold-by", "day"], r"--fold-by day with 4 folds needs at least 5 DATA files"),
    (["verdict", "--scheduler", "serial", "--workers", "2"], r"--workers applies only to"),
    (["verdict", "--date", "2013-10-07"], r"--date does not apply to 'sorlib verdict'"),
    (["verdict", "missing-a.csv", "missing-b.csv", "--fold-by", "order"], r"DATA day 1 of 2: missing-a.csv: no such"),
    (["verdict", "--folds", "0"], r"--folds: must be a whole number"),
    (["verdict", "--mode", "bogus"], r"--mode: invalid choice"),
]


@pytest.mark.parametrize(("argv", "match"), VERDICT_CASES, ids=[" ".join(a[1:]) or "empty" for a, _ in VERDICT_CASES])
def test_verdict_bad_input_is_one_line(argv, match, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        rc = main(argv)
    except SystemExit as e:
        rc = e.code
    out, err = capsys.readouterr()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2 and "Traceback" not in out + err
    assert len(lines) == 1 and lines[0].startswith("sorlib verdict: error: "), err
    assert re.search(match, lines[0]), lines[0]


# ------------------------------------------------------------------ issue 21: valid input that was rejected
import csv  # noqa: E402
import os  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from conftest import MBP1_HEADER, mbp1_row  # noqa: E402

from sorlib.data import load  # noqa: E402
from sorlib.errors import ConfigError  # noqa: E402

T21 = "2024-08-01T13:36:{:02d}.000000000Z"
#: three two-sided records on venues 2 and 39 (bid/ask 10.00 x 10.02, 10.01 x 10.03, then 10.00 x 10.03)
ROWS21 = [mbp1_row(T21.format(0), 2, "A", "B", "10.00", 100, "10.00", "10.02", 100, 200, 1),
          mbp1_row(T21.format(1), 39, "A", "A", "10.03", 300, "10.01", "10.03", 400, 300, 2),
          mbp1_row(T21.format(2), 2, "C", "A", "10.02", 200, "10.00", "", 100, 0, 3)]


def _write_rows(path: Path, header: list[str], rows: list[list[str]], quoting=csv.QUOTE_MINIMAL) -> Path:
    with open(path, "w", newline="") as f:
        csv.writer(f, quoting=quoting, lineterminator="\n").writerows([header, *rows])
    return path


def _same_quotes(a, b) -> None:
    for f in ("ts", "venue", "bid_px", "ask_px", "bid_sz", "ask_sz"):
        np.testing.assert_array_equal(getattr(a.quotes, f), getattr(b.quotes, f), err_msg=f)


def test_rfc4180_every_field_quoted_loads_like_the_plain_file(tmp_path):
    """QUOTE_ALL: every field and header name in double quotes, an empty field written as ``""``. RFC 4180
    reads ``""`` as an empty field, i.e. the missing ask of record 3; the arrays equal the unquoted file's."""
    plain = load(_write_rows(tmp_path / "plain.csv", MBP1_HEADER, ROWS21))
    quoted_path = _write_rows(tmp_path / "quoted.csv", MBP1_HEADER, ROWS21, csv.QUOTE_ALL)
    assert quoted_path.read_text().splitlines()[0].startswith('"ts_recv","ts_event"')
    assert ',"",' in quoted_path.read_text()
    quoted = load(quoted_path)
    _same_quotes(quoted, plain)
    assert np.isnan(quoted.quotes.ask_px[2, 0]) and quoted.quotes.bid_px[2, 0] == 10.00


def test_rfc4180_quoted_field_holding_a_comma_and_quotes(tmp_path):
    """An extra column whose quoted values hold a comma and a doubled quote (the value a, "b" is written
    as a quoted field with the inner quotes doubled) and a quoted header name with a comma: the rows still
    have 21 fields, and the 20 known columns read as without the extra column."""
    header = [*MBP1_HEADER, "note, free text"]
    rows = [[*r, 'a, "b"'] for r in ROWS21]
    p = _write_rows(tmp_path / "comma.csv", header, rows)
    assert '"a, ""b"""' in p.read_text() and '"note, free text"' in p.read_text()
    _same_quotes(load(p), load(_write_rows(tmp_path / "plain.csv", MBP1_HEADER, ROWS21)))


def test_single_data_row_loads_and_backtests(tmp_path, capsys):
    """One two-sided record (bid 10.00 x ask 10.02 on venue 2) is a valid file: it loads (1 quote row,
    thin notes) and a backtest runs on it (one parent order at that record)."""
    p = _write_rows(tmp_path / "one.csv", MBP1_HEADER, ROWS21[:1])
    md = load(p)
    assert len(md.quotes) == 1 and md.quotes.ask_px[0, 0] == 10.02 and md.quotes.bid_px[0, 0] == 10.00
    assert main(["backtest", str(p), "--out", str(tmp_path / "r.json"), "--no-progress"]) == 0
    assert "over 1 parent order(s)" in capsys.readouterr().out


def test_databento_dbeq_basic_mbp1_fixture_loads_but_is_not_routed(capsys):
    """The real DBEQ.BASIC MBP-1 fixture (4 records: three book clears on venues 39, 40, 42, then one ask
    of 2,100 at 314.62 on venue 40 — never a bid) is a valid file: load() and ``inspect`` read it with a
    note; routing it (``backtest``) is a one-line error, since there is nothing to trade against."""
    root = os.environ.get("SORLIB_REAL_DATA")
    if not root:
        pytest.skip("SORLIB_REAL_DATA is not set")
    p = Path(root) / "databento_fixtures/DBEQ.BASIC/test_data.mbp-1.dbn.zst"
    md = load(p)
    q = md.quotes
    assert len(q) == 4 and sorted(set(q.venue.tolist())) == [39, 40, 42] and md.symbol == "QQQ"
    assert np.nanmax(q.ask_px[:, 0]) == 314.62 and np.isnan(q.bid_px).all()
    assert any(n.startswith("no two-sided quote") for n in md.report.notes)
    assert main(["inspect", str(p)]) == 0
    assert "note: no two-sided quote" in capsys.readouterr().out
    assert main(["backtest", str(p), "--out", "r.json"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no two-sided quote" in err[0]


@pytest.mark.parametrize("argv", [["synth", "--minutes", "2", "--out", "s.csv"],
                                  ["backtest", "--horizon", "2", "--out", "r.json", "--no-progress"]])
def test_largest_seed_is_accepted_and_one_more_is_not(argv, tmp_path, monkeypatch, capsys):
    """Seeds are 0..2**32-1: 4,294,967,295 runs; 4,294,967,296 is a one-line error."""
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--seed", "4294967295"]) == 0
    capsys.readouterr()
    try:
        rc = main([*argv, "--seed", "4294967296"])
    except SystemExit as e:  # argparse's own exit
        rc = e.code
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--seed" in err[0] and "4,294,967,295" in err[0]


def test_venue_file_naming_an_absent_venue_is_an_error_naming_those_present(tmp_path):
    """The data have venues 2 and 39; a file listing venue 4 is refused, naming 2 and 39."""
    from sorlib.venues import VenueTable

    f = tmp_path / "v.toml"
    f.write_text("[venue.4]\ntaker_fee = 0.001\n[venue.2]\ntaker_fee = 0.002\n")
    table = VenueTable.load(f)
    with pytest.raises(ConfigError, match=r"lists venue\(s\) 4 that the data do not contain "
                                          r"\(venues present: 2 \(XNAS\), 39\)"):
        table.require_present([39, 2], {2: "XNAS"})
    VenueTable.load(tmp_path / "v.toml")  # loading alone is fine (one file may serve many days)
    f.write_text("[venue.2]\ntaker_fee = 0.002\n")
    VenueTable.load(f).require_present([2, 39])  # every listed venue present: no error


def test_search_with_a_venue_absent_from_every_day_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    """The synthetic day has venues 2, 5, 6, 8, 9; a venue file listing 4 stops ``search`` with one line."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "v.toml").write_text("[venue.4]\ntaker_fee = 0.001\n")
    rc = main(["search", "--venues", "v.toml", "--horizon", "2", "--out", "o", "--no-progress"])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert rc == 2 and len(err) == 1, err
    assert re.search(r"^sorlib search: error: v\.toml lists venue\(s\) 4 that the data do not contain "
                     r"\(venues present: 2, 5, 6, 8, 9\)", err[0]), err[0]
