"""SOQL built from an allow-list, with every value passed through ``format_soql``.

Field and object names cannot be quoted in SOQL, so they are never taken on trust: each must
be a plain identifier *and* appear in the object's ``describe`` (the allow-list). Values only
ever travel as ``format_soql`` arguments, which quote and escape them; the unescaped ``literal``
format spec is never used. A query built here therefore has the shape of its template whatever
the data.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from datetime import datetime

from simple_salesforce.format import format_soql

from channel_sync.connectors.cursor import Bound
from channel_sync.errors import ConfigurationError

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")


class SoqlBuilder:
    """Queries for one object whose field names are checked against ``allowed``."""

    def __init__(self, object_name: str, allowed: Collection[str]) -> None:
        self.object_name = _identifier(object_name, "object")
        self._allowed = frozenset(allowed)

    def field(self, name: str) -> str:
        _identifier(name, "field")
        if name not in self._allowed:
            msg = f"{self.object_name} has no field {name!r} (not in describe)"
            raise ConfigurationError(msg)
        return name

    def select(self, fields: Sequence[str]) -> str:
        names = [self.field(f) for f in dict.fromkeys(fields)]
        # Identifiers only, each checked against describe above; values never go here.
        return f"SELECT {', '.join(names)} FROM {self.object_name}"  # noqa: S608

    def changes(
        self,
        fields: Sequence[str],
        *,
        modstamp: str,
        record_id: str,
        since: Bound | None,
        before: datetime | None = None,
    ) -> str:
        """Changed rows in cursor order: ``modstamp`` then id, so ties have a stable order."""
        stamp = self.field(modstamp)
        order = f" ORDER BY {stamp} ASC, {self.field(record_id)} ASC"
        conditions: list[str] = []
        if since is not None:
            operator = ">=" if since.inclusive else ">"
            conditions.append(format_soql(f"{stamp} {operator} {{}}", since.value))
        if before is not None:
            conditions.append(format_soql(f"{stamp} < {{}}", before))
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return self.select(fields) + where + order

    def by_keys(self, fields: Sequence[str], *, key_field: str, keys: Sequence[str]) -> str:
        where = format_soql(f" WHERE {self.field(key_field)} IN {{}}", list(keys))
        return self.select(fields) + where


def _identifier(name: str, what: str) -> str:
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        msg = f"{what} name {name!r} is not a plain Salesforce identifier"
        raise ConfigurationError(msg)
    return name
