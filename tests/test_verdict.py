"""The verdict builders (:mod:`sorlib.metrics`): hand-built results dicts, hand-derived table cells and
sentences — sign wording, "excludes/includes zero", ties, NaN intervals, never "nan" in the output."""

from __future__ import annotations

import math

import pytest

from sorlib.metrics import (
    format_bps,
    format_interval,
    format_usd,
    interval_status,
    sample_label,
    verdict_sentence,
    verdict_table,
)

NAN = float("nan")


def _results(savings: dict, orders: int = 77, mode: str = "spec", grid: int = 27, ties: int = 27) -> dict:
    """A results dict shaped like run_backtest's: 77 orders of 5,000 shares = 385,000 shares."""
    base = {"avg_fill_px": 100.10004, "shortfall_bps_mean": 1.15, "shares": 385_000, "cleanup_shares": 0}
    return {
        "parent_orders": orders,
        "config": {"mode": mode},
        "grid": [{}] * grid,
        "grid_ties": ties,
        "optimized": {"avg_fill_px": 100.12346, "shortfall_bps_mean": 1.234, "shares": 385_000,
                      "cleanup_shares": 115_500},
        "baselines": {name: dict(base) for name in savings},
        "savings_intervals": {name: {"bps": b, "mean_bps": b, "ci95": list(ci), "orders": orders}
                              for name, (b, ci) in savings.items()},
        "savings_vs_baselines_bps": {name: b for name, (b, _) in savings.items()},
    }


def test_number_formats() -> None:
    assert format_bps(1.234) == "1.23"
    assert format_bps(-0.0812) == "−0.08"  # typographic minus
    assert format_bps(-0.004) == "0.00"  # rounds to zero: no sign
    assert format_bps(1234.5) == "1,234.50"
    assert format_bps(NAN) == "—" and format_bps(None) == "—" and format_bps(math.inf) == "—"
    assert format_usd(22_929_875.5) == "22,929,875.5000"
    assert format_usd(100.12346) == "100.1235"
    assert format_usd(NAN) == "—"


def test_interval_status_and_text() -> None:
    assert interval_status([-0.14, -0.03]) == "excludes"
    assert interval_status([0.5, 2.0]) == "excludes"
    assert interval_status([-0.2, 3.0]) == "includes"
    assert interval_status([0.0, 1.0]) == "includes"  # an end on zero includes it
    assert interval_status([-0.06, -0.001]) == "excludes"  # judged unrounded; printed "−0.060 to −0.001"
    assert format_interval([-0.06, -0.001]) == "−0.060 to −0.001"
    assert interval_status([NAN, NAN]) == "none" and interval_status(None) == "none"
    assert format_interval([-0.14, -0.03]) == "−0.14 to −0.03"
    assert format_interval([NAN, NAN], orders=1) == "no interval (one order)"
    assert format_interval([NAN, NAN], orders=5) == "no interval"


def test_sentence_one_baseline_dearer_interval_excludes_zero() -> None:
    r = _results({"best_ask": (-0.0812, (-0.14, -0.03))})
    assert verdict_sentence(r) == ("The router (spec mode) is 0.08 bps dearer than Best Ask over 77 orders, "
                                   "and the 95% interval (−0.14 to −0.03) excludes zero.")


def test_sentence_one_baseline_cheaper_interval_includes_zero() -> None:
    r = _results({"twap": (1.5, (-0.2, 3.0))})
    assert verdict_sentence(r) == ("The router (spec mode) is 1.50 bps cheaper than TWAP over 77 orders, "
                                   "and the 95% interval (−0.20 to 3.00) includes zero.")


def test_sentence_three_baselines_grouped_by_interval() -> None:
    r = _results({"best_ask": (-0.0812, (-0.14, -0.03)), "twap": (1.5, (-0.2, 3.0)), "vwap": (2.004, (1.1, 2.9))})
    assert verdict_sentence(r) == (
        "The router (spec mode) is 0.08 bps dearer than Best Ask, 1.50 bps cheaper than TWAP and 2.00 bps "
        "cheaper than VWAP over 77 orders; the 95% interval excludes zero against Best Ask (−0.14 to −0.03) "
        "and VWAP (1.10 to 2.90) and includes zero against TWAP (−0.20 to 3.00).")


def test_sentence_tie_is_level() -> None:
    r = _results({"best_ask": (0.004, (-0.5, 0.5))}, mode="uncapped")
    assert verdict_sentence(r) == ("The router (uncapped mode) is level with Best Ask (0.00 bps) over 77 orders, "
                                   "and the 95% interval (−0.50 to 0.50) includes zero.")


def test_one_order_has_no_interval_and_never_prints_nan() -> None:
    r = _results({"best_ask": (1.5, (NAN, NAN)), "twap": (-2.25, (NAN, NAN))}, orders=1)
    s = verdict_sentence(r)
    assert s == ("The router (spec mode) is 1.50 bps cheaper than Best Ask and 2.25 bps dearer than TWAP over "
                 "1 order; no interval (one order).")
    t = verdict_table(r)
    assert list(t["95% interval (bps)"]) == ["—", "no interval (one order)", "no interval (one order)"]
    assert "nan" not in (s + t.to_string()).lower()
    r1 = _results({"best_ask": (1.5, (NAN, NAN))}, orders=1)
    assert verdict_sentence(r1).endswith("over 1 order; no interval (one order).")


def test_missing_numbers_print_as_dashes() -> None:
    r = _results({"best_ask": (NAN, (NAN, NAN))})
    r["optimized"]["avg_fill_px"] = NAN
    r["optimized"]["shares"] = 0
    t = verdict_table(r)
    assert t.iloc[0]["average all-in price (USD)"] == "—" and t.iloc[0]["clean-up (% of shares)"] == "—"
    s = verdict_sentence(r)
    assert "not comparable with Best Ask" in s and "nan" not in (s + t.to_string()).lower()


def test_table_cells_by_hand() -> None:
    r = _results({"best_ask": (-0.0812, (-0.14, -0.03))})
    t = verdict_table(r)
    assert list(t.columns) == ["strategy", "average all-in price (USD)", "implementation shortfall (bps)",
                               "clean-up (% of shares)", "router's saving against it (bps)", "95% interval (bps)"]
    assert t.iloc[0].tolist() == ["Router (spec mode)", "100.1235", "1.23", "30.0", "—", "—"]  # 115,500/385,000
    assert t.iloc[1].tolist() == ["Best Ask", "100.1000", "1.15", "0.0", "−0.08", "−0.14 to −0.03"]
    assert t.attrs == {"orders": 77, "market_model": "frozen tape", "mode": "spec",
                       "sample": "in-sample, but all 27 grid points tie (the choice cannot flatter the router)"}


def test_ck_router_is_named() -> None:
    r = _results({"best_ask": (1.94, (0.48, 3.39))}, mode="ck", grid=4, ties=1)
    assert verdict_sentence(r).startswith("The Cont–Kukanov router (ck mode) is 1.94 bps cheaper than Best Ask")
    assert verdict_table(r).iloc[0]["strategy"] == "Cont–Kukanov router (ck mode)"


@pytest.mark.parametrize(("grid", "ties", "sample", "expected"), [
    (1, 1, None, "out-of-sample (one parameter point, fixed in advance)"),
    (27, 27, None, "in-sample, but all 27 grid points tie (the choice cannot flatter the router)"),
    (4, 1, None, "in-sample (the best of 4 grid points, chosen on these same orders)"),
    (4, 1, "out-of-sample (walk-forward)", "out-of-sample (walk-forward)"),
])
def test_sample_label(grid, ties, sample, expected) -> None:
    r = _results({}, grid=grid, ties=ties)
    if sample:
        r["sample"] = sample
    assert sample_label(r) == expected
    assert verdict_table(r).attrs["sample"] == expected


@pytest.mark.parametrize(("model", "expected"), [
    (None, "frozen tape"), ("frozen", "frozen tape"), ({"name": "realistic"}, "realistic"), ("impact", "impact"),
])
def test_market_model_label(model, expected) -> None:
    r = _results({"best_ask": (1.0, (0.5, 1.5))})
    if model is not None:
        r["market_model"] = model
    assert verdict_table(r).attrs["market_model"] == expected


# ------------------------------------------------------------------------- words follow the unrounded ends
def _printed_ends(text: str) -> tuple[float, float]:
    lo, hi = text.split(" to ")
    return tuple(float(x.replace("−", "-").replace(",", "")) for x in (lo, hi))


@pytest.mark.parametrize(("ci", "word", "printed"), [
    # hand-derived: the word from the unrounded signs; decimals = the fewest (>= 2) keeping both signs
    ((-0.0742, -0.0043), "excludes", "−0.074 to −0.004"),  # IBM 2013-10-10: 2 decimals would print 0.00
    ((-0.0742, 0.0001), "includes", "−0.0742 to 0.0001"),  # 3 decimals round +0.0001 to 0.000
    ((0.00004, 0.3), "excludes", "0.00004 to 0.30000"),
    ((-1e-6, 2.0), "includes", "−0.000001 to 2.000000"),
    ((-0.14, -0.03), "excludes", "−0.14 to −0.03"),
    ((0.0, 1.0), "includes", "0.00 to 1.00"),  # an end on zero includes it and prints 0.00
    ((1.2341, 1.2342), "excludes", "1.2341 to 1.2342"),  # distinct ends print distinctly
])
def test_interval_words_follow_unrounded_ends(ci, word, printed) -> None:
    assert interval_status(ci) == word
    text = format_interval(ci)
    assert text == printed
    lo, hi = _printed_ends(text)
    for shown, true in ((lo, ci[0]), (hi, ci[1])):  # printed ends keep the sign of the unrounded ends
        assert (shown > 0) == (true > 0) and (shown < 0) == (true < 0)
    assert (lo != hi) or ci[0] == ci[1]
    r = _results({"best_ask": (0.5 * (ci[0] + ci[1]), ci)})
    assert verdict_sentence(r).endswith(f"the 95% interval ({printed}) {word} zero.")


def test_floating_point_noise_reads_as_zero() -> None:
    """Two routes with identical fills summed in another order differ by ~1e-12 bps (BAC's touch is deep
    enough that every mode is Best Ask): such an interval is [0, 0], includes zero and prints '0.00 to 0.00'
    — not '0.000000000001 to 0.000000000002 excludes zero'. A real 1e-8 bps end is kept."""
    assert interval_status([1e-12, 2e-12]) == "includes"
    assert format_interval([1e-12, 2e-12]) == "0.00 to 0.00"
    assert interval_status([-1e-20, 1.0]) == "includes"
    assert format_interval([-1e-20, 1.0]) == "0.00 to 1.00"
    assert interval_status([1e-8, 1.0]) == "excludes"
    assert format_interval([1e-8, 1.0]) == "0.00000001 to 1.00000000"  # one decimal count for both ends


# ------------------------------------------------------------------------------ clean-up-dominated results
def test_cleanup_dominated_backtest_is_flagged_and_gets_no_verdict() -> None:
    """One venue shows 100 shares at 9.99/10.01 every 10 s, never changing, for 11 minutes. Two parent
    orders of 1,000 shares (every 5 min, 5 min each): the unchanged quote's 100 shares are taken once per
    order (the replay consumes what it takes until the quote changes), the other 900 go to the deadline
    clean-up: 1,800 / 2,000 ordered = 90% for every strategy > 50% -> flagged, verdict withheld."""
    from sorlib.backtest import BacktestConfig, run_backtest
    from sorlib.cli._common import result_warnings
    from sorlib.metrics import cleanup_check
    from tests.test_backtest import _book

    rows = [(t, 1, 9.99, 10.01) for t in range(0, 660, 10)]
    res = run_backtest(_book(rows), BacktestConfig(order_size=1000, every_minutes=5, horizon_minutes=5,
                                                   grid={"lambda_over": [1.0], "lambda_under": [0.1],
                                                         "theta_queue": [0.1]}))
    r = res.results
    check = r["cleanup_check"]  # the results.json field
    assert check["share"] == {"router": 0.9, "best_ask": 0.9, "twap": 0.9, "vwap": 0.9}
    assert check["flagged"] == ["router", "best_ask", "twap", "vwap"] and check["withheld"] is True
    assert verdict_sentence(r) == ("No verdict (spec mode, 2 orders): 90.0% of the router's shares were bought by "
                                   "the deadline clean-up (more than 50%), so the comparison measures the clean-up "
                                   "price, not the routing.")
    lines = result_warnings(r, "results.json")  # the CLI's warning lines (sorlib backtest/search)
    assert any(line.startswith("no verdict: 90.0% of the router's shares") for line in lines)
    # at a 95% threshold the same result is not flagged
    assert cleanup_check(r, threshold=0.95) == {"threshold": 0.95, "share": check["share"], "flagged": [],
                                                "withheld": False}
    from sorlib.report import verdict_html

    page = verdict_html(r)
    assert "No verdict (spec mode, 2 orders)" in page and "The verdict is withheld." in page
    # every headline names the clean-up share (table column) and how the shares beyond the book were priced
    assert "clean-up beyond the visible book: each venue&#x27;s depth profile" in page
    r_flat = {**r, "market": {"name": "frozen", "parameters": {"cleanup": {"rule": "flat"}}}}
    assert "clean-up beyond the visible book: the worst visible ask + 1 tick" in verdict_html(r_flat)


def test_cleanup_share_at_the_threshold_is_not_flagged_and_a_baseline_alone_is_named() -> None:
    """Hand-built: the router's clean-up is exactly 50% (192,500 of 385,000 ordered) — not *more than*
    50%, so the verdict stands; TWAP's is 60% -> the sentence names it."""
    r = _results({"best_ask": (1.0, (0.5, 1.5)), "twap": (2.0, (1.0, 3.0))})
    r["optimized"]["cleanup_shares"] = 192_500
    r["baselines"]["twap"]["cleanup_shares"] = 231_000
    s = verdict_sentence(r)
    assert s.startswith("The router (spec mode) is 1.00 bps cheaper than Best Ask")
    assert s.endswith("; but 60.0% of TWAP's shares were bought by the deadline clean-up (more than 50%), so that "
                      "comparison measures the clean-up price.")
