"""The bad-input corpus: every file is refused through the real command line, located, with no
traceback and without constructing anything from a tag.

``tests/corpus/yaml/`` holds generic YAML hazards and runs against both loaders (connection files
through ``config validate``, mapping files through ``mappings validate``);
``tests/corpus/connectors/`` holds connection-file mistakes. Each directory's ``EXPECTED.yaml``
gives the line and a message fragment per file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from channel_sync.cli import config as config_cli
from channel_sync.cli import mappings as mappings_cli
from channel_sync.config import load_document
from channel_sync.config.yaml_source import MAX_FILE_BYTES

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
PWNED = Path("/tmp/pwned")  # the path the corpus' os.system payload would touch


def _app() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        """channel-sync (test root)."""

    config_cli.attach(root)
    mappings_cli.attach(root)
    return root


APP = _app()


def _cases(directory: str) -> list[tuple[str, dict[str, Any]]]:
    manifest = load_document(CORPUS / directory / "EXPECTED.yaml").data
    return sorted(manifest["cases"].items())


def _project_with(tmp_path: Path, source: Path, name: str | None = None) -> Path:
    root = tmp_path / "project"
    (root / "connectors").mkdir(parents=True)
    (root / "mappings").mkdir()
    shutil.copyfile(source, root / "connectors" / (name or source.name))
    return root


def _assert_refused(output: str, exit_code: int, name: str, expected: dict[str, Any]) -> None:
    assert exit_code == 2, output
    assert "Traceback" not in output
    line = expected["line"]
    where = rf"{re.escape(name)}:{line}:\d+: " if line is not None else rf"{re.escape(name)}: "
    pattern = where + r".*" + re.escape(expected["fragment"])
    assert re.search(pattern, output), f"no line matching {pattern!r} in:\n{output}"
    for secret in expected.get("absent", []):
        assert secret not in output


def _pwned_stamp() -> float | None:
    return PWNED.stat().st_mtime if PWNED.exists() else None


def test_manifests_cover_every_corpus_file() -> None:
    for directory in ("yaml", "connectors"):
        files = {p.name for p in (CORPUS / directory).iterdir()} - {"EXPECTED.yaml"}
        assert files == {name for name, _ in _cases(directory)}, directory


@pytest.mark.parametrize(("name", "expected"), _cases("connectors"))
def test_connection_corpus(tmp_path: Path, name: str, expected: dict[str, Any]) -> None:
    root = _project_with(tmp_path, CORPUS / "connectors" / name)
    result = CliRunner().invoke(APP, ["config", "validate", "--project", str(root)])
    _assert_refused(result.stdout + result.stderr, result.exit_code, name, expected)


@pytest.mark.parametrize(("name", "expected"), _cases("yaml"))
def test_yaml_corpus_as_connection_file(
    tmp_path: Path, name: str, expected: dict[str, Any]
) -> None:
    before = _pwned_stamp()
    root = _project_with(tmp_path, CORPUS / "yaml" / name)
    result = CliRunner().invoke(APP, ["config", "validate", "--project", str(root)])
    _assert_refused(result.stdout + result.stderr, result.exit_code, name, expected)
    assert _pwned_stamp() == before


@pytest.mark.parametrize(("name", "expected"), _cases("yaml"))
def test_yaml_corpus_as_mapping_file(tmp_path: Path, name: str, expected: dict[str, Any]) -> None:
    before = _pwned_stamp()
    target = tmp_path / name
    shutil.copyfile(CORPUS / "yaml" / name, target)
    result = CliRunner().invoke(APP, ["mappings", "validate", str(target)])
    _assert_refused(result.stdout + result.stderr, result.exit_code, name, expected)
    assert _pwned_stamp() == before


def test_huge_file_is_refused_by_both_loaders(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("w") as out:
        out.write("version: 1\nconnector: hubspot\nnotes:\n")
        line = "  - " + "x" * 76 + "\n"
        out.write(line * (MAX_FILE_BYTES // len(line) + 1))
    expected = {"line": None, "fragment": "the limit for an admin file is 1 MB"}
    root = _project_with(tmp_path, huge)
    result = CliRunner().invoke(APP, ["config", "validate", "--project", str(root)])
    _assert_refused(result.stdout + result.stderr, result.exit_code, "huge.yaml", expected)
    result = CliRunner().invoke(APP, ["mappings", "validate", str(huge)])
    _assert_refused(result.stdout + result.stderr, result.exit_code, "huge.yaml", expected)


def test_python_payloads_never_run_through_the_installed_command(tmp_path: Path) -> None:
    """The real console script in a child process, with the payloads aimed at a fresh path."""
    marker = tmp_path / "pwned"
    root = tmp_path / "project"
    (root / "connectors").mkdir(parents=True)
    for source in sorted((CORPUS / "yaml").glob("python-*.yaml")):
        text = source.read_text().replace(str(PWNED), str(marker))
        (root / "connectors" / source.name).write_text(text)
    script = Path(sys.executable).with_name("channel-sync")
    result = subprocess.run(
        [str(script), "config", "validate", "--project", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.count("is refused: files are data") == 5
    assert not marker.exists()
