"""``channel-sync match-customers``: JSON lines out, bad files refused with file:line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from channel_sync.cli import match

root_app = typer.Typer()


@root_app.callback()
def _root() -> None:
    """A group, as in the real app, so the command keeps its name."""


match.attach(root_app)
runner = CliRunner()
HEADER = "name_a,domain_a,name_b,domain_b"
REPO = Path(__file__).resolve().parents[2]


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(root_app, ["match-customers", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, text: str | bytes, name: str = "pairs.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_one_json_line_per_pair_in_file_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"{HEADER},label\n"
        "Acme Corp,,ACME Corporation,,1\n"
        "Alphabet,google.com,Google LLC,www.google.com,1\n"
        "\n"
        "Acme Analytics,,Acme Logistics,,0\n"
        '"Toyota Motor Co., Ltd.",,Toyota Motor Corporation,,1\n',
    )
    code, out, err = cli(str(path))
    assert (code, err) == (0, "")
    assert lines(out) == [
        {"row": 1, "match": True, "score": 1.0, "reason": "name"},
        {"row": 2, "match": True, "score": 1.0, "reason": "domain"},
        {"row": 3, "match": False, "score": 0.7, "reason": "none"},
        {"row": 4, "match": True, "score": 1.0, "reason": "name"},
    ]


def test_threshold_and_explain_options(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\nGoldman Sachs,,Goldman Sacks,\n")
    assert lines(cli(str(path))[1])[0]["match"] is True
    code, out, _ = cli(str(path), "--threshold", "0.99", "--explain")
    assert code == 0
    (line,) = lines(out)
    assert line["match"] is False
    assert "below the 0.99 threshold" in str(line["evidence"])
    assert cli(str(path), "--threshold", "1.5")[0] == 2


def test_columns_may_come_in_any_order_and_extra_columns_are_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "label,name_b,domain_b,note,name_a,domain_a\n1,Acme,,x,Acme Inc,\n")
    code, out, _ = cli(str(path))
    assert (code, lines(out)) == (0, [{"row": 1, "match": True, "score": 1.0, "reason": "name"}])


def test_a_utf8_bom_and_crlf_line_ends_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, f"\ufeff{HEADER}\r\nNestlé S.A.,,Nestle,\r\n".encode())
    code, out, _ = cli(str(path))
    assert (code, lines(out)[0]["match"]) == (0, True)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "name_a,name_b,domain_b\nAcme,Acme,\n",
            "pairs.csv:1: header is missing column(s) domain_a",
        ),
        (f"{HEADER}\nAcme,,Acme,\nAcme,,Acme\n", "pairs.csv:3: expected 4 fields, got 3"),
        (f"{HEADER}\nA,,B,\n\n\nA,,B,,,\n", "pairs.csv:5: expected 4 fields, got 6"),
        (f'{HEADER}\n"Acme\nCorp",,Acme,\nA,,B\n', "pairs.csv:4: expected 4 fields, got 3"),
        ("", "pairs.csv:1: empty file"),
        (f"{HEADER},name_a\nA,,B,,C\n", "pairs.csv:1: column 'name_a' appears twice"),
        (f'{HEADER}\n"Acme" Corp,,B,\n', "pairs.csv:2: not valid CSV"),
        (f"{HEADER}\nAcme,,Acme,\nCaf\xe9,,Cafe,\n".encode("latin-1"), "pairs.csv:3: not UTF-8"),
    ],
)
def test_bad_files_exit_2_with_file_and_line(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = write(tmp_path, content)
    code, out, err = cli(str(path))
    assert code == 2
    assert out == ""
    assert err.startswith(str(tmp_path / message))
    assert "Traceback" not in err


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    code, _, err = cli(str(tmp_path / "absent.csv"))
    assert code == 2
    assert err.startswith(f"{tmp_path / 'absent.csv'}: cannot read the file")


def installed(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line, as the console script runs it."""
    return subprocess.run(
        [sys.executable, "-c", "from channel_sync.cli.app import main; main()",
         "match-customers", *args],
        capture_output=True, text=True, check=False, timeout=120, cwd=cwd,
    )


@pytest.mark.parametrize(
    ("options", "reasons"),
    [
        ((), {"alias", "domain", "name", "none"}),
        (("--no-builtin-aliases",), {"domain", "name", "none"}),
    ],
)
def test_the_installed_command_runs_on_the_labelled_set(
    options: tuple[str, ...], reasons: set[str]
) -> None:
    data = Path(__file__).resolve().parent.parent / "data" / "company_pairs.csv"
    proc = installed(str(data), "--project", str(REPO), *options)
    assert proc.returncode == 0, proc.stderr
    rows = lines(proc.stdout)
    assert [r["row"] for r in rows] == list(range(1, len(rows) + 1))
    assert len(rows) >= 300
    assert {r["reason"] for r in rows} == reasons
