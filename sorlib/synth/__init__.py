"""The synthetic multi-venue market: the embedded default data.

* :func:`generate_market` -- a seeded, queue-reactive multi-venue day as :class:`~sorlib.data.MarketData`;
* :func:`default_market` -- the default day, cached as ``.npz`` under ``data/.cache`` (or ``$SORLIB_CACHE``);
* :func:`write_databento_mbp1_csv` -- any MarketData as a Databento MBP-1 CSV (pretty or fixed-point);
* :class:`Shock` -- an injected price jump or halt (``generate_market(..., shock=Shock(...))``);
* :func:`adverse_params` -- the day's adverse selection: ``calibrated`` to real passive-fill markouts (the
  default, :class:`InformedFlow`), ``v2`` (the day before issue 18) or ``off``.

The generator (numba) and the writer (pyarrow) are imported on first use, so that a cache hit of
:func:`default_market` does not pay for importing numba.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .cache import default_market
from .calibration import (
    ADVERSE_SETTINGS,
    MODEL_VERSION,
    VENUE_ORDER,
    ModelParams,
    VenueBehaviour,
    adverse_params,
)
from .informed import CALIBRATED_DRIFT, InformedFlow
from .shock import Shock, parse_shock

if TYPE_CHECKING:  # pragma: no cover
    from .model import generate_market
    from .writer import write_databento_mbp1_csv

__all__ = ["ADVERSE_SETTINGS", "CALIBRATED_DRIFT", "MODEL_VERSION", "VENUE_ORDER", "InformedFlow", "ModelParams", "Shock",
           "VenueBehaviour", "adverse_params", "default_market", "generate_market", "parse_shock",
           "write_databento_mbp1_csv"]

_LAZY = {"generate_market": ".model", "write_databento_mbp1_csv": ".writer"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
