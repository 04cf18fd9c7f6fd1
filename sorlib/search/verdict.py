"""The robustness verdict: the walk-forward verdict under every assumption variant, as one table.

For each :class:`~.variants.Variant` (a market-model spec) :func:`run_verdict` runs :func:`~.run.run_search`
with walk-forward folds — as ``benchmarks/real_verdict.py`` does — and keeps, per baseline (Best Ask, TWAP,
VWAP), the out-of-sample saving (each test block priced with the point chosen on its training blocks) and
the in-sample one (the best grid point on all orders), in bps with the seeded bootstrap 95% interval and the
number of orders; the chosen parameters; the grid edges the choices lie on (:func:`~.space.point_edges`);
and the router's clean-up share (shares bought by the deadline clean-up / shares ordered, in sample and out
of sample). Variants that build the same market model are replayed once (``same_model_as`` names the
first). One pool of workers and one task store serve every variant.

Sign: a saving is (baseline's cash − router's cash) / baseline's cash × 10⁴ bps on the same parent orders;
positive = the router paid less. :func:`summary_lines` turns the table into one sentence per baseline,
from the unrounded numbers.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from .._io import atomic_write_bytes, atomic_write_json, check_output_dir
from ..backtest import PARAMS, BacktestConfig
from ..errors import ConfigError
from ..metrics import CLEANUP_DOMINATED, strategy_label
from .executors import Executor, make_executor
from .run import BASELINES, SearchResult, all_edges, run_search
from .variants import Variant, distinct_models, select_variants
from .walkforward import split_folds

__all__ = ["DEFAULT_CONFIG", "VerdictResult", "cleanup_shares", "committed_robustness", "load_verdict", "run_verdict", "summary_lines",
           "verdict_row"]

#: the real-data verdict's parent orders (benchmarks/real_verdict.py): 5,000 shares every 15 min, 10 min each
DEFAULT_CONFIG = BacktestConfig(order_size=5000, every_minutes=15.0, horizon_minutes=10.0)


@dataclass
class VerdictResult:
    """``table``: one row per variant (:func:`verdict_row` columns); ``lines``: baseline → sentence
    (:func:`summary_lines`); ``skipped``: variants this build cannot make, with why; ``settings``."""

    table: pd.DataFrame
    lines: dict[str, str]
    skipped: list[dict] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    records: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"settings": self.settings, "lines": self.lines, "skipped": self.skipped, "variants": self.records}


def cleanup_shares(res: SearchResult) -> dict[str, float]:
    """The router's clean-up share (clean-up shares / shares ordered, a fraction): ``in_sample`` for the best
    grid point on all orders, ``out_of_sample`` over the test blocks, each priced with its fold's choice."""
    t = res.table[res.table["strategy"] == "router"]
    best = t[t["point"] == res.summary["best_point"]]
    out = {"in_sample": _share(best)}
    wf = res.walkforward
    if wf is not None and res.costs is not None:
        s = wf.settings
        splits = split_folds(res.costs.orders, s["folds"], s["window"], s["by"], s["purge"])
        parts = []
        for f, (_, test) in zip(wf.folds, splits, strict=True):
            keys = res.costs.orders.iloc[test][["day", "order_id"]]
            parts.append(t[t["point"] == f.point].merge(keys, on=["day", "order_id"]))
        out["out_of_sample"] = _share(pd.concat(parts)) if parts else math.nan
    return out


def _share(rows: pd.DataFrame) -> float:
    ordered = float(rows["size"].sum())
    return float(rows["cleanup_shares"].sum()) / ordered if ordered > 0 else math.nan


def verdict_row(variant: Variant, res: SearchResult, seconds: float, same_as: str | None = None) -> dict:
    """One variant's record: savings out of/in sample per baseline, parameters, edges, clean-up share."""
    wf = res.walkforward
    shares = cleanup_shares(res)
    oos_share = shares.get("out_of_sample", shares["in_sample"])
    return {
        "variant": variant.name, "group": variant.group, "description": variant.description,
        "market": variant.market, "same_model_as": same_as, "mode": res.summary["config"]["mode"],
        "parent_orders": res.summary["parent_orders"], "seconds": round(seconds, 1),
        "out_of_sample": wf.out_of_sample if wf is not None else {},
        "in_sample": res.summary["savings_intervals"],
        "best_parameters": res.summary["best_parameters"],
        "fold_parameters": [f.params for f in wf.folds] if wf is not None else [],
        "edges": all_edges(res), "grid_extension": res.summary.get("grid_extension"),
        "cleanup_share": shares,
        "verdict_withheld": bool(math.isfinite(oos_share) and oos_share > CLEANUP_DOMINATED),
        "tasks": {"executed": int(res.stats.get("executed", 0)), "reused": int(res.stats.get("reused", 0))},
    }


def canonical_market(model, fallback: str) -> dict:
    """The market spec a variant's replays run under: the model itself (``dataclasses.asdict``), named after the
    preset it equals (names ignored) or else ``fallback`` — so the task store's keys depend on the model, not
    on how a variant spells it (``{"preset": "realistic"}`` and the realistic queue spelled out share replays)."""
    from dataclasses import asdict

    from ..sim.model import MARKET_PRESETS, MarketModel

    name = next((p for p in MARKET_PRESETS if replace(MarketModel.preset(p), name="-") == replace(model, name="-")),
                fallback)
    return asdict(replace(model, name=name))


def _flat(rec: dict) -> dict:
    """A record as one CSV/DataFrame row (bps, interval ends, orders per baseline; edges as text)."""
    row: dict[str, Any] = {k: rec[k] for k in ("variant", "group", "description", "same_model_as", "mode",
                                               "parent_orders")}
    for tag, key in (("oos", "out_of_sample"), ("is", "in_sample")):
        for b in BASELINES:
            s = rec[key].get(b) or {}
            lo, hi = (s.get("ci95") or [math.nan, math.nan])[:2]
            row.update({f"{tag}_bps_{b}": s.get("bps", math.nan), f"{tag}_lo_{b}": lo, f"{tag}_hi_{b}": hi,
                        f"{tag}_n_{b}": s.get("orders", 0)})
    row.update({p: rec["best_parameters"].get(p, math.nan) for p in PARAMS})
    row["fold_parameters"] = json.dumps(rec["fold_parameters"])
    row["edges"] = "; ".join(f"{e['choice']}: {e['parameter']} {e['side']} {e['value']:g}" for e in rec["edges"])
    row["n_edges"] = len(rec["edges"])  # (choice, parameter) pairs on an edge
    row["choices_on_edge"] = len({e["choice"] for e in rec["edges"]})  # of 1 (in-sample) + one per fold
    row["choices"] = 1 + len(rec["fold_parameters"])
    row["cleanup_share_is"] = rec["cleanup_share"].get("in_sample", math.nan)
    row["cleanup_share_oos"] = rec["cleanup_share"].get("out_of_sample", math.nan)
    row["verdict_withheld"] = rec["verdict_withheld"]
    row["seconds"] = rec["seconds"]
    return row


def _who(mode: str) -> str:
    return "CK" if mode == "ck" else f"The router ({mode} mode)"


def summary_lines(table: pd.DataFrame, mode: str = "ck", baselines: tuple[str, ...] = BASELINES) -> dict[str, str]:
    """One sentence per baseline over the variants, from the unrounded out-of-sample numbers.

    Counted: distinct market models (rows whose ``same_model_as`` is empty) with a finite saving and a verdict
    (``verdict_withheld`` false). *Cheaper* = saving > 0, *dearer* < 0, *level* = 0; the interval *excludes
    zero* when both ends are > 0 or both < 0. E.g. *"CK is cheaper than Best Ask out of sample in 9 of 12
    distinct variants (dearer in 3); the 95% interval excludes zero in 4 (4 cheaper, 0 dearer)."*"""
    t = table[table["same_model_as"].isna()] if "same_model_as" in table else table
    withheld = t[t["verdict_withheld"].astype(bool)]
    t = t[~t["verdict_withheld"].astype(bool)]
    out = {}
    for b in baselines:
        bps = t[f"oos_bps_{b}"].astype(float)
        lo, hi = t[f"oos_lo_{b}"].astype(float), t[f"oos_hi_{b}"].astype(float)
        ok = bps.map(math.isfinite)
        n = int(ok.sum())
        label = strategy_label(b)
        if n == 0:
            text = f"No variant gives an out-of-sample saving against {label}."
        else:
            cheaper, dearer = int((bps[ok] > 0).sum()), int((bps[ok] < 0).sum())
            level = n - cheaper - dearer
            ex_c = int(((lo > 0) & ok).sum())
            ex_d = int(((hi < 0) & ok).sum())
            other = [f"dearer in {dearer}"] if dearer else []
            other += [f"level in {level}"] if level else []
            text = (f"{_who(mode)} is cheaper than {label} out of sample in {cheaper} of {n} distinct "
                    f"variant{'' if n == 1 else 's'}" + (f" ({', '.join(other)})" if other else "")
                    + f"; the 95% interval excludes zero in {ex_c + ex_d}"
                    + (f" ({ex_c} cheaper, {ex_d} dearer)" if ex_c + ex_d else "") + ".")
        if len(withheld):
            w = len(withheld)
            text += (f" {w} variant{' gives' if w == 1 else 's give'} no verdict (more than "
                     f"{100 * CLEANUP_DOMINATED:g}% of the router's shares bought by the deadline clean-up: "
                     f"{', '.join(withheld['variant'])}).")
        out[b] = text
    return out


def run_verdict(data: Any = None, *, mode: str = "ck", variants: str | list[str] | None = "all",
                config: BacktestConfig | None = None, grid: Any = "penalty", folds: int = 4, fold_by: str = "day",
                window: int | None = None, extend_grid: bool = False, scheduler: str | Executor = "processes",
                workers: int | None = None, store: str | Path | None = None, out: str | Path | None = None,
                progress: bool | str = False, seed: int = 0, fmt: str = "auto", regular_hours: bool = True,
                venues: str | None = None, symbol: str | None = None, chunk_orders: int = 8,
                log=None) -> VerdictResult:
    """The walk-forward verdict under each variant (module docstring).

    Args:
        data: as :func:`~.run.run_search` (None: the synthetic day; paths: one day each).
        mode: router mode (``ck``, ``uncapped``, ``spec``); config: the parent orders and everything else
            (default :data:`DEFAULT_CONFIG`; its ``market`` is replaced by each variant's).
        variants: ``"all"``, comma-separated names or a list (:func:`~.variants.select_variants`).
        folds/fold_by/window/extend_grid/grid: the search of each variant (:func:`~.run.run_search`).
        out: write ``robustness.json`` and ``robustness.csv`` there (and the task store, unless ``store``).
        log: called with one progress line per variant (e.g. ``print``).
    """
    chosen = select_variants(variants)
    if out is not None:
        check_output_dir(out, "--out")
    base = replace(config or DEFAULT_CONFIG, mode=mode)
    base.validate()
    skipped = [{"variant": v.name, "reason": why} for v in chosen if (why := v.unavailable()) is not None]
    groups = distinct_models(chosen)
    if not groups:
        raise ConfigError("no variant can be built here: " + "; ".join(f"{s['variant']}: {s['reason']}"
                                                                        for s in skipped))
    store_dir = store if store is not None else (Path(out) / "store" if out is not None else None)
    owned = not isinstance(scheduler, Executor)
    ex = make_executor(scheduler, workers) if owned else scheduler
    records: list[dict] = []
    described: dict = {}
    t0 = time.perf_counter()
    with ex if owned else contextlib.nullcontext(ex):
        for model, members in groups:
            first = members[0]
            cfg = replace(base, market=canonical_market(model, first.name))
            t = time.perf_counter()
            res = run_search(data, grid=grid, config=cfg, folds=folds, window=window, fold_by=fold_by,
                             scheduler=ex, store=store_dir, chunk_orders=chunk_orders, progress=progress,
                             seed=seed, fmt=fmt, regular_hours=regular_hours, venues=venues, symbol=symbol,
                             extend_grid=extend_grid)
            secs = time.perf_counter() - t
            described = described or res.summary.get("data", {})
            for v in members:
                records.append(verdict_row(v, res, secs, None if v is first else first.name))
            if log is not None:
                log(f"verdict: {', '.join(v.name for v in members)}: {secs:.1f} s")
    order = {v.name: i for i, v in enumerate(chosen)}
    records.sort(key=lambda r: order[r["variant"]])
    table = pd.DataFrame([_flat(r) for r in records])
    settings = {"mode": mode, "folds": folds, "fold_by": fold_by, "window": window, "extend_grid": extend_grid,
                "grid": grid if isinstance(grid, str | dict) else str(grid), "seed": seed,
                "config": {k: v for k, v in vars(base).items() if k not in ("market", "extra")},
                "cleanup_threshold": CLEANUP_DOMINATED, "seconds": round(time.perf_counter() - t0, 1),
                "distinct_models": len(groups), "data": described,
                "sign": "saving = (baseline cash - router cash) / baseline cash x 1e4 bps; positive = router cheaper"}
    result = VerdictResult(table, summary_lines(table, mode), skipped, settings, records)
    if out is not None:
        write_verdict(result, out)
    return result


def write_verdict(result: VerdictResult, out: str | Path) -> dict[str, Path]:
    """``robustness.json`` (settings, lines, skipped variants, every record) and ``robustness.csv`` (the
    table), each written atomically."""
    out = Path(out)
    buf = io.StringIO()
    result.table.to_csv(buf, index=False)
    return {"csv": atomic_write_bytes(out / "robustness.csv", buf.getvalue().encode()),
            "json": atomic_write_json(out / "robustness.json", result.to_dict())}


def load_verdict(path: str | Path) -> VerdictResult:
    """A :class:`VerdictResult` from a ``robustness*.json`` written by :func:`write_verdict`."""
    doc = json.loads(Path(path).read_text())
    table = pd.DataFrame([_flat(r) for r in doc["variants"]])
    return VerdictResult(table, summary_lines(table, doc["settings"]["mode"]),  # always from the numbers
                         doc.get("skipped", []), doc["settings"], doc["variants"])


def committed_robustness(name: str | None = None) -> tuple[Path, VerdictResult] | None:
    """The robustness verdict committed in this repository: ``benchmarks/results/robustness_NAME.json`` (the
    first in name order when ``name`` is None), written by ``sorlib verdict … --out DIR`` on the real
    samples and copied there; None when there is none (an installed package without the repository)."""
    folder = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
    paths = [folder / f"robustness_{name}.json"] if name else sorted(folder.glob("robustness_*.json"))
    paths = [p for p in paths if p.is_file()]
    return (paths[0], load_verdict(paths[0])) if paths else None
