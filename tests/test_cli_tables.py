"""The tables ``sorlib verdict`` and ``sorlib synth`` print (:mod:`sorlib.cli._tables`): the one table style,
no ``nan``, no printed dicts, no raw floats (``sorlib inspect``'s table: tests/test_cli_inspect.py)."""

from __future__ import annotations

import re
from types import SimpleNamespace

from test_cli_inspect import assert_clean_table_text

from sorlib.cli import main
from sorlib.cli._tables import variant_table

NAN = float("nan")


def _record(variant, bps, ci, orders, share, withheld=False, edges=(), same=None):
    return {"variant": variant, "same_model_as": same, "verdict_withheld": withheld, "edges": list(edges),
            "out_of_sample": {"best_ask": {"bps": bps, "ci95": ci, "orders": orders},
                              "twap": {"bps": bps + 1.0 if bps == bps else NAN, "ci95": ci, "orders": orders}},
            "cleanup_share": {"in_sample": 0.5, "out_of_sample": share}}


def test_verdict_table_rows_and_missing_cells() -> None:
    """Three variants by hand: a plain one (+1.234 bps → "+1.23", interval −0.5 to 2.9 from
    format_interval), one with no out-of-sample saving (NaN: em dash + footnote, never "nan"), one withheld
    on the grid's edge; the clean-up share 0.1234 prints as 12.3 %."""
    res = SimpleNamespace(records=[
        _record("frozen", 1.234, [-0.5, 2.9], 12, 0.1234),
        _record("latency", NAN, [NAN, NAN], 0, NAN, same="frozen"),
        _record("realistic", -3.0, [-4.0, -2.0], 12, 0.9, withheld=True,
                edges=[{"parameter": "lambda_under", "side": "low"}, {"parameter": "lambda_under", "side": "low"}]),
    ])
    out = str(variant_table(res))
    assert_clean_table_text(out)
    lines = out.splitlines()
    frozen = next(line for line in lines if line.lstrip().startswith("frozen"))
    assert "+1.23 (−0.50 to 2.90)" in frozen and "+2.23" in frozen and "12.3" in frozen and "given" in frozen
    latency = next(line for line in lines if line.lstrip().startswith("latency"))
    assert latency.count("—") >= 3 and "frozen" in latency  # no saving for either baseline, nor a clean-up share
    realistic = next(line for line in lines if line.lstrip().startswith("realistic"))
    assert "−3.00" in realistic and "withheld" in realistic and realistic.count("λ under low") == 1
    assert "lambda_under" not in out  # a parameter is named as on the pages, never in snake_case
    assert "(bps, 95% interval)" in out and "(% of shares)" in out
    assert any(line.startswith("— no out-of-sample orders") for line in lines)
    assert any(line.startswith("— inside the grid") for line in lines)


def test_synth_prints_what_it_wrote_per_venue(tmp_path, monkeypatch, capsys) -> None:
    """The per-venue rows add up to the all-venues row, which repeats the counts of the 'wrote' line."""
    monkeypatch.chdir(tmp_path)
    assert main(["synth", "--minutes", "2", "--venues", "3", "--out", "s.csv"]) == 0
    out = capsys.readouterr().out
    assert_clean_table_text(out)
    wrote = re.search(r"\(([\d,]+) book updates, ([\d,]+) trades\)", out)
    books, trades = (int(x.replace(",", "")) for x in wrote.groups())
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if "Book updates" in line)
    assert "Traded (shares)" in lines[head]
    rows = [line.split() for line in lines[head + 1:head + 4]]
    total = lines[head + 4].split()
    assert total[:2] == ["all", "venues"] and len(rows) == 3
    num = lambda s: int(s.replace(",", ""))  # noqa: E731
    assert num(total[2]) == books == sum(num(r[1]) for r in rows)
    assert num(total[3]) == trades == sum(num(r[2]) for r in rows)
    assert num(total[4]) == sum(num(r[3]) for r in rows) > 0
