"""Local emulators of the Salesforce REST and HubSpot CRM v3 APIs, with fault injection and a
call ledger, for tests, benchmarks and the demo (``channel-sync sandbox serve``)."""

from channel_sync.sandbox.core import InstanceSpec, RunningInstance, SandboxServer
from channel_sync.sandbox.seed import SeedDeal, generate_deals

__all__ = ["InstanceSpec", "RunningInstance", "SandboxServer", "SeedDeal", "generate_deals"]
