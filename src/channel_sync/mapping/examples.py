"""Examples in a mapping file: a remote record and the canonical values it stands for.

An example that cannot be translated at all (an unknown field, a stage the value map lacks) is a
problem with the file and is reported with the other file problems. An example that translates
to something other than what it states is a failing test, reported by ``mappings test`` with a
field-by-field diff.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from channel_sync.mapping.checks import unknown_path_message
from channel_sync.mapping.compiled import CompiledMapping, TranslationError
from channel_sync.mapping.flat import canonical_value
from channel_sync.mapping.spec import Direction, ExampleSpec, WireType
from channel_sync.mapping.transforms import FieldCodec
from channel_sync.mapping.valuemap import Issue
from channel_sync.mapping.wire import decoder
from channel_sync.model import canonical_fields

_DATA_ERRORS = (ValueError, ArithmeticError, TypeError)
_ABSENT = "(absent)"


@dataclass(frozen=True)
class Difference:
    """One key whose translated value differs from what the example states."""

    key: str
    expected: Any
    actual: Any


@dataclass(frozen=True)
class ExampleResult:
    name: str
    index: int
    direction: Direction
    differences: tuple[Difference, ...]

    @property
    def ok(self) -> bool:
        return not self.differences


def _known_remote(compiled: CompiledMapping) -> set[str]:
    keys = compiled.keys
    names = {keys.remote_id, keys.external_id, keys.modstamp, *compiled.scope.fields}
    if keys.deleted:
        names.add(keys.deleted)
    names.update(c.remote for c in compiled.fields if c.remote is not None)
    return names


def example_issues(compiled: CompiledMapping) -> list[Issue]:
    """Examples whose values the mapping cannot translate at all."""
    issues: list[Issue] = []
    for index, example in enumerate(compiled.spec.examples):
        issues.extend(_issues_of(compiled, index, example))
    return issues


def _issues_of(compiled: CompiledMapping, index: int, example: ExampleSpec) -> Iterator[Issue]:
    loc: tuple[str | int, ...] = ("examples", index)
    known = _known_remote(compiled)
    for name, raw in example.remote.items():
        if name not in known:
            yield (*loc, "remote", name), f"{name!r} is not a mapped or key field of this mapping"
        elif example.direction.reads:
            for codec in compiled.fields:
                problem = _read_problem(codec, name, raw)
                if problem:
                    yield (*loc, "remote", name), problem
    for path, raw in example.canonical.items():
        if path not in canonical_fields():
            yield (*loc, "canonical", path), unknown_path_message(path)
            continue
        try:
            value = canonical_value(path, raw)
        except ValueError as exc:
            yield (*loc, "canonical", path), f"not valid for {path}: {exc}"
            continue
        if example.direction.writes:
            for codec in compiled.codecs_for(path):
                problem = _write_problem(codec, value)
                if problem:
                    yield (*loc, "canonical", path), problem


def _read_problem(codec: FieldCodec, name: str, raw: Any) -> str | None:
    if codec.remote != name or codec.read is None:
        return None
    try:
        codec.read(raw)
    except _DATA_ERRORS as exc:
        return f"fields[{codec.index}] ({name} -> {codec.canonical}) cannot read it: {exc}"
    return None


def _write_problem(codec: FieldCodec, value: Any) -> str | None:
    if codec.write is None:
        return None
    try:
        codec.write(value)
    except _DATA_ERRORS as exc:
        return f"fields[{codec.index}] ({codec.canonical} -> {codec.remote}) cannot write it: {exc}"
    return None


def _normalized(path: str, value: Any) -> Any:
    try:
        return canonical_value(path, value)
    except ValueError as exc:
        return f"<invalid: {exc}>"


def _readable_paths(compiled: CompiledMapping, remote: Mapping[str, Any]) -> set[str]:
    paths: set[str | None] = {c.canonical for c in compiled.fields if c.is_constant}
    paths.update(c.canonical for c in compiled.fields if c.read and c.remote in remote)
    if compiled.keys.external_id in remote:
        paths.add("id")
    return {p for p in paths if p}


def check_inbound(compiled: CompiledMapping, example: ExampleSpec) -> list[Difference]:
    actual = compiled.inbound(example.remote)
    readable = _readable_paths(compiled, example.remote)
    out: list[Difference] = []
    for path in sorted(readable | set(actual)):
        got = _normalized(path, actual[path]) if path in actual else _ABSENT
        want = _normalized(path, example.canonical[path]) if path in example.canonical else None
        if got == _ABSENT and want is None:
            continue
        if got != want:
            out.append(Difference(path, want, got))
    return out


def _remote_equal(codec: FieldCodec | None, compiled: CompiledMapping, a: Any, b: Any) -> bool:
    if codec is None or codec.wire is None:
        return bool(a == b)
    decode = decoder(compiled.connector, codec.wire)
    try:
        left, right = decode(a), decode(b)
    except _DATA_ERRORS:
        return bool(a == b)
    if codec.wire is WireType.MULTIPICKLIST:
        return sorted(left) == sorted(right)
    return bool(left == right)


def check_outbound(compiled: CompiledMapping, example: ExampleSpec) -> list[Difference]:
    values = {p: _normalized(p, v) for p, v in example.canonical.items()}
    actual = compiled.outbound(values)
    writers: dict[str, FieldCodec] = {
        c.remote: c for c in compiled.fields if c.remote and c.direction.writes
    }
    expected_keys = {k for k in example.remote if k in writers or k == compiled.keys.external_id}
    out: list[Difference] = []
    for name in sorted(set(actual) | expected_keys):
        got = actual.get(name, _ABSENT)
        want = example.remote.get(name)
        if got == _ABSENT:
            if want is None:
                continue
        elif _remote_equal(writers.get(name), compiled, want, got):
            continue
        out.append(Difference(name, want, got))
    return out


def run_examples(compiled: CompiledMapping) -> list[ExampleResult]:
    """Run every example in the directions it declares."""
    results: list[ExampleResult] = []
    for index, example in enumerate(compiled.spec.examples):
        if example.direction.reads:
            diffs = _guarded(check_inbound, compiled, example)
            results.append(ExampleResult(example.name, index, Direction.INBOUND, diffs))
        if example.direction.writes:
            diffs = _guarded(check_outbound, compiled, example)
            results.append(ExampleResult(example.name, index, Direction.OUTBOUND, diffs))
    return results


def _guarded(
    check: Callable[[CompiledMapping, ExampleSpec], list[Difference]],
    compiled: CompiledMapping,
    example: ExampleSpec,
) -> tuple[Difference, ...]:
    try:
        return tuple(check(compiled, example))
    except TranslationError as exc:
        key = exc.remote if exc.direction is Direction.INBOUND else (exc.canonical or exc.remote)
        return (Difference(key, "a translatable value", f"error: {exc.reason}"),)
