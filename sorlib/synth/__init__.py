"""The synthetic multi-venue market: the embedded default data.

* :func:`generate_market` -- a seeded, queue-reactive multi-venue day as :class:`~sorlib.data.MarketData`;
* :func:`default_market` -- the default day, cached as ``.npz`` under ``data/.cache`` (or ``$SORLIB_CACHE``);
* :func:`write_databento_mbp1_csv` -- any MarketData as a Databento MBP-1 CSV (pretty or fixed-point);
* :class:`Shock` -- an injected price jump or halt (``generate_market(..., shock=Shock(...))``).

The generator (numba) and the writer (pyarrow) are imported on first use, so that a cache hit of
:func:`default_market` does not pay for importing numba.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .cache import default_market
from .calibration import MODEL_VERSION, VENUE_ORDER, ModelParams, VenueBehaviour
from .shock import Shock, parse_shock

if TYPE_CHECKING:  # pragma: no cover
    from .model import generate_market
    from .writer import write_databento_mbp1_csv

__all__ = ["MODEL_VERSION", "VENUE_ORDER", "ModelParams", "Shock", "VenueBehaviour", "default_market",
           "generate_market", "parse_shock", "write_databento_mbp1_csv"]

_LAZY = {"generate_market": ".model", "write_databento_mbp1_csv": ".writer"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
