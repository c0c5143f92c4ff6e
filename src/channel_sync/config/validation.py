"""Validation of parsed admin files against pydantic models, with admin-readable located errors.

Pydantic's own messages talk to programmers (``Input should be a valid integer``); an admin needs
the file, the line, the key and what was expected (``unknown key 'colour' (did you mean 'color'?
allowed: color, size)``), so every ``ValidationError`` is rewritten here.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from channel_sync.config.migrations import MigrationRegistry, default_registry
from channel_sync.config.problems import FileError, Problem, format_field, kind_of
from channel_sync.config.yaml_source import Document, load_document

M = TypeVar("M", bound=BaseModel)

_SECRET_WORDS = ("secret", "password", "token", "credential", "private")
_MAX_SHOWN = 60

_EXPECTED: dict[str, str] = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "decimal_type": "a number",
    "decimal_parsing": "a number",
    "string_type": "text",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping of 'key: value' lines",
    "model_type": "a mapping of 'key: value' lines",
    "model_attributes_type": "a mapping of 'key: value' lines",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "datetime_type": "a date and time (ISO 8601, with a time zone)",
    "datetime_parsing": "a date and time (ISO 8601, with a time zone)",
    "datetime_from_date_parsing": "a date and time (ISO 8601, with a time zone)",
    "timezone_aware": "a date and time with a time zone",
    "url_type": "a URL",
    "url_parsing": "a URL",
    "url_scheme": "a URL",
}


def validate(
    doc: Document,
    model: type[M],
    *,
    context: dict[str, Any] | None = None,
    at: Sequence[str | int] = (),
) -> M:
    """Validate ``doc.data`` (or the part of it at ``at``) as ``model``; failures become one
    located problem per error. A missing part at ``at`` validates as an empty mapping."""
    data = _subtree(doc.data, at)
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        prefix = tuple(at)
        problems = [_problem(doc, model, err, prefix) for err in exc.errors(include_url=False)]
        raise FileError(sorted(problems, key=Problem.sort_key)) from None


def _subtree(data: Any, at: Sequence[str | int]) -> Any:
    for part in at:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part, {})
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return {}
    return {} if data is None and at else data


def problem_at(doc: Document, loc: Sequence[str | int], message: str) -> Problem:
    """A problem found by a check after validation, located at ``loc`` in ``doc``."""
    line, column = doc.locate(loc) or (None, None)
    return Problem(doc.path, line, column, format_field(loc), message)


def check_version(
    doc: Document,
    *,
    kind: str,
    supported: Collection[int],
    migrations: MigrationRegistry | None = None,
) -> int:
    """Check the file's ``version:`` and migrate older data in place (``doc.data``).

    Returns the version ``doc.data`` holds afterwards; a file that needed migrating keeps its
    declared version in ``doc.migrated_from``.
    """
    registry = migrations or default_registry
    wanted = ", ".join(str(v) for v in sorted(supported))
    data = doc.data
    if not isinstance(data, dict) or "version" not in data:
        message = f"missing required key 'version'; supported {kind} versions: {wanted}"
        raise FileError([problem_at(doc, ("version",), message)])
    version = data["version"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise FileError(
            [
                problem_at(
                    doc,
                    ("version",),
                    f"version must be a whole number, got {_shown(version)}; "
                    f"supported {kind} versions: {wanted}",
                )
            ]
        )
    if version in supported:
        return version
    newest = max(supported)
    chain = registry.chain(kind, version, min(supported)) if version < newest else None
    if chain is None:
        reason = (
            "is newer than this release understands"
            if version > newest
            else ("is no longer supported and no migration exists from it")
        )
        raise FileError(
            [
                problem_at(
                    doc,
                    ("version",),
                    f"unsupported {kind} version {version}: it {reason}; "
                    f"supported {kind} versions: {wanted}",
                )
            ]
        )
    migrated = data
    for step in chain:
        migrated = step.apply(migrated)
    doc.data = migrated
    doc.migrated_from = version
    return int(migrated["version"])


def load_validated(
    path: Path,
    model: type[M],
    *,
    kind: str,
    supported: Collection[int],
    context: dict[str, Any] | None = None,
) -> tuple[Document, M]:
    """Load, version-check and validate one file: the usual sequence for a file kind."""
    doc = load_document(path)
    check_version(doc, kind=kind, supported=supported)
    return doc, validate(doc, model, context=context)


def _problem(
    doc: Document, model: type[BaseModel], err: Mapping[str, Any], prefix: tuple[str | int, ...]
) -> Problem:
    loc = _data_loc(doc.data, (*prefix, *err["loc"]))
    kind = err["type"]
    if kind in ("missing", "extra_forbidden") and loc:
        parent, key = loc[:-1], loc[-1]
        if kind == "missing":
            message = f"missing required key {key!r}"
            position = doc.locate(parent)
        else:
            message = _unknown_key(doc, model, parent, str(key), len(prefix))
            position = doc.locate(loc)
        line, column = position or (None, None)
        return Problem(doc.path, line, column, format_field(parent), message)
    line, column = doc.locate(loc) or (None, None)
    return Problem(doc.path, line, column, format_field(loc), _message(err, loc))


def _message(err: Mapping[str, Any], loc: Sequence[str | int]) -> str:
    kind: str = err["type"]
    ctx: Mapping[str, Any] = err.get("ctx") or {}
    secret = any(
        isinstance(part, str) and any(word in part.lower() for word in _SECRET_WORDS)
        for part in loc
    )
    got = "" if secret else f", got {_shown(err.get('input'))}"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error") or err["msg"]).removeprefix("Value error, ")
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}{got}"
    if kind in ("literal_error", "enum"):
        return f"expected one of {ctx.get('expected', '')}{got}"
    if kind == "string_pattern_mismatch":
        return f"does not match the pattern {ctx.get('pattern')}{got}"
    msg = str(err["msg"])
    if not kind.islower() or kind.startswith(("too_", "string_", "greater", "less", "multiple")):
        return f"{msg[:1].lower()}{msg[1:]}{got}"
    return msg


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "...")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return kind_of(value)


_MISSING = object()


def _data_loc(data: Any, loc: Sequence[str | int]) -> tuple[str | int, ...]:
    """Keep only the parts of a pydantic location that exist in the data.

    Pydantic inserts union tags and validator names (``function-after[...]``) into locations;
    those are not in the file. A missing key ends the walk: it and what follows are kept as
    written, and :meth:`Document.locate` points at the nearest parent that exists.
    """
    out: list[str | int] = []
    current = data
    for index, part in enumerate(loc):
        if current is _MISSING:
            out.append(part)
            continue
        in_map = isinstance(current, dict) and isinstance(part, str) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_map or in_list:
            out.append(part)
            current = current[part]
        elif (
            isinstance(current, dict)
            and isinstance(part, str)
            and (index == len(loc) - 1 or not _looks_synthetic(part))
        ):
            out.append(part)
            current = _MISSING
    return tuple(out)


def _looks_synthetic(part: str) -> bool:
    """Union tags and validator names pydantic puts in locations: ``function-after[f()]``,
    ``SalesforceCredentials``, ``list[str]``."""
    return "[" in part or part[:1].isupper()


def _unknown_key(
    doc: Document, model: type[BaseModel], parent: Sequence[str | int], key: str, skip: int
) -> str:
    present = _at(doc.data, parent)
    allowed = _allowed_keys(model, parent[skip:], present if isinstance(present, dict) else {})
    message = f"unknown key {key!r}"
    if not allowed:
        return message
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.75)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{message} ({hint}allowed: {', '.join(allowed)})"


def _at(data: Any, loc: Sequence[str | int]) -> Any:
    for part in loc:
        data = data[part]
    return data


def _allowed_keys(
    model: type[BaseModel], parent: Sequence[str | int], present: Mapping[str, Any]
) -> list[str]:
    candidates: list[Any] = [model]
    for part in parent:
        candidates = [nxt for cand in candidates for nxt in _step(cand, part)]
    models = [m for cand in candidates for m in _members(cand) if _is_model(m)]
    if not models:
        return []
    best = max(models, key=lambda m: len(set(_keys_of(m)) & set(present)))
    return _keys_of(best)


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _members(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [m for arg in typing.get_args(annotation) for m in _members(arg)]
    return [annotation]


def _step(annotation: Any, part: str | int) -> list[Any]:
    out: list[Any] = []
    for member in _members(annotation):
        origin = typing.get_origin(member)
        args = typing.get_args(member)
        if _is_model(member) and isinstance(part, str):
            for name, info in member.model_fields.items():
                if part in (name, info.alias):
                    out.append(info.annotation)
        elif isinstance(part, int) and origin in (list, tuple, set, frozenset, Sequence) and args:
            out.append(args[0])
        elif isinstance(part, str) and origin in (dict, Mapping) and len(args) == 2:
            out.append(args[1])
    return out
