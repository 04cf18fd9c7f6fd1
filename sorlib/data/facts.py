"""Stylised facts per venue: activity, shares, spreads, displayed size and time at the best price.

Definitions (all per venue, on the rows of the given :class:`MarketData`):

* ``quote_updates`` / ``trades`` / ``volume`` (shares) and their shares of the totals;
* ``median_spread`` ($): median of ``ask - bid`` at level 0 over the venue's quote rows with both sides
  present (per update, not time-weighted);
* ``median_bid_size`` / ``median_ask_size`` (shares): median level-0 displayed size over rows where that
  side is present;
* ``time_at_best_bid`` / ``time_at_best_ask``: time-weighted share of the session (from the first to the
  last quote of any venue, while a best price exists) during which the venue's bid (ask) equals the best
  bid (ask) across venues. Ties count for every venue at the best, so the shares can sum to more than 1.
"""

from __future__ import annotations

import math

import numpy as np

from .market import MarketData
from .snapshots import last_row_at


def _f(x) -> float | None:
    x = float(x)
    return None if math.isnan(x) else x


def _median(a: np.ndarray) -> float | None:
    return _f(np.median(a)) if a.size else None


def venue_facts(md: MarketData) -> dict:
    """Per-venue facts (see module doc), totals, and the load report, as a JSON-ready dict."""
    q, t = md.quotes, md.trades
    venues = md.venues
    nq, nt = len(q), len(t)
    vol_total = int(t.size.sum()) if nt else 0
    times = np.unique(q.ts)
    dt = np.diff(times).astype(np.float64) if times.size > 1 else np.zeros(0)
    times_open = times[:-1]  # state on [times[i], times[i+1])

    def side_state(v: int) -> tuple[np.ndarray, np.ndarray]:
        r = last_row_at(q, times_open, v)
        ok = r >= 0
        rr = np.maximum(r, 0)
        if nq == 0:
            return np.full(r.shape, np.nan), np.full(r.shape, np.nan)
        return np.where(ok, q.bid_px[rr, 0], np.nan), np.where(ok, q.ask_px[rr, 0], np.nan)

    best_bid = np.full(times_open.size, np.nan)
    best_ask = np.full(times_open.size, np.nan)
    for v in venues:
        b, a = side_state(int(v))
        best_bid, best_ask = np.fmax(best_bid, b), np.fmin(best_ask, a)
    span_bid = float(dt[np.isfinite(best_bid)].sum())
    span_ask = float(dt[np.isfinite(best_ask)].sum())

    rows = []
    for v in venues:
        v = int(v)
        qm, tm = q.venue == v, t.venue == v
        bid0, ask0 = q.bid_px[qm, 0], q.ask_px[qm, 0]
        both = np.isfinite(bid0) & np.isfinite(ask0)
        b, a = side_state(v)
        at_bid = float(dt[np.isfinite(b) & (b == best_bid)].sum())
        at_ask = float(dt[np.isfinite(a) & (a == best_ask)].sum())
        n_q, n_t, vol = int(qm.sum()), int(tm.sum()), int(t.size[tm].sum())
        rows.append({
            "venue": v, "name": md.venue_name(v),
            "quote_updates": n_q, "quote_share": n_q / nq if nq else None,
            "trades": n_t, "trade_share": n_t / nt if nt else None,
            "volume": vol, "volume_share": vol / vol_total if vol_total else None,
            "median_spread": _median(ask0[both] - bid0[both]),
            "median_bid_size": _median(q.bid_sz[qm, 0][np.isfinite(bid0)]),
            "median_ask_size": _median(q.ask_sz[qm, 0][np.isfinite(ask0)]),
            "time_at_best_bid": at_bid / span_bid if span_bid > 0 else None,
            "time_at_best_ask": at_ask / span_ask if span_ask > 0 else None,
        })
    ts_all = np.concatenate([q.ts, t.ts])
    totals = {
        "venues": len(rows), "quote_updates": nq, "trades": nt, "volume": vol_total,
        "start_ns": int(ts_all.min()) if ts_all.size else None,
        "end_ns": int(ts_all.max()) if ts_all.size else None,
        "levels": q.levels,
    }
    return {"symbol": md.symbol, "report": md.report.to_dict(), "totals": totals, "venues": rows}


def _fmt(x, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def format_report(report: dict) -> str:
    """Load report as text lines (``report`` is ``LoadReport.to_dict()``)."""
    lines = [f"source: {report['source']}", f"format: {report['format']}",
             f"rows read: {report['rows_read']:,}  quote rows: {report['quote_rows']:,}  "
             f"trade rows: {report['trade_rows']:,}"]
    reps = report.get("repairs") or {}
    lines.append("repairs: " + (", ".join(f"{k} {v:,}" for k, v in reps.items()) if reps else "none"))
    lines += [f"note: {n}" for n in report.get("notes", [])]
    return "\n".join(lines)


def format_facts(facts: dict) -> str:
    """A plain-text table of :func:`venue_facts` (one line per venue, then totals)."""
    head = ("venue", "name", "quotes", "q%", "trades", "t%", "volume", "v%", "med spr $", "med bid sz",
            "med ask sz", "best bid%", "best ask%")
    body = []
    for r in facts["venues"]:
        body.append((str(r["venue"]), r["name"], f"{r['quote_updates']:,}", _fmt(_pct(r["quote_share"]), ".1f"),
                     f"{r['trades']:,}", _fmt(_pct(r["trade_share"]), ".1f"), f"{r['volume']:,}",
                     _fmt(_pct(r["volume_share"]), ".1f"), _fmt(r["median_spread"], ".4f"),
                     _fmt(r["median_bid_size"], ".0f"), _fmt(r["median_ask_size"], ".0f"),
                     _fmt(_pct(r["time_at_best_bid"]), ".1f"), _fmt(_pct(r["time_at_best_ask"]), ".1f")))
    tot = facts["totals"]
    body.append(("all", "", f"{tot['quote_updates']:,}", "100.0" if tot["quote_updates"] else "-",
                 f"{tot['trades']:,}", "100.0" if tot["trades"] else "-", f"{tot['volume']:,}",
                 "100.0" if tot["volume"] else "-", "", "", "", "", ""))
    widths = [max(len(h), *(len(row[i]) for row in body)) for i, h in enumerate(head)]
    fmt_row = lambda row: "  ".join(c.ljust(w) if i < 2 else c.rjust(w)  # noqa: E731
                                    for i, (c, w) in enumerate(zip(row, widths, strict=True)))
    sym = f"symbol: {facts['symbol']}\n" if facts.get("symbol") else ""
    return sym + "\n".join([fmt_row(head), *(fmt_row(r) for r in body)])


def _pct(x: float | None) -> float | None:
    return None if x is None else 100.0 * x
