"""Customer alias files: what a good file gives, and bad files refused by the real command line
with ``file:line:col: field: message`` and exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from channel_sync.cli.app import app
from channel_sync.cli.register import attach
from channel_sync.config import FileError
from channel_sync.workflow.matching import (
    AliasFamily,
    CustomerMatcher,
    MatchReason,
    project_alias_table,
    project_aliases_path,
    read_alias_file,
)

REPO = Path(__file__).resolve().parents[2]
HEADER = "version: 1\nfamilies:\n"
PAIRS = "name_a,domain_a,name_b,domain_b\nKestrel Foods,,Kestrel Lebensmittel GmbH,\n"
attach(app)
runner = CliRunner()


def write(folder: Path, text: str, name: str = "aliases.yaml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def match(tmp_path: Path, *options: str) -> tuple[int, str, str]:
    pairs = write(tmp_path, PAIRS, "pairs.csv")
    result = runner.invoke(app, ["match-customers", str(pairs), *options])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_a_good_file_gives_its_families_with_domains_read_as_registered(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "  - name: Kestrel Foods\n"
        + "    aliases: [Kestrel Lebensmittel GmbH, Kestrel Feinkost, Kestrel Feinkost]\n"
        + "    domains: ['https://www.Kestrel-Foods.example/about', jane@eu.kestrel.example]\n"
        + "  - name: Larkspur Medical\n",
    )
    file = read_alias_file(path)
    assert file.builtin is True
    assert file.families == (
        AliasFamily(
            "Kestrel Foods",
            ("Kestrel Lebensmittel GmbH", "Kestrel Feinkost"),
            ("kestrel-foods.example", "kestrel.example"),
        ),
        AliasFamily("Larkspur Medical"),
    )


def test_the_shipped_project_file_loads_and_is_used_by_the_command(tmp_path: Path) -> None:
    path = project_aliases_path(REPO)
    assert path == REPO / "customers" / "aliases.yaml"
    assert read_alias_file(path).families
    matcher = CustomerMatcher(aliases=project_alias_table(REPO))
    result = matcher.compare("Kestrel Foods GmbH", None, "Kestrel Lebensmittel GmbH", None)
    assert result.reason is MatchReason.ALIAS
    code, out, _ = match(tmp_path, "--project", str(REPO))
    assert (code, '"reason": "alias"' in out) == (0, True)
    code, out, _ = match(tmp_path, "--project", str(tmp_path))  # a project without the file
    assert (code, '"reason": "alias"' in out) == (0, False)


def test_aliases_option_and_no_builtin_option(tmp_path: Path) -> None:
    family = "  - name: Kestrel Foods\n    aliases: [Kestrel Lebensmittel]\n"
    path = write(tmp_path, HEADER + family)
    code, out, _ = match(tmp_path, "--aliases", str(path), "--explain")
    assert code == 0
    assert '"alias: Kestrel Foods (' in out
    pairs = write(tmp_path, "name_a,domain_a,name_b,domain_b\nFacebook,,Meta,\n", "meta.csv")
    with_builtin = runner.invoke(app, ["match-customers", str(pairs), "--aliases", str(path)])
    assert '"match": true' in with_builtin.stdout
    without = runner.invoke(
        app, ["match-customers", str(pairs), "--aliases", str(path), "--no-builtin-aliases"]
    )
    assert '"match": false' in without.stdout


BAD_FILES = [
    (
        HEADER + "  - name: Acme\n    colour: red\n",
        "4:5: families[0]: unknown key 'colour' (allowed: name, aliases, domains)",
    ),
    (HEADER + "  - aliases: [Acme Corp]\n", "3:5: families[0]: missing required key 'name'"),
    (HEADER + "  - name: 42\n", "3:5: families[0].name: expected text, got 42"),
    (
        HEADER + '  - name: Acme\n    aliases: [Acme Corp, "--"]\n',
        "4:26: families[0].aliases[1]: '--' has no letters or digits that could name a company",
    ),
    (
        HEADER + "  - name: Acme\n    aliases: Acme Corp\n",
        "4:5: families[0].aliases: expected a list, got 'Acme Corp'",
    ),
    (
        HEADER + "  - name: Acme\n    domains: [acme]\n",
        "4:15: families[0].domains[0]: 'acme' is not a web domain",
    ),
    (
        HEADER + "  - name: Acme\n    domains: [jane@gmail.com]\n",
        "4:15: families[0].domains[0]: gmail.com is a free mail domain",
    ),
    (
        HEADER + "  - name: Acme\n  - name: Bravo\n    aliases: [ACME Inc.]\n",
        (
            "5:15: families[1].aliases[0]: 'ACME Inc.' reads the same as a name listed under "
            "'Acme' (line 3); it can belong to one family only"
        ),
    ),
    (
        HEADER + "  - name: Sony\n  - name: Sony Group Corporation\n",
        (
            "4:5: families[1].name: 'Sony Group Corporation' reads the same as a name listed "
            "under 'Sony' (line 3)"
        ),
    ),
    (
        HEADER + "  - name: Acme\n    domains: [acme.com]\n"
        "  - name: Bravo\n    domains: [www.acme.com]\n",
        "6:15: families[1].domains[0]: domain acme.com is already listed under 'Acme' (line 3)",
    ),
    ("families: []\n", "1:1: version: missing required key 'version'"),
    ("version: 7\nfamilies: []\n", "1:1: version: unsupported customer aliases version 7"),
    ("version: 1\nbuiltin: maybe\n", "2:1: builtin: expected true or false, got 'maybe'"),
    (HEADER + "  - name: [Acme\n", "4:1: YAML syntax error"),
    ("- name: Acme\n", "1:1: the top level must be a mapping"),
]


@pytest.mark.parametrize(("content", "message"), BAD_FILES)
def test_a_bad_alias_file_exits_2_with_its_place(
    tmp_path: Path, content: str, message: str
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(FileError):
        read_alias_file(path)
    code, out, err = match(tmp_path, "--aliases", str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"{path}:{message}")
    assert "Traceback" not in err


def test_a_bad_project_file_is_refused_by_the_installed_command(tmp_path: Path) -> None:
    path = write(tmp_path / "customers", HEADER + "  - name: Acme\n    colour: red\n")
    pairs = write(tmp_path, PAIRS, "pairs.csv")
    proc = subprocess.run(
        [sys.executable, "-c", "from channel_sync.cli.app import main; main()",
         "match-customers", str(pairs)],
        capture_output=True, text=True, check=False, timeout=120, cwd=tmp_path,
    )
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith(f"{path.relative_to(tmp_path)}:4:5: families[0]: unknown key")
    assert "Traceback" not in proc.stderr


def test_a_missing_alias_file_exits_2(tmp_path: Path) -> None:
    code, _, err = match(tmp_path, "--aliases", str(tmp_path / "absent.yaml"))
    assert code == 2
    assert err.startswith(f"{tmp_path / 'absent.yaml'}: file not found")
