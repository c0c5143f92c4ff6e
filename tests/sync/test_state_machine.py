"""A stateful model of two partners and the vendor editing deals while the engine syncs them.

Hypothesis drives people creating registered deals on partner A (HubSpot) and partner B
(Salesforce), editing shared and side-owned fields on one side or on both (to the same or to
different values), sync rounds, write faults (a 503 or a dropped response, once), crashes of the
engine at each point of a cycle followed by a restart, and decisions of open review conflicts.

The oracle models the documented per-field rules, not the engine: per deal and field it keeps
the value both sides agreed on and each side's edits since then. A sync round is *complete*: it
runs until every queued write has been delivered (time is moved past any retry delay), so a
person never edits a field the engine has written but not yet confirmed (that case is ambiguous
by nature: the engine cannot tell whether the person saw its write). At each complete round the
oracle merges: an edit on one side is taken; the same value on both sides is taken without a
conflict; different values on both sides are one conflict, decided by the field's authority
(the partner owns the description) or, for the shared review fields, left in both CRMs until
the resolve rule takes one side. After every complete round both CRMs must equal the oracle,
the open conflicts must be exactly the oracle's and every conflict the store ever recorded must
be one the oracle expected. After every step: no external key twice on any side, and no
record (or canary string) of one partner in the other partner's CRM.

Each example starts from an empty store: a copy of a migrated SQLite file, or on PostgreSQL
(when ``CHANNEL_SYNC_TEST_POSTGRES_URL`` is set) a freshly migrated schema of its own.

Size: ``CHANNEL_SYNC_SM_EXAMPLES`` (default 5) examples of ``CHANNEL_SYNC_SM_STEPS`` (default
12) steps. Seed: ``CHANNEL_SYNC_TEST_SEED`` (printed; random when unset).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import os
import random
import shutil
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
from hypothesis import HealthCheck, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from channel_sync.sandbox import SandboxServer
from channel_sync.store import Store, migrate, open_store
from channel_sync.sync.cycle import LEASE_TTL
from channel_sync.sync.engine import SyncEngine
from channel_sync.testing import SteerableClock
from sync.conftest import BACKENDS, POSTGRES_ENV, new_schema
from sync.crash import Crash, CrashingConnector, CrashingStore, SimulatedCrash
from sync.sm_support import (
    CRASH_POINTS,
    MAX_DEALS,
    PARTNER_OWNED,
    PATHS,
    REVIEW,
    SIDES,
    VENDOR_OWNED,
    WINNER,
    WRITE_PATH,
    Deal,
    blank,
    canonical,
    guarded,
    value_strategy,
)
from sync.world import (
    PARTNER_A,
    PARTNER_B,
    VENDOR,
    World,
    positions,
    project_env,
    writes,
)

EXAMPLES = int(os.environ.get("CHANNEL_SYNC_SM_EXAMPLES", "5"))
STEPS = int(os.environ.get("CHANNEL_SYNC_SM_STEPS", "12"))
SEED = int(os.environ.get("CHANNEL_SYNC_TEST_SEED", random.SystemRandom().randrange(2**32)))

class EmptyStores:
    """Hands each example an empty, migrated store and removes it afterwards."""

    def __init__(self, template: Path, workdir: Path, postgres_base: str | None) -> None:
        self.template = template
        self.workdir = workdir
        self.postgres_base = postgres_base

    def open(self, number: int, clock: SteerableClock) -> tuple[Store, Callable[[], None]]:
        if self.postgres_base is None:
            path = self.workdir / f"state-{number}.db"
            shutil.copyfile(self.template, path)
            return open_store(f"sqlite:///{path}", clock=clock), lambda: path.unlink(
                missing_ok=True
            )
        url, drop = new_schema(self.postgres_base, prefix="cs_sm")
        migrate(url)
        return open_store(url, clock=clock), drop


class SyncConvergence(RuleBasedStateMachine):
    server: ClassVar[SandboxServer]
    clock: ClassVar[SteerableClock]
    stores: ClassVar[EmptyStores]
    totals: ClassVar[Counter[str]] = Counter()
    _numbers: ClassVar[itertools.count[int]] = itertools.count(1)

    def __init__(self) -> None:
        super().__init__()
        self.number = next(self._numbers)
        self.server.reset()
        self.store, self._remove_store = self.stores.open(self.number, self.clock)
        self.world = World(self.server, self.clock, self.store, project_env(self.server))
        self.deals: list[Deal] = []
        self.expected_conflicts = 0
        self.broken = False
        self.canary = {PARTNER_A: f"CANARY-A-{self.number}", PARTNER_B: f"CANARY-B-{self.number}"}
        self.totals["examples"] += 1

    # -- people -----------------------------------------------------------------------------

    def _user(self, connection: str) -> Any:
        return {VENDOR: self.world.vendor, PARTNER_A: self.world.partner_a,
                PARTNER_B: self.world.partner_b}[connection]

    def _connection(self, deal: Deal, side: str) -> str:
        return VENDOR if side == "vendor" else deal.partner

    def _edit(self, deal: Deal, side: str, values: dict[str, Any]) -> None:
        connection = self._connection(deal, side)
        mapping = self.world.runtimes[connection].mapping
        record = self._user(connection).by_key(deal.key)
        assert record is not None, f"{connection} has no record {deal.key} to edit"
        self._user(connection).update(str(record[mapping.keys.remote_id]),
                                      **mapping.outbound(values))
        deal.pending[side].update(values)

    def _editable(self, side: str) -> list[tuple[Deal, str]]:
        paths = (*REVIEW, *PARTNER_OWNED, *(VENDOR_OWNED if side == "vendor" else ()))
        return [(d, p) for d in self.deals if d.synced or side == "partner"
                for p in paths if p not in d.contested]

    def _both_editable(self) -> list[tuple[Deal, str]]:
        return [(d, p) for d in self.deals if d.synced
                for p in (*REVIEW, *PARTNER_OWNED) if p not in d.contested]

    @precondition(lambda self: len(self.deals) < MAX_DEALS)
    @rule(partner=st.sampled_from([PARTNER_A, PARTNER_B]), data=st.data())
    @guarded
    def create_deal(self, partner: str, data: st.DataObject) -> None:
        self.totals["steps"] += 1
        key = f"cs_sm_{self.number}_{len(self.deals)}"
        name = f"{self.canary[partner]} deal {len(self.deals)}"
        initial = {p: canonical(p, data.draw(value_strategy(p), label=p))
                   for p in (*REVIEW, *PARTNER_OWNED)}
        facts = self.world.engine.hub.facts[partner]
        wire = facts.mapping.outbound({
            "name": name, "customer.company_name": f"{self.canary[partner]} Ltd", **initial,
        })
        scope = {c.field: c.values[0] for c in facts.mapping.scope.conditions}
        self._user(partner).create(**{**wire, **scope, facts.mapping.keys.external_id: key})
        self.deals.append(Deal(key, partner, {**initial, "co_sell.next_step": None}))

    @rule(side=st.sampled_from(SIDES), data=st.data())
    @guarded
    def edit_one_side(self, side: str, data: st.DataObject) -> None:
        choices = self._editable(side)
        if not choices:
            return
        self.totals["steps"] += 1
        deal, path = data.draw(st.sampled_from(choices), label="deal, field")
        taken = deal.taken(path)
        value = data.draw(value_strategy(path).map(functools.partial(canonical, path))
                          .filter(lambda v: v not in taken), label="value")
        self._edit(deal, side, {path: value})

    @rule(data=st.data())
    @guarded
    def edit_both_sides_alike(self, data: st.DataObject) -> None:
        self._edit_both(data, same=True)

    @rule(data=st.data())
    @guarded
    def edit_both_sides_differently(self, data: st.DataObject) -> None:
        self._edit_both(data, same=False)

    def _edit_both(self, data: st.DataObject, *, same: bool) -> None:
        choices = self._both_editable()
        if not choices:
            return
        self.totals["steps"] += 1
        deal, path = data.draw(st.sampled_from(choices), label="deal, field")
        taken = deal.taken(path)
        values = value_strategy(path).map(functools.partial(canonical, path))
        vendor = data.draw(values.filter(lambda v: v not in taken), label="vendor value")
        partner = vendor if same else data.draw(
            values.filter(lambda v: v not in taken and v != vendor), label="partner value"
        )
        self._edit(deal, "vendor", {path: vendor})
        self._edit(deal, "partner", {path: partner})

    # -- the engine -------------------------------------------------------------------------

    @rule()
    @guarded
    def sync_round(self) -> None:
        self.totals["steps"] += 1
        self._complete_round()

    @precondition(lambda self: self.work_waiting())
    @rule(connection=st.sampled_from([VENDOR, PARTNER_A, PARTNER_B]),
          kind=st.sampled_from(["503", "drop_response"]))
    @guarded
    def inject_fault(self, connection: str, kind: str) -> None:
        self.totals["steps"] += 1
        method, path = WRITE_PATH[connection]
        fault: dict[str, Any] = {"method": method, "path": path, "count": 1}
        fault.update({"status": 503} if kind == "503" else {"drop_response": True})
        self._control(connection, "POST", "/faults", json={"rules": [fault]})
        self.totals[f"faults injected ({kind})"] += 1
        self._complete_round()

    @precondition(lambda self: self.work_waiting())
    @rule(point=st.sampled_from(CRASH_POINTS))
    @guarded
    def crash_and_restart(self, point: tuple[str, int]) -> None:
        self.totals["steps"] += 1
        crash = Crash(point[0], at_commit=point[1])
        runtimes = {name: dataclasses.replace(rt, connector=CrashingConnector(rt.connector, crash))
                    for name, rt in self.world.runtimes.items()}
        doomed = SyncEngine(runtimes, CrashingStore(self.store, crash), clock=self.clock,
                            holder=f"doomed-{self.number}")
        self.world.settle()
        try:
            doomed.sync_once()
        except SimulatedCrash:
            self.totals["crashes fired"] += 1
            # The dead worker's leases run out before a new worker can take over.
            self.clock.advance(LEASE_TTL + timedelta(seconds=1))
        else:
            self.totals["crash points not reached"] += 1
        self.world.engine = SyncEngine(self.world.runtimes, self.store, clock=self.clock,
                                       holder=f"worker-{self.number}-{self.totals['steps']}")
        self._complete_round()

    @precondition(lambda self: any(d.contested for d in self.deals))
    @rule(take=st.sampled_from(SIDES), data=st.data())
    @guarded
    def resolve_conflict(self, take: str, data: st.DataObject) -> None:
        self.totals["steps"] += 1
        choices = [(d, p) for d in self.deals for p in sorted(d.contested)]
        deal, path = data.draw(st.sampled_from(choices), label="conflict")
        self._resolve(deal, path, take)

    def _resolve(self, deal: Deal, path: str, take: str) -> None:
        with self.store.read() as tx:
            found = [c for c in tx.conflicts.list_open(canonical_id=deal.key) if c.field == path]
        assert len(found) == 1, f"open conflicts for {deal.key}/{path}: {found}"
        self.world.engine.resolve_conflict(found[0].id, take, actor="channel manager")
        chosen = deal.contested.pop(path)[SIDES.index(take)]
        # The chosen value now has to reach the other side, exactly like an edit on ``take``.
        deal.pending[take][path] = chosen
        self.totals[f"resolved taking {take}"] += 1

    def work_waiting(self) -> bool:
        """Whether the next round has something to read and write (so a fault or crash bites)."""
        return any(not d.synced or any(d.pending.values()) for d in self.deals)

    def _control(self, connection: str, method: str, path: str, **kwargs: Any) -> Any:
        instance = self.world.instance(connection)
        with requests.Session() as http:
            http.trust_env = False
            response = http.request(method, f"{instance.control_url}{path}",
                                    verify=instance.verify, timeout=10, **kwargs)
            response.raise_for_status()
            return response.json() if response.content else None

    def _complete_round(self) -> None:
        """Sync until nothing waits in the outbox, then merge the oracle and compare."""
        for _ in range(8):
            for report in self.world.sync(1):
                assert report.status.value == "ok", (report.connection, report.error)
            with self.store.read() as tx:
                waiting = [e for c in (VENDOR, PARTNER_A, PARTNER_B)
                           for e in (*tx.outbox.pending(c), *tx.outbox.in_flight(c))]
            if not waiting:
                break
            self.totals["rounds repeated for a retry"] += 1
            gap = max(e.available_at for e in waiting) - self.clock.now()
            if gap > timedelta(0):
                self.clock.advance(gap + timedelta(seconds=1))
        else:
            raise AssertionError(f"writes still waiting after 8 rounds: {waiting}")
        for deal in self.deals:
            self._merge(deal)
        self._check_converged()

    def _merge(self, deal: Deal) -> None:
        """The documented per-field outcome of everything edited since the last round."""
        vendor, partner = deal.pending["vendor"], deal.pending["partner"]
        for path in PATHS:
            if path in deal.contested or (path not in vendor and path not in partner):
                continue
            if path not in partner or path not in vendor or vendor[path] == partner[path]:
                deal.agreed[path] = partner.get(path, vendor.get(path))
                continue
            self.expected_conflicts += 1
            winner = WINNER.get(path)
            if winner is None:
                deal.contested[path] = (vendor[path], partner[path])
            else:
                deal.agreed[path] = deal.pending[winner][path]
        vendor.clear()
        partner.clear()
        deal.synced = True

    def _check_converged(self) -> None:
        for deal in self.deals:
            for side in SIDES:
                connection = self._connection(deal, side)
                record = self._user(connection).by_key(deal.key)
                assert record is not None, f"{connection} lost {deal.key}"
                holds = self.world.engine.hub.facts[connection].inbound(record)
                mapping = self.world.runtimes[connection].mapping
                for path in PATHS:
                    want = deal.expected(side, path)
                    if path in VENDOR_OWNED and side == "partner":
                        wire = mapping.outbound({path: want})
                        got = {k: blank(record.get(k)) for k in wire}
                        assert got == {k: blank(v) for k, v in wire.items()}, (deal.key, path)
                    else:
                        got_value = holds.get(path)
                        assert got_value == want, (connection, deal.key, path, got_value, want)
        with self.store.read() as tx:
            open_now = {(c.canonical_id, c.field) for c in tx.conflicts.list_open(limit=10_000)}
            recorded = sum(len(tx.conflicts.history(d.key)) for d in self.deals)
            failed = {c: n for c, n in tx.failures.counts().items() if n}
            gave_up = [e for c in (VENDOR, PARTNER_A, PARTNER_B) for e in tx.outbox.failed(c)]
        expected_open = {(d.key, p) for d in self.deals for p in d.contested}
        assert open_now == expected_open, (
            f"false {open_now - expected_open}, missed {expected_open - open_now}"
        )
        assert recorded == self.expected_conflicts, (recorded, self.expected_conflicts)
        assert not failed, failed
        assert not gave_up, gave_up

    # -- invariants after every step ---------------------------------------------------------

    @invariant()
    @guarded
    def one_record_per_key_on_every_side(self) -> None:
        for connection in (VENDOR, PARTNER_A, PARTNER_B):
            key_field = self.world.runtimes[connection].mapping.keys.external_id
            keys = [r.get(key_field) for r in self._user(connection).records()
                    if r.get(key_field)]
            assert len(keys) == len(set(keys)), f"{connection} holds a key twice: {keys}"

    @invariant()
    @guarded
    def partners_never_see_each_other(self) -> None:
        for mine, other in ((PARTNER_A, PARTNER_B), (PARTNER_B, PARTNER_A)):
            rows = self._user(mine).records()
            text = json.dumps(rows, default=str)
            assert self.canary[other] not in text, f"{other}'s deal reached {mine}"
            key_field = self.world.runtimes[mine].mapping.keys.external_id
            theirs = {d.key for d in self.deals if d.partner == other}
            assert not theirs & {r.get(key_field) for r in rows}, f"{other}'s key in {mine}"

    # -- the end of an example ---------------------------------------------------------------

    def teardown(self) -> None:
        try:
            if not self.broken:
                self._settle_everything()
        finally:
            self.world.close()
            self.store.dispose()
            self._remove_store()

    def _settle_everything(self) -> None:
        self._complete_round()
        self._complete_round()
        for n, (deal, path) in enumerate([(d, p) for d in self.deals for p in sorted(d.contested)]):
            self._resolve(deal, path, SIDES[(n + self.number) % 2])
        self._complete_round()
        assert not any(d.contested for d in self.deals)
        since = positions(self.world)
        self.world.sync(2)
        assert writes(self.world, since) == {VENDOR: 0, PARTNER_A: 0, PARTNER_B: 0}
        for connection in (VENDOR, PARTNER_A, PARTNER_B):
            applied = self._control(connection, "GET", "/faults")["rules"]
            self.totals["faults that hit a write"] += sum(r["applied"] for r in applied)
        self.totals["deals"] += len(self.deals)
        self.totals["conflicts expected"] += self.expected_conflicts
        with self.store.read() as tx:
            self.totals["conflicts detected"] += sum(
                len(tx.conflicts.history(d.key)) for d in self.deals
            )


@pytest.mark.parametrize("backend", BACKENDS)
def test_random_edits_faults_and_crashes_converge(
    backend: str,
    sync_server: SandboxServer,
    sync_clock: SteerableClock,
    migrated_sqlite: Path,
    tmp_path: Path,
) -> None:
    postgres_base = None
    if backend == "postgresql":
        postgres_base = os.environ.get(POSTGRES_ENV)
        if not postgres_base:
            pytest.skip(f"{POSTGRES_ENV} is not set: the PostgreSQL run is skipped")
    print(f"{backend}: seed={SEED} examples={EXAMPLES} steps={STEPS} "
          f"(reproduce: CHANNEL_SYNC_TEST_SEED={SEED})")
    SyncConvergence.server = sync_server
    SyncConvergence.clock = sync_clock
    SyncConvergence.stores = EmptyStores(migrated_sqlite, tmp_path, postgres_base)
    SyncConvergence.totals = Counter()
    machine = seed(SEED)(SyncConvergence)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
        derandomize=False, suppress_health_check=[HealthCheck.too_slow,
                                                  HealthCheck.filter_too_much],
    ))
    totals = SyncConvergence.totals
    print(", ".join(f"{k}: {v}" for k, v in sorted(totals.items())))
    assert totals["examples"] >= 1
    assert totals["conflicts detected"] == totals["conflicts expected"]

