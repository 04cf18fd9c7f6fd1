"""A price at or above the mirror centre C (sorlib.data.mirror) has no mirror image (C − p ≤ 0): a DataError
naming the record, never a price ≤ 0 on the mirrored day a sell is replayed on."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from sorlib.data.mirror import mirror_center, mirror_market
from sorlib.engine import Book, replay
from sorlib.errors import DataError
from sorlib.strategies import BestAsk, ParentOrder

sys.path.insert(0, str(Path(__file__).parent))
from test_engine import make_md  # noqa: E402

S = 1_000_000_000


def test_price_above_centre_names_the_record():
    """First quote bid 9.99 → C = 2 × 9.99 = 19.98 $. The second quote record asks 20.50 (above C): error naming
    record 2 of 2, its side/level, time and venue; a sell on that day fails with it instead of trading at
    19.98 − 20.50 = −0.52 $."""
    md = make_md([(0, 1, 9.99, 100, 10.00, 300), (5, 2, 10.00, 100, 20.50, 100)])
    c = mirror_center(md)
    assert c == pytest.approx(19.98)
    with pytest.raises(DataError, match=r"quote record \(ask level 0\) 2 of 2 at 1970-01-01T00:00:05\.000000000 "
                                        r"UTC, venue 2: price 20\.5000 \$ is at or above the mirror centre "
                                        r"C = 19\.98 \$"):
        mirror_market(md, c)
    with pytest.raises(DataError, match="mirror centre"):
        replay(Book.from_market(md), BestAsk(), [ParentOrder(0, 0, 10 * S, 100, -1)])


def test_print_at_the_centre_is_an_error_and_below_is_fine():
    """A print exactly at C (19.98: mirror price 0) is an error; the same day without it mirrors, every price > 0."""
    rows = [(0, 1, 9.99, 100, 10.00, 300), (5, 1, 10.00, 100, 10.01, 300)]
    bad = make_md(rows, trades=[(1, 1, 10.00, 100, 1), (2, 1, 19.98, 100, 1)])
    with pytest.raises(DataError, match=r"print 2 of 2 at .* venue 1: price 19\.9800 \$"):
        mirror_market(bad, mirror_center(bad))
    ok = make_md(rows, trades=[(1, 1, 10.00, 100, 1)])
    m = mirror_market(ok, mirror_center(ok))
    assert np.nanmin(m.quotes.ask_px) > 0 and np.nanmin(m.quotes.bid_px) > 0 and (m.trades.price > 0).all()
