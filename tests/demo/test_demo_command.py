"""``channel-sync demo --keep`` as a user runs it: from an unrelated directory, in a subprocess,
then the ordinary commands pointed at the sandboxes it leaves running."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CLI = shutil.which("channel-sync", path=str(Path(sys.executable).parent)) or "channel-sync"
DEADLINE_S = 60


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def demo(tmp_path: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANNEL_SYNC_")}
    process = subprocess.Popen(
        [CLI, "demo", "--keep"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait(10)
    if process.stdout is not None:
        process.stdout.close()


def test_demo_keep_hands_the_sandboxes_to_the_ordinary_commands(
    demo: subprocess.Popen[str], tmp_path: Path
) -> None:
    started = time.monotonic()
    assert demo.stdout is not None
    lines: list[str] = []
    status_command = None
    for line in demo.stdout:
        lines.append(line)
        if line.strip().startswith("channel-sync status "):
            status_command = line.strip()
            break
    elapsed = time.monotonic() - started
    output = "".join(lines)
    assert status_command is not None, output
    assert elapsed < DEADLINE_S, f"the demo took {elapsed:.0f} s"
    for expected in (
        "Partners register deals",
        "REG-",
        "Under Review",
        "Expired",
        "kept apart",
        "what the sync did",
    ):
        assert expected in output
    assert "Traceback" not in output
    match = re.search(r"--project (\S+) --env-file (\S+)", status_command)
    assert match is not None
    project, env_file = match.group(1), match.group(2)
    assert Path(project).is_dir()
    assert not Path(project).is_relative_to(tmp_path)  # the store lives in its own temp dir
    assert oct(Path(env_file).stat().st_mode & 0o777) == "0o600"

    status = cli("status", "--json", "--project", project, "--env-file", env_file, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    connections = {c["connection"] for c in json.loads(status.stdout)["connections"]}
    assert connections == {"vendor-salesforce", "partner-a-hubspot", "partner-b-salesforce"}

    pipeline = cli(
        "pipeline",
        "--json",
        "--by",
        "partner",
        "--project",
        project,
        "--env-file",
        env_file,
        cwd=tmp_path,
    )
    assert pipeline.returncode == 0, pipeline.stderr
    report = json.loads(pipeline.stdout)
    assert report["registrations_by_status"]["expired"] == 1
    assert report["registrations_by_status"]["rejected"] == 1
    assert report["registrations_by_status"]["under_review"] >= 1
    assert {g["key"] for g in report["groups"]} == {"partner-a", "partner-b"}

    sync = cli(
        "sync", "--once", "--json", "--project", project, "--env-file", env_file, cwd=tmp_path
    )
    assert sync.returncode == 0, sync.stdout + sync.stderr

    demo.send_signal(signal.SIGINT)
    assert demo.wait(20) == 0
