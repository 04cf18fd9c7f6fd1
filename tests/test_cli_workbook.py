"""CLI behaviours of issue 22: help without doubled defaults, regular hours auto, piped progress lines, and a
search/backtest choice line that names only the parameters that can change a route in the mode."""

from __future__ import annotations

import re

import pytest

from sorlib.backtest import BacktestConfig
from sorlib.cli import build_parser, main
from sorlib.cli._common import choice_text, matters


def _help(cmd: str) -> str:
    sub = build_parser()._subparsers._group_actions[0].choices[cmd]
    return sub.format_help()


@pytest.mark.parametrize("cmd", ["backtest", "calibrate", "search", "report"])
def test_help_states_each_default_once(cmd):
    """No option's help says its default twice ('(default 0) (default: 0)'): counted per option paragraph."""
    text = _help(cmd)
    paragraphs = re.split(r"\n  -", text)
    for para in paragraphs:
        assert len(re.findall(r"\(default", " ".join(para.split()))) <= 1, para


def test_regular_hours_is_auto_by_default():
    """backtest, calibrate and search default to --regular-hours auto (as report); the bare flag means on."""
    p = build_parser()
    for cmd in ("backtest", "calibrate", "search"):
        assert p.parse_args([cmd]).regular_hours == "auto"
        assert p.parse_args([cmd, "--regular-hours"]).regular_hours == "on"
        assert p.parse_args([cmd, "--regular-hours", "off"]).regular_hours == "off"


def test_choice_names_only_parameters_that_matter():
    """Router.decision_key: spec mode holds no penalty, uncapped mode lambda_under + theta_queue only (not
    lambda_over), ck mode all three — so the choice line names exactly those."""
    p = {"lambda_over": 0.005, "lambda_under": 0.01, "theta_queue": 0.002}
    assert matters(BacktestConfig(mode="spec"), p) == dict.fromkeys(p, False)
    assert matters(BacktestConfig(mode="uncapped"), p) == {"lambda_over": False, "lambda_under": True,
                                                          "theta_queue": True}
    text = choice_text(BacktestConfig(mode="uncapped"), p)
    assert text.startswith("lambda_under 0.01, theta_queue 0.002 $/share")
    assert "lambda_over cannot change a route in uncapped mode" in text
    assert "{" not in choice_text(BacktestConfig(mode="spec"), p)


def test_backtest_piped_prints_progress_lines_and_no_dict(tmp_path, capsys):
    """Piped (capsys: not a terminal) backtest prints a progress line and no Python dict."""
    assert main(["backtest", "--out", str(tmp_path / "r.json"), "--mode", "uncapped"]) == 0
    out = capsys.readouterr().out
    assert "order replays to run" in out
    assert "{'" not in out and "lambda_over" in out and "cannot change a route in uncapped mode" in out


def test_backtest_keeps_regular_hours_automatically(tmp_path, capsys):
    """A day written from 09:00 to 09:50 New York time: its rows before 09:30 (counted here from the loaded
    timestamps: 09:30 New York on 2024-03-15, EDT, is 13:30 UTC) fall outside regular hours, so `backtest`
    (auto) drops them and says how many, with the zone; `--regular-hours off` keeps them and says nothing."""
    import numpy as np
    import pandas as pd

    from sorlib.data import load

    csv = tmp_path / "day.csv"
    assert main(["synth", "--start", "09:00", "--minutes", "50", "--out", str(csv)]) == 0
    capsys.readouterr()
    md = load(str(csv))
    ts = np.concatenate([md.quotes.ts, md.trades.ts])
    cut = pd.Timestamp("2024-03-15 13:30", tz="UTC").value
    expected = round(100 * np.count_nonzero(ts < cut) / ts.size)
    assert main(["backtest", str(csv), "--out", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if "fall outside 09:30-16:00 New York time" in ln)
    assert "the data run 09:00-09:4" in line and "dropped automatically (--regular-hours auto" in line
    assert f"; {expected}% of the rows" in line and expected > 0, line
    assert main(["backtest", str(csv), "--out", str(tmp_path / "r2.json"), "--regular-hours", "off"]) == 0
    assert "fall outside" not in capsys.readouterr().out
