"""One table style for every page and the CLI: integers for shares, fixed decimals per unit, human headers
with units, no NaN (an em dash and a footnote saying why), yes/no for booleans, New York time with its zone,
long tables collapsed, and every table inside a horizontal scroll box (nothing cut at 1,000 px).

Units are read from the column names (``*_bps`` → bps, 2 dp; ``*shares*``/``fills``/``orders`` → whole
shares; ``*_px``/``price`` → USD/share, 4 dp; ``lambda_*``/``theta_*`` → USD/share; ``*cash*``/``cost`` → USD,
2 dp; ``*_pct``/``*rate*`` → %). :func:`table` returns a :class:`Table` that Jupyter displays as HTML
and ``str()`` prints as plain text (the CLI).

This module imports pandas and NumPy only — never plotly — so the CLI (``sorlib inspect``, ``synth``,
``verdict``) prints its tables without loading the figure code; :mod:`sorlib.plots.tables` re-exports it.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: the zone every time is shown in (US equities)
TZ = "America/New_York"
TZ_LABEL = "New York"
#: default footnote of an empty cell
NA_REASON = "not applicable or not measured here"
#: tables longer than this are collapsed: the first :data:`HEAD_ROWS` rows shown, the rest behind a toggle
MAX_ROWS = 25
HEAD_ROWS = 12

#: words kept as written in headers
_WORDS = {"bps": "bps", "px": "price", "vwap": "VWAP", "twap": "TWAP", "nbbo": "NBBO", "ck": "CK", "sa": "SA",
          "saa": "SAA", "ci95": "95% interval", "id": "ID", "pct": "%", "avg": "average", "qty": "quantity",
          "luld": "LULD", "mid": "mid", "oos": "out-of-sample", "ns": "ns", "usd": "USD", "lambda": "λ",
          "theta": "θ", "calib": "calibration error", "l": "L", "m": "M", "s": "S", "v": "V"}

#: codes the data carry into a table's cells or row labels (strategy keys, risk rules, parameter names) as the
#: reader sees them; the data keep their codes. Any other snake_case code is shown with spaces (:func:`code_label`).
CODE_LABELS: dict[str, str] = {
    "best_ask": "Best Ask", "twap": "TWAP", "vwap": "VWAP",
    "lambda_o": "λ over", "lambda_u": "λ under", "lambda_over": "λ over", "lambda_under": "λ under",
    "theta": "θ queue", "theta_queue": "θ queue",
    "kill_switch": "kill switch", "luld_halt": "LULD halt", "luld_resume": "LULD resume",
    "luld_reopen": "LULD reopen", "halt_gap": "halt (no quotes)", "halt_resume": "halt over",
    "book_cleared": "book cleared", "venue_cleared": "venue cleared", "stale_quote": "stale quote",
    "exposure_cap": "exposure cap", "exposure_override": "exposure cap overridden at the deadline",
    "cleanup_while_stopped": "clean-up while stopped", "venue_score": "venue score",
}
_CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
#: words of a code kept as written (acronyms, Greek letters)
_CODE_WORDS = {"luld": "LULD", "vwap": "VWAP", "twap": "TWAP", "nbbo": "NBBO", "ck": "CK", "id": "ID", "lambda": "λ",
               "theta": "θ", "cleanup": "clean-up", "pct": "%", "calib": "calibration error"}


def code_label(value):
    """What the reader sees for a code held in the data: :data:`CODE_LABELS`, else a snake_case code with spaces
    (``"displaced_10s"`` → ``"displaced 10s"``); anything else (a venue, a sentence, a number) unchanged."""
    if not isinstance(value, str):
        return value
    if value in CODE_LABELS:
        return CODE_LABELS[value]
    if _CODE.fullmatch(value):
        return " ".join(_CODE_WORDS.get(w, w) for w in value.split("_"))
    return value


#: (pattern on the lower-case column name, unit shown in the header, format spec)
_UNITS: list[tuple[str, str, str]] = [
    (r"(^|_)rank($|_)", "", ""),  # a rank (1 = cheapest) has no unit, whatever it ranks ("cost_rank")
    (r"shown|share_of|fraction|ratio|(^|_)p_|prob", "", "{:.4g}"),  # shares of time, probabilities
    (r"^vs_|^saving|_saving", "bps", "{:,.2f}"),  # a saving against a baseline
    (r"(^|_)bps($|_)|_bps$", "bps", "{:,.2f}"),
    (r"(^|_)(pct|percent)($|_)|(^|_)%$", "%", "{:,.1f}"),
    # percentage points: a bias or calibration error between two rates in % (page 07)
    (r"(^|_)(pp|calib|bias)($|_)", "points", "{:,.2f}"),
    (r"^(lambda|theta)_|^(lambda_u|lambda_o|theta)$|penalty|^h$|^f$|^r$|^rebate_r$|^h_plus_r$", "USD/share", "{:.4g}"),
    (r"(^|_)(bid|ask)_(size|qty|shares)($|_)|^xi_(mean|median)$", "shares", "int"),  # a displayed size, not a price; ξ outflow
    (r"(^|_)(px|price|mid|bid|ask)($|_)|avg_fill|fill_px|per_share", "USD/share", "{:,.4f}"),
    (r"cash|cost($|_)|notional|usd|dollars|(^|_)v($|_exact|_sa)", "USD", "{:,.2f}"),
    (r"seconds|.+_s$", "s", "{:,.3g}"),  # a unit suffix (horizon_s); a bare "s" is the order size S below
    (r".+_us$", "µs", "{:,.3g}"),
    (r"shares|(^|_)(fills|orders|size|qty|quantity|count|executed|child|children|q|l|m|s|trades|quotes|rows)($|_)",
     "shares", "int"),
    (r"latency", "s", "{:,.3g}"),
    (r"(^|_)shortfall($|_)", "bps", "{:,.2f}"),  # implementation shortfall and its interval ends (sorlib.tca)
]
#: headers written out where the column's name is a formula's symbols (page 04's queue table)
_HEADER_TEXT = {"rebate_r": "maker rebate r", "h_plus_r": "half-spread + rebate, h + r", "Q_shares": "queue ahead Q",
                "xi_mean": "outflow ξ mean", "xi_median": "outflow ξ median", "P(xi > Q)": "P(ξ > Q)"}
_COUNT_WORDS = ("fills", "orders", "count", "trades", "quotes", "rows", "children", "points", "ties", "days")


#: a unit the name states in parentheses → (unit, format)
_STATED = {"bps": ("bps", "{:,.2f}"), "$/share": ("USD/share", "{:,.4f}"), "usd/share": ("USD/share", "{:,.4f}"),
           "usd": ("USD", "{:,.2f}"), "$": ("USD", "{:,.2f}"), "shares": ("shares", "int"), "%": ("%", "{:,.1f}"),
           "s": ("s", "{:,.3g}"), "seconds": ("s", "{:,.3g}")}


def _unit_of(name: str) -> tuple[str, str]:
    stated = re.search(r"\(([^()]*)\)\s*$", str(name))
    if stated and stated.group(1).strip().lower() in _STATED:
        return _STATED[stated.group(1).strip().lower()]
    low = re.sub(r"[^a-z0-9%]+", "_", str(name).lower().replace("USD/share", "px").replace("usd", "cash")).strip("_")
    for pat, unit, spec in _UNITS:
        if re.search(pat, low):
            if spec == "int" and any(w in low for w in _COUNT_WORDS) and "shares" not in low:
                return "", "int"  # a count, no unit
            return unit, spec
    return "", ""


def header(name, unit: str | None = None) -> str:
    """``"shortfall_bps_mean"`` → ``"Shortfall mean (bps)"``; ``unit`` overrides the one read from the name."""
    if not isinstance(name, str):
        return str(name)
    u = _unit_of(name)[0] if unit is None else {"$": "USD", "$/share": "USD/share"}.get(unit, unit)
    name = _HEADER_TEXT.get(name, name)
    words = [w for w in re.split(r"[_\s]+", name) if w]
    suffix = {"s": "s", "µs": "us"}.get(u)  # a time unit written as the name's last word (horizon_s, latency_us)
    if suffix and len(words) > 1 and words[-1].lower() == suffix:
        words = words[:-1]
    words = [_WORDS.get(w.lower(), w) for w in words if not (u and w.lower() in ("bps", "pct", "usd", "px", "pp"))
             or w.lower() == "px"]
    text = " ".join(words) if words else name
    if text.lower().startswith("vs "):  # "vs Best Ask (bps)": the router's saving against that baseline
        text = "saving " + text
    if text[:1].isascii():
        text = text[:1].upper() + text[1:]
    paren = re.search(r"\s*\(([^()]*)\)$", text)
    if paren and u and paren.group(1).strip().lower() not in (*_STATED, u.lower()):
        text = f"{text[:paren.start()]}, {paren.group(1).strip()}"  # "Calib 60s (drop)" → "Calib 60s, drop (points)"
    elif "(" in text:  # the name states its unit already ("$" written USD: a "$…$" pair would be typeset as maths)
        return text.replace("($/share)", "(USD/share)").replace("($)", "(USD)").replace("$", "USD ")
    if text.lower() in ("ts", "time", "arrival", "timestamp"):
        return f"{text if text.lower() != 'ts' else 'Time'} ({TZ_LABEL})"
    if u and u in text.lower().split():
        return text
    if u and u != "%" and f"({u})" not in text:
        text += f" ({u})"
    elif u == "%" and "%" not in text:
        text += " (%)"
    return text


def ny_time(ts, seconds: bool = True) -> str:
    """A timestamp (UTC ns int, pandas/NumPy datetime) as ``"10:31:05 New York"`` — the date is prefixed
    when ``ts`` is not on a single session day handled by the caller."""
    t = pd.Timestamp(ts)
    if t.tzinfo is None:
        t = t.tz_localize("UTC")
    return t.tz_convert(TZ).strftime("%H:%M:%S" if seconds else "%H:%M") + f" {TZ_LABEL}"


def _is_time(s: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(s)


def cell(value, spec: str = "") -> str | None:
    """One cell's text; None for a missing value (NaN, None, NaT)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return None if pd.isna(value) else ny_time(value)
    if isinstance(value, dict):
        return "; ".join(f"{code_label(k)} {cell(v) or '—'}" for k, v in value.items())
    if isinstance(value, (list, tuple)) and not isinstance(value, str):
        return ", ".join(cell(v) or "—" for v in value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            return "∞" if v > 0 else "−∞"
        if spec == "int":
            return f"{round(v):,}" if abs(v - round(v)) < 1e-6 or abs(v) >= 100 else f"{v:,.1f}"
        if spec:
            return _unsigned_zero(spec.format(v))
        if v == 0:
            return "0"
        if abs(v) >= 1000:
            return f"{v:,.0f}" if abs(v - round(v)) < 1e-9 else f"{v:,.2f}"
        return f"{v:.4g}"
    return no_dollar(str(value))


def _unsigned_zero(text: str) -> str:
    """``"-0.00"`` → ``"0.00"``: a value that rounds to zero prints without a sign."""
    return text[1:] if text[:1] in "-−" and not re.search(r"[1-9]", text) else text


def no_dollar(text: str) -> str:
    """``"65.0923 $"`` → ``"65.0923 USD"``, ``"$/share"`` → ``"USD/share"``: a page never shows ``$`` (two of
    them on a line are typeset as maths in JupyterLab)."""
    text = re.sub(r"\$/", "USD/", text)
    text = re.sub(r"(\d)\s*\$", r"\1 USD", text)
    return text.replace("$", "USD ").replace("  ", " ")


@dataclass
class Table:
    """A formatted table: ``frame`` holds the cell texts ("—" where empty), ``notes`` its footnotes."""

    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    title: str = ""
    index: bool = False

    def _repr_html_(self) -> str:
        return self.html()

    def html(self) -> str:
        """HTML: a scroll box (``overflow-x: auto``) around the table; rows past :data:`MAX_ROWS` collapsed
        behind a ``<details>`` toggle; footnotes below."""
        f = self.frame
        heads = ([html.escape(str(f.index.name or ""))] if self.index else []) + [html.escape(str(c)) for c in f.columns]
        num = [_numeric_col(f[c]) for c in f.columns]

        def rows(part: pd.DataFrame) -> str:
            out = []
            for idx, r in part.iterrows():
                tds = ([f"<th>{html.escape(str(idx))}</th>"] if self.index else [])
                tds += [("<td class='num'>" if n else "<td>") + html.escape(str(v)) + "</td>"
                        for v, n in zip(r.tolist(), num, strict=True)]
                out.append("<tr>" + "".join(tds) + "</tr>")
            return "".join(out)

        aligns = ([False] if self.index else []) + num
        thead = "<thead><tr>" + "".join(f"<th class='num'>{h}</th>" if n else f"<th>{h}</th>"
                                        for h, n in zip(heads, aligns, strict=True)) + "</tr></thead>"
        cap = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        body = f"<table class='sorlib-table'>{cap}{thead}<tbody>{rows(f)}</tbody></table>"
        if len(f) > MAX_ROWS:
            head = f"<table class='sorlib-table'>{cap}{thead}<tbody>{rows(f.head(HEAD_ROWS))}</tbody></table>"
            body = (f"<div class='sorlib-scroll'>{head}</div><details><summary>show all {len(f):,} rows</summary>"
                    f"<div class='sorlib-scroll'>{body}</div></details>")
        else:
            body = f"<div class='sorlib-scroll'>{body}</div>"
        notes = "".join(f"<div class='sorlib-note'>{html.escape(n)}</div>" for n in self.notes)
        return f"<div class='sorlib-tablebox'>{_CSS}{body}{notes}</div>"

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        return self.text()

    def text(self, width: int | None = None) -> str:
        """Plain text (the CLI). With ``width`` (a terminal's columns), a table wider than that is cut into
        blocks of whole columns, each block repeating the row labels (the index, else the first column), so
        a terminal never wraps a row mid-line; the title and footnotes as they are."""
        text = self.frame.to_string(index=self.index)
        if width and max(map(len, text.splitlines()), default=0) > width and len(self.frame.columns) > 1:
            cols = list(self.frame.columns)
            label = cols[1] if (len(cols) > 2 and _numeric_col(self.frame[cols[0]])
                                and not _numeric_col(self.frame[cols[1]])) else cols[0]  # a name over an ID
            f = self.frame if self.index else self.frame.set_index(label)
            lines = f.to_string(line_width=width).splitlines()
            if not self.index:  # the header line pandas writes for the index name: fold it into the first
                lines = _fold_index_name(lines)
            text = "\n".join(ln.rstrip(" \\").rstrip() for ln in lines)
        return "\n".join([*([self.title] if self.title else []), text, *self.notes])


def column_decimals(s: pd.Series, sig: int = 4, most: int = 6) -> int | None:
    """The one number of decimals a column of numbers is shown with (None: not a column of plain numbers).

    The fewest decimals (up to 4) that write every value exactly — 0.005 and 0.01 → 3 ("0.005", "0.010");
    otherwise ``sig`` significant digits on the column's median non-zero magnitude, between 0 and ``most``
    decimals — 0.1234567 and 0.5 → 4 ("0.1235", "0.5000")."""
    vals = []
    for v in s:
        if v is None or v is pd.NaT or isinstance(v, (bool, np.bool_)):
            if v is None or v is pd.NaT:
                continue
            return None
        if not isinstance(v, (int, float, np.integer, np.floating)):
            return None
        if math.isfinite(float(v)):
            vals.append(float(v))
    if not vals:
        return None
    for d in range(5):
        if all(abs(v - round(v, d)) <= 1e-9 * max(1.0, abs(v)) for v in vals):
            return d
    mags = sorted(abs(v) for v in vals if v != 0)
    if not mags:
        return 0
    return int(min(max(sig - 1 - math.floor(math.log10(mags[len(mags) // 2])), 0), most))


_NUMBER = r"[−+\-]?[\d,.]*\d(e[+-]?\d+)?"
#: a number, alone or with its interval: "4.26 (3.60 to 4.91)", "−0.02 to 0.01", "-1.78 [-2.96, -0.60] (n=130)"
_NUMERIC_CELL = re.compile(rf"{_NUMBER}(( to | \(| \[|, |\)|\]| \(n=){_NUMBER}\)?\]?)*|—|[\d:]+ {TZ_LABEL}")


def _fold_index_name(lines: list[str]) -> list[str]:
    """pandas writes an index's name on a line of its own under each block's header; put it on the header
    line instead (the header line has blanks where the index column is)."""
    out, i = [], 0
    while i < len(lines):
        ln = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        name = nxt.split("  ")[0].rstrip()
        if name and nxt.strip() == name.strip() and ln[:len(name)].strip() == "":
            out.append(name + ln[len(name):])
            i += 2
            continue
        out.append(ln)
        i += 1
    return out


def _numeric_col(s: pd.Series) -> bool:
    """Every cell a number (or a number with its interval, or an em dash): the column is right-aligned."""
    return bool(s.map(lambda x: bool(_NUMERIC_CELL.fullmatch(str(x)))).all())


#: the selectors carry the box's class too: JupyterLab's (and the HTML export's)
#: ``:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td {text-align: right}`` would otherwise win and
#: right-align text columns and headers
_CSS = ("<style>.sorlib-scroll{overflow-x:auto;max-width:100%}"
        ".sorlib-table{border-collapse:collapse;font-size:13px;margin:4px 0}"
        ".sorlib-tablebox table.sorlib-table th,.sorlib-tablebox table.sorlib-table td{padding:3px 8px;"
        "border-bottom:1px solid #ddd;text-align:left;white-space:normal}"
        ".sorlib-tablebox table.sorlib-table td{min-width:4em}"
        ".sorlib-tablebox table.sorlib-table thead th{min-width:4em;vertical-align:bottom}"
        ".sorlib-tablebox table.sorlib-table th.num{text-align:right}"
        ".sorlib-tablebox table.sorlib-table td.num{text-align:right;white-space:nowrap;"
        "font-variant-numeric:tabular-nums}"
        ".sorlib-table caption{caption-side:top;text-align:left;font-weight:600}"
        ".sorlib-note{font-size:12px;color:#555}</style>")


def table(df, units: dict[str, str] | None = None, decimals: dict[str, int] | None = None,
          na: dict[str, str] | str | None = None, title: str = "", index: bool | None = None,
          rename: dict[str, str] | None = None) -> Table:
    """``df`` in the house style (see the module docstring).

    ``units``: column → unit for its header (overrides the one read from its name); ``decimals``: column →
    fixed decimals; ``na``: the reason a cell is empty (one text, or column → text), shown as a footnote
    under an em dash; ``index``: show the index (default: when it is not a plain range); ``rename``: column
    → header text (unit still appended)."""
    if isinstance(df, pd.Series):
        df = df.to_frame()
    if isinstance(df, dict):
        return kv_table(df, title=title)
    df = df.copy()
    if isinstance(df.columns, pd.MultiIndex):
        df.columns = [" ".join(str(x) for x in c if str(x)) for c in df.columns]
    show_index = (not isinstance(df.index, pd.RangeIndex)) if index is None else index
    units, decimals, rename = dict(units or {}), dict(decimals or {}), dict(rename or {})
    out, heads, missing = {}, [], {}
    for c in df.columns:
        s = df[c]
        u, spec = _unit_of(c) if isinstance(c, str) else ("", "")
        if c in units:
            u = units[c]
        if c in decimals:
            spec = "{:,.%sf}".replace("%s", str(int(decimals[c])))
        if pd.api.types.is_bool_dtype(s) or (pd.api.types.is_integer_dtype(s) and c not in decimals):
            spec = ""  # booleans as yes/no; integers (shares, counts) whole with thousands separators
        elif spec == "int" and c not in decimals and any(
                isinstance(v, (float, np.floating)) and math.isfinite(v) and abs(v) < 100 and abs(v - round(v)) >= 1e-6
                for v in s):
            spec = "{:,.1f}"  # an average of shares or counts below 100 (2.5 children per order): one decimal for all
        elif c not in decimals and (spec == "" or spec.endswith("g}")):
            d = column_decimals(s)  # one number of decimals per column (a "g" format mixes them)
            spec = spec if d is None else "{:,.%sf}".replace("%s", str(d))
        if _is_time(s):
            texts = [None if pd.isna(v) else ny_time(v) for v in s]
        else:
            texts = [cell(code_label(v), spec) for v in s]  # codes ("best_ask", "luld_halt") in words
        n_missing = sum(t is None for t in texts)
        if c not in units and u and all(v is None or isinstance(v, (bool, np.bool_)) or (isinstance(v, str) and not
                                         re.search(r"\d", v)) or (isinstance(v, float) and math.isnan(v)) for v in s):
            u = ""  # a column of words (yes/no/tie) has no unit, whatever its name suggests ("Best Ask cheapest?")
        h = header(rename.get(c, c), u) if isinstance(c, str) else str(c)
        if n_missing:
            why = na.get(c, NA_REASON) if isinstance(na, dict) else (na or NA_REASON)
            missing.setdefault(why, []).append(h)
        out[h] = ["—" if t is None else t for t in texts]
        heads.append(h)
    frame = pd.DataFrame(out, index=df.index)
    if show_index:
        frame.index = [cell(code_label(v)) or "—" for v in df.index]
        frame.index.name = header(df.index.name) if isinstance(df.index.name, str) else ""
    notes = [f"— {why} ({', '.join(cols)})." for why, cols in missing.items()]
    return Table(frame, notes, title, show_index)


def kv_table(d: dict, title: str = "", units: dict[str, str] | None = None, na: dict[str, str] | str | None = None,
             rename: dict[str, str] | None = None) -> Table:
    """A small table of a dict (never a printed dict): ``{"lambda_over": 0.005}`` → ``λ over (USD/share) |
    0.005``. A dict of dicts gives one row per key (``{row: {column: value}}``; a third level is spread over
    columns "column sub-key"); row keys are written like headers (``displaced_10s`` → "Displaced 10s"), the
    title heads the row labels as written. ``units``, ``na``, ``rename``: as in :func:`table`."""
    units = dict(units or {})
    label = title[:1].upper() + title[1:] if title else ""
    if d and all(isinstance(v, dict) for v in d.values()):  # {row: {column: value}}: one row per key
        rows = {}
        for k, v in d.items():
            row = {}
            for c, x in v.items():
                if isinstance(x, dict):
                    row.update({f"{c} {sub}": y for sub, y in x.items()})
                else:
                    row[c] = x
            rows[header(k, "") if isinstance(k, str) else cell(k) or "—"] = row
        frame = pd.DataFrame.from_dict(rows, orient="index")
        t = table(frame, units=units, index=True, na=na, rename=rename)
        t.frame.index.name = label
        return t
    rows = []
    for k, v in d.items():
        u, spec = _unit_of(k) if isinstance(k, str) else ("", "")
        rows.append((header(k, units.get(k, u)) if isinstance(k, str) else str(k), cell(v, spec) or "—"))
    return Table(pd.DataFrame(rows, columns=[label or "Parameter", "Value"]), [], "", False)


def params_text(d: dict, unit: str = "USD/share") -> str:
    """A parameter dict as a sentence part: ``λ over 0.005, λ under 0.01 USD/share`` (never ``{'…': …}``)."""
    return ", ".join(f"{header(k, '')} {cell(v) or '—'}" for k, v in d.items()) + (f" {unit}" if unit else "")


def install(ip=None) -> bool:
    """Make every pandas DataFrame and Series shown in this IPython session use :func:`table`; False
    outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    ip = ip or get_ipython()
    if ip is None:
        return False
    fmt = ip.display_formatter.formatters["text/html"]
    fmt.for_type(pd.DataFrame, lambda df: table(df).html())
    fmt.for_type(pd.Series, lambda s: table(s).html())
    return True


__all__ = ["CODE_LABELS", "HEAD_ROWS", "MAX_ROWS", "NA_REASON", "TZ", "TZ_LABEL", "Table", "cell", "code_label", "column_decimals",
           "header", "install", "kv_table",
           "no_dollar", "ny_time", "params_text", "table"]
