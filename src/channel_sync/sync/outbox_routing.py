"""Queueing a deal's change for every connection that should see it.

A change goes to each connection of the deal's audience (the vendor, and the deal's own
partner) other than the one it came from, limited to the fields that connection's mapping
writes. The source connection gets back only what the hub decided on top of its change (a rule's
registration number, a field its authority kept) and the fields it receives but never sends:
it already holds the rest. A connection that
deleted its copy gets nothing more. The outbox records paths; values are taken from the hub at
drain time, so a crash between this commit and the drain loses nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from channel_sync.mapping import flatten
from channel_sync.model import Opportunity
from channel_sync.store import Transaction
from channel_sync.sync.cycle_scope import Hub
from channel_sync.sync.fields import ID_PATH


def enqueue_change(
    tx: Transaction,
    hub: Hub,
    after: Opportunity,
    delta: Mapping[str, Any],
    *,
    source: str | None,
    source_paths: Collection[str] = (),
    stamp_source: bool = False,
    everyone: Collection[str] = (),
) -> list[str]:
    """Queue ``delta`` (and ``everyone`` paths, for every target) for the deal's audience.

    Returns the connections an entry was queued for.
    """
    if after.id is None:  # pragma: no cover - the model requires an id
        return []
    queued: list[str] = []
    flat: dict[str, Any] | None = None
    for target in hub.routes.audience(after.partner_id):
        link = tx.links.by_canonical(target, after.id)
        if link is not None and link.deleted:
            continue
        facts = hub.facts[target]
        writable = facts.writable
        # The source holds what it sent; fields it only receives (a status it shows in a
        # property it never edits) still need the hub's value.
        own = set(source_paths) | (set(delta) - facts.mirrored)
        wanted = own if target == source else set(delta)
        wanted |= set(everyone)
        paths = {p for p in wanted if p in writable}
        if target == source and stamp_source:
            paths.add(ID_PATH)
        if not paths or (paths == {ID_PATH} and not (target == source and stamp_source)):
            continue
        if flat is None:
            flat = flatten(after)
        values = {p: (after.id if p == ID_PATH else flat.get(p)) for p in sorted(paths)}
        tx.outbox.queue(target, after.id, values)
        queued.append(target)
    return queued
