"""Mutation check: plant known bugs one at a time in a temporary copy and report which survive the suite.

Run ``.venv/bin/python tests/mutation_check.py`` (add ``--full`` to run the whole suite for every mutant;
by default a mutant first meets the quick tests with ``-x`` and only a survivor meets the full suite).
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


MUTANTS = [
    Mutant("spec router sends nothing", (
        ("sorlib/strategies/router.py",
         "    def decide(self, view: MarketView) -> Decision:\n",
         "    def decide(self, view: MarketView) -> Decision:\n"
         "        if self.mode == 'spec':\n            return Decision.nothing(view.ask_px.shape[0])\n"),)),
    Mutant("clean-up sweeps venues in index order", (
        ("sorlib/strategies/base.py",
         "            return sweep_cheapest(ask_px, ask_avail, fee, remaining)\n",
         "            return sweep_cheapest(ask_px, ask_avail, np.arange(len(fee)) * 1e6, remaining)\n"),)),
    Mutant("Cont-Kukanov resting fill ignores the queue: min(L, xi)", (
        ("sorlib/strategies/ck.py",
         "return int(min(qty, max(outflow - queue_ahead, 0.0)))",
         "return int(min(qty, max(outflow, 0.0)))"),)),
    Mutant("the view stops clipping at t and VWAP weights by the order's own future window", (
        ("sorlib/strategies/view.py",
         "end = self.t_ns + 1 if until_ns is None else min(int(until_ns), self.t_ns + 1)",
         "end = self.t_ns + 1 if until_ns is None else int(until_ns)"),
        ("sorlib/strategies/vwap.py",
         "past = view.past.trades(order.arrival_ns - span, order.arrival_ns)",
         "past = view.past.trades(order.arrival_ns, order.arrival_ns + span)"),
        ("sorlib/strategies/vwap.py",
         "b = np.minimum((ts - (order.arrival_ns - span)) // self.bucket_ns, self._n - 1)",
         "b = np.minimum((ts - order.arrival_ns) // self.bucket_ns, self._n - 1)"),)),
    Mutant("the view stops clipping at t and the uncapped router peeks 30 s into the future", (
        ("sorlib/strategies/view.py",
         "end = self.t_ns + 1 if until_ns is None else min(int(until_ns), self.t_ns + 1)",
         "end = self.t_ns + 1 if until_ns is None else int(until_ns)"),
        ("sorlib/strategies/router.py",
         "t0 = view.t_ns - self.lookback_ns\n",
         "t0 = view.t_ns - self.lookback_ns + 30_000_000_000\n"),
        ("sorlib/strategies/router.py",
         "past = view.past.trades(t0, view.t_ns)",
         "past = view.past.trades(t0, view.t_ns + 30_000_000_000)"),)),
    Mutant("fractional sizes silently truncated", (
        ("sorlib/data/_csv.py",
         "frac = ~empty & (a != np.floor(a))",
         "frac = np.zeros(a.shape, bool)"),)),
    Mutant("de-duplication ignores flags and book levels", (
        ("sorlib/data/databento.py",
         "dup = duplicate_mask([ts, venue, action, side, flags, price, size, *extra, bid_px, ask_px, bid_sz, ask_sz])",
         "dup = duplicate_mask([ts, venue, action, side, price, size, *extra, bid_px[:, 0], ask_px[:, 0], "
         "bid_sz[:, 0], ask_sz[:, 0]])"),
        ("sorlib/data/taq.py",
         "dup = duplicate_mask([ts, venue, bid_px, bid_sz, ask_px, ask_sz])",
         "dup = duplicate_mask([ts, venue, bid_px[:, 0], bid_sz[:, 0], ask_px[:, 0], ask_sz[:, 0]])"),)),
    Mutant("the replay forgets taken liquidity at any new record of the venue", (
        ("sorlib/engine/replay.py",
         "d = carry_taken(self.by_venue[k], book.ask_key[new], book.ask_sz[new])",
         "d = {}"),)),
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
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sorlib-unmutated-") as tmp:
        _copy_tree(Path(tmp), args.ref)
        passed, secs = _run(Path(tmp), QUICK, show_failure=True)
    if not passed:  # otherwise every mutant would look killed
        print("the unmutated copy fails the quick tests: fix the suite first", file=sys.stderr)
        return 2
    print(f"unmutated copy passes the quick tests ({secs:.0f} s)")
    rows, ok = [], True
    for m in MUTANTS:
        with tempfile.TemporaryDirectory(prefix="sorlib-mutant-") as tmp:
            dst = Path(tmp)
            _copy_tree(dst, args.ref)
            err = _plant(dst, m)
            if err:
                rows.append((m.name, "STALE", err))
                ok = False
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
