"""The desk's real fills beside the simulated routers: the same shortfall decomposition and markouts.

The real child fills of an executions file (:mod:`sorlib.data.executions`) become an
:class:`~sorlib.engine.replay.Execution` of the same parent orders as the replays (strategy ``"real"``:
fills with ``kind`` 1 where the liquidity flag says the fill added liquidity, else 0; no clean-up; shares the
desk never filled are ``unfilled``), so :func:`sorlib.tca.order_costs` and :func:`sorlib.tca.markouts` apply
unchanged — one definition of implementation shortfall (IS) for simulated and real fills.

**Saving of a strategy against the real fills**, per parent order, the one saving of :mod:`sorlib.metrics`:
``(cost_real − cost_strategy) / |cost_real| · 10⁴`` bps, cost = IS + s·X·P_d (cash with the unfilled shares at
the deadline mid), so the numerator is IS_real − IS_strategy; positive = the strategy did better than what
really happened for the order's side. IS includes the opportunity cost of unfilled shares, so orders the desk
(or a router held back by a limit price) did not complete compare fairly. Pooled over orders it is
:func:`sorlib.metrics.savings_from_cash` (:mod:`sorlib.flow`).

**Caveat.** The replays run on the recorded tape, which already holds the market's reaction to the desk's
real fills, and the simulated routers do not see that impact (nor do they add the real fills' prints to the
tape). Its size is shown per order by :func:`volume_share`: the real fills' shares ÷ all shares printed on
the tape over the order's window [arrival, deadline), %. A few percent is a small caveat; tens of percent
mean the real order moved the prices the routers were replayed against.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .engine.book import Book
from .engine.replay import KIND_REST, KIND_TAKE, Execution, Fills
from .strategies.view import ParentOrder
from .tca import markouts, order_costs

__all__ = ["CAVEAT", "real_execution", "real_tca", "versus_real", "volume_share"]

CAVEAT = ("The simulated routers are replayed on the recorded tape, which already carries the market's "
          "reaction to the desk's real fills; they neither see that impact nor add the real fills' prints. "
          "volume_share_pct is the real fills' share of all shares printed over each order's window: the size "
          "of this caveat.")


def real_execution(orders: list[ParentOrder], arrival_mid: np.ndarray, order_id: np.ndarray, ts: np.ndarray,
                   venue: np.ndarray, qty: np.ndarray, price: np.ndarray, fee: np.ndarray,
                   passive: np.ndarray | None = None) -> Execution:
    """The real fills of ``orders`` as an :class:`Execution` (strategy ``"real"``).

    ``order_id`` per fill is the :attr:`ParentOrder.order_id` it belongs to; ``ts`` ns, ``venue`` key,
    ``qty`` shares, ``price`` and ``fee`` $/share (+ fee, − rebate), ``passive`` True where the fill added
    liquidity. ``arrival_mid`` ($, per order, as the replays'): the decision price P_d. Fills are sorted by
    (order, time); ``unfilled`` = order size − real shares (≥ 0). Fills above an order's size are a
    ``ValueError`` (the caller locates it)."""
    ids = np.array([o.order_id for o in orders], np.int64)
    sort_ids = np.argsort(ids, kind="stable")
    if not np.array_equal(ids[sort_ids], ids):
        raise ValueError("orders must be sorted by order_id")
    oid = np.asarray(order_id, np.int64)
    o = np.lexsort((np.asarray(ts, np.int64), oid))
    pos = np.searchsorted(ids, oid[o])
    side = np.array([orders[p].side for p in pos], np.int8) if pos.size else np.zeros(0, np.int8)
    kind = np.where(np.asarray(passive, bool)[o], KIND_REST, KIND_TAKE) if passive is not None \
        else np.full(o.size, KIND_TAKE)
    fills = Fills(oid[o], np.asarray(ts, np.int64)[o], np.asarray(venue)[o].astype(np.int32),
                  np.asarray(qty, np.int64)[o], np.asarray(price, float)[o], np.asarray(fee, float)[o],
                  kind.astype(np.int8), side=side)
    got = np.bincount(pos, weights=fills.qty, minlength=len(ids)).astype(np.int64) if ids.size else np.zeros(0)
    size = np.array([x.size for x in orders], np.int64)
    over = np.flatnonzero(got > size)
    if over.size:
        i = int(over[0])
        raise ValueError(f"order {ids[i]}: real fills total {got[i]:,} shares, more than its {size[i]:,}")
    return Execution("real", {}, tuple(orders), fills, np.asarray(arrival_mid, float),
                     beyond_book=np.zeros(len(ids), np.int64), unfilled=size - got,
                     impact_cost=np.zeros(len(ids)), fill_impact=np.zeros(len(fills)))


def volume_share(ex: Execution, book: Book) -> pd.DataFrame:
    """Per order: ``real_shares``, ``tape_shares`` (all prints, every venue, over [arrival, deadline)) and
    ``volume_share_pct`` = real ÷ tape × 100 (NaN when nothing printed)."""
    ts, sz = np.asarray(book.trades_ts, np.int64), np.asarray(book.trades_sz, float)
    cum = np.r_[0.0, np.cumsum(sz)]
    rows = []
    f = ex.fills
    for o in ex.orders:
        lo, hi = np.searchsorted(ts, [o.arrival_ns, o.deadline_ns], side="left")
        tape = float(cum[hi] - cum[lo])
        real = int(f.qty[f.order_id == o.order_id].sum())
        rows.append({"order_id": o.order_id, "real_shares": real, "tape_shares": int(tape),
                     "volume_share_pct": 100.0 * real / tape if tape > 0 else np.nan})
    return pd.DataFrame(rows)


def real_tca(ex: Execution, book: Book) -> dict[str, pd.DataFrame]:
    """``costs`` (:func:`sorlib.tca.order_costs` of the real fills, with :func:`volume_share`'s columns) and
    ``markouts`` (:func:`sorlib.tca.markouts`, one row per real fill)."""
    costs = order_costs(ex, book).merge(volume_share(ex, book), on="order_id", how="left")
    return {"costs": costs, "markouts": markouts(ex, book)}


def versus_real(costs: dict[str, pd.DataFrame], real: pd.DataFrame) -> pd.DataFrame:
    """Per order and strategy: ``saving_vs_real_bps`` = (IS_real − IS_strategy) ÷ |cost_real| × 10⁴, cost_real
    = IS_real + s·X·P_d (module docstring; positive = the strategy beat the real fills). ``costs``: strategy →
    :func:`order_costs` frame of the same orders as ``real`` (also an :func:`order_costs` frame)."""
    r = real.set_index("order_id")
    out = []
    for name, c in costs.items():
        c = c.set_index("order_id").loc[r.index]
        real_cost = (r["total_usd"] + r["side"] * r["size"] * r["arrival_mid"]).to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            bps = (r["total_usd"].to_numpy(float) - c["total_usd"].to_numpy(float)) / np.abs(real_cost) * 1e4
        out.append(pd.DataFrame({"order_id": r.index, "strategy": name, "saving_vs_real_bps": bps}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(
        columns=["order_id", "strategy", "saving_vs_real_bps"])
