"""What makes the comparison panel's slider moves fast (:mod:`sorlib.whatif.order_cache`,
:mod:`sorlib.whatif.prefetch`, the panel's stops and status): every shortcut must give the result a plain
replay gives, checked here against :func:`sorlib.engine.replay.replay` itself (the oracle)."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

pytest.importorskip("anywidget")
pytest.importorskip("ipywidgets")

from sorlib.backtest import BacktestConfig, router_for  # noqa: E402
from sorlib.engine.replay import replay  # noqa: E402
from sorlib.strategies.base import Decision, Strategy  # noqa: E402
from sorlib.whatif import WhatIf  # noqa: E402
from sorlib.whatif.order_cache import (  # noqa: E402
    OrderReplays,
    _Entry,
    concat_executions,
    decides_alike,
    same_decision,
)
from sorlib.whatif.prefetch import Prefetcher  # noqa: E402

#: Where the CK router posts limit orders on the synthetic day (the benchmarks' --start point), USD/share.
LIMIT_POINT = {"lambda_over": 0.01, "lambda_under": 0.05, "theta_queue": 0.0005}


@pytest.fixture(scope="module")
def small_md():
    from sorlib.synth import default_market

    return default_market(seed=0, minutes=60)


@pytest.fixture(scope="module")
def view(small_md):
    return WhatIf(small_md, every_minutes=10, prefetch=False)


def _same_execution(a, b) -> None:
    """Every fill and per-order array of two executions equal (NaN where NaN)."""
    assert [o.order_id for o in a.orders] == [o.order_id for o in b.orders]
    for col in ("order_id", "ts", "venue", "qty", "price", "fee", "kind"):
        np.testing.assert_array_equal(getattr(a.fills, col), getattr(b.fills, col), err_msg=col)
    np.testing.assert_array_equal(a.arrival_mid, b.arrival_mid)
    for col in ("beyond_book", "unfilled", "impact_cost", "fill_through"):
        np.testing.assert_array_equal(getattr(a, col), getattr(b, col), err_msg=col)
    np.testing.assert_array_equal(a.children.qty, b.children.qty)


def _ck(view, **params):
    return router_for(BacktestConfig(order_size=view.order_size, mode="ck"), {**LIMIT_POINT, **params})


def test_orders_replayed_one_by_one_concatenate_to_the_full_replay(view) -> None:
    """Replay treats parent orders independently, so concatenating one-order replays must give the replay
    of all of them at once (fills, per-order arrays, child orders)."""
    orders = view.orders()
    assert len(orders) >= 3
    whole = replay(view.book, _ck(view), orders)
    parts = concat_executions([replay(view.book, _ck(view), [o]) for o in orders])
    assert len(whole.fills) > 0 and (whole.fills.kind == 1).any()  # resting limit orders filled: CK's path
    _same_execution(parts, whole)


def test_reused_orders_equal_a_fresh_replay_at_every_point(view) -> None:
    """Walk λ_o, λ_u and θ a stop at a time (as arrow keys do); at every point the per-order cache (exact
    hits, orders reused after their decisions were re-checked, orders replayed) must equal a fresh replay.
    The walk must both reuse orders and replay some (else it tests nothing), and the points must not all
    give the same fills (else a cache that always reused would pass)."""
    cache = OrderReplays(view.book)
    orders = view.orders()
    points = [dict(LIMIT_POINT)]
    for name in ("lambda_over", "lambda_under", "theta_queue"):
        for _ in range(4):
            points.append({**points[-1], name: points[-1][name] * 10 ** 0.25})
    fresh_cash = set()
    for p in points:
        key = tuple(p.values())
        got = cache.get(("ck", view.order_size), key, lambda p=p: _ck(view, **p), orders)
        fresh = replay(view.book, _ck(view, **p), orders)
        _same_execution(got, fresh)
        fresh_cash.add(round(float(fresh.fills.cash.sum()), 6))
    assert cache.stats["reused"] > 0 and cache.stats["replayed"] > len(orders)
    assert len(fresh_cash) > 1


def test_a_changed_decision_is_never_reused(view) -> None:
    """The router re-decides alike at its own recorded views; once any recorded decision differs (here one
    share more at one venue of the last decision), the check fails."""
    order = view.orders()[0]
    cache = OrderReplays(view.book)
    cache.order(("ck",), ("a",), lambda: _ck(view), order)
    entry = next(iter(cache._by_order[(("ck",), order.order_id)].values()))
    assert len(entry.trace) >= 2 and decides_alike(_ck(view), entry)
    view_last, dec = entry.trace[-1]
    changed = Decision(dec.market.copy(), dec.limit, dec.wake_ns)
    changed.market[0] += 1
    entry.trace[-1] = (view_last, changed)
    assert not decides_alike(_ck(view), entry)


def test_same_decision_reads_decisions_as_the_replay_does() -> None:
    m = np.array([0, 100, 0])
    assert same_decision(Decision(m), Decision(m.copy(), np.zeros(3, np.int64)))  # no limit = zero limits
    assert same_decision(Decision(m, np.array([0, -5, 0])), Decision(m))  # negative shares send nothing
    assert not same_decision(Decision(m), Decision(np.array([0, 99, 0])))
    assert not same_decision(Decision(m, np.array([0, 0, 1])), Decision(m))
    assert not same_decision(Decision(m, wake_ns=5), Decision(m))


class _ReadsOwnFills(Strategy):
    name = "reads_fills"

    def decide(self, view):
        view.own_fills()
        return Decision(np.zeros(view.ask_px.shape[0], np.int64))


def test_a_strategy_reading_its_own_fills_is_replayed(view) -> None:
    """Own fills are not recorded with the views: such a strategy's check must fail (and the order replay)."""
    cache = OrderReplays(view.book)
    order = view.orders()[0]
    cache.order(("x",), ("a",), _ReadsOwnFills, order)
    entry: _Entry = next(iter(cache._by_order[(("x",), order.order_id)].values()))
    assert entry.trace and not decides_alike(_ReadsOwnFills(), entry)
    cache.order(("x",), ("b",), _ReadsOwnFills, order)
    assert cache.stats == {"hit": 0, "reused": 0, "replayed": 2}


def test_a_stopped_background_replay_returns_none_and_keeps_nothing_half_done(view) -> None:
    cache = OrderReplays(view.book)
    orders = view.orders()
    calls = []

    def stop() -> bool:  # stop at the 3rd check: inside the 2nd order's replay (or before it)
        calls.append(1)
        return len(calls) >= 3

    assert cache.get(("ck", 1), ("p",), lambda: _ck(view), orders, stop) is None
    assert cache.cached(("ck", 1), ("p",), orders) < len(orders)
    whole = cache.get(("ck", 1), ("p",), lambda: _ck(view), orders)  # completes from what was kept
    _same_execution(whole, replay(view.book, _ck(view), orders))


def test_prefetcher_runs_jobs_and_yields_to_the_foreground() -> None:
    pf = Prefetcher()
    ran, started, stopped = [], threading.Event(), threading.Event()

    def quick(stop) -> None:
        ran.append("quick")

    def long(stop) -> None:
        started.set()
        while not stop():
            pass
        stopped.set()

    pf.schedule([quick])
    assert pf.idle(10) and ran == ["quick"]
    pf.schedule([long, quick])
    assert started.wait(10)
    with pf.foreground():  # waits for the long job to stop; the pending quick job is dropped
        assert stopped.is_set()
    assert pf.idle(10) and ran == ["quick"] and not pf.errors


def test_prefetcher_waits_its_delay_and_keeps_going_after_a_failed_job() -> None:
    pf = Prefetcher()
    ran = []

    def bad(stop) -> None:
        raise ValueError("a wrong guess")

    pf.schedule([bad, lambda stop: ran.append(1)], delay_s=0.2)
    assert not ran
    assert pf.idle(10) and ran == [1] and len(pf.errors) == 1


def test_key_press_stops_snap_to_the_slider_grid(small_md) -> None:
    """λ_u = 0.05 sits off the log slider's grid (−5 + k·0.05): one press right goes to exponent −1.25
    (−1.30103 + 0.05 = −1.25103, snapped), i.e. 10^−1.25 = 0.0562341325; two presses to 10^−1.20; left to
    10^−1.35. Order size 5,000 steps to the next offered sizes 7,500 and 3,000."""
    view = WhatIf(small_md, every_minutes=20, prefetch=False, params={**LIMIT_POINT})
    view.widget()
    assert view._stop("lambda_under", 1) == pytest.approx(10 ** -1.25, rel=1e-9)
    assert view._stop("lambda_under", 2) == pytest.approx(10 ** -1.20, rel=1e-9)
    assert view._stop("lambda_under", -1) == pytest.approx(10 ** -1.35, rel=1e-9)
    assert view._stop("order_size", 1) == 7500 and view._stop("order_size", -1) == 3000
    assert view._stop("lambda_over", 10_000) is None  # past the track's end
    view._move = ("lambda_under", 1)
    first = view._next_points()[:4]  # the same slider one stop on, the next slider down one stop, then further
    assert [list(p) for p in first] == [["lambda_under"], ["theta_queue"], ["lambda_under"], ["lambda_under"]]
    assert [first[i]["lambda_under"] for i in (0, 2, 3)] == pytest.approx([10 ** -1.25, 10 ** -1.2, 10 ** -1.15],
                                                                       rel=1e-9)
    assert first[1]["theta_queue"] == view._stop("theta_queue", 1)


def test_prefetched_moves_equal_a_cold_panel(small_md) -> None:
    """After a key-like move the panel replays the next stop while idle; moving there then replays nothing
    (status says so) and shows what a panel without prefetching computes at that point."""
    view = WhatIf(small_md, every_minutes=20, params=dict(LIMIT_POINT))
    view.widget()
    c = view.controls["lambda_under"]
    c.value = view._stop("lambda_under", 1)
    assert view._prefetcher.idle(120)
    nxt = view._stop("lambda_under", 1)
    assert view._will_hit({"lambda_under": nxt})
    c.value = nxt
    assert "replayed while idle" in view._live.status
    cold = WhatIf(small_md, every_minutes=20, prefetch=False, params=dict(LIMIT_POINT))
    cold.run(lambda_under=nxt)
    a, b = view.summary_frame(), cold.summary_frame()
    np.testing.assert_array_equal(a.to_numpy(float), b.to_numpy(float))
    assert not view._prefetcher.errors


def test_a_long_move_says_recomputing_first(small_md, monkeypatch) -> None:
    """A move that takes longer than RECOMPUTING_AFTER_S shows "recomputing…" (from a timer, while it
    runs), then its result; a shorter one sends its result only, in one message with its figures."""
    import time

    import sorlib.whatif.comparison as comparison

    view = WhatIf(small_md, every_minutes=20, prefetch=False, params=dict(LIMIT_POINT))
    view.widget()
    seen = []
    view._live.observe(lambda ch: seen.append(ch["new"]), names="status")
    run = view._run

    def slow_run(*args, **kw):  # a move that takes 0.5 s at least
        time.sleep(0.5)
        return run(*args, **kw)

    monkeypatch.setattr(comparison, "RECOMPUTING_AFTER_S", 0.05)
    monkeypatch.setattr(view, "_run", slow_run)
    view.controls["theta_queue"].value = 0.0123  # a new point: the router is replayed
    assert len(seen) == 2 and "recomputing…" in seen[0] and "recomputed in" in seen[1]
    assert "recomputing…" not in seen[1]
    time.sleep(0.2)  # the timer of that move is done: nothing more arrives
    assert len(seen) == 2
    monkeypatch.setattr(view, "_run", run)
    seen.clear()
    monkeypatch.setattr(comparison, "RECOMPUTING_AFTER_S", 60.0)
    view.controls["theta_queue"].value = 0.0005  # quicker than 60 s: no "recomputing…"
    assert len(seen) == 1 and "recomputed in" in seen[0]
    seen.clear()
    monkeypatch.setattr(comparison, "RECOMPUTING_AFTER_S", 0.0)  # 0: said at once, before the replay
    view.controls["theta_queue"].value = 0.0077
    assert len(seen) == 2 and "recomputing…" in seen[0] and "recomputed in" in seen[1]


def test_a_move_sends_figures_and_status_in_one_message(small_md, monkeypatch) -> None:
    """The changed figures, the status line and the table of a move reach the browser in one message (a
    move shorter than RECOMPUTING_AFTER_S, here 60 s: no "recomputing…" before it)."""
    import sorlib.whatif.comparison as comparison

    monkeypatch.setattr(comparison, "RECOMPUTING_AFTER_S", 60.0)
    view = WhatIf(small_md, every_minutes=20, prefetch=False, params=dict(LIMIT_POINT))
    view.widget()
    sent = []
    send = view._live.send_state

    def record(key=None) -> None:
        keys = sorted(key) if isinstance(key, list | set) else [key]
        if keys:
            sent.append(keys)
        send(key)

    view._live.send_state = record
    view.controls["order_size"].value = 1000  # every figure changes
    assert sent == [["seq", "specs", "status"]], sent


def test_the_browser_saying_drawn_starts_the_prefetch_at_once(small_md, monkeypatch) -> None:
    """After a move the next points are queued to start after PREFETCH_DELAY_S (no browser has reported a
    redraw); the view's word that it has drawn (and painted) that move starts them at once, its word about an
    older update does nothing; once a browser reports, a move's points wait for its word (at most
    PREFETCH_DRAWN_TIMEOUT_S)."""
    import sorlib.whatif.comparison as comparison

    view = WhatIf(small_md, every_minutes=20, params=dict(LIMIT_POINT))
    view.widget()
    delays = []
    monkeypatch.setattr(view._prefetcher, "schedule", lambda jobs, delay_s=0.0: delays.append((len(jobs), delay_s)))
    view.controls["theta_queue"].value = 0.0123
    assert len(delays) == 1 and delays[0][0] > 0 and delays[0][1] == comparison.PREFETCH_DELAY_S > 0
    seq = view._live.seq
    view._live._handle_custom_msg({"event": "drawn", "seq": seq - 1}, [])  # the update before: ignored
    assert len(delays) == 1
    view._live._handle_custom_msg({"event": "drawn", "seq": seq}, [])
    assert delays[1] == (delays[0][0], 0.0)
    view.controls["theta_queue"].value = 0.0005
    assert delays[2][1] == comparison.PREFETCH_DRAWN_TIMEOUT_S > comparison.PREFETCH_DELAY_S


def test_live_figure_json_is_plotlys_own(small_md) -> None:
    """The copy-free serialiser must give the JSON plotly's own ``to_json_plotly(fig.to_plotly_json())``
    gives (typed arrays, NaN as null, the template) for every figure of the panel."""
    from plotly.io.json import to_json_plotly

    from sorlib.whatif import _widgets as ui
    from sorlib.whatif._live import figure_json

    view = WhatIf(small_md, every_minutes=20, prefetch=False)
    figs, _ = ui.live_figures(view.figures())
    figs["savings"].data[0].y = np.array([1.5, np.nan, -2.0])
    for name, fig in figs.items():
        ours, plotlys = figure_json(fig), to_json_plotly(fig.to_plotly_json())
        assert json.loads(ours) == json.loads(plotlys), name
        assert "NaN" not in ours


def test_a_memoised_move_does_not_wait_for_a_running_prefetch_job(small_md) -> None:
    """A move to a point already replayed takes no lock: it is shown while a background job (here one that
    ignores its stop request and holds the lock for up to 20 s) still runs."""
    import time

    view = WhatIf(small_md, every_minutes=20, params=dict(LIMIT_POINT))
    view.widget()
    view.update(theta_queue=0.0123)
    view.update(theta_queue=0.0005)  # both points memoised now
    started, release = threading.Event(), threading.Event()

    def hog(stop) -> None:
        started.set()
        release.wait(20)

    view._prefetcher.schedule([hog])
    assert started.wait(10)
    t = time.perf_counter()
    view.update(theta_queue=0.0123)
    took = time.perf_counter() - t
    release.set()
    assert took < 10 and "recomputed in" in view._live.status
    assert view.params["theta_queue"] == 0.0123 and view._prefetcher.idle(60)


def test_a_zero_parameter_opens_and_steps_from_the_track_start(small_md) -> None:
    """θ = 0 (a search grid's point) sits at the log slider's minimum 10^−5: the panel opens, and one key
    press right asks for 10^−4.95 (notebook 03 opened at θ = 0 once failed here: log10(0))."""
    view = WhatIf(small_md, every_minutes=20, prefetch=False, mode="uncapped",
                  params={"lambda_over": 0.0, "lambda_under": 0.01, "theta_queue": 0.0})
    view.widget()
    assert view._stop("theta_queue", 1) == pytest.approx(10 ** -4.95, rel=1e-9)
    assert view._stop("theta_queue", -1) is None
    assert {next(iter(p)) for p in view._next_points()} >= {"theta_queue", "lambda_under", "order_size"}
