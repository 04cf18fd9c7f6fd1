"""Routing strategies behind one interface (:class:`Strategy`): the router and the baselines."""

from .base import Decision, MarketView, ParentOrder, Strategy, sweep_cheapest
from .best_ask import BestAsk
from .ck import ContKukanov
from .router import Router
from .twap import TWAP
from .vwap import VWAP

__all__ = ["BestAsk", "ContKukanov", "Decision", "MarketView", "ParentOrder", "Router", "Strategy", "TWAP", "VWAP",
           "sweep_cheapest"]
