"""Notebook 04's placement panel computes the next key press's likely points while idle
(:meth:`sorlib.whatif.CKExplorer._prefetch`): a move to such a point must show exactly what a cold panel
shows there (its static figures, computed without any memo), and the stops it guesses are the sliders' own."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("anywidget")
pytest.importorskip("ipywidgets")

from sorlib.whatif import CKExplorer  # noqa: E402


@pytest.fixture(scope="module")
def small_md():
    from sorlib.synth import default_market

    return default_market(seed=0, minutes=60)


def _arr(v):
    """A trace's x or y as a float array, or as a list when it holds labels (None: not set)."""
    if v is None:
        return None
    try:
        return np.asarray(v, float)
    except ValueError:
        return list(v)


def _eq(a, b) -> bool:
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return np.array_equal(a, b, equal_nan=True)
    return a == b


def _live(ck) -> dict:
    return {n: [(_arr(t.x), _arr(t.y)) for t in w.data] for n, w in ck._widgets.items()}


def _same_as_cold(ck, small_md) -> None:
    cold = CKExplorer(small_md, method="fast", prefetch=False, book=ck.book, **ck.params)
    static = cold.figures()
    for name, traces in _live(ck).items():
        assert len(traces) == len(static[name].data), name
        for (x, y), tr in zip(traces, static[name].data, strict=True):
            assert _eq(y, _arr(tr.y)), name
            if x is not None and tr.x is not None:
                assert _eq(x, _arr(tr.x)), name


def test_the_stops_are_the_sliders_own(small_md) -> None:
    ck = CKExplorer(small_md, method="fast", prefetch=False)
    ck.widget()
    lu = ck.controls["lambda_u"]
    e = np.log10(ck.lambda_u)
    want = lu.min + round((e + lu.step - lu.min) / lu.step) * lu.step  # the next grid point of the exponent
    assert ck._stop("lambda_u", 1) == pytest.approx(10 ** want, rel=1e-8)
    assert ck._stop("theta", 1) == pytest.approx(ck.theta + 0.0001) and ck._stop("S", -1) == ck.S - 100
    Ts = [float(v) for v in ck.controls["T_seconds"].options]
    assert ck._stop("T_seconds", 1) == Ts[Ts.index(ck.T_seconds) + 1]
    ck.update(S=10_000)
    assert ck._stop("S", 1) is None and ck._stop("S", -1) == 9_900
    ck.update(theta=0.0)
    assert ck._stop("theta", -1) is None


def test_slider_values_are_read_to_nine_digits(small_md) -> None:
    ck = CKExplorer(small_md, method="fast", prefetch=False)
    ck.update(theta=0.0006000000000000001, lambda_u=0.050118723362727244)
    assert ck.theta == 0.0006 and ck.lambda_u == 0.0501187234


def test_prefetched_moves_show_what_a_cold_panel_shows(small_md) -> None:
    ck = CKExplorer(small_md, method="fast")
    ck.widget()
    assert ck._prefetcher.idle(120) and not ck._prefetcher.errors
    for name, sign in (("theta", 1), ("theta", 1), ("S", -1), ("lambda_o", 1), ("T_seconds", 1), ("lambda_u", -1)):
        nxt = ck._stop(name, sign)
        ck.controls[name].value = nxt
        assert ck.params[name] == pytest.approx(nxt)
        _same_as_cold(ck, small_md)
        assert ck._prefetcher.idle(120) and not ck._prefetcher.errors
    assert ck._memo.hits > 0  # the moves were served from what was computed while idle


def test_a_move_during_a_background_computation_equals_a_cold_panel(small_md) -> None:
    ck = CKExplorer(small_md, method="fast")
    ck.widget()
    for _ in range(3):  # no idle time: each move pre-empts the computation the last one started
        ck.controls["S"].value = ck._stop("S", 1)
    _same_as_cold(ck, small_md)
    assert ck._prefetcher.idle(120) and not ck._prefetcher.errors
