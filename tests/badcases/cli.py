"""Bad, hostile or unusual options and output paths for backtest, search, synth and report."""

from __future__ import annotations

from . import Case

CASES: list[Case] = []
