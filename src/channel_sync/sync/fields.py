"""Field-level facts the engine derives from a compiled mapping, and value comparisons.

The merge works in canonical space (flat dotted paths); the outbox and settle steps compare what
the engine sent with what a CRM holds in wire space. Both comparisons live here so "equal" means
the same thing everywhere: equal after each side's own normalisation, never equal by accident of
formatting (``"125000.5"`` vs ``125000.50``, ``""`` vs ``null``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from channel_sync.errors import RecordError
from channel_sync.mapping import CompiledMapping, flatten
from channel_sync.mapping.flat import nullable_paths
from channel_sync.mapping.wire import decoder
from channel_sync.model import Opportunity
from channel_sync.store import DELETED
from channel_sync.sync.merge import FieldPolicy

#: The canonical id travels as the key of every write; it is never merged as a field.
ID_PATH = "id"
#: Paths the engine never takes from a CRM: identity and tenancy come from the hub.
NEVER_INBOUND = frozenset({ID_PATH, "partner_id", DELETED})


def _empty(value: Any) -> bool:
    return value is None or value in ("", [])


_REQUIRED_ONLY = {ID_PATH: "x", "name": "x"}


def model_defaults() -> dict[str, Any]:
    """The value the model gives each path that cannot be empty when nothing sets it.

    An empty remote value at such a path (a co-sell picklist never touched, a products field
    never filled) stands for this default: it is what the hub holds for that record.
    """
    nullable = nullable_paths()
    flat = flatten(Opportunity.model_validate(_REQUIRED_ONLY))
    return {p: v for p, v in flat.items() if p not in nullable and p not in _REQUIRED_ONLY}


@dataclass(frozen=True)
class MappingFacts:
    """What one mapping reads, writes and how each field's conflicts are decided."""

    mapping: CompiledMapping

    @cached_property
    def readable(self) -> frozenset[str]:
        return frozenset(
            c.canonical for c in self.mapping.fields if c.canonical and c.read is not None
        ) - NEVER_INBOUND

    @cached_property
    def writable(self) -> frozenset[str]:
        return frozenset(
            c.canonical for c in self.mapping.fields if c.canonical and c.write is not None
        )

    @cached_property
    def mirrored(self) -> frozenset[str]:
        """Paths written to the same remote field they are read from (``direction: both``)."""
        return frozenset(
            c.canonical
            for c in self.mapping.fields
            if c.canonical and c.read is not None and c.write is not None
        )

    @cached_property
    def empty_reads(self) -> dict[str, Any]:
        """Readable paths with a model default, and what an empty remote value there stands for.

        A link's base must hold a value for these even when the remote gave none: otherwise the
        remote's first real value (a partner's co-sell request) compares with "no base" and
        looks like both sides moved, and the field's authority silently keeps the default.
        """
        return {p: v for p, v in model_defaults().items() if p in self.readable}

    @cached_property
    def policies(self) -> dict[str, FieldPolicy]:
        """Each readable path's authority, from the codec that reads it."""
        out: dict[str, FieldPolicy] = {}
        for codec in self.mapping.fields:
            if codec.canonical and codec.read is not None and codec.authority is not None:
                out[codec.canonical] = FieldPolicy.of(codec.authority, codec.on_conflict)
        return out

    @cached_property
    def _wire_checks(self) -> tuple[tuple[str, Any], ...]:
        connector = self.mapping.connector
        return tuple(
            (c.remote, decoder(connector, c.wire))
            for c in self.mapping.fields
            if c.write is not None and c.remote and c.wire is not None and not c.is_constant
        )

    def inbound(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Canonical values of a remote record, without identity and "not given" values.

        ``None`` at a path that cannot be empty (``stage``) means the CRM has no value there;
        the model keeps its own value then, so the merge must not see it as a change.
        """
        values = self.mapping.inbound(record)
        nullable = nullable_paths()
        return {
            path: value
            for path, value in values.items()
            if path not in NEVER_INBOUND and (value is not None or path in nullable)
        }

    def outbound(self, canonical_id: str, values: Mapping[str, Any]) -> dict[str, Any]:
        """Wire fields for ``values`` (only what this mapping writes), keyed on the canonical id."""
        wanted = {p: v for p, v in values.items() if p in self.writable}
        return self.mapping.outbound({**wanted, ID_PATH: canonical_id})

    def round_trip(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """What reading back a write of ``values`` will yield, per path that is read back.

        This is the base a confirmed write leaves behind: reading the engine's own write then
        compares equal to it (no echo), even where the CRM's form is lossy (a stage two remote
        values share). Paths written to one field and read from another (a status written to
        one property, read from a checkbox) are not read back, so their base is left alone.
        """
        try:
            echoed = self.inbound(self.mapping.outbound(values))
        except RecordError:
            return {p: v for p, v in values.items() if p in self.readable}
        out = {p: echoed[p] for p in values if p in echoed and p in self.readable}
        for path in self.mirrored & set(values):
            if path not in out and path in self.empty_reads:
                out[path] = self.empty_reads[path]  # written as an empty value, read as default
        return out

    def remote_holds(self, expected: Mapping[str, Any], remote: Mapping[str, Any]) -> bool:
        """Whether ``remote`` holds every written field of ``expected`` (wire forms compared
        after decoding, empty values alike)."""
        for name, decode in self._wire_checks:
            if name not in expected:
                continue
            try:
                want, have = decode(expected[name]), decode(remote.get(name))
            except ValueError:
                return False
            if _empty(want) and _empty(have):
                continue
            if isinstance(want, list) and isinstance(have, list):
                want, have = sorted(want), sorted(have)
            if want != have:
                return False
        return True
