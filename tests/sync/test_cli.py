"""The ``sync``, ``status``, ``conflicts`` and ``audit`` commands against the sandboxes.

The commands read the shipped project (``--project``), the environment (sandbox URLs and
credentials) and ``CHANNEL_SYNC_DATABASE_URL``, exactly as an admin would run them; the
connectors are found through entry-point metadata, declared here by a throw-away distribution
the way an installed package declares them.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from channel_sync.cli import audit, conflicts, status
from channel_sync.cli import sync as sync_cli
from channel_sync.connectors import registry
from sync.world import PARTNER_A, PARTNER_B, ROOT, VENDOR, World

root_app = typer.Typer()
for module in (sync_cli, status, conflicts, audit):
    module.attach(root_app)
runner = CliRunner()


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[None]:
    dist = tmp_path / "cli_connectors-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: cli-connectors\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(textwrap.dedent(f"""
        [{registry.GROUP}]
        salesforce = channel_sync.connectors.salesforce.plugin:plugin
        hubspot = channel_sync.connectors.hubspot.plugin:plugin
        """))
    sys.path.insert(0, str(tmp_path))
    try:
        yield
    finally:
        sys.path.remove(str(tmp_path))


@pytest.fixture
def cli_env(world: World, db_url: str, monkeypatch: pytest.MonkeyPatch) -> World:
    for key, value in world.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CHANNEL_SYNC_DATABASE_URL", db_url)
    return world


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(root_app, [*args, "--project", str(ROOT)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def as_json(out: str) -> Any:
    return json.loads(out)


@pytest.mark.usefixtures("installed")
def test_sync_dry_run_then_sync(cli_env: World) -> None:
    world = cli_env
    world.vendor.create(Name="CLI direct deal", Channel_Sync_Id__c="cs_cli_1", Amount=42)
    code, out, _ = cli("sync", VENDOR, "--once", "--dry-run", "--json")
    assert code == 0
    data = as_json(out)
    assert data["dry_run"] is True
    [report] = data["reports"]
    assert report["connection"] == VENDOR
    assert report["created"] == 1
    assert {"action": "create", "field": "name", "new": "CLI direct deal"}.items() <= next(
        i for i in report["plan"] if i["field"] == "name"
    ).items()
    with world.store.read() as tx:
        assert tx.records.count() == 0

    code, out, _ = cli("sync", VENDOR, "--once")
    assert code == 0
    assert "sync cycles" in out
    assert VENDOR in out
    with world.store.read() as tx:
        assert tx.records.get("cs_cli_1") is not None

    code, out, _ = cli("status", "--json")
    assert code == 0
    rows = {r["connection"]: r for r in as_json(out)["connections"]}
    assert rows[VENDOR]["state"] == "healthy"
    assert rows[VENDOR]["next_run"] is None
    assert rows[PARTNER_A]["state"] == "never_run"

    code, out, _ = cli("audit", "show", "cs_cli_1", "--json")
    assert code == 0
    events = as_json(out)["events"]
    assert {"field": "name", "new": "CLI direct deal", "direction": "inbound"}.items() <= next(
        e for e in events if e["field"] == "name"
    ).items()
    code, out, _ = cli("audit", "show", "cs_cli_1")
    assert code == 0
    assert "audit trail of cs_cli_1" in out


@pytest.mark.usefixtures("installed")
def test_sync_applies_the_workflow_rules_and_the_customer_aliases(cli_env: World) -> None:
    """``sync --once`` runs the same registration rules as the scheduler: a partner's
    registration is submitted, and the channel-conflict check knows corporate aliases."""
    world = cli_env
    world.vendor.create(Name="Direct platform deal", Channel_Sync_Id__c="cs_cli_direct",
                        Customer_Name__c="Meta Platforms", Amount=5000)
    world.partner_b.create(Name="Partner social deal", Channel_Sync_Register__c=True,
                           Customer_Name__c="Facebook", Amount=7000)
    code, _, err = cli("sync", VENDOR, "--once")
    assert code == 0, err
    code, _, err = cli("sync", PARTNER_B, "--once")
    assert code == 0, err
    with world.store.read() as tx:
        [registered] = [
            r.opportunity for r in tx.records.get_many(
                [c for c in tx.records.ids() if c != "cs_cli_direct"]
            ).values()
        ]
    assert registered.partner_id is not None
    assert registered.registration.channel_conflict is True
    assert "alias" in (registered.registration.conflict_evidence or "")
    assert registered.registration.status.value in {"submitted", "under_review"}


def test_conflicts_list_show_and_resolve(cli_env: World) -> None:
    world = cli_env
    world.partner_a.create(dealname="CLI conflict", channel_sync_id="cs_cli_2",
                           channel_sync_register="true", amount="10",
                           closedate="2026-06-30T00:00:00Z")
    world.sync(2)
    partner = world.partner_a.by_key("cs_cli_2")
    vendor = world.vendor.by_key("cs_cli_2")
    assert partner is not None
    assert vendor is not None
    world.partner_a.update(str(partner["hs_object_id"]), amount="11")
    world.vendor.update(str(vendor["Id"]), Amount=12)
    world.sync(1)

    code, out, _ = cli("conflicts", "list", "--json")
    assert code == 0
    [conflict] = as_json(out)["conflicts"]
    assert conflict["field"] == "amount"
    assert conflict["deal"] == "cs_cli_2"
    assert {s["connection"] for s in conflict["sides"]} == {VENDOR, PARTNER_A}
    code, out, _ = cli("conflicts", "show", str(conflict["id"]))
    assert code == 0
    assert "amount" in out

    code, _, err = cli("conflicts", "resolve", str(conflict["id"]), "--take", "nobody")
    assert code == 2
    assert "--take must be" in err
    code, out, _ = cli("conflicts", "resolve", str(conflict["id"]), "--take", "value=13.5")
    assert code == 0
    assert "13.5" in out
    code, _, err = cli("conflicts", "resolve", str(conflict["id"]), "--take", "vendor")
    assert code == 2
    assert "no open conflict" in err
    world.sync(2)
    partner = world.partner_a.by_key("cs_cli_2")
    vendor = world.vendor.by_key("cs_cli_2")
    assert partner is not None
    assert partner["amount"] == "13.5"
    assert vendor is not None
    assert vendor["Amount"] == 13.5
    code, out, _ = cli("conflicts", "list")
    assert code == 0
    assert "0 open conflict(s)" in out


def test_bad_arguments_exit_2_without_a_traceback(cli_env: World, tmp_path: Path) -> None:
    code, _, err = cli("sync")
    assert code == 2
    assert "--once" in err
    code, _, err = cli("conflicts", "show", "999")
    assert code == 2
    assert "no conflict 999" in err
    result = runner.invoke(root_app, ["status", "--project", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "Traceback" not in result.stdout + result.stderr
