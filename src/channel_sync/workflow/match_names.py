"""Reading a company name the way a channel manager comparing two deals would.

Two CRMs rarely spell a customer the same way: one has "The Procter & Gamble Co.", the other
"Procter and Gamble Company". Normalisation removes what does not identify the company (case,
accents, punctuation, legal form, a leading "The", "&" versus "and", trailing words such as
"Group" or "International") so the fuzzy comparison that follows only has to judge what is
left. It keeps what does identify it: every distinctive word, its order for display, and any
number ("Fund II" is not "Fund III").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from channel_sync.workflow.match_vocabulary import (
    ABBREVIATIONS,
    LEADING_NOISE,
    LEGAL_FORMS,
    STOPWORDS,
    TRAILING_NOISE,
    TRANSLITERATIONS,
)

#: A web address written into a name ("Amazon.com", "Salesforce.com").
_TLD_IN_NAME = re.compile(r"\.(?:com|net|org|io|ai|co)\b")
#: Marks that join rather than separate: "S.A." is "sa", "McDonald's" is "mcdonalds".
_JOINERS = re.compile(r"[.'\u2019`\u00b4]")
_AND = re.compile(r"[&+]")
_SEPARATORS = re.compile(r"[^a-z0-9]+")
_DIGIT = re.compile(r"[0-9]")
_ROMAN = re.compile(r"^x{0,3}(?:ix|iv|v?i{0,3})$")

#: A one-word name this short may be an acronym of a longer name ("IBM", "KPMG", "BASF").
ACRONYM_LENGTHS = range(2, 6)


def fold(text: str) -> str:
    """Lower case ASCII: accents dropped, letters without a decomposition transliterated."""
    text = text.casefold()
    if text.isascii():
        return text
    text = text.translate(TRANSLITERATIONS)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(name: str) -> list[str]:
    text = _TLD_IN_NAME.sub(" ", fold(name))
    text = _AND.sub(" and ", text)
    text = _JOINERS.sub("", text)
    words = [ABBREVIATIONS.get(w, w) for w in _SEPARATORS.split(text) if w]
    return [w for i, w in enumerate(words) if w not in STOPWORDS or (i == 0 and w != "and")]


def _strip_legal_forms(words: list[str]) -> None:
    """Drop legal forms from the end, including ones typed letter by letter ("S. A.")."""
    while len(words) > 1:
        if words[-1] in LEGAL_FORMS:
            words.pop()
            continue
        run = 0
        while run < len(words) - 1 and len(words[-1 - run]) == 1:
            run += 1
        if run >= 2 and "".join(words[-run:]) in LEGAL_FORMS:
            del words[-run:]
            continue
        return


def _strip_noise(words: list[str]) -> None:
    while len(words) > 1 and words[-1] in TRAILING_NOISE:
        words.pop()
        _strip_legal_forms(words)
    while len(words) > 1 and words[0] in LEADING_NOISE:
        words.pop(0)


def _is_number(word: str, position: int) -> bool:
    if _DIGIT.search(word):
        return True
    if len(word) == 1:
        return position > 0 and word in "ivx"
    return bool(_ROMAN.match(word))


def _initials(words: list[str]) -> str | None:
    return "".join(w[0] for w in words) if len(words) >= 2 else None


@dataclass(frozen=True, slots=True)
class NormalizedName:
    """A company name reduced to the words that identify the company."""

    original: str
    tokens: tuple[str, ...]
    #: Initials of the multi-word forms of the name (with and without its legal form), for
    #: recognising an acronym on the other side: "International Business Machines Corp"
    #: offers ``ibm`` and ``ibmc``.
    initials: frozenset[str]
    numbers: frozenset[str]
    #: The words run together before trailing descriptive words ("Group", "International",
    #: ...) were dropped: ``americaninternationalgroup`` where :attr:`compact` is ``american``.
    #: Customer aliases are looked up by it, so a listed name never loses words.
    full_compact: str = ""

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    @property
    def sorted_text(self) -> str:
        """The words in alphabetical order: rapidfuzz's ``token_sort_ratio`` is ``ratio`` on it."""
        return " ".join(sorted(self.tokens))

    @property
    def compact(self) -> str:
        """The words run together, so "Pay Pal", "PayPal" and "Pay-Pal" compare equal."""
        return "".join(self.tokens)

    @property
    def acronym(self) -> str | None:
        """The name itself when it is one short word that may abbreviate a longer name."""
        if len(self.tokens) == 1 and len(self.tokens[0]) in ACRONYM_LENGTHS:
            return self.tokens[0]
        return None

    def __bool__(self) -> bool:
        return bool(self.tokens)


EMPTY_NAME = NormalizedName("", (), frozenset(), frozenset())


def normalize_name(name: str | None) -> NormalizedName:
    """Reduce ``name`` to its identifying words; an empty or punctuation-only name has none."""
    if not name or not name.strip():
        return EMPTY_NAME
    words = _words(name)
    while len(words) > 1 and words[0] == "the":
        words.pop(0)
    initials = {_initials(words)}
    _strip_legal_forms(words)
    initials.add(_initials(words))
    full_compact = "".join(words)
    _strip_noise(words)
    return NormalizedName(
        original=name,
        tokens=tuple(words),
        initials=frozenset(i for i in initials if i),
        numbers=frozenset(w for i, w in enumerate(words) if _is_number(w, i)),
        full_compact=full_compact,
    )
