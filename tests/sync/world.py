"""A vendor Salesforce org, partner A on HubSpot and partner B on Salesforce, wired to an engine.

The sandboxes are real servers on loopback; the engine reaches them through the real connectors
(simple-salesforce, hubspot-api-client) built by their entry-point plugins from the shipped
project files (``connectors/``, ``mappings/``). People editing their CRMs are simulated through
the same client libraries (:class:`SalesforceUser`, :class:`HubSpotUser`); assertions read the
sandboxes' stored records directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
from hubspot import HubSpot
from hubspot.crm.deals import (
    ApiException,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from simple_salesforce import Salesforce

from channel_sync.connectors import Connector, ConnectorPlugin, RetryPolicy
from channel_sync.connectors.hubspot import HubSpotSettings
from channel_sync.connectors.hubspot.plugin import plugin as hs_plugin
from channel_sync.connectors.salesforce.connector import SalesforceSettings
from channel_sync.connectors.salesforce.plugin import plugin as sf_plugin
from channel_sync.sandbox import InstanceSpec, RunningInstance, SandboxServer
from channel_sync.store import Store
from channel_sync.sync.engine import SyncEngine
from channel_sync.sync.report import CycleReport
from channel_sync.sync.runtime import ConnectionRuntime, load_runtime
from channel_sync.testing import Call, SteerableClock
from channel_sync.testing.ledger import settled

ROOT = Path(__file__).resolve().parents[2]
VENDOR = "vendor-salesforce"
PARTNER_A = "partner-a-hubspot"
PARTNER_B = "partner-b-salesforce"

#: The shipped plugins, given explicitly so the tests do not depend on installed metadata.
SHIPPED_PLUGINS: dict[str, ConnectorPlugin] = {"salesforce": sf_plugin, "hubspot": hs_plugin}
LOOKBACK = timedelta(seconds=2)
SETTLE = timedelta(seconds=3)
TEST_RETRY = RetryPolicy(
    max_attempts=3, initial_backoff_s=0.02, max_backoff_s=0.1, max_retry_after_s=2
)


def sandbox_specs() -> list[InstanceSpec]:
    return [
        InstanceSpec("vendor", "salesforce"),
        InstanceSpec("partner-a", "hubspot"),
        InstanceSpec("partner-b", "salesforce"),
    ]


def project_env(server: SandboxServer) -> dict[str, str]:
    """The environment the shipped connection files reference, pointing at the sandboxes."""
    env: dict[str, str] = {}
    for prefix, name in (("VENDOR_SF", "vendor"), ("PARTNER_B_SF", "partner-b")):
        inst = server.instances[name]
        backend: Any = inst.backend
        env[f"{prefix}_CLIENT_ID"] = backend.client_id
        env[f"{prefix}_CLIENT_SECRET"] = backend.client_secret
        env[f"{prefix}_INSTANCE_URL"] = inst.base_url
        env[f"{prefix}_CA_BUNDLE"] = str(inst.ca_bundle)
    hubspot = server.instances["partner-a"]
    env["PARTNER_A_HUBSPOT_TOKEN"] = hubspot.access_token
    env["PARTNER_A_HUBSPOT_URL"] = hubspot.base_url
    return env


def connector_options(clock: SteerableClock) -> dict[str, dict[str, Any]]:
    """Quick retries, a short look-back and an archive sweep on every HubSpot read."""
    return {
        "salesforce": {
            "clock": clock,
            "settings": SalesforceSettings(
                lookback=LOOKBACK, query_batch_size=200, timeout=(3.0, 10.0),
                retry=TEST_RETRY, record_retry_rounds=1,
            ),
        },
        "hubspot": {
            "clock": clock,
            "settings": HubSpotSettings(
                lookback=LOOKBACK, page_size=100, timeout=(3.0, 10.0),
                archive_sweep_every=timedelta(0), retry=TEST_RETRY, record_retry_rounds=1,
            ),
        },
    }


def _control(instance: RunningInstance, path: str) -> Any:
    with requests.Session() as http:
        http.trust_env = False
        response = http.get(f"{instance.control_url}{path}", verify=instance.verify, timeout=10)
        response.raise_for_status()
        return response.json()


def ledger_position(instance: RunningInstance) -> int:
    """The ledger's last sequence number once the sandbox has logged every answered call."""
    return settled(
        lambda: int(_control(instance, f"/ledger?since={2**62}").get("last_seq", 0)), quiet_s=0.03
    )


def ledger(instance: RunningInstance, since: int = 0) -> list[dict[str, Any]]:
    """Raw ledger entries after ``since`` (each says how many records it wrote)."""
    ledger_position(instance)
    entries: list[dict[str, Any]] = _control(instance, f"/ledger?since={since}")["entries"]
    return entries


def calls(instance: RunningInstance, since: int = 0) -> list[Call]:
    return [Call.from_json(e) for e in ledger(instance, since)]


def records_written(instance: RunningInstance, since: int = 0) -> int:
    """Remote records the sandbox changed on request since ``since`` (its own count)."""
    return sum(int(e.get("records_written") or 0) for e in ledger(instance, since))


class SalesforceUser:
    """Someone editing Opportunities in a Salesforce org (through simple-salesforce)."""

    def __init__(self, instance: RunningInstance) -> None:
        self.instance = instance
        session = requests.Session()
        session.trust_env = False
        session.verify = instance.verify
        self.sf = Salesforce(
            instance_url=instance.base_url, session_id=instance.access_token, session=session,
            version="59.0",
        )

    def create(self, **fields: Any) -> str:
        fields.setdefault("StageName", "Prospecting")
        fields.setdefault("CloseDate", "2026-06-30")
        answer: Any = self.sf.Opportunity.create(fields)
        return str(answer["id"])

    def update(self, remote_id: str, **fields: Any) -> None:
        self.sf.Opportunity.update(remote_id, fields)

    def delete(self, remote_id: str) -> None:
        self.sf.Opportunity.delete(remote_id)

    def records(self) -> list[dict[str, Any]]:
        rows = self.instance.backend.snapshot()["Opportunity"]
        return [{k: v for k, v in r.items() if k != "attributes"} for r in rows
                if not r.get("IsDeleted")]

    def by_key(self, key: str) -> dict[str, Any] | None:
        found = [r for r in self.records() if r.get("Channel_Sync_Id__c") == key]
        assert len(found) <= 1, f"{len(found)} records hold key {key}"
        return found[0] if found else None


class HubSpotUser:
    """Someone editing deals in a HubSpot portal (through hubspot-api-client).

    A person typing fast enough to hit the portal's ten-second limit simply waits: the shared
    clock is moved past the window instead of sleeping.
    """

    def __init__(self, instance: RunningInstance, clock: SteerableClock) -> None:
        self.instance = instance
        self.clock = clock
        client = HubSpot(
            access_token=instance.access_token, host=instance.base_url,
            base_url=instance.base_url,
        )
        self.basic = client.crm.deals.basic_api

    def create(self, **props: Any) -> str:
        props.setdefault("pipeline", "default")
        props.setdefault("dealstage", "appointmentscheduled")
        created = self._paced(
            self.basic.create,
            SimplePublicObjectInputForCreate(properties={k: _hs(v) for k, v in props.items()}),
        )
        return str(created.id)

    def update(self, remote_id: str, **props: Any) -> None:
        self._paced(
            self.basic.update,
            remote_id,
            SimplePublicObjectInput(properties={k: _hs(v) for k, v in props.items()}),
        )

    def delete(self, remote_id: str) -> None:
        self._paced(self.basic.archive, remote_id)

    def _paced(self, call: Any, *args: Any) -> Any:
        for _ in range(5):
            try:
                return call(*args)
            except ApiException as exc:
                if exc.status != 429:
                    raise
                self.clock.advance(timedelta(seconds=11))
        return call(*args)

    def records(self) -> list[dict[str, Any]]:
        rows = self.instance.backend.snapshot()["deals"]
        return [{**r["properties"], "hs_object_id": r["id"]} for r in rows if not r["archived"]]

    def by_key(self, key: str) -> dict[str, Any] | None:
        found = [r for r in self.records() if r.get("channel_sync_id") == key]
        assert len(found) <= 1, f"{len(found)} deals hold key {key}"
        return found[0] if found else None


def _hs(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@dataclass
class World:
    server: SandboxServer
    clock: SteerableClock
    store: Store
    env: dict[str, str]
    runtimes: dict[str, ConnectionRuntime] = field(default_factory=dict)
    engine: SyncEngine = field(init=False)

    def __post_init__(self) -> None:
        self.runtimes = self.build_runtimes()
        self.engine = SyncEngine(self.runtimes, self.store, clock=self.clock)
        self.vendor = SalesforceUser(self.server.instances["vendor"])
        self.partner_a = HubSpotUser(self.server.instances["partner-a"], self.clock)
        self.partner_b = SalesforceUser(self.server.instances["partner-b"])

    def build_runtimes(
        self, connectors: Mapping[str, Connector] | None = None
    ) -> dict[str, ConnectionRuntime]:
        return load_runtime(
            ROOT, self.env, connectors=connectors, connector_options=connector_options(self.clock),
            plugins=SHIPPED_PLUGINS,
        )

    def instance(self, connection: str) -> RunningInstance:
        name = {VENDOR: "vendor", PARTNER_A: "partner-a", PARTNER_B: "partner-b"}[connection]
        return self.server.instances[name]

    def settle(self) -> None:
        """Let time pass beyond the connectors' settle delay (HubSpot reads a closed window)."""
        self.clock.advance(SETTLE)

    def sync(self, rounds: int = 1, **kwargs: Any) -> list[CycleReport]:
        reports: list[CycleReport] = []
        for _ in range(rounds):
            self.settle()
            reports.extend(self.engine.sync_once(**kwargs))
        return reports

    def cycle(self, connection: str, **kwargs: Any) -> CycleReport:
        self.settle()
        return self.engine.run_cycle(connection, **kwargs)

    def close(self) -> None:
        for runtime in self.runtimes.values():
            runtime.connector.close()


def writes(world: World, since: Mapping[str, int]) -> dict[str, int]:
    """Records written per connection since the given ledger positions."""
    return {name: records_written(world.instance(name), since[name]) for name in since}


def positions(
    world: World, names: Sequence[str] = (VENDOR, PARTNER_A, PARTNER_B)
) -> dict[str, int]:
    return {name: ledger_position(world.instance(name)) for name in names}
