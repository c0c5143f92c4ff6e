"""``channel-sync config validate`` and ``config schema`` through the command line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from channel_sync.cli import config as config_cli
from channel_sync.config.schema import SCHEMA_FILE_NAME, render_connection_schema

REPO = Path(__file__).resolve().parents[2]


def _app() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        """channel-sync (test root)."""

    config_cli.attach(root)
    return root


APP = _app()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the shipped connectors and mappings."""
    root = tmp_path / "project"
    shutil.copytree(REPO / "connectors", root / "connectors")
    shutil.copytree(REPO / "mappings", root / "mappings")
    return root


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    """What ``channel-sync sandbox serve --env-file`` writes for the three shipped instances."""
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    path = tmp_path / "sandbox.env"
    path.write_text(
        "VENDOR_SF_INSTANCE_URL=https://127.0.0.1:18443\n"
        "VENDOR_SF_CLIENT_ID=vendor-client-id\n"
        "VENDOR_SF_CLIENT_SECRET=vendor-client-s3cret\n"
        f"VENDOR_SF_CA_BUNDLE={bundle}\n"
        "PARTNER_A_HUBSPOT_URL=http://127.0.0.1:18081\n"
        "PARTNER_A_HUBSPOT_TOKEN=partner-a-t0ken\n"
        "PARTNER_B_SF_INSTANCE_URL=https://127.0.0.1:18444\n"
        "PARTNER_B_SF_CLIENT_ID=partner-b-client-id\n"
        "PARTNER_B_SF_CLIENT_SECRET=partner-b-client-s3cret\n"
        f"PARTNER_B_SF_CA_BUNDLE={bundle}\n"
    )
    return path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(APP, ["config", *args])
    return result.exit_code, result.stdout, result.stderr


def test_the_shipped_project_is_valid_with_the_sandbox_environment(
    project: Path, env_file: Path
) -> None:
    code, out, err = invoke("validate", "--project", str(project), "--env-file", str(env_file))
    assert code == 0, err
    assert err == ""
    assert "3 connection(s) valid" in out
    for name in ("vendor-salesforce", "partner-a-hubspot", "partner-b-salesforce"):
        assert name in out
    assert "4/4 set" in out
    for secret in ("vendor-client-s3cret", "partner-a-t0ken", "partner-b-client-s3cret"):
        assert secret not in out


def test_every_problem_goes_to_stderr_with_exit_2(project: Path, env_file: Path) -> None:
    hubspot = project / "connectors" / "partner-a-hubspot.yaml"
    hubspot.write_text(hubspot.read_text().replace("every: 5m", "every: 5s"))
    (project / "mappings" / "vendor-salesforce-opportunity.yaml").unlink()
    env_file.write_text(env_file.read_text().replace("PARTNER_B_SF_CLIENT_ID=", "UNUSED="))
    code, out, err = invoke("validate", "--project", str(project), "--env-file", str(env_file))
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 4
    assert lines[0].endswith(
        "partner-a-hubspot.yaml:9:3: schedule.every: interval 5s is too short; the minimum is 10s"
    )
    assert lines[1].endswith(
        "partner-b-salesforce.yaml:12:3: credentials.client_id: environment variable "
        "PARTNER_B_SF_CLIENT_ID is not set (or empty)"
    )
    assert "vendor-salesforce.yaml:7:1: mapping: mapping file" in lines[2]
    assert lines[3] == "3 problems in 3 file(s)"
    assert "Traceback" not in out + err
    assert "partner-b-salesforce" in out


def test_a_broken_env_file_is_a_located_problem(project: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.env"
    bad.write_text("OK=1\nnot an assignment\n")
    code, _, err = invoke("validate", "--project", str(project), "--env-file", str(bad))
    assert code == 2
    assert f"{bad.name}:2:1: expected KEY=VALUE" in err


def test_the_customer_aliases_file_is_checked_too(project: Path, env_file: Path) -> None:
    aliases = project / "customers" / "aliases.yaml"
    aliases.parent.mkdir()
    aliases.write_text("version: 1\nfamilies:\n  - name: Kestrel Foods\n    colour: blue\n")
    code, out, err = invoke("validate", "--project", str(project), "--env-file", str(env_file))
    assert code == 2
    assert "aliases.yaml:4:5: families[0]" in err
    assert "colour" in err
    assert "Traceback" not in out + err
    shutil.copy(REPO / "customers" / "aliases.yaml", aliases)
    code, _, err = invoke("validate", "--project", str(project), "--env-file", str(env_file))
    assert code == 0, err


def test_a_directory_that_is_not_a_project(tmp_path: Path) -> None:
    code, _, err = invoke("validate", "--project", str(tmp_path))
    assert code == 2
    assert "no connectors/ directory" in err


def test_schema_write_and_check(project: Path) -> None:
    path = project / "connectors" / SCHEMA_FILE_NAME
    path.write_text("{}\n")
    code, _, err = invoke("schema", "--project", str(project), "--check")
    assert code == 1
    assert "is stale" in err
    code, out, _ = invoke("schema", "--project", str(project))
    assert code == 0
    assert "wrote" in out
    assert path.read_text() == render_connection_schema()
    code, out, _ = invoke("schema", "--project", str(project), "--check")
    assert (code, "is current" in out) == (0, True)
