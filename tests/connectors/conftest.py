"""Both connectors wired to their sandboxes, as conformance harnesses.

One sandbox server per test module (starting one costs a TLS setup), reset before every test;
a fresh connector per test. Sandbox and connector share a SteerableClock so tests can make
writes share a modstamp or jump past the look-back window.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from channel_sync.connectors.hubspot import HubSpotConnector, HubSpotSettings
from channel_sync.connectors.protocol import ObjectSpec
from channel_sync.connectors.retry import RetryPolicy
from channel_sync.connectors.salesforce.auth import SalesforceOAuth
from channel_sync.connectors.salesforce.connector import SalesforceConnector, SalesforceSettings
from channel_sync.connectors.salesforce.session import SalesforceSession
from channel_sync.connectors.tokens import StaticTokenSource
from channel_sync.mapping import load_mapping
from channel_sync.sandbox import InstanceSpec, RunningInstance, SandboxServer
from channel_sync.testing import ConformanceHarness, FaultPaths, Limits, SteerableClock

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
#: Connect and read timeouts: short, so a hung request costs a test little.
TIMEOUT = (2.0, 2.0)
TEST_RETRY = RetryPolicy(
    max_attempts=4, initial_backoff_s=0.05, max_backoff_s=0.2, max_retry_after_s=5
)


@pytest.fixture(scope="module")
def clock() -> SteerableClock:
    return SteerableClock()


@pytest.fixture(scope="module")
def servers(clock: SteerableClock) -> Iterator[SandboxServer]:
    specs = [InstanceSpec("vendor", "salesforce"), InstanceSpec("partner", "hubspot")]
    with SandboxServer(specs, clock=clock) as server:
        yield server


@pytest.fixture
def vendor(servers: SandboxServer) -> RunningInstance:
    servers.reset()
    return servers.instances["vendor"]


@pytest.fixture
def partner(servers: SandboxServer) -> RunningInstance:
    servers.reset()
    return servers.instances["partner"]


def salesforce_connector(
    vendor: RunningInstance, clock: SteerableClock, spec: ObjectSpec, **overrides: Any
) -> SalesforceConnector:
    backend: Any = vendor.backend
    ca_bundle = str(vendor.ca_bundle)
    timeout = overrides.pop("timeout", TIMEOUT)
    http = SalesforceSession(ca_bundle=ca_bundle, timeout=timeout)
    source = SalesforceOAuth(
        flow="client_credentials",
        login_url=vendor.base_url,
        session=http.session,
        client_id=backend.client_id,
        client_secret=SecretStr(backend.client_secret),
        clock=clock,
    )
    options: dict[str, Any] = {
        "instance_url": vendor.base_url,
        "ca_bundle": ca_bundle,
        "query_batch_size": 200,
        "timeout": timeout,
        "retry": TEST_RETRY,
        **overrides,
    }
    settings = SalesforceSettings(**options)
    return SalesforceConnector(
        objects=[spec], token_source=source, settings=settings, clock=clock, http=http
    )


def hubspot_connector(
    partner: RunningInstance, clock: SteerableClock, spec: ObjectSpec, **overrides: Any
) -> HubSpotConnector:
    options: dict[str, Any] = {
        "host": partner.base_url,
        "page_size": 50,
        "archive_sweep_every": timedelta(0),
        "timeout": TIMEOUT,
        "retry": TEST_RETRY,
        **overrides,
    }
    return HubSpotConnector(
        objects=[spec],
        token_source=StaticTokenSource(SecretStr(partner.access_token), clock=clock),
        settings=HubSpotSettings(**options),
        clock=clock,
    )


@pytest.fixture(scope="session")
def vendor_mapping() -> Any:
    return load_mapping(MAPPINGS / "vendor-salesforce-opportunity.yaml").compiled


@pytest.fixture(scope="session")
def partner_mapping() -> Any:
    return load_mapping(MAPPINGS / "partner-hubspot-deal.yaml").compiled


def sf_fields(n: int) -> dict[str, Any]:
    return {
        "Name": f"Conformance deal {n}",
        "StageName": "Prospecting",
        "CloseDate": "2026-06-30",
        "Amount": 1000 + n,
    }


def hs_fields(n: int) -> dict[str, Any]:
    return {
        "dealname": f"Conformance deal {n}",
        "dealstage": "appointmentscheduled",
        "pipeline": "default",
        "amount": str(1000 + n),
    }


@pytest.fixture
def sf_harness(
    vendor: RunningInstance, clock: SteerableClock, vendor_mapping: Any
) -> Iterator[ConformanceHarness]:
    spec = ObjectSpec.from_mapping(vendor_mapping)
    connector = salesforce_connector(vendor, clock, spec)
    yield ConformanceHarness(
        connector=connector,
        object_name=spec.name,
        control_url=vendor.control_url,
        clock=clock,
        make_fields=sf_fields,
        invalid_fields={"Name": "Bad", "StageName": "Not A Stage", "CloseDate": "2026-06-30"},
        key_field=spec.key_field,
        modstamp_field=spec.modstamp_field,
        page_size=200,
        paths=FaultPaths(read=r"/query", write=r"/composite", token=r"/oauth2/token"),
        limits=Limits(),
        mapping=vendor_mapping,
        refreshable=True,
        max_attempts=TEST_RETRY.max_attempts,
        verify=vendor.verify,
    )
    connector.close()


@pytest.fixture
def hs_harness(
    partner: RunningInstance, clock: SteerableClock, partner_mapping: Any
) -> Iterator[ConformanceHarness]:
    spec = ObjectSpec.from_mapping(partner_mapping)
    connector = hubspot_connector(partner, clock, spec)
    yield ConformanceHarness(
        connector=connector,
        object_name=spec.name,
        control_url=partner.control_url,
        clock=clock,
        make_fields=hs_fields,
        invalid_fields={"dealname": "Bad", "dealstage": "not-a-stage", "pipeline": "default"},
        key_field=spec.key_field,
        modstamp_field=spec.modstamp_field,
        page_size=50,
        paths=FaultPaths(read=r"/search$", write=r"/batch/upsert$", token=r"/oauth/v1/token"),
        limits=Limits(
            burst=10,
            burst_window=timedelta(seconds=1),
            per_path={r"/search$": (5, timedelta(seconds=1))},
            burst_exempt=r"/search$",
        ),
        mapping=partner_mapping,
        read_delay=connector.settings.lookback,
        refreshable=False,
        max_attempts=TEST_RETRY.max_attempts,
    )
    connector.close()


def run_threads(n: int, target: Any) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def body() -> None:
        barrier.wait()
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=body) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.fixture
def sf_harness_fast(
    vendor: RunningInstance, clock: SteerableClock, vendor_mapping: Any
) -> Iterator[SalesforceConnector]:
    """The harness's connector again, with a one-second timeout (for hung-request faults)."""
    spec = ObjectSpec.from_mapping(vendor_mapping)
    connector = salesforce_connector(vendor, clock, spec, timeout=(1.0, 1.0))
    yield connector
    connector.close()


@pytest.fixture
def hs_harness_fast(
    partner: RunningInstance, clock: SteerableClock, partner_mapping: Any
) -> HubSpotConnector:
    spec = ObjectSpec.from_mapping(partner_mapping)
    return hubspot_connector(partner, clock, spec, timeout=(1.0, 1.0))
