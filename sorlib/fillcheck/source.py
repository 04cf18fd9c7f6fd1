"""Where the fill validation's order events come from when a notebook runs (DATA, the real samples, or the
synthetic day): :func:`order_data`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..data.market import MarketData
from ..data.order_events import OrderEvents

#: The real sample validated by default when ``SORLIB_REAL_DATA`` points at the samples folder.
REAL_SAMPLE = "lobster_samples/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"


@dataclass(frozen=True)
class OrderData:
    """Order events, the market data whose book depth decides visibility (None: full depth), a label of the
    source and a note saying why it was chosen."""

    events: OrderEvents
    md: MarketData | None
    label: str
    note: str
    real: bool
    #: venue key → name (the market data's names, also on the synthetic tape, whose ``md`` is None)
    venue_names: dict[int, str] = field(default_factory=dict)

    def venue_name(self, key) -> str:
        """A venue key (int or its text, as the keys of ``FillValidation.fitted``) as its name, else the key."""
        try:
            return self.venue_names.get(int(key), str(key))
        except (TypeError, ValueError):
            return str(key)


def order_data(data: str | None = None, seed: int = 0, synth_minutes: float | None = None) -> OrderData:
    """``data`` when it is order-level (a LOBSTER file); else the GOOG level-10 sample under
    ``$SORLIB_REAL_DATA`` when present; else an order tape made from the synthetic day
    (:func:`~.synthetic.order_events_from_market`; ``seed``, its first ``synth_minutes`` minutes)."""
    from ..data import load_with_orders
    from ..data.lobster import is_lobster

    why = ""
    if data not in (None, "", "None"):
        if is_lobster(data):
            md, ev = load_with_orders(data)
            return OrderData(ev, md, Path(data).name, f"order-level data: {data}", True, dict(md.venue_names))
        why = f"{Path(data).name} carries no order ids (a LOBSTER file is needed); "
    root = os.environ.get("SORLIB_REAL_DATA")
    if root and (Path(root) / REAL_SAMPLE).is_file():
        path = Path(root) / REAL_SAMPLE
        md, ev = load_with_orders(path)
        return OrderData(ev, md, path.name, why + f"the real LOBSTER sample {path.name} (SORLIB_REAL_DATA)", True,
                         dict(md.venue_names))
    from ..synth import default_market
    from .synthetic import order_events_from_market

    md = default_market(seed=seed, minutes=synth_minutes or 390)
    ev = order_events_from_market(md, seed=seed)
    return OrderData(ev, None, "synthetic order tape", why + (
        "real order-level data are not present (set SORLIB_REAL_DATA to the real samples folder, or DATA to a "
        "LOBSTER file): this page runs on an order tape made from the synthetic day, whose truth is its own "
        "construction (FIFO queues, cancels at random positions) — it shows the method, not a market's "
        "behaviour"), False, dict(md.venue_names))
