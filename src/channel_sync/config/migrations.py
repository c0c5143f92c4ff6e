"""Named migrations that bring an older file version up to the current one.

A file format changes by adding a migration from version N to N+1 under a name that says what it
does; loading an old file runs the chain, so admins never hand-edit files after an upgrade and
the data the models see is always current.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MigrationFunc = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Migration:
    kind: str
    from_version: int
    name: str
    func: MigrationFunc

    def apply(self, data: dict[str, Any]) -> dict[str, Any]:
        """Run on a copy so a failed chain never leaves the caller with half-migrated data."""
        migrated = self.func(copy.deepcopy(data))
        migrated["version"] = self.from_version + 1
        return migrated


class MigrationRegistry:
    """Migrations by (file kind, version they migrate from)."""

    def __init__(self) -> None:
        self._by_step: dict[tuple[str, int], Migration] = {}

    def register(self, kind: str, from_version: int) -> Callable[[MigrationFunc], MigrationFunc]:
        def decorate(func: MigrationFunc) -> MigrationFunc:
            step = (kind, from_version)
            if step in self._by_step:
                existing = self._by_step[step].name
                msg = f"a {kind} migration from version {from_version} exists: {existing}"
                raise ValueError(msg)
            self._by_step[step] = Migration(kind, from_version, func.__name__, func)
            return func

        return decorate

    def get(self, kind: str, from_version: int) -> Migration | None:
        return self._by_step.get((kind, from_version))

    def chain(self, kind: str, from_version: int, to_version: int) -> list[Migration] | None:
        """The migrations from ``from_version`` up to ``to_version``, or None if a step is
        missing."""
        steps: list[Migration] = []
        for version in range(from_version, to_version):
            step = self.get(kind, version)
            if step is None:
                return None
            steps.append(step)
        return steps


default_registry = MigrationRegistry()


def register(kind: str, from_version: int) -> Callable[[MigrationFunc], MigrationFunc]:
    """Decorator: ``@register("connection", 1)`` marks a function migrating v1 data to v2."""
    return default_registry.register(kind, from_version)
