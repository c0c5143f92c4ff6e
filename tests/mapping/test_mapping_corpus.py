"""Every file in tests/corpus/mappings is refused: exit 2, file, line, message, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from channel_sync.cli import mappings
from channel_sync.config import load_document

from .helpers import CORPUS

MANIFEST: dict[str, Any] = load_document(CORPUS / "EXPECTED.yaml").data["cases"]
CASES = sorted(MANIFEST)

app = typer.Typer()
mappings.attach(app)


def test_manifest_lists_every_corpus_file() -> None:
    files = {p.name for p in CORPUS.glob("*.yaml")} - {"EXPECTED.yaml"}
    assert files == set(MANIFEST)


@pytest.mark.parametrize("name", CASES)
def test_corpus_file_is_refused_with_a_located_message(name: str) -> None:
    expected = MANIFEST[name]
    path = CORPUS / name
    result = CliRunner().invoke(app, ["mappings", "validate", str(path)])
    assert result.exit_code == 2, result.stdout + result.stderr
    assert isinstance(result.exception, SystemExit)
    err = result.stderr
    assert "Traceback" not in err + result.stdout
    lines = [line for line in err.splitlines() if line.startswith(f"{path}:")]
    assert lines, err
    located = [line for line in lines if line.startswith(f"{path}:{expected['line']}:")]
    assert any(expected["fragment"] in line for line in located), err


def test_the_installed_command_refuses_the_whole_corpus() -> None:
    script = Path(sys.executable).parent / "channel-sync"
    files = [str(CORPUS / name) for name in CASES]
    done = subprocess.run(
        [str(script), "mappings", "validate", *files],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    for name in CASES:
        assert f"{CORPUS / name}:{MANIFEST[name]['line']}:" in done.stderr, name
    assert f"{len(CASES)} of {len(CASES)} mapping file(s) invalid" in done.stderr
