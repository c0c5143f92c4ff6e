"""Connection files (``connectors/*.yaml``): one configured CRM instance each.

The pydantic models are the source of truth for the format (``connectors/connection.schema.json``
is generated from them). Loading is two-stage: the connection's common keys first, then its
``credentials:`` and ``urls:`` against the spec of its connector kind, and every problem of
both stages is reported together. References are resolved separately (:meth:`resolve`) so a
file validates without the secrets being present.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from channel_sync.config.connector_specs import BUILTIN_SPECS, ConnectorSpec, spec_for
from channel_sync.config.env_refs import reference_name, resolve_reference
from channel_sync.config.problems import FileError, Problem
from channel_sync.config.validation import check_version, problem_at, validate
from channel_sync.config.yaml_source import Document, load_document

KIND = "connection"
SUPPORTED_VERSIONS = frozenset({1})
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_NAME = re.compile(NAME_PATTERN)
_INTERVAL = re.compile(r"^([1-9][0-9]*)(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL = timedelta(seconds=10)


class Role(StrEnum):
    VENDOR = "vendor"
    PARTNER = "partner"


def _identifier(value: Any) -> Any:
    if isinstance(value, str) and not _NAME.match(value):
        msg = (
            f"{value!r} is not a valid identifier: use 1 to 64 lower-case letters, digits, "
            "'-' or '_', starting with a letter or digit"
        )
        raise ValueError(msg)
    return value


Identifier = Annotated[
    str,
    BeforeValidator(_identifier),
    WithJsonSchema({"type": "string", "pattern": NAME_PATTERN}),
]


def parse_interval(value: Any) -> timedelta:
    """``30s``, ``5m``, ``1h``, ``1d`` to a timedelta, at least :data:`MIN_INTERVAL`."""
    if isinstance(value, timedelta):
        return value
    match = _INTERVAL.match(value) if isinstance(value, str) else None
    if match is None:
        msg = "expected an interval such as 30s, 5m, 1h or 1d (a whole number and a unit)"
        raise ValueError(msg)
    interval = timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    if interval < MIN_INTERVAL:
        msg = f"interval {value} is too short; the minimum is 10s"
        raise ValueError(msg)
    return interval


def format_interval(interval: timedelta) -> str:
    seconds = int(interval.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


Interval = Annotated[
    timedelta,
    BeforeValidator(parse_interval),
    PlainSerializer(format_interval, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _INTERVAL.pattern,
            "description": "A whole number and a unit (s, m, h, d); at least 10s.",
            "examples": ["30s", "5m", "1h"],
        }
    ),
]


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    every: Interval = Field(default=timedelta(minutes=5), description="How often a cycle runs.")


def _name_is_optional(schema: dict[str, Any]) -> None:
    """In a file ``name`` may be left out (it defaults to the file stem), so editors must not
    ask for it."""
    required = schema.get("required")
    if isinstance(required, list) and "name" in required:
        required.remove("name")


class Connection(BaseModel):
    """One configured CRM instance: its connector kind, role, partner, mapping and schedule."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, title="Connection", json_schema_extra=_name_is_optional
    )

    version: Literal[1] = Field(description="File format version.")
    name: Identifier = Field(description="Unique connection name; defaults to the file name.")
    connector: str = Field(description="Connector kind, e.g. salesforce or hubspot.")
    role: Role = Field(description="vendor (sees every deal) or partner (sees its own deals).")
    partner_id: Identifier | None = Field(
        default=None,
        validate_default=True,
        description="The partner this connection belongs to; required for role partner.",
    )
    mapping: str = Field(
        min_length=1, description="The mapping file, relative to this connection file."
    )
    schedule: Schedule = Field(default_factory=Schedule)
    credentials: dict[str, Any] = Field(
        default_factory=dict,
        description="Connector-specific secrets, each an ${ENV_NAME} reference.",
    )
    urls: dict[str, Any] = Field(
        default_factory=dict, description="Connector-specific endpoints, literal or ${ENV_NAME}."
    )

    @model_validator(mode="before")
    @classmethod
    def _name_defaults_to_file_stem(cls, data: Any, info: ValidationInfo) -> Any:
        stem = (info.context or {}).get("file_stem")
        if isinstance(data, dict) and "name" not in data and isinstance(stem, str):
            return {**data, "name": stem}
        return data

    @field_validator("connector")
    @classmethod
    def _known_connector(cls, value: str, info: ValidationInfo) -> str:
        known = known_connectors(info.context)
        if value not in known:
            msg = f"unknown connector {value!r}; known connectors: {', '.join(sorted(known))}"
            raise ValueError(msg)
        return value

    @field_validator("partner_id")
    @classmethod
    def _partner_id_matches_role(cls, value: str | None, info: ValidationInfo) -> str | None:
        role = info.data.get("role")
        if role is Role.PARTNER and value is None:
            msg = "required for a partner connection: the partner whose deals it may see"
            raise ValueError(msg)
        if role is Role.VENDOR and value is not None:
            msg = "not allowed on the vendor connection, which sees every partner's deals"
            raise ValueError(msg)
        return value

    @field_validator("mapping")
    @classmethod
    def _mapping_is_yaml(cls, value: str) -> str:
        if not value.endswith((".yaml", ".yml")):
            msg = f"mapping {value!r} should name a .yaml file"
            raise ValueError(msg)
        return value


def known_connectors(context: Mapping[str, Any] | None) -> Collection[str]:
    known = (context or {}).get("connectors")
    return known if known is not None else BUILTIN_SPECS.keys()


@dataclass(frozen=True)
class ResolvedConnection:
    """A connection with its references replaced by values; secrets stay ``SecretStr``."""

    connection: Connection
    credentials: dict[str, SecretStr] = field(repr=False)
    urls: dict[str, str]

    @property
    def auth(self) -> str | None:
        secret = self.credentials.get("auth")
        return secret.get_secret_value() if secret is not None else None


@dataclass(frozen=True)
class ConnectionFile:
    """A validated connection file, with where it came from and what its connector needs."""

    path: Path
    document: Document = field(repr=False)
    connection: Connection
    spec: ConnectorSpec = field(repr=False)

    @property
    def mapping_path(self) -> Path:
        return Path(os.path.normpath(self.path.parent / self.connection.mapping))

    def references(self) -> list[tuple[tuple[str, str], str]]:
        """Every ``${NAME}`` in the file as ((section, key), NAME)."""
        found: list[tuple[tuple[str, str], str]] = []
        for section in ("credentials", "urls"):
            for key, value in getattr(self.connection, section).items():
                name = reference_name(value)
                if name is not None:
                    found.append(((section, key), name))
        return found

    def resolve(self, env: Mapping[str, str]) -> ResolvedConnection:
        """Replace references with values from ``env``; each one missing is a located problem."""
        problems: list[Problem] = []
        values: dict[str, dict[str, str]] = {"credentials": {}, "urls": {}}
        for section, section_values in values.items():
            for key, raw in getattr(self.connection, section).items():
                resolved = resolve_reference(raw, env)
                message = (
                    f"environment variable {reference_name(raw)} is not set (or empty)"
                    if resolved is None
                    else self._value_problem(section, key, raw, resolved)
                )
                if message is not None:
                    problems.append(problem_at(self.document, (section, key), message))
                elif resolved is not None:
                    section_values[key] = resolved
        if problems:
            raise FileError(problems)
        return ResolvedConnection(
            connection=self.connection,
            credentials={k: SecretStr(v) for k, v in values["credentials"].items()},
            urls=values["urls"],
        )

    def _value_problem(self, section: str, key: str, raw: str, resolved: str) -> str | None:
        if section != "urls":
            return None
        via = f" (from {reference_name(raw)})" if reference_name(raw) else ""
        if key in self.spec.url_keys and not _is_http_url(resolved):
            return f"{resolved!r}{via} is not an http(s) URL with a host"
        if key in self.spec.file_keys and not Path(resolved).is_file():
            return f"file {resolved}{via} not found"
        return None


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def load_connection(
    path: Path,
    *,
    connectors: Collection[str] | None = None,
    specs: Mapping[str, ConnectorSpec] | None = None,
) -> ConnectionFile:
    """Load and fully validate one connection file; raises :class:`FileError` with every
    problem found."""
    doc = load_document(path)
    check_version(doc, kind=KIND, supported=SUPPORTED_VERSIONS)
    context: dict[str, Any] = {"file_stem": path.stem}
    if connectors is not None:
        context["connectors"] = connectors
    problems: list[Problem] = []
    connection: Connection | None = None
    try:
        connection = validate(doc, Connection, context=context)
    except FileError as exc:
        problems.extend(exc.problems)
    kind = doc.data.get("connector")
    spec: ConnectorSpec | None = None
    if isinstance(kind, str) and kind in known_connectors(context):
        spec = spec_for(kind, specs)
        for section, model in (("credentials", spec.credentials), ("urls", spec.urls)):
            if isinstance(doc.data.get(section, {}), dict):
                try:
                    validate(doc, model, at=(section,))
                except FileError as exc:
                    problems.extend(exc.problems)
    if problems:
        raise FileError(sorted(problems, key=Problem.sort_key))
    assert connection is not None
    assert spec is not None
    return ConnectionFile(path=path, document=doc, connection=connection, spec=spec)
