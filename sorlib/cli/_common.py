"""Options and helpers shared by sub-commands."""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter

from ..errors import ConfigError


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's defaults formatter that adds "(default: X)" only when the help text does not already state
    a default (no "(default 0) (default: 0)"), and never for None/False defaults."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("default" in text.lower() or any(action.default is x for x in (None, False, argparse.SUPPRESS))
                or not action.option_strings):
            return text
        return super()._get_help_string(action)


def add_data_args(p: argparse.ArgumentParser, nargs: str = "?", hours_auto: bool = False) -> None:
    """DATA and its selection options; ``hours_auto``: ``--regular-hours auto|on|off`` (default auto, as
    ``sorlib report``) instead of a plain on/off flag."""
    p.add_argument("data", nargs=nargs, metavar="DATA",
                   help="market data file (Databento CSV/DBN, AlgoSeek zip, TAQ CSV); "
                        "default: the embedded synthetic day")
    p.add_argument("--format", default="auto", choices=["auto", "databento", "algoseek", "taq"],
                   help="input format (default: detected)")
    if hours_auto:
        p.add_argument("--regular-hours", nargs="?", const="on", default="auto", choices=["auto", "on", "off"],
                       help="keep only 09:30-16:00 New York time: on (also the bare flag), off, or auto = whenever "
                            "the data extend beyond it, as 'sorlib report' (default auto; a line says what was done)")
    else:
        p.add_argument("--regular-hours", action="store_true", help="keep only 09:30-16:00 New York time")
    p.add_argument("--symbol", default=None, metavar="SYMBOL",
                   help="the instrument to keep (symbol or instrument_id) when a file holds several")
    p.add_argument("--date", default=None, metavar="YYYY-MM-DD",
                   help="the trading date to keep (New York time) when a file spans several")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic day and bootstraps")


#: Validation ranges of the numeric options (units in the help texts and the README's CLI section).
MAX_ORDER_SIZE = 100_000_000  # shares
MAX_SEED = 2**32 - 1


def _number_text(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return v


def real(lo: float, hi: float, unit: str, lo_open: bool = True):
    """argparse type: a finite float in (lo, hi] (``lo_open``) or [lo, hi], in ``unit``."""
    def parse(text: str) -> float:
        v = _number_text(text)
        if (v <= lo if lo_open else v < lo) or v > hi:
            left = "(" if lo_open else "["
            raise argparse.ArgumentTypeError(f"must be in {left}{lo:g}, {hi:g}] {unit}, got {text}")
        return v
    return parse


def whole(lo: int, hi: int, unit: str = ""):
    """argparse type: a whole number in [lo, hi] (``5000``, ``5e3`` and ``5000.0`` accepted), in ``unit``."""
    what = f"a whole number{' of ' + unit if unit else ''} in [{lo:,}, {hi:,}]"

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            try:
                f = float(text)
            except ValueError:
                f = math.nan
            if not (math.isfinite(f) and f.is_integer()):
                raise argparse.ArgumentTypeError(f"must be {what}, got {text}") from None
            v = int(f)
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
        return v
    parse.what = what  # type: ignore[attr-defined]
    return parse


#: ``--seed`` of every command: 0..2**32-1
seed_type = whole(0, MAX_SEED)


def add_config_args(p: argparse.ArgumentParser, every: float | None, every_help: str) -> None:
    """The :class:`~sorlib.backtest.BacktestConfig` options shared by ``backtest`` and ``search``.

    Mode-specific options default to None, so :func:`config_from_args` can reject them when given with
    another ``--mode`` (and fill in their defaults otherwise).
    """
    p.add_argument("--order-size", type=whole(1, MAX_ORDER_SIZE, "shares"), default=5000,
                   help=f"parent order size, shares, 1..{MAX_ORDER_SIZE:,}")
    p.add_argument("--venues", default=None, help="TOML file of venue profiles (fees in $/share)")
    p.add_argument("--mode", default="spec", choices=["spec", "uncapped", "ck"],
                   help="spec: the task's capped allocator; uncapped: excess rests at the bid; "
                        "ck: the Cont-Kukanov market + limit model")
    p.add_argument("--ck-horizon", type=real(0, 3600, "seconds"), default=None, metavar="SECONDS",
                   help="ck mode only: decision horizon T, (0, 3600] s (default 30)")
    p.add_argument("--every", type=real(0.01, 1440, "minutes", lo_open=False), default=every, metavar="MINUTES",
                   help=every_help + ", [0.01, 1440] min")
    p.add_argument("--horizon", type=real(0, 1440, "minutes"), default=10.0, metavar="MINUTES",
                   help="time each parent order has before the clean-up, (0, 1440] min")
    p.add_argument("--empty-policy", default=None, choices=["wait", "take_displayed", "best_ask_fallback"],
                   help="spec mode only: what the router does when no split sums to the remainder "
                        "(default take_displayed)")
    p.add_argument("--twap-bucket", type=real(0, 3600, "seconds"), default=60.0, metavar="SECONDS",
                   help="TWAP/VWAP bucket length, (0, 3600] s")
    p.add_argument("--vwap-weights", default="traded", choices=["traded", "displayed"],
                   help="VWAP venue weights: traded volume (lookback) or displayed size")
    p.add_argument("--rest-seconds", type=real(0, 3600, "seconds"), default=None, metavar="SECONDS",
                   help="uncapped mode only: how long resting limit orders live before re-deciding, "
                        "(0, 3600] s (default 30)")
    p.add_argument("--max-gap", type=real(0, 86400, "seconds"), default=60.0, metavar="SECONDS",
                   help="a stretch with no quote record longer than this is a data gap; parent orders whose "
                        "window overlaps one are not placed (and are reported), (0, 86400] s")
    p.add_argument("--fee-regime", default="cap30", choices=["cap30", "cap10"],
                   help="access-fee cap applied to the venue table: cap30 ($0.0030/share, Reg NMS Rule 610) or "
                        "cap10 ($0.0010/share, the SEC's 2024 amendment); taker fees above it are cut, rebates "
                        "keep the venue's net capture")
    p.add_argument("--market", default="frozen",
                   choices=["frozen", "latency", "impact", "fade", "queue", "realistic"],
                   help="market simulation (sorlib.sim): frozen = the recorded tape (default); latency = venue "
                        "latency_us; impact = square-root impact with decay; fade = other venues pull 16%% of "
                        "their size at a price we took; queue = probabilistic queue model for resting orders; "
                        "realistic = all four")
    p.add_argument("--max-child", type=whole(1, MAX_ORDER_SIZE, "shares"), default=None, metavar="SHARES",
                   help="largest child order (one venue, one decision), shares, 1..100,000,000 (default none)")
    p.add_argument("--participation", type=real(0, 100, "percent"), default=None, metavar="PCT",
                   help="participation cap: child orders plus own fills in the trailing window at most PCT %% of "
                        "the market's printed volume there, (0, 100] %% (default none)")
    p.add_argument("--participation-window", type=real(0, 86400, "seconds"), default=None, metavar="SECONDS",
                   help="only with --participation: trailing window, (0, 86400] s (default 60)")
    p.add_argument("--min-trade", type=whole(1, MAX_ORDER_SIZE, "shares"), default=None, metavar="SHARES",
                   help="smallest child order, shares (the venue table's min_size when larger; a final odd lot "
                        "completing the order is exempt), 1..100,000,000")
    p.add_argument("--lots", default="off", choices=["on", "off"],
                   help="on: child orders in whole lots of each venue's lot_size (venue table) or --lot-size; "
                        "a final odd lot completing the order is allowed (default off)")
    p.add_argument("--lot-size", type=whole(1, 1_000_000, "shares"), default=None, metavar="SHARES",
                   help="only with --lots on: one lot size for every venue, shares, 1..1,000,000")
    p.add_argument("--schedule", default=None, choices=["twap", "vwap", "ac", "adaptive"],
                   help="parent-order schedule for the router (buckets of --twap-bucket); default none: the "
                        "router trades the whole remainder at once")
    p.add_argument("--ac-risk-aversion", type=real(0, 1, "1/$", lo_open=False), default=None, metavar="PER_DOLLAR",
                   help="only with --schedule ac (or adaptive): Almgren-Chriss risk aversion lambda, 1/$, "
                        "[0, 1] (default 1e-6)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (shown on stderr when it is a terminal)")


def add_risk_args(p: argparse.ArgumentParser) -> None:
    """The risk controls of the router (:mod:`sorlib.risk`); each off unless given."""
    g = p.add_argument_group("risk controls (sorlib.risk; the router only, each off unless given)")
    g.add_argument("--exposure-pct", type=real(0, 100, "percent"), default=None, metavar="PCT",
                   help="per-venue exposure cap: at most PCT %% of each parent order filled at any one venue, "
                        "(0, 100] %%")
    g.add_argument("--exposure-shares", type=whole(1, MAX_ORDER_SIZE, "shares"), default=None, metavar="SHARES",
                   help="per-venue exposure cap in shares per parent order, 1..100,000,000")
    g.add_argument("--exposure-usd", type=real(0, 1e12, "$"), default=None, metavar="USD",
                   help="per-venue exposure cap in $ notional (price x shares, fees excluded) per parent order, "
                        "(0, 1e12] $")
    g.add_argument("--score-venues", default="off", choices=["on", "off"],
                   help="on: venue reliability scores (fill rate, fade rate, 5 s markout from our own past fills) "
                        "add a cost of up to 0.05 $/share to unreliable venues (default off)")
    g.add_argument("--luld-band", type=real(0, 100, "percent"), default=None, metavar="PCT",
                   help="circuit breaker: no routing while the NBBO mid is more than PCT %% from the 5-minute mean "
                        "trade price (LULD Tier 1: 5, Tier 2: 10), (0, 100] %%")
    g.add_argument("--halt-gap", type=real(0, 86400, "seconds"), default=None, metavar="SECONDS",
                   help="no quote for more than SECONDS is a halt: no routing until quotes have flowed that long "
                        "again, (0, 86400] s")
    g.add_argument("--kill-bps", type=real(0, 10000, "bps"), default=None, metavar="BPS",
                   help="kill switch: stop routing a parent order once its fills' average price (incl. fees) is "
                        "more than BPS above the arrival mid, (0, 10000] bps")
    g.add_argument("--latency-aware", default="off", choices=["off", "cap", "cost"],
                   help="discount each venue's displayed touch by its survival over the venue's latency_us "
                        "(estimated from the last 5 min of quotes): cap = displayed x survival; cost = 0.01 $/share "
                        "x (1 - survival) (default off)")


def risk_from_args(args: argparse.Namespace):
    """The :class:`~sorlib.risk.RiskControls` of :func:`add_risk_args`' options (None when none is given)."""
    g = lambda name, default=None: getattr(args, name, default)  # noqa: E731
    ex = {k: g(a) for k, a in (("pct", "exposure_pct"), ("shares", "exposure_shares"), ("usd", "exposure_usd"))
          if g(a) is not None}
    risk = {}
    if ex:
        risk["exposure"] = ex
    if g("score_venues", "off") == "on":
        risk["scoring"] = {}
    if g("latency_aware", "off") != "off":
        risk["latency"] = {"mode": g("latency_aware")}
    for opt, key in (("luld_band", "luld_band_pct"), ("halt_gap", "halt_gap_seconds"), ("kill_bps", "kill_bps")):
        if g(opt) is not None:
            risk[key] = g(opt)
    if not risk:
        return None
    from ..risk import RiskControls

    return RiskControls.from_dict(risk)


#: option -> (attribute, the mode it applies to, its default)
_MODE_OPTIONS = {"--rest-seconds": ("rest_seconds", "uncapped", 30.0),
                 "--ck-horizon": ("ck_horizon", "ck", 30.0),
                 "--empty-policy": ("empty_policy", "spec", "take_displayed")}


def check_common(args: argparse.Namespace) -> None:
    """Checks of the options of :func:`add_data_args` that argparse cannot express (same as ``synth``)."""
    seed = getattr(args, "seed", 0)
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"argument --seed: must be {seed_type.what}, got {seed}")
    data = getattr(args, "data", None)
    if getattr(args, "format", "auto") not in (None, "auto") and not data:
        raise ConfigError(f"--format {args.format} applies only to DATA files; give a DATA path or drop --format")


def config_from_args(args: argparse.Namespace, **extra):
    """The :class:`~sorlib.backtest.BacktestConfig` of the options of :func:`add_config_args`.

    An option that does not apply to ``--mode`` is a :class:`~sorlib.errors.ConfigError`, not ignored.
    """
    from ..backtest import BacktestConfig

    check_common(args)
    values = {}
    for opt, (attr, mode, default) in _MODE_OPTIONS.items():
        v = getattr(args, attr)
        if v is not None and args.mode != mode:
            raise ConfigError(f"{opt} applies only to --mode {mode} (this run is --mode {args.mode}); "
                              f"drop {opt} or use --mode {mode}")
        values[attr] = default if v is None else v
    return BacktestConfig(order_size=args.order_size, mode=args.mode, every_minutes=args.every,
                          horizon_minutes=args.horizon, empty_policy=values["empty_policy"],
                          twap_bucket_seconds=args.twap_bucket, vwap_weights=args.vwap_weights,
                          rest_seconds=values["rest_seconds"], ck_horizon_seconds=values["ck_horizon"],
                          max_gap_seconds=args.max_gap, seed=args.seed, market=getattr(args, "market", "frozen"),
                          fee_regime=getattr(args, "fee_regime", "cap30"), risk=risk_from_args(args),
                          **_sizing_schedule(args), **extra)


def _sizing_schedule(args: argparse.Namespace) -> dict:
    """The sizing and schedule fields of :class:`~sorlib.backtest.BacktestConfig`; an option given without the
    one it refines is a :class:`~sorlib.errors.ConfigError`."""
    g = lambda name, default=None: getattr(args, name, default)  # noqa: E731
    if g("participation_window") is not None and g("participation") is None:
        raise ConfigError("--participation-window applies only with --participation PCT; add it or drop the window")
    if g("lot_size") is not None and g("lots", "off") != "on":
        raise ConfigError("--lot-size applies only with --lots on; add --lots on or drop --lot-size")
    if g("ac_risk_aversion") is not None and g("schedule") not in ("ac", "adaptive"):
        raise ConfigError("--ac-risk-aversion applies only with --schedule ac or adaptive")
    out = {"max_child": g("max_child"), "participation_pct": g("participation"), "min_trade": g("min_trade"),
           "lots": g("lots", "off") == "on", "lot_size": g("lot_size"), "schedule": g("schedule")}
    if g("participation_window") is not None:
        out["participation_window_seconds"] = g("participation_window")
    if g("ac_risk_aversion") is not None:
        out["ac_risk_aversion"] = g("ac_risk_aversion")
    return out


def show_progress(args: argparse.Namespace) -> bool | str:
    """A tqdm bar on stderr when it is a terminal, ``"lines"`` (a plain progress line now and then, for logs
    and pipes) when it is not, False with ``--no-progress``."""
    if getattr(args, "no_progress", False):
        return False
    return True if sys.stderr.isatty() else "lines"


def matters(cfg, params: dict[str, float]) -> dict[str, bool]:
    """Per router parameter of ``params`` ($/share): can it change a child order in ``cfg.mode``? Decided by
    the router's own :meth:`~sorlib.strategies.Router.decision_key`: the parameter matters when moving it
    alone (x2 + 0.001 $/share) changes the key (routers without a key: every parameter matters)."""
    from ..backtest import router_for

    base = router_for(cfg, dict(params))
    if not hasattr(base, "decision_key"):
        return {k: True for k in params}
    key = tuple(base.decision_key())
    return {k: tuple(router_for(cfg, {**params, k: float(v) * 2 + 0.001}).decision_key()) != key
            for k, v in params.items()}


def choice_text(cfg, params: dict[str, float]) -> str:
    """The chosen router parameters as a sentence part, naming only those that can matter in the mode:
    ``lambda_under 0.01, theta_queue 0.005 $/share (lambda_over cannot change a route in uncapped mode)``."""
    m = matters(cfg, params)
    shown = ", ".join(f"{k} {v:g}" for k, v in params.items() if m[k])
    idle = [k for k in params if not m[k]]
    text = f"{shown} $/share" if shown else "no parameter choice"
    if idle:
        text += f" ({', '.join(idle)} cannot change a route in {cfg.mode} mode)"
    return text


def regular_hours_flag(value) -> bool | str:
    """``--regular-hours`` (auto/on/off; True/False from older callers) as True, False or ``"auto"``."""
    if isinstance(value, bool):
        return value
    return {"on": True, "off": False}.get(str(value), "auto")


def load_data(path: str | None, fmt: str = "auto", regular_hours: bool | str = "auto", seed: int = 0, *,
              symbol: str | None = None, date: str | None = None, prog: str = "sorlib"):
    """The market data at ``path``, or the embedded synthetic default day when ``path`` is None.

    ``regular_hours``: on/True keeps 09:30-16:00 New York time, off/False everything, ``"auto"`` (the
    default, as ``sorlib report``) keeps 09:30-16:00 whenever the data extend beyond it; one line on stdout
    says what was done when the data extend beyond it.
    ``symbol`` / ``date`` (YYYY-MM-DD, New York) pick one instrument / trading date of a file holding
    several (see :func:`sorlib.data.load`); they need a DATA file.
    """
    if path is None:
        if symbol is not None or date is not None:
            raise ConfigError("--symbol and --date select rows of a DATA file; give one (the synthetic day "
                              "has one instrument and one date)")
        from ..synth import default_market

        md = default_market(seed=seed)
    else:
        from ..data import load

        # DBN decoding (a big day's cache build takes minutes): a bar on a terminal, else a line every 30 s
        md = load(path, format=fmt, symbol=symbol, date=date, progress=True if sys.stderr.isatty() else None)
    setting = regular_hours_flag(regular_hours)
    if setting is False:
        return md
    from ..report import session_span

    span = session_span(md)
    if setting == "auto" and not span["outside"]:
        return md
    if span["outside"]:
        how = ("automatically (--regular-hours auto; --regular-hours off keeps them)" if setting == "auto"
               else "(--regular-hours on)")
        print(f"{prog}: the data run {span['first']}-{span['last']} New York time; "
              f"{100.0 * span['outside'] / span['rows']:.0f}% of the rows fall outside 09:30-16:00 New York time "
              f"and were dropped {how}", flush=True)
    from ..search.executors import session_rows

    return session_rows(md)  # md.regular_hours(), as views of a mapped day cache when the session is one run


def read_grid(spec: str) -> str | dict:
    """``--grid``: a named grid or a TOML/JSON space file, parsed by the one space parser of ``search``
    (:func:`sorlib.search.space.backtest_grid`): lists, ``{log = [lo, hi, n]}``, ``{linspace = ...}``."""
    from ..search.space import backtest_grid

    return backtest_grid(spec)


def result_warnings(r: dict, out: str) -> list[str]:
    """One line each for parent orders never placed and for clean-up shares bought past the visible book
    (keys added to the results by the backtest; absent keys mean nothing to report)."""
    lines = []
    unplaced = r.get("unplaced_orders") or []
    if unplaced:
        reasons = Counter(str(u.get("reason", "unknown")) if isinstance(u, dict) else "unknown" for u in unplaced)
        total = r.get("parent_orders", "?")
        lines.append(f"{len(unplaced)} of {total + len(unplaced) if isinstance(total, int) else total} parent "
                     "orders not placed: " + ", ".join(f"{k} x{n}" for k, n in reasons.most_common())
                     + (" (times UTC)" if any("gap" in k for k in reasons) else "") + f"; see {out}")
    beyond = r.get("cleanup_beyond_book_shares") or {}
    if isinstance(beyond, dict):
        over = {k: v for k, v in beyond.items() if isinstance(v, int | float) and v > 0}
        if over:
            rule = ((r.get("market") or {}).get("parameters") or {}).get("cleanup", {}).get("rule", "flat")
            how = {"flat": "priced at the worst visible ask + 1 tick",
                   "ladder": "priced at the worst visible ask + 1 tick per 100 shares",
                   "depth": "priced along each visible venue's depth profile"}.get(rule, f"priced by the {rule} rule")
            lines.append(f"clean-up bought shares past the visible book ({how}): "
                         + ", ".join(f"{k} {int(v):,}" for k, v in over.items()) + f" shares; see {out}")
    check = r.get("cleanup_check") or {}
    if check.get("withheld"):  # sorlib.metrics.cleanup_check: the clean-up dominates the router's cost
        lines.append(f"{check['message']}; see cleanup_check in {out}")
    return lines
