"""Transaction-cost analysis of replayed executions: implementation shortfall and its parts, markouts, fill
rates and participation. Pure functions of an :class:`~sorlib.engine.replay.Execution` and the
:class:`~sorlib.engine.Book` it was replayed on; DataFrames out.

Orders of either side: ``s`` = +1 for a buy, −1 for a sell, and every price term below is multiplied by
``s`` (fees are not) — the sign convention of :mod:`sorlib.metrics`: a cost is positive when the order did
worse than the arrival mid for its side. Prices in $/share, cash in $, times in ns (``*_s`` in seconds), basis points (bps) of the
arrival notional ``P_d · X`` unless stated. Mids are NBBO mids of the recorded tape (best bid and best ask
over the venues quoting, the rule of :meth:`Book.mid`).

**Implementation shortfall** (Perold 1988) of a parent order of X shares decided at the arrival mid P_d:

    IS = s · [Σ_j q_j (p_j − P_d) + (X − Σ_j q_j)(P_end − P_d)] + Σ_j q_j f_j

over its fills j (q shares at price p, fee f $/share: + taker fee, − maker rebate), P_end the mid just before
the deadline (:func:`sorlib.metrics.end_mids`, the same P_end the savings value unfilled shares at: IS =
cost − s·X·P_d with :mod:`sorlib.metrics`' cost, so a saving's numerator is a difference of IS). Every order here is completed by the deadline clean-up, so X − Σ q = 0 unless no ask was
visible at all or a limit price kept shares unfilled (``Execution.unfilled``). Each fill j is compared with m_j, the mid of the book it met (the
snapshot in force at its time; for the clean-up, the last snapshot before it), and its price carries I_j, the
part that is our own simulated impact (``Execution.fill_impact``, signed: it lowers a sell's price; 0 on the
frozen tape). With m_1 the mid when
the first child order reached the market, W the child orders' fills and C the clean-up's, the parts are

* **delay** = Q_W · (m_1 − P_d): the mid's move from the decision to the first child order, on the shares
  the child orders bought (Q_W);
* **trading** = drift + spread + impact over W: drift Σ_W q (m_j − m_1) (the mid's move while the child
  orders worked), spread Σ_W q (p_j − I_j − m_j) (the half-spread paid and any deeper levels walked;
  negative for resting fills at the bid, which earn it), impact Σ_W q I_j;
* **opportunity** = the clean-up's premium over the arrival price: drift Σ_C q (m_j − P_d) + U·(P_end − P_d)
  (the mid's move from arrival to the deadline on the shares the child orders left, Perold's opportunity
  cost; U the shares never bought), spread Σ_C q (p_j − I_j − m_j) (what the deadline sweep paid over the
  mid), impact Σ_C q I_j;
* **fees** = Σ_j q_j f_j.

Every term is defined on its own; the identity delay + trading + opportunity + fees = IS holds
algebraically (each fill's p_j + f_j − P_d is split as (m_1 − P_d) + (m_j − m_1) + (p_j − I_j − m_j) + I_j +
f_j, or for the clean-up (m_j − P_d) + (p_j − I_j − m_j) + I_j + f_j), so in floating point the parts add up
to the total to rounding (~1e-12 $ per order; :func:`order_costs` returns both). The impact parts add up to
``Execution.impact_cost``.

**Markouts** at horizon h (1, 5, 30, 60 s): ``s · (mid(t + h) − (p − I)) / (p − I) · 10⁴`` bps per fill, from
the order's side (positive = the price moved our way after the fill: up after a buy, down after a sell;
negative = adverse), with p − I the fill price
before our own simulated impact (the tape's later mids do not carry it); NaN when t + h is after the data's
last quote. Averages are share-weighted.

**Fill rates** (child orders only; the clean-up is not a child order): filled ÷ sent per venue and kind
(marketable, resting), and for marketable orders filled ÷ displayed, the displayed shares the child aimed at,
Σ min(sent, displayed at the decision) — below 1 when the book faded or moved before the order arrived.

**Trade-through share** of passive fills: shares our resting orders got from a print *below* their price on
their venue (``Execution.fill_through``; under price priority such a print fills everything left at once) ÷
all resting (passive) shares, per venue and over all venues. A high share means the passive fills rest on
trade-throughs rather than on the queue at our price (:func:`trade_through_share`).

**Participation** per bucket of time since arrival: our child-order fills ÷ the market's printed shares in the
same window, % (our fills are not in the tape; the clean-up is listed apart).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .engine.book import Book
from .engine.replay import KIND_CLEANUP, KIND_REST, KIND_TAKE, Execution
from .metrics import bootstrap_ci, end_mids

NS = 1_000_000_000
HORIZONS_S = (1, 5, 30, 60)

#: The parts of the shortfall, in the order they add up (``<part>_usd`` / ``<part>_bps`` columns).
COMPONENTS = ("delay", "trading_drift", "trading_spread", "trading_impact", "opportunity_drift",
              "opportunity_spread", "opportunity_impact", "fees")
#: The four top-level parts (each the sum of its sub-parts above).
PARTS = ("delay", "trading", "opportunity", "fees")

__all__ = ["COMPONENTS", "HORIZONS_S", "PARTS", "ac_inputs", "compare", "cost_summary", "fill_rates", "fill_table",
           "frames", "markouts", "nbbo_mids", "order_costs", "participation", "participation_profile",
           "summary_table", "tca_results", "trade_through_share", "venue_markouts", "venue_table"]


# ----------------------------------------------------------------------------------------------- mids
def nbbo_mids(book: Book) -> np.ndarray:
    """``(m,)`` NBBO mid ($) at every snapshot of ``book``: ½(lowest level-0 ask + highest level-0 bid) over the
    venues quoting; NaN when a side is empty everywhere (the rule of :meth:`Book.mid`, vectorised)."""
    return book.tape.nbbo_mids().copy()  # one compiled pass, kept by the book's tape (a copy: callers own it)


def _mid_at(book: Book, mids: np.ndarray, t_ns, strict=False) -> np.ndarray:
    """Mid in force at ``t_ns`` (the last snapshot at or before it; ``strict``: strictly before); NaN before
    the first snapshot."""
    t = np.asarray(t_ns, np.int64)
    j = np.searchsorted(book.times, t, side="left" if strict else "right") - 1
    if not mids.size:
        return np.full(t.shape, np.nan)
    return np.where(j >= 0, mids[np.maximum(j, 0)], np.nan)


def _mid_of_fill(book: Book, mids: np.ndarray, ts: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """The mid of the book each fill met: the snapshot in force at its time (child orders), the last snapshot
    strictly before it (the clean-up, which meets the book just before the deadline)."""
    clean = kind == KIND_CLEANUP
    out = np.empty(ts.shape[0])
    out[~clean] = _mid_at(book, mids, ts[~clean])
    out[clean] = _mid_at(book, mids, ts[clean], strict=True)
    return out


def _fill_impact(ex: Execution) -> np.ndarray:
    n = len(ex.fills)
    if ex.fill_impact is None or ex.fill_impact.shape[0] != n:
        return np.zeros(n)
    return np.asarray(ex.fill_impact, float)


# ------------------------------------------------------------------------------------------ fill table
def _sides(ex: Execution, pos: np.ndarray) -> np.ndarray:
    """``(fills,)`` float: the side (+1/−1) of each fill's parent order (``pos``: its order's position)."""
    side = np.array([o.side for o in ex.orders], float)
    return side[pos] if side.size else np.ones(pos.shape[0])


def fill_table(ex: Execution, book: Book, mids: np.ndarray | None = None) -> pd.DataFrame:
    """One row per fill: ``order_id``, ``ts`` (ns), ``venue``, ``kind`` (0 take, 1 resting, 2 clean-up),
    ``qty`` (shares), ``price`` and ``fee`` ($/share), ``impact`` ($/share of the price that is our own
    simulated impact), ``mid`` (the mid of the book it met, $), ``arrival_mid`` ($) and ``side`` (+1/−1)."""
    mids = nbbo_mids(book) if mids is None else mids
    f = ex.fills
    ids = np.array([o.order_id for o in ex.orders], np.int64)
    pos = np.searchsorted(ids, f.order_id) if ids.size else np.zeros(len(f), np.int64)
    arr = np.asarray(ex.arrival_mid, float)
    return pd.DataFrame({
        "order_id": f.order_id, "ts": f.ts, "venue": f.venue.astype(np.int64), "kind": f.kind.astype(np.int64),
        "qty": f.qty, "price": f.price, "fee": f.fee, "impact": _fill_impact(ex),
        "mid": _mid_of_fill(book, mids, f.ts, f.kind),
        "arrival_mid": arr[pos] if ids.size else np.empty(0),
        "side": _sides(ex, pos).astype(np.int64) if ids.size else np.empty(0, np.int64)})


# ----------------------------------------------------------------------------- implementation shortfall
def order_costs(ex: Execution, book: Book, mids: np.ndarray | None = None) -> pd.DataFrame:
    """Implementation shortfall per parent order and its exact decomposition (module docstring).

    Columns: ``order_id``, ``arrival_ns``, ``side`` (+1/−1), ``size`` (X, shares), ``arrival_mid`` (P_d), ``first_child_ns`` and
    ``first_child_mid`` (m_1; NaN when no child order was sent), ``end_mid`` (P_end), ``child_shares``,
    ``cleanup_shares``, ``unfilled_shares``, ``sent_shares`` (child orders sent); for each part of
    :data:`COMPONENTS` and ``trading``, ``opportunity``, ``total``: ``<part>_usd`` ($) and ``<part>_bps``
    (÷ P_d·X · 10⁴). ``total_usd`` is IS computed from Perold's formula, not from the parts."""
    mids = nbbo_mids(book) if mids is None else mids
    orders = ex.orders
    n = len(orders)
    ids = np.array([o.order_id for o in orders], np.int64)
    size = np.array([o.size for o in orders], np.int64)
    arrival = np.array([o.arrival_ns for o in orders], np.int64)
    deadline = np.array([o.deadline_ns for o in orders], np.int64)
    pd_ = np.asarray(ex.arrival_mid, float)
    f = ex.fills
    pos = np.searchsorted(ids, f.order_id) if n else np.zeros(0, np.int64)
    q = f.qty.astype(float)
    p, fee = f.price.astype(float), f.fee.astype(float)
    imp = _fill_impact(ex)
    m = _mid_of_fill(book, mids, f.ts, f.kind)
    clean = f.kind == KIND_CLEANUP
    child = ~clean

    # m_1: the mid when the first child order reached the market (else the first child fill's time)
    first_ns = np.full(n, -1, np.int64)
    sent = np.zeros(n, np.int64)
    ch = ex.children
    if ch is not None and len(ch):
        cpos = np.searchsorted(ids, ch.order_id)
        order_ = np.lexsort((ch.ts, cpos))
        cp, cts = cpos[order_], ch.ts[order_]
        firsts = np.r_[True, cp[1:] != cp[:-1]]
        first_ns[cp[firsts]] = cts[firsts]
        sent = np.bincount(cpos, weights=ch.qty, minlength=n)[:n].astype(np.int64)
    no_child = first_ns < 0
    if no_child.any() and child.any():
        cf = np.flatnonzero(child)
        o2 = cf[np.lexsort((f.ts[cf], pos[cf]))]
        fp = pos[o2]
        firsts = np.r_[True, fp[1:] != fp[:-1]]
        take = no_child[fp[firsts]]
        first_ns[fp[firsts][take]] = f.ts[o2][firsts][take]
    m1 = np.where(first_ns >= 0, _mid_at(book, mids, np.maximum(first_ns, 0)), np.nan)
    end_mid = end_mids(book, deadline, mids)  # P_end: one definition, shared with the savings (metrics)

    def per(values, mask):
        return np.bincount(pos[mask], weights=values[mask], minlength=n)[:n] if n else np.zeros(0)

    pdj = pd_[pos] if n else np.zeros(0)
    m1j = m1[pos] if n else np.zeros(0)
    so = np.array([o.side for o in orders], float)  # s per order
    s = so[pos] if n else np.zeros(0)  # s per fill
    child_sh = per(q, child)
    clean_sh = per(q, clean)
    unfilled = (np.zeros(n, np.int64) if ex.unfilled is None else np.asarray(ex.unfilled, np.int64)).astype(float)
    # the delay term on child shares only: orders without child fills have none (m_1 may be undefined)
    delay = np.where(child_sh > 0, child_sh * (m1 - pd_) * so, 0.0)
    usd = {
        "delay": delay,
        "trading_drift": per(q * (m - m1j) * s, child),
        "trading_spread": per(q * (p - imp - m) * s, child),
        "trading_impact": per(q * imp * s, child),
        "opportunity_drift": per(q * (m - pdj) * s, clean)
        + np.where(unfilled > 0, unfilled * (end_mid - pd_) * so, 0.0),
        "opportunity_spread": per(q * (p - imp - m) * s, clean),
        "opportunity_impact": per(q * imp * s, clean),
        "fees": per(q * fee, np.ones(len(f), bool)),
    }
    usd["trading"] = usd["trading_drift"] + usd["trading_spread"] + usd["trading_impact"]
    usd["opportunity"] = usd["opportunity_drift"] + usd["opportunity_spread"] + usd["opportunity_impact"]
    # Perold's IS from the fills alone (the parts above are never used to compute it)
    usd["total"] = (per(q * (p - pdj) * s, np.ones(len(f), bool))
                    + np.where(unfilled > 0, unfilled * (end_mid - pd_) * so, 0.0) + per(q * fee, np.ones(len(f), bool)))
    out = pd.DataFrame({"order_id": ids, "arrival_ns": arrival, "side": so.astype(np.int64), "size": size,
                        "arrival_mid": pd_,
                        "first_child_ns": np.where(first_ns >= 0, first_ns.astype(float), np.nan),
                        "first_child_mid": m1, "end_mid": end_mid,
                        "child_shares": child_sh.astype(np.int64), "cleanup_shares": clean_sh.astype(np.int64),
                        "unfilled_shares": unfilled.astype(np.int64), "sent_shares": sent})
    notional = pd_ * size
    with np.errstate(invalid="ignore", divide="ignore"):
        for k in (*COMPONENTS, "trading", "opportunity", "total"):
            out[f"{k}_usd"] = usd[k]
        for k in (*COMPONENTS, "trading", "opportunity", "total"):
            out[f"{k}_bps"] = usd[k] / notional * 1e4
    return out


def cost_summary(costs: pd.DataFrame, seed: int = 0, level: float = 0.95) -> pd.DataFrame:
    """Mean per order of each part of the shortfall (:func:`order_costs`), bps and $, with a seeded percentile
    bootstrap interval of the mean bps (:func:`sorlib.metrics.bootstrap_ci`). One row per part: ``part``,
    ``mean_bps``, ``ci95_lo``, ``ci95_hi``, ``mean_usd``, ``orders``; parts in :data:`COMPONENTS` order, then
    ``trading``, ``opportunity`` and ``total``."""
    rows = []
    for k in (*COMPONENTS, "trading", "opportunity", "total"):
        v = costs[f"{k}_bps"].to_numpy(float)
        ok = np.isfinite(v)
        lo, hi = bootstrap_ci(v[ok], seed=seed, level=level)
        rows.append({"part": k, "mean_bps": float(v[ok].mean()) if ok.any() else math.nan, "ci95_lo": lo,
                     "ci95_hi": hi, "mean_usd": float(costs[f"{k}_usd"].mean()) if len(costs) else math.nan,
                     "orders": int(ok.sum())})
    return pd.DataFrame(rows)


# -------------------------------------------------------------------------------------------- markouts
def markouts(ex: Execution, book: Book, horizons_s=HORIZONS_S, mids: np.ndarray | None = None) -> pd.DataFrame:
    """:func:`fill_table` plus ``markout_<h>s_bps`` per horizon (module docstring): the order's side, against
    the fill price before our own impact; NaN when t + h is after the last quote."""
    mids = nbbo_mids(book) if mids is None else mids
    t = fill_table(ex, book, mids)
    ref = (t["price"] - t["impact"]).to_numpy(float)
    sd = t["side"].to_numpy(float)
    ts = t["ts"].to_numpy(np.int64)
    end = int(book.times[-1]) if book.times.size else -1
    for h in horizons_s:
        th = ts + int(round(float(h) * NS))
        mh = _mid_at(book, mids, th)
        with np.errstate(invalid="ignore", divide="ignore"):
            t[f"markout_{h:g}s_bps"] = np.where(th <= end, (mh - ref) / ref * 1e4 * sd, np.nan)
    return t


def _weighted(df: pd.DataFrame, by: list[str], cols: list[str]) -> pd.DataFrame:
    """Share-weighted means of ``cols`` per group (NaN values left out of their column's mean)."""
    rows = []
    for key, g in df.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key, strict=True))
        w = g["qty"].to_numpy(float)
        row["fills"], row["shares"] = len(g), int(w.sum())
        for c in cols:
            v = g[c].to_numpy(float)
            ok = np.isfinite(v)
            row[c] = float(np.dot(w[ok], v[ok]) / w[ok].sum()) if ok.any() and w[ok].sum() > 0 else math.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=[*by, "fills", "shares", *cols])


def venue_markouts(ex: Execution, book: Book, horizons_s=HORIZONS_S, by=("venue", "kind"),
                   mids: np.ndarray | None = None) -> pd.DataFrame:
    """Share-weighted mean markouts (bps) per group of fills (default per venue and kind: 0 take, 1 resting,
    2 clean-up), with the number of ``fills`` and ``shares``."""
    t = markouts(ex, book, horizons_s, mids)
    return _weighted(t, list(by), [f"markout_{h:g}s_bps" for h in horizons_s])


# ------------------------------------------------------------------------------------------ fill rates
def fill_rates(ex: Execution) -> pd.DataFrame:
    """Child-order fill rates per venue and kind (0 marketable, 1 resting): ``sent`` and ``filled`` shares,
    ``fill_rate`` = filled ÷ sent, and for marketable orders ``displayed`` = Σ min(sent, displayed at the
    decision) and ``fill_rate_displayed`` = filled ÷ displayed (NaN for resting orders). Needs the child-order
    record (``Execution.children``); empty without it."""
    cols = ["venue", "kind", "children", "sent", "displayed", "filled", "fill_rate", "fill_rate_displayed"]
    ch = ex.children
    if ch is None or not len(ch):
        return pd.DataFrame(columns=cols)
    f = ex.fills
    rows = []
    for v in np.unique(ch.venue):
        for kind in (KIND_TAKE, KIND_REST):
            m = (ch.venue == v) & (ch.kind == kind)
            if not m.any():
                continue
            sent = int(ch.qty[m].sum())
            filled = int(f.qty[(f.venue == v) & (f.kind == kind)].sum())
            disp = int(np.minimum(ch.qty[m], ch.displayed[m]).sum()) if kind == KIND_TAKE else None
            rows.append({"venue": int(v), "kind": kind, "children": int(m.sum()), "sent": sent,
                         "displayed": disp if disp is not None else math.nan, "filled": filled,
                         "fill_rate": filled / sent if sent else math.nan,
                         "fill_rate_displayed": (filled / disp if disp else math.nan) if disp is not None
                         else math.nan})
    return pd.DataFrame(rows, columns=cols)


# ------------------------------------------------------------------------------------ trade-throughs
def trade_through_share(ex: Execution) -> pd.DataFrame:
    """Per venue and over all (``venue`` = -1): ``passive_shares`` (resting fills), ``through_shares`` (those
    from a print below our price, ``Execution.fill_through``) and ``through_share`` = through ÷ passive (NaN
    without passive fills). Without the record (older executions) every passive fill counts as at our price."""
    cols = ["venue", "passive_shares", "through_shares", "through_share"]
    f = ex.fills
    rest = f.kind == KIND_REST
    thr = np.zeros(len(f.qty), bool) if ex.fill_through is None or ex.fill_through.shape[0] != len(f.qty) \
        else np.asarray(ex.fill_through, bool)
    rows = []
    for v in [*np.unique(f.venue[rest]).tolist(), -1]:
        m = rest & ((f.venue == v) if v >= 0 else True)
        p, t = int(f.qty[m].sum()), int(f.qty[m & thr].sum())
        rows.append({"venue": int(v), "passive_shares": p, "through_shares": t,
                     "through_share": t / p if p else math.nan})
    return pd.DataFrame(rows, columns=cols)


# -------------------------------------------------------------------------------------- participation
def participation(ex: Execution, book: Book, bucket_seconds: float = 60.0) -> pd.DataFrame:
    """Per parent order and bucket of ``bucket_seconds`` since its arrival (up to its deadline): ``our_shares``
    (child-order fills), ``cleanup_shares``, ``market_shares`` (every venue's prints in the same window, from
    the tape) and ``participation_pct`` = 100 · our ÷ market (NaN when the market printed nothing)."""
    step = int(round(float(bucket_seconds) * NS))
    f = ex.fills
    rows = []
    by_id = np.argsort(f.order_id, kind="stable")  # each order's fills in one slice (their order kept)
    ids = f.order_id[by_id]
    cum = np.concatenate(([0], np.cumsum(book.trades_sz)))
    for o in ex.orders:
        nb = max(1, math.ceil((o.deadline_ns - o.arrival_ns) / step))
        edges = o.arrival_ns + np.arange(nb + 1, dtype=np.int64) * step
        edges[-1] = max(edges[-1], o.deadline_ns + 1)  # the clean-up, stamped at the deadline, is in the last
        mine = by_id[np.searchsorted(ids, o.order_id, side="left"): np.searchsorted(ids, o.order_id, side="right")]
        b = np.searchsorted(edges, f.ts[mine], side="right") - 1
        b = np.clip(b, 0, nb - 1)
        kinds, qty = f.kind[mine], f.qty[mine].astype(float)
        ours = np.bincount(b[kinds != KIND_CLEANUP], weights=qty[kinds != KIND_CLEANUP], minlength=nb)[:nb]
        clean = np.bincount(b[kinds == KIND_CLEANUP], weights=qty[kinds == KIND_CLEANUP], minlength=nb)[:nb]
        idx = np.searchsorted(book.trades_ts, edges, side="left")
        market = (cum[idx[1:]] - cum[idx[:-1]]).astype(float)
        for i in range(nb):
            rows.append({"order_id": o.order_id, "bucket": i, "bucket_start_s": i * step / NS,
                         "start_ns": int(edges[i]), "our_shares": int(ours[i]), "cleanup_shares": int(clean[i]),
                         "market_shares": int(market[i]),
                         "participation_pct": 100.0 * ours[i] / market[i] if market[i] > 0 else math.nan})
    return pd.DataFrame(rows, columns=["order_id", "bucket", "bucket_start_s", "start_ns", "our_shares",
                                       "cleanup_shares", "market_shares", "participation_pct"])


def participation_profile(part: pd.DataFrame) -> pd.DataFrame:
    """:func:`participation` summed over parent orders per bucket: pooled ``participation_pct`` = 100 · Σ our
    ÷ Σ market."""
    g = part.groupby(["bucket", "bucket_start_s"], sort=True)[["our_shares", "cleanup_shares", "market_shares"]]
    out = g.sum().reset_index()
    mk = out["market_shares"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["participation_pct"] = np.where(mk > 0, 100.0 * out["our_shares"].to_numpy(float) / mk, np.nan)
    return out


# ------------------------------------------------------------------------------------------- per venue
def venue_table(ex: Execution, book: Book, horizons_s=HORIZONS_S, mids: np.ndarray | None = None) -> pd.DataFrame:
    """One row per venue: shares bought by kind (``take_shares``, ``rest_shares``, ``cleanup_shares``), the
    fill rates of :func:`fill_rates` (``take_fill_rate``, ``take_fill_rate_displayed``, ``rest_fill_rate``)
    and the share-weighted markouts (bps) of the child-order fills (clean-up excluded)."""
    mids = nbbo_mids(book) if mids is None else mids
    t = markouts(ex, book, horizons_s, mids)
    mcols = [f"markout_{h:g}s_bps" for h in horizons_s]
    fr = fill_rates(ex)
    venues = sorted(set(t["venue"].tolist()) | set(fr["venue"].tolist()))
    rows = []
    for v in venues:
        tv = t[t["venue"] == v]
        row = {"venue": int(v)}
        for kind, name in ((KIND_TAKE, "take"), (KIND_REST, "rest"), (KIND_CLEANUP, "cleanup")):
            row[f"{name}_shares"] = int(tv.loc[tv["kind"] == kind, "qty"].sum())
        for kind, name in ((KIND_TAKE, "take"), (KIND_REST, "rest")):
            r = fr[(fr["venue"] == v) & (fr["kind"] == kind)]
            row[f"{name}_sent"] = int(r["sent"].iloc[0]) if len(r) else 0
            row[f"{name}_fill_rate"] = float(r["fill_rate"].iloc[0]) if len(r) else math.nan
        r = fr[(fr["venue"] == v) & (fr["kind"] == KIND_TAKE)]
        row["take_fill_rate_displayed"] = float(r["fill_rate_displayed"].iloc[0]) if len(r) else math.nan
        kids = tv[tv["kind"] != KIND_CLEANUP]
        w = _weighted(kids.assign(_all=0), ["_all"], mcols)
        for c in mcols:
            row[c] = float(w[c].iloc[0]) if len(w) else math.nan
        rows.append(row)
    cols = ["venue", "take_shares", "rest_shares", "cleanup_shares", "take_sent", "take_fill_rate",
            "take_fill_rate_displayed", "rest_sent", "rest_fill_rate", *mcols]
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------------------- results JSON
def tca_results(executions: dict[str, Execution], book: Book, seed: int = 0, bucket_seconds: float = 60.0,
                horizons_s=HORIZONS_S) -> dict:
    """The ``tca`` entry of a backtest's results: for every strategy (name → execution), as lists of records
    with a ``strategy`` field — ``orders`` (:func:`order_costs`), ``summary`` (:func:`cost_summary`),
    ``venues`` (:func:`venue_table`), ``markouts`` (:func:`venue_markouts` per venue and kind),
    ``participation`` (:func:`participation_profile`) and ``trade_through`` (:func:`trade_through_share`, venue
    -1 = all venues) — plus ``units``."""
    mids = nbbo_mids(book)
    out: dict = {"orders": [], "summary": [], "venues": [], "markouts": [], "participation": [],
                 "trade_through": []}
    for name, ex in executions.items():
        costs = order_costs(ex, book, mids)
        for key, df in (("orders", costs), ("summary", cost_summary(costs, seed)),
                        ("venues", venue_table(ex, book, horizons_s, mids)),
                        ("markouts", venue_markouts(ex, book, horizons_s, mids=mids)),
                        ("participation", participation_profile(participation(ex, book, bucket_seconds))),
                        ("trade_through", trade_through_share(ex))):
            out[key] += df.assign(strategy=name).to_dict(orient="records")
    out["units"] = {"usd": "$ per parent order", "bps": "bps of the arrival notional (arrival mid x order size)",
                    "markouts": "bps of the fill price before our own impact, the order's side (+ = the price "
                                "moved our way: up after a buy, down after a sell)",
                    "fill_rate": "filled / sent shares (child orders; clean-up excluded)",
                    "participation_pct": "our child-order fills / market prints in the bucket, %",
                    "through_share": "passive shares filled by prints below our price / all passive shares",
                    "bucket_seconds": float(bucket_seconds), "horizons_s": [float(h) for h in horizons_s]}
    return out


def frames(tca: dict) -> dict[str, pd.DataFrame]:
    """The ``tca`` entry of a results dict (:func:`tca_results`, e.g. read back from the results JSON) as
    DataFrames, one per table."""
    return {k: pd.DataFrame(v) for k, v in tca.items() if isinstance(v, list)}


# ------------------------------------------------------------------------------ comparing executions
def compare(executions: dict[str, Execution], book: Book, reference: str, seed: int = 0) -> pd.DataFrame:
    """One row per strategy (name → execution of the same parent orders): the mean implementation shortfall
    (bps, with its bootstrap 95% interval), and the saving against ``reference`` — pooled
    ``(Σ cost_ref − Σ cost)/Σ|cost_ref| · 10⁴`` bps, positive = cheaper than the reference — with the bootstrap
    interval of the mean per-order saving (:func:`sorlib.metrics.savings_bps`; cash with unfilled shares at the
    deadline mid)."""
    from .metrics import savings_bps

    mids = nbbo_mids(book)
    ref = executions[reference]
    rows = []
    for name, ex in executions.items():
        c = order_costs(ex, book, mids)
        v = c["total_bps"].to_numpy(float)
        lo, hi = bootstrap_ci(v[np.isfinite(v)], seed=seed)
        s = savings_bps(ex, ref, seed=seed, book=book)
        rows.append({"strategy": name, "shortfall_bps": float(np.nanmean(v)) if v.size else math.nan,
                     "shortfall_ci95_lo": lo, "shortfall_ci95_hi": hi,
                     "saving_bps": math.nan if name == reference else s["bps"],
                     "saving_mean_bps": math.nan if name == reference else s["mean_bps"],
                     "saving_ci95_lo": math.nan if name == reference else s["ci95"][0],
                     "saving_ci95_hi": math.nan if name == reference else s["ci95"][1], "orders": s["orders"]})
    out = pd.DataFrame(rows)
    out.attrs["reference"] = reference
    return out


def ac_inputs(book: Book, t_ns: int | None = None, lookback_minutes: float = 30.0,
              bucket_seconds: float = 60.0) -> dict:
    """The Almgren–Chriss inputs estimated from the ``lookback_minutes`` of quotes before ``t_ns`` (default:
    the middle of the data) the way :class:`sorlib.schedules.AlmgrenChriss` does at an order's arrival:
    ``sigma`` ($/share/√s) from the NBBO mid sampled every 5 s, ``half_spread`` ($) and ``depth`` (shares,
    bid + ask touch sizes over the venues, halved) as medians, ``eta`` = half_spread · bucket / depth
    ($·s/share²)."""
    from .schedules import estimate_eta, estimate_sigma

    if t_ns is None:
        t_ns = int(book.times[0] + (book.times[-1] - book.times[0]) // 2) if book.times.size else 0
    lo = int(t_ns - round(lookback_minutes * 60 * NS))
    sel = slice(int(np.searchsorted(book.times, lo, "left")), int(np.searchsorted(book.times, t_ns, "left")))
    times = book.times[sel]
    rows = book.row[sel]
    ok = rows >= 0
    r = np.maximum(rows, 0)
    a = np.where(ok, book.ask_px[r, 0], np.nan)
    b = np.where(ok, book.bid_px[r, 0], np.nan)
    ask = np.where(np.isfinite(a), a, np.inf).min(axis=1) if times.size else np.empty(0)
    bid = np.where(np.isfinite(b), b, -np.inf).max(axis=1) if times.size else np.empty(0)
    two = np.isfinite(ask) & np.isfinite(bid) & (ask >= bid)
    asz = np.where(ok & np.isfinite(a), book.ask_sz[r, 0], 0).sum(axis=1) if times.size else np.empty(0)
    bsz = np.where(ok & np.isfinite(b), book.bid_sz[r, 0], 0).sum(axis=1) if times.size else np.empty(0)
    sigma = estimate_sigma(times[two], ((ask + bid) / 2)[two]) if two.any() else math.nan
    h = float(np.median((ask[two] - bid[two]) / 2)) if two.any() else math.nan
    depth = float(np.median(((asz + bsz) / 2)[two])) if two.any() else math.nan
    return {"sigma": sigma, "half_spread": h, "depth": depth, "eta": estimate_eta(h, depth, bucket_seconds),
            "t_ns": int(t_ns), "lookback_minutes": float(lookback_minutes), "bucket_seconds": float(bucket_seconds)}


def summary_table(summaries: dict[str, pd.DataFrame], parts=(*PARTS, "total"), decimals: int = 2) -> pd.DataFrame:
    """The mean of each part per strategy with its 95% interval as text, ``"1.23 (0.98 to 1.50)"`` bps (rows:
    strategies, columns: ``parts``; ``summaries``: strategy → :func:`cost_summary`)."""
    def cell(r) -> str:
        m, lo, hi = (float(r[k]) for k in ("mean_bps", "ci95_lo", "ci95_hi"))
        if not math.isfinite(m):
            return "—"
        iv = f" ({lo:.{decimals}f} to {hi:.{decimals}f})" if math.isfinite(lo) and math.isfinite(hi) else ""
        return f"{m:.{decimals}f}{iv}".replace("-", "−")

    rows = {n: {p: cell(s.set_index("part").loc[p]) for p in parts} for n, s in summaries.items()}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "strategy"
    out.columns = [f"{p} (bps)" for p in parts]
    return out
