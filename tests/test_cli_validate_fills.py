"""``sorlib validate-fills``: a hand-built LOBSTER file pair through the command, and its one-line errors.

The files hold the tape of ``tests/test_fillcheck.py`` (same events, level-1 LOBSTER format, 2024-01-02), so
the hand-derived figures carry over: conservative at 10 s over all four candidates (``--candidates all``),
calibration error (200·1 + 200·0.3)/700 = 37.142857 points, bias −37.142857 points, Brier 0.34. A (Q 0) set the
best alone: the default headline (joined: B, C, D) is (200·1 + 200·0.3)/400 = 65 points, bias −65 (A was
predicted exactly), Brier (0.6² + 1²)/3 = 0.4533.
"""

from __future__ import annotations

import csv
import json

import pytest

from sorlib.cli import main

MESSAGES = [  # time (s after midnight), type, id, size, price x 10000, direction
    (34200.0, 1, 1, 300, 100000, 1),
    (34201.0, 1, 2, 100, 100000, 1),
    (34202.0, 1, 3, 200, 100000, 1),
    (34203.0, 2, 1, 100, 100000, 1),
    (34204.0, 4, 1, 200, 100000, 1),
    (34204.5, 4, 2, 60, 100000, 1),
    (34206.5, 3, 2, 40, 100000, 1),
    (34207.5, 4, 3, 200, 100000, 1),
    (34230.0, 1, 9, 100, 100200, -1),
    (34300.0, 5, 0, 10, 100100, 1),
]
BIDS = [300, 400, 600, 500, 300, 240, 200, 0, 0, 0]  # bid size at 10.00 after each message
ASKS = [500] * 8 + [600, 600]


def write_pair(folder) -> str:
    name = "HAND_2024-01-02_34200000_57600000_{}_1.csv"
    with open(folder / name.format("message"), "w") as f:
        for m in MESSAGES:
            f.write(",".join(str(x) for x in m) + "\n")
    with open(folder / name.format("orderbook"), "w") as f:
        for b, a in zip(BIDS, ASKS, strict=True):
            f.write(f"100200,{a},{100000 if b else -9999999999},{b}\n")
    return str(folder / name.format("message"))


def test_hand_pair_end_to_end(tmp_path, capsys):
    path = write_pair(tmp_path)
    out = tmp_path / "out"
    assert main(["validate-fills", path, "--horizons", "10,5", "--models", "conservative,paper",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "4 candidate orders" in text and "3 joined a queue, 1 set a new best alone" in text
    assert "created its price level: removal leaves no queue to predict from; reported separately" in text
    assert "reported separately, improved (1 scored at 10 s)" in text and "66.7/66.7" in text  # A 200/300 both
    res = json.loads((out / "fill_validation.json").read_text())
    assert res["candidates"] == "joined" and res["exclusions"]["10s"]["scored"] == 3
    row = next(r for r in res["summary"] if r["model"] == "conservative" and r["horizon_s"] == 10.0
               and r["candidates"] == "joined" and r["sample"] == "all")
    assert row["calib_pp"] == pytest.approx(65.0) and row["bias_pp"] == pytest.approx(-65.0)
    assert row["brier"] == pytest.approx((0.36 + 1) / 3) and row["n"] == 3
    with open(out / "fill_orders.csv") as f:
        orders = list(csv.DictReader(f))
    assert [(o["order_id"], o["class"], o["realised 10s"], o["conservative 10s"]) for o in orders] == [
        ("1", "improved", "200", "200"), ("2", "joined", "60", "0"), ("3", "joined", "200", "0"),
        ("9", "joined", "0", "0")]
    assert main(["validate-fills", path, "--horizons", "10,5", "--models", "conservative,paper",
                 "--candidates", "all", "--out", str(out)]) == 0
    capsys.readouterr()
    res = json.loads((out / "fill_validation.json").read_text())
    row = next(r for r in res["summary"] if r["model"] == "conservative" and r["horizon_s"] == 10.0
               and r["candidates"] == "all")
    assert row["calib_pp"] == pytest.approx(100 * 260 / 700) and row["bias_pp"] == pytest.approx(-100 * 260 / 700)
    assert row["brier"] == pytest.approx(0.34) and row["n"] == 4
    assert res["horizons_s"] == [5.0, 10.0] and res["exclusions"]["10s"]["scored"] == 4
    with open(out / "fill_summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["model"] for r in rows} == {"conservative", "paper"} and len(rows) == 4 * 3  # x 3 classes
    assert (out / "fill_buckets.csv").stat().st_size > 0 and (out / "fill_markouts.csv").stat().st_size > 0


@pytest.mark.parametrize("args, needle", [
    (["--horizons", "10,x"], "--horizons: 'x' is not a number"),
    (["--horizons", "0"], "--horizons: each horizon must be in (0, 3600]"),
    (["--horizons", "10,10"], "given twice"),
    (["--models", "nope"], "--models: unknown queue model 'nope'"),
    (["--models", "log:2"], "takes no exponent"),
    (["--own-prints", "maybe"], "invalid choice"),
    (["--candidates", "new"], "invalid choice"),
    (["--seed", "-1"], "--seed"),
])
def test_option_errors_one_line(tmp_path, capsys, args, needle):
    path = write_pair(tmp_path)
    assert main(["validate-fills", path, "--out", str(tmp_path / "o"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sorlib validate-fills: error:") and needle in err and "\n" not in err


def test_data_errors_one_line(tmp_path, capsys):
    assert main(["validate-fills", str(tmp_path / "absent.csv")]) == 2
    assert "not found" in capsys.readouterr().err
    other = tmp_path / "quotes.csv"
    other.write_text("ts_recv,ts_event,rtype,publisher_id,instrument_id,action,side,depth,price,size\n")
    assert main(["validate-fills", str(other), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sorlib validate-fills: error:") and "\n" not in err
    path = write_pair(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["validate-fills", path, "--out", str(blocker)]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_calibrate_orders_writes_fitted_cancel_bias(tmp_path, capsys):
    """``sorlib calibrate --orders``: power3's n fitted on the training half of the joined candidates (B and C; A
    set the best alone) is written as ``queue_cancel_bias``. Keep mode, by hand: C joined last, nothing is ever
    behind it, so every level change comes from ahead of it whatever n, and it takes its own 200 at a front
    of 0: exact for every n; B (Q 300) moves to
    300 − 0.6ⁿ·100 at the cancel (back 200, front 300: P(behind) = 1 − 0.6ⁿ), to 100 − 0.6ⁿ·100 after the
    200-share print, so its own 60-share execution fills int(100·0.6ⁿ − 40) < 60 (realised 60), closer the
    smaller n. The calibration error is therefore smallest (57 of 60 shares) for every n with 0.6ⁿ >= 0.97,
    i.e. n <= ln 0.97 / ln 0.6 = 0.0596; among equal errors the fit keeps the n closest to 1: the largest such
    point of the refined grid between 0.05 and the next coarse point, 0.05·1.2589^(9/12) = 0.0594."""
    import tomllib

    path = write_pair(tmp_path)
    out = tmp_path / "venues.toml"
    assert main(["calibrate", path, "--orders", path, "--orders-own-prints", "keep", "--out", str(out)]) == 0
    assert "queue_cancel_bias 0.0594" in capsys.readouterr().out
    n = tomllib.loads(out.read_text())["venue"]["2"]["queue_cancel_bias"]
    assert n == pytest.approx(0.0594, abs=1e-4) and 0.6 ** n >= 0.97
    assert main(["calibrate", path, "--orders", str(tmp_path / "nope.zip"), "--out", str(out)]) == 2
    assert "--orders: file not found" in capsys.readouterr().err


def test_models_default_is_the_library_line_up():
    from sorlib.cli import build_parser
    from sorlib.fillcheck import DEFAULT_MODELS

    args = build_parser().parse_args(["validate-fills", "x.zip"])
    assert args.models == ",".join(DEFAULT_MODELS) and args.horizons == "10,30,60" and args.own_prints == "reassign"
    assert args.candidates == "joined"


def write_mbo(folder) -> str:
    """A Databento MBO CSV: bids of 100 at 10.00 (ids 1, 2: Q 0 and 100), an ask at 10.50, then eleven better
    bids 10.01..10.11 (each sets a new best) that push 10.00 to the 12th bid level, and a last record 100 s
    later (an ask of 100 at 10.60, not at the best)."""
    head = "ts_recv,ts_event,rtype,publisher_id,instrument_id,action,side,price,size,channel_id,order_id,flags," \
           "ts_in_delta,sequence,symbol\n"
    recs = [("R", "N", "", 0, 0), ("A", "B", "10.00", 100, 1), ("A", "B", "10.00", 100, 2), ("A", "A", "10.50", 100, 4)]
    recs += [("A", "B", f"{10 + 0.01 * k:.2f}", 100, 10 + k) for k in range(1, 12)]
    lines = []
    for i, (act, side, px, sz, oid) in enumerate(recs):
        t = f"2024-01-02T15:00:{i:02d}.000000000Z"
        lines.append(f"{t},{t},160,2,7,{act},{side},{px},{sz},0,{oid},{8 if act == 'R' else 130},0,{i},HAND")
    t = "2024-01-02T15:02:00.000000000Z"
    lines.append(f"{t},{t},160,2,7,A,A,10.60,100,0,99,130,0,99,HAND")
    path = folder / "hand.mbo.csv"
    path.write_text(head + "\n".join(lines) + "\n")
    return str(path)


def test_mbo_is_full_depth(tmp_path, capsys):
    """An MBO book is rebuilt from every order: a queue pushed beyond the quotes' 10 levels is still seen, so
    nothing is excluded as displaced (with the 10-level quotes as the visible book, bids 10.00 and 10.01 would
    be: at the 11th and 12th levels)."""
    from sorlib.data import load_with_orders
    from sorlib.fillcheck import build_streams, select_candidates
    from sorlib.fillcheck.events import BAD_DISPLACED

    path = write_mbo(tmp_path)
    md, ev = load_with_orders(path)
    cands, _ = select_candidates(ev)
    assert len(cands) == 14  # ids 1, 2, 4 and the eleven improving bids
    st = build_streams(ev, cands, 60.0, md)  # the 10-level quotes taken as the visible book
    assert sorted(cands.price[st.bad_why == BAD_DISPLACED].tolist()) == [10.0, 10.0, 10.01]
    out = tmp_path / "o"
    assert main(["validate-fills", path, "--models", "conservative", "--candidates", "all", "--out", str(out)]) == 0
    res = json.loads((out / "fill_validation.json").read_text())
    assert res["exclusions"]["60s"]["displaced"] == 0 and res["exclusions"]["60s"]["scored"] == 14
