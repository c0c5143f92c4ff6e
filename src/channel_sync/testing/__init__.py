"""Test support shipped with the package: the connector conformance suite and its harness.

``channel_sync.testing.conformance`` needs pytest (the ``test`` extra); the harness, clock and
ledger helpers do not.
"""

from channel_sync.testing.clock import SteerableClock
from channel_sync.testing.harness import ConformanceHarness, FaultPaths, Limits
from channel_sync.testing.ledger import Call, early_retries, most_in_window, refused_for_limits

__all__ = [
    "Call",
    "ConformanceHarness",
    "FaultPaths",
    "Limits",
    "SteerableClock",
    "early_retries",
    "most_in_window",
    "refused_for_limits",
]
