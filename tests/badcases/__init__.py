"""The bad-input catalogue: one list of :class:`Case` per area, collected by ``tests/test_bad_input.py``.

A case builds its inputs under a temporary folder and returns the ``sorlib`` argv to run in-process.
Outcomes:

* ``"error"``: exit status 2 and exactly one stderr line ``sorlib CMD: error: ...`` matching ``match``
  (a regex, searched case-insensitively), no traceback;
* ``"repaired"``: exit 0 and the output (stdout + stderr) matches ``match`` (the repair is counted and
  shown, e.g. in the load report of ``sorlib inspect``);
* ``"ok"``: exit 0 (valid, if unusual, input that must be accepted); ``match`` checked when given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

OUTCOMES = ("error", "repaired", "ok")


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Path], list[str]]  # tmp folder -> argv of ``sorlib`` (without the program name)
    outcome: str
    match: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"case {self.id}: outcome must be one of {OUTCOMES}")
        if self.outcome == "error" and not self.match:
            raise ValueError(f"case {self.id}: an error case states the message it expects")
