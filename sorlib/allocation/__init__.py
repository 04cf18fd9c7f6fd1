"""The allocation layer: split the remaining quantity across venues (pure functions, no I/O).

* :func:`compute_cost` — the task's cost of a split (DESIGN §4).
* :func:`allocate_exhaustive` — the task's brute-force reference search (exponential; for tests).
* :func:`allocate` — the exact fast solver: same result as the reference (``mode="spec"``) or the
  uncapped model where the excess over the displayed size rests (``mode="uncapped"``).
* :func:`route_with_policy` — what to do when the exact split is empty (:class:`EmptySplitPolicy`).
* :func:`ladder_cost` — the cost of walking a multi-level ask ladder (MBP-10).
* :class:`SizingRules` — child-order sizing (max child, participation cap, lots, minimum trade);
  :func:`limited_split` / :func:`route_limited` / :func:`sweep_limited` allocate over feasible child sizes only.
"""

from .cost import compute_cost, ladder_cost, reference_price, uncapped_table
from .exhaustive import allocate_exhaustive, allocate_exhaustive_limited, allocate_exhaustive_uncapped
from .limited import ladder_costs, route_limited, sweep_limited
from .policy import DEFAULT_POLICY, EmptySplitPolicy, route_with_policy
from .sizing import NO_MAX, ChildLimits, SizingRules, VenueLimits, participation_budget
from .solver import allocate, allocate_arrays, limited_split, linear_costs, min_cost_split, warmup
from .venue import Venue, venue_arrays, venues_from_arrays

__all__ = [
    "DEFAULT_POLICY",
    "NO_MAX",
    "ChildLimits",
    "SizingRules",
    "VenueLimits",
    "allocate_exhaustive_limited",
    "ladder_costs",
    "limited_split",
    "linear_costs",
    "participation_budget",
    "route_limited",
    "sweep_limited",
    "EmptySplitPolicy",
    "Venue",
    "allocate",
    "allocate_arrays",
    "allocate_exhaustive",
    "allocate_exhaustive_uncapped",
    "compute_cost",
    "ladder_cost",
    "min_cost_split",
    "reference_price",
    "route_with_policy",
    "uncapped_table",
    "venue_arrays",
    "venues_from_arrays",
    "warmup",
]
