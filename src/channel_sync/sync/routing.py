"""Which connections may see a deal, and where its changes go.

The vendor connection sees every deal; a partner connection sees only the deals whose
``partner_id`` is its own; a vendor-direct deal (no partner) reaches no partner. ``partner_id``
comes from the connection that brought the deal in and never from a field a CRM can edit, so
these few functions are the whole tenant boundary of the engine. Messages they produce for a
refusal never name the other partner: they end up in partner-facing logs and status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from channel_sync.errors import RecordError
from channel_sync.sync.merge import Side
from channel_sync.sync.runtime import ConnectionRuntime


class IsolationError(RecordError):
    """A record or write would cross from one partner to another (or onto a vendor-direct
    deal); refused, never retried."""


#: The one message shown for every isolation refusal; it names nobody on purpose.
NOT_YOURS = "the record's canonical id belongs to a deal this connection may not see"


@dataclass(frozen=True)
class Routes:
    runtimes: Mapping[str, ConnectionRuntime]

    @property
    def vendor(self) -> str | None:
        for name, runtime in self.runtimes.items():
            if runtime.role is Side.VENDOR:
                return name
        return None

    def partner_connection(self, partner_id: str | None) -> str | None:
        if partner_id is None:
            return None
        for name, runtime in self.runtimes.items():
            if runtime.role is Side.PARTNER and runtime.partner_id == partner_id:
                return name
        return None

    def may_see(self, connection: str, partner_id: str | None) -> bool:
        runtime = self.runtimes[connection]
        if runtime.role is Side.VENDOR:
            return True
        return partner_id is not None and runtime.partner_id == partner_id

    def check(self, connection: str, partner_id: str | None) -> None:
        if not self.may_see(connection, partner_id):
            raise IsolationError(NOT_YOURS)

    def audience(self, partner_id: str | None) -> list[str]:
        """Every connection that should hold the deal: the vendor and the deal's partner."""
        names = [self.vendor, self.partner_connection(partner_id)]
        return [name for name in names if name is not None]

    def counterpart(self, connection: str, partner_id: str | None) -> str | None:
        """The other side of a deal as seen from ``connection`` (for conflicts)."""
        if self.runtimes[connection].role is Side.VENDOR:
            return self.partner_connection(partner_id)
        return self.vendor
