"""The connector protocol: the few verbs the sync engine needs from a CRM.

The engine never imports a concrete connector; it talks to this protocol and finds
implementations through entry points (see :mod:`channel_sync.connectors.registry`). Remote
records stay plain dicts of wire values: translating them is the compiled mapping's job, so a
connector never needs to know the canonical model.

Retry, paging, authentication and rate limiting are collaborators handed to a connector, not
hooks on a base class; the protocol itself stays small on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeAlias, runtime_checkable

from channel_sync.connectors.cursor import Cursor
from channel_sync.errors import ChannelSyncError, RetriableError

#: One remote record as it came over the wire (field name -> wire value).
RemoteRecord: TypeAlias = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    """How one remote object takes part in the sync.

    The names come from the mapping (key fields) and the connection; ``fields`` is the allow-list
    of fields the mapping reads or writes. Connectors check every name against ``describe`` before
    it reaches a query, so a field name can never smuggle syntax into one.
    """

    name: str
    id_field: str
    key_field: str
    modstamp_field: str
    fields: tuple[str, ...] = ()

    def read_fields(self) -> tuple[str, ...]:
        """Fields to read: the key fields first, then the mapped fields, without repeats."""
        ordered = (self.id_field, self.key_field, self.modstamp_field, *self.fields)
        return tuple(dict.fromkeys(ordered))

    @classmethod
    def from_mapping(cls, mapping: MappingView) -> ObjectSpec:
        """The spec a compiled mapping implies (its object, key fields, read and write fields)."""
        keys = mapping.keys
        fields = (*mapping.read_fields, *mapping.write_fields)
        return cls(
            name=mapping.object_name,
            id_field=keys.remote_id,
            key_field=keys.external_id,
            modstamp_field=keys.modstamp,
            fields=tuple(dict.fromkeys(fields)),
        )


class MappingKeys(Protocol):
    @property
    def remote_id(self) -> str: ...
    @property
    def external_id(self) -> str: ...
    @property
    def modstamp(self) -> str: ...


class MappingView(Protocol):
    """What a connector reads from a compiled mapping (kept structural: no import of it)."""

    @property
    def object_name(self) -> str: ...
    @property
    def keys(self) -> MappingKeys: ...
    @property
    def read_fields(self) -> tuple[str, ...]: ...
    @property
    def write_fields(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """What ``describe`` says about one remote field."""

    name: str
    type: str
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    unique: bool = False
    external_id: bool = False
    picklist_values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectDescription:
    """The remote object's schema, as far as the sync needs it."""

    name: str
    fields: Mapping[str, FieldInfo]

    def missing(self, names: Sequence[str]) -> list[str]:
        """The names that are not fields of this object, in the order given."""
        return [name for name in names if name not in self.fields]


@dataclass(frozen=True, slots=True)
class Deletion:
    """A record that was deleted (or archived) remotely since the cursor."""

    remote_id: str
    key: str | None
    deleted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of changes and the cursor to resume after it.

    ``cursor`` covers exactly the records and deletions of this page and every page before it:
    the engine commits it in the same transaction as the data. A page without records only
    moves the cursor (a completed read records when it started). ``reconcile_needed`` is set when
    the connector can prove that incremental reading may have missed something (for example a
    delete log that no longer reaches back to the cursor); the engine then schedules a full
    reconciliation.
    """

    records: tuple[RemoteRecord, ...]
    deletions: tuple[Deletion, ...]
    cursor: Cursor
    reconcile_needed: str | None = None


@dataclass(frozen=True, slots=True)
class Upsert:
    """Create or update the record whose external-id field holds ``key`` (the canonical id).

    ``remote_id`` is set only to stamp the key onto a record that was created in the CRM and has
    never carried it: the record is then updated by its own id, with the key field set to
    ``key``. Resending it addresses the same record, so it stays idempotent; every later write is
    a plain upsert on the key.
    """

    key: str
    fields: Mapping[str, Any]
    remote_id: str | None = None


@dataclass(frozen=True, slots=True)
class Delete:
    """Delete the record holding ``key``; ``remote_id`` saves a lookup when the link knows it."""

    key: str
    remote_id: str | None = None


WriteOp: TypeAlias = Upsert | Delete


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The outcome of one write operation, reported in the order the operations were given."""

    key: str
    remote_id: str | None = None
    created: bool | None = None
    error: ChannelSyncError | None = None
    error_code: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def retriable(self) -> bool:
        """Whether sending the operation again may succeed (re-queue, not quarantine)."""
        return isinstance(self.error, RetriableError)


@dataclass(frozen=True, slots=True)
class ApiUsage:
    """API consumption as the CRM last reported it (``None`` when it never said)."""

    used: int | None = None
    limit: int | None = None

    @property
    def remaining(self) -> int | None:
        if self.used is None or self.limit is None:
            return None
        return max(0, self.limit - self.used)


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What ``check`` found: the instance answers, the credentials work, the objects exist."""

    connector: str
    instance: str
    objects: tuple[str, ...]
    api_usage: ApiUsage = field(default_factory=ApiUsage)


@runtime_checkable
class Connector(Protocol):
    """One configured CRM instance, seen through the verbs the sync engine uses.

    Every method raises only errors of :mod:`channel_sync.errors`; vendor exceptions are
    translated at the boundary by the connector's error table.
    """

    kind: str

    def check(self) -> CheckReport:
        """Prove the instance is reachable and the credentials and objects work."""
        ...

    def describe(self, object_name: str) -> ObjectDescription:
        """The remote schema of ``object_name`` (cached by the connector)."""
        ...

    def read_changes(self, object_name: str, cursor: Cursor | None) -> Iterator[Page]:
        """Pages of records changed since ``cursor`` (everything when ``None``), oldest first."""
        ...

    def write_batch(self, object_name: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        """Apply ``ops`` (any number; the connector batches them) and report per operation."""
        ...

    def read_by_keys(self, object_name: str, keys: Sequence[str]) -> dict[str, RemoteRecord]:
        """Current records for canonical ids; keys with no remote record are absent."""
        ...

    def close(self) -> None:
        """Release connections and threads."""
        ...
