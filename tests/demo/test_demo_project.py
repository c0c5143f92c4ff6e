"""The demo carries its own project files; they must stay the shipped ones and load cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from channel_sync.config import Project
from channel_sync.demo.world import INSTANCES, copy_project
from channel_sync.mapping import load_mapping, run_examples
from channel_sync.sandbox.serve import env_prefix

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("folder", ["mappings", "connectors"])
def test_the_packaged_files_are_the_shipped_ones(tmp_path: Path, folder: str) -> None:
    copy_project(tmp_path)
    shipped = {p.name: p.read_bytes() for p in (REPO / folder).iterdir() if p.is_file()}
    packaged = {p.name: p.read_bytes() for p in (tmp_path / folder).iterdir()}
    assert packaged == shipped


def test_the_project_loads_and_its_mappings_pass_their_examples(tmp_path: Path) -> None:
    copy_project(tmp_path)
    project = Project.load(tmp_path)
    assert project.vendor.connection.name == "vendor-salesforce"
    assert {p.connection.partner_id for p in project.partners} == {"partner-a", "partner-b"}
    for entry in project.connections:
        results = run_examples(load_mapping(entry.mapping_path).compiled)
        assert results
        assert all(result.ok for result in results), entry.mapping_path


def test_every_reference_is_one_the_sandbox_env_file_sets(tmp_path: Path) -> None:
    copy_project(tmp_path)
    prefixes = {env_prefix(name) for name, _ in INSTANCES}
    for entry in Project.load(tmp_path).connections:
        for _, name in entry.references():
            assert name.split("_SF_")[0].split("_HUBSPOT_")[0] in prefixes, name


def test_no_partner_mapping_carries_the_conflict_evidence(tmp_path: Path) -> None:
    copy_project(tmp_path)
    for entry in Project.load(tmp_path).partners:
        mapping = load_mapping(entry.mapping_path).compiled
        assert mapping.codecs_for("registration.conflict_evidence") == ()
        assert mapping.codecs_for("registration.channel_conflict") == ()
        assert mapping.codecs_for("partner_id") == ()
