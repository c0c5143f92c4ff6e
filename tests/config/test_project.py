"""Projects: cross-file rules, mapping references, environment references."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from channel_sync.config import FileError, load_document
from channel_sync.config.check import check_environment, check_project, mapping_connector
from channel_sync.config.project import Project

REPO = Path(__file__).resolve().parents[2]

FULL_ENV = {
    "VENDOR_SF_INSTANCE_URL": "https://127.0.0.1:8443",
    "VENDOR_SF_CLIENT_ID": "v-id",
    "VENDOR_SF_CLIENT_SECRET": "v-secret",
    "PARTNER_A_HUBSPOT_URL": "http://127.0.0.1:8081",
    "PARTNER_A_HUBSPOT_TOKEN": "a-token",
    "PARTNER_B_SF_INSTANCE_URL": "https://127.0.0.1:8444",
    "PARTNER_B_SF_CLIENT_ID": "b-id",
    "PARTNER_B_SF_CLIENT_SECRET": "b-secret",
}
MAPPINGS = {
    "vendor-salesforce-opportunity.yaml": "salesforce",
    "partner-hubspot-deal.yaml": "hubspot",
    "partner-salesforce-opportunity.yaml": "salesforce",
}


@dataclass(frozen=True)
class _Spec:
    connector: str


@dataclass(frozen=True)
class _Mapping:
    spec: _Spec


def read_connector_of(path: Path) -> _Mapping:
    """A minimal mapping loader: the real YAML loader, and the ``connector:`` key."""
    doc = load_document(path)
    return _Mapping(_Spec(str(doc.data["connector"])))


def make_project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "project"
    shutil.copytree(REPO / "connectors", root / "connectors")
    (root / "mappings").mkdir()
    for name, connector in MAPPINGS.items():
        (root / "mappings" / name).write_text(f"version: 1\nconnector: {connector}\n")
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    env = {**FULL_ENV, "VENDOR_SF_CA_BUNDLE": str(bundle), "PARTNER_B_SF_CA_BUNDLE": str(bundle)}
    return root, env


def test_the_shipped_project_loads() -> None:
    project = Project.load(REPO)
    assert project.vendor.connection.name == "vendor-salesforce"
    assert sorted(p.connection.partner_id or "" for p in project.partners) == [
        "partner-a",
        "partner-b",
    ]
    assert project.connection("partner-a-hubspot").connection.connector == "hubspot"
    with pytest.raises(FileError, match="no connection named 'nope'"):
        project.connection("nope")


def test_a_sound_project_checks_clean(tmp_path: Path) -> None:
    root, env = make_project(tmp_path)
    report = check_project(root, env=env, load_mapping=read_connector_of)
    assert report.ok, [str(p) for p in report.problems]
    assert [(s.mapping_ok, s.references_set, s.references) for s in report.statuses] == [
        (True, 2, 2),
        (True, 4, 4),
        (True, 4, 4),
    ]


def test_cross_file_rules(tmp_path: Path) -> None:
    root, _ = make_project(tmp_path)
    connectors = root / "connectors"
    text = (connectors / "partner-a-hubspot.yaml").read_text()
    (connectors / "partner-a-copy.yaml").write_text(text)
    vendor = (connectors / "vendor-salesforce.yaml").read_text()
    (connectors / "vendor-two.yaml").write_text(vendor.replace("name: vendor-salesforce\n", ""))
    with pytest.raises(FileError) as info:
        Project.load(root)
    lines = [line.split("/connectors/")[1] for line in str(info.value).splitlines()]
    assert lines == [
        (
            "partner-a-hubspot.yaml:3:1: name: connection name 'partner-a-hubspot' is already "
            "used by partner-a-copy.yaml"
        ),
        (
            "partner-a-hubspot.yaml:6:1: partner_id: partner_id 'partner-a' is already used by "
            "partner-a-copy.yaml"
        ),
        (
            "vendor-two.yaml:5:1: role: a second vendor connection (the first is "
            "vendor-salesforce.yaml); exactly one is allowed"
        ),
    ]


def test_no_vendor_and_no_files(tmp_path: Path) -> None:
    root, _ = make_project(tmp_path)
    (root / "connectors" / "vendor-salesforce.yaml").unlink()
    with pytest.raises(FileError, match="no vendor connection"):
        Project.load(root)
    for path in (root / "connectors").glob("*.yaml"):
        path.unlink()
    with pytest.raises(FileError, match=r"no connection files \(\*.yaml\) in connectors/"):
        Project.load(root)
    with pytest.raises(FileError, match="no connectors/ directory"):
        Project.load(tmp_path / "elsewhere")


def test_mapping_problems(tmp_path: Path) -> None:
    root, env = make_project(tmp_path)
    (root / "mappings" / "partner-hubspot-deal.yaml").write_text("version: 1\nconnector: sales")
    (root / "mappings" / "partner-salesforce-opportunity.yaml").unlink()
    (root / "mappings" / "vendor-salesforce-opportunity.yaml").write_text("version: 1\nx: *a\n")
    report = check_project(root, env=env, load_mapping=read_connector_of)
    shown = [str(p).split("/project/", 1)[1] for p in report.problems]
    assert shown == [
        (
            "connectors/partner-a-hubspot.yaml:7:1: mapping: mapping ../mappings/partner-hubspot-"
            "deal.yaml is written for connector 'sales', but this connection's connector is "
            "'hubspot'"
        ),
        (
            "connectors/partner-b-salesforce.yaml:7:1: mapping: mapping file ../mappings/partner-"
            f"salesforce-opportunity.yaml not found (looked for {root}/mappings/partner-salesforce-"
            "opportunity.yaml)"
        ),
        (
            "mappings/vendor-salesforce-opportunity.yaml:2:4: x: aliases ('*a') are not allowed; "
            "write the value out in full"
        ),
    ]
    assert [s.mapping_ok for s in report.statuses] == [False, False, False]


def test_a_mapping_shared_by_connections_is_reported_once(tmp_path: Path) -> None:
    root, env = make_project(tmp_path)
    (root / "mappings" / "vendor-salesforce-opportunity.yaml").write_text("version: 1\na: *x\n")
    partner_b = root / "connectors" / "partner-b-salesforce.yaml"
    partner_b.write_text(
        partner_b.read_text().replace(
            "partner-salesforce-opportunity", "vendor-salesforce-opportunity"
        )
    )
    report = check_project(root, env=env, load_mapping=read_connector_of)
    assert len(report.problems) == 1


def test_environment_problems(tmp_path: Path) -> None:
    root, env = make_project(tmp_path)
    del env["PARTNER_A_HUBSPOT_TOKEN"]
    env["PARTNER_B_SF_INSTANCE_URL"] = "ftp://x"
    report = check_project(root, env=env, load_mapping=read_connector_of)
    assert [(p.file.name, p.line, p.field) for p in report.problems] == [
        ("partner-a-hubspot.yaml", 11, "credentials.access_token"),
        ("partner-b-salesforce.yaml", 15, "urls.instance_url"),
    ]
    assert report.statuses[0].references_set == 1


def test_environment_sources(tmp_path: Path) -> None:
    env_file = tmp_path / "sandbox.env"
    env_file.write_text("A=from-file\nB=from-file\n")
    merged, problems = check_environment(env_file, environ={"B": "from-process"})
    assert problems == []
    assert merged == {"A": "from-file", "B": "from-process"}
    merged, problems = check_environment(tmp_path / "absent.env", environ={})
    assert merged == {}
    assert "environment file not found" in str(problems[0])


def test_mapping_connector_reads_either_shape() -> None:
    assert mapping_connector(_Mapping(_Spec("hubspot"))) == "hubspot"
    assert mapping_connector(_Spec("salesforce")) == "salesforce"
    assert mapping_connector(object()) is None
