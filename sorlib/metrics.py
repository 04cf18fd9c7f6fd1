"""Execution metrics: cash, prices, fills, implementation shortfall, savings in bps with intervals.

Definitions (cash in $, prices in $/share; ``side`` +1 for a buy, −1 for a sell).

**The sign convention** (the one place it is stated; :mod:`sorlib.tca` and the reports follow it):

* cost ("cash") of a fill = (side × price + fee) × qty, fee in $/share (+ taker fee, − maker rebate): a buy
  pays price + fee, a sell's cost is minus its proceeds net of fees. ``total_cash`` (the cost of an order)
  includes the clean-up order, whose cost is also reported alone (``cleanup_cash``).
* ``avg_fill_px`` = side × total_cash / shares — the all-in average price for the order's side (a buy's
  price paid incl. fees, a sell's price received net of fees).
* implementation shortfall (bps) = side × (avg_fill_px − arrival mid) / arrival mid × 10⁴ (fees included
  in the all-in price): positive = worse than the arrival mid for the order's side. For an order with
  unfilled shares it is Perold's, (cost − side × X × P_d) / (P_d × X) × 10⁴ with the cost below (the
  unfilled shares at the deadline mid; :func:`sorlib.tca.order_costs`' ``total_bps``), so the table's
  shortfalls and its savings count the same shares; for a filled order the two formulas agree.
* **unfilled shares** (a limit price, or no ask in sight) are valued at the deadline mid: the order's cost
  that savings compare is ``cost = total_cash + side × U × P_end`` (U shares never filled, P_end the mid just
  before the deadline, :func:`end_mids` — the P_end of :func:`sorlib.tca.order_costs`). So cost − side × X ×
  P_d is exactly Perold's implementation shortfall (its opportunity cost U·(P_end − P_d) included), and two
  strategies that filled different quantities of the same order compare what each left to the market too.
  An order with U = 0 has cost = total_cash to the bit.
* savings of A vs baseline B (bps) = (cost_B − cost_A) / |cost_B| × 10⁴ for the same orders; positive
  means A did better for the orders' sides (paid less on a buy, received more on a sell). Since both costs
  carry the same side × X × P_d, cost_B − cost_A = IS_B − IS_A. The headline figure pools all parent orders
  ((Σ cost_B − Σ cost_A) / Σ|cost_B|); the interval is a seeded percentile bootstrap over parent orders of
  the mean per-order savings. For filled buys alone |cost| = cost = cash: the old figures to the bit.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .engine.book import Book
from .engine.replay import KIND_CLEANUP, Execution


def fill_sides(ex: Execution) -> np.ndarray | None:
    """``(fills,)`` int8: each fill's side from its parent order (+1 buy, −1 sell); None when every order is
    a buy (the cost formulas then stay the buy-only ones, bit for bit)."""
    sides = np.array([o.side for o in ex.orders], np.int8)
    if not (sides < 0).any():
        return None
    ids = np.array([o.order_id for o in ex.orders], np.int64)
    order = np.argsort(ids, kind="stable")
    return sides[order][np.searchsorted(ids[order], ex.fills.order_id)]


def fill_cash(ex: Execution) -> np.ndarray:
    """Cost per fill ($): (side × price + fee) × qty (module docstring); (price + fee) × qty for buys."""
    f = ex.fills
    side = fill_sides(ex)
    if side is None:
        return f.cash
    return (side * f.price + f.fee) * f.qty


def end_mids(book: Book, deadline_ns, mids: np.ndarray | None = None) -> np.ndarray:
    """P_end ($) per deadline: the NBBO mid (``book.tape.nbbo_mids``, the rule of :meth:`Book.mid`) of the last
    snapshot strictly before the deadline — the book the deadline clean-up meets; NaN before the first
    snapshot. The one definition used by the savings (:func:`order_columns`) and the TCA
    (:func:`sorlib.tca.order_costs`)."""
    mids = book.tape.nbbo_mids() if mids is None else mids
    t = np.asarray(deadline_ns, np.int64)
    j = np.searchsorted(book.times, t, side="left") - 1
    if not mids.size:
        return np.full(t.shape, np.nan)
    return np.where(j >= 0, mids[np.maximum(j, 0)], np.nan)


def unfilled_value(ex: Execution, book: Book | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per order: ``(U, P_end, side × U × P_end)`` — the shares never filled, the deadline mid (:func:`end_mids`;
    NaN without ``book``) and their value at it ($, exactly 0.0 where U = 0; NaN where U > 0 and no book)."""
    n = len(ex.orders)
    u = np.zeros(n, np.int64) if ex.unfilled is None else np.asarray(ex.unfilled, np.int64)
    if book is None:
        p_end = np.full(n, np.nan)
    else:
        p_end = end_mids(book, np.array([o.deadline_ns for o in ex.orders], np.int64))
    side = np.array([o.side for o in ex.orders], np.float64)
    with np.errstate(invalid="ignore"):
        value = np.where(u > 0, side * u * p_end, 0.0)
    return u, p_end, value


def order_columns(ex: Execution, book: Book | None = None) -> dict[str, np.ndarray]:
    """Per-parent-order columns as arrays (see :func:`order_table`); numpy only, for the search workers.

    ``cost`` ($) is what savings compare (module docstring): ``total_cash`` plus the unfilled shares at the
    deadline mid of ``book``; without ``book`` it is NaN for an order with unfilled shares."""
    f = ex.fills
    ids = np.array([o.order_id for o in ex.orders], np.int64)
    pos = np.searchsorted(ids, f.order_id) if len(ids) else np.empty(0, np.int64)
    n = len(ids)
    cleanup = f.kind == KIND_CLEANUP

    def per_order(values, mask=None):
        if mask is not None:
            return np.bincount(pos[mask], weights=values[mask], minlength=n)[:n]
        return np.bincount(pos, weights=values, minlength=n)[:n]

    qty = f.qty.astype(np.float64)
    shares = per_order(qty).astype(np.int64)
    cash = fill_cash(ex)
    total = per_order(cash)
    mid = np.asarray(ex.arrival_mid, np.float64)
    side = np.array([o.side for o in ex.orders], np.int8)
    sell = side < 0
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = np.where(shares > 0, total / np.where(shares > 0, shares, 1), np.nan)
        if sell.any():  # a sell's all-in price is its proceeds net of fees per share
            avg = np.where(sell, -avg, avg)
        shortfall = (avg - mid) / mid * 1e4
        if sell.any():
            shortfall = np.where(sell, -shortfall, shortfall)
    unfilled, p_end, value = unfilled_value(ex, book)
    cost = np.where(unfilled > 0, total + value, total)
    if unfilled.any():  # Perold's IS over the order (unfilled shares at P_end), bps of the arrival notional
        size = np.array([o.size for o in ex.orders], np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            perold = (cost - side * size * mid) / (mid * size) * 1e4
        shortfall = np.where(unfilled > 0, perold, shortfall)
    return {
        "order_id": ids,
        "arrival_ns": np.array([o.arrival_ns for o in ex.orders], np.int64),
        "deadline_ns": np.array([o.deadline_ns for o in ex.orders], np.int64),
        "size": np.array([o.size for o in ex.orders], np.int64),
        "side": side.astype(np.int64),
        "limit_price": np.array([o.limit_price for o in ex.orders], np.float64),
        "shares": shares,
        "total_cash": total,
        "cleanup_shares": per_order(qty, cleanup).astype(np.int64),
        "cleanup_cash": per_order(cash, cleanup),
        "fees": per_order(f.fee * f.qty),
        "fills": np.bincount(pos, minlength=n)[:n].astype(np.int64),
        "arrival_mid": mid,
        "avg_fill_px": avg,
        "shortfall_bps": shortfall,
        "unfilled": unfilled,
        "end_mid": p_end,
        "unfilled_cash": value,
        "cost": cost,
    }


def order_table(ex: Execution, book: Book | None = None) -> pd.DataFrame:
    """One row per parent order: side (+1/−1), limit price ($, NaN = none), shares, cash ($, module docstring),
    clean-up, fees ($), fills, all-in average price for the side ($/share, of the shares filled),
    implementation shortfall (bps; Perold's with unfilled shares, module docstring), ``unfilled`` shares, ``end_mid`` (P_end, $), ``unfilled_cash`` (side × U × P_end, $)
    and ``cost`` (cash + unfilled_cash, $: what savings compare; needs ``book`` when U > 0)."""
    return pd.DataFrame(order_columns(ex, book))


def comparable_cost(s: dict) -> float:
    """The cost ($) a strategy's totals (:func:`summary`) are compared and ranked on: ``total_cost`` when some
    shares went unfilled, else ``total_cash``."""
    return float(s.get("total_cost", s["total_cash"]))


def summary(ex: Execution, book: Book | None = None) -> dict:
    """Totals over all parent orders of one execution. When some shares went unfilled it also holds
    ``unfilled_shares``, ``unfilled_cash`` (Σ side × U × P_end, $; ``book`` gives P_end) and ``total_cost``
    (total_cash + unfilled_cash, $, what savings and the grid's best point compare); absent otherwise."""
    t = order_table(ex, book)
    f = ex.fills
    shares = int(t["shares"].sum())
    cash = float(t["total_cash"].sum())
    sides = set(t["side"].tolist())
    non_cleanup = f.kind != KIND_CLEANUP
    sizes = f.qty[non_cleanup]
    return {
        "total_cash": cash,
        # the all-in price for the side (one side only; mixed sides have none)
        "avg_fill_px": (cash / shares if sides == {1} else -cash / shares if sides == {-1} else float("nan"))
        if shares else float("nan"),
        "shares": shares,
        "ordered": int(t["size"].sum()),
        "fills": int(non_cleanup.sum()),
        "mean_fill_size": float(sizes.mean()) if sizes.size else 0.0,
        "median_fill_size": float(np.median(sizes)) if sizes.size else 0.0,
        "cleanup_shares": int(t["cleanup_shares"].sum()),
        "cleanup_cash": float(t["cleanup_cash"].sum()),
        "fees": float(t["fees"].sum()),
        "shortfall_bps_mean": float(t["shortfall_bps"].mean()) if len(t) else float("nan"),
        "venue_shares": venue_split(ex),
        **(_unfilled_totals(t, cash) if int(t["unfilled"].sum()) > 0 else {}),
    }


def _unfilled_totals(t: pd.DataFrame, cash: float) -> dict:
    extra = float(t["unfilled_cash"].sum())
    return {"unfilled_shares": int(t["unfilled"].sum()), "unfilled_cash": extra, "total_cost": cash + extra}


def venue_split(ex: Execution) -> dict[str, int]:
    """Shares bought per venue key (clean-up included)."""
    f = ex.fills
    keys, inv = np.unique(f.venue, return_inverse=True)
    qty = np.zeros(keys.shape[0], np.int64)
    np.add.at(qty, inv, f.qty)
    return {str(int(k)): int(q) for k, q in zip(keys, qty, strict=True)}


def bootstrap_ci(values: np.ndarray, n_boot: int = 2000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (NaN when fewer than 2 values)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    rows = max(1, 65_536 // v.size)  # resamples per block: same draws as one (n_boot, n) call, cache-sized
    for s in range(0, n_boot, rows):
        m = min(rows, n_boot - s)
        means[s:s + m] = v[rng.integers(0, v.size, size=(m, v.size))].mean(axis=1)
    a = (1 - level) / 2
    return float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def savings_from_cash(cash: np.ndarray, base: np.ndarray, seed: int = 0) -> dict:
    """Savings of per-order costs ``cash`` vs ``base`` (same parent orders, $, module docstring's sign) in bps:
    pooled ``(Σ base − Σ cash)/Σ|base|·10⁴`` (exact sums), the per-order mean of ``(base − cash)/|base|·10⁴``
    and its bootstrap 95% interval. Pass the ``cost`` column of :func:`order_columns` (unfilled shares at the
    deadline mid), not the cash alone, whenever some shares may go unfilled."""
    cash, base = np.asarray(cash, float), np.asarray(base, float)
    if cash.size == 0:
        return {"bps": math.nan, "mean_bps": math.nan, "ci95": [math.nan, math.nan], "orders": 0}
    per = (base - cash) / np.abs(base) * 1e4
    tb, ta = math.fsum(base), math.fsum(cash)
    lo, hi = bootstrap_ci(per, seed=seed)
    return {"bps": (tb - ta) / math.fsum(np.abs(base)) * 1e4, "mean_bps": math.fsum(per) / per.size, "ci95": [lo, hi],
            "orders": int(per.size)}


def savings_bps(ex: Execution, baseline: Execution, seed: int = 0, book: Book | None = None) -> dict:
    """:func:`savings_from_cash` of the ``cost`` of two executions of the same parent orders (module docstring:
    unfilled shares valued at the deadline mid of ``book``, needed when some shares went unfilled)."""
    a, b = order_columns(ex, book), order_columns(baseline, book)
    if not np.array_equal(a["order_id"], b["order_id"]):
        raise ValueError("savings need the same parent orders in both executions")
    if book is None and (a["unfilled"].any() or b["unfilled"].any()):
        raise ValueError("savings with unfilled shares need the book (their value at the deadline mid): "
                         "pass book=")
    return savings_from_cash(a["cost"], b["cost"], seed)


# --------------------------------------------------------------------------------------- the verdict
#: Display names of the strategies in results dicts.
STRATEGY_LABELS = {"router": "Router", "best_ask": "Best Ask", "twap": "TWAP", "vwap": "VWAP"}

#: What the sign of a saving means; printed wherever savings appear.
SAVING_SIGN_NOTE = ("A saving against a baseline is (baseline's cost − router's cost) / |baseline's cost| × 10⁴ "
                    "bps for the same parent orders (a sell's cost is minus its proceeds net of fees; shares left "
                    "unfilled count at the mid just before the deadline, so the difference of costs is the "
                    "difference of implementation shortfalls): positive means the router paid less (received "
                    "more on a sell), negative that it paid more.")

_MINUS = "−"  # U+2212, the typographic minus


def format_bps(x: float | None, decimals: int = 2) -> str:
    """Basis points to ``decimals`` places with a typographic minus; ``"—"`` for a missing value.

    A value that rounds to zero prints without a sign (``-0.004`` → ``"0.00"``)."""
    if x is None or not math.isfinite(float(x)):
        return "—"
    r = round(float(x), decimals)
    if r == 0:
        return f"{0:.{decimals}f}"
    text = f"{abs(r):,.{decimals}f}"
    return _MINUS + text if r < 0 else text


def format_usd(x: float | None, decimals: int = 4) -> str:
    """A dollar amount with thousands separators (``1234.5`` → ``"1,234.5000"``); ``"—"`` when missing."""
    if x is None or not math.isfinite(float(x)):
        return "—"
    r = round(float(x), decimals)
    text = f"{abs(r):,.{decimals}f}"
    return _MINUS + text if r < 0 else text


def strategy_label(name: str) -> str:
    return STRATEGY_LABELS.get(name, name)


def _finite(x) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def interval_status(ci) -> str:
    """``"excludes"`` (both ends strictly on one side of zero), ``"includes"`` (zero inside or on an end) or
    ``"none"`` (no interval: NaN ends, e.g. one order). Judged on the **unrounded** ends; the printed ends
    (:func:`format_interval`) carry enough decimals to show the same thing: ``[-0.0742, -0.0043]`` excludes
    zero and prints ``−0.074 to −0.004``."""
    if ci is None or len(ci) != 2 or not (_finite(ci[0]) and _finite(ci[1])):
        return "none"
    lo, hi = denoise(ci[0]), denoise(ci[1])
    return "excludes" if lo > 0 or hi < 0 else "includes"


#: savings closer to zero than this (bps) are floating-point noise of a cash ratio (two routes with the same
#: fills, summed in another order, differ by ~10⁻¹² bps), read as exactly 0
NOISE_BPS = 1e-9


def denoise(x) -> float:
    """``x`` (bps) as a float, 0.0 when ``|x| <`` :data:`NOISE_BPS`."""
    x = float(x)
    return 0.0 if abs(x) < NOISE_BPS else x


#: most decimals :func:`interval_decimals` will use (ends within :data:`NOISE_BPS` of zero print as 0)
MAX_INTERVAL_DECIMALS = 12


def interval_decimals(lo: float, hi: float, minimum: int = 2) -> int:
    """The fewest decimals (>= ``minimum``) at which both rounded ends keep the sign of the unrounded ends
    (a non-zero end never prints as ``0.00``) and the two ends print differently when they differ.
    Capped at :data:`MAX_INTERVAL_DECIMALS`."""
    def ok(d: int) -> bool:
        rl, rh = round(lo, d), round(hi, d)
        signs = all((r > 0) == (x > 0) and (r < 0) == (x < 0) for r, x in ((rl, lo), (rh, hi)))
        return signs and (rl != rh or lo == hi)

    d = minimum
    while d < MAX_INTERVAL_DECIMALS and not ok(d):
        d += 1
    return d


def _interval_end(x: float, d: int) -> str:
    if x != 0 and round(x, d) == 0:  # beyond the cap: still show the sign and size
        return (_MINUS if x < 0 else "") + f"{abs(x):.1e}"
    return format_bps(x, d)


def format_interval(ci, orders: int | None = None) -> str:
    """``"−0.14 to −0.03"`` (bps; more decimals when needed — ``"−0.074 to −0.004"`` — so that the printed
    ends have the signs of the unrounded ones, see :func:`interval_decimals`), or ``"no interval (one
    order)"`` / ``"no interval"`` when there is none."""
    if interval_status(ci) == "none":
        return "no interval (one order)" if orders == 1 else "no interval"
    lo, hi = denoise(ci[0]), denoise(ci[1])
    d = interval_decimals(lo, hi)
    if d >= MAX_INTERVAL_DECIMALS:  # an end within 10⁻¹⁵ of zero: e-notation for it, 2 decimals otherwise
        d = 2
    return f"{_interval_end(lo, d)} to {_interval_end(hi, d)}"


def router_label(mode: str | None) -> str:
    return "Cont–Kukanov router" if mode == "ck" else "router"


def sample_label(results: dict) -> str:
    """In-sample or out-of-sample, from the results: ``results["sample"]`` when set; else a grid of one
    point is fixed in advance (out-of-sample), a larger grid's best point was chosen on these same orders
    (in-sample) — unless every point ties, which the label says."""
    if results.get("sample"):
        return str(results["sample"])
    g = len(results.get("grid") or [])
    if g <= 1:
        return "out-of-sample (one parameter point, fixed in advance)"
    if int(results.get("grid_ties") or 0) >= g:
        return f"in-sample, but all {g} grid points tie (the choice cannot flatter the router)"
    return f"in-sample (the best of {g} grid points, chosen on these same orders)"


def verdict_facts(results: dict, sample: str | None = None, market_model: str = "frozen tape") -> dict:
    """The facts stated beside the verdict table: ``orders``, ``sample``, ``market_model``, ``mode``."""
    cfg = results.get("config") or {}
    mode = cfg.get("mode") or results.get("mode") or "spec"
    return {"orders": int(results.get("parent_orders") or 0),
            "sample": sample if sample is not None else sample_label(results),
            "market_model": market_model_label(results.get("market_model") or cfg.get("market_model")
                                               or cfg.get("market") or market_model),
            "mode": str(mode)}


def market_model_label(model) -> str:
    """``"frozen tape"`` for the frozen preset (the recorded tape as it was), else the preset's name
    (a dict's ``name``/``preset``)."""
    if isinstance(model, dict):
        model = model.get("name") or model.get("preset") or "custom"
    text = str(model)
    return "frozen tape" if text in ("frozen", "frozen tape") else text


#: Columns of :func:`verdict_table`.
VERDICT_COLUMNS = ("strategy", "average all-in price (USD)", "implementation shortfall (bps)",
                   "clean-up (% of shares)", "router's saving against it (bps)", "95% interval (bps)")


def verdict_table(results: dict, sample: str | None = None, market_model: str = "frozen tape") -> pd.DataFrame:
    """The headline table of a backtest or search ``results`` dict, as formatted text.

    One row per strategy (the router — the best grid point — first, then each baseline): the average
    all-in price (total cash incl. fees and clean-up / shares, USD, 4 decimals with separators), the
    implementation shortfall against the arrival mid (mean per order, bps, 2 decimals), the share of the
    shares bought by the clean-up order (%, 1 decimal), and for each baseline the router's pooled saving
    against it with the bootstrap 95% interval of the mean per-order saving (bps, 2 decimals; see
    :data:`SAVING_SIGN_NOTE`). Missing numbers print as ``—``, a NaN interval as ``no interval (one
    order)``. ``df.attrs`` holds :func:`verdict_facts`.
    """
    facts = verdict_facts(results, sample, market_model)
    rows = []
    strategies = [("router", results.get("optimized") or {})]
    strategies += list((results.get("baselines") or {}).items())
    intervals = results.get("savings_intervals") or {}
    pooled = results.get("savings_vs_baselines_bps") or {}
    for name, s in strategies:
        shares, clean = s.get("shares"), s.get("cleanup_shares")
        pct = 100.0 * float(clean) / float(shares) if _finite(shares) and float(shares) > 0 and _finite(clean) else None
        if name == "router":
            saving, interval = "—", "—"
        else:
            iv = intervals.get(name) or {}
            saving = format_bps(iv.get("bps", pooled.get(name)))
            interval = format_interval(iv.get("ci95"), iv.get("orders", facts["orders"]))
        label = router_label(facts["mode"])
        rows.append({VERDICT_COLUMNS[0]: (f"{label[0].upper()}{label[1:]} ({facts['mode']} mode)" if name == "router"
                                          else strategy_label(name)),
                     VERDICT_COLUMNS[1]: format_usd(s.get("avg_fill_px")),
                     VERDICT_COLUMNS[2]: format_bps(s.get("shortfall_bps_mean")),
                     VERDICT_COLUMNS[3]: "—" if pct is None else f"{pct:.1f}",
                     VERDICT_COLUMNS[4]: saving, VERDICT_COLUMNS[5]: interval})
    df = pd.DataFrame(rows, columns=list(VERDICT_COLUMNS))
    df.attrs.update(facts)
    return df


#: A result whose router bought more than this fraction of the ordered shares in the deadline clean-up gets
#: no verdict: its cost is then the clean-up's price (often far through a thin book), not the routing's.
CLEANUP_DOMINATED = 0.5


def cleanup_share(s: dict | None) -> float | None:
    """Shares bought by the deadline clean-up (fills of kind ``KIND_CLEANUP``) / shares ordered, a fraction
    in [0, 1] (shares bought when ``ordered`` is absent); None when unknown or nothing was ordered."""
    if not s:
        return None
    clean, ordered = s.get("cleanup_shares"), s.get("ordered", s.get("shares"))
    if not (_finite(clean) and _finite(ordered)) or float(ordered) <= 0:
        return None
    return float(clean) / float(ordered)


def cleanup_check(results: dict, threshold: float = CLEANUP_DOMINATED) -> dict:
    """The clean-up share of the router (``results["optimized"]``) and of each baseline, the strategies above
    ``threshold`` (``flagged``) and ``withheld``: True when the router is flagged — its verdict is then
    not given (:func:`verdict_sentence` says why). Written to results/summary JSON as ``cleanup_check``."""
    shares = {"router": cleanup_share(results.get("optimized"))}
    shares.update({b: cleanup_share(v) for b, v in (results.get("baselines") or {}).items()})
    flagged = [k for k, v in shares.items() if v is not None and v > threshold]
    out = {"threshold": threshold, "share": shares, "flagged": flagged, "withheld": "router" in flagged}
    if out["withheld"]:
        out["message"] = cleanup_message(shares["router"], threshold)
    return out


def cleanup_message(share: float, threshold: float = CLEANUP_DOMINATED, who: str = "the router's") -> str:
    """``"no verdict: 76.0% of the router's shares were bought by the deadline clean-up (more than 50%)"``."""
    return (f"no verdict: {100 * share:.1f}% of {who} shares were bought by the deadline clean-up (more than "
            f"{100 * threshold:g}%), so the comparison measures the clean-up price, not the routing")


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _comparison(label: str, bps) -> str:
    if not _finite(bps):
        return f"not comparable with {label} (no saving computed)"
    r = round(float(bps), 2)
    if r == 0:
        return f"level with {label} (0.00 bps)"
    return f"{format_bps(abs(r))} bps {'cheaper' if r > 0 else 'dearer'} than {label}"


def verdict_sentence(results: dict) -> str:
    """One plain sentence reading :func:`verdict_table`, generated from the numbers: the router's pooled
    saving against each baseline in words (cheaper/dearer/level, bps to 2 decimals), the number of orders,
    and whether each 95% interval excludes or includes zero (judged on the unrounded ends). When more than
    :data:`CLEANUP_DOMINATED` of the router's shares were bought by the deadline clean-up, no verdict is
    given: the sentence says so (:func:`cleanup_check`). E.g. *"The router (spec mode) is 0.08 bps
    dearer than Best Ask over 77 orders, and the 95% interval (−0.14 to −0.03) excludes zero."*"""
    facts = verdict_facts(results)
    n = facts["orders"]
    check = cleanup_check(results)
    if check["withheld"]:  # the clean-up dominates: no verdict
        text = cleanup_message(check["share"]["router"], check["threshold"], f"the {router_label(facts['mode'])}'s")
        head, tail = text.split(": ", 1)
        return f"No verdict ({facts['mode']} mode, {n:,} order{'' if n == 1 else 's'}): {tail}."
    text = _compare_sentence(results, facts)
    others = [b for b in check["flagged"] if b != "router"]
    if others:
        parts = [f"{100 * check['share'][b]:.1f}% of {strategy_label(b)}'s" for b in others]
        text = (f"{text[:-1]}; but {_join(parts)} shares were bought by the deadline clean-up (more than "
                f"{100 * check['threshold']:g}%), so {'that comparison measures' if len(others) == 1 else 'those comparisons measure'} "
                "the clean-up price.")
    return text


def _compare_sentence(results: dict, facts: dict) -> str:
    n = facts["orders"]
    intervals = results.get("savings_intervals") or {}
    pooled = results.get("savings_vs_baselines_bps") or {}
    names = list(results.get("baselines") or intervals or pooled)
    who = f"The {router_label(facts['mode'])} ({facts['mode']} mode)"
    over = f"over {n:,} order{'' if n == 1 else 's'}"
    if not names:
        return f"{who} was compared with no baseline {over}."
    cmp = [_comparison(strategy_label(b), (intervals.get(b) or {}).get("bps", pooled.get(b))) for b in names]
    status = {b: interval_status((intervals.get(b) or {}).get("ci95")) for b in names}
    none_tail = "no interval (one order)" if n == 1 else "no interval"
    if len(names) == 1:
        b = names[0]
        ci = (intervals.get(b) or {}).get("ci95")
        tail = (f"; {none_tail}" if status[b] == "none"
                else f", and the 95% interval ({format_interval(ci)}) {status[b]} zero")
        return f"{who} is {cmp[0]} {over}{tail}."
    groups = []
    for st, verb in (("excludes", "excludes zero"), ("includes", "includes zero")):
        members = [b for b in names if status[b] == st]
        if members:
            items = [f"{strategy_label(b)} ({format_interval(intervals[b]['ci95'])})" for b in members]
            groups.append(f"{verb} against {_join(items)}")
    members = [b for b in names if status[b] == "none"]
    if members and len(members) == len(names):
        return f"{who} is {_join(cmp)} {over}; {none_tail}."
    if members:
        groups.append(f"gives {none_tail} against {_join([strategy_label(b) for b in members])}")
    return f"{who} is {_join(cmp)} {over}; the 95% interval {_join(groups)}."


# ------------------------------------------------------------------------------------------- impact paid
def impact_cost(ex: Execution, seed: int = 0) -> dict:
    """What one strategy paid for its own price impact (:mod:`sorlib.sim.impact`), per parent order.

    ``usd_per_order``: mean $ per order (Σ extra price × qty over its fills); ``bps_per_order``: mean of
    impact $ / (arrival mid × order size) × 10⁴ per order, with ``ci95``, the seeded percentile bootstrap
    interval of that mean (:func:`bootstrap_ci`); ``usd_total``. Zeros without an impact model."""
    n = len(ex.orders)
    cost = np.zeros(n) if ex.impact_cost is None else np.asarray(ex.impact_cost, float)
    size = np.array([o.size for o in ex.orders], float)
    mid = np.asarray(ex.arrival_mid, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        bps = cost / (mid * size) * 1e4
    ok = np.isfinite(bps)
    lo, hi = bootstrap_ci(bps[ok], seed=seed)
    return {"usd_total": float(cost.sum()), "usd_per_order": float(cost.mean()) if n else math.nan,
            "bps_per_order": float(bps[ok].mean()) if ok.any() else math.nan, "ci95": [lo, hi], "orders": n}
