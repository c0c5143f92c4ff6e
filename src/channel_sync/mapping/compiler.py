"""Turning a validated :class:`MappingSpec` into a :class:`CompiledMapping`, or into problems.

All checks run before anything is returned, and every problem is collected (not only the first),
so an admin fixing a file sees everything wrong with it in one run.
"""

from __future__ import annotations

from channel_sync.errors import ConfigurationError
from channel_sync.mapping.checks import check_mapping, scope_wire_types
from channel_sync.mapping.compiled import CompiledMapping, assemble
from channel_sync.mapping.examples import example_issues
from channel_sync.mapping.scope import compile_scope
from channel_sync.mapping.spec import MappingSpec
from channel_sync.mapping.transforms import FieldCodec, build_field
from channel_sync.mapping.valuemap import Issue


class MappingError(ConfigurationError):
    """A mapping that cannot be compiled; ``issues`` holds (location, message) pairs."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        lines = [f"{_where(loc)}: {message}" for loc, message in issues]
        super().__init__("invalid mapping:\n" + "\n".join(lines))


def _where(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(file)"


def compile_spec(spec: MappingSpec) -> tuple[CompiledMapping | None, list[Issue]]:
    """Check and compile ``spec``; returns the mapping, or ``None`` and every problem found."""
    issues = check_mapping(spec)
    broken = {loc[1] for loc, _ in issues if len(loc) > 1 and loc[0] == "fields"}
    broken |= {
        index for loc, _ in issues if loc == ("fields",) for index in range(len(spec.fields))
    }
    codecs: list[FieldCodec] = []
    for index, entry in enumerate(spec.fields):
        if index in broken:
            continue
        codec, more = build_field(entry, index, spec.connector, spec.lookups)
        issues.extend(issue for issue in more if issue not in issues)
        if codec is not None:
            codecs.append(codec)
    if issues:
        return None, issues
    scope = compile_scope(spec.scope, spec.connector, scope_wire_types(spec))
    compiled = assemble(spec, tuple(codecs), scope)
    issues = example_issues(compiled)
    return (None, issues) if issues else (compiled, [])


def compile_mapping(spec: MappingSpec) -> CompiledMapping:
    """Compile ``spec`` or raise :class:`MappingError` with every problem."""
    compiled, issues = compile_spec(spec)
    if compiled is None:
        raise MappingError(issues)
    return compiled
