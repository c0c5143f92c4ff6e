"""The read half of a cycle: one page of remote changes merged into the hub in one transaction.

Per record: find its deal (link by remote id, else by the canonical id it carries), check the
tenant boundary and the mapping's scope (an unlinked record outside it is skipped; a linked one
that left it is still merged, so unticking "register" withdraws), translate, merge every field
three ways against the link's base, check the registration lifecycle, run the hub rules, then
write the deal, the new base, outbox entries for every other connection that should see it,
conflicts and audit events.
A record-level error undoes that record only and lands in the failed-record index, and the rest
of the page commits with the page's cursor. Most such errors (a value the model refuses, an
illegal registration move) are found before the record writes anything, so a page is first
merged without a savepoint per record; a record that fails after it started writing (a duplicate
link, a value the store can not hold) aborts that attempt with :class:`PageNeedsIsolation`, and
the caller merges the page again, this time with each record in its own savepoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from channel_sync.connectors import Page, RemoteRecord
from channel_sync.errors import RecordError
from channel_sync.mapping import build_opportunity, flatten
from channel_sync.model import IllegalTransitionError, Opportunity, RegistrationStatus
from channel_sync.model import check_transition as check_status
from channel_sync.store import (
    DELETED,
    AuditEvent,
    ConflictSide,
    Link,
    StoredRecord,
    Transaction,
)
from channel_sync.sync.context import STATUS, HubRuleContext, apply_rules, changed_paths
from channel_sync.sync.cycle_scope import Hub, can_stamp, is_canonical_id, new_canonical_id
from channel_sync.sync.deletions import apply_deletions
from channel_sync.sync.lineage import Origin, inbound_events
from channel_sync.sync.merge import FieldDecision, Outcome, merge_fields
from channel_sync.sync.outbox_routing import enqueue_change
from channel_sync.sync.report import PlanAction, PlanItem
from channel_sync.sync.runtime import ConnectionRuntime

ID = "id"


@dataclass
class PageOutcome:
    """What one page did; added to the cycle's report only once its transaction committed."""

    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    failed: int = 0
    skipped: int = 0
    plan: list[PlanItem] = field(default_factory=list)


def model_error(exc: ValidationError) -> RecordError:
    """A short, data-free summary of why the values do not make a valid deal."""
    parts = []
    for error in exc.errors(include_url=False)[:3]:
        where = ".".join(str(p) for p in error["loc"])
        parts.append(f"{where}: {str(error['msg']).removeprefix('Value error, ')}")
    return RecordError("the record does not make a valid deal: " + "; ".join(parts))


@dataclass
class _Found:
    remote_id: str
    key: str | None
    link: Link | None
    stored: StoredRecord | None


class PageNeedsIsolation(Exception):  # noqa: N818 - a signal to the caller, not a failure
    """A record failed after it started writing: merge the page again with savepoints."""


class PageMerger:
    """Merges one page into the hub inside ``tx`` (the caller owns commit or rollback).

    With ``isolate`` every record runs in its own savepoint; without it a record-level error
    after the record started writing raises :class:`PageNeedsIsolation` (the caller rolls the
    transaction back and merges again with ``isolate``). Audit events and quarantine releases
    are written once per page.
    """

    def __init__(
        self,
        hub: Hub,
        runtime: ConnectionRuntime,
        tx: Transaction,
        *,
        run_id: int | None,
        plan: bool,
        isolate: bool = True,
    ) -> None:
        self.hub = hub
        self.isolate = isolate
        #: Whether the record in hand has started writing (after that, no error is cheap).
        self._writing = False
        self._events: list[AuditEvent] = []
        self._synced: list[str] = []
        self.rt = runtime
        self.name = runtime.name
        self.facts = hub.facts[runtime.name]
        self.tx = tx
        self.run_id = run_id
        self.want_plan = plan
        self.out = PageOutcome()
        self.ctx = HubRuleContext(tx, hub.clock, runtime.name, runtime.role, hub.claims)
        self.origin = Origin(runtime.name, hub.kind(runtime.name), run_id)

    # -- the page ---------------------------------------------------------------------------

    def merge(self, page: Page) -> PageOutcome:
        mapping = self.rt.mapping
        found = self._lookup(page.records)
        held = self.tx.conflicts.open_fields(
            [f.stored.canonical_id for f in found if f.stored is not None]
        )
        for record, item in zip(page.records, found, strict=True):
            self.out.read += 1
            self._writing = False
            events, synced = len(self._events), len(self._synced)
            try:
                if self.isolate:
                    with self.tx.savepoint():
                        self._record(record, item, held, mapping.modstamp(record))
                else:
                    self._record(record, item, held, mapping.modstamp(record))
            except RecordError as exc:
                if self._writing and not self.isolate:
                    raise PageNeedsIsolation from exc
                del self._events[events:], self._synced[synced:]
                self._refuse(item, exc)
        self.tx.audit.append(self._events)
        if self._synced:
            self.tx.failures.clear_many(self.name, remote_ids=self._synced)
        if page.deletions:
            self.out.read += len(page.deletions)
            apply_deletions(self, page.deletions)
        return self.out

    def _lookup(self, records: tuple[RemoteRecord, ...]) -> list[_Found]:
        mapping = self.rt.mapping
        ids = [mapping.remote_id(r) for r in records]
        keys = [mapping.canonical_id(r) for r in records]
        by_remote = self.tx.links.many_by_remote(self.name, ids)
        loose = [k for i, k in zip(ids, keys, strict=True) if k and i not in by_remote]
        by_key = self.tx.links.many_by_canonical(self.name, loose)
        links = [by_remote.get(i) or (by_key.get(k) if k else None) for i, k in zip(ids, keys,
                                                                                     strict=True)]
        wanted = [link.canonical_id if link else k for link, k in zip(links, keys, strict=True)]
        stored = self.tx.records.get_many([w for w in wanted if w], lock=True)
        return [
            _Found(i, k, link, stored.get(w) if w else None)
            for i, k, link, w in zip(ids, keys, links, wanted, strict=True)
        ]

    # -- one record -------------------------------------------------------------------------

    def _record(
        self, record: RemoteRecord, item: _Found, held: Mapping[str, set[str]], stamp: datetime
    ) -> None:
        link, stored, key = item.link, item.stored, item.key
        if link is not None and key is not None and key != link.canonical_id:
            msg = "the record's canonical id field was changed; restore the id channel-sync set"
            raise RecordError(msg)
        if key is not None and not is_canonical_id(key):
            msg = "the record's canonical id field does not hold a valid canonical id"
            raise RecordError(msg)
        if stored is not None:
            self.hub.routes.check(self.name, stored.partner_id)
        if link is None and not self.rt.mapping.in_scope(record):
            self.out.skipped += 1
            self.note(PlanAction.SKIPPED, key, item.remote_id, message="out of scope")
            return
        # A linked record that left the scope is still merged: leaving it is itself a change
        # the mapping reads (a partner unticking "register" withdraws the registration).
        values = self.facts.inbound(record)
        if self._agrees(item, values):
            self._touch(item, stamp)
            return
        if stored is not None and stored.is_deleted:
            self._writing = True
            self._edit_after_delete(item, stored, values)
            return
        before = stored.opportunity if stored is not None else None
        base = dict(link.base) if link is not None else {}
        cid = stored.canonical_id if stored is not None else key or new_canonical_id()
        frozen = held.get(cid, set())
        decisions = merge_fields(
            side=self.rt.role,
            remote={p: v for p, v in values.items() if p not in frozen},
            base=base,
            hub=flatten(before) if before is not None else {},
            policies=self.facts.policies,
        )
        changes = {d.path: d.remote for d in decisions if d.hub_changes}
        agreed = {d.path: d.remote for d in decisions if d.agreed}
        refusal = self._check_status(before, changes, agreed)
        after = self._build(before, changes, cid)
        after, extras = self._rules(before, after, changes)
        delta = changed_paths(before, after)
        self._writing = True
        self._refresh_held(cid, frozen=frozen, values=values, base=base, before=before)
        if before is None:
            self.tx.records.insert(after)
        elif delta:
            assert stored is not None
            self.tx.records.update(after, expected_version=stored.version)
        self._save_link(item, cid, self._new_base(item, cid, agreed, values, base), stamp)
        self._conflicts(cid, decisions, after)
        push_back = {d.path for d in decisions if d.outcome is Outcome.HUB_WINS}
        stamp_key = key is None and can_stamp()
        enqueue_change(
            self.tx, self.hub, after, delta,
            source=self.name, source_paths=set(extras) | push_back, stamp_source=stamp_key,
        )
        self._events.extend(inbound_events(
            self.origin, item.remote_id, before=before, after=after, delta=delta,
            decisions=decisions, extras=extras, stamp=stamp,
        ))
        self._count(before, delta, decisions, cid, item.remote_id)
        if refusal is None:
            self._synced.append(item.remote_id)
        else:
            self._fail(item.remote_id, cid, refusal)

    def _agrees(self, item: _Found, values: Mapping[str, Any]) -> bool:
        """Whether a linked record holds exactly what its link last agreed on: the read-back of
        the engine's own write, or a touch that changed no mapped field.

        The merge would then find every field unchanged, build no change, queue nothing and
        leave the base as it is (no id to stamp, no deleted copy coming back, no empty read to
        record), so only the link's remote timestamp moves; the deal is not validated or merged.
        """
        link, stored = item.link, item.stored
        if (
            link is None
            or stored is None
            or stored.is_deleted
            or link.deleted
            or item.key != link.canonical_id
            or link.remote_id != item.remote_id
        ):
            return False
        base = link.base
        if base.get(ID) != link.canonical_id:
            return False
        if any(path not in values and path not in base for path in self.facts.empty_reads):
            return False
        return all(value == base.get(path) for path, value in values.items())

    def _touch(self, item: _Found, stamp: datetime) -> None:
        """An unchanged record: its link notes the remote timestamp, and it counts as synced."""
        assert item.link is not None
        self._writing = True
        self.tx.links.update(self.name, item.link.canonical_id, remote_modstamp=stamp)
        self.out.unchanged += 1
        self._synced.append(item.remote_id)

    def _new_base(
        self,
        item: _Found,
        cid: str,
        agreed: dict[str, Any],
        values: Mapping[str, Any],
        base: Mapping[str, Any],
    ) -> dict[str, Any]:
        """What the link now agrees on: the agreed fields, plus what an empty remote value
        stands for (the model's default) at readable paths the base never held."""
        for path, default in self.facts.empty_reads.items():
            if path not in values and path not in base:
                agreed[path] = default
        if item.key is not None:
            agreed[ID] = cid
        if item.link is not None and item.link.base.get(DELETED):
            agreed[DELETED] = False  # the deleted copy is back (re-created with its id)
        return agreed

    def _build(self, before: Opportunity | None, changes: dict[str, Any], cid: str) -> Opportunity:
        try:
            if before is None:
                return build_opportunity({**changes, ID: cid, "partner_id": self.rt.partner_id})
            return build_opportunity(changes, before)
        except ValidationError as exc:
            raise model_error(exc) from None

    def _check_status(
        self, before: Opportunity | None, changes: dict[str, Any], agreed: dict[str, Any]
    ) -> IllegalTransitionError | None:
        """Drop an illegal registration move (the other fields still sync) and report it."""
        if STATUS not in changes or changes[STATUS] is None:
            return None
        old = before.registration.status if before is not None else RegistrationStatus.DRAFT
        try:
            check_status(old, RegistrationStatus(changes[STATUS]))
        except IllegalTransitionError as exc:
            changes.pop(STATUS)
            agreed.pop(STATUS, None)
            return exc
        return None

    def _rules(
        self, before: Opportunity | None, after: Opportunity, changes: Mapping[str, Any]
    ) -> tuple[Opportunity, dict[str, tuple[str, Any]]]:
        if not self.hub.rules or (before is not None and not changes):
            return after, {}
        try:
            after, extras = apply_rules(self.hub.rules, before, after, self.ctx)
        except ValidationError as exc:
            raise model_error(exc) from None
        except IllegalTransitionError as exc:
            raise RecordError(str(exc)) from None
        self.ctx.remember(after)
        return after, extras

    def _save_link(self, item: _Found, cid: str, base: dict[str, Any], stamp: datetime) -> None:
        link = item.link
        if link is None:
            self.tx.links.link(self.name, cid, item.remote_id, base=base, remote_modstamp=stamp)
            return
        if link.remote_id != item.remote_id:
            # The CRM re-keyed the record (a merge survivor, a re-import): follow it.
            self.tx.links.set_remote_id(self.name, cid, item.remote_id)
        self.tx.links.update(self.name, cid, base=base, remote_modstamp=stamp)

    def _refresh_held(
        self,
        cid: str,
        *,
        frozen: set[str],
        values: Mapping[str, Any],
        base: Mapping[str, Any],
        before: Opportunity | None,
    ) -> None:
        """Fields under review that this side changed: the conflict shows its newest value
        (the other side keeps what it last reported)."""
        if before is None or not frozen:
            return
        hub = flatten(before)
        for path in sorted(frozen & set(values)):
            if values[path] == base.get(path):
                continue  # this side has not moved since it last agreed
            other, mine = self.sides(hub.get(path), values[path], before.partner_id)
            self.tx.conflicts.refresh_side(cid, path, mine, base=base.get(path), other=other)

    def _conflicts(self, cid: str, decisions: list[FieldDecision], after: Opportunity) -> None:
        for d in decisions:
            if d.outcome is Outcome.REVIEW:
                self._open_conflict(cid, d.path, base=d.base, hub=d.hub, remote=d.remote,
                                    partner_id=after.partner_id)
            elif d.outcome in (Outcome.REMOTE_WINS, Outcome.HUB_WINS):
                a, b = self.sides(d.hub, d.remote, after.partner_id)
                winner = self.rt.role.value if d.outcome is Outcome.REMOTE_WINS else (
                    "vendor" if self.rt.role.value == "partner" else "partner"
                )
                value = d.remote if d.outcome is Outcome.REMOTE_WINS else d.hub
                self.tx.conflicts.record_decided(
                    cid, d.path, base=d.base, a=a, b=b,
                    decision=f"{winner} wins (field authority)", value=value,
                    decided_by="channel-sync",
                )
            if d.is_conflict:
                self.note(PlanAction.CONFLICT, cid, None, field=d.path, old=d.hub, new=d.remote,
                           decision=d.outcome.value)

    def _open_conflict(
        self, cid: str, path: str, *, base: Any, hub: Any, remote: Any, partner_id: str | None
    ) -> None:
        a, b = self.sides(hub, remote, partner_id)
        self.tx.conflicts.open(cid, path, base=base, a=a, b=b)

    def sides(self, hub: Any, remote: Any, partner_id: str | None) -> tuple[ConflictSide,
                                                                             ConflictSide]:
        other = self.hub.routes.counterpart(self.name, partner_id)
        a = ConflictSide(hub, self.hub.kind(other), other or "channel-sync")
        b = ConflictSide(remote, self.hub.kind(self.name), self.name)
        return a, b

    def _edit_after_delete(
        self, item: _Found, stored: StoredRecord, values: Mapping[str, Any]
    ) -> None:
        """An edit arriving for a deal deleted elsewhere: a conflict, never a silent revival."""
        base = item.link.base if item.link is not None else {}
        changed = [p for p, v in values.items() if v != base.get(p)]
        if not changed or (item.link is not None and item.link.base.get(DELETED)):
            self.out.unchanged += 1
            return
        a, b = self.sides(True, False, stored.partner_id)
        self.tx.conflicts.open(stored.canonical_id, DELETED, base=False, a=a, b=b)
        self.out.conflicts += 1
        self.note(PlanAction.CONFLICT, stored.canonical_id, item.remote_id, field=DELETED,
                   old=True, new=False, decision=Outcome.REVIEW.value)

    # -- bookkeeping ------------------------------------------------------------------------

    def _count(
        self,
        before: Opportunity | None,
        delta: Mapping[str, Any],
        decisions: list[FieldDecision],
        cid: str,
        remote_id: str,
    ) -> None:
        self.out.conflicts += sum(1 for d in decisions if d.is_conflict)
        if before is None:
            self.out.created += 1
            self.note(PlanAction.CREATE, cid, remote_id)
            for path, new in delta.items():
                self.note(PlanAction.CREATE, cid, remote_id, field=path, new=new)
        elif delta:
            self.out.updated += 1
            if not self.want_plan:
                return
            old = flatten(before)
            for path, new in delta.items():
                self.note(PlanAction.UPDATE, cid, remote_id, field=path, old=old.get(path),
                           new=new)
        else:
            self.out.unchanged += 1

    def _refuse(self, item: _Found, exc: RecordError) -> None:
        cid = item.stored.canonical_id if item.stored is not None else None
        if item.stored is not None and not self.hub.routes.may_see(
            self.name, item.stored.partner_id
        ):
            cid = None  # never file another partner's deal under this connection
        self._fail(item.remote_id, cid, exc)
        self.note(PlanAction.REFUSED, None, item.remote_id, message=str(exc))

    def _fail(self, remote_id: str, cid: str | None, exc: Exception) -> None:
        self.out.failed += 1
        self.tx.failures.record(self.name, exc, remote_id=remote_id, canonical_id=cid)

    def note(
        self,
        action: PlanAction,
        cid: str | None,
        remote_id: str | None,
        *,
        field: str | None = None,
        old: Any = None,
        new: Any = None,
        decision: str | None = None,
        message: str | None = None,
    ) -> None:
        if self.want_plan:
            self.out.plan.append(
                PlanItem(action, cid, remote_id, field, old, new, decision, message)
            )
