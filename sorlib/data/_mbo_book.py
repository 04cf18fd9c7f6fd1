"""The compiled MBO book replay behind :mod:`sorlib.data.mbo` (imported lazily: numba is slow to import).

Inputs are dense indices prepared with numpy: ``vi`` publisher index (0..V−1), ``oi`` order index (one per
(publisher, order_id)), ``pi`` price index into the file's sorted distinct prices (−1 = no price). The
book is ``shares[v, s, p]`` (s 0 bid, 1 ask) with the touch kept as a price index; rules as documented in
:mod:`sorlib.data.mbo`. Runs in O(records + levels walked), about 0.1-0.2 µs per record.
"""

from __future__ import annotations

import numba as nb
import numpy as np

# action character codes and event codes (sorlib.data.order_events)
_A, _C, _M, _R, _T, _F = 65, 67, 77, 82, 84, 70
OTHER, ADD, CANCEL, DELETE, EXEC, EXEC_HIDDEN, MODIFY, CLEAR = 0, 1, 2, 3, 4, 5, 6, 7
# counters
N_UNKNOWN, N_FOLDED, N_BEYOND, N_DUP_ADD, N_MOD_UNKNOWN, N_FILL_LEFT = 0, 1, 2, 3, 4, 5
COUNTER_NAMES = ("unknown order", "fill cancels folded", "cancel beyond order", "duplicate add",
                 "modify unknown", "fill without cancel")


@nb.njit(cache=True)
def _next_occupied(row: np.ndarray, start: int, step: int) -> int:
    """First price index from ``start`` going by ``step`` with shares > 0 (−1 when none)."""
    i = start
    n = row.shape[0]
    while 0 <= i < n:
        if row[i] > 0:
            return i
        i += step
    return -1


@nb.njit(cache=True)
def _change(shares, best, edge, dirty, v, s, p, d) -> None:
    """Add ``d`` shares at (v, s, p); keep the touch; mark the venue dirty when inside its shown levels."""
    old = shares[v, s, p]
    q = old + d
    shares[v, s, p] = q if q > 0 else 0
    b = best[v, s]
    if q > 0:
        if b < 0 or (p > b if s == 0 else p < b):
            best[v, s] = p
    elif old > 0 and p == b:
        best[v, s] = _next_occupied(shares[v, s], p - 1, -1) if s == 0 else _next_occupied(shares[v, s], p + 1, 1)
    e = edge[v, s]
    if e < 0 or (p >= e if s == 0 else p <= e):
        dirty[v] = True


@nb.njit(cache=True)
def replay(vi, oi, act, side, pi, size, emit_ok, order_venue, n_venues, n_prices, levels):
    """One pass over the records → per-record event columns, quote snapshots and counters.

    Returns (keep, action, ev_side, ev_pi, ev_size, level_before, best_bid_pi, best_ask_pi,
    snap_rec, snap_bid_pi, snap_bid_sz, snap_ask_pi, snap_ask_sz, counters).
    """
    n = vi.shape[0]
    n_orders = order_venue.shape[0]
    shares = np.zeros((n_venues, 2, n_prices), np.int64)
    best = np.full((n_venues, 2), -1, np.int64)
    edge = np.full((n_venues, 2), -1, np.int64)
    dirty = np.ones(n_venues, np.bool_)
    o_side = np.zeros(n_orders, np.int64)
    o_p = np.full(n_orders, -1, np.int64)
    o_rem = np.zeros(n_orders, np.int64)
    pending = np.zeros(n_orders, np.int64)
    keep = np.ones(n, np.bool_)
    e_act = np.zeros(n, np.int8)
    e_side = np.zeros(n, np.int8)
    e_pi = np.full(n, -1, np.int64)
    e_size = np.zeros(n, np.int64)
    e_lvl = np.full(n, -1, np.int64)
    e_bb = np.full(n, -1, np.int64)
    e_ba = np.full(n, -1, np.int64)
    counters = np.zeros(6, np.int64)
    cap = 1024
    s_rec = np.empty(cap, np.int64)
    s_bp = np.empty((cap, levels), np.int64)
    s_bq = np.empty((cap, levels), np.int64)
    s_ap = np.empty((cap, levels), np.int64)
    s_aq = np.empty((cap, levels), np.int64)
    n_snap = 0
    for i in range(n):
        v, o, a, p, sz = vi[i], oi[i], act[i], pi[i], size[i]
        s = 0 if side[i] == 1 else (1 if side[i] == -1 else -1)
        if a == _A:
            if o_rem[o] > 0:
                counters[N_DUP_ADD] += 1
                _change(shares, best, edge, dirty, v, o_side[o], o_p[o], -o_rem[o])
            e_lvl[i] = shares[v, s, p]
            o_side[o], o_p[o], o_rem[o] = s, p, sz
            _change(shares, best, edge, dirty, v, s, p, sz)
            e_act[i], e_side[i], e_pi[i], e_size[i] = ADD, side[i], p, sz
        elif a == _C:
            if pending[o] > 0:
                took = min(sz, pending[o])
                pending[o] -= took
                sz -= took
            if sz == 0:  # the C of a fill already applied by its F record
                counters[N_FOLDED] += 1
                keep[i] = False
            elif o_rem[o] <= 0:
                counters[N_UNKNOWN] += 1
                e_act[i], e_side[i], e_pi[i], e_size[i] = CANCEL, side[i], p, sz
                if s >= 0 and p >= 0:
                    e_lvl[i] = shares[v, s, p]
            else:
                os_, op, oq = o_side[o], o_p[o], o_rem[o]
                take = min(sz, oq)
                if sz > oq:
                    counters[N_BEYOND] += 1
                e_lvl[i] = shares[v, os_, op]
                _change(shares, best, edge, dirty, v, os_, op, -take)
                o_rem[o] = oq - take
                e_act[i] = DELETE if take == oq else CANCEL
                e_side[i], e_pi[i], e_size[i] = 1 if os_ == 0 else -1, op, take
        elif a == _F:
            if o_rem[o] <= 0:
                counters[N_UNKNOWN] += 1
                e_lvl[i] = shares[v, s, p]
                e_side[i], e_pi[i] = side[i], p
            else:
                os_, op, oq = o_side[o], o_p[o], o_rem[o]
                take = min(sz, oq)
                e_lvl[i] = shares[v, os_, op]
                _change(shares, best, edge, dirty, v, os_, op, -take)
                o_rem[o] = oq - take
                e_side[i], e_pi[i] = 1 if os_ == 0 else -1, op
            pending[o] += sz
            e_act[i], e_size[i] = EXEC, sz
        elif a == _M:
            e_lvl[i] = shares[v, s, p]
            if o_rem[o] <= 0:
                counters[N_MOD_UNKNOWN] += 1
            else:
                _change(shares, best, edge, dirty, v, o_side[o], o_p[o], -o_rem[o])
            o_side[o], o_p[o], o_rem[o] = s, p, sz
            if sz > 0:
                _change(shares, best, edge, dirty, v, s, p, sz)
            e_act[i], e_side[i], e_pi[i], e_size[i] = MODIFY, side[i], p, sz
        elif a == _R:
            shares[v] = 0
            best[v, 0] = -1
            best[v, 1] = -1
            dirty[v] = True
            for k in range(n_orders):
                if order_venue[k] == v:
                    o_rem[k] = 0
                    pending[k] = 0
            e_act[i] = CLEAR
        else:  # T, N: no book change
            e_act[i] = EXEC_HIDDEN if (a == _T and s < 0) else OTHER
            e_pi[i], e_size[i] = p, sz
        e_bb[i] = best[v, 0]
        e_ba[i] = best[v, 1]
        if dirty[v] and emit_ok[i]:
            if n_snap == cap:
                cap *= 2
                s_rec2 = np.empty(cap, np.int64)
                s_rec2[:n_snap] = s_rec
                s_rec = s_rec2
                s_bp, s_bq, s_ap, s_aq = _grow(s_bp, cap), _grow(s_bq, cap), _grow(s_ap, cap), _grow(s_aq, cap)
            s_rec[n_snap] = i
            for s2 in range(2):
                px_out = s_bp if s2 == 0 else s_ap
                sz_out = s_bq if s2 == 0 else s_aq
                k = 0
                j = best[v, s2]
                step = -1 if s2 == 0 else 1
                while j >= 0 and k < levels:
                    px_out[n_snap, k] = j
                    sz_out[n_snap, k] = shares[v, s2, j]
                    k += 1
                    j = _next_occupied(shares[v, s2], j + step, step)
                edge[v, s2] = px_out[n_snap, levels - 1] if k == levels else -1
                for kk in range(k, levels):
                    px_out[n_snap, kk] = -1
                    sz_out[n_snap, kk] = 0
            dirty[v] = False
            n_snap += 1
    counters[N_FILL_LEFT] = np.count_nonzero(pending)
    return (keep, e_act, e_side, e_pi, e_size, e_lvl, e_bb, e_ba, s_rec[:n_snap], s_bp[:n_snap], s_bq[:n_snap],
            s_ap[:n_snap], s_aq[:n_snap], counters)


@nb.njit(cache=True)
def _grow(a: np.ndarray, cap: int) -> np.ndarray:
    out = np.empty((cap, a.shape[1]), a.dtype)
    out[: a.shape[0]] = a
    return out
