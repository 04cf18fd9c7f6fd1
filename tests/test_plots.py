"""The figures' shared look (issue 14): one venue colour map used by every figure, quote charts without
trade-only venues, axis titles with units, readable log ticks, no fixed width, and no ``$`` for MathJax."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import sorlib
from sorlib.data.market import LoadReport, MarketData, Quotes, Trades
from sorlib.plots import backtest as pb
from sorlib.plots import ck as pc
from sorlib.plots import data as pd_
from sorlib.plots import search as ps
from sorlib.plots.colors import PALETTE, VENUES, venue_color, venue_colors, venue_id
from sorlib.plots.style import log_ticks

S = 1_000_000_000
# AlgoSeek-style names (TAQ letter in brackets), as sorlib.data.taq names the venues
TAQ = {"B": "NASDAQ OMX BX", "C": "National Stock Exchange", "D": "FINRA TRF/ADF", "J": "Direct Edge A",
       "K": "Direct Edge X", "M": "Chicago Stock Exchange", "N": "NYSE", "P": "NYSE Arca", "Q": "NASDAQ",
       "W": "CBOE Stock Exchange", "X": "NASDAQ OMX PSX", "Y": "BATS Y", "Z": "BATS"}
UNITS = ("USD", "shares", "bps", "%", "count", "per minute", "seconds", "ticks", "ratio")


def make_md(quoting: str = "NPQZ", trade_only: str = "D") -> MarketData:
    """A two-minute day: each venue in ``quoting`` quotes every second (sizes vary over decades); every
    venue in ``quoting`` + ``trade_only`` prints; the ``trade_only`` venues never quote."""
    rng = np.random.default_rng(3)
    rows = []
    for t in range(120):
        for i, letter in enumerate(quoting):
            bid = 100.0 + 0.01 * (t % 3)
            rows.append((t + 0.01 * i, ord(letter), bid, int(rng.choice([100, 300, 2000, 15000])),
                         bid + 0.01 * (1 + i % 3), int(rng.choice([100, 500, 4000]))))
    rows.sort(key=lambda r: r[0])
    q = Quotes(np.array([int(r[0] * S) for r in rows], np.int64), np.array([r[1] for r in rows], np.int32),
               np.array([[r[2]] for r in rows], float), np.array([[r[3]] for r in rows], np.int64),
               np.array([[r[4]] for r in rows], float), np.array([[r[5]] for r in rows], np.int64))
    tr = sorted((t + 0.5, ord(v), 100.01, 100 * (1 + t % 4), side)
                for t in range(0, 120, 7) for v, side in zip(quoting + trade_only, itertools.cycle((1, -1, 0)))
                )
    trades = Trades(np.array([int(r[0] * S) for r in tr], np.int64), np.array([r[1] for r in tr], np.int32),
                    np.array([r[2] for r in tr], float), np.array([r[3] for r in tr], np.int64),
                    np.array([r[4] for r in tr], np.int8))
    names = {ord(k): f"{TAQ[k]} ({k})" for k in quoting + trade_only}
    return MarketData(q, trades, LoadReport("test", "test"), venue_names=names, symbol="TEST")


@pytest.fixture(scope="module")
def md() -> MarketData:
    return make_md()


@pytest.fixture(scope="module")
def result():
    md = sorlib.default_market(seed=0, minutes=30)
    return md, sorlib.run_backtest(md, sorlib.BacktestConfig(every_minutes=10, horizon_minutes=5))


def _grid() -> pd.DataFrame:
    return pd.DataFrame([{"lambda_over": lo, "lambda_under": lu, "theta_queue": tq, "total_cash": 100 + lu + tq}
                         for lo in (1.0, 2.0) for lu in (0.1, 0.2) for tq in (0.01, 0.02)])


def _ck_figures() -> dict[str, go.Figure]:
    rng = np.random.default_rng(7)
    Q, R, names = np.array([600.0, 300.0]), np.array([0.0029, -0.001]), ["XNAS", "BATS"]
    xi = np.round(rng.gamma(2.0, [900.0, 450.0], size=(40, 2)) / 100) * 100
    sw = pc.placement_sweep("lambda_u", np.geomspace(0.001, 2.0, 6), 1000.0, Q, xi, 0.005, 0.003, R, 0.05, 0.05,
                            names=names, method="saa")
    so = pc.placement_sweep("lambda_o", np.geomspace(0.001, 2.0, 6), 1000.0, Q, xi, 0.005, 0.003, R, 0.05, 0.05,
                            names=names, method="saa")
    sv = pc.single_venue_sweep(1000.0, 600.0, xi[:, 0], 0.005, 0.003, 0.0029, 0.05)
    return {"placement": pc.placement_figure(sw), "overbooking": pc.overbooking_figure(so),
            "placement_bar": pc.placement_bar_figure(200.0, [500.0, 400.0], 1000.0, names),
            "single_venue": pc.single_venue_figure(sv, "XNAS"),
            "slice": pc.cost_slice_figure(0, 100.0, [400.0, 300.0], 1000.0, Q, xi, 0.005, 0.003, R, 0.05,
                                          [0.001, 0.5])}


@pytest.fixture(scope="module")
def all_figures(md, result) -> dict[str, go.Figure]:
    bmd, res = result
    figs = {f"data.{k}": v for k, v in pd_.data_figures(md, window_seconds=10).items()}
    figs.update({f"synth.{k}": v for k, v in pd_.data_figures(bmd, window_seconds=60).items()})
    figs.update({f"backtest.{k}": v for k, v in pb.backtest_figures(res, bmd.venue_names).items()})
    figs.update({f"search.{k}": v for k, v in ps.search_figures(_grid(), label="test").items()})
    figs.update({f"ck.{k}": v for k, v in _ck_figures().items()})
    figs["ck.fill_kinds"] = pc.fill_kinds_figure(res)
    return figs


# ------------------------------------------------------------------------------------------- colour map
def test_venue_colour_is_stable_when_other_venues_are_added() -> None:
    small = make_md("NQ", "")
    big = make_md("BCJKMNPQWXYZ", "D")
    cs, cb = venue_colors(small), venue_colors(big)
    assert cs[ord("N")] == cb[ord("N")] and cs[ord("Q")] == cb[ord("Q")]
    assert venue_colors([ord("Q")], small.venue_names) == {ord("Q"): cb[ord("Q")]}
    # the same venue under its names in Databento, synthetic and TAQ data
    for names in (("XNAS", "XNAS.ITCH", "NASDAQ (Q)", "Q"), ("XCHI", "DBEQ.BASIC.XCHI", "Chicago Stock Exchange (M)"),
                  ("BATS", "BATS.PITCH", "BATS (Z)")):
        assert len({venue_color(n) for n in names}) == 1, names
        assert len({venue_id(n) for n in names}) == 1, names
    assert venue_color("XNAS") != venue_color("XNYS")


def test_colour_map_has_16_clearly_distinct_colours_and_13_real_venues_do_not_repeat() -> None:
    assert len(set(PALETTE)) == len(PALETTE) >= 16
    rgb = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in PALETTE], float)
    gaps = [np.linalg.norm(a - b) for a, b in itertools.combinations(rgb, 2)]
    assert min(gaps) > 40  # no two palette colours nearly alike
    known = [VENUES[v][0] for v in VENUES]
    assert len(set(known)) == len(known)  # every known venue has its own colour
    big = make_md("BCJKMNPQWXYZ", "D")
    assert len(set(venue_colors(big).values())) == 13
    unknown = venue_colors(["venue 0", "venue 1", "venue 2", "venue 3", "venue 4", "venue 5"])
    assert len(set(unknown.values())) == 6


def _venue_trace_colours(fig: go.Figure) -> list[tuple[str, object]]:
    out = []
    for t in fig.data:
        for c in (getattr(t, "line", None) and t.line.color, getattr(t, "marker", None) and t.marker.color):
            if c is not None:
                out.append((t.name, c))
                break
    return out


def test_every_venue_figure_colours_venues_by_the_map(md, result) -> None:
    colors = {md.venue_name(k): c for k, c in venue_colors(md).items()}
    figs = pd_.data_figures(md, window_seconds=10)
    for key in ("quote_rate", "spread", "touch_size", "outflow"):
        venue_traces = [(n, c) for n, c in _venue_trace_colours(figs[key]) if n in colors]
        assert venue_traces, key
        for n, c in venue_traces:
            assert c == colors[n], (key, n)
    # bar charts with venues on the x axis: each bar in its venue's colour
    for key in ("best_price_time", "trades"):
        for t in figs[key].data:
            if t.x is None or t.x == (None,):
                continue
            line = list(t.marker.line.color)
            assert line == [colors[n] for n in t.x], key
    bmd, res = result
    split = pb.venue_split_figure(res, bmd.venue_names)
    expect = {bmd.venue_name(k): c for k, c in venue_colors(bmd).items()}
    named = [(t.name, t.marker.color) for t in split.data if t.name in expect]
    assert len(named) >= 2 and all(c == expect[n] for n, c in named)
    figs = _ck_figures()
    for key in ("placement",):
        for t in figs[key].data:
            if t.name.startswith("L "):
                assert t.line.color == venue_color(t.name[2:])
    bar = figs["placement_bar"].data[0]
    assert list(bar.marker.color)[1:3] == [venue_color("XNAS"), venue_color("BATS")]


# -------------------------------------------------------------------------------------- trade-only venues
def test_quote_charts_leave_out_trade_only_venues(md) -> None:
    finra = md.venue_name(ord("D"))
    figs = pd_.data_figures(md, window_seconds=10)
    for key in ("quote_rate", "spread", "touch_size", "best_price_time", "outflow"):
        shown = set()
        for t in figs[key].data:
            shown.add(t.name)
            if t.x is not None and len(t.x) and isinstance(t.x[0], str):
                shown.update(t.x)
        assert finra not in shown, key
        assert md.venue_name(ord("N")) in shown, key
    trade_names = {x for t in figs["trades"].data if t.x is not None for x in t.x}
    assert finra in trade_names  # prints are shown for every venue that printed


# ------------------------------------------------------------------------------------------ text and axes
def _strings(obj, path=""):
    if isinstance(obj, str):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if k != "template":
                yield from _strings(v, f"{path}.{k}")
    elif isinstance(obj, (list, tuple)) or (isinstance(obj, np.ndarray) and obj.dtype.kind in "OU"):
        for i, v in enumerate(obj):
            yield from _strings(v, f"{path}[{i}]")


def test_no_dollar_sign_reaches_mathjax(all_figures) -> None:
    figs = dict(all_figures)
    # a caller's title and a venue name with dollars are made safe too
    figs["user_title"] = ps.cost_heatmap(_grid(), title="cost in $ over $ per share")
    dollar = make_md("NQ", "")
    dollar.venue_names[ord("N")] = "Dark $pool$ (N)"
    figs["dollar_venue"] = pd_.quote_rate_figure(dollar)
    for name, fig in figs.items():
        bad = [(p, s) for p, s in _strings(fig.to_plotly_json()) if "$" in s]
        assert not bad, (name, bad[:3])
    assert "Dark" in str([t.name for t in figs["dollar_venue"].data])


def test_titles_and_axis_titles_have_units(all_figures) -> None:
    for name, fig in all_figures.items():
        lay = fig.layout
        assert lay.title.text, name
        if any(t.type == "parcoords" for t in fig.data):
            labels = [d.label for d in fig.data[0].dimensions]
            assert all(any(u in lab for u in UNITS) for lab in labels), labels
            continue
        xt = [lay[a].title.text for a in lay if a.startswith("xaxis") and lay[a].title.text]
        yt = [lay[a].title.text for a in lay if a.startswith("yaxis") and lay[a].title.text]
        assert xt and yt, (name, xt, yt)
        assert any(u in lay.yaxis.title.text for u in UNITS), (name, lay.yaxis.title.text)
        for t in xt + yt:
            assert "_" not in t.replace("λ_", "").replace("L_k", "").replace("θ_", "").replace("r_k", ""), (name, t)


def test_log_axes_label_every_tick_in_full(all_figures) -> None:
    seen = 0
    for name, fig in all_figures.items():
        lay = fig.layout
        for a in lay:
            if not (a.startswith(("xaxis", "yaxis")) and lay[a].type == "log"):
                continue
            seen += 1
            ax = lay[a]
            assert ax.tickmode == "array" and ax.tickvals and ax.showticklabels is not False, (name, a)
            for v, text in zip(ax.tickvals, ax.ticktext, strict=True):
                num = float(text.replace("k", "e3").replace("M", "e6"))
                assert num == pytest.approx(v), (name, a, v, text)
    assert seen >= 3
    touch = all_figures["data.touch_size"].layout
    assert touch.yaxis.type == touch.yaxis2.type == "log"
    assert touch.yaxis2.showticklabels is True
    vals, text = log_ticks(100, 5000)
    assert "200" in text and "5k" in text and "2" not in text and "5" not in text
    vals, text = log_ticks(1, 1e6)
    assert text == ["1", "10", "100", "1k", "10k", "100k", "1M"]


def test_figures_size_to_their_container_and_legends_fit(all_figures) -> None:
    for name, fig in all_figures.items():
        assert fig.layout.width is None and fig.layout.autosize is not False, name
        assert 300 <= (fig.layout.height or 0) <= 800, name
    many = pd_.quote_rate_figure(make_md("BCJKMNPQWXYZ", "D"))
    assert len(many.data) == 12 and many.layout.legend.orientation == "h"


def test_venue_score_figure_new_york_time_and_venue_colours() -> None:
    """Issue 22: page 06's venue-score chart used UTC and Plotly's own colours. 13:30 UTC on 2024-03-15 is
    09:30 New York (EDT, UTC-4); XNAS is slot 1 (#ff7f0e) and XNYS slot 0 (#1f77b4) of sorlib.plots.colors."""
    from sorlib.plots.risk import venue_score_figure

    res = {"venue_scores": [{"time": "2024-03-15T13:30:00+00:00", "order": 0, "venue": "XNAS", "cost": 0.01},
                            {"time": "2024-03-15T13:31:00+00:00", "order": 0, "venue": "XNYS", "cost": 0.02}]}
    fig = venue_score_figure(res, "cost")
    assert fig.layout.xaxis.title.text == "time (New York)"
    by = {t.name: t for t in fig.data}
    assert by["XNAS"].line.color == "#ff7f0e" and by["XNYS"].line.color == "#1f77b4"
    assert str(by["XNAS"].x[0]).startswith("2024-03-15T09:30") or str(by["XNAS"].x[0]).startswith("2024-03-15 09:30")


def test_strategy_colours_stay_apart_from_venue_colours() -> None:
    """Strategies never reuse a venue hue: each strategy colour differs from every venue palette colour by a
    CIE76 ΔE of 20 or more (Lab from sRGB, D65; computed here independently of the module)."""
    import numpy as np

    from sorlib.plots.colors import PALETTE, STRATEGY_COLORS

    def lab(h: str) -> np.ndarray:
        rgb = np.array([int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)])
        rgb = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
        xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ rgb
        f = np.cbrt(xyz / np.array([0.95047, 1.0, 1.08883]))
        return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])

    for name in ("router", "best_ask", "twap", "vwap", "ck"):
        d = min(np.linalg.norm(lab(STRATEGY_COLORS[name]) - lab(v)) for v in PALETTE)
        assert d >= 19.5, (name, d)


def test_strategies_are_named_in_words_in_every_backtest_figure(all_figures) -> None:
    """Legends, categories and hover labels of the backtest figures name the baselines as a reader says them
    (Best Ask, TWAP, VWAP), never by their code (``best_ask``): the result holds all three baselines, so each
    name must appear and no code may."""
    import re

    seen: set[str] = set()
    for key, fig in all_figures.items():
        if not key.startswith("backtest."):
            continue
        for t in fig.data:
            xs = [] if t.x is None else list(t.x)
            texts = [t.name or ""] + [x for x in xs if isinstance(x, str)] + [t.hovertemplate or ""]
            for s in texts:
                assert not re.search(r"\b(best_ask|twap|vwap)\b", s), (key, s)
                seen.update(n for n in ("Best Ask", "TWAP", "VWAP") if n in s)
    assert seen == {"Best Ask", "TWAP", "VWAP"}
