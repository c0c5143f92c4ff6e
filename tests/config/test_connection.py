"""Connection files: the shipped ones, references and their resolution, secrets, the schema."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from channel_sync.config import FileError
from channel_sync.config.connection import (
    Role,
    format_interval,
    load_connection,
    parse_interval,
)
from channel_sync.config.env_refs import read_env_file, reference_name, reference_problem
from channel_sync.config.schema import (
    SCHEMA_FILE_NAME,
    connection_json_schema,
    connection_schema_is_current,
    render_connection_schema,
)

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "connectors"

VENDOR_ENV = {
    "VENDOR_SF_INSTANCE_URL": "https://127.0.0.1:8443",
    "VENDOR_SF_CLIENT_ID": "vendor-client",
    "VENDOR_SF_CLIENT_SECRET": "vendor-s3cret-value",
}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_connection_files_validate() -> None:
    files = {p.name: load_connection(p) for p in sorted(SHIPPED.glob("*.yaml"))}
    assert set(files) == {
        "vendor-salesforce.yaml",
        "partner-a-hubspot.yaml",
        "partner-b-salesforce.yaml",
    }
    vendor = files["vendor-salesforce.yaml"].connection
    assert (vendor.role, vendor.connector, vendor.partner_id) == (Role.VENDOR, "salesforce", None)
    partner_a = files["partner-a-hubspot.yaml"]
    assert partner_a.connection.partner_id == "partner-a"
    assert partner_a.mapping_path == REPO / "mappings" / "partner-hubspot-deal.yaml"
    assert partner_a.connection.schedule.every == timedelta(minutes=5)
    names = {name for entry in files.values() for _, name in entry.references()}
    assert names == {
        "VENDOR_SF_INSTANCE_URL",
        "VENDOR_SF_CLIENT_ID",
        "VENDOR_SF_CLIENT_SECRET",
        "VENDOR_SF_CA_BUNDLE",
        "PARTNER_A_HUBSPOT_URL",
        "PARTNER_A_HUBSPOT_TOKEN",
        "PARTNER_B_SF_INSTANCE_URL",
        "PARTNER_B_SF_CLIENT_ID",
        "PARTNER_B_SF_CLIENT_SECRET",
        "PARTNER_B_SF_CA_BUNDLE",
    }


def test_resolution_keeps_secrets_secret(tmp_path: Path) -> None:
    bundle = write(tmp_path, "ca.pem", "-----BEGIN CERTIFICATE-----\n")
    entry = load_connection(SHIPPED / "vendor-salesforce.yaml")
    resolved = entry.resolve({**VENDOR_ENV, "VENDOR_SF_CA_BUNDLE": str(bundle)})
    assert isinstance(resolved.credentials["client_secret"], SecretStr)
    assert resolved.credentials["client_secret"].get_secret_value() == "vendor-s3cret-value"
    assert resolved.auth == "client_credentials"
    assert resolved.urls == {"instance_url": "https://127.0.0.1:8443", "ca_bundle": str(bundle)}
    for shown in (repr(resolved), str(resolved), repr(entry), repr(resolved.credentials)):
        assert "vendor-s3cret-value" not in shown
        assert "vendor-client" not in shown


def test_resolution_reports_each_missing_or_bad_value_where_it_is_referenced(
    tmp_path: Path,
) -> None:
    entry = load_connection(SHIPPED / "vendor-salesforce.yaml")
    env = {
        "VENDOR_SF_INSTANCE_URL": "not a url",
        "VENDOR_SF_CLIENT_ID": "",
        "VENDOR_SF_CA_BUNDLE": str(tmp_path / "absent.pem"),
    }
    with pytest.raises(FileError) as info:
        entry.resolve(env)
    lines = [line.split("vendor-salesforce.yaml:")[1] for line in str(info.value).splitlines()]
    assert lines == [
        (
            "12:3: credentials.client_id: environment variable VENDOR_SF_CLIENT_ID is not set "
            "(or empty)"
        ),
        (
            "13:3: credentials.client_secret: environment variable VENDOR_SF_CLIENT_SECRET is not "
            "set (or empty)"
        ),
        (
            "15:3: urls.instance_url: 'not a url' (from VENDOR_SF_INSTANCE_URL) is not an http(s) "
            "URL with a host"
        ),
        (
            f"16:3: urls.ca_bundle: file {tmp_path / 'absent.pem'} (from VENDOR_SF_CA_BUNDLE) "
            "not found"
        ),
    ]


def test_literal_urls_are_allowed_and_checked(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "partner-c.yaml",
        "version: 1\nconnector: hubspot\nrole: partner\npartner_id: partner-c\n"
        "mapping: m.yaml\ncredentials:\n  access_token: ${C_TOKEN}\n"
        "urls:\n  host: http://127.0.0.1:8081\n",
    )
    entry = load_connection(path)
    assert entry.connection.name == "partner-c"
    assert entry.references() == [(("credentials", "access_token"), "C_TOKEN")]
    resolved = entry.resolve({"C_TOKEN": "t"})
    assert resolved.urls == {"host": "http://127.0.0.1:8081"}


def test_oauth_hubspot_and_other_salesforce_flows(tmp_path: Path) -> None:
    head = "version: 1\nrole: partner\npartner_id: p\nmapping: m.yaml\n"
    hubspot = write(
        tmp_path,
        "hs.yaml",
        head + "connector: hubspot\ncredentials:\n  client_id: ${A}\n  client_secret: ${B}\n"
        "  refresh_token: ${C}\n",
    )
    assert load_connection(hubspot).connection.connector == "hubspot"
    for auth, keys in {
        "jwt_bearer": ("client_id", "username", "private_key_file"),
        "refresh_token": ("client_id", "refresh_token"),
        "password": ("username", "password", "security_token"),
    }.items():
        creds = "".join(f"  {key}: ${{{key.upper()}}}\n" for key in keys)
        path = write(
            tmp_path,
            f"sf-{auth}.yaml",
            head + f"connector: salesforce\ncredentials:\n  auth: {auth}\n{creds}"
            "urls:\n  instance_url: https://x.my.salesforce.com\n"
            "  login_url: https://test.salesforce.com\n",
        )
        assert load_connection(path).connection.credentials["auth"] == auth


def test_a_connector_known_only_by_name_gets_reference_only_credentials(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "pipedrive.yaml",
        "version: 1\nconnector: pipedrive\nrole: partner\npartner_id: p\nmapping: m.yaml\n"
        "credentials:\n  api_token: ${PD_TOKEN}\n  other: literal\n",
    )
    with pytest.raises(FileError, match="unknown connector 'pipedrive'"):
        load_connection(path)
    with pytest.raises(FileError) as info:
        load_connection(path, connectors={"pipedrive"})
    assert str(info.value).endswith(
        "8:3: credentials.other: a literal secret is not allowed "
        "in a connection file: put the value in an environment "
        "variable and write its name as ${ENV_NAME}"
    )


def test_every_problem_of_both_stages_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        "version: 1\nconnector: hubspot\nrole: vendor\npartner_id: x\nmapping: m.yaml\n"
        "schedule: {every: 1s}\ncredentials:\n  access_token: hunter2hunter2\n  colour: red\n",
    )
    with pytest.raises(FileError) as info:
        load_connection(path)
    assert [(p.line, p.field) for p in info.value.problems] == [
        (4, "partner_id"),
        (6, "schedule.every"),
        (8, "credentials.access_token"),
        (9, "credentials"),
    ]
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10s", 10), ("30s", 30), ("5m", 300), ("1h", 3600), ("2d", 172800), ("90s", 90)],
)
def test_intervals(text: str, expected: int) -> None:
    assert parse_interval(text) == timedelta(seconds=expected)
    assert parse_interval(format_interval(parse_interval(text))) == timedelta(seconds=expected)


@pytest.mark.parametrize("text", ["9s", "0m", "5", "5 m", "1w", "-5m", "05m", ""])
def test_bad_intervals(text: str) -> None:
    with pytest.raises(ValueError, match="interval"):
        parse_interval(text)


@pytest.mark.parametrize(
    ("value", "name", "fragment"),
    [
        ("${PARTNER_A_TOKEN}", "PARTNER_A_TOKEN", None),
        ("${_X1}", "_X1", None),
        ("${partner_a}", None, "e.g. ${PARTNER_A}"),
        ("$PARTNER_A", None, "with braces: ${PARTNER_A}"),
        ("$secretPassword", None, "a literal secret is not allowed"),
        ("${}", None, "empty reference"),
        ("${A${B}}", None, "nested references"),
        ("${1ABC}", None, "invalid environment variable name"),
        ("x ${A}", None, "must be the whole value"),
        ("hunter2", None, "a literal secret is not allowed"),
        (12345, None, "not a literal value"),
        (None, None, "not a literal value"),
    ],
)
def test_reference_syntax(value: object, name: str | None, fragment: str | None) -> None:
    assert reference_name(value) == name
    problem = reference_problem(value)
    if fragment is None:
        assert problem is None
    else:
        assert problem is not None
        assert fragment in problem
        assert "ecretPassword" not in problem
        assert "hunter2" not in problem


def test_env_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sandbox.env",
        "# written by the sandbox\n\nA=1\nexport B = two words\nC='quoted # not a comment'\n"
        'D="x=y"\nE=\n',
    )
    assert read_env_file(path).values == {
        "A": "1",
        "B": "two words",
        "C": "quoted # not a comment",
        "D": "x=y",
        "E": "",
    }
    bad = write(tmp_path, "bad.env", "A=1\nthis is not an assignment\n")
    with pytest.raises(FileError) as info:
        read_env_file(bad)
    assert str(info.value) == f"{bad}:2:1: expected KEY=VALUE (a variable name, '=', a value)"
    with pytest.raises(FileError, match="not found"):
        read_env_file(tmp_path / "absent.env")


def test_published_schema_is_current() -> None:
    path = SHIPPED / SCHEMA_FILE_NAME
    assert connection_schema_is_current(path), "run: channel-sync config schema"
    assert json.loads(path.read_text()) == connection_json_schema()


def test_schema_describes_per_connector_keys(tmp_path: Path) -> None:
    schema = connection_json_schema()
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"version", "connector", "role", "mapping"}
    branches = {b["if"]["properties"]["connector"]["const"]: b["then"] for b in schema["allOf"]}
    salesforce = branches["salesforce"]["properties"]
    assert salesforce["credentials"]["additionalProperties"] is False
    assert "client_credentials" in salesforce["credentials"]["properties"]["auth"]["enum"]
    assert salesforce["urls"]["required"] == ["instance_url"]
    hubspot = branches["hubspot"]["properties"]["credentials"]["properties"]
    assert hubspot["access_token"]["anyOf"][0]["pattern"] == r"^\$\{[A-Z_][A-Z0-9_]*\}$"
    assert "$defs" not in json.dumps(branches)
    stale = write(tmp_path, SCHEMA_FILE_NAME, "{}")
    assert not connection_schema_is_current(stale)
    assert not connection_schema_is_current(tmp_path / "absent.json")
    assert render_connection_schema().endswith("}\n")
