"""One colour per venue, the same in every figure and notebook, and the colours of strategies and fill kinds.

A venue's colour follows from *which venue it is*, never from its position among the venues of a data set:
its readable name (``MarketData.venue_names``) is matched against a table of US equity venues by MIC
(``XNAS``), Databento dataset (``XNAS.ITCH``, ``DBEQ.BASIC.XCHI``), TAQ exchange letter (``"NASDAQ (Q)"``,
``"Q"``) or name (``"NASDAQ"``), so Nasdaq is the same orange in a synthetic day, a Databento file and an
AlgoSeek day, whatever other venues are present. A venue the table does not know gets a colour from a
stable hash of its name (or of its key when it has no name); :func:`venue_colors` moves such a venue to the
next free colour only when another venue of the same figure already has its colour.

The palette has 24 colours (the ten of Plotly/D3 without grey, then colours picked to be as far as possible
from all earlier ones in CIELAB; every pair differs by a CIEDE2000 ΔE of 16 or more). Grey and black are kept
for non-venue marks (clean-up, medians, reference lines).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Mapping

__all__ = ["FILL_KIND_COLORS", "PALETTE", "REGIME_COLORS", "SERIES_STYLES", "STRATEGY_COLORS", "VENUES", "dodge",
           "series_color", "series_style", "strategy_color", "strategy_line", "venue_color", "venue_colors", "venue_id", "venue_label"]

#: Distinct colours for venues (index = slot); the first nine are D3's category10 without its grey.
PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
    "#17becf", "#005544", "#665500", "#aabbff", "#1100ee", "#990066", "#99ccaa", "#ffaaaa",
    "#aa8844", "#444477", "#226600", "#448877", "#ee0077", "#22aaff", "#44dd00", "#aa5500",
)

#: Known venues: canonical id -> (palette slot, readable label, aliases). Aliases are matched case-
#: insensitively against the whole name, each dot-separated part of a Databento dataset name, and the TAQ
#: letter in ``"Name (L)"``; single letters are TAQ exchange codes.
VENUES: dict[str, tuple[int, str, tuple[str, ...]]] = {
    "XNYS": (0, "NYSE", ("XNYS", "NYSE", "N", "NEW YORK STOCK EXCHANGE")),
    "XNAS": (1, "Nasdaq", ("XNAS", "NASDAQ", "Q", "T", "NASDAQ STOCK MARKET", "NASDAQ OMX")),
    "ARCX": (2, "NYSE Arca", ("ARCX", "ARCA", "NYSE ARCA", "P", "ARCAEDGE")),
    "BATS": (3, "Cboe BZX", ("BATS", "BZX", "CBOE BZX", "BATS Z", "Z", "BATS EXCHANGE")),
    "EDGX": (4, "Cboe EDGX", ("EDGX", "CBOE EDGX", "DIRECT EDGE X", "K")),
    "BATY": (5, "Cboe BYX", ("BATY", "BYX", "CBOE BYX", "BATS Y", "Y")),
    "EDGA": (6, "Cboe EDGA", ("EDGA", "CBOE EDGA", "DIRECT EDGE A", "J")),
    "IEXG": (7, "IEX", ("IEXG", "IEX", "V", "INVESTORS EXCHANGE")),
    "XBOS": (8, "Nasdaq BX", ("XBOS", "BX", "NASDAQ BX", "NASDAQ OMX BX", "B")),
    "XPSX": (9, "Nasdaq PSX", ("XPSX", "PSX", "NASDAQ PSX", "NASDAQ OMX PSX", "X")),
    "XASE": (10, "NYSE American", ("XASE", "AMEX", "NYSE AMERICAN", "NYSE MKT", "A")),
    "XCIS": (11, "NYSE National", ("XCIS", "NSX", "NYSE NATIONAL", "NATIONAL STOCK EXCHANGE", "C")),
    "XCHI": (12, "NYSE Chicago", ("XCHI", "CHX", "NYSE CHICAGO", "CHICAGO STOCK EXCHANGE", "M")),
    "MEMX": (13, "MEMX", ("MEMX", "MEMX LLC", "U")),
    "EPRL": (14, "MIAX Pearl", ("EPRL", "MIAX PEARL", "PEARL", "H")),
    "XCBO": (15, "CBOE Stock Exchange", ("XCBO", "CBSX", "CBOE STOCK EXCHANGE", "W")),
    "FINRA": (16, "FINRA TRF/ADF", ("FINRA", "FINRA TRF/ADF", "TRF", "ADF", "XADF", "FINN", "FINY", "FINC",
                                    "D")),
    "XISX": (17, "ISE", ("XISX", "ISE", "I")),
    "LTSE": (18, "LTSE", ("LTSE", "L")),
    "EQUS": (19, "consolidated (EQUS)", ("EQUS", "EQUS.MINI", "EQUS.SUMMARY", "EQUS.ALL")),
}

_ALIAS: dict[str, str] = {a: vid for vid, (_, _, aliases) in VENUES.items() for a in aliases}
_TAQ_SUFFIX = re.compile(r"^(.*?)\s*\(([A-Z])\)\s*$")
_FREE = tuple(range(len(VENUES), len(PALETTE)))  # slots no known venue uses

#: Strategies of the backtests (router, baselines, the Cont–Kukanov router).
#: Hues kept apart from every venue colour (CIE76 ΔE >= 20 from each :data:`PALETTE` entry, >= 40 from each
#: other), so a strategy line is never mistaken for a venue's.
STRATEGY_COLORS: dict[str, str] = {"router": "#ff22ff", "best_ask": "#0066ff", "twap": "#00cc99",
                                   "vwap": "#ff5500", "ck": "#7700aa",
                                   # the router under a parent-order schedule (notebook 06)
                                   "router+twap": "#b30059", "router+vwap": "#113399", "router+ac": "#00a070",
                                   "router+adaptive": "#cc9900"}
#: Line dash and width per strategy: lines that coincide (Best Ask and the router filling alike, TWAP and
#: VWAP on the same buckets) stay visible — the wider solid router line under the dashed ones.
STRATEGY_LINES: dict[str, dict] = {"router": {"dash": "solid", "width": 4}, "best_ask": {"dash": "dash", "width": 2},
                                   "twap": {"dash": "dot", "width": 3}, "vwap": {"dash": "dashdot", "width": 2},
                                   "ck": {"dash": "longdash", "width": 2}}
#: Regimes of the single-venue Cont–Kukanov optimum.
REGIME_COLORS: dict[str, str] = {"limit": "#2ca02c", "split": "#ff7f0e", "market": "#d62728"}
#: Fill kinds of a replay (by label); clean-up is grey everywhere.
FILL_KIND_COLORS: dict[str, str] = {"take": "#d62728", "rest": "#2ca02c", "cleanup": "#7f7f7f"}
CLEANUP_COLOR = "#7f7f7f"


def venue_id(key_or_name) -> str | None:
    """Canonical id (``"XNAS"``, ``"XNYS"``, …) of a venue name, or ``None`` when the name is not a known
    venue. Integer keys are never interpreted (a Databento publisher id and a TAQ letter code can collide)."""
    if key_or_name is None or not isinstance(key_or_name, str):
        return None
    s = key_or_name.strip().upper()
    if not s:
        return None
    if s in _ALIAS:
        return _ALIAS[s]
    m = _TAQ_SUFFIX.match(s)
    if m:  # "NASDAQ OMX BX (B)": the letter identifies the exchange
        return _ALIAS.get(m.group(2)) or _ALIAS.get(m.group(1).strip())
    parts = [p for p in s.split(".") if p]
    for p in reversed(parts):  # "DBEQ.BASIC.XCHI" -> XCHI; "XNAS.ITCH" -> XNAS
        if len(p) > 1 and p in _ALIAS:
            return _ALIAS[p]
    return None


def venue_label(key_or_name) -> str:
    """The table's readable label of a known venue, else the name as given."""
    vid = venue_id(key_or_name)
    return VENUES[vid][1] if vid else str(key_or_name)


def _slot(key_or_name) -> tuple[int, bool]:
    """(palette slot, known?) of one venue."""
    vid = venue_id(key_or_name)
    if vid is not None:
        return VENUES[vid][0], True
    text = key_or_name.strip() if isinstance(key_or_name, str) else f"key:{int(key_or_name)}"
    h = zlib.crc32(text.encode("utf-8"))
    return _FREE[h % len(_FREE)], False


def venue_color(key_or_name, name: str | None = None) -> str:
    """The colour of one venue: by its name (``name``, or ``key_or_name`` when that is a string), else by a
    stable hash of its key. The same venue always gets the same colour."""
    return PALETTE[_slot(name if name is not None else key_or_name)[0]]


def venue_colors(venues, names: Mapping[int, str] | None = None) -> dict:
    """Colour of each venue, keyed like the input.

    ``venues``: a :class:`~sorlib.data.MarketData` (keys -> colours, named by its ``venue_names``), an
    iterable of integer keys (named by ``names`` when given), or an iterable of names. Known venues keep
    their fixed colour; an unknown venue keeps its hashed colour unless a venue listed here already has it,
    in which case it takes the next colour no venue here uses (deterministic for a given set)."""
    if hasattr(venues, "venue_names") and hasattr(venues, "venues"):
        names = venues.venue_names
        venues = [int(v) for v in venues.venues]
    items = list(venues) if isinstance(venues, Iterable) else [venues]
    names = names or {}

    def ident(v):
        if isinstance(v, str):
            return v
        return names.get(int(v), int(v))

    slots = {v: _slot(ident(v)) for v in items}
    used = {s for s, known in slots.values() if known}
    out = {}
    order = sorted((v for v in items if not slots[v][1]), key=lambda v: str(ident(v)))
    for v in items:
        if slots[v][1]:
            out[v] = PALETTE[slots[v][0]]
    for v in order:
        s = slots[v][0]
        if s in used and len(used) < len(PALETTE):
            s = next(x for x in (*_FREE, *range(len(PALETTE))) if x not in used)
        used.add(s)
        out[v] = PALETTE[s]
    return {v: out[v] for v in items}


def strategy_color(name: str, fallback: int | None = None) -> str | None:
    """Colour of a strategy by name (``"router"``, ``"Best Ask"``, ``"router+TWAP"``…); for an unknown one
    :func:`series_color` of ``fallback`` when given, else ``None`` (Plotly picks)."""
    c = STRATEGY_COLORS.get(_strategy_key(name))
    if c is None and fallback is not None:
        return series_color(fallback)
    return c


def _strategy_key(name: str) -> str:
    key = str(name).strip().lower().replace(" ", "_").replace("-", "_").split(",")[0]
    if key.startswith("router_(") or key.startswith("router("):  # "router (spec mode)"
        key = "router"
    return {"best_ask": "best_ask", "bestask": "best_ask"}.get(key, key)


def strategy_line(name: str) -> dict:
    """Plotly ``line`` of a strategy: its colour, dash and width (:data:`STRATEGY_LINES`)."""
    key = _strategy_key(name)
    return {"color": STRATEGY_COLORS.get(key), **STRATEGY_LINES.get(key, {"dash": "solid", "width": 2})}


#: Colours of series that are not venues (e.g. one curve per parameter value), in order.
_SERIES = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


def series_color(i: int) -> str:
    return _SERIES[i % len(_SERIES)]


#: Dash, width and marker per series of a figure whose lines may coincide (equal costs under a layer, models
#: predicting alike): drawn in this order, a wide solid line under narrower dashed ones with other markers,
#: so every series stays visible where they overlap (the realism cost figure, the fill-validation figures).
SERIES_STYLES: tuple[tuple[str, int, str], ...] = (
    ("solid", 5, "circle"), ("longdash", 4, "square"), ("dashdot", 3, "diamond"), ("dash", 2, "triangle-up"),
    ("dot", 3, "x"), ("longdashdot", 2, "cross"), ("solid", 1, "star"), ("dash", 1, "triangle-down"))


def series_style(i: int) -> tuple[dict, dict]:
    """(``line`` without colour, ``marker`` without colour) of the ``i``-th series (:data:`SERIES_STYLES`):
    marker size grows with the line width, so a marker drawn later sits inside the one under it."""
    dash, width, symbol = SERIES_STYLES[i % len(SERIES_STYLES)]
    return {"dash": dash, "width": width}, {"symbol": symbol, "size": 6 + width}


def dodge(i: int, n: int, span: float = 0.3) -> float:
    """Horizontal offset of series ``i`` of ``n`` (centred on 0, ``span`` wide in all): markers at the same x
    (a category, a horizon) side by side instead of on top of each other; the hover states the true x."""
    return 0.0 if n <= 1 else span * (i / (n - 1) - 0.5)
