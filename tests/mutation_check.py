"""Mutation check: plant known bugs one at a time in a temporary copy and report which survive the suite.

Run ``.venv/bin/python tests/mutation_check.py`` (add ``--full`` to run the whole suite for every mutant;
by default a mutant first meets the quick tests with ``-x`` and only a survivor meets the full suite).
``--targeted`` runs each mutant against only the test files it names (``Mutant.tests``, slow tests included)
— minutes instead of hours on a small machine; a survivor there is a gap in those files, and the default
run decides whether the rest of the suite covers it. ``--only TEXT`` keeps the mutants whose name contains
TEXT. ``--ref HEAD`` mutates the last commit instead of the working tree (other people's unfinished edits).
Each mutant is a set of exact text replacements; a replacement whose original text is not found exactly
once makes the script fail (the mutant is stale, not survived), so the check cannot pass vacuously.
Exit status: 0 when every mutant is killed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    name: str
    edits: tuple[tuple[str, str, str], ...]  # (file relative to the repo, original text, planted text)
    tests: tuple[str, ...] = ()  # test files that should kill it (``--targeted``)


MUTANTS = [
    Mutant("spec router sends nothing", (
        ("sorlib/strategies/router.py",
         "    def decide(self, view: MarketView) -> Decision:\n",
         "    def decide(self, view: MarketView) -> Decision:\n"
         "        if self.mode == 'spec':\n            return Decision.nothing(view.ask_px.shape[0])\n"),),
        ("tests/test_end_to_end.py",)),
    Mutant("clean-up sweeps venues in index order", (
        ("sorlib/strategies/base.py",
         "            return sweep_cheapest(ask_px, ask_avail, fee, remaining)\n",
         "            return sweep_cheapest(ask_px, ask_avail, np.arange(len(fee)) * 1e6, remaining)\n"),),
        ("tests/test_end_to_end.py", "tests/test_cleanup.py")),
    Mutant("the paper queue model's fill ignores the queue: min(L, xi)", (
        ("sorlib/sim/queue/paper.py",
         "return int(min(int(qty), max(float(outflow) - float(ahead), 0.0)))",
         "return int(min(int(qty), max(float(outflow), 0.0)))"),), ("tests/test_ck_router.py",)),
    Mutant("the view stops clipping at t and VWAP weights by the order's own future window", (
        ("sorlib/strategies/view.py",
         "end = self.t_ns + 1 if until_ns is None else min(int(until_ns), self.t_ns + 1)",
         "end = self.t_ns + 1 if until_ns is None else int(until_ns)"),
        ("sorlib/strategies/vwap.py",
         "past = view.past.trades(order.arrival_ns - span, order.arrival_ns)",
         "past = view.past.trades(order.arrival_ns, order.arrival_ns + span)"),
        ("sorlib/strategies/vwap.py",
         "b = np.minimum((ts - (order.arrival_ns - span)) // self.bucket_ns, self._n - 1)",
         "b = np.minimum((ts - order.arrival_ns) // self.bucket_ns, self._n - 1)"),), ("tests/test_lookahead.py",)),
    Mutant("the view stops clipping at t and the uncapped router peeks 30 s into the future", (
        ("sorlib/strategies/view.py",
         "end = self.t_ns + 1 if until_ns is None else min(int(until_ns), self.t_ns + 1)",
         "end = self.t_ns + 1 if until_ns is None else int(until_ns)"),
        ("sorlib/strategies/router.py",
         "t0 = view.t_ns - self.lookback_ns\n",
         "t0 = view.t_ns - self.lookback_ns + 30_000_000_000\n"),
        ("sorlib/strategies/router.py",
         "past = view.past.trades(t0, view.t_ns)",
         "past = view.past.trades(t0, view.t_ns + 30_000_000_000)"),), ("tests/test_lookahead.py",)),
    Mutant("fractional sizes silently truncated", (
        ("sorlib/data/_csv.py",
         "frac = ~empty & (a != np.floor(a))",
         "frac = np.zeros(a.shape, bool)"),), ("tests/test_bad_input.py", "tests/test_data_validation.py")),
    Mutant("de-duplication ignores flags and book levels", (
        ("sorlib/data/databento.py",
         "dup = duplicate_mask([ts, venue, action, side, flags, price, size, *extra, bid_px, ask_px, bid_sz, ask_sz])",
         "dup = duplicate_mask([ts, venue, action, side, price, size, *extra, bid_px[:, 0], ask_px[:, 0], "
         "bid_sz[:, 0], ask_sz[:, 0]])"),
        ("sorlib/data/taq.py",
         "dup = duplicate_mask([ts, venue, bid_px, bid_sz, ask_px, ask_sz])",
         "dup = duplicate_mask([ts, venue, bid_px[:, 0], bid_sz[:, 0], ask_px[:, 0], ask_sz[:, 0]])"),),
        ("tests/test_bad_input.py", "tests/test_data_validation.py")),
    Mutant("the replay forgets taken liquidity at any new record of the venue", (
        ("sorlib/engine/replay.py",
         "d = _carry_one(self.by_venue[k], book.ask_key[cur].tolist(), book.ask_sz[cur].tolist())",
         "d = {}"),), ("tests/test_engine.py", "tests/test_consumption.py")),
]

# issue 21: behaviours pinned by tests/test_pinned_behaviours.py and the hardening of tests/test_hardening.py
PINNED = "tests/test_pinned_behaviours.py"
MUTANTS += [
    Mutant("Almgren-Chriss schedule one bucket late", (
        ("sorlib/schedules/__init__.py",
         "ends = np.minimum((np.arange(self._n) + 1) * self.bucket_ns / NS, T)",
         "ends = np.minimum(np.arange(self._n) * self.bucket_ns / NS, T)"),), (PINNED, "tests/test_schedules.py")),
    Mutant("TWAP schedule target rounded down", (
        ("sorlib/schedules/__init__.py",
         "return math.ceil(view.order.size * (self.bucket(view) + 1) / self._n)",
         "return int(view.order.size * (self.bucket(view) + 1) / self._n)"),), (PINNED, "tests/test_schedules.py")),
    Mutant("CK fast solver's kinks one share early", (
        ("sorlib/ck/fast.py",
         "a = np.ascontiguousarray(np.minimum(np.maximum(xi - Q, 0.0), S))",
         "a = np.ascontiguousarray(np.minimum(np.maximum(xi - Q - 1.0, 0.0), S))"),), (PINNED, "tests/test_ck_fast.py")),
    Mutant("venue-scoring markout horizons in milliseconds", (
        ("sorlib/risk/scoring.py",
         "_H_NS = tuple(int(h * S) for h in MARKOUT_HORIZONS)",
         "_H_NS = tuple(int(h * 1_000_000) for h in MARKOUT_HORIZONS)"),), (PINNED, "tests/test_risk_controls.py")),
    Mutant("exposure pct cap rounded to nearest", (
        ("sorlib/risk/controls.py",
         "caps.append(int(math.floor(self.pct / 100.0 * order_size + 1e-9)))",
         "caps.append(int(round(self.pct / 100.0 * order_size)))"),), (PINNED, "tests/test_risk_controls.py")),
    Mutant("participation budget rounded up", (
        ("sorlib/allocation/sizing.py",
         "return max(int(math.floor(pct / 100.0 * float(market_volume) + 1e-9)) - int(own_volume), 0)",
         "return max(int(math.ceil(pct / 100.0 * float(market_volume) - 1e-9)) - int(own_volume), 0)"),),
        (PINNED, "tests/test_sizing.py")),
    Mutant("exposure usd cap rounded up per level", (
        ("sorlib/risk/guard.py",
         "q = min(q, int(np.floor(left_usd / p + 1e-9)))",
         "q = min(q, int(np.ceil(left_usd / p - 1e-9)))"),), (PINNED, "tests/test_risk_controls.py")),
    Mutant("TCA delay measured to the first child's decision, not its arrival", (
        ("sorlib/tca.py",
         "order_ = np.lexsort((ch.ts, cpos))\n        cp, cts = cpos[order_], ch.ts[order_]",
         "order_ = np.lexsort((ch.decided_ns, cpos))\n        cp, cts = cpos[order_], ch.decided_ns[order_]"),),
        (PINNED, "tests/test_tca.py")),
    Mutant("TCA drops the unfilled shares' opportunity cost from its parts", (
        ("sorlib/tca.py",
         '"opportunity_drift": per(q * (m - pdj), clean) + np.where(unfilled > 0, unfilled * (end_mid - pd_), 0.0),',
         '"opportunity_drift": per(q * (m - pdj), clean),'),), (PINNED, "tests/test_tca.py")),
    Mutant("a quoted empty CSV field is text, not empty", (
        ("sorlib/data/_csv.py", "quoted_strings_can_be_null=True", "quoted_strings_can_be_null=False"),),
        ("tests/test_bad_input.py",)),
    Mutant("a venue file naming an absent venue passes silently", (
        ("sorlib/venues.py",
         "        absent = self.absent_from(keys)\n        if not absent:\n",
         "        absent = []\n        if not absent:\n"),), ("tests/test_bad_input.py",)),
    Mutant("the backtest shares one replay between routers that route differently", (
        ("sorlib/backtest.py", "key = _decision_key(strat)\n", "key = () if _decision_key(strat) else None\n"),),
        ("tests/test_hardening.py",)),
    Mutant("no numba cache fallback for a read-only install", (
        ("sorlib/_numba.py", "    if os.environ.get(\"NUMBA_CACHE_DIR\"):\n        return None\n",
         "    return None\n"),), ("tests/test_hardening.py",)),
]

QUICK = ["-x", "-q", "-p", "no:cacheprovider", "-m", "not slow", "tests",
         "--ignore=tests/test_notebooks.py", "--ignore=tests/test_report.py",
         "--ignore=tests/test_report_browser.py"]
FULL = ["-q", "-p", "no:cacheprovider", "tests"]


def _copy_tree(dst: Path, ref: str | None = None) -> None:
    """The working tree's sources (or, with ``ref``, that commit's, through ``git archive``) into ``dst``."""
    if ref is not None:
        tar = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dst)], input=tar, check=True)
        return
    for name in ("sorlib", "tests", "notebooks", "benchmarks"):
        shutil.copytree(ROOT / name, dst / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dst / name)


def _plant(dst: Path, m: Mutant) -> str | None:
    """Apply the edits; returns an error text when an original snippet is not found exactly once."""
    for rel, old, new in m.edits:
        p = dst / rel
        if not p.is_file():
            return f"{rel}: no such file in the mutated tree (the mutant is stale; update tests/mutation_check.py)"
        text = p.read_text()
        n = text.count(old)
        if n != 1:
            return f"{rel}: original text found {n} times (the mutant is stale; update tests/mutation_check.py)"
        p.write_text(text.replace(old, new))
    return None


def _run(dst: Path, args: list[str], show_failure: bool = False) -> tuple[bool, float]:
    env = {**os.environ, "PYTHONPATH": str(dst), "PYTHONDONTWRITEBYTECODE": "1"}
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=dst, env=env, capture_output=True, text=True)
    if show_failure and r.returncode != 0:
        print("\n".join((r.stdout + r.stderr).splitlines()[-40:]), file=sys.stderr)
    return r.returncode == 0, time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="run the whole suite for every mutant")
    ap.add_argument("--ref", default=None, help="mutate this commit (git archive) instead of the working tree")
    ap.add_argument("--targeted", action="store_true", help="run each mutant against only its own test files")
    ap.add_argument("--only", default=None, metavar="TEXT", help="only the mutants whose name contains TEXT")
    args = ap.parse_args()
    mutants = [m for m in MUTANTS if args.only is None or args.only in m.name]
    if args.targeted and any(not m.tests for m in mutants):
        print("--targeted: mutant(s) without test files: " + ", ".join(m.name for m in mutants if not m.tests),
              file=sys.stderr)
        return 2
    base = ["-x", "-q", "-p", "no:cacheprovider", *sorted({t for m in mutants for t in m.tests})] \
        if args.targeted else QUICK
    with tempfile.TemporaryDirectory(prefix="sorlib-unmutated-") as tmp:
        _copy_tree(Path(tmp), args.ref)
        passed, secs = _run(Path(tmp), base, show_failure=True)
    if not passed:  # otherwise every mutant would look killed
        print("the unmutated copy fails the selected tests: fix the suite first", file=sys.stderr)
        return 2
    print(f"unmutated copy passes the {'targeted' if args.targeted else 'quick'} tests ({secs:.0f} s)")
    rows, ok = [], True
    for m in mutants:
        with tempfile.TemporaryDirectory(prefix="sorlib-mutant-") as tmp:
            dst = Path(tmp)
            _copy_tree(dst, args.ref)
            err = _plant(dst, m)
            if err:
                rows.append((m.name, "STALE", err))
                ok = False
                continue
            if args.targeted:
                passed, secs = _run(dst, ["-x", "-q", "-p", "no:cacheprovider", *m.tests])
                rows.append((m.name, "SURVIVED" if passed else "killed", f"{secs:.0f} s ({', '.join(m.tests)})"))
                ok &= not passed
                continue
            passed, secs = _run(dst, FULL if args.full else QUICK)
            if passed and not args.full:
                passed, more = _run(dst, FULL)
                secs += more
            rows.append((m.name, "SURVIVED" if passed else "killed", f"{secs:.0f} s"))
            ok &= not passed
    width = max(len(r[0]) for r in rows)
    print(f"{'mutant':<{width}}  outcome   detail")
    for name, outcome, detail in rows:
        print(f"{name:<{width}}  {outcome:<8}  {detail}")
    killed = sum(r[1] == "killed" for r in rows)
    print(f"{killed} of {len(rows)} mutants killed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
