"""Fit per-venue execution parameters from any :class:`~sorlib.data.MarketData` (``sorlib calibrate``).

Everything here works on the normalised arrays every reader produces (the synthetic day, AlgoSeek days,
Databento files); nothing imports the engine or the strategies. Units: times in ns unless named ``_s``
(seconds) or ``_us`` (microseconds); prices in $; sizes in shares; markouts in basis points of the mid.

Definitions (per venue unless stated):

* **aggressor side** of a print: the data's own (Databento, synthetic) or, when unknown (AlgoSeek), the quote
  rule against the venue's book just before the print: at or below its bid = seller-initiated.
* **passive bid-fill markout** at horizon h: for every seller-initiated print at the venue's best bid (a
  resting buy there was filled), ``(mid(t + h) − mid(t−)) / mid(t−) · 10⁴`` bps, with mid the NBBO mid over
  all venues, ``t−`` just before the print; from the buyer's side, so **negative = adverse** (the price fell
  after the buy). Mean over prints.
* **fade fraction**: after a buyer-initiated print on venue j at price p, the drop of each *other* venue's
  displayed ask size at the same price p within ``fade_window_s`` (size at t+w over size at t−, a venue whose
  ask moved away counts as a full drop), averaged over (print, venue) pairs where the other venue showed p.
* **latency** (µs): median ``ts_recv − ts_event`` when the data carry both; else None (the profile's value is
  kept).
* **cancel rate** (events/s): decreases of the touch size at an unchanged touch price that no print at that
  price explains, both sides; **replace share**: the share of those decreases followed, on the same side and
  price, by an increase within ``replace_window_s``.
* **typical displayed size** (shares): median level-0 bid and ask size over the venue's rows.
* **queue outflow** (shares per ``outflow_window_s``): prints at the best bid plus size decreases at an
  unchanged bid; median and p90 over consecutive windows.
* **fill probability by queue position**: a virtual buy of one share placed at the venue's best bid every
  ``probe_every_s`` with a fraction x ∈ {0, .25, .5, .75, 1} of the level ahead of it, advanced by the
  probabilistic queue model (:mod:`sorlib.sim.queue`, power3 with the venue's cancel bias) until filled or
  ``probe_horizon_s`` passes; the share of probes filled. **time-weighted queue position**: for the probes
  placed at the back (x = 1), the time average of (shares ahead / level size) over their life.
* **cancel position bias** n (power3's exponent): from MBO data only (:func:`fit_cancel_bias_mbo`); cancels at
  relative queue position u ∈ (0, 1] (0 = front) with CDF u^n, fitted by maximum likelihood.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..data.market import NS_PER_SECOND, MarketData
from ..data.snapshots import last_row_at

HORIZONS_S: tuple[float, ...] = (1.0, 5.0, 30.0)
QUEUE_POSITIONS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)


# ------------------------------------------------------------------------------------------ NBBO mid
def nbbo_mid(md: MarketData) -> tuple[np.ndarray, np.ndarray]:
    """``(ts, mid)``: the NBBO mid ($) after each quote row (NaN while not two-sided), rows in time order."""
    q = md.quotes
    n = len(q)
    bb = np.full(n, -np.inf)
    ba = np.full(n, np.inf)
    idx = np.arange(n)
    for v in np.unique(q.venue):
        last = np.maximum.accumulate(np.where(q.venue == v, idx, -1))
        ok = last >= 0
        r = np.maximum(last, 0)
        b = np.where(ok, q.bid_px[r, 0], np.nan)
        a = np.where(ok, q.ask_px[r, 0], np.nan)
        bb = np.fmax(bb, np.where(np.isfinite(b), b, -np.inf))
        ba = np.fmin(ba, np.where(np.isfinite(a), a, np.inf))
    with np.errstate(invalid="ignore"):
        mid = 0.5 * (bb + ba)
    mid[~(np.isfinite(bb) & np.isfinite(ba)) | (bb >= ba)] = np.nan
    return q.ts, mid


def _mid_at(ts: np.ndarray, mid: np.ndarray, t: np.ndarray, strict: bool = False) -> np.ndarray:
    """Mid in force at times ``t`` (the last row with ts <= t, or < t when ``strict``)."""
    k = np.searchsorted(ts, t, side="left" if strict else "right") - 1
    return np.where(k >= 0, mid[np.maximum(k, 0)], np.nan)


def trade_sides(md: MarketData) -> np.ndarray:
    """Aggressor sides (+1 buyer, −1 seller, 0 unknown), unknown ones by the quote rule (module docstring)."""
    t, q = md.trades, md.quotes
    side = np.asarray(t.side, np.int8).copy()
    unknown = side == 0
    for v in np.unique(t.venue[unknown]):
        m = unknown & (t.venue == v)
        r = last_row_at(q, t.ts[m] - 1, int(v))
        ok = r >= 0
        rr = np.maximum(r, 0)
        bid = np.where(ok, q.bid_px[rr, 0], np.nan)
        ask = np.where(ok, q.ask_px[rr, 0], np.nan)
        px = t.price[m]
        s = np.zeros(px.shape[0], np.int8)
        with np.errstate(invalid="ignore"):
            s[px <= bid + 1e-9] = -1
            s[px >= ask - 1e-9] = 1
        side[m] = s
    return side


def _venue_bid_before(md: MarketData, venue: int, t: np.ndarray) -> np.ndarray:
    r = last_row_at(md.quotes, t - 1, venue)
    return np.where(r >= 0, md.quotes.bid_px[np.maximum(r, 0), 0], np.nan)


def passive_markouts(md: MarketData, horizons_s=HORIZONS_S, venue: int | None = None) -> dict:
    """Mean passive bid-fill markout (bps, buyer's side; negative = adverse) per horizon, and the number of
    fills measured (module docstring). ``venue``: one venue's fills only (None: every venue)."""
    ts, mid = nbbo_mid(md)
    tr = md.trades
    side = trade_sides(md)
    sel = side < 0
    if venue is not None:
        sel &= tr.venue == venue
    at_bid = np.zeros(len(tr), bool)
    for v in np.unique(tr.venue[sel]):
        m = sel & (tr.venue == v)
        b = _venue_bid_before(md, int(v), tr.ts[m])
        at_bid[m] = np.abs(tr.price[m] - b) <= 1e-9
    t0 = tr.ts[at_bid]
    m0 = _mid_at(ts, mid, t0, strict=True)
    out: dict = {"fills": int(t0.size)}
    end = ts[-1] if ts.size else 0
    for h in horizons_s:
        th = t0 + int(round(h * NS_PER_SECOND))
        mh = _mid_at(ts, mid, th)
        ok = np.isfinite(m0) & np.isfinite(mh) & (th <= end)
        out[f"{h:g}s"] = float(np.mean((mh[ok] - m0[ok]) / m0[ok] * 1e4)) if ok.any() else None
    return out


@dataclass(frozen=True)
class CalibrationOptions:
    """Windows of the measurements (seconds)."""

    fade_window_s: float = 0.005
    replace_window_s: float = 0.05
    outflow_window_s: float = 60.0
    probe_every_s: float = 10.0
    probe_horizon_s: float = 30.0


def _mean(x) -> float | None:
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else None


def _finite(x) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


# ---------------------------------------------------------------------------------- per-venue measures
def _collapse(ts: np.ndarray) -> np.ndarray:
    """Indices of the last row of each run of equal times."""
    if ts.size == 0:
        return np.empty(0, np.int64)
    return np.flatnonzero(np.r_[ts[1:] != ts[:-1], True])


def _cum_prints(md: MarketData, venue: int, side: np.ndarray, want: int):
    m = (md.trades.venue == venue) & (side == want)
    t = md.trades.ts[m]
    c = np.r_[0, np.cumsum(md.trades.size[m])]
    return lambda a, b: c[np.searchsorted(t, b, side="right")] - c[np.searchsorted(t, a, side="right")]


def cancel_stats(md: MarketData, venue: int, side: np.ndarray, replace_window_s: float) -> tuple[float, float]:
    """``(cancel events per second, replace share)`` of one venue (module docstring), both touch sides."""
    q = md.quotes
    rows = np.flatnonzero(q.venue == venue)
    rows = rows[_collapse(q.ts[rows])]
    if rows.size < 2:
        return 0.0, 0.0
    ts = q.ts[rows]
    span = max((ts[-1] - ts[0]) / NS_PER_SECOND, 1e-9)
    events, replaced = 0, 0
    win = int(replace_window_s * NS_PER_SECOND)
    for px_a, sz_a, want in ((q.bid_px, q.bid_sz, -1), (q.ask_px, q.ask_sz, 1)):
        px, sz = px_a[rows, 0], sz_a[rows, 0].astype(float)
        printed = _cum_prints(md, venue, side, want)(ts[:-1], ts[1:])
        same = np.isfinite(px[1:]) & (np.abs(px[1:] - px[:-1]) <= 1e-9)
        cancel = same & (sz[:-1] - sz[1:] - printed > 0)
        events += int(cancel.sum())
        # the change after a cancel: same price, size up, within the window
        nxt = np.r_[same[1:] & (sz[2:] > sz[1:-1]) & (ts[2:] - ts[1:-1] <= win), False]
        replaced += int((cancel & nxt).sum())
    return events / span, (replaced / events if events else 0.0)


def typical_size(md: MarketData, venue: int) -> float | None:
    """Median displayed touch size (shares) over the venue's rows, both sides (non-empty levels)."""
    m = md.quotes.venue == venue
    s = np.r_[md.quotes.bid_sz[m, 0], md.quotes.ask_sz[m, 0]]
    s = s[s > 0]
    return float(np.median(s)) if s.size else None


def bid_outflow(md: MarketData, venue: int, window_s: float) -> dict:
    """Best-bid queue outflow (shares) per window: size decreases at an unchanged bid plus the whole level when
    the bid falls; ``{"median": .., "p90": .., "windows": n}``."""
    q = md.quotes
    rows = np.flatnonzero(q.venue == venue)
    if rows.size < 2:
        return {"median": None, "p90": None, "windows": 0}
    ts, px, sz = q.ts[rows], q.bid_px[rows, 0], q.bid_sz[rows, 0].astype(float)
    same = np.abs(px[1:] - px[:-1]) <= 1e-9
    fell = np.isfinite(px[:-1]) & ~(px[1:] >= px[:-1] - 1e-9)
    out = np.where(same, np.maximum(sz[:-1] - sz[1:], 0.0), np.where(fell, sz[:-1], 0.0))
    w = int(window_s * NS_PER_SECOND)
    nwin = int((ts[-1] - ts[0]) // w)
    if nwin < 1:
        return {"median": None, "p90": None, "windows": 0}
    b = (ts[1:] - ts[0]) // w
    keep = b < nwin
    per = np.bincount(b[keep].astype(np.int64), weights=out[keep], minlength=nwin)
    return {"median": float(np.median(per)), "p90": float(np.quantile(per, 0.9)), "windows": nwin}


def fade_fraction(md: MarketData, venue: int, side: np.ndarray, window_s: float) -> tuple[float | None, int]:
    """``(mean fade, pairs)`` of venue ``venue``'s displayed ask after buyer-initiated prints elsewhere at its
    ask price (module docstring)."""
    tr, q = md.trades, md.quotes
    m = (side > 0) & (tr.venue != venue)
    t, p = tr.ts[m], tr.price[m]
    r0 = last_row_at(q, t - 1, venue)
    r1 = last_row_at(q, t + int(window_s * NS_PER_SECOND), venue)
    ok = r0 >= 0
    a0 = np.where(ok, q.ask_px[np.maximum(r0, 0), 0], np.nan)
    s0 = np.where(ok, q.ask_sz[np.maximum(r0, 0), 0], 0).astype(float)
    hit = ok & (np.abs(a0 - p) <= 1e-9) & (s0 > 0)
    if not hit.any():
        return None, 0
    a1 = q.ask_px[r1[hit], 0]
    s1 = q.ask_sz[r1[hit], 0].astype(float)
    p0, z0 = p[hit], s0[hit]
    with np.errstate(invalid="ignore"):
        better = a1 < p0 - 1e-9        # the venue improved its ask: the size left at p is unknown
        at = np.abs(a1 - p0) <= 1e-9
        left = np.where(at, s1, 0.0)    # moved away (or emptied): all of it faded
    f = np.clip((z0 - left) / z0, 0.0, 1.0)[~better]
    return (float(f.mean()) if f.size else None), int(f.size)


def queue_probes(md: MarketData, venue: int, side: np.ndarray, model, every_s: float, horizon_s: float,
                 positions=QUEUE_POSITIONS) -> tuple[list[float | None], float | None]:
    """``(fill probability per queue position, time-weighted position of back-joined probes)`` (module
    docstring); ``model`` a :class:`~sorlib.sim.queue.QueueModel`."""
    from .queue import QueueState, fill_from_prints

    q, tr = md.quotes, md.trades
    rows = np.flatnonzero(q.venue == venue)
    tsel = np.flatnonzero((tr.venue == venue) & (side < 0))
    if rows.size < 2:
        return [None] * len(positions), None
    qts, tts = q.ts[rows], tr.ts[tsel]
    step, hor = int(every_s * NS_PER_SECOND), int(horizon_s * NS_PER_SECOND)
    t_end = int(qts[-1]) - hor
    filled = np.zeros(len(positions))
    n = 0
    tw_sum, tw_n = 0.0, 0
    for t0 in range(int(qts[0]) + step, t_end, step):
        k = int(np.searchsorted(qts, t0, side="right")) - 1
        r = rows[k]
        p, L = float(q.bid_px[r, 0]), float(q.bid_sz[r, 0])
        if not (math.isfinite(p) and L > 0):
            continue
        k1 = int(np.searchsorted(qts, t0 + hor, side="right"))
        j0, j1 = int(np.searchsorted(tts, t0, side="right")), int(np.searchsorted(tts, t0 + hor, side="right"))
        ev_t = np.r_[tts[j0:j1], qts[k + 1:k1]]
        ev_k = np.r_[np.zeros(j1 - j0, np.int8), np.ones(k1 - k - 1, np.int8)]
        ev_i = np.r_[tsel[j0:j1], rows[k + 1:k1]]
        order = np.lexsort((ev_k, ev_t))  # prints before quote rows at equal times
        n += 1
        for pi, x in enumerate(positions):
            st = QueueState(front=x * L, level=L)
            done, last_t, acc = False, t0, 0.0
            for o in order:
                et, kind, idx = int(ev_t[o]), ev_k[o], ev_i[o]
                if pi == len(positions) - 1:
                    acc += st.position * (et - last_t)
                    last_t = et
                if kind == 0:
                    if fill_from_prints(model, st, 1, p, tr.price[idx:idx + 1], tr.size[idx:idx + 1]) > 0:
                        done = True
                        break
                else:
                    b, s = float(q.bid_px[idx, 0]), float(q.bid_sz[idx, 0])
                    if not math.isfinite(b) or b < p - 1e-9:
                        st.front, st.level, st.printed = 0.0, 0.0, 0.0
                    elif abs(b - p) <= 1e-9 and s != st.level:
                        model.on_level(st, s)
            if pi == len(positions) - 1:
                if not done:
                    acc += st.position * (t0 + hor - last_t)
                tw_sum += acc / hor
                tw_n += 1
            filled[pi] += done
    if n == 0:
        return [None] * len(positions), None
    return [float(f / n) for f in filled], (tw_sum / tw_n if tw_n else None)


# ------------------------------------------------------------------------------------ MBO: cancel bias
def cancel_positions_mbo(path) -> dict[int, np.ndarray]:
    """Relative queue positions u ∈ (0, 1) of cancelled shares in a Databento MBO CSV, per publisher.

    Each price level is a FIFO queue of orders (adds join the back; fills, trades and cancels remove shares;
    a clear empties the book). For a cancel of ``c`` shares of an order with ``a`` shares ahead of it at a
    level of ``L`` shares, ``u = (a + c/2) / L`` (the middle of the cancelled shares). Levels with a single
    order carry no position information and are skipped."""
    import pandas as pd

    df = pd.read_csv(path, usecols=["ts_event", "publisher_id", "action", "side", "price", "size", "order_id"])
    out: dict[int, list[float]] = {}
    books: dict[int, dict] = {}
    for pub, act, sd, px, sz, oid in zip(df["publisher_id"].to_numpy(), df["action"].to_numpy(), df["side"].to_numpy(),
                                         df["price"].to_numpy(), df["size"].to_numpy(), df["order_id"].to_numpy(),
                                         strict=True):
        pub = int(pub)
        book = books.setdefault(pub, {"levels": {}, "orders": {}})
        if act == "R":
            book["levels"].clear()
            book["orders"].clear()
            continue
        if act == "A":
            key = (sd, round(float(px), 9))
            book["levels"].setdefault(key, {})[oid] = int(sz)
            book["orders"][oid] = key
            continue
        if act in ("C", "F", "M") and oid in book["orders"]:
            key = book["orders"][oid]
            level = book["levels"][key]
            if act == "C" and len(level) >= 2:
                total = sum(level.values())
                ahead = 0
                for o, s in level.items():
                    if o == oid:
                        break
                    ahead += s
                c = min(int(sz), level[oid])
                if total > 0 and c > 0:
                    out.setdefault(pub, []).append((ahead + c / 2.0) / total)
            if act == "M":  # a modify loses priority: re-join at the back with the new size
                level.pop(oid)
                nkey = (sd, round(float(px), 9))
                book["levels"].setdefault(nkey, {})[oid] = int(sz)
                book["orders"][oid] = nkey
                continue
            left = level[oid] - int(sz)
            if left > 0:
                level[oid] = left
            else:
                level.pop(oid)
                book["orders"].pop(oid)
                if not level:
                    book["levels"].pop(key)
    return {k: np.asarray(v) for k, v in out.items()}


def fit_cancel_bias(u: np.ndarray) -> float | None:
    """Maximum-likelihood n of the density n·u^(n−1) on (0, 1] (CDF u^n): ``n = −N / Σ ln u``."""
    u = np.asarray(u, float)
    u = u[(u > 0) & (u <= 1)]
    s = -np.log(u).sum()
    return float(u.size / s) if u.size and s > 0 else None


def fit_cancel_bias_mbo(path) -> dict[int, dict]:
    """Per publisher: ``{"cancel_bias": n, "cancels": N, "mean_position": mean u}`` from an MBO CSV."""
    return {k: {"cancel_bias": fit_cancel_bias(u), "cancels": int(u.size),
                "mean_position": float(u.mean()) if u.size else None}
            for k, u in cancel_positions_mbo(path).items()}


# ------------------------------------------------------------------------------------------- the fit
def feed_latency_us(md: MarketData) -> dict[int, float]:
    """Median ``ts_recv − ts_event`` per venue, µs ({} when the data have no receive times)."""
    try:
        from .latency import estimate_latency
    except ImportError:  # pragma: no cover - the latency model ships with sorlib.sim
        return {int(k): float(v) for k, v in getattr(md, "feed_latency_us", {}).items()}
    return estimate_latency(md)


def calibrate(md: MarketData, options: CalibrationOptions | None = None, *, cancel_bias: dict[int, float] | None = None,
              queue_power: float = 1.0) -> dict:
    """Fit every venue of ``md``: ``{"venues": {key: {profile fields...}}, "market": {...}, "notes": [...]}``.

    Profile fields are those of :class:`~sorlib.venues.VenueProfile` (None when the data cannot tell);
    ``cancel_bias`` (venue → n, e.g. from :func:`fit_cancel_bias_mbo`) sets ``queue_cancel_bias`` and the
    power3 exponent of the probes, ``queue_power`` is the exponent for the other venues."""
    from .queue import ProbQueue

    o = options or CalibrationOptions()
    cancel_bias = cancel_bias or {}
    side = trade_sides(md)
    lat = feed_latency_us(md)
    venues: dict[int, dict] = {}
    extra: dict[int, dict] = {}
    for v in md.venues.tolist():
        v = int(v)
        if not (md.quotes.venue == v).any():
            continue
        n = cancel_bias.get(v)
        rate, rep = cancel_stats(md, v, side, o.replace_window_s)
        fade, pairs = fade_fraction(md, v, side, o.fade_window_s)
        probs, tw = queue_probes(md, v, side, ProbQueue("power3", n or queue_power), o.probe_every_s,
                                 o.probe_horizon_s)
        venues[v] = {"name": md.venue_name(v), "latency_us": lat.get(v), "queue_cancel_bias": n,
                     "cancel_rate_hz": rate, "replace_share": rep, "queue_position_tw": tw,
                     "fade_fraction": fade, "typical_size": typical_size(md, v),
                     "fill_prob_by_position": None if any(p is None for p in probs) else probs}
        mk = passive_markouts(md, venue=v)
        extra[v] = {"fade_pairs": pairs, "bid_outflow": bid_outflow(md, v, o.outflow_window_s),
                    "markouts_bps": mk}
    ts, mid = nbbo_mid(md)
    market = {"passive_markouts_bps": passive_markouts(md), "median_mid": _finite(np.nanmedian(mid)) if
              np.isfinite(mid).any() else None, "impact_inputs": impact_inputs(md)}
    return {"venues": venues, "per_venue_figures": extra, "market": market, "options": o.__dict__}


def impact_inputs(md: MarketData) -> dict | None:
    """The impact model's daily σ ($/share) and V (shares) of this data, whole (:func:`~sorlib.sim.impact.
    estimate_impact_inputs`): for replaying a *later* day, pass them as the impact model's
    ``fallback_sigma_daily`` / ``fallback_volume_daily`` (the values used while that day has too little
    history of its own). None without prints."""
    from .impact import estimate_impact_inputs

    if len(md.trades) < 2:
        return None
    e = estimate_impact_inputs(md)
    return {"fallback_sigma_daily": e.sigma_daily, "fallback_volume_daily": e.volume_daily, "bars": e.bars}


# -------------------------------------------------------------------------------------- TOML output
_PROFILE_KEYS = ("latency_us", "queue_cancel_bias", "cancel_rate_hz", "replace_share", "queue_position_tw",
                 "fade_fraction", "typical_size", "fill_prob_by_position")


def _toml_value(v) -> str:
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return repr(round(float(v), 6))


def to_toml(fit: dict, source: str = "") -> str:
    """A ``--venues`` file of the fitted profiles (:class:`~sorlib.venues.VenueTable` reads it back); the
    market-wide and per-venue figures that are not profile fields are written as comments."""
    from ..venues import BOUNDS

    lines = ["# sorlib calibrate" + (f": {source}" if source else ""),
             "# Fitted per-venue execution parameters (see sorlib.sim.calibrate for every definition).",
             "# Fees are not in the data: this file leaves them to the packaged table (merge it with --venues)."]
    mk = fit["market"]["passive_markouts_bps"]
    lines.append("# passive bid-fill markouts, bps (buyer's side, negative = adverse): "
                 + ", ".join(f"{h} {mk[h]:+.3f}" for h in mk if h != "fills" and mk[h] is not None)
                 + f" over {mk['fills']} fills")
    imp = fit["market"].get("impact_inputs")
    if imp:
        lines.append("# impact inputs of this data, for replaying a later day (market model impact): "
                     f"fallback_sigma_daily = {imp['fallback_sigma_daily']:.6g} ($/share), "
                     f"fallback_volume_daily = {imp['fallback_volume_daily']:.6g} (shares)")
    for key, v in fit["venues"].items():
        f = fit["per_venue_figures"][key]
        lines += ["", f"[venue.{key}]", f"name = {_toml_value(v['name'])}"]
        o, m = f["bid_outflow"], f["markouts_bps"]
        lines.append(f"# bid outflow per window: median {o['median']}, p90 {o['p90']} shares; fade pairs "
                     f"{f['fade_pairs']}; markouts " + ", ".join(f"{h} {m[h]:+.3f}" for h in m
                                                                 if h != "fills" and m[h] is not None))
        for k in _PROFILE_KEYS:
            val = v.get(k)
            if val is None:
                continue
            if k in BOUNDS:
                lo, hi, _ = BOUNDS[k]
                val = min(max(float(val), lo), hi)
            lines.append(f"{k} = {_toml_value(val)}")
    return "\n".join(lines) + "\n"
