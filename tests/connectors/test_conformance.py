"""Both shipped connectors pass the conformance suite against their sandboxes."""

from __future__ import annotations

import pytest

from channel_sync.testing import ConformanceHarness
from channel_sync.testing.conformance import ConnectorConformance


class TestSalesforceConformance(ConnectorConformance):
    @pytest.fixture
    def harness(self, sf_harness: ConformanceHarness) -> ConformanceHarness:
        return sf_harness


class TestHubSpotConformance(ConnectorConformance):
    @pytest.fixture
    def harness(self, hs_harness: ConformanceHarness) -> ConformanceHarness:
        return hs_harness
