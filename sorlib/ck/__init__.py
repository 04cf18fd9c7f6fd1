"""The Cont–Kukanov optimal order placement model (DESIGN §5).

``model`` — cost ``v``, expected cost ``V`` and sub-gradient; ``placement`` — :class:`Placement`, the set
``C`` and the projection onto it; ``single_venue`` — the closed form for one venue; ``fast`` — the compiled
local search on the sample-average cost (the router's solver); ``sa`` — stochastic approximation and brute
force; ``saa`` — exact sample-average solver (LP/MILP); ``solve`` — :func:`optimal_placement`, one entry
point to all of them; ``outflow`` — queue outflow samples from market data.
Workbook names: ``lambda_under = λ_u``, ``lambda_over = λ_o``, ``theta_queue = θ``.
"""

from .fast import fast_placement
from .model import expected_cost, expected_cost_batch, fills, placement_cost, subgradient
from .outflow import (
    BidQueueFlow,
    OutflowDistribution,
    bid_queue_flow,
    bid_queue_outflows,
    fit_outflow,
    outflow_matrix,
    outflow_samples,
    realised_outflow,
)
from .placement import Placement, in_C, project_C
from .sa import brute_placement, sa_placement
from .saa import saa_placement
from .single_venue import SingleVenueResult, single_venue_optimum
from .solve import METHODS, optimal_placement

__all__ = [
    "METHODS", "BidQueueFlow", "OutflowDistribution", "Placement", "SingleVenueResult", "bid_queue_flow",
    "bid_queue_outflows", "brute_placement", "expected_cost", "expected_cost_batch", "fast_placement", "fills",
    "fit_outflow", "in_C", "optimal_placement", "outflow_matrix", "outflow_samples", "placement_cost", "project_C",
    "realised_outflow", "saa_placement", "sa_placement", "single_venue_optimum", "subgradient",
]
