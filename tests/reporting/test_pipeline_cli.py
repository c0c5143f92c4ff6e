"""``channel-sync pipeline`` over a project's store."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

import channel_sync.demo
from channel_sync.cli.app import app
from channel_sync.cli.register import attach
from channel_sync.clock import utcnow
from channel_sync.model import Opportunity
from channel_sync.store import open_store

attach(app)
runner = CliRunner()


DEMO_PROJECT = Path(channel_sync.demo.__file__).parent / "project"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(DEMO_PROJECT, tmp_path, dirs_exist_ok=True)
    (tmp_path / ".channel-sync").mkdir()
    store = open_store(f"sqlite:///{tmp_path / '.channel-sync' / 'state.db'}")
    now = utcnow()
    deals = [
        {
            "id": "a1",
            "partner_id": "partner-a",
            "amount": Decimal("100"),
            "currency_code": "EUR",
            "registration": {
                "status": "approved",
                "submitted_at": now - timedelta(days=2),
                "decided_at": now - timedelta(days=1),
                "expires_at": now + timedelta(days=3),
                "registration_number": "REG-2026-000001",
            },
        },
        {
            "id": "b1",
            "partner_id": "partner-b",
            "amount": Decimal("40"),
            "currency_code": "USD",
            "registration": {
                "status": "rejected",
                "submitted_at": now - timedelta(days=3),
                "decided_at": now - timedelta(days=2),
            },
        },
        {"id": "v1", "partner_id": None, "amount": Decimal("5")},
    ]
    with store.transaction() as tx:
        for data in deals:
            tx.records.insert(Opportunity.model_validate({"name": data["id"], **data}))
    store.dispose()
    return tmp_path


def test_json_by_partner(project: Path) -> None:
    result = runner.invoke(
        app,
        [
            "pipeline",
            "--project",
            str(project),
            "--by",
            "partner",
            "--json",
            "--expiring-days",
            "7",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {g["key"]: g["amounts"] for g in data["groups"]} == {
        "partner-a": {"EUR": "100"},
        "partner-b": {"USD": "40"},
    }
    assert data["approval_rate"] == 0.5
    assert data["median_time_to_decision_seconds"] == 86400
    assert [e["registration_number"] for e in data["expiring"]] == ["REG-2026-000001"]


def test_csv_and_tables(project: Path) -> None:
    result = runner.invoke(app, ["pipeline", "--project", str(project), "--csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {(r["key"], r["deals"]) for r in rows if r["section"] == "status"} == {
        ("approved", "1"),
        ("rejected", "1"),
    }
    tables = runner.invoke(app, ["pipeline", "--project", str(project)])
    assert tables.exit_code == 0, tables.output
    assert "registrations by status" in tables.stdout
    assert "50% (1/2)" in tables.stdout


@pytest.mark.parametrize(
    "args", [["--json", "--csv"], ["--by", "colour"], ["--expiring-days", "-1"]]
)
def test_bad_arguments_exit_2_without_a_traceback(project: Path, args: list[str]) -> None:
    result = runner.invoke(app, ["pipeline", "--project", str(project), *args])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
