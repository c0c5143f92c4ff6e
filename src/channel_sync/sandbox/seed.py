"""Deterministic, realistic-looking deals to fill the sandbox CRMs.

The same ``(seed, n)`` gives the same deals on every run and every Python version: only
``random.Random(seed).random()`` is used, with integer arithmetic on top (no ``hash()``, no
floating-point transcendental functions whose last bit can differ between platforms).
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Generic, TypeVar

from channel_sync.model import Stage

T = TypeVar("T")


@dataclass(frozen=True)
class SeedDeal:
    """One generated deal in canonical-ish terms; each backend maps it to its own fields."""

    key: str
    name: str
    company_name: str
    domain: str
    country_code: str
    industry: str
    stage: Stage
    amount: Decimal
    currency_code: str
    close_date: date
    products: tuple[str, ...]
    contact_first_name: str
    contact_last_name: str
    contact_email: str
    contact_phone: str
    description: str
    register: bool


_PREFIXES = (
    "Acme", "Northwind", "Contoso", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Vandelay",
    "Hooli", "Pied", "Blue", "Silver", "Red", "Green", "Iron", "Oak", "Maple", "Harbor", "Summit",
    "Pioneer", "Atlas", "Orion", "Nova", "Vertex", "Apex", "Beacon", "Cedar", "Delta", "Evergreen",
    "Falcon", "Granite", "Horizon", "Juniper", "Keystone", "Lumen", "Meridian", "Nimbus", "Onyx",
    "Polar", "Quantum", "Riverside", "Sterling", "Titan", "Unity", "Vista", "Willow", "Zenith",
    "Alpine", "Bright", "Crystal", "Dynamo", "Echo", "Fjord", "Golden", "Highland", "Ivory",
)
_CORES = (
    "Logistics", "Systems", "Foods", "Health", "Energy", "Motors", "Analytics", "Robotics",
    "Textiles", "Pharma", "Media", "Networks", "Retail", "Capital", "Insurance", "Labs",
    "Manufacturing", "Software", "Freight", "Hotels", "Telecom", "Chemicals", "Solar", "Bank",
    "Aerospace", "Biotech", "Construction", "Consulting", "Devices", "Marine",
)
_INDUSTRY_OF_CORE = {
    "Logistics": "Transportation", "Freight": "Transportation", "Marine": "Transportation",
    "Foods": "Food & Beverage", "Health": "Healthcare", "Pharma": "Life Sciences",
    "Biotech": "Life Sciences", "Energy": "Energy", "Solar": "Energy", "Motors": "Automotive",
    "Textiles": "Manufacturing", "Manufacturing": "Manufacturing", "Chemicals": "Manufacturing",
    "Devices": "Manufacturing", "Aerospace": "Aerospace & Defense", "Media": "Media",
    "Networks": "Telecommunications", "Telecom": "Telecommunications", "Retail": "Retail",
    "Capital": "Financial Services", "Bank": "Financial Services", "Insurance": "Insurance",
    "Hotels": "Hospitality", "Construction": "Construction", "Consulting": "Professional Services",
}
_DEFAULT_INDUSTRY = "Technology"

# (ISO country, currency, legal suffix, TLD, phone prefix, weight)
_COUNTRIES = (
    ("US", "USD", "Inc.", "com", "+1", 30),
    ("DE", "EUR", "GmbH", "de", "+49", 10),
    ("GB", "GBP", "Ltd", "co.uk", "+44", 10),
    ("FR", "EUR", "SAS", "fr", "+33", 7),
    ("CA", "CAD", "Inc.", "ca", "+1", 6),
    ("AU", "AUD", "Pty Ltd", "com.au", "+61", 5),
    ("JP", "JPY", "K.K.", "co.jp", "+81", 5),
    ("CH", "CHF", "AG", "ch", "+41", 4),
    ("SE", "SEK", "AB", "se", "+46", 4),
    ("IN", "INR", "Pvt Ltd", "in", "+91", 5),
    ("BR", "BRL", "Ltda", "com.br", "+55", 4),
    ("NL", "EUR", "B.V.", "nl", "+31", 5),
    ("ES", "EUR", "S.L.", "es", "+34", 5),
)
# Whole units of the currency per 1,000 USD, to keep amounts plausible in every currency.
_PER_KUSD = {
    "USD": 1000, "EUR": 920, "GBP": 790, "CAD": 1360, "AUD": 1520, "JPY": 150_000,
    "CHF": 880, "SEK": 10_500, "INR": 83_000, "BRL": 5_000,
}
_STAGES = (
    (Stage.PROSPECTING, 22),
    (Stage.QUALIFICATION, 20),
    (Stage.PROPOSAL, 18),
    (Stage.NEGOTIATION, 12),
    (Stage.CLOSED_WON, 16),
    (Stage.CLOSED_LOST, 12),
)
# Deal size bands in USD: (low, high, weight).
_AMOUNT_BANDS = (
    (5_000, 25_000, 35),
    (25_000, 100_000, 35),
    (100_000, 500_000, 22),
    (500_000, 2_000_000, 8),
)
PRODUCTS = (
    "CLOUD-CORE", "CLOUD-PLUS", "SECURITY-SUITE", "ANALYTICS", "SUPPORT-PREMIUM", "TRAINING",
)
_FIRST = (
    "Anna", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hiro", "Isabel", "Jonas", "Keiko",
    "Liam", "Maria", "Noah", "Olivia", "Pierre", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera",
    "Wei", "Ximena", "Yusuf", "Zoe", "Lukas", "Priya", "Mateo", "Ingrid", "Arjun", "Sofia",
)
_LAST = (
    "Smith", "Müller", "Dubois", "García", "Rossi", "Tanaka", "Nguyen", "Johansson", "Kowalski",
    "Silva", "Patel", "O'Brien", "Schmidt", "Martin", "Brown", "Jensen", "Novak", "Fischer",
    "Lopez", "Wilson", "Moreau", "Sato", "Kumar", "Andersson", "Costa", "Weber", "Taylor", "Haas",
)
_PURPOSES = ("expansion", "renewal", "new logo", "migration", "pilot", "upgrade", "rollout")
_ASCII = str.maketrans({"ü": "ue", "ö": "oe", "ä": "ae", "é": "e", "í": "i", "'": "", " ": "-"})
_ANCHOR = date(2026, 1, 1)


class _Weighted(Generic[T]):
    """Items with integer weights, drawn by bisecting the cumulative weights."""

    def __init__(self, pairs: tuple[tuple[T, int], ...]) -> None:
        self.items = tuple(item for item, _ in pairs)
        self.cumulative = tuple(itertools.accumulate(weight for _, weight in pairs))
        self.total = self.cumulative[-1]


class _Draw:
    """Choices built only on ``Random.random()``, whose sequence is fixed across versions."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed).random  # noqa: S311  (test data, not security)

    def below(self, n: int) -> int:
        i = int(self._random() * n)
        return i if i < n else n - 1

    def pick(self, items: tuple[T, ...]) -> T:
        return items[self.below(len(items))]

    def weighted(self, table: _Weighted[T]) -> T:
        return table.items[bisect.bisect_right(table.cumulative, self.below(table.total))]

    def chance(self, percent: int) -> bool:
        return self.below(100) < percent


def _slug(text: str) -> str:
    return text.lower().translate(_ASCII)


_SLUG = {w: _slug(w) for w in (*_PREFIXES, *_CORES, *_FIRST, *_LAST)}
_COUNTRY_TABLE = _Weighted(tuple((c[:5], c[5]) for c in _COUNTRIES))
_STAGE_TABLE = _Weighted(_STAGES)
_BAND_TABLE = _Weighted(tuple(((lo, hi), w) for lo, hi, w in _AMOUNT_BANDS))
_PRODUCT_COUNT_TABLE = _Weighted(((1, 45), (2, 35), (3, 20)))
_TITLES = {p: p.replace("-", " ").title() for p in PRODUCTS}
_CENT = Decimal("0.01")


def _amount(draw: _Draw, currency: str) -> Decimal:
    low, high = draw.weighted(_BAND_TABLE)
    usd = low + draw.below((high - low) // 100) * 100
    units = usd * _PER_KUSD[currency] // 1000
    step = 1000 if currency in ("JPY", "INR") else 100
    return Decimal(max(units // step, 1) * step).quantize(_CENT)


def _products(draw: _Draw) -> tuple[str, ...]:
    count = draw.weighted(_PRODUCT_COUNT_TABLE)
    chosen: set[str] = set()
    while len(chosen) < count:
        chosen.add(draw.pick(PRODUCTS))
    return tuple(p for p in PRODUCTS if p in chosen)


def _close_date(draw: _Draw, stage: Stage, anchor: date) -> date:
    if stage.is_closed:
        return anchor - timedelta(days=1 + draw.below(365))
    return anchor + timedelta(days=draw.below(300) - 30)


def _deal(draw: _Draw, key: str, anchor: date) -> SeedDeal:
    prefix, core = draw.pick(_PREFIXES), draw.pick(_CORES)
    country, currency, legal, tld, phone_cc = draw.weighted(_COUNTRY_TABLE)
    company = f"{prefix} {core} {legal}"
    joiner = "" if draw.chance(60) else "-"
    domain = f"{_SLUG[prefix]}{joiner}{_SLUG[core]}.{tld}"
    stage = draw.weighted(_STAGE_TABLE)
    products = _products(draw)
    first, last = draw.pick(_FIRST), draw.pick(_LAST)
    purpose = draw.pick(_PURPOSES)
    phone = f"{phone_cc} {100 + draw.below(900)} {1000000 + draw.below(9000000)}"
    return SeedDeal(
        key=key,
        name=f"{prefix} {core} - {_TITLES[products[0]]} {purpose}",
        company_name=company,
        domain=domain,
        country_code=country,
        industry=_INDUSTRY_OF_CORE.get(core, _DEFAULT_INDUSTRY),
        stage=stage,
        amount=_amount(draw, currency),
        currency_code=currency,
        close_date=_close_date(draw, stage, anchor),
        products=products,
        contact_first_name=first,
        contact_last_name=last,
        contact_email=f"{_SLUG[first]}.{_SLUG[last]}@{domain}",
        contact_phone=phone,
        description=(
            f"{company} ({country}) is evaluating {', '.join(products)} ({purpose}); "
            f"contact {first} {last}."
        ),
        register=draw.chance(35),
    )


def generate_deals(seed: int, n: int, *, start: date | None = None) -> Iterator[SeedDeal]:
    """``n`` deals for ``seed``; open deals close around ``start``, closed ones before it.

    ``start`` defaults to a fixed date (not today) so the output never depends on when it runs.
    """
    if n < 0:
        msg = f"n must not be negative, got {n}"
        raise ValueError(msg)
    draw = _Draw(seed)
    anchor = start or _ANCHOR
    for index in range(1, n + 1):
        yield _deal(draw, f"seed-{seed}-{index:06d}", anchor)
