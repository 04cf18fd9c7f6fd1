"""``sorlib calibrate``: fit per-venue execution parameters from a day of data into a venue TOML file."""

from __future__ import annotations

from .._io import atomic_write_text, check_output_file
from ..errors import ConfigError
from ._common import HelpFormatter, add_data_args, check_common, load_data, real


def register(sub) -> None:
    p = sub.add_parser("calibrate", help="fit per-venue latency, fade, queue and fill parameters into venues.toml",
                       formatter_class=HelpFormatter)
    add_data_args(p, hours_auto=True)
    p.add_argument("--out", default="venues.toml", metavar="FILE.toml",
                   help="venue profiles to write (read back with --venues)")
    p.add_argument("--mbo", default=None, metavar="MBO.csv",
                   help="a Databento MBO CSV to fit the cancel position bias (queue_cancel_bias) of its venues")
    p.add_argument("--orders", default=None, metavar="LOBSTER",
                   help="order-level data (a LOBSTER zip) to fit queue_cancel_bias (power3's n) of its venues "
                        "against the real resting orders that joined a queue (sorlib validate-fills --fit); overrides --mbo for them")
    p.add_argument("--orders-own-prints", default="reassign", choices=["reassign", "drop", "keep"],
                   help="with --orders: what the real orders' executions leave on the tape (as sorlib "
                        "validate-fills --own-prints: reassign to the orders behind, drop, or keep)")
    p.add_argument("--queue-power", type=real(0, 100, ""), default=1.0, metavar="N",
                   help="power3 exponent of the queue probes for venues without an MBO fit, (0, 100]")
    p.add_argument("--probe-every", type=real(0, 3600, "seconds"), default=10.0, metavar="SECONDS",
                   help="spacing of the queue probes, (0, 3600] s")
    p.add_argument("--probe-horizon", type=real(0, 3600, "seconds"), default=30.0, metavar="SECONDS",
                   help="how long a queue probe rests, (0, 3600] s")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from ..sim.calibrate import CalibrationOptions, calibrate, fit_cancel_bias_mbo, to_toml

    check_common(args)
    check_output_file(args.out, "--out")
    if args.orders is not None and not Path(args.orders).is_file():
        raise ConfigError(f"--orders: file not found: {args.orders} (give a LOBSTER zip or message CSV)")
    if args.mbo is not None and not Path(args.mbo).is_file():
        raise ConfigError(f"--mbo: file not found: {args.mbo} (give a Databento MBO CSV)")
    md = load_data(args.data, args.format, args.regular_hours, args.seed, prog="sorlib calibrate",
                   **{k: getattr(args, k) for k in ("symbol", "date") if getattr(args, k, None) is not None})
    bias = {}
    if args.mbo is not None:
        try:
            fits = fit_cancel_bias_mbo(args.mbo)
        except (ValueError, KeyError, OSError) as e:
            raise ConfigError(f"--mbo {args.mbo}: not a readable Databento MBO CSV ({' '.join(str(e).split())})") from None
        bias = {k: v["cancel_bias"] for k, v in fits.items() if v["cancel_bias"] is not None}
    if args.orders is not None:
        bias.update(_fit_orders(args.orders, args.orders_own_prints, md))
    opts = CalibrationOptions(probe_every_s=args.probe_every, probe_horizon_s=args.probe_horizon)
    fit = calibrate(md, opts, cancel_bias=bias, queue_power=args.queue_power)
    atomic_write_text(args.out, to_toml(fit, md.report.source))
    mk = fit["market"]["passive_markouts_bps"]
    figs = ", ".join(f"{h} {mk[h]:+.2f}" for h in mk if h != "fills" and mk[h] is not None)
    marks = f"passive bid-fill markouts {figs} bps over {mk['fills']:,} fills" if figs else "no passive bid fills"
    print(f"calibrate: {len(fit['venues'])} venue(s) from {md.report.source}; {marks} -> {args.out}")
    return 0


def _fit_orders(path: str, own_prints: str, md) -> dict[int, float]:
    """power3's n per venue fitted on the real resting orders of ``path`` that joined a queue (class ``joined``;
    printed with its errors)."""
    from ..data import load_with_orders
    from ..fillcheck.validate import fit_profile_exponent

    omd, events = load_with_orders(path)
    fits = fit_profile_exponent(events, omd, "power3", own_prints=own_prints, candidates="joined")
    for v, f in fits.items():
        where = "" if v in md.venues else " (venue absent from DATA: not written)"
        print(f"calibrate: venue {v} queue_cancel_bias {f['n']:.3g} from {path}: {f['horizon_s']:g} s calibration "
              f"error {_pp(f['train_calib_pp'])} points (training half of the joined orders), "
              f"{_pp(f['test_calib_pp'])} (second half; conservative {_pp(f['conservative_test_calib_pp'])}){where}")
    return {v: f["n"] for v, f in fits.items()}


def _pp(x) -> str:
    """Points with two decimals, or 'n/a' when no order was scored."""
    return "n/a" if x is None or x != x else f"{x:.2f}"
