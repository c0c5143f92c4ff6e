from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from channel_sync.cli import mappings, register

from .helpers import CORPUS, MAPPINGS, ROOT, SHIPPED, base, shipped_data

root_app = typer.Typer()
mappings.attach(root_app)
runner = CliRunner()


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(root_app, ["mappings", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, name: str, data: dict[str, object]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")  # JSON is YAML
    return path


def test_validate_shipped_mappings() -> None:
    code, out, err = cli("validate", str(MAPPINGS))
    assert (code, err) == (0, "")
    assert out.count("ok ") == len(SHIPPED) == 3
    assert "vendor-salesforce-opportunity.yaml: salesforce Opportunity" in out


def test_test_shipped_mappings() -> None:
    code, out, _ = cli("test", *map(str, SHIPPED))
    assert code == 0, out
    assert "FAIL" not in out
    assert out.count("round-trip fields") == 3


def test_lossy_mapping_fails_the_test_with_a_diff(tmp_path: Path) -> None:
    amount = {"canonical": "amount", "remote": "Amount", "type": "number", "scale": 0,
              "authority": "shared", "on_conflict": "review"}
    path = write(tmp_path, "lossy.yaml", {**base(), "fields": [*base()["fields"], amount]})
    assert cli("validate", str(path))[0] == 0  # valid, but loses data
    code, out, _ = cli("test", str(path))
    assert code == 1
    assert "FAIL" in out
    assert "fields[1] amount <-> Amount does not round-trip" in out
    assert "canonical 1000.5 -> remote 1000 -> canonical 1000: changed" in out


def test_wrong_example_fails_with_a_diff(tmp_path: Path) -> None:
    data = shipped_data("partner-hubspot-deal.yaml")
    data["examples"][2]["canonical"]["stage"] = "negotiation"
    path = write(tmp_path, "hubspot.yaml", data)
    code, out, _ = cli("test", str(path))
    assert code == 1
    assert "examples[2] 'closed-won deal, round trip both ways' (inbound)" in out
    assert "stage: expected 'negotiation', got 'closed_won'" in out
    assert "(outbound)" in out
    assert "dealstage: expected 'closedwon', got 'contractsent'" in out


def test_invalid_files_exit_2_with_every_problem_and_no_traceback(tmp_path: Path) -> None:
    good = MAPPINGS / "partner-hubspot-deal.yaml"
    bad = [CORPUS / "duplicate-remote-field.yaml", CORPUS / "unknown-canonical-path.yaml"]
    for command in ("validate", "test"):
        code, _, err = cli(command, str(good), *map(str, bad))
        assert code == 2
        assert "duplicate-remote-field.yaml:15:5: fields[1].remote:" in err
        assert "unknown-canonical-path.yaml:14:5: fields[1].canonical:" in err
        assert "2 of 3 mapping file(s) invalid" in err
        assert "Traceback" not in err


def test_missing_paths_and_empty_directories_exit_2(tmp_path: Path) -> None:
    code, _, err = cli("validate", str(tmp_path / "nope.yaml"))
    assert code == 2
    assert "nope.yaml: file not found" in err
    code, _, err = cli("validate", str(tmp_path))
    assert code == 2
    assert "no mapping files" in err


def test_explain_shows_fields_directions_authority_and_transforms() -> None:
    code, out, _ = cli("explain", str(MAPPINGS / "vendor-salesforce-opportunity.yaml"))
    assert code == 0
    lines = {line.split("│")[2].strip(): line for line in out.splitlines() if line.count("│") > 6}
    assert "StageName" in lines["stage"]
    assert "shared (review)" in lines["stage"]
    assert "lookup salesforce_stages" in lines["stage"]
    assert "outbound" in lines["partner_id"]
    assert "scale 2 (half_even)" in lines["amount"]
    assert "scope: every record" in out
    code, out, _ = cli("explain", str(MAPPINGS / "partner-hubspot-deal.yaml"))
    expected = '[{"propertyName": "channel_sync_register", "operator": "EQ", "value": "true"}]'
    assert f"scope: {expected}" in out
    assert "constant 'default'" in out


def test_schema_check_passes_in_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, err = cli("schema", "--check")
    assert (code, out, err) == (0, "", "")


def test_schema_writes_and_detects_stale_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("schema", "--check")
    assert code == 1
    assert "mappings/mapping.schema.json is stale or missing" in err
    code, out, _ = cli("schema")
    assert code == 0
    assert "wrote mappings/mapping.schema.json" in out
    schema = json.loads((tmp_path / "mappings" / "mapping.schema.json").read_text())
    assert schema["title"] == "channel-sync mapping"
    assert "fields" in schema["required"]
    assert cli("schema", "--check")[0] == 0
    (tmp_path / "mappings" / "mapping.schema.json").write_text("{}\n")
    assert cli("schema", "--check")[0] == 1


def test_the_real_command_line_has_the_group() -> None:
    app = typer.Typer()
    register.attach(app)
    assert "mappings" in {group.name for group in app.registered_groups}
