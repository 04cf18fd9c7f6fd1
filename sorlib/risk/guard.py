"""``RiskGuard(strategy, controls)``: a Strategy wrapper that applies the risk controls to any strategy.

Design. The guard sits between the engine and the strategy (the router, a baseline, a scheduled strategy)
and works through the one channel every allocator already reads, its :class:`MarketView`:

* **costs** (venue scores, latency in ``"cost"`` mode) are added to the venue's fee in the view the inner
  strategy gets, i.e. to its all-in price ($/share) — every allocator (spec/uncapped router, Best Ask,
  sweeps, Cont–Kukanov) prices venues by ask + fee, so the cost acts inside its optimisation;
* **caps** (exposure limits, latency in ``"cap"`` mode, stale quotes) shrink the view's available ask
  sizes, so the allocator re-optimises over what is left; the decision is then clipped to the caps again
  (marketable + resting shares, lot-rounded), which makes the exposure limit hold for resting orders too;
* **circuit breakers** (LULD band, data gaps and cleared books, kill switch) answer "nothing" (with a
  wake-up time) instead of calling the inner strategy.

The engine still records fills at the true fees (its own view), so costs steer routing without being
paid. Every control that acts appends a :class:`RiskEvent` (time, parent order, venue, rule, detail) to
``guard.events``; venue scores are logged to ``guard.score_rows`` whenever a venue's components change.
With every control off the guard passes the inner strategy's decisions through unchanged (bit-identical).

Look-ahead: the guard uses only its views (``view.past``, ``view.own_fills()``); state kept across the parent
orders of one replay (scores) is stamped with the time it became known and filtered by the decision time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..strategies.base import Decision, Strategy
from ..strategies.view import Fills, MarketView
from .controls import ExposureLimit, RiskControls
from .latency import stale_venues, touch_survival
from .scoring import VenueScorer

S = 1_000_000_000
ALL = -1  # venue key of an event that concerns every venue
SCORE_EVENT_USD = 0.001  # $/share: a venue-score cost at or above this is reported (once per rise)

#: every rule an event may carry
RULES = ("exposure_cap", "exposure_override", "venue_score", "stale_quote", "luld_halt", "luld_resume",
         "luld_reopen", "halt_gap", "halt_resume", "venue_cleared", "book_cleared", "kill_switch",
         "cleanup_while_stopped")


class RiskEvent(NamedTuple):
    """One control acting: ``time_ns``, parent ``order_id``, ``venue`` key (:data:`ALL` = every venue), ``rule``
    (one of :data:`RULES`), ``detail`` (text with units)."""

    time_ns: int
    order_id: int
    venue: int
    rule: str
    detail: str

    def to_dict(self, names: dict | None = None) -> dict:
        v = "all" if self.venue == ALL else (names or {}).get(self.venue, str(self.venue))
        return {"time": pd.Timestamp(int(self.time_ns), unit="ns", tz="UTC").isoformat(), "order": int(self.order_id),
                "venue": v, "rule": self.rule, "detail": self.detail}


def _touch(view: MarketView) -> tuple[float, list[int]]:
    """``(NBBO mid $, positions of the venues showing no bid and no ask)``. The mid is ½(highest bid + lowest
    level-0 ask) over the prices shown (NaN ignored), NaN when a side shows no finite price anywhere."""
    bids, asks = view.bid_px.tolist(), view.ask_px[:, 0].tolist()
    fb, fa = list(map(math.isfinite, bids)), list(map(math.isfinite, asks))
    gone = [] if all(fa) or all(fb) else [i for i, (a, b) in enumerate(zip(fa, fb, strict=True)) if not (a or b)]
    if not (any(fb) and any(fa)):
        return float("nan"), gone
    return 0.5 * (max([b for b in bids if b == b]) + min([a for a in asks if a == a])), gone


def _with(view: MarketView, fee: np.ndarray, avail: np.ndarray, fills: Fills) -> MarketView:
    """``view`` with other fees and available sizes, its own fills (``fills``, read once) kept for the inner
    strategy (``dataclasses.replace`` without its overhead)."""
    return MarketView(view.t_ns, view.order, view.remaining, view.filled, view.venues, view.ask_px, avail,
                      view.bid_px, view.bid_sz, fee, view.rebate, view.past, lambda: fills)


class RiskGuard(Strategy):
    """Risk controls around ``strategy`` (module docstring). ``profiles``: the venues'
    :class:`~sorlib.venues.VenueProfile` s (their ``latency_us`` is the latency horizon of the fade and of
    the latency-aware discount); ``latency_us``: venue key → µs overriding them."""

    def __init__(self, strategy: Strategy, controls: RiskControls | dict | None = None,
                 profiles: Sequence | None = None, latency_us: dict | None = None) -> None:
        self.inner = strategy
        self.controls = RiskControls.from_dict(controls) or RiskControls()
        self.name = strategy.name
        self.interval_ns = strategy.interval_ns
        self.overbooks = strategy.overbooks
        self.sizing = strategy.sizing
        lat = {int(p.key): float(p.latency_us) for p in (profiles or ())}
        lat.update({int(k): float(v) for k, v in (latency_us or {}).items()})
        self._lat_us = lat
        self.events: list[RiskEvent] = []
        self._score_rows: list[dict] = []
        self._score_log: list[tuple] = []  # (time, order, venues, scores, survival) per decision, not yet rows
        self._last_logged: tuple = (None, None)
        self._scorer: VenueScorer | None = None
        self._surv: dict[int, np.ndarray] = {}
        self._last_mat = None
        self._penalised: list[bool] | None = None  # per venue: score cost at or above SCORE_EVENT_USD
        self._order = None
        self._fills_cb = None

    # ------------------------------------------------------------------------------------ plumbing
    def set_sizing(self, rules) -> Strategy:
        if hasattr(self, "inner"):
            self.inner.set_sizing(rules)
            self.sizing = self.inner.sizing
        return self

    def params(self) -> dict:
        return self.inner.params()

    def decision_key(self) -> tuple:
        inner = (tuple(self.inner.decision_key()) if hasattr(self.inner, "decision_key")
                 else (type(self.inner).__name__, *sorted(self.inner.params().items())))
        return ("risk", repr(self.controls), tuple(sorted(self._lat_us.items())), *inner)

    def _event(self, t: int, venue: int, rule: str, detail: str) -> None:
        self.events.append(RiskEvent(int(t), int(self._order.order_id) if self._order else -1, int(venue), rule,
                                     detail))

    def _lat_ns(self, venues: np.ndarray) -> np.ndarray:
        scale = self.controls.latency.latency_scale if self.controls.latency is not None else 1.0
        return np.array([int(round(self._lat_us.get(int(v), 0.0) * scale * 1e3)) for v in venues.tolist()],
                        np.int64)

    # ---------------------------------------------------------------------------------- the order
    def begin(self, view: MarketView) -> None:
        c = self.controls
        if not c.is_off:
            if self._scorer is None and c.scoring is not None:
                self._scorer = VenueScorer(c.scoring, view.venues, self._lat_ns(view.venues))
            if self._scorer is not None and self._order is not None and self._fills_cb is not None:
                prev = self._fills_cb()
                # the previous order is over: attribute its last child orders (their observations keep the
                # times they became known, so an overlapping later order never sees them early)
                self._scorer.ingest(self._order.order_id, _only(prev, self._order.order_id), None, view.t_ns,
                                    final=True)
            self._order = view.order
            self._fills_cb = view.own_fills
            self._mid0 = _touch(view)[0]
            self._luld_ref = None  # frozen reference while halted
            self._luld_since = None
            self._gap = False
            self._killed = False
            self._cleared: set[int] = set()
            self._stale: set[int] = set()
            self._capped: set[int] = set()
        self.inner.begin(view)

    def decide(self, view: MarketView) -> Decision:
        c = self.controls
        if c.is_off:
            return self.inner.decide(view)
        t = view.t_ns
        k_n = view.ask_px.shape[0]
        fills = view.own_fills()
        self._fills_cb = view.own_fills
        mid, gone = _touch(view)
        if self._scorer is not None:
            self._scorer.ingest(view.order.order_id, fills, view.past, t)
        stop = self._breakers(view, fills, mid, len(gone) == k_n)
        if stop is not None:
            return Decision.nothing(k_n, stop)
        fee, avail = view.fee, view.ask_avail
        block = np.zeros(k_n, bool)  # venues that get nothing (stale or cleared)
        blocked = False
        extra = np.zeros(k_n)
        surv = None
        if c.latency is not None:
            surv = self._survival(view)
            if c.latency.mode == "cost":
                extra = extra + c.latency.miss_cost * (1.0 - surv)
            else:
                avail = np.floor(avail * surv[:, None]).astype(np.int64)
            if c.latency.max_quote_age_seconds is not None:
                block |= self._stale_check(view)
                blocked = bool(block.any())
        if self._scorer is not None:
            sc = self._scorer.score(t, mid)
            extra = extra + sc["cost"]
            self._log_scores(view, sc, surv)
        elif surv is not None:
            self._log_scores(view, None, surv)
        self._cleared_check(view, gone)
        if gone:
            block[gone] = blocked = True
        caps = None
        if c.exposure is not None:
            caps = self._exposure_caps(view, fills)
        if blocked:
            avail = np.where(block[:, None], 0, avail)
        if caps is not None:
            avail = _cap_ladder(view.ask_px, avail, caps[0], caps[1])
        if extra.any():
            fee = fee + extra
        inner_view = _with(view, fee, avail, fills)
        dec = self.inner.decide(inner_view)
        if caps is not None or blocked:
            dec = self._clip(view, dec, caps, block, avail)
        if self._scorer is not None:
            self._scorer.sent(view.order.order_id, t, dec.market, len(fills))
        return dec

    # ------------------------------------------------------------------------------------ breakers
    def _breakers(self, view: MarketView, fills: Fills, mid: float, cleared: bool) -> int | None:
        """None to route, else the time (ns) to look again (a circuit breaker or the kill switch holds);
        ``cleared``: no venue shows a bid or an ask."""
        c, t = self.controls, view.t_ns
        again = t + int(round(c.recheck_seconds * S))
        if self._killed:
            return int(view.order.deadline_ns)
        if c.kill_bps is not None and len(fills) and np.isfinite(self._mid0):
            q = fills.qty.sum()
            avg = float((fills.cash).sum() / q)
            slip = (avg - self._mid0) / self._mid0 * 1e4
            if slip > c.kill_bps:
                self._killed = True
                self._event(t, ALL, "kill_switch", f"realised slippage {slip:+.1f} bps vs arrival mid "
                            f"{self._mid0:.4f} $ exceeds {c.kill_bps:g} bps after {int(q):,} shares; "
                            f"{view.remaining:,} shares left to the deadline clean-up")
                return int(view.order.deadline_ns)
        if c.halt_gap_seconds is not None:
            gap_ns = int(round(c.halt_gap_seconds * S))
            start = t - 2 * gap_ns
            times = view.past.quote_times(start, t + 1)
            d = np.diff(np.concatenate(([start], times, [t])))
            if d[0] > gap_ns and not view.past.quote_times(start - 600 * S, start).shape[0]:
                d[0] = 0  # nothing before the window either: the data start, not a gap
            big = np.flatnonzero(d > gap_ns)
            # halted: no record for longer than the gap, or a gap ended less than a gap ago (reopening)
            halted = times.shape[0] == 0 or big.size > 0 and (
                big[-1] == d.shape[0] - 1 or t - int(times[big[-1]]) < gap_ns)
            if halted and not self._gap:
                self._gap = True
                last = int(times[-1]) if times.shape[0] else None
                self._event(t, ALL, "halt_gap", (f"no quote record for more than {c.halt_gap_seconds:g} s"
                                                 + (f" (a gap ended at {_hms(int(times[big[-1]]))}; waiting "
                                                    f"{c.halt_gap_seconds:g} s of quotes)" if last else "")))
            elif not halted and self._gap:
                self._gap = False
                self._event(t, ALL, "halt_resume", f"quotes flowing for {c.halt_gap_seconds:g} s again")
            if halted:
                return again
        if cleared:
            if ALL not in self._cleared:
                self._cleared.add(ALL)
                self._event(t, ALL, "book_cleared", "no venue shows a bid or an ask: treated as a halt")
            return again
        self._cleared.discard(ALL)
        if c.luld_band_pct is not None and np.isfinite(mid):
            ref = self._luld_ref
            if ref is None:
                px = view.past.trade_prices(t - int(round(c.luld_reference_minutes * 60 * S)), t + 1)
                ref = float(px.mean()) if len(px) else mid
            dev = (mid / ref - 1.0) * 100.0
            out = abs(dev) > c.luld_band_pct
            if out and self._luld_ref is None:
                self._luld_ref, self._luld_since = ref, t
                self._event(t, ALL, "luld_halt", f"mid {mid:.4f} $ is {dev:+.2f}% from the reference {ref:.4f} $ "
                            f"({c.luld_reference_minutes:g}-min mean trade price), band ±{c.luld_band_pct:g}%")
                return again
            if self._luld_ref is not None:
                if not out:
                    self._event(t, ALL, "luld_resume", f"mid {mid:.4f} $ back within ±{c.luld_band_pct:g}% of "
                                f"{ref:.4f} $ after {(t - self._luld_since) / S:.1f} s")
                    self._luld_ref = self._luld_since = None
                elif t - self._luld_since >= int(round(c.luld_max_pause_minutes * 60 * S)):
                    self._event(t, ALL, "luld_reopen", f"paused {(t - self._luld_since) / S:.0f} s "
                                f"(max {c.luld_max_pause_minutes:g} min): reference reset, mid {mid:.4f} $")
                    self._luld_ref = self._luld_since = None
                    px = view.past.trade_prices(t - int(round(c.luld_reference_minutes * 60 * S)), t + 1)
                    ref = float(px.mean()) if len(px) else mid
                    if abs(mid / ref - 1.0) * 100.0 > c.luld_band_pct:  # still out: a new halt
                        self._luld_ref, self._luld_since = ref, t
                        self._event(t, ALL, "luld_halt", f"mid {mid:.4f} $ is {(mid / ref - 1) * 100:+.2f}% from "
                                    f"the reference {ref:.4f} $, band ±{c.luld_band_pct:g}%")
                        return again
                else:
                    return again
        return None

    def _cleared_check(self, view: MarketView, gone: list[int]) -> None:
        """Venues whose book is cleared (positions ``gone``: no bid, no ask) get nothing; an event when one
        clears."""
        if not gone:  # the usual case: every venue quotes
            if self._cleared and self._cleared != {ALL}:
                self._cleared -= set(view.venues.tolist())
            return
        keys = view.venues.tolist()
        for i in gone:
            if keys[i] not in self._cleared:
                self._cleared.add(keys[i])
                self._event(view.t_ns, keys[i], "venue_cleared", "the venue shows no bid and no ask: nothing sent "
                            "there until it quotes again")
        self._cleared -= {keys[i] for i in range(len(keys)) if i not in gone}

    # ------------------------------------------------------------------------------------ latency
    def _survival(self, view: MarketView) -> np.ndarray:
        """Touch survival per venue, computed on a fixed clock (every ``refresh_seconds``) from the data up
        to that tick, so the value at a time depends on nothing later (cached per tick)."""
        la = self.controls.latency
        step = int(round(la.refresh_seconds * S))
        b = view.t_ns // step * step
        got = self._surv.get(b)
        if got is None:
            qh = view.past.quotes(b - int(round(la.lookback_seconds * S)), b + 1, levels=1)  # the touch
            got = touch_survival(qh, self._lat_ns(view.venues), b)
            if len(self._surv) > 4096:
                self._surv.clear()
            self._surv[b] = got
        return got

    def _stale_check(self, view: MarketView) -> np.ndarray:
        age = int(round(self.controls.latency.max_quote_age_seconds * S))
        qh = view.past.quotes(view.t_ns - 2 * age, view.t_ns + 1, levels=1)  # the touch
        stale = stale_venues(qh, view.t_ns, age)
        for i in np.flatnonzero(stale):
            key = int(view.venues[i])
            if key not in self._stale:
                self._stale.add(key)
                self._event(view.t_ns, key, "stale_quote", f"book unchanged for more than "
                            f"{self.controls.latency.max_quote_age_seconds:g} s: skipped")
        for i in np.flatnonzero(~stale):
            self._stale.discard(int(view.venues[i]))
        return stale

    # ----------------------------------------------------------------------------------- exposure
    def _exposure_caps(self, view: MarketView, fills: Fills) -> tuple[np.ndarray, np.ndarray]:
        """``(shares left, $ left)`` per venue under the exposure limit for this parent order."""
        ex = self.controls.exposure
        k_n = view.venues.shape[0]
        used = np.zeros(k_n, np.int64)
        usd = np.zeros(k_n)
        if len(fills):
            pos = np.searchsorted(view.venues, fills.venue) if np.all(np.diff(view.venues) > 0) else \
                np.array([int(np.flatnonzero(view.venues == v)[0]) for v in fills.venue], np.int64)
            np.add.at(used, pos, fills.qty)
            np.add.at(usd, pos, fills.qty * fills.price)
        sh = np.maximum(ex.share_cap(view.order.size) - used, 0)
        dollars = np.full(k_n, np.inf) if ex.usd is None else np.maximum(ex.usd - usd, 0.0)
        return sh, dollars

    def _clip(self, view: MarketView, dec: Decision, caps, block: np.ndarray, avail: np.ndarray) -> Decision:
        market = np.asarray(dec.market, np.int64).copy()
        limit = None if dec.limit is None else np.asarray(dec.limit, np.int64).copy()
        k_n = market.shape[0]
        lim = self.inner.child_limits(view) if self.inner.sizing is not None else None
        sh = caps[0] if caps is not None else np.full(k_n, 2**62)
        usd = caps[1] if caps is not None else np.full(k_n, np.inf)
        changed = False
        for k in range(k_n):
            want_m = int(market[k])
            want_l = 0 if limit is None else int(limit[k])
            if want_m == 0 and want_l == 0:
                continue
            if block[k]:
                m_ok, l_ok = 0, 0
            else:
                m_ok = min(want_m, int(sh[k]), int(avail[k].sum()))  # avail already under the $ cap
                notional = _ladder_cost(view.ask_px[k], avail[k], m_ok)
                left_sh = int(sh[k]) - m_ok
                bid = float(view.bid_px[k])
                left_usd = usd[k] - notional
                l_cap = left_sh if not np.isfinite(left_usd) else (
                    min(left_sh, int(np.floor(left_usd / bid + 1e-9))) if np.isfinite(bid) and bid > 0 else 0)
                l_ok = min(want_l, max(l_cap, 0))
                if lim is not None:
                    m_ok, l_ok = (_lot_down(q, int(lim.lot[k]), int(lim.min[k]), view.remaining) for q in (m_ok, l_ok))
            if (m_ok, l_ok) != (want_m, want_l):
                changed = True
                market[k] = m_ok
                if limit is not None:
                    limit[k] = l_ok
                key = int(view.venues[k])
                if not block[k] and key not in self._capped:
                    self._capped.add(key)
                    self._event(view.t_ns, key, "exposure_cap", f"child orders clipped from {want_m + want_l:,} "
                                f"to {m_ok + l_ok:,} shares: {_cap_text(self.controls.exposure, view.order.size)}")
        if not changed:
            return dec
        return Decision(market, None if limit is None or not limit.any() else limit, dec.wake_ns)

    def cleanup_take(self, venues, ask_px, ask_avail, fee, remaining) -> np.ndarray:
        """The deadline clean-up (the engine completes every order): within the exposure caps first; shares the
        caps cannot place are bought by the inner strategy's clean-up anyway and reported
        (``exposure_override``). A clean-up while a breaker or the kill switch holds is reported too."""
        c = self.controls
        if c.is_off or self._order is None:
            return self.inner.cleanup_take(venues, ask_px, ask_avail, fee, remaining)
        t = int(self._order.deadline_ns)
        if self._killed or self._luld_ref is not None or self._gap:
            why = "kill switch" if self._killed else ("LULD halt" if self._luld_ref is not None else "data-gap halt")
            self._event(t, ALL, "cleanup_while_stopped", f"{why} in force at the deadline: the engine's clean-up "
                        f"buys the {remaining:,} shares left")
        if c.exposure is None:
            return self.inner.cleanup_take(venues, ask_px, ask_avail, fee, remaining)
        fills = self._fills_cb() if self._fills_cb is not None else None
        fills = _only(fills, self._order.order_id) if fills is not None else None
        view = _CapView(venues, self._order, fills)
        sh, usd = self._exposure_caps(view, fills if fills is not None else _empty_fills())
        capped = _cap_ladder(ask_px, ask_avail, sh, usd)
        take = self.inner.cleanup_take(venues, ask_px, capped, fee, remaining)
        left = remaining - int(take.sum())
        if left > 0:
            rest = ask_avail - _used_ladder(ask_avail, take)
            more = self.inner.cleanup_take(venues, ask_px, np.maximum(rest, 0), fee, left)
            for k in np.flatnonzero(more > 0):
                self._event(t, int(venues[k]), "exposure_override", f"deadline clean-up: {int(more[k]):,} shares "
                            f"beyond the exposure cap ({_cap_text(c.exposure, self._order.size)}) to complete "
                            "the order")
            take = take + more
        short = remaining - int(take.sum())
        if short > 0:
            self._event(t, ALL, "exposure_override", f"deadline clean-up: {short:,} shares beyond the visible book, "
                        "bought by the engine's beyond-book rule at one venue whatever its exposure cap")
        return take

    # -------------------------------------------------------------------------------------- scores
    def _log_scores(self, view: MarketView, sc: dict | None, surv: np.ndarray | None) -> None:
        """Keep this decision's scores for the log (:attr:`score_rows`: a row per venue whose components changed,
        built once, when read); a ``venue_score`` event when a venue's score cost rises to
        :data:`SCORE_EVENT_USD` $/share or more (and again after it fell back below)."""
        if sc is self._last_logged[0] and surv is self._last_logged[1]:
            return  # the very same scores as at the last decision: no row, no event
        self._last_logged = (sc, surv)
        self._score_log.append((int(view.t_ns), int(view.order.order_id), view.venues, sc, surv))
        if sc is None:
            return
        high = [x >= SCORE_EVENT_USD for x in sc["cost"].tolist()]
        pen = self._penalised if self._penalised is not None and len(self._penalised) == len(high) else ()
        new = [k for k, h in enumerate(high) if h and not (pen and pen[k])]
        if new:
            h = f"markout_{self.controls.scoring.markout_horizon_seconds:g}s"
            for k in new:
                self._event(view.t_ns, int(view.venues[k]), "venue_score", f"score cost {float(sc['cost'][k]):.4f} "
                            f"$/share added to the all-in price: fill rate {sc['fill_rate'][k]:.2f}, fade rate "
                            f"{sc['fade_rate'][k]:.2f}, {h.replace('_', ' ')} {sc[h][k]:+.2f} bps")
        self._penalised = high  # venues whose cost is at or above SCORE_EVENT_USD now

    @property
    def score_rows(self) -> list[dict]:
        """The venue-score log: a dict (time_ns, order, venue and the components) per venue whenever its
        components changed (by 1e-6 or more: rates, bps, $/share), in logging order."""
        counts = ("children", "sent", "filled")
        for t, order, venues, sc, surv in self._score_log:
            names = tuple(sc) if sc is not None else ()
            cols = [sc[n] for n in names]
            if surv is not None:
                names += ("survival",)
                cols.append(surv)
            full = np.stack(cols, axis=1).astype(float, copy=False)
            mat = np.round(full, 6)
            last = self._last_mat
            if last is not None and last.shape == mat.shape:
                changed = ~((mat == last) | (np.isnan(mat) & np.isnan(last))).all(axis=1)
            else:
                changed = np.ones(mat.shape[0], bool)
            self._last_mat = mat
            kinds = [n in counts for n in names]
            for v, row in zip(venues[changed].tolist(), full[changed].tolist(), strict=True):
                d = {"time_ns": t, "order": order, "venue": int(v)}
                for n, is_count, x in zip(names, kinds, row, strict=True):
                    d[n] = int(x) if is_count else x
                self._score_rows.append(d)
        self._score_log.clear()
        return self._score_rows

    # ------------------------------------------------------------------------------------- results
    def events_frame(self, names: dict | None = None) -> pd.DataFrame:
        """The events as a table (time UTC, order, venue, rule, detail), in time order."""
        rows = [e.to_dict(names) for e in sorted(self.events, key=lambda e: (e.time_ns, e.order_id))]
        return pd.DataFrame(rows, columns=["time", "order", "venue", "rule", "detail"])

    def scores_frame(self) -> pd.DataFrame:
        """The venue-score log (one row per venue whenever its components changed), in time order."""
        if not self.score_rows:
            return pd.DataFrame(columns=["time", "order", "venue"])
        df = pd.DataFrame(self.score_rows).sort_values(["time_ns", "order", "venue"], kind="stable")
        df.insert(0, "time", pd.to_datetime(df["time_ns"], unit="ns", utc=True))
        return df.reset_index(drop=True)

    def event_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self.events:
            out[e.rule] = out.get(e.rule, 0) + 1
        return dict(sorted(out.items()))


# ------------------------------------------------------------------------------------------ helpers
class _CapView:
    """The few view fields the exposure caps read, at the deadline clean-up."""

    def __init__(self, venues, order, fills) -> None:
        self.venues = np.asarray(venues)
        self.order = order


def _empty_fills() -> Fills:
    e = np.empty(0)
    return Fills(e.astype(np.int64), e.astype(np.int64), e.astype(np.int32), e.astype(np.int64), e, e,
                 e.astype(np.int8))


def _only(f: Fills, order_id: int) -> Fills:
    m = f.order_id == order_id
    if m.all():
        return f
    return Fills(*(getattr(f, n)[m] for n in ("order_id", "ts", "venue", "qty", "price", "fee", "kind")))


def _cap_ladder(ask_px: np.ndarray, avail: np.ndarray, sh: np.ndarray, usd: np.ndarray) -> np.ndarray:
    """``avail`` ``(K, L)`` cut level by level (cheapest level first) so that each venue's total is at most
    ``sh[k]`` shares and its notional at the ladder's prices at most ``usd[k]`` $."""
    out = np.array(avail, np.int64)
    cut = (out.sum(axis=1) > sh) | np.isfinite(usd)  # other venues keep their whole ladder
    for k in np.flatnonzero(cut).tolist():
        left_sh, left_usd = int(sh[k]), float(usd[k])
        for lv in range(out.shape[1]):
            a = int(out[k, lv])
            if a <= 0:
                continue
            q = min(a, left_sh)
            p = float(ask_px[k, lv])
            if np.isfinite(left_usd) and np.isfinite(p) and p > 0:
                q = min(q, int(np.floor(left_usd / p + 1e-9)))
            out[k, lv] = q
            left_sh -= q
            if np.isfinite(left_usd) and np.isfinite(p):
                left_usd -= q * p
    return out


def _ladder_cost(px: np.ndarray, avail: np.ndarray, qty: int) -> float:
    left, cost = int(qty), 0.0
    for lv in range(px.shape[0]):
        if left <= 0:
            break
        q = min(left, int(avail[lv]))
        if q > 0 and np.isfinite(px[lv]):
            cost += q * float(px[lv])
            left -= q
    return cost


def _used_ladder(avail: np.ndarray, take: np.ndarray) -> np.ndarray:
    used = np.zeros_like(avail)
    for k in range(avail.shape[0]):
        q = int(take[k])
        for lv in range(avail.shape[1]):
            d = min(q, int(avail[k, lv]))
            used[k, lv] = d
            q -= d
    return used


def _lot_down(q: int, lot: int, mn: int, remaining: int) -> int:
    if q <= 0 or q == remaining:
        return max(q, 0)
    q = q // lot * lot
    return q if q >= mn else 0


def _cap_text(ex, size: int) -> str:
    parts = []
    if ex.pct is not None:
        parts.append(f"{ex.pct:g}% of {size:,} = {ExposureLimit(pct=ex.pct).share_cap(size):,} shares")
    if ex.shares is not None:
        parts.append(f"{ex.shares:,} shares")
    if ex.usd is not None:
        parts.append(f"${ex.usd:,.0f} notional")
    return "cap " + " / ".join(parts) + " per venue"


def _hms(t_ns: int) -> str:
    return pd.Timestamp(int(t_ns), unit="ns", tz="UTC").strftime("%H:%M:%S")
