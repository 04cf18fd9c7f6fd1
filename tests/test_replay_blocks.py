"""The generic replay loop's dense walk (:func:`sorlib.engine.replay._replay_one` reads snapshots by blocks and
gathers the views' ladders once per block): every view shows the book in force at its decision time, checked
here against the Book record by record; every view owns its arrays (no other decision's view, nor the Book,
shares their memory, and later decisions never write into them); and a strategy that scribbles over its
view's arrays after routing gets the same fills. Fills are also checked against Best Ask's compiled loop (an
independent implementation, :mod:`sorlib.engine.touch`)."""

from __future__ import annotations

import numpy as np
import pytest
from test_touch_fast import random_book, random_orders

from sorlib.engine import replay
from sorlib.strategies import BestAsk, ParentOrder

S = 1_000_000_000
FILL_COLS = ("order_id", "ts", "venue", "qty", "price", "fee", "kind")


class Checked(BestAsk):
    """Best Ask through the generic loop (``decide`` overridden) that checks each view against ``book`` and
    keeps each view's arrays with a copy; ``scribble``: overwrite them after routing."""

    name = "checked"

    def __init__(self, book, scribble: bool = False) -> None:
        super().__init__()
        self.book, self.scribble, self.seen = book, scribble, []

    def decide(self, view):
        b = self.book
        j = b.index_at(view.t_ns)
        rows = b.row[j] if j >= 0 else np.full(b.venues.shape[0], -1)
        for k, r in enumerate(rows.tolist()):
            if r < 0:  # the venue has not quoted yet
                assert np.isnan(view.ask_px[k]).all() and (view.ask_avail[k] == 0).all()
                continue
            np.testing.assert_array_equal(view.ask_px[k], b.ask_px[r])
            shown = np.where(np.isfinite(b.ask_px[r]), b.ask_sz[r], 0)
            assert ((view.ask_avail[k] >= 0) & (view.ask_avail[k] <= shown)).all()
            bid = b.bid_px[r, 0]
            np.testing.assert_array_equal(view.bid_px[k], bid)
            assert view.bid_sz[k] == (b.bid_sz[r, 0] if np.isfinite(bid) else 0)
        dec = self.route(view, view.remaining)
        arrays = (view.ask_px, view.ask_avail, view.bid_px, view.bid_sz)
        for a in arrays:
            for src in (b.ask_px, b.ask_sz, b.bid_px, b.bid_sz, b.ask_shown):
                assert not np.shares_memory(a, src)
        if self.seen:
            for a in arrays:
                for p in self.seen[-1][0]:
                    assert not np.shares_memory(a, p)
        self.seen.append((arrays, tuple(a.copy() for a in arrays)))
        if self.scribble:
            for a in arrays:
                a[...] = 7
        return dec


def buys(book, seed: int) -> list[ParentOrder]:
    """:func:`random_orders`' buys (views of a sell show the mirrored market), some with a limit price."""
    out = [o for o in random_orders(book, seed) if o.side > 0]
    return [ParentOrder(o.order_id, o.arrival_ns, o.deadline_ns, o.size, limit_price=10.02 if i % 3 == 2 else
                        float("nan")) for i, o in enumerate(out)]


@pytest.mark.parametrize("seed", range(16))
def test_views_match_the_book_own_their_arrays_and_writes_change_no_fill(seed):
    book = random_book(seed)
    orders = buys(book, seed)
    plain, scrib = Checked(book), Checked(book, scribble=True)
    a, b = replay(book, plain, orders), replay(book, scrib, orders)
    assert len(plain.seen) == len(scrib.seen) > 0
    for arrays, copies in plain.seen:  # no later decision wrote into an earlier view's arrays
        for x, c in zip(arrays, copies, strict=True):
            np.testing.assert_array_equal(x, c)
    for arrays, _ in scrib.seen:
        for x in arrays:
            assert (x == 7).all()
    for c in FILL_COLS:
        np.testing.assert_array_equal(getattr(a.fills, c), getattr(b.fills, c), err_msg=c)
    no_limit = [o for o in orders if not o.has_limit]  # the compiled loop runs orders without a limit price
    if no_limit:
        x, y = replay(book, Checked(book), no_limit), replay(book, BestAsk(), no_limit)
        for c in FILL_COLS:
            np.testing.assert_array_equal(getattr(x.fills, c), getattr(y.fills, c), err_msg=c)
