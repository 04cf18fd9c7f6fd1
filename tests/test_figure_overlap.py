"""Issue 22 item 4: lines and bars that coincide stay visible. Series that may lie on top of each other (the
router and Best Ask at equal cost; conservative, power and log predicting alike) get distinct dashes and
markers, the widest line drawn first; point series on a discrete axis are dodged side by side while the hover
states the true position; a baseline bar too small to see carries its value."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from test_fillcheck import tape

from sorlib.fillcheck import validate_fills
from sorlib.plots.colors import SERIES_STYLES, dodge, series_style


def test_series_style_and_dodge():
    """Widths never grow along the first four styles (the wide line first, underneath); every style has its own
    (dash, marker); dodge is centred on 0 and spans ``span``."""
    widths = [w for _, w, _ in SERIES_STYLES[:4]]
    assert widths == sorted(widths, reverse=True)
    assert len({(d, s) for d, _, s in SERIES_STYLES}) == len(SERIES_STYLES)
    assert series_style(0) == ({"dash": "solid", "width": 5}, {"symbol": "circle", "size": 11})
    assert [dodge(i, 3, 0.3) for i in range(3)] == pytest.approx([-0.15, 0.0, 0.15])
    assert dodge(0, 1) == 0.0


def test_fill_validation_models_stay_visible():
    res = validate_fills(tape(), None, ["conservative", "power:2", "log"], (5, 10), candidates="all")
    from sorlib.plots.fillcheck import bias_figure, calibration_figure

    cal = [t for t in calibration_figure(res).data if t.name != "perfect calibration"]
    assert [t.name for t in cal] == ["conservative", "power:2", "log"]
    assert len({(t.line.dash, t.marker.symbol) for t in cal}) == 3  # the old figure: all solid, no marker style
    assert [t.line.width for t in cal] == sorted((t.line.width for t in cal), reverse=True)
    assert all(list(t.x) == list(cal[0].x) for t in cal)  # x = the realised rate: data, never dodged
    bias = [t for t in bias_figure(res).data if t.xaxis == "x"]
    assert [list(t.customdata) for t in bias] == [[5, 10]] * 3  # the hover's true horizons
    xs = [tuple(t.x) for t in bias]
    assert len(set(xs)) == 3 and all(abs(a - h) <= 0.5 + 1e-9 for x in xs for a, h in zip(x, (5, 10), strict=True))


def test_markout_baseline_bar_carries_its_value():
    """H4's page: the arrivals' 60 s markout was +0.003 bps, a bar under a pixel high — no bar to see."""
    from sorlib.plots.fillcheck import markout_figure

    res = SimpleNamespace(markouts=[
        {"who": "real", "sample": "all", "fills": 10, "shares": 1000, "1s": -1.0, "10s": -2.1, "60s": -1.4},
        {"who": "arrivals", "sample": "all", "fills": 50, "shares": 5000, "1s": -0.11, "10s": float("nan"),
         "60s": 0.0028}])
    fig = markout_figure(res)
    arr = next(t for t in fig.data if t.name == "arrivals")
    assert list(arr.text) == ["-0.11", "n/a", "+0.003"] and "%{text}" in arr.hovertemplate
    assert next(t for t in fig.data if t.name == "real").text is None
    assert fig.layout.shapes[0].layer == "below"  # the zero line does not hide a bar near zero


def test_realism_cost_strategies_of_equal_cost_side_by_side():
    from sorlib.plots.realism import realism_cost_figure

    rows = [dict(mode="spec", layer=layer, strategy=s, shortfall_bps=1.61, impact_bps=0.0, orders=13)
            for layer in ("frozen", "latency") for s in ("router", "best_ask", "twap")]
    fig = realism_cost_figure(pd.DataFrame(rows))
    left = [t for t in fig.data if t.xaxis == "x"]
    assert [t.name for t in left] == ["router (spec)", "Best Ask", "TWAP"]
    assert all(list(t.y) == [1.61, 1.61] for t in left)  # equal costs: the case that hid Best Ask
    assert [tuple(t.x) for t in left] == [pytest.approx((i - 0.15 + 0.15 * k, 1 - 0.15 + 0.15 * k))
                                          for k, i in enumerate((0, 0, 0))]
    assert [t.line.width for t in left] == [5, 4, 3] and len({t.marker.symbol for t in left}) == 3
    assert list(left[1].customdata) == ["frozen tape", "+ latency"]
    assert list(fig.layout.xaxis.ticktext) == ["frozen tape", "+ latency"] and list(fig.layout.xaxis.tickvals) == [0, 1]
    assert fig.layout.hovermode == "x unified"
