"""Hub rules: business logic that runs inside the engine's transaction on every deal change.

The registration workflow (numbering, expiry dates, channel-conflict checks) plugs in here rather
than running as a separate pass, so its extra changes commit atomically with the change that
caused them and reach the remote sides through the same outbox. A rule returns flat canonical
changes (``{"registration.number": ...}``); it may raise a
:class:`~channel_sync.errors.RecordError` (e.g. :class:`RuleRefusalError`) to refuse the change,
which the engine records as a visible error on the record instead of applying it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from channel_sync.clock import Clock
from channel_sync.errors import RecordError
from channel_sync.model import Opportunity
from channel_sync.sync.claims import ClaimChange, ClaimsFeed
from channel_sync.sync.merge import Side

#: ``RuleContext.source`` for changes the engine itself originates (sweeps, resolutions).
ENGINE_SOURCE = "channel-sync"


class RuleRefusalError(RecordError):
    """A rule refuses a change; the message is shown on the record (never names a partner)."""


class RuleContext(Protocol):
    clock: Clock
    #: The connection the change came from, or :data:`ENGINE_SOURCE`.
    source: str
    source_role: Side | None

    def open_registrations(self) -> Iterable[Opportunity]:
        """Other deals with an open registration, and open vendor-direct deals."""
        ...


@runtime_checkable
class ClaimsSource(Protocol):
    """A context that also offers the open claims incrementally (the engine's does), so a rule
    comparing every submission with every claim can keep an index instead of rebuilding it."""

    def claims_feed(self) -> ClaimsFeed | None:
        """The committed open claims, current as of this transaction's start."""
        ...

    def pending_log(self) -> Sequence[ClaimChange]:
        """This transaction's own changes to open claims, in order (append-only)."""
        ...


class HubRule(Protocol):
    def apply(
        self, before: Opportunity | None, after: Opportunity, ctx: RuleContext
    ) -> Mapping[str, Any]:
        """Extra flat canonical changes to make with ``before -> after`` (``{}`` for none)."""
        ...
