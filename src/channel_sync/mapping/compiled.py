"""A compiled mapping: record-level translation functions built once from the field codecs.

``inbound(record)`` turns one remote record (field -> wire value) into flat canonical values
(dotted path -> value); ``outbound(values)`` turns flat canonical values into remote fields in
wire form. Both only touch what they are given: a remote field missing from the record leaves
its path out, and a canonical path missing from ``values`` leaves its remote field out, so the
engine can translate partial reads and write only the fields that changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from channel_sync.errors import RecordError
from channel_sync.mapping.flat import build_opportunity, flatten
from channel_sync.mapping.scope import Scope
from channel_sync.mapping.spec import Connector, Direction, KeysSpec, MappingSpec, WireType
from channel_sync.mapping.transforms import FieldCodec
from channel_sync.mapping.wire import decoder
from channel_sync.model import Opportunity

_MISSING = object()
_DATA_ERRORS = (ValueError, ArithmeticError, TypeError)


class TranslationError(RecordError):
    """One field of one record could not be translated: quarantine the record, keep syncing."""

    def __init__(
        self, direction: Direction, remote: str, canonical: str | None, reason: str
    ) -> None:
        arrow = f"{remote} -> {canonical}" if direction is Direction.INBOUND else (
            f"{canonical} -> {remote}"
        )
        super().__init__(f"{arrow}: {reason}")
        self.direction = direction
        self.remote = remote
        self.canonical = canonical
        self.reason = reason


def _inbound(
    readers: tuple[tuple[str, str, Callable[[Any], Any]], ...],
    constants: Mapping[str, Any],
    external_id: str,
) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    def inbound(record: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for path, remote, read in readers:
            raw = record.get(remote, _MISSING)
            if raw is _MISSING:
                continue
            try:
                out[path] = read(raw)
            except _DATA_ERRORS as exc:
                raise TranslationError(Direction.INBOUND, remote, path, str(exc)) from None
        if constants:
            out.update(constants)
        key = record.get(external_id)
        if isinstance(key, str) and key:
            out["id"] = key
        return out

    return inbound


def _outbound(
    writers: tuple[tuple[str, str, Callable[[Any], Any]], ...],
    constants: Mapping[str, Any],
    external_id: str,
) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    def outbound(values: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for path, remote, write in writers:
            value = values.get(path, _MISSING)
            if value is _MISSING:
                continue
            try:
                out[remote] = write(value)
            except _DATA_ERRORS as exc:
                raise TranslationError(Direction.OUTBOUND, remote, path, str(exc)) from None
        if constants:
            out.update(constants)
        key = values.get("id")
        if key is not None:
            out[external_id] = key
        return out

    return outbound


@dataclass(frozen=True)
class CompiledMapping:
    """Everything the engine and connectors need from one mapping file, ready to run."""

    spec: MappingSpec
    fields: tuple[FieldCodec, ...]
    scope: Scope
    inbound: Callable[[Mapping[str, Any]], dict[str, Any]]
    outbound: Callable[[Mapping[str, Any]], dict[str, Any]]
    _modstamp: Callable[[Any], Any] = field(repr=False)
    _deleted: Callable[[Any], Any] | None = field(repr=False)

    @property
    def connector(self) -> Connector:
        return self.spec.connector

    @property
    def object_name(self) -> str:
        return self.spec.object

    @property
    def keys(self) -> KeysSpec:
        return self.spec.keys

    @property
    def read_fields(self) -> tuple[str, ...]:
        """Remote fields to fetch: key fields, every field read, and the scope's fields."""
        keys = self.spec.keys
        names = [keys.remote_id, keys.external_id, keys.modstamp]
        if keys.deleted:
            names.append(keys.deleted)
        names += [c.remote for c in self.fields if c.read is not None and c.remote]
        names += list(self.scope.fields)
        return tuple(dict.fromkeys(names))

    @property
    def write_fields(self) -> tuple[str, ...]:
        """Remote fields an outbound write may set (the external id included)."""
        names = [c.remote for c in self.fields if c.direction.writes and c.remote]
        return tuple(dict.fromkeys([self.spec.keys.external_id, *names]))

    def codecs_for(self, path: str) -> tuple[FieldCodec, ...]:
        return tuple(c for c in self.fields if c.canonical == path)

    def remote_id(self, record: Mapping[str, Any]) -> str:
        return str(record[self.spec.keys.remote_id])

    def canonical_id(self, record: Mapping[str, Any]) -> str | None:
        key = record.get(self.spec.keys.external_id)
        return key if isinstance(key, str) and key else None

    def modstamp(self, record: Mapping[str, Any]) -> datetime:
        value = self._modstamp(record.get(self.spec.keys.modstamp))
        if not isinstance(value, datetime):
            msg = f"record has no {self.spec.keys.modstamp}"
            raise TranslationError(Direction.INBOUND, self.spec.keys.modstamp, None, msg)
        return value

    def is_deleted(self, record: Mapping[str, Any]) -> bool:
        if self._deleted is None:
            return False
        return bool(self._deleted(record.get(self.spec.keys.deleted or "")))

    def in_scope(self, record: Mapping[str, Any]) -> bool:
        return self.scope.matches(record)

    def to_opportunity(
        self, record: Mapping[str, Any], base: Opportunity | None = None
    ) -> Opportunity:
        """Inbound translation straight to a validated model (over ``base`` when given)."""
        return build_opportunity(self.inbound(record), base)

    def from_opportunity(self, opportunity: Opportunity) -> dict[str, Any]:
        """Outbound translation of every mapped field of ``opportunity``."""
        return self.outbound(flatten(opportunity))


def assemble(spec: MappingSpec, codecs: tuple[FieldCodec, ...], scope: Scope) -> CompiledMapping:
    """Build the record-level functions from checked, compiled field codecs."""
    readers = tuple(
        (c.canonical, c.remote, c.read)
        for c in codecs
        if c.read is not None and c.canonical and c.remote
    )
    writers = tuple(
        (c.canonical, c.remote, c.write)
        for c in codecs
        if c.write is not None and c.canonical and c.remote
    )
    read_constants = {c.canonical: c.constant for c in codecs if c.is_constant and c.canonical}
    write_constants = {c.remote: c.constant for c in codecs if c.is_constant and c.remote}
    external_id = spec.keys.external_id
    deleted = decoder(spec.connector, WireType.BOOLEAN) if spec.keys.deleted else None
    return CompiledMapping(
        spec=spec,
        fields=codecs,
        scope=scope,
        inbound=_inbound(readers, read_constants, external_id),
        outbound=_outbound(writers, write_constants, external_id),
        _modstamp=decoder(spec.connector, WireType.DATETIME),
        _deleted=deleted,
    )
