"""Figures of the Cont–Kukanov model (notebook 04): traces present and the plotted numbers consistent with
the model — every placement covers S, the closed-form thresholds and regimes are ordered, the V slice is
convex exactly when λ_o ≤ h + r_k, the replay's fill kinds add up."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from sorlib.plots.ck import (
    cost_slice,
    cost_slice_figure,
    fill_kinds_figure,
    fill_kinds_frame,
    is_convex,
    overbooking_figure,
    placement_bar_figure,
    placement_figure,
    placement_sweep,
    single_venue_figure,
    single_venue_sweep,
)

H, F = 0.005, 0.003  # $/share
R = np.array([0.0029, 0.0025, -0.001])
Q = np.array([600.0, 300.0, 200.0])
NAMES = ["A", "B", "C"]
S = 1000.0


@pytest.fixture(scope="module")
def xi() -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.round(rng.gamma(2.0, [900.0, 450.0, 300.0], size=(60, 3)) / 100) * 100  # shares, (N, K)


def _trace(fig: go.Figure, name: str):
    found = [t for t in fig.data if t.name == name]
    assert found, f"no trace {name!r} in {[t.name for t in fig.data]}"
    return found[0]


@pytest.mark.parametrize("method", ["saa", "sa"])
def test_placement_path_covers_S_and_moves_to_market(xi, method) -> None:
    lam = np.geomspace(0.001, 2.0, 12)
    sw = placement_sweep("lambda_u", lam, S, Q, xi, H, F, R, 0.05, 0.05, 0.0005, names=NAMES, method=method,
                         n_iter=5000)
    fig = placement_figure(sw)
    assert [t.name for t in fig.data] == ["M (market order)", "L A", "L B", "L C", "S (order size)"]
    M = np.asarray(_trace(fig, "M (market order)").y, float)
    L = np.column_stack([np.asarray(_trace(fig, f"L {n}").y, float) for n in NAMES])
    np.testing.assert_allclose(_trace(fig, "M (market order)").x, lam)
    tol = 1e-6 * S
    assert np.all(M + L.sum(axis=1) >= S - tol), "a plotted placement does not cover S"
    assert np.all((M >= -tol) & (M <= S + tol))
    assert np.all((L >= -tol) & (L <= (S - M)[:, None] + tol)), "L_k outside [0, S − M]"
    assert fig.layout.xaxis.type == "log"
    if method == "saa":  # exact: all limit when a short share is cheap, all market when it is dear
        assert M[0] == pytest.approx(0.0, abs=1e-6)
        assert M[-1] == pytest.approx(S, abs=1e-6)


def test_overbooking_figure_shows_the_gap_and_lambda_o_reins_it_in(xi) -> None:
    sw = placement_sweep("lambda_o", np.geomspace(0.0005, 1.0, 10), S, Q, xi, H, F, R, 0.05, 0.05, 0.0005,
                         names=NAMES, method="saa")
    fig = overbooking_figure(sw)
    sum_l = np.asarray(_trace(fig, "Σ L_k (limit shares posted)").y, float)
    rest = np.asarray(_trace(fig, "S − M (shares still to buy)").y, float)
    assert np.all(sum_l >= rest - 1e-6), "Σ L_k below S − M: the placement would not cover S"
    np.testing.assert_allclose(sw["overbooking"], sum_l - rest, atol=1e-9)
    ratio = np.asarray(_trace(fig, "Σ L_k / (S − M)").y, float)
    assert np.all(ratio[np.isfinite(ratio)] >= 1 - 1e-9)
    # over-fill is cheap at small λ_o: the model posts more than it needs; dear at large λ_o: it stops
    assert sw["overbooking"].iloc[0] > 0.5 * S
    assert sw["overbooking"].iloc[-1] < sw["overbooking"].iloc[0]


def test_sweep_rejects_unknown_parameter(xi) -> None:
    with pytest.raises(ValueError, match="param"):
        placement_sweep("gamma", [1.0], S, Q, xi, H, F, R, 0.05, 0.05)


def test_placement_bar_figure_bars_add_up() -> None:
    fig = placement_bar_figure(200.0, [500.0, 400.0, 0.0], S, NAMES)
    bars = fig.data[0]
    assert list(bars.x) == ["M (market)", "L A", "L B", "L C", "Σ L_k"]
    assert bars.y[-1] == pytest.approx(sum(bars.y[1:-1]))
    assert "-0" not in placement_bar_figure(0.0, [-0.0, 1000.0, 0.0], S, NAMES).data[0].text


def test_single_venue_thresholds_and_regimes_in_order(xi) -> None:
    k, theta = 0, 0.0005
    sv = single_venue_sweep(S, Q[k], xi[:, k], H, F, R[k], 0.05, theta,
                            lambda_u_values=np.geomspace(0.001, 5.0, 60))
    lo, hi = sv["lambda_u"].attrs["lambda_low"], sv["lambda_u"].attrs["lambda_high"]
    assert np.isfinite(lo) and lo < hi, (lo, hi)
    lam = sv["lambda_u"]
    order = {"limit": 0, "split": 1, "market": 2}
    ranks = lam["regime"].map(order).to_numpy()
    assert np.all(np.diff(ranks) >= 0), "regimes not limit → split → market as λ_u rises"
    assert set(lam["regime"]) == {"limit", "split", "market"}
    assert (lam.loc[lam["x"] + theta <= lo, "regime"] == "limit").all()
    assert (lam.loc[lam["x"] + theta >= hi, "regime"] == "market").all()
    np.testing.assert_allclose(lam["M"] + lam["L"], S)  # one venue: never over-fill
    assert np.all(np.diff(lam["L"]) <= 1e-9), "L* must fall as λ_u rises"
    assert np.all(np.diff(sv["Q"]["L"]) <= 1e-9), "L* must fall as the queue ahead grows"
    assert np.all(np.diff(sv["outflow"]["L"]) >= -1e-9), "L* must rise with the outflow"

    fig = single_venue_figure(sv, "A")
    assert fig.layout.meta["lambda_low"] == pytest.approx(lo) and fig.layout.meta["lambda_high"] == pytest.approx(hi)
    lines = [t for t in fig.data if t.name and t.name.startswith(("λ_low", "λ_high"))]
    assert [t.name.split(" ")[0] for t in lines] == ["λ_low", "λ_high"]
    assert lines[0].x[0] == pytest.approx(lo - theta) and lines[1].x[0] == pytest.approx(hi - theta)
    assert lines[0].x[0] < lines[1].x[0]
    shown = {t.name for t in fig.data if t.mode == "markers" and t.showlegend is not False}
    assert shown == {"limit regime", "split regime", "market regime"}


def test_is_convex() -> None:
    x = np.linspace(-1, 1, 51)
    assert is_convex(x**2) and is_convex(np.abs(x)) and is_convex(x)
    assert not is_convex(-(x**2)) and not is_convex(np.minimum(x, 0.2))


def test_cost_slice_convex_iff_lambda_o_at_most_h_plus_r(xi) -> None:
    k = 0
    bound = H + R[k]
    M, L = 0.0, np.full(3, S)  # other venues over-booked: they often fill the order alone
    fig = cost_slice_figure(k, M, L, S, Q, xi, H, F, R, 0.05, [0.5 * bound, bound, 5 * bound], 0.0005, NAMES)
    checks = fig.layout.meta["checks"]
    assert [c["convex"] for c in checks] == [True, True, False]
    assert [c["below_bound"] for c in checks] == [True, True, False]
    assert fig.layout.meta["bound"] == pytest.approx(bound)
    assert len(fig.data) == 6  # V and its slope per λ_o
    df = cost_slice(k, M, L, S, Q, xi, H, F, R, 0.05, 5 * bound, 0.0005)
    assert df["dV"].iloc[0] == 0.0 and df["L_k"].iloc[-1] == pytest.approx(S)
    slope = np.asarray(fig.data[-1].y, float)
    assert np.any(np.diff(slope) < -1e-9), "the λ_o > h + r_k slope must decrease somewhere"


@pytest.fixture(scope="module")
def ck_result():
    from sorlib.backtest import BacktestConfig, run_backtest
    from sorlib.report import load_market

    md = load_market(None, seed=0, synth_minutes=40)
    cfg = BacktestConfig(order_size=2000, mode="ck", every_minutes=15, horizon_minutes=5,
                         grid={"lambda_over": [0.05], "lambda_under": [0.01, 0.05], "theta_queue": [0.0005]})
    return run_backtest(md, cfg)


def test_fill_kinds_add_up_to_the_shares_bought(ck_result) -> None:
    df = fill_kinds_frame(ck_result)
    execs = {"router": ck_result.router, **ck_result.baselines}
    for name, ex in execs.items():
        d = df[df["strategy"] == name]
        assert int(d["shares"].sum()) == int(ex.fills.qty.sum())
        assert d["share_of_total"].sum() == pytest.approx(1.0)
    rested = df[(df["strategy"] == "router") & (df["kind"] == "limit (rested, filled)")]["shares"].item()
    assert rested > 0, "the Cont–Kukanov router should get some limit fills on this data"
    fig = fill_kinds_figure(ck_result)
    assert {t.name for t in fig.data} == {"market (take)", "limit (rested, filled)", "clean-up"}
    assert list(fig.data[0].x) == list(execs)


def test_explorer_figures_and_solver_gap() -> None:
    from sorlib.ck_interactive import CKExplorer
    from sorlib.report import load_market

    md = load_market(None, seed=0, synth_minutes=20)
    ex = CKExplorer(md, S=800, T_seconds=30, n_samples=30, sweep_points=6)
    c = ex.context()
    assert c.xi.shape == (30, len(c.names)) and np.all(c.Q >= 0) and c.h > 0
    figs = ex.figures(lambda_u=0.05, lambda_o=0.02)
    assert set(figs) == {"placement", "path", "overbooking", "slice"}
    bars = figs["placement"].data[0]
    assert bars.y[0] + bars.y[-1] >= 800 - 1e-6  # M + Σ L_k ≥ S
    assert ex.update(theta=0.001) >= 0 and ex.theta == 0.001  # no widgets: recompute only
    gap = ex.solver_gap()
    assert (gap["gap"] >= -1e-6).all(), "SA beat the exact solver"
    assert set(gap["swept"]) == {"lambda_u", "lambda_o"}


def test_ck_inputs_take_the_queue_where_the_venue_shows_a_bid() -> None:
    """Hand-built tape, snapshots at t = 0, 10, 20, 30, 40 s. Venue 1 bids 300 shares at t = 0, then its bid is
    empty (as on NBBO-only data once another venue is at the best): it shows a bid in 1 of 5 snapshots, so
    bid_shown = 0.2 and Q = median{300} = 300 (a median over all snapshots, {300, 0, 0, 0, 0}, would say 0).
    Venue 2 bids 100, 200, 200, 400, 400 shares: bid_shown = 1, Q = 200."""
    from test_engine import make_md

    from sorlib.whatif.ck_placement import ck_context

    rows = [(0, 1, 9.99, 300, 10.01, 100), (10, 1, np.nan, 0, 10.01, 100)]
    rows += [(t, 2, 9.98, sz, 10.02, 100) for t, sz in zip((0, 10, 20, 30, 40), (100, 200, 200, 400, 400), strict=True)]
    c = ck_context(make_md(rows), T_seconds=10, n_samples=None)
    assert list(c.venues) == [1, 2]
    assert c.bid_shown.tolist() == [0.2, 1.0] and c.Q.tolist() == [300.0, 200.0]
    assert c.frame()["bid_shown"].tolist() == [0.2, 1.0]
