"""Registration numbers: ``REG-2026-000123``, one per approval, never handed out twice.

The number is a per-year sequence. The book learns every number already in the hub when the
scheduler starts (:func:`numbers_in_store`) and every number it sees in open registrations while
it runs, and always hands out one above the highest, so a number the vendor typed by hand in the
same format is never duplicated either. A deal asking again within one process (an engine retry
after a concurrent update) gets the number it was given the first time, so a retried
transaction does not burn a second one.

Uniqueness holds for one writer process at a time, which is how the embedded scheduler runs;
the store's write lock serializes the transactions the rules run in.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

from channel_sync.store import Store
from channel_sync.workflow.hub_records import iter_records

_NUMBER = re.compile(r"^(?P<prefix>[A-Z][A-Z0-9]*)-(?P<year>\d{4})-(?P<seq>\d{6,})$")


class RegistrationNumbers:
    def __init__(self, prefix: str = "REG", known: Iterable[str] = ()) -> None:
        self.prefix = prefix
        self._lock = threading.Lock()
        self._highest: dict[int, int] = {}
        self._given: dict[str, str] = {}
        self.observe(known)

    def observe(self, numbers: Iterable[str | None]) -> None:
        """Remember numbers that exist (in the hub or typed by the vendor)."""
        with self._lock:
            for number in numbers:
                self._note(number)

    def _note(self, number: str | None) -> None:
        match = _NUMBER.match(number or "")
        if match is None or match["prefix"] != self.prefix:
            return
        year, seq = int(match["year"]), int(match["seq"])
        self._highest[year] = max(self._highest.get(year, 0), seq)

    def assign(self, canonical_id: str, year: int) -> str:
        """The number for ``canonical_id``'s approval in ``year``."""
        with self._lock:
            given = self._given.get(canonical_id)
            if given is not None and given.split("-")[1] == f"{year:04d}":
                return given
            seq = self._highest.get(year, 0) + 1
            self._highest[year] = seq
            number = f"{self.prefix}-{year:04d}-{seq:06d}"
            self._given[canonical_id] = number
            return number

    def forget(self, canonical_id: str) -> None:
        """A deal registered again gets a fresh number at its next approval."""
        with self._lock:
            self._given.pop(canonical_id, None)


def numbers_in_store(store: Store) -> list[str]:
    """Every registration number held by a deal in the hub (deleted deals included)."""
    return [
        number
        for record in iter_records(store, include_deleted=True)
        if (number := record.opportunity.registration.registration_number)
    ]
