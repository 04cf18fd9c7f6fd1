"""Candidate orders (real joiners and improvers of the best bid/ask) and the event stream each one rests
through, with the real order removed.

A **candidate** is an ``ADD`` whose price equals its side's best just *after* the event (it joined or set the
best) with a known ``level_before`` = Q, the displayed shares ahead of it. Its **class** (:data:`CLASSES`):
``joined`` when Q > 0 (it joined a displayed queue), ``improved`` when Q = 0 (nothing was displayed at its
price before it: it set a new best price, or the side was empty). An improver *created* its level: removing
it leaves no queue, and the aggressors that hit it came because its price was there, so the removed world
has no counterfactual for it; it is reported separately, not in the headline. Its window starts at the ADD and
ends at ``arrival + max(horizons)``; its **lifetime** ends earlier when its owner deletes it (a full
``DELETE``, or partial ``CANCEL`` s that leave nothing). A full execution does not end the lifetime: the
hypothetical order keeps resting, as the owner would have let it.

**Removal** (DESIGN §10): the model sees the book with the real order taken out. For each event at the
order's (venue, side, price) — its *level* — while it rests, with ``rem`` the real order's remaining shares:

* level just before the event, minus ``rem`` → a level *sync* step (catches changes that carry no event at
  the level, e.g. a modify moving an order away);
* a visible execution of another order at the level (``EXEC``) → a *print* step (its size); hidden
  executions (``EXEC_HIDDEN``) never reach the displayed queue and are no prints here (as in the replay);
* the level just after the event (``level_before`` + the event's change), minus ``rem`` → a *level* step;
* a ``CANCEL``/``DELETE`` of another order → an *outflow* step (only the ``paper`` rule reads it);
* the real order's own executions go to :data:`K_OWN_EXEC` (the realised truth). What becomes of them on
  the tape is ``own_prints`` (:data:`OWN_PRINTS`; the level sizes never include the real order in any mode):

  - ``"drop"`` (strict removal, a lower bound): they are not prints — the aggressor vanishes with the order;
  - ``"keep"`` (an upper bound): each stays a print of its full size e at the price;
  - ``"reassign"`` (the default: price-time priority's counterfactual): without the real order the aggressor
    would have hit the orders queued *behind* it at the price, so an execution of e shares at time t leaves
    a print of ``min(e, max(B_t − c, 0))`` shares, where B_t = displayed shares of the orders at (venue,
    side, price) with later priority than the real order still resting just before t, and c = the shares
    already reassigned to them over the real order's life (running sum); B_t is capped by the displayed level
    minus the real order (``level_before`` − rem: a file that misses some events, such as a level-1 LOBSTER
    message file once the price leaves its top level, cannot leave a stale B). What finds no order behind would
    have walked to the next price: it vanishes, as in ``drop``. Priority is followed from the order events
    (:func:`order_states`): an ADD starts it; a MODIFY to a new price or a larger size (or of an order
    whose state is unknown) restarts it; partial cancels and executions keep it. The assumption: the
    aggressor's size is demand that does not depend on the real order being there.

  Its own partial cancels shrink the hypothetical order's size by the same shares (:data:`K_OWN_CANCEL`).

An execution (visible or hidden) on the same venue and side at a *worse* price (for a bid: below it) while the
order rests traded through it: a *through* step (everything left fills, as :func:`sorlib.sim.queue.fill_from_prints`).

Exclusions, per candidate and horizon (the first *bad* time must fall after the end of the horizon or the
lifetime, else the candidate is excluded at that horizon, counted by reason):

* ``modified``: the real order is modified (a new price or size: its priority is lost);
* ``level_unknown``: an event at its level has ``level_before`` = −1;
* ``displaced``: its price left the visible book (for a bid: the deepest visible bid of the venue's quote
  row is above it; on a level-1 file, any better bid) — the file cannot see the queue there;
* ``cleared``: a ``CLEAR`` on its venue;
* ``censored``: ``arrival + horizon`` is after the file's last event.

Units: times ns UTC, prices $, sizes shares. Kernels are numba-compiled (one pass over each candidate's
venue events, O(events in its window)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from ..data.market import MarketData
from ..data.order_events import ADD, CANCEL, CLEAR, DELETE, EXEC, EXEC_HIDDEN, MODIFY, OrderEvents
from ..errors import ConfigError

# step kinds of a candidate's stream
K_SYNC, K_PRINT, K_LEVEL, K_THROUGH, K_OWN_CANCEL, K_OUTFLOW, K_OWN_EXEC = 0, 1, 2, 3, 4, 5, 6
# reasons of a candidate's first bad time
BAD_NONE, BAD_MODIFIED, BAD_LEVEL_UNKNOWN, BAD_DISPLACED, BAD_CLEARED = 0, 1, 2, 3, 4
BAD_NAMES = {BAD_MODIFIED: "modified", BAD_LEVEL_UNKNOWN: "level_unknown", BAD_DISPLACED: "displaced",
             BAD_CLEARED: "cleared"}
NEVER = np.iinfo(np.int64).max
EPS = 1e-7  # $: prices closer than this are equal
OWN_PRINTS = ("reassign", "drop", "keep")  #: the first is the default
#: candidate classes scored: ``joined`` (Q > 0 at arrival, the default headline), ``improved`` (Q = 0), ``all``
CLASSES = ("joined", "improved", "all")
IMPROVED_REASON = "created its price level: removal leaves no queue to predict from; reported separately"
# own_prints codes of the kernel
OWN_DROP, OWN_KEEP, OWN_REASSIGN = 0, 1, 2


@dataclass(frozen=True)
class Candidates:
    """Real joiners and improvers of the best (one row each): ``event`` (row of their ADD in the events),
    ``ts`` arrival (ns), ``venue``, ``order_id``, ``side`` (+1 bid, −1 ask), ``price`` ($), ``size`` (shares
    posted), ``ahead`` (Q, shares displayed ahead at arrival; Q > 0: class ``joined``, Q = 0: ``improved``)."""

    event: np.ndarray
    ts: np.ndarray
    venue: np.ndarray
    order_id: np.ndarray
    side: np.ndarray
    price: np.ndarray
    size: np.ndarray
    ahead: np.ndarray

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def take(self, index) -> Candidates:
        return Candidates(*(getattr(self, f)[index] for f in self.__dataclass_fields__))

    @property
    def joined(self) -> np.ndarray:
        """True where the order joined a displayed queue (Q > 0), False where it created its level (Q = 0)."""
        return self.ahead > 0

    @property
    def klass(self) -> np.ndarray:
        """Each candidate's class name, ``joined`` or ``improved``."""
        return np.where(self.joined, "joined", "improved")

    def mask(self, cls: str) -> np.ndarray:
        """Candidates of class ``cls`` (:data:`CLASSES`)."""
        if cls not in CLASSES:
            raise ConfigError(f"candidates must be one of {', '.join(CLASSES)}, got {cls!r}")
        return np.ones(len(self), bool) if cls == "all" else self.joined == (cls == "joined")


@dataclass(frozen=True)
class Streams:
    """Each candidate's removed-world step stream (CSR: candidate ``c`` owns rows ``start[c]:start[c+1]``)
    and its scan results: ``life_end`` (ns; the owner's delete, else ``arrival + max horizon``),
    ``bad_t`` / ``bad_why`` (first bad time, :data:`NEVER` if none, and its reason code)."""

    start: np.ndarray
    t: np.ndarray
    kind: np.ndarray
    qty: np.ndarray
    life_end: np.ndarray
    bad_t: np.ndarray
    bad_why: np.ndarray


def select_candidates(ev: OrderEvents) -> tuple[Candidates, dict[str, int]]:
    """The candidates of ``ev`` (joiners and improvers of the best) and counts: ``adds`` = ``joined`` +
    ``improved`` + ``adds_not_at_best`` + ``adds_at_best_queue_unknown``; ``candidates`` = joined + improved."""
    add = ev.action == ADD
    best = np.where(ev.side > 0, ev.best_bid, np.where(ev.side < 0, ev.best_ask, np.nan))
    at_best = add & (np.abs(ev.price - best) <= EPS)
    known = at_best & (ev.level_before >= 0)
    idx = np.flatnonzero(known)
    cands = Candidates(idx.astype(np.int64), ev.ts[idx], ev.venue[idx], ev.order_id[idx], ev.side[idx],
                       ev.price[idx], ev.size[idx], ev.level_before[idx])
    not_added = np.setdiff1d(np.unique(ev.order_id[(~add) & (ev.order_id != 0)]), ev.order_id[add])
    info = {"adds": int(add.sum()), "adds_not_at_best": int((add & ~at_best).sum()),
            "adds_at_best_queue_unknown": int((at_best & ~known).sum()),
            "orders_resting_before_file_start": int(not_added.size), "candidates": int(idx.size),
            "joined": int((cands.ahead > 0).sum()), "improved": int((cands.ahead == 0).sum())}
    return cands, info


def visible_floors(ev: OrderEvents, md: MarketData | None) -> tuple[np.ndarray, np.ndarray]:
    """Per event, the deepest visible bid and ask price ($) of its venue's book in force at the event's time
    (``md`` quote rows, as of ``ts``): a bid below the bid floor or an ask above the ask floor is out of
    view. A book with fewer than its levels populated sees everything on that side (−inf / +inf). Without
    ``md`` (full-depth data such as MBO) nothing is out of view."""
    n = len(ev)
    fb, fa = np.full(n, -np.inf), np.full(n, np.inf)
    if md is None or len(md.quotes) == 0:
        return fb, fa
    q = md.quotes
    deep = q.levels - 1
    for v in np.unique(ev.venue):
        rows = np.flatnonzero(q.venue == v)
        sel = np.flatnonzero(ev.venue == v)
        if rows.size == 0 or sel.size == 0:
            continue
        j = np.searchsorted(q.ts[rows], ev.ts[sel], side="right") - 1
        ok = j >= 0
        r = rows[np.maximum(j, 0)]
        bp, bs = q.bid_px[r, deep], q.bid_sz[r, deep]
        ap, as_ = q.ask_px[r, deep], q.ask_sz[r, deep]
        fb[sel] = np.where(ok & (bs > 0) & np.isfinite(bp), bp, -np.inf)
        fa[sel] = np.where(ok & (as_ > 0) & np.isfinite(ap), ap, np.inf)
    return fb, fa


def build_streams(ev: OrderEvents, cands: Candidates, max_horizon_s: float, md: MarketData | None = None,
                  own_prints: str = "reassign") -> Streams:
    """Scan every candidate's venue events over its window (module docstring) into :class:`Streams`.

    ``own_prints``: what the real order's executions leave on the tape — ``reassign`` (the print the orders
    behind it would have received), ``drop`` (nothing) or ``keep`` (the whole execution)."""
    if own_prints not in OWN_PRINTS:
        raise ConfigError(f"own_prints must be one of {', '.join(OWN_PRINTS)}, got {own_prints!r}")
    order = np.argsort(ev.venue, kind="stable")  # venue-major, time order kept within a venue
    pos = np.empty(len(ev), np.int64)
    pos[order] = np.arange(len(ev))
    fb, fa = visible_floors(ev, md)
    cols = (ev.ts[order], ev.venue[order], ev.order_id[order], ev.action[order], ev.side[order],
            ev.price[order], ev.size[order], ev.level_before[order], fb[order], fa[order])
    mode = {"drop": OWN_DROP, "keep": OWN_KEEP, "reassign": OWN_REASSIGN}[own_prints]
    if mode == OWN_REASSIGN:
        states = order_states(cols[1], cols[2], cols[3], cols[5], cols[6])
    else:  # unused by the kernel: empty arrays of the right types
        states = (np.empty(0, np.int64), np.empty(0), np.empty(0, np.int64)) * 2
    horizon_ns = np.int64(round(max_horizon_s * 1e9))
    args = (*cols, *states, pos[cands.event], cands.size, horizon_ns, mode)
    counts = _scan(*args, np.zeros(len(cands) + 1, np.int64), None)[0]
    start = np.zeros(len(cands) + 1, np.int64)
    np.cumsum(counts[:-1], out=start[1:])
    n = int(start[-1])
    out = (np.empty(n, np.int64), np.empty(n, np.int8), np.empty(n, np.float64))
    _, life_end, bad_t, bad_why = _scan(*args, start, out)
    return Streams(start, *out, life_end, bad_t, bad_why)


def order_states(venue: np.ndarray, oid: np.ndarray, action: np.ndarray, price: np.ndarray,
                 size: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each event's order just before and just after the event: ``(prio, px, sz)`` twice (before, after).

    ``prio`` is the row (of these arrays, time-ordered within a venue) at which the order's current time
    priority began, −1 when unknown (it rested before the data start, or it is gone); ``px`` its price ($,
    NaN if unknown/gone), ``sz`` its displayed shares (0 if unknown/gone). Rules (module docstring): ADD
    starts priority; a MODIFY to a new price, to a larger size, or of an order of unknown state restarts it;
    CANCEL / EXEC shrink the order (gone at 0); DELETE removes it. Events without an order id change nothing."""
    grp = np.lexsort((np.arange(venue.shape[0]), oid, venue))
    return _order_states(grp, venue, oid, action, price, size)


@nb.njit(cache=True)
def _order_states(grp, venue, oid, action, price, size):
    n = grp.shape[0]
    pb_prio, pa_prio = np.full(n, -1, np.int64), np.full(n, -1, np.int64)
    pb_px, pa_px = np.full(n, np.nan), np.full(n, np.nan)
    pb_sz, pa_sz = np.zeros(n, np.int64), np.zeros(n, np.int64)
    prio, px, sz, known = -1, np.nan, 0, False
    for j in range(n):
        r = grp[j]
        if j == 0 or oid[r] != oid[grp[j - 1]] or venue[r] != venue[grp[j - 1]]:
            prio, px, sz, known = -1, np.nan, 0, False  # a new order: state unknown until it is added
        if oid[r] == 0:
            continue
        pb_prio[r], pb_px[r], pb_sz[r] = prio, px, sz
        act = action[r]
        if act == ADD:
            prio, px, sz, known = r, price[r], size[r], True
        elif act == CANCEL or act == EXEC:
            if known:
                sz -= size[r]
                if sz <= 0:
                    prio, px, sz = -1, np.nan, 0
        elif act == DELETE:
            prio, px, sz, known = -1, np.nan, 0, True
        elif act == MODIFY:
            if not known or prio < 0 or abs(price[r] - px) > EPS or size[r] > sz:
                prio = r
            px, sz, known = price[r], size[r], True
            if sz <= 0:
                prio, px, sz = -1, np.nan, 0
        pa_prio[r], pa_px[r], pa_sz[r] = prio, px, sz
    return pb_prio, pb_px, pb_sz, pa_prio, pa_px, pa_sz


@nb.njit(cache=True)
def _emit(out, c_start, k, t, kind, qty):
    if out is not None:
        out[0][c_start + k] = t
        out[1][c_start + k] = kind
        out[2][c_start + k] = qty
    return k + 1


@nb.njit(cache=True)
def _scan(ts, venue, oid, action, side, price, size, lvl, fb, fa, pb_prio, pb_px, pb_sz, pa_prio, pa_px, pa_sz,
          cpos, csize, horizon_ns, mode, start, out):
    """Count (``out`` None: counts in ``start[c]``) or write the steps of every candidate (module docstring)."""
    nc = cpos.shape[0]
    n = ts.shape[0]
    life_end = np.empty(nc, np.int64)
    bad_t = np.full(nc, NEVER, np.int64)
    bad_why = np.zeros(nc, np.int8)
    counts = np.zeros(nc + 1, np.int64)
    for c in range(nc):
        a = cpos[c]
        v, s, p, me = venue[a], side[a], price[a], oid[a]
        t_end = ts[a] + horizon_ns
        rem = csize[c]
        k = 0
        base = start[c] if out is not None else 0
        last = float(lvl[a])  # last level value the model saw (removed world): Q at the join
        behind = 0  # reassign: displayed shares with later priority at our level (B_t)
        given = 0  # reassign: shares of the real order's executions reassigned to them so far (c)
        end = t_end
        i = a + 1
        while i < n and venue[i] == v and ts[i] <= t_end:
            t = ts[i]
            # visibility of our level (quote row in force at this event)
            if bad_why[c] == 0:
                if (s > 0 and fb[i] > p + EPS) or (s < 0 and fa[i] < p - EPS):
                    bad_t[c], bad_why[c] = t, BAD_DISPLACED
                elif action[i] == CLEAR:
                    bad_t[c], bad_why[c] = t, BAD_CLEARED
            act = action[i]
            if mode == OWN_REASSIGN and side[i] == s and oid[i] != me and oid[i] != 0:
                if pb_prio[i] > a and abs(pb_px[i] - p) <= EPS:
                    behind -= pb_sz[i]
                if pa_prio[i] > a and abs(pa_px[i] - p) <= EPS:
                    behind += pa_sz[i]
            if side[i] == s and (act == EXEC or act == EXEC_HIDDEN) and (
                    (s > 0 and price[i] < p - EPS) or (s < 0 and price[i] > p + EPS)):
                k = _emit(out, base, k, t, K_THROUGH, float(size[i]))
            elif side[i] == s and abs(price[i] - p) <= EPS:
                if oid[i] == me and act != ADD:
                    if act == EXEC:
                        e = size[i]
                        if mode == OWN_REASSIGN:
                            b = behind if lvl[i] < 0 else min(behind, lvl[i] - rem)  # never above the display
                            e = min(e, max(b - given, 0))
                            given += e
                        rem -= size[i]
                        if mode != OWN_DROP and e > 0:
                            k = _emit(out, base, k, t, K_PRINT, float(e))
                        k = _emit(out, base, k, t, K_OWN_EXEC, float(size[i]))
                    elif act == CANCEL or act == DELETE:
                        rem -= size[i]
                        if act == DELETE or rem <= 0:
                            end = t
                            break
                        k = _emit(out, base, k, t, K_OWN_CANCEL, float(size[i]))
                    elif act == MODIFY:
                        if bad_why[c] == 0:
                            bad_t[c], bad_why[c] = t, BAD_MODIFIED
                        end = t
                        break
                else:
                    lb = lvl[i]
                    if lb < 0:
                        if bad_why[c] == 0:
                            bad_t[c], bad_why[c] = t, BAD_LEVEL_UNKNOWN
                    else:
                        before = float(max(lb - rem, 0))
                        if before != last:
                            k = _emit(out, base, k, t, K_SYNC, before)
                            last = before
                        if act == EXEC:
                            k = _emit(out, base, k, t, K_PRINT, float(size[i]))
                        elif act == CANCEL or act == DELETE:
                            k = _emit(out, base, k, t, K_OUTFLOW, float(size[i]))
                        if act != MODIFY and act != CLEAR:
                            d = 0
                            if act == ADD:
                                d = size[i]
                            elif act == CANCEL or act == DELETE or act == EXEC:
                                d = -size[i]
                            after = float(max(lb + d - rem, 0))
                            if after != last or act == EXEC:
                                k = _emit(out, base, k, t, K_LEVEL, after)
                                last = after
            elif side[i] == s and oid[i] == me and act == MODIFY:  # modified to another price
                if bad_why[c] == 0:
                    bad_t[c], bad_why[c] = t, BAD_MODIFIED
                end = t
                break
            i += 1
        life_end[c] = end
        counts[c] = k
    if out is None:
        return counts, life_end, bad_t, bad_why
    return start, life_end, bad_t, bad_why
