"""The one table style (sorlib.plots.tables): every expected text below is written by hand from the rules
in the module docstring (shares whole with thousands separators, USD/share 4 dp (never "$": a "$…$" pair is typeset as maths), bps 2 dp, yes/no, an em dash
with a footnote instead of NaN, New York time with its zone, a scroll box, long tables collapsed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sorlib.plots import tables as T


def _frame():
    return pd.DataFrame({"strategy": ["router", "twap"], "cleanup_shares": [2000.0, 1501.6667],
                         "avg_fill_px": [65.09231, 65.1], "saving_bps": [1.234, np.nan],
                         "filled": [True, False], "total_cash": [1234567.891, 2.0]})


def test_cells_follow_the_unit_rules():
    """2000.0 shares -> "2,000"; 1501.6667 -> "1,502" (whole shares); 65.09231 USD/share -> "65.0923";
    1.234 bps -> "1.23"; NaN -> "—"; True -> "yes"; 1234567.891 USD -> "1,234,567.89"."""
    t = T.table(_frame(), na={"saving_bps": "a strategy compared with itself"})
    f = t.frame
    assert list(f.columns) == ["Strategy", "Cleanup shares", "Average fill price (USD/share)", "Saving (bps)",
                               "Filled", "Total cash (USD)"]
    assert f.iloc[0].tolist() == ["router", "2,000", "65.0923", "1.23", "yes", "1,234,567.89"]
    assert f.iloc[1].tolist() == ["TWAP", "1,502", "65.1000", "—", "no", "2.00"]  # the code "twap" as the reader knows it
    assert t.notes == ["— a strategy compared with itself (Saving (bps))."]
    text = str(t)
    assert "nan" not in text.lower() and "True" not in text and "1,501.6667" not in text


def test_times_are_new_york_with_the_zone():
    """1_700_000_000 s after the epoch is 2023-11-14 22:13:20 UTC = 17:13:20 in New York (EST, UTC-5)."""
    df = pd.DataFrame({"time": pd.to_datetime([1_700_000_000_000_000_000], utc=True)})
    t = T.table(df)
    assert t.frame.columns.tolist() == ["Time (New York)"]
    assert t.frame.iloc[0, 0] == "17:13:20 New York"


def test_html_scrolls_and_collapses_long_tables():
    """Every table sits in an overflow-x:auto box; 40 rows (> MAX_ROWS = 25) show 12 and a toggle."""
    short = T.table(_frame()).html()
    assert "overflow-x:auto" in short and "<details>" not in short and "nan" not in short.lower()
    long = T.table(pd.DataFrame({"orders": range(40)})).html()
    assert "<details><summary>show all 40 rows</summary>" in long
    first = long.split("<details>")[0]
    assert first.count("<tr>") == 1 + T.HEAD_ROWS  # header row + the head


def test_no_printed_dicts():
    """A parameter dict becomes a key/value table or a sentence part, never "{'lambda_over': ...}"."""
    p = {"lambda_over": 0.005, "lambda_under": 0.01}
    kv = T.kv_table(p)
    assert kv.frame.values.tolist() == [["λ over (USD/share)", "0.005"], ["λ under (USD/share)", "0.01"]]
    assert T.params_text(p) == "λ over 0.005, λ under 0.01 USD/share"
    assert "{" not in str(kv) and "{" not in T.table(pd.DataFrame({"d": [{"a": 1}]})).frame.iloc[0, 0]


def test_text_cells_never_show_dollar_signs():
    """Text from the risk log ("… 65.0923 $ …") is shown with USD: two "$" on one line would be maths."""
    df = pd.DataFrame({"detail": ["mid 65.0923 $ is +6.54% from the reference 61.0201 $", "fee 0.003 $/share"]})
    assert T.table(df).frame["Detail"].tolist() == ["mid 65.0923 USD is +6.54% from the reference 61.0201 USD",
                                                   "fee 0.003 USD/share"]


def test_time_suffixes_are_units_not_share_counts():
    """'horizon_s' is a horizon in seconds (it was headed 'Horizon S (shares)'), 'latency_us' microseconds;
    a bare 's' is still the order size S in shares."""
    from sorlib.plots import tables as T

    assert T.header("horizon_s") == "Horizon (s)"
    assert T.header("latency_us") == "Latency (µs)"
    assert T.header("s") == "S (shares)" and T.header("qty") == "Quantity (shares)"
    assert T.header("rest_seconds") == "Rest seconds (s)"


def test_a_value_that_rounds_to_zero_prints_without_a_sign() -> None:
    """-0.0001 at two decimals is "0.00", not "-0.00" (notebook 08's delay column showed "-0.00"); a real
    negative keeps its sign: -0.01 → "-0.01", -10 → "-10.00"."""
    from sorlib.plots.tables import cell

    assert cell(-0.0001, "{:.2f}") == "0.00"
    assert cell(-0.0, "{:.4f}") == "0.0000"
    assert cell(-0.01, "{:.2f}") == "-0.01"
    assert cell(-10.0, "{:.2f}") == "-10.00"


_PROBE = """
import contextlib, io, json, sys
from sorlib.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main({argv!r})
print(json.dumps({{"code": code, "out": out.getvalue(), "plotly": sorted(m for m in sys.modules if m.split('.')[0] == 'plotly')}}))
"""


def _cli_in_fresh_interpreter(argv: list[str]) -> dict:
    import json
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", _PROBE.format(argv=argv)], capture_output=True, text=True,
                         check=True, timeout=300)
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_the_table_style_imports_no_plotly() -> None:
    """sorlib.tables (the table printer of the CLI) needs pandas only; it used to live in sorlib.plots, whose
    package import loads plotly and every figure module (3.7 s of a 7 s ``sorlib inspect`` on a busy box)."""
    import subprocess
    import sys

    code = "import sys, sorlib.tables, sorlib.cli._tables; print(sorted(m for m in sys.modules if 'plotly' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_inspect_and_synth_print_their_tables_without_plotly(mbp1_csv, tmp_path) -> None:
    """A real ``sorlib inspect`` and ``sorlib synth`` in a fresh interpreter print their tables (the guard:
    the table's header is in the output) and never import plotly."""
    got = _cli_in_fresh_interpreter(["inspect", str(mbp1_csv)])
    assert got["code"] == 0 and "Median spread (USD/share)" in got["out"] and got["plotly"] == []
    got = _cli_in_fresh_interpreter(["synth", "--minutes", "1", "--venues", "2", "--out", str(tmp_path / "s.csv")])
    assert got["code"] == 0 and "Book updates" in got["out"] and got["plotly"] == []


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def test_a_column_of_one_unit_shows_one_number_of_decimals() -> None:
    """Columns without a fixed format used "{:.4g}", which mixed decimals down a column ("0.5", "0.125",
    "12.35"). By hand: [0.005, 0.01, 0.5] are exact at 3 decimals → "0.005", "0.010",
    "0.500"; [0.1234567, 0.5, 12.3456] (not exact at ≤ 4) get 4 significant digits on the median 0.5 →
    4 decimals; a probability column ("fill_prob") likewise; whole numbers stay whole; NaN stays an em dash."""
    df = pd.DataFrame({"alpha": [0.005, 0.01, 0.5], "beta": [0.1234567, 0.5, 12.3456],
                       "fill_prob": [0.25, 0.5, 1.0], "n": [3.0, 40.0, np.nan], "label": ["a", "b", "c"]})
    f = T.table(df).frame
    assert f["Alpha"].tolist() == ["0.005", "0.010", "0.500"]
    assert f["Beta"].tolist() == ["0.1235", "0.5000", "12.3456"]
    assert f["Fill prob"].tolist() == ["0.25", "0.50", "1.00"]
    assert f["N"].tolist() == ["3", "40", "—"]
    for col in f.columns[:4]:
        assert len({_decimals(x) for x in f[col] if x != "—"}) == 1, col
    # a negative that rounds to zero at the column's decimals has no sign (median non-zero 1.25 → 3 decimals)
    assert T.table(pd.DataFrame({"x": [-0.00001, 1.25]})).frame["X"].tolist() == ["0.000", "1.250"]


def test_page_07_columns_are_points_and_percent_with_fixed_decimals() -> None:
    """Page 07's summary (bias_pp, calib_pp, "realised %") and bracket ("calib 60s (drop)") columns: points
    with 2 decimals, % with 1 — as in its headline table — and the mode kept in the header beside the unit;
    they came out as "Bias pp" with 3 decimals and "Calib 60s (drop)" with no unit."""
    df = pd.DataFrame({"bias_pp": [-1.0834, 0.5], "calib_pp": [1.0834, 12.4], "realised %": [3.96912, 16.6],
                       "calib 60s (drop)": [1.333, 0.1]})
    f = T.table(df).frame
    assert list(f.columns) == ["Bias (points)", "Calibration error (points)", "Realised %",
                               "Calibration error 60s, drop (points)"]
    assert f.values.tolist() == [["-1.08", "1.08", "4.0", "1.33"], ["0.50", "12.40", "16.6", "0.10"]]


def test_kv_table_rows_and_titles_are_written_for_a_reader() -> None:
    """Page 07's small tables: the title heads the row labels as written (it was read as a column name:
    "… at 60 S by class (shares)"), snake_case row keys become words, a third level spreads over columns
    (it printed "n 0.1916; train_calib_pp 0.2726" in one cell), and the missing-value reason is the caller's."""
    t = T.kv_table({"joined": {"candidates": 12462, "scored": 12366}}, title="candidates and exclusions at 60 s")
    assert t.frame.index.name == "Candidates and exclusions at 60 s" and list(t.frame.index) == ["Joined"]
    t = T.kv_table({"displaced_10s": {"n": 0, "realised": None}}, title="displaced orders", na="no displaced orders")
    assert list(t.frame.index) == ["Displaced 10s"] and t.frame.iloc[0].tolist() == ["0", "—"]
    assert t.notes == ["— no displaced orders (Realised)."]
    t = T.kv_table({"XNAS": {"power": {"n": 0.19164, "train_calib_pp": 0.27261}}}, title="fitted exponents")
    assert list(t.frame.columns) == ["Power n", "Power train calibration error (points)"]
    assert t.frame.iloc[0].tolist() == ["0.1916", "0.27"]
    assert "{" not in str(t) and ";" not in str(t)


def test_averages_of_shares_keep_one_number_of_decimals_and_intervals_align_right() -> None:
    """An average child size [37.5, 250.0, 1501.6667] shares: below 100 a fraction matters, so the whole
    column gets one decimal ("37.5", "250.0", "1,501.7"; it printed "37.5", "250", "1,502"); a column of
    whole-ish shares [2000.0, 1501.6667] stays whole. A saving with its interval is a number: right-aligned."""
    f = T.table(pd.DataFrame({"mean_child_shares": [37.5, 250.0, 1501.6667]})).frame
    assert f.iloc[:, 0].tolist() == ["37.5", "250.0", "1,501.7"]
    f = T.table(pd.DataFrame({"cleanup_shares": [2000.0, 1501.6667]})).frame
    assert f.iloc[:, 0].tolist() == ["2,000", "1,502"]
    html = T.table(pd.DataFrame({"strategy": ["TWAP"], "saving": ["4.26 (3.60 to 4.91)"]})).html()
    assert "<td>TWAP</td><td class='num'>4.26 (3.60 to 4.91)</td>" in html and "<th class='num'>Saving (bps)</th>" in html


def test_headers_of_savings_and_of_word_columns() -> None:
    """Page 05: "vs Best Ask (bps)" was headed "Vs Best Ask (bps)" (say what it is: the router's saving) and
    the yes/no/tie column "Best Ask cheapest?" got "(USD/share)" from the word "ask" in its name."""
    df = pd.DataFrame({"vs Best Ask (bps)": ["1.00", "−2.00"], "Best Ask cheapest?": ["yes", "tie"],
                       "best_bid": [65.1, 65.2]})
    assert T.table(df).frame.columns.tolist() == ["Saving vs Best Ask (bps)", "Best Ask cheapest?",
                                                  "Best bid (USD/share)"]


def test_a_rank_has_no_unit() -> None:
    """Page 05's tidy table headed its cost rank "Cost rank (USD)" (the word "cost")."""
    assert T.header("cost_rank") == "Cost rank"
    assert T.table(pd.DataFrame({"cost_rank": [2, 1]})).frame.iloc[:, 0].tolist() == ["2", "1"]


def test_shortfall_interval_ends_are_bps_like_the_shortfall() -> None:
    """Page 06: "Shortfall (bps)" showed 2 decimals but its interval ends "Shortfall 95% interval lo" had no unit
    and 3 decimals (4.045 beside 4.70)."""
    f = T.table(pd.DataFrame({"shortfall_bps": [4.7], "shortfall_ci95_lo": [4.0449], "shortfall_ci95_hi": [5.35]})).frame
    assert f.columns.tolist() == ["Shortfall (bps)", "Shortfall 95% interval lo (bps)", "Shortfall 95% interval hi (bps)"]
    assert f.iloc[0].tolist() == ["4.70", "4.04", "5.35"]


def test_plain_text_fits_a_terminal_width() -> None:
    """The CLI's tables were one 230-character line per venue (``sorlib inspect``): a terminal wrapped each row
    mid-line. With a width, whole columns go into blocks that each repeat the row label; nothing is lost."""
    df = pd.DataFrame({"venue": ["XNAS", "BATS"], **{f"median_bid_size_{i}": [1500.0, 20.0] for i in range(8)}})
    t = T.table(df)
    wide = t.text()
    assert max(len(x) for x in wide.splitlines()) > 200
    narrow = t.text(80)
    assert max(len(x) for x in narrow.splitlines()) <= 80
    blocks = [b.splitlines() for b in narrow.split("\n\n")]
    assert len(blocks) > 1 and all(b[0].startswith("Venue") and b[1].startswith("XNAS") for b in blocks)
    for i in range(8):  # every column once, in order, with its unit; every cell kept
        assert narrow.count(f"Median bid size {i} (shares)") == 1
    assert narrow.count("1,500") == 8 and narrow.count(" 20") == 8 and str(t) == wide


def test_codes_in_cells_and_row_labels_are_shown_in_words():
    """The data keep their codes (strategy keys, risk rules, parameter names); the table shows words: the
    known ones from CODE_LABELS, any other snake_case code with spaces. Text that is not a code is untouched."""
    df = pd.DataFrame({"rule": ["luld_halt", "kill_switch", "cleanup_while_stopped", "venue_score", "some_new_rule"],
                       "venue": ["XNAS", "BATS", "ALL", "EDGX", "XNYS"], "count": [1, 2, 3, 4, 5]},
                      index=["best_ask", "lambda_o", "lambda_u", "router", "theta_queue"])
    t = T.table(df)
    assert t.frame["Rule"].tolist() == ["LULD halt", "kill switch", "clean-up while stopped", "venue score",
                                        "some new rule"]
    assert t.frame["Venue"].tolist() == ["XNAS", "BATS", "ALL", "EDGX", "XNYS"]
    assert list(t.frame.index) == ["Best Ask", "λ over", "λ under", "router", "θ queue"]
    assert df["rule"].iloc[0] == "luld_halt"  # the frame itself keeps its codes
    assert T.cell({"n": 0.19, "train_calib_pp": 0.27}) == "n 0.19; train calibration error pp 0.27"
    assert T.header("rebate_r") == "Maker rebate r (USD/share)"
    assert T.header("h_plus_r") == "Half-spread + rebate, h + r (USD/share)"
    assert [T.header(x) for x in ("Q_shares", "xi_mean", "P(xi > Q)")] == [
        "Queue ahead Q (shares)", "Outflow ξ mean (shares)", "P(ξ > Q)"]


def test_no_snake_case_code_reaches_a_table():
    """No cell or row label of a table is a bare snake_case identifier (the old table showed best_ask,
    lambda_o, luld_halt as written)."""
    import re

    code = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
    df = pd.DataFrame({"strategy": ["router", "best_ask", "twap", "vwap"], "rule": ["luld_halt", "kill_switch",
                       "exposure_override", "halt_gap"]}, index=["lambda_o", "lambda_u", "x_y", "a"])
    f = T.table(df).frame
    shown = [*f.index, *f.to_numpy().ravel()]
    assert not [x for x in shown if code.match(str(x))], shown
