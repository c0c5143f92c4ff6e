"""Deciding whether two customer descriptions (company name, web domain) are one customer.

A shared registrable domain decides on its own: it is the one fact a partner cannot get
slightly wrong. Next the customer aliases (:mod:`~channel_sync.workflow.match_aliases`): two
customers listed under one family are the same customer, two listed under different families
are not. Otherwise the names decide, through :func:`score_names`, against a threshold; when one
customer is listed and the other is not, the acronym reading is set aside, because the family
already says what the listed abbreviation stands for ("IBM" is not "International Brand
Management").
The evidence sentence says which fact decided and why, in words a channel manager can check
at a glance; it quotes only the two customer descriptions, nothing else about either deal.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from channel_sync.errors import ConfigurationError
from channel_sync.workflow.match_alias_file import builtin_aliases
from channel_sync.workflow.match_aliases import AliasTable
from channel_sync.workflow.match_domains import is_public_mail_domain, registrable_domain
from channel_sync.workflow.match_names import NormalizedName, normalize_name
from channel_sync.workflow.match_scoring import NameScore, NameVerdict, score_names

#: Chosen on the first half of ``tests/data/company_pairs.csv`` (see docs/channel-conflicts.md).
DEFAULT_THRESHOLD = 0.87
_SHOWN_NAME = 80


class MatchReason(StrEnum):
    DOMAIN = "domain"
    ALIAS = "alias"
    NAME = "name"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class MatchResult:
    match: bool
    #: 0..1; 1.0 for a shared domain or alias family, 0.0 for two different listed families,
    #: otherwise the name score (also when below threshold).
    score: float
    reason: MatchReason
    evidence: str


@dataclass(frozen=True, slots=True)
class CustomerKey:
    """A customer description prepared once for many comparisons."""

    name: NormalizedName
    #: The registrable domain, ``None`` when absent or not a domain.
    domain: str | None

    @classmethod
    def of(cls, name: str | None, domain: str | None) -> CustomerKey:
        return cls(normalize_name(name), registrable_domain(domain))

    @property
    def evidence_domain(self) -> str | None:
        """The domain when it can tell customers apart (not a free mail domain)."""
        if self.domain is None or is_public_mail_domain(self.domain):
            return None
        return self.domain


def shown(text: str) -> str:
    """A customer name quoted for a sentence: control characters out, long names cut."""
    clean = "".join(c if c.isprintable() else " " for c in text).strip()
    if len(clean) > _SHOWN_NAME:
        clean = clean[: _SHOWN_NAME - 1] + "\u2026"
    return f'"{clean}"'


def _name_detail(a: NormalizedName, b: NormalizedName, result: NameScore) -> str:
    read_a, read_b = shown(a.text), shown(b.text)
    details = {
        NameVerdict.SAME: f"both read as {read_a}",
        NameVerdict.SIMILAR: f"read as {read_a} and {read_b}",
        NameVerdict.ACRONYM: "one is the initials of the other",
        NameVerdict.PARTIAL: f"one adds words to the other ({read_a} / {read_b})",
        NameVerdict.CONFLICTING: f"each has words the other lacks ({read_a} / {read_b})",
        NameVerdict.NUMBERS: f"their numbers differ ({read_a} / {read_b})",
        NameVerdict.MISSING: "a company name is missing",
    }
    return details[result.verdict]


def _mail_note(a: CustomerKey, b: CustomerKey) -> str:
    public = sorted({d for d in (a.domain, b.domain) if d and is_public_mail_domain(d)})
    if not public:
        return ""
    return f"; {', '.join(public)} is a free mail domain, not evidence"


def _described(key: CustomerKey, family: int, aliases: AliasTable) -> str:
    """How a customer comes to be in a family: its listed name, else its listed domain."""
    if aliases.by_name(key.name) == family or key.evidence_domain is None:
        return shown(key.name.original)
    return key.evidence_domain


class CustomerMatcher:
    """Compares customers; ``threshold`` is the lowest name score that counts as a match.

    ``aliases`` is the table of corporate families in force; ``None`` means the built-in list
    of well-known companies (see :func:`~channel_sync.workflow.match_alias_file.alias_table`
    for a project's own file, and :data:`~channel_sync.workflow.match_aliases.EMPTY_ALIASES`
    for none).
    """

    def __init__(
        self, threshold: float = DEFAULT_THRESHOLD, aliases: AliasTable | None = None
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            msg = f"customer match threshold must be in (0, 1], got {threshold!r}"
            raise ConfigurationError(msg)
        self._threshold = threshold
        self._aliases = builtin_aliases() if aliases is None else aliases

    @property
    def threshold(self) -> float:
        return self._threshold

    @property
    def aliases(self) -> AliasTable:
        return self._aliases

    def families(self, key: CustomerKey) -> frozenset[int]:
        """The alias families the customer is listed under (by name or domain)."""
        return self._aliases.lookup(key.name, key.evidence_domain)

    def compare(
        self, name_a: str | None, domain_a: str | None, name_b: str | None, domain_b: str | None
    ) -> MatchResult:
        return self.compare_keys(CustomerKey.of(name_a, domain_a), CustomerKey.of(name_b, domain_b))

    def compare_keys(self, a: CustomerKey, b: CustomerKey) -> MatchResult:
        domain = a.evidence_domain
        if domain is not None and domain == b.evidence_domain:
            return MatchResult(True, 1.0, MatchReason.DOMAIN, f"same web domain {domain}")
        families_a, families_b = self.families(a), self.families(b)
        names = f"company names {shown(a.name.original)} and {shown(b.name.original)}"
        if families_a and families_b:
            listed = self._by_families(a, b, families_a, families_b, names)
            if listed is not None:
                return listed
        result = score_names(a.name, b.name)
        set_aside = ""
        if result.verdict is NameVerdict.ACRONYM and (families_a or families_b):
            result = score_names(a.name, b.name, acronyms=False)
            set_aside = self._not_initials(a, b, families_a, families_b)
        detail = _name_detail(a.name, b.name, result) + set_aside
        score = round(result.score, 4)
        if score >= self._threshold:
            evidence = f"{names} match: {detail}"
            return MatchResult(True, score, MatchReason.NAME, evidence)
        evidence = (
            f"{names} differ: {detail} (below the {self._threshold:.2f} threshold)"
            + _mail_note(a, b)
        )
        return MatchResult(False, score, MatchReason.NONE, evidence)

    def _by_families(
        self,
        a: CustomerKey,
        b: CustomerKey,
        families_a: frozenset[int],
        families_b: frozenset[int],
        names: str,
    ) -> MatchResult | None:
        """Both customers are listed: one family is a match, two families are not. Names that
        read the same are left to the name rule, which says so more plainly."""
        shared = families_a & families_b
        if shared:
            if a.name and a.name.compact == b.name.compact:
                return None
            number = min(shared)
            family = self._aliases.family(number)
            evidence = (
                f"alias: {family.name} ({_described(a, number, self._aliases)} and "
                f"{_described(b, number, self._aliases)} are both listed under it)"
            )
            return MatchResult(True, 1.0, MatchReason.ALIAS, evidence)
        first = self._aliases.family(min(families_a)).name
        second = self._aliases.family(min(families_b)).name
        evidence = f"{names} differ: listed as two companies, {first} and {second}"
        return MatchResult(False, 0.0, MatchReason.NONE, evidence)

    def _not_initials(
        self,
        a: CustomerKey,
        b: CustomerKey,
        families_a: frozenset[int],
        families_b: frozenset[int],
    ) -> str:
        listed, other, families = (a, b, families_a) if families_a else (b, a, families_b)
        number = min(families)
        family = self._aliases.family(number).name
        return (
            f"; not read as initials: {_described(listed, number, self._aliases)} is listed "
            f"under {family}, which does not list {shown(other.name.original)}"
        )
