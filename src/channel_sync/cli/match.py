"""``channel-sync match-customers``: run the channel-conflict matcher over a file of pairs.

Lets anyone judge the matcher on their own labelled data: one JSON line per pair on stdout
(``row``, ``match``, ``score``, ``reason``), in file order. The whole file is checked first; a
bad file exits 2 with ``file:line: message`` on stderr and prints no results.

The customer aliases in force are the ones the conflict check uses: the built-in list of
well-known companies with the project's ``customers/aliases.yaml`` over it, or the file given
with ``--aliases``; a bad alias file exits 2 with ``file:line:col: field: message``.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from channel_sync.config.problems import FileError
from channel_sync.workflow.match_pairs import PairFileError, read_pairs
from channel_sync.workflow.matching import (
    DEFAULT_THRESHOLD,
    AliasTable,
    CustomerMatcher,
    alias_table,
    project_alias_table,
)

EXIT_INVALID = 2

_FILE = typer.Argument(
    ...,
    help="CSV with a header name_a,domain_a,name_b,domain_b (domains may be empty; "
    "other columns, such as label, are ignored).",
    show_default=False,
)
_THRESHOLD = typer.Option(
    DEFAULT_THRESHOLD,
    "--threshold",
    min=0.01,
    max=1.0,
    help="Lowest name score that counts as the same customer.",
)
_EXPLAIN = typer.Option(False, "--explain", help="Add the evidence sentence to each line.")
_PROJECT = typer.Option(
    Path(),
    "--project",
    help="The project directory; its customers/aliases.yaml is used when present.",
    file_okay=False,
)
_ALIASES = typer.Option(
    None,
    "--aliases",
    help="A customer alias file to use instead of the project's customers/aliases.yaml.",
    dir_okay=False,
)
_NO_BUILTIN = typer.Option(
    False,
    "--no-builtin-aliases",
    help="Leave out the built-in list of well-known companies.",
)


def _aliases(project: Path, aliases: Path | None, builtin: bool) -> AliasTable:
    if aliases is not None:
        return alias_table(aliases, builtin=builtin)
    return project_alias_table(project, builtin=builtin)


def match_customers(
    file: Path,
    threshold: float,
    explain: bool,
    *,
    project: Path = Path(),
    aliases: Path | None = None,
    builtin: bool = True,
) -> None:
    try:
        pairs = read_pairs(file)
        matcher = CustomerMatcher(threshold, _aliases(project, aliases, builtin))
    except (PairFileError, FileError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_INVALID) from None
    for pair in pairs:
        result = matcher.compare(pair.name_a, pair.domain_a, pair.name_b, pair.domain_b)
        line: dict[str, object] = {
            "row": pair.row,
            "match": result.match,
            "score": result.score,
            "reason": result.reason.value,
        }
        if explain:
            line["evidence"] = result.evidence
        typer.echo(json.dumps(line, ensure_ascii=False))


def attach(root: typer.Typer) -> None:
    @root.command("match-customers")
    def command(
        file: Path = _FILE,
        *,
        threshold: float = _THRESHOLD,
        explain: bool = _EXPLAIN,
        project: Path = _PROJECT,
        aliases: Path | None = _ALIASES,
        no_builtin_aliases: bool = _NO_BUILTIN,
    ) -> None:
        """Say, for each pair of customers in FILE, whether they are the same customer."""
        match_customers(
            file,
            threshold,
            explain,
            project=project,
            aliases=aliases,
            builtin=not no_builtin_aliases,
        )
