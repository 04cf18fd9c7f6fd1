"""The mirror image of a market: prices p ↦ C − p, bids and asks swapped, buyer and seller swapped.

A sell of X shares on a day is, price for price, a buy of X shares on the day's mirror image: the mirror's
ask ladder is the day's bid ladder (level for level, sizes following their prices), its prints are the
day's prints with the aggressor side negated (a print that hit the bid hit the mirror's ask), and a price p
is C − p. The replay engine uses it to execute sells (:mod:`sorlib.engine.replay`): every rule written for a
buy (taking the ask ladder, resting at the bid, the queue models, the clean-up sweep, fades, impact) then
applies to a sell without a second copy of the code.

``C`` (the *centre*, $) is twice a reference price on the tick grid (:func:`mirror_center`: twice the day's
first quoted price rounded to the cent), so mirrored prices stay near the real ones (C − p ≈ p, off by twice
the move since the first quote) and rules stated in percent of the price barely move. A price at or above C
(the day more than doubled since its first quote) has no mirror image (C − p ≤ 0): :func:`mirror_market` raises
a :class:`~sorlib.errors.DataError` naming the record instead of producing a price ≤ 0. The first price, not a
day statistic: C is then known before any order arrives, so a sell's view (prices C − p) depends on nothing
stamped after its decision (no look-ahead through C). Mirrored prices are rounded to the 1e-8 $ grid the engine matches prices
on (:func:`sorlib.engine.book.price_key`), which makes :func:`mirror_market` an involution for data on that
grid: ``mirror_market(mirror_market(md, C), C) == md`` to the bit (``tests/test_mirror.py``). Everything
else (times, venues, sizes, book-eligibility of prints, the load report) is unchanged; an unknown aggressor
side (0) stays 0 and is inferred on the mirror by the quote rule, which gives the negated side except for a
print on a locked book (bid = ask), where the rule says "buyer" on both.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..errors import DataError
from .market import MarketData, Quotes, Trades

#: prices are rounded to this grid ($) after mirroring (the engine's price-key grid)
GRID = 1e-8
TICK = 0.01


def mirror_prices(px, center: float) -> np.ndarray:
    """``C − p`` rounded to the 1e-8 $ grid (NaN stays NaN), float64 $."""
    return np.round(float(center) - np.asarray(px, np.float64), 8)


def mirror_center(md: MarketData, tick: float = TICK) -> float:
    """``C`` = 2 × the first quoted price ($: the level-0 bid, else ask, of the first quote row showing one, in
    time order; else the first print; else 1 $), rounded to ``tick``. A multiple of 2 ticks, so the tick grid
    maps onto itself; it reads only the first record with a price (no look-ahead)."""
    q = md.quotes
    ref = 1.0
    if len(q):
        px = np.where(np.isfinite(q.bid_px[:, 0]), q.bid_px[:, 0], q.ask_px[:, 0])
        ok = np.flatnonzero(np.isfinite(px) & (px > 0))
        if ok.size:
            ref = float(px[ok[np.argmin(q.ts[ok])]])  # the first of equal times (argmin: first minimum)
    elif len(md.trades):
        ref = float(md.trades.price[int(np.argmin(md.trades.ts))])
    return 2.0 * max(round(round(ref / tick) * tick, 8), tick)


def mirror_quotes(q: Quotes, center: float) -> Quotes:
    """Each venue's book mirrored: ask ladder = C − the bid ladder (sizes follow), bid ladder = C − the asks."""
    return Quotes(q.ts, q.venue, mirror_prices(q.ask_px, center), q.ask_sz, mirror_prices(q.bid_px, center),
                  q.bid_sz)


def mirror_trades(t: Trades, center: float) -> Trades:
    """Prints at C − p with the aggressor side negated (+1 ↔ −1, 0 stays 0); ``eligible`` kept."""
    side = (-np.asarray(t.side)).astype(np.asarray(t.side).dtype)
    return Trades(t.ts, t.venue, mirror_prices(t.price, center), t.size, side, t.eligible)


def check_mirrorable(md: MarketData, center: float) -> None:
    """A :class:`DataError` naming the first record (quote or print; its number in time order, time, venue,
    side and level) whose price is at or above ``center`` ($): its mirror image C − p would not be a price."""
    q, t = md.quotes, md.trades
    for what, px, ts, venue in (("ask", q.ask_px, q.ts, q.venue), ("bid", q.bid_px, q.ts, q.venue),
                                ("print", np.asarray(t.price, np.float64)[:, None], t.ts, t.venue)):
        px = np.asarray(px, np.float64)
        bad = np.flatnonzero((np.isfinite(px) & (px >= center)).any(axis=1)) if px.size else np.empty(0, np.int64)
        if not bad.size:
            continue
        i = int(bad[np.argmin(np.asarray(ts)[bad])])  # the first in time
        lvl = int(np.flatnonzero(np.isfinite(px[i]) & (px[i] >= center))[0])
        kind = "print" if what == "print" else f"quote record ({what} level {lvl})"
        when = np.datetime_as_string(np.datetime64(int(ts[i]), "ns"), unit="ns")
        raise DataError(f"{kind} {i + 1} of {px.shape[0]} at {when} UTC, venue {md.venue_name(int(venue[i]))}: "
                        f"price {px[i, lvl]:.4f} $ is at or above the mirror centre C = {center:.2f} $ (twice the "
                        "day's first quoted price), so a sell cannot be replayed on the mirrored day (C − p ≤ 0); "
                        "check this price, or split the day where the price doubled")


def mirror_market(md: MarketData, center: float) -> MarketData:
    """``md``'s mirror image about ``center`` ($; module docstring). An involution on the 1e-8 $ grid. A price
    at or above ``center`` is a :class:`~sorlib.errors.DataError` (:func:`check_mirrorable`)."""
    if not np.isfinite(center) or center <= 0:
        raise ValueError(f"mirror centre must be a finite price > 0 $, got {center!r}")
    check_mirrorable(md, center)
    return replace(md, quotes=mirror_quotes(md.quotes, center), trades=mirror_trades(md.trades, center))
