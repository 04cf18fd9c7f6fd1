"""The tables ``sorlib inspect``, ``sorlib verdict`` and ``sorlib synth`` print, in the one table style
(:mod:`sorlib.tables`: integers for shares and counts, fixed decimals per unit, headers with units,
an em dash with a footnote for a missing value — never ``nan`` — and no printed dicts).

Every column's unit and decimals are given here explicitly (not guessed from its name)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def printed(t) -> str:
    """A table as the CLI prints it: cut into blocks of whole columns that fit the terminal when stdout is
    one (a terminal would otherwise wrap each wide row mid-line); one line per row when piped."""
    import shutil
    import sys

    return t.text(shutil.get_terminal_size().columns if sys.stdout.isatty() else None)


def _table(df: pd.DataFrame, units: dict, decimals: dict, na: dict, title: str = ""):
    from ..tables import table  # the one table style

    return table(df, units=units, decimals=decimals, na=na, title=title, index=False)


def _num(x) -> float:
    """A JSON number or None as a float (None → NaN: shown as an em dash)."""
    return float("nan") if x is None else float(x)


def _pct(x) -> float:
    return 100.0 * _num(x)


#: ``sorlib inspect``'s columns: venue_facts key → (header, unit, decimals; None: whole numbers).
_FACTS = {"venue": ("venue ID", "", None), "name": ("name", "", None),
          "quote_updates": ("quotes", "", None), "quote_share": ("quotes", "%", 1),
          "trades": ("trades", "", None), "trade_share": ("trades", "%", 1),
          "volume": ("volume", "shares", None), "volume_share": ("volume", "%", 1),
          "median_spread": ("median spread", "USD/share", 4), "median_bid_size": ("median bid", "shares", 0),
          "median_ask_size": ("median ask", "shares", 0), "time_at_best_bid": ("at best bid", "% of time", 1),
          "time_at_best_ask": ("at best ask", "% of time", 1)}
_SHARES = ("quote_share", "trade_share", "volume_share", "time_at_best_bid", "time_at_best_ask")
_PER_VENUE = ("median_spread", "median_bid_size", "median_ask_size", "time_at_best_bid", "time_at_best_ask")


def facts_table(facts: dict):
    """:func:`sorlib.data.facts.venue_facts` as a table: one row per venue, then all venues together."""
    rows = []
    for r in facts["venues"]:
        row = {k: (_pct(r.get(k)) if k in _SHARES else r.get(k)) for k in _FACTS}
        rows.append({k: (_num(v) if k in _PER_VENUE else v) for k, v in row.items()})
    tot = facts["totals"]
    all_row = {"venue": None, "name": "all venues"}
    for k, share in (("quote_updates", "quote_share"), ("trades", "trade_share"), ("volume", "volume_share")):
        all_row[k], all_row[share] = tot[k], 100.0 if tot[k] else float("nan")
    rows.append({k: all_row.get(k, float("nan")) for k in _FACTS})
    df = pd.DataFrame(rows, columns=list(_FACTS))
    df["venue"] = pd.Series([None if pd.isna(v) else str(int(v)) for v in df["venue"]], dtype=object)
    for k in ("quote_updates", "trades", "volume"):
        df[k] = df[k].astype(np.int64)
    why_venue = "per venue only (the all-venues row), or the venue never showed that side"
    na = {"venue": "the all-venues row has no venue ID", "quote_share": "nothing to share", "trade_share":
          "no trades", "volume_share": "no volume", **dict.fromkeys(_PER_VENUE, why_venue)}
    return _rename(df, na)


def _rename(df: pd.DataFrame, na: dict):
    """Headers from :data:`_FACTS` (two columns may share a header text: their units tell them apart)."""
    from ..tables import table

    return table(df, units={k: _FACTS[k][1] for k in df.columns}, index=False, na=na,
                 decimals={k: _FACTS[k][2] for k in df.columns if _FACTS[k][2] is not None},
                 rename={k: _FACTS[k][0] for k in df.columns})


def written_table(md) -> object:
    """``sorlib synth``: what was written per venue (book updates, trades, traded shares) and in all."""
    q, t = md.quotes, md.trades
    rows = []
    for v in pd.unique(q.venue):  # in order of appearance
        m = t.venue == v
        rows.append({"venue": md.venue_name(v), "book updates": int((q.venue == v).sum()), "trades": int(m.sum()),
                     "traded": int(t.size[m].sum())})
    rows.append({"venue": "all venues", "book updates": len(q), "trades": len(t), "traded": int(t.size.sum())})
    df = pd.DataFrame(rows)
    return _table(df, {"book updates": "", "trades": "", "traded": "shares"}, {}, {})


def variant_table(res):
    """``sorlib verdict``: one row per assumption variant — the out-of-sample saving vs each baseline (bps,
    with its 95% interval and order count), the clean-up's share of the shares bought (%), the verdict and
    the grid edges a chosen point lies on."""
    from ..metrics import format_interval, strategy_label
    from ..tables import header

    rows, baselines = [], []
    for r in res.records:
        row = {"variant": r["variant"], "same model as": r.get("same_model_as") or None}
        for b, s in r["out_of_sample"].items():
            head = f"saving vs {strategy_label(b)}"
            if head not in baselines:
                baselines.append(head)
            row[head] = _saving_text(s["bps"], format_interval(s["ci95"], s["orders"]))
        share = r["cleanup_share"].get("out_of_sample", r["cleanup_share"]["in_sample"])
        row["clean-up"] = _num(share) * 100.0
        row["verdict"] = "withheld: clean-up dominated" if r["verdict_withheld"] else "given"
        edges = sorted({f"{header(e['parameter'], '')} {e['side']}" for e in r["edges"]})  # λ under low
        row["grid edge"] = ", ".join(edges) if edges else None
        rows.append(row)
    cols = ["variant", "same model as", *baselines, "clean-up", "verdict", "grid edge"]
    df = pd.DataFrame(rows, columns=cols)
    units = {**{b: "bps, 95% interval" for b in baselines}, "clean-up": "% of shares"}
    na = {"same model as": "a market model of its own", "grid edge": "inside the grid",
          "clean-up": "not measured", **dict.fromkeys(baselines, "no out-of-sample orders")}
    return _table(df, units, {"clean-up": 1}, na,
                  title="Out-of-sample saving of the router vs each baseline, per assumption variant")


def _saving_text(bps, interval: str) -> str | None:
    if bps is None or not math.isfinite(float(bps)):
        return None
    return f"{float(bps):+.2f} ({interval})".replace("-", "−")


__all__ = ["facts_table", "printed", "variant_table", "written_table"]
