"""Checks a mapping needs beyond its schema: canonical paths, key fields, duplicates, types.

The schema says what a file may contain; these checks say whether it makes sense against the
canonical model and as a whole (two entries writing one remote field, ``partner_id`` read from a
record a partner can edit, a case-folding transform on a field that must round-trip). Each
problem is located by its path in the document so the admin sees file, line and column.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from channel_sync.mapping.spec import (
    Direction,
    FieldSpec,
    MappingSpec,
    ScopeOp,
    ScopePredicate,
    WireType,
)
from channel_sync.mapping.valuemap import Issue, literal
from channel_sync.mapping.wire import WireError
from channel_sync.model import CanonicalField, canonical_fields
from channel_sync.model.currency import is_currency

W = WireType
_TEXT_WIRES = frozenset({W.STRING, W.PICKLIST, W.MULTIPICKLIST})


def _wires_for(info: CanonicalField) -> tuple[frozenset[WireType], str]:
    kind = info.type
    if isinstance(kind, type) and issubclass(kind, Enum):
        return frozenset({W.STRING, W.PICKLIST}), "one of " + ", ".join(m.value for m in kind)
    table: dict[type, tuple[frozenset[WireType], str]] = {
        str: (frozenset({W.STRING, W.PICKLIST}), "text"),
        int: (frozenset({W.INTEGER, W.NUMBER}), "a whole number"),
        Decimal: (frozenset({W.NUMBER, W.INTEGER}), "a decimal number"),
        bool: (frozenset({W.BOOLEAN}), "true or false"),
        date: (frozenset({W.DATE, W.DATETIME, W.STRING}), "a date"),
        datetime: (frozenset({W.DATETIME, W.DATE, W.STRING}), "a date and time"),
        list: (frozenset({W.MULTIPICKLIST}), "a list of values"),
    }
    return table.get(kind, (frozenset({W.STRING}), "text"))


def unknown_path_message(path: str) -> str:
    close = difflib.get_close_matches(path, list(canonical_fields()), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown canonical path {path!r}{hint}; 'channel-sync schema opportunity' lists them"


def check_mapping(spec: MappingSpec) -> list[Issue]:
    """Every structural problem in ``spec``; entries with none can be compiled."""
    issues = list(_check_keys(spec))
    for index, entry in enumerate(spec.fields):
        issues.extend(field_issues(spec, index, entry))
    issues.extend(_check_duplicates(spec))
    issues.extend(_check_scope(spec))
    return issues


def _check_keys(spec: MappingSpec) -> Iterator[Issue]:
    seen: dict[str, str] = {}
    for name in ("remote_id", "external_id", "modstamp", "deleted"):
        value = getattr(spec.keys, name)
        if value is None:
            continue
        if value in seen:
            yield ("keys", name), f"{value!r} is already keys.{seen[value]}; key fields must differ"
        seen.setdefault(value, name)


def field_issues(spec: MappingSpec, index: int, entry: FieldSpec) -> Iterator[Issue]:
    loc: tuple[str | int, ...] = ("fields", index)
    info: CanonicalField | None = None
    if entry.canonical is not None:
        info = canonical_fields().get(entry.canonical)
        if info is None:
            yield (*loc, "canonical"), unknown_path_message(entry.canonical)
    if entry.remote is not None and entry.type is None:
        yield loc, f"missing required key 'type' (the wire type of {entry.remote!r}: " + (
            ", ".join(w.value for w in WireType) + ")"
        )
    if entry.canonical is not None and entry.authority is None:
        yield loc, "missing required key 'authority' (vendor, partner or shared)"
    if entry.canonical is None and entry.authority is not None:
        yield (*loc, "authority"), "authority applies to entries with a 'canonical' path"
    if entry.on_conflict is not None and entry.authority is not None and (
        entry.authority.value != "shared"
    ):
        yield (*loc, "on_conflict"), (
            "on_conflict applies only to 'authority: shared'; vendor and partner authority "
            "already decide conflicts"
        )
    if entry.constant is not None:
        yield from _constant_issues(entry, loc)
    elif entry.canonical is None or entry.remote is None:
        yield loc, "an entry needs both 'canonical' and 'remote' unless it has a 'constant'"
    yield from _key_field_issues(spec, entry, loc)
    if info is not None and entry.type is not None and entry.constant is None:
        yield from _type_issues(spec, entry, info, loc)


def _constant_issues(entry: FieldSpec, loc: tuple[str | int, ...]) -> Iterator[Issue]:
    if entry.canonical is not None and entry.remote is not None:
        yield (*loc, "constant"), (
            "a constant entry has 'canonical' (a value read for every record) or 'remote' "
            "(a value written on every record), not both"
        )
        return
    if entry.canonical is not None and entry.direction is not Direction.INBOUND:
        yield (*loc, "direction"), "a canonical constant is only read: use 'direction: inbound'"
    if entry.remote is not None and entry.direction is not Direction.OUTBOUND:
        yield (*loc, "direction"), "a remote constant is only written: use 'direction: outbound'"
    for name in ("value_map", "lookup", "format", "scale", "currency", "default", "case"):
        if getattr(entry, name) is not None:
            yield (*loc, name), f"{name!r} does not apply to a constant"
    if entry.trim:
        yield (*loc, "trim"), "'trim' does not apply to a constant"


def _key_field_issues(
    spec: MappingSpec, entry: FieldSpec, loc: tuple[str | int, ...]
) -> Iterator[Issue]:
    keys = spec.keys
    if entry.canonical == "partner_id" and entry.direction.reads:
        yield (*loc, "direction"), (
            "partner_id comes from the connection, never from a remote record a partner can "
            "edit: it can only be mapped 'direction: outbound'"
        )
    if entry.canonical == "id" and entry.remote != keys.external_id:
        yield (*loc, "remote"), (
            f"the canonical id lives in keys.external_id ({keys.external_id!r}), not in "
            f"{entry.remote!r}; leave 'id' out of fields (keys map it)"
        )
    if entry.remote is None:
        return
    read_only = {keys.remote_id: "remote_id", keys.modstamp: "modstamp"}
    if keys.deleted:
        read_only[keys.deleted] = "deleted"
    if entry.remote in read_only and entry.direction.writes:
        yield (*loc, "remote"), (
            f"{entry.remote!r} is keys.{read_only[entry.remote]}, which the CRM sets: it cannot "
            "be written (use 'direction: inbound')"
        )
    if entry.remote == keys.external_id and entry.canonical != "id":
        yield (*loc, "remote"), (
            f"{entry.remote!r} is keys.external_id and holds the canonical id; it cannot also "
            f"hold {entry.canonical!r}"
        )


def _type_issues(
    spec: MappingSpec, entry: FieldSpec, info: CanonicalField, loc: tuple[str | int, ...]
) -> Iterator[Issue]:
    wire = entry.type
    assert wire is not None
    mapped = entry.value_map is not None or entry.lookup is not None
    if entry.value_map is not None and entry.lookup is not None:
        yield (*loc, "lookup"), "use either 'value_map' or 'lookup', not both"
    if entry.lookup is not None and entry.lookup not in spec.lookups:
        known = ", ".join(spec.lookups) or "none"
        yield (*loc, "lookup"), (
            f"unknown lookup {entry.lookup!r} (defined under 'lookups': {known})"
        )
    allowed, expected = _wires_for(info)
    if (info.type is list) != (wire is W.MULTIPICKLIST):
        yield (*loc, "type"), (
            f"{info.path} holds {expected}; it maps to "
            f"{'a multipicklist' if info.type is list else 'a single value, not a multipicklist'}"
        )
    elif not mapped and wire not in allowed:
        names = " or ".join(sorted(w.value for w in allowed))
        yield (*loc, "type"), (
            f"wire type {wire.value!r} cannot hold {info.path} ({expected}); use {names}, or a "
            "value_map"
        )
    yield from _transform_issues(entry, info, loc)


def _transform_issues(
    entry: FieldSpec, info: CanonicalField, loc: tuple[str | int, ...]
) -> Iterator[Issue]:
    wire = entry.type
    if (entry.trim or entry.case) and wire not in _TEXT_WIRES:
        yield (*loc, "trim" if entry.trim else "case"), "trim and case apply to text fields only"
    if entry.case is not None and entry.direction is Direction.BOTH:
        yield (*loc, "case"), (
            "case folding cannot round-trip on a 'both' field: the original case is lost when "
            "the value is written back; make the field inbound or outbound"
        )
    if entry.format is not None:
        yield from _format_issues(entry, info, loc)
    if entry.timezone is not None:
        try:
            ZoneInfo(entry.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            yield (*loc, "timezone"), (
                f"unknown time zone {entry.timezone!r}; use an IANA name such as "
                "'Europe/Berlin' or 'UTC'"
            )
    if entry.scale is not None and wire is not W.NUMBER:
        yield (*loc, "scale"), "scale applies to fields of type 'number'"
    if entry.currency is not None:
        if info.path != "currency_code":
            yield (*loc, "currency"), "the currency transform applies to currency_code"
        for position, code in enumerate(entry.currency.allowed or []):
            if not is_currency(code):
                yield (*loc, "currency", "allowed", position), f"{code!r} is not ISO 4217"


def _format_issues(
    entry: FieldSpec, info: CanonicalField, loc: tuple[str | int, ...]
) -> Iterator[Issue]:
    fmt = entry.format or ""
    if entry.type is not W.STRING or info.type not in (date, datetime):
        yield (*loc, "format"), (
            "format applies to dates held in a text field (type: string, canonical date or "
            "datetime); date and datetime fields use the CRM's own format"
        )
        return
    sample = datetime(2026, 3, 31, 17, 45, 30, tzinfo=UTC)
    try:
        text = sample.strftime(fmt)
        datetime.strptime(text, fmt)  # noqa: DTZ007  (only checks that the pattern parses)
    except ValueError as exc:
        yield (*loc, "format"), f"not a usable date pattern: {exc}"
        return
    if "%" not in fmt:
        yield (*loc, "format"), "the pattern has no % directives (e.g. '%d/%m/%Y')"


def _check_duplicates(spec: MappingSpec) -> Iterator[Issue]:
    readers: dict[str, int] = {}
    writers: dict[str, int] = {}
    for index, entry in enumerate(spec.fields):
        if entry.canonical is not None and entry.direction.reads:
            first = readers.setdefault(entry.canonical, index)
            if first != index:
                yield ("fields", index, "canonical"), (
                    f"canonical path {entry.canonical!r} is already read by fields[{first}]; "
                    "one remote value per canonical path (split by direction if needed)"
                )
        if entry.remote is not None and entry.direction.writes:
            first = writers.setdefault(entry.remote, index)
            if first != index:
                yield ("fields", index, "remote"), (
                    f"remote field {entry.remote!r} is already written by fields[{first}]; "
                    "one canonical value per remote field"
                )


def scope_wire_types(spec: MappingSpec) -> dict[str, WireType]:
    """Wire types of the remote fields known from the mapping itself."""
    known: dict[str, WireType] = {}
    for entry in spec.fields:
        if entry.remote is not None and entry.type is not None:
            known.setdefault(entry.remote, entry.type)
    if spec.keys.deleted:
        known.setdefault(spec.keys.deleted, W.BOOLEAN)
    known.setdefault(spec.keys.modstamp, W.DATETIME)
    known.setdefault(spec.keys.external_id, W.STRING)
    return known


def _check_scope(spec: MappingSpec) -> Iterator[Issue]:
    known = scope_wire_types(spec)
    for index, pred in enumerate(spec.scope):
        loc: tuple[str | int, ...] = ("scope", index)
        wire = pred.type or known.get(pred.field)
        if wire is None:
            yield (*loc, "field"), (
                f"{pred.field!r} is not a mapped field; give its wire 'type' in the predicate"
            )
            continue
        if pred.type is not None and pred.field in known and known[pred.field] is not pred.type:
            yield (*loc, "type"), (
                f"{pred.field!r} is mapped as {known[pred.field].value!r}, not {pred.type.value!r}"
            )
        yield from _predicate_issues(pred, wire, loc)


def _predicate_issues(
    pred: ScopePredicate, wire: WireType, loc: tuple[str | int, ...]
) -> Iterator[Issue]:
    if pred.op in (ScopeOp.IS_SET, ScopeOp.IS_NOT_SET):
        if pred.value is not None:
            yield (*loc, "value"), f"'{pred.op.value}' takes no value"
        return
    if wire is W.MULTIPICKLIST:
        yield (*loc, "op"), "multipicklist fields support only is_set and is_not_set"
        return
    listed = isinstance(pred.value, list)
    if pred.op in (ScopeOp.IN, ScopeOp.NOT_IN) and not (listed and pred.value):
        yield (*loc, "value"), f"'{pred.op.value}' needs a non-empty list of values"
        return
    if pred.op in (ScopeOp.EQ, ScopeOp.NE) and listed:
        yield (*loc, "value"), f"'{pred.op.value}' compares with one value; use 'in' for a list"
        return
    values = pred.value if isinstance(pred.value, list) else [pred.value]
    for position, value in enumerate(values):
        where = (*loc, "value", position) if listed else (*loc, "value")
        if value is None:
            yield where, "use is_set / is_not_set to test for an empty field"
            continue
        problem = _literal_problem(wire, value)
        if problem:
            yield where, problem


def _literal_problem(wire: WireType, value: object) -> str | None:
    if wire in (W.DATE, W.DATETIME):
        parse = date.fromisoformat if wire is W.DATE else datetime.fromisoformat
        try:
            parse(str(value)) if isinstance(value, str) else parse("")
        except ValueError:
            return f"not a {wire.value} value: expected ISO 8601 text, got {value!r}"
        return None
    try:
        literal(wire, value)  # type: ignore[arg-type]
    except (WireError, ValueError) as exc:
        return f"not a {wire.value} value: {exc}"
    return None
