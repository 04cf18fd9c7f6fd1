"""The synthetic multi-venue market: a queue-reactive model around one latent efficient price.

State.  An efficient price ``x`` on a half-tick grid (tick 0.01 $) and, for every venue k, a touch
``bid_k < ask_k`` (ticks) with queues ``Q^b_k, Q^a_k`` (lots of 100 shares).  Time is continuous; events
are drawn one at a time (Gillespie): the next event comes after ``Exp(sum of rates)`` and is event *i* with
probability ``rate_i / sum``.  Every rate is re-evaluated after every event.

Efficient price.  ``x -> x ± tick/2`` at rate ``lambda_x f(t)``, with
``lambda_x = (sigma_day * price0 / (tick/2))**2 / 23400 s`` (a random walk with daily volatility
``sigma_day``) and the U-shaped diurnal profile ``f(t) = c + a e^{-t/tau} + b e^{-(T-t)/tau}`` (mean 1).

Queue-reactive touch dynamics (Huang-Lehalle-Rosenbaum style), per venue and side, with
``u = Q / Qbar_k`` the queue relative to the venue's typical queue:

* limit adds at the touch   ``lambda_L(u) = f a_k * 2 / (1 + u)``        size ~ Geometric(p) lots
* cancels at the touch      ``lambda_C(u) = f c_k * u``                   size min(Q, Geometric(p))
* uninformed market orders  ``lambda_M(u) = f m_k * (1/2 + 1/(1 + u))``   size min(Q, 1 or 2 + Lomax)

with ``m_k = trade_rate w^T_k / 2``, ``B_k = book_rate w^B_k / 2`` (venue weights renormalised over the K
venues), ``a_k = (B_k + 0.6 m_k / p) / 2`` and ``c_k = max(B_k - a_k, B_k / 10)``.

Venues and the efficient price.  With ``e`` the edge a taker gets on a quote (bid: ``bid - x``, ask:
``x - ask``, in ticks), a stale quote (``e > 0``) is sniped by informed market orders at rate
``s_k snipe e`` and withdrawn whole at rate ``s_k pull e``.  When the spread is at least two ticks, a
liquidity provider improves a side by one tick at rate ``s_k improve (1 + room)`` if the new price does not
give edge (``bid + 1 <= x``, ``ask - 1 >= x``) and does not lock or cross another venue's opposite touch
(Reg NMS).  When a touch queue is depleted (trade, cancel or pull) the quote moves one tick away and the
next level, of Geometric(1/Qbar_k) lots, becomes the touch.  So a book is never crossed, the spread is
mostly 1 tick and sometimes 2+, and venue quotes follow ``x`` through trades and cancellations -- the
queue outflows a Cont-Kukanov router samples.

Informed flow (model v3, :mod:`.informed`).  Each uninformed market order of ``n`` lots adds
``floor(a sqrt(n) + U)`` half-ticks of pending drift its way, each reaching the efficient price after an
``Exp(decay_s)`` wait; snipes add none.  Calibrated (``a = 1.2``, ``decay_s = 0.1`` s) so that passive-fill
markouts sit inside the range of the LOBSTER samples (docs/reference/synthetic-day.md).  The diffusive rate is
lowered by ``trade_rate E[J^2]`` (floor: a fifth of it).  Model v2 instead moved the efficient price half a tick
the trade's way with probability ``impact_prob`` = 0.6 after every market order, snipes included (passive-fill
markouts about half the real ones); ``adverse_params("v2")`` reproduces that day bit for bit, and ``impact_prob``
lowers the diffusive rate by ``impact_prob * trade_rate * (1 + impact_share)``.

Output.  Every event is one book row (MBP-1 state of that venue after it).  A market order is, as in
Databento MBP-1, a trade plus two book rows with the trade's timestamp: the book as the trade printed (the
``T`` record's levels, unchanged) and then the book after its size left the touch.
Deterministic per seed: ``numpy.random.Generator(PCG64(seed))`` drives the numba event loop.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
from numba import njit

from ..data.market import LoadReport, MarketData, Quotes, Trades
from ..errors import ConfigError
from .calibration import MODEL_VERSION, VENUE_NAMES, VENUE_ORDER, ModelParams

TICK = 0.01
LOT = 100
SESSION_SECONDS = 23_400.0  # 09:30-16:00
MAX_VENUES = len(VENUE_ORDER)

# event kinds (per venue and side) in the rate vector
_LIMIT, _CANCEL, _MARKET, _SNIPE, _PULL, _IMPROVE = range(6)
_NKIND = 6
# quote actions recorded by the kernel (ACT_TRADE: the book as the trade printed, before its size leaves)
ACT_ADD, ACT_CANCEL, ACT_TRADE = 0, 1, 2


@njit(cache=True)
def _diurnal(tau, base, a_open, a_close, tau_d, session):
    if tau < 0.0 or tau > session:
        return 0.3 * base
    return base + a_open * math.exp(-tau / tau_d) + a_close * math.exp(-(session - tau) / tau_d)


@njit(cache=True)
def _trade_lots(rng, p1, tail, cap):
    if rng.random() < p1:
        return 1
    n = 2 + int(math.floor(rng.pareto(tail)))
    return min(n, cap)


@njit(cache=True)
def _simulate(rng, duration, tau0, x0, qbar, a_rate, c_rate, m_rate, speed, lam_x, snipe, pull, improve,
              limit_p, trade_p1, trade_tail, max_trade, d_base, d_open, d_close, d_tau, session,
              cap_q, cap_t, impact_p, drift_a, drift_tau):
    """The event loop.  Times in seconds from the start; prices in ticks (x in half-ticks); sizes in lots.
    ``drift_a``, ``drift_tau``: the informed drift of :mod:`.informed` (off when ``drift_a == 0``).

    Returns ``(nq, nt, quote arrays..., trade arrays...)``; ``nq == -1`` when a capacity was too small.
    """
    K = qbar.shape[0]
    X = x0
    bid = np.empty(K, np.int64)
    ask = np.empty(K, np.int64)
    bq = np.empty(K, np.int64)
    aq = np.empty(K, np.int64)
    q_t = np.empty(cap_q, np.float64)
    q_v = np.empty(cap_q, np.int32)
    q_act = np.empty(cap_q, np.int8)
    q_side = np.empty(cap_q, np.int8)
    q_bp = np.empty(cap_q, np.int64)
    q_bs = np.empty(cap_q, np.int64)
    q_ap = np.empty(cap_q, np.int64)
    q_as = np.empty(cap_q, np.int64)
    t_t = np.empty(cap_t, np.float64)
    t_v = np.empty(cap_t, np.int32)
    t_px = np.empty(cap_t, np.int64)
    t_sz = np.empty(cap_t, np.int64)
    t_side = np.empty(cap_t, np.int8)
    nq = 0
    nt = 0
    # opening books: a bid row (ask still empty), then the ask row
    for k in range(K):
        bid[k] = (X - 1) // 2
        ask[k] = bid[k] + 1
        bq[k] = rng.geometric(1.0 / qbar[k])
        aq[k] = rng.geometric(1.0 / qbar[k])
        for s in range(2):
            q_t[nq] = 0.0
            q_v[nq] = k
            q_act[nq] = ACT_ADD
            q_side[nq] = s
            q_bp[nq] = bid[k]
            q_bs[nq] = bq[k]
            q_ap[nq] = ask[k] if s == 1 else -1
            q_as[nq] = aq[k] if s == 1 else 0
            nq += 1
    nr = K * 2 * 6
    rates = np.empty(nr + 2)
    pend = 0  # informed drift not yet in the efficient price (signed half-ticks)
    t = 0.0
    while True:
        f = _diurnal(tau0 + t, d_base, d_open, d_close, d_tau, session)
        total = 0.0
        for k in range(K):
            # the other venues' best opposite prices (for the no-lock rule)
            other_ask = 1 << 60
            other_bid = -(1 << 60)
            for j in range(K):
                if j != k:
                    if ask[j] < other_ask:
                        other_ask = ask[j]
                    if bid[j] > other_bid:
                        other_bid = bid[j]
            for s in range(2):
                base = (k * 2 + s) * 6
                q = bq[k] if s == 0 else aq[k]
                u = q / qbar[k]
                lim = f * a_rate[k] * 2.0 / (1.0 + u)
                can = f * c_rate[k] * u
                mkt = f * m_rate[k] * (0.5 + 1.0 / (1.0 + u))
                if s == 0:
                    edge = (2 * bid[k] - X) * 0.5
                else:
                    edge = (X - 2 * ask[k]) * 0.5
                sn = 0.0
                pl = 0.0
                if edge > 0.0:
                    sn = speed[k] * snipe * edge
                    pl = speed[k] * pull * edge
                im = 0.0
                if ask[k] - bid[k] >= 2:
                    if s == 0:
                        nb = bid[k] + 1
                        if 2 * nb <= X and nb < other_ask:
                            im = speed[k] * improve * (1.0 + (X - 2 * nb) * 0.5)
                    else:
                        na = ask[k] - 1
                        if 2 * na >= X and na > other_bid:
                            im = speed[k] * improve * (1.0 + (2 * na - X) * 0.5)
                rates[base + _LIMIT] = lim
                rates[base + _CANCEL] = can
                rates[base + _MARKET] = mkt
                rates[base + _SNIPE] = sn
                rates[base + _PULL] = pl
                rates[base + _IMPROVE] = im
                total += lim + can + mkt + sn + pl + im
        rates[nr] = lam_x * f
        total += rates[nr]
        rates[nr + 1] = abs(pend) / drift_tau if pend != 0 else 0.0
        total += rates[nr + 1]
        t += rng.exponential(1.0 / total)
        if t >= duration:
            break
        r = rng.random() * total
        i = 0
        acc = rates[0]
        while acc <= r and i < nr + 1:
            i += 1
            acc += rates[i]
        if i == nr + 1 and pend != 0:  # one pending half-tick of informed drift reaches the price
            step = 1 if pend > 0 else -1
            X += step
            pend -= step
            continue
        if i >= nr:  # efficient price move
            X += 1 if rng.random() < 0.5 else -1
            continue
        k = i // 12
        s = (i // 6) % 2
        kind = i % 6
        q = bq[k] if s == 0 else aq[k]
        px = bid[k] if s == 0 else ask[k]
        act = ACT_ADD
        if kind == _LIMIT:
            q += rng.geometric(limit_p)
        elif kind == _IMPROVE:
            px = px + 1 if s == 0 else px - 1
            q = rng.geometric(limit_p)
        else:
            act = ACT_CANCEL
            if kind == _CANCEL:
                size = min(q, rng.geometric(limit_p))
            elif kind == _PULL:
                size = q
            else:  # market order (uninformed or snipe) hitting this side
                size = min(q, _trade_lots(rng, trade_p1, trade_tail, max_trade))
                if nt >= cap_t or nq + 1 >= cap_q:
                    return (-1, -1, q_t, q_v, q_act, q_side, q_bp, q_bs, q_ap, q_as,
                            t_t, t_v, t_px, t_sz, t_side)
                q_t[nq] = t
                q_v[nq] = k
                q_act[nq] = ACT_TRADE
                q_side[nq] = s
                q_bp[nq] = bid[k]
                q_bs[nq] = bq[k]
                q_ap[nq] = ask[k]
                q_as[nq] = aq[k]
                nq += 1
                t_t[nt] = t
                t_v[nt] = k
                t_px[nt] = px
                t_sz[nt] = size
                t_side[nt] = -1 if s == 0 else 1
                nt += 1
                # permanent impact / informed flow: the efficient price moves half a tick the trade's way
                if impact_p > 0.0 and rng.random() < impact_p:
                    X += -1 if s == 0 else 1
                if drift_a > 0.0 and kind == _MARKET:  # informed drift (module .informed): not after snipes,
                    # whose information is already in X
                    jump = int(math.floor(drift_a * math.sqrt(size) + rng.random()))
                    pend += -jump if s == 0 else jump
            q -= size
            if q == 0:  # touch depleted: the next level becomes the touch
                px = px - 1 if s == 0 else px + 1
                q = rng.geometric(1.0 / qbar[k])
        if s == 0:
            bid[k] = px
            bq[k] = q
        else:
            ask[k] = px
            aq[k] = q
        if nq >= cap_q:
            return -1, -1, q_t, q_v, q_act, q_side, q_bp, q_bs, q_ap, q_as, t_t, t_v, t_px, t_sz, t_side
        q_t[nq] = t
        q_v[nq] = k
        q_act[nq] = act
        q_side[nq] = s
        q_bp[nq] = bid[k]
        q_bs[nq] = bq[k]
        q_ap[nq] = ask[k]
        q_as[nq] = aq[k]
        nq += 1
    return nq, nt, q_t, q_v, q_act, q_side, q_bp, q_bs, q_ap, q_as, t_t, t_v, t_px, t_sz, t_side


@njit(cache=True)
def _to_ns(t, t0_ns):
    """Seconds from the start -> strictly increasing int64 ns (ties only where the input ties)."""
    out = np.empty(t.shape[0], np.int64)
    last = np.int64(-1)
    prev = -1.0
    for i in range(t.shape[0]):
        v = t0_ns + np.int64(t[i] * 1e9)
        if t[i] == prev:
            v = last
        elif v <= last:
            v = last + 1
        out[i] = v
        last = v
        prev = t[i]
    return out


def parse_hhmm(text: str) -> tuple[int, int]:
    """``"HH:MM"`` -> (hours, minutes); :class:`ConfigError` when malformed."""
    parts = str(text).split(":")
    if len(parts) != 2 or not all(p.isdigit() and 1 <= len(p) <= 2 for p in parts):
        raise ConfigError(f"start time must be HH:MM (e.g. 09:30), got {text!r}")
    h, m = int(parts[0]), int(parts[1])
    if h > 23 or m > 59:
        raise ConfigError(f"start time must be HH:MM with HH <= 23 and MM <= 59, got {text!r}")
    return h, m


def check_options(venues: int, minutes: float, start: str, date: str) -> pd.Timestamp:
    """Validate the generator's options; returns the start instant (tz-aware, America/New_York)."""
    if isinstance(venues, bool) or not isinstance(venues, int | np.integer) or not 1 <= venues <= MAX_VENUES:
        raise ConfigError(f"venues must be an integer in 1..{MAX_VENUES}, got {venues!r}")
    if not isinstance(minutes, int | float | np.integer | np.floating) or not 0 < minutes <= 24 * 60:
        raise ConfigError(f"minutes must be in (0, 1440], got {minutes!r}")
    h, m = parse_hhmm(start)
    try:
        day = pd.Timestamp(date)
    except (ValueError, TypeError):
        raise ConfigError(f"date must be YYYY-MM-DD, got {date!r}") from None
    if day.tzinfo is not None or day != day.normalize():
        raise ConfigError(f"date must be a plain YYYY-MM-DD, got {date!r}")
    return (day + pd.Timedelta(hours=h, minutes=m)).tz_localize("America/New_York")


def generate_market(venues: int = 5, seed: int = 0, start: str = "09:30", minutes: float = 390,
                    date: str = "2024-03-15", symbol: str = "SYNT", *,
                    params: ModelParams | None = None, shock=None) -> MarketData:
    """A synthetic day of MBP-1 book updates and trades on ``venues`` venues (publisher ids
    :data:`~.calibration.VENUE_ORDER`, first ``venues``), from ``start`` (ET) for ``minutes``.

    Deterministic: the same arguments give bit-identical arrays.  See the module docstring for the model.
    ``shock``: a :class:`~.shock.Shock` (price jump or halt) applied to the generated records, or None (the
    default: no shock, the day unchanged).
    """
    if shock is not None:
        from .shock import Shock

        if not isinstance(shock, Shock):
            raise ConfigError(f"shock must be a sorlib.synth.Shock or None, got {type(shock).__name__}")
    p = params or ModelParams()
    t_start = check_options(venues, minutes, start, date)
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    beh = p.behaviour[:venues]
    if len(beh) < venues:
        raise ConfigError(f"params.behaviour describes {len(beh)} venues, {venues} requested")
    bw = np.array([b.book_weight for b in beh])
    tw = np.array([b.trade_weight for b in beh])
    bw, tw = bw / bw.sum(), tw / tw.sum()
    qbar = np.array([b.queue_lots for b in beh], float)
    speed = np.array([b.speed for b in beh], float)
    m_rate = p.trade_rate * tw / 2.0                       # per side
    book = p.book_rate * bw / 2.0                          # limit + cancel per side at u = 1
    mean_limit = 1.0 / p.limit_p                           # lots per limit order
    a_rate = (book + 0.6 * m_rate * mean_limit) / 2.0      # adds ~ balance cancels + trades at u = 1
    c_rate = np.maximum(book - a_rate, 0.1 * book)
    lam_x = (p.daily_vol * p.price0 / (TICK / 2)) ** 2 / SESSION_SECONDS
    # trades now carry part of the efficient price's variance (impact_prob half-ticks per market order):
    # the diffusive rate keeps the rest, so the daily volatility stays near ``daily_vol``
    # (and the informed drift E[J^2] half-ticks^2 per market order, module .informed)
    jump2 = p.informed.jump_second_moment(p.trade_p1, p.trade_tail, p.max_trade_lots)
    lam_x = max(lam_x - p.impact_prob * p.trade_rate * (1.0 + p.impact_share) - jump2 * p.trade_rate, 0.2 * lam_x)
    tau_d = p.diurnal_tau
    excess = (p.diurnal_open + p.diurnal_close) * tau_d / SESSION_SECONDS
    d_base = 1.0 - excess
    open_ns = (t_start.normalize() + pd.Timedelta(hours=9, minutes=30)).value
    t0_ns = t_start.value
    tau0 = (t0_ns - open_ns) / 1e9
    duration = float(minutes) * 60.0
    x0 = int(round(p.price0 / TICK * 2)) | 1               # start on a half tick: a 1-tick spread
    est = duration * (p.book_rate + 3 * p.trade_rate + 2.0 * venues) * 1.5 + 1000
    cap_q, cap_t = int(est), int(duration * p.trade_rate * 4 + 1000)
    while True:
        rng = np.random.Generator(np.random.PCG64(int(seed)))
        out = _simulate(rng, duration, tau0, x0, qbar, a_rate, c_rate, m_rate, speed, lam_x,
                        p.snipe_rate, p.pull_rate, p.improve_rate, p.limit_p, p.trade_p1, p.trade_tail,
                        p.max_trade_lots, d_base, p.diurnal_open, p.diurnal_close, tau_d, SESSION_SECONDS,
                        cap_q, cap_t, p.impact_prob, p.informed.drift, p.informed.decay_s)
        if out[0] >= 0:
            break
        cap_q, cap_t = cap_q * 2, cap_t * 2
    nq, nt, q_t, q_v, _act, _side, q_bp, q_bs, q_ap, q_as, t_t, t_v, t_px, t_sz, t_side = out
    keys = np.array([b.publisher_id for b in beh], np.int32)
    # a market order and the book row removing its size share one timestamp
    all_t = np.concatenate([q_t[:nq], t_t[:nt]])
    order = np.argsort(all_t, kind="stable")
    ns_sorted = _to_ns(all_t[order], np.int64(t0_ns))
    ns = np.empty_like(ns_sorted)
    ns[order] = ns_sorted
    q_ns, t_ns = ns[:nq], ns[nq:]

    def px(ticks: np.ndarray) -> np.ndarray:
        out = ticks / 100.0
        out[ticks < 0] = np.nan
        return out

    quotes = Quotes(q_ns, keys[q_v[:nq]], px(q_bp[:nq])[:, None], (q_bs[:nq] * LOT)[:, None],
                    px(q_ap[:nq])[:, None], (q_as[:nq] * LOT)[:, None])
    trades = Trades(t_ns, keys[t_v[:nt]], t_px[:nt] / 100.0, t_sz[:nt] * LOT, t_side[:nt].astype(np.int8))
    report = LoadReport(source=f"synthetic:seed={seed},venues={venues},date={date},start={start},"
                               f"minutes={minutes:g}", format="synthetic", rows_read=nq + nt,
                        quote_rows=nq, trade_rows=nt)
    report.notes.append(f"sorlib.synth model v{MODEL_VERSION}: queue-reactive venues around one "
                        "efficient price")
    names = {int(k): VENUE_NAMES.get(int(k), str(int(k))) for k in keys}
    md = MarketData(quotes, trades, report, venue_names=names, symbol=symbol)
    if shock is not None:
        from .shock import apply_shock

        md = apply_shock(md, shock, int(t0_ns))
        md.report.notes.append(f"shock: {shock.kind} at minute {shock.at_minute:g} for {shock.duration_minutes:g} min"
                               + (f", {shock.size_pct:+g}%" if shock.kind == "jump" else ""))
        md = replace(md, report=replace(md.report, source=md.report.source + f",shock={shock.kind}:{shock.at_minute:g}"
                                        + (f":{shock.size_pct:g}" if shock.kind == "jump" else "")
                                        + f":{shock.duration_minutes:g}", quote_rows=len(md.quotes),
                                        trade_rows=len(md.trades), rows_read=len(md.quotes) + len(md.trades)))
    return md
