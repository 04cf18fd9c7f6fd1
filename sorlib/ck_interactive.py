"""The Cont–Kukanov model explorer behind notebook 04's sliders (λ_u, λ_o, θ, S, T).

:func:`ck_context` turns market data into the model's inputs for one horizon ``T``: the bid queues
``Q_k`` (shares), the half-spread ``h``, the taker fee ``f`` and the rebates ``r_k`` ($/share) and joint
outflow samples ``ξ`` ``(N, K)`` (shares over windows of ``T`` seconds, :func:`sorlib.ck.bid_queue_outflows`).
It is an *illustration* of the model on the data: the queues and spread are the typical (median)
values over the data's snapshots and the samples cover all of the data — not the no-look-ahead view
the router has at a decision (:mod:`sorlib.strategies.ck`).

:class:`CKExplorer` caches one context per ``T`` and recomputes only the placements when a slider moves
(SA with ``n_iter`` ≈ 5000 on ~60 samples: a few ms per solve), updating ``go.FigureWidget`` s in place.
Headless runs never build widgets: :meth:`CKExplorer.figures` returns the same view as static figures.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .ck import bid_queue_outflows, optimal_placement, outflow_matrix
from .data.market import MarketData
from .engine.book import Book
from .errors import ConfigError
from .interactive import sync_widget
from .plots.ck import (
    cost_slice_figure,
    overbooking_figure,
    placement_bar_figure,
    placement_figure,
    placement_sweep,
    single_venue_sweep,
)

__all__ = ["CKContext", "CKExplorer", "ck_context"]


@dataclass(frozen=True)
class CKContext:
    """Model inputs from the data for horizon ``T_seconds``: ``Q`` (shares), ``h``, ``f``, ``r`` ($/share),
    ``xi`` ``(N, K)`` outflow samples (shares), venue keys and names (same order)."""

    venues: np.ndarray
    names: list[str]
    Q: np.ndarray
    h: float
    f: float
    r: np.ndarray
    xi: np.ndarray
    T_seconds: float

    def frame(self) -> pd.DataFrame:
        """One row per venue: queue, rebate, h + r_k and the outflow's mean, median and P(ξ > Q)."""
        return pd.DataFrame({
            "venue": self.names, "Q_shares": self.Q, "rebate_r": self.r, "h_plus_r": self.h + self.r,
            "xi_mean": self.xi.mean(axis=0), "xi_median": np.median(self.xi, axis=0),
            "P(xi > Q)": (self.xi > self.Q).mean(axis=0)}).set_index("venue")

    def model_kwargs(self) -> dict:
        return {"Q": self.Q, "xi": self.xi, "h": self.h, "f": self.f, "r": self.r}


def ck_context(md: MarketData, T_seconds: float = 30.0, n_samples: int | None = 60, book: Book | None = None,
               at_ns: int | None = None) -> CKContext:
    """The model's inputs from ``md`` (module docstring). ``Q_k``, ``h`` and ``f`` are medians over the
    snapshots (or the values at the snapshot in force at ``at_ns``); ``f`` is the taker fee of the venue with
    the cheapest all-in ask (ask + fee), as the router picks it. At most ``n_samples`` evenly spaced
    windows are kept (None: all)."""
    book = book if book is not None else Book.from_market(md)
    if book.times.size == 0:
        raise ConfigError("the data has no quotes")
    rows = book.row if at_ns is None else book.row[[max(book.index_at(int(at_ns)), 0)]]
    ok = rows >= 0
    ri = np.maximum(rows, 0)
    bsz = np.where(ok, book.bid_sz[ri, 0].astype(float), np.nan)
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
    return CKContext(np.asarray(book.venues), names, Q, h, f, book.maker_rebate.astype(float), xi, float(T_seconds))


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
    last_ms: float = 0.0
    _contexts: dict = field(default_factory=dict, repr=False)
    _widgets: dict = field(default_factory=dict, repr=False)
    _summary_widget: object = field(default=None, repr=False)

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
        c = self.context()
        return optimal_placement(self.S, c.Q, c.xi, c.h, c.f, c.r, self.lambda_u, self.lambda_o, self.theta,
                                 **self._solve_kw())

    def sweep(self, param: str) -> pd.DataFrame:
        rng = self.lambda_u_range if param == "lambda_u" else self.lambda_o_range
        c = self.context()
        return placement_sweep(param, np.geomspace(*rng, self.sweep_points), self.S, c.Q, c.xi, c.h, c.f, c.r,
                               self.lambda_u, self.lambda_o, self.theta, names=c.names, **self._solve_kw())

    def slice_venue(self) -> int:
        """The venue of the V slice: the one with the most outflow beyond its queue, E[(ξ_k − Q_k)⁺]."""
        c = self.context()
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
        return cost_slice_figure(k, M, L, self.S, c.Q, c.xi, c.h, c.f, c.r, self.lambda_u, lambda_o_values,
                                 self.theta, names=c.names)

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

    def figures(self, **params) -> dict[str, go.Figure]:
        """``placement`` (bars), ``path`` (M, L_k vs λ_u), ``overbooking`` (Σ L_k vs S − M against λ_o),
        ``slice`` (V along L_k, :meth:`slice_figure`, for λ_o below and above h + r_k and the current λ_o)."""
        self.set(**params)
        c = self.context()
        pl = self.placement()
        return {
            "placement": placement_bar_figure(pl.M, pl.L, self.S, c.names, title=(
                f"Placement: S = {self.S:,.0f} sh, T = {self.T_seconds:g} s, λ_u = {self.lambda_u:.4g}, "
                f"λ_o = {self.lambda_o:.4g}, θ = {self.theta:.4g} $/sh → V = ${pl.cost:,.2f}")),
            "path": placement_figure(self.sweep("lambda_u")),
            "overbooking": overbooking_figure(self.sweep("lambda_o")),
            "slice": self.slice_figure(),
        }

    def describe(self) -> str:
        c = self.context()
        return (f"T = {c.T_seconds:g} s: {c.xi.shape[0]} outflow samples x {len(c.names)} venues; h = {c.h:.4f}, "
                f"f = {c.f:.4f} $/share; solver {self.method}"
                + (f" (n_iter={self.n_iter}, seed={self.seed})" if self.method == "sa" else ""))

    # ---- live widgets
    def update(self, **params) -> float:
        """Recompute at ``params`` and update the live figures in place (one batch per figure); ms."""
        t = time.perf_counter()
        figs = self.figures(**params)
        for name, fig in figs.items():
            w = self._widgets.get(name)
            if w is not None:
                sync_widget(w, fig)
        self.last_ms = (time.perf_counter() - t) * 1e3
        if self._summary_widget is not None:
            self._summary_widget.value = f"<b>{self.describe()}</b> — recomputed in {self.last_ms:.0f} ms"
        return self.last_ms

    def widget(self):
        """Sliders (λ_u, λ_o on log scales, θ, S, T) above the live figures."""
        import ipywidgets as w

        try:
            self._widgets = {n: go.FigureWidget(f) for n, f in self.figures().items()}
        except ImportError as e:  # plotly >= 6 needs anywidget for FigureWidget
            raise ConfigError(f"live figures need anywidget: pip install anywidget ({e})") from None
        style, lay = {"description_width": "120px"}, w.Layout(width="460px")
        log = dict(base=10, step=0.05, continuous_update=False, readout_format=".4g", style=style, layout=lay)
        s_lu = w.FloatLogSlider(value=self.lambda_u, min=np.log10(self.lambda_u_range[0]),
                                max=np.log10(self.lambda_u_range[1]), description="λ_u $/sh", **log)
        s_lo = w.FloatLogSlider(value=self.lambda_o, min=np.log10(self.lambda_o_range[0]),
                                max=np.log10(self.lambda_o_range[1]), description="λ_o $/sh", **log)
        s_th = w.FloatSlider(value=self.theta, min=0.0, max=0.02, step=0.0001, readout_format=".4f",
                             continuous_update=False, description="θ $/sh", style=style, layout=lay)
        s_S = w.IntSlider(value=int(self.S), min=100, max=10_000, step=100, continuous_update=False,
                          description="S shares", style=style, layout=lay)
        Ts = sorted({5.0, 10.0, 15.0, 30.0, 60.0, 120.0, float(self.T_seconds)})
        s_T = w.SelectionSlider(options=Ts, value=float(self.T_seconds), continuous_update=False,
                                description="T seconds", style=style, layout=lay)
        self._summary_widget = w.HTML(f"<b>{self.describe()}</b>")

        def on_change(_change) -> None:
            self.update(lambda_u=s_lu.value, lambda_o=s_lo.value, theta=s_th.value, S=s_S.value,
                        T_seconds=s_T.value)

        for s in (s_lu, s_lo, s_th, s_S, s_T):
            s.observe(on_change, names="value")
        figs = w.VBox([self._widgets[n] for n in ("placement", "path", "overbooking", "slice")])
        return w.VBox([w.HBox([w.VBox([s_lu, s_lo, s_th]), w.VBox([s_S, s_T])]), self._summary_widget, figs])
