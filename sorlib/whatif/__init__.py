"""What-if panels behind the notebooks' sliders.

* :mod:`.comparison` — the strategy-comparison panel of notebooks 02 and 03 (:class:`WhatIf`: the router in
  mode ``ck`` (default), ``uncapped`` or ``spec`` against Best Ask, TWAP and VWAP) and its figures/tables;
* :mod:`.ck_placement` — the Cont–Kukanov placement panel of notebook 04 (:class:`CKExplorer`);
* :mod:`.example` — the worked allocation example of notebook 02;
* :mod:`._widgets` — the widget plumbing both panels share.
* :mod:`.order_cache` — the comparison panel's router replays per parent order, reused when a new point
  decides alike; :mod:`.prefetch` — the points the next key press probably asks for, replayed while idle.

``sorlib.interactive`` and ``sorlib.ck_interactive`` re-export these names for existing notebooks.
"""

from ._widgets import sync_widget
from .ck_placement import CKContext, CKExplorer, ck_context
from .comparison import (
    DEFAULT_MODE,
    DEFAULT_PARAMS,
    INERT,
    MODES,
    NOTES,
    WhatIf,
    cleanup_frame,
    fewer_larger_verdict,
    fills_frame,
    progress_curves,
    progress_figure,
    router_name,
)
from .example import allocation_example, example_venues, example_venues_frame

__all__ = ["CKContext", "CKExplorer", "DEFAULT_MODE", "DEFAULT_PARAMS", "INERT", "MODES", "NOTES", "WhatIf",
           "allocation_example", "ck_context", "cleanup_frame", "example_venues", "example_venues_frame",
           "fewer_larger_verdict", "fills_frame", "progress_curves", "progress_figure", "router_name",
           "sync_widget"]
