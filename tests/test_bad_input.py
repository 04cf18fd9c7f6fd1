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
