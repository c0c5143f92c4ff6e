"""Customer alias files: the project's ``customers/aliases.yaml`` and the built-in list.

Both have one format, read with the located YAML loader of :mod:`channel_sync.config`, so a
mistake is reported as ``file:line:col: field: message``::

    version: 1
    builtin: true            # also use the built-in list of well-known companies (default)
    families:
      - name: Meta Platforms
        aliases: [Facebook, Meta, "Facebook, Inc."]
        domains: [meta.com, facebook.com]

The built-in list (``workflow/data/known_aliases.yaml``) holds large, well-known companies;
a project's file adds its own customers and replaces any built-in family it shares a name or a
domain with (see :func:`~channel_sync.workflow.match_aliases.combine`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from channel_sync.config.problems import FileError, Problem
from channel_sync.config.validation import check_version, problem_at, validate
from channel_sync.config.yaml_source import Document, load_document, parse_document
from channel_sync.workflow.match_aliases import AliasFamily, AliasTable, NameClaims, combine
from channel_sync.workflow.match_domains import is_public_mail_domain, registrable_domain
from channel_sync.workflow.match_names import normalize_name

KIND = "customer aliases"
SUPPORTED_VERSIONS = frozenset({1})
#: Where a project keeps its alias file, next to ``connectors/`` and ``mappings/``.
CUSTOMERS_DIR = "customers"
ALIASES_FILE = "aliases.yaml"
_BUILTIN = ("data", "known_aliases.yaml")


def _company_name(value: str) -> str:
    text = value.strip()
    if not normalize_name(text):
        msg = f"{value!r} has no letters or digits that could name a company"
        raise ValueError(msg)
    return text


def _domain(value: str) -> str:
    domain = registrable_domain(value)
    if domain is None:
        msg = f"{value!r} is not a web domain (expected something like example.com)"
        raise ValueError(msg)
    if is_public_mail_domain(domain):
        msg = f"{domain} is a free mail domain shared by unrelated customers; it cannot name one"
        raise ValueError(msg)
    return domain


CompanyName = Annotated[str, AfterValidator(_company_name)]
Domain = Annotated[str, AfterValidator(_domain)]


class FamilyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: CompanyName = Field(description="The name the channel team knows the company by.")
    aliases: list[CompanyName] = Field(
        default_factory=list,
        description="Other names: former names, abbreviations, local legal names, brands.",
    )
    domains: list[Domain] = Field(
        default_factory=list, description="Web domains of the company (its registrable domain)."
    )


class AliasFileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    builtin: bool = Field(
        default=True, description="Also use the built-in list of well-known companies."
    )
    families: list[FamilyEntry] = Field(default_factory=list)


@dataclass(frozen=True)
class AliasFile:
    path: Path
    #: Whether the built-in list applies too (the file's ``builtin:``).
    builtin: bool
    families: tuple[AliasFamily, ...]


def _name_loc(family: int, position: int) -> tuple[str | int, ...]:
    if position == 0:
        return ("families", family, "name")
    return ("families", family, "aliases", position - 1)


def _clashes(doc: Document, entries: list[FamilyEntry]) -> list[Problem]:
    """Names and domains claimed by two families: a customer cannot belong to both."""
    problems: list[Problem] = []
    claims = NameClaims()
    domains: dict[str, int] = {}

    def clash(loc: tuple[str | int, ...], what: str, holder: int) -> None:
        line = (doc.locate(("families", holder)) or (None, None))[0]
        where = f" (line {line})" if line is not None else ""
        message = f"{what} {entries[holder].name!r}{where}; it can belong to one family only"
        problems.append(problem_at(doc, loc, message))

    for number, entry in enumerate(entries):
        for position, text in enumerate((entry.name, *entry.aliases)):
            name = normalize_name(text)
            holder = claims.holder(name)
            if holder is not None and holder != number:
                what = f"{text!r} reads the same as a name listed under"
                clash(_name_loc(number, position), what, holder)
            else:
                claims.add(name, number)
        for position, domain in enumerate(entry.domains):
            holder = domains.setdefault(domain, number)
            if holder != number:
                what = f"domain {domain} is already listed under"
                clash(("families", number, "domains", position), what, holder)
    return problems


def parse_alias_document(doc: Document) -> AliasFile:
    """Check and read a parsed alias file; every problem is a located :class:`FileError`."""
    check_version(doc, kind=KIND, supported=SUPPORTED_VERSIONS)
    model = validate(doc, AliasFileModel)
    problems = _clashes(doc, model.families)
    if problems:
        raise FileError(problems)
    families = tuple(
        AliasFamily(e.name, tuple(dict.fromkeys(e.aliases)), tuple(dict.fromkeys(e.domains)))
        for e in model.families
    )
    return AliasFile(doc.path, model.builtin, families)


def read_alias_file(path: Path) -> AliasFile:
    """Load ``path``: a missing file, bad YAML or a bad entry raises a located FileError."""
    return parse_alias_document(load_document(path))


@cache
def builtin_families() -> tuple[AliasFamily, ...]:
    """The well-known corporate families shipped with channel-sync (read once)."""
    resource = resources.files("channel_sync.workflow").joinpath(*_BUILTIN)
    doc = parse_document(resource.read_bytes(), Path(str(resource)))
    return parse_alias_document(doc).families


@cache
def builtin_aliases() -> AliasTable:
    """The built-in families alone: what a matcher uses when given no table."""
    return AliasTable(builtin_families())


def alias_table(path: Path | None = None, *, builtin: bool = True) -> AliasTable:
    """The families in force: the built-in list (unless ``builtin`` is false or the file says
    ``builtin: false``) with the file at ``path``, if given, laid over it."""
    if path is None:
        return builtin_aliases() if builtin else AliasTable()
    file = read_alias_file(path)
    base = builtin_families() if builtin and file.builtin else ()
    return AliasTable(combine(base, file.families))


def project_aliases_path(root: Path) -> Path:
    return root / CUSTOMERS_DIR / ALIASES_FILE


def project_alias_table(root: Path, *, builtin: bool = True) -> AliasTable:
    """The families of the project at ``root``: its ``customers/aliases.yaml`` when it has one
    (a bad one raises a located FileError), over the built-in list."""
    path = project_aliases_path(root)
    return alias_table(path if path.exists() else None, builtin=builtin)
