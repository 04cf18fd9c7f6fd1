"""The order-event table: one row per order-book event with its order id, from LOBSTER or Databento MBO.

:class:`OrderEvents` sits next to :class:`~sorlib.data.market.MarketData` (which holds the book states
and prints); it is what a fill validator needs to follow individual orders (queue ahead of a joiner, its
executions, cancels and modifies). Readers: :func:`sorlib.data.lobster.read_lobster`,
:func:`sorlib.data.mbo.read_mbo`; both via :func:`sorlib.data.load_with_orders`.

Fields (aligned numpy arrays, one row per event, stable-sorted by ``ts``: equal times keep file order):

======================  =========  =================================================================
field                   dtype      meaning (units)
======================  =========  =================================================================
``ts``                  int64      event time, ns since the Unix epoch, UTC
``venue``               int32      venue key: Databento ``publisher_id``; LOBSTER
                                   :data:`sorlib.data.lobster.LOBSTER_VENUE` (2, Nasdaq)
``order_id``            int64      the resting order's id (0 when the event has none: clears, hidden
                                   MBO trades, LOBSTER hidden executions and halts)
``action``              int8       :data:`ADD`, :data:`CANCEL`, :data:`DELETE`, :data:`EXEC`,
                                   :data:`EXEC_HIDDEN`, :data:`MODIFY`, :data:`CLEAR`, :data:`OTHER`
``side``                int8       +1 bid (a resting buy order), −1 ask (a resting sell order), 0 none
``price``               float64    $ per share (NaN when the event has no price)
``size``                int64      shares of this event: ADD shares added; CANCEL/DELETE shares removed;
                                   EXEC/EXEC_HIDDEN shares executed; MODIFY the order's *new* size
                                   (``price`` its new price); 0 for CLEAR/OTHER without size
``level_before``        int64      displayed shares at (``venue``, ``side``, ``price``) just before the
                                   event; −1 when unknown (e.g. a price beyond a LOBSTER file's levels,
                                   or no side/price)
``best_bid``            float64    the venue's best bid ($) just *after* the event (NaN when empty or
                                   unknown)
``best_ask``            float64    the venue's best ask ($) just after the event (NaN when empty)
======================  =========  =================================================================

Orders that rested before the file starts appear only through their cancels/executions (their id is
known, they have no ADD row). A visible execution (EXEC) removes shares from the displayed book;
EXEC_HIDDEN does not (hidden liquidity).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

OTHER = 0  #: anything else (halts, cross trades, aggressor-side trade records, no-op records)
ADD = 1  #: a new resting order (size = shares added)
CANCEL = 2  #: partial cancel (size = shares removed; the order keeps resting)
DELETE = 3  #: full removal of the order's remaining shares (size = shares removed)
EXEC = 4  #: visible execution of the resting order (size = shares executed)
EXEC_HIDDEN = 5  #: execution of hidden (non-displayed) liquidity (size = shares executed)
MODIFY = 6  #: the order changes to a new price and/or size (size = new size, price = new price)
CLEAR = 7  #: the venue's book is cleared (every resting order removed)

ACTION_NAMES: dict[int, str] = {OTHER: "other", ADD: "add", CANCEL: "cancel", DELETE: "delete", EXEC: "exec",
                                EXEC_HIDDEN: "exec_hidden", MODIFY: "modify", CLEAR: "clear"}

_DTYPES = {"ts": np.int64, "venue": np.int32, "order_id": np.int64, "action": np.int8, "side": np.int8,
           "price": np.float64, "size": np.int64, "level_before": np.int64, "best_bid": np.float64,
           "best_ask": np.float64}


@dataclass(frozen=True)
class OrderEvents:
    """One row per order-book event (see the module docstring for every field and its units)."""

    ts: np.ndarray
    venue: np.ndarray
    order_id: np.ndarray
    action: np.ndarray
    side: np.ndarray
    price: np.ndarray
    size: np.ndarray
    level_before: np.ndarray
    best_bid: np.ndarray
    best_ask: np.ndarray
    source: str = ""

    def __post_init__(self) -> None:
        n = None
        for f in fields(self):
            if f.name == "source":
                continue
            a = np.asarray(getattr(self, f.name), dtype=_DTYPES[f.name])
            object.__setattr__(self, f.name, a)
            if a.ndim != 1 or (n is not None and a.shape[0] != n):
                raise ValueError(f"OrderEvents.{f.name}: every field must be a 1-D array of the same length")
            n = a.shape[0]

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def take(self, index: np.ndarray) -> OrderEvents:
        """Rows selected by an integer or boolean index (order kept)."""
        return OrderEvents(**{k: getattr(self, k)[index] for k in _DTYPES}, source=self.source)

    def slice_time(self, t0: int | None = None, t1: int | None = None) -> OrderEvents:
        """Rows with ``t0 <= ts < t1`` (ns UTC; either bound may be None). Rows are time-sorted, so this
        is two binary searches and a view."""
        lo = 0 if t0 is None else int(np.searchsorted(self.ts, t0, side="left"))
        hi = len(self) if t1 is None else int(np.searchsorted(self.ts, t1, side="left"))
        return self.take(slice(lo, max(lo, hi)))

    def counts(self) -> dict[str, int]:
        """Number of rows per action name (for reports)."""
        codes, n = np.unique(self.action, return_counts=True)
        return {ACTION_NAMES.get(int(c), str(int(c))): int(k) for c, k in zip(codes, n, strict=True)}

    @staticmethod
    def empty(source: str = "") -> OrderEvents:
        return OrderEvents(**{k: np.empty(0, t) for k, t in _DTYPES.items()}, source=source)


__all__ = ["ACTION_NAMES", "ADD", "CANCEL", "CLEAR", "DELETE", "EXEC", "EXEC_HIDDEN", "MODIFY", "OTHER",
           "OrderEvents"]
