"""Fill models: how child orders turn into fills given the market state."""

from .queue import QueueFill, queue_fill

__all__ = ["QueueFill", "queue_fill"]
