"""sorlib."""
