"""A project: a directory with ``connectors/`` (connection files) and ``mappings/``.

Rules that span files live here: connection names and partner ids are unique, and there is
exactly one vendor connection, because every partner deal is routed to that one system of record.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from channel_sync.config.connection import ConnectionFile, Role, load_connection
from channel_sync.config.connector_specs import ConnectorSpec
from channel_sync.config.problems import FileError, Problem
from channel_sync.config.validation import problem_at

CONNECTORS_DIR = "connectors"
MAPPINGS_DIR = "mappings"
_SUFFIXES = (".yaml", ".yml")


@dataclass
class Project:
    root: Path
    connections: list[ConnectionFile] = field(default_factory=list)

    @property
    def connectors_dir(self) -> Path:
        return self.root / CONNECTORS_DIR

    @property
    def mappings_dir(self) -> Path:
        return self.root / MAPPINGS_DIR

    @property
    def vendor(self) -> ConnectionFile:
        return next(c for c in self.connections if c.connection.role is Role.VENDOR)

    @property
    def partners(self) -> list[ConnectionFile]:
        return [c for c in self.connections if c.connection.role is Role.PARTNER]

    def connection(self, name: str) -> ConnectionFile:
        for entry in self.connections:
            if entry.connection.name == name:
                return entry
        known = ", ".join(c.connection.name for c in self.connections) or "none"
        raise FileError.single(
            self.connectors_dir, f"no connection named {name!r} (connections: {known})"
        )

    @classmethod
    def load(
        cls,
        root: Path,
        *,
        connectors: Collection[str] | None = None,
        specs: Mapping[str, ConnectorSpec] | None = None,
    ) -> Project:
        """Load every connection file of the project; raises :class:`FileError` listing every
        problem in every file, and the cross-file ones."""
        project, problems = cls.scan(root, connectors=connectors, specs=specs)
        if problems:
            raise FileError(problems)
        return project

    @classmethod
    def scan(
        cls,
        root: Path,
        *,
        connectors: Collection[str] | None = None,
        specs: Mapping[str, ConnectorSpec] | None = None,
    ) -> tuple[Project, list[Problem]]:
        """Like :meth:`load`, but returns the files that did load alongside the problems, so a
        checker can go on to their mappings."""
        project = cls(root)
        directory = project.connectors_dir
        if not directory.is_dir():
            message = f"no {CONNECTORS_DIR}/ directory: is {root} a channel-sync project?"
            return project, [Problem(directory, None, None, None, message)]
        problems: list[Problem] = []
        for path in connection_files(directory):
            try:
                project.connections.append(
                    load_connection(path, connectors=connectors, specs=specs)
                )
            except FileError as exc:
                problems.extend(exc.problems)
        if not project.connections and not problems:
            message = f"no connection files (*.yaml) in {CONNECTORS_DIR}/"
            problems.append(Problem(directory, None, None, None, message))
        problems.extend(_cross_file_problems(project, clean=not problems))
        return project, problems


def connection_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in _SUFFIXES and p.is_file())


def _cross_file_problems(project: Project, *, clean: bool) -> list[Problem]:
    problems: list[Problem] = []
    names: dict[str, ConnectionFile] = {}
    partners: dict[str, ConnectionFile] = {}
    vendors: list[ConnectionFile] = []
    for entry in project.connections:
        conn = entry.connection
        if conn.name in names:
            first = names[conn.name].path.name
            message = f"connection name {conn.name!r} is already used by {first}"
            problems.append(problem_at(entry.document, ("name",), message))
        names.setdefault(conn.name, entry)
        if conn.partner_id is not None:
            if conn.partner_id in partners:
                first = partners[conn.partner_id].path.name
                message = f"partner_id {conn.partner_id!r} is already used by {first}"
                problems.append(problem_at(entry.document, ("partner_id",), message))
            partners.setdefault(conn.partner_id, entry)
        if conn.role is Role.VENDOR:
            vendors.append(entry)
    for extra in vendors[1:]:
        message = f"a second vendor connection (the first is {vendors[0].path.name}); exactly one"
        problems.append(problem_at(extra.document, ("role",), message + " is allowed"))
    if not vendors and clean:
        message = "no vendor connection: exactly one connection needs role: vendor"
        problems.append(Problem(project.connectors_dir, None, None, None, message))
    return problems
