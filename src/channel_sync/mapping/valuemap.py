"""Value maps and lookup tables: compiled into two dicts, with every ambiguity refused up front.

A value map reads remote values as canonical values. Writing back needs the reverse, which only
exists when each canonical value has one remote value, or an explicit ``outbound`` choice. The
checks here run when the file is loaded, so a translation at run time is two dict look-ups.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from channel_sync.mapping.flat import canonical_value
from channel_sync.mapping.spec import Direction, Scalar, Unmapped, ValueMapSpec, WireType
from channel_sync.mapping.wire import WireError, parse_text

#: A problem found in a file: where (path of keys inside the document) and what.
Issue = tuple[tuple[str | int, ...], str]


def shown(value: Any) -> str:
    """A value as an admin wrote it in YAML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    text = getattr(value, "value", value)
    return repr(str(text)) if isinstance(text, str) else str(text)


def literal(wire: WireType, value: Scalar) -> Any:
    """A remote value written in a file (constant, outbound choice) as a neutral wire value."""
    if value is None:
        return None
    if isinstance(value, str):
        return parse_text(wire, value)
    if wire is WireType.BOOLEAN and isinstance(value, bool):
        return value
    if wire in (WireType.NUMBER, WireType.INTEGER) and not isinstance(value, bool):
        return parse_text(wire, str(value))
    raise WireError(f"expected a {wire.value} value, got {shown(value)}")


def canonical_item(path: str, value: Any, *, items: bool) -> Any:
    """``value`` normalized as the canonical model holds it (one element, for list paths)."""
    if items:
        return canonical_value(path, [value])[0]
    return canonical_value(path, value)


@dataclass
class CompiledValueMap:
    forward: dict[Hashable, Any]
    reverse: dict[Hashable, Any]
    unmapped: Unmapped
    default: Any
    #: Canonical values reached by more than one remote value (for explain and probes).
    shared: dict[Hashable, list[Any]] = field(default_factory=dict)

    def inbound(self, adapt: Callable[[Any], Any]) -> Callable[[Any], Any]:
        forward, policy, fallback = self.forward, self.unmapped, self.default
        known = ", ".join(shown(k) for k in forward)

        def read(value: Any) -> Any:
            if value is None:
                return None
            try:
                return forward[value]
            except KeyError:
                pass
            if policy is Unmapped.PASS:
                return adapt(value)
            if policy is Unmapped.DEFAULT:
                return fallback
            msg = f"{shown(value)} is not in the value map (known: {known})"
            raise WireError(msg) from None

        return read

    def outbound(self, adapt: Callable[[Any], Any]) -> Callable[[Any], Any]:
        reverse, policy = self.reverse, self.unmapped
        fallback = reverse.get(self.default) if self.default is not None else None
        known = ", ".join(shown(k) for k in reverse)

        def write(value: Any) -> Any:
            if value is None:
                return None
            try:
                return reverse[value]
            except KeyError:
                pass
            if policy is Unmapped.PASS:
                return adapt(value)
            if policy is Unmapped.DEFAULT and fallback is not None:
                return fallback
            msg = f"{shown(value)} has no remote value in the value map (known: {known})"
            raise WireError(msg) from None

        return write


@dataclass
class _Draft:
    """A value map being compiled, with the problems found so far."""

    path: str
    wire: WireType
    items: bool
    loc: tuple[str | int, ...]
    forward: dict[Hashable, Any] = field(default_factory=dict)
    by_canonical: dict[Hashable, list[Any]] = field(default_factory=dict)
    reverse: dict[Hashable, Any] = field(default_factory=dict)
    chosen: set[Hashable] = field(default_factory=set)
    issues: list[Issue] = field(default_factory=list)

    def problem(self, where: tuple[str | int, ...], message: str) -> None:
        self.issues.append(((*self.loc, *where), message))


def _read_values(draft: _Draft, values: dict[str, Scalar]) -> None:
    for key, target in values.items():
        try:
            remote = parse_text(draft.wire, key)
        except WireError as exc:
            draft.problem(("values", key), f"remote value {key!r}: {exc}")
            continue
        try:
            value = canonical_item(draft.path, target, items=draft.items)
        except ValueError as exc:
            draft.problem(("values", key), f"{shown(target)} is not valid for {draft.path}: {exc}")
            continue
        if remote in draft.forward:
            draft.problem(("values", key), f"remote value {key!r} is listed twice")
            continue
        draft.forward[remote] = value
        draft.by_canonical.setdefault(value, []).append(remote)
    draft.reverse = {value: remotes[0] for value, remotes in draft.by_canonical.items()}


def _read_outbound(draft: _Draft, outbound: dict[str, Scalar], direction: Direction) -> None:
    for key, target in outbound.items():
        try:
            value = canonical_item(draft.path, key, items=draft.items)
            remote = literal(draft.wire, target)
        except (ValueError, WireError) as exc:
            draft.problem(("outbound", key), str(exc))
            continue
        draft.chosen.add(value)
        draft.reverse[value] = remote
        if direction is Direction.BOTH and draft.forward.get(remote) != value:
            reads_as = (
                f"reads back as {shown(draft.forward[remote])}"
                if remote in draft.forward
                else "is not in 'values'"
            )
            draft.problem(
                ("outbound", key),
                f"writing {shown(value)} as {shown(remote)} cannot round-trip: "
                f"{shown(remote)} {reads_as}",
            )


def _check_choices(draft: _Draft) -> None:
    for value, remotes in draft.by_canonical.items():
        if len(remotes) > 1 and value not in draft.chosen:
            names = " and ".join(shown(r) for r in remotes)
            verb = "both map" if len(remotes) == 2 else "all map"
            first = getattr(remotes[0], "value", remotes[0])
            example = f"{getattr(value, 'value', value)}: {first}"
            draft.problem(
                ("values",),
                f"{names} {verb} to {shown(value)}: writing {shown(value)} back needs a "
                f"choice, e.g. 'outbound: {{{example}}}' (or make the field inbound)",
            )


def _read_default(draft: _Draft, spec: ValueMapSpec, direction: Direction) -> Any:
    if spec.unmapped is not Unmapped.DEFAULT:
        if spec.default is not None:
            draft.problem(("default",), "'default' is only used with 'unmapped: default'")
        return None
    if direction is Direction.BOTH:
        draft.problem(
            ("unmapped",),
            "unmapped: default cannot round-trip on a 'both' field: an unknown remote value "
            "would be read as the default and written back over the original; use 'error' or "
            "'pass', or make the field inbound",
        )
    if spec.default is None:
        draft.problem(("unmapped",), "unmapped: default needs a 'default' value")
        return None
    try:
        return canonical_item(draft.path, spec.default, items=draft.items)
    except ValueError as exc:
        draft.problem(("default",), f"not valid for {draft.path}: {exc}")
        return None


def compile_value_map(
    spec: ValueMapSpec,
    *,
    wire: WireType,
    path: str,
    items: bool,
    direction: Direction,
    loc: tuple[str | int, ...],
) -> tuple[CompiledValueMap | None, list[Issue]]:
    """Check ``spec`` for ``path`` and compile it; ``loc`` is where the map sits in the file."""
    draft = _Draft(path, wire, items, loc)
    _read_values(draft, spec.values)
    _read_outbound(draft, spec.outbound, direction)
    if direction.writes:
        _check_choices(draft)
    default = _read_default(draft, spec, direction)
    if draft.issues:
        return None, draft.issues
    shared = {v: r for v, r in draft.by_canonical.items() if len(r) > 1}
    return CompiledValueMap(draft.forward, draft.reverse, spec.unmapped, default, shared), []
