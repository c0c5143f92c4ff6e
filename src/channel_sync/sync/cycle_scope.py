"""What one cycle of one connection works with, shared by its read, drain and settle steps."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from channel_sync.clock import Clock
from channel_sync.connectors import Upsert
from channel_sync.sync.claims import ClaimsFeed
from channel_sync.sync.fields import MappingFacts
from channel_sync.sync.routing import Routes
from channel_sync.sync.rules import HubRule
from channel_sync.sync.runtime import ConnectionRuntime

_CANONICAL_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def new_canonical_id() -> str:
    """A fresh canonical id: random, so ids issued by two processes never collide."""
    return f"cs_{uuid.uuid4().hex}"


def is_canonical_id(value: str) -> bool:
    return bool(_CANONICAL_ID.match(value))


@cache
def can_stamp() -> bool:
    """Whether the connector protocol can address a record by remote id (to give it its key)."""
    return any(f.name == "remote_id" for f in dataclasses.fields(Upsert))


@dataclass(frozen=True)
class Hub:
    """The configured connections, their mapping facts and the routing between them."""

    runtimes: Mapping[str, ConnectionRuntime]
    facts: Mapping[str, MappingFacts]
    routes: Routes
    clock: Clock
    rules: Sequence[HubRule] = ()
    #: The committed open claims the rules compare registrations with (``None``: no rules).
    claims: ClaimsFeed | None = None

    @classmethod
    def build(
        cls,
        runtimes: Mapping[str, ConnectionRuntime],
        clock: Clock,
        rules: Sequence[HubRule],
        claims: ClaimsFeed | None = None,
    ) -> Hub:
        facts = {name: MappingFacts(rt.mapping) for name, rt in runtimes.items()}
        return cls(runtimes, facts, Routes(runtimes), clock, tuple(rules), claims)

    def kind(self, connection: str | None) -> str:
        """The source system of a connection (its connector kind), for audit and conflicts."""
        if connection is None or connection not in self.runtimes:
            return "channel-sync"
        return str(self.runtimes[connection].connector.kind)
