"""``sorlib backtest DATA --orders FILE [--executions FILE]``: the desk's own orders instead of the fixed
schedule (:mod:`sorlib.flow`). DATA may be a file or a folder of files of several symbols and days.

``--orders`` replaces ``--order-size``, ``--every``, ``--horizon`` and ``--side`` (giving one of them too is
an error, as are ``--symbol``, ``--date`` and ``--plots``, which do not apply); every other option acts as in
the fixed-schedule backtest. Outputs: the results JSON (``--out``) and the per-order CSV (``--orders-csv``,
default ``<out stem>_orders.csv`` next to ``--out``), both written atomically.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError


class _DefaultInt(int):
    """An option's default that the user did not type (tells "not given" from "given the default value")."""


class _DefaultFloat(float):
    """See :class:`_DefaultInt`."""


class _DefaultStr(str):
    """See :class:`_DefaultInt`."""


#: The fixed-schedule options --orders replaces: dest -> its flag.
_REPLACED = {"order_size": "--order-size", "every": "--every", "horizon": "--horizon", "side": "--side"}


def add_orders_args(p) -> None:
    """``--orders``, ``--executions`` and ``--orders-csv``; marks the replaced options' defaults."""
    g = p.add_argument_group("your own orders (sorlib.flow; instead of the fixed schedule)")
    g.add_argument("--orders", default=None, metavar="FILE",
                   help="orders file (CSV or Parquet): time, side, quantity, optional limit_price, deadline or "
                        "horizon_seconds (default 600 s), symbol (needed when DATA holds several), order_id; "
                        "replaces --order-size/--every/--horizon/--side. DATA may be a folder of files")
    g.add_argument("--executions", default=None, metavar="FILE",
                   help="only with --orders: the desk's real fills (time, order_id, venue, side, quantity, price, "
                        "fee or liquidity A/R), analysed beside the routers")
    g.add_argument("--orders-csv", default=None, metavar="PATH",
                   help="only with --orders: per-order CSV (default: <--out stem>_orders.csv)")
    p.set_defaults(order_size=_DefaultInt(p.get_default("order_size")),
                   horizon=_DefaultFloat(p.get_default("horizon")), side=_DefaultStr(p.get_default("side")))


def wants_orders(args) -> bool:
    """The run is an orders-file run, or an option of one was given without --orders (an error)."""
    if args.orders is None:
        for opt in ("executions", "orders_csv"):
            if getattr(args, opt, None) is not None:
                raise ConfigError(f"--{opt.replace('_', '-')} applies only with --orders FILE; add it or drop "
                                  f"--{opt.replace('_', '-')}")
        return False
    return True


def _check(args) -> None:
    for dest, flag in _REPLACED.items():
        v = getattr(args, dest, None)
        if v is not None and not isinstance(v, _DefaultInt | _DefaultFloat | _DefaultStr):
            raise ConfigError(f"{flag} sets the fixed schedule, which --orders replaces (each order has its own "
                              f"size, side and deadline); drop {flag} or --orders")
    for dest, flag in (("symbol", "--symbol"), ("date", "--date"), ("plots", "--plots")):
        if getattr(args, dest, None) is not None:
            raise ConfigError(f"{flag} does not apply with --orders (the orders file names each order's symbol and "
                              f"time{'; per-order results are in the CSV' if dest == 'plots' else ''}); drop {flag}")


def run_orders(args) -> int:
    """Check everything the user gave, run :func:`sorlib.flow.run_flow`, write the outputs, print a summary."""
    from .._io import atomic_write_json, atomic_write_text, check_output_file
    from ..data.orders import read_orders
    from ..flow import run_flow
    from ._common import config_from_args, read_grid, regular_hours_flag

    _check(args)
    cfg = config_from_args(args, grid=read_grid(args.grid))
    cfg.validate()
    out = check_output_file(args.out, "--out")
    csv_path = Path(args.orders_csv) if args.orders_csv else out.with_name(out.stem + "_orders.csv")
    check_output_file(csv_path, "--orders-csv")
    orders = read_orders(args.orders)
    if args.data is None:
        from ..synth import default_market

        data = [default_market(seed=args.seed)]
    else:
        data = args.data
    print(f"backtest: {len(orders):,} order(s) from {args.orders}"
          + (f", real fills from {args.executions}" if args.executions else ""), flush=True)
    res = run_flow(data, orders, cfg, executions=args.executions, fmt=args.format,
                   regular_hours=regular_hours_flag(args.regular_hours), venues_file=args.venues)
    atomic_write_json(out, res.results)
    atomic_write_text(csv_path, res.rows.to_csv(index=False))
    _summary(res, out, csv_path)
    return 0


def _ci(s: dict) -> str:
    lo, hi = s["ci95"]
    return f"{s['bps']:+.2f} bps [{lo:+.2f}, {hi:+.2f}]" if lo == lo and hi == hi else f"{s['bps']:+.2f} bps"


def _summary(res, out: Path, csv_path: Path) -> None:
    days = ", ".join(f"{d.symbol} {d.date}" for d in res.days)
    print(f"replayed {res.results['orders']} order(s) on {len(res.days)} symbol-day(s): {days}")
    print("router savings (positive = better for the order's side; pooled, 95% interval of the per-order mean): "
          + "; ".join(f"vs {b} {_ci(s)}" for b, s in res.savings["total"].items()))
    if len(res.savings["by_symbol"]) > 1:
        for sym, d in res.savings["by_symbol"].items():
            print(f"  {sym}: " + "; ".join(f"vs {b} {_ci(s)}" for b, s in d.items()))
    if res.real is not None:
        print("against the real fills: " + "; ".join(f"{s} {_ci(v)}" for s, v in res.real["savings_vs_real"].items()))
        vs = res.results["real"]["volume_share_pct"]
        if vs["max"] is not None:
            print(f"caveat: the routers do not see the real fills' impact; the real fills were {vs['median']:.1f}% "
                  f"(median; max {vs['max']:.1f}%) of the volume printed over each order's window")
    print(f"-> {out}, {csv_path}")
