"""Runs scenario files (``cases/*.yaml``) against the sandboxes through the real connectors.

A scenario is a list of steps, written in canonical terms so the same file runs against every
partner connector: values are translated to each CRM's fields by that connection's own mapping,
exactly as the engine would write them, and people's edits go through the CRM's API.

Steps (one key each):

``create: {side, ref, key?, key_of?, register?, values}``  a person creates a deal (``key:
    false``: without the canonical id; ``key_of: ref``: carrying another deal's id); a partner's
    deal is registered (the mapping's scope is met) unless ``register: false``
``edit: {side, ref, values, register?}``  a person edits fields (and registers the deal)
``delete: {side, ref}``                 a person deletes the deal
``sync: N``                             N rounds of ``sync_once`` (default 1)
``cycle: side``                         one ``run_cycle`` of that side's connection only
``rewind: side``                        forget that side's cursor (a stale cursor)
``resolve: {ref, field, take}``         decide the deal's open conflict on ``field``
``expect: {side, ref, values}``         the side's record holds these canonical values
``expect_hub: {ref, values, deleted?}``  the hub's deal holds these values
``expect_gone: {side, ref}``            the side holds no record for the deal
``expect_conflicts: {ref?, fields}``    exactly these fields are under review (all deals or one)
``expect_failed: {side, count}``        failed-record index entries on that side's connection
``expect_records: {side, count}``       records on that side (duplicates would show here)
``expect_idle: {rounds}``               that many more rounds make no remote write at all
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from channel_sync.mapping import canonical_value, flatten
from channel_sync.mapping.spec import ScopeOp
from channel_sync.store import ConflictStatus
from channel_sync.sync.fields import MappingFacts
from sync.world import (
    PARTNER_A,
    PARTNER_B,
    VENDOR,
    HubSpotUser,
    SalesforceUser,
    World,
    positions,
    writes,
)

CASES = Path(__file__).with_name("cases")


def load_cases() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for path in sorted(CASES.glob("*.yaml")):
        with path.open(encoding="utf-8") as handle:
            cases.append((path.stem, yaml.safe_load(handle)))
    return cases


@dataclass
class ScenarioRun:
    world: World
    partner: str
    refs: dict[str, str] = field(default_factory=dict)
    remote: dict[tuple[str, str], str] = field(default_factory=dict)
    idle_writes: int = 0

    def connection(self, side: str) -> str:
        return VENDOR if side == "vendor" else self.partner

    def user(self, side: str) -> SalesforceUser | HubSpotUser:
        conn = self.connection(side)
        return {VENDOR: self.world.vendor, PARTNER_A: self.world.partner_a,
                PARTNER_B: self.world.partner_b}[conn]

    def facts(self, side: str) -> MappingFacts:
        return self.world.engine.hub.facts[self.connection(side)]

    def wire(self, side: str, values: Mapping[str, Any]) -> dict[str, Any]:
        facts = self.facts(side)
        typed = {p: canonical_value(p, v) for p, v in values.items()}
        out = facts.mapping.outbound(typed)
        out.pop(facts.mapping.keys.external_id, None)
        return out

    def scope_fields(self, side: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for condition in self.facts(side).mapping.scope.conditions:
            if condition.op is ScopeOp.EQ:
                out[condition.field] = condition.values[0]
        return out

    # -- steps ------------------------------------------------------------------------------

    def run(self, steps: list[dict[str, Any]]) -> None:
        for number, step in enumerate(steps, 1):
            [(name, arg)] = step.items()
            try:
                getattr(self, f"step_{name}")(arg)
            except AssertionError as exc:
                raise AssertionError(f"step {number} ({name}): {exc}") from exc

    def step_create(self, arg: dict[str, Any]) -> None:
        side, ref = arg["side"], arg["ref"]
        fields = self.wire(side, arg.get("values", {}))
        if side != "vendor" and arg.get("register", True):
            fields.update(self.scope_fields(side))
        if "key_of" in arg:
            cid = self._cid(arg["key_of"])
            self.refs[ref] = cid
            fields[self.facts(side).mapping.keys.external_id] = cid
        elif arg.get("key", True):
            cid = f"cs_{ref}_{uuid.uuid4().hex[:10]}"
            self.refs[ref] = cid
            fields[self.facts(side).mapping.keys.external_id] = cid
        self.remote[(side, ref)] = self.user(side).create(**fields)

    def step_edit(self, arg: dict[str, Any]) -> None:
        side, ref = arg["side"], arg["ref"]
        fields = self.wire(side, arg.get("values", {}))
        if arg.get("register"):
            fields.update(self.scope_fields(side))
        self.user(side).update(self._remote_id(side, ref), **fields)

    def step_delete(self, arg: dict[str, Any]) -> None:
        self.user(arg["side"]).delete(self._remote_id(arg["side"], arg["ref"]))

    def step_sync(self, rounds: int | None) -> None:
        for report in self.world.sync(rounds or 1):
            assert report.status.value == "ok", f"{report.connection}: {report.error}"

    def step_cycle(self, side: str) -> None:
        report = self.world.cycle(self.connection(side))
        assert report.status.value == "ok", f"{report.connection}: {report.error}"

    def step_rewind(self, side: str) -> None:
        with self.world.store.transaction() as tx:
            tx.cursors.reset(self.connection(side))

    def step_resolve(self, arg: dict[str, Any]) -> None:
        cid = self._cid(arg["ref"])
        with self.world.store.read() as tx:
            [conflict] = [c for c in tx.conflicts.list_open(canonical_id=cid)
                          if c.field == arg["field"]]
        take = arg["take"]
        if isinstance(take, dict):
            self.world.engine.resolve_conflict(conflict.id, "value", value=take["value"],
                                               actor="scenario")
        else:
            self.world.engine.resolve_conflict(conflict.id, take, actor="scenario")

    def step_expect(self, arg: dict[str, Any]) -> None:
        side, ref = arg["side"], arg["ref"]
        record = self._record(side, ref)
        assert record is not None, f"{side} has no record for {ref}"
        got = self.facts(side).inbound(record)
        for path, value in arg["values"].items():
            want = canonical_value(path, value)
            assert got.get(path) == want, f"{side} {ref} {path}: {got.get(path)!r} != {want!r}"

    def step_expect_hub(self, arg: dict[str, Any]) -> None:
        with self.world.store.read() as tx:
            stored = tx.records.get(self._cid(arg["ref"]))
        assert stored is not None, f"the hub has no deal {arg['ref']}"
        flat = flatten(stored.opportunity)
        for path, value in arg.get("values", {}).items():
            want = canonical_value(path, value)
            assert flat.get(path) == want, f"hub {path}: {flat.get(path)!r} != {want!r}"
        if "deleted" in arg:
            assert stored.is_deleted is arg["deleted"]

    def step_expect_gone(self, arg: dict[str, Any]) -> None:
        assert self._record(arg["side"], arg["ref"]) is None

    def step_expect_conflicts(self, arg: dict[str, Any]) -> None:
        with self.world.store.read() as tx:
            cid = self._cid(arg["ref"]) if "ref" in arg else None
            found = sorted(c.field for c in tx.conflicts.list_open(canonical_id=cid)
                           if c.status is ConflictStatus.OPEN)
        assert found == sorted(arg.get("fields", [])), f"open conflicts: {found}"

    def step_expect_failed(self, arg: dict[str, Any]) -> None:
        with self.world.store.read() as tx:
            count = tx.failures.counts().get(self.connection(arg["side"]), 0)
        assert count == arg["count"], f"failed records: {count}"

    def step_expect_records(self, arg: dict[str, Any]) -> None:
        count = len(self.user(arg["side"]).records())
        assert count == arg["count"], f"{arg['side']} holds {count} records"

    def step_expect_idle(self, arg: dict[str, Any]) -> None:
        since = positions(self.world, [VENDOR, self.partner])
        self.step_sync(arg.get("rounds", 3))
        counted = writes(self.world, since)
        self.idle_writes += sum(counted.values())
        assert not any(counted.values()), f"idle cycles wrote: {counted}"

    # -- lookups ----------------------------------------------------------------------------

    def _cid(self, ref: str) -> str:
        if ref in self.refs:
            return self.refs[ref]
        for (side, name), remote_id in self.remote.items():
            if name != ref:
                continue
            with self.world.store.read() as tx:
                link = tx.links.by_remote(self.connection(side), remote_id)
            if link is not None:
                self.refs[ref] = link.canonical_id
                return link.canonical_id
        raise AssertionError(f"deal {ref} is not known to the hub")

    def _remote_id(self, side: str, ref: str) -> str:
        if (side, ref) in self.remote:
            return self.remote[(side, ref)]
        record = self._record(side, ref)
        assert record is not None, f"{side} has no record for {ref}"
        remote_id = str(record[self.facts(side).mapping.keys.remote_id])
        self.remote[(side, ref)] = remote_id
        return remote_id

    def _record(self, side: str, ref: str) -> dict[str, Any] | None:
        user = self.user(side)
        id_field = self.facts(side).mapping.keys.remote_id
        if (side, ref) in self.remote:
            found = [r for r in user.records() if str(r[id_field]) == self.remote[(side, ref)]]
            if found:
                return found[0]
        if ref not in self.refs and (side, ref) in self.remote:
            return None
        return user.by_key(self._cid(ref))
