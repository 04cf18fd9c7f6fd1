"""Bad, hostile or unusual options and output paths for backtest, search, synth and report.

Every error case is rejected at parse time or before any data are loaded (fast); the few ``ok`` cases run
on the embedded synthetic day with one parent order. Process-level behaviour (SIGKILL, Ctrl-C, concurrent
writers, a full disk) is in ``tests/test_cli_outputs.py``.
"""

from __future__ import annotations

from pathlib import Path

from . import Case

MAX = r"\[1, 100,000,000\]"  # the order-size bounds, shares


def _file(tmp: Path, name: str, text: str) -> str:
    p = tmp / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return str(p)


def _blocker(tmp: Path) -> Path:
    """A regular file: any path under it cannot be created (tests run as root, so no chmod tricks)."""
    p = tmp / "blocker"
    p.write_text("x")
    return p


def _venues(tmp: Path, body: str) -> str:
    return _file(tmp, "venues.toml", body)


def _good_csv(tmp: Path) -> str:
    from conftest import MBP1_HEADER, mbp1_row

    rows = [mbp1_row("2024-08-01T13:36:32.000000001Z", 2, "A", "B", "222.81", 100, "222.81", "222.83", 421, 36, 1),
            mbp1_row("2024-08-01T13:36:33.000000001Z", 2, "T", "A", "222.83", 10, "222.81", "222.83", 421, 26, 2)]
    return _file(tmp, "good.csv", "\n".join([",".join(MBP1_HEADER), *(",".join(r) for r in rows)]) + "\n")


def _notebook(tmp: Path) -> str:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("X = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params]
    d = tmp / "nbs"
    d.mkdir(exist_ok=True)
    nbformat.write(nb, str(d / "01_tiny.ipynb"))
    return str(d)


BT = ["backtest", "--out", "r.json"]

CASES: list[Case] = [
    # ---------------------------------------------------------------------------------------- backtest
    Case("backtest-every-inf", lambda t: [*BT, "--every", "inf"], "error", r"--every: must be a finite number"),
    Case("backtest-every-zero", lambda t: [*BT, "--every", "0"], "error", r"--every: must be in \[0\.01, 1440\] min"),
    Case("backtest-every-nan", lambda t: [*BT, "--every", "nan"], "error", r"--every: must be a finite number"),
    Case("backtest-horizon-inf", lambda t: [*BT, "--horizon", "inf"], "error", r"--horizon: must be a finite"),
    Case("backtest-horizon-negative", lambda t: [*BT, "--horizon", "-5"], "error",
         r"--horizon: must be in \(0, 1440\] minutes, got -5"),
    Case("backtest-order-size-2pow63", lambda t: [*BT, "--order-size", str(2**63)], "error",
         rf"--order-size: must be a whole number of shares in {MAX}, got 9223372036854775808"),
    Case("backtest-order-size-expression", lambda t: [*BT, "--order-size", "2**63"], "error",
         rf"--order-size: must be a whole number of shares in {MAX}, got 2\*\*63"),
    Case("backtest-order-size-1e12", lambda t: [*BT, "--order-size", "1e12"], "error", rf"shares in {MAX}, got 1e12"),
    Case("backtest-order-size-zero", lambda t: [*BT, "--order-size", "0"], "error", rf"shares in {MAX}"),
    Case("backtest-order-size-fraction", lambda t: [*BT, "--order-size", "100.5"], "error", r"whole number of shares"),
    Case("backtest-rest-seconds-zero", lambda t: [*BT, "--mode", "uncapped", "--rest-seconds", "0"], "error",
         r"--rest-seconds: must be in \(0, 3600\] seconds, got 0"),
    Case("backtest-rest-seconds-negative", lambda t: [*BT, "--mode", "uncapped", "--rest-seconds", "-1"], "error",
         r"--rest-seconds: must be in \(0, 3600\] seconds"),
    Case("backtest-rest-seconds-nan", lambda t: [*BT, "--mode", "uncapped", "--rest-seconds", "nan"], "error",
         r"--rest-seconds: must be a finite number"),
    Case("backtest-rest-seconds-spec-mode", lambda t: [*BT, "--rest-seconds", "10"], "error",
         r"--rest-seconds applies only to --mode uncapped \(this run is --mode spec\)"),
    Case("backtest-ck-horizon-uncapped-mode", lambda t: [*BT, "--mode", "uncapped", "--ck-horizon", "10"], "error",
         r"--ck-horizon applies only to --mode ck"),
    Case("backtest-empty-policy-ck-mode", lambda t: [*BT, "--mode", "ck", "--empty-policy", "wait"], "error",
         r"--empty-policy applies only to --mode spec"),
    Case("backtest-twap-bucket-zero", lambda t: [*BT, "--twap-bucket", "0"], "error", r"--twap-bucket: must be in"),
    Case("backtest-seed-negative", lambda t: [*BT, "--seed", "-1"], "error",
         r"--seed: must be a whole number in \[0, 4,294,967,295\], got -1"),
    Case("backtest-mode-unknown", lambda t: [*BT, "--mode", "fast"], "error", r"--mode: invalid choice: 'fast'"),
    Case("backtest-unknown-option", lambda t: [*BT, "--ordersize", "10"], "error", r"unrecognized arguments: --ordersize"),
    Case("backtest-format-without-data", lambda t: [*BT, "--format", "databento"], "error",
         r"--format databento applies only to DATA files"),
    Case("backtest-out-is-dir", lambda t: ["backtest", "--out", str(t)], "error", r"--out .*: is a directory"),
    Case("backtest-out-under-file", lambda t: ["backtest", "--out", str(_blocker(t) / "r.json")], "error",
         r"--out .*blocker is a regular file, not a folder"),
    Case("backtest-plots-is-file", lambda t: [*BT, "--plots", str(_blocker(t))], "error",
         r"--plots .*exists and is not a folder"),
    Case("backtest-venues-nan-fee", lambda t: [*BT, "--venues", _venues(t, "[venue.2]\ntaker_fee = nan\n")], "error",
         r"venues\.toml \[venue\.2\]: 'taker_fee' must be a finite number \(\$/share\), got nan"),
    Case("backtest-venues-inf-fee", lambda t: [*BT, "--venues", _venues(t, "[default]\nmaker_rebate = inf\n")],
         "error", r"\[default\]: 'maker_rebate' must be a finite number"),
    Case("backtest-venues-fee-minus-5", lambda t: [*BT, "--venues", _venues(t, "[venue.2]\ntaker_fee = -5\n")],
         "error", r"'taker_fee' = -5 is outside \[-0\.01, 0\.01\] \$/share"),
    Case("backtest-venues-unknown-field", lambda t: [*BT, "--venues", _venues(t, "[venue.2]\ntaker_fees = 0.001\n")],
         "error", r"unknown field 'taker_fees'; allowed fields: name, taker_fee, maker_rebate"),
    Case("backtest-venues-unknown-section", lambda t: [*BT, "--venues", _venues(t, "[venues.2]\ntaker_fee = 0.001\n")],
         "error", r"unknown section\(s\) \['venues'\]; allowed: \[default\] and \[venue\.KEY\]"),
    Case("backtest-venues-lot-fraction", lambda t: [*BT, "--venues", _venues(t, "[venue.2]\nlot_size = 1.5\n")],
         "error", r"'lot_size' must be a whole number of shares, got 1\.5"),
    Case("backtest-venues-not-toml", lambda t: [*BT, "--venues", _venues(t, "taker_fee = \n")], "error",
         r"venues\.toml: not valid TOML"),
    Case("backtest-grid-misspelt-key",
         lambda t: [*BT, "--grid", _file(t, "g.toml", "lambda_ovr = [1.0]\nlambda_under = [0.1]\ntheta_queue = [0.0]\n")],
         "error", r"unknown key\(s\) \['lambda_ovr'\]; expected \['lambda_over', 'lambda_under', 'theta_queue'\]"),
    Case("backtest-grid-random-space",
         lambda t: [*BT, "--grid", _file(t, "r.toml", "[random]\nn = 3\nlambda_over = {uniform = [0, 1]}\n"
                                                     "lambda_under = {uniform = [0, 1]}\ntheta_queue = [0.0]\n")],
         "error", r"a \[random\] space is for 'sorlib search'"),
    Case("backtest-grid-log-bad-bound",
         lambda t: [*BT, "--grid", _file(t, "g.toml", "lambda_over = [1.0]\nlambda_under = {log = [0, 1, 3]}\n"
                                                     "theta_queue = [0.0]\n")],
         "error", r"'lambda_under': log spacing needs lo > 0"),
    Case("backtest-grid-missing-file", lambda t: [*BT, "--grid", "nope.toml"], "error",
         r"--grid 'nope\.toml': not 'bps' or 'penalty' or an existing TOML/JSON file"),
    Case("backtest-grid-log-space-accepted",  # the {log=...} spaces of 'search' work in 'backtest' too
         lambda t: [*BT, "--horizon", "2", "--grid",
                    _file(t, "g.toml", "lambda_over = [1.0]\nlambda_under = {log = [0.01, 0.1, 2]}\n"
                                       "theta_queue = {linspace = [0.0, 0.01, 2]}\n")],
         "ok", r"grid ties 4/4"),
    Case("backtest-venues-absent-publisher",  # a venue the data do not have: an error naming those present
         lambda t: [*BT, "--horizon", "2", "--venues", _venues(t, "[venue.4]\ntaker_fee = 0.001\n")],
         "error", r"venues\.toml lists venue\(s\) 4 that the data do not contain \(venues present: .*\d"),
    # ------------------------------------------------------------------------------------------ search
    Case("search-folds-1", lambda t: ["search", "--folds", "1"], "error",
         r"--folds: must be a whole number of folds in \[2, 1,000\], got 1"),
    Case("search-window-without-folds", lambda t: ["search", "--window", "2"], "error",
         r"--window applies only with --folds"),
    Case("search-fold-by-without-folds", lambda t: ["search", "--fold-by", "day"], "error",
         r"--fold-by applies only with --folds"),
    Case("search-fold-by-day-one-day", lambda t: ["search", "--folds", "2", "--fold-by", "day"], "error",
         r"--fold-by day needs at least 2 DATA files"),
    Case("search-workers-serial", lambda t: ["search", "--scheduler", "serial", "--workers", "2"], "error",
         r"--workers applies only to --scheduler processes or local-dask"),
    Case("search-workers-zero", lambda t: ["search", "--workers", "0"], "error", r"--workers: must be a whole number"),
    Case("search-seed-negative", lambda t: ["search", "--seed", "-1"], "error",
         r"--seed: must be a whole number in \[0, 4,294,967,295\], got -1"),
    Case("search-every-inf", lambda t: ["search", "--every", "inf"], "error", r"--every: must be a finite number"),
    Case("search-horizon-inf", lambda t: ["search", "--horizon", "inf"], "error", r"--horizon: must be a finite"),
    Case("search-random-zero", lambda t: ["search", "--random", "0"], "error", r"--random: must be a whole number"),
    Case("search-chunk-zero", lambda t: ["search", "--chunk", "0"], "error", r"--chunk: must be a whole number"),
    Case("search-ck-horizon-spec-mode", lambda t: ["search", "--ck-horizon", "5"], "error",
         r"--ck-horizon applies only to --mode ck"),
    Case("search-order-size-1e12", lambda t: ["search", "--order-size", "1e12"], "error", rf"shares in {MAX}"),
    Case("search-adaptive-unknown", lambda t: ["search", "--adaptive", "greedy"], "error",
         r"--adaptive: invalid choice: 'greedy'"),
    Case("search-scheduler-unknown", lambda t: ["search", "--scheduler", "bogus", "--out", "o"], "error",
         r"unknown scheduler 'bogus'"),
    Case("search-out-is-file", lambda t: ["search", "--out", str(_blocker(t))], "error",
         r"--out .*blocker: exists and is not a folder"),
    Case("search-out-under-file", lambda t: ["search", "--out", str(_blocker(t) / "o")], "error",
         r"--out .*blocker is a regular file, not a folder"),
    Case("search-store-under-file", lambda t: ["search", "--out", "o", "--store", str(_blocker(t) / "s")], "error",
         r"--store .*blocker is a regular file"),
    Case("search-grid-misspelt-key",
         lambda t: ["search", "--grid", _file(t, "g.toml", "lambda_ovr = [1.0]\nlambda_under = [0.1]\n"
                                                          "theta_queue = [0.0]\n")],
         "error", r"unknown key\(s\) \['lambda_ovr'\]; expected \['lambda_over', 'lambda_under', 'theta_queue'\]"),
    Case("search-grid-random-misspelt-key",
         lambda t: ["search", "--grid", _file(t, "r.toml", "[random]\nn = 3\nlambda_over = [1.0]\n"
                                                          "lambda_undr = [0.1]\ntheta_queue = [0.0]\n")],
         "error", r"unknown key\(s\) \['lambda_undr'\]"),
    Case("search-venues-nan-fee", lambda t: ["search", "--venues", _venues(t, "[venue.9]\nmaker_rebate = nan\n")],
         "error", r"\[venue\.9\]: 'maker_rebate' must be a finite number"),
    Case("search-missing-day", lambda t: ["search", _good_csv(t), str(t / "missing.csv"), "--out", "o"], "error",
         r"DATA day 2 of 2: .*missing\.csv: no such file"),
    Case("search-unparsable-day",  # the worker's own DataError, naming the day (serial: no pool to start)
         lambda t: ["search", _good_csv(t), _file(t, "bad.csv", "a,b\n1,2\n"), "--scheduler", "serial",
                    "--out", "o"],
         "error", r"DATA day 2 of 2: .*bad\.csv: cannot tell the format"),
    # ------------------------------------------------------------------------------------------- synth
    Case("synth-seed-negative", lambda t: ["synth", "--seed", "-1", "--out", "s.csv"], "error",
         r"--seed: must be a whole number in \[0, 4,294,967,295\], got -1"),
    Case("synth-venues-9", lambda t: ["synth", "--venues", "9", "--out", "s.csv"], "error",
         r"--venues must be between 1 and 8 \(publisher ids 2, 9, 5, 8, 6, 7, 3, 4\), got 9"),
    Case("synth-minutes-inf", lambda t: ["synth", "--minutes", "inf", "--out", "s.csv"], "error",
         r"--minutes: must be a finite number"),
    Case("synth-start-bad", lambda t: ["synth", "--start", "25:00", "--out", "s.csv"], "error",
         r"start time must be HH:MM"),
    Case("synth-date-bad", lambda t: ["synth", "--date", "2024-13-45", "--out", "s.csv"], "error",
         r"date must be YYYY-MM-DD"),
    Case("synth-symbol-comma", lambda t: ["synth", "--symbol", "A,B", "--out", "s.csv"], "error",
         r"--symbol must be 1-32 characters without commas"),
    Case("synth-out-not-csv", lambda t: ["synth", "--out", "s.txt"], "error", r"--out must name a \.csv file"),
    Case("synth-out-is-dir", lambda t: ["synth", "--out", str((t / "d.csv").mkdir() or t / "d.csv")], "error",
         r"--out .*d\.csv: is a directory"),
    Case("synth-out-under-file", lambda t: ["synth", "--out", str(_blocker(t) / "s.csv")], "error",
         r"blocker is a regular file, not a folder"),
    # ------------------------------------------------------------------------------------------ report
    Case("report-out-is-file", lambda t: ["report", "--out", str(_blocker(t))], "error",
         r"--out .*blocker: exists and is not a folder"),
    Case("report-out-under-file", lambda t: ["report", "--out", str(_blocker(t) / "r")], "error",
         r"blocker is a regular file, not a folder"),
    Case("report-notebooks-missing", lambda t: ["report", "--out", "r", "--notebooks", "nope"], "error",
         r"--notebooks nope: no such folder"),
    Case("report-unknown-parameter", lambda t: ["report", "--out", "r", "--notebooks", _notebook(t), "-p", "Y", "2"],
         "error", r"unknown notebook parameter\(s\) \['Y'\]; the notebooks declare \['X'\]"),
    Case("report-data-missing", lambda t: ["report", "nope.csv", "--out", "r", "--notebooks", _notebook(t)], "error",
         r"nope\.csv: no such data file"),
    Case("report-parameter-one-value", lambda t: ["report", "--out", "r", "-p", "X"], "error",
         r"-p/--parameter: expected 2 arguments"),
    Case("report-notebook-not-json", lambda t: ["report", "--out", "r", "--notebooks",
                                                str(Path(_file(t, "nbs/01_bad.ipynb", "{not json")).parent)],
         "error", r"01_bad\.ipynb: cannot read the notebook's parameters"),
    Case("report-unknown-option", lambda t: ["report", "--outdir", "r"], "error", r"unrecognized arguments: --outdir"),
]
