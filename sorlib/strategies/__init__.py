"""Routing strategies behind one interface (:class:`Strategy`): the router and the baselines."""

from .base import Decision, ParentOrder, Strategy, sweep_cheapest
from .best_ask import BestAsk
from .ck import ContKukanov
from .router import Router
from .scheduled import ALLOCATORS, Scheduled
from .twap import TWAP
from .view import Fills, MarketView, Past, QuoteHistory, Tape
from .vwap import VWAP

__all__ = ["ALLOCATORS", "BestAsk", "ContKukanov", "Decision", "Fills", "MarketView", "ParentOrder", "Past", "QuoteHistory",
           "Router", "Scheduled", "Strategy", "TWAP", "Tape", "VWAP", "sweep_cheapest"]
