"""AlgoSeek (Lean tick zips) and generic TAQ-style readers on generated files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sorlib.data import ALGOSEEK, TaqLayout, load, read_taq
from sorlib.errors import DataError

MS_0930 = 34_200_000
UTC_0930_OCT7 = pd.Timestamp("2013-10-07 09:30", tz="America/New_York").value  # EDT: 13:30 UTC


def _q(ms, bid, bsz, ask, asz, ex, sus=0):
    return [ms, bid, bsz, ask, asz, ex, 1, sus]


@pytest.fixture
def algoseek(write_csv):
    quotes = [
        _q(MS_0930, 1817500, 300, 0, 0, "N"),         # N bid 181.75 x 300
        _q(MS_0930, 0, 0, 1818000, 200, "Q"),         # Q ask 181.80 x 200
        _q(MS_0930 + 5, 0, 0, 1817900, 100, "N"),     # N ask 181.79 (bid carried)
        _q(MS_0930 + 5, 0, 0, 1817900, 100, "N"),     # exact duplicate → dropped
        _q(MS_0930 + 7, 9999999, 1, 0, 0, "Z", 1),    # suspicious → dropped
        _q(MS_0930 + 9, 1817000, 500, 0, 0, "P"),     # national best bid now 181.70: N's 181.75 bid expires
        _q(MS_0930 + 12, 0, 0, 1817700, 100, "Q"),    # Q ask 181.77: nothing expires
        _q(MS_0930 + 15, 0, 0, 1818100, 100, "P"),    # national best ask 181.81: N and Q asks expire
    ]
    trades = [[MS_0930 + 1, 1817500, 100, "N", 1, 0], [MS_0930 + 2, 1817600, 300, "D", 1, 0],
              [MS_0930 + 3, 1817600, 300, "D", 1, 0], [MS_0930 + 4, 1817500, 5, "N", 1, 1]]
    write_csv("ibm/20131007_trade.zip", None, trades)
    return write_csv("ibm/20131007_quote.zip", None, quotes)


def test_algoseek_quotes_and_sibling_trades(algoseek):
    md = load(algoseek)
    q, t, r = md.quotes, md.trades, md.report
    assert r.format == "algoseek" and md.symbol == "IBM"
    assert r.rows_read == 8 + 4
    assert r.repairs == {"duplicate_record": 1, "suspicious_quote": 1, "suspicious_trade": 1,
                         "stale_quote_expired": 3}
    assert q.ts[0] == UTC_0930_OCT7 and q.ts[2] == UTC_0930_OCT7 + 5_000_000
    n = q.venue == ord("N")
    # N: bid only; bid carried with a fresh ask; bid expired by P's lower national bid; ask expired by P's ask
    np.testing.assert_array_equal(q.bid_px[n, 0], [181.75, 181.75, np.nan, np.nan])
    np.testing.assert_array_equal(q.ask_px[n, 0], [np.nan, 181.79, 181.79, np.nan])
    assert q.bid_sz[n, 0].tolist() == [300, 300, 0, 0] and q.ask_sz[n, 0].tolist() == [0, 100, 100, 0]
    assert q.ts[n][2] == UTC_0930_OCT7 + 9_000_000  # the expiry row is stamped with the row that caused it
    assert md.venue_names[ord("N")] == "NYSE (N)"
    # trades: suspicious dropped, identical D prints both kept, D has no quotes
    assert t.venue.tolist() == [ord("N"), ord("D"), ord("D")] and t.price.tolist() == [181.75, 181.76, 181.76]
    assert (t.side == 0).all() and t.eligible.tolist() == [True, True, True]  # condition 1: regular
    assert any("venue D has trades but no quotes" in s for s in r.notes)


def test_algoseek_trade_file_loads_quotes_too(algoseek):
    md = load(algoseek.with_name("20131007_trade.zip"))
    assert len(md.quotes) > 0 and len(md.trades) == 3


def test_algoseek_own_side_stale(write_csv):
    p = write_csv("x/20131007_quote.zip", None, [_q(MS_0930, 1817500, 300, 0, 0, "N"),
                                                 _q(MS_0930 + 1, 0, 0, 1817400, 100, "N")])
    md = read_taq(p, ALGOSEEK)
    assert md.report.repairs == {"stale_own_side_cleared": 1}
    assert np.isnan(md.quotes.bid_px[1, 0]) and md.quotes.ask_px[1, 0] == 181.74
    assert any("no trades file" in s for s in md.report.notes)


def test_midnight_origin_in_winter_uses_est(write_csv):
    p = write_csv("x/20131209_quote.zip", None, [_q(MS_0930, 1817500, 300, 0, 0, "N")])
    md = read_taq(p, ALGOSEEK)  # one bid, no ask: load() would refuse it (no two-sided quote)
    assert md.quotes.ts[0] == pd.Timestamp("2013-12-09 14:30", tz="UTC").value


def test_generic_taq_layout_two_sided(write_csv):
    layout = TaqLayout(time="t", bid_px="bp", bid_sz="bs", ask_px="ap", ask_sz="as", exchange="ex",
                       time_unit="ns", time_origin="epoch")
    t0 = UTC_0930_OCT7
    rows = [[t0 + 3, 10.00, 100, 10.02, 200, "P"], [t0 + 1, 10.01, 100, 10.02, 100, "N"],
            [t0 + 2, 10.03, 100, 10.02, 100, "N"], [t0 + 4, 10.02, 100, 10.02, 100, "P"],
            [t0 + 5, 0, 0, 10.05, 100, "P"]]
    md = load(write_csv("q.csv", ["t", "bp", "bs", "ap", "as", "ex"], rows), format="taq", layout=layout)
    assert md.quotes.ts.tolist() == [t0 + 1, t0 + 3, t0 + 5]
    assert md.report.repairs == {"unsorted_time": 2, "crossed_book": 1, "locked_book": 1}
    assert np.isnan(md.quotes.bid_px[2, 0]) and md.quotes.bid_sz[2, 0] == 0


def test_taq_needs_layout(write_csv):
    p = write_csv("q.csv", ["a", "b"], [[1, 2]])
    with pytest.raises(DataError, match="needs a column layout"):
        load(p, format="taq")
    with pytest.raises(DataError, match="cannot tell the format"):
        load(p)


def test_exchange_must_be_a_letter(write_csv):
    p = write_csv("x/20131007_quote.zip", None, [_q(MS_0930, 1817500, 300, 0, 0, "NY")])
    with pytest.raises(DataError, match=r"line 1, column 'f5': exchange code 'NY' is not a single letter"):
        load(p)


def test_algoseek_trade_conditions_mark_book_eligible_prints(write_csv):
    """Lean's condition word is hexadecimal (TradeConditionFlags bits). Hand-decoded:
    ``1`` regular (bit 0) → eligible; ``20`` intermarket sweep (bit 5) → eligible; ``20000020`` sweep + trade-
    through exempt (bits 5, 29) → eligible (a sweep executes on its venue's book); ``20000001`` exempt without
    the sweep flag → not; ``20100200`` average price (bit 20) + derivatively priced (bit 9) → not; ``2000``
    extended hours (bit 13) → not; ``4000`` out of sequence (bit 14) → not; ``800`` sold last (bit 11) → not;
    ``2000000`` prior reference price (bit 25) → not; ``40000`` stock-option (contingent, bit 18) → not;
    ``40`` / ``80`` opening / closing prints → not; ``200000`` cross (bit 21) → not; empty → eligible.
    Every print is kept; 10 are counted ``trade_not_book_eligible``."""
    conds = ["1", "20", "20000020", "20000001", "20100200", "2000", "4000", "800", "2000000", "40000", "40",
             "80", "200000", ""]
    want = [True, True, True] + [False] * 10 + [True]
    trades = [[MS_0930 + i, 1817500, 100, "N", c, 0] for i, c in enumerate(conds)]
    write_csv("ibm/20131007_trade.zip", None, trades)
    md = load(write_csv("ibm/20131007_quote.zip", None, [_q(MS_0930, 1817500, 300, 1817600, 300, "N")]))
    assert md.trades.eligible.tolist() == want
    assert md.report.repairs["trade_not_book_eligible"] == 10


def test_algoseek_trade_condition_must_be_hexadecimal(write_csv):
    write_csv("ibm/20131007_trade.zip", None, [[MS_0930, 1817500, 100, "N", "1", 0],
                                              [MS_0930 + 1, 1817500, 100, "N", "@F", 0]])
    with pytest.raises(DataError, match="not a hexadecimal"):
        load(write_csv("ibm/20131007_quote.zip", None, [_q(MS_0930, 1817500, 300, 1817600, 300, "N")]))


def test_book_eligible_without_the_sweep_exception():
    """``sweep_exempt_eligible=False``: every trade-through-exempt print is ineligible, sweeps included."""
    from sorlib.data.taq import book_eligible

    f = np.array([0x1, 0x20, 0x20000020, 0x20000001], np.uint64)
    assert book_eligible(f).tolist() == [True, True, True, False]
    assert book_eligible(f, sweep_exempt_eligible=False).tolist() == [True, True, False, False]
