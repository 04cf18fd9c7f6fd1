"""Market data: readers, validation and the normalised multi-venue representation."""

from .market import NS_PER_SECOND, LoadReport, MarketData, Quotes, Trades

__all__ = ["NS_PER_SECOND", "LoadReport", "MarketData", "Quotes", "Trades"]
