"""Compiled replay loop of a "take the touch" strategy (Best Ask without sizing rules) on the frozen market.

:func:`touch_walk` is the engine's generic loop (:func:`sorlib.engine.replay._replay_one`) specialised to one
policy, decided at every snapshot: buy ``min(available at the touch, remaining)`` shares on the venue with the
lowest touch ask + taker fee ($/share; first venue on ties; only venues with shares available and a finite
price), nothing when no venue qualifies. The rules are the generic loop's, line for line, with no market model
(no latency, impact or fade) and no limit price:

* at each snapshot ``j`` (time ``t = max(times[j], arrival)`` ns), every venue holding taken shares whose record
  changed applies the new record (the module docstring's consumption rule: a price no longer shown with size
  > 0 is forgotten, else taken(p) = min(taken(p), displayed(p)));
* available(level) = max(0, shown size − taken at its price); the chosen venue's ladder is walked level by
  level (shares at each finite-priced level with shares available, up to the child's size), each fill stamped
  ``t`` at the level's price; the taken shares grow by each fill at its price key.

The engine uses it only when the strategy declares the policy (``takes_touch_only()``) and the generic loop
would give the same fills (tests/test_touch_fast.py compares the two on random books).
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def _grow(a):  # pragma: no cover - numba
    out = np.empty(2 * a.shape[0] + 16, a.dtype)
    out[: a.shape[0]] = a
    return out


@nb.njit(cache=True)
def touch_walk(times, row, ask_px, ask_sz, ask_shown, ask_key, fee, j0, j_end, arrival,
               remaining, tk, tq, tn, applied, jv):  # pragma: no cover - numba
    """Snapshots ``[j0, j_end)`` until ``remaining`` (shares) is bought (module docstring).

    Taken-shares state, updated in place: per venue k, ``tn[k]`` price keys ``tk[k, :tn[k]]`` (1e-8 $ grid)
    with shares ``tq[k, :tn[k]]``, ``applied[k]`` the last record applied, ``jv[k]`` the last snapshot a take
    happened at (-1: none). Returns ``(remaining, last snapshot walked (-1: none), fills, children)``:
    fills ``(ts, venue position, qty, price $)`` and child orders ``(decided ns, venue position, qty,
    displayed = the venue's available shares over all levels)``, in order."""
    n_k, n_lv = row.shape[1], ask_px.shape[1]
    f_ts = np.empty(64, np.int64)
    f_k = np.empty(64, np.int64)
    f_q = np.empty(64, np.int64)
    f_px = np.empty(64, np.float64)
    c_ts = np.empty(16, np.int64)
    c_k = np.empty(16, np.int64)
    c_q = np.empty(16, np.int64)
    c_d = np.empty(16, np.int64)
    nf = 0
    nc = 0
    avail = np.empty(n_lv, np.int64)
    last_j = -1
    j = j0
    while j < j_end and remaining > 0:
        last_j = j
        t = times[j] if times[j] > arrival else arrival
        for k in range(n_k):  # carry the taken shares over each venue's new record
            cur = row[j, k]
            if tn[k] == 0 or cur == applied[k]:
                continue
            m = 0
            for n in range(tn[k]):
                at = 0
                for lv in range(n_lv):
                    if ask_key[cur, lv] == tk[k, n]:
                        at += ask_sz[cur, lv]
                if at > 0:
                    tk[k, m] = tk[k, n]
                    tq[k, m] = at if at < tq[k, n] else tq[k, n]
                    m += 1
            tn[k] = m
            applied[k] = cur
        best = -1
        low = np.inf
        best_a = 0
        for k in range(n_k):  # the cheapest touch (ask + fee) with shares available
            r = row[j, k]
            if r < 0:
                continue
            p = ask_px[r, 0]
            a = ask_shown[r, 0]
            for n in range(tn[k]):
                if tk[k, n] == ask_key[r, 0] and tq[k, n] > 0:
                    a = a - tq[k, n] if a > tq[k, n] else 0
            if a > 0 and np.isfinite(p) and p + fee[k] < low:
                best, low, best_a = k, p + fee[k], a
        if best >= 0:
            k = best
            r = row[j, k]
            shown = 0
            for lv in range(n_lv):  # the venue's available ladder (before this child's fills)
                a = ask_shown[r, lv]
                for n in range(tn[k]):
                    if tk[k, n] == ask_key[r, lv] and tq[k, n] > 0:
                        a = a - tq[k, n] if a > tq[k, n] else 0
                avail[lv] = a
                shown += a
            want = best_a if best_a < remaining else remaining
            if nc == c_ts.shape[0]:
                c_ts, c_k, c_q, c_d = _grow(c_ts), _grow(c_k), _grow(c_q), _grow(c_d)
            c_ts[nc], c_k[nc], c_q[nc], c_d[nc] = t, k, want, shown
            nc += 1
            left = want
            for lv in range(n_lv):
                if left <= 0:
                    break
                a = avail[lv]
                p = ask_px[r, lv]
                if a <= 0 or not np.isfinite(p):
                    continue
                q = a if a < left else left
                left -= q
                if nf == f_ts.shape[0]:
                    f_ts, f_k, f_q, f_px = _grow(f_ts), _grow(f_k), _grow(f_q), _grow(f_px)
                f_ts[nf], f_k[nf], f_q[nf], f_px[nf] = t, k, q, p
                nf += 1
                key = ask_key[r, lv]
                for n in range(tn[k] + 1):  # taken(key) += q
                    if n == tn[k]:
                        tk[k, n] = key
                        tq[k, n] = q
                        tn[k] += 1
                        break
                    if tk[k, n] == key:
                        tq[k, n] += q
                        break
                if r > applied[k]:
                    applied[k] = r
                if j > jv[k]:
                    jv[k] = j
                remaining -= q
        j += 1
    return (remaining, last_j, (f_ts[:nf], f_k[:nf], f_q[:nf], f_px[:nf]),
            (c_ts[:nc], c_k[:nc], c_q[:nc], c_d[:nc]))
