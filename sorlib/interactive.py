"""Compatibility re-exports: the what-if panel of notebooks 02/03 now lives in :mod:`sorlib.whatif`."""

from .backtest import GRIDS
from .whatif import (
    DEFAULT_MODE,
    DEFAULT_PARAMS,
    INERT,
    MODES,
    WhatIf,
    allocation_example,
    cleanup_frame,
    example_venues,
    example_venues_frame,
    fewer_larger_verdict,
    fills_frame,
    progress_curves,
    progress_figure,
    router_name,
    sync_widget,
)

__all__ = ["DEFAULT_MODE", "DEFAULT_PARAMS", "GRIDS", "INERT", "MODES", "WhatIf", "allocation_example",
           "cleanup_frame", "example_venues", "example_venues_frame", "fewer_larger_verdict", "fills_frame",
           "progress_curves", "progress_figure", "router_name", "sync_widget"]
