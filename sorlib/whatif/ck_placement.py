"""The Cont–Kukanov placement panel of notebook 04: the model's placement on the data under sliders
(λ_u, λ_o, θ, S, T).

:func:`ck_context` turns market data into the model's inputs for one horizon ``T``: the bid queues
``Q_k`` (shares), the half-spread ``h``, the taker fee ``f`` and the rebates ``r_k`` ($/share) and joint
outflow samples ``ξ`` ``(N, K)`` (shares over windows of ``T`` seconds, :func:`sorlib.ck.bid_queue_outflows`).
It is an *illustration* of the model on the data: the queues and spread are the typical (median)
values over the data's snapshots and the samples cover all of the data — not the no-look-ahead view
the router has at a decision (:mod:`sorlib.strategies.ck`).

:class:`CKExplorer` caches one context per ``T`` and the λ sweeps per the parameters they depend on, and
recomputes only what a slider move changes (SA with ``n_iter`` ≈ 5000 on ~60 samples: a few ms per solve),
updating the live figures in place and sending the changed ones in one message (:mod:`._live`). The
outflow samples of every horizon the T slider offers are cut when the panel is built. While the panel is
idle, the points the next key press probably asks for (the slider moved last, two stops on and one back, and
every slider one stop either way) are computed in the background (:mod:`.prefetch`): their sweeps solve by
solve into an exact-input memo of the solves (:func:`sorlib.ck.solve.placement_memo`), so a move there
only redraws. All five parameters
act (none is ever disabled). Headless runs never build widgets: :meth:`CKExplorer.figures` returns the
same view as static figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..ck import bid_queue_outflows, optimal_placement, outflow_matrix
from ..ck.solve import PlacementMemo, placement_memo
from ..data.market import MarketData
from ..engine.book import Book
from ..errors import ConfigError
from ..plots.ck import (
    cost_slice,
    cost_slice_figure,
    is_convex,
    overbooking_figure,
    placement_bar_figure,
    placement_figure,
    placement_sweep,
    single_venue_sweep,
)
from ..plots.colors import series_color
from . import _widgets as ui
from .prefetch import Prefetcher, neighbour_stops

__all__ = ["CKContext", "CKExplorer", "ck_context"]

FIGURES = ("placement", "path", "overbooking", "slice")
PARAMS = ("lambda_u", "lambda_o", "theta", "S", "T_seconds")
#: Idle seconds after a move before the panel computes the next key press's likely points in the background.
PREFETCH_DELAY_S = 0.05
#: A move waits at most this long for a background computation to reach its next stopping point (one solve).
PREEMPT_WAIT_S = 0.1


@dataclass(frozen=True)
class CKContext:
    """Model inputs from the data for horizon ``T_seconds``: ``Q`` (shares), ``h``, ``f``, ``r`` ($/share),
    ``xi`` ``(N, K)`` outflow samples (shares), venue keys and names (same order), ``bid_shown`` (share of the
    snapshots in which each venue shows a bid)."""

    venues: np.ndarray
    names: list[str]
    Q: np.ndarray
    h: float
    f: float
    r: np.ndarray
    xi: np.ndarray
    T_seconds: float
    bid_shown: np.ndarray

    def frame(self) -> pd.DataFrame:
        """One row per venue: share of snapshots with a bid, queue, rebate, h + r_k and the outflow's mean,
        median and P(ξ > Q)."""
        return pd.DataFrame({
            "venue": self.names, "bid_shown": self.bid_shown, "Q_shares": self.Q, "rebate_r": self.r, "h_plus_r": self.h + self.r,
            "xi_mean": self.xi.mean(axis=0), "xi_median": np.median(self.xi, axis=0),
            "P(xi > Q)": (self.xi > self.Q).mean(axis=0)}).set_index("venue")

    def model_kwargs(self) -> dict:
        return {"Q": self.Q, "xi": self.xi, "h": self.h, "f": self.f, "r": self.r}


def ck_context(md: MarketData, T_seconds: float = 30.0, n_samples: int | None = 60, book: Book | None = None,
               at_ns: int | None = None) -> CKContext:
    """The model's inputs from ``md`` (module docstring). ``Q_k``, ``h`` and ``f`` are medians over the
    snapshots (or the values at the snapshot in force at ``at_ns``), ``Q_k`` over those in which venue k
    shows a bid (0 if it never does: on NBBO-only data a venue shows one only while at the best); ``f`` is the taker fee of the venue with
    the cheapest all-in ask (ask + fee), as the router picks it. At most ``n_samples`` evenly spaced
    windows are kept (None: all)."""
    book = book if book is not None else Book.from_market(md)
    if book.times.size == 0:
        raise ConfigError("the data has no quotes")
    rows = book.row if at_ns is None else book.row[[max(book.index_at(int(at_ns)), 0)]]
    ok = rows >= 0
    ri = np.maximum(rows, 0)
    shown = ok & (book.bid_sz[ri, 0] > 0)
    bsz = np.where(shown, book.bid_sz[ri, 0].astype(float), np.nan)
    bpx = np.where(ok, book.bid_px[ri, 0], np.nan)
    apx = np.where(ok, book.ask_px[ri, 0], np.nan)
    with np.errstate(all="ignore"):
        Q = np.nan_to_num(np.nanmedian(bsz, axis=0), nan=0.0)
        good = np.isfinite(apx).any(axis=1) & np.isfinite(bpx).any(axis=1)
        half = (np.nanmin(apx[good], axis=1) - np.nanmax(bpx[good], axis=1)) / 2
        h = float(np.median(np.maximum(half, 0.0))) if half.size else 0.0
        fee = book.taker_fee
        allin = np.where(np.isfinite(apx[good]), apx[good] + fee, np.inf)
        f = float(np.median(fee[np.argmin(allin, axis=1)])) if allin.size else float(fee.min())
    T_ns = int(round(T_seconds * 1e9))
    xi = outflow_matrix(bid_queue_outflows(md, T_ns, venues=book.venues), book.venues)
    if xi.shape[0] == 0:
        raise ConfigError(f"the data is shorter than one outflow window of {T_seconds} s")
    if n_samples is not None and xi.shape[0] > n_samples:
        xi = xi[np.unique(np.linspace(0, xi.shape[0] - 1, int(n_samples)).round().astype(int))]
    names = [md.venue_name(int(v)) for v in book.venues]
    return CKContext(np.asarray(book.venues), names, Q, h, f, book.maker_rebate.astype(float), xi, float(T_seconds),
                     shown.mean(axis=0))


@dataclass
class CKExplorer:
    """Placements of the Cont–Kukanov model on the data, for the sliders of notebook 04.

    Parameters in $/share (``lambda_u`` = λ_u = lambda_under, ``lambda_o`` = λ_o = lambda_over,
    ``theta`` = θ = theta_queue), ``S`` in shares, ``T_seconds`` the horizon (outflow window).
    """

    md: MarketData
    S: float = 1000.0
    T_seconds: float = 30.0
    lambda_u: float = 0.05
    lambda_o: float = 0.05
    theta: float = 0.0005
    n_samples: int = 60
    method: str = "sa"
    n_iter: int = 5000
    seed: int = 0
    sweep_points: int = 21
    lambda_u_range: tuple[float, float] = (0.002, 1.0)
    lambda_o_range: tuple[float, float] = (0.0005, 1.0)
    book: Book | None = None
    last_ms: float | None = None  # None until a move was timed: the status shows "—"
    _contexts: dict = field(default_factory=dict, repr=False)
    _widgets: dict = field(default_factory=dict, repr=False)  # name -> go.Figure the live figures show
    _live: object = field(default=None, repr=False)  # the widget that draws them
    _sweeps: dict = field(default_factory=dict, repr=False)
    _shown: dict = field(default_factory=dict, repr=False)  # figure -> key of what the live figure shows
    controls: dict = field(default_factory=dict, repr=False)  # the panel's sliders, by parameter name
    prefetch: bool = True  # with sliders: compute the next key press's likely points while idle
    _memo: PlacementMemo = field(default_factory=PlacementMemo, repr=False)  # solves by their exact inputs
    _slices: dict = field(default_factory=dict, repr=False)  # the slice's traces by what they depend on
    _prefetcher: Prefetcher = field(default_factory=Prefetcher, repr=False)
    _move: tuple | None = field(default=None, repr=False)  # (slider, direction) of the last move

    def __post_init__(self) -> None:
        if self.book is None:
            self.book = Book.from_market(self.md)

    # ---- computation
    def context(self, T_seconds: float | None = None) -> CKContext:
        T = float(self.T_seconds if T_seconds is None else T_seconds)
        if T not in self._contexts:
            self._contexts[T] = ck_context(self.md, T, self.n_samples, book=self.book)
        return self._contexts[T]

    @property
    def params(self) -> dict:
        return {"S": self.S, "T_seconds": self.T_seconds, "lambda_u": self.lambda_u, "lambda_o": self.lambda_o,
                "theta": self.theta}

    def set(self, **params) -> None:
        unknown = set(params) - set(self.params)
        if unknown:
            raise ConfigError(f"unknown parameter(s) {sorted(unknown)}; use {sorted(self.params)}")
        for k, v in params.items():
            if v is not None:
                setattr(self, k, float(v))

    def _solve_kw(self) -> dict:
        return {"method": self.method, **({"n_iter": self.n_iter, "seed": self.seed} if self.method == "sa" else {})}

    def placement(self, **params):
        """The optimal placement at the current (or given) parameters."""
        self.set(**params)
        return self._placement_at(self.params)

    def _placement_at(self, pt: dict):
        c = self.context(pt["T_seconds"])
        with placement_memo(self._memo):
            return optimal_placement(float(pt["S"]), c.Q, c.xi, c.h, c.f, c.r, pt["lambda_u"], pt["lambda_o"],
                                     pt["theta"], **self._solve_kw())

    def sweep(self, param: str, point: dict | None = None) -> pd.DataFrame:
        """Placements along ``param`` (``"lambda_u"`` or ``"lambda_o"``) at the other current parameters (or
        those of ``point``, a dict like :attr:`params`); memoised on what it depends on (a sweep over λ_u does
        not change when λ_u moves), its solves too (:class:`~sorlib.ck.solve.PlacementMemo`)."""
        pt = self.params if point is None else point
        rng = self._range(param)
        other = pt["lambda_o"] if param == "lambda_u" else pt["lambda_u"]
        key = (param, pt["S"], pt["T_seconds"], other, pt["theta"], self.method, self.n_iter, self.seed,
               self.sweep_points, tuple(rng))
        got = self._sweeps.get(key)
        if got is None:
            with placement_memo(self._memo):
                got = self._sweep(param, rng, pt)
            if len(self._sweeps) > 256:
                self._sweeps.clear()
            self._sweeps[key] = got
        return got

    def _range(self, param: str) -> tuple[float, float]:
        return self.lambda_u_range if param == "lambda_u" else self.lambda_o_range

    def _sweep(self, param: str, rng, pt: dict) -> pd.DataFrame:
        c = self.context(pt["T_seconds"])
        return placement_sweep(param, np.geomspace(*rng, self.sweep_points), pt["S"], c.Q, c.xi, c.h, c.f, c.r,
                               pt["lambda_u"], pt["lambda_o"], pt["theta"], names=c.names, **self._solve_kw())

    def slice_venue(self, T_seconds: float | None = None) -> int:
        """The venue of the V slice: the one with the most outflow beyond its queue, E[(ξ_k − Q_k)⁺]."""
        c = self.context(T_seconds)
        return int(np.argmax(np.maximum(c.xi - c.Q, 0.0).mean(axis=0)))

    def single_venue(self, k: int | None = None) -> dict[str, pd.DataFrame]:
        """The closed-form one-venue optimum on venue ``k`` (default :meth:`slice_venue`) alone, swept over
        λ_u, its queue size and its mean outflow (:func:`sorlib.plots.ck.single_venue_sweep`)."""
        c = self.context()
        k = self.slice_venue() if k is None else int(k)
        return single_venue_sweep(self.S, float(c.Q[k]), c.xi[:, k], c.h, c.f, float(c.r[k]), self.lambda_u,
                                  self.theta)

    def slice_figure(self, lambda_o_values=None, base: str = "overbooked") -> go.Figure:
        """V along ``L_k`` of :meth:`slice_venue` for λ_o below and above ``h + r_k`` (and the current λ_o).

        ``base="overbooked"``: ``M = 0`` and every other venue posts ``L_j = S`` — the other venues alone
        often fill the order, which is where the concave kinks of ``V`` appear when ``λ_o > h + r_k``;
        ``base="optimum"``: ``M`` and the other ``L_j`` at the current optimal placement.
        """
        c = self.context()
        k, M, L, values = self._slice_inputs(lambda_o_values, base)
        return cost_slice_figure(k, M, L, self.S, c.Q, c.xi, c.h, c.f, c.r, self.lambda_u, values, self.theta,
                                 names=c.names)

    def _slice_inputs(self, lambda_o_values=None, base: str = "overbooked"):
        c = self.context()
        k = self.slice_venue()
        bound = c.h + float(c.r[k])
        if lambda_o_values is None:
            lambda_o_values = sorted({round(0.5 * bound, 6), round(5 * bound, 6), round(self.lambda_o, 6)})
        if base == "overbooked":
            M, L = 0.0, np.full(c.Q.size, float(self.S))
        elif base == "optimum":
            pl = self.placement()
            M, L = pl.M, np.asarray(pl.L, dtype=float)
        else:
            raise ConfigError("base must be 'overbooked' or 'optimum'")
        return k, M, L, lambda_o_values

    def _slice_traces(self, point: dict | None = None) -> list[dict]:
        """The data props of :meth:`slice_figure`'s traces (two per λ_o: V − V(0) and its slope), as
        :func:`sorlib.plots.ck.cost_slice_figure` lays them out, without building a figure; at the current
        parameters or those of ``point`` (memoised on S, T, θ, λ_u, λ_o: the traces are handed out as copies)."""
        pt = self.params if point is None else point
        key = tuple(pt[p] for p in PARAMS)
        got = self._slices.get(key)
        if got is None:
            got = self._slice_traces_at(pt)
            if len(self._slices) > 256:
                self._slices.clear()
            self._slices[key] = got
        return [{k: (v.copy() if isinstance(v, np.ndarray) else dict(v) if isinstance(v, dict) else v)
                 for k, v in tr.items()} for tr in got]

    def _slice_traces_at(self, pt: dict) -> list[dict]:
        T, S, lu, lam_o, theta = pt["T_seconds"], pt["S"], pt["lambda_u"], pt["lambda_o"], pt["theta"]
        c = self.context(T)
        k = self.slice_venue(T)
        bound = c.h + float(c.r[k])
        values = sorted({round(0.5 * bound, 6), round(5 * bound, 6), round(lam_o, 6)})
        M, L = 0.0, np.full(c.Q.size, float(S))
        out = []
        for i, lo in enumerate(np.asarray(values, dtype=float)):
            df = cost_slice(k, M, L, S, c.Q, c.xi, c.h, c.f, c.r, lu, float(lo), theta)
            side, conv = ("≤" if lo <= bound else ">"), is_convex(df["V"])
            line = {"color": series_color(i), "dash": "solid" if lo <= bound else "dash"}
            name = f"λ_o = {lo:.4g} {side} h + r_k ({'convex' if conv else 'not convex'})"
            x, v = df["L_k"].to_numpy(), df["V"].to_numpy()
            slope = np.diff(v) / np.diff(x) if x.size > 1 and x[-1] > x[0] else np.zeros(0)
            out += [{"x": x, "y": df["dV"].to_numpy(), "name": name, "legendgroup": name, "line": line},
                    {"x": 0.5 * (x[1:] + x[:-1]), "y": slope, "name": name, "legendgroup": name, "line": line}]
        return out

    def solver_gap(self, n_iter: int | None = None) -> pd.DataFrame:
        """SA (``n_iter``, default this explorer's) against the exact SAA solver along the λ_u and λ_o
        sweeps: V of each ($) and the gap; SA is a local method with a step that shrinks as λ grows."""
        method, it = self.method, self.n_iter
        try:
            self.method, self.n_iter = "saa", it
            exact = {p: self.sweep(p) for p in ("lambda_u", "lambda_o")}
            self.method, self.n_iter = "sa", int(n_iter or it)
            sa = {p: self.sweep(p) for p in ("lambda_u", "lambda_o")}
        finally:
            self.method, self.n_iter = method, it
        rows = []
        for p in ("lambda_u", "lambda_o"):
            for (_, e), (_, a) in zip(exact[p].iterrows(), sa[p].iterrows(), strict=True):
                rows.append({"swept": p, "value": e["x"], "V_exact": e["cost"], "V_sa": a["cost"],
                             "gap": a["cost"] - e["cost"], "M_exact": e["M"], "M_sa": a["M"]})
        return pd.DataFrame(rows)

    def _keys(self) -> dict[str, tuple]:
        """Per figure, the parameters it depends on (a figure whose key did not change is not redrawn)."""
        base = (self.S, self.T_seconds, self.theta, self.method, self.n_iter, self.seed)
        return {"placement": (*base, self.lambda_u, self.lambda_o), "path": (*base, self.lambda_o),
                "overbooking": (*base, self.lambda_u), "slice": (*base, self.lambda_u, self.lambda_o)}

    def _figure(self, name: str) -> go.Figure:
        c = self.context()
        if name == "placement":
            pl = self.placement()
            return placement_bar_figure(pl.M, pl.L, self.S, c.names, title=self._placement_title(pl))
        if name == "path":
            return placement_figure(self.sweep("lambda_u"))
        if name == "overbooking":
            return overbooking_figure(self.sweep("lambda_o"))
        return self.slice_figure()

    def _placement_title(self, pl) -> str:
        return (f"Placement → V = {pl.cost:,.2f} USD (S = {self.S:,.0f} shares, T = {self.T_seconds:g} s; "
                f"λ_u = {self.lambda_u:.4g}, λ_o = {self.lambda_o:.4g}, θ = {self.theta:.4g} USD/share)")

    def figures(self, **params) -> dict[str, go.Figure]:
        """``placement`` (bars), ``path`` (M, L_k vs λ_u), ``overbooking`` (Σ L_k vs S − M against λ_o),
        ``slice`` (V along L_k, :meth:`slice_figure`, for λ_o below and above h + r_k and the current λ_o)."""
        self.set(**params)
        return {name: self._figure(name) for name in FIGURES}

    def describe(self) -> str:
        c = self.context()
        return (f"T = {c.T_seconds:g} s: {c.xi.shape[0]} outflow samples x {len(c.names)} venues; h = {c.h:.4f}, "
                f"f = {c.f:.4f} USD/share; solver {self.method}"
                + (f" (n_iter={self.n_iter}, seed={self.seed})" if self.method == "sa" else ""))

    # ---- live widgets
    def update(self, **params) -> float:
        """Recompute at ``params`` and redraw in place only the live figures whose inputs changed (one
        batch per figure); returns the elapsed ms. Only the new trace data are sent (:meth:`_trace_data`:
        building a plotly figure costs more than the solves); a figure whose number of traces changes (the
        slice, when the current λ_o meets one of its reference values) is rebuilt."""
        with ui.Timer() as t:
            self._prefetcher.preempt(PREEMPT_WAIT_S)  # a background computation stops first (one solve)
            before = self.params
            self.set(**{k: ui.slider_value(v) if k in ("lambda_u", "lambda_o", "theta") and v is not None else v
                        for k, v in params.items()})
            self._note_move(before)
            changed = []
            for name, key in self._keys().items():
                w = self._widgets.get(name)
                if w is None or self._shown.get(name) == key:
                    continue
                data = self._trace_data(name)
                if data is not None and len(data[0]) == len(w.data):
                    if ui.restyle(w, dict(enumerate(data[0])), data[1]):
                        changed.append(name)
                else:
                    ui.sync_widget(w, self._figure(name))
                    changed.append(name)
                self._shown[name] = key
            specs = self._live.encode(self._widgets, changed) if self._live is not None else {}
        self.last_ms = t.ms
        if self._live is not None:  # one message: the changed figures and the status line (with this move's ms)
            self._live.push(specs, self._status())
        self._prefetch()
        return self.last_ms

    # ---- the next key press's points, computed while idle (sorlib.whatif.prefetch)
    def _note_move(self, before: dict) -> None:
        now = self.params
        moved = [n for n in PARAMS if now[n] != before[n]]
        if len(moved) == 1:
            n = moved[0]
            self._move = (n, 1 if now[n] > before[n] else -1)

    def _stop(self, name: str, steps: int):
        """The value ``|steps|`` key presses move slider ``name`` to (``steps`` > 0: right); None past its end."""
        c = self.controls.get(name)
        if c is None:
            return None
        kind = type(c).__name__
        if kind == "SelectionSlider":
            vals = [float(v[1] if isinstance(v, tuple) else v) for v in c.options]
            i = vals.index(float(self.params[name])) + steps if float(self.params[name]) in vals else -1
            return vals[i] if 0 <= i < len(vals) else None
        if kind == "FloatLogSlider":
            return ui.log_stop(c, self.params[name], steps)
        v = c.min + round((float(self.params[name]) + steps * c.step - c.min) / c.step) * c.step
        v = ui.slider_value(v) if kind == "FloatSlider" else float(round(v))
        return v if c.min - 1e-12 <= v <= c.max + 1e-12 else None

    def _next_points(self, ahead: int = 2) -> list[dict]:
        """Likely next points, most likely first: the slider moved last one, two … ``ahead`` stops further the
        same way and one back, then every slider one stop either way (both neighbours of every slider)."""
        order: list[tuple[str, int]] = []
        if self._move is not None:
            name, sign = self._move
            order += [(name, sign * i) for i in range(1, ahead + 1)] + [(name, -sign)]
        order += [(n, s) for n in PARAMS for s in (+1, -1)]
        return [{**self.params, name: float(value)} for name, value in neighbour_stops(order, self._stop)]

    def _prefetch(self) -> None:
        if self.prefetch and self.controls:
            self._prefetcher.schedule([self._job(pt) for pt in self._next_points()], PREFETCH_DELAY_S)

    def _job(self, pt: dict):
        def job(stop) -> None:
            c = self.context(pt["T_seconds"])
            kw = self._solve_kw()
            with placement_memo(self._memo):
                for param in ("lambda_u", "lambda_o"):  # each solve of the sweep, stopping between two
                    for v in np.geomspace(*self._range(param), self.sweep_points):
                        if stop():
                            return
                        p = {**pt, param: float(v)}
                        optimal_placement(float(p["S"]), c.Q, c.xi, c.h, c.f, c.r, p["lambda_u"], p["lambda_o"],
                                          p["theta"], **kw)
                    self.sweep(param, pt)  # its frame, from the memo
                if stop():
                    return
                self._placement_at(pt)
                self._slice_traces(pt)
        return job

    def _trace_data(self, name: str) -> tuple[list[dict], str | None] | None:
        """The data props of figure ``name``'s traces in trace order and its title, as the builders of
        :mod:`sorlib.plots.ck` lay them out (``None`` for the slice: it is rebuilt)."""
        if name == "placement":
            pl = self.placement()
            L = np.asarray(pl.L, dtype=float)
            y = [float(pl.M), *map(float, L), float(L.sum())]
            S_M = self.S - float(pl.M)
            return ([{"y": y, "text": [f"{round(v) + 0:d}" for v in y]}, {"y": [S_M, S_M]}],
                    self._placement_title(pl))
        if name == "path":
            sw = self.sweep("lambda_u")
            cols = ["M", *(f"L {n}" for n in self.context().names), "S"]
            return [{"x": sw["x"].to_numpy(), "y": sw[c].to_numpy()} for c in cols], None
        if name == "overbooking":
            sw = self.sweep("lambda_o")
            sm, sl = sw["S_minus_M"], sw["sum_L"]
            ratio = np.where(sm > 0, sl / sm.where(sm > 0), np.nan)
            return [{"y": sm.to_numpy()}, {"y": sl.to_numpy()}, {"y": ratio}], None
        k = self.slice_venue()
        title = (f"V along L_k for {self.context().names[k]} (M = 0, other L_j fixed; "
                 f"h + r_k = {self.context().h + float(self.context().r[k]):.4g} USD/share)")
        return self._slice_traces(), title

    def _status(self) -> str:
        """The status line: the data, the solver and the parameters the figures show (units spelt out)."""
        at = (f"S = {self.S:,.0f} shares, λ_u = {self.lambda_u:.4g}, λ_o = {self.lambda_o:.4g}, "
              f"θ = {self.theta:.4g} USD/share")
        return ui.status_html(f"<b>{self.describe()}</b> — {at}", self.last_ms)

    def widget(self):
        """Sliders (λ_u, λ_o on log scales and θ in USD/share, S in shares, T in seconds) above the live
        figures; every move recomputes the placement (and the sweeps it changes) and redraws in place."""
        self._widgets, self._live = ui.live_figures(self.figures())
        self._shown = self._keys()
        s_lu = ui.log_slider("λ_u = lambda_under (USD/share)", self.lambda_u, *self.lambda_u_range)
        s_lo = ui.log_slider("λ_o = lambda_over (USD/share)", self.lambda_o, *self.lambda_o_range)
        s_th = ui.slider("FloatSlider", "θ = theta_queue (USD/share)", self.theta, min=0.0, max=0.02, step=0.0001,
                         readout_format=".4f")
        s_S = ui.slider("IntSlider", "S = order size (shares)", int(self.S), min=100, max=10_000, step=100)
        Ts = sorted({5.0, 10.0, 15.0, 30.0, 60.0, 120.0, float(self.T_seconds)})
        for T in Ts:  # parameter-free: every horizon's outflow samples are cut once, when the panel is built
            self.context(T)
        s_T = ui.slider("SelectionSlider", "T = horizon (seconds)", float(self.T_seconds), options=Ts)
        self._live.status = self._status()  # the status line, above the figures (sent with each move's figures)

        def on_change() -> None:
            self.update(lambda_u=s_lu.value, lambda_o=s_lo.value, theta=s_th.value, S=s_S.value,
                        T_seconds=s_T.value)

        controls = [s_lu, s_lo, s_th, s_S, s_T]
        self.controls = dict(zip(("lambda_u", "lambda_o", "theta", "S", "T_seconds"), controls, strict=True))
        ui.align(controls)
        ui.on_any_change(controls, on_change)
        self._prefetch()
        return ui.panel([ui.param_row(s) for s in controls], None, self._live)
