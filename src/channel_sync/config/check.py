"""The whole-project check behind ``channel-sync config validate``.

Beyond each file on its own: every connection's mapping exists, validates and is written for the
same connector kind, and every ``${NAME}`` the files reference is set. The mapping loader is
passed in rather than imported, so configuration does not depend on the mapping language.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from channel_sync.config.connection import ConnectionFile
from channel_sync.config.connector_specs import ConnectorSpec
from channel_sync.config.env_refs import read_env_file
from channel_sync.config.problems import FileError, Problem
from channel_sync.config.project import Project
from channel_sync.config.validation import problem_at
from channel_sync.errors import ConfigurationError

MappingLoader = Callable[[Path], Any]


@dataclass
class ConnectionStatus:
    """What the summary shows for one connection file that loaded."""

    entry: ConnectionFile
    mapping_ok: bool = False
    references: int = 0
    references_set: int = 0


@dataclass
class ProjectReport:
    project: Project
    problems: list[Problem] = field(default_factory=list)
    statuses: list[ConnectionStatus] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_environment(
    env_file: Path | None, environ: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[Problem]]:
    """The variables references resolve against: the env file's, overridden by the process
    environment (the same precedence as docker and dotenv)."""
    process = dict(os.environ if environ is None else environ)
    if env_file is None:
        return process, []
    try:
        from_file = read_env_file(env_file).values
    except FileError as exc:
        return process, exc.problems
    return {**from_file, **process}, []


def check_project(
    root: Path,
    *,
    env: Mapping[str, str],
    load_mapping: MappingLoader | None,
    connectors: Collection[str] | None = None,
    specs: Mapping[str, ConnectorSpec] | None = None,
) -> ProjectReport:
    project, problems = Project.scan(root, connectors=connectors, specs=specs)
    report = ProjectReport(project, problems)
    mapping_results: dict[Path, tuple[Any, list[Problem]]] = {}
    for entry in project.connections:
        status = ConnectionStatus(entry)
        report.statuses.append(status)
        report.problems.extend(_mapping_problems(entry, status, load_mapping, mapping_results))
        report.problems.extend(_reference_problems(entry, status, env))
    report.problems = _unique(report.problems)
    return report


def _mapping_problems(
    entry: ConnectionFile,
    status: ConnectionStatus,
    load_mapping: MappingLoader | None,
    cache: dict[Path, tuple[Any, list[Problem]]],
) -> list[Problem]:
    path = entry.mapping_path
    if not path.is_file():
        message = f"mapping file {entry.connection.mapping} not found (looked for {path})"
        return [problem_at(entry.document, ("mapping",), message)]
    if load_mapping is None:
        status.mapping_ok = True
        return []
    if path not in cache:
        cache[path] = _load_mapping(path, load_mapping)
    mapping, problems = cache[path]
    if problems:
        return problems
    status.mapping_ok = True
    kind = mapping_connector(mapping)
    if kind is not None and kind != entry.connection.connector:
        status.mapping_ok = False
        message = (
            f"mapping {entry.connection.mapping} is written for connector {kind!r}, "
            f"but this connection's connector is {entry.connection.connector!r}"
        )
        return [problem_at(entry.document, ("mapping",), message)]
    return []


def _load_mapping(path: Path, load_mapping: MappingLoader) -> tuple[Any, list[Problem]]:
    try:
        return load_mapping(path), []
    except FileError as exc:
        return None, exc.problems
    except ConfigurationError as exc:
        return None, [Problem(path, None, None, None, str(exc))]


def mapping_connector(mapping: Any) -> str | None:
    """The connector kind a loaded mapping is written for (its ``connector:`` key)."""
    for holder in (mapping, getattr(mapping, "spec", None)):
        kind = getattr(holder, "connector", None)
        if kind is not None:
            return str(getattr(kind, "value", kind))
    return None


def _reference_problems(
    entry: ConnectionFile, status: ConnectionStatus, env: Mapping[str, str]
) -> list[Problem]:
    references = entry.references()
    status.references = len(references)
    status.references_set = sum(1 for _, name in references if env.get(name))
    try:
        entry.resolve(env)
    except FileError as exc:
        return exc.problems
    return []


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    out: list[Problem] = []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            out.append(problem)
    return out
