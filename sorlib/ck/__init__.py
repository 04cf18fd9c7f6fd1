"""The Cont–Kukanov optimal order placement model (DESIGN §5).

``model`` — cost ``v``, expected cost ``V`` and sub-gradient; ``single_venue`` — the closed form for one
venue; ``sa`` — stochastic approximation, projection onto ``C``, brute force, :func:`optimal_placement`;
``saa`` — exact sample-average solver (MILP); ``outflow`` — queue outflow samples from market data.
Workbook names: ``lambda_under = λ_u``, ``lambda_over = λ_o``, ``theta_queue = θ``.
"""

from .model import expected_cost, expected_cost_batch, fills, placement_cost, subgradient
from .outflow import (
    BidQueueFlow,
    OutflowDistribution,
    bid_queue_flow,
    bid_queue_outflows,
    fit_outflow,
    outflow_matrix,
    realised_outflow,
)
from .sa import Placement, brute_placement, optimal_placement, project_C, sa_placement
from .saa import saa_placement
from .single_venue import SingleVenueResult, single_venue_optimum

__all__ = [
    "BidQueueFlow", "OutflowDistribution", "Placement", "SingleVenueResult", "bid_queue_flow",
    "bid_queue_outflows", "brute_placement", "expected_cost", "expected_cost_batch", "fills",
    "fit_outflow", "optimal_placement", "outflow_matrix", "placement_cost", "project_C",
    "realised_outflow", "saa_placement", "sa_placement", "single_venue_optimum", "subgradient",
]
