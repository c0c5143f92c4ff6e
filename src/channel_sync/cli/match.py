"""``channel-sync match-customers``: run the channel-conflict matcher over a file of pairs.

Lets anyone judge the matcher on their own labelled data: one JSON line per pair on stdout
(``row``, ``match``, ``score``, ``reason``), in file order. The whole file is checked first; a
bad file exits 2 with ``file:line: message`` on stderr and prints no results.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from channel_sync.workflow.match_pairs import PairFileError, read_pairs
from channel_sync.workflow.matching import DEFAULT_THRESHOLD, CustomerMatcher

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


def match_customers(file: Path, threshold: float, explain: bool) -> None:
    try:
        pairs = read_pairs(file)
    except PairFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_INVALID) from None
    matcher = CustomerMatcher(threshold)
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
        file: Path = _FILE, threshold: float = _THRESHOLD, explain: bool = _EXPLAIN
    ) -> None:
        """Say, for each pair of customers in FILE, whether they are the same customer."""
        match_customers(file, threshold, explain)
