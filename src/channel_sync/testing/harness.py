"""What the conformance suite needs from a connector under test.

A connector package provides one :class:`ConformanceHarness` per test (through a pytest fixture
named ``harness``): the connector, pointed at a running sandbox of its CRM; a factory for valid
and invalid records; and the sandbox's control plane (``/__sandbox``: ledger, faults, reset,
snapshot), which every sandbox of this project serves and a third-party sandbox can serve too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import requests

from channel_sync.connectors.protocol import Connector, Upsert
from channel_sync.testing.clock import SteerableClock
from channel_sync.testing.ledger import Call, settled


@dataclass(frozen=True)
class FaultPaths:
    """Regular expressions for the request paths of each kind of call (for fault rules)."""

    read: str
    write: str
    #: The token endpoint, for counting refreshes (``None``: the connector never refreshes).
    token: str | None = None


@dataclass(frozen=True)
class Limits:
    """The sandbox's advertised limits the connector must stay under."""

    burst: int | None = None
    burst_window: timedelta = timedelta(seconds=10)
    #: Per-path limits, e.g. HubSpot search: ``{"/search": (5, timedelta(seconds=1))}``.
    per_path: Mapping[str, tuple[int, timedelta]] = field(default_factory=dict)
    #: Paths the burst limit does not count (HubSpot search has its own limit).
    burst_exempt: str | None = None


@dataclass
class ConformanceHarness:
    """A connector wired to a sandbox, plus everything the suite asks of the sandbox."""

    connector: Connector
    object_name: str
    control_url: str
    clock: SteerableClock
    #: Valid remote fields for record number ``n`` (wire values; no key field).
    make_fields: Callable[[int], Mapping[str, Any]]
    #: Fields the CRM refuses for that record alone (a bad picklist value, say).
    invalid_fields: Mapping[str, Any]
    #: The field the canonical id is written to (the upsert key), and the modstamp field.
    key_field: str
    modstamp_field: str
    #: How many records one read page holds, so tests can cross page boundaries.
    page_size: int
    paths: FaultPaths
    limits: Limits = field(default_factory=Limits)
    #: A compiled mapping the connector was built for, for the round-trip test (optional).
    mapping: Any = None
    #: How long after a change a read can see it (a connector that leaves the newest changes
    #: to the next read, as the HubSpot one does, says so here); tests move the clock on.
    read_delay: timedelta = timedelta(0)
    #: Whether the connector can obtain a new token when one expires (OAuth flows).
    refreshable: bool = False
    #: The retry policy's attempt bound the connector was built with.
    max_attempts: int = 4
    verify: str | bool = True

    # -- control plane ----------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return self.control_url.rstrip("/") + path

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        with requests.Session() as http:
            http.trust_env = False
            response = http.request(
                method, self._url(path), verify=self.verify, timeout=30, **kwargs
            )
        response.raise_for_status()
        return response.json() if response.content else None

    def calls(self, since: int = 0) -> list[Call]:
        """Ledger entries after ``since``, once the ledger has caught up with the client."""
        self.last_seq()
        body = self._request("GET", f"/ledger?since={since}")
        return [Call.from_json(e) for e in body["entries"]]

    def last_seq(self) -> int:
        return settled(self._raw_last_seq)

    def _raw_last_seq(self) -> int:
        body = self._request("GET", f"/ledger?since={2**62}")
        return int(body.get("last_seq", 0))

    def faults(self, **update: Any) -> None:
        """Merge a faults update (rules, locked_records, limits, expire_tokens...)."""
        self._request("POST", "/faults", json=update)

    def clear_faults(self) -> None:
        self._request("DELETE", "/faults")

    def used_allowance(self) -> int:
        """API calls counted against the daily allowance so far."""
        info = self._request("GET", "/info")
        return int(info["allowance"]["used"])

    def reset(self) -> None:
        self._request("POST", "/reset")

    def snapshot(self) -> list[dict[str, Any]]:
        """Every remote record, deleted or archived ones included."""
        body = self._request("GET", "/snapshot")
        rows: list[dict[str, Any]] = []
        for records in body.values():
            rows.extend(records)
        return rows

    # -- records ----------------------------------------------------------------------------

    def upserts(self, keys: Sequence[str], offset: int = 0) -> list[Upsert]:
        return [Upsert(k, dict(self.make_fields(offset + n))) for n, k in enumerate(keys)]
