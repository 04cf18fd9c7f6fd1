"""How each layer of market realism changes the answer: the router against the baselines under the frozen
tape, each market model of :mod:`sorlib.sim` alone, and all of them together (notebook 05).

:func:`run_ladder` runs one :func:`~sorlib.backtest.run_backtest` per router mode and layer on the same parent
orders (the layer sets ``BacktestConfig.market``; everything else is the caller's config; grid points that
route identically are replayed once) and reads the child orders the engine recorded for the best grid point and
the three baselines. :func:`realism_ladder` returns its tidy table, one row per (mode, layer, strategy):

=============================  =====================================================================================
column                         meaning (units)
=============================  =====================================================================================
``mode``, ``layer``            router mode (``spec``, ``uncapped``, ``ck``); layer = market preset (:data:`LAYERS`)
``layer_label``                ``"frozen tape"``, ``"+ latency"``, …, ``"realistic (all four)"``
``market``, ``market_model``   the results' market name and label (``"frozen tape"``, ``"simulated market (fade)"``)
``strategy``                   ``router`` (the best grid point) or a baseline (``best_ask``, ``twap``, ``vwap``)
``orders``                     parent orders placed (the same in every row of a ladder)
``total_cash_usd``             Σ (price + fee) × qty over all orders, clean-up included (USD)
``avg_price_usd``              all-in average price (USD/share)
``shortfall_bps``              implementation shortfall vs the arrival mid, mean per order (bps)
``cost_rank``                  1 = the cheapest strategy of its (mode, layer) by total cash
``saving_bps``                 baseline rows: the router's pooled saving against it (bps; positive = router
                               cheaper); NaN on the router's row
``saving_mean_bps``,           the mean per-order saving and its seeded bootstrap 95% interval (bps)
``saving_lo_bps``,
``saving_hi_bps``
``impact_bps``,                impact paid per order, mean (bps of the order's notional at the arrival mid) and its
``impact_lo_bps``,             95% interval; ``impact_usd``: USD per order (0 without the impact model)
``impact_hi_bps``,
``impact_usd``
``children_per_order``         child orders per parent order: one marketable or resting quantity sent by one
                               decision on one venue (the deadline clean-up is not a child)
``mean_child_shares``          mean child order size (shares)
``fills_per_order``,           fills (clean-up excluded) per parent order and their mean size (shares)
``mean_fill_shares``
``cleanup_shares_per_order``   shares the clean-up market order bought, per parent order
``lambda_over``,               the router's best grid point (USD/share; NaN on baseline rows); ``grid_ties``: how many
``lambda_under``,              grid points tie with it; ``grid_points``: the grid's size
``theta_queue``, ``grid_ties``,
``grid_points``
=============================  =====================================================================================

The baselines do not depend on the router's mode, so their rows repeat across modes (same numbers). The
``queue`` layer changes only resting orders filled by the engine's queue model — the ``uncapped`` router's;
the ``spec`` router and the baselines never rest, and the ``ck`` router settles its resting orders by the
paper's own rule — so there it reproduces the frozen rows (:func:`layer_effects` says which layers changed
anything).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .backtest import (
    GRIDS,
    PARAMS,
    BacktestConfig,
    grid_points,
    router_for,
    run_backtest,
)
from .data.market import MarketData
from .engine.book import Book
from .errors import ConfigError
from .metrics import format_bps, format_interval, strategy_label
from .sim.model import MARKET_PRESETS
from .venues import VenueTable

__all__ = ["BASELINES", "COLUMNS", "LAYERS", "LAYER_LABELS", "Ladder", "LayerResult", "cheapest_frame",
           "claims_text", "committed_ladder", "committed_results_path", "describe_run", "fewer_larger_frame", "layer_effects", "load_ladder_json", "run_ladder",
           "realism_ladder", "savings_frame", "strategy_name"]

#: The ladder's layers, in order: the frozen tape, each market model alone, all together.
LAYERS: tuple[str, ...] = ("frozen", "latency", "impact", "fade", "queue", "realistic")
LAYER_LABELS: dict[str, str] = {"frozen": "frozen tape", "latency": "+ latency", "impact": "+ impact",
                                "fade": "+ fade", "queue": "+ queue", "realistic": "realistic (all four)"}
BASELINES: tuple[str, ...] = ("best_ask", "twap", "vwap")
#: Columns of :func:`realism_ladder`, in order.
COLUMNS: tuple[str, ...] = (
    "mode", "layer", "layer_label", "market", "market_model", "strategy", "orders", "total_cash_usd",
    "avg_price_usd", "shortfall_bps", "cost_rank", "saving_bps", "saving_mean_bps", "saving_lo_bps",
    "saving_hi_bps", "impact_bps", "impact_lo_bps", "impact_hi_bps", "impact_usd", "children_per_order",
    "mean_child_shares", "fills_per_order", "mean_fill_shares", "cleanup_shares_per_order", *PARAMS,
    "grid_ties", "grid_points")
#: Two strategies' total cash within this many bps of each other are a tie in :func:`cheapest_frame`.
TIE_BPS = 0.005


# ------------------------------------------------------------------------------------------- the ladder
@dataclass
class Ladder:
    """What :func:`run_ladder` computed: the tidy ``table`` (:data:`COLUMNS`) and, per ``(mode, layer)``,
    the backtest's results dict (``results``, as :func:`~sorlib.backtest.run_backtest` returns it)."""

    table: pd.DataFrame
    results: dict[tuple[str, str], dict] = field(default_factory=dict, repr=False)
    config: dict = field(default_factory=dict)

    def headline(self, mode: str | None = None, layer: str = "realistic") -> LayerResult:
        """The backtest of one ``(mode, layer)`` (default: the first mode, ``realistic`` — or the last layer
        run when ``realistic`` was not) as a :class:`LayerResult`, its results dict extended with the whole
        ladder (``realism_ladder``: the table's records, strict JSON) — what a page's headline and its
        results JSON show (:func:`sorlib.report.write_results` takes it)."""
        mode = mode or self.config["modes"][0]
        if layer not in self.config["layers"]:
            layer = self.config["layers"][-1]
        return LayerResult(mode, layer, {**self.results[(mode, layer)], "realism_ladder": _records(self.table)})


@dataclass
class LayerResult:
    """One backtest of a ladder: ``mode``, ``layer`` and its ``results`` dict."""

    mode: str
    layer: str
    results: dict


def _check_layers(layers: Iterable[str]) -> tuple[str, ...]:
    out = tuple(layers)
    if not out:
        raise ConfigError("give at least one realism layer")
    bad = [x for x in out if x not in MARKET_PRESETS]
    if bad:
        raise ConfigError(f"unknown realism layer(s) {bad}; use {', '.join(MARKET_PRESETS)}")
    return out


def run_ladder(data: MarketData | Book, cfg: BacktestConfig | None = None, layers: Sequence[str] = LAYERS,
               modes: Sequence[str] | None = None, venue_table: VenueTable | None = None,
               progress=None) -> Ladder:
    """The router (each of ``modes``; default ``cfg.mode``) against Best Ask, TWAP and VWAP under each market
    ``layer`` — ``cfg`` with ``market=layer``, everything else unchanged — on the same parent orders.

    ``progress``: called with a short text before each backtest (e.g. ``print``). See the module docstring
    for the table's columns."""
    cfg = cfg or BacktestConfig()
    layers = _check_layers(layers)
    modes = tuple(modes) if modes is not None else (cfg.mode,)
    book = data if isinstance(data, Book) else Book.from_market(data, venue_table)
    rows, results = [], {}
    for mode in modes:
        for layer in layers:
            c = replace(cfg, mode=mode, market=layer)
            if progress is not None:
                progress(f"realism ladder: {mode} mode, {layer}")
            res = _backtest(book, c)
            results[(mode, layer)] = res.results
            children = _child_stats(res)
            rows.extend(_rows(mode, layer, res.results, children))
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table["cost_rank"] = (table.groupby(["mode", "layer"], sort=False)["total_cash_usd"]
                          .rank(method="min").astype(int))
    conf = {k: v for k, v in results[(modes[0], layers[0])]["config"].items() if k not in ("mode", "market")}
    return Ladder(table=table, results=results, config={**conf, "modes": list(modes), "layers": list(layers)})


def realism_ladder(data: MarketData | Book, cfg: BacktestConfig | None = None, layers: Sequence[str] = LAYERS,
                   modes: Sequence[str] | None = None, venue_table: VenueTable | None = None) -> pd.DataFrame:
    """The tidy table of :func:`run_ladder` (one row per mode, layer and strategy; :data:`COLUMNS`)."""
    return run_ladder(data, cfg, layers, modes, venue_table).table


def _backtest(book: Book, cfg: BacktestConfig):
    """:func:`~sorlib.backtest.run_backtest`, with each set of grid points that route identically replayed once.

    A parameter is inert when changing it alone never changes the router's ``decision_key()`` (spec mode:
    all three; uncapped: ``lambda_over``); the backtest runs on the grid with inert parameters fixed at their
    first value and the full grid is rebuilt from it. The best point (first of ties in grid order), its
    executions and every saving are those of the full backtest; ``grid``, ``grid_ties`` and ``config.grid``
    are restored to the full grid's (``tests/test_realism.py`` checks it against a plain ``run_backtest``)."""
    reduced = _reduced_grid(book, cfg)
    if reduced is None:
        return run_backtest(book, cfg)
    grid, first = reduced
    res = run_backtest(book, replace(cfg, grid=grid))
    r = res.results
    rows = {tuple(float(row[p]) for p in PARAMS): row for row in r["grid"]}
    full = [{**rows[tuple(float(first.get(p, pt[p])) for p in PARAMS)], **pt} for pt in grid_points(cfg.grid)]
    cash = np.array([row["total_cash"] for row in full])
    best_i = int(np.argmin(cash))
    best = {p: float(full[best_i][p]) for p in PARAMS}
    if best != r["best_parameters"]:  # cannot happen: the first best point has its inert parameters first
        return run_backtest(book, cfg)
    r["grid"] = full
    r["grid_ties"] = int(np.isclose(cash, cash[best_i], rtol=0, atol=1e-6).sum())
    r["config"]["grid"] = cfg.grid
    res.grid = pd.DataFrame(full)
    return res


def _reduced_grid(book: Book, cfg: BacktestConfig) -> tuple[dict, dict] | None:
    """``(grid with the inert parameters fixed, {inert parameter: its first value})``, or None when no
    parameter is inert (or the router has no ``decision_key``, e.g. Cont–Kukanov)."""
    lists = GRIDS[cfg.grid] if isinstance(cfg.grid, str) else cfg.grid
    points = grid_points(cfg.grid)
    keys = {}
    for pt in points:
        r = router_for(cfg, pt, book.profiles)
        if not hasattr(r, "decision_key"):
            return None
        keys[tuple(float(pt[p]) for p in PARAMS)] = r.decision_key()
    first = {}
    for i, name in enumerate(PARAMS):
        v0 = float(lists[name][0])
        if all(k == keys[t[:i] + (v0,) + t[i + 1:]] for t, k in keys.items()):
            first[name] = v0
    if not any(len(lists[p]) > 1 for p in first):  # nothing to save
        return None
    return {p: [first[p]] if p in first else list(lists[p]) for p in PARAMS}, first


def _child_stats(res) -> dict[str, tuple[int, float]]:
    """Per strategy (router = the best grid point): ``(child orders, shares in them)`` from the child orders the
    engine recorded (``Execution.children``: every marketable or resting quantity sent to one venue by one
    decision; the clean-up is not one)."""
    out = {}
    for name, ex in {"router": res.router, **res.baselines}.items():
        if ex.children is None:
            raise RuntimeError(f"the replay of {name} recorded no child orders")
        out[name] = (len(ex.children), float(ex.children.qty.sum()))
    return out


def _nan(x) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v if math.isfinite(v) else math.nan


def _rows(mode: str, layer: str, r: dict, children: dict) -> list[dict]:
    n = int(r["parent_orders"])
    out = []
    best = r["best_parameters"]
    for name in ("router", *r["baselines"]):
        s = r["optimized"] if name == "router" else r["baselines"][name]
        iv = {} if name == "router" else r["savings_intervals"][name]
        imp = r["impact_cost"][name]
        nc, qc = children[name]
        ci = iv.get("ci95") or [math.nan, math.nan]
        row = {"mode": mode, "layer": layer, "layer_label": LAYER_LABELS.get(layer, layer),
               "market": r["market"]["name"], "market_model": r["market_model"], "strategy": name, "orders": n,
               "total_cash_usd": float(s["total_cash"]), "avg_price_usd": float(s["avg_fill_px"]),
               "shortfall_bps": _nan(s["shortfall_bps_mean"]), "cost_rank": 0,
               "saving_bps": _nan(iv.get("bps")), "saving_mean_bps": _nan(iv.get("mean_bps")),
               "saving_lo_bps": _nan(ci[0]), "saving_hi_bps": _nan(ci[1]),
               "impact_bps": _nan(imp["bps_per_order"]), "impact_lo_bps": _nan(imp["ci95"][0]),
               "impact_hi_bps": _nan(imp["ci95"][1]), "impact_usd": _nan(imp["usd_per_order"]),
               "children_per_order": nc / n if n else math.nan, "mean_child_shares": qc / nc if nc else math.nan,
               "fills_per_order": s["fills"] / n if n else math.nan,
               "mean_fill_shares": float(s["mean_fill_size"]) if s["fills"] else math.nan,
               "cleanup_shares_per_order": s["cleanup_shares"] / n if n else math.nan}
        for p in PARAMS:
            row[p] = float(best[p]) if name == "router" else math.nan
        row["grid_ties"] = int(r["grid_ties"]) if name == "router" else 0
        row["grid_points"] = len(r["grid"]) if name == "router" else 0
        out.append(row)
    return out


# --------------------------------------------------------------------------------------- reading the table
def strategy_name(strategy: str, mode: str) -> str:
    """How tables and figures name a strategy: ``"router (spec)"``, ``"Best Ask"``, …"""
    return f"router ({mode})" if strategy == "router" else strategy_label(strategy)


def _ordered(table: pd.DataFrame) -> list[tuple[str, str]]:
    return list(dict.fromkeys(zip(table["mode"], table["layer"], strict=True)))


def savings_frame(table: pd.DataFrame, mode: str | None = None) -> pd.DataFrame:
    """One row per (mode, layer): the router's pooled saving against each baseline with its 95% interval
    (text, bps; positive = router cheaper), its best grid point and the impact it paid per order."""
    t = table if mode is None else table[table["mode"] == mode]
    rows = []
    for m, layer in _ordered(t):
        g = t[(t["mode"] == m) & (t["layer"] == layer)].set_index("strategy")
        r = g.loc["router"]
        row = {"mode": m, "layer": LAYER_LABELS.get(layer, layer), "orders": int(r["orders"])}
        for b in (x for x in g.index if x != "router"):
            s = g.loc[b]
            row[f"vs {strategy_label(b)} (bps)"] = format_bps(s["saving_bps"])
            row[f"vs {strategy_label(b)}: 95% interval"] = format_interval([s["saving_lo_bps"], s["saving_hi_bps"]],
                                                                           int(s["orders"]))
        row["router's impact paid (bps/order)"] = format_bps(r["impact_bps"])
        row["best grid point (USD/share)"] = _params_text(r)
        rows.append(row)
    return pd.DataFrame(rows)


def _params_text(r) -> str:
    text = ", ".join(f"{short} {float(r[p]):g}" for p, short in zip(PARAMS, ("λ over", "λ under", "θ queue"), strict=True))
    ties, n = int(r["grid_ties"]), int(r["grid_points"])
    if n and ties >= n:
        return f"{text} (all {n} tie)"
    return f"{text} ({ties} of {n} tie)" if ties > 1 else text


def cheapest_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Per (mode, layer): which strategy paid the least in total (USD, clean-up included), by how much it beat
    the runner-up (bps of the runner-up's cash) and whether Best Ask was the cheapest (``"yes"``, ``"no"``, or
    ``"tie"`` when within :data:`TIE_BPS` of the cheapest)."""
    rows = []
    for m, layer in _ordered(table):
        g = table[(table["mode"] == m) & (table["layer"] == layer)].sort_values("total_cash_usd", kind="stable")
        best, second = g.iloc[0], g.iloc[1]
        margin = (second["total_cash_usd"] - best["total_cash_usd"]) / second["total_cash_usd"] * 1e4
        ba = g[g["strategy"] == "best_ask"]
        if ba.empty:
            verdict = "n/a"
        else:
            gap = (float(ba["total_cash_usd"].iloc[0]) - best["total_cash_usd"]) / float(
                ba["total_cash_usd"].iloc[0]) * 1e4
            verdict = ("yes" if best["strategy"] == "best_ask" and margin > TIE_BPS
                       else "tie" if gap <= TIE_BPS else "no")
        rows.append({"mode": m, "layer": LAYER_LABELS.get(layer, layer), "cheapest": strategy_name(best["strategy"], m),
                     "cheapest shortfall (bps)": best["shortfall_bps"],
                     "runner-up": strategy_name(second["strategy"], m), "margin (bps)": margin,
                     "Best Ask cheapest?": verdict})
    return pd.DataFrame(rows)


def fewer_larger_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Per (mode, layer, baseline): the router's child orders per parent order and mean child size (shares)
    against the baseline's, and whether the router sent fewer *and* larger child orders (``"yes"``/``"no"``);
    the same for the fills they got (clean-up excluded) — a resting child that never fills counts as a child
    but not as a fill, so the two answers can differ (the Cont–Kukanov router over-books its limit orders)."""
    rows = []
    for m, layer in _ordered(table):
        g = table[(table["mode"] == m) & (table["layer"] == layer)].set_index("strategy")
        r = g.loc["router"]
        for b in (x for x in g.index if x != "router"):
            s = g.loc[b]
            fewer = r["children_per_order"] < s["children_per_order"]
            larger = r["mean_child_shares"] > s["mean_child_shares"]
            fewer_f = r["fills_per_order"] < s["fills_per_order"]
            larger_f = r["mean_fill_shares"] > s["mean_fill_shares"]
            rows.append({"mode": m, "layer": LAYER_LABELS.get(layer, layer), "baseline": strategy_label(b),
                         "router children/order": r["children_per_order"],
                         "baseline children/order": s["children_per_order"],
                         "router mean child (shares)": r["mean_child_shares"],
                         "baseline mean child (shares)": s["mean_child_shares"],
                         "fewer, larger?": "yes" if fewer and larger else "no",
                         "router fills/order": r["fills_per_order"], "baseline fills/order": s["fills_per_order"],
                         "router mean fill (shares)": r["mean_fill_shares"],
                         "baseline mean fill (shares)": s["mean_fill_shares"],
                         "fewer, larger fills?": "yes" if fewer_f and larger_f else "no"})
    return pd.DataFrame(rows)


def layer_effects(table: pd.DataFrame, reference: str = "frozen") -> pd.DataFrame:
    """Per (mode, layer): how far the layer moved each strategy's total cash from the ``reference`` layer
    (largest change over the strategies, bps) — 0 means the layer changed nothing in that mode."""
    rows = []
    for m, layer in _ordered(table):
        g = table[(table["mode"] == m) & (table["layer"] == layer)].set_index("strategy")["total_cash_usd"]
        ref = table[(table["mode"] == m) & (table["layer"] == reference)].set_index("strategy")["total_cash_usd"]
        if ref.empty:
            continue
        by = ((g - ref) / ref * 1e4).reindex(g.index)
        rows.append({"mode": m, "layer": LAYER_LABELS.get(layer, layer),
                     "router cost change (bps)": float(by.get("router", math.nan)),
                     "largest baseline cost change (bps)": float(by.drop("router", errors="ignore").abs().max()),
                     "changed anything": bool(np.nanmax(np.abs(by.to_numpy())) > 0)})
    return pd.DataFrame(rows)


def claims_text(table: pd.DataFrame) -> str:
    """The two claims of the task's seeds, checked on ``table`` in plain lines: "Best Ask achieves the lowest
    total cost" (per mode and layer: the cheapest strategy, and the verdict) and "the router favours fewer,
    larger trades" (per mode and layer: against how many baselines it sent fewer and larger child orders)."""
    ch = cheapest_frame(table)
    fl = fewer_larger_frame(table)
    lines = ['Claim 1, "Best Ask achieves the lowest total cost" (total cash incl. clean-up):']
    for _, r in ch.iterrows():
        lines.append(f"  {r['mode']:8s} {r['layer']:22s} cheapest {r['cheapest']} by {r['margin (bps)']:.2f} bps "
                     f"over {r['runner-up']}; Best Ask cheapest: {r['Best Ask cheapest?']}")
    n_yes = int((ch["Best Ask cheapest?"] == "yes").sum())
    lines.append(f"  -> Best Ask is strictly cheapest in {n_yes} of {len(ch)} (mode, layer) cases.")
    lines.append('Claim 2, "the router favours fewer, larger trades" (child orders; clean-up excluded):')
    n_all = 0
    for (m, layer), g in fl.groupby(["mode", "layer"], sort=False):
        r = g.iloc[0]
        yes = list(g.loc[g["fewer, larger?"] == "yes", "baseline"])
        n_all += len(yes) == len(g)
        others = ", ".join(f"{b['baseline']} {b['baseline children/order']:.1f} x {b['baseline mean child (shares)']:.0f} sh"
                           for _, b in g.iterrows())
        lines.append(f"  {m:8s} {layer:22s} router {r['router children/order']:.1f} children/order x "
                     f"{r['router mean child (shares)']:.0f} sh vs {others}; fewer and larger than "
                     f"{', '.join(yes) if yes else 'none'}")
    n_fills = int(fl.groupby(["mode", "layer"], sort=False)["fewer, larger fills?"]
                  .apply(lambda v: bool((v == "yes").all())).sum())
    lines.append(f"  -> fewer and larger child orders than every baseline in {n_all} of {len(ch)} (mode, layer) "
                 f"cases; fewer and larger fills in {n_fills} of {len(ch)}.")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------- committed results
#: The committed real-day ladder (``benchmarks/fill_realism_real.py`` writes it).
RESULTS_FILE = "benchmarks/results/fill_realism_ibm.json"
#: The command that regenerates :data:`RESULTS_FILE` (from the repository's root).
REGENERATE = ("SORLIB_REAL_DATA=../shared/data/real .venv/bin/python benchmarks/fill_realism_real.py "
              f"--out {RESULTS_FILE}")


def committed_results_path() -> Path:
    """Where the committed real-day ladder lives in this checkout (it may be absent, e.g. when sorlib is
    installed without its repository)."""
    return Path(__file__).resolve().parents[1] / RESULTS_FILE


def ladder_document(ladder: Ladder, data: dict, command: str = REGENERATE, seconds: float | None = None) -> dict:
    """The JSON document of a ladder (derived results only: the table, the config, what data it ran on)."""
    return {"what": "sorlib realism ladder (notebook 05)", "command": command, "data": data,
            "config": ladder.config, "seconds": seconds, "columns": list(COLUMNS), "table": _records(ladder.table)}


def _records(table: pd.DataFrame) -> list[dict]:
    """The table's rows as plain dicts, NaN as None (strict JSON)."""
    return table.astype(object).where(table.notna(), None).to_dict(orient="records")


def load_ladder_json(path: str | Path | None = None) -> tuple[pd.DataFrame, dict]:
    """The table and the metadata (``data``, ``config``, ``command``, ``seconds``) of a ladder JSON written by
    ``benchmarks/fill_realism_real.py`` (default: :func:`committed_results_path`)."""
    p = Path(path) if path not in (None, "", "None") else committed_results_path()
    if not p.is_file():
        raise ConfigError(f"{p}: no such ladder JSON; regenerate it with: {REGENERATE}")
    doc = json.loads(p.read_text())
    table = pd.DataFrame(doc["table"], columns=doc.get("columns") or list(COLUMNS))
    num = [c for c in COLUMNS if c not in ("mode", "layer", "layer_label", "market", "market_model", "strategy")]
    table[num] = table[num].apply(pd.to_numeric)
    for c in ("orders", "cost_rank", "grid_ties", "grid_points"):
        table[c] = table[c].astype(int)
    meta = {k: v for k, v in doc.items() if k not in ("table", "columns")}
    return table, meta


def committed_ladder(path: str | Path | None = None) -> tuple[pd.DataFrame | None, dict]:
    """:func:`load_ladder_json`, or ``(None, {"missing": why})`` when the file is absent (a page then says how
    to regenerate it instead of failing)."""
    try:
        return load_ladder_json(path)
    except ConfigError as e:
        return None, {"missing": str(e), "command": REGENERATE}


def describe_run(meta: dict) -> str:
    """One paragraph on where a ladder JSON came from: the data, the session, the orders and the command."""
    if meta.get("missing"):
        return meta["missing"]
    d, c = meta.get("data") or {}, meta.get("config") or {}
    secs = meta.get("seconds")
    return (f"{d.get('symbol') or '?'} on {d.get('date') or '?'} ({d.get('file')}, {d.get('format')}; "
            f"{len(d.get('venues') or [])} venues, {int(d.get('quote_rows') or 0):,} quote rows, "
            f"{int(d.get('trades') or 0):,} trades after the regular-hours cut). Session: {d.get('session') or '?'} "
            f"Parent orders: {int(c.get('order_size') or 0):,} shares every {c.get('every_minutes')} minutes, "
            f"{c.get('horizon_minutes')} minutes each; grid {c.get('grid')!s}; modes {', '.join(c.get('modes') or [])}"
            + (f"; computed in {secs:.0f} s" if isinstance(secs, int | float) else "")
            + f". Regenerate with: {meta.get('command')}")
