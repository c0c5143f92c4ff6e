"""Salesforce connector behaviour beyond the conformance suite: auth flows, token refresh under
concurrency, SOQL safety, call packing, API usage, the delete-log horizon."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from channel_sync.config.connection import load_connection
from channel_sync.connectors.protocol import ObjectSpec, Upsert
from channel_sync.connectors.salesforce import plugin
from channel_sync.connectors.salesforce.auth import SalesforceOAuth
from channel_sync.connectors.salesforce.soql import SoqlBuilder
from channel_sync.connectors.salesforce.transport import parse_limit_info
from channel_sync.connectors.tokens import TokenManager
from channel_sync.errors import AuthError, ConfigurationError
from channel_sync.sandbox import InstanceSpec, RunningInstance, SandboxServer
from channel_sync.sandbox.salesforce.soql_ast import Comparison
from channel_sync.sandbox.salesforce.soql_parser import parse
from channel_sync.testing import SteerableClock
from channel_sync.testing.ledger import settled

from .conftest import run_threads, salesforce_connector, sf_fields

ROOT = Path(__file__).resolve().parents[2]
SPEC = ObjectSpec(
    "Opportunity",
    "Id",
    "Channel_Sync_Id__c",
    "SystemModstamp",
    ("Name", "StageName", "CloseDate", "Amount"),
)
EXAMPLES = int(os.environ.get("CHANNEL_SYNC_PROPERTY_EXAMPLES", "100"))


def mark(instance: RunningInstance) -> int:
    """The ledger position once every answered call has been recorded."""
    return settled(instance.backend.ledger.last_seq)


def entries(instance: RunningInstance, since: int) -> list[Any]:
    mark(instance)
    return instance.backend.ledger.entries(since)


def token_calls(instance: RunningInstance, since: int = 0) -> int:
    return sum(1 for e in entries(instance, since) if e.path.endswith("/oauth2/token"))


def connector_session() -> Any:
    return requests.Session()


# -- auth flows ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture(scope="module")
def auth_org(key_pair: tuple[str, str], clock: SteerableClock) -> Iterator[RunningInstance]:
    spec = InstanceSpec("auth-org", "salesforce", settings={"jwt_public_key": key_pair[1]})
    with SandboxServer([spec], clock=clock) as server:
        yield server.instances["auth-org"]


def oauth(instance: RunningInstance, flow: str, clock: SteerableClock, **kw: Any) -> Any:
    connector = salesforce_connector(instance, clock, SPEC)
    source = SalesforceOAuth(
        flow=flow, login_url=instance.base_url, session=connector.http.session, clock=clock, **kw
    )
    return connector, source


def test_jwt_bearer_flow_with_a_verified_signature(
    auth_org: RunningInstance, clock: SteerableClock, key_pair: tuple[str, str]
):
    backend: Any = auth_org.backend
    _, source = oauth(
        auth_org,
        "jwt_bearer",
        clock,
        client_id=backend.client_id,
        username=backend.username,
        private_key=SecretStr(key_pair[0]),
    )
    token = source.fetch()
    assert token.instance_url == auth_org.base_url
    assert token.expires_at is not None
    assert token.expires_at > token.issued_at
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    _, forged = oauth(
        auth_org,
        "jwt_bearer",
        clock,
        client_id=backend.client_id,
        username=backend.username,
        private_key=SecretStr(wrong),
    )
    with pytest.raises(AuthError, match="invalid_grant"):
        forged.fetch()


def test_password_flow(auth_org: RunningInstance, clock: SteerableClock):
    backend: Any = auth_org.backend
    _, source = oauth(
        auth_org,
        "password",
        clock,
        client_id=backend.client_id,
        client_secret=SecretStr(backend.client_secret),
        username=backend.username,
        password=SecretStr(backend.password),
    )
    assert source.fetch().value.get_secret_value()


def test_refused_credentials_are_auth_errors_without_the_secret(
    auth_org: RunningInstance, clock: SteerableClock
):
    backend: Any = auth_org.backend
    canary = "canary-secret-4f1c9e"
    _, source = oauth(
        auth_org,
        "client_credentials",
        clock,
        client_id=backend.client_id,
        client_secret=SecretStr(canary),
    )
    with pytest.raises(AuthError) as caught:
        source.fetch()
    assert canary not in str(caught.value)
    assert canary not in repr(source.__dict__)
    with pytest.raises(ConfigurationError, match="needs client_secret"):
        SalesforceOAuth(
            flow="client_credentials",
            login_url="https://x",
            session=connector_session(),
            client_id="a",
        )


def test_refresh_token_rotation_is_single_flight_under_32_threads(
    auth_org: RunningInstance, clock: SteerableClock
):
    """Rotation makes refresh tokens single-use: one refresh per expiry, or the org locks us out."""
    backend: Any = auth_org.backend
    app = backend.directory.clients[backend.client_id]
    issued = backend.oauth.issue(app, backend.integration_user, refresh=True)
    rotated: list[SecretStr] = []
    connector, source = oauth(
        auth_org,
        "refresh_token",
        clock,
        client_id=backend.client_id,
        client_secret=SecretStr(backend.client_secret),
        refresh_token=SecretStr(issued.refresh_token),
        on_rotate=rotated.append,
    )
    connector.transport.tokens = TokenManager(source, clock=clock)
    connector.write_batch("Opportunity", [Upsert("sf-rt-1", sf_fields(1))])
    for round_no in range(1, 4):
        since = mark(auth_org)
        auth_org.backend.tokens.expire_all()
        errors = run_threads(32, lambda: connector.read_by_keys("Opportunity", ["sf-rt-1"]))
        assert errors == []
        assert token_calls(auth_org, since) == 1, f"round {round_no}"
    assert len(rotated) == 4  # the first fetch and one per expiry
    assert len({r.get_secret_value() for r in rotated}) == 4


def test_tokens_are_refreshed_before_they_expire(vendor: RunningInstance, clock: SteerableClock):
    connector = salesforce_connector(vendor, clock, SPEC)
    connector.write_batch("Opportunity", [Upsert("sf-pro-1", sf_fields(1))])
    since = mark(vendor)
    clock.advance(timedelta(minutes=109))  # past 90% of the 2 h session, before its end
    connector.read_by_keys("Opportunity", ["sf-pro-1"])
    seen = entries(vendor, since)
    assert [e.status for e in seen if e.path.endswith("/oauth2/token")] == [200]
    assert not any(e.status == 401 for e in seen), "the connector waited for a 401"


# -- the shipped connection file ----------------------------------------------------------------


def test_plugin_builds_from_the_shipped_connection_file(
    vendor: RunningInstance, clock: SteerableClock, vendor_mapping: Any
):
    backend: Any = vendor.backend
    connection = load_connection(ROOT / "connectors" / "vendor-salesforce.yaml")
    resolved = connection.resolve(
        {
            "VENDOR_SF_INSTANCE_URL": vendor.base_url,
            "VENDOR_SF_CLIENT_ID": backend.client_id,
            "VENDOR_SF_CLIENT_SECRET": backend.client_secret,
            "VENDOR_SF_CA_BUNDLE": str(vendor.ca_bundle),
        }
    )
    connector = plugin.from_connection(resolved, mapping=vendor_mapping, clock=clock)
    try:
        report = connector.check()
        assert report.objects == ("Opportunity",)
        results = connector.write_batch("Opportunity", [Upsert("sf-plugin-1", sf_fields(1))])
        assert results[0].ok
        assert backend.client_secret not in repr(connector.__dict__)
    finally:
        connector.close()


# -- SOQL safety --------------------------------------------------------------------------------

HOSTILE = [
    "' OR Name != '",
    "\\' OR Id != null OR Name = \\'",
    "x') OR (Name LIKE '%",
    "a\nb\rc\td",
    "%_%",
    "'; DELETE FROM Opportunity",
    "\u2019 OR 1=1",
    "''",
    "\\",
]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(values=st.lists(st.text(min_size=0, max_size=30), min_size=1, max_size=5))
def test_keys_never_change_the_shape_of_a_query(values: list[str]):
    builder = SoqlBuilder("Opportunity", SPEC.read_fields())
    query = builder.by_keys(["Id", "Name"], key_field="Channel_Sync_Id__c", keys=values)
    parsed = parse(query, datetime(2026, 1, 5, tzinfo=UTC))
    assert isinstance(parsed.where, Comparison)
    assert parsed.where.op == "IN"
    assert parsed.where.field.name == "Channel_Sync_Id__c"
    assert list(parsed.where.value) == values  # type: ignore[arg-type]


def test_hostile_keys_match_nothing_and_break_nothing(
    vendor: RunningInstance, clock: SteerableClock
):
    connector = salesforce_connector(vendor, clock, SPEC)
    connector.write_batch("Opportunity", [Upsert("sf-safe-1", sf_fields(1))])
    assert connector.read_by_keys("Opportunity", HOSTILE) == {}
    assert set(connector.read_by_keys("Opportunity", [*HOSTILE, "sf-safe-1"])) == {"sf-safe-1"}


def test_field_names_come_only_from_the_allow_list():
    builder = SoqlBuilder("Opportunity", ["Id", "Name"])
    with pytest.raises(ConfigurationError, match="no field 'Amount'"):
        builder.select(["Id", "Amount"])
    with pytest.raises(ConfigurationError, match="not a plain Salesforce identifier"):
        builder.select(["Id, (SELECT Id FROM Contacts)"])
    with pytest.raises(ConfigurationError, match="not a plain Salesforce identifier"):
        SoqlBuilder("Opportunity WHERE Id != null", ["Id"])


def test_a_mapping_field_missing_from_describe_is_a_configuration_error(
    vendor: RunningInstance, clock: SteerableClock
):
    spec = ObjectSpec("Opportunity", "Id", "Channel_Sync_Id__c", "SystemModstamp", ("Nope__c",))
    connector = salesforce_connector(vendor, clock, spec)
    with pytest.raises(ConfigurationError, match="Nope__c"):
        list(connector.read_changes("Opportunity", None))


# -- packing and usage --------------------------------------------------------------------------


def test_writes_are_packed_1000_records_per_call(vendor: RunningInstance, clock: SteerableClock):
    connector = salesforce_connector(vendor, clock, SPEC)
    connector.check()
    since = mark(vendor)
    ops = [Upsert(f"sf-pack-{n:05d}", sf_fields(n)) for n in range(2_345)]
    results = connector.write_batch("Opportunity", ops)
    assert all(r.ok and r.created for r in results)
    calls = [e for e in entries(vendor, since) if e.counts_against_allowance]
    assert len(calls) == 3  # ceil(2345 / 1000)
    assert {e.path for e in calls} == {"/services/data/v59.0/composite"}


def test_api_usage_comes_from_sforce_limit_info(vendor: RunningInstance, clock: SteerableClock):
    connector = salesforce_connector(vendor, clock, SPEC)
    connector.check()
    connector.read_by_keys("Opportunity", ["x"])
    usage = connector.transport.usage
    mark(vendor)
    assert usage.used == vendor.backend.ledger.api_calls()
    assert usage.limit == vendor.backend.allowance.daily_limit
    assert parse_limit_info("api-usage=18/5000; per-app-api-usage=17/250(appName=x)") is not None
    assert parse_limit_info("nonsense") is None


# -- the delete log -----------------------------------------------------------------------------


def test_a_cursor_older_than_the_delete_log_asks_for_a_full_reconcile(
    vendor: RunningInstance, clock: SteerableClock
):
    connector = salesforce_connector(vendor, clock, SPEC)
    connector.write_batch("Opportunity", [Upsert("sf-old-1", sf_fields(1))])
    cursor = list(connector.read_changes("Opportunity", None))[-1].cursor
    clock.advance(timedelta(days=3))
    since = mark(vendor)
    recent = list(connector.read_changes("Opportunity", cursor))
    assert all(p.reconcile_needed is None for p in recent)
    assert not any("/deleted/" in e.path for e in entries(vendor, since))
    clock.advance(timedelta(days=14))
    pages = list(connector.read_changes("Opportunity", cursor))
    assert pages
    assert pages[0].reconcile_needed is not None
    assert "full reconcile" in pages[0].reconcile_needed


def test_a_quiet_org_read_every_day_never_asks_the_delete_log(
    vendor: RunningInstance, clock: SteerableClock
):
    """Nothing changes for three weeks while the engine reads daily: each read stays one call,
    the cursor records the last complete read, and no reconcile is asked for."""
    connector = salesforce_connector(vendor, clock, SPEC)
    connector.write_batch("Opportunity", [Upsert("sf-quiet-1", sf_fields(1))])
    cursor = list(connector.read_changes("Opportunity", None))[-1].cursor
    mark_at = cursor.modstamp
    since = mark(vendor)
    for _ in range(21):
        clock.advance(timedelta(days=1))
        pages = list(connector.read_changes("Opportunity", cursor))
        assert all(p.reconcile_needed is None for p in pages)
        assert all(not p.records and not p.deletions for p in pages)
        if pages:
            cursor = pages[-1].cursor
    calls = [e for e in entries(vendor, since) if e.counts_against_allowance]
    assert not any("/deleted/" in e.path for e in calls)
    assert len(calls) == 21
    assert cursor.modstamp == mark_at
    assert cursor.complete
    assert cursor.read_started is not None
    assert clock.now() - cursor.read_started <= timedelta(days=1)
    # A deal deleted now is still read as a deletion after the quiet weeks.
    vendor_id = next(
        r["Id"] for r in vendor.backend.snapshot()["Opportunity"]
        if r.get("Channel_Sync_Id__c") == "sf-quiet-1"
    )
    connector.transport.call(
        lambda sf: sf.Opportunity.delete(vendor_id), what="delete", idempotent=True
    )
    clock.advance(timedelta(minutes=10))
    pages = list(connector.read_changes("Opportunity", cursor))
    assert [d for p in pages for d in p.deletions]


def test_a_settled_cursor_reads_on_in_one_call_despite_a_crowded_mark_second(
    vendor: RunningInstance, clock: SteerableClock
):
    """SOQL literals carry whole seconds; once a complete read settled the mark's second, the
    next read asks only for what comes after it, in one call that re-reads none of the burst."""
    connector = salesforce_connector(vendor, clock, SPEC, query_batch_size=2000)
    with clock.frozen():
        connector.write_batch(
            "Opportunity", [Upsert(f"sf-mark-{n:04d}", sf_fields(n)) for n in range(1500)]
        )
    first = list(connector.read_changes("Opportunity", None))
    clock.advance(timedelta(minutes=10))
    idle = list(connector.read_changes("Opportunity", first[-1].cursor))
    assert [p.records for p in idle] == [()]
    settled_cursor = idle[-1].cursor
    connector.write_batch("Opportunity", [Upsert(f"sf-next-{n}", sf_fields(n)) for n in range(5)])
    since = mark(vendor)
    pages = list(connector.read_changes("Opportunity", settled_cursor))
    keys = sorted(r["Channel_Sync_Id__c"] for p in pages for r in p.records)
    assert keys == [f"sf-next-{n}" for n in range(5)]
    calls = [e for e in entries(vendor, since) if e.counts_against_allowance]
    assert settled_cursor.complete
    assert [e.path for e in calls] == ["/services/data/v59.0/queryAll/"]
    assert [e.records_read for e in calls] == [5]


def test_a_cursor_left_mid_read_still_reads_the_whole_mark_second(
    vendor: RunningInstance, clock: SteerableClock
):
    """A cursor saved after one page of a read that did not finish may point into a second
    whose later rows were never committed: the next read reads that second again, apart."""
    connector = salesforce_connector(vendor, clock, SPEC, query_batch_size=200)
    with clock.frozen() as when:
        # Three runs of 150 rows, a millisecond apart, inside one second.
        clock.advance(timedelta(microseconds=1_100_000 - when.microsecond))
        for run in range(3):
            first = 150 * run
            ops = [Upsert(f"sf-cut-{n:04d}", sf_fields(n)) for n in range(first, first + 150)]
            connector.write_batch("Opportunity", ops)
            clock.advance(timedelta(milliseconds=1))
    clock.advance(timedelta(minutes=10))
    pages = list(connector.read_changes("Opportunity", None))
    assert len(pages) >= 2
    assert pages[-1].cursor.complete
    assert not any(p.cursor.complete for p in pages[:-1])
    assert pages[0].cursor.modstamp.replace(microsecond=0) == (
        pages[-1].cursor.modstamp.replace(microsecond=0)
    )
    since = mark(vendor)
    resumed = list(connector.read_changes("Opportunity", pages[0].cursor))
    got = {r["Channel_Sync_Id__c"] for p in resumed for r in p.records}
    first = {r["Channel_Sync_Id__c"] for r in pages[0].records}
    assert got == {f"sf-cut-{n:04d}" for n in range(450)} - first
    calls = [e for e in entries(vendor, since) if e.counts_against_allowance]
    assert calls[0].path == "/services/data/v59.0/composite"
