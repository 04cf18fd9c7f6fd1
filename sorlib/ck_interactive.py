"""Compatibility re-exports: the Cont–Kukanov panel of notebook 04 now lives in :mod:`sorlib.whatif`."""

from .whatif import CKContext, CKExplorer, ck_context

__all__ = ["CKContext", "CKExplorer", "ck_context"]
