"""``channel-sync sandbox serve`` as users run it: a real process, one JSON line, signals."""

from __future__ import annotations

import json
import re
import select
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import typer
from typer.testing import CliRunner

from channel_sync.cli import sandbox as sandbox_cli

ENTRY = "from channel_sync.cli.app import main; main()"


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", ENTRY, "sandbox", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def first_line(proc: subprocess.Popen[str], timeout: float = 60) -> dict[str, Any]:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "no JSON line from sandbox serve"
    line = proc.stdout.readline()
    assert line, f"sandbox serve ended early: {proc.stderr.read() if proc.stderr else ''}"
    result: dict[str, Any] = json.loads(line)
    return result


def stop(proc: subprocess.Popen[str], sig: int) -> tuple[int, str, str]:
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any], Path]]:
    """A running ``sandbox serve`` whose env file existed before with a looser mode."""
    env_file = tmp_path / "sandbox.env"
    env_file.write_text("OLD=1\n")
    env_file.chmod(0o644)
    proc = start(
        "--instances",
        "vendor:salesforce,partner-a:hubspot",
        "--deals",
        "3",
        "--env-file",
        str(env_file),
    )
    try:
        yield proc, first_line(proc), env_file
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)


def test_serve_prints_reachable_instances_and_stops_on_sigterm(
    served: tuple[subprocess.Popen[str], dict[str, Any], Path],
) -> None:
    proc, info, env_file = served
    vendor, partner = info["instances"]
    check_env_file(env_file, vendor, partner)
    assert set(vendor) == {
        "name",
        "kind",
        "instance_url",
        "access_token",
        "ca_bundle",
        "control_url",
        "client_id",
        "client_secret",
    }
    assert (vendor["name"], vendor["kind"]) == ("vendor", "salesforce")
    assert re.fullmatch(r"https://127\.0\.0\.1:\d+", vendor["instance_url"])
    assert vendor["control_url"] == vendor["instance_url"] + "/__sandbox"
    assert Path(vendor["ca_bundle"]).is_absolute()
    assert set(partner) == {"name", "kind", "host", "access_token", "control_url"}
    assert (partner["name"], partner["kind"]) == ("partner-a", "hubspot")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", partner["host"])

    ca = vendor["ca_bundle"]
    assert requests.get(vendor["control_url"] + "/info", verify=ca, timeout=10).json()["name"] == (
        "vendor"
    )
    snapshot = requests.get(vendor["control_url"] + "/snapshot", verify=ca, timeout=10).json()
    assert len(snapshot["Opportunity"]) == 3
    query = requests.get(
        vendor["instance_url"] + "/services/data/v59.0/query",
        params={"q": "SELECT Id FROM Opportunity"},
        headers={"Authorization": f"Bearer {vendor['access_token']}"},
        verify=ca,
        timeout=10,
    )
    assert query.status_code == 200
    assert query.json()["totalSize"] == 3
    token = requests.post(
        vendor["instance_url"] + "/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(vendor["client_id"], vendor["client_secret"]),
        verify=ca,
        timeout=10,
    )
    assert token.status_code == 200
    assert token.json()["access_token"]

    deals = requests.get(
        partner["host"] + "/crm/v3/objects/deals",
        params={"limit": 10},
        headers={"Authorization": f"Bearer {partner['access_token']}"},
        timeout=10,
    )
    assert deals.status_code == 200
    assert len(deals.json()["results"]) == 3

    code, out, err = stop(proc, signal.SIGTERM)
    assert code == 0
    assert out == ""
    assert "Traceback" not in err


def check_env_file(env_file: Path, vendor: dict[str, Any], partner: dict[str, Any]) -> None:
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    lines = env_file.read_text().splitlines()
    assert dict(line.split("=", 1) for line in lines) == {
        "VENDOR_SF_INSTANCE_URL": vendor["instance_url"],
        "VENDOR_SF_CLIENT_ID": vendor["client_id"],
        "VENDOR_SF_CLIENT_SECRET": vendor["client_secret"],
        "VENDOR_SF_CA_BUNDLE": vendor["ca_bundle"],
        "PARTNER_A_HUBSPOT_URL": partner["host"],
        "PARTNER_A_HUBSPOT_TOKEN": partner["access_token"],
    }


def test_sigint_also_stops_cleanly() -> None:
    proc = start("--instances", "solo:hubspot")
    try:
        info = first_line(proc)
        (solo,) = info["instances"]
        assert requests.get(solo["control_url"] + "/info", timeout=10).status_code == 200
        code, out, err = stop(proc, signal.SIGINT)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0
    assert out == ""
    assert "Traceback" not in err


def flat(text: str) -> str:
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@pytest.mark.parametrize(
    ("instances", "message"),
    [
        ("vendor:oracle", "unknown kind 'oracle' for 'vendor'"),
        ("a:hubspot,a:salesforce", "instance name 'a' is used twice"),
        ("a-b:hubspot,a_b:hubspot", "clashes with another one"),
        ("vendor", "'vendor' is not name:kind"),
        ("vendor:salesforce,", "expected name:kind"),
        ("1st:hubspot", "must start with a letter"),
    ],
)
def test_bad_instances_exit_2_with_a_message(instances: str, message: str) -> None:
    root = typer.Typer()
    sandbox_cli.attach(root)
    result = CliRunner().invoke(root, ["sandbox", "serve", "--instances", instances])
    assert result.exit_code == 2
    assert message in flat(result.output)
    assert "Traceback" not in result.output


def test_bad_option_values_exit_2() -> None:
    root = typer.Typer()
    sandbox_cli.attach(root)
    result = CliRunner().invoke(root, ["sandbox", "serve", "--deals", "-5"])
    assert result.exit_code == 2
    assert "--deals" in flat(result.output)


def test_a_process_with_bad_arguments_exits_2_without_serving() -> None:
    proc = start("--instances", "x:nothing")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert out == ""
    assert "unknown kind 'nothing'" in flat(err)
    assert "Traceback" not in err
