"""Customer aliases: corporate families whose names no string measure can relate.

"Facebook" and "Meta Platforms", "GSK" and "GlaxoSmithKline", "Petrobras" and "Petróleo
Brasileiro" are one customer, and only a list can say so. A family is a display name, the other
names the company is known by (former names, abbreviations, local legal names, brands that are
the company) and optionally its web domains.

A listed name stands for every customer name that reads the same once case, accents,
punctuation, legal forms and a leading "The" are set aside; a customer name may also add
trailing descriptive words ("Group", "Holdings", "International", region tags) to a listed name,
but never drop words from it. So "Honeywell" listed covers "Honeywell International Inc.", while
"American International Group" listed does not cover "American".

The table answers one question for the matcher: which families does a customer (name, domain)
belong to? Two customers in one family are the same customer; two customers each in a different
family are different customers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from channel_sync.errors import ConfigurationError
from channel_sync.workflow.match_domains import registrable_domain
from channel_sync.workflow.match_names import NormalizedName, normalize_name

NO_FAMILIES: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class AliasFamily:
    """One company and every name and domain it is known by."""

    name: str
    #: The other names, as written in the list (the display name is not repeated here).
    aliases: tuple[str, ...] = ()
    #: Web domains; read at the level the company registered (``www.acme.com`` is ``acme.com``).
    domains: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def registrable_domains(self) -> tuple[str, ...]:
        return tuple(d for d in map(registrable_domain, self.domains) if d is not None)


@dataclass(frozen=True, slots=True)
class NameKeys:
    """How a listed name is looked up: by its full form, and by its short form when the two are
    the same (the listed name has no trailing descriptive word to lose)."""

    full: str
    bare: str | None

    @classmethod
    def of(cls, name: NormalizedName) -> NameKeys:
        full = name.full_compact or name.compact
        return cls(full, full if full == name.compact else None)


def name_keys(text: str) -> NameKeys | None:
    """The lookup keys of a listed name; ``None`` when it has nothing that names a company."""
    name = normalize_name(text)
    return NameKeys.of(name) if name else None


class AliasTable:
    """Families by name and by domain, for constant-time lookups.

    Raises :class:`ConfigurationError` when two families claim one name or domain; the file
    loader reports such clashes with their lines before a table is ever built.
    """

    def __init__(self, families: Iterable[AliasFamily] = ()) -> None:
        self._families: list[AliasFamily] = []
        self._full: dict[str, int] = {}
        self._bare: dict[str, int] = {}
        self._domains: dict[str, int] = {}
        for family in families:
            self._add(family)

    def _claim(self, table: dict[str, int], key: str, number: int, what: str) -> None:
        owner = table.setdefault(key, number)
        if owner != number:
            first, second = self._families[owner].name, self._families[number].name
            msg = f"{what} is listed under two families: {first!r} and {second!r}"
            raise ConfigurationError(msg)

    def _add(self, family: AliasFamily) -> None:
        number = len(self._families)
        self._families.append(family)
        for text in family.names:
            keys = name_keys(text)
            if keys is None:
                continue
            self._claim(self._full, keys.full, number, f"the name {text!r}")
            if keys.bare is not None:
                self._claim(self._bare, keys.bare, number, f"the name {text!r}")
        for domain in family.registrable_domains:
            self._claim(self._domains, domain, number, f"the domain {domain!r}")

    @property
    def families(self) -> Sequence[AliasFamily]:
        return tuple(self._families)

    def __len__(self) -> int:
        return len(self._families)

    def family(self, number: int) -> AliasFamily:
        return self._families[number]

    def by_name(self, name: NormalizedName) -> int | None:
        """The family listing this name, if any."""
        if not name:
            return None
        found = self._full.get(name.full_compact or name.compact)
        return found if found is not None else self._bare.get(name.compact)

    def by_domain(self, domain: str | None) -> int | None:
        return self._domains.get(domain) if domain is not None else None

    def lookup(self, name: NormalizedName, domain: str | None) -> frozenset[int]:
        """The families a customer belongs to, by its name and by its (evidence) domain."""
        if not self._families:
            return NO_FAMILIES
        by_name, by_domain = self.by_name(name), self.by_domain(domain)
        if by_name is None and by_domain is None:
            return NO_FAMILIES
        return frozenset(f for f in (by_name, by_domain) if f is not None)


EMPTY_ALIASES = AliasTable()


class NameClaims:
    """Which family holds which listed name, to find two families claiming one name.

    Two listed names clash when a customer name could be looked up as either: the same full
    form, or one is a bare name that the other reads as once its descriptive words are dropped
    ("Sony" and "Sony Group" listed under two families would contradict the matcher, which
    reads both as one name).
    """

    def __init__(self) -> None:
        self._full: dict[str, int] = {}
        self._bare: dict[str, int] = {}
        self._compact: dict[str, int] = {}

    def holder(self, name: NormalizedName) -> int | None:
        """The family already holding a name that clashes with ``name``, if any."""
        keys = NameKeys.of(name)
        for found in (
            self._full.get(keys.full),
            self._bare.get(name.compact),
            self._compact.get(keys.bare) if keys.bare is not None else None,
        ):
            if found is not None:
                return found
        return None

    def add(self, name: NormalizedName, family: int) -> None:
        keys = NameKeys.of(name)
        self._full.setdefault(keys.full, family)
        self._compact.setdefault(name.compact, family)
        if keys.bare is not None:
            self._bare.setdefault(keys.bare, family)


def combine(builtin: Sequence[AliasFamily], project: Sequence[AliasFamily]) -> list[AliasFamily]:
    """The built-in families with the project's laid over them.

    A project family replaces every built-in family it shares a name or a domain with (the
    admin's word wins, a whole family at a time, so no family is ever half built-in and half
    the admin's); the other built-in families stay as they are.
    """
    claims = NameClaims()
    domains: set[str] = set()
    for number, family in enumerate(project):
        domains.update(family.registrable_domains)
        for text in family.names:
            name = normalize_name(text)
            if name:
                claims.add(name, number)

    def replaced(family: AliasFamily) -> bool:
        if domains.intersection(family.registrable_domains):
            return True
        names = (normalize_name(text) for text in family.names)
        return any(claims.holder(name) is not None for name in names if name)

    return [*project, *(f for f in builtin if not replaced(f))]
