"""API calls per sync step, measured against the sandbox CRMs' call ledgers.

For N changed deals per side, one write of N deals and one incremental read of those N changes
is run on each connector (Salesforce and HubSpot), and the API calls the sandbox counted are
compared with the minimum from the CRM facts (section E):

    sf_read  max(1, ceil(N / 2000))     queryAll, 2,000 rows per call
    hs_read  max(1, ceil(N / 200))      CRM search, 200 per page
    sf_write ceil(N / 1000)             Composite of 5 x 200-record collection upserts
    hs_write ceil(N / 100)              batch upsert, 100 inputs
    cycle    the sum of the four

One JSON line per scenario: scenario, n, measured_calls, minimum_calls, ratio, seconds.
Warm-up (describe, the first full read) is not counted: it is a per-process cost.

    python benchmarks/api_calls.py [--sizes 0,100,1000,10000] [--baseline 2000]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pydantic import SecretStr

from channel_sync.connectors.hubspot import HubSpotConnector, HubSpotSettings
from channel_sync.connectors.protocol import Connector, ObjectSpec, Upsert
from channel_sync.connectors.salesforce.auth import SalesforceOAuth
from channel_sync.connectors.salesforce.connector import SalesforceConnector, SalesforceSettings
from channel_sync.connectors.salesforce.session import SalesforceSession
from channel_sync.connectors.tokens import StaticTokenSource
from channel_sync.sandbox import InstanceSpec, RunningInstance, SandboxServer
from channel_sync.testing import SteerableClock
from channel_sync.testing.ledger import settled

SF_SPEC = ObjectSpec(
    "Opportunity",
    "Id",
    "Channel_Sync_Id__c",
    "SystemModstamp",
    ("Name", "StageName", "CloseDate", "Amount", "Registration_Status__c"),
)
HS_SPEC = ObjectSpec(
    "deals",
    "hs_object_id",
    "channel_sync_id",
    "hs_lastmodifieddate",
    ("dealname", "dealstage", "pipeline", "amount", "channel_sync_registration_status"),
)

MINIMUM: dict[str, Callable[[int], int]] = {
    "sf_read": lambda n: max(1, math.ceil(n / 2000)),
    "hs_read": lambda n: max(1, math.ceil(n / 200)),
    "sf_write": lambda n: math.ceil(n / 1000),
    "hs_write": lambda n: math.ceil(n / 100),
}


def sf_connector(vendor: RunningInstance, clock: SteerableClock) -> SalesforceConnector:
    backend: Any = vendor.backend
    http = SalesforceSession(ca_bundle=str(vendor.ca_bundle))
    source = SalesforceOAuth(
        flow="client_credentials",
        login_url=vendor.base_url,
        session=http.session,
        client_id=backend.client_id,
        client_secret=SecretStr(backend.client_secret),
        clock=clock,
    )
    settings = SalesforceSettings(instance_url=vendor.base_url, ca_bundle=str(vendor.ca_bundle))
    return SalesforceConnector(
        objects=[SF_SPEC], token_source=source, settings=settings, clock=clock, http=http
    )


def hs_connector(partner: RunningInstance, clock: SteerableClock) -> HubSpotConnector:
    return HubSpotConnector(
        objects=[HS_SPEC],
        token_source=StaticTokenSource(SecretStr(partner.access_token), clock=clock),
        settings=HubSpotSettings(host=partner.base_url),
        clock=clock,
    )


def sf_fields(n: int, round_no: int) -> dict[str, Any]:
    return {
        "Name": f"Bench deal {n} r{round_no}",
        "StageName": "Qualification",
        "CloseDate": "2026-09-30",
        "Amount": 1000 + n + round_no,
    }


def hs_fields(n: int, round_no: int) -> dict[str, Any]:
    return {
        "dealname": f"Bench deal {n} r{round_no}",
        "dealstage": "qualifiedtobuy",
        "pipeline": "default",
        "amount": str(1000 + n + round_no),
    }


class Counter:
    """API calls the sandbox counted between two points."""

    def __init__(self, instance: RunningInstance) -> None:
        self.ledger: Any = instance.backend.ledger

    def mark(self) -> int:
        return settled(self.ledger.last_seq)

    def since(self, seq: int) -> int:
        self.mark()
        return sum(1 for e in self.ledger.entries(seq) if e.counts_against_allowance)


def line(scenario: str, n: int, measured: int, seconds: float) -> dict[str, Any]:
    minimum = MINIMUM[scenario](n) if scenario in MINIMUM else 0
    return {
        "scenario": scenario,
        "n": n,
        "measured_calls": measured,
        "minimum_calls": minimum,
        "ratio": round(measured / minimum, 3) if minimum else (1.0 if measured == 0 else None),
        "seconds": round(seconds, 2),
    }


def side(
    name: str,
    connector: Connector,
    object_name: str,
    counter: Counter,
    fields: Callable[[int, int], dict[str, Any]],
    clock: SteerableClock,
    n: int,
) -> list[dict[str, Any]]:
    connector.check()
    cursor = None
    for page in connector.read_changes(object_name, None):
        cursor = page.cursor
    clock.advance(timedelta(minutes=10))  # the warm-up read settles past the look-back
    for page in connector.read_changes(object_name, cursor):
        cursor = page.cursor
    ops = [Upsert(f"bench-{name}-{k:06d}", fields(k, n)) for k in range(n)]
    seq, started = counter.mark(), time.perf_counter()
    results = connector.write_batch(object_name, ops)
    write = line(f"{name}_write", n, counter.since(seq), time.perf_counter() - started)
    failed = [r for r in results if not r.ok]
    if failed:
        msg = f"{len(failed)} writes failed, e.g. {failed[0]}"
        raise RuntimeError(msg)
    clock.advance(timedelta(minutes=2))  # past HubSpot's settle delay
    seq, started = counter.mark(), time.perf_counter()
    read = sum(len(p.records) for p in connector.read_changes(object_name, cursor))
    read_line = line(f"{name}_read", n, counter.since(seq), time.perf_counter() - started)
    if read != n:
        msg = f"{name} read {read} changed records, expected {n}"
        raise RuntimeError(msg)
    return [read_line, write]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,100,1000,10000")
    parser.add_argument("--baseline", type=int, default=2000, help="unchanged deals per side")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    clock = SteerableClock()
    specs = [InstanceSpec("vendor", "salesforce"), InstanceSpec("partner", "hubspot")]
    for n in sizes:
        with SandboxServer(specs, deals=args.baseline, clock=clock) as server:
            vendor, partner = server.instances["vendor"], server.instances["partner"]
            sf, hs = sf_connector(vendor, clock), hs_connector(partner, clock)
            try:
                lines = side("sf", sf, "Opportunity", Counter(vendor), sf_fields, clock, n)
                lines += side("hs", hs, "deals", Counter(partner), hs_fields, clock, n)
            finally:
                sf.close()
                hs.close()
            total = sum(x["measured_calls"] for x in lines)
            minimum = sum(x["minimum_calls"] for x in lines)
            seconds = sum(x["seconds"] for x in lines)
            for item in lines:
                print(json.dumps(item))
            print(
                json.dumps(
                    {
                        "scenario": "cycle",
                        "n": n,
                        "measured_calls": total,
                        "minimum_calls": minimum,
                        "ratio": round(total / minimum, 3),
                        "seconds": round(seconds, 2),
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
