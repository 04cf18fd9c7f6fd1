"""Bad, hostile or unusual market-data files (mostly through ``sorlib inspect``)."""

from __future__ import annotations

from . import Case

CASES: list[Case] = []
