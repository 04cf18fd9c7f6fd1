"""The what-if panels (:mod:`sorlib.whatif`): modes, inert parameters, status text, label widths, and
live figures that follow the sliders (handlers called directly, no front end)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("anywidget")
pytest.importorskip("ipywidgets")

from sorlib.whatif import INERT, MODES, CKExplorer, WhatIf  # noqa: E402
from sorlib.whatif import _widgets as ui  # noqa: E402

PARAMS = ("lambda_over", "lambda_under", "theta_queue")


@pytest.fixture(scope="module")
def small_md():
    from sorlib.synth import default_market

    return default_market(seed=0, minutes=60)


@pytest.fixture(scope="module")
def panel(small_md):
    view = WhatIf(small_md, every_minutes=20)
    return view, view.widget()


def _router_y(view) -> list:
    return [tuple(np.asarray(view._widgets[n].data[0].y, float)) for n in ("progress", "savings")]


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def test_mode_toggle_offers_ck_and_defaults_to_it(small_md, panel) -> None:
    view, _ = panel
    assert WhatIf(small_md, every_minutes=20).mode == "ck"
    toggle = view.controls["mode"]
    assert set(toggle.options) == {"ck", "uncapped", "spec"} and toggle.options[0] == "ck"
    assert toggle.value == "ck" and set(MODES) == set(toggle.options)
    with pytest.raises(Exception, match="mode"):
        WhatIf(small_md, mode="fast")


def test_moving_a_slider_changes_the_figures(panel) -> None:
    view, _ = panel
    view.controls["mode"].value = "ck"
    view.controls["lambda_under"].value = 1e-4
    before = _router_y(view)
    base = [tuple(t.y) for t in view._widgets["progress"].data[2:]]
    view.controls["lambda_under"].value = 3.0  # the observer calls view.update
    after = _router_y(view)
    assert after != before
    assert [tuple(t.y) for t in view._widgets["progress"].data[2:]] == base  # baselines untouched
    # the live figures carry the same data as static figures at the same point
    static = view.figures()
    for name, w in view._widgets.items():
        for a, b in zip(w.data, static[name].data, strict=True):
            assert np.array_equal(np.asarray(a.y, float), np.asarray(b.y, float), equal_nan=True), name
            assert a.name == b.name
        assert w.layout.title.text == static[name].layout.title.text
    ms = view.update(lambda_over=0.02)
    assert ms > 0 and view.last_ms == ms


@pytest.mark.parametrize("mode", ["spec", "uncapped", "ck"])
def test_inert_sliders_are_disabled_with_a_reason(panel, mode) -> None:
    view, _ = panel
    view.controls["mode"].value = mode
    expected = {"spec": set(PARAMS), "uncapped": {"lambda_over"}, "ck": set()}[mode]
    assert set(INERT[mode]) == expected
    disabled = {n for n in PARAMS if view.controls[n].disabled}
    assert disabled == expected
    for n in PARAMS:
        reason = view._reasons[n].value
        if n in expected:
            assert mode in reason and "inert" in reason
        else:
            assert "inert" not in reason
    assert not view.controls["order_size"].disabled
    # every label and title names the mode
    assert f"router in <b>{mode}</b> mode" in view._live.status
    assert all(mode in w.layout.title.text for w in view._widgets.values())
    assert view._widgets["progress"].data[0].name == f"router ({mode})"
    view.controls["mode"].value = "ck"


def test_inert_parameters_do_not_replay(small_md) -> None:
    view = WhatIf(small_md, every_minutes=20, mode="spec")
    a = view.run(lambda_over=0.1, lambda_under=0.001, theta_queue=0.0)
    n = len(view._router)
    b = view.run(lambda_over=3.0, lambda_under=0.5, theta_queue=0.2)  # memo hit: all inert in spec
    assert len(view._router) == n and a.router is b.router
    view.run(mode="uncapped", lambda_over=0.1)
    n = len(view._router)
    view.run(lambda_over=7.0)
    assert len(view._router) == n


def test_status_has_no_nan(small_md) -> None:
    view = WhatIf(small_md, every_minutes=20, mode="uncapped")
    view.widget()
    first = view._live.status
    assert "nan" not in first.lower() and "recomputed in —" in first
    for mode in ("spec", "uncapped", "ck"):
        view.update(mode=mode)
        text = view._live.status
        assert "nan" not in text.lower() and " ms" in text
    assert ui.format_ms(float("nan")) == "—" and ui.format_ms(None) == "—"
    ck = CKExplorer(small_md, method="fast")
    ck.widget()
    assert "nan" not in ck._live.status.lower() and "recomputed in —" in ck._live.status
    sent = ck._live.seq
    ck.update(lambda_u=ck.lambda_u * 2)  # a move: its figures and status line go out as one update (one seq)
    assert ck._live.seq == sent + 1 and "nan" not in ck._live.status.lower() and " ms" in ck._live.status


def test_labels_fit_and_the_panel_fits_1000px(panel, small_md) -> None:
    view, box = panel
    ck = CKExplorer(small_md, method="fast")
    ck_box = ck.widget()
    for controls, root in ((view.controls, box), (ck.controls, ck_box)):
        for c in controls.values():
            if not c.description:  # the mode toggle: its label is a separate, aligned widget
                continue
            assert "$" not in c.description and "…" not in c.description
            if c.style.description_width != "initial":
                assert int(c.style.description_width.rstrip("px")) >= ui.label_px(c.description)
            if c.layout.width:
                assert int(c.layout.width.rstrip("px")) <= 1000
        assert root.layout.max_width == "1000px"
        assert all((w.layout.width or 0) <= 1000 for w in [*view._widgets.values(), *ck._widgets.values()])
        assert any("USD/share" in getattr(w, "description", "") for w in _walk(root))


def test_ck_panel_moves_update_only_what_changed(small_md) -> None:
    ck = CKExplorer(small_md, method="fast")
    ck.widget()
    before = {n: [tuple(np.asarray(t.y, float)) for t in w.data] for n, w in ck._widgets.items()}
    ck.controls["lambda_u"].value = 0.9
    after = {n: [tuple(np.asarray(t.y, float)) for t in w.data] for n, w in ck._widgets.items()}
    assert after["path"] == before["path"]  # a sweep over λ_u does not depend on λ_u
    assert after["placement"] != before["placement"] or after["overbooking"] != before["overbooking"]
    for kw in ({"lambda_o": 0.3}, {"theta": 0.01}, {"S": 3000}):
        ck.update(**kw)
        static = ck.figures()
        for name, w in ck._widgets.items():
            for a, b in zip(w.data, static[name].data, strict=True):
                assert np.array_equal(np.asarray(a.y, float), np.asarray(b.y, float), equal_nan=True), (kw, name)
            assert w.layout.title.text == static[name].layout.title.text


def test_compatibility_reexports() -> None:
    import sorlib.ck_interactive as cki
    import sorlib.interactive as ia
    import sorlib.whatif as wi

    assert ia.WhatIf is wi.WhatIf and cki.CKExplorer is wi.CKExplorer
    assert ia.allocation_example is wi.allocation_example and ia.sync_widget is wi.sync_widget


def test_panel_opens_at_the_given_mode_and_parameters(small_md) -> None:
    """Notebooks 02/03 open the panel at the headline's mode and best point: the view starts there."""
    from sorlib.whatif.comparison import WhatIf

    best = {"lambda_over": 2.0, "lambda_under": 0.01, "theta_queue": 0.01}
    w = WhatIf(small_md, order_size=1000, every_minutes=30, mode="spec", params=dict(best))
    assert w.mode == "spec" and w.params == best
    assert set(w.inert("spec")) == {"lambda_over", "lambda_under", "theta_queue"}


def test_ck_lambda_over_is_enabled_because_it_can_act(small_md) -> None:
    """lambda_over in ck mode stays enabled, with a note: it changes the route at some points (θ small, so the
    router posts limit orders, and λ_o from 1e-5 to 30 USD/share: over-booking from cheap to prohibitive) even
    where a few key presses at the default point change nothing."""
    from sorlib.whatif.comparison import INERT, NOTES, WhatIf

    assert "lambda_over" not in INERT["ck"] and "acts only where" in NOTES["ck"]["lambda_over"]
    w = WhatIf(small_md, order_size=2000, every_minutes=30, mode="ck")
    lo = w.run(lambda_over=1e-5, lambda_under=0.05, theta_queue=1e-5).router
    hi = w.run(lambda_over=30.0).router
    assert lo.fills.qty.tolist() != hi.fills.qty.tolist() or lo.fills.venue.tolist() != hi.fills.venue.tolist()


def test_panel_table_reads_in_words_and_has_no_negative_zero() -> None:
    """The panel's summary table: baselines by name (Best Ask, not best_ask), a saving of −0.001 bps printed
    "0.00" (it rounds to zero: no sign), −1.234 as "-1.23", n/a as an em dash (values chosen by hand)."""
    import pandas as pd

    from sorlib.whatif.comparison import _table_html

    df = pd.DataFrame({"fills": [3.0, 4.0, 5.0], "router_savings_bps": [float("nan"), -0.001, -1.234]},
                      index=["router (ck)", "best_ask", "twap"])
    html = _table_html(df)
    assert ">Best Ask<" in html and ">TWAP<" in html and "best_ask" not in html
    assert ">0.00<" in html and "-0.00" not in html and ">-1.23<" in html and ">—<" in html


def test_fewer_larger_verdict_in_words(small_md) -> None:
    """The "fewer, larger trades?" lines name the baselines in words and print no negative zero: each line reads
    "vs Best Ask: …", and a change that rounds to 0 % prints "0%" (never "-0%")."""
    from sorlib.whatif.comparison import fewer_larger_verdict

    view = WhatIf(small_md, every_minutes=20, mode="spec")
    text = fewer_larger_verdict(view.run().executions)
    assert [line.split(":")[0] for line in text.splitlines()] == ["vs Best Ask", "vs TWAP", "vs VWAP"]
    assert "best_ask" not in text and "-0%" not in text and " sh " not in text
