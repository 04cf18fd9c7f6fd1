"""Market data: readers, validation and the normalised multi-venue representation."""

from .databento import read_databento, read_databento_csv, read_dbn
from .facts import format_facts, venue_facts
from .load import detect_format, load, load_with_orders
from .lobster import LOBSTER_VENUE, read_lobster, read_lobster_with_orders
from .market import NS_PER_SECOND, LoadReport, MarketData, Quotes, Trades
from .mbo import read_mbo, read_mbo_with_orders
from .order_events import OrderEvents
from .snapshots import VenueBook, snapshot_index, snapshot_quotes, venue_state_at
from .taq import ALGOSEEK, TaqLayout, TaqTradeLayout, read_taq

__all__ = ["ALGOSEEK", "LOBSTER_VENUE", "NS_PER_SECOND", "LoadReport", "MarketData", "OrderEvents", "Quotes",
           "TaqLayout", "TaqTradeLayout", "Trades", "VenueBook", "detect_format", "format_facts", "load",
           "load_with_orders", "read_databento", "read_databento_csv", "read_dbn", "read_lobster",
           "read_lobster_with_orders", "read_mbo", "read_mbo_with_orders", "read_taq", "snapshot_index",
           "snapshot_quotes", "venue_facts", "venue_state_at"]
