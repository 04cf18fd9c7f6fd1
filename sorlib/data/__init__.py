"""Market data: readers, validation and the normalised multi-venue representation."""

from .databento import read_databento, read_databento_csv, read_dbn
from .facts import format_facts, venue_facts
from .load import detect_format, load
from .market import NS_PER_SECOND, LoadReport, MarketData, Quotes, Trades
from .snapshots import VenueBook, snapshot_index, snapshot_quotes, venue_state_at
from .taq import ALGOSEEK, TaqLayout, TaqTradeLayout, read_taq

__all__ = ["ALGOSEEK", "NS_PER_SECOND", "LoadReport", "MarketData", "Quotes", "TaqLayout", "TaqTradeLayout",
           "Trades", "VenueBook", "detect_format", "format_facts", "load", "read_databento",
           "read_databento_csv", "read_dbn", "read_taq", "snapshot_index", "snapshot_quotes", "venue_facts",
           "venue_state_at"]
