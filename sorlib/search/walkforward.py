"""Walk-forward validation: choose parameters on past parent orders, score them on the next block.

Parent orders (of all days) are put in time order and cut into ``K + 1`` contiguous blocks (or, with
``by="day"``, one block per day). Fold ``k = 1..K`` tests on block ``k`` and trains on the blocks before
it — all of them (``window=None``, expanding) or the last ``window`` (rolling). The parameters chosen
on a fold are the grid point with the least total router cost ($: cash, plus unfilled shares at the
deadline mid, :mod:`sorlib.metrics`) over the fold's train orders (the first in grid order on ties); they are computed from the train columns alone, so nothing of a test
order can move them (``tests/test_search_walkforward.py`` perturbs test data to check this).

``purge=True`` (default) also drops train orders still running when the test block starts
(``deadline > first test arrival``): their outcome was not known then.

Savings (bps, positive = the router did better for the orders' side) are pooled ``(Σ cost_B − Σ cost_A)/Σ|cost_B|·10⁴``
with a seeded percentile bootstrap interval of the per-order mean (as :func:`sorlib.metrics.savings_bps`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ..backtest import PARAMS
from ..errors import ConfigError
from ..metrics import denoise, interval_decimals
from ..metrics import savings_from_cash as savings
from .space import point_edges

__all__ = ["CostMatrix", "FoldResult", "WalkForwardResult", "choose_point", "savings", "split_folds",
           "committed_verdict", "verdict_frame", "walk_forward"]


@dataclass(frozen=True)
class CostMatrix:
    """Per-order cost ($, :mod:`sorlib.metrics`: cash + unfilled shares at the deadline mid) of every grid point
    and every baseline, orders in time order.

    ``orders``: ``day, order_id, arrival_ns, deadline_ns`` (N rows); ``points``: ``point, group`` and the
    parameters (P rows, grid order); ``router``: ``(P, N)``; ``baselines``: name → ``(N,)``.
    """

    orders: pd.DataFrame
    points: pd.DataFrame
    router: np.ndarray
    baselines: dict[str, np.ndarray]

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> CostMatrix:
        """From a search results table (one row per strategy/point and parent order)."""
        strategy = table["strategy"].to_numpy()
        day, oid = table["day"].to_numpy(np.int64), table["order_id"].to_numpy(np.int64)
        arrival = table["arrival_ns"].to_numpy(np.int64)
        cash = table["cost" if "cost" in table else "total_cash"].to_numpy(np.float64)  # older tables: cash
        # one column per distinct (day, order), in time order
        span = int(oid.max()) - int(oid.min()) + 1 if oid.size else 1
        _, first, inverse = np.unique(day * span + (oid - (oid.min() if oid.size else 0)), return_index=True,
                                      return_inverse=True)
        by_time = np.lexsort((oid[first], day[first], arrival[first]))
        col = np.empty(by_time.size, np.int64)
        col[by_time] = np.arange(by_time.size)
        col = col[inverse]
        orders = (table[["day", "order_id", "arrival_ns", "deadline_ns"]].iloc[first[by_time]]
                  .reset_index(drop=True))
        r = strategy == "router"
        pts, pfirst, prow = np.unique(table["point"].to_numpy(np.int64)[r], return_index=True, return_inverse=True)
        router = np.full((pts.size, by_time.size), np.nan)
        router[prow, col[r]] = cash[r]
        if np.isnan(router).any() or int(r.sum()) != router.size:
            raise ValueError("the table lacks or repeats the router's cash for some (point, order)")
        pcols = ["point", "group", *PARAMS] if "group" in table else ["point", *PARAMS]
        points = table[pcols].iloc[np.flatnonzero(r)[pfirst]].reset_index(drop=True)
        base = {}
        for name in pd.unique(strategy[~r]):
            m = strategy == name
            v = np.full(by_time.size, np.nan)
            v[col[m]] = cash[m]
            base[str(name)] = v
        return cls(orders, points, router, base)

    def params(self, i: int) -> dict[str, float]:
        return {p: float(self.points[p].iloc[i]) for p in PARAMS}


def _totals(cash: np.ndarray) -> np.ndarray:
    """Exact total $ per row (``math.fsum``)."""
    return np.array([math.fsum(row) for row in np.asarray(cash, float)])


def choose_point(train_cash: np.ndarray) -> int:
    """Index of the row with the least total cash over the given (train) columns; first on ties."""
    train_cash = np.asarray(train_cash, float)
    if train_cash.ndim != 2 or train_cash.shape[0] == 0 or train_cash.shape[1] == 0:
        raise ValueError("choosing parameters needs at least one point and one train order")
    totals = np.array([math.fsum(row) for row in train_cash])  # exact: independent of summation order
    return int(np.argmin(totals))


def split_folds(orders: pd.DataFrame, folds: int, window: int | None = None, by: str = "order",
                purge: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(train_idx, test_idx), …]`` positions into ``orders`` (time-ordered), one pair per fold."""
    return [(train, test) for train, test, _ in _splits(orders, folds, window, by, purge)]


def _splits(orders: pd.DataFrame, folds: int, window: int | None, by: str, purge: bool):
    n = len(orders)
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 1:
        raise ConfigError(f"--folds must be a whole number >= 1, got {folds!r}")
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 1):
        raise ConfigError(f"walk-forward window must be >= 1 block (or None for expanding), got {window!r}")
    if by == "order":
        if n < folds + 1:
            raise ConfigError(f"{folds} folds need at least {folds + 1} parent orders, have {n}; "
                              "use fewer folds or a smaller --every")
        blocks = np.array_split(np.arange(n), folds + 1)
    elif by == "day":
        days = pd.unique(orders["day"])
        if len(days) < folds + 1:
            raise ConfigError(f"{folds} day folds need at least {folds + 1} days, have {len(days)}; "
                              "pass more DATA files or split by order")
        per_day = [np.flatnonzero(orders["day"].to_numpy() == d) for d in days]
        groups = np.array_split(np.arange(len(per_day)), folds + 1)
        blocks = [np.sort(np.concatenate([per_day[d] for d in g])) for g in groups]
    else:
        raise ConfigError(f"walk-forward split must be by 'order' or 'day', got {by!r}")
    arrival = orders["arrival_ns"].to_numpy()
    deadline = orders["deadline_ns"].to_numpy()
    out = []
    for k in range(1, folds + 1):
        first = 0 if window is None else max(0, k - window)
        full = np.concatenate(blocks[first:k])
        test = blocks[k]
        train = full[deadline[full] <= arrival[test].min()] if purge else full
        if train.size == 0:
            raise ConfigError(f"fold {k} has no completed train order; use fewer folds or a longer window")
        out.append((train, test, int(full.size - train.size)))
    return out


@dataclass
class FoldResult:
    """One fold: its orders, the parameters chosen on train, and their savings in and out of sample."""

    fold: int
    train_orders: int
    test_orders: int
    purged: int
    train_span_ns: tuple[int, int]
    test_span_ns: tuple[int, int]
    point: int
    params: dict[str, float]
    in_sample: dict[str, dict]
    out_of_sample: dict[str, dict]
    #: edges of the grid on which the chosen point lies, along axes that can matter
    #: (:func:`~.space.point_edges`: ``[{"parameter", "side", "value"}]``)
    edges: list[dict] = field(default_factory=list)


@dataclass
class WalkForwardResult:
    """Every fold, and the test blocks pooled (each order priced with its own fold's choice)."""

    folds: list[FoldResult]
    out_of_sample: dict[str, dict]
    in_sample: dict[str, dict]
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def frame(self) -> pd.DataFrame:
        """One row per fold: chosen parameters and out-of-sample bps vs each baseline."""
        rows = []
        for f in self.folds:
            row = {"fold": f.fold, "train_orders": f.train_orders, "test_orders": f.test_orders,
                   "point": f.point, **f.params}
            for b, s in f.out_of_sample.items():
                row[f"oos_bps_{b}"] = s["bps"]
            for b, s in f.in_sample.items():
                row[f"is_bps_{b}"] = s["bps"]
            rows.append(row)
        return pd.DataFrame(rows)


def walk_forward(cm: CostMatrix, folds: int = 4, window: int | None = None, by: str = "order",
                 purge: bool = True, seed: int = 0) -> WalkForwardResult:
    """Walk-forward validation over a :class:`CostMatrix` (see module docstring)."""
    splits = _splits(cm.orders, folds, window, by, purge)
    arrival = cm.orders["arrival_ns"].to_numpy()
    results, oos_cash, oos_idx, is_cash, is_idx = [], [], [], [], []
    for k, (train, test, purged) in enumerate(splits, start=1):
        i = choose_point(cm.router[:, train])  # train columns only: no test order can move this
        results.append(FoldResult(
            fold=k, train_orders=int(train.size), test_orders=int(test.size),
            purged=purged,
            train_span_ns=(int(arrival[train].min()), int(arrival[train].max())),
            test_span_ns=(int(arrival[test].min()), int(arrival[test].max())),
            point=int(cm.points["point"].iloc[i]), params=cm.params(i),
            in_sample={b: savings(cm.router[i, train], c[train], seed) for b, c in cm.baselines.items()},
            out_of_sample={b: savings(cm.router[i, test], c[test], seed) for b, c in cm.baselines.items()},
            edges=point_edges(cm.points, i, _totals(cm.router[:, train])) if "group" in cm.points else []))
        oos_cash.append(cm.router[i, test])
        oos_idx.append(test)
        is_cash.append(cm.router[i, train])
        is_idx.append(train)
    oc, oi = np.concatenate(oos_cash), np.concatenate(oos_idx)
    ic, ii = np.concatenate(is_cash), np.concatenate(is_idx)
    return WalkForwardResult(
        folds=results,
        out_of_sample={b: savings(oc, c[oi], seed) for b, c in cm.baselines.items()},
        in_sample={b: savings(ic, c[ii], seed) for b, c in cm.baselines.items()},
        settings={"folds": folds, "window": window, "by": by, "purge": purge, "seed": seed})



def verdict_frame(records: list[dict], baselines: tuple[str, ...] = ("best_ask", "twap", "vwap")) -> pd.DataFrame:
    """In-sample and out-of-sample savings of walk-forward searches as one table of text cells.

    ``records``: one dict per search with ``data``, ``mode``, ``market``, ``parent_orders``, ``in_sample`` and
    ``out_of_sample`` (baseline → :func:`savings` dict), as ``benchmarks/real_verdict.py`` writes them. A cell
    reads ``+1.84 [+0.40, +3.25] (n=104)``: bps saved against the baseline (positive = the router paid less),
    the 95% bootstrap interval (more decimals when an end is near zero: ``[-0.074, -0.004]``, see
    :func:`sorlib.metrics.interval_decimals`) and the number of parent orders.
    """
    def cell(s: dict) -> str:
        lo, hi = (s.get("ci95") or [None, None])[:2]
        ci = ""
        if lo is not None and hi is not None and np.isfinite([lo, hi]).all():
            lo, hi = denoise(lo), denoise(hi)  # ~1e-12 bps between identical routes is noise: 0
            d = interval_decimals(lo, hi)  # enough decimals that the printed ends keep their signs
            ci = f" [{lo:+.{d}f}, {hi:+.{d}f}]"
        return f"{denoise(s['bps']):+.2f}{ci} (n={s['orders']})"

    names = {"best_ask": "Best Ask", "twap": "TWAP", "vwap": "VWAP"}
    rows = []
    for r in records:
        row = {"data": r["data"], "mode": r["mode"], "market": r["market"], "orders": r["parent_orders"]}
        for tag, key in (("IS", "in_sample"), ("OOS", "out_of_sample")):
            for b in baselines:
                row[f"{tag} vs {names.get(b, b)} (bps)"] = cell(r[key][b])
        rows.append(row)
    return pd.DataFrame(rows)


def committed_verdict(market: str = "realistic") -> pd.DataFrame | None:
    """The walk-forward verdict on the real samples that ``benchmarks/real_verdict.py --market MARKET`` wrote
    to ``benchmarks/results/real_verdict_MARKET.json`` in this repository (a :func:`verdict_frame`), or None
    when the file is not there (an installed package without the repository)."""
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / f"real_verdict_{market}.json"
    if not path.is_file():
        return None
    return verdict_frame(json.loads(path.read_text()))
