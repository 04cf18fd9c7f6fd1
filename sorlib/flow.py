"""Your own order flow: the desk's orders file over market data of one or several symbols and days, each
strategy's replay per order, savings per symbol and in total, and optionally the desk's real fills beside them.

:func:`run_flow` (what ``sorlib backtest DATA --orders FILE [--executions FILE]`` runs):

1. DATA is a market-data file, a folder of them (every regular file not starting with ``.`` and not a
   ``.md``/``.txt``/``.json``/``.toml``/``.py``/``.ipynb``/``.html``/``.png`` file), or in-memory days
   (``MarketData`` objects). Each file holds **one symbol on one day** (:func:`sorlib.data.load`); a day's
   span is its first to its last quote record (+ 1 ns) after the regular-hours filter.
2. Each order goes to the day of its symbol whose span holds its arrival. The ``symbol`` column may be
   left out only when every day has the same symbol. An unknown symbol, or an arrival outside every day of
   its symbol, is a :class:`~sorlib.errors.DataError` naming the order id and its file line. A deadline past
   the day's last record is capped there (as the fixed schedule's).
3. Per day, :func:`sorlib.backtest.run_backtest` replays the router (over the grid) and the baselines on
   that day's orders (:class:`~sorlib.strategies.ParentOrder`, side and limit price kept), one task per day
   on the search executors (:mod:`sorlib.search.executors`: processes by default, serial, or Dask).
4. The rows are combined: one per order and strategy (:data:`ROW_COLUMNS`), and the savings of the router
   against each baseline per symbol and in total.

**Saving** of the router against a baseline: the backtest's own (:func:`sorlib.metrics.savings_from_cash`, the
one definition, stated in :mod:`sorlib.metrics`) over the orders: per order ``(cost_B − cost_A) / |cost_B| ·
10⁴`` bps with cost = side × Σ price·qty + Σ fee·qty + side × unfilled × P_end (unfilled shares at the
deadline mid), so cost_B − cost_A is the difference of the implementation shortfalls of
:func:`sorlib.tca.order_costs`. Positive = the router did better for the order's side. Pooled over orders:
Σ Δcost ÷ Σ |cost_B|; the interval is the seeded bootstrap of the per-order values, drawn in orders-file
order. Per symbol-day it is exactly the saving :func:`~sorlib.backtest.run_backtest` reports for that day.

With executions (:mod:`sorlib.data.executions`) the real fills become the strategy ``real``
(:mod:`sorlib.tca_executions`): same IS and markouts, each strategy's saving against them, and the caveat
figure (the real fills' share of the tape's volume over each order's window).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .backtest import BacktestConfig, run_backtest
from .data.executions import ExecutionsTable, read_executions
from .data.market import MarketData
from .data.orders import OrdersTable, read_orders
from .errors import ConfigError, DataError
from .metrics import order_columns, savings_from_cash, strategy_label
from .search.executors import DataSpec, make_executor, worker_books
from .strategies.view import ParentOrder
from .tca_executions import CAVEAT, real_execution, real_tca, versus_real

__all__ = ["BASELINES", "ROW_COLUMNS", "Day", "FlowResult", "assign_orders", "data_files", "example_pair",
           "run_flow", "scan_days"]

BASELINES = ("best_ask", "twap", "vwap")
#: Columns of :attr:`FlowResult.rows` (one row per order and strategy; ``line``: the orders file line, header = 1,
#: or the Parquet record number; ``cost_usd``: side × Σ price·qty + Σ fee·qty, $; ``compared_cost_usd``: that
#: plus side × unfilled × the deadline mid, $, what savings compare (:mod:`sorlib.metrics`); ``shortfall_*``:
#: IS, $ and bps).
ROW_COLUMNS = ("order_id", "line", "symbol", "date", "side", "quantity", "limit_price", "arrival", "deadline",
               "strategy", "filled", "unfilled", "cost_usd", "compared_cost_usd", "arrival_mid", "shortfall_usd",
               "shortfall_bps")
_SKIP = {".md", ".txt", ".json", ".toml", ".py", ".ipynb", ".html", ".png", ".csv#"}


# ------------------------------------------------------------------------------------------------ days
@dataclass(frozen=True)
class Day:
    """One day of one symbol: ``index`` (position in the data), ``symbol``, ``date`` (YYYY-MM-DD, New York),
    ``start_ns`` / ``end_ns`` (first quote record, last + 1 ns; UTC ns) and ``source`` (file or label)."""

    index: int
    symbol: str
    date: str
    start_ns: int
    end_ns: int
    source: str


def data_files(data: str | Path) -> list[Path]:
    """DATA as a list of files: the file itself, or a folder's market-data files (module docstring), sorted."""
    p = Path(data)
    if not p.exists():
        raise DataError("file or folder not found; give a market-data file or a folder of them", path=str(p))
    if not p.is_dir():
        return [p]
    files = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith(".")
                   and f.suffix.lower() not in _SKIP)
    if not files:
        raise DataError("the folder holds no market-data file", path=str(p))
    return files


def _day_of(md: MarketData, index: int, source: str) -> Day:
    ts = md.quotes.ts
    if ts.size == 0:
        raise DataError("no quote records (after the regular-hours filter)", path=source)
    date = pd.Timestamp(int(ts[0]), unit="ns", tz="UTC").tz_convert(md.tz).strftime("%Y-%m-%d")
    return Day(index, str(md.symbol or "?"), date, int(ts.min()), int(ts.max()) + 1, source)


def scan_days(mds: list[MarketData], sources: list[str] | None = None) -> list[Day]:
    """The :class:`Day` of each loaded day; two days of the same symbol and date are an error."""
    days = [_day_of(md, i, (sources or [])[i] if sources else f"day {i + 1}") for i, md in enumerate(mds)]
    seen: dict[tuple[str, str], Day] = {}
    for d in days:
        if (d.symbol, d.date) in seen:
            raise DataError(f"{d.symbol} on {d.date} appears twice (also in {seen[(d.symbol, d.date)].source}); "
                            "give each symbol and day once", path=d.source)
        seen[(d.symbol, d.date)] = d
    return days


def assign_orders(orders: OrdersTable, days: list[Day]) -> dict[int, np.ndarray]:
    """Day index → the rows of ``orders`` it replays (module docstring, step 2); errors name id and line."""
    symbols = sorted({d.symbol for d in days})
    out: dict[int, list[int]] = {}
    for i in range(len(orders)):
        sym = orders.symbol[i]
        where = f"order {orders.order_id[i]!r} ({orders.locate(i)})"
        if sym is None:
            if len(symbols) > 1:
                raise DataError(f"{where}: the data hold several symbols ({', '.join(symbols)}); add a symbol "
                                "column naming each order's instrument")
            sym = symbols[0]
        mine = [d for d in days if d.symbol.upper() == str(sym).upper()]
        if not mine:
            raise DataError(f"{where}: unknown symbol {sym!r}; the data hold {', '.join(symbols)}")
        t = int(orders.time_ns[i])
        hit = [d for d in mine if d.start_ns <= t < d.end_ns]
        if not hit:
            spans = "; ".join(f"{d.date} {_hm(d.start_ns)}-{_hm(d.end_ns)}" for d in mine)
            raise DataError(f"{where}: time {_iso(t)} is outside the data of {sym} ({spans}, UTC); move the order "
                            "inside or add that day's data")
        out.setdefault(hit[0].index, []).append(i)
    return {k: np.array(v, np.int64) for k, v in out.items()}


def _iso(t: int) -> str:
    return pd.Timestamp(int(t), unit="ns", tz="UTC").isoformat()


def _hm(t: int) -> str:
    return pd.Timestamp(int(t), unit="ns", tz="UTC").strftime("%H:%M:%S")


def parent_orders(orders: OrdersTable, rows: np.ndarray, day: Day) -> tuple[list[ParentOrder], np.ndarray]:
    """The :class:`ParentOrder` s of ``rows`` on ``day``, numbered 0, 1, … in arrival order (ties: file order),
    deadlines capped at the day's end; and the orders-file row of each."""
    rows = rows[np.lexsort((rows, orders.time_ns[rows]))]
    out = [ParentOrder(k, int(orders.time_ns[r]), int(min(orders.deadline_ns[r], day.end_ns)),
                       int(orders.quantity[r]), int(orders.side[r]), float(orders.limit_price[r]))
           for k, r in enumerate(rows)]
    return out, rows


# ------------------------------------------------------------------------------------------ one day
def _day_task(spec: DataSpec, day: int, orders: list[ParentOrder], cfg: BacktestConfig,
              real: dict | None, names: list[str]) -> dict:
    """Replay one day's orders (a worker task): results JSON, per-order costs, and the real fills' TCA.
    ``names[k]`` says where order ``k`` comes from: an order the engine refuses (``order k: why``) becomes a
    :class:`DataError` under that name."""
    book = worker_books(spec)[day]
    try:
        res = run_backtest(book, cfg, orders=orders)
    except ConfigError as e:
        m = re.match(r"order (\d+): (.*)", str(e))
        if m is None or int(m.group(1)) >= len(names):
            raise
        raise DataError(f"{names[int(m.group(1))]}: {m.group(2)}") from None
    every = {"router": res.router, **res.baselines}
    costs = pd.DataFrame(res.results["tca"]["orders"])
    cols = {n: order_columns(e, book) for n, e in every.items()}
    out = {"results": res.results, "costs": costs, "cash": {n: (c["total_cash"], c["cost"]) for n, c in cols.items()}}
    if real is not None:
        ex = real_execution(orders, res.router.arrival_mid, **real)
        rt = real_tca(ex, book)
        per = {n: g.drop(columns="strategy") for n, g in costs.groupby("strategy", sort=False)}
        rc = order_columns(ex, book)
        out["real"] = {"costs": rt["costs"], "markouts": rt["markouts"], "versus": versus_real(per, rt["costs"]),
                       "cash": (rc["total_cash"], rc["cost"])}
    return out


# ------------------------------------------------------------------------------------------ the flow
@dataclass
class FlowResult:
    """What :func:`run_flow` produced: ``rows`` (:data:`ROW_COLUMNS`, one per order and strategy, ``real``
    included with executions), ``savings`` (``total`` and ``by_symbol``: baseline → :func:`sorlib.metrics.savings_from_cash`),
    ``real`` (None without executions: ``costs``, ``markouts``, ``versus`` frames and ``savings_vs_real``),
    ``days`` (:class:`Day` s that had orders) and ``results`` (the JSON)."""

    rows: pd.DataFrame
    savings: dict
    real: dict | None
    days: list[Day]
    results: dict

    def headline_results(self) -> dict:
        """A backtest results dict for the page headline (:func:`sorlib.report.show_verdict`): the first
        symbol-day's results (prices, shortfalls, clean-up of that day) with the savings pooled over every order
        (the backtest's definition, module docstring; with one symbol-day the same figures as its results, the
        interval's draws in orders-file order) and ``parent_orders`` by their number."""
        day = dict(self.results["days"][0]["results"])
        day["savings_intervals"] = self.savings["total"]
        day["savings_vs_baselines_bps"] = {b: v["bps"] for b, v in self.savings["total"].items()}
        day["parent_orders"] = int(self.results["orders"])
        return day

    def savings_frame(self) -> pd.DataFrame:
        """The router's savings as a table: ``symbol`` (``all symbols`` first), ``baseline``, ``saving_bps``
        (pooled), ``mean_saving_bps``, ``ci95_lo_bps``, ``ci95_hi_bps``, ``orders``."""
        groups = [("all symbols", self.savings["total"]), *sorted(self.savings["by_symbol"].items())]
        return pd.DataFrame([{"symbol": sym, "baseline": strategy_label(b), "saving_bps": s["bps"], "mean_saving_bps": s["mean_bps"],
                              "ci95_lo_bps": s["ci95"][0], "ci95_hi_bps": s["ci95"][1], "orders": s["orders"]}
                             for sym, d in groups for b, s in d.items()])

    def real_savings_frame(self) -> pd.DataFrame:
        """Each strategy's saving against the real fills (empty without executions): ``strategy``,
        ``saving_vs_real_bps`` (pooled), ``ci95_lo_bps``, ``ci95_hi_bps``, ``orders``."""
        items = (self.real or {}).get("savings_vs_real", {}).items()
        return pd.DataFrame([{"strategy": strategy_label(k), "saving_vs_real_bps": v["bps"], "ci95_lo_bps": v["ci95"][0],
                              "ci95_hi_bps": v["ci95"][1], "orders": v["orders"]} for k, v in items])

    def wide(self) -> pd.DataFrame:
        """One row per order (orders-file order): ``order_id``, ``symbol``, ``side``, ``quantity``,
        ``limit_price``, then ``<strategy> shortfall_bps`` and ``<strategy> unfilled`` per strategy."""
        r = self.rows
        w = r.pivot_table(index=["line", "order_id", "symbol", "side", "quantity"], columns="strategy",
                          values=["shortfall_bps", "unfilled"], aggfunc="first", sort=False)
        w.columns = [f"{'real fills' if s == 'real' else strategy_label(s)} {v}" for v, s in w.columns]
        limits = r.drop_duplicates("order_id").set_index("order_id")["limit_price"]
        w = w.reset_index()
        w.insert(5, "limit_price", w["order_id"].map(limits).to_numpy())
        return w.drop(columns="line")

    def real_markouts(self) -> dict[str, float]:
        """Share-weighted mean markout (bps) of the real fills per horizon (``"1s"``, ``"5s"``, …); {} without."""
        if self.real is None:
            return {}
        m = self.real["markouts"]
        out = {}
        for c in (c for c in m.columns if c.startswith("markout_")):
            ok = m[c].notna().to_numpy()
            w = m["qty"].to_numpy(float)[ok]
            out[c[len("markout_"):-len("_bps")]] = float((m[c].to_numpy(float)[ok] * w).sum() / w.sum()) \
                if w.sum() > 0 else float("nan")
        return out


def run_flow(data, orders: OrdersTable | str | Path, cfg: BacktestConfig | None = None, *,
             executions: ExecutionsTable | str | Path | None = None, fmt: str = "auto",
             regular_hours: bool | str = False, venues_file: str | None = None, scheduler="processes",
             workers: int | None = None) -> FlowResult:
    """Replay the orders file over DATA (a file, a folder, or a list of ``MarketData``); module docstring.

    ``cfg``: the router and market settings (its fixed-schedule fields are not used); ``executions``: the
    desk's real fills; ``regular_hours``: keep 09:30-16:00 New York time (True), everything (False), or
    ``"auto"``: keep it when some day extends beyond it; ``scheduler`` / ``workers``: :func:`sorlib.search.executors.make_executor` (a single
    day runs in this process)."""
    cfg = cfg or BacktestConfig()
    cfg.validate()
    spec, days, venues = _data(data, fmt, regular_hours, venues_file, cfg)
    table = orders if isinstance(orders, OrdersTable) else read_orders(orders)
    by_day = assign_orders(table, days)
    ex_table = None
    if executions is not None:
        ex_table = executions if isinstance(executions, ExecutionsTable) else read_executions(
            executions, table, {k: v[0] for k, v in venues.items()}, {k: v[1:] for k, v in venues.items()})
        _check_fills(ex_table, table)
    tasks, maps = [], []
    for di in sorted(by_day):
        po, rows = parent_orders(table, by_day[di], days[di])
        names = [f"order {table.order_id[r]!r} ({table.locate(int(r))})" for r in rows]
        tasks.append((spec.ref(), di, po, cfg, _real_args(ex_table, rows), names))
        maps.append(rows)
    ex = make_executor("serial" if len(tasks) == 1 else scheduler, workers)
    got: list = [None] * len(tasks)
    with ex:
        ex.start(spec)
        for i, r in ex.imap(_day_task, tasks):
            got[i] = r
    return _combine(table, days, [d for d in sorted(by_day)], maps, got, cfg, ex_table)


def _data(data, fmt: str, regular_hours: bool | str, venues_file: str | None, cfg: BacktestConfig):
    """The executor's data spec, the days, and venue key → (name, taker fee, maker rebate) $/share."""
    from .data import load
    from .venues import VenueTable, apply_fee_regime

    memory = isinstance(data, list | tuple) and data and all(isinstance(d, MarketData) for d in data)
    if memory:
        mds, sources = list(data), [f"day {i + 1} ({d.symbol})" for i, d in enumerate(data)]
    else:
        paths = [q for p in (data if isinstance(data, list | tuple) else [data]) for q in data_files(p)]
        mds, sources = [], [str(p) for p in paths]
        for i, p in enumerate(paths):
            try:
                mds.append(load(p, format=fmt))
            except DataError as e:
                raise DataError(f"DATA file {i + 1} of {len(paths)}: {e}") from None
    if regular_hours == "auto":  # on when some day extends beyond 09:30-16:00 New York (a no-op on the others)
        regular_hours = any(len(md.regular_hours().quotes) < len(md.quotes) for md in mds)
    if regular_hours:
        mds = [md.regular_hours() for md in mds]
    spec = DataSpec.memory(mds, venues_file) if memory else DataSpec.files(paths, fmt, bool(regular_hours),
                                                                           venues_file)
    days = scan_days(mds, sources)
    vt = VenueTable.load(venues_file)
    venues: dict[int, tuple[str, float, float]] = {}
    for md in mds:
        for k in md.venues:
            prof = apply_fee_regime(vt.profile(int(k), md.venue_name(k)), cfg.fee_regime)
            venues.setdefault(int(k), (md.venue_name(k), float(prof.taker_fee), float(prof.maker_rebate)))
    return spec, days, venues


def _check_fills(ex: ExecutionsTable, orders: OrdersTable) -> None:
    early = ex.time_ns < orders.time_ns[ex.order_row]
    if early.any():
        i = int(np.flatnonzero(early)[0])
        o = int(ex.order_row[i])
        raise ex.where.error(f"fill at {_iso(ex.time_ns[i])} is before its order {orders.order_id[o]!r} arrived "
                             f"({_iso(orders.time_ns[o])}, {orders.locate(o)}); fix the time or the order_id",
                             i, "time")
    total = np.zeros(len(orders), np.int64)
    for i, (o, q) in enumerate(zip(ex.order_row, ex.quantity, strict=True)):
        total[o] += q
        if total[o] > orders.quantity[o]:
            raise ex.where.error(f"the fills of order {orders.order_id[o]!r} reach {total[o]:,} shares, more than "
                                 f"its {orders.quantity[o]:,} ({orders.locate(int(o))}); fix the quantities or "
                                 "the order_id", i, "quantity")


def _real_args(ex: ExecutionsTable | None, rows: np.ndarray) -> dict | None:
    """The real fills of a day's orders (``rows``, in ParentOrder id order) as :func:`real_execution` keywords."""
    if ex is None:
        return None
    pid = np.full(int(max(rows.max(initial=0), ex.order_row.max(initial=0))) + 1, -1, np.int64)
    pid[rows] = np.arange(rows.size)
    k = pid[ex.order_row]
    m = k >= 0
    return {"order_id": k[m], "ts": ex.time_ns[m], "venue": ex.venue[m], "qty": ex.quantity[m],
            "price": ex.price[m], "fee": ex.fee[m], "passive": ex.passive[m]}


def _combine(table: OrdersTable, days: list[Day], day_ids: list[int], maps: list, got: list,
             cfg: BacktestConfig, ex: ExecutionsTable | None) -> FlowResult:
    frames, real_costs, real_marks, versus = [], [], [], []
    for di, rows, r in zip(day_ids, maps, got, strict=True):
        d = days[di]
        for name, c in r["costs"].groupby("strategy", sort=False):
            frames.append(_rows(table, rows, d, name, c, r["cash"][name]))
        if "real" in r:
            rc = r["real"]["costs"]
            frames.append(_rows(table, rows, d, "real", rc, r["real"]["cash"]))
            lab = table.order_id[rows]
            real_costs.append(rc.assign(order_id=lab[rc["order_id"]], symbol=d.symbol, date=d.date))
            mk = r["real"]["markouts"]
            real_marks.append(mk.assign(order_id=lab[mk["order_id"].to_numpy(int)], symbol=d.symbol))
            vs = r["real"]["versus"]
            versus.append(vs.assign(order_id=lab[vs["order_id"].to_numpy(int)], symbol=d.symbol))
    rows_df = pd.concat(frames, ignore_index=True)[list(ROW_COLUMNS)]
    rank = {n: i for i, n in enumerate(("router", *BASELINES, "real"))}  # strategies, then orders-file order
    rows_df = rows_df.iloc[np.lexsort((rows_df["line"].to_numpy(), rows_df["strategy"].map(rank).to_numpy()))]
    rows_df = rows_df.reset_index(drop=True)
    savings = _savings(rows_df, "router", BASELINES, cfg.seed)
    real = None
    if ex is not None:
        strategies = ("router", *BASELINES)
        real = {"costs": pd.concat(real_costs, ignore_index=True),
                "markouts": pd.concat(real_marks, ignore_index=True),
                "versus": pd.concat(versus, ignore_index=True),
                "savings_vs_real": {s: _savings(rows_df, s, ("real",), cfg.seed)["total"]["real"]
                                    for s in strategies},
                "caveat": CAVEAT}
    results = _results(table, days, day_ids, got, rows_df, savings, real, ex)
    return FlowResult(rows_df, savings, real, [days[i] for i in day_ids], results)


def _rows(table: OrdersTable, rows: np.ndarray, d: Day, name: str, c: pd.DataFrame, cash: tuple) -> pd.DataFrame:
    """One row per order of one strategy on one day; ``cash``: per order id, (cash, compared cost) $."""
    c = c.sort_values("order_id")
    k = c["order_id"].to_numpy(int)
    r = rows[k]
    filled = (c["child_shares"] + c["cleanup_shares"]).to_numpy(np.int64)
    return pd.DataFrame({
        "order_id": table.order_id[r], "line": r + 1 + (table.where.hdr or 0),
        "symbol": d.symbol, "date": d.date, "side": np.where(table.side[r] > 0, "buy", "sell"),
        "quantity": table.quantity[r], "limit_price": table.limit_price[r],
        "arrival": [_iso(t) for t in c["arrival_ns"]],
        "deadline": [_iso(min(int(table.deadline_ns[x]), d.end_ns)) for x in r], "strategy": name,
        "filled": filled, "unfilled": c["unfilled_shares"].to_numpy(np.int64), "cost_usd": np.asarray(cash[0])[k],
        "compared_cost_usd": np.asarray(cash[1])[k],
        "arrival_mid": c["arrival_mid"].to_numpy(float), "shortfall_usd": c["total_usd"].to_numpy(float),
        "shortfall_bps": c["total_bps"].to_numpy(float)})


def _savings(rows: pd.DataFrame, who: str, against: tuple[str, ...], seed: int) -> dict:
    """``who``'s savings against each of ``against``: ``total`` and ``by_symbol`` (flow module docstring)."""
    key = ["line", "symbol", "order_id"]  # per-order values in orders-file order (the bootstrap's draws follow it)
    w = rows.pivot_table(index=key, columns="strategy", values="compared_cost_usd", aggfunc="first")
    sym = w.index.get_level_values("symbol").to_numpy()
    out: dict = {"total": {}, "by_symbol": {}}
    mine = w[who].to_numpy(float)
    for b in against:
        base = w[b].to_numpy(float)
        out["total"][b] = savings_from_cash(mine, base, seed)
        for s in sorted(set(sym)):
            out["by_symbol"].setdefault(s, {})[b] = savings_from_cash(mine[sym == s], base[sym == s], seed)
    return out


def _results(table, days, day_ids, got, rows_df, savings, real, ex) -> dict:
    r: dict = {"orders_file": table.path, "executions_file": None if ex is None else ex.path,
               "orders": len(table), "symbols": sorted({days[i].symbol for i in day_ids}),
               "saving_sign": "positive = the router (or strategy) did better for the order's side",
               "savings_vs_baselines_bps": {b: v["bps"] for b, v in savings["total"].items()},
               "savings_intervals": savings["total"], "savings_by_symbol": savings["by_symbol"],
               "per_order": rows_df.to_dict(orient="records"),
               "days": [{"symbol": days[i].symbol, "date": days[i].date, "source": days[i].source,
                         "orders": int(g["results"]["parent_orders"]),
                         "results": {k: v for k, v in g["results"].items() if k not in ("grid", "tca")},
                         "tca": g["results"].get("tca")}
                        for i, g in zip(day_ids, got, strict=True)]}
    if real is not None:
        vs = real["costs"]["volume_share_pct"].to_numpy(float)
        r["real"] = {"savings_vs_real_bps": {s: v["bps"] for s, v in real["savings_vs_real"].items()},
                     "savings_vs_real": real["savings_vs_real"], "caveat": real["caveat"],
                     "volume_share_pct": {"median": float(np.nanmedian(vs)) if np.isfinite(vs).any() else None,
                                          "max": float(np.nanmax(vs)) if np.isfinite(vs).any() else None},
                     "costs": real["costs"].to_dict(orient="records")}
    return r


# ------------------------------------------------------------------------------------------ example
def example_pair(folder: str | Path | None = None, seed: int = 0, n_orders: int = 12, minutes: float = 390.0,
                 md: MarketData | None = None) -> tuple[Path, Path]:
    """Write an **example** orders file and executions file made from the synthetic day (``md``, default
    :func:`sorlib.synth.default_market` of ``seed`` and ``minutes``) — for the notebook and the docs, not real
    desk data. Returns (orders path, executions path) in ``folder`` (None: a new temporary folder).

    Orders: ``n_orders`` arrivals drawn uniformly (seeded) over 5–80 % of the day, either side with
    probability ½, 200–3,000 shares in 100s, horizons of 5, 10 or 15 min, every third one with a limit 5 bps
    beyond the arrival touch it crosses (buy: best ask × 1.0005; sell: best bid × 0.9995, to the cent).
    "Executions": a 1-minute-bucket TWAP replay of those orders (:class:`sorlib.strategies.TWAP` on the
    frozen tape), each fill's price moved by ±1 cent on a seeded quarter of the fills (so the "desk" is not
    the TWAP baseline itself); liquidity ``A`` for resting fills, ``R`` otherwise."""
    from .engine.book import Book
    from .engine.replay import KIND_REST, replay
    from .strategies import TWAP
    from .synth import default_market

    md = md or default_market(seed=seed, minutes=minutes)
    book = Book.from_market(md)
    rng = np.random.default_rng(seed)
    t0, t1 = int(md.quotes.ts.min()), int(md.quotes.ts.max())
    arr = np.sort(t0 + (0.05 + 0.75 * rng.random(n_orders)) * (t1 - t0)).astype(np.int64)
    side = np.where(rng.random(n_orders) < 0.5, 1, -1)
    qty = (rng.integers(2, 31, n_orders) * 100).astype(np.int64)
    horizon = rng.choice([300, 600, 900], n_orders)
    rows, parents = [], []
    for i in range(n_orders):
        ask, bid = _touch(book, book.index_at(int(arr[i])))
        limit = np.nan
        if i % 3 == 2:
            limit = round(ask * (1 + 5e-4), 2) if side[i] > 0 else round(bid * (1 - 5e-4), 2)
        rows.append({"time": _iso(arr[i]), "symbol": md.symbol, "side": "buy" if side[i] > 0 else "sell",
                     "quantity": int(qty[i]), "limit_price": limit, "horizon_seconds": int(horizon[i]),
                     "order_id": f"EX{i + 1:02d}"})
        parents.append(ParentOrder(i, int(arr[i]), min(int(arr[i]) + int(horizon[i]) * 10**9, t1 + 1),
                                   int(qty[i]), int(side[i]), float(limit)))
    f = replay(book, TWAP(60.0), parents).fills
    bump = np.where(rng.random(len(f)) < 0.25, rng.choice([-0.01, 0.01], len(f)), 0.0)
    fills = pd.DataFrame({"time": [_iso(t) for t in f.ts], "order_id": [rows[int(k)]["order_id"] for k in f.order_id],
                          "venue": [md.venue_name(v) for v in f.venue],
                          "side": [rows[int(k)]["side"] for k in f.order_id], "quantity": f.qty,
                          "price": np.round(f.price + bump, 2), "liquidity": np.where(f.kind == KIND_REST, "A", "R")})
    if folder is None:
        import tempfile

        folder = tempfile.mkdtemp(prefix="sorlib-example-orders-")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    po, pe = folder / "example_orders.csv", folder / "example_executions.csv"
    pd.DataFrame(rows).to_csv(po, index=False)
    fills.to_csv(pe, index=False)
    return po, pe


def _touch(book, j: int) -> tuple[float, float]:
    """Best ask and best bid ($) over the venues at snapshot ``j`` (NaN for an empty side)."""
    r = book.row[j]
    r = r[r >= 0]
    a, b = book.ask_px[r, 0], book.bid_px[r, 0]
    return (float(np.nanmin(a)) if np.isfinite(a).any() else np.nan,
            float(np.nanmax(b)) if np.isfinite(b).any() else np.nan)
