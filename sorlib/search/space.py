"""Search spaces: the named grids, custom ranges, seeded random draws, and TOML/JSON files.

Every parameter is in $/share (``lambda_over``, ``lambda_under``, ``theta_queue``; see
:mod:`sorlib.strategies.router`). A space is an ordered list of points; ties are broken by that order.

Per parameter, a *range* is one of

* a list of values ``[0.01, 0.05, 0.1]`` or a single number;
* ``{"log": [lo, hi, n]}`` — n log-spaced values (lo > 0);
* ``{"linspace": [lo, hi, n]}`` — n evenly spaced values;

and the grid is their Cartesian product. A *distribution* for random search is
``{"uniform": [lo, hi]}`` or ``{"loguniform": [lo, hi]}`` (or a list of values to pick from).

A file holds either the ranges at top level (or under ``[grid]``), or a ``[random]`` table with ``n``,
``seed`` and one distribution per parameter::

    [random]
    n = 50
    seed = 7
    lambda_over = {loguniform = [1.0, 20.0]}
    lambda_under = {loguniform = [0.005, 0.2]}
    theta_queue = {uniform = [0.0, 0.1]}
"""

from __future__ import annotations

import itertools
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..backtest import GRIDS, PARAMS
from ..errors import ConfigError

__all__ = ["MAX_EXTENSIONS", "SearchSpace", "backtest_grid", "expand_range", "extend_until_interior", "extend_value", "grid_axes",
           "grid_space", "load_space", "point_edges", "product_space", "random_space", "resolve_space"]


@dataclass(frozen=True)
class SearchSpace:
    """An ordered list of parameter points ($/share) and where it came from."""

    points: tuple[tuple[float, float, float], ...]
    name: str = "custom"
    description: dict = field(default_factory=dict, compare=False)

    def __len__(self) -> int:
        return len(self.points)

    def dicts(self) -> list[dict[str, float]]:
        """The points as ``{param: value}`` dicts, in order."""
        return [dict(zip(PARAMS, p, strict=True)) for p in self.points]

    def bounds(self) -> dict[str, tuple[float, float]]:
        """Per parameter, the smallest and largest value in the space."""
        arr = np.array(self.points, float).reshape(-1, len(PARAMS))
        return {p: (float(arr[:, i].min()), float(arr[:, i].max())) for i, p in enumerate(PARAMS)}


def _where(where: str | None) -> str:
    return f"{where}: " if where else ""


def _number(v: Any, what: str, where: str | None) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ConfigError(f"{_where(where)}{what} must be a finite number ($/share), got {v!r}")
    if v < 0:
        raise ConfigError(f"{_where(where)}{what} must be >= 0 ($/share), got {v!r}")
    return float(v)


def _triple(spec: Any, kind: str, param: str, where: str | None) -> tuple[float, float, int]:
    if not (isinstance(spec, list | tuple) and len(spec) == 3):
        raise ConfigError(f"{_where(where)}'{param}': {{{kind} = [lo, hi, n]}} needs three numbers, got {spec!r}")
    lo, hi = (_number(x, f"'{param}' {kind} bound", where) for x in spec[:2])
    n = spec[2]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f"{_where(where)}'{param}': {kind} count must be a whole number >= 1, got {n!r}")
    if hi < lo:
        raise ConfigError(f"{_where(where)}'{param}': {kind} needs lo <= hi, got [{lo}, {hi}]; swap them")
    if kind == "log" and lo <= 0:
        raise ConfigError(f"{_where(where)}'{param}': log spacing needs lo > 0, got {lo}; "
                          "use linspace or a positive lower bound")
    return lo, hi, n


def expand_range(spec: Any, param: str, where: str | None = None) -> list[float]:
    """The values of one parameter range (list, number, ``{"log": …}`` or ``{"linspace": …}``), $/share."""
    if isinstance(spec, dict):
        if len(spec) != 1 or next(iter(spec)) not in ("log", "linspace"):
            raise ConfigError(f"{_where(where)}'{param}': a range table must be {{log = [lo, hi, n]}} or "
                              f"{{linspace = [lo, hi, n]}}, got {spec!r}")
        kind, body = next(iter(spec.items()))
        lo, hi, n = _triple(body, kind, param, where)
        vals = np.geomspace(lo, hi, n) if kind == "log" else np.linspace(lo, hi, n)
        return [float(v) for v in vals]
    if isinstance(spec, list | tuple):
        if not spec:
            raise ConfigError(f"{_where(where)}'{param}' is an empty list; give at least one value ($/share)")
        return [_number(v, f"'{param}' value", where) for v in spec]
    return [_number(spec, f"'{param}'", where)]


def _check_keys(doc: dict, allowed: set[str], where: str | None) -> None:
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise ConfigError(f"{_where(where)}unknown key(s) {unknown}; expected {sorted(allowed)}")


def _dedupe(points: list[tuple[float, ...]]) -> tuple[tuple[float, float, float], ...]:
    return tuple(dict.fromkeys(points))  # keeps the first of exact duplicates, in order


def grid_space(ranges: str | dict, where: str | None = None) -> SearchSpace:
    """A named grid (``"penalty"``, ``"bps"``; DESIGN §8) or the product of ``{param: range}``."""
    if isinstance(ranges, str):
        if ranges not in GRIDS:
            raise ConfigError(f"unknown grid {ranges!r}: use one of {sorted(GRIDS)} or a TOML/JSON file")
        return SearchSpace(_dedupe(list(itertools.product(*(GRIDS[ranges][p] for p in PARAMS)))), ranges,
                           {"grid": ranges})
    if not isinstance(ranges, dict):
        raise ConfigError(f"{_where(where)}a grid must be a table of {list(PARAMS)}, got {type(ranges).__name__}")
    _check_keys(ranges, set(PARAMS), where)
    missing = [p for p in PARAMS if p not in ranges]
    if missing:
        raise ConfigError(f"{_where(where)}grid lacks {missing}; give a list, {{log = [lo, hi, n]}} or "
                          f"{{linspace = [lo, hi, n]}} for each of {list(PARAMS)} ($/share)")
    values = [expand_range(ranges[p], p, where) for p in PARAMS]
    return SearchSpace(_dedupe(list(itertools.product(*values))), "custom", {"grid": ranges})


def _draw(spec: Any, param: str, n: int, rng: np.random.Generator, where: str | None) -> np.ndarray:
    if isinstance(spec, list | tuple):
        vals = np.array(expand_range(list(spec), param, where))
        return vals[rng.integers(0, vals.size, n)]
    if not (isinstance(spec, dict) and len(spec) == 1 and next(iter(spec)) in ("uniform", "loguniform")):
        raise ConfigError(f"{_where(where)}'{param}': a distribution is {{uniform = [lo, hi]}}, "
                          f"{{loguniform = [lo, hi]}} or a list of values, got {spec!r}")
    kind, body = next(iter(spec.items()))
    if not (isinstance(body, list | tuple) and len(body) == 2):
        raise ConfigError(f"{_where(where)}'{param}': {kind} needs [lo, hi], got {body!r}")
    lo, hi = (_number(x, f"'{param}' {kind} bound", where) for x in body)
    if hi < lo:
        raise ConfigError(f"{_where(where)}'{param}': {kind} needs lo <= hi, got [{lo}, {hi}]; swap them")
    if kind == "loguniform":
        if lo <= 0:
            raise ConfigError(f"{_where(where)}'{param}': loguniform needs lo > 0, got {lo}; use uniform")
        return np.exp(rng.uniform(np.log(lo), np.log(hi), n))
    return rng.uniform(lo, hi, n)


def random_space(dists: dict, n: int, seed: int = 0, where: str | None = None) -> SearchSpace:
    """``n`` seeded draws; ``dists`` maps each parameter to a distribution (see module docstring).

    Parameters are drawn in :data:`~sorlib.backtest.PARAMS` order from one ``numpy`` generator, so the
    same ``(dists, n, seed)`` always gives the same points.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ConfigError(f"{_where(where)}random search needs n >= 1 draws, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"{_where(where)}random seed must be a whole number >= 0, got {seed!r}")
    if not isinstance(dists, dict):
        raise ConfigError(f"{_where(where)}random search needs a table of distributions per parameter")
    _check_keys(dists, set(PARAMS), where)
    missing = [p for p in PARAMS if p not in dists]
    if missing:
        raise ConfigError(f"{_where(where)}random search lacks {missing}; give {{uniform = [lo, hi]}} or "
                          f"{{loguniform = [lo, hi]}} for each of {list(PARAMS)} ($/share)")
    rng = np.random.default_rng(int(seed))
    cols = [_draw(dists[p], p, int(n), rng, where) for p in PARAMS]
    pts = [tuple(float(c[i]) for c in cols) for i in range(int(n))]
    return SearchSpace(_dedupe(pts), "random", {"random": {"n": int(n), "seed": int(seed), **dists}})


def random_within(space: SearchSpace, n: int, seed: int = 0) -> SearchSpace:
    """``n`` draws inside the bounds of ``space``: log-uniform where the lower bound is > 0, else uniform."""
    dists = {p: ({"loguniform": [lo, hi]} if lo > 0 else {"uniform": [lo, hi]})
             for p, (lo, hi) in space.bounds().items()}
    out = random_space(dists, n, seed)
    return SearchSpace(out.points, f"random({space.name})", out.description)


def _read_doc(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(f"{path}: no such space file; pass 'penalty', 'bps' or an existing TOML/JSON file")
    text = path.read_text()
    try:
        doc = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: cannot parse the space file ({e}); check its TOML/JSON syntax") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: the space file must hold a table, got {type(doc).__name__}")
    return doc


def space_from_doc(doc: dict, where: str | None = None) -> SearchSpace:
    """A space from a parsed file: ranges at top level, under ``grid``, or a ``random`` table."""
    if "random" in doc:
        _check_keys(doc, {"random"}, where)
        body = dict(doc["random"]) if isinstance(doc["random"], dict) else None
        if body is None:
            raise ConfigError(f"{_where(where)}[random] must be a table with n, seed and distributions")
        n, seed = body.pop("n", None), body.pop("seed", 0)
        if n is None:
            raise ConfigError(f"{_where(where)}[random] needs n = <number of draws>")
        return random_space(body, n, seed, where)
    if "grid" in doc:
        _check_keys(doc, {"grid"}, where)
        return grid_space(doc["grid"], where)
    return grid_space(doc, where)


def load_space(path: str | Path) -> SearchSpace:
    """Read a TOML/JSON space file (see the module docstring)."""
    p = Path(path)
    space = space_from_doc(_read_doc(p), str(p))
    return SearchSpace(space.points, p.stem, {**space.description, "file": str(p)})


def resolve_space(spec: str | dict | SearchSpace | Path = "penalty", random: int | None = None,
                  seed: int = 0) -> SearchSpace:
    """A :class:`SearchSpace` from a grid name, a file path, a ``{param: range}`` dict or a space.

    With ``random=N`` the result is ``N`` seeded draws within the bounds of that space (log-uniform for
    positive bounds) instead of the grid itself.
    """
    if isinstance(spec, SearchSpace):
        space = spec
    elif isinstance(spec, dict):
        space = space_from_doc(spec)
    elif isinstance(spec, str) and spec in GRIDS:
        space = grid_space(spec)
    elif isinstance(spec, str | Path):
        space = load_space(spec)
    else:
        raise ConfigError(f"a search space is a grid name {sorted(GRIDS)}, a file or a table, got {spec!r}")
    return random_within(space, random, seed) if random is not None else space


def backtest_grid(spec: str | Path) -> str | dict[str, list[float]]:
    """``--grid`` of ``sorlib backtest``, read by the same parser as ``sorlib search``'s spaces.

    A grid name is returned as is; a TOML/JSON file becomes ``{param: [values]}`` (lists, ``{log = …}``
    and ``{linspace = …}`` expanded; unknown keys and bad values are errors naming them), which is the
    product grid :func:`sorlib.backtest.grid_points` takes. ``[random]`` draws are not a product grid:
    they are for ``sorlib search``.
    """
    if isinstance(spec, str) and spec in GRIDS:
        return spec
    p = Path(spec)
    if not p.is_file():
        raise ConfigError(f"--grid {str(spec)!r}: not {' or '.join(repr(g) for g in sorted(GRIDS))} "
                          "or an existing TOML/JSON file")
    doc = _read_doc(p)
    where = str(p)
    if "random" in doc:
        space_from_doc(doc, where)  # its own errors first
        raise ConfigError(f"{where}: a [random] space is for 'sorlib search'; 'sorlib backtest --grid' takes "
                          "lists, {log = [lo, hi, n]} or {linspace = [lo, hi, n]} per parameter")
    if "grid" in doc:
        _check_keys(doc, {"grid"}, where)
        doc = doc["grid"]
    grid_space(doc, where)  # validates keys, ranges and values
    return {p_: list(dict.fromkeys(expand_range(doc[p_], p_, where))) for p_ in PARAMS}


# ------------------------------------------------------------------------------------------- grid edges
#: ``--extend-grid``: at most this many new values per parameter and side
MAX_EXTENSIONS = 6


def grid_axes(points) -> dict[str, list[float]] | None:
    """Per parameter, its sorted distinct values ($/share), when ``points`` (a DataFrame with the
    :data:`PARAMS` columns, or a :class:`SearchSpace`) are exactly their Cartesian product; else None
    (random draws, hand-picked point lists: they have no edges to speak of)."""
    arr = np.array(points.points if isinstance(points, SearchSpace) else points[list(PARAMS)].to_numpy(float),
                   float).reshape(-1, len(PARAMS))
    axes = {p: sorted({float(v) for v in arr[:, i]}) for i, p in enumerate(PARAMS)}
    distinct = {tuple(float(x) for x in row) for row in arr}
    return axes if len(distinct) == math.prod(len(v) for v in axes.values()) else None


def point_edges(points, i: int, cost=None) -> list[dict]:
    """The edges of the product grid on which point ``i`` (a row position of ``points``: a DataFrame with
    ``group`` and the :data:`PARAMS` columns, as :class:`~.walkforward.CostMatrix.points`) lies, along the
    axes that can matter: ``[{"parameter", "side": "low"|"high", "value"}]`` ($/share).

    An axis *can matter* when the points that differ from ``i`` along it alone are not all one distinct
    router (``group``: equal :meth:`~sorlib.strategies.Router.decision_key`) — so none in spec mode,
    ``lambda_under`` and ``theta_queue`` in uncapped mode (``lambda_over`` never acts there), all three in
    ck mode. Axes with a single value are settings, not searched, and have no edge. Empty for a
    non-product space. With ``cost`` (total $ per point, the values the choice minimised) an edge counts only
    when the neighbour one step inward costs more (by > 1e-6 $): on a flat stretch the first point in grid
    order wins the tie, which says nothing about an optimum beyond the grid."""
    axes = grid_axes(points)
    if axes is None:
        return []
    row = points.iloc[i]
    out = []
    for p in PARAMS:
        vals = axes[p]
        v = float(row[p])
        side = "low" if v == vals[0] else "high" if v == vals[-1] else None
        if len(vals) < 2 or side is None:
            continue
        line = np.logical_and.reduce([points[q].to_numpy(float) == float(row[q]) for q in PARAMS if q != p])
        if not (points["group"].to_numpy()[line].size and np.unique(points["group"].to_numpy()[line]).size > 1):
            continue
        if cost is not None:
            inward = vals[1] if side == "low" else vals[-2]
            j = np.flatnonzero(line & (points[p].to_numpy(float) == inward))
            if j.size and float(np.asarray(cost, float)[j[0]]) <= float(np.asarray(cost, float)[i]) + 1e-6:
                continue  # tied with the inward neighbour: an interior point does as well
        out.append({"parameter": p, "side": side, "value": v})
    return out


def extend_value(values: list[float], side: str) -> float | None:
    """The next value beyond the ``"low"``/``"high"`` end of one axis, continuing its own spacing ($/share).

    Geometric — the axis' smallest ratio between neighbours (its finest spacing): ``[0.01, 0.05, 0.1]`` →
    0.005 below, 0.2 above — when every value is > 0 and the axis is not evenly spaced (or has two
    values); linear — its smallest difference, never below 0 — when it holds 0 or is evenly spaced with
    three values or more (``linspace``). None when it cannot go further: one value, or already at 0 below.
    """
    vals = sorted({float(v) for v in values})
    if len(vals) < 2 or side not in ("low", "high"):
        return None
    diffs = np.diff(vals)
    linear = vals[0] <= 0 or (len(vals) >= 3 and np.allclose(diffs, diffs[0], rtol=1e-9, atol=0))
    if linear:
        step = float(diffs.min())
        if side == "high":
            return vals[-1] + step
        return max(vals[0] - step, 0.0) if vals[0] > 0 else None
    ratio = float(min(b / a for a, b in zip(vals[:-1], vals[1:], strict=True)))
    return vals[0] / ratio if side == "low" else vals[-1] * ratio


def product_space(axes: dict[str, list[float]], name: str = "custom", description: dict | None = None) -> SearchSpace:
    """The Cartesian product of ``{param: values}`` ($/share), values sorted, in :data:`PARAMS` order."""
    values = [sorted({float(v) for v in axes[p]}) for p in PARAMS]
    return SearchSpace(_dedupe(list(itertools.product(*values))), name, dict(description or {}))


#: what :func:`extend_until_interior` says about the folds sharing one candidate set
SHARED_CANDIDATES_NOTE = ("The candidate set is shared by the folds: it was extended until every fold's training "
                          "choice (and the in-sample best) was interior; each fold still chose on its own training "
                          "block only.")


def extend_until_interior(space: SearchSpace, evaluate, cap: int = MAX_EXTENSIONS):
    """Grow a product grid until no chosen point lies on an edge that can matter.

    ``evaluate(space) -> (result, edges)``: runs the search on ``space`` and lists every edge a chosen point
    lies on (``[{"parameter", "side", ...}]``: in-sample best and each fold's training choice). Each round
    adds, for every (parameter, side) listed, :func:`extend_value` beyond that end — at most ``cap`` values
    per parameter and side — and evaluates again. A low side still on the edge after its ``cap`` geometric
    steps (which never reach 0) gets the domain bound 0 itself as one more value. Returns the last
    ``(result, info)``; ``info["status"]`` is ``"interior"`` (no edge left), ``"cap reached"`` (a high side,
    or a linear axis, still on its edge) or ``"at the bound 0"`` (the choice is a penalty of 0 $/share: the
    optimum lies on the domain's edge, not beyond the grid), with ``still_on_edge`` naming the sides and
    why."""
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        raise ConfigError(f"grid extensions per axis must be a whole number >= 1, got {cap!r}")
    axes = grid_axes(space)
    if axes is None:
        raise ConfigError(f"--extend-grid needs a product grid (lists or ranges per parameter); space "
                          f"{space.name!r} is a list of {len(space)} points")
    first = {p: list(v) for p, v in axes.items()}
    added = {p: {"low": 0, "high": 0} for p in PARAMS}
    rounds, status, stuck = 0, "interior", []
    while True:
        name, desc = ((space.name, space.description) if rounds == 0 else
                      (f"{space.name}+extended", {"grid": {p: list(v) for p, v in axes.items()},
                                                  "extended_from": space.description}))
        result, edges = evaluate(product_space(axes, name, desc))
        rounds += 1
        sides = sorted({(e["parameter"], e["side"]) for e in edges}, key=lambda t: (PARAMS.index(t[0]), t[1]))
        stuck = []
        for p, side in sides:
            nxt = extend_value(axes[p], side) if added[p][side] < cap else None
            if nxt is None and side == "low" and axes[p][0] > 0:
                nxt = 0.0  # the geometric walk never reaches 0: try the domain bound itself once
            if nxt is None or nxt in axes[p]:
                at_zero = side == "low" and axes[p][0] <= 0
                stuck.append({"parameter": p, "side": side, "value": axes[p][0 if side == "low" else -1],
                              "reason": "at the domain bound 0 (a penalty cannot be negative)" if at_zero
                              else f"cap of {cap} extension(s) reached"})
                continue
            axes[p] = sorted([*axes[p], nxt])
            added[p][side] += 1
        if not sides:
            break
        if len(stuck) == len(sides):  # nothing grew: stop
            status = "cap reached" if any(s_["reason"].startswith("cap") for s_ in stuck) else "at the bound 0"
            break
    info = {"status": status, "rounds": rounds, "cap_per_axis_side": cap, "added": added,
            "initial_axes": first, "final_axes": {p: list(v) for p, v in axes.items()},
            "still_on_edge": stuck if status != "interior" else [], "note": SHARED_CANDIDATES_NOTE}
    return result, info
