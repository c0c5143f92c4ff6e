"""The connector conformance suite: subclass it, provide a ``harness`` fixture, done.

Modelled on the Singer SDK's ``singer_sdk/testing``: a connector package (shipped or
third-party) gets the whole battery with a few lines::

    from channel_sync.testing.conformance import ConnectorConformance

    class TestMyCrmConformance(ConnectorConformance):
        @pytest.fixture
        def harness(self, my_sandbox) -> ConformanceHarness:
            return ConformanceHarness(connector=..., ...)

The suite proves, against the connector's sandbox: forward-only cursors, resumption from any
page cursor, no record lost or repeated across page, tie and window boundaries, idempotent
replay of a write batch, correct per-record results under partial failure and row locks,
deletes, a lossless round trip of every field mapped both ways (when a mapping is given), every
injected error classified and retried only when retrying can help, Retry-After honoured, lost
answers and hung requests survived, token expiry handled, an exhausted allowance parking the
connection, and the advertised limits never exceeded.
"""

from __future__ import annotations

import pytest

from channel_sync.testing.faults import FaultConformance
from channel_sync.testing.harness import ConformanceHarness
from channel_sync.testing.reads import ReadConformance
from channel_sync.testing.writes import WriteConformance


class ConnectorConformance(ReadConformance, WriteConformance, FaultConformance):
    """Base class of a connector's conformance tests (its name keeps pytest from running it)."""

    @pytest.fixture
    def harness(self) -> ConformanceHarness:
        msg = "a conformance test class must provide a `harness` fixture"
        raise NotImplementedError(msg)
