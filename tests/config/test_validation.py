"""Validation against pydantic models: admin-worded, located problems; versions and migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, field_validator

from channel_sync.config import (
    Document,
    FileError,
    MigrationRegistry,
    check_version,
    parse_document,
    problem_at,
    validate,
)
from channel_sync.config.migrations import default_registry

PATH = Path("mappings/m.yaml")


class Size(BaseModel):
    model_config = ConfigDict(extra="forbid")

    width: int
    height: int = 1


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")

    color: str
    size: Size | None = None
    tags: list[str] = []

    @field_validator("color")
    @classmethod
    def _no_grey(cls, value: str) -> str:
        if value == "grey":
            msg = "grey is not a colour we stock"
            raise ValueError(msg)
        return value


class Top(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    role: Literal["vendor", "partner"]
    items: list[Item]
    secrets: dict[str, str] = {}
    enabled: bool = True


def doc_of(text: str) -> Document:
    return parse_document(text.encode(), PATH)


def problems(text: str, model: type[BaseModel] = Top, **kwargs: Any) -> list[str]:
    with pytest.raises(FileError) as info:
        validate(doc_of(text), model, **kwargs)
    return str(info.value).splitlines()


def test_valid_document_gives_the_model() -> None:
    top = validate(doc_of("version: 1\nrole: vendor\nitems:\n  - color: red\n"), Top)
    assert top.items[0].color == "red"
    assert top.enabled is True


def test_messages_are_located_and_worded_for_an_admin() -> None:
    lines = problems(
        "version: 1\n"
        "role: boss\n"
        "items:\n"
        "  - color: red\n"
        "    colour: blue\n"
        "  - color: 3\n"
        "    size: {width: wide, hieght: 2}\n"
        "  - color: grey\n"
        "    tags: notalist\n"
        "enabled: maybe\n"
        "extra: 1\n"
    )
    assert lines == [
        "mappings/m.yaml:2:1: role: expected one of 'vendor' or 'partner', got 'boss'",
        (
            "mappings/m.yaml:5:5: items[0]: unknown key 'colour' (did you mean 'color'? "
            "allowed: color, size, tags)"
        ),
        "mappings/m.yaml:6:5: items[1].color: expected text, got 3",
        "mappings/m.yaml:7:12: items[1].size.width: expected an integer, got 'wide'",
        (
            "mappings/m.yaml:7:25: items[1].size: unknown key 'hieght' (did you mean 'height'? "
            "allowed: width, height)"
        ),
        "mappings/m.yaml:8:5: items[2].color: grey is not a colour we stock",
        "mappings/m.yaml:9:5: items[2].tags: expected a list, got 'notalist'",
        "mappings/m.yaml:10:1: enabled: expected true or false, got 'maybe'",
        (
            "mappings/m.yaml:11:1: unknown key 'extra' (allowed: version, role, items, secrets, "
            "enabled)"
        ),
    ]


def test_missing_keys_point_at_the_parent() -> None:
    lines = problems("version: 1\nitems:\n  - size: {width: 2}\n")
    assert lines == [
        "mappings/m.yaml:1:1: missing required key 'role'",
        "mappings/m.yaml:3:5: items[0]: missing required key 'color'",
    ]


def test_values_under_secret_looking_keys_are_never_echoed() -> None:
    lines = problems("version: 1\nrole: vendor\nitems: []\nsecrets:\n  token: 123456789\n")
    assert lines == ["mappings/m.yaml:5:3: secrets.token: expected text"]


def test_long_values_are_shortened() -> None:
    lines = problems("version: 1\nrole: " + "x" * 500 + "\nitems: []\n")
    assert len(lines[0]) < 200
    assert lines[0].endswith("...'")


def test_validate_a_part_of_the_document() -> None:
    doc = doc_of("version: 1\nsection:\n  width: 3\n  depth: 2\n")
    with pytest.raises(FileError) as info:
        validate(doc, Size, at=("section",))
    assert str(info.value) == (
        "mappings/m.yaml:4:3: section: unknown key 'depth' (allowed: width, height)"
    )
    assert validate(doc_of("a: 1\nsection:\n  width: 3\n"), Size, at=["section"]).width == 3
    with pytest.raises(FileError) as info:
        validate(doc_of("a: 1\n"), Size, at=("section",))
    assert str(info.value) == "mappings/m.yaml:1:1: section: missing required key 'width'"


def test_context_reaches_validators() -> None:
    class Needs(BaseModel):
        kind: str

        @field_validator("kind")
        @classmethod
        def _known(cls, value: str, info: Any) -> str:
            if value not in info.context["known"]:
                msg = f"unknown kind {value!r}"
                raise ValueError(msg)
            return value

    assert validate(doc_of("kind: a\n"), Needs, context={"known": {"a"}}).kind == "a"
    with pytest.raises(FileError, match="unknown kind 'b'"):
        validate(doc_of("kind: b\n"), Needs, context={"known": {"a"}})


def test_problem_at_for_semantic_checks() -> None:
    doc = doc_of("fields:\n  - local: stage\n    remote: StageName\n")
    problem = problem_at(doc, ["fields", 0, "remote"], "StageName is mapped twice")
    assert str(problem) == "mappings/m.yaml:3:5: fields[0].remote: StageName is mapped twice"
    missing = problem_at(doc, ["fields", 0, "map"], "a value map is needed")
    assert (missing.line, missing.column, missing.field) == (2, 5, "fields[0].map")


# --- versions and migrations ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a: 1\nb: 2\n", 1, "missing required key 'version'; supported widget versions: 1, 2"),
        ("a: 1\nversion: '2'\n", 2, "version must be a whole number, got '2'"),
        ("version: true\n", 1, "version must be a whole number, got true"),
        ("version: 2.5\n", 1, "version must be a whole number, got 2.5"),
        ("version: 9\n", 1, "unsupported widget version 9: it is newer than this release"),
        ("version: 0\n", 1, "unsupported widget version 0: it is no longer supported"),
    ],
)
def test_version_problems(text: str, line: int, fragment: str) -> None:
    with pytest.raises(FileError) as info:
        check_version(doc_of(text), kind="widget", supported={1, 2})
    problem = info.value.problems[0]
    assert problem.line == line
    assert problem.field == "version"
    assert fragment in problem.message
    assert "supported widget versions: 1, 2" in problem.message


def test_supported_version_passes_untouched() -> None:
    doc = doc_of("version: 2\nname: x\n")
    assert check_version(doc, kind="widget", supported={1, 2}) == 2
    assert doc.migrated_from is None


def test_older_versions_migrate_through_named_steps() -> None:
    registry = MigrationRegistry()

    @registry.register("widget", 1)
    def rename_colour_to_color(data: dict[str, Any]) -> dict[str, Any]:
        data["color"] = data.pop("colour")
        return data

    @registry.register("widget", 2)
    def split_size(data: dict[str, Any]) -> dict[str, Any]:
        width, height = data.pop("size").split("x")
        data["size"] = {"width": int(width), "height": int(height)}
        return data

    doc = doc_of("version: 1\ncolour: red\nsize: 2x3\n")
    original = dict(doc.data)
    assert check_version(doc, kind="widget", supported={3}, migrations=registry) == 3
    assert doc.data == {"version": 3, "color": "red", "size": {"width": 2, "height": 3}}
    assert doc.migrated_from == 1
    assert original["colour"] == "red"
    assert registry.get("widget", 1) is not None
    assert registry.get("widget", 1).name == "rename_colour_to_color"  # type: ignore[union-attr]


def test_a_missing_step_refuses_the_file() -> None:
    registry = MigrationRegistry()

    @registry.register("widget", 2)
    def noop(data: dict[str, Any]) -> dict[str, Any]:
        return data

    with pytest.raises(FileError, match="no migration exists"):
        check_version(doc_of("version: 1\n"), kind="widget", supported={3}, migrations=registry)


def test_a_step_cannot_be_registered_twice() -> None:
    registry = MigrationRegistry()
    registry.register("widget", 1)(lambda data: data)
    with pytest.raises(ValueError, match="exists"):
        registry.register("widget", 1)(lambda data: data)


def test_no_migrations_are_registered_for_version_1_files() -> None:
    assert default_registry.get("connection", 0) is None
    assert default_registry.get("mapping", 0) is None
