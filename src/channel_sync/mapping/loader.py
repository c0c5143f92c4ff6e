"""Loading mapping files: safe located YAML, version check, schema, semantic checks, compile.

Every failure is a :class:`~channel_sync.config.problems.FileError` whose problems read
``file:line:col: field: message``; nothing here lets a traceback reach an admin.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from channel_sync.config import (
    Document,
    FileError,
    Problem,
    check_version,
    load_document,
    problem_at,
    validate,
)
from channel_sync.mapping.compiled import CompiledMapping
from channel_sync.mapping.compiler import compile_spec
from channel_sync.mapping.spec import SUPPORTED_VERSIONS, MappingSpec
from channel_sync.mapping.valuemap import Issue

#: Files in a mappings directory that are not mappings.
_SKIPPED_SUFFIXES = (".schema.yaml", ".schema.yml")


@dataclass(frozen=True)
class LoadedMapping:
    path: Path
    document: Document
    spec: MappingSpec
    compiled: CompiledMapping


def problems_of(doc: Document, issues: Iterable[Issue]) -> list[Problem]:
    """Located problems for semantic issues, in file order."""
    problems = [problem_at(doc, loc, message) for loc, message in issues]
    return sorted(problems, key=Problem.sort_key)


def load_mapping(path: Path) -> LoadedMapping:
    """Load and compile one mapping file, or raise :class:`FileError` with every problem."""
    doc = load_document(path)
    check_version(doc, kind="mapping", supported=SUPPORTED_VERSIONS)
    spec = validate(doc, MappingSpec)
    compiled, issues = compile_spec(spec)
    if compiled is None:
        raise FileError(problems_of(doc, issues))
    return LoadedMapping(path, doc, spec, compiled)


def mapping_files(paths: Iterable[Path]) -> list[Path]:
    """Expand directories to the ``*.yaml``/``*.yml`` files they hold (schema files excepted)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir()
                if p.suffix in (".yaml", ".yml") and not p.name.endswith(_SKIPPED_SUFFIXES)
                and p.is_file()
            )
            out.extend(found)
        else:
            out.append(path)
    return out
