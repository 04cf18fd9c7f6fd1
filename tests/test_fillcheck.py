"""sorlib.fillcheck: removal of the real order, the models run as hypothetical orders, the bucket maths.

The hand-built tape (one venue, bids at $10.00, an ask at $10.02; times in seconds):

====  =====  ==========================  ============  ==================================
row   t (s)  event                       level_before  note
====  =====  ==========================  ============  ==================================
e0    0.0    ADD  id 1 bid 300           0             candidate A: Q 0,   L 300 (Q/L 0)
e1    1.0    ADD  id 2 bid 100           300           candidate B: Q 300, L 100 (Q/L 3)
e2    2.0    ADD  id 3 bid 200           400           candidate C: Q 400, L 200 (Q/L 2)
e3    3.0    CANCEL id 1, 100 shares     600           A's owner cancels part
e4    4.0    EXEC id 1, 200              500           A filled (realised 200)
e5    4.5    EXEC id 2, 60               300           B filled 60
e6    6.5    DELETE id 2, 40             240           B's lifetime ends
e7    7.5    EXEC id 3, 200              200           C filled 200
e8    30.0   ADD  id 9 ask 100 at 10.02  500           candidate D: Q 500, L 100 (Q/L 5)
e9    100.0  OTHER                       -1            the data's end
====  =====  ==========================  ============  ==================================

Removed-world streams derived by hand (level = level_before + change − the real order's remaining shares).
B sees levels 600−100 = 500 after e2, 400 after e3, 200 after e4 and the print of 200 at e4; its own
execution is not a print; its lifetime ends at e6. Predicted fills (drop mode unless said), derived by hand
in each test. ``mbo_tape`` (below) pins the ``reassign`` mode with modifies, a partial and a running sum.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from sorlib.data.market import LoadReport, MarketData, Quotes, Trades
from sorlib.data.order_events import ADD, CANCEL, DELETE, EXEC, MODIFY, OTHER, OrderEvents
from sorlib.errors import ConfigError
from sorlib.fillcheck import (
    ModelSpec,
    buckets,
    build_streams,
    parse_models,
    predict,
    rates,
    select_candidates,
)
from sorlib.fillcheck.events import K_LEVEL, K_OUTFLOW, K_OWN_CANCEL, K_OWN_EXEC, K_PRINT, K_SYNC, K_THROUGH
from sorlib.fillcheck.score import Mids, markouts
from sorlib.fillcheck.validate import validate_fills
from sorlib.sim.queue import QueueFill, QueueState, make_queue_model
from sorlib.sim.queue.paper import paper_fill

S = 1_000_000_000
T0 = 1_700_000_000 * S


def tape() -> OrderEvents:
    rows = [  # t, id, action, side, price, size, level_before, best_bid
        (0.0, 1, ADD, 1, 10.00, 300, 0, 10.00),
        (1.0, 2, ADD, 1, 10.00, 100, 300, 10.00),
        (2.0, 3, ADD, 1, 10.00, 200, 400, 10.00),
        (3.0, 1, CANCEL, 1, 10.00, 100, 600, 10.00),
        (4.0, 1, EXEC, 1, 10.00, 200, 500, 10.00),
        (4.5, 2, EXEC, 1, 10.00, 60, 300, 10.00),
        (6.5, 2, DELETE, 1, 10.00, 40, 240, 10.00),
        (7.5, 3, EXEC, 1, 10.00, 200, 200, np.nan),
        (30.0, 9, ADD, -1, 10.02, 100, 500, np.nan),
        (100.0, 0, OTHER, 0, np.nan, 0, -1, np.nan),
    ]
    return _events(rows)


def _events(rows) -> OrderEvents:
    t, oid, act, side, px, sz, lb, bb = map(np.array, zip(*rows, strict=True))
    return OrderEvents(ts=T0 + np.round(t * S).astype(np.int64), venue=np.ones(len(rows)), order_id=oid,
                       action=act, side=side, price=px, size=sz, level_before=lb, best_bid=bb,
                       best_ask=np.full(len(rows), 10.02), source="hand")


def mbo_tape() -> OrderEvents:
    """Bids (t s; P id 5, R id 1 the order followed, X id 2, W id 4), level_before at the event's price:

    e0 0    ADD P 40 @10.00 (lb 0)        e6  3.5  EXEC R 50 (lb 450)
    e1 0.5  ADD R 300 @10.00 (lb 40)      e7  4    MODIFY W → 10.00, 80 (lb 400): joins behind R
    e2 1    ADD X 100 @10.00 (lb 340)     e8  5    MODIFY X → 9.99, 100 (lb 0): leaves R's price
    e3 2    ADD W 80 @9.99 (lb 0)         e9  6    EXEC R 120 (lb 380)
    e4 2.5  CANCEL P 10 (lb 440)          e10 7    EXEC R 130 (lb 260): R is done
    e5 3    MODIFY P → 10.00, 50 (lb 430): a larger size loses priority, P goes behind R
    """
    rows = [(0.0, 5, ADD, 1, 10.00, 40, 0, 10.00), (0.5, 1, ADD, 1, 10.00, 300, 40, 10.00),
            (1.0, 2, ADD, 1, 10.00, 100, 340, 10.00), (2.0, 4, ADD, 1, 9.99, 80, 0, 10.00),
            (2.5, 5, CANCEL, 1, 10.00, 10, 440, 10.00), (3.0, 5, MODIFY, 1, 10.00, 50, 430, 10.00),
            (3.5, 1, EXEC, 1, 10.00, 50, 450, 10.00), (4.0, 4, MODIFY, 1, 10.00, 80, 400, 10.00),
            (5.0, 2, MODIFY, 1, 9.99, 100, 0, 10.00), (6.0, 1, EXEC, 1, 10.00, 120, 380, 10.00),
            (7.0, 1, EXEC, 1, 10.00, 130, 260, 10.00), (100.0, 0, OTHER, 0, np.nan, 0, -1, np.nan)]
    return _events(rows)


def stream(st, c):
    sl = slice(st.start[c], st.start[c + 1])
    return [((int(t) - T0) / S, int(k), float(q)) for t, k, q in zip(st.t[sl], st.kind[sl], st.qty[sl], strict=True)]


def test_candidates_and_exclusion_counts():
    cands, info = select_candidates(tape())
    assert cands.order_id.tolist() == [1, 2, 3, 9]
    assert cands.ahead.tolist() == [0, 300, 400, 500] and cands.size.tolist() == [300, 100, 200, 100]
    assert info["adds"] == 4 and info["candidates"] == 4 and info["orders_resting_before_file_start"] == 0
    assert cands.klass.tolist() == ["improved", "joined", "joined", "joined"]  # A set the best alone (Q 0)
    assert (info["joined"], info["improved"]) == (3, 1)
    assert buckets(cands.ahead, cands.size).tolist() == [0, 3, 2, 3]  # 0, 3 -> 2-5, 2 -> 1-2, 5 -> 2-5


def test_removal_streams_by_hand():
    """The real order's own size is out of every level the model sees, its executions are no prints."""
    ev = tape()
    cands, _ = select_candidates(ev)
    st = build_streams(ev, cands, 10.0, own_prints="drop")
    assert stream(st, 0) == [(1.0, K_LEVEL, 100.0), (2.0, K_LEVEL, 300.0), (3.0, K_OWN_CANCEL, 100.0),
                             (4.0, K_OWN_EXEC, 200.0), (4.5, K_PRINT, 60.0), (4.5, K_LEVEL, 240.0),
                             (6.5, K_OUTFLOW, 40.0), (6.5, K_LEVEL, 200.0), (7.5, K_PRINT, 200.0),
                             (7.5, K_LEVEL, 0.0)]
    assert stream(st, 1) == [(2.0, K_LEVEL, 500.0), (3.0, K_OUTFLOW, 100.0), (3.0, K_LEVEL, 400.0),
                             (4.0, K_PRINT, 200.0), (4.0, K_LEVEL, 200.0), (4.5, K_OWN_EXEC, 60.0)]
    assert (st.life_end[1] - T0) / S == 6.5  # B deleted by its owner
    assert (st.life_end[0] - T0) / S == 10.0  # A fully executed: the hypothetical order keeps resting
    assert stream(st, 3) == []
    keep = build_streams(ev, cands, 10.0, own_prints="keep")
    assert (4.5, K_PRINT, 60.0) in stream(keep, 1) and (4.0, K_PRINT, 200.0) in stream(keep, 0)


def test_predictions_by_hand():
    """Conservative, drop, 10 s: A's front is 0 so B's print of 60 and C's 200 reach it, capped at 300 − 100
    cancelled = 200; B's front 300 − 200 printed = 100 > 0 and C's front ends at 0 with no print after:
    both 0. Keep mode: A takes its own 200-share execution at t=4, C its own 200 at t=7.5; power n=2
    moves B to 300 − (1 − 0.3077)·100 = 230.77 at e3, 30.77 after e4's print, so its own 60 leaves 29."""
    ev = tape()
    cands, _ = select_candidates(ev)
    st = build_streams(ev, cands, 10.0, own_prints="drop")
    cons = predict(st, cands, ModelSpec("conservative"), (5, 10)).fills
    assert cons.tolist() == [[60, 200], [0, 0], [0, 0], [0, 0]]
    assert predict(st, cands, ModelSpec("power", 2.0), (5, 10)).fills.tolist() == cons.tolist()
    paper = predict(st, cands, ModelSpec("paper"), (5, 10)).fills
    assert paper.tolist() == [[60, 200], [0, 0], [0, 0], [0, 0]]  # A: 60, +40 outflow, capped at 200
    keep = build_streams(ev, cands, 10.0, own_prints="keep")
    assert predict(keep, cands, ModelSpec("conservative"), (5, 10)).fills.tolist() == [[200, 200], [0, 0],
                                                                                         [0, 200], [0, 0]]
    assert predict(keep, cands, ModelSpec("power", 2.0), (5, 10)).fills[1].tolist() == [29, 29]
    assert predict(keep, cands, ModelSpec("paper"), (5, 10)).fills[2].tolist() == [0, 200]  # ξ = 600 > Q 400


def test_reassign_streams_by_hand():
    """Reassign on the first tape: A's execution of 200 at t=4 finds B (100) and C (200) queued behind it:
    B_t − c = 300 ≥ 200, the whole 200 stays a print (as in keep). B's 60 at t=4.5 finds C's 200 behind: all
    60 stay. C's 200 at t=7.5 finds nobody behind (it joined last): the print vanishes (as in drop).
    Conservative fills at 5 / 10 s: A's front is 0, so its own 200 reaches it at t=4 (capped at 300 − 100
    cancelled = 200): [200, 200]; B's front 300 − 200 = 100 > 60: 0; C gets no print: 0 (drop: A [60, 200];
    keep: C [0, 200])."""
    ev = tape()
    cands, _ = select_candidates(ev)
    st = build_streams(ev, cands, 10.0)  # reassign is the default
    keep = build_streams(ev, cands, 10.0, own_prints="keep")
    drop = build_streams(ev, cands, 10.0, own_prints="drop")
    assert stream(st, 0)[3:5] == [(4.0, K_PRINT, 200.0), (4.0, K_OWN_EXEC, 200.0)]
    assert stream(st, 0) == stream(keep, 0) and stream(st, 1) == stream(keep, 1)
    assert (4.5, K_PRINT, 60.0) in stream(st, 1)
    assert stream(st, 2) == stream(drop, 2) and (7.5, K_PRINT, 200.0) in stream(keep, 2)
    cons = ModelSpec("conservative")
    assert predict(st, cands, cons, (5, 10)).fills.tolist() == [[200, 200], [0, 0], [0, 0], [0, 0]]
    res = validate_fills(ev, None, [cons], (10,), candidates="all")
    assert res.info["own_prints"] == "reassign"
    assert res.table(horizon=10.0)[0]["predicted"] == pytest.approx(200 / 700)
    assert res.table(horizon=10.0, cls="joined")[0]["predicted"] == 0.0  # B, C, D: A (Q 0) improved


def test_reassign_modify_partial_and_running_sum_by_hand():
    """``mbo_tape``, R (Q 40, L 300). Behind R (later priority, at 10.00): X 100 from e2; P's cancel (e4) keeps
    its priority ahead of R; P's MODIFY to a larger size (e5) puts its 50 behind: B = 150. e6: R executes 50,
    B − c = 150 ≥ 50: print 50 (whole), c = 50. W moves in (e7): B = 230; X moves out (e8): B = 130. e9: R
    executes 120, B − c = 130 − 50 = 80: print 80 (partial; 40 vanish), c = 130. e10: R executes 130,
    B − c = 130 − 130 = 0: nothing (vanishes). Keep: 50, 120, 130; drop: none.
    Conservative (front stays 40: the level never falls below it): reassign 50 − 40 = 10 at e6, + 80 at
    e9 = 90; keep 10 + 120 + 130 = 260; drop 0. Realised 300. P and X are excluded (modified); P (Q 0) is an
    improver, so the joined headline excludes only X."""
    ev = mbo_tape()
    cands, _ = select_candidates(ev)
    assert cands.order_id.tolist() == [5, 1, 2] and cands.ahead.tolist() == [0, 40, 340]
    prints = {}
    for mode in ("reassign", "keep", "drop"):
        st = build_streams(ev, cands, 10.0, own_prints=mode)
        prints[mode] = [(t, q) for t, k, q in stream(st, 1) if k == K_PRINT]
        assert [(t, q) for t, k, q in stream(st, 1) if k == K_OWN_EXEC] == [(3.5, 50.0), (6.0, 120.0),
                                                                             (7.0, 130.0)]
        fills = predict(st, cands, ModelSpec("conservative"), (10,)).fills[1, 0]
        assert fills == {"reassign": 90, "keep": 260, "drop": 0}[mode]
    assert prints == {"reassign": [(3.5, 50.0), (6.0, 80.0)], "keep": [(3.5, 50.0), (6.0, 120.0), (7.0, 130.0)],
                      "drop": []}
    res = validate_fills(ev, None, ["conservative"], (10,))
    assert res.exclusions["10s"]["modified"] == 1 and res.exclusions["10s"]["scored"] == 1
    assert res.by_class["all"]["exclusions"]["10s"]["modified"] == 2
    row = res.table(horizon=10.0)[0]
    assert row["realised"] == 1.0 and row["predicted"] == pytest.approx(90 / 300)


def test_reassign_capped_by_the_displayed_level():
    """R (100, Q 0) and X (100) behind it; X's delete is missing from the file (as when a level-1 LOBSTER file
    no longer sees the price): the order events still count B = 100 at R's execution of 100, but the level
    before it shows 100 = R alone: B = min(100, 100 − 100) = 0, the print vanishes."""
    rows = [(0.0, 1, ADD, 1, 10.00, 100, 0, 10.00), (1.0, 2, ADD, 1, 10.00, 100, 100, 10.00),
            (2.0, 1, EXEC, 1, 10.00, 100, 100, 10.00), (100.0, 0, OTHER, 0, np.nan, 0, -1, np.nan)]
    ev = _events(rows)
    cands, _ = select_candidates(ev)
    st = build_streams(ev, cands, 10.0)
    assert stream(st, 0) == [(1.0, K_LEVEL, 100.0), (2.0, K_OWN_EXEC, 100.0)]  # X's add seen; no print
    whole = _events([*rows[:2], (2.0, 1, EXEC, 1, 10.00, 100, 200, 10.00), rows[3]])  # X still shown: kept
    assert (2.0, K_PRINT, 100.0) in stream(build_streams(whole, cands, 10.0), 0)


def test_order_states_priority_rules():
    """``mbo_tape``'s priority rows: P from e0, kept by its cancel (e4), restarted by the larger MODIFY (e5);
    W restarted at e7 (new price); an event without an order id changes nothing."""
    from sorlib.fillcheck.events import order_states

    ev = mbo_tape()
    pb, pbx, pbs, pa, pax, pas = order_states(ev.venue, ev.order_id, ev.action, ev.price, ev.size)
    assert pa.tolist() == [0, 1, 2, 3, 0, 5, 1, 7, 8, 1, -1, -1]
    assert pb[5] == 0 and pbs[5] == 30 and pas[5] == 50 and pbx[7] == 9.99 and pax[7] == 10.00
    assert pas[9] == 130 and pas[10] == 0 and np.isnan(pax[10])


def test_bucket_maths_by_hand():
    """10 s, conservative: realised 200, 60, 200, 0 of sizes 300, 100, 200, 100; predicted 200, 0, 0, 0.
    Buckets: <=0.5 {A}: 2/3 vs 2/3; 1-2 {C}: 1 vs 0; 2-5 {B, D}: 60/200 vs 0. Calibration error =
    (300·0 + 200·1 + 200·0.3)/700 = 37.142857 points; bias = (200 − 460)/700 = −37.142857 points;
    Brier = (0 + 0.6² + 1² + 0)/4 = 0.34."""
    res = validate_fills(tape(), None, ["conservative"], (5, 10), own_prints="drop", candidates="all")
    row = res.table(horizon=10.0)[0]
    assert row["n"] == 4 and row["shares"] == 700
    assert row["realised"] == pytest.approx(460 / 700) and row["predicted"] == pytest.approx(200 / 700)
    assert row["bias_pp"] == pytest.approx(-100 * 260 / 700)
    assert row["calib_pp"] == pytest.approx(100 * 260 / 700)
    assert row["brier"] == pytest.approx(0.34)
    b = {r["bucket"]: r for r in res.buckets if r["horizon_s"] == 10.0}
    assert b["1-2"]["realised"] == 1.0 and b["1-2"]["predicted"] == 0.0
    assert b["2-5"]["realised"] == pytest.approx(0.3) and b["2-5"]["shares"] == 200
    five = res.table(horizon=5.0)[0]  # realised at 5 s: A 200 (t 4), B 60 (t 4.5 <= 6), C none yet
    assert five["realised"] == pytest.approx(260 / 700) and five["predicted"] == pytest.approx(60 / 700)
    assert res.exclusions["10s"]["scored"] == 4


def test_rates_calibration_differs_from_bias():
    """Opposite errors cancel in the bias but not in the calibration error: bucket 0 over-predicts 50 of
    100, bucket 5 (>20) under-predicts 50 of 100: bias 0, calibration (100·0.5 + 100·0.5)/200 = 50 points."""
    r = rates(np.array([0, 100]), np.array([50, 50]), np.array([100, 100]), np.array([0, 5]))
    assert r["bias_pp"] == pytest.approx(0.0) and r["calib_pp"] == pytest.approx(50.0)
    assert r["brier"] == pytest.approx(0.25)


def test_displaced_and_censored_exclusions():
    """A level-1 view (the ask floor is the best ask) with a better bid at t=2: A, B, C are displaced once
    a bid of 10.01 shows; D (t 30) is censored at 80 s (30 + 80 > 100 s, the data end)."""
    from sorlib.fillcheck.events import BAD_DISPLACED

    ev = tape()
    cands, _ = select_candidates(ev)
    bb = ev.best_bid.copy()
    bb[3:8] = 10.01
    q = Quotes(ev.ts, ev.venue, bb[:, None], np.where(np.isfinite(bb), 100, 0)[:, None],
               ev.best_ask[:, None], np.full((len(ev), 1), 100))
    md = MarketData(q, Trades.empty(), LoadReport("hand", "test"))
    st = build_streams(replace(ev, best_bid=bb), cands, 80.0, md)
    assert st.bad_why.tolist()[:3] == [BAD_DISPLACED] * 3
    res = validate_fills(ev, md, ["conservative"], (80,))
    assert res.exclusions["80s"]["censored_at_data_end"] == 1 and res.exclusions["80s"]["scored"] == 0


def test_markouts_sign_by_hand():
    """A bid fill at t=1 s with mid 10.01 before and 10.00 from t=1.5: −1/10.01·10⁴ = −9.99 bps at 1 s (the mid
    fell against the buyer); an ask fill at the same time gains the same +9.99."""
    ev = OrderEvents(ts=np.array([0, S, 3 * S // 2]),
                     venue=np.zeros(3), order_id=np.zeros(3), action=np.zeros(3), side=np.zeros(3),
                     price=np.full(3, np.nan), size=np.zeros(3), level_before=np.full(3, -1),
                     best_bid=np.array([10.00, 10.00, 9.99]), best_ask=np.array([10.02, 10.02, 10.01]))
    m = markouts(Mids(ev), np.zeros(2, np.int32), np.array([1, -1]), np.array([S, S]), np.array([100, 0]), (0.5,))
    assert m["0.5s"] == pytest.approx(-1e4 * 0.01 / 10.01)
    m = markouts(Mids(ev), np.zeros(1, np.int32), np.array([-1]), np.array([S]), np.array([100]), (0.5,))
    assert m["0.5s"] == pytest.approx(1e4 * 0.01 / 10.01)


def test_parse_models_errors():
    assert [m.label for m in parse_models("conservative,power:1.5,power3,paper")] == [
        "conservative", "power:1.5", "power3:2", "paper"]
    for bad in ("nope", "log:2", "power:x", "power:-1", "conservative,conservative", "power,"):
        with pytest.raises(ConfigError):
            parse_models(bad)


# ----------------------------------------------------------------------- random books: properties + reference
def reference(st, cands, kind: str, n: float, horizons) -> np.ndarray:
    """The same hypothetical order driven by sorlib.sim.queue's own classes (an independent implementation of
    the stream semantics, one Python object per order)."""
    hz = cands.ts[:, None] + np.round(np.asarray(horizons) * S).astype(np.int64)[None, :]
    out = np.zeros(hz.shape, np.int64)
    model = None if kind == "paper" else make_queue_model(QueueFill(kind, power=n))
    for c in range(len(cands)):
        q = QueueState.join(float(cands.ahead[c]))
        cap, filled, xi = int(cands.size[c]), 0, 0.0
        for j in range(st.start[c], st.start[c + 1]):
            k, v, t = int(st.kind[j]), float(st.qty[j]), int(st.t[j])
            f = 0
            if k in (K_SYNC, K_LEVEL) and model is not None:
                model.on_level(q, v)
            elif k == K_PRINT:
                xi += v
                if model is not None:
                    f = min(cap - filled, int(model.on_print(q, v)))
            elif k == K_THROUGH:
                f = cap - filled
            elif k == K_OWN_CANCEL:
                cap = max(cap - int(v), filled)
            elif k == K_OUTFLOW:
                xi += v
            if model is None and k != K_THROUGH:
                f = max(paper_fill(cap, float(cands.ahead[c]), xi) - filled, 0)
            filled += f
            out[c] += f * (t <= hz[c])
    return out


@hs.composite
def books(draw):
    """A consistent random bid book at 3 prices (FIFO, executions hit the best level's oldest order)."""
    rng = np.random.default_rng(draw(hs.integers(0, 2**31)))
    n = draw(hs.integers(5, 120))
    book: dict[int, list] = {}  # id -> [price, size]
    rows, nid, t = [], 1, 0
    for _ in range(n):
        t += int(rng.integers(1, 3 * S))
        live = [i for i, (_, s) in book.items() if s > 0]
        r = rng.random()
        if r < 0.45 or not live:
            px = 10.0 - 0.01 * int(rng.integers(0, 3))
            sz = int(rng.integers(1, 5)) * 100
            act, oid = ADD, nid
            nid += 1
        elif r < 0.75:
            best = max(book[i][0] for i in live)
            oid = min(i for i in live if book[i][0] == best)  # FIFO at the best
            px, sz, act = best, int(min(book[oid][1], rng.integers(1, 4) * 100)), EXEC
        else:
            oid = int(rng.choice(live))
            px = book[oid][0]
            part = rng.random() < 0.3 and book[oid][1] > 100
            sz, act = (100, CANCEL) if part else (book[oid][1], DELETE)
        lb = sum(s for p, s in book.values() if abs(p - px) < 1e-9)
        if act == ADD:
            book[oid] = [px, sz]
        else:
            book[oid][1] -= sz
        bids = [p for p, s in book.values() if s > 0]
        rows.append((t, oid, act, px, sz, lb, max(bids) if bids else np.nan))
    t_, oid, act, px, sz, lb, bb = map(np.array, zip(*rows, strict=True))
    return OrderEvents(ts=T0 + t_, venue=np.zeros(n), order_id=oid, action=act, side=np.ones(n), price=px,
                       size=sz, level_before=lb, best_bid=bb, best_ask=np.full(n, 10.05))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(), hs.sampled_from(["conservative", "power", "log", "power2", "power3", "paper"]),
       hs.sampled_from(["reassign", "drop", "keep"]), hs.floats(0.2, 5.0))
def test_random_books_bounds_and_reference(ev, kind, own, n):
    """Predicted and realised fills lie in [0, size], rates in [0, 1], and the kernel equals the reference
    driven by sorlib.sim.queue's classes."""
    cands, _ = select_candidates(ev)
    if len(cands) == 0:
        return
    horizons = (3.0, 10.0)
    st = build_streams(ev, cands, max(horizons), own_prints=own)
    p = predict(st, cands, ModelSpec(kind, n), horizons).fills
    assert (p >= 0).all() and (p <= cands.size[:, None]).all()
    assert np.array_equal(p, reference(st, cands, kind, n, horizons))
    res = validate_fills(ev, None, [ModelSpec(kind, n)], horizons, own_prints=own)
    for r in res.summary:
        if r["shares"]:
            assert 0 <= r["realised"] <= 1 and 0 <= r["predicted"] <= 1
            assert 0 <= r["calib_pp"] <= 100 and 0 <= r["brier"] <= 1


def reassigned(ev: OrderEvents, cands, horizon_s: float) -> list[list[tuple[int, int]]]:
    """Per candidate, (t ns, shares) of the prints its own executions leave under reassign, from a book of
    live orders rebuilt by replaying the tape (an implementation independent of the kernel's priority rows):
    B = shares of the live orders at its price added after it, c = the running sum already given."""
    out = []
    for c in range(len(cands)):
        live: dict[int, list] = {}  # id -> [price, size, add row]
        me, a = int(cands.order_id[c]), int(cands.event[c])
        given, got = 0, []
        for i in range(len(ev)):
            oid, act, sz, t = int(ev.order_id[i]), int(ev.action[i]), int(ev.size[i]), int(ev.ts[i])
            if i > a and oid == me and act == EXEC and t <= int(cands.ts[c]) + horizon_s * S:
                b = sum(v[1] for k, v in live.items() if v[2] > a and abs(v[0] - cands.price[c]) < 1e-9)
                e = min(sz, max(b - given, 0))
                given += e
                if e:
                    got.append((t, e))
            if act == ADD:
                live[oid] = [float(ev.price[i]), sz, i]
            elif oid in live:
                live[oid][1] -= sz
        out.append(got)
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_random_books_reassign_reference(ev):
    """On random FIFO books the reassign prints equal :func:`reassigned`'s, and each lies between drop (0) and
    keep (the execution); a candidate's print is at the time of one of its own executions."""
    cands, _ = select_candidates(ev)
    if len(cands) == 0:
        return
    st = build_streams(ev, cands, 10.0, own_prints="reassign")
    want = reassigned(ev, cands, 10.0)
    for c in range(len(cands)):
        sl = slice(st.start[c], st.start[c + 1])
        own = {int(t): q for t, k, q in zip(st.t[sl], st.kind[sl], st.qty[sl], strict=True) if k == K_OWN_EXEC}
        got = [(int(t), int(q)) for t, k, q in zip(st.t[sl], st.kind[sl], st.qty[sl], strict=True)
               if k == K_PRINT and int(t) in own]
        assert got == want[c]
        assert all(0 < q <= own[t] for t, q in got)


@settings(max_examples=25, deadline=None)
@given(books())
def test_random_books_simple_model_bounded_and_seeded(ev):
    cands, _ = select_candidates(ev)
    if len(cands) == 0:
        return
    st = build_streams(ev, cands, 10.0)
    a = predict(st, cands, ModelSpec("simple", seed=3), (10.0,)).fills
    assert (a >= 0).all() and (a <= cands.size[:, None]).all()
    assert np.array_equal(a, predict(st, cands, ModelSpec("simple", seed=3), (10.0,)).fills)


# ----------------------------------------------------------------------- synthetic order tape, figures
def test_order_tape_from_level1_market_by_hand():
    """Quote rows (t s: bid, ask) 1: 10.00x300 / 10.02x200; 2: 10.00x500; a sell print of 350 at 10.00 at t=3;
    3: 10.00x100; 4: 9.99x100. By hand: adds of 300 (id 1) and 200 (id 2, ask); +200 joins behind 300 (id 3);
    the print fills id 1's 300 then 50 of id 3 (FIFO); 150 left vs 100 shown: 50 cancelled (only id 3 is
    there); the best bid moves to 9.99: id 3's last 100 deleted, a new order of 100 (id 4) adds there."""
    from sorlib.fillcheck.synthetic import order_events_from_market

    ts = np.array([1, 2, 3, 4]) * S
    q = Quotes(ts, np.full(4, 2, np.int32), np.array([[10.0], [10.0], [10.0], [9.99]]),
               np.array([[300], [500], [100], [100]]), np.full((4, 1), 10.02), np.full((4, 1), 200))
    tr = Trades(np.array([3 * S]), np.array([2], np.int32), np.array([10.0]), np.array([350]), np.array([-1], np.int8))
    ev = order_events_from_market(MarketData(q, tr, LoadReport("hand", "test")), seed=1)
    got = list(zip((ev.ts // S).tolist(), ev.order_id.tolist(), ev.action.tolist(), ev.side.tolist(),
                   ev.price.tolist(), ev.size.tolist(), ev.level_before.tolist(), strict=True))
    assert got == [(1, 1, ADD, 1, 10.0, 300, 0), (1, 2, ADD, -1, 10.02, 200, 0), (2, 3, ADD, 1, 10.0, 200, 300),
                   (3, 1, EXEC, 1, 10.0, 300, 500), (3, 3, EXEC, 1, 10.0, 50, 200), (3, 3, CANCEL, 1, 10.0, 50, 150),
                   (4, 3, DELETE, 1, 10.0, 100, 100), (4, 4, ADD, 1, 9.99, 100, 0)]
    assert np.isnan(ev.best_bid[6]) and ev.best_bid[7] == 9.99 and np.isnan(ev.best_ask[0]) and ev.best_ask[1] == 10.02
    cands, _ = select_candidates(ev)
    assert cands.order_id.tolist() == [1, 2, 3, 4]  # every add of this tape joins the best


def test_figures_and_headline_build():
    from sorlib.plots.fillcheck import bias_figure, calibration_figure, markout_figure, verdict_html

    res = validate_fills(tape(), None, ["conservative", "paper"], (5, 10), candidates="all")
    cal = calibration_figure(res)
    assert [t.name for t in cal.data] == ["perfect calibration", "conservative", "paper"]
    assert list(cal.data[1].x) == pytest.approx([100 * 2 / 3, 100.0, 30.0])  # buckets <=0.5, 1-2, 2-5
    assert len(bias_figure(res).data) == 4 and {t.name for t in markout_figure(res).data} >= {"real", "arrivals"}
    page = verdict_html(res, "hand tape")
    assert res.verdict() in page.replace("&#x27;", "'") and "37.14" in page and "hand tape" in page


def test_verdict_names_the_best_queue_position_model():
    """When the best-calibrated model is not a queue-position model (simple, paper), the verdict also names
    the best of those (here power3:fit, 1.62 < conservative 1.69); when it is one, nothing is added."""
    from sorlib.fillcheck.validate import FillValidation

    def row(m, calib):
        return {"model": m, "sample": "all", "horizon_s": 60.0, "n": 10, "shares": 1000, "realised": 0.2,
                "predicted": 0.19, "bias_pp": -calib, "calib_pp": calib, "brier": 0.1}

    res = FillValidation("hand", (60.0,), ["conservative", "simple", "power3:fit"],
                         summary=[row("conservative", 1.69), row("simple", 1.11), row("power3:fit", 1.62)])
    text = res.verdict()
    assert text.startswith("simple validates best") and "best queue-position model" in text
    assert "power3:fit: 1.62 points, bias -1.62" in text
    res.summary.pop(1)
    assert res.verdict().startswith("power3:fit validates best") and "queue-position" not in res.verdict()


def test_hidden_executions_are_no_prints_but_trade_through():
    """A bid of 100 at 10.00 set the best (Q 0). A hidden execution of 50 at 10.00 (t=1) never reaches the
    displayed queue: no print, nothing filled; a hidden execution at 9.99 (t=2) traded through: all 100 fill."""
    from sorlib.data.order_events import EXEC_HIDDEN

    rows = [(0, 1, ADD, 10.00, 100, 0), (1, 0, EXEC_HIDDEN, 10.00, 50, 100), (2, 0, EXEC_HIDDEN, 9.99, 10, 0),
            (100, 0, OTHER, np.nan, 0, -1)]
    t, oid, act, px, sz, lb = map(np.array, zip(*rows, strict=True))
    ev = OrderEvents(ts=t * S, venue=np.zeros(4), order_id=oid, action=act, side=np.array([1, 1, 1, 0]), price=px,
                     size=sz, level_before=lb, best_bid=np.full(4, 10.0), best_ask=np.full(4, 10.02))
    cands, _ = select_candidates(ev)
    st = build_streams(ev, cands, 5.0)
    assert list(zip(st.kind.tolist(), st.qty.tolist(), strict=True)) == [(K_THROUGH, 10.0)]
    assert predict(st, cands, ModelSpec("conservative"), (1.5, 5.0)).fills.tolist() == [[0, 100]]


def test_bracket_by_hand():
    """Keep mode, conservative, 10 s: A 200 (its own print), B 0, C 200 (its own print), D 0 against realised
    200, 60, 200, 0: only bucket 2-5 is off, by 60 of 200 shares: calibration (200·0.3)/700 = 8.571 points,
    bias −8.571; drop mode 37.143 (test_bucket_maths_by_hand)."""
    from sorlib.plots.fillcheck import bracket_frame

    drop = validate_fills(tape(), None, ["conservative"], (10,), own_prints="drop", candidates="all")
    keep = validate_fills(tape(), None, ["conservative"], (10,), own_prints="keep", candidates="all")
    row = bracket_frame(drop, keep).iloc[0]
    assert row["calib 10s (drop)"] == pytest.approx(100 * 260 / 700)
    assert row["calib 10s (keep)"] == pytest.approx(100 * 60 / 700) and row["bias 10s (keep)"] == pytest.approx(-100 * 60 / 700)


def test_bracket_three_modes_by_hand():
    """At 5 s (realised A 200, B 60, C 0 — its execution is at 7.5 —, D 0), conservative: reassign predicts A
    200 (its own execution at t=4, absorbed by B and C behind it), others 0: only bucket 2-5 is off, by 60 of
    200 shares: 60/700 = 8.571 points; drop predicts A 60 (B's print at 4.5): buckets <=0.5 off by 140 and 2-5
    by 60: 200/700 = 28.571; keep as reassign here: 8.571."""
    from sorlib.plots.fillcheck import bracket_frame

    runs = [validate_fills(tape(), None, ["conservative"], (5, 10), own_prints=m, candidates="all")
            for m in ("reassign", "drop", "keep")]
    row = bracket_frame(*runs, horizon=5.0).iloc[0]
    assert row["calib 5s (reassign)"] == pytest.approx(100 * 60 / 700)
    assert row["calib 5s (drop)"] == pytest.approx(100 * 200 / 700)
    assert row["calib 5s (keep)"] == pytest.approx(100 * 60 / 700)


# ----------------------------------------------------------------------- candidate classes: joined vs improved
def class_tape() -> OrderEvents:
    """Bids (t s), an ask side at 10.05; id 1 (300 at 10.00) rests from before the file (no ADD in it):

    e0 0   ADD J id 2 100 @10.00 (lb 300)   joined: Q 300, L 100 (Q/L 3: bucket 2-5)
    e1 1   ADD I id 3 200 @10.01 (lb 0)     improved: nothing displayed at 10.01 before it (bucket <=0.5)
    e2 2   EXEC I 150 (lb 200)              I realised 150; nobody behind I: reassign leaves no print
    e3 3   ADD id 4 100 @9.99 (lb 0)        not at the best (best bid 10.01)
    e4 3.5 ADD id 6 ask 100 @10.05 (lb −1)  at the best, queue ahead unknown
    e5 4   DELETE I 50 (lb 50)              I's lifetime ends
    e6 5   EXEC id 1 300 (lb 400)           a print of 300 at J's price: J's front 300 → 0
    e7 6   EXEC J 60 (lb 100)               J realised 60; nobody behind J at 10.00: no print under reassign
    """
    rows = [(0.0, 2, ADD, 1, 10.00, 100, 300, 10.00), (1.0, 3, ADD, 1, 10.01, 200, 0, 10.01),
            (2.0, 3, EXEC, 1, 10.01, 150, 200, 10.01), (3.0, 4, ADD, 1, 9.99, 100, 0, 10.01),
            (3.5, 6, ADD, -1, 10.05, 100, -1, 10.01), (4.0, 3, DELETE, 1, 10.01, 50, 50, 10.00),
            (5.0, 1, EXEC, 1, 10.00, 300, 400, 10.00), (6.0, 2, EXEC, 1, 10.00, 60, 100, 10.00),
            (100.0, 0, OTHER, 0, np.nan, 0, -1, np.nan)]
    ev = _events(rows)
    return replace(ev, best_ask=np.full(len(ev), 10.05))


def test_classes_joined_and_improved_by_hand():
    """``class_tape``, conservative, 10 s, reassign: J's front falls to 0 at e6's print of 300 but nothing prints
    after it (its own 60 finds nobody behind it): predicted 0 of realised 60. I's own 150 finds nobody behind
    it either (it created 10.01): predicted 0 of realised 150. Per class:
    joined {J}: shares 100, realised 0.6, predicted 0, bias −60, calibration 60 (one bucket), Brier 0.36;
    improved {I}: shares 200, realised 0.75, predicted 0, bias −75, calibration 75, Brier 0.5625;
    all: shares 300, realised 210/300 = 0.7, bias −70, calibration (100·0.6 + 200·0.75)/300 = 70, Brier
    (0.36 + 0.5625)/2 = 0.46125. Keep mode: each own execution stays a print at a front of 0 → predicted
    60 and 150, calibration 0 in every class. Counts: 4 adds = 1 joined + 1 improved + 1 away from the best +
    1 with the queue unknown; id 1 rested before the file. Fitted: the training half of the joined class is J
    (t 0); I arrives after it (t 1) and so falls in the test half."""
    ev = class_tape()
    cands, info = select_candidates(ev)
    assert cands.order_id.tolist() == [2, 3] and cands.klass.tolist() == ["joined", "improved"]
    assert (info["adds"], info["joined"], info["improved"], info["adds_not_at_best"],
            info["adds_at_best_queue_unknown"], info["orders_resting_before_file_start"]) == (4, 1, 1, 1, 1, 1)
    want = {"joined": (1, 100, 0.6, -60.0, 60.0, 0.36), "improved": (1, 200, 0.75, -75.0, 75.0, 0.5625),
            "all": (2, 300, 0.7, -70.0, 70.0, 0.46125)}
    for headline in ("joined", "improved", "all"):
        res = validate_fills(ev, None, ["conservative"], (10,), candidates=headline)
        assert res.candidates == headline and len(res.table()) == 1 and res.table()[0]["candidates"] == headline
        for cls, (n, sh, real, bias, calib, brier) in want.items():
            r = res.table(cls=cls)[0]
            assert (r["n"], r["shares"], r["predicted"]) == (n, sh, 0.0)
            assert r["realised"] == pytest.approx(real) and r["bias_pp"] == pytest.approx(bias)
            assert r["calib_pp"] == pytest.approx(calib) and r["brier"] == pytest.approx(brier)
            assert res.by_class[cls]["candidates"] == n and res.by_class[cls]["exclusions"]["10s"]["scored"] == n
    res = validate_fills(ev, None, ["conservative"], (10,))
    assert res.candidates == "joined" and res.exclusions["10s"]["scored"] == 1
    assert "created its price level: removal leaves no queue to predict from; reported separately" in res.notes[0]
    assert "4 adds = 1 joined + 1 improved" in res.notes[1]
    assert [r["bucket"] for r in res.bucket_rows(horizon=10.0)] == ["2-5"]
    assert [r["bucket"] for r in res.bucket_rows(horizon=10.0, cls="improved")] == ["<=0.5"]
    orders = res.orders_frame()
    assert orders["class"].tolist() == ["joined", "improved"] and orders["ahead"].tolist() == [300, 0]
    assert orders["realised 10s"].tolist() == [60, 150] and orders["conservative 10s"].tolist() == [0, 0]
    assert orders["excluded 10s"].tolist() == ["", ""]
    keep = validate_fills(ev, None, ["conservative"], (10,), own_prints="keep")
    assert keep.orders["conservative 10s"].tolist() == [60, 150]
    assert all(r["calib_pp"] == 0.0 for r in keep.summary)
    fitted = validate_fills(ev, None, ["conservative"], (10,), fit=True)
    assert fitted.orders["sample"].tolist() == ["train", "test"]
    assert fitted.table(cls="improved")[0]["n"] == 1 and fitted.table()[0]["n"] == 0  # test half: I only


def test_class_option_errors():
    with pytest.raises(ConfigError, match="candidates must be one of joined, improved, all"):
        validate_fills(class_tape(), None, ["conservative"], (10,), candidates="new")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_random_books_counts_add_up(ev):
    """Every add is joined, improved, away from the best or at the best with the queue unknown; joined means
    shares were displayed at its price just before it (the generator's own book, ``level_before``); per class
    and horizon, the exclusions and the scored add up to the class; the ``all`` rows are the share-weighted
    sum of the two classes."""
    res = validate_fills(ev, None, ["conservative"], (3.0, 10.0))
    i = res.info
    assert i["adds"] == i["joined"] + i["improved"] + i["adds_not_at_best"] + i["adds_at_best_queue_unknown"]
    assert i["joined"] + i["improved"] == i["candidates"] == len(res.orders["class"])
    adds = np.flatnonzero((ev.action == ADD) & (np.abs(ev.price - ev.best_bid) < 1e-9))
    assert res.orders["class"].tolist() == ["joined" if ev.level_before[a] > 0 else "improved" for a in adds]
    for d in res.by_class.values():
        for counts in d["exclusions"].values():
            assert sum(counts.values()) == d["candidates"]
    assert res.by_class["all"]["candidates"] == i["candidates"]
    for T in (3.0, 10.0):
        rows = {c: res.table(horizon=T, cls=c)[0] for c in ("joined", "improved", "all")}
        for key in ("realised", "predicted"):
            parts = sum(rows[c][key] * rows[c]["shares"] for c in ("joined", "improved") if rows[c]["shares"])
            assert parts == pytest.approx(rows["all"][key] * rows["all"]["shares"] if rows["all"]["shares"] else 0)


def test_split_halves_cut_on_the_headline_class():
    """``tape()``: A (t 0, improved), B (t 1), C (t 2), D (t 30) joined. The training half of the joined class is
    its first ⌈3/2⌉ = 2 orders, B and C; the cut in time (t 2) puts A in training and D in the test half. Cut
    over all four instead: A and B train."""
    from sorlib.fillcheck.fit import split_halves

    cands, _ = select_candidates(tape())
    assert split_halves(cands, cands.mask("joined")).tolist() == [True, True, True, False]
    assert split_halves(cands).tolist() == [True, True, False, False]
    res = validate_fills(tape(), None, ["conservative"], (10,), fit=True)
    assert res.orders["sample"].tolist() == ["train", "train", "train", "test"]
    assert validate_fills(tape(), None, ["conservative"], (10,), fit=True, candidates="all").orders[
        "sample"].tolist() == ["train", "train", "test", "test"]
