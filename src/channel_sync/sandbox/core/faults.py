"""Fault injection: rules that make an emulated CRM slow, fail, hang or drop a response.

A rule matches requests by method and path; it lets ``after`` matching requests through, then
applies to the next ``count`` of them. Records can also be locked so writes to them fail the way
each CRM reports row-lock contention.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_ids = itertools.count(1)


def _next_id() -> str:
    return f"fault-{next(_ids)}"


class FaultRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(default_factory=_next_id, min_length=1, max_length=100)
    method: str = "*"
    path: str = Field(min_length=1, description="regular expression, searched in the path")
    after: int = Field(default=0, ge=0)
    count: int | None = Field(default=1, ge=1)
    status: int | None = Field(default=None, ge=100, le=599)
    body: Any = None
    headers: dict[str, str] = Field(default_factory=dict)
    latency_ms: int = Field(default=0, ge=0, le=600_000)
    timeout: bool = False
    drop_response: bool = False

    @field_validator("method")
    @classmethod
    def _upper_method(cls, value: str) -> str:
        return value.upper()

    @field_validator("path")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            msg = f"path is not a valid regular expression: {exc}"
            raise ValueError(msg) from exc
        return value

    @model_validator(mode="after")
    def _one_outcome(self) -> FaultRule:
        outcomes = [self.status is not None, self.timeout, self.drop_response]
        if sum(outcomes) > 1:
            msg = "a rule takes at most one of status, timeout and drop_response"
            raise ValueError(msg)
        if not any(outcomes) and self.latency_ms == 0:
            msg = "a rule must set status, timeout, drop_response or latency_ms"
            raise ValueError(msg)
        if self.body is not None and self.status is None:
            msg = "body only makes sense together with status"
            raise ValueError(msg)
        return self

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("*", method.upper()):
            return False
        return re.search(self.path, path) is not None


@dataclass
class _Usage:
    seen: int = 0
    applied: int = 0


class FaultBook:
    """The active fault rules and locked records of one emulated instance (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._usage: dict[str, _Usage] = {}
        self._locked: set[str] = set()

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    @property
    def locked_records(self) -> set[str]:
        with self._lock:
            return set(self._locked)

    def add(self, rule: FaultRule) -> None:
        """Add ``rule``; a rule with the id of an existing one replaces it and starts afresh."""
        with self._lock:
            self._rules = [r for r in self._rules if r.id != rule.id]
            self._rules.append(rule)
            self._usage[rule.id] = _Usage()

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            self._usage.pop(rule_id, None)
            return len(self._rules) != before

    def lock(self, *keys: str) -> None:
        with self._lock:
            self._locked.update(keys)

    def unlock(self, *keys: str) -> None:
        with self._lock:
            self._locked.difference_update(keys)

    def match(self, method: str, path: str) -> FaultRule | None:
        """The first rule that applies to this request, consuming one of its uses.

        Every matching rule counts the request as seen, so ``after`` means "after this many
        requests to that path", whichever rule ends up applying.
        """
        chosen: FaultRule | None = None
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                usage = self._usage[rule.id]
                usage.seen += 1
                if chosen is not None or usage.seen <= rule.after:
                    continue
                if rule.count is None or usage.applied < rule.count:
                    usage.applied += 1
                    chosen = rule
        return chosen

    def is_locked(self, *keys: str | None) -> bool:
        with self._lock:
            return any(k is not None and k in self._locked for k in keys)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._usage.clear()
            self._locked.clear()

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            rules = []
            for rule in self._rules:
                usage = self._usage[rule.id]
                left = None if rule.count is None else rule.count - usage.applied
                rules.append(
                    {
                        **rule.model_dump(mode="json"),
                        "seen": usage.seen,
                        "applied": usage.applied,
                        "remaining": left,
                    }
                )
            return {"rules": rules, "locked_records": sorted(self._locked)}
